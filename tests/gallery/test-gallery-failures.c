/* test-gallery-failures.c: one connection per process, and the failures of the place the
 * gallery lives in: a lock held for long by another program, a file system without locks, a
 * read-only gallery. Each gives a sentence with a way out and loses nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gallery/gallery-store-private.h"
#include "gallery/gallery-tagger.h"
#include "gallery-test-util.h"

static const char caption_result[] = "{\"<CAPTION>\": \"A red car parked next to a dog.\"}";

static gint64
count_runs (GalleryStore *store)
{
  g_autoptr (GError) error = NULL;
  gint64 n = gallery_store_count_runs (store, &error);

  g_assert_no_error (error);
  return n;
}

/* A gallery with one photo and n runs; returns the image id. */
static gint64
fill (GalleryStore *store, const char *dir, int n)
{
  g_autofree char *photo = g_build_filename (dir, "photo.png", NULL);
  g_autoptr (GError) error = NULL;
  gint64 id;

  if (!g_file_test (photo, G_FILE_TEST_EXISTS))
    gt_write_png (photo, 40, 30, 7);
  id = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);
  for (int i = 0; i < n; i++)
    {
      g_autoptr (GalleryRun) run = gt_make_run ("<CAPTION>", caption_result);

      run->max_new_tokens = 1000 + i;
      g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
      g_assert_no_error (error);
    }
  return id;
}

/* ------------------------------------------------------------------------------------------ */

typedef struct {
  const char *db;
  gint64 image_id;
  int first;
  int n;
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (w->db, &error);

  g_assert_no_error (error);
  for (int i = 0; i < w->n; i++)
    {
      g_autoptr (GalleryRun) run = gt_make_run ("<CAPTION>", caption_result);

      run->max_new_tokens = w->first + i;
      /* Half of them inside an explicit transaction with a tag, as the app's edits are. */
      if (i % 2 == 0)
        {
          g_assert_true (gallery_store_begin (store, &error));
          g_assert_cmpint (gallery_store_add_run (store, w->image_id, run, &error), >, 0);
          g_assert_true (gallery_store_add_tag (store, w->image_id, "busy", &error));
          g_assert_true (gallery_store_commit (store, &error));
        }
      else
        g_assert_cmpint (gallery_store_add_run (store, w->image_id, run, &error), >, 0);
      g_assert_no_error (error);
    }
  return NULL;
}

/* Every store a process opens on one gallery uses one connection, and they may be used from
 * several threads at once. */
static void
test_one_connection (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *link = g_build_filename (dir, "link", NULL);
  g_autofree char *via_link = g_build_filename (link, "g.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) a = gallery_store_open (db, &error);
  g_autoptr (GalleryStore) b = NULL;
  g_autoptr (GalleryStore) ro = NULL;
  g_autoptr (GalleryStore) other = NULL;
  Writer writers[4];
  GThread *threads[4];
  gint64 id;

  g_assert_no_error (error);
  g_assert_cmpint (symlink (dir, link), ==, 0);
  b = gallery_store_open (via_link, &error);
  g_assert_no_error (error);
  ro = gallery_store_open_full (db, GALLERY_STORE_READ_ONLY, &error);
  g_assert_no_error (error);
  g_assert_true (gallery_store_get_db (a) == gallery_store_get_db (b));
  g_assert_true (gallery_store_get_db (a) == gallery_store_get_db (ro));
  /* The read-only store does not write through the shared connection. */
  g_assert_false (gallery_store_begin (ro, &error));
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY);
  g_clear_error (&error);
  {
    g_autofree char *db2 = g_build_filename (dir, "other.db", NULL);

    other = gallery_store_open (db2, &error);
    g_assert_no_error (error);
    g_assert_true (gallery_store_get_db (other) != gallery_store_get_db (a));
  }

  id = fill (a, dir, 0);
  for (int t = 0; t < 4; t++)
    {
      writers[t] = (Writer){ .db = db, .image_id = id, .first = t * 100, .n = 25 };
      threads[t] = g_thread_new ("writer", writer_thread, &writers[t]);
    }
  for (int t = 0; t < 4; t++)
    g_thread_join (threads[t]);
  g_assert_cmpint (count_runs (b), ==, 100);
  g_clear_pointer (&a, gallery_store_close);
  g_clear_pointer (&b, gallery_store_close);
  g_assert_cmpint (count_runs (ro), ==, 100);
  g_clear_pointer (&ro, gallery_store_close);
  g_clear_pointer (&other, gallery_store_close);
  gt_remove_tree (dir);
}

/* ------------------------------------------------------------------------------------------ */

/* Another program holds the gallery's write lock and does not let go: a write waits the busy
 * timeout, then says so with a way out, and the transaction leaves nothing behind. */
static void
test_locked_for_long (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GalleryRun) run = gt_make_run ("<CAPTION>", caption_result);
  GSubprocess *holder;
  g_autofree char *line = NULL;
  gint64 id, start;

  g_assert_no_error (error);
  id = fill (store, dir, 3);
  gallery_store_set_busy_timeout (store, 300);

  /* sqlite3 is not installed everywhere; a child of this test holds the lock instead. */
  holder = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
                             g_test_get_filename (G_TEST_BUILT, "test-gallery-failures", NULL),
                             "--hold-lock", db, NULL);
  g_assert_no_error (error);
  {
    GDataInputStream *out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (holder));

    line = g_data_input_stream_read_line (out, NULL, NULL, &error);
    g_object_unref (out);
  }
  g_assert_cmpstr (line, ==, "locked");

  start = g_get_monotonic_time ();
  g_assert_cmpint (gallery_store_add_run (store, id, run, &error), ==, 0);
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, db));
  g_assert_nonnull (strstr (error->message, "locked by another program"));
  g_assert_nonnull (strstr (error->message, "try again"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 250 * 1000); /* it did wait */
  g_clear_error (&error);

  /* The other program lets go: the same call goes through, nothing was lost. */
  g_subprocess_force_exit (holder);
  g_subprocess_wait (holder, NULL, NULL);
  g_object_unref (holder);
  g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (count_runs (store), ==, 4);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

static int
hold_lock (const char *db_path)
{
  sqlite3 *db = NULL;
  char buffer[16];

  if (sqlite3_open (db_path, &db) != SQLITE_OK ||
      sqlite3_exec (db, "BEGIN EXCLUSIVE", NULL, NULL, NULL) != SQLITE_OK)
    return 1;
  printf ("locked\n");
  fflush (stdout);
  while (fgets (buffer, sizeof buffer, stdin) != NULL)
    ;
  return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* A file system that cannot lock: a VFS that refuses every lock as such a share does. */

typedef struct {
  sqlite3_file base;
  sqlite3_file *real;
} NoLockFile;

static sqlite3_vfs *real_vfs;
static sqlite3_io_methods nolock_methods;

static int
nolock_close (sqlite3_file *f)
{
  NoLockFile *p = (NoLockFile *) f;
  int rc = p->real->pMethods != NULL ? p->real->pMethods->xClose (p->real) : SQLITE_OK;

  sqlite3_free (p->real);
  return rc;
}

#define FORWARD(name, signature, args)                                                             \
  static int nolock_##name signature                                                               \
  {                                                                                                \
    NoLockFile *p = (NoLockFile *) f;                                                              \
    return p->real->pMethods->x##name args;                                                        \
  }
FORWARD (Read, (sqlite3_file * f, void *b, int n, sqlite3_int64 o), (p->real, b, n, o))
FORWARD (Write, (sqlite3_file * f, const void *b, int n, sqlite3_int64 o), (p->real, b, n, o))
FORWARD (Truncate, (sqlite3_file * f, sqlite3_int64 s), (p->real, s))
FORWARD (Sync, (sqlite3_file * f, int flags), (p->real, flags))
FORWARD (FileSize, (sqlite3_file * f, sqlite3_int64 *s), (p->real, s))
FORWARD (FileControl, (sqlite3_file * f, int op, void *arg), (p->real, op, arg))
FORWARD (SectorSize, (sqlite3_file * f), (p->real))
FORWARD (DeviceCharacteristics, (sqlite3_file * f), (p->real))
#undef FORWARD

static int
nolock_lock (sqlite3_file *f, int level)
{
  errno = ENOLCK;
  return SQLITE_IOERR_LOCK;
}

static int
nolock_unlock (sqlite3_file *f, int level)
{
  return SQLITE_OK;
}

static int
nolock_check_reserved (sqlite3_file *f, int *out)
{
  *out = 0;
  return SQLITE_OK;
}

static int
nolock_open (sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out_flags)
{
  NoLockFile *p = (NoLockFile *) f;
  int rc;

  p->real = sqlite3_malloc (real_vfs->szOsFile);
  memset (p->real, 0, real_vfs->szOsFile);
  rc = real_vfs->xOpen (real_vfs, name, p->real, flags, out_flags);
  p->base.pMethods = &nolock_methods;
  return rc;
}

static void
use_nolock_vfs (void)
{
  static sqlite3_vfs vfs;

  real_vfs = sqlite3_vfs_find (NULL);
  vfs = *real_vfs;
  vfs.zName = "depict-test-nolock";
  vfs.szOsFile = sizeof (NoLockFile);
  vfs.xOpen = nolock_open;
  nolock_methods = (sqlite3_io_methods){
    .iVersion = 1,
    .xClose = nolock_close,
    .xRead = nolock_Read,
    .xWrite = nolock_Write,
    .xTruncate = nolock_Truncate,
    .xSync = nolock_Sync,
    .xFileSize = nolock_FileSize,
    .xLock = nolock_lock,
    .xUnlock = nolock_unlock,
    .xCheckReservedLock = nolock_check_reserved,
    .xFileControl = nolock_FileControl,
    .xSectorSize = nolock_SectorSize,
    .xDeviceCharacteristics = nolock_DeviceCharacteristics,
  };
  g_assert_cmpint (sqlite3_vfs_register (&vfs, 1), ==, SQLITE_OK);
}

/* Runs in a subprocess: the VFS stays the default for the rest of the process. */
static void
test_no_locks (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = gt_make_temp_dir ();
      g_autofree char *db = g_build_filename (dir, "g.db", NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (GalleryStore) store = NULL;

      /* A gallery made on a local disk, then reached over the share. */
      store = gallery_store_open (db, &error);
      g_assert_no_error (error);
      fill (store, dir, 2);
      g_clear_pointer (&store, gallery_store_close);

      use_nolock_vfs ();
      store = gallery_store_open (db, &error);
      g_assert_null (store);
      g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NO_LOCKS);
      g_printerr ("%s\n", error->message);
      gt_remove_tree (dir);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*cannot lock files*disk of this computer*");
}

/* ------------------------------------------------------------------------------------------ */

/* A gallery the person may read but not write (another user's, read-only media): tagging
 * says so at once and how to go on; searching still works. Root may write anything, so as
 * root the check runs in a child that becomes "nobody". */
static void
test_read_only_gallery (void)
{
  if (g_test_subprocess ())
    {
      const char *db = g_getenv ("DEPICT_TEST_READ_ONLY_DB");
      g_autoptr (GError) error = NULL;
      g_autoptr (GalleryStore) store = NULL;
      g_autoptr (GalleryImage) image = NULL;
      g_autoptr (GPtrArray) runs = NULL;

      if (geteuid () == 0)
        g_assert_true (setgid (65534) == 0 && setuid (65534) == 0);
      store = gallery_store_open (db, &error);
      g_assert_null (store);
      g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY);
      g_printerr ("%s\n", error->message);
      g_clear_error (&error);
      store = gallery_store_open_full (db, GALLERY_STORE_READ_ONLY, &error);
      g_assert_no_error (error);
      image = gallery_store_find_image (store, "/nowhere/photo.png", NULL);
      g_assert_null (image);
      runs = gallery_store_list_runs (store, 1, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (runs->len, ==, 2);
      return;
    }
  {
    g_autofree char *dir = gt_make_temp_dir ();
    g_autofree char *folder = g_build_filename (dir, "shared", NULL);
    g_autofree char *db = g_build_filename (folder, "g.db", NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (GalleryStore) store = NULL;
    g_autofree char *before = NULL, *after = NULL;
    gsize n_before = 0, n_after = 0;

    g_mkdir (folder, 0755);
    store = gallery_store_open (db, &error);
    g_assert_no_error (error);
    fill (store, dir, 2);
    g_clear_pointer (&store, gallery_store_close);
    g_file_get_contents (db, &before, &n_before, NULL);
    g_chmod (dir, 0755);
    g_chmod (db, 0444);
    g_chmod (folder, 0555);
    g_setenv ("DEPICT_TEST_READ_ONLY_DB", db, TRUE);
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT);
    g_test_trap_assert_passed ();
    g_test_trap_assert_stderr ("*cannot be written*read-only*still works*");
    g_chmod (folder, 0755);
    g_file_get_contents (db, &after, &n_after, NULL);
    g_assert_true (n_before == n_after && memcmp (before, after, n_before) == 0);
    gt_remove_tree (dir);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* A full disk: the files of the gallery may not grow (RLIMIT_FSIZE, SIGXFSZ ignored, as a full
 * file system answers ENOSPC). */

static GalleryRun *
big_run (const char *image_path, const char *task, const char *text_input, gpointer user_data,
         GCancellable *cancellable, GError **error)
{
  g_autofree char *base = g_path_get_basename (image_path);
  g_autoptr (GString) json = g_string_new ("{\"<CAPTION>\": \"");

  /* Words that do not compress: each run takes a few pages. */
  for (int i = 0; i < 1500; i++)
    g_string_append_printf (json, "%s%08x ", base, g_str_hash (base) * (i + 1));
  g_string_append (json, "\"}");
  return gt_make_run (task, json->str);
}

static const char *const caption_only[] = { "<CAPTION>", NULL };

static gboolean
tag_folder (GalleryStore *store, const char *folder, GalleryTaggerSummary *summary, GError **error)
{
  GalleryTaggerOptions options = gt_tagger_options (caption_only, big_run);
  const char *args[] = { folder, NULL };

  return gallery_tagger_run (store, &options, args, summary, NULL, error);
}

static void
test_full_disk (void)
{
  const char *db = g_getenv ("DEPICT_TEST_FULL_DB");
  const char *photos = g_getenv ("DEPICT_TEST_FULL_PHOTOS");

  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
      GalleryTaggerSummary summary = { 0 };
      g_autofree char *stored_path = g_strconcat (db, ".stored", NULL);
      FILE *stored = fopen (stored_path, "w"); /* opened while there is room */
      GStatBuf st;
      struct rlimit limit;

      g_assert_no_error (error);
      g_assert_nonnull (stored);
      g_assert_cmpint (g_stat (db, &st), ==, 0);
      /* Room for the -shm (32 KiB) and a few more pages, not for all the runs. */
      limit.rlim_cur = limit.rlim_max = MAX ((rlim_t) st.st_size, 64 * 1024) + 96 * 1024;
      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      g_assert_false (tag_folder (store, photos, &summary, &error));
      g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_FULL);
      g_assert_cmpuint (summary.runs_added, <, 40);
      g_printerr ("%s\nstored %u\n", error->message, summary.runs_added);
      fprintf (stored, "%u\n", summary.runs_added);
      fclose (stored);
      gallery_tagger_summary_clear (&summary);
      return;
    }
  {
    g_autofree char *dir = gt_make_temp_dir ();
    g_autofree char *path = g_build_filename (dir, "g.db", NULL);
    g_autofree char *folder = g_build_filename (dir, "photos", NULL);
    g_autoptr (GError) error = NULL;
    g_autoptr (GalleryStore) store = NULL;
    GalleryTaggerSummary summary = { 0 };
    g_autoptr (GPtrArray) runs_before = NULL;
    gint64 before, image_id;

    g_mkdir_with_parents (folder, 0700);
    for (int i = 0; i < 40; i++)
      {
        g_autofree char *name = g_strdup_printf ("%s/p%02d.png", folder, i);

        gt_write_png (name, 12, 10, i + 1);
      }
    store = gallery_store_open (path, &error);
    g_assert_no_error (error);
    image_id = fill (store, dir, 5);
    before = count_runs (store);
    runs_before = gallery_store_list_runs (store, image_id, &error);
    g_assert_no_error (error);
    g_clear_pointer (&store, gallery_store_close);

    g_setenv ("DEPICT_TEST_FULL_DB", path, TRUE);
    g_setenv ("DEPICT_TEST_FULL_PHOTOS", folder, TRUE);
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    g_test_trap_assert_stderr ("*no room left to write the gallery*g.db*Free at least 16*"
                               "try again*every result stored before is intact*");

    /* Everything stored before is there and sound; once there is room, the same batch goes
     * on and does only what is missing. */
    store = gallery_store_open (path, &error);
    g_assert_no_error (error);
    g_assert_true (gallery_store_check (store, &error));
    {
      g_autoptr (GPtrArray) runs_after = gallery_store_list_runs (store, image_id, &error);
      g_autofree char *stored_path = g_strconcat (path, ".stored", NULL);
      g_autofree char *stored = NULL;

      /* The runs of before, each as it was, and the batch's runs up to the full disk. */
      g_assert_no_error (error);
      g_assert_cmpuint (runs_after->len, ==, runs_before->len);
      for (guint i = 0; i < runs_before->len; i++)
        {
          GalleryRun *a = g_ptr_array_index (runs_before, i);
          GalleryRun *b = g_ptr_array_index (runs_after, i);

          g_assert_cmpint (a->id, ==, b->id);
          g_assert_cmpint (a->max_new_tokens, ==, b->max_new_tokens);
          g_assert_cmpstr (a->raw_text, ==, b->raw_text);
        }
      g_assert_true (g_file_get_contents (stored_path, &stored, NULL, NULL));
      g_assert_cmpint (count_runs (store), ==, before + g_ascii_strtoll (stored, NULL, 10));
    }
    g_assert_cmpint (count_runs (store), <, before + 40);
    g_assert_true (tag_folder (store, folder, &summary, &error));
    g_assert_no_error (error);
    g_assert_cmpint (count_runs (store), ==, before + 40);
    g_assert_cmpuint (summary.runs_added + summary.skipped, ==, 40);
    gallery_tagger_summary_clear (&summary);
    {
      sqlite3_stmt *stmt = NULL;

      sqlite3_prepare_v2 (gallery_store_get_db (store), "PRAGMA integrity_check", -1, &stmt, NULL);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
      sqlite3_finalize (stmt);
    }
    g_clear_pointer (&store, gallery_store_close);
    gt_remove_tree (dir);
  }
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--hold-lock") == 0)
    return hold_lock (argv[2]);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gallery/failures/one-connection", test_one_connection);
  g_test_add_func ("/gallery/failures/locked-for-long", test_locked_for_long);
  g_test_add_func ("/gallery/failures/no-locks", test_no_locks);
  g_test_add_func ("/gallery/failures/read-only-gallery", test_read_only_gallery);
  g_test_add_func ("/gallery/failures/full-disk", test_full_disk);
  return g_test_run ();
}
