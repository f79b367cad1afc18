/* gallery-store-private.h: what the files of src/gallery (and its tests) share
 *
 * gallery-store.c holds the connection, the identity checks, migrations and transactions;
 * gallery-store-images.c, gallery-store-runs.c and gallery-store-tags.c the rows. Every
 * public function takes the connection's lock (gallery_store_lock) for its duration, so
 * stores of one process that share a connection can be used from several threads.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib/gstdio.h>
#include <sqlite3.h>

#include "gallery/gallery-store.h"

G_BEGIN_DECLS

/* How long a write waits for another process's lock before giving up with
 * GALLERY_STORE_ERROR_BUSY. */
#define GALLERY_STORE_BUSY_TIMEOUT_MS 10000
/* The room a full disk must get back before tagging goes on: a few thousand runs, the
 * write-ahead log until its next checkpoint (1000 pages) and the checkpoint itself. */
#define GALLERY_STORE_ROOM_NEEDED ((guint64) 16 * 1024 * 1024)

/* The weights hash of a run stored without one (older versions of the app): this prefix and
 * the model's name. */
#define GALLERY_STORE_UNKNOWN_WEIGHTS "unknown:"

/* The searchable document of the image whose id is the SQL expression ID: captions and OCR
 * text of its runs, its labels (the tags the model proposed and the person kept) and the
 * tags the person added; four columns for image_text. */
#define GALLERY_STORE_TEXT_OF(ID)                                                                  \
  " coalesce ((SELECT group_concat (t, char (10)) FROM (SELECT DISTINCT text_caption AS t"         \
  "   FROM runs WHERE image_id = " ID " AND text_caption <> '' ORDER BY id)), ''),"                \
  " coalesce ((SELECT group_concat (t, char (10)) FROM (SELECT DISTINCT text_ocr AS t"             \
  "   FROM runs WHERE image_id = " ID " AND text_ocr <> '' ORDER BY id)), ''),"                    \
  " coalesce ((SELECT group_concat (name, '; ') FROM (SELECT name FROM tags"                       \
  "   WHERE image_id = " ID " AND removed = 0 AND source <> 2 ORDER BY name)), ''),"               \
  " coalesce ((SELECT group_concat (name, '; ') FROM (SELECT name FROM tags"                       \
  "   WHERE image_id = " ID " AND removed = 0 AND source = 2 ORDER BY name)), '')"
/* Completes an INSERT INTO image_text: writes (and so reindexes) only what changed. */
#define GALLERY_STORE_TEXT_UPSERT                                                                  \
  " ON CONFLICT (image_id) DO UPDATE SET captions = excluded.captions, ocr = excluded.ocr,"        \
  " labels = excluded.labels, tags = excluded.tags"                                                \
  " WHERE captions IS NOT excluded.captions OR ocr IS NOT excluded.ocr"                            \
  " OR labels IS NOT excluded.labels OR tags IS NOT excluded.tags"

/* Whether the file whose stat is st is the store's database or one of the files SQLite keeps
 * beside it (-wal, -shm, -journal), compared by device and inode: such a file is never opened
 * as a photo, since closing any descriptor of it drops the locks of the store's connection. */
gboolean gallery_store_is_own_file (GalleryStore *store, const GStatBuf *st);
/* The connection (tests use it to simulate a full disk with PRAGMA max_page_count). */
sqlite3 *gallery_store_get_db (GalleryStore *store);
/* Locks the store's connection for the calling thread (recursive); free the locker to
 * unlock. Every public function does this. */
GRecMutexLocker *gallery_store_lock (GalleryStore *store);
/* Tests: how long to wait for another process's lock. */
void gallery_store_set_busy_timeout (GalleryStore *store, int milliseconds);
/* A cached prepared statement for a static SQL string, reset and with cleared bindings. */
sqlite3_stmt *gallery_store_prepare (GalleryStore *store, const char *sql, GError **error);
/* Turns a SQLite result code into a GalleryStoreError with a sentence for the person. */
void gallery_store_set_sqlite_error (GalleryStore *store, int rc, GError **error);
/* Binds a UTF-8 string (NULL binds NULL). */
void gallery_store_bind_text (sqlite3_stmt *stmt, int index, const char *text);
/* A copy of a text column, "" for NULL (a damaged row may hold NULL in a NOT NULL column). */
char *gallery_store_column_dup (sqlite3_stmt *stmt, int column);
/* Runs SQL that returns no rows. */
gboolean gallery_store_exec (GalleryStore *store, const char *sql, GError **error);
/* Steps a statement that returns no rows; resets it. */
gboolean gallery_store_step_done (GalleryStore *store, sqlite3_stmt *stmt, GError **error);
/* Runs a one-row, one-integer query (PRAGMA or SELECT). */
gboolean gallery_store_query_int (GalleryStore *store, const char *sql, gint64 *out,
                                  GError **error);
/* GALLERY_STORE_ERROR_READ_ONLY when the store was opened read-only. */
gboolean gallery_store_check_writable (GalleryStore *store, GError **error);
/* "seen" orders the paths of an image; microseconds keep two quick moves apart. */
gint64 gallery_store_now_seen (void);

/* The half-open range [lo, hi) of the paths below folder: "/a/b/" up to "/a/b0". */
void gallery_store_folder_range (const char *folder, char **lo, char **hi);

/* After a metadata-only rewrite of a photo (export into the original), records its new
 * size and time for the same image, so that the path keeps its results. */
gboolean gallery_store_refresh_path (GalleryStore *store, gint64 image_id, const char *path,
                                     GError **error);

/* The migration to schema 5: every stored result rewritten in today's form, within the
 * migration's transaction (gallery-store-runs.c). */
gboolean gallery_store_rewrite_results (GalleryStore *store, GError **error);

/* Rebuilds the searchable document of one image (gallery-store-runs.c). */
gboolean gallery_store_refresh_text (GalleryStore *store, gint64 image_id, GError **error);

G_END_DECLS
