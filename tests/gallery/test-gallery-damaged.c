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
#include "gallery-test-util.h"

/* Opening path must fail with code, and leave the file byte for byte as it was, with no
 * -wal or -journal file beside it. */
static void
assert_refused (const char *path, GalleryStoreError code)
{
  g_autoptr (GBytes) before = gt_read_bytes (path);
  g_autoptr (GBytes) after = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);

  store = gallery_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, GALLERY_STORE_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_true (strlen (error->message) > strlen (path) + 40); /* a sentence, not a code */
  after = gt_read_bytes (path);
  g_assert_true (g_bytes_equal (before, after));
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));

  /* Read-only opening says the same. */
  g_clear_error (&error);
  store = gallery_store_open_full (path, GALLERY_STORE_READ_ONLY, &error);
  g_assert_null (store);
  g_assert_error (error, GALLERY_STORE_ERROR, (gint) code);
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gallery/damaged/not-sqlite", test_not_sqlite);
  g_test_add_func ("/gallery/damaged/foreign", test_foreign);
  g_test_add_func ("/gallery/damaged/too-new", test_too_new);
  g_test_add_func ("/gallery/damaged/missing-tables", test_missing_tables);
  g_test_add_func ("/gallery/damaged/damaged-pages", test_damaged_pages);
  return g_test_run ();
}
