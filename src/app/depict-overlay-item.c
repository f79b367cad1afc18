/* depict-overlay-item.c
 *
 * One thing drawn over the photo: a labelled box, a segmentation mask (one or more
 * polygons) or an OCR text region (a quadrilateral). Coordinates are pixels of the
 * original image in its displayed (EXIF-oriented) orientation.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-overlay-item"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "depict-overlay-item.h"

struct _DepictOverlayItem {
  GObject parent_instance;

  DepictOverlayKind kind;
  char *label;
  guint index;
  guint color_index;
  double share;         /* of the photo's area; < 0: unknown */
  double score;         /* the model's confidence, 0–1; < 0: none */
  GPtrArray *polygons;  /* of GArray<float> with x,y pairs */
  float x1, y1, x2, y2; /* bounds */
};

G_DEFINE_FINAL_TYPE (DepictOverlayItem, depict_overlay_item, G_TYPE_OBJECT)

enum { PROP_0, PROP_LABEL, PROP_KIND, PROP_DESCRIPTION, N_PROPS };

static GParamSpec *properties[N_PROPS];

/* Twelve colours for the classes of one photo, told apart at a glance: no two are closer
 * than 30 in CIELAB (ΔE*76), and each has black or white text at 4.5:1 or more on it
 * (WCAG AA; test-app-overlay checks both). Mostly the GNOME palette. */
static const float palette[DEPICT_OVERLAY_N_COLORS][3] = {
  { 0x35 / 255.f, 0x84 / 255.f, 0xe4 / 255.f }, /* blue 3 */
  { 0x2e / 255.f, 0xc2 / 255.f, 0x7e / 255.f }, /* green 4 */
  { 0xf6 / 255.f, 0xd3 / 255.f, 0x2d / 255.f }, /* yellow 3 */
  { 0xff / 255.f, 0x78 / 255.f, 0x00 / 255.f }, /* orange 3 */
  { 0xe0 / 255.f, 0x1b / 255.f, 0x24 / 255.f }, /* red 3 */
  { 0x91 / 255.f, 0x41 / 255.f, 0xac / 255.f }, /* purple 3 */
  { 0x21 / 255.f, 0xc7 / 255.f, 0xc7 / 255.f }, /* teal */
  { 0xd6 / 255.f, 0x33 / 255.f, 0x84 / 255.f }, /* magenta */
  { 0xa6 / 255.f, 0xe2 / 255.f, 0x2e / 255.f }, /* lime */
  { 0x98 / 255.f, 0x6a / 255.f, 0x44 / 255.f }, /* brown 3 */
  { 0x1a / 255.f, 0x3a / 255.f, 0x8f / 255.f }, /* navy */
  { 0xde / 255.f, 0xdd / 255.f, 0xda / 255.f }, /* light 3 */
};

void
depict_overlay_palette_color (guint index, float rgb[3])
{
  const float *c = palette[index % DEPICT_OVERLAY_N_COLORS];

  rgb[0] = c[0];
  rgb[1] = c[1];
  rgb[2] = c[2];
}

static void
depict_overlay_item_finalize (GObject *object)
{
  DepictOverlayItem *self = DEPICT_OVERLAY_ITEM (object);

  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->polygons, g_ptr_array_unref);

  G_OBJECT_CLASS (depict_overlay_item_parent_class)->finalize (object);
}

static void
depict_overlay_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictOverlayItem *self = DEPICT_OVERLAY_ITEM (object);

  switch (prop_id)
    {
    case PROP_LABEL:
      g_value_set_string (value, self->label);
      break;
    case PROP_KIND:
      g_value_set_int (value, self->kind);
      break;
    case PROP_DESCRIPTION:
      g_value_take_string (value, depict_overlay_item_describe (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_overlay_item_class_init (DepictOverlayItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = depict_overlay_item_finalize;
  object_class->get_property = depict_overlay_item_get_property;

  properties[PROP_LABEL] =
    g_param_spec_string ("label", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_KIND] = g_param_spec_int ("kind", NULL, NULL, 0, DEPICT_OVERLAY_TEXT, 0,
                                            G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DESCRIPTION] = g_param_spec_string ("description", NULL, NULL, NULL,
                                                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
depict_overlay_item_init (DepictOverlayItem *self)
{
  self->polygons = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  self->share = -1;
  self->score = -1;
  self->x1 = self->y1 = INFINITY;
  self->x2 = self->y2 = -INFINITY;
}

static void
grow_bounds (DepictOverlayItem *self, float x, float y)
{
  self->x1 = MIN (self->x1, x);
  self->y1 = MIN (self->y1, y);
  self->x2 = MAX (self->x2, x);
  self->y2 = MAX (self->y2, y);
}

DepictOverlayItem *
depict_overlay_item_new_box (const char *label, float x1, float y1, float x2, float y2)
{
  DepictOverlayItem *self = g_object_new (DEPICT_TYPE_OVERLAY_ITEM, NULL);
  float corners[8] = { x1, y1, x2, y1, x2, y2, x1, y2 };

  self->kind = DEPICT_OVERLAY_BOX;
  self->label = g_strdup (label != NULL ? label : "");
  /* The reference post-processor keeps x1 > x2 as generated; draw the box either way. */
  depict_overlay_item_add_polygon (self, corners, 4);
  return self;
}

DepictOverlayItem *
depict_overlay_item_new_polygon (DepictOverlayKind kind, const char *label)
{
  DepictOverlayItem *self = g_object_new (DEPICT_TYPE_OVERLAY_ITEM, NULL);

  self->kind = kind;
  self->label = g_strdup (label != NULL ? label : "");
  return self;
}

void
depict_overlay_item_add_polygon (DepictOverlayItem *self, const float *xy, guint n_points)
{
  GArray *poly;

  g_return_if_fail (DEPICT_IS_OVERLAY_ITEM (self));
  g_return_if_fail (xy != NULL || n_points == 0);

  poly = g_array_sized_new (FALSE, FALSE, sizeof (float), n_points * 2);
  for (guint i = 0; i < n_points; i++)
    {
      float x = xy[2 * i], y = xy[2 * i + 1];

      if (!isfinite (x) || !isfinite (y))
        continue;
      g_array_append_val (poly, x);
      g_array_append_val (poly, y);
      grow_bounds (self, x, y);
    }
  g_ptr_array_add (self->polygons, poly);
}

DepictOverlayKind
depict_overlay_item_get_kind (DepictOverlayItem *self)
{
  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), DEPICT_OVERLAY_BOX);
  return self->kind;
}

DepictLayers
depict_overlay_item_get_layer (DepictOverlayItem *self)
{
  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), DEPICT_LAYER_BOXES);
  switch (self->kind)
    {
    case DEPICT_OVERLAY_MASK:
      return DEPICT_LAYER_MASKS;
    case DEPICT_OVERLAY_TEXT:
      return DEPICT_LAYER_TEXT;
    case DEPICT_OVERLAY_BOX:
    default:
      return DEPICT_LAYER_BOXES;
    }
}

const char *
depict_overlay_item_get_label (DepictOverlayItem *self)
{
  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), NULL);
  return self->label;
}

guint
depict_overlay_item_get_index (DepictOverlayItem *self)
{
  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), 0);
  return self->index;
}

void
depict_overlay_item_set_index (DepictOverlayItem *self, guint index)
{
  g_return_if_fail (DEPICT_IS_OVERLAY_ITEM (self));
  self->index = index;
}

guint
depict_overlay_item_get_n_polygons (DepictOverlayItem *self)
{
  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), 0);
  return self->polygons->len;
}

const float *
depict_overlay_item_get_polygon (DepictOverlayItem *self, guint i, guint *n_points)
{
  GArray *poly;

  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), NULL);
  g_return_val_if_fail (i < self->polygons->len, NULL);

  poly = g_ptr_array_index (self->polygons, i);
  if (n_points != NULL)
    *n_points = poly->len / 2;
  return (const float *) (gpointer) poly->data;
}

void
depict_overlay_item_get_bounds (DepictOverlayItem *self, float *x, float *y, float *width,
                                float *height)
{
  gboolean empty;

  g_return_if_fail (DEPICT_IS_OVERLAY_ITEM (self));

  empty = !(self->x2 >= self->x1 && self->y2 >= self->y1);
  if (x != NULL)
    *x = empty ? 0 : self->x1;
  if (y != NULL)
    *y = empty ? 0 : self->y1;
  if (width != NULL)
    *width = empty ? 0 : self->x2 - self->x1;
  if (height != NULL)
    *height = empty ? 0 : self->y2 - self->y1;
}

static gboolean
polygon_contains (const float *xy, guint n, float x, float y)
{
  gboolean inside = FALSE;

  /* Even-odd rule, as the masks are filled. */
  for (guint i = 0, j = n - 1; i < n; j = i++)
    {
      float xi = xy[2 * i], yi = xy[2 * i + 1];
      float xj = xy[2 * j], yj = xy[2 * j + 1];

      if (((yi > y) != (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi))
        inside = !inside;
    }
  return inside;
}

gboolean
depict_overlay_item_contains (DepictOverlayItem *self, float x, float y)
{
  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), FALSE);

  if (!(x >= self->x1 && x <= self->x2 && y >= self->y1 && y <= self->y2))
    return FALSE;
  if (self->kind == DEPICT_OVERLAY_BOX)
    return TRUE;
  for (guint i = 0; i < self->polygons->len; i++)
    {
      GArray *poly = g_ptr_array_index (self->polygons, i);

      if (poly->len >= 6 && polygon_contains ((float *) (gpointer) poly->data, poly->len / 2, x, y))
        return TRUE;
    }
  return FALSE;
}

void
depict_overlay_item_get_color (DepictOverlayItem *self, float rgb[3])
{
  g_return_if_fail (DEPICT_IS_OVERLAY_ITEM (self));
  depict_overlay_palette_color (self->color_index, rgb);
}

guint
depict_overlay_item_get_color_index (DepictOverlayItem *self)
{
  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), 0);
  return self->color_index;
}

void
depict_overlay_item_set_color_index (DepictOverlayItem *self, guint color_index)
{
  g_return_if_fail (DEPICT_IS_OVERLAY_ITEM (self));
  self->color_index = color_index;
}

double
depict_overlay_item_get_score (DepictOverlayItem *self)
{
  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), -1);
  return self->score;
}

void
depict_overlay_item_set_score (DepictOverlayItem *self, double score)
{
  g_return_if_fail (DEPICT_IS_OVERLAY_ITEM (self));
  self->score = isfinite (score) ? CLAMP (score, 0.0, 1.0) : -1;
}

/* The area the item covers: its box, or the sum of its polygons' (shoelace) areas. */
static double
item_area (DepictOverlayItem *self)
{
  double area = 0;

  if (self->kind == DEPICT_OVERLAY_BOX)
    {
      float w, h;

      depict_overlay_item_get_bounds (self, NULL, NULL, &w, &h);
      return (double) w * h;
    }
  for (guint i = 0; i < self->polygons->len; i++)
    {
      GArray *poly = g_ptr_array_index (self->polygons, i);
      const float *xy = (const float *) (gpointer) poly->data;
      guint n = poly->len / 2;
      double twice = 0;

      for (guint j = 0, k = n - 1; j < n; k = j++)
        twice += (double) xy[2 * k] * xy[2 * j + 1] - (double) xy[2 * j] * xy[2 * k + 1];
      area += fabs (twice) / 2;
    }
  return area;
}

double
depict_overlay_item_get_share (DepictOverlayItem *self)
{
  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), -1);
  return self->share;
}

void
depict_overlay_item_set_image_size (DepictOverlayItem *self, int width, int height)
{
  g_return_if_fail (DEPICT_IS_OVERLAY_ITEM (self));

  if (width <= 0 || height <= 0)
    self->share = -1;
  else
    self->share = CLAMP (item_area (self) / ((double) width * height), 0.0, 1.0);
}

/* What a person wants to know of an item beside its label: how sure the model is (when it
 * says) and how much of the photo it covers. NULL when neither is known. */
char *
depict_overlay_item_dup_details (DepictOverlayItem *self)
{
  g_autofree char *share = NULL;
  g_autofree char *score = NULL;

  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), NULL);

  if (self->share >= 0.01)
    /* Translators: how much of the photo an object covers, "12 % of the photo" */
    share = g_strdup_printf (_ ("%.0f %% of the photo"), 100 * self->share);
  else if (self->share >= 0)
    /* xgettext:no-c-format */
    share = g_strdup (_ ("Less than 1 % of the photo"));
  if (self->score >= 0)
    /* Translators: how sure the model is of what it found, "Confidence 94 %" */
    score = g_strdup_printf (_ ("Confidence %.0f %%"), 100 * self->score);
  if (score != NULL && share != NULL)
    /* Translators: two details of a found object, "Confidence 94 % · 12 % of the photo" */
    return g_strdup_printf (_ ("%s · %s"), score, share);
  if (score != NULL)
    return g_steal_pointer (&score);
  return g_steal_pointer (&share);
}

/* A line for the results list and for "Copy as Text": label and rounded coordinates. */
char *
depict_overlay_item_describe (DepictOverlayItem *self)
{
  float x, y, w, h;
  const char *label;

  g_return_val_if_fail (DEPICT_IS_OVERLAY_ITEM (self), NULL);

  depict_overlay_item_get_bounds (self, &x, &y, &w, &h);
  label = self->label[0] != '\0' ? self->label : _ ("Region");
  if (self->kind == DEPICT_OVERLAY_BOX)
    /* Translators: a detected object: its label, then its box as x1, y1 – x2, y2 in pixels */
    return g_strdup_printf (_ ("%s: %.0f, %.0f – %.0f, %.0f"), label, x, y, x + w, y + h);
  /* Translators: a mask or a text region: its label, then where it lies and its size in pixels */
  return g_strdup_printf (_ ("%s: at %.0f, %.0f, %.0f × %.0f"), label, x, y, w, h);
}

/* The reference OCR parser keeps the end token before the first label ("</s>HELLO"). */
static const char *
display_label (const char *label)
{
  if (label != NULL && g_str_has_prefix (label, "</s>"))
    return label + 4;
  return label != NULL ? label : "";
}

static const char *
label_at (GPtrArray *labels, guint i)
{
  return labels != NULL && i < labels->len ? display_label (g_ptr_array_index (labels, i)) : "";
}

static float
score_at (const FlorenceResult *result, GArray *scores, guint i)
{
  return result->has_scores && scores != NULL && i < scores->len ? g_array_index (scores, float, i)
                                                                 : NAN;
}

GListStore *
depict_overlay_items_from_result (const FlorenceResult *result)
{
  GListStore *store = g_list_store_new (DEPICT_TYPE_OVERLAY_ITEM);
  g_autoptr (GHashTable) classes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  guint n, n_colors = 0;

  if (result == NULL)
    return store;

  for (guint i = 0; result->quads != NULL && i < result->quads->len; i++)
    {
      const FlorenceQuad *q = &g_array_index (result->quads, FlorenceQuad, i);
      g_autoptr (DepictOverlayItem) item =
        depict_overlay_item_new_polygon (DEPICT_OVERLAY_TEXT, label_at (result->quad_labels, i));

      depict_overlay_item_add_polygon (item, q->p, 4);
      depict_overlay_item_set_score (item, score_at (result, result->quad_scores, i));
      g_list_store_append (store, item);
    }
  for (guint i = 0; result->boxes != NULL && i < result->boxes->len; i++)
    {
      const FlorenceBox *b = &g_array_index (result->boxes, FlorenceBox, i);
      g_autoptr (DepictOverlayItem) item =
        depict_overlay_item_new_box (label_at (result->box_labels, i), b->x1, b->y1, b->x2, b->y2);

      depict_overlay_item_set_score (item, score_at (result, result->box_scores, i));
      g_list_store_append (store, item);
    }
  for (guint i = 0; result->polygons != NULL && i < result->polygons->len; i++)
    {
      GPtrArray *polygons = g_ptr_array_index (result->polygons, i);
      g_autoptr (DepictOverlayItem) item =
        depict_overlay_item_new_polygon (DEPICT_OVERLAY_MASK, label_at (result->polygon_labels, i));

      for (guint j = 0; polygons != NULL && j < polygons->len; j++)
        {
          GArray *xy = g_ptr_array_index (polygons, j);

          if (xy->len >= 2)
            depict_overlay_item_add_polygon (item, (const float *) (gpointer) xy->data,
                                             xy->len / 2);
        }
      depict_overlay_item_set_score (item, score_at (result, result->polygon_scores, i));
      /* An instance without a drawable polygon has nothing to show. */
      if (depict_overlay_item_get_n_polygons (item) > 0)
        g_list_store_append (store, item);
    }

  /* Each class its colour, in the order the classes first appear (so up to twelve are all
   * told apart); items without a label, and text lines, each their own. */
  n = g_list_model_get_n_items (G_LIST_MODEL (store));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (G_LIST_MODEL (store), i);
      const char *label = item->kind == DEPICT_OVERLAY_TEXT ? "" : item->label;
      gpointer known;

      depict_overlay_item_set_index (item, i);
      depict_overlay_item_set_image_size (item, result->image_width, result->image_height);
      if (label[0] != '\0' && g_hash_table_lookup_extended (classes, label, NULL, &known))
        item->color_index = GPOINTER_TO_UINT (known);
      else
        {
          item->color_index = n_colors++;
          if (label[0] != '\0')
            g_hash_table_insert (classes, g_strdup (label), GUINT_TO_POINTER (item->color_index));
        }
    }
  return store;
}

void
depict_overlay_item_set_label (DepictOverlayItem *self, const char *label)
{
  g_return_if_fail (DEPICT_IS_OVERLAY_ITEM (self));

  g_free (self->label);
  self->label = g_strdup (label != NULL ? label : "");
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LABEL]);
}

char *
depict_overlay_result_dup_text (const FlorenceResult *result)
{
  GString *text;

  if (result == NULL)
    return NULL;
  if (result->kind == FLORENCE_RESULT_TEXT)
    return g_strdup (result->text != NULL ? result->text : "");
  if (result->kind != FLORENCE_RESULT_QUADS)
    return NULL;
  text = g_string_new (NULL);
  for (guint i = 0; result->quad_labels != NULL && i < result->quad_labels->len; i++)
    {
      if (i > 0)
        g_string_append_c (text, '\n');
      g_string_append (text, label_at (result->quad_labels, i));
    }
  return g_string_free (text, FALSE);
}
