/* depict-image-view.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "depict-overlay-item.h"

G_BEGIN_DECLS

#define DEPICT_TYPE_IMAGE_VIEW (depict_image_view_get_type ())

G_DECLARE_FINAL_TYPE (DepictImageView, depict_image_view, DEPICT, IMAGE_VIEW, GtkWidget)

GtkWidget *depict_image_view_new (void);
GdkTexture *depict_image_view_get_texture (DepictImageView *self);
void depict_image_view_set_texture (DepictImageView *self, GdkTexture *texture);
GListModel *depict_image_view_get_items (DepictImageView *self);
void depict_image_view_set_items (DepictImageView *self, GListModel *items);
DepictOverlayItem *depict_image_view_get_hover_item (DepictImageView *self);
void depict_image_view_set_hover_item (DepictImageView *self, DepictOverlayItem *item);
guint depict_image_view_get_layers (DepictImageView *self);
void depict_image_view_set_layers (DepictImageView *self, guint layers);
double depict_image_view_get_scale (DepictImageView *self);
gboolean depict_image_view_get_fit (DepictImageView *self);
void depict_image_view_zoom_in (DepictImageView *self);
void depict_image_view_zoom_out (DepictImageView *self);
void depict_image_view_zoom_to_fit (DepictImageView *self);
void depict_image_view_zoom_to (DepictImageView *self, double scale);
gboolean depict_image_view_get_region_mode (DepictImageView *self);
void depict_image_view_set_region_mode (DepictImageView *self, gboolean region_mode);
gboolean depict_image_view_get_region (DepictImageView *self, graphene_rect_t *region);
void depict_image_view_set_region (DepictImageView *self, const graphene_rect_t *region);
gboolean depict_image_view_nudge_region (DepictImageView *self, int dx, int dy, gboolean resize);
void depict_image_view_image_to_widget (DepictImageView *self, double ix, double iy, double *wx,
                                        double *wy);
void depict_image_view_widget_to_image (DepictImageView *self, double wx, double wy, double *ix,
                                        double *iy);
DepictOverlayItem *depict_image_view_pick (DepictImageView *self, double wx, double wy);

G_END_DECLS
