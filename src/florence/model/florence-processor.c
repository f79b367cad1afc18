/* florence-processor.c: picture → the model's pixel_values, exactly as the reference
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "florence/model/florence-processor.h"
#include "florence/files/florence-config.h"
#include "florence/files/florence-file.h"
#include "florence/files/florence-json.h"
#include "image/image-resample.h"

G_DEFINE_QUARK (florence - processor - error - quark, florence_processor_error)

void
florence_processor_config_init (FlorenceProcessorConfig *config)
{
  g_return_if_fail (config != NULL);

  static const float mean[3] = { 0.485f, 0.456f, 0.406f };
  static const float std[3] = { 0.229f, 0.224f, 0.225f };
  config->width = 768;
  config->height = 768;
  config->do_resize = TRUE;
  config->do_rescale = TRUE;
  config->rescale_factor = 1.0 / 255.0;
  config->do_normalize = TRUE;
  memcpy (config->image_mean, mean, sizeof mean);
  memcpy (config->image_std, std, sizeof std);
}

void
florence_processor_config_init_from_model (FlorenceProcessorConfig *config,
                                           const FlorenceConfig *model)
{
  g_return_if_fail (config != NULL);
  g_return_if_fail (model != NULL);

  florence_processor_config_init (config);
  if (model->image_size > 0)
    config->width = config->height = model->image_size;
  if (model->rescale_factor > 0)
    config->rescale_factor = model->rescale_factor;
  memcpy (config->image_mean, model->image_mean, sizeof config->image_mean);
  memcpy (config->image_std, model->image_std, sizeof config->image_std);
}

static gboolean
invalid (GError **error, const char *key, const char *why)
{
  g_set_error (error, FLORENCE_PROCESSOR_ERROR, FLORENCE_PROCESSOR_ERROR_INVALID,
               _ ("The model’s preprocessor_config.json has an unusable “%s”: %s. Download the "
                  "model again."),
               key, why);
  return FALSE;
}

static gboolean
read_bool (JsonObject *object, const char *key, gboolean *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, key);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return invalid (error, key, _ ("it must be true or false"));
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
node_number (JsonNode *node, double *out)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  GType type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    *out = (double) json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    *out = json_node_get_double (node);
  else
    return FALSE;
  return isfinite (*out);
}

static gboolean
read_size_side (JsonObject *size, const char *key, int *out, GError **error)
{
  double v;
  if (!json_object_has_member (size, key))
    return invalid (error, "size", _ ("it needs both height and width"));
  if (!node_number (json_object_get_member (size, key), &v) || v != floor (v) || v < 1 || v > 8192)
    return invalid (error, "size", _ ("height and width must be whole numbers from 1 to 8192"));
  *out = (int) v;
  return TRUE;
}

static gboolean
read_triple (JsonObject *object, const char *key, float out[3], gboolean positive, GError **error)
{
  JsonNode *node = json_object_get_member (object, key);
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  JsonArray *array = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
  if (array == NULL || json_array_get_length (array) != 3)
    return invalid (error, key, _ ("it must be a list of three numbers"));
  float values[3];
  for (guint i = 0; i < 3; i++)
    {
      double v;
      if (!node_number (json_array_get_element (array, i), &v) || (positive && !(v > 0)))
        return invalid (error, key,
                        positive ? _ ("it must be a list of three positive numbers")
                                 : _ ("it must be a list of three numbers"));
      /* numpy: np.array (mean, dtype=float32), i.e. rounded from the double. */
      values[i] = (float) v;
    }
  memcpy (out, values, sizeof values);
  return TRUE;
}

gboolean
florence_processor_config_load_from_data (FlorenceProcessorConfig *config, const char *json,
                                          gssize length, GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (json != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  if (!florence_json_load (parser, json, length, &local_error))
    {
      g_set_error (error, FLORENCE_PROCESSOR_ERROR, FLORENCE_PROCESSOR_ERROR_PARSE,
                   _ ("The model’s preprocessor_config.json is not valid JSON (%s). Download the "
                      "model again."),
                   local_error->message);
      return FALSE;
    }
  JsonNode *root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, FLORENCE_PROCESSOR_ERROR, FLORENCE_PROCESSOR_ERROR_PARSE,
                   _ ("The model’s preprocessor_config.json is not a JSON object. Download the "
                      "model again."));
      return FALSE;
    }
  JsonObject *object = json_node_get_object (root);

  /* Work on a copy: a failure leaves config as it was. */
  FlorenceProcessorConfig c = *config;

  JsonNode *size = json_object_get_member (object, "size");
  if (size != NULL && !JSON_NODE_HOLDS_NULL (size))
    {
      double v;
      if (JSON_NODE_HOLDS_OBJECT (size))
        {
          JsonObject *s = json_node_get_object (size);
          if (json_object_has_member (s, "shortest_edge") && !json_object_has_member (s, "height"))
            return invalid (error, "size",
                            _ ("resizing by the shortest edge is not what Florence-2 does"));
          if (!read_size_side (s, "height", &c.height, error) ||
              !read_size_side (s, "width", &c.width, error))
            return FALSE;
        }
      else if (node_number (size, &v) && v == floor (v) && v >= 1 && v <= 8192)
        c.width = c.height = (int) v;
      else
        return invalid (error, "size", _ ("it must be {\"height\": H, \"width\": W}"));
    }

  JsonNode *resample = json_object_get_member (object, "resample");
  double resample_value;
  if (resample != NULL && !JSON_NODE_HOLDS_NULL (resample) &&
      (!node_number (resample, &resample_value) || resample_value != 3))
    return invalid (error, "resample", _ ("only 3 (bicubic) is supported"));

  gboolean center_crop = FALSE;
  if (!read_bool (object, "do_center_crop", &center_crop, error))
    return FALSE;
  if (center_crop)
    return invalid (error, "do_center_crop", _ ("center cropping is not supported"));

  if (!read_bool (object, "do_resize", &c.do_resize, error) ||
      !read_bool (object, "do_rescale", &c.do_rescale, error) ||
      !read_bool (object, "do_normalize", &c.do_normalize, error) ||
      !read_triple (object, "image_mean", c.image_mean, FALSE, error) ||
      !read_triple (object, "image_std", c.image_std, TRUE, error))
    return FALSE;

  JsonNode *factor = json_object_get_member (object, "rescale_factor");
  if (factor != NULL && !JSON_NODE_HOLDS_NULL (factor) &&
      (!node_number (factor, &c.rescale_factor) || !(c.rescale_factor > 0)))
    return invalid (error, "rescale_factor", _ ("it must be a positive number"));
  /* Checked as float, the way the pixels are computed (1e-300 is 0 as a float). */
  if (c.do_normalize &&
      !florence_config_normalization_ok (c.do_rescale, c.rescale_factor, c.image_mean, c.image_std))
    return invalid (error, "image_std",
                    _ ("with image_mean and rescale_factor it turns some pixel values into "
                       "infinities or NaN"));

  *config = c;
  return TRUE;
}

gboolean
florence_processor_config_load (FlorenceProcessorConfig *config, const char *path, GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  g_autofree char *contents = NULL;
  gsize length = 0;
  if (!florence_file_get_contents (path, 1024 * 1024, &contents, &length, error))
    return FALSE;
  return florence_processor_config_load_from_data (config, contents, (gssize) length, error);
}

ImageRgb *
florence_processor_resize (const FlorenceProcessorConfig *config, const ImageRgb *image,
                           GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (image != NULL, NULL);

  if (!config->do_resize)
    return image_rgb_copy (image);
  return image_resample_bicubic (image, config->width, config->height, error);
}

void
florence_processor_normalize (const FlorenceProcessorConfig *config, const ImageRgb *resized,
                              float *out)
{
  g_return_if_fail (config != NULL);
  g_return_if_fail (resized != NULL);
  g_return_if_fail (out != NULL);

  /* Every u8 value maps to one float per channel: a table gives the exact same numbers.
   * transformers: rescale = float32 (u8 (as float64) * factor); normalize = (x - mean) / std
   * in float32. */
  float table[3][256];
  for (int c = 0; c < 3; c++)
    for (int v = 0; v < 256; v++)
      {
        volatile float x =
          config->do_rescale ? (float) ((double) v * config->rescale_factor) : (float) v;
        if (config->do_normalize)
          {
            volatile float centered = x - config->image_mean[c];
            x = centered / config->image_std[c];
          }
        table[c][v] = x;
      }

  const int w = resized->width, h = resized->height;
  const gsize plane = (gsize) w * h;
  for (int y = 0; y < h; y++)
    {
      const guint8 *row = image_rgb_row (resized, y);
      float *r = out + (gsize) y * w, *g = r + plane, *b = g + plane;
      for (int x = 0; x < w; x++)
        {
          r[x] = table[0][row[x * 3 + 0]];
          g[x] = table[1][row[x * 3 + 1]];
          b[x] = table[2][row[x * 3 + 2]];
        }
    }
}

char *
florence_processor_values_sha256 (const float *values, gsize n)
{
  g_return_val_if_fail (values != NULL || n == 0, NULL);

  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  guint32 block[1024];
  for (gsize i = 0; i < n;)
    {
      gsize m = MIN (n - i, G_N_ELEMENTS (block));
      for (gsize j = 0; j < m; j++)
        {
          guint32 bits;
          memcpy (&bits, &values[i + j], sizeof bits);
          block[j] = GUINT32_TO_LE (bits);
        }
      g_checksum_update (checksum, (const guchar *) block, (gssize) (m * sizeof block[0]));
      i += m;
    }
  return g_strdup (g_checksum_get_string (checksum));
}

float *
florence_processor_run (const FlorenceProcessorConfig *config, const ImageRgb *image,
                        ImageRgb **resized, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (ImageRgb) small = florence_processor_resize (config, image, error);
  if (small == NULL)
    return NULL;

  gsize n;
  if (!g_size_checked_mul (&n, (gsize) small->width * 3, (gsize) small->height) ||
      n > G_MAXSIZE / sizeof (float))
    {
      g_set_error (error, FLORENCE_PROCESSOR_ERROR, FLORENCE_PROCESSOR_ERROR_INVALID,
                   _ ("The model input is too large."));
      return NULL;
    }
  float *values = g_try_new (float, n);
  if (values == NULL)
    {
      g_set_error (error, FLORENCE_PROCESSOR_ERROR, FLORENCE_PROCESSOR_ERROR_INVALID,
                   _ ("There is not enough memory for the model input (%d × %d)."), small->width,
                   small->height);
      return NULL;
    }
  florence_processor_normalize (config, small, values);
  if (resized != NULL)
    *resized = g_steal_pointer (&small);
  return values;
}
