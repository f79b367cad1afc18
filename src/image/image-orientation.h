/* image-orientation.h: EXIF orientation (1-8)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "image/image-rgb.h"

G_BEGIN_DECLS

/* EXIF Orientation values: where row 0 / column 0 of the stored image lie as seen. */
typedef enum {
  IMAGE_ORIENTATION_NORMAL = 1,
  IMAGE_ORIENTATION_MIRROR_HORIZONTAL = 2,
  IMAGE_ORIENTATION_ROTATE_180 = 3,
  IMAGE_ORIENTATION_MIRROR_VERTICAL = 4,
  IMAGE_ORIENTATION_TRANSPOSE = 5,  /* mirror horizontal + rotate 270° clockwise */
  IMAGE_ORIENTATION_ROTATE_90 = 6,  /* rotate 90° clockwise to display */
  IMAGE_ORIENTATION_TRANSVERSE = 7, /* mirror horizontal + rotate 90° clockwise */
  IMAGE_ORIENTATION_ROTATE_270 = 8, /* rotate 270° clockwise (90° counter-clockwise) */
} ImageOrientation;

/* The EXIF orientation stored in a file (JPEG, TIFF, WebP, PNG eXIf, HEIF Exif item),
 * read with gexiv2. 1 when there is none, or an out-of-range value. Never fails. */
int image_orientation_read (const char *path);

/* A new picture with @orientation applied (1 = a copy). */
ImageRgb *image_orientation_apply (const ImageRgb *image, int orientation, GError **error);

/* TRUE for 5-8: the displayed width is the stored height. */
gboolean image_orientation_swaps_axes (int orientation);

/* Maps a point (x, y) of the stored image (size stored_width × stored_height) to the
 * oriented image; used for pixel-exact tests and for regions given in file coordinates. */
void image_orientation_map_point (int orientation, int stored_width, int stored_height, int x,
                                  int y, int *out_x, int *out_y);

G_END_DECLS
