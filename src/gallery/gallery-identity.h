/* gallery-identity.h: what makes two files the same photo
 *
 * A photo is known by its decoded pixels: the SHA-256 of its width, height and RGB8 rows as
 * src/image decodes them (EXIF orientation applied), exactly what the model sees. Editing
 * keywords, rating, GPS, XMP or any other metadata (exiftool, digiKam, darktable's sidecar
 * write-back) rewrites the file but not its pixels, so the photo keeps its results and tags;
 * a real edit of the pixels (or of the orientation) is a new version. The gallery also keeps
 * the SHA-256 of every file content it has seen for a photo, so an unchanged, copied or moved
 * file is recognised without decoding it.
 *
 * Why pixels and not the coded data without its metadata segments: one definition for every
 * format the loader reads (JPEG, HEIC, PNG, WebP, TIFF, …) with no container parser of our
 * own for untrusted files, and the batch tagger decodes each photo anyway, so the identity of
 * a photo being tagged costs one hash of its pixels (tests/bench/PERFORMANCE.md: bench-identity).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "image/image-rgb.h"

G_BEGIN_DECLS

/* The identity of an already decoded picture (as image_load() returns it), lowercase hex.
 * The batch pipeline, which decodes every photo once, calls this on its picture and hands
 * both to gallery_store_add_image_full(). */
char *gallery_identity_of_picture (const ImageRgb *picture);

/* Decodes the file (image_load() with its defaults) and returns its identity; out_picture
 * (nullable) receives the decoded picture. Errors: G_IO_ERROR or IMAGE_ERROR with a
 * sentence, when the file cannot be read or is not a photo. */
char *gallery_identity_of_file (const char *path, ImageRgb **out_picture, GCancellable *cancellable,
                                GError **error);

/* SHA-256 of a file's bytes (lowercase hex), read in chunks. */
char *gallery_identity_hash_file (const char *path, gint64 *out_size, GCancellable *cancellable,
                                  GError **error);

G_END_DECLS
