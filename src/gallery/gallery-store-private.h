/* gallery-store-private.h: what the other files of src/gallery (and its tests) share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "gallery/gallery-store.h"

G_BEGIN_DECLS

/* The connection (tests use it to simulate a full disk with PRAGMA max_page_count). */
sqlite3 *gallery_store_get_db (GalleryStore *store);
/* A cached prepared statement for a static SQL string, reset and with cleared bindings. */
sqlite3_stmt *gallery_store_prepare (GalleryStore *store, const char *sql, GError **error);
/* Turns a SQLite result code into a GalleryStoreError with a sentence for the person. */
void gallery_store_set_sqlite_error (GalleryStore *store, int rc, GError **error);
/* Binds a UTF-8 string (NULL binds NULL). */
void gallery_store_bind_text (sqlite3_stmt *stmt, int index, const char *text);
/* A copy of a text column, "" for NULL (a damaged row may hold NULL in a NOT NULL column). */
char *gallery_store_column_dup (sqlite3_stmt *stmt, int column);

/* The half-open range [lo, hi) of the paths below folder: "/a/b/" up to "/a/b0". */
void gallery_store_folder_range (const char *folder, char **lo, char **hi);

/* After a metadata-only rewrite of a photo (export into the original), records its new
 * size and time for the same image, so that the path keeps its results. */
gboolean gallery_store_refresh_path (GalleryStore *store, gint64 image_id, const char *path,
                                     GError **error);

G_END_DECLS
