/* test-image-hostile.c: broken and hostile files fail with a clear error, before decoding
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image-test-util.h"
#include "image/image-loader.h"
#include "image/image-thumbnail.h"

/* Loads path, expects failure with domain/code, and a message that is a sentence. */
static void
assert_load_fails (const char *path, GQuark domain, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (ImageRgb) image = image_load (path, NULL, &error);
  g_assert_null (image);
  g_assert_error (error, domain, code);
  g_test_message ("%s: %s", path, error->message);
  g_assert_cmpuint (strlen (error->message), >, 20);
  g_assert_true (g_str_has_suffix (error->message, "."));

  /* The thumbnailer refuses it as well. */
  g_autoptr (GError) thumb_error = NULL;
  g_autoptr (ImageRgb) thumb = image_thumbnail_load (path, 64, &thumb_error);
  g_assert_null (thumb);
  g_assert_nonnull (thumb_error);
}

static char *
pattern_file (const char *name, const char *type)
{
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
  char *path = test_temp_path (name);
  if (!test_save_pixbuf (pattern, path, type))
    g_clear_pointer (&path, g_free);
  return path;
}

static void
test_missing_and_empty (void)
{
  g_autofree char *missing = test_temp_path ("does-not-exist.jpg");
  assert_load_fails (missing, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  g_autofree char *empty = test_temp_path ("empty.jpg");
  test_write_file (empty, (const guint8 *) "", 0);
  assert_load_fails (empty, IMAGE_ERROR, IMAGE_ERROR_EMPTY);

  g_autofree char *dir = test_temp_path ("a-folder.png");
  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_autoptr (GError) error = NULL;
  g_assert_null (image_load (dir, NULL, &error));
  g_assert_nonnull (error);
  g_rmdir (dir);
}

/* A named pipe (or a device) called photo.jpg: refused at once, never waited on (a blocked
 * open would trip the alarm). */
static void
test_named_pipe (void)
{
  g_autofree char *fifo = test_temp_path ("pipe.jpg");
  g_autoptr (GError) error = NULL;
  int width = 0, height = 0;

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  alarm (60);
  assert_load_fails (fifo, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED);
  g_assert_false (image_load_size (fifo, &width, &height, &error));
  g_assert_error (error, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);
  assert_load_fails ("/dev/zero", IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED);
  alarm (0);
  g_unlink (fifo);
}

static void
test_not_an_image (void)
{
  g_autofree char *text = test_temp_path ("notes.jpg");
  const char *words = "These are not the pixels you are looking for.\n";
  test_write_file (text, (const guint8 *) words, strlen (words));
  assert_load_fails (text, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED);

  /* Random bytes, a few seeds. */
  for (guint32 seed = 1; seed <= 8; seed++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
      guint8 bytes[4096];
      for (gsize i = 0; i < sizeof bytes; i++)
        bytes[i] = (guint8) g_rand_int_range (rand, 0, 256);
      g_autofree char *path = test_temp_path ("random.heic");
      test_write_file (path, bytes, sizeof bytes);
      assert_load_fails (path, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED);
    }

  /* An SVG is not a photo: refused even though GdkPixbuf could render it. */
  g_autofree char *svg = test_temp_path ("drawing.png");
  const char *doc = "<svg xmlns='http://www.w3.org/2000/svg' width='10' height='10'/>";
  test_write_file (svg, (const guint8 *) doc, strlen (doc));
  assert_load_fails (svg, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED);
}

static void
test_truncated (void)
{
  const struct {
    const char *type, *extension;
  } formats[] = {
    { "png", "png" }, { "jpeg", "jpg" }, { "tiff", "tif" }, { "bmp", "bmp" }, { "webp", "webp" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *name = g_strdup_printf ("whole.%s", formats[i].extension);
      g_autofree char *whole = pattern_file (name, formats[i].type);
      if (whole == NULL)
        continue;
      gsize length = 0;
      g_autofree guint8 *data = test_read_file (whole, &length);
      /* Cut in the middle of the pixel data, then after the header only. */
      gsize cuts[] = { length / 2, MIN (length, (gsize) 40) };
      for (gsize c = 0; c < G_N_ELEMENTS (cuts); c++)
        {
          g_autofree char *cut_name = g_strdup_printf ("cut-%zu.%s", c, formats[i].extension);
          g_autofree char *path = test_temp_path (cut_name);
          test_write_file (path, data, cuts[c]);
          g_test_message ("%s cut at %zu of %zu bytes", formats[i].type, cuts[c], length);
          assert_load_fails (path, IMAGE_ERROR, IMAGE_ERROR_CORRUPT);
        }
    }

  /* A GIF cut in the middle of its pixel data. */
  const TestColor palette[4] = { TEST_RED, TEST_GREEN, TEST_BLUE, TEST_YELLOW };
  g_autofree guint8 *indices = g_malloc0 (PATTERN_WIDTH * PATTERN_HEIGHT);
  const guint8 *frames[1] = { indices };
  g_autofree char *gif = test_temp_path ("whole.gif");
  test_write_gif (gif, PATTERN_WIDTH, PATTERN_HEIGHT, palette, frames, 1);
  gsize gif_length = 0;
  g_autofree guint8 *gif_data = test_read_file (gif, &gif_length);
  g_autofree char *cut_gif = test_temp_path ("cut.gif");
  test_write_file (cut_gif, gif_data, gif_length / 2);
  assert_load_fails (cut_gif, IMAGE_ERROR, IMAGE_ERROR_CORRUPT);

  /* Interlaced PNG and progressive JPEG: their first pass paints every row, so a cut after it
   * must be found from the file's structure. */
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
  g_autofree char *interlaced = test_temp_path ("interlaced.png");
  test_write_png_interlaced (interlaced, pattern);
  g_autoptr (ImageRgb) whole_png = image_load (interlaced, NULL, NULL);
  g_assert_nonnull (whole_png);
  TestColor corners[4];
  test_expected_quadrants (1, corners);
  test_assert_quadrants (whole_png, corners, 0);
  gsize il_length = 0;
  g_autofree guint8 *il_data = test_read_file (interlaced, &il_length);
  for (int percent = 50; percent <= 95; percent += 45)
    {
      g_autofree char *path = test_temp_path ("interlaced-cut.png");
      test_write_file (path, il_data, il_length * percent / 100);
      assert_load_fails (path, IMAGE_ERROR, IMAGE_ERROR_CORRUPT);
    }

  g_autofree char *progressive = test_temp_path ("progressive.jpg");
  if (test_write_progressive_jpeg (progressive, pattern))
    {
      g_autoptr (ImageRgb) whole_jpeg = image_load (progressive, NULL, NULL);
      g_assert_nonnull (whole_jpeg);
      test_assert_quadrants (whole_jpeg, corners, 40);
      gsize pj_length = 0;
      g_autofree guint8 *pj_data = test_read_file (progressive, &pj_length);
      for (int percent = 50; percent <= 95; percent += 45)
        {
          g_autofree char *path = test_temp_path ("progressive-cut.jpg");
          test_write_file (path, pj_data, pj_length * percent / 100);
          g_test_message ("progressive JPEG cut at %d%%", percent);
          assert_load_fails (path, IMAGE_ERROR, IMAGE_ERROR_CORRUPT);
        }
      /* Data appended after the end (as motion photos do) is fine. */
      g_autoptr (GByteArray) appended = g_byte_array_new ();
      g_byte_array_append (appended, pj_data, (guint) pj_length);
      for (int i = 0; i < 1000; i++)
        g_byte_array_append (appended, (const guint8 *) "ftypmp42", 8);
      g_autofree char *motion = test_temp_path ("motion.jpg");
      test_write_file (motion, appended->data, appended->len);
      g_autoptr (ImageRgb) with_video = image_load (motion, NULL, NULL);
      g_assert_nonnull (with_video);
    }
  else
    g_test_message ("built without libjpeg: progressive JPEG not tested");

  /* A PNG signature and nothing else. */
  g_autofree char *sig = test_temp_path ("signature.png");
  test_write_file (sig, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  assert_load_fails (sig, IMAGE_ERROR, IMAGE_ERROR_CORRUPT);
}

/* The bytes of the test pattern as a HEIC file, or NULL (the test skipped) when libheif
 * cannot encode HEVC here. */
static guint8 *
pattern_heic (const char *name, gsize *length)
{
  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
  g_autofree char *path = test_temp_path (name);
  if (!test_write_heif (path, pattern, FALSE, 1, NULL))
    {
      g_test_skip ("libheif has no HEVC encoder here");
      return NULL;
    }
  return test_read_file (path, length);
}

static void
test_truncated_heif (void)
{
  gsize length = 0;
  g_autofree guint8 *data = pattern_heic ("whole.heic", &length);
  if (data == NULL)
    return;
  gsize cuts[] = { length - 10, length / 2, 30 };
  for (gsize c = 0; c < G_N_ELEMENTS (cuts); c++)
    {
      g_autofree char *path = test_temp_path ("cut.heic");
      test_write_file (path, data, cuts[c]);
      g_test_message ("heic cut at %zu of %zu bytes", cuts[c], length);
      assert_load_fails (path, IMAGE_ERROR, IMAGE_ERROR_CORRUPT);
    }
}

static void
test_heif_without_primary (void)
{
  gsize length = 0;
  g_autofree guint8 *data = pattern_heic ("primary.heic", &length);
  if (data == NULL)
    return;

  /* The 'pitm' box (primary item) becomes a 'free' box of the same size. */
  gsize pitm = 0;
  while (pitm + 4 <= length && memcmp (data + pitm, "pitm", 4) != 0)
    pitm++;
  g_assert_cmpuint (pitm + 4, <=, length);
  memcpy (data + pitm, "free", 4);
  g_autofree char *path = test_temp_path ("no-primary.heic");
  test_write_file (path, data, length);
  assert_load_fails (path, IMAGE_ERROR, IMAGE_ERROR_CORRUPT);

  /* An 'ftyp' box alone. */
  const guint8 ftyp[24] = { 0, 0, 0, 24, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c',
                            0, 0, 0, 0,  'm', 'i', 'f', '1', 'h', 'e', 'i', 'c' };
  g_autofree char *bare = test_temp_path ("ftyp-only.heic");
  test_write_file (bare, ftyp, sizeof ftyp);
  assert_load_fails (bare, IMAGE_ERROR, IMAGE_ERROR_CORRUPT);
}

/* A HEIC grid whose descriptor is read past its 'idat' box: the header says 16 × 12, the grid
 * 14441 × 27759. Refused before libheif allocates the canvas (it took 2.3 GB; found by
 * fuzz-image). */
static void
test_heif_grid_larger_than_header (void)
{
  static const char base64[] =
    "AAAAHGZ0eXBoZWljAAAAAG1pZjFoZWljbWlhZgAAAaptZXRhAAAAAAAAACFoZGxyAAAAAAAAAABwaWN0AAAAAAAAAAAA"
    "AAAAAAAAAA5waXRtAAAAAAACAAAAEGlkYXQAAAAAABAADAAAADhpbG9jAQAAAERAAAIAAQAAAAAAAAHOAAEAAAAAAAAA"
    "hQACAAEAAAAAAAAAAQAAAAcAAAAIAAAAOGlpbmYAAAAAAAIAAAAVaW5mZQIAAAEAAQAAaHZjMQAAAAAVaW5mZQIAAAAA"
    "AgAAZ3JpZAAAAADVaXBycAAAALNpcGNvAAAAc2h2Y0MBA3AAAAAAAAAAAAAe8AD8/fj4AAAPAyAAAQAYQAEMAf//A3AA"
    "AAMAkAAAAwAAAwAeugJAIQABACdCAQEDcAAAAwCQAAADAAADAB6gIIEFluqumubAgAAAAwCAAAADAIQiAAEABkQBwXPB"
    "iQAAABRpc3BlAAAAAAAAAEAAAABAAAAAFGlzcGUAAAAAAAAAEAAAAAwAAAAQcGl4aQAAAAADCAgIAAAAGmlwbWEAAAAA"
    "AAAAAgABAoECAAICA4QAAAAaaXJlZgAAAAAAAAAOZGltZwACAAEAAQAAAI1tZGF0AAAAgSgBrxMh6hUNV6SzWsz6xhVF"
    "R7BaB6XZjL/8uZ8mIB9QmBlT+UmasY7jBdVa8ch7na////PGiU7jcbppP//QOVhjyvzcEAPqgVSOJ9sWsaek+7/Msg1d"
    "9MvjmFRLelZWqzuG6kCUP+Lqk8z18B91Z9ynvoDt/d9wkvGdtfBazdiXgA==";
  gsize len = 0;
  g_autofree guchar *bytes = g_base64_decode (base64, &len);
  g_autofree char *path = test_temp_path ("lying-grid.heic");
  struct rusage before, after;

  test_write_file (path, bytes, len);
  g_assert_cmpint (getrusage (RUSAGE_SELF, &before), ==, 0);
  assert_load_fails (path, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE);
  g_assert_cmpint (getrusage (RUSAGE_SELF, &after), ==, 0);
  /* ru_maxrss in kB: the high-water mark moved by less than 200 MB */
  g_assert_cmpint (after.ru_maxrss - before.ru_maxrss, <, 200 * 1024);
}

static void
test_huge_png_header (void)
{
  /* 60 000 × 60 000 RGB announced, a few bytes of data: refused from the header. */
  const guint8 raw[16] = { 0 };
  g_autofree char *path = test_temp_path ("huge.png");
  test_write_png (path, 60000, 60000, 8, 2, raw, sizeof raw, NULL, 0, NULL, 0);
  assert_load_fails (path, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE);

  /* The header-only size is still available (the gallery may list such files). */
  int w = 0, h = 0;
  g_autoptr (GError) error = NULL;
  g_assert_true (image_load_size (path, &w, &h, &error));
  g_assert_no_error (error);
  g_assert_cmpint (w, ==, 60000);
  g_assert_cmpint (h, ==, 60000);

  /* A zero-sized PNG. */
  g_autofree char *zero = test_temp_path ("zero.png");
  test_write_png (zero, 0, 10, 8, 2, raw, sizeof raw, NULL, 0, NULL, 0);
  g_autoptr (GError) zero_error = NULL;
  g_assert_null (image_load (zero, NULL, &zero_error));
  g_assert_nonnull (zero_error);
  g_assert_true (zero_error->domain == IMAGE_ERROR);
}

/* Finds a JPEG marker (0xFF, marker) and returns the offset of its length field. */
static gsize
find_marker (const guint8 *data, gsize length, guint8 marker)
{
  for (gsize i = 2; i + 1 < length; i++)
    if (data[i] == 0xff && data[i + 1] == marker)
      return i + 2;
  g_assert_not_reached ();
}

static void
test_huge_jpeg_gif_bmp_headers (void)
{
  /* JPEG: the frame header (SOF0) says 60 000 × 60 000. */
  g_autofree char *jpeg = pattern_file ("small.jpg", "jpeg");
  gsize length = 0;
  g_autofree guint8 *data = test_read_file (jpeg, &length);
  gsize sof = find_marker (data, length, 0xc0);
  /* length(2) precision(1) height(2) width(2) */
  data[sof + 3] = 0xea, data[sof + 4] = 0x60, data[sof + 5] = 0xea, data[sof + 6] = 0x60;
  g_autofree char *huge_jpeg = test_temp_path ("huge.jpg");
  test_write_file (huge_jpeg, data, length);
  assert_load_fails (huge_jpeg, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE);

  /* GIF: a 65 535 × 65 535 screen and frame. */
  const TestColor palette[4] = { TEST_RED, TEST_GREEN, TEST_BLUE, TEST_YELLOW };
  const guint8 pixels[4] = { 0, 1, 2, 3 };
  const guint8 *frames[1] = { pixels };
  g_autofree char *gif = test_temp_path ("small.gif");
  test_write_gif (gif, 2, 2, palette, frames, 1);
  gsize gif_length = 0;
  g_autofree guint8 *gif_data = test_read_file (gif, &gif_length);
  memset (gif_data + 6, 0xff, 4);    /* logical screen */
  gsize descriptor = 6 + 7 + 12 + 8; /* header, screen, palette, graphic control */
  g_assert_cmpint (gif_data[descriptor], ==, 0x2c);
  memset (gif_data + descriptor + 5, 0xff, 4); /* frame width, height */
  g_autofree char *huge_gif = test_temp_path ("huge.gif");
  test_write_file (huge_gif, gif_data, gif_length);
  g_autoptr (GError) error = NULL;
  g_assert_null (image_load (huge_gif, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("huge GIF: %s", error->message);
  g_assert_true (error->domain == IMAGE_ERROR);

  /* BMP: 60 000 × 60 000 in the info header, 24 bits. */
  g_autofree char *bmp = pattern_file ("small.bmp", "bmp");
  gsize bmp_length = 0;
  g_autofree guint8 *bmp_data = test_read_file (bmp, &bmp_length);
  const guint8 side[4] = { 0x60, 0xea, 0, 0 };
  memcpy (bmp_data + 18, side, 4);
  memcpy (bmp_data + 22, side, 4);
  g_autofree char *huge_bmp = test_temp_path ("huge.bmp");
  test_write_file (huge_bmp, bmp_data, bmp_length);
  g_clear_error (&error);
  g_assert_null (image_load (huge_bmp, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("huge BMP: %s", error->message);
  g_assert_true (error->domain == IMAGE_ERROR);

  /* BMP: a palette of 0xFFFFFFFF colours (biClrUsed): GdkPixbuf would allocate 16 GB for it
   * (found by fuzz-image). */
  g_autofree guint8 *palette_data = test_read_file (bmp, &bmp_length);
  memset (palette_data + 46, 0xff, 4);
  g_autofree char *palette_bmp = test_temp_path ("palette.bmp");
  test_write_file (palette_bmp, palette_data, bmp_length);
  assert_load_fails (palette_bmp, IMAGE_ERROR, IMAGE_ERROR_CORRUPT);
}

static void
test_pixel_limit (void)
{
  g_autofree char *png = pattern_file ("limit.png", "png");
  g_autoptr (GError) error = NULL;

  /* 64 × 48 = 3072 pixels. */
  ImageLoadOptions tight = { .max_pixels = 3071 };
  g_assert_null (image_load (png, &tight, &error));
  g_assert_error (error, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE);
  g_clear_error (&error);

  ImageLoadOptions exact = { .max_pixels = 3072 };
  g_autoptr (ImageRgb) image = image_load (png, &exact, &error);
  g_assert_no_error (error);
  g_assert_nonnull (image);

  g_autoptr (GdkPixbuf) pattern = test_pattern_pixbuf (PATTERN_WIDTH, PATTERN_HEIGHT, FALSE);
  g_autofree char *heic = test_temp_path ("limit.heic");
  if (test_write_heif (heic, pattern, FALSE, 1, NULL))
    {
      g_assert_null (image_load (heic, &tight, &error));
      g_assert_error (error, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE);
      g_clear_error (&error);
      g_autoptr (ImageRgb) h = image_load (heic, &exact, &error);
      g_assert_no_error (error);
      g_assert_cmpint (h->width, ==, PATTERN_WIDTH);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/image/hostile/missing-and-empty", test_missing_and_empty);
  g_test_add_func ("/image/hostile/not-an-image", test_not_an_image);
  g_test_add_func ("/image/hostile/named-pipe", test_named_pipe);
  g_test_add_func ("/image/hostile/truncated", test_truncated);
  g_test_add_func ("/image/hostile/truncated-heif", test_truncated_heif);
  g_test_add_func ("/image/hostile/heif-without-primary", test_heif_without_primary);
  g_test_add_func ("/image/hostile/heif-grid-larger-than-header",
                   test_heif_grid_larger_than_header);
  g_test_add_func ("/image/hostile/huge-png-header", test_huge_png_header);
  g_test_add_func ("/image/hostile/huge-jpeg-gif-bmp-headers", test_huge_jpeg_gif_bmp_headers);
  g_test_add_func ("/image/hostile/pixel-limit", test_pixel_limit);

  int result = g_test_run ();
  test_temp_cleanup ();
  return result;
}
