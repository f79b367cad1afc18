/* depict-overlay-painter.c
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-overlay-painter"

#include "config.h"

#include "depict-overlay-painter.h"

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
append_chip (GtkWidget *widget, GtkSnapshot *snapshot, const char *text, const float rgb[3],
             double x, double y, gboolean emphasised)
{
  g_autoptr (PangoLayout) layout = NULL;
  PangoRectangle ink, logical;
  GskRoundedRect rr;
  GdkRGBA bg, fg;
  double luminance = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
  double pad_x = 5, pad_y = 2;
  double w, h, width = gtk_widget_get_width (widget);

  if (text == NULL || text[0] == '\0')
    return;

  layout = gtk_widget_create_pango_layout (widget, text);
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

static void
append_boxes_and_chips (GtkWidget *widget, GtkSnapshot *snapshot, GListModel *items, guint layers,
                        DepictOverlayItem *hover, const DepictViewTransform *t)
{
  guint n = g_list_model_get_n_items (items);

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
        kind = depict_overlay_item_get_kind (item);
        hovered = item == hover;
        depict_overlay_item_get_color (item, rgb);
        depict_overlay_item_get_bounds (item, &bx, &by, &bw, &bh);
        to_widget (t, bx, by, &x1, &y1);
        to_widget (t, bx + bw, by + bh, &x2, &y2);
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
            append_chip (widget, snapshot, depict_overlay_item_get_label (item), rgb, x1, y1,
                         hovered);
          }
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
