/* test-gallery-processes.c: two processes on one gallery, as the app and depict-cli share it:
 * this process keeps a store open (the gallery view) and opens the same gallery again for
 * every run it stores (the app's runs), while a depict-cli tag process writes to it; then
 * the database passes PRAGMA integrity_check and holds every run either side wrote. And the
 * locks a connection holds stay while the tagger walks the folder the gallery lives in.
 *
 * Usage (from meson): test-gallery-processes PATH-TO-depict-cli
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gallery/gallery-store.h"
#include "gallery/gallery-tagger.h"
#include "gallery-test-util.h"

static const char *cli_path;

typedef struct {
  gint64 id;
  char *raw_text;
} Written;

static void
written_free (gpointer data)
{
  Written *w = data;

  g_free (w->raw_text);
  g_free (w);
}

/* Stores one run the way the app does: open the gallery (a second store beside the view's),
 * add the photo, add the run, close; then the view shows the gallery again. */
static void
store_like_the_app (GalleryStore *view, const char *db, const char *photo, int serial,
                    GPtrArray *written)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GalleryRun) run = gt_make_run ("<CAPTION>", "{\"<CAPTION>\": \"an app run\"}");
  Written *w = g_new0 (Written, 1);
  gint64 image_id;

  g_assert_no_error (error);
  image_id = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);
  run->max_new_tokens = 100 + serial; /* a distinct run each time */
  g_free (run->raw_text);
  run->raw_text = g_strdup_printf ("app run %d", serial);
  w->id = gallery_store_add_run (store, image_id, run, &error);
  g_assert_no_error (error);
  g_assert_cmpint (w->id, >, 0);
  w->raw_text = g_strdup (run->raw_text);
  g_ptr_array_add (written, w);
  g_clear_pointer (&store, gallery_store_close);

  if (view != NULL)
    {
      g_autoptr (GPtrArray) images = gallery_store_list_images (view, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (images->len, >, 0);
    }
}

static gint64
count (sqlite3 *db, const char *sql, gint64 id, const char *text)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (id != 0)
    sqlite3_bind_int64 (stmt, 1, id);
  if (text != NULL)
    sqlite3_bind_text (stmt, 2, text, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *(gboolean *) user_data = TRUE;
}

static void
test_app_and_cli (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "gallery.db", NULL);
  g_autofree char *photos = g_build_filename (dir, "photos", NULL);
  g_autofree char *app_photo = g_build_filename (dir, "app.png", NULL);
  g_autofree char *model = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", "tiny", NULL);
  g_autofree char *tokenizer = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "tokenizer", NULL);
  g_autoptr (GPtrArray) written = g_ptr_array_new_with_free_func (written_free);
  g_autoptr (GalleryStore) view = NULL;
  g_autofree char *cli_log = g_build_filename (dir, "cli.log", NULL);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) cli = NULL;
  g_autoptr (GError) error = NULL;
  gboolean exited = FALSE;
  sqlite3 *check = NULL;
  sqlite3_stmt *stmt = NULL;
  const guint n_photos = 4;
  int serial = 0;

  g_mkdir_with_parents (photos, 0700);
  for (guint i = 0; i < n_photos; i++)
    {
      g_autofree char *name = g_strdup_printf ("photo%u.png", i);
      g_autofree char *path = g_build_filename (photos, name, NULL);

      gt_write_png (path, 48 + (int) i, 40, i + 1);
    }
  gt_write_png (app_photo, 64, 48, 99);

  /* A gallery from an earlier session; the gallery view opens it and keeps it open for the
   * whole test; a first run of the app. */
  store_like_the_app (NULL, db, app_photo, serial++, written);
  view = gallery_store_open (db, &error);
  g_assert_no_error (error);
  store_like_the_app (view, db, app_photo, serial++, written);

  /* depict-cli tag writes to the same gallery meanwhile. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (launcher, cli_log);
  cli = g_subprocess_launcher_spawn (launcher, &error, cli_path, "tag", "--model", model,
                                     "--tokenizer", tokenizer, "--device", "cpu-reference",
                                     "--tasks", "caption", "--max-new-tokens", "6", "--beams", "1",
                                     "--quiet", "--db", db, photos, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (cli, NULL, on_exited, &exited);
  while (!exited)
    {
      store_like_the_app (view, db, app_photo, serial++, written);
      g_usleep (20 * 1000);
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
  g_assert_true (g_subprocess_get_if_exited (cli));
  if (g_subprocess_get_exit_status (cli) != 0)
    {
      g_autofree char *text = NULL;

      g_file_get_contents (cli_log, &text, NULL, NULL);
      g_error ("depict-cli tag failed: %s", text);
    }

  {
    g_autofree char *wal = g_strconcat (db, "-wal", NULL);

    /* This process still holds its lock on the database, so depict-cli, closing, knew it was
     * not the last one and left the write-ahead log in place. */
    g_assert_true (g_file_test (wal, G_FILE_TEST_EXISTS));
  }
  /* The other process has closed its connection: keep writing through both stores, as the
   * app does after a depict-cli run. */
  for (int i = 0; i < 5; i++)
    store_like_the_app (view, db, app_photo, serial++, written);
  {
    gint64 id = gallery_store_add_image (view, app_photo, NULL, &error);
    g_autoptr (GalleryRun) run =
      gt_make_run ("<OD>", "{\"<OD>\": {\"bboxes\": [], \"labels\": []}}");
    Written *w = g_new0 (Written, 1);

    g_assert_no_error (error);
    g_free (run->raw_text);
    run->raw_text = g_strdup ("view run");
    w->id = gallery_store_add_run (view, id, run, &error);
    g_assert_no_error (error);
    w->raw_text = g_strdup ("view run");
    g_ptr_array_add (written, w);
  }
  g_clear_pointer (&view, gallery_store_close);

  /* Everything is there, and the file is sound. */
  g_assert_cmpint (sqlite3_open_v2 (db, &check, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (check, "PRAGMA integrity_check", -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);
  for (guint i = 0; i < written->len; i++)
    {
      Written *w = g_ptr_array_index (written, i);

      g_assert_cmpint (count (check, "SELECT count(*) FROM runs WHERE id = ?1 AND raw_text = ?2",
                              w->id, w->raw_text),
                       ==, 1);
    }
  g_assert_cmpint (count (check, "SELECT count(*) FROM runs WHERE model_name = 'tiny'", 0, NULL),
                   ==, n_photos);
  sqlite3_close (check);
  g_test_message ("%u runs of this process, %u of depict-cli", written->len, n_photos);
  gt_remove_tree (dir);
}

/* Whether another process finds a lock of this one on len bytes of path from start (asked
 * from a child with F_GETLK: a process never sees its own locks). */
static gboolean
locked_by_this_process (const char *path, off_t start, off_t len)
{
  pid_t parent = getpid ();
  pid_t child = fork ();
  int status = 0;

  g_assert_cmpint (child, >=, 0);
  if (child == 0)
    {
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      struct flock lock = {
        .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len
      };

      _exit (fd >= 0 && fcntl (fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK &&
                 lock.l_pid == parent
               ? 0
               : 1);
    }
  g_assert_cmpint (waitpid (child, &status, 0), ==, child);
  return WIFEXITED (status) && WEXITSTATUS (status) == 0;
}

/* The locks SQLite holds for an open WAL database: its shared lock on the database file
 * (from 0x40000000, the pending byte, on) and its read lock on the -shm's dead-man switch. */
static void
assert_locks_held (const char *db)
{
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);

  g_assert_true (locked_by_this_process (db, 0x40000000, 512));
  g_assert_true (locked_by_this_process (shm, 120, 9));
}

static GalleryRun *
caption_run (const char *image_path, const char *task, const char *text_input, gpointer user_data,
             GCancellable *cancellable, GError **error)
{
  return gt_make_run (task, "{\"<CAPTION>\": \"A lighthouse.\"}");
}

/* The gallery among the photos (a name without extension, whose first bytes the walk would
 * otherwise read): tagging the folder, naming the database, looking it up never open its
 * files, so the locks of this process's connection stay and no other process can take it for
 * the last one and remove the write-ahead log. */
static void
test_gallery_among_photos (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "gallery", NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);
  const char *const tasks[] = { "<CAPTION>", NULL };
  GalleryTaggerOptions options = gt_tagger_options (tasks, caption_run);
  GalleryTaggerSummary summary = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  const char *folder[] = { dir, NULL };
  const char *named[] = { db, shm, NULL };

  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s/p%u.png", dir, i);

      gt_write_png (name, 16, 12, i + 1);
    }
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 0);
  g_assert_true (g_file_test (shm, G_FILE_TEST_EXISTS));
  assert_locks_held (db);

  g_assert_true (gallery_tagger_run (store, &options, folder, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.total, ==, 2);
  g_assert_cmpuint (summary.failed + summary.unreadable, ==, 0);
  gallery_tagger_summary_clear (&summary);
  assert_locks_held (db);

  /* Named: said, not opened. */
  g_assert_true (gallery_tagger_run (store, &options, named, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.total, ==, 0);
  g_assert_cmpuint (summary.unreadable, ==, 2);
  g_assert_nonnull (strstr (g_ptr_array_index (summary.failures, 0), "gallery's database"));
  gallery_tagger_summary_clear (&summary);
  assert_locks_held (db);

  /* Looked up or added as a photo (depict-cli show, tags, export; the app's runs). */
  g_assert_null (gallery_store_find_image (store, db, &error));
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (gallery_store_add_image (store, shm, NULL, &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  assert_locks_held (db);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 2);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (argc < 2)
    {
      g_printerr ("usage: %s PATH-TO-depict-cli\n", argv[0]);
      return 2;
    }
  cli_path = argv[1];
  g_test_add_func ("/gallery/processes/app-and-cli", test_app_and_cli);
  g_test_add_func ("/gallery/processes/gallery-among-photos", test_gallery_among_photos);
  return g_test_run ();
}
