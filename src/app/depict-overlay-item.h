/* depict-overlay-item.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "florence/text/florence-result.h"

G_BEGIN_DECLS

typedef enum {
  DEPICT_OVERLAY_BOX,  /* an axis-aligned box (object detection, grounding) */
  DEPICT_OVERLAY_MASK, /* one or more filled polygons (segmentation) */
  DEPICT_OVERLAY_TEXT, /* a quadrilateral with its text (OCR with regions) */
} DepictOverlayKind;

typedef enum {
  DEPICT_LAYER_BOXES = 1 << 0,
  DEPICT_LAYER_MASKS = 1 << 1,
  DEPICT_LAYER_TEXT = 1 << 2,
  DEPICT_LAYER_ALL = 0x7,
} DepictLayers;

#define DEPICT_TYPE_OVERLAY_ITEM (depict_overlay_item_get_type ())

G_DECLARE_FINAL_TYPE (DepictOverlayItem, depict_overlay_item, DEPICT, OVERLAY_ITEM, GObject)

DepictOverlayItem *depict_overlay_item_new_box (const char *label, float x1, float y1, float x2,
                                                float y2);
DepictOverlayItem *depict_overlay_item_new_polygon (DepictOverlayKind kind, const char *label);
void depict_overlay_item_add_polygon (DepictOverlayItem *self, const float *xy, guint n_points);
DepictOverlayKind depict_overlay_item_get_kind (DepictOverlayItem *self);
DepictLayers depict_overlay_item_get_layer (DepictOverlayItem *self);
const char *depict_overlay_item_get_label (DepictOverlayItem *self);
guint depict_overlay_item_get_index (DepictOverlayItem *self);
guint depict_overlay_item_get_n_polygons (DepictOverlayItem *self);
const float *depict_overlay_item_get_polygon (DepictOverlayItem *self, guint i, guint *n_points);
void depict_overlay_item_get_bounds (DepictOverlayItem *self, float *x, float *y, float *width,
                                     float *height);
gboolean depict_overlay_item_contains (DepictOverlayItem *self, float x, float y);
void depict_overlay_item_get_color (DepictOverlayItem *self, float rgb[3]);
char *depict_overlay_item_describe (DepictOverlayItem *self);

void depict_overlay_item_set_index (DepictOverlayItem *self, guint index);
void depict_overlay_color_for_label (const char *label, guint fallback_index, float rgb[3]);

/* Every box, mask and text region of a result, numbered in order (text lines, boxes,
 * masks). Text-only results give an empty list. */
GListStore *depict_overlay_items_from_result (const FlorenceResult *result);
/* What a result says in words: the text of text results, the lines of OCR with regions
 * (one per line); NULL for the other kinds. */
char *depict_overlay_result_dup_text (const FlorenceResult *result);

G_END_DECLS
