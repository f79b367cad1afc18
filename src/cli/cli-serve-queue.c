/* cli-serve-queue.c: depict-cli serve's jobs and the worker that runs them (see
 * cli-serve-queue.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "cli-serve-queue.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <errno.h>
#include <math.h>

#include "florence/text/florence-task.h"
#include "image/image-loader.h"

struct _CliServeQueue {
  FlorenceModel *model;
  guint max_waiting;
  guint64 max_pixels;
  char *upload_dir;
  CliServeStoreFunc store;
  gpointer store_data;
  GMainContext *context; /* where jobs are handed back */

  GMutex lock;
  GCond cond;
  GQueue waiting;       /* CliServeJob, oldest first */
  CliServeJob *running; /* NULL when idle */
  gboolean stopping;
  double run_seconds_sum; /* for Retry-After */
  guint64 runs;
  guint64 uploads;
  GThread *thread;
};

CliServeJob *
cli_serve_job_new (CliServeRequest *request, CliServeJobDone done, gpointer done_data)
{
  CliServeJob *job = g_new0 (CliServeJob, 1);
  job->request = request;
  job->cancellable = g_cancellable_new ();
  job->queued_at = g_get_monotonic_time ();
  job->done = done;
  job->done_data = done_data;
  return job;
}

void
cli_serve_job_free (CliServeJob *job)
{
  if (job == NULL)
    return;
  cli_serve_request_free (job->request);
  g_clear_object (&job->cancellable);
  g_clear_pointer (&job->run, florence_run_free);
  g_clear_error (&job->error);
  g_free (job);
}

static gboolean
job_done_in_main (gpointer data)
{
  CliServeJob *job = data;
  job->done (job, job->done_data);
  return G_SOURCE_REMOVE;
}

/* Always through an idle source, never at once: a job cancelled from the main thread is
 * handed back while its caller still uses it. */
static void
hand_back (CliServeQueue *queue, CliServeJob *job)
{
  g_autoptr (GSource) source = g_idle_source_new ();

  job->finished_at = g_get_monotonic_time ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, job_done_in_main, job, NULL);
  g_source_attach (source, queue->context);
}

/* ------------------------------------------------------------------------------------------ */
/* One job, in the worker thread                                                               */

/* An uploaded picture goes to a private file, since the image loader reads files (every
 * format, orientation, the pixel limit from the header). Its messages name the file: it is
 * called by the name the client gave, or "the picture sent", in a folder of its own. */
static char *
write_upload (CliServeQueue *queue, const CliServeRequest *request, GError **error)
{
  g_autofree char *number = g_strdup_printf ("%" G_GUINT64_FORMAT, ++queue->uploads);
  g_autofree char *dir = g_build_filename (queue->upload_dir, number, NULL);
  g_autofree char *base =
    request->image_name != NULL ? g_path_get_basename (request->image_name) : NULL;
  const char *name = base != NULL && base[0] != '\0' && base[0] != '.' && base[0] != '/'
                       ? base
                       : _ ("the picture sent");
  g_autofree char *path = g_build_filename (dir, name, NULL);
  gsize size;
  const char *data = g_bytes_get_data (request->image, &size);

  if (g_mkdir (dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   _ ("The picture cannot be written to %s: %s"), dir, g_strerror (errno));
      return NULL;
    }
  if (!g_file_set_contents_full (path, data, (gssize) size, G_FILE_SET_CONTENTS_NONE, 0600, error))
    {
      g_rmdir (dir);
      return NULL;
    }
  return g_steal_pointer (&path);
}

static void
remove_upload (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_unlink (path);
  g_rmdir (dir);
}

static FlorenceRun *
run_job (CliServeQueue *queue, CliServeJob *job, GError **error)
{
  const CliServeRequest *request = job->request;
  g_autofree char *upload = NULL;
  g_autofree char *region = NULL;
  g_autoptr (ImageRgb) image = NULL;
  g_autoptr (FlorenceRun) run = NULL;
  const char *path = request->image_path;
  ImageLoadOptions load_options = { .max_pixels = queue->max_pixels };
  gint64 t0 = g_get_monotonic_time ();
  double decode_seconds;

  if (request->image != NULL)
    {
      upload = write_upload (queue, request, error);
      if (upload == NULL)
        return NULL;
      path = upload;
    }
  image = image_load (path, &load_options, error);
  decode_seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  if (image == NULL)
    goto out;

  if (request->has_region)
    {
      const double *r = request->region;
      region = florence_task_region_input (r[0], r[1], r[2], r[3], image->width, image->height);
      if (region == NULL)
        {
          g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                               _ ("“region” must be four finite numbers."));
          goto out;
        }
    }
  FlorenceRunOptions options = {
    .task = request->task,
    .text_input = region != NULL ? region : request->text_input,
    .num_beams = request->num_beams,
    .max_new_tokens = request->max_new_tokens,
    .image_size = request->image_size,
    .prompt_ids = request->prompt_ids != NULL ? (const gint32 *) request->prompt_ids->data : NULL,
    .n_prompt_ids = request->prompt_ids != NULL ? request->prompt_ids->len : 0,
  };
  run = florence_model_run (queue->model, image, &options, job->cancellable, NULL, NULL, error);
  if (run == NULL)
    goto out;
  /* As florence_model_run_file counts it: decoding is preprocessing. */
  run->timings.preprocess += decode_seconds;
  run->timings.total += decode_seconds;

  if (queue->store != NULL)
    {
      g_autoptr (GError) store_error = NULL;
      if (!queue->store (request, path, run, queue->store_data, &store_error))
        g_printerr ("depict-cli serve: %s\n", store_error->message);
    }

out:
  if (upload != NULL)
    remove_upload (upload);
  return g_steal_pointer (&run);
}

static gpointer
worker (gpointer data)
{
  CliServeQueue *queue = data;

  g_mutex_lock (&queue->lock);
  for (;;)
    {
      CliServeJob *job;
      while (queue->waiting.length == 0 && !queue->stopping)
        g_cond_wait (&queue->cond, &queue->lock);
      job = g_queue_pop_head (&queue->waiting);
      if (job == NULL)
        break;
      job->waiting = FALSE;
      queue->running = job;
      g_mutex_unlock (&queue->lock);

      job->started_at = g_get_monotonic_time ();
      job->run = run_job (queue, job, &job->error);

      g_mutex_lock (&queue->lock);
      queue->running = NULL;
      queue->run_seconds_sum +=
        (double) (g_get_monotonic_time () - job->started_at) / G_USEC_PER_SEC;
      queue->runs++;
      hand_back (queue, job);
    }
  g_mutex_unlock (&queue->lock);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */

CliServeQueue *
cli_serve_queue_new (const CliServeQueueOptions *options)
{
  CliServeQueue *queue = g_new0 (CliServeQueue, 1);

  queue->model = options->model;
  queue->max_waiting = options->max_waiting;
  queue->max_pixels = options->max_pixels;
  queue->upload_dir = g_strdup (options->upload_dir);
  queue->store = options->store;
  queue->store_data = options->store_data;
  queue->context = g_main_context_ref_thread_default ();
  g_mutex_init (&queue->lock);
  g_cond_init (&queue->cond);
  g_queue_init (&queue->waiting);
  queue->thread = g_thread_new ("depict-serve", worker, queue);
  return queue;
}

void
cli_serve_queue_free (CliServeQueue *queue)
{
  CliServeJob *job;

  if (queue == NULL)
    return;
  g_mutex_lock (&queue->lock);
  queue->stopping = TRUE;
  while ((job = g_queue_pop_head (&queue->waiting)) != NULL)
    {
      job->waiting = FALSE;
      g_set_error_literal (&job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _ ("The server stopped before this request ran."));
      hand_back (queue, job);
    }
  g_cond_signal (&queue->cond);
  g_mutex_unlock (&queue->lock);
  g_thread_join (queue->thread);
  /* Jobs handed back but not yet seen by the main context. */
  while (g_main_context_iteration (queue->context, FALSE))
    ;
  g_main_context_unref (queue->context);
  g_mutex_clear (&queue->lock);
  g_cond_clear (&queue->cond);
  g_free (queue->upload_dir);
  g_free (queue);
}

gboolean
cli_serve_queue_push (CliServeQueue *queue, CliServeJob *job)
{
  gboolean ok;

  g_mutex_lock (&queue->lock);
  ok = !queue->stopping && queue->waiting.length < queue->max_waiting;
  if (ok)
    {
      job->waiting = TRUE;
      job->queued_at = g_get_monotonic_time ();
      g_queue_push_tail (&queue->waiting, job);
      g_cond_signal (&queue->cond);
    }
  g_mutex_unlock (&queue->lock);
  return ok;
}

void
cli_serve_queue_cancel (CliServeQueue *queue, CliServeJob *job)
{
  g_cancellable_cancel (job->cancellable);
  g_mutex_lock (&queue->lock);
  if (job->waiting && g_queue_remove (&queue->waiting, job))
    {
      job->waiting = FALSE;
      g_set_error_literal (&job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                           _ ("The client went away before this request ran."));
      hand_back (queue, job);
    }
  g_mutex_unlock (&queue->lock);
}

void
cli_serve_queue_get_state (CliServeQueue *queue, guint *waiting, guint *running)
{
  g_mutex_lock (&queue->lock);
  *waiting = queue->waiting.length;
  *running = queue->running != NULL ? 1 : 0;
  g_mutex_unlock (&queue->lock);
}

guint
cli_serve_queue_get_limit (CliServeQueue *queue)
{
  return queue->max_waiting;
}

guint
cli_serve_queue_retry_after (CliServeQueue *queue)
{
  double mean, seconds;

  g_mutex_lock (&queue->lock);
  mean = queue->runs > 0 ? queue->run_seconds_sum / (double) queue->runs : 1.0;
  seconds = mean * (queue->waiting.length + (queue->running != NULL ? 1 : 0));
  g_mutex_unlock (&queue->lock);
  return (guint) CLAMP (ceil (seconds), 1, 3600);
}
