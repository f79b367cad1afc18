/* gallery-result.h: the gallery's one reader of stored results, and what it indexes of them
 * (captions, OCR text, labels, tags)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "florence/text/florence-result.h"
#include "gallery/gallery-tag.h"

G_BEGIN_DECLS

/* The typed result of a stored run, read by florence-result's one reader: the Depict form
 * (florence_result_to_json_node(), of any version it reads) or, in rows of early galleries,
 * the reference's {"<TASK>": answer} (then of image_width × image_height). The gallery writes
 * results with florence_result_to_json_node() only. */
FlorenceResult *gallery_result_read (const char *task, JsonNode *stored, int image_width,
                                     int image_height, GError **error);

/* The searchable text of one result. Special tokens (<loc_N>, </s>, …) are removed. What
 * goes where follows the task table's index kind (florence-task.h). */
typedef struct {
  char *caption;   /* captions and region descriptions, "" when none */
  char *ocr;       /* recognized text, "" when none */
  char *labels;    /* object labels / phrases, "; "-separated, "" when none */
  GPtrArray *tags; /* GalleryTag proposed by the result (label or grounding source) */
} GalleryResultText;

/* Of a typed result (NULL: empty fields); task NULL: the result's own. */
GalleryResultText *gallery_result_text_new (const char *task, const FlorenceResult *result);
/* Of a stored result (gallery_result_read()); task may be NULL. Never fails: a result that
 * cannot be read gives empty fields. */
GalleryResultText *gallery_result_extract (const char *task, JsonNode *result);
void gallery_result_text_free (GalleryResultText *text);

/* Removes special tokens (<loc_N>, <s>, </s>, <pad>, <poly>, …) and collapses white space. */
char *gallery_result_strip_tokens (const char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryResultText, gallery_result_text_free)

G_END_DECLS
