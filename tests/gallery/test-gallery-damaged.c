/* test-gallery-damaged.c: corrupt, foreign and too-new databases are reported at open and
 * never overwritten (suite 'sanitize': reruns under ASan + UBSan)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gallery/gallery-search.h"
#include "gallery/gallery-store-private.h"
#include "gallery/gallery-tagger.h"
#include "gallery-test-util.h"

static gint
compare_lines (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Every file of the folder of path, with its bytes: "name\nSHA-256\n" lines, sorted. */
static char *
folder_snapshot (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  GDir *listing = g_dir_open (dir, 0, NULL);
  const char *name;
  GString *out = g_string_new (NULL);

  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, name, NULL);
      g_autoptr (GBytes) bytes = gt_read_bytes (file);
      g_autofree char *sum = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);

      g_ptr_array_add (lines, g_strdup_printf ("%s %s\n", name, sum));
    }
  g_dir_close (listing);
  g_ptr_array_sort (lines, compare_lines);
  for (guint i = 0; i < lines->len; i++)
    g_string_append (out, g_ptr_array_index (lines, i));
  return g_string_free (out, FALSE);
}

/* Opening path must fail with code, and leave its folder byte for byte as it was: the file
 * unchanged, no -wal, -shm or -journal file made or removed beside it. */
static void
assert_refused (const char *path, GalleryStoreError code)
{
  g_autofree char *before = folder_snapshot (path);
  g_autofree char *after = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;

  store = gallery_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, GALLERY_STORE_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_true (strlen (error->message) > strlen (path) + 40); /* a sentence, not a code */
  /* The app shows it too: no command-line option or command in it (depict-cli adds those). */
  g_assert_null (strstr (error->message, "--"));
  g_assert_null (strstr (error->message, "depict-cli"));
  after = folder_snapshot (path);
  g_assert_cmpstr (before, ==, after);

  /* Read-only opening says the same, and touches nothing either. */
  g_clear_error (&error);
  store = gallery_store_open_full (path, GALLERY_STORE_READ_ONLY, &error);
  g_assert_null (store);
  g_assert_error (error, GALLERY_STORE_ERROR, (gint) code);
  g_assert_null (strstr (error->message, "--"));
  g_clear_pointer (&after, g_free);
  after = folder_snapshot (path);
  g_assert_cmpstr (before, ==, after);
}

static void
test_not_sqlite (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *text = g_build_filename (dir, "notes.db", NULL);
  g_autofree char *shortf = g_build_filename (dir, "short.db", NULL);
  g_autofree char *jpeg = g_build_filename (dir, "photo.db", NULL);
  g_autofree char *fixture = gt_fixture_image ("photo_1500x1000_q90.jpg");
  g_autoptr (GError) error = NULL;

  g_file_set_contents (text, "these are my notes, not a database\n", -1, &error);
  g_assert_no_error (error);
  assert_refused (text, GALLERY_STORE_ERROR_NOT_A_DATABASE);
  g_file_set_contents (shortf, "SQLite format 3\0abc", 19, &error);
  assert_refused (shortf, GALLERY_STORE_ERROR_NOT_A_DATABASE);
  gt_copy_file (fixture, jpeg);
  assert_refused (jpeg, GALLERY_STORE_ERROR_NOT_A_DATABASE);
  gt_remove_tree (dir);
}

static void
test_foreign (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *other = g_build_filename (dir, "other.db", NULL);
  g_autofree char *other_id = g_build_filename (dir, "other-id.db", NULL);

  /* Somebody else's data, no application id. */
  gt_sqlite_exec_file (other, "CREATE TABLE contacts (name TEXT); "
                              "INSERT INTO contacts VALUES ('Ada');");
  assert_refused (other, GALLERY_STORE_ERROR_FOREIGN);
  /* Another application's id, even without tables. */
  gt_sqlite_exec_file (other_id, "PRAGMA application_id = 1234; PRAGMA user_version = 1;");
  assert_refused (other_id, GALLERY_STORE_ERROR_FOREIGN);
  gt_remove_tree (dir);
}

/* A foreign database in WAL mode whose last transactions are still in its -wal (copied while
 * its program had it open, so it has no -shm): refused without a checkpoint, without a -shm
 * being made, and with both files unchanged. The same database closed cleanly (no -wal):
 * refused without a -wal or -shm being made. */
static void
test_foreign_wal (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *live = g_build_filename (dir, "live", NULL);
  g_autofree char *live_db = g_build_filename (live, "notes.db", NULL);
  g_autofree char *copy = g_build_filename (dir, "copy", NULL);
  g_autofree char *copy_db = g_build_filename (copy, "notes.db", NULL);
  sqlite3 *db = NULL;

  g_mkdir (live, 0700);
  g_mkdir (copy, 0700);
  g_assert_cmpint (sqlite3_open (live_db, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db,
                                 "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
                                 "CREATE TABLE notes (text TEXT);"
                                 "INSERT INTO notes VALUES ('buy bread');",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
  {
    g_autofree char *wal = g_strconcat (live_db, "-wal", NULL);
    g_autofree char *copy_wal = g_strconcat (copy_db, "-wal", NULL);

    gt_copy_file (live_db, copy_db);
    gt_copy_file (wal, copy_wal);
  }
  sqlite3_close (db);
  assert_refused (copy_db, GALLERY_STORE_ERROR_FOREIGN);
  /* The live one, closed cleanly: WAL mode, every page in the main file, no -wal left. */
  g_assert_false (g_file_test (g_strconcat (live_db, "-wal", NULL), G_FILE_TEST_EXISTS));
  assert_refused (live_db, GALLERY_STORE_ERROR_FOREIGN);
  gt_remove_tree (dir);
}

/* A search while another process creates the gallery (the file exists, its first
 * transaction is not committed yet) says the gallery is empty, not that an older version
 * made it. */
static void
test_search_during_creation (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "gallery.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  sqlite3 *creator = NULL;

  g_assert_cmpint (sqlite3_open (path, &creator), ==, SQLITE_OK);
  g_assert_cmpint (
    sqlite3_exec (creator, "BEGIN IMMEDIATE; CREATE TABLE images (id INTEGER);", NULL, NULL, NULL),
    ==, SQLITE_OK);
  store = gallery_store_open_full (path, GALLERY_STORE_READ_ONLY, &error);
  g_assert_null (store);
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "empty"));
  g_assert_null (strstr (error->message, "older"));
  sqlite3_exec (creator, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_close (creator);
  gt_remove_tree (dir);
}

static void
test_too_new (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_exec (gallery_store_get_db (store),
                                 "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99", NULL,
                                 NULL, NULL),
                   ==, SQLITE_OK);
  g_clear_pointer (&store, gallery_store_close);
  assert_refused (db, GALLERY_STORE_ERROR_TOO_NEW);
  gt_remove_tree (dir);
}

static void
test_missing_tables (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_exec (gallery_store_get_db (store),
                                 "PRAGMA journal_mode = DELETE; DROP TABLE tags", NULL, NULL, NULL),
                   ==, SQLITE_OK);
  g_clear_pointer (&store, gallery_store_close);
  assert_refused (db, GALLERY_STORE_ERROR_CORRUPT);
  gt_remove_tree (dir);
}

/* Pages after the first overwritten with garbage: the header is fine, the data is not.
 * Every call answers with an error, none crashes. */
static void
test_damaged_pages (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photo = gt_fixture_image ("small_37x101.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autofree char *contents = NULL;
  gsize length = 0;
  gint64 id;
  gboolean reported = FALSE;

  id = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 50; i++)
    {
      g_autoptr (GalleryRun) run = gallery_run_new ();

      run->task = g_strdup ("<CAPTION>");
      run->max_new_tokens = i;
      run->result = json_from_string ("{\"<CAPTION>\": \"a small test picture\"}", NULL);
      g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
    }
  g_assert_cmpint (
    sqlite3_exec (gallery_store_get_db (store), "PRAGMA journal_mode = DELETE", NULL, NULL, NULL),
    ==, SQLITE_OK);
  g_clear_pointer (&store, gallery_store_close);

  g_file_get_contents (db, &contents, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (length, >, 8192);
  for (gsize i = 4096; i < length; i++)
    contents[i] = (char) (i * 7919 % 251);
  g_file_set_contents (db, contents, length, &error);
  g_assert_no_error (error);

  store = gallery_store_open (db, &error);
  if (store == NULL)
    {
      g_assert_true (error->domain == GALLERY_STORE_ERROR);
      reported = TRUE;
    }
  else
    {
      g_autoptr (GPtrArray) images = gallery_store_list_images (store, NULL, &error);
      GalleryQuery query = { .text = "picture" };
      g_autoptr (GPtrArray) hits = NULL;

      if (images == NULL)
        {
          g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT);
          g_assert_nonnull (strstr (error->message, "damaged"));
          reported = TRUE;
        }
      g_clear_error (&error);
      hits = gallery_search_run (store, &query, &error);
      if (hits == NULL)
        {
          g_assert_true (error->domain == GALLERY_STORE_ERROR);
          reported = TRUE;
        }
      g_clear_error (&error);
      if (gallery_store_add_tag (store, id, "x", &error) == FALSE)
        reported = TRUE;
      g_clear_error (&error);
    }
  g_assert_true (reported);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

static GalleryRun *
never_run (const char *image_path, const char *task, const char *text_input, gpointer user_data,
           GCancellable *cancellable, GError **error)
{
  g_error ("The model must not run on a damaged gallery");
  return NULL;
}

/* The runs table's root page damaged: a batch checks the database before its first write,
 * says it is damaged, and writes nothing (not "4 already done" and new rows). */
static void
test_damaged_runs_root (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photos = g_build_filename (dir, "photos", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  const char *const tasks[] = { "<CAPTION>", NULL };
  GalleryTaggerOptions options = gt_tagger_options (tasks, never_run);
  GalleryTaggerSummary summary = { 0 };
  const char *args[] = { photos, NULL };
  gint64 root = 0, page_size = 0;

  g_mkdir_with_parents (photos, 0700);
  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *path = g_strdup_printf ("%s/p%d.png", photos, i);
      g_autoptr (GalleryRun) run = gt_make_run ("<CAPTION>", "{\"<CAPTION>\": \"a lamp\"}");
      gint64 id;

      gt_write_png (path, 10, 10, i + 1);
      id = gallery_store_add_image (store, path, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
    }
  g_assert_true (gallery_store_query_int (store,
                                          "SELECT rootpage FROM sqlite_schema"
                                          " WHERE name = 'runs'",
                                          &root, &error));
  g_assert_true (gallery_store_query_int (store, "PRAGMA page_size", &page_size, &error));
  g_clear_pointer (&store, gallery_store_close);

  /* Garbage over the root page of runs (no connection is open). */
  {
    g_autofree char *contents = NULL;
    gsize length = 0;

    g_file_get_contents (db, &contents, &length, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (length, >=, (gsize) (root * page_size));
    for (gint64 i = (root - 1) * page_size; i < root * page_size; i++)
      contents[i] = (char) (i * 131 % 251);
    g_file_set_contents (db, contents, length, &error);
    g_assert_no_error (error);
  }

  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  gallery_store_close (g_steal_pointer (&store));
  before = gt_read_bytes (db);
  store = gallery_store_open (db, &error);
  g_assert_false (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "nothing was written"));
  g_assert_cmpuint (summary.skipped, ==, 0);
  g_assert_cmpuint (summary.runs_added, ==, 0);
  gallery_tagger_summary_clear (&summary);
  g_clear_pointer (&store, gallery_store_close);
  after = gt_read_bytes (db);
  g_assert_true (g_bytes_equal (before, after));
  gt_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gallery/damaged/not-sqlite", test_not_sqlite);
  g_test_add_func ("/gallery/damaged/foreign", test_foreign);
  g_test_add_func ("/gallery/damaged/foreign-wal", test_foreign_wal);
  g_test_add_func ("/gallery/damaged/search-during-creation", test_search_during_creation);
  g_test_add_func ("/gallery/damaged/too-new", test_too_new);
  g_test_add_func ("/gallery/damaged/missing-tables", test_missing_tables);
  g_test_add_func ("/gallery/damaged/damaged-pages", test_damaged_pages);
  g_test_add_func ("/gallery/damaged/damaged-runs-root", test_damaged_runs_root);
  return g_test_run ();
}
