/* depict-job.c
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Its length is mostly the job's properties and signals, which the window binds to.
 */
#define G_LOG_DOMAIN "depict-job"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-job-private.h"
#include "florence/model/florence-limits.h"

struct _DepictJob {
  GObject parent_instance;

  /* What was asked: set when made, then only read (from any thread) */
  DepictJobKind kind;
  DepictRunSettings *settings;
  GPtrArray *files; /* GFile */
  char **tasks;
  char *text_input;
  char *title;
  GCancellable *cancellable;
  GMainContext *context; /* where reports are applied */

  /* The last report posted when it is a token count not yet applied: the next count of the
   * same answer updates it instead of waking the main context again, so that a busy window
   * applies one count however many tokens came meanwhile (guarded by pending_lock). */
  GMutex pending_lock;
  struct _Report *pending_tokens;

  /* Progress and outcome: main context only */
  DepictJobStage stage;
  guint n_tokens;
  GFile *current_file;
  char *current_task;
  gint64 tokens_since; /* when the answer being generated had tokens_at tokens */
  guint tokens_at;
  double token_seconds; /* seconds per token so far, 0 until known */
  guint done, total;
  double seconds_left;
  double photos_per_hour;
  gboolean running;
  gboolean finished;
  gint64 start_time;
  double seconds;
  GError *error;
  GError *store_error;
  DepictAnswer *answer;
  guint processed, skipped, failed;
  GStrv failures;
};

G_DEFINE_FINAL_TYPE (DepictJob, depict_job, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STAGE,
  PROP_N_TOKENS,
  PROP_CURRENT_FILE,
  PROP_CURRENT_TASK,
  PROP_DONE,
  PROP_TOTAL,
  PROP_RUNNING,
  PROP_FINISHED,
  N_PROPS
};

enum {
  SIGNAL_PHOTO_STARTED,
  SIGNAL_ANSWER,
  SIGNAL_PHOTO_FAILED,
  SIGNAL_PHOTO_STORED,
  SIGNAL_FINISHED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* ---------------------------------------------------------------------------------------- */
/* Run settings                                                                             */

DepictRunSettings *
depict_run_settings_new (void)
{
  DepictRunSettings *settings = g_new0 (DepictRunSettings, 1);

  settings->num_beams = FLORENCE_LIMITS_DEFAULT_BEAMS;
  settings->max_new_tokens = FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS;
  return settings;
}

DepictRunSettings *
depict_run_settings_copy (const DepictRunSettings *settings)
{
  DepictRunSettings *copy = g_new0 (DepictRunSettings, 1);

  copy->model_dir = g_strdup (settings->model_dir);
  copy->tokenizer_dir = g_strdup (settings->tokenizer_dir);
  copy->device = g_strdup (settings->device);
  copy->num_beams = settings->num_beams;
  copy->max_new_tokens = settings->max_new_tokens;
  copy->n_threads = settings->n_threads;
  copy->min_tag_score = settings->min_tag_score;
  return copy;
}

void
depict_run_settings_free (DepictRunSettings *settings)
{
  if (settings == NULL)
    return;
  g_free (settings->model_dir);
  g_free (settings->tokenizer_dir);
  g_free (settings->device);
  g_free (settings);
}

const char *
depict_job_stage_to_string (DepictJobStage stage)
{
  switch (stage)
    {
    case DEPICT_JOB_STAGE_WAITING:
      return _ ("Waiting for the model…");
    case DEPICT_JOB_STAGE_LOADING_MODEL:
      return _ ("Loading the model…");
    case DEPICT_JOB_STAGE_READING_IMAGE:
      return _ ("Reading the photo…");
    case DEPICT_JOB_STAGE_PREPARING:
      return _ ("Preparing the graphics card…");
    case DEPICT_JOB_STAGE_ENCODING:
      return _ ("Looking at the photo…");
    case DEPICT_JOB_STAGE_GENERATING:
      return _ ("Generating…");
    case DEPICT_JOB_STAGE_SAVING:
      return _ ("Saving…");
    case DEPICT_JOB_STAGE_DONE:
    default:
      return _ ("Done");
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Reports from the worker                                                                  */

typedef enum {
  REPORT_STAGE,
  REPORT_PROGRESS,
  REPORT_ANSWER,
  REPORT_FAILURE,
  REPORT_STORED,
  REPORT_STORE_ERROR,
  REPORT_SUMMARY,
  REPORT_FINISHED,
} ReportType;

typedef struct _Report {
  DepictJob *job;
  ReportType type;
  DepictJobStage stage;
  guint n_tokens;
  guint done, total, failed, processed, skipped;
  double seconds_left;
  double photos_per_hour;
  GFile *file;
  char *task;
  gint64 time; /* when it was reported, in the worker */
  DepictAnswer *answer;
  GError *error;
  GStrv failures;
  DepictJobDoneFunc done_func;
  GWeakRef owner;
} Report;

static void
report_free (gpointer data)
{
  Report *report = data;

  g_mutex_lock (&report->job->pending_lock);
  if (report->job->pending_tokens == report)
    report->job->pending_tokens = NULL;
  g_mutex_unlock (&report->job->pending_lock);
  g_object_unref (report->job);
  g_clear_object (&report->file);
  g_free (report->task);
  g_clear_pointer (&report->answer, depict_answer_unref);
  g_clear_error (&report->error);
  g_strfreev (report->failures);
  g_weak_ref_clear (&report->owner);
  g_free (report);
}

static void
set_current_file (DepictJob *self, GFile *file)
{
  if (g_set_object (&self->current_file, file))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_FILE]);
}

/* The rate of the answer being generated, measured from its first reported token on. */
static void
time_tokens (DepictJob *self, DepictJobStage stage, guint n_tokens, gint64 time)
{
  if (stage != DEPICT_JOB_STAGE_GENERATING || n_tokens < self->tokens_at || self->tokens_since == 0)
    {
      self->tokens_since = stage == DEPICT_JOB_STAGE_GENERATING ? time : 0;
      self->tokens_at = n_tokens;
      self->token_seconds = 0;
      return;
    }
  if (n_tokens >= self->tokens_at + 2 && time > self->tokens_since)
    self->token_seconds = (time - self->tokens_since) / 1e6 / (n_tokens - self->tokens_at);
}

static void
set_stage (DepictJob *self, DepictJobStage stage, guint n_tokens)
{
  if (self->stage != stage)
    {
      self->stage = stage;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STAGE]);
    }
  if (self->n_tokens != n_tokens)
    {
      self->n_tokens = n_tokens;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TOKENS]);
    }
}

static gboolean
apply_report_cb (gpointer data)
{
  Report *report = data;
  DepictJob *self = report->job;

  g_mutex_lock (&self->pending_lock);
  if (self->pending_tokens == report)
    self->pending_tokens = NULL;
  g_mutex_unlock (&self->pending_lock);

  g_object_freeze_notify (G_OBJECT (self));
  switch (report->type)
    {
    case REPORT_STAGE:
      if (!self->running && !self->finished)
        {
          self->running = TRUE;
          self->start_time = g_get_monotonic_time ();
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
        }
      /* A photo that begins: the views mark it as running. */
      if (report->file != NULL &&
          (self->current_file == NULL || !g_file_equal (self->current_file, report->file)))
        {
          set_current_file (self, report->file);
          g_signal_emit (self, signals[SIGNAL_PHOTO_STARTED], 0, report->file);
        }
      if (report->task != NULL && g_strcmp0 (report->task, self->current_task) != 0)
        {
          g_free (self->current_task);
          self->current_task = g_strdup (report->task);
          self->tokens_since = 0;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_TASK]);
        }
      time_tokens (self, report->stage, report->n_tokens, report->time);
      set_stage (self, report->stage, report->n_tokens);
      break;

    case REPORT_PROGRESS:
      self->seconds_left = report->seconds_left;
      self->photos_per_hour = report->photos_per_hour;
      if (self->total != report->total)
        {
          self->total = report->total;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOTAL]);
        }
      if (self->done != report->done)
        {
          self->done = report->done;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DONE]);
        }
      break;

    case REPORT_ANSWER:
      if (self->kind == DEPICT_JOB_RUN)
        {
          g_clear_pointer (&self->answer, depict_answer_unref);
          self->answer = depict_answer_ref (report->answer);
        }
      g_signal_emit (self, signals[SIGNAL_ANSWER], 0, report->file, report->answer);
      break;

    case REPORT_FAILURE:
      g_signal_emit (self, signals[SIGNAL_PHOTO_FAILED], 0, report->file, report->error);
      break;

    case REPORT_STORED:
      g_signal_emit (self, signals[SIGNAL_PHOTO_STORED], 0, report->file);
      break;

    case REPORT_STORE_ERROR:
      g_clear_error (&self->store_error);
      self->store_error = g_steal_pointer (&report->error);
      break;

    case REPORT_SUMMARY:
      self->processed = report->processed;
      self->skipped = report->skipped;
      self->failed = report->failed;
      g_strfreev (self->failures);
      self->failures = g_steal_pointer (&report->failures);
      break;

    case REPORT_FINISHED:
    default:
      g_clear_error (&self->error);
      self->error = g_steal_pointer (&report->error);
      self->seconds = self->start_time > 0 ? (g_get_monotonic_time () - self->start_time) / 1e6 : 0;
      self->running = FALSE;
      self->finished = TRUE;
      set_current_file (self, NULL);
      set_stage (self, DEPICT_JOB_STAGE_DONE, self->n_tokens);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FINISHED]);
      break;
    }
  g_object_thaw_notify (G_OBJECT (self));

  if (report->type == REPORT_FINISHED)
    {
      /* The views hear "finished" while the session still holds the job; then the session
       * lets it go (and tells them so). */
      g_autoptr (GObject) owner = g_weak_ref_get (&report->owner);

      g_signal_emit (self, signals[SIGNAL_FINISHED], 0);
      if (report->done_func != NULL && owner != NULL)
        report->done_func (owner, self);
    }
  return G_SOURCE_REMOVE;
}

static Report *
report_new (ReportType type)
{
  Report *report = g_new0 (Report, 1);

  report->type = type;
  report->time = g_get_monotonic_time ();
  g_weak_ref_init (&report->owner, NULL);
  return report;
}

/* Always through an idle source: g_main_context_invoke() would call it right in the worker
 * when the main thread happens not to hold the context. Sources of one priority run in the
 * order they were attached. */
static void
post (DepictJob *self, Report *report)
{
  g_autoptr (GSource) source = g_idle_source_new ();

  g_mutex_lock (&self->pending_lock);
  self->pending_tokens =
    report->type == REPORT_STAGE && report->stage == DEPICT_JOB_STAGE_GENERATING ? report : NULL;
  g_mutex_unlock (&self->pending_lock);
  report->job = g_object_ref (self);
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, apply_report_cb, report, report_free);
  g_source_set_static_name (source, "[depict] job report");
  g_source_attach (source, self->context);
}

void
_depict_job_report_task_stage (DepictJob *self, DepictJobStage stage, guint n_tokens, GFile *file,
                               const char *task)
{
  Report *report;

  /* A later count of the answer whose count is still waiting: that one says it. */
  g_mutex_lock (&self->pending_lock);
  report = self->pending_tokens;
  if (report != NULL && stage == DEPICT_JOB_STAGE_GENERATING &&
      g_strcmp0 (report->task, task) == 0 &&
      (report->file == file ||
       (report->file != NULL && file != NULL && g_file_equal (report->file, file))))
    {
      report->n_tokens = n_tokens;
      report->time = g_get_monotonic_time ();
      g_mutex_unlock (&self->pending_lock);
      return;
    }
  g_mutex_unlock (&self->pending_lock);

  report = report_new (REPORT_STAGE);
  report->stage = stage;
  report->n_tokens = n_tokens;
  report->file = file != NULL ? g_object_ref (file) : NULL;
  report->task = g_strdup (task);
  post (self, report);
}

void
_depict_job_report_stage (DepictJob *self, DepictJobStage stage, guint n_tokens, GFile *file)
{
  _depict_job_report_task_stage (self, stage, n_tokens, file, NULL);
}

void
_depict_job_report_progress (DepictJob *self, guint done, guint total, double seconds_left)
{
  _depict_job_report_progress_rate (self, done, total, seconds_left, 0);
}

void
_depict_job_report_progress_rate (DepictJob *self, guint done, guint total, double seconds_left,
                                  double photos_per_hour)
{
  Report *report = report_new (REPORT_PROGRESS);

  report->done = done;
  report->total = total;
  report->seconds_left = seconds_left;
  report->photos_per_hour = photos_per_hour;
  post (self, report);
}

void
_depict_job_report_answer (DepictJob *self, GFile *file, DepictAnswer *answer)
{
  Report *report = report_new (REPORT_ANSWER);

  report->file = g_object_ref (file);
  report->answer = depict_answer_ref (answer);
  post (self, report);
}

void
_depict_job_report_failure (DepictJob *self, GFile *file, const GError *error)
{
  Report *report = report_new (REPORT_FAILURE);

  report->file = g_object_ref (file);
  report->error = g_error_copy (error);
  post (self, report);
}

void
_depict_job_report_stored (DepictJob *self, GFile *file)
{
  Report *report = report_new (REPORT_STORED);

  report->file = g_object_ref (file);
  post (self, report);
}

void
_depict_job_report_store_error (DepictJob *self, const GError *error)
{
  Report *report = report_new (REPORT_STORE_ERROR);

  report->error = g_error_copy (error);
  post (self, report);
}

void
_depict_job_report_summary (DepictJob *self, guint processed, guint skipped, guint failed,
                            GPtrArray *failures)
{
  Report *report = report_new (REPORT_SUMMARY);
  GPtrArray *copy = g_ptr_array_new ();

  report->processed = processed;
  report->skipped = skipped;
  report->failed = failed;
  for (guint i = 0; failures != NULL && i < failures->len; i++)
    g_ptr_array_add (copy, g_strdup (g_ptr_array_index (failures, i)));
  g_ptr_array_add (copy, NULL);
  report->failures = (GStrv) g_ptr_array_free (copy, FALSE);
  post (self, report);
}

void
_depict_job_report_finished (DepictJob *self, const GError *error, DepictJobDoneFunc done_func,
                             GObject *owner)
{
  Report *report = report_new (REPORT_FINISHED);

  report->error = error != NULL ? g_error_copy (error) : NULL;
  report->done_func = done_func;
  g_weak_ref_set (&report->owner, owner);
  post (self, report);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject                                                                                  */

static void
depict_job_finalize (GObject *object)
{
  DepictJob *self = DEPICT_JOB (object);

  g_mutex_clear (&self->pending_lock);
  depict_run_settings_free (self->settings);
  g_clear_pointer (&self->files, g_ptr_array_unref);
  g_strfreev (self->tasks);
  g_free (self->text_input);
  g_free (self->title);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_object (&self->current_file);
  g_free (self->current_task);
  g_clear_error (&self->error);
  g_clear_error (&self->store_error);
  g_clear_pointer (&self->answer, depict_answer_unref);
  g_strfreev (self->failures);

  G_OBJECT_CLASS (depict_job_parent_class)->finalize (object);
}

static void
depict_job_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictJob *self = DEPICT_JOB (object);

  switch (prop_id)
    {
    case PROP_STAGE:
      g_value_set_int (value, self->stage);
      break;
    case PROP_N_TOKENS:
      g_value_set_uint (value, self->n_tokens);
      break;
    case PROP_CURRENT_FILE:
      g_value_set_object (value, self->current_file);
      break;
    case PROP_CURRENT_TASK:
      g_value_set_string (value, self->current_task);
      break;
    case PROP_DONE:
      g_value_set_uint (value, self->done);
      break;
    case PROP_TOTAL:
      g_value_set_uint (value, self->total);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_FINISHED:
      g_value_set_boolean (value, self->finished);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_job_class_init (DepictJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = depict_job_finalize;
  object_class->get_property = depict_job_get_property;

  properties[PROP_STAGE] = g_param_spec_int ("stage", NULL, NULL, 0, DEPICT_JOB_STAGE_DONE, 0,
                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_TOKENS] = g_param_spec_uint ("n-tokens", NULL, NULL, 0, G_MAXUINT, 0,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CURRENT_FILE] = g_param_spec_object ("current-file", NULL, NULL, G_TYPE_FILE,
                                                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CURRENT_TASK] = g_param_spec_string ("current-task", NULL, NULL, NULL,
                                                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DONE] = g_param_spec_uint ("done", NULL, NULL, 0, G_MAXUINT, 0,
                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TOTAL] = g_param_spec_uint ("total", NULL, NULL, 0, G_MAXUINT, 0,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_FINISHED] =
    g_param_spec_boolean ("finished", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* photo-started (GFile *file): the model begins on this photo */
  signals[SIGNAL_PHOTO_STARTED] =
    g_signal_new ("photo-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                  NULL, G_TYPE_NONE, 1, G_TYPE_FILE);
  /* answer (GFile *file, DepictAnswer *answer): a task finished on a photo */
  signals[SIGNAL_ANSWER] =
    g_signal_new ("answer", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_FILE, DEPICT_TYPE_ANSWER);
  /* photo-failed (GFile *file, GError *error): a photo of a batch could not be done */
  signals[SIGNAL_PHOTO_FAILED] =
    g_signal_new ("photo-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_FILE, G_TYPE_ERROR);
  /* photo-stored (GFile *file): a photo of a batch has its answers in the gallery, made now
   * or before */
  signals[SIGNAL_PHOTO_STORED] =
    g_signal_new ("photo-stored", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_FILE);
  /* finished: it did its work, failed or was cancelled; see depict_job_get_error() */
  signals[SIGNAL_FINISHED] = g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                           0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
depict_job_init (DepictJob *self)
{
  self->seconds_left = -1;
  self->cancellable = g_cancellable_new ();
  g_mutex_init (&self->pending_lock);
}

DepictJob *
_depict_job_new (DepictJobKind kind, const DepictRunSettings *settings, GPtrArray *files,
                 const char *const *tasks, const char *text_input, const char *title)
{
  DepictJob *self;

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (files != NULL && files->len > 0, NULL);
  g_return_val_if_fail (tasks != NULL && tasks[0] != NULL, NULL);

  self = g_object_new (DEPICT_TYPE_JOB, NULL);
  self->kind = kind;
  self->settings = depict_run_settings_copy (settings);
  self->files = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < files->len; i++)
    g_ptr_array_add (self->files, g_object_ref (g_ptr_array_index (files, i)));
  self->tasks = g_strdupv ((char **) tasks);
  self->text_input = g_strdup (text_input);
  self->title = g_strdup (title);
  self->current_task = kind == DEPICT_JOB_RUN ? g_strdup (tasks[0]) : NULL;
  self->context = g_main_context_ref_thread_default ();
  self->total = kind == DEPICT_JOB_RUN ? 1 : 0;
  return self;
}

/* ---------------------------------------------------------------------------------------- */
/* Public API                                                                               */

DepictJobKind
depict_job_get_kind (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), DEPICT_JOB_RUN);
  return self->kind;
}

const DepictRunSettings *
depict_job_get_settings (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->settings;
}

GPtrArray *
depict_job_get_files (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->files;
}

const char *const *
depict_job_get_tasks (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return (const char *const *) self->tasks;
}

const char *
depict_job_get_text_input (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->text_input;
}

const char *
depict_job_get_title (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->title;
}

DepictJobStage
depict_job_get_stage (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), DEPICT_JOB_STAGE_WAITING);
  return self->stage;
}

guint
depict_job_get_n_tokens (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), 0);
  return self->n_tokens;
}

GFile *
depict_job_get_current_file (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->current_file;
}

const char *
depict_job_get_current_task (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->current_task;
}

guint
depict_job_get_max_new_tokens (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), 0);
  return self->settings->max_new_tokens > 0 ? (guint) self->settings->max_new_tokens
                                            : FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS;
}

double
depict_job_get_generating_seconds_left (DepictJob *self)
{
  guint limit;

  g_return_val_if_fail (DEPICT_IS_JOB (self), -1);

  limit = depict_job_get_max_new_tokens (self);
  if (self->stage != DEPICT_JOB_STAGE_GENERATING || self->token_seconds <= 0)
    return -1;
  return self->token_seconds * (limit > self->n_tokens ? limit - self->n_tokens : 0);
}

guint
depict_job_get_done (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), 0);
  return self->done;
}

guint
depict_job_get_total (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), 0);
  return self->total;
}

double
depict_job_get_seconds_left (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), -1);
  return self->seconds_left;
}

double
depict_job_get_photos_per_hour (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), 0);
  return self->photos_per_hour;
}

gboolean
depict_job_get_running (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), FALSE);
  return self->running;
}

gboolean
depict_job_get_finished (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), FALSE);
  return self->finished;
}

gboolean
depict_job_get_cancelled (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), FALSE);
  return g_error_matches (self->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

const GError *
depict_job_get_error (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->error;
}

DepictAnswer *
depict_job_get_answer (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->answer;
}

const GError *
depict_job_get_store_error (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->store_error;
}

double
depict_job_get_seconds (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), 0);
  return self->seconds;
}

guint
depict_job_get_processed (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), 0);
  return self->processed;
}

guint
depict_job_get_skipped (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), 0);
  return self->skipped;
}

guint
depict_job_get_failed (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), 0);
  return self->failed;
}

const char *const *
depict_job_get_failures (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return (const char *const *) self->failures;
}

void
depict_job_cancel (DepictJob *self)
{
  g_return_if_fail (DEPICT_IS_JOB (self));
  g_cancellable_cancel (self->cancellable);
}

GCancellable *
depict_job_get_cancellable (DepictJob *self)
{
  g_return_val_if_fail (DEPICT_IS_JOB (self), NULL);
  return self->cancellable;
}
