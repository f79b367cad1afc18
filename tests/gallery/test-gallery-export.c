/* test-gallery-export.c: XMP sidecars (read back with gexiv2), writing into originals, JSON
 * and CSV exports
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gallery/gallery-export.h"
#include "gallery-test-util.h"

typedef struct {
  char *dir;
  char *photo;
  GalleryStore *store;
  gint64 id;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *fixture = gt_fixture_image (data != NULL ? data : "photo_1500x1000_q90.jpg");
  g_autoptr (GalleryRun) caption =
    gt_make_run ("<CAPTION>", "{\"<CAPTION>\": \"A dog on a red sofa.\"}");
  g_autoptr (GalleryRun) od = gt_make_run ("<OD>", "{\"<OD>\": {\"bboxes\": [[1,2,3,4],[1,2,3,4]],"
                                                   " \"labels\": [\"dog\", \"sofa\"]}}");
  g_autofree char *ext =
    g_strrstr (fixture, ".") != NULL ? g_strdup (g_strrstr (fixture, ".")) : g_strdup ("");

  f->dir = gt_make_temp_dir ();
  db = g_build_filename (f->dir, "g.db", NULL);
  f->photo = g_strconcat (f->dir, "/photo", ext, NULL);
  gt_copy_file (fixture, f->photo);
  f->store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  f->id = gallery_store_add_image (f->store, f->photo, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gallery_store_add_run (f->store, f->id, caption, &error), >, 0);
  g_assert_cmpint (gallery_store_add_run (f->store, f->id, od, &error), >, 0);
  g_assert_true (gallery_store_add_tag (f->store, f->id, "Holiday", &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  gallery_store_close (f->store);
  gt_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->photo);
}

static GExiv2Metadata *
read_metadata (const char *path)
{
  g_autoptr (GError) error = NULL;
  GExiv2Metadata *metadata = gexiv2_metadata_new ();

  gexiv2_metadata_open_path (metadata, path, &error);
  g_assert_no_error (error);
  return metadata;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
assert_keywords (GExiv2Metadata *metadata, const char *key, const char *const *expected)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) values = gexiv2_metadata_try_get_tag_multiple (metadata, key, &error);
  g_autoptr (GPtrArray) sorted = g_ptr_array_new ();

  g_assert_no_error (error);
  g_assert_nonnull (values);
  for (guint i = 0; values[i] != NULL; i++)
    g_ptr_array_add (sorted, values[i]);
  g_ptr_array_sort (sorted, compare_strings);
  g_assert_cmpuint (sorted->len, ==, g_strv_length ((GStrv) expected));
  for (guint i = 0; i < sorted->len; i++)
    g_assert_cmpstr (g_ptr_array_index (sorted, i), ==, expected[i]);
}

static char *
description (GExiv2Metadata *metadata)
{
  g_autofree char *value =
    gexiv2_metadata_try_get_tag_string (metadata, "Xmp.dc.description", NULL);

  g_assert_nonnull (value);
  if (g_str_has_prefix (value, "lang=\"x-default\" "))
    return g_strdup (value + strlen ("lang=\"x-default\" "));
  return g_steal_pointer (&value);
}

static void
test_sidecar (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sidecar = gallery_export_sidecar_path (f->photo);
  g_autoptr (GBytes) before = gt_read_bytes (f->photo);
  g_autoptr (GBytes) after = NULL;
  g_autoptr (GExiv2Metadata) metadata = NULL;
  g_autofree char *text = NULL;
  const char *const tags[] = { "dog", "holiday", "sofa", NULL };
  guint written = 0;

  g_assert_cmpstr (sidecar + strlen (f->photo), ==, ".xmp");
  g_assert_true (strncmp (sidecar, f->photo, strlen (f->photo)) == 0);
  g_assert_true (gallery_export_xmp (f->store, f->id, GALLERY_EXPORT_FLAGS_NONE, &written, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, 1);
  after = gt_read_bytes (f->photo);
  g_assert_true (g_bytes_equal (before, after)); /* the original is untouched */

  metadata = read_metadata (sidecar);
  assert_keywords (metadata, "Xmp.dc.subject", tags);
  assert_keywords (metadata, "Iptc.Application2.Keywords", tags);
  text = description (metadata);
  g_assert_cmpstr (text, ==, "A dog on a red sofa.");
  g_clear_object (&metadata);

  /* Keywords of another program stay; a tag removed in Depict goes; no temp files left. */
  {
    g_autoptr (GExiv2Metadata) other = read_metadata (sidecar);
    const char *theirs[] = { "dog", "holiday", "sofa", "Family", NULL };

    g_assert_true (gexiv2_metadata_try_set_tag_multiple (other, "Xmp.dc.subject", theirs, &error));
    g_assert_true (gexiv2_metadata_save_file (other, sidecar, &error));
    g_assert_no_error (error);
  }
  g_assert_true (gallery_store_remove_tag (f->store, f->id, "sofa", &error));
  g_assert_true (gallery_export_xmp (f->store, f->id, GALLERY_EXPORT_FLAGS_NONE, &written, &error));
  g_assert_no_error (error);
  metadata = read_metadata (sidecar);
  assert_keywords (metadata, "Xmp.dc.subject",
                   (const char *const[]){ "Family", "dog", "holiday", NULL });
  g_clear_object (&metadata);
  {
    GDir *dir = g_dir_open (f->dir, 0, NULL);
    const char *name;
    guint n = 0;

    while ((name = g_dir_read_name (dir)) != NULL)
      if (name[0] == '.')
        n++;
    g_dir_close (dir);
    g_assert_cmpuint (n, ==, 0);
  }

  /* A description written by a person is kept. */
  {
    g_autoptr (GExiv2Metadata) other = read_metadata (sidecar);

    g_assert_true (
      gexiv2_metadata_try_set_tag_string (other, "Xmp.dc.description", "Our dog Rex", &error));
    g_assert_true (gexiv2_metadata_save_file (other, sidecar, &error));
  }
  g_assert_true (gallery_export_xmp (f->store, f->id, GALLERY_EXPORT_FLAGS_NONE, &written, &error));
  metadata = read_metadata (sidecar);
  g_clear_pointer (&text, g_free);
  text = description (metadata);
  g_assert_cmpstr (text, ==, "Our dog Rex");
}

static void
test_overwrite_original (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sidecar = gallery_export_sidecar_path (f->photo);
  g_autoptr (GExiv2Metadata) metadata = NULL;
  g_autoptr (GalleryImage) image = NULL;
  const char *const tags[] = { "dog", "holiday", "sofa", NULL };
  guint written = 0;

  g_assert_true (
    gallery_export_xmp (f->store, f->id, GALLERY_EXPORT_OVERWRITE_ORIGINAL, &written, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, 1);
  g_assert_false (g_file_test (sidecar, G_FILE_TEST_EXISTS));
  metadata = read_metadata (f->photo);
  assert_keywords (metadata, "Xmp.dc.subject", tags);
  assert_keywords (metadata, "Iptc.Application2.Keywords", tags);
  g_assert_cmpint (gexiv2_metadata_get_pixel_width (metadata), ==, 1500);
  /* The rewritten photo still has its results. */
  image = gallery_store_find_image (f->store, f->photo, &error);
  g_assert_no_error (error);
  g_assert_cmpint (image->id, ==, f->id);
  g_assert_cmpint (gallery_store_add_image (f->store, f->photo, NULL, &error), ==, f->id);
}

static void
test_json_csv (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GOutputStream) json_out = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) csv_out = g_memory_output_stream_new_resizable ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *json_text = NULL;
  g_autofree char *csv_text = NULL;
  g_auto (GStrv) lines = NULL;
  JsonObject *image;
  JsonArray *runs;
  g_autoptr (GalleryRun) hostile = gt_make_run ("<OCR>", "{\"<OCR>\": \"=HYPERLINK(\\\"x\\\")\"}");

  g_assert_cmpint (gallery_store_add_run (f->store, f->id, hostile, &error), >, 0);
  g_array_append_val (ids, f->id);
  g_assert_true (gallery_export_json (f->store, ids, json_out, NULL, &error));
  g_assert_true (g_output_stream_write_all (json_out, "", 1, NULL, NULL, &error));
  g_assert_true (g_output_stream_close (json_out, NULL, &error));
  json_text = g_strdup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (json_out)));
  /* JSON Lines: one photo, one line. */
  g_assert_true (g_str_has_suffix (json_text, "}\n"));
  g_assert_true (strchr (json_text, '\n') == json_text + strlen (json_text) - 1);
  root = json_from_string (json_text, &error);
  g_assert_no_error (error);
  image = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (image, "version"), ==, 1);
  g_assert_cmpuint (strlen (json_object_get_string_member (image, "pixels")), ==, 64);
  g_assert_cmpuint (strlen (json_object_get_string_member (image, "hash")), ==, 64);
  g_assert_cmpint (json_object_get_int_member (image, "width"), ==, 1500);
  runs = json_object_get_array_member (image, "runs");
  g_assert_cmpuint (json_array_get_length (runs), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (runs, 0), "task"),
                   ==, "<CAPTION>");
  g_assert_true (JSON_NODE_HOLDS_OBJECT (
    json_object_get_member (json_array_get_object_element (runs, 1), "result")));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_array_get_object_element (runs, 1), "token_ids")),
                    ==, 4);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (image, "tags")), ==, 3);

  g_assert_true (gallery_export_csv (f->store, ids, csv_out, NULL, &error));
  g_assert_true (g_output_stream_write_all (csv_out, "", 1, NULL, NULL, &error));
  g_assert_true (g_output_stream_close (csv_out, NULL, &error));
  csv_text = g_strdup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (csv_out)));
  lines = g_strsplit (csv_text, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5); /* header, 3 runs, "" */
  g_assert_true (g_str_has_prefix (lines[0], "hash,path,task,"));
  g_assert_nonnull (strstr (lines[1], ",\"A dog on a red sofa.\","));
  g_assert_nonnull (strstr (lines[2], ",\"dog; sofa\","));
  /* A formula is shown as text; quotes are doubled. */
  g_assert_nonnull (strstr (lines[3], ",\"'=HYPERLINK(\"\"x\"\")\","));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  gexiv2_initialize ();
#define ADD(path, func, image)                                                                     \
  g_test_add (path, Fixture, image, fixture_setup, func, fixture_teardown)
  ADD ("/gallery/export/sidecar", test_sidecar, NULL);
  ADD ("/gallery/export/sidecar-png", test_sidecar, "photo_640x480.png");
  ADD ("/gallery/export/overwrite-original", test_overwrite_original, NULL);
  ADD ("/gallery/export/json-csv", test_json_csv, NULL);
#undef ADD
  return g_test_run ();
}
