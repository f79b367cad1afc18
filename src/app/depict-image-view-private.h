/* depict-image-view-private.h: what depict-image-view.c and depict-image-view-input.c share
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "depict-image-view.h"
#include "depict-region-selector.h"

G_BEGIN_DECLS

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

  DepictRegionSelector *region; /* for region tasks */
};

/* The photo's size (1 × 1 without one). */
double _depict_image_view_image_width (DepictImageView *self);
double _depict_image_view_image_height (DepictImageView *self);
/* Scale and centre for the widget's size (fitted, or kept within the photo). */
void _depict_image_view_update_view (DepictImageView *self);
void _depict_image_view_clamp_centre (DepictImageView *self);
/* Zooms to NEW_SCALE keeping the image point under (WX, WY) where it is. */
void _depict_image_view_zoom_around (DepictImageView *self, double new_scale, double wx, double wy);
void _depict_image_view_update_cursor (DepictImageView *self);

/* depict-image-view-input.c: pointer, scroll, pinch, drag and keys */
void _depict_image_view_input_init (DepictImageView *self);

G_END_DECLS
