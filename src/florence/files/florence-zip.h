/* florence-zip.h: a small strict reader of stored (uncompressed) zip archives
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Enough for the archives torch.save writes: every entry stored (method 0), found through the
 * central directory (the local headers carry data descriptors), ZIP64 records and extra fields
 * honoured. Nothing is decompressed and nothing is copied: entries are ranges of the buffer.
 * CRC-32 values are not checked (a 1.5 GB checkpoint would be read twice); the tensor-level
 * checks (sizes, shapes) catch truncation and lying lengths.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *name;
  guint64 offset; /* of the entry's data in the buffer */
  guint64 size;
} FlorenceZipEntry;

/* Lists the entries of the archive held in data[0..size). Fails (FLORENCE_CHECKPOINT_ERROR) on
 * anything malformed, compressed, encrypted or split over several disks. Elements are
 * FlorenceZipEntry *, freed with the array. path is for messages only. */
GPtrArray *florence_zip_list (const guint8 *data, gsize size, const char *path, GError **error);

G_END_DECLS
