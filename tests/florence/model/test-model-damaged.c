/* test-model-damaged.c: weights holding NaN or infinity make every engine fail with a sentence
 * that names the weights file, instead of an empty caption (CPU) or "token id -1 … a bug"
 * (Vulkan); a model folder without a tokenizer says so once
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "florence/files/ckpt-test-util.h"
#include "florence/model/florence-model.h"
#include "florence/text/florence-tokenizer.h"

/* The tiny model with every F16 value of tensor (or only its first, when first_only) set to
 * bits. */
static char *
poisoned_model (const char *tensor, guint16 bits, gboolean first_only)
{
  static const char *const names[] = { "config.json", "preprocessor_config.json" };
  char *dir = g_dir_make_tmp ("depict-damaged-XXXXXX", NULL);
  g_autofree char *from = ckpt_data_path ("models", "tiny", "model.safetensors", NULL);
  g_autofree char *to = g_build_filename (dir, "model.safetensors", NULL);
  g_autofree guint8 *data = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize len = 0;
  guint64 header_len = 0;
  JsonObject *entry;
  JsonArray *offsets;
  gsize begin, end;

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *a = ckpt_data_path ("models", "tiny", names[i], NULL);
      g_autofree char *b = g_build_filename (dir, names[i], NULL);
      ckpt_copy_file (a, b);
    }
  g_assert_true (g_file_get_contents (from, (char **) &data, &len, NULL));
  for (int i = 7; i >= 0; i--)
    header_len = header_len << 8 | data[i];
  g_assert_true (
    json_parser_load_from_data (parser, (const char *) data + 8, (gssize) header_len, NULL));
  entry =
    json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), tensor);
  g_assert_nonnull (entry);
  g_assert_cmpstr (json_object_get_string_member (entry, "dtype"), ==, "F16");
  offsets = json_object_get_array_member (entry, "data_offsets");
  begin = 8 + header_len + (gsize) json_array_get_int_element (offsets, 0);
  end = 8 + header_len + (gsize) json_array_get_int_element (offsets, 1);
  for (gsize p = begin; p + 1 < end; p += 2)
    {
      data[p] = (guint8) (bits & 0xff);
      data[p + 1] = (guint8) (bits >> 8);
      if (first_only)
        break;
    }
  g_assert_true (g_file_set_contents (to, (const char *) data, (gssize) len, NULL));
  return dir;
}

static void
run_damaged (const char *tensor, guint16 bits, gboolean first_only, FlorenceDeviceKind device,
             guint beams)
{
  g_autofree char *dir = poisoned_model (tensor, bits, first_only);
  g_autofree char *tokenizer = ckpt_data_path ("tokenizer", NULL);
  FlorenceModelOptions options = { device, tokenizer, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceModel) model = florence_model_load (dir, &options, &error);
  g_autoptr (ImageRgb) image = NULL;
  g_autoptr (FlorenceRun) run = NULL;
  FlorenceRunOptions run_options = { .task = "<CAPTION>", .num_beams = beams, .max_new_tokens = 8 };

  if (model == NULL && device == FLORENCE_DEVICE_VULKAN)
    {
      g_test_skip_printf ("no Vulkan device: %s", error->message);
      ckpt_remove_dir (dir);
      return;
    }
  g_assert_no_error (error);
  image = image_rgb_new (64, 48, &error);
  g_assert_no_error (error);
  memset (image->data, 128, image->stride * (gsize) image->height);

  run = florence_model_run (model, image, &run_options, NULL, NULL, NULL, &error);
  g_assert_null (run);
  g_assert_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_WEIGHTS);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "model.safetensors"));
  g_assert_nonnull (strstr (error->message, "damaged"));
  ckpt_remove_dir (dir);
}

/* NaN everywhere in the logits (the output bias), then one infinity deep inside (a decoder
 * layer norm's weight), with one beam and three, on the engine given as data. */
static void
test_damaged (gconstpointer data)
{
  FlorenceDeviceKind device = GPOINTER_TO_INT (data);

  run_damaged ("language_model.final_logits_bias", 0x7E00, FALSE, device, 1);
  run_damaged ("language_model.final_logits_bias", 0x7E00, FALSE, device, 3);
  run_damaged ("language_model.model.decoder.layers.0.final_layer_norm.weight", 0x7C00, TRUE,
               device, 3);
}

/* A model folder without tokenizer files: the model's error is the tokenizer's own sentence
 * (it names the folder and what to do), not that sentence wrapped in another. */
static void
test_no_tokenizer (void)
{
  g_autofree char *dir = poisoned_model ("language_model.final_logits_bias", 0x3C00, TRUE);
  FlorenceModelOptions options = { FLORENCE_DEVICE_CPU_REFERENCE, NULL, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) tok_error = NULL;
  g_autoptr (FlorenceModel) model = florence_model_load (dir, &options, &error);
  g_autoptr (FlorenceTokenizer) tokenizer = florence_tokenizer_new_from_dir (dir, &tok_error);

  g_assert_null (model);
  g_assert_null (tokenizer);
  g_assert_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_TOKENIZER);
  g_assert_nonnull (tok_error);
  g_test_message ("%s", error->message);
  g_assert_cmpstr (error->message, ==, tok_error->message);
  g_assert_nonnull (strstr (error->message, dir));
  ckpt_remove_dir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/model/damaged/cpu-reference",
                        GINT_TO_POINTER (FLORENCE_DEVICE_CPU_REFERENCE), test_damaged);
  g_test_add_data_func ("/model/damaged/cpu", GINT_TO_POINTER (FLORENCE_DEVICE_CPU), test_damaged);
  g_test_add_data_func ("/model/damaged/vulkan", GINT_TO_POINTER (FLORENCE_DEVICE_VULKAN),
                        test_damaged);
  g_test_add_func ("/model/damaged/no-tokenizer", test_no_tokenizer);
  return g_test_run ();
}
