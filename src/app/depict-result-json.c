/* depict-result-json.c
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-result-json"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-overlay-item.h"
#include "depict-result-json.h"
#include "florence/files/florence-json.h"

/* The reference shape is { "<TASK>": payload }. Return the payload (borrowed) and the task. */
JsonNode *
depict_result_json_unwrap (JsonNode *result, const char **task)
{
  JsonObject *obj;

  if (task != NULL)
    *task = NULL;
  if (result == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (result))
    return result;

  obj = json_node_get_object (result);
  if (json_object_get_size (obj) == 1)
    {
      g_autoptr (GList) members = json_object_get_members (obj);
      const char *name = members->data;

      if (name[0] == '<')
        {
          if (task != NULL)
            *task = name;
          return json_object_get_member (obj, name);
        }
    }
  return result;
}

static const char *
display_label (const char *label)
{
  /* The reference OCR parser keeps the end token before the first label ("</s>HELLO"). */
  if (label != NULL && g_str_has_prefix (label, "</s>"))
    return label + 4;
  return label != NULL ? label : "";
}

static JsonArray *get_array (JsonObject *obj, const char *name);

/* Depict's schema names the labels per kind ("bboxes_labels", "quad_labels", …); the
 * reference shape calls them "labels". */
static JsonArray *
get_labels (JsonObject *obj, const char *name)
{
  JsonArray *a = get_array (obj, name);

  return a != NULL ? a : get_array (obj, "labels");
}

char *
depict_result_json_get_text (JsonNode *result)
{
  JsonNode *payload = depict_result_json_unwrap (result, NULL);
  JsonObject *obj;
  JsonArray *labels;
  g_autoptr (GString) text = NULL;

  if (payload == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (payload) && json_node_get_value_type (payload) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (payload));
  if (!JSON_NODE_HOLDS_OBJECT (payload))
    return NULL;

  /* Depict's result schema keeps the text of text results in "text". */
  obj = json_node_get_object (payload);
  if (json_object_has_member (obj, "text"))
    {
      JsonNode *t = json_object_get_member (obj, "text");

      if (JSON_NODE_HOLDS_VALUE (t) && json_node_get_value_type (t) == G_TYPE_STRING)
        return g_strdup (json_node_get_string (t));
    }

  /* OCR with regions: the text is the labels, one per line. */
  if (!json_object_has_member (obj, "quad_boxes"))
    return NULL;
  labels = get_labels (obj, "quad_labels");
  if (labels == NULL)
    return NULL;
  text = g_string_new (NULL);
  for (guint i = 0; i < json_array_get_length (labels); i++)
    {
      const char *s = json_array_get_string_element (labels, i);

      if (text->len > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, display_label (s));
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static gboolean
read_floats (JsonArray *array, GArray *out)
{
  g_array_set_size (out, 0);
  if (array == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *n = json_array_get_element (array, i);
      float v;

      if (!JSON_NODE_HOLDS_VALUE (n))
        return FALSE;
      v = (float) json_node_get_double (n);
      g_array_append_val (out, v);
    }
  return TRUE;
}

static const char *
label_at (JsonArray *labels, guint i)
{
  JsonNode *n;

  if (labels == NULL || i >= json_array_get_length (labels))
    return "";
  n = json_array_get_element (labels, i);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return "";
  return display_label (json_node_get_string (n));
}

static JsonArray *
get_array (JsonObject *obj, const char *name)
{
  JsonNode *n = json_object_get_member (obj, name);

  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static void
add_boxes (GListStore *store, JsonArray *boxes, JsonArray *labels)
{
  g_autoptr (GArray) v = g_array_new (FALSE, FALSE, sizeof (float));

  for (guint i = 0; boxes != NULL && i < json_array_get_length (boxes); i++)
    {
      JsonNode *n = json_array_get_element (boxes, i);
      g_autoptr (DepictOverlayItem) item = NULL;
      float *f;

      if (!JSON_NODE_HOLDS_ARRAY (n) || !read_floats (json_node_get_array (n), v) || v->len < 4)
        continue;
      f = (float *) (gpointer) v->data;
      item = depict_overlay_item_new_box (label_at (labels, i), f[0], f[1], f[2], f[3]);
      g_list_store_append (store, item);
    }
}

static void
add_polygons (GListStore *store, DepictOverlayKind kind, JsonArray *instances, JsonArray *labels,
              gboolean flat)
{
  g_autoptr (GArray) v = g_array_new (FALSE, FALSE, sizeof (float));

  for (guint i = 0; instances != NULL && i < json_array_get_length (instances); i++)
    {
      JsonNode *n = json_array_get_element (instances, i);
      g_autoptr (DepictOverlayItem) item = NULL;
      JsonArray *polys;

      if (!JSON_NODE_HOLDS_ARRAY (n))
        continue;
      item = depict_overlay_item_new_polygon (kind, label_at (labels, i));
      polys = json_node_get_array (n);
      if (flat)
        {
          /* An OCR quad: one flat list of 8 numbers. */
          if (read_floats (polys, v) && v->len >= 2)
            depict_overlay_item_add_polygon (item, (float *) (gpointer) v->data, v->len / 2);
        }
      else
        {
          for (guint j = 0; j < json_array_get_length (polys); j++)
            {
              JsonNode *p = json_array_get_element (polys, j);

              if (JSON_NODE_HOLDS_ARRAY (p) && read_floats (json_node_get_array (p), v) &&
                  v->len >= 2)
                depict_overlay_item_add_polygon (item, (float *) (gpointer) v->data, v->len / 2);
            }
        }
      if (depict_overlay_item_get_n_polygons (item) > 0)
        g_list_store_append (store, item);
    }
}

/* Every box, mask and text region of a result, numbered in order. Text-only results give
 * an empty list. */
GListStore *
depict_result_json_get_items (JsonNode *result)
{
  GListStore *store = g_list_store_new (DEPICT_TYPE_OVERLAY_ITEM);
  JsonNode *payload = depict_result_json_unwrap (result, NULL);
  JsonObject *obj;

  if (payload == NULL || !JSON_NODE_HOLDS_OBJECT (payload))
    return store;
  obj = json_node_get_object (payload);

  if (json_object_has_member (obj, "quad_boxes"))
    add_polygons (store, DEPICT_OVERLAY_TEXT, get_array (obj, "quad_boxes"),
                  get_labels (obj, "quad_labels"), TRUE);
  if (json_object_has_member (obj, "bboxes"))
    add_boxes (store, get_array (obj, "bboxes"), get_labels (obj, "bboxes_labels"));
  if (json_object_has_member (obj, "polygons"))
    add_polygons (store, DEPICT_OVERLAY_MASK, get_array (obj, "polygons"),
                  get_labels (obj, "polygons_labels"), FALSE);

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (store)); i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (G_LIST_MODEL (store), i);
      depict_overlay_item_set_index (item, i);
    }
  return store;
}

char *
depict_result_json_to_plain_text (JsonNode *result)
{
  g_autofree char *text = depict_result_json_get_text (result);
  g_autoptr (GListStore) items = depict_result_json_get_items (result);
  GString *out = g_string_new (text);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (items));

  /* OCR labels are the text already; list the boxes of the other kinds. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (G_LIST_MODEL (items), i);
      g_autofree char *line = NULL;

      if (text != NULL && depict_overlay_item_get_kind (item) == DEPICT_OVERLAY_TEXT)
        continue;
      line = depict_overlay_item_describe (item);
      if (out->len > 0)
        g_string_append_c (out, '\n');
      g_string_append (out, line);
    }
  return g_string_free (out, FALSE);
}

char *
depict_result_json_to_string (JsonNode *result, gboolean pretty)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  json_generator_set_pretty (gen, pretty);
  json_generator_set_indent (gen, 2);
  json_generator_set_root (gen, result);
  return json_generator_to_data (gen, NULL);
}

JsonNode *
depict_result_json_parse (const char *text, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_return_val_if_fail (text != NULL, NULL);

  if (!florence_json_load (parser, text, -1, error))
    return NULL;
  return json_node_copy (json_parser_get_root (parser));
}
