/* image-thumbnail-cache.h: thumbnails kept in the desktop's shared thumbnail cache
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The freedesktop.org thumbnail specification, which GNOME Files, Photos and every GNOME app
 * share: $XDG_CACHE_HOME/thumbnails/{normal,large,x-large,xx-large}/ (128, 256, 512, 1024
 * pixels on the longest side) hold PNGs named by the MD5 of the photo's file URI, carrying
 * Thumb::URI and Thumb::MTime so that a changed photo's thumbnail is not used. Batch tagging
 * saves the thumbnail it makes from the decode it needs anyway; image_thumbnail_load() looks
 * here first.
 */
#pragma once

#include <glib.h>

#include "image/image-rgb.h"

G_BEGIN_DECLS

/* The largest flavor, and the one batch tagging writes (what the app's grid shows). */
#define IMAGE_THUMBNAIL_CACHE_MAX_SIZE 1024
#define IMAGE_THUMBNAIL_CACHE_LARGE 256

/* The cached thumbnail of the photo at path, its longest side longest_side (or the photo's,
 * when smaller), when one of at least that size is there and was made from the file as it is
 * now. NULL otherwise (error says why; "not there" is G_IO_ERROR_NOT_FOUND). */
ImageRgb *image_thumbnail_cache_load (const char *path, int longest_side, GError **error);

/* Saves thumbnail (oriented, its longest side one of the flavors' sizes, or the whole photo
 * when it is smaller) as the thumbnail of the photo at path, whose oriented size is
 * photo_width × photo_height, in the flavor of that size, atomically. */
gboolean image_thumbnail_cache_save (const char *path, const ImageRgb *thumbnail, int photo_width,
                                     int photo_height, GError **error);

/* Where the thumbnail of path in the flavor for longest_side is kept. */
char *image_thumbnail_cache_get_path (const char *path, int longest_side);

G_END_DECLS
