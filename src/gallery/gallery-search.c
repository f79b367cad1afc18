/* gallery-search.c: full-text search of the gallery
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "gallery/gallery-search.h"
#include "gallery/gallery-store-private.h"

/* Words that carry no meaning in a search for photos; "receipt from the bakery" looks for
 * "receipt" and "bakery". */
static const char *const stop_words[] = {
  "a",    "an", "and", "are", "as", "at", "be",  "by",   "for",  "from", "in",
  "into", "is", "it",  "of",  "on", "or", "the", "this", "that", "to",   "with",
};

static gboolean
is_stop_word (const char *word)
{
  g_autofree char *lower = g_utf8_strdown (word, -1);

  for (gsize i = 0; i < G_N_ELEMENTS (stop_words); i++)
    if (strcmp (lower, stop_words[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Whether the unicode61 tokenizer would find a token in the word: any letter or digit. */
static gboolean
has_token (const char *word)
{
  for (const char *p = word; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_isalnum (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

static void
append_quoted (GString *out, const char *word)
{
  g_string_append_c (out, '"');
  for (const char *p = word; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"'); /* FTS5 escapes a quote inside a string by doubling it */
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

/* The words searched for in TEXT (GPtrArray of char *), NULL when there are none; *prefix
 * says whether the last one also matches as a prefix. */
static GPtrArray *
search_words (const char *text, gboolean prefix_last, gboolean *prefix)
{
  g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) kept = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) parts = NULL;
  g_autofree char *valid = NULL;
  gboolean trailing_space;

  if (text == NULL)
    return NULL;
  valid = g_utf8_make_valid (text, -1);
  g_strdelimit (valid, "\t\n\r\f\v", ' ');
  parts = g_strsplit (valid, " ", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    if (has_token (parts[i]))
      g_ptr_array_add (words, g_strdup (parts[i]));
  if (words->len == 0)
    return NULL;

  for (guint i = 0; i < words->len; i++)
    if (!is_stop_word (g_ptr_array_index (words, i)))
      g_ptr_array_add (kept, g_strdup (g_ptr_array_index (words, i)));
  if (kept->len == 0)
    for (guint i = 0; i < words->len; i++)
      g_ptr_array_add (kept, g_strdup (g_ptr_array_index (words, i)));
  /* A stop word being typed ("th", "the") is still a prefix of the next real word. */
  trailing_space = valid[0] != '\0' && valid[strlen (valid) - 1] == ' ';
  if (prefix_last && !trailing_space &&
      strcmp (g_ptr_array_index (kept, kept->len - 1), g_ptr_array_index (words, words->len - 1)) !=
        0)
    g_ptr_array_add (kept, g_strdup (g_ptr_array_index (words, words->len - 1)));
  *prefix = prefix_last && !trailing_space;
  return g_steal_pointer (&kept);
}

char *
gallery_search_build_match (const char *text, gboolean prefix_last)
{
  gboolean prefix = FALSE;
  g_autoptr (GPtrArray) kept = search_words (text, prefix_last, &prefix);
  GString *out;

  if (kept == NULL)
    return NULL;
  out = g_string_new (NULL);
  for (guint i = 0; i < kept->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ' ');
      append_quoted (out, g_ptr_array_index (kept, i));
    }
  if (prefix)
    g_string_append_c (out, '*');
  return g_string_free (out, FALSE);
}

/* The SQL expression of a photo's confidence for QUERY (see GalleryQuery), for the image whose
 * id is ID_COLUMN; NEEDLES receives the parameters :w0, :w1, … to bind (" word " or, for a
 * prefix, " word"). */
static char *
confidence_sql (const GalleryQuery *query, const char *tag, const char *id_column,
                GPtrArray *needles)
{
  GString *sql = g_string_new (NULL);
  gboolean prefix = FALSE;
  g_autoptr (GPtrArray) words =
    tag == NULL ? search_words (query->text, query->prefix_last, &prefix) : NULL;

  g_string_append_printf (
    sql,
    "(SELECT max (" GALLERY_TAG_CONFIDENCE_SQL ("c") ") FROM tags c"
                                                     " WHERE c.image_id = %s AND c.removed = 0",
    id_column);
  if (tag != NULL)
    g_string_append (sql, " AND c.name = :tag");
  for (guint i = 0; words != NULL && i < words->len; i++)
    {
      g_autofree char *lower = g_utf8_strdown (g_ptr_array_index (words, i), -1);
      gboolean last_prefix = prefix && i + 1 == words->len;
      g_ptr_array_add (needles, g_strconcat (" ", lower, last_prefix ? "" : " ", NULL));
      g_string_append_printf (sql, " AND instr (' ' || c.name || ' ', :w%u) > 0", i);
    }
  g_string_append_c (sql, ')');
  return g_string_free (sql, FALSE);
}

void
gallery_hit_free (GalleryHit *hit)
{
  if (hit == NULL)
    return;
  g_free (hit->hash);
  g_free (hit->path);
  g_free (hit->snippet);
  g_free (hit->caption);
  g_free (hit);
}

static const char sql_hit_details[] =
  "SELECT hash,"
  " (SELECT path FROM image_paths WHERE image_id = ?1 ORDER BY missing, seen DESC, path"
  "  LIMIT 1),"
  " (SELECT text_caption FROM runs WHERE image_id = ?1 AND text_caption <> ''"
  "  ORDER BY created DESC, id DESC LIMIT 1)"
  " FROM images WHERE id = ?1";

/* Fills in a hit's details: 1, or 0 when its photo is gone (a stale row: removed between the
 * search and this fetch, or an index entry without its photo), or -1 on error. */
static int
fill_hit (GalleryStore *store, GalleryHit *hit, GError **error)
{
  sqlite3_stmt *stmt = gallery_store_prepare (store, sql_hit_details, error);
  int rc;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_int64 (stmt, 1, hit->image_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      const char *path = (const char *) sqlite3_column_text (stmt, 1);
      const char *caption = (const char *) sqlite3_column_text (stmt, 2);

      hit->hash = gallery_store_column_dup (stmt, 0);
      hit->path = g_strdup (path != NULL ? path : "");
      hit->caption = g_strdup (caption != NULL ? caption : "");
    }
  sqlite3_reset (stmt);
  if (rc == SQLITE_DONE)
    return 0;
  if (rc != SQLITE_ROW)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return -1;
    }
  return 1;
}

static void
bind_named_text (sqlite3_stmt *stmt, const char *name, const char *value)
{
  int index = sqlite3_bind_parameter_index (stmt, name);

  if (index > 0)
    gallery_store_bind_text (stmt, index, value);
}

static void
bind_named_int (sqlite3_stmt *stmt, const char *name, gint64 value)
{
  int index = sqlite3_bind_parameter_index (stmt, name);

  if (index > 0)
    sqlite3_bind_int64 (stmt, index, value);
}

static void
bind_needles (sqlite3_stmt *stmt, GPtrArray *needles)
{
  for (guint i = 0; i < needles->len; i++)
    {
      g_autofree char *name = g_strdup_printf (":w%u", i);
      bind_named_text (stmt, name, g_ptr_array_index (needles, i));
    }
}

/* Each hit's confidence for QUERY, one photo at a time. */
static gboolean
fill_confidence (GalleryStore *store, const GalleryQuery *query, const char *tag, GPtrArray *hits,
                 GError **error)
{
  g_autoptr (GPtrArray) needles = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *expression = confidence_sql (query, tag, ":id", needles);
  g_autofree char *sql = g_strconcat ("SELECT ", expression, NULL);
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (gallery_store_get_db (store), sql, -1, &stmt, NULL);

  for (guint i = 0; rc == SQLITE_OK && i < hits->len; i++)
    {
      GalleryHit *hit = g_ptr_array_index (hits, i);

      sqlite3_reset (stmt);
      bind_named_int (stmt, ":id", hit->image_id);
      bind_named_text (stmt, ":tag", tag);
      bind_needles (stmt, needles);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          if (sqlite3_column_type (stmt, 0) != SQLITE_NULL)
            hit->confidence = sqlite3_column_double (stmt, 0);
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

/* Leaves out the hits whose file is gone since the last check, and records it when the
 * store may write. */
static GPtrArray *
drop_gone (GalleryStore *store, GPtrArray *hits, GError **error)
{
  g_autoptr (GPtrArray) kept = hits;
  gboolean gone = FALSE;

  for (guint i = kept->len; i-- > 0;)
    {
      GalleryHit *hit = g_ptr_array_index (kept, i);

      if (hit->path[0] == '\0' || g_file_test (hit->path, G_FILE_TEST_IS_REGULAR))
        continue;
      g_ptr_array_remove_index (kept, i);
      gone = TRUE;
    }
  if (gone && gallery_store_check_writable (store, NULL) &&
      !gallery_store_check_files (store, NULL, NULL, NULL, error))
    return NULL;
  return g_steal_pointer (&kept);
}

GPtrArray *
gallery_search_run (GalleryStore *store, const GalleryQuery *query, GError **error)
{
  g_autoptr (GRecMutexLocker) locker = gallery_store_lock (store);
  g_autoptr (GPtrArray) hits = g_ptr_array_new_with_free_func ((GDestroyNotify) gallery_hit_free);
  g_autofree char *match = NULL;
  g_autofree char *tag = NULL;
  g_autofree char *lo = NULL, *hi = NULL;
  g_autoptr (GString) sql = g_string_new (NULL);
  g_autoptr (GPtrArray) needles = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *confidence = NULL;
  gboolean by_confidence;
  const char *id_column;
  sqlite3_stmt *stmt = NULL;
  sqlite3 *db;
  int rc;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (query != NULL, NULL);

  db = gallery_store_get_db (store);
  match = gallery_search_build_match (query->text, query->prefix_last);
  if (query->tag != NULL && (tag = gallery_tag_normalize (query->tag)) == NULL)
    return g_steal_pointer (&hits); /* a blank tag matches nothing */

  id_column = match != NULL ? "image_fts.rowid" : "i.id";
  /* in the query when it filters or orders by it, else only for the hits (below) */
  by_confidence = query->min_confidence > 0 || query->order_by_confidence;
  confidence = by_confidence ? confidence_sql (query, tag, id_column, needles) : g_strdup ("NULL");
  if (match != NULL)
    g_string_append_printf (sql,
                            "SELECT image_fts.rowid, image_fts.rank,"
                            " snippet (image_fts, -1, :open, :close, '…', 12), %s AS conf"
                            " FROM image_fts WHERE image_fts MATCH :match",
                            confidence);
  else
    g_string_append_printf (sql, "SELECT i.id, 0.0, '', %s AS conf FROM images i WHERE 1",
                            confidence);
  if (query->min_confidence > 0)
    g_string_append_printf (sql, " AND %s >= :min_confidence", confidence);
  /* With text, FTS5 drives and each hit is checked by primary key (an IN list would make
   * SQLite run the MATCH once per tagged image); without text, the tag index drives. */
  if (tag != NULL && match != NULL)
    g_string_append_printf (sql,
                            " AND EXISTS (SELECT 1 FROM tags t WHERE t.image_id = %s"
                            " AND t.name = :tag AND t.removed = 0)",
                            id_column);
  else if (tag != NULL)
    g_string_append_printf (sql,
                            " AND %s IN (SELECT image_id FROM tags"
                            " WHERE name = :tag AND removed = 0)",
                            id_column);
  if (query->task != NULL || query->since != 0 || query->until != 0)
    {
      g_string_append_printf (sql, " AND EXISTS (SELECT 1 FROM runs r WHERE r.image_id = %s",
                              id_column);
      if (query->task != NULL)
        g_string_append (sql, " AND r.task = :task");
      if (query->since != 0)
        g_string_append (sql, " AND r.created >= :since");
      if (query->until != 0)
        g_string_append (sql, " AND r.created < :until");
      g_string_append (sql, ")");
    }
  if (query->folder != NULL)
    {
      gallery_store_folder_range (query->folder, &lo, &hi);
      g_string_append_printf (sql,
                              " AND EXISTS (SELECT 1 FROM image_paths p"
                              " WHERE p.image_id = %s AND p.path >= :lo AND p.path < :hi)",
                              id_column);
    }
  if (!query->include_missing)
    g_string_append_printf (sql,
                            " AND EXISTS (SELECT 1 FROM image_paths m"
                            " WHERE m.image_id = %s AND m.missing = 0)",
                            id_column);
  g_string_append (sql, " ORDER BY ");
  if (query->order_by_confidence)
    g_string_append (sql, "conf IS NULL, conf DESC, ");
  if (match != NULL)
    g_string_append (sql, "image_fts.rank");
  else
    g_string_append (sql, "i.added DESC, i.id DESC");
  g_string_append (sql, " LIMIT :limit OFFSET :offset");

  rc = sqlite3_prepare_v2 (db, sql->str, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      sqlite3_finalize (stmt);
      return NULL;
    }
  bind_named_text (stmt, ":match", match);
  bind_named_text (stmt, ":open", query->mark_open != NULL ? query->mark_open : "[");
  bind_named_text (stmt, ":close", query->mark_close != NULL ? query->mark_close : "]");
  bind_named_text (stmt, ":tag", tag);
  bind_named_text (stmt, ":task", query->task);
  bind_named_int (stmt, ":since", query->since);
  bind_named_int (stmt, ":until", query->until);
  bind_named_text (stmt, ":lo", lo);
  bind_named_text (stmt, ":hi", hi);
  bind_named_int (stmt, ":limit", query->limit > 0 ? query->limit : 50);
  bind_named_int (stmt, ":offset", query->offset);
  if (query->min_confidence > 0)
    sqlite3_bind_double (stmt, sqlite3_bind_parameter_index (stmt, ":min_confidence"),
                         query->min_confidence);
  bind_needles (stmt, needles);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      GalleryHit *hit = g_new0 (GalleryHit, 1);
      hit->confidence = NAN;
      const char *snippet = (const char *) sqlite3_column_text (stmt, 2);

      hit->image_id = sqlite3_column_int64 (stmt, 0);
      hit->score = sqlite3_column_double (stmt, 1);
      hit->snippet = g_strdup (snippet != NULL ? snippet : "");
      hit->confidence =
        sqlite3_column_type (stmt, 3) == SQLITE_NULL ? NAN : sqlite3_column_double (stmt, 3);
      g_ptr_array_add (hits, hit);
    }
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      gallery_store_set_sqlite_error (store, rc, error);
      return NULL;
    }
  for (guint i = 0; i < hits->len;)
    switch (fill_hit (store, g_ptr_array_index (hits, i), error))
      {
      case 1:
        i++;
        break;
      case 0:
        g_ptr_array_remove_index (hits, i);
        break;
      default:
        return NULL;
      }
  if (!by_confidence && hits->len > 0 && !fill_confidence (store, query, tag, hits, error))
    return NULL;
  if (query->check_files && !query->include_missing)
    {
      g_clear_pointer (&locker, g_rec_mutex_locker_free);
      return drop_gone (store, g_steal_pointer (&hits), error);
    }
  return g_steal_pointer (&hits);
}
