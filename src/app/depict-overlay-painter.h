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
} DepictViewTransform;

/* The visible ITEMS (their layer in LAYERS) of WIDGET's photo, HOVER emphasised. */
void depict_overlay_painter_append_items (GtkWidget *widget, GtkSnapshot *snapshot,
                                          GListModel *items, guint layers, DepictOverlayItem *hover,
                                          const DepictViewTransform *transform);
/* The chosen REGION (image pixels). */
void depict_overlay_painter_append_region (GtkSnapshot *snapshot, const graphene_rect_t *region,
                                           const DepictViewTransform *transform);

G_END_DECLS
