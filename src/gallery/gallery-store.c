/* gallery-store.c: the SQLite store of images, runs, tags and their full-text index
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
 * A database is only ever migrated forward, inside one transaction.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <gexiv2/gexiv2.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gallery/gallery-result.h"
#include "gallery/gallery-store-private.h"
#include "florence/files/florence-json.h"

struct _GalleryStore {
  sqlite3 *db;
  char *path;
  gboolean read_only;
  int tx_depth;
  GHashTable *statements; /* static SQL string → sqlite3_stmt */
};

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
static const char *const migrations[] = {
  schema_v1,
  migrate_v1_v2,
};
G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == GALLERY_STORE_SCHEMA_VERSION);

static const char *const expected_tables[] = {
  "images", "image_paths", "runs", "tags", "image_text", "image_fts",
};

G_DEFINE_QUARK (gallery - store - error - quark, gallery_store_error)

/* ------------------------------------------------------------------------------------------ */
/* Helpers shared with gallery-search.c                                                        */

sqlite3 *
gallery_store_get_db (GalleryStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->db;
}

void
gallery_store_set_sqlite_error (GalleryStore *store, int rc, GError **error)
{
  const char *path = store != NULL && store->path != NULL ? store->path : "";
  const char *detail;

  if (store != NULL && store->db != NULL && sqlite3_errcode (store->db) == rc)
    detail = sqlite3_errmsg (store->db);
  else
    detail = sqlite3_errstr (rc);

  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_FULL,
                   _ ("The disk that holds the gallery “%s” is full (%s), so the change was not "
                      "saved; what was stored before is intact. Free some space and try again."),
                   path, detail);
      break;
    case SQLITE_READONLY:
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY,
                   _ ("The gallery “%s” cannot be written (%s). Check that the file and its "
                      "folder are writable, or use another database with --db."),
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
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_BUSY,
                   _ ("The gallery “%s” is locked by another program (%s). Wait for the other "
                      "Depict window or command to finish and try again."),
                   path, detail);
      break;
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_IO,
                   _ ("The gallery “%s” could not be read or written (%s). Check the disk and "
                      "the permissions of the file and its folder."),
                   path, detail);
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
  sqlite3_stmt *stmt = g_hash_table_lookup (store->statements, sql);
  int rc;

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  rc = sqlite3_prepare_v3 (store->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      sqlite3_finalize (stmt);
      return NULL;
    }
  g_hash_table_insert (store->statements, (gpointer) sql, stmt);
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

static gboolean
store_exec (GalleryStore *store, const char *sql, GError **error)
{
  int rc = sqlite3_exec (store->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return FALSE;
    }
  return TRUE;
}

/* Steps a statement that returns no rows; resets it. */
static gboolean
store_step_done (GalleryStore *store, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return FALSE;
    }
  return TRUE;
}

/* Runs a one-row, one-integer query (PRAGMA or SELECT). */
static gboolean
store_query_int (GalleryStore *store, const char *sql, gint64 *out, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (store->db, sql, -1, &stmt, NULL);

  if (rc == SQLITE_OK)
    {
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          *out = sqlite3_column_int64 (stmt, 0);
          rc = SQLITE_OK;
        }
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_OK)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return FALSE;
    }
  return TRUE;
}

static gboolean
store_check_writable (GalleryStore *store, GError **error)
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

/* ------------------------------------------------------------------------------------------ */
/* Transactions                                                                                */

gboolean
gallery_store_begin (GalleryStore *store, GError **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!store_check_writable (store, error))
    return FALSE;
  if (store->tx_depth == 0 && !sqlite3_get_autocommit (store->db))
    store_exec (store, "ROLLBACK", NULL); /* left over from a failed statement */
  sql = store->tx_depth == 0 ? g_strdup ("BEGIN IMMEDIATE")
                             : g_strdup_printf ("SAVEPOINT depict_%d", store->tx_depth);
  if (!store_exec (store, sql, error))
    return FALSE;
  store->tx_depth++;
  return TRUE;
}

void
gallery_store_rollback (GalleryStore *store)
{
  g_return_if_fail (store != NULL);

  if (store->tx_depth <= 0)
    return;
  store->tx_depth--;
  /* SQLite rolls the whole transaction back by itself after some errors (a full disk). */
  if (sqlite3_get_autocommit (store->db))
    return;
  if (store->tx_depth == 0)
    store_exec (store, "ROLLBACK", NULL);
  else
    {
      g_autofree char *sql = g_strdup_printf ("ROLLBACK TO depict_%d; RELEASE depict_%d",
                                              store->tx_depth, store->tx_depth);
      store_exec (store, sql, NULL);
    }
}

gboolean
gallery_store_commit (GalleryStore *store, GError **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (store->tx_depth > 0, FALSE);

  sql = store->tx_depth == 1 ? g_strdup ("COMMIT")
                             : g_strdup_printf ("RELEASE depict_%d", store->tx_depth - 1);
  if (!store_exec (store, sql, error))
    {
      gallery_store_rollback (store);
      return FALSE;
    }
  store->tx_depth--;
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Opening                                                                                     */

char *
gallery_store_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "depict", "gallery.db", NULL);
}

/* Looks at the first bytes of an existing file: anything that is not a SQLite 3 database
 * is refused before SQLite touches it. */
static gboolean
check_file_header (const char *path, GError **error)
{
  static const char magic[16] = "SQLite format 3";
  guint8 header[100];
  FILE *f = g_fopen (path, "rb");
  size_t n;

  if (f == NULL)
    return TRUE; /* does not exist (yet): SQLite reports other problems */
  n = fread (header, 1, sizeof header, f);
  fclose (f);
  if (n == 0)
    return TRUE; /* an empty file is an empty database */
  if (n < sizeof header || memcmp (header, magic, sizeof magic) != 0)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_A_DATABASE,
                   _ ("“%s” is not a Depict gallery (it is not a SQLite database at all). It was "
                      "left untouched: choose another file with --db, or move it aside."),
                   path);
      return FALSE;
    }
  return TRUE;
}

static void
store_free (GalleryStore *store)
{
  if (store->statements != NULL)
    g_hash_table_destroy (store->statements);
  if (store->db != NULL)
    sqlite3_close_v2 (store->db);
  g_free (store->path);
  g_free (store);
}

void
gallery_store_close (GalleryStore *store)
{
  if (store == NULL)
    return;
  while (store->tx_depth > 0)
    gallery_store_rollback (store);
  store_free (store);
}

const char *
gallery_store_get_path (GalleryStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->path;
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
  if (!store_query_int (store, "PRAGMA user_version", &version, error))
    goto fail;
  if (version >= GALLERY_STORE_SCHEMA_VERSION)
    return gallery_store_commit (store, error);

  for (gint64 v = version; v < GALLERY_STORE_SCHEMA_VERSION; v++)
    if (!store_exec (store, migrations[v], error))
      goto fail;

  set_version = g_strdup_printf ("PRAGMA user_version = %d", GALLERY_STORE_SCHEMA_VERSION);
  set_app_id = g_strdup_printf ("PRAGMA application_id = %d", GALLERY_STORE_APPLICATION_ID);
  if (!store_exec (store, set_version, error) || !store_exec (store, set_app_id, error))
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

GalleryStore *
gallery_store_open_full (const char *path, GalleryStoreFlags flags, GError **error)
{
  g_autoptr (GalleryStore) store = NULL;
  g_autofree char *dir = NULL;
  gint64 app_id = 0, version = 0, n_objects = 0, n_tables = 0;
  g_autoptr (GString) check = NULL;
  g_autoptr (GError) local_error = NULL;
  int open_flags;
  int rc;

  store = g_new0 (GalleryStore, 1);
  store->read_only = (flags & GALLERY_STORE_READ_ONLY) != 0;
  store->path = path != NULL ? g_strdup (path) : gallery_store_default_path ();
  store->statements =
    g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, finalize_statement);

  if (!check_file_header (store->path, error))
    return NULL;

  if (!store->read_only)
    {
      dir = g_path_get_dirname (store->path);
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_IO,
                       _ ("Could not create the folder “%s” for the gallery (%s). Check its "
                          "permissions, or choose another database with --db."),
                       dir, g_strerror (saved_errno));
          return NULL;
        }
    }
  else if (!g_file_test (store->path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND,
                   _ ("There is no gallery at “%s” yet. Tag some photos first (depict-cli tag), "
                      "or give the right database with --db."),
                   store->path);
      return NULL;
    }

  open_flags = store->read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  rc = sqlite3_open_v2 (store->path, &store->db, open_flags | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return NULL;
    }
  sqlite3_extended_result_codes (store->db, 1);
  sqlite3_busy_timeout (store->db, 5000);

  /* Read-only questions first: nothing is written before we know the file is ours. */
  if (!store_query_int (store, "PRAGMA application_id", &app_id, &local_error) ||
      !store_query_int (store, "PRAGMA user_version", &version, &local_error) ||
      !store_query_int (store, "SELECT count(*) FROM sqlite_schema", &n_objects, &local_error))
    {
      if (g_error_matches (local_error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT))
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_A_DATABASE,
                       _ ("“%s” is not a Depict gallery, or it is damaged beyond reading. It was "
                          "left untouched: move it aside to start a new gallery, or restore it "
                          "from a backup."),
                       store->path);
          return NULL;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  if (app_id != GALLERY_STORE_APPLICATION_ID && !(app_id == 0 && n_objects == 0 && version == 0))
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_FOREIGN,
                   _ ("“%s” is a database of another program, not a Depict gallery. It was left "
                      "untouched: choose another file with --db."),
                   store->path);
      return NULL;
    }
  if (version > GALLERY_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_TOO_NEW,
                   _ ("The gallery “%s” was written by a newer version of Depict (schema %d; "
                      "this version knows up to %d). It was left untouched: update Depict to "
                      "open it."),
                   store->path, (int) version, GALLERY_STORE_SCHEMA_VERSION);
      return NULL;
    }
  if (app_id == GALLERY_STORE_APPLICATION_ID)
    {
      check = g_string_new ("SELECT count(*) FROM sqlite_schema WHERE name IN (");
      for (gsize i = 0; i < G_N_ELEMENTS (expected_tables); i++)
        g_string_append_printf (check, "%s'%s'", i > 0 ? "," : "", expected_tables[i]);
      g_string_append (check, ")");
      if (version < 1 || !store_query_int (store, check->str, &n_tables, NULL) ||
          n_tables != G_N_ELEMENTS (expected_tables))
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_CORRUPT,
                       _ ("The gallery “%s” is damaged: some of its tables are missing. It was "
                          "left untouched: move it aside to start a new gallery, or restore it "
                          "from a backup."),
                       store->path);
          return NULL;
        }
    }

  if (store->read_only)
    {
      if (version < GALLERY_STORE_SCHEMA_VERSION)
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY,
                       _ ("The gallery “%s” was made by an older version of Depict and must be "
                          "upgraded, which needs write access. Open it once without the "
                          "read-only option."),
                       store->path);
          return NULL;
        }
      if (!store_exec (store, "PRAGMA query_only = ON", error))
        return NULL;
    }
  else
    {
      /* WAL only once the gallery is known to be readable and current: switching the
       * journal mode rewrites the file header, and a gallery whose migration fails (a
       * damaged page) must be left untouched. */
      if (!store_exec (store, "PRAGMA synchronous = NORMAL", error) ||
          !store_exec (store, "PRAGMA foreign_keys = ON", error) || !store_migrate (store, error) ||
          !store_exec (store, "PRAGMA journal_mode = WAL", error))
        return NULL;
    }
  return g_steal_pointer (&store);
}

GalleryStore *
gallery_store_open (const char *path, GError **error)
{
  return gallery_store_open_full (path, GALLERY_STORE_FLAGS_NONE, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Images                                                                                      */

char *
gallery_store_hash_file (const char *path, gint64 *out_size, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFileInputStream) stream = NULL;
  g_autoptr (GChecksum) checksum = NULL;
  g_autofree guint8 *buffer = NULL;
  gint64 size = 0;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_file_new_for_path (path);
  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    return NULL;
  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  buffer = g_malloc (256 * 1024);
  for (;;)
    {
      gssize n =
        g_input_stream_read (G_INPUT_STREAM (stream), buffer, 256 * 1024, cancellable, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      g_checksum_update (checksum, buffer, n);
      size += n;
    }
  if (out_size != NULL)
    *out_size = size;
  return g_strdup (g_checksum_get_string (checksum));
}

static gpointer
init_gexiv2 (gpointer data)
{
  gexiv2_initialize ();
  return NULL;
}

/* Pixel size and EXIF orientation from the file's metadata; zeros when unknown. */
static void
read_image_geometry (const char *path, int *width, int *height, int *orientation)
{
  static GOnce once = G_ONCE_INIT;
  g_autoptr (GExiv2Metadata) metadata = NULL;
  GExiv2Orientation o;

  *width = *height = 0;
  *orientation = 1;
  g_once (&once, init_gexiv2, NULL);
  metadata = gexiv2_metadata_new ();
  if (!gexiv2_metadata_open_path (metadata, path, NULL))
    return;
  *width = MAX (gexiv2_metadata_get_pixel_width (metadata), 0);
  *height = MAX (gexiv2_metadata_get_pixel_height (metadata), 0);
  o = gexiv2_metadata_try_get_orientation (metadata, NULL);
  if (o >= GEXIV2_ORIENTATION_NORMAL && o <= GEXIV2_ORIENTATION_ROT_270)
    *orientation = o;
}

static const char sql_path_lookup[] =
  "SELECT image_id, size, mtime FROM image_paths WHERE path = ?1";
static const char sql_path_seen[] = "UPDATE image_paths SET seen = ?2 WHERE path = ?1";
static const char sql_image_by_hash[] = "SELECT id FROM images WHERE hash = ?1";
static const char sql_image_insert[] =
  "INSERT INTO images (hash, size, width, height, orientation, added)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
static const char sql_path_upsert[] =
  "INSERT INTO image_paths (path, image_id, size, mtime, seen) VALUES (?1, ?2, ?3, ?4, ?5)"
  " ON CONFLICT (path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size,"
  " mtime = excluded.mtime, seen = excluded.seen";

/* "seen" orders the paths of an image; microseconds keep two quick moves apart. */
static gint64
now_seen (void)
{
  return g_get_real_time ();
}

gint64
gallery_store_add_image (GalleryStore *store, const char *path, GCancellable *cancellable,
                         GError **error)
{
  g_autofree char *canonical = NULL;
  g_autofree char *hash = NULL;
  GStatBuf st;
  sqlite3_stmt *stmt;
  gint64 image_id = 0, size = 0;
  int width, height, orientation, rc;

  g_return_val_if_fail (store != NULL, 0);
  g_return_val_if_fail (path != NULL, 0);

  if (!store_check_writable (store, error))
    return 0;
  canonical = g_canonicalize_filename (path, NULL);
  if (g_stat (canonical, &st) != 0 || !S_ISREG (st.st_mode))
    {
      int saved_errno = errno;
      gboolean exists = g_stat (canonical, &st) == 0;

      g_set_error (error, G_IO_ERROR,
                   exists ? G_IO_ERROR_NOT_REGULAR_FILE : g_io_error_from_errno (saved_errno),
                   _ ("Could not read the photo “%s” (%s). Check that it exists and is a file."),
                   canonical, exists ? _ ("not a regular file") : g_strerror (saved_errno));
      return 0;
    }

  /* A known path with the same size and time: the same content, no need to hash it. */
  if ((stmt = gallery_store_prepare (store, sql_path_lookup, error)) == NULL)
    return 0;
  gallery_store_bind_text (stmt, 1, canonical);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW && sqlite3_column_int64 (stmt, 1) == (gint64) st.st_size &&
      sqlite3_column_int64 (stmt, 2) == (gint64) st.st_mtime)
    {
      image_id = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
      if ((stmt = gallery_store_prepare (store, sql_path_seen, error)) == NULL)
        return 0;
      gallery_store_bind_text (stmt, 1, canonical);
      sqlite3_bind_int64 (stmt, 2, now_seen ());
      return store_step_done (store, stmt, error) ? image_id : 0;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return 0;
    }

  hash = gallery_store_hash_file (canonical, &size, cancellable, error);
  if (hash == NULL)
    return 0;
  read_image_geometry (canonical, &width, &height, &orientation);

  if (!gallery_store_begin (store, error))
    return 0;
  if ((stmt = gallery_store_prepare (store, sql_image_by_hash, error)) == NULL)
    goto fail;
  gallery_store_bind_text (stmt, 1, hash);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    image_id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      goto fail;
    }
  if (image_id == 0)
    {
      if ((stmt = gallery_store_prepare (store, sql_image_insert, error)) == NULL)
        goto fail;
      gallery_store_bind_text (stmt, 1, hash);
      sqlite3_bind_int64 (stmt, 2, size);
      sqlite3_bind_int (stmt, 3, width);
      sqlite3_bind_int (stmt, 4, height);
      sqlite3_bind_int (stmt, 5, orientation);
      sqlite3_bind_int64 (stmt, 6, g_get_real_time () / G_USEC_PER_SEC);
      if (!store_step_done (store, stmt, error))
        goto fail;
      image_id = sqlite3_last_insert_rowid (store->db);
    }
  if ((stmt = gallery_store_prepare (store, sql_path_upsert, error)) == NULL)
    goto fail;
  gallery_store_bind_text (stmt, 1, canonical);
  sqlite3_bind_int64 (stmt, 2, image_id);
  sqlite3_bind_int64 (stmt, 3, (gint64) st.st_size);
  sqlite3_bind_int64 (stmt, 4, (gint64) st.st_mtime);
  sqlite3_bind_int64 (stmt, 5, now_seen ());
  if (!store_step_done (store, stmt, error))
    goto fail;
  if (!gallery_store_commit (store, error))
    return 0;
  return image_id;

fail:
  gallery_store_rollback (store);
  return 0;
}

static const char sql_path_refresh[] =
  "UPDATE image_paths SET size = ?3, mtime = ?4, seen = ?5 WHERE path = ?1 AND image_id = ?2";

gboolean
gallery_store_refresh_path (GalleryStore *store, gint64 image_id, const char *path, GError **error)
{
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  sqlite3_stmt *stmt;
  GStatBuf st;

  if (g_stat (canonical, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _ ("Could not read the photo “%s” (%s). Check that it exists and is a file."),
                   canonical, g_strerror (saved_errno));
      return FALSE;
    }
  if ((stmt = gallery_store_prepare (store, sql_path_refresh, error)) == NULL)
    return FALSE;
  gallery_store_bind_text (stmt, 1, canonical);
  sqlite3_bind_int64 (stmt, 2, image_id);
  sqlite3_bind_int64 (stmt, 3, (gint64) st.st_size);
  sqlite3_bind_int64 (stmt, 4, (gint64) st.st_mtime);
  sqlite3_bind_int64 (stmt, 5, now_seen ());
  return store_step_done (store, stmt, error);
}

void
gallery_image_free (GalleryImage *image)
{
  if (image == NULL)
    return;
  g_free (image->hash);
  g_strfreev (image->paths);
  g_free (image);
}

static const char sql_image_get[] =
  "SELECT id, hash, size, width, height, orientation, added FROM images WHERE id = ?1";
static const char sql_image_paths[] =
  "SELECT path, mtime FROM image_paths WHERE image_id = ?1 ORDER BY seen DESC, path";

GalleryImage *
gallery_store_get_image (GalleryStore *store, gint64 image_id, GError **error)
{
  g_autoptr (GalleryImage) image = NULL;
  g_autoptr (GPtrArray) paths = NULL;
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  if ((stmt = gallery_store_prepare (store, sql_image_get, error)) == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, image_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      image = g_new0 (GalleryImage, 1);
      image->id = sqlite3_column_int64 (stmt, 0);
      image->hash = gallery_store_column_dup (stmt, 1);
      image->size = sqlite3_column_int64 (stmt, 2);
      image->width = sqlite3_column_int (stmt, 3);
      image->height = sqlite3_column_int (stmt, 4);
      image->orientation = sqlite3_column_int (stmt, 5);
      image->added = sqlite3_column_int64 (stmt, 6);
    }
  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND,
                   _ ("The gallery has no image number %" PRId64 ". It may have been "
                      "removed; search again."),
                   image_id);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return NULL;
    }

  if ((stmt = gallery_store_prepare (store, sql_image_paths, error)) == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, image_id);
  paths = g_ptr_array_new_with_free_func (g_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (paths->len == 0)
        image->mtime = sqlite3_column_int64 (stmt, 1);
      g_ptr_array_add (paths, gallery_store_column_dup (stmt, 0));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return NULL;
    }
  g_ptr_array_add (paths, NULL);
  image->paths = (GStrv) g_ptr_array_free (g_steal_pointer (&paths), FALSE);
  return g_steal_pointer (&image);
}

static const char sql_find_by_path[] = "SELECT image_id FROM image_paths WHERE path = ?1";
static const char sql_find_by_hash_prefix[] =
  "SELECT id FROM images WHERE hash >= ?1 AND hash < ?1 || 'g' ORDER BY hash LIMIT 2";

/* image id for a query statement with one text parameter; 0 = none, -1 = error, -2 = two */
static gint64
find_one (GalleryStore *store, const char *sql, const char *arg, GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql, error);
  gint64 id = 0;
  int rc, n = 0;

  if (stmt == NULL)
    return -1;
  gallery_store_bind_text (stmt, 1, arg);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      id = sqlite3_column_int64 (stmt, 0);
      n++;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return -1;
    }
  return n > 1 ? -2 : id;
}

static gboolean
is_hex_prefix (const char *s)
{
  gsize n = strlen (s);

  if (n < 8 || n > 64)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isxdigit (s[i]) || g_ascii_isupper (s[i]))
      return FALSE;
  return TRUE;
}

GalleryImage *
gallery_store_find_image (GalleryStore *store, const char *path_or_hash, GError **error)
{
  g_autofree char *canonical = NULL;
  gint64 id;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (path_or_hash != NULL, NULL);

  canonical = g_canonicalize_filename (path_or_hash, NULL);
  id = find_one (store, sql_find_by_path, canonical, error);
  if (id < 0)
    return NULL;
  if (id == 0 && g_file_test (canonical, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *hash = gallery_store_hash_file (canonical, NULL, NULL, error);

      if (hash == NULL)
        return NULL;
      id = find_one (store, sql_image_by_hash, hash, error);
      if (id < 0)
        return NULL;
    }
  if (id == 0 && is_hex_prefix (path_or_hash))
    {
      id = find_one (store, sql_find_by_hash_prefix, path_or_hash, error);
      if (id == -1)
        return NULL;
      if (id == -2)
        {
          g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND,
                       _ ("Several images have a hash that starts with “%s”. Give more digits."),
                       path_or_hash);
          return NULL;
        }
    }
  if (id == 0)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND,
                   _ ("“%s” is not in the gallery. Tag it first with “depict-cli tag”."),
                   path_or_hash);
      return NULL;
    }
  return gallery_store_get_image (store, id, error);
}

void
gallery_store_folder_range (const char *folder, char **lo, char **hi)
{
  g_autofree char *canonical = g_canonicalize_filename (folder, NULL);

  if (g_str_has_suffix (canonical, "/"))
    *lo = g_strdup (canonical);
  else
    *lo = g_strconcat (canonical, "/", NULL);
  *hi = g_strdup (*lo);
  (*hi)[strlen (*hi) - 1] = '/' + 1;
}

static const char sql_list_images[] =
  "SELECT id, hash, size, width, height, orientation, added FROM images"
  " ORDER BY added DESC, id DESC";
static const char sql_list_images_in[] =
  "SELECT id, hash, size, width, height, orientation, added FROM images i"
  " WHERE EXISTS (SELECT 1 FROM image_paths p"
  " WHERE p.image_id = i.id AND p.path >= ?1 AND p.path < ?2) ORDER BY added DESC, id DESC";
static const char sql_list_paths[] =
  "SELECT image_id, path, mtime FROM image_paths ORDER BY image_id, seen DESC, path";

static void
free_ptr_array (gpointer array)
{
  g_ptr_array_unref (array);
}

GPtrArray *
gallery_store_list_images (GalleryStore *store, const char *folder, GError **error)
{
  g_autoptr (GPtrArray) images =
    g_ptr_array_new_with_free_func ((GDestroyNotify) gallery_image_free);
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GHashTable) paths =
    g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, free_ptr_array);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  /* Two queries for the whole library, not two per image. */
  stmt =
    gallery_store_prepare (store, folder != NULL ? sql_list_images_in : sql_list_images, error);
  if (stmt == NULL)
    return NULL;
  if (folder != NULL)
    {
      g_autofree char *lo = NULL, *hi = NULL;

      gallery_store_folder_range (folder, &lo, &hi);
      gallery_store_bind_text (stmt, 1, lo);
      gallery_store_bind_text (stmt, 2, hi);
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GalleryImage *image = g_new0 (GalleryImage, 1);

      image->id = sqlite3_column_int64 (stmt, 0);
      image->hash = gallery_store_column_dup (stmt, 1);
      image->size = sqlite3_column_int64 (stmt, 2);
      image->width = sqlite3_column_int (stmt, 3);
      image->height = sqlite3_column_int (stmt, 4);
      image->orientation = sqlite3_column_int (stmt, 5);
      image->added = sqlite3_column_int64 (stmt, 6);
      g_ptr_array_add (images, image);
      g_hash_table_insert (by_id, &image->id, image);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return NULL;
    }

  if ((stmt = gallery_store_prepare (store, sql_list_paths, error)) == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      GalleryImage *image = g_hash_table_lookup (by_id, &id);
      GPtrArray *list;

      if (image == NULL)
        continue;
      list = g_hash_table_lookup (paths, &id);
      if (list == NULL)
        {
          list = g_ptr_array_new ();
          g_hash_table_insert (paths, g_memdup2 (&id, sizeof id), list);
          image->mtime = sqlite3_column_int64 (stmt, 2);
        }
      g_ptr_array_add (list, gallery_store_column_dup (stmt, 1));
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return NULL;
    }
  for (guint i = 0; i < images->len; i++)
    {
      GalleryImage *image = g_ptr_array_index (images, i);
      GPtrArray *list = g_hash_table_lookup (paths, &image->id);

      if (list == NULL)
        {
          image->paths = g_new0 (char *, 1);
          continue;
        }
      g_ptr_array_add (list, NULL);
      image->paths = g_memdup2 (list->pdata, list->len * sizeof (char *));
    }
  return g_steal_pointer (&images);
}

/* ------------------------------------------------------------------------------------------ */
/* Runs                                                                                        */

static const char sql_has_run[] =
  "SELECT 1 FROM runs WHERE image_id = ?1 AND task = ?2 AND model_name = ?3"
  " AND weights_hash = ?4 AND num_beams = ?5 AND max_new_tokens = ?6 AND text_input = ?7"
  " LIMIT 1";

gboolean
gallery_store_has_run (GalleryStore *store, gint64 image_id, const GalleryRun *key,
                       gboolean *out_found, GError **error)
{
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (key != NULL && key->task != NULL, FALSE);
  g_return_val_if_fail (out_found != NULL, FALSE);

  if ((stmt = gallery_store_prepare (store, sql_has_run, error)) == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, image_id);
  gallery_store_bind_text (stmt, 2, key->task);
  gallery_store_bind_text (stmt, 3, key->model_name != NULL ? key->model_name : "");
  gallery_store_bind_text (stmt, 4, key->weights_hash != NULL ? key->weights_hash : "");
  sqlite3_bind_int (stmt, 5, key->num_beams);
  sqlite3_bind_int (stmt, 6, key->max_new_tokens);
  gallery_store_bind_text (stmt, 7, key->text_input != NULL ? key->text_input : "");
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return FALSE;
    }
  *out_found = rc == SQLITE_ROW;
  return TRUE;
}

static const char sql_run_insert[] =
  "INSERT INTO runs (image_id, task, text_input, model_name, weights_hash, num_beams,"
  " max_new_tokens, raw_text, token_ids, result, timings, created, text_caption, text_ocr,"
  " text_labels) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
static const char sql_tag_propose[] =
  "INSERT INTO tags (image_id, name, run_id, source, removed) VALUES (?1, ?2, ?3, ?4, 0)"
  " ON CONFLICT (image_id, name) DO NOTHING";
static const char sql_image_size_fill[] =
  "UPDATE images SET width = ?2, height = ?3 WHERE id = ?1 AND width = 0 AND height = 0";
static const char sql_refresh_text[] =
  "INSERT INTO image_text (image_id, captions, ocr, labels, tags) VALUES (?1,"
  " coalesce ((SELECT group_concat (t, char (10)) FROM (SELECT DISTINCT text_caption AS t"
  "   FROM runs WHERE image_id = ?1 AND text_caption <> '' ORDER BY id)), ''),"
  " coalesce ((SELECT group_concat (t, char (10)) FROM (SELECT DISTINCT text_ocr AS t"
  "   FROM runs WHERE image_id = ?1 AND text_ocr <> '' ORDER BY id)), ''),"
  " coalesce ((SELECT group_concat (name, '; ') FROM (SELECT name FROM tags"
  "   WHERE image_id = ?1 AND removed = 0 AND source <> 2 ORDER BY name)), ''),"
  " coalesce ((SELECT group_concat (name, '; ') FROM (SELECT name FROM tags"
  "   WHERE image_id = ?1 AND removed = 0 AND source = 2 ORDER BY name)), ''))"
  " ON CONFLICT (image_id) DO UPDATE SET captions = excluded.captions, ocr = excluded.ocr,"
  " labels = excluded.labels, tags = excluded.tags"
  " WHERE captions IS NOT excluded.captions OR ocr IS NOT excluded.ocr"
  " OR labels IS NOT excluded.labels OR tags IS NOT excluded.tags";

/* Rebuilds the searchable document of one image (the triggers keep image_fts in step):
 * captions and OCR text of its runs, its labels (the tags the model proposed, so that a
 * label the person removed is no longer found) and the tags the person added. */
static gboolean
refresh_text (GalleryStore *store, gint64 image_id, GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql_refresh_text, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, image_id);
  return store_step_done (store, stmt, error);
}

static char *
json_node_to_string (JsonNode *node, const char *fallback)
{
  if (node == NULL)
    return g_strdup (fallback);
  return json_to_string (node, FALSE);
}

gint64
gallery_store_add_run (GalleryStore *store, gint64 image_id, GalleryRun *run, GError **error)
{
  g_autoptr (GalleryResultText) text = NULL;
  g_autofree char *ids = NULL;
  g_autofree char *result = NULL;
  g_autofree char *timings = NULL;
  sqlite3_stmt *stmt;
  gint64 run_id;

  g_return_val_if_fail (store != NULL, 0);
  g_return_val_if_fail (image_id > 0, 0);
  g_return_val_if_fail (run != NULL && run->task != NULL, 0);

  text = gallery_result_extract (run->task, run->result);
  ids = gallery_run_ids_to_json (run->token_ids);
  result = json_node_to_string (run->result, "null");
  timings = json_node_to_string (run->timings, "{}");
  if (run->created == 0)
    run->created = g_get_real_time () / G_USEC_PER_SEC;

  if (!gallery_store_begin (store, error))
    return 0;
  if ((stmt = gallery_store_prepare (store, sql_run_insert, error)) == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, image_id);
  gallery_store_bind_text (stmt, 2, run->task);
  gallery_store_bind_text (stmt, 3, run->text_input != NULL ? run->text_input : "");
  gallery_store_bind_text (stmt, 4, run->model_name != NULL ? run->model_name : "");
  gallery_store_bind_text (stmt, 5, run->weights_hash != NULL ? run->weights_hash : "");
  sqlite3_bind_int (stmt, 6, run->num_beams);
  sqlite3_bind_int (stmt, 7, run->max_new_tokens);
  gallery_store_bind_text (stmt, 8, run->raw_text != NULL ? run->raw_text : "");
  gallery_store_bind_text (stmt, 9, ids);
  gallery_store_bind_text (stmt, 10, result);
  gallery_store_bind_text (stmt, 11, timings);
  sqlite3_bind_int64 (stmt, 12, run->created);
  gallery_store_bind_text (stmt, 13, text->caption);
  gallery_store_bind_text (stmt, 14, text->ocr);
  gallery_store_bind_text (stmt, 15, text->labels);
  if (!store_step_done (store, stmt, error))
    goto fail;
  run_id = sqlite3_last_insert_rowid (store->db);

  for (guint i = 0; i < text->tags->len; i++)
    {
      GalleryTag *tag = g_ptr_array_index (text->tags, i);

      if ((stmt = gallery_store_prepare (store, sql_tag_propose, error)) == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, image_id);
      gallery_store_bind_text (stmt, 2, tag->name);
      sqlite3_bind_int64 (stmt, 3, run_id);
      sqlite3_bind_int (stmt, 4, tag->source);
      if (!store_step_done (store, stmt, error))
        goto fail;
    }
  if (run->image_width > 0 && run->image_height > 0)
    {
      if ((stmt = gallery_store_prepare (store, sql_image_size_fill, error)) == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, image_id);
      sqlite3_bind_int (stmt, 2, run->image_width);
      sqlite3_bind_int (stmt, 3, run->image_height);
      if (!store_step_done (store, stmt, error))
        goto fail;
    }
  if (!refresh_text (store, image_id, error))
    goto fail;
  if (!gallery_store_commit (store, error))
    return 0;
  run->id = run_id;
  run->image_id = image_id;
  return run_id;

fail:
  gallery_store_rollback (store);
  return 0;
}

static const char sql_list_runs[] =
  "SELECT id, task, text_input, model_name, weights_hash, num_beams, max_new_tokens, raw_text,"
  " token_ids, result, timings, created FROM runs WHERE image_id = ?1 ORDER BY created, id";

static JsonNode *
parse_json_or_null (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (text == NULL || !florence_json_load (parser, text, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root != NULL ? json_node_copy (root) : NULL;
}

GPtrArray *
gallery_store_list_runs (GalleryStore *store, gint64 image_id, GError **error)
{
  g_autoptr (GPtrArray) runs = g_ptr_array_new_with_free_func ((GDestroyNotify) gallery_run_free);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  if ((stmt = gallery_store_prepare (store, sql_list_runs, error)) == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, image_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GalleryRun *run = gallery_run_new ();
      const char *ids;

      run->id = sqlite3_column_int64 (stmt, 0);
      run->image_id = image_id;
      run->task = gallery_store_column_dup (stmt, 1);
      run->text_input = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      run->model_name = gallery_store_column_dup (stmt, 3);
      run->weights_hash = gallery_store_column_dup (stmt, 4);
      run->num_beams = sqlite3_column_int (stmt, 5);
      run->max_new_tokens = sqlite3_column_int (stmt, 6);
      run->raw_text = gallery_store_column_dup (stmt, 7);
      ids = (const char *) sqlite3_column_text (stmt, 8);
      run->token_ids = ids != NULL ? gallery_run_ids_from_json (ids, NULL) : NULL;
      run->result = parse_json_or_null ((const char *) sqlite3_column_text (stmt, 9));
      run->timings = parse_json_or_null ((const char *) sqlite3_column_text (stmt, 10));
      run->created = sqlite3_column_int64 (stmt, 11);
      g_ptr_array_add (runs, run);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return NULL;
    }
  return g_steal_pointer (&runs);
}

gint64
gallery_store_count_runs (GalleryStore *store, GError **error)
{
  gint64 n = 0;

  g_return_val_if_fail (store != NULL, -1);
  return store_query_int (store, "SELECT count(*) FROM runs", &n, error) ? n : -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Tags                                                                                        */

char *
gallery_tag_normalize (const char *name)
{
  g_autofree char *folded = NULL;
  GString *out;
  gboolean space = TRUE;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    return NULL;
  folded = g_utf8_strdown (name, -1);
  out = g_string_new (NULL);
  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
        {
          if (!space)
            g_string_append_c (out, ' ');
          space = TRUE;
          continue;
        }
      g_string_append_unichar (out, c);
      space = FALSE;
    }
  if (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

const char *
gallery_tag_source_to_string (GalleryTagSource source)
{
  switch (source)
    {
    case GALLERY_TAG_SOURCE_LABEL:
      return "label";
    case GALLERY_TAG_SOURCE_GROUNDING:
      return "grounding";
    case GALLERY_TAG_SOURCE_USER:
      return "user";
    default:
      return "unknown";
    }
}

void
gallery_tag_free (GalleryTag *tag)
{
  if (tag == NULL)
    return;
  g_free (tag->name);
  g_free (tag);
}

static char *
normalize_or_fail (const char *name, GError **error)
{
  char *normalized = gallery_tag_normalize (name);

  if (normalized == NULL)
    g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_INVALID,
                 _ ("A tag needs a name with at least one visible character. Type a name and try "
                    "again."));
  return normalized;
}

static const char sql_tag_user_set[] =
  "INSERT INTO tags (image_id, name, run_id, source, removed) VALUES (?1, ?2, NULL, 2, ?3)"
  " ON CONFLICT (image_id, name) DO UPDATE SET source = 2, removed = excluded.removed";
static const char sql_tag_exists[] =
  "SELECT 1 FROM tags WHERE image_id = ?1 AND name = ?2 AND removed = 0";
static const char sql_image_exists[] = "SELECT 1 FROM images WHERE id = ?1";

static gboolean
set_user_tag (GalleryStore *store, gint64 image_id, const char *name, gboolean removed,
              GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql_tag_user_set, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, image_id);
  gallery_store_bind_text (stmt, 2, name);
  sqlite3_bind_int (stmt, 3, removed ? 1 : 0);
  return store_step_done (store, stmt, error);
}

/* Whether a row exists for a statement with (?1 int64, ?2 text); -1 on error. */
static int
row_exists (GalleryStore *store, const char *sql, gint64 id, const char *text, GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql, error);
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, id);
  if (text != NULL)
    gallery_store_bind_text (stmt, 2, text);
  rc = sqlite3_step (stmt);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return -1;
    }
  return rc == SQLITE_ROW;
}

static gboolean
check_image (GalleryStore *store, gint64 image_id, GError **error)
{
  int exists = row_exists (store, sql_image_exists, image_id, NULL, error);

  if (exists == 0)
    g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND,
                 _ ("The gallery has no image number %" PRId64 ". It may have been "
                    "removed; search again."),
                 image_id);
  return exists == 1;
}

gboolean
gallery_store_add_tag (GalleryStore *store, gint64 image_id, const char *name, GError **error)
{
  g_autofree char *normalized = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if ((normalized = normalize_or_fail (name, error)) == NULL)
    return FALSE;
  if (!gallery_store_begin (store, error))
    return FALSE;
  if (!check_image (store, image_id, error) ||
      !set_user_tag (store, image_id, normalized, FALSE, error) ||
      !refresh_text (store, image_id, error))
    {
      gallery_store_rollback (store);
      return FALSE;
    }
  return gallery_store_commit (store, error);
}

gboolean
gallery_store_remove_tag (GalleryStore *store, gint64 image_id, const char *name, GError **error)
{
  g_autofree char *normalized = NULL;
  int exists;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if ((normalized = normalize_or_fail (name, error)) == NULL)
    return FALSE;
  if (!gallery_store_begin (store, error))
    return FALSE;
  exists = row_exists (store, sql_tag_exists, image_id, normalized, error);
  if (exists == 0)
    g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND,
                 _ ("The image has no tag “%s”, so there is nothing to remove."), normalized);
  /* The row stays, marked removed: a later run proposing the tag does not bring it back. */
  if (exists != 1 || !set_user_tag (store, image_id, normalized, TRUE, error) ||
      !refresh_text (store, image_id, error))
    {
      gallery_store_rollback (store);
      return FALSE;
    }
  return gallery_store_commit (store, error);
}

static const char sql_images_with_tag[] =
  "SELECT image_id FROM tags WHERE name = ?1 AND removed = 0";

gboolean
gallery_store_rename_tag (GalleryStore *store, gint64 image_id, const char *old_name,
                          const char *new_name, GError **error)
{
  g_autofree char *from = NULL, *to = NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (old_name != NULL && new_name != NULL, FALSE);

  if ((from = normalize_or_fail (old_name, error)) == NULL ||
      (to = normalize_or_fail (new_name, error)) == NULL)
    return FALSE;
  if (!gallery_store_begin (store, error))
    return FALSE;

  if (image_id > 0)
    {
      int exists = row_exists (store, sql_tag_exists, image_id, from, error);

      if (exists < 0)
        goto fail;
      if (exists == 1)
        g_array_append_val (ids, image_id);
    }
  else
    {
      sqlite3_stmt *stmt = gallery_store_prepare (store, sql_images_with_tag, error);
      int rc;

      if (stmt == NULL)
        goto fail;
      gallery_store_bind_text (stmt, 1, from);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          gint64 id = sqlite3_column_int64 (stmt, 0);

          g_array_append_val (ids, id);
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          gallery_store_set_sqlite_error (store, rc, error);
          goto fail;
        }
    }
  if (ids->len == 0)
    {
      g_set_error (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND,
                   _ ("No image has the tag “%s”, so there is nothing to rename."), from);
      goto fail;
    }
  if (strcmp (from, to) == 0)
    return gallery_store_commit (store, error);
  for (guint i = 0; i < ids->len; i++)
    {
      gint64 id = g_array_index (ids, gint64, i);

      if (!set_user_tag (store, id, from, TRUE, error) ||
          !set_user_tag (store, id, to, FALSE, error) || !refresh_text (store, id, error))
        goto fail;
    }
  return gallery_store_commit (store, error);

fail:
  gallery_store_rollback (store);
  return FALSE;
}

static const char sql_list_tags[] =
  "SELECT name, source, removed, run_id FROM tags WHERE image_id = ?1 ORDER BY name";

GPtrArray *
gallery_store_list_tags (GalleryStore *store, gint64 image_id, gboolean include_removed,
                         GError **error)
{
  g_autoptr (GPtrArray) tags = g_ptr_array_new_with_free_func ((GDestroyNotify) gallery_tag_free);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);

  if ((stmt = gallery_store_prepare (store, sql_list_tags, error)) == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, image_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GalleryTag *tag;

      if (sqlite3_column_int (stmt, 2) != 0 && !include_removed)
        continue;
      tag = g_new0 (GalleryTag, 1);
      tag->name = gallery_store_column_dup (stmt, 0);
      tag->source = (GalleryTagSource) CLAMP (sqlite3_column_int (stmt, 1), 0, 2);
      tag->removed = sqlite3_column_int (stmt, 2) != 0;
      tag->run_id = sqlite3_column_int64 (stmt, 3);
      g_ptr_array_add (tags, tag);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return NULL;
    }
  return g_steal_pointer (&tags);
}
