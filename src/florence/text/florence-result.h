/* florence-result.h: the typed result of one Florence-2 task, and its JSON form
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A FlorenceResult is what post-processing (florence-postprocess.h) makes of the generated
 * text: coordinates are in pixels of the ORIGINAL image (bin centres, float32 exactly as
 * the reference computes them), in the order the model produced them, with no clamping
 * and no reordering (x1 > x2 can happen).
 *
 * Kinds and the fields they use:
 *
 *   kind                 | fields                          | tasks
 *   ---------------------+---------------------------------+--------------------------------
 *   TEXT                 | text                            | captions, <OCR>, region questions
 *   BOXES                | boxes, box_labels               | <OD>, <DENSE_REGION_CAPTION>,
 *                        |                                 | <REGION_PROPOSAL>, grounding
 *   POLYGONS             | polygons, polygon_labels        | segmentation tasks
 *   BOXES_OR_POLYGONS    | boxes, box_labels,              | <OPEN_VOCABULARY_DETECTION>
 *                        | polygons, polygon_labels        |
 *   QUADS                | quads, quad_labels              | <OCR_WITH_REGION>
 *
 * Arrays of unused fields are present and empty; text is NULL unless kind is TEXT.
 *
 * Scores
 * ------
 *
 * A result made from generated ids and their log-probabilities (florence_postprocess_scored())
 * has has_scores set and a score in (0, 1] for each box, polygon instance and text line, and
 * for a non-empty text: the geometric mean of the probabilities of the tokens that make it —
 * a region's label tokens and its location tokens (a box's four, all of a polygon instance's),
 * a text line's text and its eight locations, a text's tokens — each token's probability being
 * the one the model gave it at the step it was chosen (florence-generate.h). The geometric
 * mean, exp of the mean log-probability, is the per-token probability of the whole: unlike
 * the product it does not punish a longer label or a polygon with more points, unlike the
 * arithmetic mean one unlikely token pulls it down, and it is what the reference's later
 * post-processor reports for a box (the exp of its location tokens' mean). Results without
 * token log-probabilities (parsed text, results stored by earlier versions) have none: the
 * score arrays then hold NaN.
 *
 * JSON form
 * ---------
 *
 * florence_result_to_json_node() writes the answer of post_process_generation() under the
 * reference's own key names ("labels"; "bboxes_labels" and "polygons_labels" only for
 * <OPEN_VOCABULARY_DETECTION>; "quad_boxes" for OCR with regions) with Depict's additions
 * beside them (version, task, kind, image size, and the scores: "scores" beside "labels",
 * "bboxes_scores" and "polygons_scores" beside their labels, "score" beside "text"). The
 * schema, for people and scripts, is
 * data/depict-result.schema.json ("$defs/result"), installed in share/depict/. Version 1
 * (read, no longer written) named the labels "bboxes_labels", "polygons_labels" and
 * "quad_labels" for every kind. The reader requires the members of the kind and ignores
 * unknown ones, so later versions may add fields.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define FLORENCE_RESULT_ERROR (florence_result_error_quark ())

typedef enum {
  FLORENCE_RESULT_ERROR_INVALID, /* the JSON is not a Depict result */
} FlorenceResultError;

typedef enum {
  FLORENCE_RESULT_TEXT,
  FLORENCE_RESULT_BOXES,
  FLORENCE_RESULT_POLYGONS,
  FLORENCE_RESULT_BOXES_OR_POLYGONS,
  FLORENCE_RESULT_QUADS,
} FlorenceResultKind;

typedef struct {
  float x1, y1, x2, y2;
} FlorenceBox;

typedef struct {
  float p[8]; /* x1, y1, x2, y2, x3, y3, x4, y4 */
} FlorenceQuad;

typedef struct {
  FlorenceResultKind kind;
  char *task; /* task token, never NULL ("" when unknown) */
  int image_width;
  int image_height;

  char *text; /* TEXT: the answer; NULL otherwise */

  GArray *boxes;         /* FlorenceBox */
  GPtrArray *box_labels; /* char *, one per box */

  GPtrArray *polygons;       /* one GPtrArray per instance, of GArray (float, flat x,y) */
  GPtrArray *polygon_labels; /* char *, one per instance */

  GArray *quads;          /* FlorenceQuad */
  GPtrArray *quad_labels; /* char *, one per quad */

  gboolean has_scores;    /* see "Scores" above */
  GArray *box_scores;     /* float, one per box (NaN: none) */
  GArray *polygon_scores; /* float, one per polygon instance */
  GArray *quad_scores;    /* float, one per quad */
  float text_score;       /* TEXT; NaN without scores or for an empty text */
} FlorenceResult;

GQuark florence_result_error_quark (void);

/* An empty result of KIND for TASK (NULL = ""). */
FlorenceResult *florence_result_new (FlorenceResultKind kind, const char *task, int image_width,
                                     int image_height);
void florence_result_free (FlorenceResult *self);
FlorenceResult *florence_result_copy (const FlorenceResult *self);

void florence_result_set_text (FlorenceResult *self, const char *text);
void florence_result_add_box (FlorenceResult *self, const char *label, const FlorenceBox *box);
void florence_result_add_quad (FlorenceResult *self, const char *label, const FlorenceQuad *quad);
/* Appends an instance with no polygons and returns its index for add_polygon. */
guint florence_result_add_polygon_instance (FlorenceResult *self, const char *label);
/* The same with a score (NaN: none); the others add NaN. */
void florence_result_add_box_scored (FlorenceResult *self, const char *label,
                                     const FlorenceBox *box, float score);
void florence_result_add_quad_scored (FlorenceResult *self, const char *label,
                                      const FlorenceQuad *quad, float score);
guint florence_result_add_polygon_instance_scored (FlorenceResult *self, const char *label,
                                                   float score);
/* Appends a polygon of N floats (x, y pairs) to instance INSTANCE. */
void florence_result_add_polygon (FlorenceResult *self, guint instance, const float *xy, gsize n);

/* Number of instances (boxes + polygon instances + quads; 1 for non-empty text). */
guint florence_result_get_n_instances (const FlorenceResult *self);

const char *florence_result_kind_to_string (FlorenceResultKind kind);
gboolean florence_result_kind_from_string (const char *str, FlorenceResultKind *out_kind);

/* The Depict JSON form (see above): the one writer and the one reader of results. The
 * reader takes versions 1 and 2, so reading an old result and writing it again migrates
 * it. */
JsonNode *florence_result_to_json_node (const FlorenceResult *self);
char *florence_result_to_json (const FlorenceResult *self, gboolean pretty);
FlorenceResult *florence_result_from_json_node (JsonNode *node, GError **error);
FlorenceResult *florence_result_from_json (const char *json, GError **error);

/* {task: answer} exactly as the reference post_process_generation() returns it. */
JsonNode *florence_result_to_reference_json_node (const FlorenceResult *self);
/* Reads that form back: TASK is the member to read (NULL: the only member); the kind
 * follows from the answer's keys. For results stored before Depict had its own form. */
FlorenceResult *florence_result_from_reference_json_node (JsonNode *node, const char *task,
                                                          int image_width, int image_height,
                                                          GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceResult, florence_result_free)

G_END_DECLS
