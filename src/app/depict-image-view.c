/* depict-image-view.c
 *
 * The photo, fitted or zoomed and panned, with the results drawn over it. All overlay
 * coordinates are pixels of the original image in its displayed (EXIF-oriented)
 * orientation; one transform (scale + centre) maps them to the widget, so the overlays
 * stay aligned at every zoom level and window size.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-image-view"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "depict-image-view.h"

#define MIN_SCALE 0.02
#define MAX_SCALE 32.0
#define ZOOM_STEP 1.25

struct _DepictImageView {
  GtkWidget parent_instance;

  GdkTexture *texture;
  GListModel *items;
  DepictOverlayItem *hover_item;
  guint layers;

  /* View: when fit is set, scale and centre follow the widget size. */
  gboolean fit;
  double scale;
  double cx, cy; /* image point at the centre of the widget */

  /* Pointer and gestures */
  double pointer_x, pointer_y;
  gboolean pointer_inside;
  double drag_start_cx, drag_start_cy;
  double drag_start_x, drag_start_y;
  double zoom_gesture_start_scale;
  gboolean dragging;

  /* Region selection (for region tasks), in image pixels */
  gboolean region_mode;
  gboolean has_region;
  graphene_rect_t region;
  gboolean selecting;
};

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

static double
image_width (DepictImageView *self)
{
  return self->texture != NULL ? gdk_texture_get_width (self->texture) : 1;
}

static double
image_height (DepictImageView *self)
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
  return CLAMP (MIN (w / image_width (self), h / image_height (self)), MIN_SCALE, MAX_SCALE);
}

/* Keep the picture covering the widget when it is larger, centred when it is smaller. */
static void
clamp_centre (DepictImageView *self)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  double iw = image_width (self), ih = image_height (self);
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

static void
update_view (DepictImageView *self)
{
  if (self->fit)
    {
      self->scale = fit_scale (self);
      self->cx = image_width (self) / 2.0;
      self->cy = image_height (self) / 2.0;
    }
  clamp_centre (self);
}

void
depict_image_view_image_to_widget (DepictImageView *self, double ix, double iy, double *wx,
                                   double *wy)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));

  update_view (self);
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

  update_view (self);
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
set_rgba (GdkRGBA *c, const float rgb[3], float alpha)
{
  c->red = rgb[0];
  c->green = rgb[1];
  c->blue = rgb[2];
  c->alpha = alpha;
}

static void
append_frame (GtkSnapshot *snapshot, const graphene_rect_t *r, float width, const GdkRGBA *color)
{
  GskRoundedRect rr;
  float widths[4] = { width, width, width, width };
  GdkRGBA colors[4] = { *color, *color, *color, *color };

  gsk_rounded_rect_init_from_rect (&rr, r, 0);
  gtk_snapshot_append_border (snapshot, &rr, widths, colors);
}

/* A label chip: the label on a rounded rectangle of the item's colour, text black or
 * white, whichever reads better on it. Placed above (x, y) if there is room, else below. */
static void
append_chip (DepictImageView *self, GtkSnapshot *snapshot, const char *text, const float rgb[3],
             double x, double y, gboolean emphasised)
{
  g_autoptr (PangoLayout) layout = NULL;
  PangoRectangle ink, logical;
  GskRoundedRect rr;
  GdkRGBA bg, fg;
  double luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  double pad_x = 5, pad_y = 2;
  double w, h, width = gtk_widget_get_width (GTK_WIDGET (self));

  if (text == NULL || text[0] == '\0')
    return;

  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_width (layout, (int) (MIN (320, width) * PANGO_SCALE));
  pango_layout_set_single_paragraph_mode (layout, TRUE);
  pango_layout_get_pixel_extents (layout, &ink, &logical);
  w = logical.width + 2 * pad_x;
  h = logical.height + 2 * pad_y;

  y = y - h >= 0 ? y - h : y;
  x = CLAMP (x, 0, MAX (0, width - w));

  set_rgba (&bg, rgb, emphasised ? 1.0f : 0.9f);
  fg = luminance > 0.55 ? (GdkRGBA){ 0, 0, 0, 0.87f } : (GdkRGBA){ 1, 1, 1, 1 };

  gsk_rounded_rect_init_from_rect (&rr, &GRAPHENE_RECT_INIT (x, y, w, h), 4);
  gtk_snapshot_push_rounded_clip (snapshot, &rr);
  gtk_snapshot_append_color (snapshot, &bg, &rr.bounds);
  gtk_snapshot_pop (snapshot);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + pad_x, y + pad_y));
  gtk_snapshot_append_layout (snapshot, layout, &fg);
  gtk_snapshot_restore (snapshot);
}

static void
path_polygon (DepictImageView *self, cairo_t *cr, const float *xy, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      double wx, wy;

      depict_image_view_image_to_widget (self, xy[2 * i], xy[2 * i + 1], &wx, &wy);
      if (i == 0)
        cairo_move_to (cr, wx, wy);
      else
        cairo_line_to (cr, wx, wy);
    }
  cairo_close_path (cr);
}

/* Masks and text quads are arbitrary polygons: GTK 4.8 has no GskPath, so they are filled
 * with cairo into one node. */
static void
append_polygons (DepictImageView *self, GtkSnapshot *snapshot, int width, int height)
{
  cairo_t *cr = NULL;
  guint n = g_list_model_get_n_items (self->items);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (self->items, i);
      DepictOverlayKind kind = depict_overlay_item_get_kind (item);
      gboolean hovered = item == self->hover_item;
      float rgb[3];
      double fill_alpha;

      if (kind == DEPICT_OVERLAY_BOX || !item_visible (self, item))
        continue;
      if (cr == NULL)
        cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

      depict_overlay_item_get_color (item, rgb);
      cairo_new_path (cr);
      for (guint p = 0; p < depict_overlay_item_get_n_polygons (item); p++)
        {
          guint np;
          const float *xy = depict_overlay_item_get_polygon (item, p, &np);

          if (np >= 2)
            path_polygon (self, cr, xy, np);
        }
      cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);
      if (kind == DEPICT_OVERLAY_MASK)
        fill_alpha = hovered ? 0.6 : 0.38;
      else
        fill_alpha = hovered ? 0.35 : 0.12;
      cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], fill_alpha);
      cairo_fill_preserve (cr);
      cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
      cairo_set_source_rgba (cr, 0, 0, 0, 0.45);
      cairo_set_line_width (cr, hovered ? 4.5 : 3.5);
      cairo_stroke_preserve (cr);
      cairo_set_source_rgba (cr, rgb[0], rgb[1], rgb[2], 1.0);
      cairo_set_line_width (cr, hovered ? 2.5 : 1.5);
      cairo_stroke (cr);
    }
  if (cr != NULL)
    cairo_destroy (cr);
}

static void
append_boxes_and_chips (DepictImageView *self, GtkSnapshot *snapshot)
{
  guint n = g_list_model_get_n_items (self->items);

  /* Frames first, chips on top of all frames; the hovered item last of all. */
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i <= n; i++)
      {
        g_autoptr (DepictOverlayItem) item = NULL;
        DepictOverlayKind kind;
        gboolean hovered;
        double x1, y1, x2, y2;
        float bx, by, bw, bh, rgb[3];
        graphene_rect_t r;

        if (i < n)
          {
            item = g_list_model_get_item (self->items, i);
            if (item == self->hover_item)
              continue;
          }
        else if (self->hover_item != NULL)
          item = g_object_ref (self->hover_item);
        else
          continue;

        if (!item_visible (self, item))
          continue;
        kind = depict_overlay_item_get_kind (item);
        hovered = item == self->hover_item;
        depict_overlay_item_get_color (item, rgb);
        depict_overlay_item_get_bounds (item, &bx, &by, &bw, &bh);
        depict_image_view_image_to_widget (self, bx, by, &x1, &y1);
        depict_image_view_image_to_widget (self, bx + bw, by + bh, &x2, &y2);
        r = GRAPHENE_RECT_INIT (x1, y1, x2 - x1, y2 - y1);

        if (pass == 0 && kind == DEPICT_OVERLAY_BOX)
          {
            GdkRGBA c, shade = { 0, 0, 0, 0.45f };
            graphene_rect_t outer;

            if (hovered)
              {
                set_rgba (&c, rgb, 0.22f);
                gtk_snapshot_append_color (snapshot, &c, &r);
              }
            graphene_rect_inset_r (&r, -1, -1, &outer);
            append_frame (snapshot, &outer, hovered ? 4.5f : 3.5f, &shade);
            set_rgba (&c, rgb, 1.0f);
            append_frame (snapshot, &r, hovered ? 3.0f : 2.0f, &c);
          }
        else if (pass == 1)
          {
            /* Text regions show their text only when hovered (and in the tooltip). */
            if (kind == DEPICT_OVERLAY_TEXT && !hovered)
              continue;
            append_chip (self, snapshot, depict_overlay_item_get_label (item), rgb, x1, y1,
                         hovered);
          }
      }
}

static void
append_region (DepictImageView *self, GtkSnapshot *snapshot)
{
  GdkRGBA fill = { 0.21f, 0.52f, 0.89f, 0.18f };
  GdkRGBA white = { 1, 1, 1, 1 }, shade = { 0, 0, 0, 0.5f };
  double x1, y1, x2, y2;
  graphene_rect_t r, outer;

  depict_image_view_image_to_widget (self, self->region.origin.x, self->region.origin.y, &x1, &y1);
  depict_image_view_image_to_widget (self, self->region.origin.x + self->region.size.width,
                                     self->region.origin.y + self->region.size.height, &x2, &y2);
  r = GRAPHENE_RECT_INIT (x1, y1, x2 - x1, y2 - y1);
  gtk_snapshot_append_color (snapshot, &fill, &r);
  graphene_rect_inset_r (&r, -1, -1, &outer);
  append_frame (snapshot, &outer, 4, &shade);
  append_frame (snapshot, &r, 2, &white);
}

static void
depict_image_view_snapshot (GtkWidget *widget, GtkSnapshot *snapshot)
{
  DepictImageView *self = DEPICT_IMAGE_VIEW (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  double x1, y1, x2, y2;

  if (self->texture == NULL || width <= 0 || height <= 0)
    return;

  update_view (self);
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  depict_image_view_image_to_widget (self, 0, 0, &x1, &y1);
  depict_image_view_image_to_widget (self, image_width (self), image_height (self), &x2, &y2);
  gtk_snapshot_append_texture (snapshot, self->texture,
                               &GRAPHENE_RECT_INIT (x1, y1, x2 - x1, y2 - y1));

  if (self->items != NULL && g_list_model_get_n_items (self->items) > 0)
    {
      append_polygons (self, snapshot, width, height);
      append_boxes_and_chips (self, snapshot);
    }
  if (self->has_region)
    append_region (self, snapshot);

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

  update_view (self);
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
/* Input                                                                                    */

static void
zoom_around (DepictImageView *self, double new_scale, double wx, double wy)
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
  clamp_centre (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE]);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
update_cursor (DepictImageView *self)
{
  const char *name = NULL;
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  gboolean pannable;

  update_view (self);
  pannable =
    image_width (self) * self->scale > w + 0.5 || image_height (self) * self->scale > h + 0.5;
  if (self->texture == NULL)
    name = NULL;
  else if (self->region_mode)
    name = "crosshair";
  else if (self->dragging && pannable)
    name = "grabbing";
  else if (pannable)
    name = "grab";
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), name);
}

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, DepictImageView *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
  if (!self->dragging)
    depict_image_view_set_hover_item (self, depict_image_view_pick (self, x, y));
}

static void
leave_cb (GtkEventControllerMotion *motion, DepictImageView *self)
{
  self->pointer_inside = FALSE;
  depict_image_view_set_hover_item (self, NULL);
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll, double dx, double dy, DepictImageView *self)
{
  GdkModifierType state =
    gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));
  double wx, wy;

  if (self->texture == NULL)
    return FALSE;

  if (state & GDK_CONTROL_MASK)
    {
      wx = self->pointer_inside ? self->pointer_x : gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      wy = self->pointer_inside ? self->pointer_y : gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
      update_view (self);
      zoom_around (self, self->scale * pow (ZOOM_STEP, -dy), wx, wy);
      return TRUE;
    }

  /* Without Ctrl, scrolling pans a zoomed picture. */
  if (self->fit)
    return FALSE;
  self->cx += dx * 40 / self->scale;
  self->cy += dy * 40 / self->scale;
  clamp_centre (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

static void
zoom_begin_cb (GtkGesture *gesture, GdkEventSequence *sequence, DepictImageView *self)
{
  update_view (self);
  self->zoom_gesture_start_scale = self->scale;
}

static void
zoom_scale_changed_cb (GtkGestureZoom *gesture, double scale, DepictImageView *self)
{
  double x, y;

  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    {
      x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  zoom_around (self, self->zoom_gesture_start_scale * scale, x, y);
}

static void
clamp_region_point (DepictImageView *self, double *ix, double *iy)
{
  *ix = CLAMP (*ix, 0, image_width (self));
  *iy = CLAMP (*iy, 0, image_height (self));
}

static void
drag_begin_cb (GtkGestureDrag *drag, double x, double y, DepictImageView *self)
{
  if (self->texture == NULL)
    {
      gtk_gesture_set_state (GTK_GESTURE (drag), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  update_view (self);
  self->dragging = TRUE;
  self->drag_start_x = x;
  self->drag_start_y = y;
  self->drag_start_cx = self->cx;
  self->drag_start_cy = self->cy;
  if (self->region_mode)
    {
      self->selecting = TRUE;
      /* Then the arrow keys fine-tune what was dragged. */
      gtk_widget_grab_focus (GTK_WIDGET (self));
    }
  update_cursor (self);
}

static void
drag_update_cb (GtkGestureDrag *drag, double dx, double dy, DepictImageView *self)
{
  if (self->selecting)
    {
      double ax, ay, bx, by;

      depict_image_view_widget_to_image (self, self->drag_start_x, self->drag_start_y, &ax, &ay);
      depict_image_view_widget_to_image (self, self->drag_start_x + dx, self->drag_start_y + dy,
                                         &bx, &by);
      clamp_region_point (self, &ax, &ay);
      clamp_region_point (self, &bx, &by);
      self->region =
        GRAPHENE_RECT_INIT (MIN (ax, bx), MIN (ay, by), fabs (bx - ax), fabs (by - ay));
      if (!self->has_region)
        {
          self->has_region = TRUE;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_REGION]);
        }
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return;
    }
  if (self->fit)
    return;
  self->cx = self->drag_start_cx - dx / self->scale;
  self->cy = self->drag_start_cy - dy / self->scale;
  clamp_centre (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
drag_end_cb (GtkGestureDrag *drag, double dx, double dy, DepictImageView *self)
{
  self->dragging = FALSE;
  if (self->selecting)
    {
      self->selecting = FALSE;
      /* A click without a drag clears the selection. */
      if (self->has_region && (self->region.size.width < 2 || self->region.size.height < 2))
        {
          self->has_region = FALSE;
          gtk_widget_queue_draw (GTK_WIDGET (self));
        }
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_REGION]);
    }
  update_cursor (self);
}

/* Keyboard: in region mode the arrow keys choose the region without a pointer. */
static gboolean
key_pressed_cb (GtkEventControllerKey *controller, guint keyval, guint keycode,
                GdkModifierType state, DepictImageView *self)
{
  int dx = 0, dy = 0;

  if (!self->region_mode || self->texture == NULL ||
      (state & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0)
    return GDK_EVENT_PROPAGATE;
  switch (keyval)
    {
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      dx = -1;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      dx = 1;
      break;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      dy = -1;
      break;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      dy = 1;
      break;
    case GDK_KEY_Delete:
    case GDK_KEY_BackSpace:
    case GDK_KEY_Escape:
      if (!self->has_region)
        return GDK_EVENT_PROPAGATE;
      depict_image_view_set_region (self, NULL);
      return GDK_EVENT_STOP;
    default:
      return GDK_EVENT_PROPAGATE;
    }
  depict_image_view_nudge_region (self, dx, dy, (state & GDK_SHIFT_MASK) != 0);
  return GDK_EVENT_STOP;
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
      g_value_set_boolean (value, self->region_mode);
      break;
    case PROP_HAS_REGION:
      g_value_set_boolean (value, self->has_region);
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
  GtkEventController *controller;
  GtkGesture *gesture;

  self->fit = TRUE;
  self->scale = 1.0;
  self->layers = DEPICT_LAYER_ALL;

  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_widget_set_focusable (GTK_WIDGET (self), FALSE);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (controller, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES |
                                                GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (controller, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_zoom_new ();
  g_signal_connect (gesture, "begin", G_CALLBACK (zoom_begin_cb), self);
  g_signal_connect (gesture, "scale-changed", G_CALLBACK (zoom_scale_changed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_PRIMARY);
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (gesture, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));
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
  self->has_region = FALSE;
  update_view (self);
  update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_REGION]);
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
  update_view (self);
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
  update_view (self);
  zoom_around (self, scale, gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
               gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
  update_cursor (self);
}

void
depict_image_view_zoom_in (DepictImageView *self)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));
  update_view (self);
  zoom_at_centre (self, self->scale * ZOOM_STEP);
}

void
depict_image_view_zoom_out (DepictImageView *self)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));
  update_view (self);
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
  update_view (self);
  update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SCALE]);
}

gboolean
depict_image_view_get_region_mode (DepictImageView *self)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), FALSE);
  return self->region_mode;
}

void
depict_image_view_set_region_mode (DepictImageView *self, gboolean region_mode)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));

  region_mode = !!region_mode;
  if (self->region_mode == region_mode)
    return;
  self->region_mode = region_mode;
  /* Focusable (a Tab stop) only when the arrow keys have something to do. */
  gtk_widget_set_focusable (GTK_WIDGET (self), region_mode);
  if (region_mode)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                    _ ("The arrow keys place and move the region, Shift and the "
                                       "arrow keys resize it, Delete or Escape clears it"),
                                    -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
  if (!region_mode && self->has_region)
    {
      self->has_region = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_REGION]);
    }
  update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGION_MODE]);
}

gboolean
depict_image_view_get_region (DepictImageView *self, graphene_rect_t *region)
{
  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), FALSE);

  if (region != NULL && self->has_region)
    *region = self->region;
  return self->has_region;
}

void
depict_image_view_set_region (DepictImageView *self, const graphene_rect_t *region)
{
  g_return_if_fail (DEPICT_IS_IMAGE_VIEW (self));

  self->has_region = region != NULL;
  if (region != NULL)
    self->region = *region;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_REGION]);
}

/* Moves the region by one step (a fiftieth of the photo, at least a pixel) along DX, DY
 * (-1, 0 or 1 each), or with RESIZE moves its right and bottom edges instead. Without a
 * region, the first step places one over the middle half of the photo. Stays within the
 * photo; FALSE when there is no photo or not in region mode. */
gboolean
depict_image_view_nudge_region (DepictImageView *self, int dx, int dy, gboolean resize)
{
  double w, h, step_x, step_y;
  graphene_rect_t r;

  g_return_val_if_fail (DEPICT_IS_IMAGE_VIEW (self), FALSE);

  if (!self->region_mode || self->texture == NULL)
    return FALSE;
  w = image_width (self);
  h = image_height (self);
  if (!self->has_region)
    {
      r = GRAPHENE_RECT_INIT (round (w / 4), round (h / 4), round (w / 2), round (h / 2));
      depict_image_view_set_region (self, &r);
      return TRUE;
    }
  step_x = MAX (1, round (w / 50));
  step_y = MAX (1, round (h / 50));
  r = self->region;
  if (resize)
    {
      r.size.width = CLAMP (r.size.width + dx * step_x, MIN (step_x, w), w - r.origin.x);
      r.size.height = CLAMP (r.size.height + dy * step_y, MIN (step_y, h), h - r.origin.y);
    }
  else
    {
      r.origin.x = CLAMP (r.origin.x + dx * step_x, 0, w - r.size.width);
      r.origin.y = CLAMP (r.origin.y + dy * step_y, 0, h - r.size.height);
    }
  depict_image_view_set_region (self, &r);
  return TRUE;
}
