/* gallery-store-runs.c: the stored runs of the model on the photos, and the searchable text they
 * give
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "florence/files/florence-json.h"
#include "gallery/gallery-result.h"
#include "gallery/gallery-store-private.h"

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
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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
gboolean
gallery_store_refresh_text (GalleryStore *store, gint64 image_id, GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql_refresh_text, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, image_id);
  return gallery_store_step_done (store, stmt, error);
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
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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
  if (!gallery_store_step_done (store, stmt, error))
    goto fail;
  run_id = sqlite3_last_insert_rowid (gallery_store_get_db (store));

  for (guint i = 0; i < text->tags->len; i++)
    {
      GalleryTag *tag = g_ptr_array_index (text->tags, i);

      if ((stmt = gallery_store_prepare (store, sql_tag_propose, error)) == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, image_id);
      gallery_store_bind_text (stmt, 2, tag->name);
      sqlite3_bind_int64 (stmt, 3, run_id);
      sqlite3_bind_int (stmt, 4, tag->source);
      if (!gallery_store_step_done (store, stmt, error))
        goto fail;
    }
  if (run->image_width > 0 && run->image_height > 0)
    {
      if ((stmt = gallery_store_prepare (store, sql_image_size_fill, error)) == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, image_id);
      sqlite3_bind_int (stmt, 2, run->image_width);
      sqlite3_bind_int (stmt, 3, run->image_height);
      if (!gallery_store_step_done (store, stmt, error))
        goto fail;
    }
  if (!gallery_store_refresh_text (store, image_id, error))
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
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
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
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  gint64 n = 0;

  g_return_val_if_fail (store != NULL, -1);
  return gallery_store_query_int (store, "SELECT count(*) FROM runs", &n, error) ? n : -1;
}
