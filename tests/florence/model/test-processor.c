/* test-processor.c: the processor against every case of tests/data/preprocess
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each case was produced by the reference (Pillow 9.4 resize, transformers' CLIPImageProcessor):
 * the decoded RGB, the resized RGB (a lossless PNG and its hash) and the pixel_values hash
 * must all match bit for bit.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "florence/model/florence-processor.h"
#include "image/image-loader.h"

static char *
data_path (const char *relative)
{
  const char *root = g_getenv ("DEPICT_TEST_DATA");
  g_assert_nonnull (root);
  return g_build_filename (root, relative, NULL);
}

static char *
file_sha256 (const char *path)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (path, &data, &length, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, length);
}

static double
array_double (JsonObject *object, const char *member, guint index)
{
  return json_array_get_double_element (json_object_get_array_member (object, member), index);
}

static void
assert_close (double have, double want, double tolerance)
{
  if (fabs (have - want) > tolerance * MAX (1.0, fabs (want)))
    g_error ("%.17g is not %.17g (± %g relative)", have, want, tolerance);
}

static void
load_config (FlorenceProcessorConfig *config, int size)
{
  florence_processor_config_init (config);
  g_autofree char *path = data_path (size == 768 ? "hub/base/preprocessor_config.json"
                                                 : "models/tiny/preprocessor_config.json");
  g_autoptr (GError) error = NULL;
  g_assert_true (florence_processor_config_load (config, path, &error));
  g_assert_no_error (error);
  g_assert_cmpint (config->width, ==, size);
  g_assert_cmpint (config->height, ==, size);
}

static void
test_fixture_cases (void)
{
  g_autofree char *cases_path = data_path ("preprocess/cases.json");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_file (parser, cases_path, &error);
  g_assert_no_error (error);
  JsonArray *cases =
    json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "cases");
  g_assert_cmpuint (json_array_get_length (cases), ==, 10);

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *image_name = json_object_get_string_member (c, "image");
      int size = (int) json_object_get_int_member (c, "target_size");
      g_test_message ("case %u: %s at %d", i, image_name, size);

      g_autofree char *relative = g_build_filename ("preprocess", image_name, NULL);
      g_autofree char *path = data_path (relative);
      g_autofree char *file_hash = file_sha256 (path);
      g_assert_cmpstr (file_hash, ==, json_object_get_string_member (c, "image_sha256"));

      /* Decoding and conversion to RGB (the JPEG case: GdkPixbuf's libjpeg-turbo, islow IDCT
       * and fancy upsampling, as the reference). */
      g_autoptr (ImageRgb) image = image_load (path, NULL, &error);
      g_assert_no_error (error);
      JsonArray *original = json_object_get_array_member (c, "original_size");
      g_assert_cmpint (image->width, ==, json_array_get_int_element (original, 0));
      g_assert_cmpint (image->height, ==, json_array_get_int_element (original, 1));
      g_autofree char *decoded_hash = image_rgb_sha256 (image);
      g_assert_cmpstr (decoded_hash, ==, json_object_get_string_member (c, "decoded_rgb_sha256"));

      FlorenceProcessorConfig config;
      load_config (&config, size);
      g_autoptr (ImageRgb) resized = NULL;
      g_autofree float *values = florence_processor_run (&config, image, &resized, &error);
      g_assert_no_error (error);
      g_assert_nonnull (values);
      g_assert_cmpint (resized->width, ==, size);
      g_assert_cmpint (resized->height, ==, size);

      /* The resized picture: its hash, and byte for byte against the expected PNG. */
      g_autofree char *resized_hash = image_rgb_sha256 (resized);
      g_assert_cmpstr (resized_hash, ==,
                       json_object_get_string_member (c, "expected_resized_sha256_rgb"));
      g_autofree char *expected_relative = g_build_filename (
        "preprocess", json_object_get_string_member (c, "expected_resized"), NULL);
      g_autofree char *expected_path = data_path (expected_relative);
      g_autoptr (ImageRgb) expected = image_load (expected_path, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (expected->width, ==, size);
      for (int y = 0; y < size; y++)
        g_assert_cmpmem (image_rgb_row (resized, y), size * 3, image_rgb_row (expected, y),
                         size * 3);

      /* pixel_values: the hash, and the statistics (float64 sums of the float32 values). */
      JsonObject *pv = json_object_get_object_member (c, "pixel_values");
      gsize plane = (gsize) size * size;
      g_autofree char *values_hash = florence_processor_values_sha256 (values, 3 * plane);
      g_assert_cmpstr (values_hash, ==, json_object_get_string_member (pv, "sha256_f32le"));
      double sum_all = 0;
      for (guint ch = 0; ch < 3; ch++)
        {
          double sum = 0, lo = INFINITY, hi = -INFINITY;
          for (gsize k = 0; k < plane; k++)
            {
              double v = values[ch * plane + k];
              sum += v;
              lo = MIN (lo, v);
              hi = MAX (hi, v);
            }
          sum_all += sum;
          assert_close (sum, array_double (pv, "sum", ch), 1e-9);
          assert_close (sum / plane, array_double (pv, "mean", ch), 1e-9);
          g_assert_cmpfloat (lo, ==, array_double (pv, "min", ch));
          g_assert_cmpfloat (hi, ==, array_double (pv, "max", ch));
        }
      assert_close (sum_all, json_object_get_double_member (pv, "sum_all"), 1e-9);
    }
}

static void
assert_same_config (const FlorenceProcessorConfig *a, const FlorenceProcessorConfig *b)
{
  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  g_assert_cmpint (a->do_resize, ==, b->do_resize);
  g_assert_cmpint (a->do_rescale, ==, b->do_rescale);
  g_assert_cmpint (a->do_normalize, ==, b->do_normalize);
  g_assert_cmpfloat (a->rescale_factor, ==, b->rescale_factor);
  for (int c = 0; c < 3; c++)
    {
      g_assert_cmpfloat (a->image_mean[c], ==, b->image_mean[c]);
      g_assert_cmpfloat (a->image_std[c], ==, b->image_std[c]);
    }
}

static void
test_config_defaults (void)
{
  FlorenceProcessorConfig config;
  florence_processor_config_init (&config);
  g_assert_cmpint (config.width, ==, 768);
  g_assert_cmpint (config.height, ==, 768);
  g_assert_true (config.do_resize && config.do_rescale && config.do_normalize);
  g_assert_cmpfloat (config.rescale_factor, ==, 0.00392156862745098);
  g_assert_cmpfloat (config.image_mean[0], ==, 0.485f);
  g_assert_cmpfloat (config.image_mean[1], ==, 0.456f);
  g_assert_cmpfloat (config.image_mean[2], ==, 0.406f);
  g_assert_cmpfloat (config.image_std[0], ==, 0.229f);
  g_assert_cmpfloat (config.image_std[1], ==, 0.224f);
  g_assert_cmpfloat (config.image_std[2], ==, 0.225f);

  /* The same from the hub file. */
  FlorenceProcessorConfig hub;
  load_config (&hub, 768);
  assert_same_config (&hub, &config);

  /* From a loaded model configuration. */
  FlorenceConfig model = { 0 };
  model.image_size = 96;
  model.rescale_factor = 0.5;
  memcpy (model.image_mean, config.image_mean, sizeof model.image_mean);
  model.image_std[0] = model.image_std[1] = model.image_std[2] = 0.5f;
  FlorenceProcessorConfig from_model;
  florence_processor_config_init_from_model (&from_model, &model);
  g_assert_cmpint (from_model.width, ==, 96);
  g_assert_cmpint (from_model.height, ==, 96);
  g_assert_cmpfloat (from_model.rescale_factor, ==, 0.5);
  g_assert_cmpfloat (from_model.image_std[2], ==, 0.5f);
}

static void
test_config_custom (void)
{
  FlorenceProcessorConfig config;
  florence_processor_config_init (&config);
  const char *json = "{\"size\": {\"height\": 32, \"width\": 48}, \"do_normalize\": false,"
                     " \"rescale_factor\": 0.5, \"image_mean\": [0, 0, 0]}";
  g_autoptr (GError) error = NULL;
  g_assert_true (florence_processor_config_load_from_data (&config, json, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (config.width, ==, 48);
  g_assert_cmpint (config.height, ==, 32);
  g_assert_false (config.do_normalize);

  /* Without normalization: u8 * 0.5, channels first. */
  g_autoptr (ImageRgb) image = image_rgb_new (48, 32, &error);
  for (int y = 0; y < 32; y++)
    for (int x = 0; x < 48; x++)
      {
        guint8 *p = image_rgb_row (image, y) + x * 3;
        p[0] = 2, p[1] = 4, p[2] = 255;
      }
  g_autofree float *values = florence_processor_run (&config, image, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (values[0], ==, 1.0f);
  g_assert_cmpfloat (values[48 * 32], ==, 2.0f);
  g_assert_cmpfloat (values[2 * 48 * 32 + 100], ==, 127.5f);
}

static void
test_config_refused (void)
{
  const char *bad[] = {
    "not json",
    "[1, 2, 3]",
    "{\"size\": {\"shortest_edge\": 224}}",
    "{\"size\": {\"height\": 0, \"width\": 768}}",
    "{\"size\": {\"height\": 768}}",
    "{\"size\": \"big\"}",
    "{\"resample\": 2}",
    "{\"do_center_crop\": true}",
    "{\"do_resize\": \"yes\"}",
    "{\"image_mean\": [0.5, 0.5]}",
    "{\"image_std\": [0.5, 0, 0.5]}",
    "{\"image_std\": [0.5, \"x\", 0.5]}",
    "{\"rescale_factor\": -1}",
    /* positive as a double, 0 or a denormal as a float: pixels would turn to ±inf */
    "{\"image_std\": [1.5e-300, 0.2, 0.2]}",
    "{\"image_std\": [0.2, 1e-40, 0.2]}",
    "{\"image_mean\": [1e300, 0, 0]}",
    "{\"rescale_factor\": 1e300}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      FlorenceProcessorConfig config, before;
      florence_processor_config_init (&config);
      before = config;
      g_autoptr (GError) error = NULL;
      g_test_message ("%s", bad[i]);
      g_assert_false (florence_processor_config_load_from_data (&config, bad[i], -1, &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == FLORENCE_PROCESSOR_ERROR);
      g_assert_true (g_str_has_suffix (error->message, "."));
      /* Left as it was. */
      assert_same_config (&config, &before);
    }

  FlorenceProcessorConfig config;
  florence_processor_config_init (&config);
  g_autoptr (GError) error = NULL;
  g_assert_false (
    florence_processor_config_load (&config, "/nonexistent/preprocessor_config.json", &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/florence/processor/fixture-cases", test_fixture_cases);
  g_test_add_func ("/florence/processor/config-defaults", test_config_defaults);
  g_test_add_func ("/florence/processor/config-custom", test_config_custom);
  g_test_add_func ("/florence/processor/config-refused", test_config_refused);

  return g_test_run ();
}
