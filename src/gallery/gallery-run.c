/* gallery-run.c: one stored run of the model on an image
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "gallery/gallery-run.h"
#include "gallery/gallery-store.h"
#include "florence/files/florence-json.h"
#include "florence/model/florence-limits.h"

GalleryRun *
gallery_run_new (void)
{
  return g_new0 (GalleryRun, 1);
}

GalleryRun *
gallery_run_new_from_florence (const FlorenceRun *run, const char *model_name,
                               const char *weights_hash, int max_new_tokens)
{
  GalleryRun *out;

  g_return_val_if_fail (run != NULL, NULL);

  out = gallery_run_new ();
  out->task = g_strdup (run->task);
  out->text_input = g_strdup (run->text_input);
  out->model_name = g_strdup (model_name != NULL ? model_name : "");
  out->weights_hash = g_strdup (weights_hash != NULL ? weights_hash : "");
  out->num_beams = (int) run->num_beams;
  out->max_new_tokens =
    max_new_tokens > 0 ? max_new_tokens : FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS;
  out->raw_text = g_strdup (run->text);
  if (run->token_ids != NULL)
    {
      out->token_ids = g_array_sized_new (FALSE, FALSE, sizeof (gint32), run->token_ids->len);
      g_array_append_vals (out->token_ids, run->token_ids->data, run->token_ids->len);
    }
  out->result = run->result != NULL ? florence_result_to_json_node (run->result) : NULL;
  out->timings = florence_timings_to_json_node (&run->timings);
  out->image_width = run->image_width;
  out->image_height = run->image_height;
  return out;
}

GalleryRun *
gallery_run_copy (const GalleryRun *run)
{
  GalleryRun *copy;

  g_return_val_if_fail (run != NULL, NULL);

  copy = g_new0 (GalleryRun, 1);
  *copy = *run;
  copy->task = g_strdup (run->task);
  copy->text_input = g_strdup (run->text_input);
  copy->model_name = g_strdup (run->model_name);
  copy->weights_hash = g_strdup (run->weights_hash);
  copy->raw_text = g_strdup (run->raw_text);
  copy->token_ids = NULL;
  if (run->token_ids != NULL)
    {
      copy->token_ids = g_array_sized_new (FALSE, FALSE, sizeof (gint32), run->token_ids->len);
      g_array_append_vals (copy->token_ids, run->token_ids->data, run->token_ids->len);
    }
  copy->result = run->result != NULL ? json_node_copy (run->result) : NULL;
  copy->timings = run->timings != NULL ? json_node_copy (run->timings) : NULL;
  return copy;
}

void
gallery_run_free (GalleryRun *run)
{
  if (run == NULL)
    return;
  g_free (run->task);
  g_free (run->text_input);
  g_free (run->model_name);
  g_free (run->weights_hash);
  g_free (run->raw_text);
  g_clear_pointer (&run->token_ids, g_array_unref);
  g_clear_pointer (&run->result, json_node_unref);
  g_clear_pointer (&run->timings, json_node_unref);
  g_free (run);
}

char *
gallery_run_ids_to_json (const GArray *ids)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; ids != NULL && i < ids->len; i++)
    g_string_append_printf (s, i == 0 ? "%d" : ",%d", (int) g_array_index (ids, gint32, i));
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

GArray *
gallery_run_ids_from_json (const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  JsonNode *root;
  JsonArray *array;

  g_return_val_if_fail (json != NULL, NULL);

  if (!florence_json_load (parser, json, -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT,
                   _ ("The stored token ids of a run are damaged. Run the task again to "
                      "replace them."));
      return NULL;
    }
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      gint32 id;

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT,
                       _ ("The stored token ids of a run are damaged. Run the task again to "
                          "replace them."));
          return NULL;
        }
      id = (gint32) json_node_get_int (node);
      g_array_append_val (ids, id);
    }
  return g_steal_pointer (&ids);
}
