/* gallery-store-images.c: the photos of the gallery: their identity, paths and geometry
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

#include "gallery/gallery-store-private.h"

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

gint64
gallery_store_add_image (GalleryStore *store, const char *path, GCancellable *cancellable,
                         GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  g_autofree char *canonical = NULL;
  g_autofree char *hash = NULL;
  GStatBuf st;
  sqlite3_stmt *stmt;
  gint64 image_id = 0, size = 0;
  int width, height, orientation, rc;

  g_return_val_if_fail (store != NULL, 0);
  g_return_val_if_fail (path != NULL, 0);

  if (!gallery_store_check_writable (store, error))
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
      sqlite3_bind_int64 (stmt, 2, gallery_store_now_seen ());
      return gallery_store_step_done (store, stmt, error) ? image_id : 0;
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
      if (!gallery_store_step_done (store, stmt, error))
        goto fail;
      image_id = sqlite3_last_insert_rowid (gallery_store_get_db (store));
    }
  if ((stmt = gallery_store_prepare (store, sql_path_upsert, error)) == NULL)
    goto fail;
  gallery_store_bind_text (stmt, 1, canonical);
  sqlite3_bind_int64 (stmt, 2, image_id);
  sqlite3_bind_int64 (stmt, 3, (gint64) st.st_size);
  sqlite3_bind_int64 (stmt, 4, (gint64) st.st_mtime);
  sqlite3_bind_int64 (stmt, 5, gallery_store_now_seen ());
  if (!gallery_store_step_done (store, stmt, error))
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
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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
  sqlite3_bind_int64 (stmt, 5, gallery_store_now_seen ());
  return gallery_store_step_done (store, stmt, error);
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
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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
