/* gallery-result.h: what the gallery indexes from a result (captions, OCR text, labels, tags)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "gallery/gallery-store.h"

G_BEGIN_DECLS

/* The searchable text of one result, in the shared result schema
 * ({"<TASK>": "text"} or {"<TASK>": {"bboxes": …, "labels": […]}}). Special tokens
 * (<loc_N>, </s>, …) are removed. */
typedef struct {
  char *caption;   /* captions and region descriptions, "" when none */
  char *ocr;       /* recognized text, "" when none */
  char *labels;    /* object labels / phrases, "; "-separated, "" when none */
  GPtrArray *tags; /* GalleryTag proposed by the result (label or grounding source) */
} GalleryResultText;

/* task may be NULL: the key of the result object is used. Never fails: unknown shapes give
 * empty fields. */
GalleryResultText *gallery_result_extract (const char *task, JsonNode *result);
void gallery_result_text_free (GalleryResultText *text);

/* Removes special tokens (<loc_N>, <s>, </s>, <pad>, <poly>, …) and collapses white space. */
char *gallery_result_strip_tokens (const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryResultText, gallery_result_text_free)

G_END_DECLS
