/* depict-inference.h
 *
 * Running Florence-2 for the app: the model is found from the settings, loaded once and kept,
 * and each run goes through a worker thread with progress (stage, tokens) reported on the
 * main context and a GCancellable that stops it within one decoder step.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "gallery/gallery-run.h"

G_BEGIN_DECLS

#define DEPICT_INFERENCE_ERROR (depict_inference_error_quark ())

typedef enum {
  DEPICT_INFERENCE_ERROR_NO_MODEL, /* no model installed where the settings point */
  DEPICT_INFERENCE_ERROR_FAILED,
} DepictInferenceError;

typedef enum {
  DEPICT_INFERENCE_STAGE_WAITING,
  DEPICT_INFERENCE_STAGE_LOADING_MODEL,
  DEPICT_INFERENCE_STAGE_READING_IMAGE,
  DEPICT_INFERENCE_STAGE_ENCODING,
  DEPICT_INFERENCE_STAGE_GENERATING,
  DEPICT_INFERENCE_STAGE_SAVING,
  DEPICT_INFERENCE_STAGE_DONE,
} DepictInferenceStage;

/* What a run needs to know besides the photo and the task. */
typedef struct {
  char *model_dir;     /* a folder with config.json and weights */
  char *tokenizer_dir; /* NULL: the model folder */
  char *model_name;    /* stored with the run: "base", "large-ft", or the folder name */
  char *device;        /* NULL or "": automatic */
  int num_beams;
  int max_new_tokens;
} DepictInferenceSettings;

typedef void (*DepictInferenceProgressFunc) (DepictInferenceStage stage, guint n_tokens,
                                             gpointer user_data);

GQuark depict_inference_error_quark (void);

DepictInferenceSettings *depict_inference_settings_new (void);
DepictInferenceSettings *depict_inference_settings_copy (const DepictInferenceSettings *settings);
void depict_inference_settings_free (DepictInferenceSettings *settings);
DepictInferenceSettings *depict_inference_settings_from_gsettings (GSettings *gsettings,
                                                                   GError **error);
char *depict_inference_find_model_dir (const char *model, char **model_name, GError **error);
const char *depict_inference_stage_to_string (DepictInferenceStage stage);

/* Blocking: for worker threads (and the gallery tagger). Loads the model on first use. */
GalleryRun *depict_inference_run_sync (const DepictInferenceSettings *settings,
                                       const char *image_path, const char *task,
                                       const char *text_input, DepictInferenceProgressFunc progress,
                                       gpointer progress_data, GCancellable *cancellable,
                                       GError **error);
/* A GalleryRunFunc: user_data is a DepictInferenceSettings. */
GalleryRun *depict_inference_gallery_run_func (const char *image_path, const char *task,
                                               const char *text_input, gpointer user_data,
                                               GCancellable *cancellable, GError **error);
/* Frees the loaded model (it is loaded again when needed). */
void depict_inference_unload (void);

#define DEPICT_TYPE_INFERENCE_JOB (depict_inference_job_get_type ())

G_DECLARE_FINAL_TYPE (DepictInferenceJob, depict_inference_job, DEPICT, INFERENCE_JOB, GObject)

DepictInferenceJob *depict_inference_job_new (const DepictInferenceSettings *settings, GFile *file,
                                              const char *task, const char *text_input);
void depict_inference_job_set_gallery (DepictInferenceJob *self, const char *gallery_path);
void depict_inference_job_run_async (DepictInferenceJob *self, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean depict_inference_job_run_finish (DepictInferenceJob *self, GAsyncResult *result,
                                          GError **error);
DepictInferenceStage depict_inference_job_get_stage (DepictInferenceJob *self);
guint depict_inference_job_get_n_tokens (DepictInferenceJob *self);
GFile *depict_inference_job_get_file (DepictInferenceJob *self);
const char *depict_inference_job_get_task (DepictInferenceJob *self);
GalleryRun *depict_inference_job_get_run (DepictInferenceJob *self);
double depict_inference_job_get_seconds (DepictInferenceJob *self);
const GError *depict_inference_job_get_store_error (DepictInferenceJob *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DepictInferenceSettings, depict_inference_settings_free)

G_END_DECLS
