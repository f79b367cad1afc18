/* gallery-store-tags.c: the tags of the photos: proposed by results, added, removed and renamed by
 * the person
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "gallery/gallery-store-private.h"

/* ------------------------------------------------------------------------------------------ */
/* Tags                                                                                        */

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
  return gallery_store_step_done (store, stmt, error);
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
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  g_autofree char *normalized = NULL;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if ((normalized = normalize_or_fail (name, error)) == NULL)
    return FALSE;
  if (!gallery_store_begin (store, error))
    return FALSE;
  if (!check_image (store, image_id, error) ||
      !set_user_tag (store, image_id, normalized, FALSE, error) ||
      !gallery_store_refresh_text (store, image_id, error))
    {
      gallery_store_rollback (store);
      return FALSE;
    }
  return gallery_store_commit (store, error);
}

gboolean
gallery_store_remove_tag (GalleryStore *store, gint64 image_id, const char *name, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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
      !gallery_store_refresh_text (store, image_id, error))
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
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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
          !set_user_tag (store, id, to, FALSE, error) ||
          !gallery_store_refresh_text (store, id, error))
        goto fail;
    }
  return gallery_store_commit (store, error);

fail:
  gallery_store_rollback (store);
  return FALSE;
}

static const char sql_list_tags[] =
  "SELECT name, source, removed, run_id, score FROM tags WHERE image_id = ?1 ORDER BY name";

GPtrArray *
gallery_store_list_tags (GalleryStore *store, gint64 image_id, gboolean include_removed,
                         GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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

      g_autofree char *name = gallery_store_column_dup (stmt, 0);
      /* Model debris stored by an older version reads as removed. */
      gboolean removed = sqlite3_column_int (stmt, 2) != 0 || gallery_tag_is_debris (name);

      if (removed && !include_removed)
        continue;
      tag = g_new0 (GalleryTag, 1);
      tag->name = g_steal_pointer (&name);
      tag->source = (GalleryTagSource) CLAMP (sqlite3_column_int (stmt, 1), 0, 2);
      tag->removed = removed;
      tag->run_id = sqlite3_column_int64 (stmt, 3);
      tag->score = sqlite3_column_type (stmt, 4) == SQLITE_NULL
                     ? NAN
                     : CLAMP (sqlite3_column_double (stmt, 4), 0.0, 1.0);
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
