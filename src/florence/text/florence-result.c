/* florence-result.c: typed Florence-2 results and their JSON form (schema in the header)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include "florence/text/florence-result.h"
#include "florence/files/florence-json.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (florence - result - error - quark, florence_result_error)

#define SCHEMA_VERSION 2

/* Where the labels of each kind live. Since version 2 these are the reference's keys
 * ("labels", and for <OPEN_VOCABULARY_DETECTION> "bboxes_labels" and "polygons_labels");
 * version 1 named them after their shapes for every task. */
static const char *
box_labels_key (FlorenceResultKind kind, gint64 version)
{
  return version < 2 || kind == FLORENCE_RESULT_BOXES_OR_POLYGONS ? "bboxes_labels" : "labels";
}

static const char *
polygon_labels_key (FlorenceResultKind kind, gint64 version)
{
  return version < 2 || kind == FLORENCE_RESULT_BOXES_OR_POLYGONS ? "polygons_labels" : "labels";
}

static const char *
quad_labels_key (gint64 version)
{
  return version < 2 ? "quad_labels" : "labels";
}

static const char *const kind_names[] = {
  [FLORENCE_RESULT_TEXT] = "text",
  [FLORENCE_RESULT_BOXES] = "boxes",
  [FLORENCE_RESULT_POLYGONS] = "polygons",
  [FLORENCE_RESULT_BOXES_OR_POLYGONS] = "boxes_or_polygons",
  [FLORENCE_RESULT_QUADS] = "quads",
};

const char *
florence_result_kind_to_string (FlorenceResultKind kind)
{
  if ((guint) kind < G_N_ELEMENTS (kind_names))
    return kind_names[kind];
  return "text";
}

gboolean
florence_result_kind_from_string (const char *str, FlorenceResultKind *out_kind)
{
  for (guint i = 0; str != NULL && i < G_N_ELEMENTS (kind_names); i++)
    if (strcmp (kind_names[i], str) == 0)
      {
        if (out_kind != NULL)
          *out_kind = (FlorenceResultKind) i;
        return TRUE;
      }
  return FALSE;
}

static GPtrArray *
new_instance (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
}

FlorenceResult *
florence_result_new (FlorenceResultKind kind, const char *task, int image_width, int image_height)
{
  FlorenceResult *self = g_new0 (FlorenceResult, 1);

  self->kind = kind;
  self->task = g_strdup (task != NULL ? task : "");
  self->image_width = image_width;
  self->image_height = image_height;
  self->boxes = g_array_new (FALSE, FALSE, sizeof (FlorenceBox));
  self->box_labels = g_ptr_array_new_with_free_func (g_free);
  self->polygons = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  self->polygon_labels = g_ptr_array_new_with_free_func (g_free);
  self->quads = g_array_new (FALSE, FALSE, sizeof (FlorenceQuad));
  self->quad_labels = g_ptr_array_new_with_free_func (g_free);
  self->box_scores = g_array_new (FALSE, FALSE, sizeof (float));
  self->polygon_scores = g_array_new (FALSE, FALSE, sizeof (float));
  self->quad_scores = g_array_new (FALSE, FALSE, sizeof (float));
  self->text_score = NAN;
  return self;
}

void
florence_result_free (FlorenceResult *self)
{
  if (self == NULL)
    return;
  g_free (self->task);
  g_free (self->text);
  g_array_unref (self->boxes);
  g_ptr_array_unref (self->box_labels);
  g_ptr_array_unref (self->polygons);
  g_ptr_array_unref (self->polygon_labels);
  g_array_unref (self->quads);
  g_ptr_array_unref (self->quad_labels);
  g_array_unref (self->box_scores);
  g_array_unref (self->polygon_scores);
  g_array_unref (self->quad_scores);
  g_free (self);
}

void
florence_result_set_text (FlorenceResult *self, const char *text)
{
  g_return_if_fail (self != NULL);
  g_free (self->text);
  self->text = g_strdup (text);
}

void
florence_result_add_box_scored (FlorenceResult *self, const char *label, const FlorenceBox *box,
                                float score)
{
  g_return_if_fail (self != NULL && box != NULL);
  g_array_append_val (self->boxes, *box);
  g_ptr_array_add (self->box_labels, g_strdup (label != NULL ? label : ""));
  g_array_append_val (self->box_scores, score);
}

void
florence_result_add_box (FlorenceResult *self, const char *label, const FlorenceBox *box)
{
  florence_result_add_box_scored (self, label, box, NAN);
}

void
florence_result_add_quad_scored (FlorenceResult *self, const char *label, const FlorenceQuad *quad,
                                 float score)
{
  g_return_if_fail (self != NULL && quad != NULL);
  g_array_append_val (self->quads, *quad);
  g_ptr_array_add (self->quad_labels, g_strdup (label != NULL ? label : ""));
  g_array_append_val (self->quad_scores, score);
}

void
florence_result_add_quad (FlorenceResult *self, const char *label, const FlorenceQuad *quad)
{
  florence_result_add_quad_scored (self, label, quad, NAN);
}

guint
florence_result_add_polygon_instance_scored (FlorenceResult *self, const char *label, float score)
{
  g_return_val_if_fail (self != NULL, 0);
  g_ptr_array_add (self->polygons, new_instance ());
  g_ptr_array_add (self->polygon_labels, g_strdup (label != NULL ? label : ""));
  g_array_append_val (self->polygon_scores, score);
  return self->polygons->len - 1;
}

guint
florence_result_add_polygon_instance (FlorenceResult *self, const char *label)
{
  return florence_result_add_polygon_instance_scored (self, label, NAN);
}

void
florence_result_add_polygon (FlorenceResult *self, guint instance, const float *xy, gsize n)
{
  GArray *poly;

  g_return_if_fail (self != NULL && instance < self->polygons->len);
  g_return_if_fail (xy != NULL || n == 0);
  poly = g_array_sized_new (FALSE, FALSE, sizeof (float), (guint) n);
  if (n > 0)
    g_array_append_vals (poly, xy, (guint) n);
  g_ptr_array_add (g_ptr_array_index (self->polygons, instance), poly);
}

guint
florence_result_get_n_instances (const FlorenceResult *self)
{
  g_return_val_if_fail (self != NULL, 0);
  if (self->kind == FLORENCE_RESULT_TEXT)
    return self->text != NULL && *self->text != '\0' ? 1 : 0;
  return self->boxes->len + self->polygons->len + self->quads->len;
}

FlorenceResult *
florence_result_copy (const FlorenceResult *self)
{
  FlorenceResult *copy;

  g_return_val_if_fail (self != NULL, NULL);
  copy = florence_result_new (self->kind, self->task, self->image_width, self->image_height);
  copy->text = g_strdup (self->text);
  copy->has_scores = self->has_scores;
  copy->text_score = self->text_score;
  for (guint i = 0; i < self->boxes->len; i++)
    florence_result_add_box_scored (copy, g_ptr_array_index (self->box_labels, i),
                                    &g_array_index (self->boxes, FlorenceBox, i),
                                    g_array_index (self->box_scores, float, i));
  for (guint i = 0; i < self->quads->len; i++)
    florence_result_add_quad_scored (copy, g_ptr_array_index (self->quad_labels, i),
                                     &g_array_index (self->quads, FlorenceQuad, i),
                                     g_array_index (self->quad_scores, float, i));
  for (guint i = 0; i < self->polygons->len; i++)
    {
      GPtrArray *inst = g_ptr_array_index (self->polygons, i);
      guint k = florence_result_add_polygon_instance_scored (
        copy, g_ptr_array_index (self->polygon_labels, i),
        g_array_index (self->polygon_scores, float, i));
      for (guint j = 0; j < inst->len; j++)
        {
          GArray *poly = g_ptr_array_index (inst, j);
          florence_result_add_polygon (copy, k, (const float *) poly->data, poly->len);
        }
    }
  return copy;
}

/* ------------------------------------------------------------------------------------- */
/* Writing                                                                                  */

static void
add_float (JsonBuilder *b, float v)
{
  /* JSON has no NaN or infinity; results never contain them, but stay valid JSON. */
  json_builder_add_double_value (b, isfinite (v) ? (double) v : 0.0);
}

static void
add_labels (JsonBuilder *b, const char *member, GPtrArray *labels)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < labels->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (labels, i));
  json_builder_end_array (b);
}

static void
add_boxes (JsonBuilder *b, const char *member, GArray *boxes)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < boxes->len; i++)
    {
      const FlorenceBox *box = &g_array_index (boxes, FlorenceBox, i);
      json_builder_begin_array (b);
      add_float (b, box->x1);
      add_float (b, box->y1);
      add_float (b, box->x2);
      add_float (b, box->y2);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
}

static void
add_polygons (JsonBuilder *b, const char *member, GPtrArray *polygons)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < polygons->len; i++)
    {
      GPtrArray *inst = g_ptr_array_index (polygons, i);
      json_builder_begin_array (b);
      for (guint j = 0; j < inst->len; j++)
        {
          GArray *poly = g_ptr_array_index (inst, j);
          json_builder_begin_array (b);
          for (guint k = 0; k < poly->len; k++)
            add_float (b, g_array_index (poly, float, k));
          json_builder_end_array (b);
        }
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
}

static void
add_quads (JsonBuilder *b, const char *member, GArray *quads)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < quads->len; i++)
    {
      const FlorenceQuad *q = &g_array_index (quads, FlorenceQuad, i);
      json_builder_begin_array (b);
      for (guint k = 0; k < 8; k++)
        add_float (b, q->p[k]);
      json_builder_end_array (b);
    }
  json_builder_end_array (b);
}

/* Where the scores of each kind live: beside their labels ("labels" → "scores",
 * "bboxes_labels" → "bboxes_scores"). */
static const char *
box_scores_key (FlorenceResultKind kind)
{
  return kind == FLORENCE_RESULT_BOXES_OR_POLYGONS ? "bboxes_scores" : "scores";
}

static const char *
polygon_scores_key (FlorenceResultKind kind)
{
  return kind == FLORENCE_RESULT_BOXES_OR_POLYGONS ? "polygons_scores" : "scores";
}

static void
add_scores (JsonBuilder *b, const char *member, GArray *scores)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < scores->len; i++)
    add_float (b, g_array_index (scores, float, i));
  json_builder_end_array (b);
}

/* The members of the answer, as the reference names them; with SCORES the scores too. */
static void
add_answer_members (JsonBuilder *b, const FlorenceResult *self, gboolean scores)
{
  switch (self->kind)
    {
    case FLORENCE_RESULT_BOXES:
    case FLORENCE_RESULT_BOXES_OR_POLYGONS:
      add_boxes (b, "bboxes", self->boxes);
      add_labels (b, box_labels_key (self->kind, SCHEMA_VERSION), self->box_labels);
      if (scores)
        add_scores (b, box_scores_key (self->kind), self->box_scores);
      if (self->kind == FLORENCE_RESULT_BOXES)
        break;
      G_GNUC_FALLTHROUGH;
    case FLORENCE_RESULT_POLYGONS:
      add_polygons (b, "polygons", self->polygons);
      add_labels (b, polygon_labels_key (self->kind, SCHEMA_VERSION), self->polygon_labels);
      if (scores)
        add_scores (b, polygon_scores_key (self->kind), self->polygon_scores);
      break;
    case FLORENCE_RESULT_QUADS:
      add_quads (b, "quad_boxes", self->quads);
      add_labels (b, quad_labels_key (SCHEMA_VERSION), self->quad_labels);
      if (scores)
        add_scores (b, "scores", self->quad_scores);
      break;
    case FLORENCE_RESULT_TEXT:
    default:
      break;
    }
}

JsonNode *
florence_result_to_json_node (const FlorenceResult *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, SCHEMA_VERSION);
  json_builder_set_member_name (b, "task");
  json_builder_add_string_value (b, self->task);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, florence_result_kind_to_string (self->kind));
  json_builder_set_member_name (b, "image_size");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, self->image_width);
  json_builder_add_int_value (b, self->image_height);
  json_builder_end_array (b);
  if (self->kind == FLORENCE_RESULT_TEXT)
    {
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, self->text != NULL ? self->text : "");
      if (self->has_scores && isfinite (self->text_score))
        {
          json_builder_set_member_name (b, "score");
          add_float (b, self->text_score);
        }
    }
  add_answer_members (b, self, self->has_scores);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
florence_result_to_reference_json_node (const FlorenceResult *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (self != NULL, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, self->task);
  if (self->kind == FLORENCE_RESULT_TEXT)
    json_builder_add_string_value (b, self->text != NULL ? self->text : "");
  else
    {
      json_builder_begin_object (b);
      add_answer_members (b, self, FALSE);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

char *
florence_result_to_json (const FlorenceResult *self, gboolean pretty)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  g_return_val_if_fail (self != NULL, NULL);
  node = florence_result_to_json_node (self);
  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, pretty);
  return json_generator_to_data (gen, NULL);
}

/* ------------------------------------------------------------------------------------- */
/* Reading                                                                                  */

static gboolean
invalid (GError **error, const char *what)
{
  g_set_error (error, FLORENCE_RESULT_ERROR, FLORENCE_RESULT_ERROR_INVALID,
               _ ("The stored result is damaged (%s). Run the task again."), what);
  return FALSE;
}

static JsonArray *
get_array (JsonObject *o, const char *member)
{
  JsonNode *n = json_object_get_member (o, member);

  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static gboolean
read_number (JsonNode *n, float *out)
{
  GType t;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  if (t == G_TYPE_DOUBLE)
    *out = (float) json_node_get_double (n);
  else if (t == G_TYPE_INT64)
    *out = (float) json_node_get_int (n);
  else
    return FALSE;
  return TRUE;
}

static gboolean
read_size (JsonArray *a, guint i, int *out)
{
  JsonNode *n = json_array_get_element (a, i);
  gint64 v;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (n);
  if (v < 0 || v > G_MAXINT)
    return FALSE;
  *out = (int) v;
  return TRUE;
}

static gboolean
read_floats (JsonArray *a, float *out, guint n)
{
  if (a == NULL || json_array_get_length (a) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!read_number (json_array_get_element (a, i), &out[i]))
      return FALSE;
  return TRUE;
}

static gboolean
read_labels (JsonObject *o, const char *member, guint expected, GPtrArray **out, GError **error)
{
  JsonArray *a = get_array (o, member);

  if (a == NULL || json_array_get_length (a) != expected)
    return invalid (error, _ ("labels do not match the shapes"));
  *out = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < expected; i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        {
          g_clear_pointer (out, g_ptr_array_unref);
          return invalid (error, _ ("a label is not a string"));
        }
      g_ptr_array_add (*out, g_strdup (json_node_get_string (n)));
    }
  return TRUE;
}

static gboolean
read_boxes (FlorenceResult *self, JsonObject *o, const char *labels_member, GError **error)
{
  JsonArray *a = get_array (o, "bboxes");
  g_autoptr (GPtrArray) labels = NULL;

  if (a == NULL)
    return invalid (error, _ ("no boxes"));
  if (!read_labels (o, labels_member, json_array_get_length (a), &labels, error))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      FlorenceBox box;
      if (!JSON_NODE_HOLDS_ARRAY (n) || !read_floats (json_node_get_array (n), &box.x1, 4))
        return invalid (error, _ ("a box is not four numbers"));
      florence_result_add_box (self, g_ptr_array_index (labels, i), &box);
    }
  return TRUE;
}

static gboolean
read_polygons (FlorenceResult *self, JsonObject *o, const char *labels_member, GError **error)
{
  JsonArray *a = get_array (o, "polygons");
  g_autoptr (GPtrArray) labels = NULL;

  if (a == NULL)
    return invalid (error, _ ("no polygons"));
  if (!read_labels (o, labels_member, json_array_get_length (a), &labels, error))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      JsonArray *inst;
      guint k;

      if (!JSON_NODE_HOLDS_ARRAY (n))
        return invalid (error, _ ("an instance is not a list of polygons"));
      inst = json_node_get_array (n);
      k = florence_result_add_polygon_instance (self, g_ptr_array_index (labels, i));
      for (guint j = 0; j < json_array_get_length (inst); j++)
        {
          JsonNode *pn = json_array_get_element (inst, j);
          JsonArray *pa;
          g_autofree float *xy = NULL;
          guint len;

          if (!JSON_NODE_HOLDS_ARRAY (pn))
            return invalid (error, _ ("a polygon is not a list of numbers"));
          pa = json_node_get_array (pn);
          len = json_array_get_length (pa);
          xy = g_new (float, MAX (len, 1));
          if (!read_floats (pa, xy, len))
            return invalid (error, _ ("a polygon is not a list of numbers"));
          florence_result_add_polygon (self, k, xy, len);
        }
    }
  return TRUE;
}

static gboolean
read_quads (FlorenceResult *self, JsonObject *o, const char *labels_member, GError **error)
{
  JsonArray *a = get_array (o, "quad_boxes");
  g_autoptr (GPtrArray) labels = NULL;

  if (a == NULL)
    return invalid (error, _ ("no text boxes"));
  if (!read_labels (o, labels_member, json_array_get_length (a), &labels, error))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (a); i++)
    {
      JsonNode *n = json_array_get_element (a, i);
      FlorenceQuad q;
      if (!JSON_NODE_HOLDS_ARRAY (n) || !read_floats (json_node_get_array (n), q.p, 8))
        return invalid (error, _ ("a text box is not eight numbers"));
      florence_result_add_quad (self, g_ptr_array_index (labels, i), &q);
    }
  return TRUE;
}

/* A score of the JSON form: a number from 0 to 1. */
static gboolean
read_score (JsonNode *n, float *out, GError **error)
{
  if (!read_number (n, out) || !(*out >= 0.0f && *out <= 1.0f))
    return invalid (error, _ ("a score is not a number from 0 to 1"));
  return TRUE;
}

/* The optional member of O holding one score per element of SCORES; sets has_scores if found. */
static gboolean
read_scores (FlorenceResult *self, JsonObject *o, const char *member, GArray *scores,
             GError **error)
{
  JsonNode *n = json_object_get_member (o, member);

  if (n == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (n) || json_array_get_length (json_node_get_array (n)) != scores->len)
    return invalid (error, _ ("scores do not match the shapes"));
  for (guint i = 0; i < scores->len; i++)
    if (!read_score (json_array_get_element (json_node_get_array (n), i),
                     &g_array_index (scores, float, i), error))
      return FALSE;
  self->has_scores = TRUE;
  return TRUE;
}

/* Reads the answer members of KIND from O into SELF. */
static gboolean
read_answer (FlorenceResult *self, JsonObject *o, gint64 version, GError **error)
{
  JsonNode *n;

  switch (self->kind)
    {
    case FLORENCE_RESULT_TEXT:
      n = json_object_get_member (o, "text");
      if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
        return invalid (error, _ ("no text"));
      florence_result_set_text (self, json_node_get_string (n));
      n = json_object_get_member (o, "score");
      if (n != NULL && !read_score (n, &self->text_score, error))
        return FALSE;
      self->has_scores = n != NULL;
      return TRUE;
    case FLORENCE_RESULT_BOXES:
      return read_boxes (self, o, box_labels_key (self->kind, version), error) &&
             read_scores (self, o, box_scores_key (self->kind), self->box_scores, error);
    case FLORENCE_RESULT_POLYGONS:
      return read_polygons (self, o, polygon_labels_key (self->kind, version), error) &&
             read_scores (self, o, polygon_scores_key (self->kind), self->polygon_scores, error);
    case FLORENCE_RESULT_BOXES_OR_POLYGONS:
      return read_boxes (self, o, box_labels_key (self->kind, version), error) &&
             read_polygons (self, o, polygon_labels_key (self->kind, version), error) &&
             read_scores (self, o, box_scores_key (self->kind), self->box_scores, error) &&
             read_scores (self, o, polygon_scores_key (self->kind), self->polygon_scores, error);
    case FLORENCE_RESULT_QUADS:
      return read_quads (self, o, quad_labels_key (version), error) &&
             read_scores (self, o, "scores", self->quad_scores, error);
    default:
      return invalid (error, _ ("unknown kind"));
    }
}

FlorenceResult *
florence_result_from_json_node (JsonNode *node, GError **error)
{
  g_autoptr (FlorenceResult) self = NULL;
  JsonObject *o;
  JsonArray *size;
  JsonNode *n;
  FlorenceResultKind kind;
  const char *task;
  gint64 version;
  int w, h;

  g_return_val_if_fail (node != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, _ ("not a JSON object")), NULL;
  o = json_node_get_object (node);

  n = json_object_get_member (o, "version");
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_INT64)
    return invalid (error, _ ("no version")), NULL;
  version = json_node_get_int (n);
  if (version > SCHEMA_VERSION || version < 1)
    {
      g_set_error (error, FLORENCE_RESULT_ERROR, FLORENCE_RESULT_ERROR_INVALID,
                   _ ("The stored result was written by a newer version of Depict (format %" PRId64
                      "). Update Depict to read it."),
                   version);
      return NULL;
    }

  n = json_object_get_member (o, "kind");
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING ||
      !florence_result_kind_from_string (json_node_get_string (n), &kind))
    return invalid (error, _ ("unknown kind")), NULL;

  n = json_object_get_member (o, "task");
  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return invalid (error, _ ("no task")), NULL;
  task = json_node_get_string (n);

  size = get_array (o, "image_size");
  if (size == NULL || json_array_get_length (size) != 2 || !read_size (size, 0, &w) ||
      !read_size (size, 1, &h))
    return invalid (error, _ ("no image size")), NULL;

  self = florence_result_new (kind, task, w, h);
  if (!read_answer (self, o, version, error))
    return NULL;
  return g_steal_pointer (&self);
}

FlorenceResult *
florence_result_from_reference_json_node (JsonNode *node, const char *task, int image_width,
                                          int image_height, GError **error)
{
  g_autoptr (FlorenceResult) self = NULL;
  JsonObject *o;
  JsonNode *answer;
  FlorenceResultKind kind;

  g_return_val_if_fail (node != NULL, NULL);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return invalid (error, _ ("not a JSON object")), NULL;
  o = json_node_get_object (node);
  if (task == NULL && json_object_get_size (o) == 1)
    {
      g_autoptr (GList) members = json_object_get_members (o);
      task = members->data;
    }
  answer = task != NULL ? json_object_get_member (o, task) : NULL;
  if (answer == NULL)
    return invalid (error, _ ("no answer for the task")), NULL;

  if (JSON_NODE_HOLDS_VALUE (answer) && json_node_get_value_type (answer) == G_TYPE_STRING)
    {
      self = florence_result_new (FLORENCE_RESULT_TEXT, task, image_width, image_height);
      florence_result_set_text (self, json_node_get_string (answer));
      return g_steal_pointer (&self);
    }
  if (!JSON_NODE_HOLDS_OBJECT (answer))
    return invalid (error, _ ("the answer is neither text nor an object")), NULL;
  o = json_node_get_object (answer);
  if (json_object_has_member (o, "bboxes_labels") || json_object_has_member (o, "polygons_labels"))
    kind = FLORENCE_RESULT_BOXES_OR_POLYGONS;
  else if (json_object_has_member (o, "quad_boxes"))
    kind = FLORENCE_RESULT_QUADS;
  else if (json_object_has_member (o, "polygons"))
    kind = FLORENCE_RESULT_POLYGONS;
  else
    kind = FLORENCE_RESULT_BOXES;
  self = florence_result_new (kind, task, image_width, image_height);
  if (!read_answer (self, o, SCHEMA_VERSION, error))
    return NULL;
  return g_steal_pointer (&self);
}

FlorenceResult *
florence_result_from_json (const char *json, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (json != NULL, NULL);
  if (!florence_json_load (parser, json, -1, &local_error))
    {
      g_set_error (error, FLORENCE_RESULT_ERROR, FLORENCE_RESULT_ERROR_INVALID,
                   _ ("The stored result is damaged (%s). Run the task again."),
                   local_error->message);
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL)
    return invalid (error, _ ("empty")), NULL;
  return florence_result_from_json_node (json_parser_get_root (parser), error);
}
