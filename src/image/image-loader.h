/* image-loader.h: any common photo file → oriented RGB8
 *
 * JPEG, PNG, WebP, TIFF, BMP, GIF (first frame), ICO through GdkPixbuf; HEIC/HEIF and AVIF
 * through libheif (primary image, its transformations applied). Grayscale, palette, alpha and
 * 16-bit images become RGB8 the way PIL's Image.convert('RGB') does: alpha is dropped (the RGB
 * values stay as stored, not composited), gray is replicated, palettes are expanded, 16-bit
 * samples keep their high byte.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "image/image-rgb.h"

G_BEGIN_DECLS

/* 200 megapixels: a 16 000 × 12 500 panorama loads, a forged 60 000 × 60 000 header does not. */
#define IMAGE_LOAD_DEFAULT_MAX_PIXELS ((guint64) 200000000)

typedef struct {
  /* Largest width × height accepted, read from the header and enforced BEFORE any pixel is
   * decoded. 0 = IMAGE_LOAD_DEFAULT_MAX_PIXELS. */
  guint64 max_pixels;
  /* TRUE: keep the stored orientation (ignore EXIF orientation; for HEIF, ignore the
   * rotation/mirror transforms). This is what the reference processor saw, and only tests
   * and checking tools want it. */
  gboolean ignore_orientation;
} ImageLoadOptions;

/* opts = NULL: defaults. Errors: G_IO_ERROR (file cannot be read) or IMAGE_ERROR. */
ImageRgb *image_load (const char *path, const ImageLoadOptions *opts, GError **error);

/* The oriented size of an image from its header alone (cheap; no pixel decoded).
 * Either output may be NULL. */
gboolean image_load_size (const char *path, int *width, int *height, GError **error);

G_END_DECLS
