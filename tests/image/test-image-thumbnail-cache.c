/* test-image-thumbnail-cache.c: thumbnails in the desktop's shared cache
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A thumbnail saved for a photo is found again by the photo's path, in the flavor of its size
 * (named by the MD5 of the file URI, carrying Thumb::URI and Thumb::MTime as the
 * freedesktop.org specification says), scaled to what is asked, and image_thumbnail_load()
 * uses it; a photo changed since is not given its old thumbnail; a thumbnail smaller than
 * asked is used only when it is the whole photo; foreign or broken files in the cache are
 * passed over.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <utime.h>

#include "image-test-util.h"
#include "image/image-thumbnail-cache.h"
#include "image/image-thumbnail.h"

static ImageRgb *
solid (int width, int height, TestColor color)
{
  g_autoptr (GdkPixbuf) pixbuf = test_solid_pixbuf (width, height, color);
  g_autoptr (GError) error = NULL;
  ImageRgb *image = image_rgb_new_from_pixbuf (pixbuf, &error);
  g_assert_no_error (error);
  return image;
}

/* A 1024 × 768 red photo on disk. */
static char *
make_photo (const char *name, TestColor color)
{
  char *path = test_temp_path (name);
  g_autoptr (GdkPixbuf) pixbuf = test_solid_pixbuf (1024, 768, color);
  g_assert_true (test_save_pixbuf (pixbuf, path, "png"));
  return path;
}

static void
test_save_and_load (void)
{
  g_autofree char *photo = make_photo ("photo.png", TEST_RED);
  g_autoptr (GError) error = NULL;

  /* nothing yet */
  g_assert_null (image_thumbnail_cache_load (photo, 192, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* a blue thumbnail for the red photo: what the loader returns tells where it came from */
  g_autoptr (ImageRgb) thumbnail = solid (256, 192, TEST_BLUE);
  g_assert_true (image_thumbnail_cache_save (photo, thumbnail, 1024, 768, &error));
  g_assert_no_error (error);

  /* where the specification says: large/, MD5 of the URI, the URI and time inside */
  g_autofree char *file = image_thumbnail_cache_get_path (photo, 256);
  g_autofree char *uri = g_filename_to_uri (photo, NULL, NULL);
  g_autofree char *md5 = g_compute_checksum_for_string (G_CHECKSUM_MD5, uri, -1);
  g_autofree char *name = g_strconcat (md5, ".png", NULL);
  g_autofree char *expected =
    g_build_filename (g_get_user_cache_dir (), "thumbnails", "large", name, NULL);
  g_assert_cmpstr (file, ==, expected);
  g_autoptr (GdkPixbuf) png = gdk_pixbuf_new_from_file (file, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (gdk_pixbuf_get_option (png, "tEXt::Thumb::URI"), ==, uri);
  GStatBuf st;
  g_assert_cmpint (g_stat (photo, &st), ==, 0);
  g_autofree char *mtime = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) st.st_mtime);
  g_assert_cmpstr (gdk_pixbuf_get_option (png, "tEXt::Thumb::MTime"), ==, mtime);

  /* found again, scaled to what is asked */
  g_autoptr (ImageRgb) small = image_thumbnail_cache_load (photo, 128, &error);
  g_assert_no_error (error);
  g_assert_cmpint (small->width, ==, 128);
  g_assert_cmpint (small->height, ==, 96);
  test_assert_pixel (small, 64, 48, TEST_BLUE, 2);
  /* image_thumbnail_load() takes it rather than decoding the (red) photo */
  g_autoptr (ImageRgb) grid = image_thumbnail_load (photo, 192, &error);
  g_assert_no_error (error);
  g_assert_cmpint (grid->width, ==, 192);
  test_assert_pixel (grid, 10, 10, TEST_BLUE, 2);

  /* larger than the flavor holds: not from the cache */
  g_assert_null (image_thumbnail_cache_load (photo, 400, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_autoptr (ImageRgb) big = image_thumbnail_load (photo, 400, &error);
  g_assert_no_error (error);
  test_assert_pixel (big, 10, 10, TEST_RED, 2);

  /* the photo changes: its old thumbnail is not used */
  struct utimbuf later = { st.st_atime, st.st_mtime + 10 };
  g_assert_cmpint (utime (photo, &later), ==, 0);
  g_assert_null (image_thumbnail_cache_load (photo, 192, &error));
  g_clear_error (&error);
  g_autoptr (ImageRgb) fresh = image_thumbnail_load (photo, 192, &error);
  g_assert_no_error (error);
  test_assert_pixel (fresh, 10, 10, TEST_RED, 2);
}

static void
test_small_photo_and_foreign_files (void)
{
  g_autofree char *photo = make_photo ("other.png", TEST_GREEN);
  g_autoptr (GError) error = NULL;

  /* a thumbnail of 100 pixels for a photo of 1024: not enough for 192 */
  g_autoptr (ImageRgb) tiny = solid (100, 75, TEST_BLUE);
  g_assert_true (image_thumbnail_cache_save (photo, tiny, 1024, 768, &error));
  g_assert_no_error (error);
  {
    g_autoptr (ImageRgb) exact = image_thumbnail_cache_load (photo, 100, &error);
    g_assert_no_error (error);
    g_assert_cmpint (exact->width, ==, 100);
  }
  g_assert_null (image_thumbnail_cache_load (photo, 192, &error));
  g_clear_error (&error);
  /* the same size for a photo that small: the whole photo, fine */
  g_assert_true (image_thumbnail_cache_save (photo, tiny, 100, 75, &error));
  g_autoptr (ImageRgb) whole = image_thumbnail_cache_load (photo, 192, &error);
  g_assert_no_error (error);
  g_assert_cmpint (whole->width, ==, 100);

  /* somebody else's file under the name (another URI inside), then garbage */
  g_autofree char *normal = image_thumbnail_cache_get_path (photo, 100);
  g_assert_cmpint (g_unlink (normal), ==, 0);
  g_autofree char *file = image_thumbnail_cache_get_path (photo, 192);
  g_autoptr (GdkPixbuf) foreign = test_solid_pixbuf (256, 192, TEST_MAGENTA);
  g_assert_true (gdk_pixbuf_save (foreign, file, "png", &error, "tEXt::Thumb::URI",
                                  "file:///somewhere/else.png", "tEXt::Thumb::MTime", "1", NULL));
  g_assert_null (image_thumbnail_cache_load (photo, 192, &error));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (file, "\x89PNG\r\n\x1a\n broken", -1, NULL));
  g_assert_null (image_thumbnail_cache_load (photo, 192, &error));
  g_clear_error (&error);
  g_autoptr (ImageRgb) decoded = image_thumbnail_load (photo, 192, &error);
  g_assert_no_error (error);
  test_assert_pixel (decoded, 10, 10, TEST_GREEN, 2);

  /* no such photo */
  g_autofree char *missing = test_temp_path ("missing.png");
  g_assert_null (image_thumbnail_cache_load (missing, 128, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (image_thumbnail_cache_save (missing, tiny, 100, 75, &error));
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* the cache of this test only */
  g_autofree char *cache = g_dir_make_tmp ("depict-thumbnails-XXXXXX", NULL);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_test_add_func ("/image/thumbnail-cache/save-and-load", test_save_and_load);
  g_test_add_func ("/image/thumbnail-cache/small-photo-and-foreign-files",
                   test_small_photo_and_foreign_files);
  int status = g_test_run ();
  test_temp_cleanup ();
  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", cache);
  if (system (rm) != 0)
    g_printerr ("could not remove %s\n", cache);
  return status;
}
