/* image-test-util.h: sample files for the image tests, built at run time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>

#include "image/image-rgb.h"

G_BEGIN_DECLS

/* The asymmetric test pattern: W × H stored pixels in four solid quadrants. */
#define PATTERN_WIDTH 64
#define PATTERN_HEIGHT 48

typedef struct {
  guint8 r, g, b;
} TestColor;

extern const TestColor TEST_RED, TEST_GREEN, TEST_BLUE, TEST_YELLOW, TEST_MAGENTA;

/* Quadrants: top-left red, top-right green, bottom-left blue, bottom-right yellow. */
GdkPixbuf *test_pattern_pixbuf (int width, int height, gboolean with_alpha);
GdkPixbuf *test_solid_pixbuf (int width, int height, TestColor color);

/* A file name in a temporary folder made for this test program; test_temp_cleanup() removes
 * the folder and what is in it. */
char *test_temp_path (const char *name);
void test_temp_cleanup (void);

/* Saves with a GdkPixbuf saver; FALSE (and a test skip message) when it is not writable. */
gboolean test_save_pixbuf (GdkPixbuf *pixbuf, const char *path, const char *type);

/* Sets Exif.Image.Orientation with gexiv2. */
void test_set_exif_orientation (const char *path, int orientation);

/* Writes a PNG by hand: any bit depth and colour type, with optional PLTE and tRNS chunks.
 * raw = unfiltered scanlines (without the filter byte). */
void test_write_png (const char *path, guint32 width, guint32 height, guint8 bit_depth,
                     guint8 color_type, const guint8 *raw, gsize raw_length, const guint8 *palette,
                     gsize palette_length, const guint8 *trns, gsize trns_length);

/* Writes an interlaced (Adam7) 8-bit RGB PNG of the pixbuf, by hand. */
void test_write_png_interlaced (const char *path, GdkPixbuf *pixbuf);

/* Writes a progressive JPEG with libjpeg; FALSE when the tests were built without it. */
gboolean test_write_progressive_jpeg (const char *path, GdkPixbuf *pixbuf);

/* Writes a GIF by hand with a 4-colour palette; one frame per entry of frames (indices). */
void test_write_gif (const char *path, int width, int height, const TestColor palette[4],
                     const guint8 *const *frames, int n_frames);

/* Encodes a HEIF (HEVC) or AVIF (AV1) with libheif; orientation 1-8 becomes irot/imir.
 * FALSE when there is no encoder. thumbnail: add a solid 32 × 24 thumbnail item of that colour. */
gboolean test_write_heif (const char *path, GdkPixbuf *pixbuf, gboolean avif, int orientation,
                          const TestColor *thumbnail);

/* Asserts that the pixel at (x, y) is within tolerance of color. */
void test_assert_pixel (const ImageRgb *image, int x, int y, TestColor color, int tolerance);

/* Asserts the colours at the centres of the four quadrants: tl, tr, bl, br. */
void test_assert_quadrants (const ImageRgb *image, const TestColor corners[4], int tolerance);

/* The quadrant colours a person sees for a stored test pattern with this EXIF orientation,
 * written out by hand from the EXIF definitions (not computed by the code under test). */
void test_expected_quadrants (int orientation, TestColor corners[4]);

guint8 *test_read_file (const char *path, gsize *length);
void test_write_file (const char *path, const guint8 *data, gsize length);

G_END_DECLS
