/* depict-image-view.c
 *
 * The photo, fitted or zoomed and panned, with the results drawn over it. All overlay
 * coordinates are pixels of the original image in its displayed (EXIF-oriented)
 * orientation; one transform (scale + centre) maps them to the widget, so the overlays
 * stay aligned at every zoom level and window size. The drawing is depict-overlay-painter.c's,
 * the pointer and keys are handled in depict-image-view-input.c, and the region of a region
 * task is held by a DepictRegionSelector.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-image-view"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "depict-image-view-private.h"
#include "depict-overlay-painter.h"

G_DEFINE_FINAL_TYPE (DepictImageView, depict_image_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TEXTURE,
  PROP_ITEMS,
  PROP_HOVER_ITEM,
  PROP_LAYERS,
  PROP_SCALE,
  PROP_FIT,
  PROP_REGION_MODE,
  PROP_HAS_REGION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

double
_depict_image_view_image_width (DepictImageView *self)
{
  return self->texture != NULL ? gdk_texture_get_width (self->texture) : 1;
}

double
_depict_image_view_image_height (DepictImageView *self)
{
  return self->texture != NULL ? gdk_texture_get_height (self->texture) : 1;
}

static double
fit_scale (DepictImageView *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));

  if (w <= 0 || h <= 0)
    return 1.0;
  /* A small picture (an icon, a 24-pixel thumbnail) is shown at its size, not blown up into
   * blur; zooming in is still there. */
  return CLAMP (
    MIN (w / _depict_image_view_image_width (self), h / _depict_image_view_image_height (self)),
    MIN_SCALE, 1.0);
}

/* Keep the picture covering the widget when it is larger, centred when it is smaller. */
void
_depict_image_view_clamp_centre (DepictImageView *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  double iw = _depict_image_view_image_width (self), ih = _depict_image_view_image_height (self);
  double hw = w / 2.0 / self->scale, hh = h / 2.0 / self->scale;

  if (iw * self->scale <= w)
    self->cx = iw / 2.0;
  else
    self->cx = CLAMP (self->cx, hw, iw - hw);
  if (ih * self->scale <= h)
    self->cy = ih / 2.0;
  else
    self->cy = CLAMP (self->cy, hh, ih - hh);
}

void
_depict_image_view_update_view (DepictImageView *self)
{
  if (self->fit)
    {
      self->scale = fit_scale (self);
      self->cx = _depict_image_view_image_width (self) / 2.0;
      self->cy = _depict_image_view_image_height (self) / 2.0;
    }
  _depict_image_view_clamp_centre (self);
}

void
depict_image_view_image_to_widget (DepictImageView *self, double ix, double iy, double *wx,
                                   double *wy)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));

  _depict_image_view_update_view (self);
  if (wx != NULL)
    *wx = (ix - self->cx) * self->scale + gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
  if (wy != NULL)
    *wy = (iy - self->cy) * self->scale + gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
}

void
depict_image_view_widget_to_image (DepictImageView *self, double wx, double wy, double *ix,
                                   double *iy)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));

  _depict_image_view_update_view (self);
  if (ix != NULL)
    *ix = (wx - gtk_widget_get_width (GTK_WIDGET (self)) / 2.0) / self->scale + self->cx;
  if (iy != NULL)
    *iy = (wy - gtk_widget_get_height (GTK_WIDGET (self)) / 2.0) / self->scale + self->cy;
}

static gboolean
item_visible (DepictImageView *self, DepictOverlayItem *item)
{
  return (depict_overlay_item_get_layer (item) & self->layers) != 0;
}

/* The smallest visible item under a widget point, so nested boxes can all be reached. */
DepictOverlayItem *
depict_image_view_pick (DepictImageView *self, double wx, double wy)
{
  DepictOverlayItem *best = NULL;
  double best_area = INFINITY;
  double ix, iy;
  guint n;

  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), NULL);

  if (self->items == NULL || self->texture == NULL)
    return NULL;
  depict_image_view_widget_to_image (self, wx, wy, &ix, &iy);
  n = g_list_model_get_n_items (self->items);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (self->items, i);
      float w, h;

      if (!item_visible (self, item) || !depict_overlay_item_contains (item, ix, iy))
        continue;
      depict_overlay_item_get_bounds (item, NULL, NULL, &w, &h);
      if ((double) w * h < best_area)
        {
          best_area = (double) w * h;
          best = item;
        }
    }
  return best;
}

/* ---------------------------------------------------------------------------------------- */
/* Drawing                                                                                  */

static void
depict_image_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  DepictImageView *self = DEPICT_IMAGE_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  DepictViewTransform transform;
  graphene_rect_t region;
  double x1, y1, x2, y2;

  if (self->texture == NULL || width <= 0 || height <= 0)
    return;

  _depict_image_view_update_view (self);
  transform.scale = self->scale;
  transform.image_width = _depict_image_view_image_width (self);
  transform.image_height = _depict_image_view_image_height (self);
  depict_image_view_image_to_widget (self, 0, 0, &transform.origin_x, &transform.origin_y);
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  depict_image_view_image_to_widget (self, 0, 0, &x1, &y1);
  depict_image_view_image_to_widget (self, _depict_image_view_image_width (self),
                                     _depict_image_view_image_height (self), &x2, &y2);
  gtk_snapshot_append_texture (snapshot, self->texture,
                               &GRAPHENE_RECT_INIT (x1, y1, x2 - x1, y2 - y1));

  depict_overlay_painter_append_items (widget, snapshot, self->items, self->layers,
                                       self->hover_item, &transform);
  if (depict_region_selector_get_region (self->region, &region))
    depict_overlay_painter_append_region (snapshot, &region, &transform);

  gtk_snapshot_pop (snapshot);
}

static void
depict_image_view_measure (GtkWidget *widget, GtkOrientation orientation, int for_size,
                           int *minimum, int *natural, int *minimum_baseline, int *natural_baseline)
{
  *minimum = 64;
  *natural = 480;
}

static void
depict_image_view_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  DepictImageView *self = DEPICT_IMAGE_VIEW (widget);

  _depict_image_view_update_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE]);
}

static gboolean
depict_image_view_query_tooltip (GtkWidget *widget, int x, int y, gboolean keyboard_mode,
                                 GtkTooltip *tooltip)
{
  DepictImageView *self = DEPICT_IMAGE_VIEW (widget);
  DepictOverlayItem *item = depict_image_view_pick (self, x, y);
  const char *label;

  if (item == NULL || keyboard_mode)
    return FALSE;
  label = depict_overlay_item_get_label (item);
  if (label == NULL || label[0] == '\0')
    return FALSE;
  gtk_tooltip_set_text (tooltip, label);
  return TRUE;
}

/* ---------------------------------------------------------------------------------------- */
/* Zoom and region                                                                          */

void
_depict_image_view_zoom_around (DepictImageView *self, double new_scale, double wx, double wy)
{
  double ix, iy;
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));

  if (self->texture == NULL)
    return;
  new_scale = CLAMP (new_scale, MIN_SCALE, MAX_SCALE);
  depict_image_view_widget_to_image (self, wx, wy, &ix, &iy);
  self->fit = FALSE;
  self->scale = new_scale;
  /* Keep the image point under the pointer where it is. */
  self->cx = ix - (wx - w / 2.0) / new_scale;
  self->cy = iy - (wy - h / 2.0) / new_scale;
  _depict_image_view_clamp_centre (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
_depict_image_view_update_cursor (DepictImageView *self)
{
  const char *name = NULL;
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  gboolean pannable;

  _depict_image_view_update_view (self);
  pannable = _depict_image_view_image_width (self) * self->scale > w + 0.5 ||
             _depict_image_view_image_height (self) * self->scale > h + 0.5;
  if (self->texture == NULL)
    name = NULL;
  else if (depict_region_selector_get_active (self->region))
    name = "crosshair";
  else if (self->dragging && pannable)
    name = "grabbing";
  else if (pannable)
    name = "grab";
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), name);
}

static void
region_changed_cb (DepictRegionSelector *region, GParamSpec *pspec, DepictImageView *self)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_REGION]);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject                                                                                  */

static void
items_changed_cb (GListModel *model, guint position, guint removed, guint added,
                  DepictImageView *self)
{
  depict_image_view_set_hover_item (self, NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
depict_image_view_dispose (GObject *object)
{
  DepictImageView *self = DEPICT_IMAGE_VIEW (object);

  if (self->items != NULL)
    g_signal_handlers_disconnect_by_func (self->items, items_changed_cb, self);
  g_clear_object (&self->items);
  g_clear_object (&self->texture);
  g_clear_object (&self->hover_item);
  if (self->region != NULL)
    g_signal_handlers_disconnect_by_data (self->region, self);
  g_clear_object (&self->region);

  G_OBJECT_CLASS (depict_image_view_parent_class)->dispose (object);
}

static void
depict_image_view_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictImageView *self = DEPICT_IMAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      g_value_set_object (value, self->texture);
      break;
    case PROP_ITEMS:
      g_value_set_object (value, self->items);
      break;
    case PROP_HOVER_ITEM:
      g_value_set_object (value, self->hover_item);
      break;
    case PROP_LAYERS:
      g_value_set_uint (value, self->layers);
      break;
    case PROP_SCALE:
      g_value_set_double (value, depict_image_view_get_scale (self));
      break;
    case PROP_FIT:
      g_value_set_boolean (value, self->fit);
      break;
    case PROP_REGION_MODE:
      g_value_set_boolean (value, depict_region_selector_get_active (self->region));
      break;
    case PROP_HAS_REGION:
      g_value_set_boolean (value, depict_region_selector_get_region (self->region, NULL));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_image_view_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  DepictImageView *self = DEPICT_IMAGE_VIEW (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      depict_image_view_set_texture (self, g_value_get_object (value));
      break;
    case PROP_ITEMS:
      depict_image_view_set_items (self, g_value_get_object (value));
      break;
    case PROP_HOVER_ITEM:
      depict_image_view_set_hover_item (self, g_value_get_object (value));
      break;
    case PROP_LAYERS:
      depict_image_view_set_layers (self, g_value_get_uint (value));
      break;
    case PROP_REGION_MODE:
      depict_image_view_set_region_mode (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_image_view_class_init (DepictImageViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = depict_image_view_dispose;
  object_class->get_property = depict_image_view_get_property;
  object_class->set_property = depict_image_view_set_property;

  widget_class->snapshot = depict_image_view_snapshot;
  widget_class->measure = depict_image_view_measure;
  widget_class->size_allocate = depict_image_view_size_allocate;
  widget_class->query_tooltip = depict_image_view_query_tooltip;

  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL, GDK_TYPE_TEXTURE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ITEMS] =
    g_param_spec_object ("items", NULL, NULL, G_TYPE_LIST_MODEL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HOVER_ITEM] =
    g_param_spec_object ("hover-item", NULL, NULL, DEPICT_TYPE_OVERLAY_ITEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAYERS] =
    g_param_spec_uint ("layers", NULL, NULL, 0, DEPICT_LAYER_ALL, DEPICT_LAYER_ALL,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SCALE] = g_param_spec_double ("scale", NULL, NULL, 0, MAX_SCALE, 1,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FIT] =
    g_param_spec_boolean ("fit", NULL, NULL, TRUE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_REGION_MODE] =
    g_param_spec_boolean ("region-mode", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HAS_REGION] = g_param_spec_boolean ("has-region", NULL, NULL, FALSE,
                                                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_css_name (widget_class, "depict-image-view");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
depict_image_view_init (DepictImageView *self)
{
  self->fit = TRUE;
  self->scale = 1.0;
  self->layers = DEPICT_LAYER_ALL;
  self->region = depict_region_selector_new ();
  g_signal_connect (self->region, "notify::has-region", G_CALLBACK (region_changed_cb), self);

  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_focusable (GTK_WIDGET (self), FALSE);

  _depict_image_view_input_init (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Public API                                                                               */

GtkWidget *
depict_image_view_new (void)
{
  return g_object_new (DEPICT_TYPE_IMAGE_VIEW, NULL);
}

GdkTexture *
depict_image_view_get_texture (DepictImageView *self)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), NULL);
  return self->texture;
}

void
depict_image_view_set_texture (DepictImageView *self, GdkTexture *texture)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));
  g_return_if_fail (texture == NULL || GDK_IS_TEXTURE (texture));

  if (!g_set_object (&self->texture, texture))
    return;
  self->fit = TRUE;
  depict_region_selector_set_image_size (
    self->region, texture != NULL ? _depict_image_view_image_width (self) : 0,
    texture != NULL ? _depict_image_view_image_height (self) : 0);
  _depict_image_view_update_view (self);
  _depict_image_view_update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
}

GListModel *
depict_image_view_get_items (DepictImageView *self)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), NULL);
  return self->items;
}

void
depict_image_view_set_items (DepictImageView *self, GListModel *items)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));
  g_return_if_fail (items == NULL || G_IS_LIST_MODEL (items));

  if (self->items == items)
    return;
  if (self->items != NULL)
    g_signal_handlers_disconnect_by_func (self->items, items_changed_cb, self);
  g_set_object (&self->items, items);
  if (self->items != NULL)
    g_signal_connect (self->items, "items-changed", G_CALLBACK (items_changed_cb), self);
  depict_image_view_set_hover_item (self, NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEMS]);
}

DepictOverlayItem *
depict_image_view_get_hover_item (DepictImageView *self)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), NULL);
  return self->hover_item;
}

void
depict_image_view_set_hover_item (DepictImageView *self, DepictOverlayItem *item)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));

  if (!g_set_object (&self->hover_item, item))
    return;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOVER_ITEM]);
}

guint
depict_image_view_get_layers (DepictImageView *self)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), 0);
  return self->layers;
}

void
depict_image_view_set_layers (DepictImageView *self, guint layers)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));

  layers &= DEPICT_LAYER_ALL;
  if (self->layers == layers)
    return;
  self->layers = layers;
  if (self->hover_item != NULL && !item_visible (self, self->hover_item))
    depict_image_view_set_hover_item (self, NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAYERS]);
}

double
depict_image_view_get_scale (DepictImageView *self)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), 1.0);
  _depict_image_view_update_view (self);
  return self->scale;
}

gboolean
depict_image_view_get_fit (DepictImageView *self)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), TRUE);
  return self->fit;
}

static void
zoom_at_centre (DepictImageView *self, double scale)
{
  _depict_image_view_update_view (self);
  _depict_image_view_zoom_around (self, scale, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
                                  gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
  _depict_image_view_update_cursor (self);
}

void
depict_image_view_zoom_in (DepictImageView *self)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));
  _depict_image_view_update_view (self);
  zoom_at_centre (self, self->scale * ZOOM_STEP);
}

void
depict_image_view_zoom_out (DepictImageView *self)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));
  _depict_image_view_update_view (self);
  zoom_at_centre (self, self->scale / ZOOM_STEP);
}

void
depict_image_view_zoom_to (DepictImageView *self, double scale)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));
  zoom_at_centre (self, scale);
}

void
depict_image_view_zoom_to_fit (DepictImageView *self)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));

  self->fit = TRUE;
  _depict_image_view_update_view (self);
  _depict_image_view_update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE]);
}

gboolean
depict_image_view_get_region_mode (DepictImageView *self)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), FALSE);
  return depict_region_selector_get_active (self->region);
}

void
depict_image_view_set_region_mode (DepictImageView *self, gboolean region_mode)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));

  region_mode = !!region_mode;
  if (depict_region_selector_get_active (self->region) == region_mode)
    return;
  depict_region_selector_set_active (self->region, region_mode);
  /* Focusable (a Tab stop) only when the arrow keys have something to do. */
  gtk_widget_set_focusable (GTK_WIDGET (self), region_mode);
  if (region_mode)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                    _ ("The arrow keys place and move the region, Shift and the "
                                       "arrow keys resize it, Delete or Escape clears it"),
                                    -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  _depict_image_view_update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGION_MODE]);
}

gboolean
depict_image_view_get_region (DepictImageView *self, graphene_rect_t *region)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), FALSE);
  return depict_region_selector_get_region (self->region, region);
}

void
depict_image_view_set_region (DepictImageView *self, const graphene_rect_t *region)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));
  depict_region_selector_set_region (self->region, region);
}

/* See depict_region_selector_nudge(). */
gboolean
depict_image_view_nudge_region (DepictImageView *self, int dx, int dy, gboolean resize)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), FALSE);
  return depict_region_selector_nudge (self->region, dx, dy, resize);
}
