/* gallery-tagger.h: batch tagging of a photo library (walk, skip what is done, run, store)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "gallery/gallery-pipeline.h"
#include "gallery/gallery-run.h"
#include "gallery/gallery-store.h"

G_BEGIN_DECLS

/* Runs one task on one image and returns what came back: raw_text, token_ids, result,
 * timings (and image_width/image_height when known). The tagger fills in the task, input,
 * model and settings. NULL with error set when the image could not be processed (a
 * G_IO_ERROR_CANCELLED error stops the batch; any other error skips that image). Keeps the
 * store independent of the model code. */
typedef GalleryRun *(*GalleryRunFunc) (const char *image_path, const char *task,
                                       const char *text_input, gpointer user_data,
                                       GCancellable *cancellable, GError **error);

typedef struct {
  guint done;               /* images finished: processed + skipped + failed */
  guint total;              /* images in the batch */
  guint processed;          /* images run through the model */
  guint skipped;            /* images already done with the same model and settings */
  guint failed;             /* images that could not be processed */
  double images_per_second; /* processing rate (skips excluded), 0 until known; × 3600 for
                             * the photos per hour people are shown */
  double seconds_left;      /* estimate, < 0 until known */
  const char *current_path; /* the image just finished, NULL at the start */
} GalleryTaggerProgress;

typedef void (*GalleryTaggerProgressFunc) (const GalleryTaggerProgress *progress,
                                           gpointer user_data);

typedef struct {
  const char *model_name;   /* stored with every run */
  const char *weights_hash; /* florence_model_get_weights_hash(): required, part of the key */
  int num_beams;            /* 0: FLORENCE_LIMITS_DEFAULT_BEAMS, stored as that number */
  int max_new_tokens;       /* 0: FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS, likewise */
  const char *const *tasks; /* task tokens, NULL-terminated; NULL = caption, od, ocr */
  const char *text_input;   /* input of tasks that take one, NULL = none */
  gboolean recursive;       /* descend into sub-folders */
  gboolean redo;            /* run again even what is done */
  double min_tag_score;     /* tags below this score are not stored (GalleryRun), 0 = all */
  GalleryRunFunc run_func;
  gpointer run_data;
  /* Optional, instead of run_func: the photos are decoded and prepared ahead on its worker
   * threads, and each photo's tasks share one set of image features (gallery-pipeline.h). */
  GalleryPipeline *pipeline;
  GalleryTaggerProgressFunc progress_func; /* called at the start and after each image, in
                                            * the thread running the batch; may be NULL */
  gpointer progress_data;
} GalleryTaggerOptions;

typedef struct {
  guint total;
  guint processed;
  guint skipped;
  guint failed;
  guint runs_added;
  guint unreadable; /* folders the walk could not read, files named that are not photos
                     * (listed in failures too) */
  double seconds;
  gboolean cancelled;
  GPtrArray *failures; /* sentences naming the file or folder */
} GalleryTaggerSummary;

/* Tags the photos among paths (image_files_collect(): an unreadable sub-folder, or a file
 * named that is not a photo, is listed in the failures and the walk goes on; the gallery's own
 * files are never opened). First the database is checked (gallery_store_check)
 * and the gone files of the folders given are marked missing. Then for each photo, each task
 * not yet done with the same weights and settings goes through the runner and is stored in
 * its own transaction (so a crash loses at most the run in progress); a run another process
 * stored meanwhile is kept, not duplicated. A file that is not a photo, or cannot be read, is
 * a failure named in the summary and nothing of it is stored. The cancellable is checked
 * between runs; on cancellation it returns FALSE with G_IO_ERROR_CANCELLED and
 * summary->cancelled set, and a later call resumes where it stopped. A store error (full
 * disk, …) stops the batch. summary (may be NULL) is filled in either way; clear it with
 * gallery_tagger_summary_clear. */
gboolean gallery_tagger_run (GalleryStore *store, const GalleryTaggerOptions *options,
                             const char *const *paths, GalleryTaggerSummary *summary,
                             GCancellable *cancellable, GError **error);
void gallery_tagger_summary_clear (GalleryTaggerSummary *summary);

/* "42s", "4m20s", "2h05m" */
char *gallery_tagger_format_duration (double seconds);
/* "132/1020  340 photos/h  4m20s left": photos per hour of those run through the model
 * (skips excluded), and the time left at that rate. */
char *gallery_tagger_format_progress (const GalleryTaggerProgress *progress);
/* The tasks a batch runs when none are named (caption, od, ocr): depict-cli tag's and the
 * app's. */
const char *const *gallery_tagger_default_tasks (void);
/* "caption,od,ocr" (names or task tokens) → task tokens; error on an unknown name. */
char **gallery_tagger_parse_tasks (const char *list, GError **error);
/* "caption" → "<CAPTION>", "<OD>" → "<OD>", NULL when unknown. */
const char *gallery_tagger_task_token (const char *name);
/* Whether a task token takes a text or region input. */
gboolean gallery_tagger_task_takes_input (const char *task);

G_END_DECLS
