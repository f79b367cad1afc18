/* test-gallery-store.c: the store: schema, migrations, images and paths, runs, tags,
 * read-only and full disks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Long because the store's behaviours are checked one short case each, over the same schema.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gallery/gallery-result.h"
#include "gallery/gallery-store-private.h"
#include "gallery-test-util.h"

static const char od_result[] =
  "{\"<OD>\": {\"bboxes\": [[1, 2, 3, 4], [5, 6, 7, 8], [1, 1, 2, 2]],"
  " \"labels\": [\"Car\", \"dog\", \"car\"]}}";
static const char caption_result[] = "{\"<CAPTION>\": \"A red car parked next to a dog.\"}";

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

static char *
query_text (GalleryStore *store, const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  char *value;

  g_assert_cmpint (sqlite3_prepare_v2 (gallery_store_get_db (store), sql, -1, &stmt, NULL), ==,
                   SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return value;
}

static gboolean
has_tag (GPtrArray *tags, const char *name, GalleryTagSource source, gboolean removed)
{
  for (guint i = 0; i < tags->len; i++)
    {
      GalleryTag *tag = g_ptr_array_index (tags, i);

      if (strcmp (tag->name, name) == 0)
        return tag->source == source && tag->removed == removed;
    }
  return FALSE;
}

static void
test_open_fresh (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "sub", "gallery.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (path, &error);
  g_autofree char *mode = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, GALLERY_STORE_SCHEMA_VERSION);
  g_assert_cmpint (query_int (store, "PRAGMA application_id"), ==, 0x44504354);
  g_assert_cmpint (query_int (store, "PRAGMA foreign_keys"), ==, 1);
  mode = query_text (store, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 0);
  g_clear_pointer (&store, gallery_store_close);

  /* Opening again changes nothing. */
  store = gallery_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, GALLERY_STORE_SCHEMA_VERSION);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

static void
test_default_path (void)
{
  g_autofree char *path = gallery_store_default_path ();
  g_autofree char *expected =
    g_build_filename (g_get_user_data_dir (), "depict", "gallery.db", NULL);

  g_assert_cmpstr (path, ==, expected);
}

static void
test_images_and_paths (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *a = g_build_filename (dir, "a.png", NULL);
  g_autofree char *b = g_build_filename (dir, "b.png", NULL);
  g_autofree char *fixture = gt_fixture_image ("photo_640x480.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GalleryImage) image = NULL;
  g_autoptr (GalleryRun) run = gt_make_run ("<CAPTION>", caption_result);
  g_autoptr (GPtrArray) runs = NULL;
  g_autofree char *hash = NULL;
  gint64 id, id2, id3;

  g_assert_no_error (error);
  gt_copy_file (fixture, a);
  hash = gallery_store_hash_file (a, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (hash), ==, 64);

  id = gallery_store_add_image (store, a, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
  g_assert_no_error (error);

  image = gallery_store_get_image (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (image->hash, ==, hash);
  g_assert_cmpint (image->width, ==, 640);
  g_assert_cmpint (image->height, ==, 480);
  g_assert_cmpint (image->orientation, ==, 1);
  g_assert_cmpstrv (image->paths, ((const char *const[]){ a, NULL }));
  g_clear_pointer (&image, gallery_image_free);

  /* Renamed: the same content at a new path is the same image with its results. */
  g_assert_cmpint (g_rename (a, b), ==, 0);
  id2 = gallery_store_add_image (store, b, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id2, ==, id);
  image = gallery_store_find_image (store, b, &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->id, ==, id);
  g_assert_cmpstr (image->paths[0], ==, b); /* most recent first */
  g_assert_cmpstr (image->paths[1], ==, a);
  g_clear_pointer (&image, gallery_image_free);
  runs = gallery_store_list_runs (store, id2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 1);

  /* By hash prefix; an unknown name is a clear error. */
  image = gallery_store_find_image (
    store,
    (const char[9]){ hash[0], hash[1], hash[2], hash[3], hash[4], hash[5], hash[6], hash[7], 0 },
    &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->id, ==, id);
  g_clear_pointer (&image, gallery_image_free);
  image = gallery_store_find_image (store, "/nonexistent/x.jpg", &error);
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND);
  g_assert_null (image);
  g_clear_error (&error);

  /* New content at a known path is a new image. */
  gt_copy_file (fixture, a);
  {
    g_autofree char *other = gt_fixture_image ("gray_320x200.png");

    gt_copy_file (other, b);
  }
  id3 = gallery_store_add_image (store, b, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id3, !=, id);
  image = gallery_store_get_image (store, id3, &error);
  g_assert_cmpint (image->width, ==, 320);
  g_clear_pointer (&image, gallery_image_free);

  /* Listing: newest first, each with its paths. */
  {
    g_autoptr (GPtrArray) all = gallery_store_list_images (store, NULL, &error);
    g_autoptr (GPtrArray) below = gallery_store_list_images (store, dir, &error);
    g_autoptr (GPtrArray) none = gallery_store_list_images (store, "/nonexistent", &error);
    GalleryImage *first, *second;

    g_assert_no_error (error);
    g_assert_cmpuint (all->len, ==, 2);
    first = g_ptr_array_index (all, 0);
    second = g_ptr_array_index (all, 1);
    g_assert_cmpint (first->id, ==, id3);
    g_assert_cmpstrv (first->paths, ((const char *const[]){ b, NULL }));
    g_assert_cmpint (second->id, ==, id);
    g_assert_cmpstrv (second->paths, ((const char *const[]){ a, NULL }));
    g_assert_cmpstr (second->hash, ==, hash);
    g_assert_cmpint (second->width, ==, 640);
    g_assert_cmpuint (below->len, ==, 2);
    g_assert_cmpuint (none->len, ==, 0);
  }

  /* A missing photo is a G_IO_ERROR (the batch goes on), not a store error. */
  g_assert_cmpint (gallery_store_add_image (store, "/nonexistent/y.png", NULL, &error), ==, 0);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

static void
test_runs_and_tags (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photo = g_build_filename (dir, "p.png", NULL);
  g_autofree char *fixture = gt_fixture_image ("small_37x101.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GalleryRun) od = gt_make_run ("<OD>", od_result);
  g_autoptr (GalleryRun) again = NULL;
  g_autoptr (GPtrArray) tags = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  gboolean found = TRUE;
  gint64 id;

  g_assert_no_error (error);
  gt_copy_file (fixture, photo);
  id = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (gallery_store_has_run (store, id, od, &found, &error));
  g_assert_false (found);
  again = gallery_run_copy (od);
  g_assert_cmpint (gallery_store_add_run (store, id, od, &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (od->id, >, 0);
  g_assert_true (gallery_store_has_run (store, id, od, &found, &error));
  g_assert_true (found);
  /* Other settings are other work. */
  again->num_beams = 1;
  g_assert_true (gallery_store_has_run (store, id, again, &found, &error));
  g_assert_false (found);
  again->num_beams = od->num_beams;

  /* Everything stored comes back. */
  runs = gallery_store_list_runs (store, id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (runs->len, ==, 1);
  {
    GalleryRun *r = g_ptr_array_index (runs, 0);
    g_autofree char *result = json_to_string (r->result, FALSE);

    g_assert_cmpstr (r->task, ==, "<OD>");
    g_assert_cmpstr (r->model_name, ==, "florence-2-test");
    g_assert_cmpstr (r->weights_hash, ==, "0123abcd");
    g_assert_cmpint (r->num_beams, ==, 3);
    g_assert_cmpint (r->max_new_tokens, ==, 20);
    g_assert_cmpstr (r->raw_text, ==, "</s><s>raw</s>");
    g_assert_cmpuint (r->token_ids->len, ==, 4);
    g_assert_cmpint (g_array_index (r->token_ids, gint32, 2), ==, 100);
    g_assert_true (g_str_has_prefix (result, "{\"<OD>\":{\"bboxes\""));
    g_assert_cmpfloat (json_object_get_double_member (json_node_get_object (r->timings), "total"),
                       ==, 0.5);
    g_assert_cmpint (r->created, >, 1600000000);
  }

  /* Labels became tags, once each, lower case. */
  tags = gallery_store_list_tags (store, id, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tags->len, ==, 2);
  g_assert_true (has_tag (tags, "car", GALLERY_TAG_SOURCE_LABEL, FALSE));
  g_assert_true (has_tag (tags, "dog", GALLERY_TAG_SOURCE_LABEL, FALSE));
  g_clear_pointer (&tags, g_ptr_array_unref);

  /* The person edits tags. */
  g_assert_true (gallery_store_add_tag (store, id, "  Holiday   2024 ", &error));
  g_assert_true (gallery_store_remove_tag (store, id, "dog", &error));
  g_assert_true (gallery_store_rename_tag (store, id, "car", "Automobile", &error));
  g_assert_no_error (error);
  g_assert_false (gallery_store_remove_tag (store, id, "unicorn", &error));
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (gallery_store_add_tag (store, id, " \t ", &error));
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (gallery_store_add_tag (store, 9999, "x", &error));
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Re-importing the same run does not bring back removed (or renamed-away) tags. */
  g_assert_cmpint (gallery_store_add_run (store, id, again, &error), >, 0);
  g_assert_no_error (error);
  tags = gallery_store_list_tags (store, id, TRUE, &error);
  g_assert_cmpuint (tags->len, ==, 4);
  g_assert_true (has_tag (tags, "holiday 2024", GALLERY_TAG_SOURCE_USER, FALSE));
  g_assert_true (has_tag (tags, "automobile", GALLERY_TAG_SOURCE_USER, FALSE));
  g_assert_true (has_tag (tags, "dog", GALLERY_TAG_SOURCE_USER, TRUE));
  g_assert_true (has_tag (tags, "car", GALLERY_TAG_SOURCE_USER, TRUE));
  g_clear_pointer (&tags, g_ptr_array_unref);
  tags = gallery_store_list_tags (store, id, FALSE, &error);
  g_assert_cmpuint (tags->len, ==, 2);
  g_clear_pointer (&tags, g_ptr_array_unref);

  /* Adding a removed tag back by hand works; renaming across all images too. */
  g_assert_true (gallery_store_add_tag (store, id, "dog", &error));
  g_assert_true (gallery_store_rename_tag (store, 0, "dog", "puppy", &error));
  g_assert_no_error (error);
  tags = gallery_store_list_tags (store, id, FALSE, &error);
  g_assert_true (has_tag (tags, "puppy", GALLERY_TAG_SOURCE_USER, FALSE));
  g_assert_cmpuint (tags->len, ==, 3);

  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

static void
test_result_extract (void)
{
  struct {
    const char *task, *json, *caption, *ocr, *labels;
    guint n_tags;
  } cases[] = {
    { "<CAPTION>", "{\"<CAPTION>\": \"</s>A cat<pad>.\"}", "A cat .", "", "", 0 },
    { "<OCR>", "{\"<OCR>\": \"BAKERY<loc_1>Total 3.50\"}", "", "BAKERY Total 3.50", "", 0 },
    { "<OCR_WITH_REGION>",
      "{\"<OCR_WITH_REGION>\": {\"quad_boxes\": [[1,2,3,4,5,6,7,8]],"
      " \"labels\": [\"</s>HELLO\"]}}",
      "", "HELLO", "", 0 },
    { "<OD>",
      "{\"<OD>\": {\"bboxes\": [[1,2,3,4],[1,2,3,4],[1,2,3,4]],"
      " \"labels\": [\"car\", \"car\", \"tree\"]}}",
      "", "", "car; tree", 2 },
    { "<DENSE_REGION_CAPTION>",
      "{\"<DENSE_REGION_CAPTION>\": {\"bboxes\": [[1,2,3,4]],"
      " \"labels\": [\"a red car\"]}}",
      "a red car", "", "", 1 },
    { "<OPEN_VOCABULARY_DETECTION>",
      "{\"<OPEN_VOCABULARY_DETECTION>\": {\"bboxes\": [[1,2,3,4]],"
      " \"bboxes_labels\": [\"cup\"], \"polygons\": [[[1,2,3,4,5,6]]],"
      " \"polygons_labels\": [\"mug\"]}}",
      "", "", "cup; mug", 2 },
    { "<REGION_PROPOSAL>", "{\"<REGION_PROPOSAL>\": {\"bboxes\": [[1,2,3,4]], \"labels\": [\"\"]}}",
      "", "", "", 0 },
    /* The Depict result schema of florence-result.h */
    { NULL,
      "{\"version\": 1, \"task\": \"<OD>\", \"kind\": \"boxes\", \"image_size\": [9, 9],"
      " \"bboxes\": [[1,2,3,4]], \"bboxes_labels\": [\"bicycle\"]}",
      "", "", "bicycle", 1 },
    { "<OCR>",
      "{\"version\": 1, \"task\": \"<OCR>\", \"kind\": \"text\", \"image_size\": [9, 9],"
      " \"text\": \"RECEIPT\"}",
      "", "RECEIPT", "", 0 },
    { NULL,
      "{\"version\": 1, \"task\": \"<OCR_WITH_REGION>\", \"kind\": \"quads\","
      " \"image_size\": [9, 9], \"quad_boxes\": [[1,2,3,4,5,6,7,8]],"
      " \"quad_labels\": [\"</s>EXIT\"]}",
      "", "EXIT", "", 0 },
    { NULL,
      "{\"version\": 1, \"task\": \"<CAPTION_TO_PHRASE_GROUNDING>\","
      " \"kind\": \"boxes\", \"image_size\": [9, 9], \"bboxes\": [[1,2,3,4]],"
      " \"bboxes_labels\": [\"a girl\"]}",
      "", "", "a girl", 1 },
    /* Not a valid Depict result (no image size): not indexed. */
    { NULL, "{\"version\": 1, \"task\": \"<OCR>\", \"kind\": \"text\", \"text\": \"X\"}", "", "",
      "", 0 },
    /* Hostile shapes give nothing, never a crash. */
    { "<OD>", "{\"<OD>\": {\"labels\": [1, null, {\"a\": 2}, [\"x\"]]}}", "", "", "", 0 },
    { "<OD>", "[1, 2, 3]", "", "", "", 0 },
    /* Model debris is indexed as text but is never a tag: only "eagle" and "dog" are. */
    { "<OD>",
      "{\"<OD>\": {\"bboxes\": [[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],[1,2,3,4],"
      "[1,2,3,4],[1,2,3,4],[1,2,3,4]], \"labels\": [\"loc_931> eagle eagle\", \"eagle\","
      " \"unk>car\", \"poly>\", \"a<b\", \"eagle  Eagle\", \"1234\", \"Dog\","
      " \"a dog that runs after a ball on a very long beach\"]}}",
      "", "",
      "loc_931> eagle eagle; eagle; unk>car; poly>; a<b; eagle Eagle; 1234; Dog; "
      "a dog that runs after a ball on a very long beach",
      2 },
    { NULL, "{\"kind\": 7, \"task\": []}", "", "", "", 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = json_from_string (cases[i].json, &error);
      g_autoptr (GalleryResultText) text = NULL;

      g_assert_no_error (error);
      text = gallery_result_extract (cases[i].task, node);
      g_assert_cmpstr (text->caption, ==, cases[i].caption);
      g_assert_cmpstr (text->ocr, ==, cases[i].ocr);
      g_assert_cmpstr (text->labels, ==, cases[i].labels);
      g_assert_cmpuint (text->tags->len, ==, cases[i].n_tags);
    }
}

static void
test_tag_debris (void)
{
  const char *debris[] = { "",
                           "loc_931> eagle eagle",
                           "eagle eagle",
                           "<s>",
                           "unk>car",
                           "a<b",
                           "loc_12",
                           "1234",
                           "--",
                           "a dog that runs after a ball on a long beach",
                           "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
                           NULL };
  const char *tags[] = { "eagle",
                         "traffic light",
                         "person 2, left-most",
                         "café",
                         "bora",
                         "猫",
                         "red car with black wheels" };

  g_assert_true (gallery_tag_is_debris (NULL));
  for (guint i = 0; debris[i] != NULL; i++)
    if (!gallery_tag_is_debris (debris[i]))
      g_error ("“%s” was taken for a tag", debris[i]);
  for (guint i = 0; i < G_N_ELEMENTS (tags); i++)
    if (gallery_tag_is_debris (tags[i]))
      g_error ("“%s” was taken for debris", tags[i]);
}

/* Debris that an older version stored as tags is not listed (it reads as removed). */
static void
test_stored_debris_hidden (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photo = g_build_filename (dir, "p.png", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GPtrArray) tags = NULL;
  g_autofree char *sql = NULL;
  gint64 id;

  g_assert_no_error (error);
  gt_write_png (photo, 8, 8, 1);
  id = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (gallery_store_add_tag (store, id, "eagle", &error));
  sql = g_strdup_printf ("INSERT INTO tags (image_id, name, source) VALUES"
                         " (%" G_GINT64_FORMAT ", 'loc_931> eagle eagle', 0)",
                         id);
  g_assert_cmpint (sqlite3_exec (gallery_store_get_db (store), sql, NULL, NULL, NULL), ==,
                   SQLITE_OK);
  tags = gallery_store_list_tags (store, id, FALSE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tags->len, ==, 1);
  g_assert_true (has_tag (tags, "eagle", GALLERY_TAG_SOURCE_USER, FALSE));
  g_clear_pointer (&tags, g_ptr_array_unref);
  tags = gallery_store_list_tags (store, id, TRUE, &error);
  g_assert_cmpuint (tags->len, ==, 2);
  g_assert_true (has_tag (tags, "loc_931> eagle eagle", GALLERY_TAG_SOURCE_LABEL, TRUE));

  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

/* Photos removed from the gallery go with their runs, tags and text; their files stay. */
static void
test_forget_images (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GPtrArray) images = NULL;
  gint64 ids[4];
  guint forgotten = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("p%u.png", i);
      g_autofree char *photo = g_build_filename (dir, name, NULL);
      g_autoptr (GalleryRun) od = gt_make_run ("<OD>", od_result);

      gt_write_png (photo, 8, 8, i + 1);
      ids[i] = gallery_store_add_image (store, photo, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (gallery_store_add_run (store, ids[i], od, &error), >, 0);
      g_assert_true (gallery_store_add_tag (store, ids[i], "holiday", &error));
    }
  ids[3] = 9999; /* not in the gallery: passed over */
  g_assert_true (gallery_store_forget_images (store, ids + 1, 3, &forgotten, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (forgotten, ==, 2);

  images = gallery_store_list_images (store, NULL, &error);
  g_assert_cmpuint (images->len, ==, 1);
  g_assert_cmpint (((GalleryImage *) g_ptr_array_index (images, 0))->id, ==, ids[0]);
  g_assert_cmpint (gallery_store_count_runs (store, NULL), ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM tags"), ==, 3);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM image_paths"), ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count (*) FROM image_fts WHERE image_fts MATCH 'car'"),
                   ==, 1);
  /* The files are the person's: untouched. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("p%u.png", i);
      g_autofree char *photo = g_build_filename (dir, name, NULL);

      g_assert_true (g_file_test (photo, G_FILE_TEST_IS_REGULAR));
    }

  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

/* The schema as one string, white space removed. */
static char *
schema_text (GalleryStore *store)
{
  sqlite3_stmt *stmt = NULL;
  GString *out = g_string_new (NULL);

  g_assert_cmpint (sqlite3_prepare_v2 (gallery_store_get_db (store),
                                       "SELECT type, name, coalesce (sql, '') FROM sqlite_schema"
                                       " ORDER BY name",
                                       -1, &stmt, NULL),
                   ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      g_auto (GStrv) words =
        g_strsplit_set ((const char *) sqlite3_column_text (stmt, 2), " \t\n", -1);

      g_string_append_printf (out, "%s %s:", sqlite3_column_text (stmt, 0),
                              sqlite3_column_text (stmt, 1));
      for (guint i = 0; words[i] != NULL; i++)
        g_string_append (out, words[i]);
      g_string_append_c (out, '\n');
    }
  sqlite3_finalize (stmt);
  return g_string_free (out, FALSE);
}

/* A v1 database made with the v1 SQL (tests/gallery/gallery-v1.sql) and v1-era rows. */
static void
test_migrate_v1 (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "v1.db", NULL);
  g_autofree char *sql_path =
    g_build_filename (g_getenv ("DEPICT_GALLERY_TEST_DIR"), "gallery-v1.sql", NULL);
  g_autofree char *sql = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GPtrArray) tags = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  g_autoptr (GalleryImage) image = NULL;
  g_autoptr (GalleryRun) run = gt_make_run ("<OD>", od_result);
  gboolean found = FALSE;

  g_file_get_contents (sql_path, &sql, NULL, &error);
  g_assert_no_error (error);
  gt_sqlite_exec_file (db, sql);
  gt_sqlite_exec_file (
    db, "INSERT INTO images VALUES (1,"
        "  'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',"
        "  10, 640, 480, 6, 1700000000);"
        "INSERT INTO image_paths VALUES ('/photos/old.jpg', 1, 10, 1700000000, 1);"
        "INSERT INTO runs (id, image_id, task, model_name, weights_hash, num_beams, max_new_tokens,"
        "  raw_text, token_ids, result, timings, created, text_caption, text_labels)"
        "  VALUES (1, 1, '<OD>', 'florence-2-test', '0123abcd', 3, 20, 'x', '[2,0,2]',"
        "  '{\"<OD>\": {\"bboxes\": [[1,2,3,4]], \"labels\": [\"car\"]}}', '{}', 1700000000, '',"
        "  'car');"
        "INSERT INTO tags VALUES (1, 'car', 1);"
        "INSERT INTO image_text VALUES (1, '', '', 'car', 'car');");

  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, GALLERY_STORE_SCHEMA_VERSION);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                     "'runs_key'"),
                   ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                     "'runs_image'"),
                   ==, 0);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                     "'images_added'"),
                   ==, 1);
  {
    g_autofree char *ok = query_text (store, "PRAGMA integrity_check");

    g_assert_cmpstr (ok, ==, "ok");
  }

  /* The data survived, and v2 features work on it. */
  image = gallery_store_find_image (store, "/photos/old.jpg", &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->orientation, ==, 6);
  runs = gallery_store_list_runs (store, image->id, &error);
  g_assert_cmpuint (runs->len, ==, 1);
  g_assert_cmpuint (((GalleryRun *) g_ptr_array_index (runs, 0))->token_ids->len, ==, 3);
  tags = gallery_store_list_tags (store, image->id, TRUE, &error);
  g_assert_cmpuint (tags->len, ==, 1);
  g_assert_true (has_tag (tags, "car", GALLERY_TAG_SOURCE_LABEL, FALSE));
  g_assert_true (gallery_store_has_run (store, image->id, run, &found, &error));
  g_assert_true (found);
  g_assert_true (gallery_store_remove_tag (store, image->id, "car", &error));
  g_assert_cmpint (gallery_store_add_run (store, image->id, run, &error), >, 0);
  g_assert_no_error (error);
  g_clear_pointer (&tags, g_ptr_array_unref);
  tags = gallery_store_list_tags (store, image->id, FALSE, &error);
  g_assert_cmpuint (tags->len, ==, 1); /* "dog" from the new run; "car" stays removed */
  g_assert_true (has_tag (tags, "dog", GALLERY_TAG_SOURCE_LABEL, FALSE));
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM image_fts WHERE image_fts MATCH "
                                     "'car'"),
                   ==, 0);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM image_fts WHERE image_fts MATCH "
                                     "'dog'"),
                   ==, 1);
  g_clear_pointer (&store, gallery_store_close);

  /* The migrated schema is the one a new gallery gets. */
  {
    g_autofree char *fresh_path = g_build_filename (dir, "fresh.db", NULL);
    g_autoptr (GalleryStore) fresh = gallery_store_open (fresh_path, &error);
    g_autofree char *a = NULL, *b = NULL;

    g_assert_no_error (error);
    store = gallery_store_open (db, &error);
    g_assert_no_error (error);
    a = schema_text (fresh);
    b = schema_text (store);
    g_assert_cmpstr (a, ==, b);
    g_clear_pointer (&store, gallery_store_close);
  }
  gt_remove_tree (dir);
}

/* A v2 database made with the v2 SQL (tests/gallery/gallery-v2.sql) as galleries of that
 * version were: the same run stored twice (two overlapping taggers), a run of the app without
 * a weights hash, and the same photo twice under two file hashes (its metadata edited between
 * two taggings). After the migration each key has one run, and once the photos are seen again
 * the two records are one photo with all its results. */
static void
test_migrate_v2 (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "v2.db", NULL);
  g_autofree char *photo = g_build_filename (dir, "photo.png", NULL);
  g_autofree char *edited = g_build_filename (dir, "photo-edited.png", NULL);
  g_autofree char *sql_path =
    g_build_filename (g_getenv ("DEPICT_GALLERY_TEST_DIR"), "gallery-v2.sql", NULL);
  g_autofree char *sql = NULL;
  g_autofree char *rows = NULL;
  g_autofree char *hash1 = NULL, *hash2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  GStatBuf st1, st2;
  gint64 id;

  /* The same pixels in two files with different bytes (another compression level). */
  gt_write_png (photo, 30, 20, 9);
  {
    g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (photo, &error);

    g_assert_no_error (error);
    gdk_pixbuf_save (pixbuf, edited, "png", &error, "compression", "0", NULL);
    g_assert_no_error (error);
  }
  hash1 = gallery_store_hash_file (photo, NULL, NULL, &error);
  hash2 = gallery_store_hash_file (edited, NULL, NULL, &error);
  g_assert_cmpstr (hash1, !=, hash2);
  g_stat (photo, &st1);
  g_stat (edited, &st2);

  g_file_get_contents (sql_path, &sql, NULL, &error);
  g_assert_no_error (error);
  gt_sqlite_exec_file (db, sql);
  rows = g_strdup_printf (
    "INSERT INTO images VALUES (1, '%s', %d, 30, 20, 1, 1700000000);"
    "INSERT INTO images VALUES (2, '%s', %d, 30, 20, 1, 1700000500);"
    "INSERT INTO image_paths VALUES ('%s', 1, %d, %" G_GINT64_FORMAT ", 1);"
    "INSERT INTO image_paths VALUES ('%s', 2, %d, %" G_GINT64_FORMAT ", 2);"
    "INSERT INTO runs (id, image_id, task, model_name, weights_hash, num_beams, max_new_tokens,"
    "  raw_text, token_ids, result, timings, created, text_caption)"
    "  VALUES (1, 1, '<CAPTION>', 'florence-2-base', 'abc', 3, 1024, 'x', '[2]',"
    "  '{\"<CAPTION>\": \"an old caption\"}', '{}', 1700000000, 'an old caption'),"
    "  (2, 1, '<CAPTION>', 'florence-2-base', 'abc', 3, 1024, 'y', '[2]',"
    "  '{\"<CAPTION>\": \"a newer caption\"}', '{}', 1700000100, 'a newer caption'),"
    "  (3, 1, '<CAPTION>', 'base', '', 3, 1024, 'z', '[2]',"
    "  '{\"<CAPTION>\": \"from the app\"}', '{}', 1700000200, 'from the app'),"
    "  (4, 2, '<OCR>', 'florence-2-base', 'abc', 3, 1024, 'w', '[2]',"
    "  '{\"<OCR>\": \"EXIT\"}', '{}', 1700000600, ''),"
    "  (5, 1, '<OD>', 'florence-2-base', 'abc', 3, 1024, 'v', '[2]',"
    "  '{\"version\": 1, \"task\": \"<OD>\", \"kind\": \"boxes\", \"image_size\": [30, 20],"
    "  \"bboxes\": [[1, 2, 3, 4]], \"bboxes_labels\": [\"lamp\"]}', '{}', 1700000700, '');"
    "UPDATE runs SET text_ocr = 'EXIT' WHERE id = 4;"
    "INSERT INTO tags VALUES (1, 'lamp', 1, 0, 0), (2, 'holiday', NULL, 2, 0);"
    "INSERT INTO image_text VALUES (1, 'an old caption' || char (10) || 'a newer caption'"
    "  || char (10) || 'from the app', '', 'lamp', ''), (2, '', 'EXIT', '', 'holiday');",
    hash1, (int) st1.st_size, hash2, (int) st2.st_size, photo, (int) st1.st_size,
    (gint64) st1.st_mtime, edited, (int) st2.st_size, (gint64) st2.st_mtime);
  gt_sqlite_exec_file (db, rows);

  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, GALLERY_STORE_SCHEMA_VERSION);
  {
    g_autofree char *ok = query_text (store, "PRAGMA integrity_check");

    g_assert_cmpstr (ok, ==, "ok");
  }
  /* One run per key: the newer of the two stays; the app's is keyed by its model. */
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs"), ==, 4);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs WHERE id = 2"), ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs WHERE weights_hash ="
                                     " 'unknown:base'"),
                   ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM image_fts WHERE image_fts MATCH"
                                     " 'old'"),
                   ==, 0);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM image_files"), ==, 2);
  /* Every result in today's form, read once: the reference's {task: answer} and version 1's
   * "bboxes_labels" alike. */
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs WHERE json_extract (result,"
                                     " '$.version') = 2 AND json_extract (result, '$.kind')"
                                     " IS NOT NULL"),
                   ==, 4);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs WHERE id = 5 AND json_extract"
                                     " (result, '$.labels[0]') = 'lamp' AND json_extract (result,"
                                     " '$.bboxes_labels') IS NULL"),
                   ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM runs WHERE id = 4 AND json_extract"
                                     " (result, '$.text') = 'EXIT'"),
                   ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM tags WHERE name = 'lamp'"
                                     " AND run_id IS NULL"),
                   ==, 1);

  /* Seen again: both files are one photo, with every result and tag. */
  id = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, ==, 1);
  id = gallery_store_add_image (store, edited, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM images"), ==, 1);
  runs = gallery_store_list_runs (store, id, &error);
  g_assert_cmpuint (runs->len, ==, 4);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM tags WHERE image_id = 1"), ==, 2);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM image_fts WHERE image_fts MATCH"
                                     " 'newer AND exit AND holiday'"),
                   ==, 1);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM image_paths WHERE image_id = 1"), ==, 2);
  g_clear_pointer (&store, gallery_store_close);

  /* The migrated schema is the one a new gallery gets. */
  {
    g_autofree char *fresh_path = g_build_filename (dir, "fresh.db", NULL);
    g_autoptr (GalleryStore) fresh = gallery_store_open (fresh_path, &error);
    g_autofree char *a = NULL, *b = NULL;

    g_assert_no_error (error);
    store = gallery_store_open (db, &error);
    g_assert_no_error (error);
    a = schema_text (fresh);
    b = schema_text (store);
    g_assert_cmpstr (a, ==, b);
    g_clear_pointer (&store, gallery_store_close);
  }
  gt_remove_tree (dir);
}

/* Version 0 is an empty file: it becomes a gallery. */
static void
test_migrate_empty_file (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "empty.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;

  g_file_set_contents (db, "", 0, &error);
  g_assert_no_error (error);
  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, GALLERY_STORE_SCHEMA_VERSION);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

static void
test_read_only (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photo = gt_fixture_image ("small_37x101.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GalleryRun) run = gt_make_run ("<OD>", od_result);
  g_autoptr (GPtrArray) runs = NULL;
  gint64 id;

  id = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
  g_assert_no_error (error);
  g_clear_pointer (&store, gallery_store_close);

  /* Root ignores chmod, so read-only is the SQLite open mode. */
  store = gallery_store_open_full (db, GALLERY_STORE_READ_ONLY, &error);
  g_assert_no_error (error);
  runs = gallery_store_list_runs (store, id, &error);
  g_assert_cmpuint (runs->len, ==, 1);
  g_assert_false (gallery_store_add_tag (store, id, "x", &error));
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY);
  g_assert_nonnull (strstr (error->message, "read-only"));
  g_clear_error (&error);
  g_assert_cmpint (gallery_store_add_image (store, photo, NULL, &error), ==, 0);
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY);
  g_clear_error (&error);
  /* A write below the API is refused by SQLite itself, and reported as such. */
  {
    int rc = sqlite3_exec (gallery_store_get_db (store), "DELETE FROM runs", NULL, NULL, NULL);

    gallery_store_set_sqlite_error (store, rc, &error);
    g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY);
    g_assert_nonnull (strstr (error->message, "cannot be written"));
    g_clear_error (&error);
  }
  g_clear_pointer (&store, gallery_store_close);

  /* Read-only never creates a database. */
  {
    g_autofree char *missing = g_build_filename (dir, "missing.db", NULL);

    store = gallery_store_open_full (missing, GALLERY_STORE_READ_ONLY, &error);
    g_assert_null (store);
    g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND);
    g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  }
  gt_remove_tree (dir);
}

/* A full disk, simulated with PRAGMA max_page_count: a clear error, nothing half-written,
 * and everything stored before intact. */
static void
test_full_disk (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photo = gt_fixture_image ("small_37x101.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (GString) big = g_string_new ("{\"<CAPTION>\": \"");
  gint64 id, stored = 0, pages;
  g_autofree char *limit = NULL;

  id = gallery_store_add_image (store, photo, NULL, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 3000; i++)
    g_string_append_printf (big, "word%d ", i);
  g_string_append (big, "\"}");

  pages = query_int (store, "PRAGMA page_count");
  limit = g_strdup_printf ("PRAGMA max_page_count = %" G_GINT64_FORMAT, pages + 40);
  g_assert_cmpint (sqlite3_exec (gallery_store_get_db (store), limit, NULL, NULL, NULL), ==,
                   SQLITE_OK);
  for (int i = 0; i < 200; i++)
    {
      g_autoptr (GalleryRun) run = gt_make_run ("<CAPTION>", big->str);

      run->max_new_tokens = i; /* distinct runs */
      if (gallery_store_add_run (store, id, run, &error) == 0)
        break;
      stored++;
    }
  g_assert_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_FULL);
  g_assert_nonnull (strstr (error->message, "is full"));
  g_assert_cmpint (stored, >, 0);
  g_clear_error (&error);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, stored);
  /* Small writes still work where room is left; nothing is stuck in a transaction. */
  g_assert_true (sqlite3_get_autocommit (gallery_store_get_db (store)));
  g_clear_pointer (&store, gallery_store_close);

  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, stored);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM image_fts WHERE image_fts MATCH "
                                     "'word2999'"),
                   ==, 1);
  {
    g_autofree char *ok = query_text (store, "PRAGMA integrity_check");

    g_assert_cmpstr (ok, ==, "ok");
  }
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

static void
test_transactions_nest (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photo = gt_fixture_image ("small_37x101.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  gint64 id = gallery_store_add_image (store, photo, NULL, &error);

  g_assert_true (gallery_store_begin (store, &error));
  for (int i = 0; i < 3; i++)
    {
      g_autoptr (GalleryRun) run = gt_make_run ("<CAPTION>", caption_result);

      g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
    }
  gallery_store_rollback (store);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 0);
  g_assert_true (gallery_store_begin (store, &error));
  {
    g_autoptr (GalleryRun) run = gt_make_run ("<CAPTION>", caption_result);

    g_assert_cmpint (gallery_store_add_run (store, id, run, &error), >, 0);
  }
  g_assert_true (gallery_store_commit (store, &error));
  g_assert_no_error (error);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 1);
  g_clear_pointer (&store, gallery_store_close);
  gt_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gallery/store/open-fresh", test_open_fresh);
  g_test_add_func ("/gallery/store/default-path", test_default_path);
  g_test_add_func ("/gallery/store/images-and-paths", test_images_and_paths);
  g_test_add_func ("/gallery/store/runs-and-tags", test_runs_and_tags);
  g_test_add_func ("/gallery/store/result-extract", test_result_extract);
  g_test_add_func ("/gallery/store/tag-debris", test_tag_debris);
  g_test_add_func ("/gallery/store/stored-debris-hidden", test_stored_debris_hidden);
  g_test_add_func ("/gallery/store/forget-images", test_forget_images);
  g_test_add_func ("/gallery/store/migrate-v1", test_migrate_v1);
  g_test_add_func ("/gallery/store/migrate-v2", test_migrate_v2);
  g_test_add_func ("/gallery/store/migrate-empty-file", test_migrate_empty_file);
  g_test_add_func ("/gallery/store/read-only", test_read_only);
  g_test_add_func ("/gallery/store/full-disk", test_full_disk);
  g_test_add_func ("/gallery/store/transactions-nest", test_transactions_nest);
  return g_test_run ();
}
