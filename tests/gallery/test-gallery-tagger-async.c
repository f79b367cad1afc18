/* test-gallery-tagger-async.c: batch tagging in a worker thread, with its progress delivered
 * in the caller's main context, as the app and depict-cli tag run it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "gallery/gallery-tagger-async.h"
#include "gallery-test-util.h"

typedef struct {
  GThread *main_thread;
  GThread *run_thread;
  guint runs; /* in the worker thread */
  guint progress_calls;
  guint off_main_thread;
  guint last_done, last_total;
  guint cancel_after; /* 0 = never */
  GCancellable *cancellable;
  GMainLoop *loop;
  GalleryTaggerSummary summary;
  GError *error;
  gboolean ok;
} Batch;

static GalleryRun *
fake_run (const char *image_path, const char *task, const char *text_input, gpointer user_data,
          GCancellable *cancellable, GError **error)
{
  Batch *batch = user_data;
  g_autofree char *json = g_strdup_printf ("{\"%s\": \"a photo\"}", task);

  batch->run_thread = g_thread_self ();
  /* After cancel_after photos, wait for the cancellation that their progress causes in the
   * main context: the batch stops there, however the threads are scheduled. */
  if (batch->cancel_after > 0 && ++batch->runs > batch->cancel_after)
    {
      for (guint i = 0; i < 3000 && !g_cancellable_is_cancelled (cancellable); i++)
        g_usleep (10000);
      g_assert_true (g_cancellable_set_error_if_cancelled (cancellable, error));
      return NULL;
    }
  return gt_make_run (task, json);
}

static void
on_progress (const GalleryTaggerProgress *progress, gpointer user_data)
{
  Batch *batch = user_data;

  batch->progress_calls++;
  batch->off_main_thread += g_thread_self () != batch->main_thread;
  batch->last_done = progress->done;
  batch->last_total = progress->total;
  g_assert_true (progress->current_path == NULL ||
                 g_str_has_suffix (progress->current_path, ".png"));
  if (batch->cancel_after > 0 && progress->done >= batch->cancel_after)
    g_cancellable_cancel (batch->cancellable);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Batch *batch = user_data;

  g_assert_true (g_thread_self () == batch->main_thread);
  batch->ok = gallery_tagger_run_finish (result, &batch->summary, &batch->error);
  g_main_loop_quit (batch->loop);
}

static void
run_batch (guint cancel_after, Batch *batch)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *photos = g_build_filename (dir, "photos", NULL);
  g_autofree char *db = g_build_filename (dir, "gallery.db", NULL);
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GError) error = NULL;
  static const char *const tasks[] = { "<CAPTION>", NULL };
  GalleryTaggerOptions options = {
    .model_name = "test",
    .weights_hash = "0123abcd",
    .num_beams = 1,
    .max_new_tokens = 8,
    .tasks = tasks,
    .run_func = fake_run,
    .progress_func = on_progress,
  };
  const char *paths[] = { photos, NULL };

  g_mkdir_with_parents (photos, 0700);
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("img%u.png", i);
      g_autofree char *path = g_build_filename (photos, name, NULL);
      gt_write_png (path, 8, 8, i + 1);
    }
  store = gallery_store_open (db, &error);
  g_assert_no_error (error);

  batch->main_thread = g_thread_self ();
  batch->cancel_after = cancel_after;
  batch->cancellable = g_cancellable_new ();
  batch->loop = g_main_loop_new (NULL, FALSE);
  options.run_data = batch;
  options.progress_data = batch;
  gallery_tagger_run_async (store, &options, paths, batch->cancellable, on_done, batch);
  g_main_loop_run (batch->loop);
  g_clear_pointer (&batch->loop, g_main_loop_unref);
  g_clear_object (&batch->cancellable);
  gt_remove_tree (dir);
}

static void
test_progress_in_main_context (void)
{
  Batch batch = { 0 };

  run_batch (0, &batch);
  g_assert_no_error (batch.error);
  g_assert_true (batch.ok);
  /* the runs happened in another thread, every progress report in this one */
  g_assert_nonnull (batch.run_thread);
  g_assert_true (batch.run_thread != batch.main_thread);
  g_assert_cmpuint (batch.off_main_thread, ==, 0);
  g_assert_cmpuint (batch.progress_calls, ==, 5); /* the start and each photo */
  g_assert_cmpuint (batch.last_done, ==, 4);
  g_assert_cmpuint (batch.last_total, ==, 4);
  g_assert_cmpuint (batch.summary.processed, ==, 4);
  g_assert_cmpuint (batch.summary.runs_added, ==, 4);
  gallery_tagger_summary_clear (&batch.summary);
}

static void
test_cancel (void)
{
  Batch batch = { 0 };

  run_batch (2, &batch);
  g_assert_false (batch.ok);
  g_assert_error (batch.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (batch.summary.cancelled);
  g_assert_cmpuint (batch.summary.processed, ==, 2);
  g_assert_cmpuint (batch.off_main_thread, ==, 0);
  g_clear_error (&batch.error);
  gallery_tagger_summary_clear (&batch.summary);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gallery/tagger-async/progress-in-main-context", test_progress_in_main_context);
  g_test_add_func ("/gallery/tagger-async/cancel", test_cancel);
  return g_test_run ();
}
