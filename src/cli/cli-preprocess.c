/* cli-preprocess.c: `depict-cli preprocess`, the model input of one picture, for checking the
 * preprocessing against other implementations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli-options.h"
#include "depict-cli.h"
#include "florence/model/florence-processor.h"
#include "image/image-loader.h"

int cli_preprocess_main (int argc, char **argv);

static void
add_size (JsonBuilder *b, const char *name, int width, int height)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  json_builder_add_int_value (b, width);
  json_builder_add_int_value (b, height);
  json_builder_end_array (b);
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

int
cli_preprocess_main (int argc, char **argv)
{
  int size = 0;
  g_autofree char *output = NULL;
  g_autofree char *config_path = NULL;
  gboolean ignore_orientation = FALSE;
  double max_megapixels = 0;
  GOptionEntry entries[] = {
    { "size", 's', 0, G_OPTION_ARG_INT, &size,
      N_ ("Model input size in pixels (square; default: from --config, else 768)"), N_ ("N") },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      N_ ("A model’s preprocessor_config.json (size, mean, std, rescale factor)"), N_ ("FILE") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_ ("Also write the resized RGB picture as a PNG"), N_ ("OUT.png") },
    { "ignore-orientation", 0, 0, G_OPTION_ARG_NONE, &ignore_orientation,
      N_ ("Keep the stored orientation (ignore EXIF orientation), as the reference processor "
          "does"),
      NULL },
    { "max-megapixels", 0, 0, G_OPTION_ARG_DOUBLE, &max_megapixels,
      N_ ("Refuse pictures larger than this (default 200)"), N_ ("MP") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("IMAGE"));
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (
    context,
    _ ("Prints, as one line of JSON, the sizes of a picture and the SHA-256 of the model input "
       "(pixel_values, float32 little-endian, channels first) that Depict makes of "
       "it: resized with Pillow’s bicubic filter, scaled to 0…1 and normalized."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc != 2)
    {
      g_printerr ("%s\n", _ ("depict-cli preprocess: give exactly one IMAGE. See --help."));
      return 2;
    }
  if (size < 0 || size > 8192 || max_megapixels < 0)
    {
      g_printerr ("%s\n", _ ("depict-cli preprocess: --size must be between 1 and 8192 and "
                             "--max-megapixels positive."));
      return 2;
    }

  FlorenceProcessorConfig config;
  florence_processor_config_init (&config);
  if (config_path != NULL && !florence_processor_config_load (&config, config_path, &error))
    return cli_fail (g_steal_pointer (&error));
  if (size > 0)
    config.width = config.height = size;

  ImageLoadOptions options = { 0 };
  options.ignore_orientation = ignore_orientation;
  options.max_pixels = (guint64) (max_megapixels * 1e6);
  const char *path = argv[1];
  g_autoptr (ImageRgb) image = image_load (path, &options, &error);
  if (image == NULL)
    return cli_fail (g_steal_pointer (&error));

  g_autoptr (ImageRgb) resized = NULL;
  g_autofree float *values = florence_processor_run (&config, image, &resized, &error);
  if (values == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (output != NULL && !image_rgb_save_png (resized, output, &error))
    return cli_fail (g_steal_pointer (&error));

  g_autofree char *decoded_hash = image_rgb_sha256 (image);
  g_autofree char *resized_hash = image_rgb_sha256 (resized);
  g_autofree char *values_hash =
    florence_processor_values_sha256 (values, (gsize) 3 * resized->width * resized->height);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  add_string (b, "image", path);
  add_string (b, "format", image->format);
  add_size (b, "source_size", image->width, image->height);
  add_size (b, "stored_size", image->original_width, image->original_height);
  json_builder_set_member_name (b, "orientation");
  json_builder_add_int_value (b, image->orientation);
  add_size (b, "input_size", resized->width, resized->height);
  add_string (b, "decoded_rgb_sha256", decoded_hash);
  add_string (b, "resized_rgb_sha256", resized_hash);
  json_builder_set_member_name (b, "pixel_values_shape");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, 1);
  json_builder_add_int_value (b, 3);
  json_builder_add_int_value (b, resized->height);
  json_builder_add_int_value (b, resized->width);
  json_builder_end_array (b);
  add_string (b, "pixel_values_sha256_f32le", values_hash);
  if (output != NULL)
    add_string (b, "output", output);
  json_builder_end_object (b);

  g_autoptr (JsonNode) root = json_builder_get_root (b);
  cli_print_json_line (root);
  return 0;
}
