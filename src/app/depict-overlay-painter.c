/* depict-overlay-painter.c
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-overlay-painter"

#include "config.h"

#include <math.h>

#include "depict-overlay-painter.h"

#define CHIP_PAD_X 5.0
#define CHIP_PAD_Y 2.0
#define CHIP_MAX_WIDTH 320.0

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

/* ---------------------------------------------------------------------------------------- */
/* Label chips: colours                                                                     */

static double
linear (double c)
{
  return c <= 0.04045 ? c / 12.92 : pow ((c + 0.055) / 1.055, 2.4);
}

static double
relative_luminance (const GdkRGBA *c)
{
  return 0.2126 * linear (c->red) + 0.7152 * linear (c->green) + 0.0722 * linear (c->blue);
}

double
depict_overlay_contrast_ratio (const GdkRGBA *a, const GdkRGBA *b)
{
  double la = relative_luminance (a), lb = relative_luminance (b);

  return (MAX (la, lb) + 0.05) / (MIN (la, lb) + 0.05);
}

void
depict_overlay_painter_chip_colors (const float rgb[3], GdkRGBA *fill, GdkRGBA *text)
{
  static const GdkRGBA black = { 0, 0, 0, 1 }, white = { 1, 1, 1, 1 };

  /* Opaque, so that the photo below never lowers the contrast. */
  set_rgba (fill, rgb, 1.0f);
  *text =
    depict_overlay_contrast_ratio (fill, &black) >= depict_overlay_contrast_ratio (fill, &white)
      ? black
      : white;
}

/* ---------------------------------------------------------------------------------------- */
/* Label chips: places                                                                      */

#define CHIP_GAP 2.0

static gboolean
inside (const graphene_rect_t *r, const graphene_rect_t *bounds)
{
  return r->origin.x >= bounds->origin.x - 0.01 && r->origin.y >= bounds->origin.y - 0.01 &&
         r->origin.x + r->size.width <= bounds->origin.x + bounds->size.width + 0.01 &&
         r->origin.y + r->size.height <= bounds->origin.y + bounds->size.height + 0.01;
}

static gboolean
overlaps (const graphene_rect_t *r, const graphene_rect_t *placed, const gboolean *ok, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      graphene_rect_t grown;

      if (!ok[i])
        continue;
      graphene_rect_inset_r (&placed[i], -CHIP_GAP / 2, -CHIP_GAP / 2, &grown);
      if (grown.origin.x < r->origin.x + r->size.width &&
          r->origin.x < grown.origin.x + grown.size.width &&
          grown.origin.y < r->origin.y + r->size.height &&
          r->origin.y < grown.origin.y + grown.size.height)
        return TRUE;
    }
  return FALSE;
}

void
depict_overlay_painter_place_labels (const DepictLabelRequest *requests, guint n,
                                     const graphene_rect_t *bounds, graphene_rect_t *out,
                                     gboolean *placed)
{
  g_return_if_fail (n == 0 || (requests != NULL && bounds != NULL && out != NULL));

  for (guint i = 0; i < n; i++)
    {
      const DepictLabelRequest *req = &requests[i];
      const graphene_rect_t *a = &req->anchor;
      double w = MIN (req->width, bounds->size.width), h = req->height;
      double left = a->origin.x, right = a->origin.x + a->size.width - w;
      double top = a->origin.y, bottom = a->origin.y + a->size.height;
      const double ys[] = { top - h, top, bottom, bottom - h };
      const double xs[] = { left, right, a->origin.x + (a->size.width - w) / 2 };
      gboolean found = FALSE;

      placed[i] = FALSE;
      for (guint yi = 0; yi < G_N_ELEMENTS (ys) && !found; yi++)
        for (guint xi = 0; xi < G_N_ELEMENTS (xs) && !found; xi++)
          {
            graphene_rect_t r = GRAPHENE_RECT_INIT (xs[xi], ys[yi], w, h);

            /* A chip may slide along its edge to stay on the photo, never off its box. */
            r.origin.x =
              CLAMP (r.origin.x, bounds->origin.x, bounds->origin.x + bounds->size.width - w);
            if (!inside (&r, bounds) || r.origin.x + w < a->origin.x ||
                r.origin.x > a->origin.x + a->size.width)
              continue;
            if (!req->always && overlaps (&r, out, placed, i))
              continue;
            out[i] = r;
            found = TRUE;
          }
      if (!found && req->always)
        {
          /* On top of the others, still on the photo. */
          out[i] = GRAPHENE_RECT_INIT (
            CLAMP (left, bounds->origin.x, bounds->origin.x + bounds->size.width - w),
            CLAMP (top - h, bounds->origin.y,
                   MAX (bounds->origin.y, bounds->origin.y + bounds->size.height - h)),
            w, h);
          found = TRUE;
        }
      placed[i] = found;
    }
}

static PangoLayout *
chip_layout (GtkWidget *widget, const char *text, double max_width, double *w, double *h)
{
  PangoLayout *layout = gtk_widget_create_pango_layout (widget, text);
  PangoRectangle ink, logical;

  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_width (layout, (int) (MAX (1, max_width - 2 * CHIP_PAD_X) * PANGO_SCALE));
  pango_layout_set_single_paragraph_mode (layout, TRUE);
  pango_layout_get_pixel_extents (layout, &ink, &logical);
  *w = logical.width + 2 * CHIP_PAD_X;
  *h = logical.height + 2 * CHIP_PAD_Y;
  return layout;
}

/* A label chip: the label on an opaque rounded rectangle of the item's colour, with a dark
 * hairline that sets it off from the photo. */
static void
append_chip (GtkSnapshot *snapshot, PangoLayout *layout, const float rgb[3],
             const graphene_rect_t *r)
{
  GskRoundedRect rr;
  GdkRGBA fill, text, line = { 0, 0, 0, 0.55f };
  float widths[4] = { 1, 1, 1, 1 };
  GdkRGBA lines[4] = { line, line, line, line };

  depict_overlay_painter_chip_colors (rgb, &fill, &text);
  gsk_rounded_rect_init_from_rect (&rr, r, 4);
  gtk_snapshot_push_rounded_clip (snapshot, &rr);
  gtk_snapshot_append_color (snapshot, &fill, &rr.bounds);
  gtk_snapshot_pop (snapshot);
  gtk_snapshot_append_border (snapshot, &rr, widths, lines);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (
    snapshot, &GRAPHENE_POINT_INIT (r->origin.x + CHIP_PAD_X, r->origin.y + CHIP_PAD_Y));
  gtk_snapshot_append_layout (snapshot, layout, &text);
  gtk_snapshot_restore (snapshot);
}

static void
to_widget (const DepictViewTransform *t, double ix, double iy, double *wx, double *wy)
{
  *wx = t->origin_x + t->scale * ix;
  *wy = t->origin_y + t->scale * iy;
}

static void
path_polygon (const DepictViewTransform *t, cairo_t *cr, const float *xy, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      double wx, wy;

      to_widget (t, xy[2 * i], xy[2 * i + 1], &wx, &wy);
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
append_polygons (GtkSnapshot *snapshot, int width, int height, GListModel *items, guint layers,
                 DepictOverlayItem *hover, const DepictViewTransform *t)
{
  cairo_t *cr = NULL;
  guint n = g_list_model_get_n_items (items);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (items, i);
      DepictOverlayKind kind = depict_overlay_item_get_kind (item);
      gboolean hovered = item == hover;
      float rgb[3];
      double fill_alpha;

      if (kind == DEPICT_OVERLAY_BOX || (depict_overlay_item_get_layer (item) & layers) == 0)
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
            path_polygon (t, cr, xy, np);
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

/* The photo's part that shows, less a margin: where labels may go. */
static graphene_rect_t
label_bounds (GtkWidget *widget, const DepictViewTransform *t)
{
  double x1, y1, x2, y2;
  graphene_rect_t photo, view, both;

  to_widget (t, 0, 0, &x1, &y1);
  to_widget (t, t->image_width, t->image_height, &x2, &y2);
  photo = GRAPHENE_RECT_INIT (x1, y1, x2 - x1, y2 - y1);
  view = GRAPHENE_RECT_INIT (0, 0, gtk_widget_get_width (widget), gtk_widget_get_height (widget));
  if (!graphene_rect_intersection (&photo, &view, &both))
    return GRAPHENE_RECT_INIT (0, 0, 0, 0);
  graphene_rect_inset (&both, 2, 2);
  return both;
}

static void
append_boxes_and_chips (GtkWidget *widget, GtkSnapshot *snapshot, GListModel *items, guint layers,
                        DepictOverlayItem *hover, const DepictViewTransform *t)
{
  guint n = g_list_model_get_n_items (items);
  g_autoptr (GPtrArray) labelled = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) layouts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree DepictLabelRequest *requests = NULL;
  g_autofree graphene_rect_t *places = NULL;
  g_autofree gboolean *placed = NULL;
  graphene_rect_t bounds = label_bounds (widget, t);

  /* Frames first, the hovered one last; then the chips over every frame. */
  for (guint i = 0; i <= n; i++)
    {
      g_autoptr (DepictOverlayItem) item = NULL;
      gboolean hovered;
      double x1, y1, x2, y2;
      float bx, by, bw, bh, rgb[3];
      graphene_rect_t r;

      if (i < n)
        {
          item = g_list_model_get_item (items, i);
          if (item == hover)
            continue;
        }
      else if (hover != NULL)
        item = g_object_ref (hover);
      else
        continue;

      if ((depict_overlay_item_get_layer (item) & layers) == 0)
        continue;
      hovered = item == hover;
      /* Text regions show their text only when hovered (and in the tooltip). */
      if (depict_overlay_item_get_label (item)[0] != '\0' &&
          (depict_overlay_item_get_kind (item) != DEPICT_OVERLAY_TEXT || hovered))
        g_ptr_array_add (labelled, g_object_ref (item));
      if (depict_overlay_item_get_kind (item) != DEPICT_OVERLAY_BOX)
        continue;

      depict_overlay_item_get_color (item, rgb);
      depict_overlay_item_get_bounds (item, &bx, &by, &bw, &bh);
      to_widget (t, bx, by, &x1, &y1);
      to_widget (t, bx + bw, by + bh, &x2, &y2);
      r = GRAPHENE_RECT_INIT (x1, y1, x2 - x1, y2 - y1);
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
    }

  if (labelled->len == 0 || bounds.size.width <= 0 || bounds.size.height <= 0)
    return;
  requests = g_new0 (DepictLabelRequest, labelled->len);
  places = g_new0 (graphene_rect_t, labelled->len);
  placed = g_new0 (gboolean, labelled->len);
  for (guint i = 0; i < labelled->len; i++)
    {
      DepictOverlayItem *item = g_ptr_array_index (labelled, i);
      float bx, by, bw, bh;
      double x1, y1, x2, y2;

      depict_overlay_item_get_bounds (item, &bx, &by, &bw, &bh);
      to_widget (t, bx, by, &x1, &y1);
      to_widget (t, bx + bw, by + bh, &x2, &y2);
      requests[i].anchor = GRAPHENE_RECT_INIT (x1, y1, x2 - x1, y2 - y1);
      requests[i].always = item == hover;
      g_ptr_array_add (layouts, chip_layout (widget, depict_overlay_item_get_label (item),
                                             MIN (CHIP_MAX_WIDTH, bounds.size.width),
                                             &requests[i].width, &requests[i].height));
    }
  depict_overlay_painter_place_labels (requests, labelled->len, &bounds, places, placed);
  for (guint i = 0; i < labelled->len; i++)
    {
      float rgb[3];

      if (!placed[i])
        continue;
      depict_overlay_item_get_color (g_ptr_array_index (labelled, i), rgb);
      append_chip (snapshot, g_ptr_array_index (layouts, i), rgb, &places[i]);
    }
}

void
depict_overlay_painter_append_region (GtkSnapshot *snapshot, const graphene_rect_t *region,
                                      const DepictViewTransform *transform)
{
  GdkRGBA fill = { 0.21f, 0.52f, 0.89f, 0.18f };
  GdkRGBA white = { 1, 1, 1, 1 }, shade = { 0, 0, 0, 0.5f };
  double x1, y1, x2, y2;
  graphene_rect_t r, outer;

  to_widget (transform, region->origin.x, region->origin.y, &x1, &y1);
  to_widget (transform, region->origin.x + region->size.width,
             region->origin.y + region->size.height, &x2, &y2);
  r = GRAPHENE_RECT_INIT (x1, y1, x2 - x1, y2 - y1);
  gtk_snapshot_append_color (snapshot, &fill, &r);
  graphene_rect_inset_r (&r, -1, -1, &outer);
  append_frame (snapshot, &outer, 4, &shade);
  append_frame (snapshot, &r, 2, &white);
}

void
depict_overlay_painter_append_items (GtkWidget *widget, GtkSnapshot *snapshot, GListModel *items,
                                     guint layers, DepictOverlayItem *hover,
                                     const DepictViewTransform *transform)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (transform != NULL);

  if (items == NULL || g_list_model_get_n_items (items) == 0)
    return;
  append_polygons (snapshot, gtk_widget_get_width (widget), gtk_widget_get_height (widget), items,
                   layers, hover, transform);
  append_boxes_and_chips (widget, snapshot, items, layers, hover, transform);
}
