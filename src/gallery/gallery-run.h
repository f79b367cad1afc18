/* gallery-run.h: one stored run of the model on an image (input, settings, output)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "florence/model/florence-model.h"

G_BEGIN_DECLS

/* A run: what was asked (task + text or region input), of which model (name + weights hash)
 * with which generation settings, and what came back (raw generated text, token ids, the
 * parsed result in the shared result schema, timings). A plain struct: fill the fields and
 * free it with gallery_run_free(). */
typedef struct {
  gint64 id;          /* row id once stored, 0 before */
  gint64 image_id;    /* the image it belongs to, 0 before */
  char *task;         /* task token, "<CAPTION>", "<OD>", … */
  char *text_input;   /* text or region input ("<loc_…>" tokens), NULL or "" when none */
  char *model_name;   /* e.g. "florence-2-base" */
  char *weights_hash; /* SHA-256 of the weights file (hex) */
  int num_beams;      /* generation settings */
  int max_new_tokens;
  char *raw_text;    /* generated text, special tokens included */
  GArray *token_ids; /* gint32, the generated ids; may be NULL */
  JsonNode *result;  /* parsed result, {"<TASK>": …}; may be NULL */
  JsonNode *timings; /* object of named durations in seconds; may be NULL */
  gint64 created;    /* Unix time in seconds; 0 = now when stored */
  int image_width;   /* pixel size of the image the run saw, 0 = unknown */
  int image_height;
  /* Storing only: of the tags the result proposes, those with a score below this (gallery-
   * tag.h) do not become tags; 0 keeps them all. The result itself is kept whole. */
  double min_tag_score;
} GalleryRun;

GalleryRun *gallery_run_new (void);
/* A run of the model as the gallery stores it, for the app and the command line alike: what
 * was asked (run's task, text input and beams; model_name, weights_hash and max_new_tokens as
 * given, 0 tokens meaning the default), what came back (the generated text and ids, the typed
 * result in its one JSON form, florence_result_to_json_node(), and the timings,
 * florence_timings_to_json_node()) and the size
 * of the picture. */
GalleryRun *gallery_run_new_from_florence (const FlorenceRun *run, const char *model_name,
                                           const char *weights_hash, int max_new_tokens);

GalleryRun *gallery_run_copy (const GalleryRun *run);
void gallery_run_free (GalleryRun *run);

/* Serializes token ids / parses them back (a JSON array of integers). */
char *gallery_run_ids_to_json (const GArray *ids);
GArray *gallery_run_ids_from_json (const char *json, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryRun, gallery_run_free)

G_END_DECLS
