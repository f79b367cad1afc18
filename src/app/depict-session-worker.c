/* depict-session-worker.c
 *
 * The session's worker thread: it alone touches the loaded model, loading it on first use
 * and keeping it for the next job, and does the jobs one at a time, runs before batches (a
 * run asked for during a batch is done between two of the batch's photos). A batch goes
 * through the gallery's tagger with the model's weights hash, so that its runs are known as
 * done to the next batch and to depict-cli tag. Every answer is kept in the gallery through
 * the session's one connection, which the worker holds only while it writes.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-session"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-session-private.h"
#include "florence/files/florence-weights-hash.h"
#include "gallery/gallery-tagger.h"
#include "image/image-loader.h"

/* ---------------------------------------------------------------------------------------- */
/* The loaded model                                                                         */

static gboolean
parse_device (const char *device, FlorenceModelOptions *options)
{
  if (device == NULL || device[0] == '\0')
    return TRUE;
  if (florence_device_kind_from_string (device, &options->device))
    return TRUE;
  /* A Vulkan device by name (the preferences store the name). */
  options->device = FLORENCE_DEVICE_VULKAN;
  options->vulkan_device = device;
  return TRUE;
}

static char *
model_key (const DepictRunSettings *settings)
{
  return g_strdup_printf ("%s\n%s\n%s", settings->model_dir,
                          settings->tokenizer_dir != NULL ? settings->tokenizer_dir : "",
                          settings->device != NULL ? settings->device : "");
}

/* The weights hash that keys every run in the gallery: computed once per weights file (and
 * kept in the user's cache by florence_weights_hash_for_dir), without loading the model. */
static const char *
ensure_weights_hash (DepictWorker *worker, const DepictRunSettings *settings, GError **error)
{
  if (worker->weights_hash != NULL && g_strcmp0 (worker->hash_dir, settings->model_dir) == 0)
    return worker->weights_hash;
  g_clear_pointer (&worker->weights_hash, g_free);
  g_clear_pointer (&worker->hash_dir, g_free);
  worker->weights_hash = florence_weights_hash_for_dir (settings->model_dir, NULL, error);
  if (worker->weights_hash == NULL)
    return NULL;
  worker->hash_dir = g_strdup (settings->model_dir);
  return worker->weights_hash;
}

/* The model of SETTINGS, loaded when it is not the one kept. *LOADED tells whether it was
 * loaded now. */
static FlorenceModel *
ensure_model (DepictWorker *worker, DepictJob *job, const DepictRunSettings *settings,
              gboolean *loaded, GError **error)
{
  g_autofree char *key = model_key (settings);
  FlorenceModelOptions options = { 0 };

  *loaded = FALSE;
  if (worker->model != NULL && g_strcmp0 (key, worker->model_key) == 0)
    return worker->model;

  g_clear_pointer (&worker->model, florence_model_free);
  g_clear_pointer (&worker->model_key, g_free);
  _depict_job_report_stage (job, DEPICT_JOB_STAGE_LOADING_MODEL, 0, NULL);
  options.tokenizer_dir = settings->tokenizer_dir;
  parse_device (settings->device, &options);
  worker->model = florence_model_load (settings->model_dir, &options, error);
  if (worker->model == NULL)
    return NULL;
  worker->model_key = g_steal_pointer (&key);
  *loaded = TRUE;
  g_debug ("Loaded %s on %s in %.1f s", settings->model_dir,
           florence_model_get_device_name (worker->model),
           florence_model_get_load_seconds (worker->model));
  return worker->model;
}

/* ---------------------------------------------------------------------------------------- */
/* One task on one photo                                                                    */

typedef struct {
  DepictJob *job;
  GFile *file;
} TokenRelay;

static void
tokens_cb (guint n_tokens, gpointer user_data)
{
  TokenRelay *relay = user_data;

  _depict_job_report_stage (relay->job, DEPICT_JOB_STAGE_GENERATING, n_tokens, relay->file);
}

/* Every duration of the run, the model's loading included (as depict-cli writes them). */
static JsonNode *
timings_to_json (const FlorenceTimings *t)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "load");
  json_builder_add_double_value (builder, t->load);
  json_builder_set_member_name (builder, "preprocess");
  json_builder_add_double_value (builder, t->preprocess);
  json_builder_set_member_name (builder, "vision");
  json_builder_add_double_value (builder, t->vision);
  json_builder_set_member_name (builder, "encoder");
  json_builder_add_double_value (builder, t->encoder);
  json_builder_set_member_name (builder, "decode");
  json_builder_add_double_value (builder, t->decode);
  json_builder_set_member_name (builder, "total");
  json_builder_add_double_value (builder, t->total);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

/* The gallery's record of a run. */
static GalleryRun *
run_to_gallery (const FlorenceRun *run, const DepictRunSettings *settings, const char *weights_hash)
{
  GalleryRun *out = gallery_run_new ();

  out->task = g_strdup (run->task);
  out->text_input = g_strdup (run->text_input);
  out->model_name = g_strdup (settings->model_name);
  out->weights_hash = g_strdup (weights_hash != NULL ? weights_hash : "");
  out->num_beams = run->num_beams;
  out->max_new_tokens = settings->max_new_tokens;
  out->raw_text = g_strdup (run->text);
  if (run->token_ids != NULL)
    {
      out->token_ids = g_array_sized_new (FALSE, FALSE, sizeof (gint32), run->token_ids->len);
      g_array_append_vals (out->token_ids, run->token_ids->data, run->token_ids->len);
    }
  out->result = florence_result_to_json_node (run->result);
  out->timings = timings_to_json (&run->timings);
  out->image_width = run->image_width;
  out->image_height = run->image_height;
  return out;
}

/* "2.1 s · base · 3 beams", and the model's loading when this run waited for it. */
static char *
run_info (const FlorenceRun *run, const DepictRunSettings *settings, gboolean loaded)
{
  double seconds = run->timings.total + (loaded ? run->timings.load : 0.0);
  /* Translators: shown under the answer: time taken, model, beams ("2.1 s · base · 3 beams") */
  g_autofree char *info = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%.1f s · %s · %u beam",
                                                        "%.1f s · %s · %u beams", run->num_beams),
                                           seconds, settings->model_name, run->num_beams);

  if (!loaded)
    return g_steal_pointer (&info);
  /* Translators: after the time a run took, when it included loading the model first */
  return g_strdup_printf (_ ("%s (loading the model: %.1f s)"), info, run->timings.load);
}

/* Reads the photo, makes sure the model is loaded, runs TASK. */
static FlorenceRun *
run_model (DepictSession *self, DepictJob *job, GFile *file, const char *task,
           const char *text_input, gboolean *loaded, GError **error)
{
  DepictWorker *worker = &self->worker;
  const DepictRunSettings *settings = depict_job_get_settings (job);
  GCancellable *cancellable = depict_job_get_cancellable (job);
  g_autofree char *path = g_file_get_path (file);
  g_autoptr (ImageRgb) image = NULL;
  FlorenceRunOptions options = { 0 };
  TokenRelay relay = { job, file };
  FlorenceModel *model;

  *loaded = FALSE;
  if (path == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _ ("Only photos on this computer can be read. Copy it here first."));
      return NULL;
    }
  _depict_job_report_stage (job, DEPICT_JOB_STAGE_READING_IMAGE, 0, file);
  image = image_load (path, NULL, error);
  if (image == NULL || g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  model = ensure_model (worker, job, settings, loaded, error);
  if (model == NULL || g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  _depict_job_report_stage (job, DEPICT_JOB_STAGE_ENCODING, 0, file);
  options.task = task;
  options.text_input = text_input;
  options.num_beams = MAX (settings->num_beams, 0);
  options.max_new_tokens = MAX (settings->max_new_tokens, 0);
  return florence_model_run (model, image, &options, cancellable, tokens_cb, &relay, error);
}

static gboolean
store_run (DepictSession *self, const char *path, GalleryRun *run, GError **error)
{
  GalleryStore *store = depict_session_lock_store (self, error);
  gint64 image_id;
  gboolean ok;

  if (store == NULL)
    return FALSE;
  image_id = gallery_store_add_image (store, path, NULL, error);
  ok = image_id != 0 && gallery_store_add_run (store, image_id, run, error) != 0;
  depict_session_unlock_store (self);
  return ok;
}

static void
execute_run (DepictSession *self, DepictJob *job)
{
  const DepictRunSettings *settings = depict_job_get_settings (job);
  GFile *file = g_ptr_array_index (depict_job_get_files (job), 0);
  const char *task = depict_job_get_tasks (job)[0];
  g_autofree char *path = g_file_get_path (file);
  g_autoptr (FlorenceRun) run = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryRun) record = NULL;
  g_autoptr (DepictAnswer) answer = NULL;
  g_autofree char *info = NULL;
  const char *weights_hash;
  gboolean loaded = FALSE;

  run = run_model (self, job, file, task, depict_job_get_text_input (job), &loaded, &error);
  if (run == NULL)
    {
      _depict_job_report_finished (job, error, _depict_session_job_done, G_OBJECT (self));
      return;
    }

  info = run_info (run, settings, loaded);
  answer = depict_answer_new (run->task, run->text_input, florence_result_copy (run->result), info);

  /* Kept in the gallery, keyed by the weights it came from. */
  _depict_job_report_stage (job, DEPICT_JOB_STAGE_SAVING, 0, file);
  weights_hash = ensure_weights_hash (&self->worker, settings, &error);
  if (weights_hash != NULL)
    {
      record = run_to_gallery (run, settings, weights_hash);
      if (store_run (self, path, record, &error))
        answer->run_id = record->id;
    }
  if (error != NULL)
    _depict_job_report_store_error (job, error);
  _depict_job_report_answer (job, file, answer);
  _depict_job_report_finished (job, NULL, _depict_session_job_done, G_OBJECT (self));
}

/* ---------------------------------------------------------------------------------------- */
/* A batch through the gallery's tagger                                                     */

typedef struct {
  DepictSession *self;
  DepictJob *job;
  const char *weights_hash;
  guint failed; /* failures reported so far */
  guint skipped;
  GFile *answered; /* the photo last answered */
} Batch;

static void drain_runs (DepictSession *self);

/* The tagger's GalleryRunFunc, called with the store locked (the tagger works through the
 * session's connection): unlocked while the model runs, so that the views read the gallery
 * meanwhile and runs asked for now are done first. */
static GalleryRun *
batch_run_func (const char *image_path, const char *task, const char *text_input,
                gpointer user_data, GCancellable *cancellable, GError **error)
{
  Batch *batch = user_data;
  g_autoptr (GFile) file = g_file_new_for_path (image_path);
  g_autoptr (FlorenceRun) run = NULL;
  GalleryRun *record = NULL;
  gboolean loaded = FALSE;

  depict_session_unlock_store (batch->self);
  drain_runs (batch->self);
  run = run_model (batch->self, batch->job, file, task, text_input, &loaded, error);
  if (run != NULL)
    {
      const DepictRunSettings *settings = depict_job_get_settings (batch->job);
      g_autofree char *info = run_info (run, settings, loaded);
      g_autoptr (DepictAnswer) answer = NULL;

      answer =
        depict_answer_new (run->task, run->text_input, florence_result_copy (run->result), info);
      record = run_to_gallery (run, settings, batch->weights_hash);
      _depict_job_report_answer (batch->job, file, answer);
      g_set_object (&batch->answered, file);
    }
  else if (!g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      _depict_job_report_failure (batch->job, file, *error);
      batch->failed++;
    }
  /* The tagger goes on with the store (open: it had it, so this cannot fail). */
  if (depict_session_lock_store (batch->self, NULL) == NULL)
    g_critical ("The gallery was closed during a batch");
  return record;
}

static void
batch_progress_cb (const GalleryTaggerProgress *progress, gpointer user_data)
{
  Batch *batch = user_data;

  if (progress->current_path != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_path (progress->current_path);

      /* Photos the tagger skipped (all done) or could not read (before the model). */
      if (progress->skipped > batch->skipped)
        _depict_job_report_skipped (batch->job, file);
      else if (progress->failed > batch->failed)
        {
          g_autoptr (GError) error =
            g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                         _ ("This photo cannot be read. It may be damaged or not a photo."));

          _depict_job_report_failure (batch->job, file, error);
        }
      batch->failed = progress->failed;
      batch->skipped = progress->skipped;
    }
  _depict_job_report_progress (batch->job, progress->done, progress->total, progress->seconds_left);
}

static void
execute_batch (DepictSession *self, DepictJob *job)
{
  const DepictRunSettings *settings = depict_job_get_settings (job);
  GCancellable *cancellable = depict_job_get_cancellable (job);
  GPtrArray *files = depict_job_get_files (job);
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) photos = NULL;
  g_autoptr (GError) error = NULL;
  GalleryTaggerOptions options = { 0 };
  GalleryTaggerSummary summary = { 0 };
  Batch batch = { self, job, NULL, 0, 0, NULL };
  GalleryStore *store;

  _depict_job_report_stage (job, DEPICT_JOB_STAGE_WAITING, 0, NULL);
  batch.weights_hash = ensure_weights_hash (&self->worker, settings, &error);
  if (batch.weights_hash == NULL)
    {
      _depict_job_report_finished (job, error, _depict_session_job_done, G_OBJECT (self));
      return;
    }

  /* The photos are found before the gallery is held (a large folder takes a while). */
  for (guint i = 0; i < files->len; i++)
    {
      char *path = g_file_get_path (g_ptr_array_index (files, i));

      if (path != NULL)
        g_ptr_array_add (args, path);
    }
  g_ptr_array_add (args, NULL);
  photos = gallery_tagger_collect ((const char *const *) args->pdata, TRUE, cancellable, &error);
  if (photos == NULL)
    {
      _depict_job_report_finished (job, error, _depict_session_job_done, G_OBJECT (self));
      return;
    }
  g_ptr_array_add (photos, NULL);

  options.model_name = settings->model_name;
  options.weights_hash = batch.weights_hash;
  options.num_beams = settings->num_beams;
  options.max_new_tokens = settings->max_new_tokens;
  options.tasks = depict_job_get_tasks (job);
  options.text_input = depict_job_get_text_input (job);
  options.recursive = FALSE;
  options.run_func = batch_run_func;
  options.run_data = &batch;
  options.progress_func = batch_progress_cb;
  options.progress_data = &batch;

  store = depict_session_lock_store (self, &error);
  if (store != NULL)
    {
      gallery_tagger_run (store, &options, (const char *const *) photos->pdata, &summary,
                          cancellable, &error);
      depict_session_unlock_store (self);
    }
  _depict_job_report_summary (job, summary.processed, summary.skipped, summary.failed,
                              summary.failures);
  gallery_tagger_summary_clear (&summary);
  g_clear_object (&batch.answered);
  _depict_job_report_finished (job, error, _depict_session_job_done, G_OBJECT (self));
}

/* ---------------------------------------------------------------------------------------- */
/* The thread                                                                               */

static DepictJob *
next_job (DepictWorker *worker, gboolean runs_only, gboolean wait)
{
  DepictJob *job = NULL;

  g_mutex_lock (&worker->lock);
  while (wait && !worker->quit && g_queue_is_empty (&worker->runs) &&
         g_queue_is_empty (&worker->batches))
    g_cond_wait (&worker->cond, &worker->lock);
  job = g_queue_pop_head (&worker->runs);
  if (job == NULL && !runs_only)
    job = g_queue_pop_head (&worker->batches);
  g_mutex_unlock (&worker->lock);
  return job;
}

static void
execute (DepictSession *self, DepictJob *job)
{
  g_autoptr (GError) error = NULL;

  if (g_cancellable_set_error_if_cancelled (depict_job_get_cancellable (job), &error))
    _depict_job_report_finished (job, error, _depict_session_job_done, G_OBJECT (self));
  else if (depict_job_get_kind (job) == DEPICT_JOB_RUN)
    execute_run (self, job);
  else
    execute_batch (self, job);
}

/* Runs asked for while a batch goes on. */
static void
drain_runs (DepictSession *self)
{
  DepictJob *job;

  while ((job = next_job (&self->worker, TRUE, FALSE)) != NULL)
    {
      execute (self, job);
      g_object_unref (job);
    }
}

static gpointer
worker_main (gpointer data)
{
  DepictSession *self = data;
  DepictJob *job;

  while ((job = next_job (&self->worker, FALSE, TRUE)) != NULL)
    {
      execute (self, job);
      g_object_unref (job);
    }
  g_clear_pointer (&self->worker.model, florence_model_free);
  return NULL;
}

void
_depict_session_worker_start (DepictSession *self)
{
  DepictWorker *worker = &self->worker;

  g_mutex_init (&worker->lock);
  g_cond_init (&worker->cond);
  g_queue_init (&worker->runs);
  g_queue_init (&worker->batches);
  worker->thread = g_thread_new ("depict-worker", worker_main, self);
}

void
_depict_session_worker_push (DepictSession *self, DepictJob *job)
{
  DepictWorker *worker = &self->worker;

  g_mutex_lock (&worker->lock);
  if (depict_job_get_kind (job) == DEPICT_JOB_RUN)
    g_queue_push_tail (&worker->runs, g_object_ref (job));
  else
    g_queue_push_tail (&worker->batches, g_object_ref (job));
  g_cond_signal (&worker->cond);
  g_mutex_unlock (&worker->lock);
}

static void
cancel_each (gpointer job, gpointer user_data)
{
  depict_job_cancel (job);
}

void
_depict_session_worker_stop (DepictSession *self)
{
  DepictWorker *worker = &self->worker;

  if (worker->thread == NULL)
    return;
  /* What is queued is cancelled: the thread reports each as stopped, then ends. */
  for (guint i = 0; i < self->jobs->len; i++)
    depict_job_cancel (g_ptr_array_index (self->jobs, i));
  g_mutex_lock (&worker->lock);
  g_queue_foreach (&worker->runs, cancel_each, NULL);
  g_queue_foreach (&worker->batches, cancel_each, NULL);
  worker->quit = TRUE;
  g_cond_signal (&worker->cond);
  g_mutex_unlock (&worker->lock);
  g_thread_join (g_steal_pointer (&worker->thread));

  g_clear_pointer (&worker->model_key, g_free);
  g_clear_pointer (&worker->weights_hash, g_free);
  g_clear_pointer (&worker->hash_dir, g_free);
  g_mutex_clear (&worker->lock);
  g_cond_clear (&worker->cond);
}
