/* gallery-merge.c: several galleries brought into one
 *
 * The rows are copied column by column as the destination's schema names them (the sources
 * have the same schema version, checked when they are opened), so a column a later schema adds
 * comes along without a change here. Ids are the destination's own: photos are matched by
 * pixels (else file content), results by their key.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "gallery/gallery-merge.h"
#include "gallery/gallery-store-private.h"

/* One source being merged. */
typedef struct {
  GalleryStore *into;
  sqlite3 *db;
  GalleryStore *from;
  sqlite3 *src;
  const GalleryMergeOptions *options;
  GalleryMergeSummary *summary;
  GCancellable *cancellable;
  GHashTable *images;  /* source image id → destination image id */
  GHashTable *runs;    /* source run id → destination run id, of the runs taken (new, newer) */
  GHashTable *kept;    /* source run id → destination run id, of the runs not taken */
  GHashTable *touched; /* destination image ids (shared by all sources) */
  GPtrArray *statements;
} Merge;

static gint64 *
int64_new (gint64 value)
{
  return g_memdup2 (&value, sizeof value);
}

static gint64
map_lookup (GHashTable *map, gint64 key)
{
  gint64 *value = g_hash_table_lookup (map, &key);

  return value != NULL ? *value : 0;
}

static void
map_insert (GHashTable *map, gint64 key, gint64 value)
{
  g_hash_table_insert (map, int64_new (key), int64_new (value));
}

static GHashTable *
map_new (void)
{
  return g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
}

/* ------------------------------------------------------------------------------------------ */
/* Paths                                                                                       */

static char *
trim_slashes (const char *text, gsize length)
{
  while (length > 0 && text[length - 1] == '/')
    length--;
  return g_strndup (text, length);
}

gboolean
gallery_merge_check_prefix (const char *map, GError **error)
{
  const char *equal = map != NULL ? strchr (map, '=') : NULL;

  if (equal == NULL || map[0] != '/' || equal[1] != '/')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is not a prefix map. Write it as OLD=NEW with two absolute folders, "
                      "for example /mnt/nas=/home/me/Pictures."),
                   map != NULL ? map : "");
      return FALSE;
    }
  return TRUE;
}

/* path with the first prefix map that applies, a copy of path when none does. */
static char *
map_path (const char *const *maps, const char *path)
{
  for (guint i = 0; maps != NULL && maps[i] != NULL; i++)
    {
      const char *equal = strchr (maps[i], '=');
      g_autofree char *old = NULL;
      g_autofree char *new = NULL;
      gsize length;

      if (equal == NULL)
        continue;
      old = trim_slashes (maps[i], equal - maps[i]);
      new = trim_slashes (equal + 1, strlen (equal + 1));
      length = strlen (old);
      if (strncmp (path, old, length) == 0 && (path[length] == '/' || path[length] == '\0'))
        return g_strconcat (new, path + length, NULL);
    }
  return g_strdup (path);
}

/* ------------------------------------------------------------------------------------------ */
/* Statements                                                                                  */

static gboolean
fail_db (Merge *m, GalleryStore *store, GError **error)
{
  gallery_store_set_sqlite_error (store, sqlite3_extended_errcode (gallery_store_get_db (store)),
                                  error);
  return FALSE;
}

/* A statement of this merge (finalized at its end) on the destination (or the source). */
static sqlite3_stmt *
prepare (Merge *m, gboolean on_source, const char *sql, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  GalleryStore *store = on_source ? m->from : m->into;

  if (sqlite3_prepare_v2 (gallery_store_get_db (store), sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      fail_db (m, store, error);
      sqlite3_finalize (stmt);
      return NULL;
    }
  g_ptr_array_add (m->statements, stmt);
  return stmt;
}

/* The destination's columns of table, without those in leave_out (NULL-terminated). */
static GPtrArray *
columns_of (Merge *m, const char *table, const char *const *leave_out, GError **error)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA main.table_info (\"%s\")", table);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = prepare (m, FALSE, sql, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (stmt, 1);

      if (name != NULL && (leave_out == NULL || !g_strv_contains (leave_out, name)))
        g_ptr_array_add (names, g_strdup (name));
    }
  if (rc != SQLITE_DONE)
    {
      fail_db (m, m->into, error);
      return NULL;
    }
  return g_steal_pointer (&names);
}

static int
column_index (GPtrArray *columns, const char *name)
{
  for (guint i = 0; i < columns->len; i++)
    if (strcmp (g_ptr_array_index (columns, i), name) == 0)
      return (int) i;
  return -1;
}

/* "a", "b", "c" (each quoted), with prefix before each and ", " between. */
static char *
join_columns (GPtrArray *columns, const char *prefix, const char *suffix)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < columns->len; i++)
    g_string_append_printf (out, "%s%s\"%s\"%s", i > 0 ? ", " : "", prefix,
                            (char *) g_ptr_array_index (columns, i), suffix);
  return g_string_free (out, FALSE);
}

/* "?1, ?2, …" */
static char *
placeholders (guint n)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (out, "%s?%u", i > 0 ? ", " : "", i + 1);
  return g_string_free (out, FALSE);
}

/* SELECT id?, columns FROM table of the source. */
static sqlite3_stmt *
select_source (Merge *m, const char *table, GPtrArray *columns, gboolean with_id, GError **error)
{
  g_autofree char *list = join_columns (columns, "", "");
  g_autofree char *sql = g_strdup_printf ("SELECT %s%s FROM \"%s\"%s", with_id ? "id, " : "", list,
                                          table, with_id ? " ORDER BY id" : "");

  return prepare (m, TRUE, sql, error);
}

/* INSERT INTO table (columns) VALUES (?1 …) of the destination, with tail appended. */
static sqlite3_stmt *
insert_into (Merge *m, const char *table, GPtrArray *columns, const char *tail, GError **error)
{
  g_autofree char *list = join_columns (columns, "", "");
  g_autofree char *values = placeholders (columns->len);
  g_autofree char *sql = g_strdup_printf ("INSERT INTO \"%s\" (%s) VALUES (%s)%s", table, list,
                                          values, tail != NULL ? tail : "");

  return prepare (m, FALSE, sql, error);
}

/* Binds the source row's columns first … first + n - 1 to ?1 … ?n. */
static void
bind_row (sqlite3_stmt *to, sqlite3_stmt *from, int first, guint n)
{
  for (guint i = 0; i < n; i++)
    sqlite3_bind_value (to, (int) i + 1, sqlite3_column_value (from, first + (int) i));
}

static gboolean
step_done (Merge *m, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  return rc == SQLITE_DONE || fail_db (m, m->into, error);
}

/* Steps a one-row lookup: TRUE with out_found set, FALSE on error. */
static gboolean
step_lookup (Merge *m, sqlite3_stmt *stmt, gboolean *out_found, GError **error)
{
  int rc = sqlite3_step (stmt);

  *out_found = rc == SQLITE_ROW;
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      sqlite3_reset (stmt);
      return fail_db (m, m->into, error);
    }
  return TRUE;
}

/* Ends the loop over a source's rows: FALSE (with error) when it stopped on an error. */
static gboolean
source_done (Merge *m, sqlite3_stmt *stmt, int rc, GError **error)
{
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    return fail_db (m, m->from, error);
  return TRUE;
}

static gboolean
cancelled (Merge *m, guint64 row, GError **error)
{
  return row % 1024 == 0 && g_cancellable_set_error_if_cancelled (m->cancellable, error);
}

/* ------------------------------------------------------------------------------------------ */
/* The tables, in the order of their references                                               */

static const char sql_image_by_pixels[] = "SELECT id FROM images WHERE pixels = ?1";
static const char sql_image_by_hash[] = "SELECT id FROM images WHERE hash = ?1";
static const char sql_image_by_file[] = "SELECT image_id FROM image_files WHERE sha256 = ?1";
static const char sql_image_complete[] =
  "UPDATE images SET pixels = coalesce (pixels, ?2),"
  " width = CASE WHEN width = 0 AND height = 0 THEN ?3 ELSE width END,"
  " height = CASE WHEN width = 0 AND height = 0 THEN ?4 ELSE height END WHERE id = ?1";

/* The destination's photo of the source's (by pixels, else file content), 0 when none. */
static gboolean
find_image (Merge *m, sqlite3_value *pixels, sqlite3_value *hash, gint64 *out_id, GError **error)
{
  const char *const queries[] = { sql_image_by_pixels, sql_image_by_hash, sql_image_by_file };

  *out_id = 0;
  for (guint q = 0; q < G_N_ELEMENTS (queries) && *out_id == 0; q++)
    {
      sqlite3_stmt *stmt;
      gboolean found = FALSE;

      if (q == 0 && sqlite3_value_type (pixels) == SQLITE_NULL)
        continue;
      if ((stmt = gallery_store_prepare (m->into, queries[q], error)) == NULL)
        return FALSE;
      sqlite3_bind_value (stmt, 1, q == 0 ? pixels : hash);
      if (!step_lookup (m, stmt, &found, error))
        return FALSE;
      if (found)
        *out_id = sqlite3_column_int64 (stmt, 0);
      sqlite3_reset (stmt);
    }
  return TRUE;
}

static gboolean
merge_images (Merge *m, GError **error)
{
  const char *const leave_out[] = { "id", NULL };
  g_autoptr (GPtrArray) columns = columns_of (m, "images", leave_out, error);
  sqlite3_stmt *from, *insert;
  int hash, pixels, width, height, rc;
  guint64 row = 0;

  if (columns == NULL)
    return FALSE;
  hash = column_index (columns, "hash");
  pixels = column_index (columns, "pixels");
  width = column_index (columns, "width");
  height = column_index (columns, "height");
  if ((from = select_source (m, "images", columns, TRUE, error)) == NULL ||
      (insert = insert_into (m, "images", columns, NULL, error)) == NULL)
    return FALSE;
  while ((rc = sqlite3_step (from)) == SQLITE_ROW)
    {
      gint64 id = 0;

      if (cancelled (m, row++, error) ||
          !find_image (m, sqlite3_column_value (from, pixels + 1),
                       sqlite3_column_value (from, hash + 1), &id, error))
        return FALSE;
      if (id == 0)
        {
          bind_row (insert, from, 1, columns->len);
          if (!step_done (m, insert, error))
            return FALSE;
          id = sqlite3_last_insert_rowid (m->db);
          m->summary->images_added++;
        }
      else
        {
          sqlite3_stmt *complete = gallery_store_prepare (m->into, sql_image_complete, error);

          if (complete == NULL)
            return FALSE;
          sqlite3_bind_int64 (complete, 1, id);
          sqlite3_bind_value (complete, 2, sqlite3_column_value (from, pixels + 1));
          sqlite3_bind_value (complete, 3, sqlite3_column_value (from, width + 1));
          sqlite3_bind_value (complete, 4, sqlite3_column_value (from, height + 1));
          if (!gallery_store_step_done (m->into, complete, error))
            return FALSE;
        }
      map_insert (m->images, sqlite3_column_int64 (from, 0), id);
      g_hash_table_add (m->touched, int64_new (id));
    }
  return source_done (m, from, rc, error);
}

static const char sql_source_files[] = "SELECT sha256, image_id FROM image_files";
static const char sql_file_insert[] =
  "INSERT INTO image_files (sha256, image_id) VALUES (?1, ?2) ON CONFLICT (sha256) DO NOTHING";

static gboolean
merge_files (Merge *m, GError **error)
{
  sqlite3_stmt *from = prepare (m, TRUE, sql_source_files, error);
  int rc;

  if (from == NULL)
    return FALSE;
  while ((rc = sqlite3_step (from)) == SQLITE_ROW)
    {
      gint64 id = map_lookup (m->images, sqlite3_column_int64 (from, 1));
      sqlite3_stmt *insert;

      if (id == 0)
        continue;
      if ((insert = gallery_store_prepare (m->into, sql_file_insert, error)) == NULL)
        return FALSE;
      sqlite3_bind_value (insert, 1, sqlite3_column_value (from, 0));
      sqlite3_bind_int64 (insert, 2, id);
      if (!gallery_store_step_done (m->into, insert, error))
        return FALSE;
    }
  return source_done (m, from, rc, error);
}

/* A path seen more recently replaces what the destination knew of it. */
static gboolean
merge_paths (Merge *m, GError **error)
{
  g_autoptr (GPtrArray) columns = columns_of (m, "image_paths", NULL, error);
  g_autoptr (GString) tail = g_string_new (" ON CONFLICT (path) DO UPDATE SET ");
  sqlite3_stmt *from, *insert;
  int path, image_id, rc;
  guint64 row = 0;

  if (columns == NULL)
    return FALSE;
  path = column_index (columns, "path");
  image_id = column_index (columns, "image_id");
  for (guint i = 0, n = 0; i < columns->len; i++)
    if ((int) i != path)
      g_string_append_printf (tail, "%s\"%s\" = excluded.\"%s\"", n++ > 0 ? ", " : "",
                              (char *) g_ptr_array_index (columns, i),
                              (char *) g_ptr_array_index (columns, i));
  g_string_append (tail, " WHERE excluded.seen > image_paths.seen");
  if ((from = select_source (m, "image_paths", columns, FALSE, error)) == NULL ||
      (insert = insert_into (m, "image_paths", columns, tail->str, error)) == NULL)
    return FALSE;
  while ((rc = sqlite3_step (from)) == SQLITE_ROW)
    {
      gint64 id = map_lookup (m->images, sqlite3_column_int64 (from, image_id));
      const char *text = (const char *) sqlite3_column_text (from, path);
      g_autofree char *mapped = NULL;

      if (cancelled (m, row++, error))
        return FALSE;
      if (id == 0 || text == NULL)
        continue;
      mapped = map_path (m->options->map_prefixes, text);
      bind_row (insert, from, 0, columns->len);
      gallery_store_bind_text (insert, path + 1, mapped);
      sqlite3_bind_int64 (insert, image_id + 1, id);
      if (!step_done (m, insert, error))
        return FALSE;
      m->summary->paths_added += sqlite3_changes (m->db) > 0;
    }
  return source_done (m, from, rc, error);
}

static const char sql_run_find[] =
  "SELECT id, created FROM runs WHERE image_id = ?1 AND task = ?2 AND text_input = ?3"
  " AND weights_hash = ?4 AND num_beams = ?5 AND max_new_tokens = ?6";
/* The labels a replaced run proposed, unless the person kept or removed them (as
 * gallery_store_put_run does). */
static const char sql_run_tags_drop[] =
  "DELETE FROM tags WHERE run_id = ?1 AND source <> 2 AND removed = 0";

/* Of two results with one key the newer stays; as old, the one already there. */
static gboolean
merge_runs (Merge *m, GError **error)
{
  const char *const leave_out[] = { "id", NULL };
  const char *const key[] = { "image_id",     "task",      "text_input",
                              "weights_hash", "num_beams", "max_new_tokens" };
  g_autoptr (GPtrArray) columns = columns_of (m, "runs", leave_out, error);
  g_autofree char *list = NULL;
  g_autofree char *values = NULL;
  g_autofree char *update_sql = NULL;
  sqlite3_stmt *from, *insert, *update;
  int key_index[G_N_ELEMENTS (key)], created, rc;
  guint64 row = 0;

  if (columns == NULL)
    return FALSE;
  for (guint k = 0; k < G_N_ELEMENTS (key); k++)
    key_index[k] = column_index (columns, key[k]);
  created = column_index (columns, "created");
  list = join_columns (columns, "", "");
  values = placeholders (columns->len);
  update_sql =
    g_strdup_printf ("UPDATE runs SET (%s) = (%s) WHERE id = ?%u", list, values, columns->len + 1);
  if ((from = select_source (m, "runs", columns, TRUE, error)) == NULL ||
      (insert = insert_into (m, "runs", columns, NULL, error)) == NULL ||
      (update = prepare (m, FALSE, update_sql, error)) == NULL)
    return FALSE;
  while ((rc = sqlite3_step (from)) == SQLITE_ROW)
    {
      gint64 source_id = sqlite3_column_int64 (from, 0);
      gint64 image = map_lookup (m->images, sqlite3_column_int64 (from, key_index[0] + 1));
      sqlite3_stmt *find;
      gboolean found = FALSE;
      gint64 existing = 0, existing_created = 0;

      if (cancelled (m, row++, error))
        return FALSE;
      if (image == 0)
        continue;
      if ((find = gallery_store_prepare (m->into, sql_run_find, error)) == NULL)
        return FALSE;
      sqlite3_bind_int64 (find, 1, image);
      for (guint k = 1; k < G_N_ELEMENTS (key); k++)
        sqlite3_bind_value (find, (int) k + 1, sqlite3_column_value (from, key_index[k] + 1));
      if (!step_lookup (m, find, &found, error))
        return FALSE;
      if (found)
        {
          existing = sqlite3_column_int64 (find, 0);
          existing_created = sqlite3_column_int64 (find, 1);
        }
      sqlite3_reset (find);

      if (found && sqlite3_column_int64 (from, created + 1) <= existing_created)
        {
          map_insert (m->kept, source_id, existing);
          m->summary->runs_kept++;
          continue;
        }
      if (found)
        {
          sqlite3_stmt *drop;

          bind_row (update, from, 1, columns->len);
          sqlite3_bind_int64 (update, key_index[0] + 1, image);
          sqlite3_bind_int64 (update, (int) columns->len + 1, existing);
          if (!step_done (m, update, error) ||
              (drop = gallery_store_prepare (m->into, sql_run_tags_drop, error)) == NULL)
            return FALSE;
          sqlite3_bind_int64 (drop, 1, existing);
          if (!gallery_store_step_done (m->into, drop, error))
            return FALSE;
          m->summary->runs_replaced++;
        }
      else
        {
          bind_row (insert, from, 1, columns->len);
          sqlite3_bind_int64 (insert, key_index[0] + 1, image);
          if (!step_done (m, insert, error))
            return FALSE;
          existing = sqlite3_last_insert_rowid (m->db);
          m->summary->runs_added++;
        }
      map_insert (m->runs, source_id, existing);
    }
  return source_done (m, from, rc, error);
}

/* A removed tag stays removed; a tag the person touched stays theirs; what else a tag carries
 * (its score) is kept where the destination has it. */
static const char *const tag_merged[] = { "image_id", "name", "run_id", "source", "removed", NULL };

static gboolean
merge_tags (Merge *m, GError **error)
{
  g_autoptr (GPtrArray) columns = columns_of (m, "tags", NULL, error);
  g_autoptr (GString) tail = NULL;
  sqlite3_stmt *from, *insert;
  int image_id, run_id, source, removed, rc;
  guint64 row = 0;

  if (columns == NULL)
    return FALSE;
  image_id = column_index (columns, "image_id");
  run_id = column_index (columns, "run_id");
  source = column_index (columns, "source");
  removed = column_index (columns, "removed");
  tail = g_string_new (" ON CONFLICT (image_id, name) DO UPDATE SET"
                       " removed = max (removed, excluded.removed),"
                       " source = CASE WHEN excluded.source = 2 THEN 2 ELSE source END,"
                       " run_id = coalesce (run_id, excluded.run_id)");
  for (guint i = 0; i < columns->len; i++)
    if (!g_strv_contains (tag_merged, g_ptr_array_index (columns, i)))
      g_string_append_printf (tail, ", \"%s\" = coalesce (tags.\"%s\", excluded.\"%s\")",
                              (char *) g_ptr_array_index (columns, i),
                              (char *) g_ptr_array_index (columns, i),
                              (char *) g_ptr_array_index (columns, i));
  if ((from = select_source (m, "tags", columns, FALSE, error)) == NULL ||
      (insert = insert_into (m, "tags", columns, tail->str, error)) == NULL)
    return FALSE;
  while ((rc = sqlite3_step (from)) == SQLITE_ROW)
    {
      gint64 image = map_lookup (m->images, sqlite3_column_int64 (from, image_id));
      gboolean has_run = sqlite3_column_type (from, run_id) != SQLITE_NULL;
      gint64 source_run = sqlite3_column_int64 (from, run_id);
      gint64 run = map_lookup (m->runs, source_run);
      gboolean proposed = sqlite3_column_int (from, source) != GALLERY_TAG_SOURCE_USER &&
                          sqlite3_column_int (from, removed) == 0;

      if (cancelled (m, row++, error))
        return FALSE;
      /* A label of a result the destination had newer is not that result's label. */
      if (image == 0 || (proposed && has_run && run == 0))
        continue;
      if (run == 0 && has_run)
        run = map_lookup (m->kept, source_run);
      bind_row (insert, from, 0, columns->len);
      sqlite3_bind_int64 (insert, image_id + 1, image);
      if (run > 0)
        sqlite3_bind_int64 (insert, run_id + 1, run);
      else
        sqlite3_bind_null (insert, run_id + 1);
      if (!step_done (m, insert, error))
        return FALSE;
    }
  return source_done (m, from, rc, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Sources                                                                                     */

/* Whether two paths name one file (both must exist to be told apart from others). */
static gboolean
same_file (const char *a, const char *b)
{
  g_autofree char *real_a = realpath (a, NULL);
  g_autofree char *real_b = realpath (b, NULL);

  return real_a != NULL && real_b != NULL && strcmp (real_a, real_b) == 0;
}

static gboolean
merge_source (Merge *m, const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GRecMutexLocker) locker = NULL;
  gboolean ok;

  if (same_file (path, gallery_store_get_path (m->into)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is the gallery being merged into. Give it only after --into."), path);
      return FALSE;
    }
  m->from = gallery_store_open_full (path, GALLERY_STORE_READ_ONLY, &local_error);
  if (m->from == NULL &&
      g_error_matches (local_error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_READ_ONLY))
    {
      /* A gallery of an older version: brought up to date first, in its own transaction, as
       * any Depict does when it opens one. */
      GalleryStore *upgraded;

      g_clear_error (&local_error);
      if ((upgraded = gallery_store_open (path, &local_error)) != NULL)
        {
          gallery_store_close (upgraded);
          m->from = gallery_store_open_full (path, GALLERY_STORE_READ_ONLY, &local_error);
        }
    }
  if (m->from == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  _ ("“%s” cannot be merged: "), path);
      return FALSE;
    }
  locker = gallery_store_lock (m->from);
  m->src = gallery_store_get_db (m->from);
  m->images = map_new ();
  m->runs = map_new ();
  m->kept = map_new ();
  /* One read transaction: the source as it is at one moment, even while a tagger writes. */
  ok = gallery_store_exec (m->from, "BEGIN", error);
  ok = ok && merge_images (m, error) && merge_files (m, error) && merge_paths (m, error) &&
       merge_runs (m, error) && merge_tags (m, error);
  g_ptr_array_set_size (m->statements, 0);
  if (!sqlite3_get_autocommit (m->src))
    gallery_store_exec (m->from, "ROLLBACK", NULL);
  g_clear_pointer (&m->images, g_hash_table_unref);
  g_clear_pointer (&m->runs, g_hash_table_unref);
  g_clear_pointer (&m->kept, g_hash_table_unref);
  g_clear_pointer (&locker, g_rec_mutex_locker_free);
  g_clear_pointer (&m->from, gallery_store_close);
  m->src = NULL;
  m->summary->sources += ok;
  return ok;
}

gboolean
gallery_merge (GalleryStore *into, const char *const *sources, const GalleryMergeOptions *options,
               GalleryMergeSummary *summary, GCancellable *cancellable, GError **error)
{
  static const GalleryMergeOptions no_options = { NULL };
  g_autoptr (GRecMutexLocker) locker = NULL;
  g_autoptr (GHashTable) touched = NULL;
  GalleryMergeSummary local_summary = { 0 };
  GHashTableIter iter;
  gpointer key;
  Merge m = { 0 };

  g_return_val_if_fail (into != NULL && sources != NULL, FALSE);

  for (guint i = 0; options != NULL && options->map_prefixes != NULL && options->map_prefixes[i];
       i++)
    if (!gallery_merge_check_prefix (options->map_prefixes[i], error))
      return FALSE;
  if (!gallery_store_check_writable (into, error))
    return FALSE;

  locker = gallery_store_lock (into);
  touched = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  m.into = into;
  m.db = gallery_store_get_db (into);
  m.options = options != NULL ? options : &no_options;
  m.summary = &local_summary;
  m.cancellable = cancellable;
  m.touched = touched;
  m.statements = g_ptr_array_new_with_free_func ((GDestroyNotify) sqlite3_finalize);

  if (!gallery_store_begin (into, error))
    {
      g_ptr_array_unref (m.statements);
      return FALSE;
    }
  for (guint i = 0; sources[i] != NULL; i++)
    if (!merge_source (&m, sources[i], error))
      goto fail;
  /* The searchable text of each photo touched, from what it now has (only what changed is
   * written, so merging again rewrites nothing). */
  g_hash_table_iter_init (&iter, touched);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!gallery_store_refresh_text (into, *(gint64 *) key, error))
      goto fail;
  g_ptr_array_unref (m.statements);
  if (!gallery_store_commit (into, error))
    return FALSE;
  if (summary != NULL)
    *summary = local_summary;
  return TRUE;

fail:
  g_ptr_array_unref (m.statements);
  gallery_store_rollback (into);
  return FALSE;
}
