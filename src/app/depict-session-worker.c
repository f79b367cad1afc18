/* depict-session-worker.c
 *
 * The session's worker thread: it alone touches the loaded model, loading it on first use
 * and keeping it for the next job, and does the jobs one at a time, runs before batches (a
 * run asked for during a batch is done between two of the batch's photos). A batch goes
 * through the gallery's tagger and its pipeline (photos decoded ahead, each photo's tasks on
 * one set of features), keyed by the model's name and weights hash as depict-cli tag keys
 * its runs, so that each finds the other's work done. Every answer is kept in the gallery
 * through the session's one connection.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-session"

#include "config.h"

#include <glib/gi18n.h>
#include <string.h>
#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "depict-session-private.h"
#include "florence/engine/florence-device.h"
#include "gallery/gallery-pipeline.h"
#include "gallery/gallery-tagger.h"
#include "image/image-files.h"
#include "image/image-thumbnail-cache.h"

/* How much lower than the window the model's threads run (nice levels). */
#define WORKER_NICE 10

/* ---------------------------------------------------------------------------------------- */
/* The loaded model                                                                         */

static char *
model_key (const DepictRunSettings *settings)
{
  return g_strdup_printf ("%s\n%s\n%s", settings->model_dir,
                          settings->tokenizer_dir != NULL ? settings->tokenizer_dir : "",
                          settings->device != NULL ? settings->device : "");
}

/* Whether a graphics card has yet to build Depict's pipelines (the first run compiles every
 * shader for it, which takes a while once; the GPU engine then keeps them in its pipeline
 * cache, one file per device in the user cache folder, and later starts are fast). No cache
 * file of any device means this is the first time. */
static gboolean
first_gpu_use (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "depict", NULL);
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_prefix (name, "pipeline-cache-") && g_str_has_suffix (name, ".bin"))
      return FALSE;
  return TRUE;
}

/* The model of SETTINGS, loaded when it is not the one kept. *LOADED tells whether it was
 * loaded now. */
static FlorenceModel *
ensure_model (DepictWorker *worker, DepictJob *job, const DepictRunSettings *settings,
              gboolean *loaded, GError **error)
{
  g_autofree char *key = model_key (settings);
  g_autofree char *vulkan_selector = NULL;
  FlorenceModelOptions options = { 0 };

  *loaded = FALSE;
  if (worker->model != NULL && g_strcmp0 (key, worker->model_key) == 0)
    {
      if (florence_model_get_n_threads (worker->model) != 0 &&
          florence_model_get_n_threads (worker->model) !=
            (settings->n_threads > 0 ? settings->n_threads : florence_device_default_threads ()))
        florence_model_set_n_threads (worker->model, settings->n_threads);
      return worker->model;
    }

  g_clear_pointer (&worker->images, florence_image_cache_free);
  g_clear_pointer (&worker->model, florence_model_free);
  g_clear_pointer (&worker->model_key, g_free);
  _depict_job_report_stage (job, DEPICT_JOB_STAGE_LOADING_MODEL, 0, NULL);
  if (!florence_device_parse (settings->device, &options.device, &vulkan_selector, error))
    return NULL;
  options.vulkan_device = vulkan_selector;
  options.tokenizer_dir = settings->tokenizer_dir;
  options.n_threads = settings->n_threads;
  worker->preparing = first_gpu_use ();
  worker->model = florence_model_load (settings->model_dir, &options, error);
  if (worker->model == NULL)
    return NULL;
  worker->preparing =
    worker->preparing && florence_model_get_device_kind (worker->model) == FLORENCE_DEVICE_VULKAN;
  worker->model_key = g_steal_pointer (&key);
  worker->images = florence_image_cache_new (worker->model, 0);
  *loaded = TRUE;
  g_debug ("Loaded %s on %s in %.1f s", settings->model_dir,
           florence_model_get_device_name (worker->model),
           florence_model_get_load_seconds (worker->model));
  return worker->model;
}

/* How long a task takes on a photo with these settings, for the next estimate (kept in the
 * settings by the main context when the job ends). */
static void
note_task_seconds (DepictSession *self, const DepictRunSettings *settings, double seconds)
{
  DepictWorker *worker = &self->worker;

  if (!(seconds > 0))
    return;
  g_mutex_lock (&worker->lock);
  worker->measured_seconds = seconds;
  g_free (worker->measured_key);
  worker->measured_key = _depict_session_task_seconds_key (settings);
  g_mutex_unlock (&worker->lock);
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

/* "2.1 s · base · 3 beams", and the model's loading when this run waited for it. */
static char *
run_info (const FlorenceRun *run, FlorenceModel *model, gboolean loaded)
{
  double seconds = run->timings.total + (loaded ? run->timings.load : 0.0);
  /* Translators: shown under the answer: time taken, model, beams ("2.1 s · base · 3 beams") */
  g_autofree char *info =
    g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%.1f s · %s · %u beam",
                                  "%.1f s · %s · %u beams", run->num_beams),
                     seconds, florence_model_get_config (model)->name, run->num_beams);

  if (run->timings.cached)
    {
      /* Translators: after the time a run took, when the photo's image features made by an
       * earlier task were used again (the slow part of a run, skipped) */
      g_autofree char *reused = g_strdup_printf (_ ("%s · photo features reused"), info);

      g_free (info);
      info = g_steal_pointer (&reused);
    }
  if (!loaded)
    return g_steal_pointer (&info);
  /* Translators: after the time a run took, when it included loading the model first */
  return g_strdup_printf (_ ("%s (loading the model: %.1f s)"), info, run->timings.load);
}

static void
execute_run (DepictSession *self, DepictJob *job)
{
  DepictWorker *worker = &self->worker;
  const DepictRunSettings *settings = depict_job_get_settings (job);
  GCancellable *cancellable = depict_job_get_cancellable (job);
  GFile *file = g_ptr_array_index (depict_job_get_files (job), 0);
  g_autofree char *path = g_file_get_path (file);
  g_autoptr (FlorenceModelImage) image = NULL;
  g_autoptr (FlorenceRun) run = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryRun) record = NULL;
  g_autoptr (DepictAnswer) answer = NULL;
  g_autofree char *info = NULL;
  FlorenceRunOptions options = { 0 };
  TokenRelay relay = { job, file };
  FlorenceModel *model = NULL;
  const char *weights_hash;
  gboolean loaded = FALSE;

  if (path == NULL)
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                 _ ("Only photos on this computer can be read. Copy it here first."));
  else
    model = ensure_model (worker, job, settings, &loaded, &error);
  if (model != NULL && !g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      /* A photo run a moment ago keeps its features: another task on it skips the vision
       * tower (the run's timings say cached). */
      _depict_job_report_stage (job, DEPICT_JOB_STAGE_READING_IMAGE, 0, file);
      image = florence_image_cache_get_file (worker->images, path, 0, cancellable, &error);
    }
  if (image != NULL && !g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      _depict_job_report_stage (
        job, worker->preparing ? DEPICT_JOB_STAGE_PREPARING : DEPICT_JOB_STAGE_ENCODING, 0, file);
      options.task = depict_job_get_tasks (job)[0];
      options.text_input = depict_job_get_text_input (job);
      options.num_beams = MAX (settings->num_beams, 0);
      options.max_new_tokens = MAX (settings->max_new_tokens, 0);
      run =
        florence_model_run_image (model, image, &options, cancellable, tokens_cb, &relay, &error);
    }
  if (run == NULL)
    {
      _depict_job_report_finished (job, error, _depict_session_job_done, G_OBJECT (self));
      return;
    }

  worker->preparing = FALSE;
  /* A run on features made before skipped the photo's part: it says little of a batch. */
  if (!run->timings.cached)
    note_task_seconds (self, settings, run->timings.total);
  info = run_info (run, model, loaded);
  answer = depict_answer_new (run->task, run->text_input, florence_result_copy (run->result), info);

  /* Kept in the gallery, keyed by the weights it came from. */
  _depict_job_report_stage (job, DEPICT_JOB_STAGE_SAVING, 0, file);
  weights_hash = florence_model_get_weights_hash (model, &error);
  if (weights_hash != NULL)
    {
      GalleryStore *store = depict_session_get_store (self, &error);
      gint64 image_id = store != NULL ? gallery_store_add_image (store, path, NULL, &error) : 0;

      /* Keyed as depict-cli tag keys its runs. */
      record = gallery_run_new_from_florence (run, florence_model_get_config (model)->name,
                                              weights_hash, settings->max_new_tokens);
      record->min_tag_score = settings->min_tag_score;
      if (image_id != 0 && gallery_store_add_run (store, image_id, record, &error) != 0)
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
  GPtrArray *photos; /* char *: every photo of the batch, in the tagger's order */
  guint n_photos;
  guint processed, skipped, failed;
  GalleryTaggerSummary *summary; /* the tagger's, filled as it goes */
} Batch;

static void drain_runs (DepictSession *self, const char *model_key);

/* A task's tokens on the photo of a batch (the model's thread). */
static void
batch_tokens_cb (const char *path, const char *task, guint n_tokens, gpointer user_data)
{
  Batch *batch = user_data;
  g_autoptr (GFile) file = g_file_new_for_path (path);

  _depict_job_report_task_stage (batch->job, DEPICT_JOB_STAGE_GENERATING, n_tokens, file, task);
}

/* Why the tagger could not tag PATH, as its list of failures says ("path: why"), or NULL. */
static const char *
failure_of (Batch *batch, const char *path)
{
  GPtrArray *failures = batch->summary->failures;
  gsize n = strlen (path);

  for (guint i = failures != NULL ? failures->len : 0; i > 0; i--)
    {
      const char *line = g_ptr_array_index (failures, i - 1);

      if (strncmp (line, path, n) == 0 && strncmp (line + n, ": ", 2) == 0)
        return line + n + 2;
    }
  return NULL;
}

/* After each photo, in the batch's thread (the one that holds the model): what became of
 * it, the next one, and the runs asked for meanwhile. */
static void
batch_progress_cb (const GalleryTaggerProgress *progress, gpointer user_data)
{
  Batch *batch = user_data;

  if (progress->current_path != NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_path (progress->current_path);

      if (progress->failed > batch->failed)
        {
          const char *why = failure_of (batch, progress->current_path);
          g_autoptr (GError) error = g_error_new_literal (
            G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
            why != NULL ? why : _ ("This photo cannot be read. It may be damaged or not a photo."));

          _depict_job_report_failure (batch->job, file, error);
        }
      else
        /* Its answers are in the gallery: run now, or before (skipped). */
        _depict_job_report_stored (batch->job, file);
      batch->processed = progress->processed;
      batch->skipped = progress->skipped;
      batch->failed = progress->failed;
      if (progress->processed > 0)
        batch->self->worker.preparing = FALSE;
    }
  _depict_job_report_progress_rate (batch->job, progress->done, progress->total,
                                    progress->seconds_left, progress->images_per_second * 3600);
  if (progress->images_per_second > 0)
    note_task_seconds (batch->self, depict_job_get_settings (batch->job),
                       1.0 /
                         (progress->images_per_second *
                          MAX (1, g_strv_length ((char **) depict_job_get_tasks (batch->job)))));
  drain_runs (batch->self, batch->self->worker.model_key);
  if (progress->done < batch->n_photos)
    {
      g_autoptr (GFile) next =
        g_file_new_for_path (g_ptr_array_index (batch->photos, progress->done));

      _depict_job_report_stage (batch->job,
                                batch->self->worker.preparing ? DEPICT_JOB_STAGE_PREPARING
                                                              : DEPICT_JOB_STAGE_ENCODING,
                                0, next);
    }
}

static void
execute_batch (DepictSession *self, DepictJob *job)
{
  DepictWorker *worker = &self->worker;
  const DepictRunSettings *settings = depict_job_get_settings (job);
  GCancellable *cancellable = depict_job_get_cancellable (job);
  GPtrArray *files = depict_job_get_files (job);
  g_autoptr (GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) photos = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *gallery = NULL;
  g_autoptr (GalleryPipeline) pipeline = NULL;
  GalleryTaggerOptions options = { 0 };
  GalleryTaggerSummary summary = { 0 };
  Batch batch = { self, job, NULL, 0, 0, 0, 0, NULL };
  GalleryStore *store;
  FlorenceModel *model;
  const char *weights_hash = NULL;
  gboolean loaded;

  _depict_job_report_stage (job, DEPICT_JOB_STAGE_WAITING, 0, NULL);

  /* The photos first (a large folder takes a while), then the model they are run on. */
  for (guint i = 0; i < files->len; i++)
    {
      char *path = g_file_get_path (g_ptr_array_index (files, i));

      if (path != NULL)
        g_ptr_array_add (args, path);
    }
  g_ptr_array_add (args, NULL);
  /* Never a look at the gallery's own files (image-files.h: that would drop its locks). */
  gallery = depict_session_dup_gallery_path (self);
  photos = image_files_collect_skipping ((const char *const *) args->pdata,
                                         (const char *const[]){ gallery, NULL }, TRUE, NULL, NULL,
                                         cancellable, &error);
  if (photos != NULL)
    {
      batch.photos = photos;
      batch.n_photos = photos->len;
      _depict_job_report_progress (job, 0, photos->len, -1);
    }
  model = photos != NULL ? ensure_model (worker, job, settings, &loaded, &error) : NULL;
  if (model != NULL)
    weights_hash = florence_model_get_weights_hash (model, &error);
  store = weights_hash != NULL ? depict_session_get_store (self, &error) : NULL;
  if (store == NULL)
    {
      _depict_job_report_finished (job, error, _depict_session_job_done, G_OBJECT (self));
      return;
    }

  /* The grid's thumbnails come from the decode the model needs anyway. */
  pipeline =
    gallery_pipeline_new (&(GalleryPipelineOptions){ .model = model,
                                                     .thumbnail_size = IMAGE_THUMBNAIL_CACHE_LARGE,
                                                     .save_thumbnails = TRUE,
                                                     .token_func = batch_tokens_cb,
                                                     .token_data = &batch });
  options.model_name = florence_model_get_config (model)->name;
  options.weights_hash = weights_hash;
  options.num_beams = settings->num_beams;
  options.max_new_tokens = settings->max_new_tokens;
  options.min_tag_score = settings->min_tag_score;
  options.tasks = depict_job_get_tasks (job);
  options.text_input = depict_job_get_text_input (job);
  options.recursive = FALSE;
  options.pipeline = pipeline;
  options.progress_func = batch_progress_cb;
  options.progress_data = &batch;
  batch.summary = &summary;
  g_ptr_array_add (photos, NULL);
  gallery_tagger_run (store, &options, (const char *const *) photos->pdata, &summary, cancellable,
                      &error);
  g_ptr_array_set_size (photos, photos->len - 1);
  /* The pipeline lets go of its photos before the model may go. */
  g_clear_pointer (&pipeline, gallery_pipeline_free);

  _depict_job_report_summary (job, summary.processed, summary.skipped, summary.failed,
                              summary.failures);
  gallery_tagger_summary_clear (&summary);
  _depict_job_report_finished (job, error, _depict_session_job_done, G_OBJECT (self));
}

/* ---------------------------------------------------------------------------------------- */
/* The thread                                                                               */

/* The next job: runs first; with RUNS_FOR only a run that uses that model (during a batch,
 * which holds it); with WAIT until there is one or the worker is to quit. */
static DepictJob *
next_job (DepictWorker *worker, const char *runs_for, gboolean wait)
{
  DepictJob *job = NULL;

  g_mutex_lock (&worker->lock);
  while (wait && !worker->quit && g_queue_is_empty (&worker->runs) &&
         g_queue_is_empty (&worker->batches))
    g_cond_wait (&worker->cond, &worker->lock);
  job = g_queue_peek_head (&worker->runs);
  if (job != NULL && runs_for != NULL)
    {
      g_autofree char *key = model_key (depict_job_get_settings (job));

      if (g_strcmp0 (key, runs_for) != 0 &&
          !g_cancellable_is_cancelled (depict_job_get_cancellable (job)))
        job = NULL;
    }
  if (job != NULL)
    g_queue_pop_head (&worker->runs);
  else if (runs_for == NULL)
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

/* Runs asked for while a batch goes on, with the batch's model (those for another model wait
 * for the batch's end). */
static void
drain_runs (DepictSession *self, const char *model_key)
{
  DepictJob *job;

  if (model_key == NULL)
    return;
  while ((job = next_job (&self->worker, model_key, FALSE)) != NULL)
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

#ifdef __linux__
  /* The model's work yields to the window's: a thread's nice value is its own on Linux, and
   * the engine's threads (made from this one) inherit it, so that the main thread gets a
   * core at once when a person clicks or types, however busy the model keeps the others. */
  if (setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid),
                   getpriority (PRIO_PROCESS, 0) + WORKER_NICE) != 0)
    g_debug ("The model's thread keeps the window's priority");
#endif

  while ((job = next_job (&self->worker, NULL, TRUE)) != NULL)
    {
      execute (self, job);
      g_object_unref (job);
    }
  g_clear_pointer (&self->worker.images, florence_image_cache_free);
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
  g_clear_pointer (&worker->measured_key, g_free);
  g_mutex_clear (&worker->lock);
  g_cond_clear (&worker->cond);
}
