/* gallery-test-util.c: helpers shared by the gallery tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "gallery-test-util.h"

GalleryTaggerOptions
gt_tagger_options (const char *const *tasks, GalleryRunFunc run_func)
{
  GalleryTaggerOptions options = {
    .model_name = "florence-2-test",
    .weights_hash = "0123abcd",
    .num_beams = 3,
    .max_new_tokens = 20,
    .tasks = tasks,
    .run_func = run_func,
  };

  return options;
}

char *
gt_make_temp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("depict-gallery-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
gt_remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            gt_remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

char *
gt_fixture_image (const char *name)
{
  const char *data = g_getenv ("DEPICT_TEST_DATA");

  g_assert_nonnull (data);
  return g_build_filename (data, "preprocess", "images", name, NULL);
}

void
gt_copy_file (const char *from, const char *to)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (from, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents (to, contents, length, &error);
  g_assert_no_error (error);
}

GalleryRun *
gt_make_run (const char *task, const char *result_json)
{
  g_autoptr (GError) error = NULL;
  GalleryRun *run = gallery_run_new ();
  gint32 ids[] = { 2, 0, 100, 2 };

  run->task = g_strdup (task);
  run->model_name = g_strdup ("florence-2-test");
  run->weights_hash = g_strdup ("0123abcd");
  run->num_beams = 3;
  run->max_new_tokens = 20;
  run->raw_text = g_strdup ("</s><s>raw</s>");
  run->token_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_array_append_vals (run->token_ids, ids, G_N_ELEMENTS (ids));
  run->result = json_from_string (result_json, &error);
  g_assert_no_error (error);
  run->timings = json_from_string ("{\"total\": 0.5}", &error);
  g_assert_no_error (error);
  return run;
}

void
gt_sqlite_exec_file (const char *db_path, const char *sql)
{
  sqlite3 *db = NULL;
  char *message = NULL;
  int rc;

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  rc = sqlite3_exec (db, sql, NULL, NULL, &message);
  if (rc != SQLITE_OK)
    g_error ("SQL failed: %s", message);
  sqlite3_close (db);
}

GBytes *
gt_read_bytes (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

void
gt_write_png (const char *path, int width, int height, guint seed)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width * 3; x++)
      pixels[y * stride + x] =
        (guint8) ((x * 7 + y * 13 + seed * 101 + (x * y * seed) % 17) & 0xff);
  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);
}
