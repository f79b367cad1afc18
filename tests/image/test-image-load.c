/* test-image-load.c: every format, every orientation, conversions to RGB8, sizes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <string.h>

#include "image-test-util.h"
#include "image/image-loader.h"
#include "image/image-orientation.h"

static ImageRgb *
load_ok (const char *path, const ImageLoadOptions *opts)
{
  g_autoptr (GError) error = NULL;
  ImageRgb *image = image_load (path, opts, &error);
  g_assert_no_error (error);
  g_assert_nonnull (image);
  g_assert_cmpuint (image->stride, >=, (gsize) image->width * 3);
  return image;
}

static void
assert_pattern (const ImageRgb *image, int orientation, int tolerance)
{
  TestColor corners[4];
  test_expected_quadrants (orientation, corners);
  gboolean swap = orientation >= 5;
  g_assert_cmpint (image->width, ==, swap ? PATTERN_HEIGHT : PATTERN_WIDTH);
  g_assert_cmpint (image->height, ==, swap ? PATTERN_WIDTH : PATTERN_HEIGHT);
  test_assert_quadrants (image, corners, tolerance);
}

/* --- formats ------------------------------------------------------------------------------ */

typedef struct {
  const char *type;
  const char *extension;
  int tolerance; /* 0 for lossless formats */
} Format;

static const Format pixbuf_formats[] = {
  { "png", "png", 0 }, { "jpeg", "jpg", 40 },  { "tiff", "tif", 0 },
  { "bmp", "bmp", 0 }, { "webp", "webp", 40 },
};

static void
test_formats (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (pixbuf_formats); i++)
    {
      const Format *f = &pixbuf_formats[i];
      g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
      g_autofree char *name = g_strdup_printf ("pattern.%s", f->extension);
      g_autofree char *path = test_temp_path (name);
      if (!test_save_pixbuf (pattern, path, f->type))
        {
          g_test_message ("no GdkPixbuf saver for %s: not tested", f->type);
          g_assert_cmpstr (f->type, ==, "webp"); /* the others are part of gdk-pixbuf */
          continue;
        }
      g_autoptr (ImageRgb) image = load_ok (path, NULL);
      g_assert_cmpstr (image->format, ==, f->type);
      g_assert_cmpint (image->orientation, ==, 1);
      g_assert_cmpint (image->original_width, ==, PATTERN_WIDTH);
      g_assert_cmpint (image->original_height, ==, PATTERN_HEIGHT);
      assert_pattern (image, 1, f->tolerance);
    }
}

static void
test_alpha_formats (void)
{
  /* Saved with an alpha channel: the RGB values come back, the alpha is dropped. */
  const char *types[] = { "png", "tiff", "webp" };
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, TRUE);
      g_autofree char *name = g_strdup_printf ("alpha.%s", types[i]);
      g_autofree char *path = test_temp_path (name);
      if (!test_save_pixbuf (pattern, path, types[i]))
        continue;
      g_autoptr (ImageRgb) image = load_ok (path, NULL);
      assert_pattern (image, 1, strcmp (types[i], "webp") == 0 ? 40 : 0);
    }
}

static void
test_gif_first_frame (void)
{
  const TestColor palette[4] = { TEST_RED, TEST_GREEN, TEST_BLUE, TEST_YELLOW };
  int w = PATTERN_WIDTH, h = PATTERN_HEIGHT;
  g_autofree guint8 *first = g_new (guint8, w * h);
  g_autofree guint8 *second = g_new (guint8, w * h);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        first[y * w + x] = (y >= h / 2 ? 2 : 0) + (x >= w / 2 ? 1 : 0);
        second[y * w + x] = 3;
      }
  const guint8 *frames[2] = { first, second };
  g_autofree char *path = test_temp_path ("animation.gif");
  test_write_gif (path, w, h, palette, frames, 2);

  g_autoptr (ImageRgb) image = load_ok (path, NULL);
  g_assert_cmpstr (image->format, ==, "gif");
  assert_pattern (image, 1, 0);
  /* Exactly: every pixel of the first frame. */
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      test_assert_pixel (image, x, y, palette[first[y * w + x]], 0);
}

static void
test_heif_format (gconstpointer data)
{
  gboolean avif = GPOINTER_TO_INT (data);
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
  g_autofree char *path = test_temp_path (avif ? "pattern.avif" : "pattern.heic");
  if (!test_write_heif (path, pattern, avif, 1, NULL))
    {
      g_test_skip (avif ? "libheif has no AV1 encoder here" : "libheif has no HEVC encoder here");
      return;
    }
  g_autoptr (ImageRgb) image = load_ok (path, NULL);
  g_assert_cmpstr (image->format, ==, avif ? "avif" : "heif");
  assert_pattern (image, 1, 40);
}

/* --- orientation -------------------------------------------------------------------------- */

static void
test_exif_orientation (gconstpointer data)
{
  const Format *f = data;
  for (int orientation = 1; orientation <= 8; orientation++)
    {
      g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
      g_autofree char *name = g_strdup_printf ("oriented-%d.%s", orientation, f->extension);
      g_autofree char *path = test_temp_path (name);
      if (!test_save_pixbuf (pattern, path, f->type))
        {
          g_test_skip ("no GdkPixbuf saver for this format");
          return;
        }
      test_set_exif_orientation (path, orientation);
      g_assert_cmpint (image_orientation_read (path), ==, orientation);

      g_test_message ("%s, orientation %d", f->type, orientation);
      g_autoptr (ImageRgb) image = load_ok (path, NULL);
      g_assert_cmpint (image->orientation, ==, orientation);
      g_assert_cmpint (image->original_width, ==, PATTERN_WIDTH);
      g_assert_cmpint (image->original_height, ==, PATTERN_HEIGHT);
      assert_pattern (image, orientation, f->tolerance);

      int w = 0, h = 0;
      g_autoptr (GError) error = NULL;
      g_assert_true (image_load_size (path, &w, &h, &error));
      g_assert_no_error (error);
      g_assert_cmpint (w, ==, image->width);
      g_assert_cmpint (h, ==, image->height);

      /* As stored (what the reference processor sees). */
      ImageLoadOptions opts = { .ignore_orientation = TRUE };
      g_autoptr (ImageRgb) stored = load_ok (path, &opts);
      g_assert_cmpint (stored->orientation, ==, 1);
      assert_pattern (stored, 1, f->tolerance);
    }
}

static void
test_heif_orientation (gconstpointer data)
{
  gboolean avif = GPOINTER_TO_INT (data);
  /* AV1 encoding is slow: two values there, all eight for HEVC. */
  static const int all[] = { 1, 2, 3, 4, 5, 6, 7, 8 };
  static const int some[] = { 6, 7 };
  const int *values = avif ? some : all;
  int n = avif ? G_N_ELEMENTS (some) : G_N_ELEMENTS (all);
  for (int i = 0; i < n; i++)
    {
      int orientation = values[i];
      g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
      g_autofree char *name =
        g_strdup_printf ("oriented-%d.%s", orientation, avif ? "avif" : "heic");
      g_autofree char *path = test_temp_path (name);
      if (!test_write_heif (path, pattern, avif, orientation, NULL))
        {
          g_test_skip ("libheif has no encoder for this format here");
          return;
        }
      g_test_message ("%s, orientation %d", avif ? "avif" : "heic", orientation);
      g_autoptr (ImageRgb) image = load_ok (path, NULL);
      assert_pattern (image, orientation, 40);
      g_test_message ("stored %d × %d", image->original_width, image->original_height);

      int w = 0, h = 0;
      g_assert_true (image_load_size (path, &w, &h, NULL));
      g_assert_cmpint (w, ==, image->width);
      g_assert_cmpint (h, ==, image->height);

      ImageLoadOptions opts = { .ignore_orientation = TRUE };
      g_autoptr (ImageRgb) stored = load_ok (path, &opts);
      assert_pattern (stored, 1, 40);
    }
}

static ImageRgb *
pattern_rgb (void)
{
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
  ImageRgb *image = image_rgb_new_from_pixbuf (pattern, NULL);
  g_assert_nonnull (image);
  return image;
}

static void
test_orientation_apply (void)
{
  g_autoptr (ImageRgb) stored = pattern_rgb ();
  for (int orientation = 1; orientation <= 8; orientation++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ImageRgb) shown = image_orientation_apply (stored, orientation, &error);
      g_assert_no_error (error);
      assert_pattern (shown, orientation, 0);
      g_assert_cmpint (image_orientation_swaps_axes (orientation), ==, orientation >= 5);

      /* The stored centre of the red quadrant lands on a red pixel, and so on. */
      const struct {
        int x, y;
        TestColor c;
      } probes[] = {
        { PATTERN_WIDTH / 4, PATTERN_HEIGHT / 4, TEST_RED },
        { 3 * PATTERN_WIDTH / 4, PATTERN_HEIGHT / 4, TEST_GREEN },
        { PATTERN_WIDTH / 4, 3 * PATTERN_HEIGHT / 4, TEST_BLUE },
        { 3 * PATTERN_WIDTH / 4, 3 * PATTERN_HEIGHT / 4, TEST_YELLOW },
        { 0, 0, TEST_RED },
        { PATTERN_WIDTH - 1, PATTERN_HEIGHT - 1, TEST_YELLOW },
      };
      for (gsize i = 0; i < G_N_ELEMENTS (probes); i++)
        {
          int x, y;
          image_orientation_map_point (orientation, PATTERN_WIDTH, PATTERN_HEIGHT, probes[i].x,
                                       probes[i].y, &x, &y);
          test_assert_pixel (shown, x, y, probes[i].c, 0);
        }
    }
  /* Out-of-range values mean "as stored". */
  g_autoptr (ImageRgb) same = image_orientation_apply (stored, 9, NULL);
  assert_pattern (same, 1, 0);
}

/* --- conversions to RGB8 (PIL's convert('RGB')) --------------------------------------------- */

static void
test_png_16bit (void)
{
  /* 2 × 1, RGB 16-bit: the high byte of each sample is kept. */
  const guint8 raw[12] = { 0xab, 0xcd, 0x12, 0x34, 0xff, 0x01, 0x00, 0xff, 0x80, 0x7f, 0x01, 0x00 };
  g_autofree char *path = test_temp_path ("rgb16.png");
  test_write_png (path, 2, 1, 16, 2, raw, sizeof raw, NULL, 0, NULL, 0);
  g_autoptr (ImageRgb) image = load_ok (path, NULL);
  g_assert_cmpint (image->width, ==, 2);
  test_assert_pixel (image, 0, 0, (TestColor){ 0xab, 0x12, 0xff }, 0);
  test_assert_pixel (image, 1, 0, (TestColor){ 0x00, 0x80, 0x01 }, 0);

  /* Gray 16-bit: high byte, replicated. (PIL would clip I;16 values above 255 to white, which
   * is not what a person sees; we keep the picture.) */
  const guint8 gray[4] = { 0x12, 0x34, 0xfe, 0xdc };
  g_autofree char *gpath = test_temp_path ("gray16.png");
  test_write_png (gpath, 2, 1, 16, 0, gray, sizeof gray, NULL, 0, NULL, 0);
  g_autoptr (ImageRgb) g = load_ok (gpath, NULL);
  test_assert_pixel (g, 0, 0, (TestColor){ 0x12, 0x12, 0x12 }, 0);
  test_assert_pixel (g, 1, 0, (TestColor){ 0xfe, 0xfe, 0xfe }, 0);
}

static void
test_png_gray_and_palette (void)
{
  /* Gray + alpha: the gray is replicated, the alpha (here 0 and 128) dropped. */
  const guint8 la[4] = { 10, 0, 200, 128 };
  g_autofree char *lapath = test_temp_path ("gray-alpha.png");
  test_write_png (lapath, 2, 1, 8, 4, la, sizeof la, NULL, 0, NULL, 0);
  g_autoptr (ImageRgb) a = load_ok (lapath, NULL);
  test_assert_pixel (a, 0, 0, (TestColor){ 10, 10, 10 }, 0);
  test_assert_pixel (a, 1, 0, (TestColor){ 200, 200, 200 }, 0);

  /* 1-bit gray: 0 → black, 1 → white. 8 pixels in one byte. */
  const guint8 bits[1] = { 0xa5 }; /* 1 0 1 0 0 1 0 1 */
  g_autofree char *bpath = test_temp_path ("gray1.png");
  test_write_png (bpath, 8, 1, 1, 0, bits, sizeof bits, NULL, 0, NULL, 0);
  g_autoptr (ImageRgb) b = load_ok (bpath, NULL);
  const int expected[8] = { 1, 0, 1, 0, 0, 1, 0, 1 };
  for (int x = 0; x < 8; x++)
    {
      guint8 v = expected[x] ? 255 : 0;
      test_assert_pixel (b, x, 0, (TestColor){ v, v, v }, 0);
    }

  /* Palette with transparency: the palette colour, whatever its alpha. */
  const guint8 palette[9] = { 1, 2, 3, 40, 50, 60, 250, 128, 7 };
  const guint8 trns[3] = { 0, 128, 255 };
  const guint8 indices[3] = { 0, 1, 2 };
  g_autofree char *ppath = test_temp_path ("palette.png");
  test_write_png (ppath, 3, 1, 8, 3, indices, sizeof indices, palette, sizeof palette, trns,
                  sizeof trns);
  g_autoptr (ImageRgb) p = load_ok (ppath, NULL);
  test_assert_pixel (p, 0, 0, (TestColor){ 1, 2, 3 }, 0);
  test_assert_pixel (p, 1, 0, (TestColor){ 40, 50, 60 }, 0);
  test_assert_pixel (p, 2, 0, (TestColor){ 250, 128, 7 }, 0);

  /* RGBA, fully transparent: the RGB values stay (dropped, not composited on white/black). */
  const guint8 rgba[8] = { 10, 20, 30, 0, 200, 100, 50, 1 };
  g_autofree char *rpath = test_temp_path ("transparent.png");
  test_write_png (rpath, 2, 1, 8, 6, rgba, sizeof rgba, NULL, 0, NULL, 0);
  g_autoptr (ImageRgb) r = load_ok (rpath, NULL);
  test_assert_pixel (r, 0, 0, (TestColor){ 10, 20, 30 }, 0);
  test_assert_pixel (r, 1, 0, (TestColor){ 200, 100, 50 }, 0);
}

static void
test_wrong_extension (void)
{
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);

  /* A PNG called .jpg, a JPEG called .png: the content decides. */
  g_autofree char *png_as_jpg = test_temp_path ("really-a-png.jpg");
  test_save_pixbuf (pattern, png_as_jpg, "png");
  g_autoptr (ImageRgb) a = load_ok (png_as_jpg, NULL);
  g_assert_cmpstr (a->format, ==, "png");
  assert_pattern (a, 1, 0);

  g_autofree char *jpg_as_png = test_temp_path ("really-a-jpeg.png");
  test_save_pixbuf (pattern, jpg_as_png, "jpeg");
  g_autoptr (ImageRgb) b = load_ok (jpg_as_png, NULL);
  g_assert_cmpstr (b->format, ==, "jpeg");

  g_autofree char *heic_as_jpg = test_temp_path ("really-a-heic.jpg");
  if (test_write_heif (heic_as_jpg, pattern, FALSE, 1, NULL))
    {
      g_autoptr (ImageRgb) c = load_ok (heic_as_jpg, NULL);
      g_assert_cmpstr (c->format, ==, "heif");
      assert_pattern (c, 1, 40);
    }
}

static void
test_save_png (void)
{
  g_autoptr (ImageRgb) image = pattern_rgb ();
  /* Some odd values, so that the check is not only about four colours. */
  for (int x = 0; x < image->width; x++)
    image_rgb_row (image, 5)[x * 3 + 1] = (guint8) (x * 3 + 1);
  g_autofree char *path = test_temp_path ("saved.png");
  g_autoptr (GError) error = NULL;
  g_assert_true (image_rgb_save_png (image, path, &error));
  g_assert_no_error (error);
  g_autoptr (ImageRgb) back = load_ok (path, NULL);
  g_assert_cmpint (back->width, ==, image->width);
  g_assert_cmpint (back->height, ==, image->height);
  for (int y = 0; y < image->height; y++)
    g_assert_cmpmem (image_rgb_row (back, y), back->width * 3, image_rgb_row (image, y),
                     image->width * 3);

  /* To a pixbuf and back. */
  g_autoptr (GdkPixbuf) pixbuf = image_rgb_to_pixbuf (image);
  g_assert_false (gdk_pixbuf_get_has_alpha (pixbuf));
  g_autoptr (ImageRgb) again = image_rgb_new_from_pixbuf (pixbuf, NULL);
  for (int y = 0; y < image->height; y++)
    g_assert_cmpmem (image_rgb_row (again, y), again->width * 3, image_rgb_row (image, y),
                     image->width * 3);
}

static void
test_rgb_new (void)
{
  g_autoptr (GError) error = NULL;
  g_assert_null (image_rgb_new (0, 10, &error));
  g_assert_error (error, IMAGE_ERROR, IMAGE_ERROR_EMPTY);
  g_clear_error (&error);
  g_assert_null (image_rgb_new (10, -1, &error));
  g_assert_error (error, IMAGE_ERROR, IMAGE_ERROR_EMPTY);
  g_clear_error (&error);

  g_autoptr (ImageRgb) image = image_rgb_new (3, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (image->stride, ==, 9);
  for (int y = 0; y < 2; y++)
    for (int x = 0; x < 9; x++)
      g_assert_cmpint (image_rgb_row (image, y)[x], ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  static const Format jpeg = { "jpeg", "jpg", 40 }, tiff = { "tiff", "tif", 0 },
                      webp = { "webp", "webp", 40 };

  g_test_add_func ("/image/load/formats", test_formats);
  g_test_add_func ("/image/load/alpha", test_alpha_formats);
  g_test_add_func ("/image/load/gif-first-frame", test_gif_first_frame);
  g_test_add_data_func ("/image/load/heic", GINT_TO_POINTER (FALSE), test_heif_format);
  g_test_add_data_func ("/image/load/avif", GINT_TO_POINTER (TRUE), test_heif_format);
  g_test_add_func ("/image/load/wrong-extension", test_wrong_extension);
  g_test_add_func ("/image/convert/png-16bit", test_png_16bit);
  g_test_add_func ("/image/convert/png-gray-palette-alpha", test_png_gray_and_palette);
  g_test_add_data_func ("/image/orientation/jpeg", &jpeg, test_exif_orientation);
  g_test_add_data_func ("/image/orientation/tiff", &tiff, test_exif_orientation);
  g_test_add_data_func ("/image/orientation/webp", &webp, test_exif_orientation);
  g_test_add_data_func ("/image/orientation/heic", GINT_TO_POINTER (FALSE), test_heif_orientation);
  g_test_add_data_func ("/image/orientation/avif", GINT_TO_POINTER (TRUE), test_heif_orientation);
  g_test_add_func ("/image/orientation/apply", test_orientation_apply);
  g_test_add_func ("/image/rgb/save-png", test_save_png);
  g_test_add_func ("/image/rgb/new", test_rgb_new);

  int result = g_test_run ();
  test_temp_cleanup ();
  return result;
}
