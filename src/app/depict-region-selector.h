/* depict-region-selector.h: the region a person chooses on the photo for a region task
 *
 * Dragged with the pointer, or placed, moved and resized with the arrow keys (Delete,
 * BackSpace or Escape clear it), always inside the photo. It works in image pixels: the
 * image view turns pointer positions into image pixels for it, draws the region it holds
 * (depict-overlay-painter.h) and asks it what a key does.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DEPICT_TYPE_REGION_SELECTOR (depict_region_selector_get_type ())

G_DECLARE_FINAL_TYPE (DepictRegionSelector, depict_region_selector, DEPICT, REGION_SELECTOR,
                      GObject)

DepictRegionSelector *depict_region_selector_new (void);

/* The photo's size in pixels (0 × 0: no photo). A new size clears the region. */
void depict_region_selector_set_image_size (DepictRegionSelector *self, double width,
                                            double height);

/* Whether a region is asked for (a region task is chosen). Leaving clears the region. */
gboolean depict_region_selector_get_active (DepictRegionSelector *self);
void depict_region_selector_set_active (DepictRegionSelector *self, gboolean active);

gboolean depict_region_selector_get_region (DepictRegionSelector *self, graphene_rect_t *region);
void depict_region_selector_set_region (DepictRegionSelector *self, const graphene_rect_t *region);

/* Moves the region by one step (a fiftieth of the photo, at least a pixel) along DX, DY (-1, 0
 * or 1 each), or with RESIZE its right and bottom edges. Without a region, the first step
 * places one over the middle half of the photo. FALSE when inactive or without a photo. */
gboolean depict_region_selector_nudge (DepictRegionSelector *self, int dx, int dy, gboolean resize);
/* A key pressed on the photo: TRUE when it moved, resized or cleared the region. */
gboolean depict_region_selector_key (DepictRegionSelector *self, guint keyval,
                                     GdkModifierType state);

/* A pointer drag from (X0, Y0) to (X, Y), in image pixels: the region between the two points,
 * clamped to the photo. A click without a drag clears it at the end. */
void depict_region_selector_drag_begin (DepictRegionSelector *self);
void depict_region_selector_drag_update (DepictRegionSelector *self, double x0, double y0, double x,
                                         double y);
void depict_region_selector_drag_end (DepictRegionSelector *self);
gboolean depict_region_selector_get_dragging (DepictRegionSelector *self);

G_END_DECLS
