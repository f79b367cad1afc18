/* gallery-store-images.c: the photos of the gallery: their identity (gallery-identity.h), the
 * file contents and paths where each was seen, which files are gone, and their geometry
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Its length: identity, contents, paths and gone files are one family of tables, written in the
 * same transactions.
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gallery/gallery-identity.h"
#include "gallery/gallery-store-private.h"
#include "image/image-loader.h"
#include "image/image-orientation.h"

char *
gallery_store_hash_file (const char *path, gint64 *out_size, GCancellable *cancellable,
                         GError **error)
{
  return gallery_identity_hash_file (path, out_size, cancellable, error);
}

void
gallery_image_free (GalleryImage *image)
{
  if (image == NULL)
    return;
  g_free (image->hash);
  g_free (image->pixels);
  g_strfreev (image->paths);
  g_free (image);
}

/* The photo at path, canonical, with its stat; a G_IO_ERROR with a sentence when it is not a
 * readable regular file (a folder, a pipe, a device is never opened) or is the gallery's own
 * database. */
static char *
stat_photo (GalleryStore *store, const char *path, GStatBuf *st, GError **error)
{
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);

  if (g_stat (canonical, st) == 0 && gallery_store_is_own_file (store, st))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is the gallery's database, not a photo; it was left out."), canonical);
      return NULL;
    }

  if (g_stat (canonical, st) != 0 || !S_ISREG (st->st_mode))
    {
      int saved_errno = errno;
      gboolean exists = g_stat (canonical, st) == 0;

      g_set_error (error, G_IO_ERROR,
                   exists ? G_IO_ERROR_NOT_REGULAR_FILE : g_io_error_from_errno (saved_errno),
                   _ ("Could not read the photo “%s” (%s). Check that it exists and is a file."),
                   canonical, exists ? _ ("not a regular file") : g_strerror (saved_errno));
      return NULL;
    }
  return g_steal_pointer (&canonical);
}

/* The id of the one row a statement with one text parameter finds: 0 = none, -1 = error (set),
 * -2 = more than one. */
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

/* ------------------------------------------------------------------------------------------ */
/* Adding                                                                                      */

static const char sql_path_lookup[] =
  "SELECT p.image_id, p.size, p.mtime, i.pixels IS NOT NULL FROM image_paths p"
  " JOIN images i ON i.id = p.image_id WHERE p.path = ?1";
static const char sql_path_seen[] = "UPDATE image_paths SET seen = ?2, missing = 0 WHERE path = ?1";
static const char sql_image_by_file[] = "SELECT image_id FROM image_files WHERE sha256 = ?1";
static const char sql_image_by_pixels[] = "SELECT id FROM images WHERE pixels = ?1";
static const char sql_image_insert[] =
  "INSERT INTO images (hash, pixels, size, width, height, orientation, added)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char sql_file_insert[] = "INSERT INTO image_files (image_id, sha256) VALUES (?1, ?2)"
                                      " ON CONFLICT (sha256) DO NOTHING";
static const char sql_path_upsert[] =
  "INSERT INTO image_paths (path, image_id, size, mtime, seen, missing)"
  " VALUES (?1, ?2, ?3, ?4, ?5, 0)"
  " ON CONFLICT (path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size,"
  " mtime = excluded.mtime, seen = excluded.seen, missing = 0";
static const char sql_pixels_set[] = "UPDATE images SET pixels = ?2 WHERE id = ?1";
static const char sql_geometry_fill[] =
  "UPDATE images SET width = ?2, height = ?3, orientation = ?4"
  " WHERE id = ?1 AND width = 0 AND height = 0";

static gboolean
exec_id_text (GalleryStore *store, const char *sql, gint64 id, const char *text, GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  gallery_store_bind_text (stmt, 2, text);
  return gallery_store_step_done (store, stmt, error);
}

static gboolean
upsert_path (GalleryStore *store, const char *canonical, gint64 image_id, const GStatBuf *st,
             GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql_path_upsert, error);

  if (stmt == NULL)
    return FALSE;
  gallery_store_bind_text (stmt, 1, canonical);
  sqlite3_bind_int64 (stmt, 2, image_id);
  sqlite3_bind_int64 (stmt, 3, (gint64) st->st_size);
  sqlite3_bind_int64 (stmt, 4, (gint64) st->st_mtime);
  sqlite3_bind_int64 (stmt, 5, gallery_store_now_seen ());
  return gallery_store_step_done (store, stmt, error);
}

static gboolean
fill_geometry (GalleryStore *store, gint64 image_id, const GalleryImageIdentity *identity,
               GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql_geometry_fill, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, image_id);
  sqlite3_bind_int (stmt, 2, identity->width);
  sqlite3_bind_int (stmt, 3, identity->height);
  sqlite3_bind_int (stmt, 4, CLAMP (identity->orientation, 1, 8));
  return gallery_store_step_done (store, stmt, error);
}

/* Everything of image from moves to image into (runs and tags into already has are dropped),
 * and from goes away. */
static gboolean
merge_images (GalleryStore *store, gint64 from, gint64 into, GError **error)
{
  static const char *const sql[] = {
    "UPDATE OR IGNORE runs SET image_id = ?2 WHERE image_id = ?1",
    "UPDATE OR IGNORE tags SET image_id = ?2 WHERE image_id = ?1",
    "UPDATE OR IGNORE image_files SET image_id = ?2 WHERE image_id = ?1",
    "UPDATE image_paths SET image_id = ?2 WHERE image_id = ?1",
    "DELETE FROM images WHERE id = ?1",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (sql); i++)
    {
      sqlite3_stmt *stmt = gallery_store_prepare (store, sql[i], error);

      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, from);
      sqlite3_bind_int64 (stmt, 2, into);
      if (!gallery_store_step_done (store, stmt, error))
        return FALSE;
    }
  return gallery_store_refresh_text (store, into, error);
}

/* A photo of an older gallery, known by its file content only, gets its pixel identity. If
 * another photo of the gallery has those pixels (the same photo with other metadata, added
 * before the gallery knew pixels), the two become one. Returns the id the photo now has. */
static gint64
adopt_pixels (GalleryStore *store, gint64 image_id, const char *pixels, GError **error)
{
  gint64 other = find_one (store, sql_image_by_pixels, pixels, error);

  if (other < 0)
    return 0;
  if (other == 0)
    return exec_id_text (store, sql_pixels_set, image_id, pixels, error) ? image_id : 0;
  if (other != image_id && !merge_images (store, image_id, other, error))
    return 0;
  return other;
}

static gboolean
mark_seen (GalleryStore *store, const char *canonical, GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql_path_seen, error);

  if (stmt == NULL)
    return FALSE;
  gallery_store_bind_text (stmt, 1, canonical);
  sqlite3_bind_int64 (stmt, 2, gallery_store_now_seen ());
  return gallery_store_step_done (store, stmt, error);
}

static gboolean
mark_seen_locked (GalleryStore *store, const char *canonical, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);

  return mark_seen (store, canonical, error);
}

/* Step 1: the image of a known path whose size and time are unchanged (the same content),
 * 0 when there is none, -1 on error. */
static gint64
lookup_path (GalleryStore *store, const char *canonical, const GStatBuf *st,
             gboolean *out_has_pixels, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql_path_lookup, error);
  gint64 image_id = 0;
  int rc;

  if (stmt == NULL)
    return -1;
  gallery_store_bind_text (stmt, 1, canonical);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW && sqlite3_column_int64 (stmt, 1) == (gint64) st->st_size &&
      sqlite3_column_int64 (stmt, 2) == (gint64) st->st_mtime)
    {
      image_id = sqlite3_column_int64 (stmt, 0);
      *out_has_pixels = sqlite3_column_int (stmt, 3) != 0;
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return -1;
    }
  return image_id;
}

static const char sql_image_has_pixels[] = "SELECT pixels IS NOT NULL FROM images WHERE id = ?1";

/* Step 2: the image a file content was seen for (a copy, a move, the file as it was), whose
 * path is then recorded; 0 when the content is new, -1 on error. */
static gint64
lookup_content (GalleryStore *store, const char *canonical, const GStatBuf *st,
                const char *file_hash, gboolean *out_has_pixels, GError **error)
{
  sqlite3_stmt *stmt;
  gint64 image_id;
  int rc;

  /* A read first: most new files are new content, and need no write lock here. */
  {
    g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);

    if ((image_id = find_one (store, sql_image_by_file, file_hash, error)) <= 0)
      return image_id;
  }
  if (!gallery_store_begin (store, error))
    return -1;
  if ((image_id = find_one (store, sql_image_by_file, file_hash, error)) <= 0)
    {
      gallery_store_rollback (store);
      return image_id;
    }
  if ((stmt = gallery_store_prepare (store, sql_image_has_pixels, error)) == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, image_id);
  rc = sqlite3_step (stmt);
  *out_has_pixels = rc == SQLITE_ROW && sqlite3_column_int (stmt, 0) != 0;
  sqlite3_reset (stmt);
  if (!upsert_path (store, canonical, image_id, st, error))
    goto fail;
  return gallery_store_commit (store, error) ? image_id : -1;

fail:
  gallery_store_rollback (store);
  return -1;
}

/* A photo known by its path or content but not yet by its pixels (from an older gallery):
 * it learns them (and is merged with another record of the same pixels). */
static gint64
adopt_identity (GalleryStore *store, gint64 image_id, const char *canonical,
                const GalleryImageIdentity *identity, GError **error)
{
  if (!gallery_store_begin (store, error))
    return 0;
  image_id = adopt_pixels (store, image_id, identity->pixels, error);
  if (image_id == 0 || !mark_seen (store, canonical, error))
    {
      gallery_store_rollback (store);
      return 0;
    }
  return gallery_store_commit (store, error) ? image_id : 0;
}

/* Step 3: new content: its pixels say whether it is a known photo (its metadata edited) or a
 * new one, which is added. */
static gint64
store_identified (GalleryStore *store, const char *canonical, const GStatBuf *st,
                  const char *file_hash, const GalleryImageIdentity *identity, GError **error)
{
  gint64 image_id;

  if (!gallery_store_begin (store, error))
    return 0;
  /* Again under the write lock: another writer may have added it meanwhile. */
  image_id = find_one (store, sql_image_by_pixels, identity->pixels, error);
  if (image_id == 0)
    image_id = find_one (store, sql_image_by_file, file_hash, error);
  if (image_id < 0)
    goto fail;
  if (image_id == 0)
    {
      sqlite3_stmt *stmt = gallery_store_prepare (store, sql_image_insert, error);

      if (stmt == NULL)
        goto fail;
      gallery_store_bind_text (stmt, 1, file_hash);
      gallery_store_bind_text (stmt, 2, identity->pixels);
      sqlite3_bind_int64 (stmt, 3, (gint64) st->st_size);
      sqlite3_bind_int (stmt, 4, identity->width);
      sqlite3_bind_int (stmt, 5, identity->height);
      sqlite3_bind_int (stmt, 6, CLAMP (identity->orientation, 1, 8));
      sqlite3_bind_int64 (stmt, 7, g_get_real_time () / G_USEC_PER_SEC);
      if (!gallery_store_step_done (store, stmt, error))
        goto fail;
      image_id = sqlite3_last_insert_rowid (gallery_store_get_db (store));
    }
  else if (!fill_geometry (store, image_id, identity, error) ||
           adopt_pixels (store, image_id, identity->pixels, error) == 0)
    goto fail;
  if (!exec_id_text (store, sql_file_insert, image_id, file_hash, error) ||
      !upsert_path (store, canonical, image_id, st, error))
    goto fail;
  return gallery_store_commit (store, error) ? image_id : 0;

fail:
  gallery_store_rollback (store);
  return 0;
}

/* Where a photo is, before its pixels are needed: steps 1 and 2. image_id 0: new content. */
typedef struct {
  char *canonical;
  GStatBuf st;
  char *file_hash; /* only computed when step 1 did not find it */
  gint64 image_id;
  gboolean has_pixels;
} Located;

static void
located_clear (Located *where)
{
  g_free (where->canonical);
  g_free (where->file_hash);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Located, located_clear)

static gboolean
locate (GalleryStore *store, const char *path, Located *where, GCancellable *cancellable,
        GError **error)
{
  if (!gallery_store_check_writable (store, error))
    return FALSE;
  if ((where->canonical = stat_photo (store, path, &where->st, error)) == NULL)
    return FALSE;
  where->image_id = lookup_path (store, where->canonical, &where->st, &where->has_pixels, error);
  if (where->image_id < 0)
    return FALSE;
  if (where->image_id > 0)
    return mark_seen_locked (store, where->canonical, error);
  where->file_hash = gallery_identity_hash_file (where->canonical, NULL, cancellable, error);
  if (where->file_hash == NULL)
    return FALSE;
  where->image_id = lookup_content (store, where->canonical, &where->st, where->file_hash,
                                    &where->has_pixels, error);
  return where->image_id >= 0;
}

/* Steps after locate(): the identity is known. */
static gint64
add_located (GalleryStore *store, Located *where, const GalleryImageIdentity *identity,
             GError **error)
{
  if (where->image_id > 0)
    return where->has_pixels
             ? where->image_id
             : adopt_identity (store, where->image_id, where->canonical, identity, error);
  return store_identified (store, where->canonical, &where->st, where->file_hash, identity, error);
}

gboolean
gallery_store_find_known_image (GalleryStore *store, const char *path, gint64 *out_image_id,
                                gboolean *out_needs_pixels, GCancellable *cancellable,
                                GError **error)
{
  g_auto (Located) where = { 0 };

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (out_image_id != NULL && out_needs_pixels != NULL, FALSE);

  if (!locate (store, path, &where, cancellable, error))
    return FALSE;
  *out_image_id = where.image_id;
  *out_needs_pixels = where.image_id == 0 || !where.has_pixels;
  return TRUE;
}

gint64
gallery_store_add_image_identified (GalleryStore *store, const char *path,
                                    const GalleryImageIdentity *identity, GCancellable *cancellable,
                                    GError **error)
{
  g_auto (Located) where = { 0 };

  g_return_val_if_fail (store != NULL, 0);
  g_return_val_if_fail (path != NULL, 0);
  g_return_val_if_fail (identity != NULL && identity->pixels != NULL, 0);

  if (!locate (store, path, &where, cancellable, error))
    return 0;
  return add_located (store, &where, identity, error);
}

void
gallery_image_identity_init (GalleryImageIdentity *identity, const ImageRgb *picture)
{
  g_return_if_fail (identity != NULL && picture != NULL);

  identity->pixels = gallery_identity_of_picture (picture);
  identity->width = picture->original_width;
  identity->height = picture->original_height;
  identity->orientation = CLAMP (picture->orientation, 1, 8);
}

void
gallery_image_identity_clear (GalleryImageIdentity *identity)
{
  g_clear_pointer (&identity->pixels, g_free);
}

gint64
gallery_store_add_image_full (GalleryStore *store, const char *path, const ImageRgb *picture,
                              ImageRgb **out_picture, GCancellable *cancellable, GError **error)
{
  g_auto (Located) where = { 0 };
  g_auto (GalleryImageIdentity) identity = { 0 };
  g_autoptr (ImageRgb) decoded = NULL;
  g_autoptr (GError) local_error = NULL;
  gint64 image_id;

  g_return_val_if_fail (store != NULL, 0);
  g_return_val_if_fail (path != NULL, 0);

  if (out_picture != NULL)
    *out_picture = NULL;
  if (!locate (store, path, &where, cancellable, error))
    return 0;
  if (where.image_id > 0 && where.has_pixels)
    return where.image_id;

  /* The pixels are needed: new content, or a photo of an older gallery that learns them once
   * (so that a later metadata edit keeps its results). A file that is not a photo stops here
   * and nothing is stored; an old record that does not decode keeps what it has. */
  if (picture == NULL)
    {
      decoded = image_load (where.canonical, NULL, &local_error);
      if (decoded == NULL)
        {
          if (where.image_id > 0 &&
              !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return where.image_id;
          g_propagate_error (error, g_steal_pointer (&local_error));
          return 0;
        }
      picture = decoded;
    }
  gallery_image_identity_init (&identity, picture);
  image_id = add_located (store, &where, &identity, error);
  if (image_id > 0 && out_picture != NULL)
    *out_picture = g_steal_pointer (&decoded);
  return image_id;
}

gint64
gallery_store_add_image (GalleryStore *store, const char *path, GCancellable *cancellable,
                         GError **error)
{
  return gallery_store_add_image_full (store, path, NULL, NULL, cancellable, error);
}

static const char sql_path_refresh[] =
  "UPDATE image_paths SET size = ?3, mtime = ?4, seen = ?5, missing = 0"
  " WHERE path = ?1 AND image_id = ?2";

gboolean
gallery_store_refresh_path (GalleryStore *store, gint64 image_id, const char *path, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  g_autofree char *canonical = NULL;
  g_autofree char *file_hash = NULL;
  sqlite3_stmt *stmt;
  GStatBuf st;

  if ((canonical = stat_photo (store, path, &st, error)) == NULL ||
      (file_hash = gallery_identity_hash_file (canonical, NULL, NULL, error)) == NULL)
    return FALSE;
  if (!gallery_store_begin (store, error))
    return FALSE;
  if ((stmt = gallery_store_prepare (store, sql_path_refresh, error)) == NULL)
    goto fail;
  gallery_store_bind_text (stmt, 1, canonical);
  sqlite3_bind_int64 (stmt, 2, image_id);
  sqlite3_bind_int64 (stmt, 3, (gint64) st.st_size);
  sqlite3_bind_int64 (stmt, 4, (gint64) st.st_mtime);
  sqlite3_bind_int64 (stmt, 5, gallery_store_now_seen ());
  if (!gallery_store_step_done (store, stmt, error) ||
      !exec_id_text (store, sql_file_insert, image_id, file_hash, error))
    goto fail;
  return gallery_store_commit (store, error);

fail:
  gallery_store_rollback (store);
  return FALSE;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading                                                                                     */

#define IMAGE_COLUMNS                                                                              \
  "i.id, i.hash, i.size, i.width, i.height, i.orientation, i.added, i.pixels,"                     \
  " NOT EXISTS (SELECT 1 FROM image_paths p WHERE p.image_id = i.id AND p.missing = 0)"

static GalleryImage *
image_from_row (sqlite3_stmt *stmt)
{
  GalleryImage *image = g_new0 (GalleryImage, 1);
  const char *pixels = (const char *) sqlite3_column_text (stmt, 7);

  image->id = sqlite3_column_int64 (stmt, 0);
  image->hash = gallery_store_column_dup (stmt, 1);
  image->size = sqlite3_column_int64 (stmt, 2);
  image->width = sqlite3_column_int (stmt, 3);
  image->height = sqlite3_column_int (stmt, 4);
  image->orientation = sqlite3_column_int (stmt, 5);
  image->added = sqlite3_column_int64 (stmt, 6);
  image->pixels = g_strdup (pixels);
  image->missing = sqlite3_column_int (stmt, 8) != 0;
  return image;
}

static const char sql_image_get[] = "SELECT " IMAGE_COLUMNS " FROM images i WHERE i.id = ?1";
static const char sql_image_paths[] = "SELECT path, mtime FROM image_paths WHERE image_id = ?1"
                                      " ORDER BY missing, seen DESC, path";

GalleryImage *
gallery_store_get_image (GalleryStore *store, gint64 image_id, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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
    image = image_from_row (stmt);
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
  "SELECT id FROM images WHERE hash >= ?1 AND hash < ?1 || 'g'"
  " UNION SELECT id FROM images WHERE pixels >= ?1 AND pixels < ?1 || 'g' LIMIT 2";

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

/* The image a file not known by its path is: by its content, else by its pixels. 0 when it
 * is not in the gallery (or not a photo), -1 on a database error. */
static gint64
find_by_content (GalleryStore *store, const char *canonical, GError **error)
{
  g_autofree char *file_hash = NULL;
  g_autofree char *pixels = NULL;
  GStatBuf st;
  gint64 id;

  if (g_stat (canonical, &st) != 0 || gallery_store_is_own_file (store, &st) ||
      (file_hash = gallery_identity_hash_file (canonical, NULL, NULL, NULL)) == NULL)
    return 0;
  {
    g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);

    if ((id = find_one (store, sql_image_by_file, file_hash, error)) != 0)
      return id;
  }
  if ((pixels = gallery_identity_of_file (canonical, NULL, NULL, NULL)) == NULL)
    return 0;
  {
    g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);

    return find_one (store, sql_image_by_pixels, pixels, error);
  }
}

GalleryImage *
gallery_store_find_image (GalleryStore *store, const char *path_or_hash, GError **error)
{
  g_autofree char *canonical = NULL;
  gint64 id;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (path_or_hash != NULL, NULL);

  canonical = g_canonicalize_filename (path_or_hash, NULL);
  {
    g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);

    id = find_one (store, sql_find_by_path, canonical, error);
  }
  if (id < 0)
    return NULL;
  if (id == 0 && g_file_test (canonical, G_FILE_TEST_IS_REGULAR) &&
      (id = find_by_content (store, canonical, error)) < 0)
    return NULL;
  if (id == 0 && is_hex_prefix (path_or_hash))
    {
      g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);

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
                   _ ("“%s” is not in the gallery. Tag it first."), path_or_hash);
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
  "SELECT " IMAGE_COLUMNS " FROM images i ORDER BY i.added DESC, i.id DESC";
static const char sql_list_images_in[] =
  "SELECT " IMAGE_COLUMNS " FROM images i"
  " WHERE EXISTS (SELECT 1 FROM image_paths p"
  " WHERE p.image_id = i.id AND p.path >= ?1 AND p.path < ?2) ORDER BY i.added DESC, i.id DESC";
static const char sql_list_missing[] =
  "SELECT " IMAGE_COLUMNS " FROM images i WHERE NOT EXISTS (SELECT 1 FROM image_paths p"
  " WHERE p.image_id = i.id AND p.missing = 0) ORDER BY i.added DESC, i.id DESC";
static const char sql_list_paths[] = "SELECT image_id, path, mtime FROM image_paths"
                                     " ORDER BY image_id, missing, seen DESC, path";

static void
free_ptr_array (gpointer array)
{
  g_ptr_array_unref (array);
}

/* The images a listing statement (bound, not stepped) selects, with their paths. */
static GPtrArray *
list_images (GalleryStore *store, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (GPtrArray) images =
    g_ptr_array_new_with_free_func ((GDestroyNotify) gallery_image_free);
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GHashTable) paths =
    g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, free_ptr_array);
  int rc;

  /* Two queries for the whole library, not two per image. */
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GalleryImage *image = image_from_row (stmt);

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
          list = g_ptr_array_new_with_free_func (g_free);
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
      image->paths = (char **) g_ptr_array_steal (list, NULL);
    }
  return g_steal_pointer (&images);
}

GPtrArray *
gallery_store_list_images (GalleryStore *store, const char *folder, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  sqlite3_stmt *stmt;

  g_return_val_if_fail (store != NULL, NULL);

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
  return list_images (store, stmt, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Files that are gone                                                                         */

static const char sql_paths_all[] = "SELECT path, missing FROM image_paths";
static const char sql_paths_in[] =
  "SELECT path, missing FROM image_paths WHERE path >= ?1 AND path < ?2";
static const char sql_path_missing[] = "UPDATE image_paths SET missing = ?2 WHERE path = ?1";

gboolean
gallery_store_check_files (GalleryStore *store, const char *folder, guint *out_gone,
                           GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GArray) was_missing = g_array_new (FALSE, FALSE, sizeof (gboolean));
  g_autoptr (GPtrArray) changed = g_ptr_array_new ();
  g_autoptr (GArray) now_missing = g_array_new (FALSE, FALSE, sizeof (gboolean));
  guint gone = 0;

  g_return_val_if_fail (store != NULL, FALSE);

  if (out_gone != NULL)
    *out_gone = 0;
  {
    g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
    g_autofree char *lo = NULL, *hi = NULL;
    sqlite3_stmt *stmt =
      gallery_store_prepare (store, folder != NULL ? sql_paths_in : sql_paths_all, error);
    int rc;

    if (stmt == NULL)
      return FALSE;
    if (folder != NULL)
      {
        gallery_store_folder_range (folder, &lo, &hi);
        gallery_store_bind_text (stmt, 1, lo);
        gallery_store_bind_text (stmt, 2, hi);
      }
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      {
        gboolean missing = sqlite3_column_int (stmt, 1) != 0;

        g_ptr_array_add (paths, gallery_store_column_dup (stmt, 0));
        g_array_append_val (was_missing, missing);
      }
    sqlite3_reset (stmt);
    if (rc != SQLITE_DONE)
      {
        gallery_store_set_sqlite_error (store, rc, error);
        return FALSE;
      }
  }

  /* Looking at the files holds no lock. */
  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = g_ptr_array_index (paths, i);
      GStatBuf st;
      gboolean missing;

      /* Gone: no such file (or no longer a file). A file this user may not look at now (a
       * folder whose permissions changed, a disk error) keeps what was known. */
      if (g_stat (path, &st) == 0)
        missing = !S_ISREG (st.st_mode);
      else if (errno == ENOENT || errno == ENOTDIR)
        missing = TRUE;
      else
        missing = g_array_index (was_missing, gboolean, i);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      gone += missing;
      if (missing != g_array_index (was_missing, gboolean, i))
        {
          g_ptr_array_add (changed, (gpointer) path);
          g_array_append_val (now_missing, missing);
        }
    }

  if (changed->len > 0)
    {
      if (!gallery_store_begin (store, error))
        return FALSE;
      for (guint i = 0; i < changed->len; i++)
        {
          sqlite3_stmt *stmt = gallery_store_prepare (store, sql_path_missing, error);

          if (stmt == NULL)
            goto fail;
          gallery_store_bind_text (stmt, 1, g_ptr_array_index (changed, i));
          sqlite3_bind_int (stmt, 2, g_array_index (now_missing, gboolean, i));
          if (!gallery_store_step_done (store, stmt, error))
            goto fail;
        }
      if (!gallery_store_commit (store, error))
        return FALSE;
    }
  if (out_gone != NULL)
    *out_gone = gone;
  return TRUE;

fail:
  gallery_store_rollback (store);
  return FALSE;
}

GPtrArray *
gallery_store_list_missing (GalleryStore *store, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  sqlite3_stmt *stmt;

  g_return_val_if_fail (store != NULL, NULL);

  if ((stmt = gallery_store_prepare (store, sql_list_missing, error)) == NULL)
    return NULL;
  return list_images (store, stmt, error);
}

static const char sql_forget_images[] =
  "DELETE FROM images WHERE NOT EXISTS (SELECT 1 FROM image_paths p"
  " WHERE p.image_id = images.id AND p.missing = 0)";
static const char sql_forget_paths[] = "DELETE FROM image_paths WHERE missing = 1";

gboolean
gallery_store_forget_missing (GalleryStore *store, guint *out_images, guint *out_paths,
                              GError **error)
{
  sqlite3_stmt *stmt;
  guint n_images, n_paths;

  g_return_val_if_fail (store != NULL, FALSE);

  if (!gallery_store_begin (store, error))
    return FALSE;
  /* Images first: their paths go with them (and are not counted twice). */
  if ((stmt = gallery_store_prepare (store, sql_forget_images, error)) == NULL ||
      !gallery_store_step_done (store, stmt, error))
    goto fail;
  n_images = (guint) sqlite3_changes (gallery_store_get_db (store));
  if ((stmt = gallery_store_prepare (store, sql_forget_paths, error)) == NULL ||
      !gallery_store_step_done (store, stmt, error))
    goto fail;
  n_paths = (guint) sqlite3_changes (gallery_store_get_db (store));
  if (!gallery_store_commit (store, error))
    return FALSE;
  if (out_images != NULL)
    *out_images = n_images;
  if (out_paths != NULL)
    *out_paths = n_paths;
  return TRUE;

fail:
  gallery_store_rollback (store);
  return FALSE;
}

static const char sql_forget_image[] = "DELETE FROM images WHERE id = ?1";

gboolean
gallery_store_forget_images (GalleryStore *store, const gint64 *image_ids, guint n_ids,
                             guint *out_forgotten, GError **error)
{
  sqlite3_stmt *stmt;
  guint n = 0;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (image_ids != NULL || n_ids == 0, FALSE);

  if (!gallery_store_begin (store, error))
    return FALSE;
  /* Their paths, runs, tags and text go with them (ON DELETE CASCADE). */
  for (guint i = 0; i < n_ids; i++)
    {
      if ((stmt = gallery_store_prepare (store, sql_forget_image, error)) == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, image_ids[i]);
      if (!gallery_store_step_done (store, stmt, error))
        goto fail;
      n += (guint) sqlite3_changes (gallery_store_get_db (store));
    }
  if (!gallery_store_commit (store, error))
    return FALSE;
  if (out_forgotten != NULL)
    *out_forgotten = n;
  return TRUE;

fail:
  gallery_store_rollback (store);
  return FALSE;
}
