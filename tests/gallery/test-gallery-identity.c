/* test-gallery-identity.c: a photo is known by its pixels (metadata edits keep its results
 * and tags, a pixel edit is a new version), each result is stored once per key, gone files
 * leave the searches and can be forgotten, and a v2 gallery migrates to all of it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gallery/gallery-identity.h"
#include "gallery/gallery-search.h"
#include "gallery/gallery-store-private.h"
#include "gallery-test-util.h"
#include "image/image-loader.h"

static const char caption_result[] = "{\"<CAPTION>\": \"A lighthouse on a rock.\"}";

static gint64
query_int (GalleryStore *store, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_prepare_v2 (gallery_store_get_db (store), sql, -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return value;
}

static void
assert_sound (GalleryStore *store)
{
  sqlite3_stmt *stmt = NULL;

  sqlite3_prepare_v2 (gallery_store_get_db (store), "PRAGMA integrity_check", -1, &stmt, NULL);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);
}

/* What exiftool -Keywords+=holiday -Rating=4 and a GPS position, or digiKam's and darktable's
 * write-back, do to a photo: new metadata, the same pixels. */
static void
edit_metadata (const char *path, const char *keyword)
{
  g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
  g_autoptr (GError) error = NULL;
  const char *keywords[] = { keyword, NULL };

  gexiv2_metadata_open_path (metadata, path, &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_tag_multiple (metadata, "Iptc.Application2.Keywords", keywords, &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_tag_multiple (metadata, "Xmp.dc.subject", keywords, &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_tag_string (metadata, "Xmp.xmp.Rating", "4", &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_gps_info (metadata, 13.405, 52.52, 34.0, &error);
  g_assert_no_error (error);
  gexiv2_metadata_save_file (metadata, path, &error);
  g_assert_no_error (error);
}

static gint64
store_run (GalleryStore *store, gint64 image_id, const char *task, const char *json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryRun) run = gt_make_run (task, json);
  gint64 id = gallery_store_add_run (store, image_id, run, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static guint
search_count (GalleryStore *store, const char *text)
{
  g_autoptr (GError) error = NULL;
  GalleryQuery query = { .text = text };
  g_autoptr (GPtrArray) hits = gallery_search_run (store, &query, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < hits->len; i++)
    g_assert_cmpstr (((GalleryHit *) g_ptr_array_index (hits, i))->path, !=, "");
  return hits->len;
}

static void
test_metadata_edit (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photo = g_build_filename (dir, "photo.jpg", NULL);
  g_autofree char *fixture = gt_fixture_image ("photo_1500x1000_q90.jpg");
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GalleryImage) image = NULL;
  g_autofree char *first_hash = NULL;
  gint64 id, again, edited;

  gexiv2_initialize ();
  g_assert_no_error (error);
  gt_copy_file (fixture, photo);
  id = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);
  store_run (store, id, "<CAPTION>", caption_result);
  g_assert_true (gallery_store_add_tag (store, id, "Brittany", &error));
  image = gallery_store_get_image (store, id, &error);
  g_assert_nonnull (image->pixels);
  first_hash = g_strdup (image->hash);
  g_clear_pointer (&image, gallery_image_free);

  /* Keywords, rating, GPS: the file changes, the photo does not. */
  edit_metadata (photo, "holiday");
  {
    g_autoptr (GBytes) before = gt_read_bytes (fixture);
    g_autoptr (GBytes) after = gt_read_bytes (photo);

    g_assert_false (g_bytes_equal (before, after));
  }
  again = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (again, ==, id);
  image = gallery_store_find_image (store, photo, &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->id, ==, id);
  g_assert_cmpstr (image->hash, ==, first_hash);
  g_assert_false (image->missing);
  g_clear_pointer (&image, gallery_image_free);
  {
    g_autoptr (GPtrArray) runs = gallery_store_list_runs (store, id, &error);
    g_autoptr (GPtrArray) tags = gallery_store_list_tags (store, id, FALSE, &error);
    g_autoptr (GalleryRun) key = gt_make_run ("<CAPTION>", caption_result);
    gboolean found = FALSE;

    g_assert_cmpuint (runs->len, ==, 1);
    g_assert_cmpuint (tags->len, ==, 1);
    g_assert_cmpstr (((GalleryTag *) g_ptr_array_index (tags, 0))->name, ==, "brittany");
    g_assert_true (gallery_store_has_run (store, id, key, &found, &error));
    g_assert_true (found); /* nothing to run again */
  }
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM images"), ==, 1);
  g_assert_cmpuint (search_count (store, "lighthouse"), ==, 1);
  /* Both contents of the file are known now: the original copied elsewhere is found at once. */
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM image_files"), ==, 2);

  /* A real edit of the pixels is a new version; the old one keeps its results, has no file
   * left, and leaves the searches. */
  {
    g_autoptr (ImageRgb) picture = image_load (photo, NULL, &error);
    g_autoptr (GdkPixbuf) pixbuf = NULL;

    g_assert_no_error (error);
    picture->data[0] ^= 0xff;
    pixbuf = image_rgb_to_pixbuf (picture);
    gdk_pixbuf_save (pixbuf, photo, "jpeg", &error, "quality", "95", NULL);
    g_assert_no_error (error);
  }
  edited = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (edited, !=, id);
  image = gallery_store_get_image (store, id, &error);
  g_assert_true (image->missing);
  g_clear_pointer (&image, gallery_image_free);
  g_assert_cmpuint (search_count (store, "lighthouse"), ==, 0);
  {
    g_autoptr (GPtrArray) missing = gallery_store_list_missing (store, &error);

    g_assert_cmpuint (missing->len, ==, 1);
    g_assert_cmpint (((GalleryImage *) g_ptr_array_index (missing, 0))->id, ==, id);
  }
  assert_sound (store);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

/* The identity of a decoded picture is what adding the file finds: the batch pipeline's
 * decode can be handed to the store. */
static void
test_identity_of_picture (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *png = g_build_filename (dir, "a.png", NULL);
  g_autofree char *copy = g_build_filename (dir, "b.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (ImageRgb) picture = NULL;
  g_autoptr (ImageRgb) decoded = NULL;
  g_autofree char *from_picture = NULL;
  g_autofree char *from_file = NULL;
  g_autoptr (GalleryImage) image = NULL;
  gint64 id;

  gt_write_png (png, 33, 21, 5);
  picture = image_load (png, NULL, &error);
  g_assert_no_error (error);
  from_picture = gallery_identity_of_picture (picture);
  from_file = gallery_identity_of_file (png, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (from_picture, ==, from_file);
  g_assert_cmpuint (strlen (from_picture), ==, 64);

  id = gallery_store_add_image_full (store, png, picture, &decoded, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (decoded); /* it was given, not decoded again */
  image = gallery_store_get_image (store, id, &error);
  g_assert_cmpstr (image->pixels, ==, from_picture);
  g_assert_cmpint (image->width, ==, 33);
  g_clear_pointer (&image, gallery_image_free);

  /* The same pixels in another file (re-saved, other bytes): the same photo; the store hands
   * back what it decoded. */
  {
    g_autoptr (GdkPixbuf) pixbuf = image_rgb_to_pixbuf (picture);

    gdk_pixbuf_save (pixbuf, copy, "png", &error, "compression", "1", NULL);
    g_assert_no_error (error);
  }
  g_assert_cmpint (gallery_store_add_image_full (store, copy, NULL, &decoded, NULL, &error), ==,
                   id);
  g_assert_nonnull (decoded);
  g_assert_cmpint (decoded->width, ==, 33);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

/* One run per photo, task, input, weights and settings, whichever front end stores it. */
static void
test_unique_runs (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *png = g_build_filename (dir, "a.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GalleryRun) cli = gt_make_run ("<CAPTION>", caption_result);
  g_autoptr (GalleryRun) app = gt_make_run ("<CAPTION>", "{\"<CAPTION>\": \"A tower.\"}");
  g_autoptr (GalleryRun) late = gt_make_run ("<CAPTION>", "{\"<CAPTION>\": \"Too late.\"}");
  gboolean stored = TRUE;
  gint64 id, first;

  gt_write_png (png, 20, 20, 3);
  id = gallery_store_add_image (store, png, NULL, &error);
  g_assert_no_error (error);
  first = gallery_store_add_run (store, id, cli, &error);
  g_assert_no_error (error);

  /* The app names the model differently; the weights are the same: it replaces the run. */
  g_free (app->model_name);
  app->model_name = g_strdup ("base");
  g_assert_cmpint (gallery_store_add_run (store, id, app, &error), ==, first);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs"), ==, 1);
  g_assert_cmpuint (search_count (store, "tower"), ==, 1);
  g_assert_cmpuint (search_count (store, "lighthouse"), ==, 0);

  /* A tagger that finds the run there keeps it. */
  g_assert_cmpint (
    gallery_store_put_run (store, id, late, GALLERY_RUN_KEEP_EXISTING, &stored, &error), ==, first);
  g_assert_false (stored);
  g_assert_cmpuint (search_count (store, "late"), ==, 0);

  /* Other settings or other weights are another run; without weights the model tells. */
  late->num_beams = 1;
  g_assert_cmpint (
    gallery_store_put_run (store, id, late, GALLERY_RUN_KEEP_EXISTING, &stored, &error), >, first);
  g_assert_true (stored);
  {
    g_autoptr (GalleryRun) unknown = gt_make_run ("<OD>", "{\"<OD>\": {\"bboxes\": [],"
                                                          " \"labels\": []}}");

    g_free (unknown->weights_hash);
    unknown->weights_hash = g_strdup ("");
    gallery_store_add_run (store, id, unknown, &error);
    g_assert_no_error (error);
    g_assert_cmpint (
      query_int (store, "SELECT count(*) FROM runs WHERE weights_hash = 'unknown:florence-2-test'"),
      ==, 1);
  }
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs"), ==, 3);
  /* The schema itself refuses a duplicate. */
  g_assert_cmpint (sqlite3_exec (gallery_store_get_db (store),
                                 "INSERT INTO runs (image_id, task, text_input, model_name,"
                                 " weights_hash, num_beams, max_new_tokens, raw_text, token_ids,"
                                 " result, timings, created) SELECT image_id, task, text_input,"
                                 " model_name, weights_hash, num_beams, max_new_tokens, raw_text,"
                                 " token_ids, result, timings, created FROM runs LIMIT 1",
                                 NULL, NULL, NULL),
                   ==, SQLITE_CONSTRAINT_UNIQUE);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

static void
test_missing_and_forget (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *keep = g_build_filename (dir, "keep.png", NULL);
  g_autofree char *gone = g_build_filename (dir, "gone.png", NULL);
  g_autofree char *copy = g_build_filename (dir, "copy-of-keep.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  guint n_gone = 0, n_images = 0, n_paths = 0;
  gint64 keep_id, gone_id;

  gt_write_png (keep, 20, 20, 1);
  gt_write_png (gone, 20, 20, 2);
  gt_copy_file (keep, copy);
  keep_id = gallery_store_add_image (store, keep, NULL, &error);
  g_assert_cmpint (gallery_store_add_image (store, copy, NULL, &error), ==, keep_id);
  gone_id = gallery_store_add_image (store, gone, NULL, &error);
  g_assert_no_error (error);
  store_run (store, keep_id, "<CAPTION>", "{\"<CAPTION>\": \"A lighthouse.\"}");
  store_run (store, gone_id, "<CAPTION>", "{\"<CAPTION>\": \"Another lighthouse.\"}");
  g_assert_cmpuint (search_count (store, "lighthouse"), ==, 2);

  g_unlink (gone);
  g_unlink (copy);
  g_assert_true (gallery_store_check_files (store, NULL, &n_gone, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_gone, ==, 2);
  g_assert_cmpuint (search_count (store, "lighthouse"), ==, 1);
  {
    GalleryQuery query = { .text = "lighthouse", .include_missing = TRUE };
    g_autoptr (GPtrArray) hits = gallery_search_run (store, &query, &error);
    g_autoptr (GPtrArray) missing = gallery_store_list_missing (store, &error);

    g_assert_cmpuint (hits->len, ==, 2);
    g_assert_cmpuint (missing->len, ==, 1);
    g_assert_cmpint (((GalleryImage *) g_ptr_array_index (missing, 0))->id, ==, gone_id);
  }
  g_assert_true (gallery_store_forget_missing (store, &n_images, &n_paths, &error));
  g_assert_cmpuint (n_images, ==, 1);
  g_assert_cmpuint (n_paths, ==, 1); /* the copy's path; keep.png stays */
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM images"), ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs"), ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM image_paths"), ==, 1);

  /* A file that comes back is found again. */
  gt_write_png (gone, 20, 20, 2);
  g_assert_cmpint (gallery_store_add_image (store, gone, NULL, &error), >, 0);
  assert_sound (store);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gallery/identity/metadata-edit", test_metadata_edit);
  g_test_add_func ("/gallery/identity/of-picture", test_identity_of_picture);
  g_test_add_func ("/gallery/identity/unique-runs", test_unique_runs);
  g_test_add_func ("/gallery/identity/missing-and-forget", test_missing_and_forget);
  return g_test_run ();
}
