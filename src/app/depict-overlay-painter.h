/* depict-overlay-painter.h: how answers and the chosen region are drawn over the photo
 *
 * Boxes as framed rectangles with a label chip, masks and text regions as filled polygons,
 * the hovered item emphasised and drawn last; the region of a region task as a shaded frame.
 * Everything is given in image pixels and placed through the view's transform, so that the
 * drawing stays on the photo at every zoom level and window size.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "depict-overlay-item.h"

G_BEGIN_DECLS

/* Image pixels to widget pixels: (x, y) ↦ (origin_x + scale · x, origin_y + scale · y). */
typedef struct {
  double scale;
  double origin_x, origin_y;
  double image_width, image_height; /* the photo's size, image pixels */
} DepictViewTransform;

/* WCAG 2 contrast ratio of two opaque colours (1–21). */
double depict_overlay_contrast_ratio (const GdkRGBA *a, const GdkRGBA *b);
/* A label chip's fill for an item of colour RGB and its text colour: black or white,
 * whichever has the higher contrast on the fill (4.5:1 at least for every palette colour). */
void depict_overlay_painter_chip_colors (const float rgb[3], GdkRGBA *fill, GdkRGBA *text);

/* Where labels go: each chip (WIDTH × HEIGHT) beside or inside its ANCHOR (the item's bounds,
 * widget pixels), inside BOUNDS (the photo's visible part), never over a chip placed before
 * it; the first that fits of above, inside the top, below and inside the bottom, at the
 * left, right or middle. */
typedef struct {
  graphene_rect_t anchor;
  double width, height;
  gboolean always; /* placed even over others (the hovered item, drawn last) */
} DepictLabelRequest;

/* OUT[i]: where request i's chip goes; PLACED[i] FALSE where no free place was left (the
 * label then shows on hover and in the list only). */
void depict_overlay_painter_place_labels (const DepictLabelRequest *requests, guint n,
                                          const graphene_rect_t *bounds, graphene_rect_t *out,
                                          gboolean *placed);

/* The visible ITEMS (their layer in LAYERS) of WIDGET's photo, HOVER emphasised. */
void depict_overlay_painter_append_items (GtkWidget *widget, GtkSnapshot *snapshot,
                                          GListModel *items, guint layers, DepictOverlayItem *hover,
                                          const DepictViewTransform *transform);
/* The chosen REGION (image pixels). */
void depict_overlay_painter_append_region (GtkSnapshot *snapshot, const graphene_rect_t *region,
                                           const DepictViewTransform *transform);

G_END_DECLS
