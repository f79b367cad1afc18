/* test-image-thumbnail.c: thumbnails are small, oriented, and use embedded ones when they can
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <string.h>

#include "image-test-util.h"
#include "image/image-loader.h"
#include "image/image-thumbnail.h"

static ImageRgb *
thumbnail_ok (const char *path, int longest_side)
{
  g_autoptr (GError) error = NULL;
  ImageRgb *image = image_thumbnail_load (path, longest_side, &error);
  g_assert_no_error (error);
  g_assert_nonnull (image);
  return image;
}

static char *
big_pattern (const char *name, const char *type, int width, int height)
{
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (width, height, FALSE);
  char *path = test_temp_path (name);
  g_assert_true (test_save_pixbuf (pattern, path, type));
  return path;
}

static void
test_jpeg_oriented (void)
{
  g_autofree char *path = big_pattern ("photo.jpg", "jpeg", 640, 480);
  for (int orientation = 1; orientation <= 8; orientation++)
    {
      test_set_exif_orientation (path, orientation);
      g_autoptr (ImageRgb) thumb = thumbnail_ok (path, 100);
      gboolean swap = orientation >= 5;
      g_assert_cmpint (thumb->width, ==, swap ? 75 : 100);
      g_assert_cmpint (thumb->height, ==, swap ? 100 : 75);
      g_assert_cmpint (thumb->original_width, ==, 640);
      g_assert_cmpint (thumb->original_height, ==, 480);
      TestColor corners[4];
      test_expected_quadrants (orientation, corners);
      test_assert_quadrants (thumb, corners, 40);
    }
}

static void
test_other_formats (void)
{
  const char *types[] = { "png", "tiff", "bmp", "webp" };
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (300, 200, FALSE);
      g_autofree char *name = g_strdup_printf ("big.%s", types[i]);
      g_autofree char *path = test_temp_path (name);
      if (!test_save_pixbuf (pattern, path, types[i]))
        continue;
      g_autoptr (ImageRgb) thumb = thumbnail_ok (path, 60);
      g_assert_cmpint (thumb->width, ==, 60);
      g_assert_cmpint (thumb->height, ==, 40);
      g_assert_cmpstr (thumb->format, ==, types[i]);
      TestColor corners[4];
      test_expected_quadrants (1, corners);
      test_assert_quadrants (thumb, corners, 40);
    }

  /* TIFF with orientation 6: libtiff's half of the work and ours. */
  g_autofree char *tiff = big_pattern ("turned.tif", "tiff", 300, 200);
  test_set_exif_orientation (tiff, 6);
  g_autoptr (ImageRgb) t = thumbnail_ok (tiff, 60);
  g_assert_cmpint (t->width, ==, 40);
  g_assert_cmpint (t->height, ==, 60);
  TestColor corners[4];
  test_expected_quadrants (6, corners);
  test_assert_quadrants (t, corners, 40);
}

static void
test_never_upscaled (void)
{
  g_autofree char *path = big_pattern ("small.png", "png", PATTERN_WIDTH, PATTERN_HEIGHT);
  g_autoptr (ImageRgb) thumb = thumbnail_ok (path, 512);
  g_assert_cmpint (thumb->width, ==, PATTERN_WIDTH);
  g_assert_cmpint (thumb->height, ==, PATTERN_HEIGHT);
}

/* Embeds a solid magenta JPEG of width × height as the EXIF thumbnail of path. */
static void
embed_exif_thumbnail (const char *path, int width, int height)
{
  g_autoptr (GdkPixbuf) magenta = test_solid_pixbuf (width, height, TEST_MAGENTA);
  g_autofree char *thumb_path = test_temp_path ("exif-thumb.jpg");
  g_assert_true (test_save_pixbuf (magenta, thumb_path, "jpeg"));

  g_autoptr (GError) error = NULL;
  gexiv2_initialize ();
  g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
  gexiv2_metadata_open_path (metadata, path, &error);
  g_assert_no_error (error);
  gexiv2_metadata_set_exif_thumbnail_from_file (metadata, thumb_path, &error);
  g_assert_no_error (error);
  gexiv2_metadata_save_file (metadata, path, &error);
  g_assert_no_error (error);
}

static void
test_exif_thumbnail (void)
{
  /* The main picture is the pattern, the embedded thumbnail solid magenta: the colour says
   * which one was used. */
  g_autofree char *path = big_pattern ("with-thumb.jpg", "jpeg", 640, 480);
  embed_exif_thumbnail (path, 320, 240);

  g_autoptr (ImageRgb) small = thumbnail_ok (path, 200);
  g_assert_cmpint (small->width, ==, 200);
  g_assert_cmpint (small->height, ==, 150);
  test_assert_pixel (small, 100, 75, TEST_MAGENTA, 40);
  test_assert_pixel (small, 10, 10, TEST_MAGENTA, 40);

  /* Larger than the embedded one: the main picture is decoded. */
  g_autoptr (ImageRgb) large = thumbnail_ok (path, 400);
  g_assert_cmpint (large->width, ==, 400);
  TestColor corners[4];
  test_expected_quadrants (1, corners);
  test_assert_quadrants (large, corners, 40);

  /* The embedded thumbnail follows the file's orientation too. */
  test_set_exif_orientation (path, 8);
  g_autoptr (ImageRgb) turned = thumbnail_ok (path, 200);
  g_assert_cmpint (turned->width, ==, 150);
  g_assert_cmpint (turned->height, ==, 200);
  test_assert_pixel (turned, 75, 100, TEST_MAGENTA, 40);

  /* A letterboxed (other aspect ratio) embedded thumbnail is not used. */
  g_autofree char *boxed = big_pattern ("letterboxed.jpg", "jpeg", 640, 360);
  embed_exif_thumbnail (boxed, 320, 240);
  g_autoptr (ImageRgb) wide = thumbnail_ok (boxed, 160);
  g_assert_cmpint (wide->width, ==, 160);
  g_assert_cmpint (wide->height, ==, 90);
  test_assert_quadrants (wide, corners, 40);
}

static void
test_heif (gconstpointer data)
{
  gboolean avif = GPOINTER_TO_INT (data);
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (128, 96, FALSE);
  g_autofree char *path = test_temp_path (avif ? "turned.avif" : "turned.heic");
  if (!test_write_heif (path, pattern, avif, 6, NULL))
    {
      g_test_skip ("libheif has no encoder for this format here");
      return;
    }
  g_autoptr (ImageRgb) thumb = thumbnail_ok (path, 64);
  g_assert_cmpint (thumb->width, ==, 48);
  g_assert_cmpint (thumb->height, ==, 64);
  g_assert_cmpstr (thumb->format, ==, avif ? "avif" : "heif");
  TestColor corners[4];
  test_expected_quadrants (6, corners);
  test_assert_quadrants (thumb, corners, 40);
}

static void
test_heif_embedded (void)
{
  /* A HEIC whose thumbnail item is solid magenta (32 × 24). */
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (128, 96, FALSE);
  g_autofree char *path = test_temp_path ("with-thumb.heic");
  if (!test_write_heif (path, pattern, FALSE, 1, &TEST_MAGENTA))
    {
      g_test_skip ("libheif has no HEVC encoder here");
      return;
    }
  g_autoptr (ImageRgb) small = thumbnail_ok (path, 32);
  g_assert_cmpint (small->width, ==, 32);
  g_assert_cmpint (small->height, ==, 24);
  test_assert_pixel (small, 16, 12, TEST_MAGENTA, 40);
  g_assert_cmpint (small->original_width, ==, 128);

  /* Too small for 64: the primary picture. */
  g_autoptr (ImageRgb) large = thumbnail_ok (path, 64);
  g_assert_cmpint (large->width, ==, 64);
  g_assert_cmpint (large->height, ==, 48);
  TestColor corners[4];
  test_expected_quadrants (1, corners);
  test_assert_quadrants (large, corners, 40);

  /* And the full load never takes the thumbnail. */
  g_autoptr (ImageRgb) full = image_load (path, NULL, NULL);
  g_assert_cmpint (full->width, ==, 128);
  test_assert_quadrants (full, corners, 40);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/image/thumbnail/jpeg-oriented", test_jpeg_oriented);
  g_test_add_func ("/image/thumbnail/other-formats", test_other_formats);
  g_test_add_func ("/image/thumbnail/never-upscaled", test_never_upscaled);
  g_test_add_func ("/image/thumbnail/exif-thumbnail", test_exif_thumbnail);
  g_test_add_data_func ("/image/thumbnail/heic", GINT_TO_POINTER (FALSE), test_heif);
  g_test_add_data_func ("/image/thumbnail/avif", GINT_TO_POINTER (TRUE), test_heif);
  g_test_add_func ("/image/thumbnail/heic-embedded", test_heif_embedded);

  int result = g_test_run ();
  test_temp_cleanup ();
  return result;
}
