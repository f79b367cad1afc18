/* depict-job.h: one piece of the session's work, as the views see it
 *
 * A job is either a run (one task on one photo, shown as it goes) or a batch (tasks on many
 * photos through the gallery's tagger: "Run on All Photos" and "Tag Folder"). The session
 * (depict-session.h) makes jobs, queues them and does them in its worker thread; the job
 * carries what was asked, reports its progress as properties changed on the main context
 * (stage, tokens, photos done) and what became of each photo as signals ("answer" for a run,
 * "photo-stored" or "photo-failed" for a batch's photos), and says how it ended.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "depict-answer.h"

G_BEGIN_DECLS

typedef enum {
  DEPICT_JOB_RUN,   /* one task on one photo */
  DEPICT_JOB_BATCH, /* tasks on many photos, skipping what the gallery has already */
} DepictJobKind;

typedef enum {
  DEPICT_JOB_STAGE_WAITING, /* queued behind other work */
  DEPICT_JOB_STAGE_LOADING_MODEL,
  DEPICT_JOB_STAGE_READING_IMAGE,
  DEPICT_JOB_STAGE_PREPARING, /* the first run on a graphics card: its programs are made */
  DEPICT_JOB_STAGE_ENCODING,
  DEPICT_JOB_STAGE_GENERATING,
  DEPICT_JOB_STAGE_SAVING,
  DEPICT_JOB_STAGE_DONE,
} DepictJobStage;

/* What a run needs to know besides the photo and the task: read from the settings when the
 * job is made, so that a job does what was asked even if the settings change meanwhile. */
typedef struct {
  char *model_dir;     /* a folder with config.json and weights */
  char *tokenizer_dir; /* NULL: the model folder */
  char *device;        /* a device name (florence-device.h); NULL or "": automatic */
  int num_beams;
  int max_new_tokens;
  int n_threads;        /* the CPU engine's threads, 0: every processor */
  double min_tag_score; /* of the tags the results propose, those below are not kept */
} DepictRunSettings;

DepictRunSettings *depict_run_settings_new (void);
DepictRunSettings *depict_run_settings_copy (const DepictRunSettings *settings);
void depict_run_settings_free (DepictRunSettings *settings);

const char *depict_job_stage_to_string (DepictJobStage stage);

#define DEPICT_TYPE_JOB (depict_job_get_type ())

G_DECLARE_FINAL_TYPE (DepictJob, depict_job, DEPICT, JOB, GObject)

/* What was asked */
DepictJobKind depict_job_get_kind (DepictJob *self);
const DepictRunSettings *depict_job_get_settings (DepictJob *self);
/* The photos (a run: one) or photos and folders (a batch) it works on. */
GPtrArray *depict_job_get_files (DepictJob *self);
const char *const *depict_job_get_tasks (DepictJob *self);
const char *depict_job_get_text_input (DepictJob *self);
/* A batch's name for the person: "Tagging “Holiday”", "Caption on 12 photos". */
const char *depict_job_get_title (DepictJob *self);

/* Progress (main context) */
DepictJobStage depict_job_get_stage (DepictJob *self);
guint depict_job_get_n_tokens (DepictJob *self);
/* The photo being worked on now (NULL between photos), and the task (NULL until known). */
GFile *depict_job_get_current_file (DepictJob *self);
const char *depict_job_get_current_task (DepictJob *self);
/* The most tokens an answer may have (the settings' limit). */
guint depict_job_get_max_new_tokens (DepictJob *self);
/* While an answer is generated: the most seconds it can still take at the rate so far, were
 * it to reach the limit (< 0 until the rate is known). */
double depict_job_get_generating_seconds_left (DepictJob *self);
guint depict_job_get_done (DepictJob *self);
guint depict_job_get_total (DepictJob *self);
double depict_job_get_seconds_left (DepictJob *self);    /* < 0 until known */
double depict_job_get_photos_per_hour (DepictJob *self); /* a batch's speed, 0 until known */
gboolean depict_job_get_running (DepictJob *self);       /* started and not finished */
gboolean depict_job_get_finished (DepictJob *self);

/* How it ended (once finished) */
gboolean depict_job_get_cancelled (DepictJob *self);
const GError *depict_job_get_error (DepictJob *self); /* NULL: it did its work */
/* A run: its answer, NULL when it failed. */
DepictAnswer *depict_job_get_answer (DepictJob *self);
/* Why the answer could not be kept in the gallery, or NULL. */
const GError *depict_job_get_store_error (DepictJob *self);
double depict_job_get_seconds (DepictJob *self);
/* A batch: photos run, skipped (done before), failed; and a line per failure ("name: why"). */
guint depict_job_get_processed (DepictJob *self);
guint depict_job_get_skipped (DepictJob *self);
guint depict_job_get_failed (DepictJob *self);
const char *const *depict_job_get_failures (DepictJob *self);

/* Stops it after the decoder step in progress (or before it starts). */
void depict_job_cancel (DepictJob *self);
GCancellable *depict_job_get_cancellable (DepictJob *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DepictRunSettings, depict_run_settings_free)

G_END_DECLS
