/* test-gallery-tagger.c: batch tagging with a fake runner: walking, skipping what is done,
 * failures, progress, cancel and resume, and a SIGKILL in the middle of a batch
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "florence/model/florence-limits.h"
#include "florence/model/florence-model.h"
#include "gallery/gallery-search.h"
#include "gallery/gallery-store-private.h"
#include "gallery/gallery-tagger.h"
#include "gallery-test-util.h"

typedef struct {
  guint calls;
  guint sleep_ms;
  guint cancel_after; /* cancel once this many images are done, 0 = never */
  GCancellable *cancellable;
  GPtrArray *progress_lines;
  gboolean print_progress; /* child process: "done N" lines on stdout */
  gboolean damaged_model;  /* img001 gets non-finite scores */
} Runner;

static GalleryRun *
fake_run (const char *image_path, const char *task, const char *text_input, gpointer user_data,
          GCancellable *cancellable, GError **error)
{
  Runner *runner = user_data;
  g_autofree char *base = g_path_get_basename (image_path);
  GalleryRun *run;
  g_autofree char *json = NULL;

  runner->calls++;
  if (runner->sleep_ms > 0)
    g_usleep (runner->sleep_ms * 1000);
  if (g_str_has_prefix (base, "img001") && runner->damaged_model)
    {
      g_set_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_WEIGHTS,
                   "The model gave scores that are not numbers: its weights are damaged.");
      return NULL;
    }
  if (g_str_has_prefix (base, "broken"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "The photo could not be decoded.");
      return NULL;
    }
  if (strcmp (task, "<OD>") == 0)
    json = g_strdup ("{\"<OD>\": {\"bboxes\": [[1,2,3,4]], \"labels\": [\"lamp\"]}}");
  else
    json = g_strdup_printf ("{\"%s\": \"picture named %s\"}", task, base);
  run = gt_make_run (task, json);
  /* The tagger overrides what the runner says about the key. */
  g_free (run->model_name);
  run->model_name = g_strdup ("wrong");
  return run;
}

static void
on_progress (const GalleryTaggerProgress *progress, gpointer user_data)
{
  Runner *runner = user_data;

  if (runner->progress_lines != NULL)
    g_ptr_array_add (runner->progress_lines, gallery_tagger_format_progress (progress));
  if (runner->print_progress)
    {
      printf ("done %u\n", progress->done);
      fflush (stdout);
    }
  if (runner->cancel_after > 0 && progress->done >= runner->cancel_after)
    g_cancellable_cancel (runner->cancellable);
}

static const char *const two_tasks[] = { "<CAPTION>", "<OD>", NULL };

static GalleryTaggerOptions
make_options (Runner *runner)
{
  GalleryTaggerOptions options = {
    .model_name = "florence-2-test",
    .weights_hash = "0123abcd",
    .num_beams = 3,
    .max_new_tokens = 20,
    .tasks = two_tasks,
    .run_func = fake_run,
    .run_data = runner,
    .progress_func = on_progress,
    .progress_data = runner,
  };

  return options;
}

/* photos/ with n distinct PNG-named files, one in photos/sub/, a text file and a hidden one. */
static char *
make_library (const char *dir, guint n)
{
  char *photos = g_build_filename (dir, "photos", NULL);
  g_autofree char *sub = g_build_filename (photos, "sub", NULL);
  g_autofree char *fixture = gt_fixture_image ("small_37x101.png");

  g_mkdir_with_parents (sub, 0700);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("img%03u.png", i);
      g_autofree char *path = g_build_filename (photos, name, NULL);

      gt_write_png (path, 12, 10, i + 1);
    }
  {
    g_autofree char *path = g_build_filename (sub, "deep.JPG", NULL);
    g_autofree char *text = g_build_filename (photos, "notes.txt", NULL);
    g_autofree char *hidden = g_build_filename (photos, ".hidden.png", NULL);
    g_autofree char *noext = g_build_filename (photos, "IMG_NOEXT", NULL);

    gt_write_png (path, 12, 10, 1000);
    g_file_set_contents (text, "hello", -1, NULL);
    g_file_set_contents (hidden, "hidden", -1, NULL);
    gt_copy_file (fixture, noext); /* a PNG without extension: found by its bytes */
  }
  return photos;
}

static void
test_tasks_and_format (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) tasks = gallery_tagger_parse_tasks ("caption, OD,ocr,<OCR>,dense_caption", &error);
  GalleryTaggerProgress p = {
    .done = 132, .total = 1020, .images_per_second = 3.4, .seconds_left = 260
  };
  g_autofree char *line = NULL;

  g_assert_no_error (error);
  g_assert_cmpstrv (
    tasks, ((const char *const[]){ "<CAPTION>", "<OD>", "<OCR>", "<DENSE_REGION_CAPTION>", NULL }));
  g_assert_null (gallery_tagger_parse_tasks ("caption,cook", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "cook"));
  g_clear_error (&error);
  g_assert_null (gallery_tagger_parse_tasks (" , ", &error));
  g_clear_error (&error);

  line = gallery_tagger_format_progress (&p);
  g_assert_cmpstr (line, ==, "132/1020  12240 photos/h  4m20s left");
  g_clear_pointer (&line, g_free);
  p.images_per_second = 0;
  p.seconds_left = -1;
  line = gallery_tagger_format_progress (&p);
  g_assert_cmpstr (line, ==, "132/1020");
  g_clear_pointer (&line, g_free);
  p.images_per_second = 0.5;
  p.seconds_left = 7500;
  line = gallery_tagger_format_progress (&p);
  g_assert_cmpstr (line, ==, "132/1020  1800 photos/h  2h05m left");
  g_clear_pointer (&line, g_free);
  /* a large model on a slow machine */
  p.images_per_second = 2.5 / 3600;
  p.seconds_left = 3 * 3600;
  line = gallery_tagger_format_progress (&p);
  g_assert_cmpstr (line, ==, "132/1020  2.5 photos/h  3h00m left");
}

static void
test_batch_skip_and_fail (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photos = make_library (dir, 4);
  g_autofree char *broken = g_build_filename (photos, "broken.png", NULL);
  g_autofree char *broken_run = g_build_filename (photos, "broken-run.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  Runner runner = { .progress_lines = g_ptr_array_new_with_free_func (g_free) };
  GalleryTaggerOptions options = make_options (&runner);
  GalleryTaggerSummary summary = { 0 };
  const char *args[] = { photos, NULL };

  /* broken.png is not a picture at all; broken-run.png is one the model fails on. */
  g_file_set_contents (broken, "broken", -1, NULL);
  gt_write_png (broken_run, 12, 10, 77);
  g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.total, ==, 7);
  g_assert_cmpuint (summary.processed, ==, 5);
  g_assert_cmpuint (summary.failed, ==, 2);
  g_assert_cmpuint (summary.skipped, ==, 0);
  g_assert_cmpuint (summary.runs_added, ==, 10);
  g_assert_cmpuint (summary.failures->len, ==, 2);
  /* In name order: "broken-run.png" before "broken.png". */
  g_assert_true (g_str_has_prefix (g_ptr_array_index (summary.failures, 0), broken_run));
  g_assert_true (g_str_has_prefix (g_ptr_array_index (summary.failures, 1), broken));
  g_assert_nonnull (strstr (g_ptr_array_index (summary.failures, 1), "not a picture"));
  g_assert_cmpuint (runner.calls, ==, 11);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 10);
  /* The file that is not a photo was not stored. */
  {
    g_autoptr (GalleryImage) image = gallery_store_find_image (store, broken, &error);
    g_autoptr (GPtrArray) images = gallery_store_list_images (store, NULL, NULL);

    g_assert_null (image);
    g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND);
    g_clear_error (&error);
    g_assert_cmpuint (images->len, ==, 6);
  }
  /* start + one line per image, the last one complete */
  g_assert_cmpuint (runner.progress_lines->len, ==, 8);
  g_assert_true (g_str_has_prefix (g_ptr_array_index (runner.progress_lines, 7), "7/7"));
  gallery_tagger_summary_clear (&summary);

  /* The key is the tagger's, not the runner's. */
  {
    g_autofree char *first = g_build_filename (photos, "img000.png", NULL);
    g_autoptr (GalleryImage) image = gallery_store_find_image (store, first, &error);
    g_autoptr (GPtrArray) runs = gallery_store_list_runs (store, image->id, &error);

    g_assert_cmpuint (runs->len, ==, 2);
    g_assert_cmpstr (((GalleryRun *) g_ptr_array_index (runs, 0))->model_name, ==,
                     "florence-2-test");
  }
  {
    GalleryQuery q = { .text = "lamp" };
    g_autoptr (GPtrArray) hits = gallery_search_run (store, &q, &error);

    g_assert_cmpuint (hits->len, ==, 5);
  }

  /* Again: all done, nothing runs (only the broken ones are tried again). */
  runner.calls = 0;
  g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_cmpuint (summary.skipped, ==, 5);
  g_assert_cmpuint (summary.failed, ==, 2);
  g_assert_cmpuint (runner.calls, ==, 1);
  gallery_tagger_summary_clear (&summary);

  /* Other settings are new work. */
  runner.calls = 0;
  options.max_new_tokens = 40;
  g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_cmpuint (summary.processed, ==, 5);
  g_assert_cmpuint (runner.calls, ==, 11);
  gallery_tagger_summary_clear (&summary);

  /* A task needing input without one is refused before anything runs. */
  {
    const char *const grounding[] = { "<CAPTION_TO_PHRASE_GROUNDING>", NULL };

    options.tasks = grounding;
    g_assert_false (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    gallery_tagger_summary_clear (&summary);
  }

  g_ptr_array_unref (runner.progress_lines);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

static void
test_cancel_and_resume (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photos = make_library (dir, 6);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Runner runner = { .cancel_after = 3, .cancellable = cancellable };
  GalleryTaggerOptions options = make_options (&runner);
  GalleryTaggerSummary summary = { 0 };
  const char *args[] = { photos, NULL };

  g_assert_false (gallery_tagger_run (store, &options, args, &summary, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_true (summary.cancelled);
  g_assert_cmpuint (summary.processed, ==, 3);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 6);
  gallery_tagger_summary_clear (&summary);

  runner.cancel_after = 0;
  runner.calls = 0;
  g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.skipped, ==, 3);
  g_assert_cmpuint (summary.processed, ==, 4);
  g_assert_cmpuint (runner.calls, ==, 8);
  gallery_tagger_summary_clear (&summary);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

/* The child of test_crash: tags slowly, printing progress, until it is killed. */
static int
crash_child (const char *db, const char *photos)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  Runner runner = { .sleep_ms = 40, .print_progress = TRUE };
  GalleryTaggerOptions options = make_options (&runner);
  const char *args[] = { photos, NULL };

  if (store == NULL)
    return 2;
  gallery_tagger_run (store, &options, args, NULL, NULL, &error);
  return 0;
}

static void
test_crash (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photos = make_library (dir, 30);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  const char *argv[] = { self, "--crash-child", db, photos, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  GPid pid;
  int out_fd, status;
  FILE *out;
  char line[64];
  guint done = 0;
  gint64 runs_after_kill;
  Runner runner = { 0 };
  GalleryTaggerOptions options = make_options (&runner);
  GalleryTaggerSummary summary = { 0 };
  const char *args[] = { photos, NULL };

  g_assert_nonnull (self);
  g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                            NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  out = fdopen (out_fd, "r");
  while (done < 5 && fgets (line, sizeof line, out) != NULL)
    sscanf (line, "done %u", &done);
  g_assert_cmpuint (done, ==, 5);
  /* Mid-run of the next image (each run sleeps 40 ms). */
  g_usleep (50 * 1000);
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  fclose (out);
  g_spawn_close_pid (pid);

  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  {
    sqlite3_stmt *stmt = NULL;

    sqlite3_prepare_v2 (gallery_store_get_db (store), "PRAGMA integrity_check", -1, &stmt, NULL);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
    sqlite3_finalize (stmt);
  }
  runs_after_kill = gallery_store_count_runs (store, &error);
  /* At least the 5 reported images (2 runs each), and less than everything. */
  g_assert_cmpint (runs_after_kill, >=, 10);
  g_assert_cmpint (runs_after_kill, <, 62);

  g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.total, ==, 31);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 62);
  /* Only what was missing ran again: nothing was done twice. */
  g_assert_cmpint (runner.calls, ==, 62 - runs_after_kill);
  {
    sqlite3_stmt *stmt = NULL;

    sqlite3_prepare_v2 (gallery_store_get_db (store),
                        "SELECT count(*) FROM (SELECT image_id, task FROM runs"
                        " GROUP BY image_id, task HAVING count(*) > 1)",
                        -1, &stmt, NULL);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 0);
    sqlite3_finalize (stmt);
  }
  gallery_tagger_summary_clear (&summary);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

/* Default settings (0) are stored as the numbers they stand for, so that a front end that
 * asks for the defaults and one that names them recognise each other's runs; a batch without
 * the weights' hash is refused. */
static void
test_default_settings (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photos = make_library (dir, 2);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  Runner runner = { 0 };
  GalleryTaggerOptions options = make_options (&runner);
  GalleryTaggerSummary summary = { 0 };
  const char *args[] = { photos, NULL };

  options.num_beams = 0;
  options.max_new_tokens = 0;
  g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.processed, ==, 3);
  gallery_tagger_summary_clear (&summary);
  {
    g_autofree char *first = g_build_filename (photos, "img000.png", NULL);
    g_autoptr (GalleryImage) image = gallery_store_find_image (store, first, &error);
    g_autoptr (GPtrArray) runs = gallery_store_list_runs (store, image->id, &error);
    GalleryRun *run = g_ptr_array_index (runs, 0);

    g_assert_cmpint (run->num_beams, ==, FLORENCE_LIMITS_DEFAULT_BEAMS);
    g_assert_cmpint (run->max_new_tokens, ==, FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS);
  }

  runner.calls = 0;
  options.num_beams = FLORENCE_LIMITS_DEFAULT_BEAMS;
  options.max_new_tokens = FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS;
  g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_cmpuint (summary.skipped, ==, 3);
  g_assert_cmpuint (runner.calls, ==, 0);
  gallery_tagger_summary_clear (&summary);

  /* Without the weights' hash nothing could be recognised later: refused, nothing runs. */
  options.weights_hash = "";
  options.redo = TRUE;
  g_assert_false (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "weights"));
  g_clear_error (&error);
  g_assert_cmpuint (runner.calls, ==, 0);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 6);
  gallery_tagger_summary_clear (&summary);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

/* A child of test_overlapping: tags the paths after db, prints "added N". */
static int
tag_child (const char *db, char **paths)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  Runner runner = { .sleep_ms = 3 };
  GalleryTaggerOptions options = make_options (&runner);
  GalleryTaggerSummary summary = { 0 };

  if (store == NULL ||
      !gallery_tagger_run (store, &options, (const char *const *) paths, &summary, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  printf ("added %u\n", summary.runs_added);
  gallery_tagger_summary_clear (&summary);
  return 0;
}

/* Two taggers on overlapping inputs at the same time store exactly the runs one would. */
static void
test_overlapping (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photos = make_library (dir, 12);
  g_autofree char *middle = g_build_filename (photos, "img006.png", NULL);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  GSubprocess *children[2];
  guint added = 0;

  children[0] = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, self, "--tag-child", db,
                                  photos, NULL);
  g_assert_no_error (error);
  children[1] = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, self, "--tag-child", db,
                                  middle, photos, NULL);
  g_assert_no_error (error);
  for (int c = 0; c < 2; c++)
    {
      g_autofree char *out = NULL;
      guint n = 0;

      g_subprocess_communicate_utf8 (children[c], NULL, NULL, &out, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_successful (children[c]));
      g_assert_cmpint (sscanf (out, "added %u", &n), ==, 1);
      added += n;
      g_object_unref (children[c]);
    }

  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  /* 12 photos and IMG_NOEXT, caption and OD each: 26, as one tagger alone stores. */
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 26);
  g_assert_cmpuint (added, ==, 26);
  {
    sqlite3_stmt *stmt = NULL;

    sqlite3_prepare_v2 (gallery_store_get_db (store),
                        "SELECT count(*) FROM (SELECT image_id, task FROM runs"
                        " GROUP BY image_id, task HAVING count(*) > 1)",
                        -1, &stmt, NULL);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 0);
    sqlite3_finalize (stmt);
  }
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

/* Damaged weights stop the batch with the model's sentence: no photo is called failed for
 * them, what was stored stays, and the next batch (with good weights) goes on from there. */
static void
test_damaged_model (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photos = make_library (dir, 4);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  Runner runner = { .damaged_model = TRUE };
  GalleryTaggerOptions options = make_options (&runner);
  GalleryTaggerSummary summary = { 0 };
  const char *args[] = { photos, NULL };

  g_assert_false (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_WEIGHTS);
  g_clear_error (&error);
  g_assert_cmpuint (summary.failed, ==, 0);
  g_assert_cmpuint (summary.failures->len, ==, 0);
  g_assert_cmpint (gallery_store_count_runs (store, &error), >=, 2); /* img000, before img001 */
  g_assert_cmpint (gallery_store_count_runs (store, &error), <, 10);
  gallery_tagger_summary_clear (&summary);

  runner.damaged_model = FALSE;
  g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.skipped, >=, 1);
  g_assert_cmpuint (summary.failed, ==, 0);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 10);
  gallery_tagger_summary_clear (&summary);
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "--crash-child") == 0)
    return crash_child (argv[2], argv[3]);
  if (argc >= 4 && strcmp (argv[1], "--tag-child") == 0)
    {
      argv[argc] = NULL;
      return tag_child (argv[2], argv + 3);
    }

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gallery/tagger/tasks-and-format", test_tasks_and_format);
  g_test_add_func ("/gallery/tagger/skip-and-fail", test_batch_skip_and_fail);
  g_test_add_func ("/gallery/tagger/damaged-model", test_damaged_model);
  g_test_add_func ("/gallery/tagger/cancel-and-resume", test_cancel_and_resume);
  g_test_add_func ("/gallery/tagger/crash", test_crash);
  g_test_add_func ("/gallery/tagger/overlapping", test_overlapping);
  g_test_add_func ("/gallery/tagger/default-settings", test_default_settings);
  return g_test_run ();
}
