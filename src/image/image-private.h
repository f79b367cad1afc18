/* image-private.h: helpers shared by the files of src/image
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>
#include <glib.h>
#include <libheif/heif.h>

#include "image/image-rgb.h"

G_BEGIN_DECLS

/* Copies the first three channels of width × height pixels of bpp bytes each (3 or 4) into a
 * new picture with the EXIF orientation applied; fills original_*, orientation. */
ImageRgb *image_orientation_copy_pixels (const guint8 *pixels, gsize stride, int bpp, int width,
                                         int height, int orientation, GError **error);

/* gexiv2_initialize() once, and Exiv2's log muted. */
void image_orientation_ensure_gexiv2 (void);

/* The EXIF orientation of a file: 1-8 (1 when there is none), or 0 when its metadata cannot
 * be read at all. */
int image_orientation_read_checked (const char *path);

/* The format of a file from its first bytes: "jpeg", "png", "gif", "bmp", "tiff", "webp",
 * "heif", "avif", or NULL when it is none we read. */
const char *image_loader_sniff (const guint8 *head, gsize length);

/* Decodes a GdkPixbuf-readable stream of the (sniffed) loader type; name is the file's display
 * name for messages. With longest_side > 0, asks the loader for a picture whose longest side
 * is at most that (JPEG decodes at a reduced DCT scale). Fails with IMAGE_ERROR_TOO_LARGE,
 * before any pixel is decoded, when the header announces more than max_pixels; with
 * IMAGE_ERROR_CORRUPT when the data ends early. file_width/height receive the header size. */
GdkPixbuf *image_loader_decode_pixbuf (GInputStream *stream, const guint8 *head, gsize head_length,
                                       const char *type, const char *name, guint64 max_pixels,
                                       int longest_side, int *file_width, int *file_height,
                                       GError **error);

/* Reads up to length bytes at the start of path; fails on an empty file. */
gboolean image_loader_read_head (const char *path, GInputStream **stream, guint8 *head,
                                 gsize *length, GError **error);

/* The RGB picture of a pixbuf that GdkPixbuf decoded from path (sniffed type), with the
 * file's EXIF orientation applied (TIFF: what libtiff left undone). */
ImageRgb *image_loader_orient_pixbuf (GdkPixbuf *pixbuf, const char *path, const char *type,
                                      gboolean ignore_orientation, GError **error);

/* libheif's types, with autoptr cleanups. */
typedef struct heif_context HeifContext;
typedef struct heif_image_handle HeifImageHandle;
typedef struct heif_image HeifImage;

static inline void
image_heif_handle_release (HeifImageHandle *handle)
{
  heif_image_handle_release (handle);
}

static inline void
image_heif_image_release (HeifImage *image)
{
  heif_image_release (image);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HeifContext, heif_context_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HeifImageHandle, image_heif_handle_release)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HeifImage, image_heif_image_release)

void image_loader_ensure_libheif (void);

/* Opens a HEIF file and its primary image, and checks its size against max_pixels (the stored
 * size with ignore_transformations). The handle keeps the file's context alive. */
struct heif_image_handle *image_loader_heif_open_primary (const char *path, guint64 max_pixels,
                                                          gboolean ignore_transformations,
                                                          GError **error);

/* Decodes a HEIF image handle (primary or thumbnail) to RGB8, transformations applied unless
 * ignore_transformations; original_* = its 'ispe' size. */
ImageRgb *image_loader_heif_decode (const char *path, struct heif_image_handle *handle,
                                    guint64 max_pixels, gboolean ignore_transformations,
                                    GError **error);

G_END_DECLS
