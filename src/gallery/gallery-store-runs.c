/* gallery-store-runs.c: the stored runs of the model on the photos, and the searchable text they
 * give
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "florence/files/florence-json.h"
#include "gallery/gallery-result.h"
#include "gallery/gallery-store-private.h"

/* ------------------------------------------------------------------------------------------ */
/* Runs                                                                                        */

/* The weights part of a run's key: its hash, or for a run stored without one, its model. */
static char *
weights_key (const GalleryRun *run)
{
  if (run->weights_hash != NULL && run->weights_hash[0] != '\0')
    return g_strdup (run->weights_hash);
  return g_strconcat (GALLERY_STORE_UNKNOWN_WEIGHTS, run->model_name != NULL ? run->model_name : "",
                      NULL);
}

static const char sql_find_run[] =
  "SELECT id FROM runs WHERE image_id = ?1 AND task = ?2 AND text_input = ?3"
  " AND weights_hash = ?4 AND num_beams = ?5 AND max_new_tokens = ?6";

/* The id of image_id's run with the key of key: 0 = none, -1 = error (set). */
static gint64
find_run (GalleryStore *store, gint64 image_id, const GalleryRun *key, GError **error)
{
  g_autofree char *weights = weights_key (key);
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql_find_run, error);
  gint64 id = 0;
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, image_id);
  gallery_store_bind_text (stmt, 2, key->task);
  gallery_store_bind_text (stmt, 3, key->text_input != NULL ? key->text_input : "");
  gallery_store_bind_text (stmt, 4, weights);
  sqlite3_bind_int (stmt, 5, key->num_beams);
  sqlite3_bind_int (stmt, 6, key->max_new_tokens);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    id = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return -1;
    }
  return id;
}

gboolean
gallery_store_has_run (GalleryStore *store, gint64 image_id, const GalleryRun *key,
                       gboolean *out_found, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  gint64 id;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (key != NULL && key->task != NULL, FALSE);
  g_return_val_if_fail (out_found != NULL, FALSE);

  if ((id = find_run (store, image_id, key, error)) < 0)
    return FALSE;
  *out_found = id > 0;
  return TRUE;
}

static const char sql_run_insert[] =
  "INSERT INTO runs (image_id, task, text_input, model_name, weights_hash, num_beams,"
  " max_new_tokens, raw_text, token_ids, result, timings, created, text_caption, text_ocr,"
  " text_labels) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)";
/* The same columns of an existing run (?16): the key (?1-?3, ?5-?7) is already equal. */
static const char sql_run_replace[] =
  "UPDATE runs SET model_name = ?4, raw_text = ?8, token_ids = ?9, result = ?10,"
  " timings = ?11, created = ?12, text_caption = ?13, text_ocr = ?14, text_labels = ?15"
  " WHERE id = ?16 AND image_id = ?1 AND task = ?2 AND text_input = ?3 AND weights_hash = ?5"
  " AND num_beams = ?6 AND max_new_tokens = ?7";
/* The tags a replaced run proposed, unless the person has kept or removed them since. */
static const char sql_run_tags_drop[] =
  "DELETE FROM tags WHERE run_id = ?1 AND source <> 2 AND removed = 0";
/* A tag proposed again keeps its row (and the run that first proposed it) and takes the
 * better score; the person's own tags keep none. */
static const char sql_tag_propose[] =
  "INSERT INTO tags (image_id, name, run_id, source, removed, score)"
  " VALUES (?1, ?2, ?3, ?4, 0, ?5)"
  " ON CONFLICT (image_id, name) DO UPDATE SET score = excluded.score"
  " WHERE tags.source <> 2 AND excluded.score > coalesce (tags.score, -1.0)";
static const char sql_image_size_fill[] =
  "UPDATE images SET width = ?2, height = ?3 WHERE id = ?1 AND width = 0 AND height = 0";
static const char sql_refresh_text[] =
  "INSERT INTO image_text (image_id, captions, ocr, labels, tags) VALUES "
  "(?1, " GALLERY_STORE_TEXT_OF ("?1") ")" GALLERY_STORE_TEXT_UPSERT;

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
gallery_store_put_run (GalleryStore *store, gint64 image_id, GalleryRun *run,
                       GalleryRunConflict on_conflict, gboolean *out_stored, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  g_autoptr (GalleryResultText) text = NULL;
  g_autofree char *ids = NULL;
  g_autofree char *result = NULL;
  g_autofree char *timings = NULL;
  g_autofree char *weights = NULL;
  sqlite3_stmt *stmt;
  gint64 run_id;

  g_return_val_if_fail (store != NULL, 0);
  g_return_val_if_fail (image_id > 0, 0);
  g_return_val_if_fail (run != NULL && run->task != NULL, 0);

  if (out_stored != NULL)
    *out_stored = FALSE;
  text = gallery_result_extract (run->task, run->result);
  ids = gallery_run_ids_to_json (run->token_ids);
  result = json_node_to_string (run->result, "null");
  timings = json_node_to_string (run->timings, "{}");
  weights = weights_key (run);
  if (run->created == 0)
    run->created = g_get_real_time () / G_USEC_PER_SEC;

  /* The check and the write in one write transaction: no other writer comes between. */
  if (!gallery_store_begin (store, error))
    return 0;
  if ((run_id = find_run (store, image_id, run, error)) < 0)
    goto fail;
  if (run_id > 0 && on_conflict == GALLERY_RUN_KEEP_EXISTING)
    {
      if (!gallery_store_commit (store, error))
        return 0;
      run->id = run_id;
      run->image_id = image_id;
      return run_id;
    }
  if ((stmt = gallery_store_prepare (store, run_id > 0 ? sql_run_replace : sql_run_insert,
                                     error)) == NULL)
    goto fail;
  sqlite3_bind_int64 (stmt, 1, image_id);
  gallery_store_bind_text (stmt, 2, run->task);
  gallery_store_bind_text (stmt, 3, run->text_input != NULL ? run->text_input : "");
  gallery_store_bind_text (stmt, 4, run->model_name != NULL ? run->model_name : "");
  gallery_store_bind_text (stmt, 5, weights);
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
  if (run_id > 0)
    sqlite3_bind_int64 (stmt, 16, run_id);
  if (!gallery_store_step_done (store, stmt, error))
    goto fail;
  if (run_id == 0)
    run_id = sqlite3_last_insert_rowid (gallery_store_get_db (store));
  else
    {
      if ((stmt = gallery_store_prepare (store, sql_run_tags_drop, error)) == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, run_id);
      if (!gallery_store_step_done (store, stmt, error))
        goto fail;
    }

  for (guint i = 0; i < text->tags->len; i++)
    {
      GalleryTag *tag = g_ptr_array_index (text->tags, i);

      if (gallery_tag_confidence (tag) < run->min_tag_score)
        continue;
      if ((stmt = gallery_store_prepare (store, sql_tag_propose, error)) == NULL)
        goto fail;
      sqlite3_bind_int64 (stmt, 1, image_id);
      gallery_store_bind_text (stmt, 2, tag->name);
      sqlite3_bind_int64 (stmt, 3, run_id);
      sqlite3_bind_int (stmt, 4, tag->source);
      if (isnan (tag->score))
        sqlite3_bind_null (stmt, 5);
      else
        sqlite3_bind_double (stmt, 5, tag->score);
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
  if (out_stored != NULL)
    *out_stored = TRUE;
  return run_id;

fail:
  gallery_store_rollback (store);
  return 0;
}

gint64
gallery_store_add_run (GalleryStore *store, gint64 image_id, GalleryRun *run, GError **error)
{
  return gallery_store_put_run (store, image_id, run, GALLERY_RUN_REPLACE, NULL, error);
}

static const char sql_results_after[] =
  "SELECT r.id, r.task, r.result, i.width, i.height FROM runs r JOIN images i"
  " ON i.id = r.image_id WHERE r.id > ?1 ORDER BY r.id LIMIT 256";
static const char sql_result_set[] = "UPDATE runs SET result = ?2 WHERE id = ?1";

typedef struct {
  gint64 id;
  char *json;
} Rewrite;

static void
rewrite_free (gpointer data)
{
  Rewrite *rewrite = data;

  g_free (rewrite->json);
  g_free (rewrite);
}

/* The stored result in today's form, or NULL when it already is (or cannot be read). */
static char *
result_in_todays_form (const char *task, const char *stored, int width, int height)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (FlorenceResult) typed = NULL;
  g_autofree char *today = NULL;
  JsonNode *root;

  if (stored == NULL || !florence_json_load (parser, stored, -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL ||
      (typed = gallery_result_read (task, root, width, height, NULL)) == NULL)
    return NULL;
  today = florence_result_to_json (typed, FALSE);
  return strcmp (today, stored) != 0 ? g_steal_pointer (&today) : NULL;
}

gboolean
gallery_store_rewrite_results (GalleryStore *store, GError **error)
{
  gint64 last = 0;

  for (;;)
    {
      g_autoptr (GPtrArray) rewrites = g_ptr_array_new_with_free_func (rewrite_free);
      sqlite3_stmt *stmt = gallery_store_prepare (store, sql_results_after, error);
      guint rows = 0;
      int rc;

      if (stmt == NULL)
        return FALSE;
      gint64 next = last;

      sqlite3_bind_int64 (stmt, 1, last);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          g_autofree char *json =
            result_in_todays_form ((const char *) sqlite3_column_text (stmt, 1),
                                   (const char *) sqlite3_column_text (stmt, 2),
                                   sqlite3_column_int (stmt, 3), sqlite3_column_int (stmt, 4));
          gint64 id = sqlite3_column_int64 (stmt, 0);

          next = MAX (next, id);
          rows++;
          if (json != NULL)
            {
              Rewrite *rewrite = g_new0 (Rewrite, 1);

              rewrite->id = id;
              rewrite->json = g_steal_pointer (&json);
              g_ptr_array_add (rewrites, rewrite);
            }
        }
      sqlite3_reset (stmt);
      /* A damaged table can give rows out of order or twice: each batch must move on, or the
       * walk would never end. */
      if (rc == SQLITE_DONE && rows > 0 && next <= last)
        rc = SQLITE_CORRUPT;
      if (rc != SQLITE_DONE)
        {
          gallery_store_set_sqlite_error (store, rc, error);
          return FALSE;
        }
      last = next;
      for (guint i = 0; i < rewrites->len; i++)
        {
          Rewrite *rewrite = g_ptr_array_index (rewrites, i);

          if ((stmt = gallery_store_prepare (store, sql_result_set, error)) == NULL)
            return FALSE;
          sqlite3_bind_int64 (stmt, 1, rewrite->id);
          gallery_store_bind_text (stmt, 2, rewrite->json);
          if (!gallery_store_step_done (store, stmt, error))
            return FALSE;
        }
      if (rows == 0)
        return TRUE;
    }
}

static const char sql_list_runs[] =
  "SELECT id, task, text_input, model_name, weights_hash, num_beams, max_new_tokens, raw_text,"
  " token_ids, result, timings, created FROM runs WHERE image_id = ?1 ORDER BY created, id";

/* A text column of a run, valid UTF-8 whatever a damaged file holds (it is shown, indexed and
 * exported as JSON). */
static char *
column_text (sqlite3_stmt *stmt, int column)
{
  const char *text = (const char *) sqlite3_column_text (stmt, column);
  return g_utf8_make_valid (text != NULL ? text : "", -1);
}

/* A stored result or timings nests a few levels (a segmentation's polygons: 5). Deeper JSON is
 * nothing Depict stored; embedded in an export (a few levels more) it would pass the JSON
 * guard's limit, and Depict would write what it cannot read back. */
#define STORED_JSON_MAX_DEPTH 16

/* The levels of arrays and objects in node (1 for a scalar), counted up to limit + 1. */
static guint
json_depth (JsonNode *node, guint limit)
{
  guint deepest = 0;

  if (limit == 0)
    return 1;
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array) && deepest < limit; i++)
        deepest = MAX (deepest, json_depth (json_array_get_element (array, i), limit - 1));
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (deepest < limit && json_object_iter_next (&iter, NULL, &member))
        deepest = MAX (deepest, json_depth (member, limit - 1));
    }
  else
    return 1;
  return deepest + 1;
}

static JsonNode *
parse_json_or_null (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (text == NULL || !florence_json_load (parser, text, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || json_depth (root, STORED_JSON_MAX_DEPTH) > STORED_JSON_MAX_DEPTH)
    return NULL;
  return json_node_copy (root);
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
      run->task = column_text (stmt, 1);
      run->text_input = column_text (stmt, 2);
      run->model_name = column_text (stmt, 3);
      run->weights_hash = column_text (stmt, 4);
      run->num_beams = sqlite3_column_int (stmt, 5);
      run->max_new_tokens = sqlite3_column_int (stmt, 6);
      run->raw_text = column_text (stmt, 7);
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
