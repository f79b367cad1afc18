/* gallery-tagger-async.c: batch tagging in a worker thread, its progress relayed to the
 * caller's main context
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gallery/gallery-tagger-async.h"

#include <string.h>

typedef struct {
  GalleryStore *store;
  GalleryTaggerOptions options; /* progress_func replaced by relay_progress */
  GalleryTaggerProgressFunc progress_func;
  gpointer progress_data;
  const char *const *paths;
  GMainContext *context;
  GalleryTaggerSummary summary;
} Batch;

typedef struct {
  GTask *task; /* a reference, so that the batch outlives late progress */
  GalleryTaggerProgress progress;
  char *current_path;
} ProgressCopy;

static void
batch_free (Batch *batch)
{
  gallery_tagger_summary_clear (&batch->summary);
  g_main_context_unref (batch->context);
  g_free (batch);
}

static void
progress_copy_free (ProgressCopy *copy)
{
  g_object_unref (copy->task);
  g_free (copy->current_path);
  g_free (copy);
}

static gboolean
deliver_progress (gpointer data)
{
  ProgressCopy *copy = data;
  Batch *batch = g_task_get_task_data (copy->task);

  copy->progress.current_path = copy->current_path;
  batch->progress_func (&copy->progress, batch->progress_data);
  return G_SOURCE_REMOVE;
}

/* In the worker thread. */
static void
relay_progress (const GalleryTaggerProgress *progress, gpointer user_data)
{
  GTask *task = user_data;
  Batch *batch = g_task_get_task_data (task);
  ProgressCopy *copy = g_new0 (ProgressCopy, 1);
  GSource *source;

  copy->task = g_object_ref (task);
  copy->progress = *progress;
  copy->current_path = g_strdup (progress->current_path);
  source = g_idle_source_new ();

  /* A source attached to the caller's context, never g_main_context_invoke(): that calls
   * the function right here, in this thread, whenever the caller's context is not running. */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, deliver_progress, copy, (GDestroyNotify) progress_copy_free);
  g_source_attach (source, batch->context);
  g_source_unref (source);
}

static void
run_in_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Batch *batch = task_data;
  GError *error = NULL;

  if (gallery_tagger_run (batch->store, &batch->options, batch->paths, &batch->summary, cancellable,
                          &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
gallery_tagger_run_async (GalleryStore *store, const GalleryTaggerOptions *options,
                          const char *const *paths, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  Batch *batch;

  g_return_if_fail (store != NULL && options != NULL && paths != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, gallery_tagger_run_async);
  g_task_set_return_on_cancel (task, FALSE);
  batch = g_new0 (Batch, 1);
  batch->store = store;
  batch->options = *options;
  batch->paths = paths;
  batch->context = g_main_context_ref_thread_default ();
  batch->progress_func = options->progress_func;
  batch->progress_data = options->progress_data;
  if (options->progress_func != NULL)
    {
      batch->options.progress_func = relay_progress;
      batch->options.progress_data = task; /* the task outlives the thread */
    }
  g_task_set_task_data (task, batch, (GDestroyNotify) batch_free);
  g_task_run_in_thread (task, run_in_thread);
}

gboolean
gallery_tagger_run_finish (GAsyncResult *result, GalleryTaggerSummary *summary, GError **error)
{
  Batch *batch;

  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == gallery_tagger_run_async, FALSE);

  batch = g_task_get_task_data (G_TASK (result));
  if (summary != NULL)
    {
      *summary = batch->summary;
      memset (&batch->summary, 0, sizeof batch->summary);
    }
  return g_task_propagate_boolean (G_TASK (result), error);
}
