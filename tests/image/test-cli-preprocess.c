/* test-cli-preprocess.c: `depict-cli preprocess` prints what the reference fixtures say
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "cli/cli-test-util.h"
#include "image-test-util.h"
#include "image/image-loader.h"

static char *
data_path (const char *relative)
{
  const char *root = g_getenv ("DEPICT_TEST_DATA");
  g_assert_nonnull (root);
  return g_build_filename (root, relative, NULL);
}

/* Runs depict-cli with args; returns stdout, sets *status to its exit status. */
static char *
run_cli (const char *const *args, int *status, char **err)
{
  g_auto (CliTestResult) r = cli_test_run (args, NULL, NULL);

  *status = r.status;
  *err = g_steal_pointer (&r.err);
  return g_steal_pointer (&r.out);
}

static JsonObject *
parse (JsonParser *parser, const char *text)
{
  g_autoptr (GError) error = NULL;
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_fixture (void)
{
  g_autofree char *image = data_path ("preprocess/images/photo_640x480.png");
  g_autofree char *out_png = test_temp_path ("resized.png");
  const char *args[] = { "preprocess", "--size", "96", "--output", out_png, image, NULL };
  int status = -1;
  g_autofree char *err = NULL;
  g_autofree char *out = run_cli (args, &status, &err);
  g_assert_cmpint (status, ==, 0);

  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = parse (parser, out);
  JsonArray *source = json_object_get_array_member (o, "source_size");
  g_assert_cmpint (json_array_get_int_element (source, 0), ==, 640);
  g_assert_cmpint (json_array_get_int_element (source, 1), ==, 480);
  JsonArray *input = json_object_get_array_member (o, "input_size");
  g_assert_cmpint (json_array_get_int_element (input, 0), ==, 96);
  g_assert_cmpint (json_array_get_int_element (input, 1), ==, 96);
  /* tests/data/preprocess/cases.json, photo_640x480.png at 96. */
  g_assert_cmpstr (json_object_get_string_member (o, "pixel_values_sha256_f32le"), ==,
                   "973e84cd5827a2e4a42bfb84b8541514fdac8bfe0bc6cbd18aefc646fa6a4e13");
  g_assert_cmpstr (json_object_get_string_member (o, "resized_rgb_sha256"), ==,
                   "ff24db652d9a7475406a53a539c82694b6c62ccbc78393576e767a2f95a49b94");
  g_assert_cmpstr (json_object_get_string_member (o, "decoded_rgb_sha256"), ==,
                   "4f9f6f707349f0ecb662b4975b0a2626f764a56be808a729eeecf016f6a533b7");

  /* The written PNG is the expected resized picture. */
  g_autofree char *expected_path = data_path ("preprocess/expected/photo_640x480_96.png");
  g_autoptr (ImageRgb) written = image_load (out_png, NULL, NULL);
  g_autoptr (ImageRgb) expected = image_load (expected_path, NULL, NULL);
  g_assert_nonnull (written);
  g_assert_cmpint (written->width, ==, 96);
  for (int y = 0; y < 96; y++)
    g_assert_cmpmem (image_rgb_row (written, y), 96 * 3, image_rgb_row (expected, y), 96 * 3);

  /* --config reads the size from a model's preprocessor_config.json. */
  g_autofree char *config = data_path ("models/tiny/preprocessor_config.json");
  const char *args2[] = { "preprocess", "--config", config, image, NULL };
  g_autofree char *err2 = NULL;
  g_autofree char *out2 = run_cli (args2, &status, &err2);
  g_assert_cmpint (status, ==, 0);
  g_autoptr (JsonParser) parser2 = json_parser_new ();
  JsonObject *o2 = parse (parser2, out2);
  g_assert_cmpstr (json_object_get_string_member (o2, "pixel_values_sha256_f32le"), ==,
                   "973e84cd5827a2e4a42bfb84b8541514fdac8bfe0bc6cbd18aefc646fa6a4e13");
}

static void
test_oriented (void)
{
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
  g_autofree char *path = test_temp_path ("turned.jpg");
  g_assert_true (test_save_pixbuf (pattern, path, "jpeg"));
  test_set_exif_orientation (path, 6);

  const char *args[] = { "preprocess", "--size", "32", path, NULL };
  int status = -1;
  g_autofree char *err = NULL;
  g_autofree char *out = run_cli (args, &status, &err);
  g_assert_cmpint (status, ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o = parse (parser, out);
  JsonArray *source = json_object_get_array_member (o, "source_size");
  g_assert_cmpint (json_array_get_int_element (source, 0), ==, PATTERN_HEIGHT);
  g_assert_cmpint (json_array_get_int_element (source, 1), ==, PATTERN_WIDTH);
  g_assert_cmpint (json_object_get_int_member (o, "orientation"), ==, 6);

  const char *args2[] = { "preprocess", "--size", "32", "--ignore-orientation", path, NULL };
  g_autofree char *err2 = NULL;
  g_autofree char *out2 = run_cli (args2, &status, &err2);
  g_autoptr (JsonParser) parser2 = json_parser_new ();
  JsonObject *o2 = parse (parser2, out2);
  JsonArray *stored = json_object_get_array_member (o2, "source_size");
  g_assert_cmpint (json_array_get_int_element (stored, 0), ==, PATTERN_WIDTH);
}

static void
test_errors (void)
{
  int status = -1;
  g_autofree char *missing = test_temp_path ("missing.png");
  const char *args[] = { "preprocess", missing, NULL };
  g_autofree char *err = NULL;
  g_autofree char *out = run_cli (args, &status, &err);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (err, "missing.png"));
  g_assert_cmpstr (out, ==, "");

  const char *args2[] = { "preprocess", NULL };
  g_autofree char *err2 = NULL;
  g_autofree char *out2 = run_cli (args2, &status, &err2);
  g_assert_cmpint (status, !=, 0);
  g_assert_cmpstr (out2, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/image/cli-preprocess/fixture", test_fixture);
  g_test_add_func ("/image/cli-preprocess/oriented", test_oriented);
  g_test_add_func ("/image/cli-preprocess/errors", test_errors);

  int result = g_test_run ();
  test_temp_cleanup ();
  return result;
}
