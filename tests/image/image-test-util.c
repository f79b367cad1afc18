/* image-test-util.c: sample files for the image tests, built at run time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <libheif/heif.h>
#include <stdio.h>
#include <string.h>
#ifdef HAVE_LIBJPEG
#include <jpeglib.h>
#endif

#include "image-test-util.h"

const TestColor TEST_RED = { 255, 0, 0 };
const TestColor TEST_GREEN = { 0, 255, 0 };
const TestColor TEST_BLUE = { 0, 0, 255 };
const TestColor TEST_YELLOW = { 255, 255, 0 };
const TestColor TEST_MAGENTA = { 255, 0, 255 };

static void
fill (GdkPixbuf *pixbuf, int x0, int y0, int x1, int y1, TestColor c)
{
  int n = gdk_pixbuf_get_n_channels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++)
      {
        guint8 *p = pixels + y * stride + x * n;
        p[0] = c.r, p[1] = c.g, p[2] = c.b;
        if (n == 4)
          p[3] = 255;
      }
}

GdkPixbuf *
test_pattern_pixbuf (int width, int height, gboolean with_alpha)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, with_alpha, 8, width, height);
  fill (pixbuf, 0, 0, width / 2, height / 2, TEST_RED);
  fill (pixbuf, width / 2, 0, width, height / 2, TEST_GREEN);
  fill (pixbuf, 0, height / 2, width / 2, height, TEST_BLUE);
  fill (pixbuf, width / 2, height / 2, width, height, TEST_YELLOW);
  return pixbuf;
}

GdkPixbuf *
test_solid_pixbuf (int width, int height, TestColor color)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  fill (pixbuf, 0, 0, width, height, color);
  return pixbuf;
}

static char *temp_dir = NULL;

char *
test_temp_path (const char *name)
{
  if (temp_dir == NULL)
    {
      g_autoptr (GError) error = NULL;
      temp_dir = g_dir_make_tmp ("depict-image-test-XXXXXX", &error);
      g_assert_no_error (error);
    }
  return g_build_filename (temp_dir, name, NULL);
}

void
test_temp_cleanup (void)
{
  if (temp_dir == NULL)
    return;
  g_autoptr (GDir) dir = g_dir_open (temp_dir, 0, NULL);
  const char *name;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (temp_dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (temp_dir);
  g_clear_pointer (&temp_dir, g_free);
}

gboolean
test_save_pixbuf (GdkPixbuf *pixbuf, const char *path, const char *type)
{
  g_autoptr (GError) error = NULL;
  gboolean writable = FALSE;
  g_autoptr (GSList) formats = gdk_pixbuf_get_formats ();
  for (GSList *l = formats; l != NULL; l = l->next)
    {
      g_autofree char *name = gdk_pixbuf_format_get_name (l->data);
      if (strcmp (name, type) == 0)
        writable = gdk_pixbuf_format_is_writable (l->data);
    }
  if (!writable)
    return FALSE;

  if (strcmp (type, "jpeg") == 0)
    gdk_pixbuf_save (pixbuf, path, type, &error, "quality", "95", NULL);
  else if (strcmp (type, "webp") == 0)
    gdk_pixbuf_save (pixbuf, path, type, &error, "quality", "95", NULL);
  else
    gdk_pixbuf_save (pixbuf, path, type, &error, NULL);
  g_assert_no_error (error);
  return TRUE;
}

void
test_set_exif_orientation (const char *path, int orientation)
{
  g_autoptr (GError) error = NULL;
  gexiv2_initialize ();
  g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
  gexiv2_metadata_open_path (metadata, path, &error);
  g_assert_no_error (error);
  gexiv2_metadata_try_set_tag_long (metadata, "Exif.Image.Orientation", orientation, &error);
  g_assert_no_error (error);
  gexiv2_metadata_save_file (metadata, path, &error);
  g_assert_no_error (error);
}

guint8 *
test_read_file (const char *path, gsize *length)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  g_file_get_contents (path, &data, length, &error);
  g_assert_no_error (error);
  return (guint8 *) data;
}

void
test_write_file (const char *path, const guint8 *data, gsize length)
{
  g_autoptr (GError) error = NULL;
  g_file_set_contents (path, (const char *) data, (gssize) length, &error);
  g_assert_no_error (error);
}

/* --- PNG, by hand ------------------------------------------------------------------------- */

static guint32
crc32_update (guint32 crc, const guint8 *data, gsize length)
{
  static guint32 table[256];
  if (table[1] == 0)
    for (guint32 n = 0; n < 256; n++)
      {
        guint32 c = n;
        for (int k = 0; k < 8; k++)
          c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[n] = c;
      }
  crc = ~crc;
  for (gsize i = 0; i < length; i++)
    crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static void
put32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (out, b, 4);
}

static void
png_chunk (GByteArray *out, const char *type, const guint8 *data, gsize length)
{
  put32 (out, (guint32) length);
  gsize start = out->len;
  g_byte_array_append (out, (const guint8 *) type, 4);
  if (length > 0)
    g_byte_array_append (out, data, (guint) length);
  put32 (out, crc32_update (0, out->data + start, length + 4));
}

/* zlib stream with stored (uncompressed) deflate blocks. */
static GByteArray *
zlib_stored (const guint8 *data, gsize length)
{
  GByteArray *z = g_byte_array_new ();
  guint8 header[2] = { 0x78, 0x01 };
  g_byte_array_append (z, header, 2);
  gsize pos = 0;
  do
    {
      gsize n = MIN (length - pos, (gsize) 65535);
      gboolean last = pos + n == length;
      guint8 block[5] = { last ? 1 : 0, n & 0xff, n >> 8, ~n & 0xff, (~n >> 8) & 0xff };
      g_byte_array_append (z, block, 5);
      if (n > 0)
        g_byte_array_append (z, data + pos, (guint) n);
      pos += n;
    }
  while (pos < length);
  guint32 a = 1, b = 0;
  for (gsize i = 0; i < length; i++)
    {
      a = (a + data[i]) % 65521;
      b = (b + a) % 65521;
    }
  put32 (z, (b << 16) | a);
  return z;
}

void
test_write_png (const char *path, guint32 width, guint32 height, guint8 bit_depth,
                guint8 color_type, const guint8 *raw, gsize raw_length, const guint8 *palette,
                gsize palette_length, const guint8 *trns, gsize trns_length)
{
  static const int channels[7] = { 1, 0, 3, 1, 2, 0, 4 };
  gsize row_bytes = ((gsize) width * channels[color_type] * bit_depth + 7) / 8;

  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  guint8 ihdr[13] = { width >> 24,
                      width >> 16,
                      width >> 8,
                      width,
                      height >> 24,
                      height >> 16,
                      height >> 8,
                      height,
                      bit_depth,
                      color_type,
                      0,
                      0,
                      0 };
  png_chunk (out, "IHDR", ihdr, sizeof ihdr);
  if (palette != NULL)
    png_chunk (out, "PLTE", palette, palette_length);
  if (trns != NULL)
    png_chunk (out, "tRNS", trns, trns_length);

  /* Filter byte 0 before each complete row the data holds. */
  g_autoptr (GByteArray) filtered = g_byte_array_new ();
  for (gsize pos = 0; row_bytes > 0 && pos + row_bytes <= raw_length; pos += row_bytes)
    {
      guint8 zero = 0;
      g_byte_array_append (filtered, &zero, 1);
      g_byte_array_append (filtered, raw + pos, (guint) row_bytes);
    }
  g_autoptr (GByteArray) z = zlib_stored (filtered->data, filtered->len);
  png_chunk (out, "IDAT", z->data, z->len);
  png_chunk (out, "IEND", NULL, 0);
  test_write_file (path, out->data, out->len);
}

void
test_write_png_interlaced (const char *path, GdkPixbuf *pixbuf)
{
  static const int passes[7][4] = {
    /* x0, y0, dx, dy */
    { 0, 0, 8, 8 }, { 4, 0, 8, 8 }, { 0, 4, 4, 8 }, { 2, 0, 4, 4 },
    { 0, 2, 2, 4 }, { 1, 0, 2, 2 }, { 0, 1, 1, 2 },
  };
  guint32 w = gdk_pixbuf_get_width (pixbuf), h = gdk_pixbuf_get_height (pixbuf);
  int n = gdk_pixbuf_get_n_channels (pixbuf), stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);

  g_autoptr (GByteArray) filtered = g_byte_array_new ();
  for (int p = 0; p < 7; p++)
    for (guint32 y = passes[p][1]; y < h; y += passes[p][3])
      {
        if ((guint32) passes[p][0] >= w)
          continue;
        guint8 zero = 0;
        g_byte_array_append (filtered, &zero, 1);
        for (guint32 x = passes[p][0]; x < w; x += passes[p][2])
          g_byte_array_append (filtered, pixels + y * stride + x * n, 3);
      }

  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  guint8 ihdr[13] = { w >> 24, w >> 16, w >> 8, w, h >> 24, h >> 16, h >> 8, h, 8, 2, 0, 0, 1 };
  png_chunk (out, "IHDR", ihdr, sizeof ihdr);
  g_autoptr (GByteArray) z = zlib_stored (filtered->data, filtered->len);
  png_chunk (out, "IDAT", z->data, z->len);
  png_chunk (out, "IEND", NULL, 0);
  test_write_file (path, out->data, out->len);
}

gboolean
test_write_progressive_jpeg (const char *path, GdkPixbuf *pixbuf)
{
#ifdef HAVE_LIBJPEG
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  FILE *file = fopen (path, "wb");
  g_assert_nonnull (file);
  cinfo.err = jpeg_std_error (&jerr);
  jpeg_create_compress (&cinfo);
  jpeg_stdio_dest (&cinfo, file);
  cinfo.image_width = gdk_pixbuf_get_width (pixbuf);
  cinfo.image_height = gdk_pixbuf_get_height (pixbuf);
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 95, TRUE);
  jpeg_simple_progression (&cinfo);
  jpeg_start_compress (&cinfo, TRUE);
  int n = gdk_pixbuf_get_n_channels (pixbuf), stride = gdk_pixbuf_get_rowstride (pixbuf);
  g_autofree guint8 *row = g_malloc (cinfo.image_width * 3);
  while (cinfo.next_scanline < cinfo.image_height)
    {
      const guint8 *src = gdk_pixbuf_read_pixels (pixbuf) + cinfo.next_scanline * stride;
      for (guint x = 0; x < cinfo.image_width; x++)
        memcpy (row + x * 3, src + x * n, 3);
      JSAMPROW rows[1] = { row };
      jpeg_write_scanlines (&cinfo, rows, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  fclose (file);
  return TRUE;
#else
  return FALSE;
#endif
}

/* --- GIF, by hand ------------------------------------------------------------------------- */

typedef struct {
  GByteArray *bytes;
  guint32 acc;
  int bits;
} BitWriter;

static void
put_code (BitWriter *w, guint code, int width)
{
  w->acc |= code << w->bits;
  w->bits += width;
  while (w->bits >= 8)
    {
      guint8 b = w->acc & 0xff;
      g_byte_array_append (w->bytes, &b, 1);
      w->acc >>= 8;
      w->bits -= 8;
    }
}

static void
put16le (GByteArray *out, guint v)
{
  guint8 b[2] = { v & 0xff, v >> 8 };
  g_byte_array_append (out, b, 2);
}

void
test_write_gif (const char *path, int width, int height, const TestColor palette[4],
                const guint8 *const *frames, int n_frames)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8 *) "GIF89a", 6);
  put16le (out, width);
  put16le (out, height);
  guint8 screen[3] = { 0x91, 0, 0 }; /* global table of 4 colours */
  g_byte_array_append (out, screen, 3);
  for (int i = 0; i < 4; i++)
    g_byte_array_append (out, &palette[i].r, 1), g_byte_array_append (out, &palette[i].g, 1),
      g_byte_array_append (out, &palette[i].b, 1);

  for (int f = 0; f < n_frames; f++)
    {
      /* Graphic control: no disposal, 0.1 s. */
      guint8 gce[8] = { 0x21, 0xf9, 4, 0, 10, 0, 0, 0 };
      g_byte_array_append (out, gce, 8);
      guint8 sep = 0x2c;
      g_byte_array_append (out, &sep, 1);
      put16le (out, 0);
      put16le (out, 0);
      put16le (out, width);
      put16le (out, height);
      guint8 packed = 0, min_code_size = 2;
      g_byte_array_append (out, &packed, 1);
      g_byte_array_append (out, &min_code_size, 1);

      /* LZW without compression: a clear code before every pixel keeps the codes 3 bits
       * wide and the dictionary empty. */
      BitWriter w = { g_byte_array_new (), 0, 0 };
      for (int i = 0; i < width * height; i++)
        {
          put_code (&w, 4, 3);
          put_code (&w, frames[f][i], 3);
        }
      put_code (&w, 5, 3);
      if (w.bits > 0)
        put_code (&w, 0, 8 - w.bits);
      for (guint pos = 0; pos < w.bytes->len; pos += 255)
        {
          guint8 n = (guint8) MIN (255u, w.bytes->len - pos);
          g_byte_array_append (out, &n, 1);
          g_byte_array_append (out, w.bytes->data + pos, n);
        }
      guint8 end = 0;
      g_byte_array_append (out, &end, 1);
      g_byte_array_unref (w.bytes);
    }
  guint8 trailer = 0x3b;
  g_byte_array_append (out, &trailer, 1);
  test_write_file (path, out->data, out->len);
}

/* --- HEIF / AVIF with libheif ------------------------------------------------------------- */

static struct heif_image *
heif_image_from_pixbuf (GdkPixbuf *pixbuf)
{
  int w = gdk_pixbuf_get_width (pixbuf), h = gdk_pixbuf_get_height (pixbuf);
  int n = gdk_pixbuf_get_n_channels (pixbuf), src_stride = gdk_pixbuf_get_rowstride (pixbuf);
  struct heif_image *img = NULL;
  struct heif_error err =
    heif_image_create (w, h, heif_colorspace_RGB, heif_chroma_interleaved_RGB, &img);
  g_assert_cmpint (err.code, ==, heif_error_Ok);
  err = heif_image_add_plane (img, heif_channel_interleaved, w, h, 8);
  g_assert_cmpint (err.code, ==, heif_error_Ok);
  int stride = 0;
  guint8 *dst = heif_image_get_plane (img, heif_channel_interleaved, &stride);
  const guint8 *src = gdk_pixbuf_read_pixels (pixbuf);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      memcpy (dst + y * stride + x * 3, src + y * src_stride + x * n, 3);
  return img;
}

gboolean
test_write_heif (const char *path, GdkPixbuf *pixbuf, gboolean avif, int orientation,
                 const TestColor *thumbnail)
{
  heif_init (NULL);
  struct heif_context *ctx = heif_context_alloc ();
  struct heif_encoder *encoder = NULL;
  struct heif_error err = heif_context_get_encoder_for_format (
    ctx, avif ? heif_compression_AV1 : heif_compression_HEVC, &encoder);
  if (err.code != heif_error_Ok)
    {
      heif_context_free (ctx);
      heif_deinit ();
      return FALSE;
    }
  heif_encoder_set_lossy_quality (encoder, 90);
  if (avif)
    heif_encoder_set_parameter (encoder, "speed", "9");

  struct heif_encoding_options *options = heif_encoding_options_alloc ();
  options->image_orientation = (enum heif_orientation) orientation;

  struct heif_image *img = heif_image_from_pixbuf (pixbuf);
  struct heif_image_handle *handle = NULL;
  err = heif_context_encode_image (ctx, img, encoder, options, &handle);
  g_assert_cmpint (err.code, ==, heif_error_Ok);
  heif_image_release (img);

  if (thumbnail != NULL)
    {
      /* libheif scales the given picture into a 32-pixel box: a 64 × 48 solid becomes the
       * 32 × 24 thumbnail item. */
      g_autoptr (GdkPixbuf) solid = test_solid_pixbuf (64, 48, *thumbnail);
      struct heif_image *timg = heif_image_from_pixbuf (solid);
      struct heif_image_handle *thandle = NULL;
      err = heif_context_encode_thumbnail (ctx, timg, handle, encoder, options, 32, &thandle);
      g_assert_cmpint (err.code, ==, heif_error_Ok);
      g_assert_nonnull (thandle);
      heif_image_handle_release (thandle);
      heif_image_release (timg);
    }

  err = heif_context_write_to_file (ctx, path);
  g_assert_cmpint (err.code, ==, heif_error_Ok);
  heif_image_handle_release (handle);
  heif_encoding_options_free (options);
  heif_encoder_release (encoder);
  heif_context_free (ctx);
  heif_deinit ();
  return TRUE;
}

/* --- checks ------------------------------------------------------------------------------- */

void
test_assert_pixel (const ImageRgb *image, int x, int y, TestColor color, int tolerance)
{
  g_assert_cmpint (x, >=, 0);
  g_assert_cmpint (x, <, image->width);
  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (y, <, image->height);
  const guint8 *p = image_rgb_row (image, y) + x * 3;
  if (ABS (p[0] - color.r) > tolerance || ABS (p[1] - color.g) > tolerance ||
      ABS (p[2] - color.b) > tolerance)
    g_error ("pixel (%d, %d) of a %d × %d picture is (%d, %d, %d), expected (%d, %d, %d) ± %d", x,
             y, image->width, image->height, p[0], p[1], p[2], color.r, color.g, color.b,
             tolerance);
}

void
test_assert_quadrants (const ImageRgb *image, const TestColor corners[4], int tolerance)
{
  int w = image->width, h = image->height;
  test_assert_pixel (image, w / 4, h / 4, corners[0], tolerance);
  test_assert_pixel (image, 3 * w / 4, h / 4, corners[1], tolerance);
  test_assert_pixel (image, w / 4, 3 * h / 4, corners[2], tolerance);
  test_assert_pixel (image, 3 * w / 4, 3 * h / 4, corners[3], tolerance);
}

void
test_expected_quadrants (int orientation, TestColor corners[4])
{
  /* R = red, G = green, B = blue, Y = yellow; stored: R G / B Y. Read off the EXIF
   * definitions (where the stored row 0 and column 0 are seen), one row per value. */
  static const char *table[9] = {
    "RGBY", /* unused */
    "RGBY", /* 1 normal */
    "GRYB", /* 2 mirrored left-right */
    "YBGR", /* 3 turned 180° */
    "BYRG", /* 4 mirrored top-bottom */
    "RBGY", /* 5 transposed (mirrored along the main diagonal) */
    "BRYG", /* 6 turned 90° clockwise to display */
    "YGBR", /* 7 transversed (mirrored along the other diagonal) */
    "GYRB", /* 8 turned 90° counter-clockwise to display */
  };
  g_assert_cmpint (orientation, >=, 1);
  g_assert_cmpint (orientation, <=, 8);
  for (int i = 0; i < 4; i++)
    switch (table[orientation][i])
      {
      case 'R':
        corners[i] = TEST_RED;
        break;
      case 'G':
        corners[i] = TEST_GREEN;
        break;
      case 'B':
        corners[i] = TEST_BLUE;
        break;
      default:
        corners[i] = TEST_YELLOW;
        break;
      }
}
