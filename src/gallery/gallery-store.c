/* gallery-store.c: the store's core: opening (one connection per database and process),
 * the identity checks, migrations, transactions and the helpers the other gallery-store-*.c
 * files share. Images, runs and tags live in gallery-store-images.c, gallery-store-runs.c
 * and gallery-store-tags.c.
 *
 * Schema history (PRAGMA user_version):
 *   1  images (by SHA-256), image_paths, runs (with their extracted text), tags, image_text
 *      (one searchable document per image) and image_fts, an external-content FTS5 index of
 *      image_text kept in sync by triggers.
 *   2  tags remember where they came from (source) and whether the person removed them
 *      (removed), so that re-importing a run never brings back a removed tag; the index
 *      runs_done answers "already done with this model and settings?" for batch tagging
 *      (and makes v1's runs_image redundant); images_added serves the "most recent first"
 *      listings (gallery view, searches by filters alone) without sorting the library.
 *   3–5  one run per key; photos known by their pixels; results in one form (see below).
 *   6  tags proposed by a result carry its score (tags.score, NULL: none).
 * A database is only ever migrated forward, inside one transaction.
 *
 * Only SQLite touches the database file and its -wal and -shm: closing any descriptor of a
 * file drops every POSIX lock the process holds on it, so a stray open() beside a live
 * connection lets another process believe it is the last one and delete the write-ahead
 * log under us. Even the first look at an unknown file goes through SQLite's file layer
 * (store_probe), which keeps such descriptors open while locks are held.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Its length is mostly the schema history above and its migrations, which belong together.
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

#include "gallery/gallery-store-private.h"

/* One SQLite connection to one database file, shared by every GalleryStore of the process
 * that opened that file with the same mode. Its lock is held for the duration of each call
 * and from gallery_store_begin() to the matching commit or rollback. */
typedef struct {
  sqlite3 *db;
  char *key; /* the registry key: "rw:" or "ro:" + the real path */
  gboolean read_only;
  int refs;     /* GalleryStore handles using it; changed under registry_lock */
  int tx_depth; /* open transaction levels (all handles) */
  int busy_timeout_ms;
  GRecMutex lock;
  GHashTable *statements; /* static SQL string → sqlite3_stmt */
} StoreConnection;

struct _GalleryStore {
  StoreConnection *conn;
  char *path;
  gboolean read_only; /* this handle may not write (the connection may be shared) */
  int tx_depth;       /* levels this handle opened: rolled back when it closes */
};

static GMutex registry_lock;
static GHashTable *registry; /* key → StoreConnection */

/* ------------------------------------------------------------------------------------------ */
/* Schema                                                                                      */

/* Version 1, exactly as it was first written (tests/gallery/gallery-v1.sql is the same). */
static const char schema_v1[] =
  "CREATE TABLE images ("
  "  id INTEGER PRIMARY KEY,"
  "  hash TEXT NOT NULL UNIQUE,"
  "  size INTEGER NOT NULL,"
  "  width INTEGER NOT NULL DEFAULT 0,"
  "  height INTEGER NOT NULL DEFAULT 0,"
  "  orientation INTEGER NOT NULL DEFAULT 1,"
  "  added INTEGER NOT NULL);"
  "CREATE TABLE image_paths ("
  "  path TEXT PRIMARY KEY,"
  "  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  size INTEGER NOT NULL,"
  "  mtime INTEGER NOT NULL,"
  "  seen INTEGER NOT NULL);"
  "CREATE INDEX image_paths_image ON image_paths (image_id);"
  "CREATE TABLE runs ("
  "  id INTEGER PRIMARY KEY,"
  "  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  task TEXT NOT NULL,"
  "  text_input TEXT NOT NULL DEFAULT '',"
  "  model_name TEXT NOT NULL,"
  "  weights_hash TEXT NOT NULL,"
  "  num_beams INTEGER NOT NULL,"
  "  max_new_tokens INTEGER NOT NULL,"
  "  raw_text TEXT NOT NULL,"
  "  token_ids TEXT NOT NULL,"
  "  result TEXT NOT NULL,"
  "  timings TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  text_caption TEXT NOT NULL DEFAULT '',"
  "  text_ocr TEXT NOT NULL DEFAULT '',"
  "  text_labels TEXT NOT NULL DEFAULT '');"
  "CREATE INDEX runs_image ON runs (image_id);"
  "CREATE INDEX runs_task ON runs (task, image_id);"
  "CREATE INDEX runs_created ON runs (created);"
  "CREATE TABLE tags ("
  "  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL,"
  "  run_id INTEGER REFERENCES runs (id) ON DELETE SET NULL,"
  "  PRIMARY KEY (image_id, name)) WITHOUT ROWID;"
  "CREATE INDEX tags_name ON tags (name);"
  "CREATE TABLE image_text ("
  "  image_id INTEGER PRIMARY KEY REFERENCES images (id) ON DELETE CASCADE,"
  "  captions TEXT NOT NULL DEFAULT '',"
  "  ocr TEXT NOT NULL DEFAULT '',"
  "  labels TEXT NOT NULL DEFAULT '',"
  "  tags TEXT NOT NULL DEFAULT '');"
  "CREATE VIRTUAL TABLE image_fts USING fts5 ("
  "  captions, ocr, labels, tags,"
  "  content = 'image_text', content_rowid = 'image_id',"
  "  tokenize = 'unicode61 remove_diacritics 2');"
  "INSERT INTO image_fts (image_fts, rank) VALUES ('rank', 'bm25(4.0, 4.0, 2.0, 3.0)');"
  "CREATE TRIGGER image_text_ai AFTER INSERT ON image_text BEGIN"
  "  INSERT INTO image_fts (rowid, captions, ocr, labels, tags)"
  "    VALUES (new.image_id, new.captions, new.ocr, new.labels, new.tags);"
  "END;"
  "CREATE TRIGGER image_text_ad AFTER DELETE ON image_text BEGIN"
  "  INSERT INTO image_fts (image_fts, rowid, captions, ocr, labels, tags)"
  "    VALUES ('delete', old.image_id, old.captions, old.ocr, old.labels, old.tags);"
  "END;"
  "CREATE TRIGGER image_text_au AFTER UPDATE ON image_text BEGIN"
  "  INSERT INTO image_fts (image_fts, rowid, captions, ocr, labels, tags)"
  "    VALUES ('delete', old.image_id, old.captions, old.ocr, old.labels, old.tags);"
  "  INSERT INTO image_fts (rowid, captions, ocr, labels, tags)"
  "    VALUES (new.image_id, new.captions, new.ocr, new.labels, new.tags);"
  "END;";

/* 1 → 2: tag provenance and the "already done" index. Tags of a v1 database came from
 * results (v1 could only add them that way or delete them), so they become label tags. */
static const char migrate_v1_v2[] =
  "ALTER TABLE tags ADD COLUMN source INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE tags ADD COLUMN removed INTEGER NOT NULL DEFAULT 0;"
  "CREATE INDEX runs_done ON runs"
  "  (image_id, task, model_name, weights_hash, num_beams, max_new_tokens, text_input);"
  "DROP INDEX runs_image;"
  "CREATE INDEX images_added ON images (added);";

/* migrations[v] brings version v + 1 to v + 2 ... i.e. migrations[0] creates version 1. */
/* 2 → 3: one run per photo, task, text input, weights and generation settings, enforced by
 * a unique index (the model's name is not part of it: the weights hash says which weights
 * ran, whatever the app or the command line called them). Runs stored without a weights
 * hash are told apart by their model's name. Of duplicates the latest stays; the searchable
 * text of every image is rebuilt from what stays. */
static const char migrate_v2_v3[] =
  "UPDATE runs SET weights_hash = '" GALLERY_STORE_UNKNOWN_WEIGHTS "' || model_name"
  "  WHERE weights_hash = '';"
  "DELETE FROM runs WHERE id NOT IN (SELECT max (id) FROM runs"
  "  GROUP BY image_id, task, text_input, weights_hash, num_beams, max_new_tokens);"
  "DROP INDEX runs_done;"
  "CREATE UNIQUE INDEX runs_key ON runs"
  "  (image_id, task, text_input, weights_hash, num_beams, max_new_tokens);"
  "INSERT INTO image_text (image_id, captions, ocr, labels, tags)"
  "  SELECT i.id," GALLERY_STORE_TEXT_OF ("i.id") " FROM images i WHERE 1" GALLERY_STORE_TEXT_UPSERT
                                                  ";";

/* 3 → 4: a photo is known by its pixels (gallery-identity.h): images.pixels holds their
 * SHA-256 (filled in when a photo of an older gallery is next seen), image_files every file
 * content seen for a photo, so that a copy, a move or a metadata edit finds it again; paths
 * whose file is gone are marked missing. */
static const char migrate_v3_v4[] =
  "ALTER TABLE images ADD COLUMN pixels TEXT;"
  "CREATE UNIQUE INDEX images_pixels ON images (pixels);"
  "CREATE TABLE image_files ("
  "  sha256 TEXT PRIMARY KEY,"
  "  image_id INTEGER NOT NULL REFERENCES images (id) ON DELETE CASCADE) WITHOUT ROWID;"
  "CREATE INDEX image_files_image ON image_files (image_id);"
  "INSERT INTO image_files (sha256, image_id) SELECT hash, id FROM images;"
  "ALTER TABLE image_paths ADD COLUMN missing INTEGER NOT NULL DEFAULT 0;";

/* 4 → 5: every stored result in the one form florence-result writes today (the reference's
 * key names, "version": 2), read once by its one reader: the rows of version 1 ("bboxes_labels"
 * for every task) and the reference's {"<TASK>": answer} of early galleries. A row that cannot
 * be read is kept as it is. (gallery-store-runs.c) */

/* 5 → 6: a tag proposed by a result carries how sure the model was of it (gallery-tag.h), so
 * that tagging, search and export can keep the confident ones. Results stored before have no
 * scores: their tags keep NULL. */
static const char migrate_v5_v6[] = "ALTER TABLE tags ADD COLUMN score REAL;";

static const struct {
  const char *sql;
  gboolean (*step) (GalleryStore *store, GError **error);
} migrations[] = {
  { schema_v1, NULL },
  { migrate_v1_v2, NULL },
  { migrate_v2_v3, NULL },
  { migrate_v3_v4, NULL },
  { NULL, gallery_store_rewrite_results },
  { migrate_v5_v6, NULL },
};
G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == GALLERY_STORE_SCHEMA_VERSION);

/* The tables a gallery of each version has. */
static const struct {
  const char *name;
  int since;
} expected_tables[] = {
  { "images", 1 },     { "image_paths", 1 }, { "runs", 1 },        { "tags", 1 },
  { "image_text", 1 }, { "image_fts", 1 },   { "image_files", 4 },
};

G_DEFINE_QUARK (gallery - store - error - quark, gallery_store_error)

/* ------------------------------------------------------------------------------------------ */
/* Helpers shared with the other files of src/gallery                                          */

sqlite3 *
gallery_store_get_db (GalleryStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->conn->db;
}

GRecMutexLocker *
gallery_store_lock (GalleryStore *store)
{
  return store != NULL ? g_rec_mutex_locker_new (&store->conn->lock) : NULL;
}

void
gallery_store_set_busy_timeout (GalleryStore *store, int milliseconds)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);

  store->conn->busy_timeout_ms = milliseconds;
  sqlite3_busy_timeout (store->conn->db, milliseconds);
}

/* Bytes free for an unprivileged writer on the file system holding path, -1 if unknown. */
static gint64
free_bytes (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  struct statvfs st;

  if (statvfs (dir, &st) != 0)
    return -1;
  return (gint64) st.f_bavail * (gint64) st.f_frsize;
}

/* The name of the network file system holding path, NULL for a local one. Locks on such
 * shares fail (ENOLCK without a lock daemon, which SQLite reports as "busy") or are only
 * local to this computer. */
static const char *
network_fs_name (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  struct statfs st;

  if (statfs (dir, &st) != 0)
    return NULL;
  switch ((unsigned long) st.f_type)
    {
    case 0x6969UL: /* NFS_SUPER_MAGIC */
      return "NFS";
    case 0x517BUL:     /* SMB_SUPER_MAGIC */
    case 0xFF534D42UL: /* CIFS */
    case 0xFE534D42UL: /* SMB2 */
      return "SMB";
    case 0x65735546UL: /* FUSE (sshfs, …) */
      return "FUSE";
    case 0x01021997UL: /* V9FS */
      return "9P";
    case 0x00C36400UL: /* CEPH */
      return "Ceph";
    case 0x47504653UL: /* GPFS */
      return "GPFS";
    case 0x0BD00BD0UL: /* Lustre */
      return "Lustre";
    default:
      return NULL;
    }
}

/* Whether a failed write (SQLITE_IOERR_WRITE) was for want of room: the disk or the quota is
 * full, or the file hit the process's size limit (EFBIG, which SQLite does not tell apart
 * from other write errors). */
static gboolean
is_out_of_room (const char *path, int sys_errno)
{
  struct rlimit limit;
  gint64 free_now;

  if (sys_errno == ENOSPC || sys_errno == EDQUOT || sys_errno == EFBIG)
    return TRUE;
  if (getrlimit (RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    return TRUE;
  free_now = free_bytes (path);
  return free_now >= 0 && free_now < (gint64) GALLERY_STORE_ROOM_NEEDED;
}

static gboolean
is_lock_failure (int rc, int sys_errno)
{
  switch (rc)
    {
    case SQLITE_IOERR_LOCK:
    case SQLITE_IOERR_RDLOCK:
    case SQLITE_IOERR_UNLOCK:
    case SQLITE_IOERR_CHECKRESERVEDLOCK:
    case SQLITE_IOERR_SHMLOCK:
    case SQLITE_IOERR_SHMMAP:
    case SQLITE_IOERR_SHMOPEN:
    case SQLITE_IOERR_SHMSIZE:
      return TRUE;
    default:
      return sys_errno == ENOLCK;
    }
}

void
gallery_store_set_sqlite_error (GalleryStore *store, int rc, GError **error)
{
  sqlite3 *db = store != NULL && store->conn != NULL ? store->conn->db : NULL;
  int waited_ms = db != NULL ? store->conn->busy_timeout_ms : GALLERY_STORE_BUSY_TIMEOUT_MS;
  const char *path = store != NULL && store->path != NULL ? store->path : "";
  int sys_errno = db != NULL ? sqlite3_system_errno (db) : 0;
  const char *detail;

  if (db != NULL && sqlite3_extended_errcode (db) == rc)
    detail = sqlite3_errmsg (db);
  else
    detail = sqlite3_errstr (rc);

  if ((rc & 0xff) == SQLITE_FULL || (rc == SQLITE_IOERR_WRITE && is_out_of_room (path, sys_errno)))
    {
      gint64 free_now = free_bytes (path);
      g_autofree char *needed = g_format_size (GALLERY_STORE_ROOM_NEEDED);
      g_autofree char *free_text =
        free_now >= 0 ? g_format_size ((guint64) free_now) : g_strdup (_ ("unknown"));

      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_FULL,
                   _ ("There is no room left to write the gallery “%s” (%s; %s free on its "
                      "disk). Free at least %s there (or raise the file size limit) and try "
                      "again: every result stored before is intact."),
                   path, sys_errno != 0 ? g_strerror (sys_errno) : detail, free_text, needed);
      return;
    }
  if ((rc & 0xff) == SQLITE_IOERR && is_lock_failure (rc, sys_errno))
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NO_LOCKS,
                   _ ("The gallery “%s” is on a file system that cannot lock files (%s), as some "
                      "network shares are; two programs using it could damage it, so it was not "
                      "changed. Keep the gallery on a disk of this computer, or mount the share "
                      "with locking."),
                   path, sys_errno != 0 ? g_strerror (sys_errno) : detail);
      return;
    }

  switch (rc & 0xff)
    {
    case SQLITE_READONLY:
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY,
                   _ ("The gallery “%s” cannot be written (%s). Check that the file and its "
                      "folder are writable; what only reads it (searching, showing) still "
                      "works."),
                   path, detail);
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT,
                   _ ("The gallery “%s” is damaged (%s). Move the file aside to start a new "
                      "gallery, or restore it from a backup."),
                   path, detail);
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      if (network_fs_name (path) != NULL)
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NO_LOCKS,
                       _ ("The gallery “%s” is on a network share (%s) and could not be locked "
                          "for %d seconds: another program is using it, or the share does not "
                          "support file locks. Close other programs using it; if none is "
                          "running, keep the gallery on a disk of this computer, or mount the "
                          "share with locking. Nothing was lost."),
                       path, network_fs_name (path), MAX ((waited_ms + 999) / 1000, 1));
          break;
        }
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_BUSY,
                   _ ("The gallery “%s” has been locked by another program for more than %d "
                      "seconds (%s). Close the other Depict window or depict-cli command that "
                      "uses it, or wait for it to finish, then try again; nothing was lost."),
                   path, MAX ((waited_ms + 999) / 1000, 1), detail);
      break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_IO,
                   _ ("The gallery “%s” could not be read or written (%s). Check the disk and "
                      "the permissions of the file and its folder."),
                   path, sys_errno != 0 ? g_strerror (sys_errno) : detail);
      break;
    default:
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_FAILED,
                   _ ("The gallery “%s” reported an error (%s). Try again; if it happens "
                      "again, please report it."),
                   path, detail);
      break;
    }
}

sqlite3_stmt *
gallery_store_prepare (GalleryStore *store, const char *sql, GError **error)
{
  StoreConnection *conn = store->conn;
  sqlite3_stmt *stmt = g_hash_table_lookup (conn->statements, sql);
  int rc;

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  rc = sqlite3_prepare_v3 (conn->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      sqlite3_finalize (stmt);
      return NULL;
    }
  g_hash_table_insert (conn->statements, (gpointer) sql, stmt);
  return stmt;
}

void
gallery_store_bind_text (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
}

char *
gallery_store_column_dup (sqlite3_stmt *stmt, int column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);
  return g_strdup (text != NULL ? text : "");
}

gboolean
gallery_store_exec (GalleryStore *store, const char *sql, GError **error)
{
  int rc = sqlite3_exec (store->conn->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      gallery_store_set_sqlite_error (store, sqlite3_extended_errcode (store->conn->db), error);
      return FALSE;
    }
  return TRUE;
}

gboolean
gallery_store_step_done (GalleryStore *store, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, sqlite3_extended_errcode (store->conn->db), error);
      return FALSE;
    }
  return TRUE;
}

gboolean
gallery_store_query_int (GalleryStore *store, const char *sql, gint64 *out, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (store->conn->db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *out = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_OK;
        }
    }
  if (rc != SQLITE_OK)
    rc = sqlite3_extended_errcode (store->conn->db);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return FALSE;
    }
  return TRUE;
}

gboolean
gallery_store_check_writable (GalleryStore *store, GError **error)
{
  if (store->read_only)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY,
                   _ ("The gallery “%s” was opened read-only, so it cannot be changed. Open it "
                      "without the read-only option to make changes."),
                   store->path);
      return FALSE;
    }
  return TRUE;
}

gboolean
gallery_store_is_own_file (GalleryStore *store, const GStatBuf *st)
{
  static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *path = g_strconcat (store->path, suffixes[i], NULL);
      GStatBuf own;

      if (g_stat (path, &own) == 0 && own.st_dev == st->st_dev && own.st_ino == st->st_ino)
        return TRUE;
    }
  return FALSE;
}

gint64
gallery_store_now_seen (void)
{
  return g_get_real_time ();
}

/* ------------------------------------------------------------------------------------------ */
/* Transactions                                                                                */

gboolean
gallery_store_begin (GalleryStore *store, GError **error)
{
  StoreConnection *conn;
  g_autofree char *sql = NULL;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!gallery_store_check_writable (store, error))
    return FALSE;
  conn = store->conn;
  /* Held until the matching commit or rollback: another thread using the same connection
   * waits for the whole transaction. */
  g_rec_mutex_lock (&conn->lock);
  if (conn->tx_depth == 0 && !sqlite3_get_autocommit (conn->db))
    gallery_store_exec (store, "ROLLBACK", NULL); /* left over from a failed statement */
  sql = conn->tx_depth == 0 ? g_strdup ("BEGIN IMMEDIATE")
                            : g_strdup_printf ("SAVEPOINT depict_%d", conn->tx_depth);
  if (!gallery_store_exec (store, sql, error))
    {
      g_rec_mutex_unlock (&conn->lock);
      return FALSE;
    }
  conn->tx_depth++;
  store->tx_depth++;
  return TRUE;
}

void
gallery_store_rollback (GalleryStore *store)
{
  StoreConnection *conn;

  g_return_if_fail (store != NULL);

  conn = store->conn;
  if (store->tx_depth <= 0)
    return;
  conn->tx_depth--;
  store->tx_depth--;
  /* SQLite rolls the whole transaction back by itself after some errors (a full disk). */
  if (!sqlite3_get_autocommit (conn->db))
    {
      if (conn->tx_depth == 0)
        gallery_store_exec (store, "ROLLBACK", NULL);
      else
        {
          g_autofree char *sql = g_strdup_printf ("ROLLBACK TO depict_%d; RELEASE depict_%d",
                                                  conn->tx_depth, conn->tx_depth);
          gallery_store_exec (store, sql, NULL);
        }
    }
  g_rec_mutex_unlock (&conn->lock);
}

gboolean
gallery_store_commit (GalleryStore *store, GError **error)
{
  StoreConnection *conn;
  g_autofree char *sql = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (store->tx_depth > 0, FALSE);

  conn = store->conn;
  sql = conn->tx_depth == 1 ? g_strdup ("COMMIT")
                            : g_strdup_printf ("RELEASE depict_%d", conn->tx_depth - 1);
  if (!gallery_store_exec (store, sql, error))
    {
      gallery_store_rollback (store);
      return FALSE;
    }
  conn->tx_depth--;
  store->tx_depth--;
  g_rec_mutex_unlock (&conn->lock);
  return TRUE;
}

gboolean
gallery_store_check (GalleryStore *store, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = NULL;
  sqlite3_stmt *stmt = NULL;
  g_autofree char *first = NULL;
  int rc;

  g_return_val_if_fail (store != NULL, FALSE);

  locker = gallery_store_lock (store);
  rc = sqlite3_prepare_v2 (store->conn->db, "PRAGMA quick_check", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      if (first == NULL)
        first = gallery_store_column_dup (stmt, 0);
  if (rc != SQLITE_DONE)
    rc = sqlite3_extended_errcode (store->conn->db);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE && (rc & 0xff) != SQLITE_CORRUPT && (rc & 0xff) != SQLITE_NOTADB)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return FALSE;
    }
  if (rc != SQLITE_DONE || g_strcmp0 (first, "ok") != 0)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT,
                   _ ("The gallery “%s” is damaged (%s), so nothing was written to it. Move the "
                      "file aside to start a new gallery, or restore it from a backup."),
                   store->path,
                   rc != SQLITE_DONE ? sqlite3_errstr (rc)
                                     : (first != NULL ? first : _ ("no answer")));
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Opening                                                                                     */

char *
gallery_store_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "depict", "gallery.db", NULL);
}

typedef enum {
  PROBE_NEW,     /* no file, an empty file, or an empty SQLite database: it may become ours */
  PROBE_OURS,    /* a SQLite database with Depict's application id */
  PROBE_FOREIGN, /* a SQLite database of some other program */
  PROBE_NOT_SQLITE,
  PROBE_UNREADABLE,
} ProbeResult;

static guint32
read_be32 (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

/* What the file at path is, from its first 100 bytes (the SQLite header), read through
 * SQLite's own file layer: nothing is written, no -wal or -shm is made or checkpointed, and
 * closing the file keeps the locks other connections of this process hold on it. A Depict
 * gallery gets its application id in its very first transaction (rollback journal mode),
 * so the main file's header is enough: a database whose id is 0 is ours only while it is
 * still empty. */
static ProbeResult
store_probe (const char *path, int *out_errno)
{
  static const char magic[16] = "SQLite format 3";
  sqlite3_vfs *vfs;
  sqlite3_file *file = NULL;
  sqlite3_filename name = NULL;
  char *full = NULL;
  guint8 header[100] = { 0 };
  sqlite3_int64 size = 0;
  ProbeResult result = PROBE_UNREADABLE;
  guint32 app_id, user_version, page_size, n_pages;
  int flags = 0, rc;

  *out_errno = 0;
  if (sqlite3_initialize () != SQLITE_OK || (vfs = sqlite3_vfs_find (NULL)) == NULL)
    return PROBE_UNREADABLE;
  full = sqlite3_malloc (vfs->mxPathname + 1);
  file = sqlite3_malloc (vfs->szOsFile);
  if (full == NULL || file == NULL)
    goto out;
  memset (file, 0, vfs->szOsFile);
  if (vfs->xFullPathname (vfs, path, vfs->mxPathname + 1, full) != SQLITE_OK)
    goto out;
  name = sqlite3_create_filename (full, "", "", 0, NULL);
  if (name == NULL)
    goto out;
  rc = vfs->xOpen (vfs, name, file, SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_READONLY, &flags);
  if (rc == SQLITE_OK)
    {
      rc = file->pMethods->xFileSize (file, &size);
      if (rc == SQLITE_OK && size > 0)
        {
          rc = file->pMethods->xRead (file, header, sizeof header, 0);
          if (rc == SQLITE_IOERR_SHORT_READ)
            rc = SQLITE_OK; /* the rest is zeros: judged below */
        }
    }
  if (rc != SQLITE_OK)
    *out_errno = errno;
  if (file->pMethods != NULL)
    file->pMethods->xClose (file);
  if (rc != SQLITE_OK)
    goto out;

  if (size == 0)
    {
      result = PROBE_NEW;
      goto out;
    }
  if (size < (sqlite3_int64) sizeof header || memcmp (header, magic, sizeof magic) != 0)
    {
      result = PROBE_NOT_SQLITE;
      goto out;
    }
  app_id = read_be32 (header + 68);
  user_version = read_be32 (header + 60);
  page_size = (guint32) header[16] << 8 | header[17];
  if (page_size == 1)
    page_size = 65536;
  /* The in-header page count is valid when its "version valid for" matches the change
   * counter; otherwise the file size says it. */
  n_pages = read_be32 (header + 92) == read_be32 (header + 24) ? read_be32 (header + 28) : 0;
  if (n_pages == 0 && page_size >= 512)
    n_pages = (guint32) MIN (size / page_size, G_MAXUINT32);
  if (app_id == GALLERY_STORE_APPLICATION_ID)
    result = PROBE_OURS;
  else if (app_id != 0 || user_version != 0 || header[18] == 2 || header[19] == 2 || n_pages > 1)
    result = PROBE_FOREIGN; /* another id, a version, WAL mode, or tables */
  else
    result = PROBE_NEW;

out:
  sqlite3_free_filename (name);
  sqlite3_free (file);
  sqlite3_free (full);
  return result;
}

/* Brings the schema to GALLERY_STORE_SCHEMA_VERSION inside one write transaction, reading
 * the version again under the lock (another process may have done it meanwhile). */
static gboolean
store_migrate (GalleryStore *store, GError **error)
{
  gint64 version = 0;
  g_autofree char *set_version = NULL;
  g_autofree char *set_app_id = NULL;

  if (!gallery_store_begin (store, error))
    return FALSE;
  if (!gallery_store_query_int (store, "PRAGMA user_version", &version, error))
    goto fail;
  if (version >= GALLERY_STORE_SCHEMA_VERSION)
    return gallery_store_commit (store, error);

  for (gint64 v = version; v < GALLERY_STORE_SCHEMA_VERSION; v++)
    if ((migrations[v].sql != NULL && !gallery_store_exec (store, migrations[v].sql, error)) ||
        (migrations[v].step != NULL && !migrations[v].step (store, error)))
      goto fail;

  set_version = g_strdup_printf ("PRAGMA user_version = %d", GALLERY_STORE_SCHEMA_VERSION);
  set_app_id = g_strdup_printf ("PRAGMA application_id = %d", GALLERY_STORE_APPLICATION_ID);
  if (!gallery_store_exec (store, set_version, error) ||
      !gallery_store_exec (store, set_app_id, error))
    goto fail;
  return gallery_store_commit (store, error);

fail:
  gallery_store_rollback (store);
  return FALSE;
}

static void
finalize_statement (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
connection_free (StoreConnection *conn)
{
  if (conn->statements != NULL)
    g_hash_table_destroy (conn->statements);
  if (conn->db != NULL)
    sqlite3_close_v2 (conn->db);
  g_rec_mutex_clear (&conn->lock);
  g_free (conn->key);
  g_free (conn);
}

/* The path with its folder's symbolic links resolved, so that two spellings of one file
 * share one connection. */
static char *
real_path (const char *path)
{
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  g_autofree char *dir = g_path_get_dirname (canonical);
  g_autofree char *base = g_path_get_basename (canonical);
  g_autofree char *real_dir = realpath (dir, NULL);

  return g_build_filename (real_dir != NULL ? real_dir : dir, base, NULL);
}

static void
set_refused (GError **error, ProbeResult probe, const char *path)
{
  if (probe == PROBE_NOT_SQLITE)
    g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_A_DATABASE,
                 _ ("“%s” is not a Depict gallery (it is not a SQLite database at all). It was "
                    "left untouched: move it aside to start a new gallery, or use another "
                    "gallery file."),
                 path);
  else
    g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_FOREIGN,
                 _ ("“%s” is a database of another program, not a Depict gallery. It was left "
                    "untouched: use another gallery file."),
                 path);
}

static gboolean
store_sqlite_open (GalleryStore *store, const char *name, int flags, GError **error)
{
  StoreConnection *conn = store->conn;
  int rc = sqlite3_open_v2 (name, &conn->db, flags | SQLITE_OPEN_NOMUTEX, NULL);

  if (conn->db != NULL)
    {
      sqlite3_extended_result_codes (conn->db, 1);
      conn->busy_timeout_ms = GALLERY_STORE_BUSY_TIMEOUT_MS;
      sqlite3_busy_timeout (conn->db, conn->busy_timeout_ms);
    }
  if (rc != SQLITE_OK)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return FALSE;
    }
  return TRUE;
}

/* "file:/a%3Fb.db?immutable=1" for "/a?b.db" */
static char *
immutable_uri (const char *path)
{
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  g_autofree char *escaped = g_uri_escape_string (absolute, "/", FALSE);

  return g_strconcat ("file:", escaped, "?immutable=1", NULL);
}

/* Opens a new connection for store (whose path and read_only are set): the identity checks,
 * then the migrations and WAL for a writable one. Called with registry_lock held, so no
 * other connection of this process to the file appears meanwhile. */
static gboolean
store_connect (GalleryStore *store, GError **error)
{
  StoreConnection *conn = store->conn;
  gint64 app_id = 0, version = 0, n_objects = 0, n_tables = 0;
  g_autoptr (GString) check = NULL;
  g_autoptr (GError) local_error = NULL;
  ProbeResult probe = PROBE_NEW;
  int open_flags, sys_errno = 0;

  if (g_file_test (store->path, G_FILE_TEST_EXISTS))
    {
      probe = store_probe (store->path, &sys_errno);
      if (probe == PROBE_NOT_SQLITE || probe == PROBE_FOREIGN)
        {
          set_refused (error, probe, store->path);
          return FALSE;
        }
      if (probe == PROBE_UNREADABLE)
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_IO,
                       _ ("The gallery “%s” could not be read (%s). Check the disk and the "
                          "permissions of the file and its folder."),
                       store->path, sys_errno != 0 ? g_strerror (sys_errno) : _ ("unknown error"));
          return FALSE;
        }
    }
  else if (conn->read_only)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND,
                   _ ("There is no gallery at “%s” yet. Tag some photos first, or give the "
                      "right gallery file."),
                   store->path);
      return FALSE;
    }

  open_flags = conn->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  if (!store_sqlite_open (store, store->path, open_flags, error))
    return FALSE;
  if (!conn->read_only && sqlite3_db_readonly (conn->db, "main") == 1)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY,
                   _ ("The gallery “%s” cannot be written: the file or its folder is read-only. "
                      "Check their permissions; what only reads it (searching, showing) still "
                      "works."),
                   store->path);
      return FALSE;
    }
  /* A WAL database in a folder this user cannot write (read-only media, another user's
   * gallery) cannot get its -shm: read it as an unchanging file, which needs no lock. No
   * other connection of this process has the file open (it would have been shared), so
   * its descriptor can be closed freely. */
  if (conn->read_only &&
      !gallery_store_query_int (store, "PRAGMA application_id", &app_id, &local_error))
    {
      int code = sqlite3_extended_errcode (conn->db);

      if ((code & 0xff) == SQLITE_READONLY || (code & 0xff) == SQLITE_CANTOPEN)
        {
          g_autofree char *uri = immutable_uri (store->path);

          g_clear_error (&local_error);
          g_clear_pointer (&conn->db, sqlite3_close_v2);
          if (!store_sqlite_open (store, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, error))
            return FALSE;
        }
      g_clear_error (&local_error);
    }

  /* Read-only questions first: nothing is written before we know the file is ours. One
   * read transaction, so that the answers agree while another process creates the gallery. */
  if (!gallery_store_exec (store, "BEGIN", &local_error) ||
      !gallery_store_query_int (store, "PRAGMA application_id", &app_id, &local_error) ||
      !gallery_store_query_int (store, "PRAGMA user_version", &version, &local_error) ||
      !gallery_store_query_int (store, "SELECT count(*) FROM sqlite_schema", &n_objects,
                                &local_error) ||
      !gallery_store_exec (store, "COMMIT", &local_error))
    {
      if (!sqlite3_get_autocommit (conn->db))
        gallery_store_exec (store, "ROLLBACK", NULL);
      if (g_error_matches (local_error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT))
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_A_DATABASE,
                       _ ("“%s” is not a Depict gallery, or it is damaged beyond reading. It was "
                          "left untouched: move it aside to start a new gallery, or restore it "
                          "from a backup."),
                       store->path);
          return FALSE;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  if (app_id != GALLERY_STORE_APPLICATION_ID && !(app_id == 0 && n_objects == 0 && version == 0))
    {
      set_refused (error, PROBE_FOREIGN, store->path);
      return FALSE;
    }
  if (version > GALLERY_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_TOO_NEW,
                   _ ("The gallery “%s” was written by a newer version of Depict (schema %d; "
                      "this version knows up to %d). It was left untouched: update Depict to "
                      "open it."),
                   store->path, (int) version, GALLERY_STORE_SCHEMA_VERSION);
      return FALSE;
    }
  if (app_id == GALLERY_STORE_APPLICATION_ID)
    {
      gint64 n_expected = 0;

      check =
        g_string_new ("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN (");
      for (gsize i = 0; i < G_N_ELEMENTS (expected_tables); i++)
        if (expected_tables[i].since <= version)
          {
            g_string_append_printf (check, "%s'%s'", n_expected > 0 ? "," : "",
                                    expected_tables[i].name);
            n_expected++;
          }
      g_string_append (check, ")");
      if (version < 1 || !gallery_store_query_int (store, check->str, &n_tables, NULL) ||
          n_tables != n_expected)
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT,
                       _ ("The gallery “%s” is damaged: some of its tables are missing. It was "
                          "left untouched: move it aside to start a new gallery, or restore it "
                          "from a backup."),
                       store->path);
          return FALSE;
        }
    }

  if (conn->read_only)
    {
      if (app_id == 0)
        {
          /* An empty file: a gallery another process is creating right now, or one that
           * never got a photo. */
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND,
                       _ ("The gallery “%s” is empty: nothing has been stored in it yet. Tag "
                          "some photos first, or give the right gallery file."),
                       store->path);
          return FALSE;
        }
      if (version < GALLERY_STORE_SCHEMA_VERSION)
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY,
                       _ ("The gallery “%s” was made by an older version of Depict and must be "
                          "upgraded, which needs write access. Open it once without the "
                          "read-only option."),
                       store->path);
          return FALSE;
        }
      return gallery_store_exec (store, "PRAGMA query_only = ON", error);
    }

  /* WAL only once the gallery is known to be readable and current: switching the journal
   * mode rewrites the file header, and a gallery whose migration fails (a damaged page)
   * must be left untouched. A new gallery gets its schema and application id in one
   * transaction in rollback mode, so other processes see it empty or whole. */
  return gallery_store_exec (store, "PRAGMA synchronous = NORMAL", error) &&
         gallery_store_exec (store, "PRAGMA foreign_keys = ON", error) &&
         store_migrate (store, error) &&
         gallery_store_exec (store, "PRAGMA journal_mode = WAL", error);
}

static void
store_free (GalleryStore *store)
{
  g_free (store->path);
  g_free (store);
}

GalleryStore *
gallery_store_open_full (const char *path, GalleryStoreFlags flags, GError **error)
{
  GalleryStore *store;
  g_autofree char *real = NULL;
  g_autofree char *rw_key = NULL;
  g_autofree char *ro_key = NULL;
  g_autoptr (GMutexLocker) locker = NULL;
  StoreConnection *conn;

  store = g_new0 (GalleryStore, 1);
  store->read_only = (flags & GALLERY_STORE_READ_ONLY) != 0;
  store->path = path != NULL ? g_strdup (path) : gallery_store_default_path ();

  if (!store->read_only)
    {
      g_autofree char *dir = g_path_get_dirname (store->path);

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_IO,
                       _ ("Could not create the folder “%s” for the gallery (%s). Check its "
                          "permissions."),
                       dir, g_strerror (saved_errno));
          store_free (store);
          return NULL;
        }
    }

  real = real_path (store->path);
  rw_key = g_strconcat ("rw:", real, NULL);
  ro_key = g_strconcat ("ro:", real, NULL);
  locker = g_mutex_locker_new (&registry_lock);
  if (registry == NULL)
    registry = g_hash_table_new (g_str_hash, g_str_equal);

  /* A writable connection serves every store of the process; a read-only one serves
   * read-only stores while no writable one exists. */
  conn = g_hash_table_lookup (registry, rw_key);
  if (conn == NULL && store->read_only)
    conn = g_hash_table_lookup (registry, ro_key);
  if (conn != NULL)
    {
      conn->refs++;
      store->conn = conn;
      return store;
    }

  conn = g_new0 (StoreConnection, 1);
  g_rec_mutex_init (&conn->lock);
  conn->read_only = store->read_only;
  conn->key = g_strdup (store->read_only ? ro_key : rw_key);
  conn->refs = 1;
  conn->statements =
    g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, finalize_statement);
  store->conn = conn;
  if (!store_connect (store, error))
    {
      while (store->tx_depth > 0)
        gallery_store_rollback (store);
      connection_free (conn);
      store_free (store);
      return NULL;
    }
  g_hash_table_insert (registry, conn->key, conn);
  return store;
}

GalleryStore *
gallery_store_open (const char *path, GError **error)
{
  return gallery_store_open_full (path, GALLERY_STORE_FLAGS_NONE, error);
}

void
gallery_store_close (GalleryStore *store)
{
  StoreConnection *conn;

  if (store == NULL)
    return;
  conn = store->conn;
  g_mutex_lock (&registry_lock);
  while (store->tx_depth > 0)
    gallery_store_rollback (store);
  if (--conn->refs == 0)
    {
      g_hash_table_remove (registry, conn->key);
      connection_free (conn);
    }
  g_mutex_unlock (&registry_lock);
  store_free (store);
}

const char *
gallery_store_get_path (GalleryStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->path;
}
