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
char *depict_overlay_item_describe (DepictOverlayItem *self);

void depict_overlay_item_set_index (DepictOverlayItem *self, guint index);
/* A label for an item the model gave none (a mask of "the wizard": the text asked). */
void depict_overlay_item_set_label (DepictOverlayItem *self, const char *label);

/* Colours: an index into a palette of DEPICT_OVERLAY_N_COLORS colours that are told apart at
 * a glance (it wraps around beyond them). */
#define DEPICT_OVERLAY_N_COLORS 12
void depict_overlay_palette_color (guint index, float rgb[3]);
guint depict_overlay_item_get_color_index (DepictOverlayItem *self);
void depict_overlay_item_set_color_index (DepictOverlayItem *self, guint color_index);
void depict_overlay_item_get_color (DepictOverlayItem *self, float rgb[3]);

/* How much of the photo (WIDTH × HEIGHT) the item covers, 0–1; < 0 until the size is set. */
void depict_overlay_item_set_image_size (DepictOverlayItem *self, int width, int height);
double depict_overlay_item_get_share (DepictOverlayItem *self);
/* The model's confidence in the item, 0–1; < 0 when it gave none. */
void depict_overlay_item_set_score (DepictOverlayItem *self, double score);
double depict_overlay_item_get_score (DepictOverlayItem *self);
/* "Confidence 94 % · 12 % of the photo", or what of it is known; NULL when nothing is. */
char *depict_overlay_item_dup_details (DepictOverlayItem *self);

/* Every box, mask and text region of a result, numbered in order (text lines, boxes,
 * masks), each with its share of the photo. Items of one label share a colour, and the
 * first twelve labels (in the order they appear) each have their own; items without a
 * label and text lines each take the next colour. Text-only results give an empty list. */
GListStore *depict_overlay_items_from_result (const FlorenceResult *result);
/* What a result says in words: the text of text results, the lines of OCR with regions
 * (one per line); NULL for the other kinds. */
char *depict_overlay_result_dup_text (const FlorenceResult *result);

G_END_DECLS
