/* image-thumbnail.h: small oriented pictures for the gallery and the app
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "image/image-rgb.h"

G_BEGIN_DECLS

/* A picture whose longest side is @longest_side (or less: never upscaled), oriented as a
 * person sees it, aspect ratio kept. Uses the desktop's thumbnail cache when it holds one made
 * from the file as it is now (image-thumbnail-cache.h), else the thumbnail embedded in the file's
 * EXIF data when it is at least @longest_side on its longest side and has the main image's aspect
 * ratio; otherwise decodes the image (JPEG at a reduced DCT scale where possible) and downscales
 * with an antialiasing filter. HEIC/AVIF included. The pixel limit of image_load() applies. */
ImageRgb *image_thumbnail_load (const char *path, int longest_side, GError **error);

/* A copy of image whose longest side is at most longest_side (never upscaled), aspect ratio
 * kept, with the antialiasing bicubic filter: a thumbnail from a picture already decoded. */
ImageRgb *image_thumbnail_scale (const ImageRgb *image, int longest_side, GError **error);

G_END_DECLS
