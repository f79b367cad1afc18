/* image-rgb.h: an oriented RGB8 picture in memory, and the errors of src/image
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib.h>

G_BEGIN_DECLS

#define IMAGE_ERROR (image_error_quark ())

typedef enum {
  IMAGE_ERROR_UNSUPPORTED, /* not an image format we can read */
  IMAGE_ERROR_CORRUPT,     /* truncated, damaged or inconsistent file */
  IMAGE_ERROR_TOO_LARGE,   /* over the pixel limit (checked before decoding) */
  IMAGE_ERROR_EMPTY,       /* zero bytes, or an image with no pixels */
  IMAGE_ERROR_FAILED,      /* anything else (writing, invalid argument) */
} ImageError;

GQuark image_error_quark (void);

/* Interleaved R, G, B bytes, rows top to bottom, in the orientation a person sees
 * (EXIF orientation and HEIF transforms already applied). */
typedef struct {
  int width; /* oriented size: every coordinate handed to callers is in this space */
  int height;
  gsize stride;       /* bytes from one row to the next (>= 3 * width) */
  guint8 *data;       /* height * stride bytes, owned */
  int original_width; /* the size stored in the file, before orientation (HEIF: the 'ispe'
                         size as libheif reports it) */
  int original_height;
  int orientation; /* the EXIF orientation (1-8) of the file, applied; 1 = none. HEIF/AVIF:
                      always 1, libheif applies the file's own irot/imir/clap transforms */
  char *format;    /* "jpeg", "png", "webp", "tiff", "bmp", "gif", "heif", "avif", …
                      (NULL for pictures made in memory) */
} ImageRgb;

/* A new picture of width × height (both >= 1), its pixels zeroed, stride = 3 * width.
 * Fails with IMAGE_ERROR_TOO_LARGE if the size overflows or memory cannot be had. */
ImageRgb *image_rgb_new (int width, int height, GError **error);
ImageRgb *image_rgb_copy (const ImageRgb *image);
void image_rgb_free (ImageRgb *image);

/* Row y (0 = top). */
static inline guint8 *
image_rgb_row (const ImageRgb *image, int y)
{
  return image->data + (gsize) y * image->stride;
}

/* A GdkPixbuf holding a copy of the pixels (no alpha). */
GdkPixbuf *image_rgb_to_pixbuf (const ImageRgb *image);
/* Copies the RGB channels of @pixbuf (alpha is dropped, not composited). */
ImageRgb *image_rgb_new_from_pixbuf (GdkPixbuf *pixbuf, GError **error);

/* SHA-256 (lowercase hex) of the RGB bytes, row after row without padding: the
 * "decoded_rgb_sha256" of the reference fixtures. */
char *image_rgb_sha256 (const ImageRgb *image);

/* Writes a lossless RGB PNG, atomically (temporary file, then rename). */
gboolean image_rgb_save_png (const ImageRgb *image, const char *path, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ImageRgb, image_rgb_free)

G_END_DECLS
