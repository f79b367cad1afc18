/* florence-tokenizer.c: byte-level BPE (BART vocabulary + Florence-2 added tokens)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file of this length: the pre-tokenizer, the BPE merge loop, the added-token matcher and the
 * byte-level decoder share the vocabulary tables and are right only together (spec §4); apart,
 * each would reach into the others' tables.
 */
#include "config.h"

#include <inttypes.h>

#include "florence/text/florence-tokenizer.h"
#include "florence/files/florence-file.h"
#include "florence/files/florence-json.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* The longest added token is "</region_to_desciption>" (23 bytes); allow some margin. */
#define MAX_ADDED_TOKEN_LEN 64
/* The BPE cache is cleared when it grows past this many words. */
#define BPE_CACHE_MAX 65536
/* Words up to this many bytes use the simple quadratic BPE loop, longer ones a heap. */
#define BPE_SHORT_WORD 64

typedef struct {
  gint32 left, right; /* key: the two symbol ids */
  gint32 rank;
  gint32 merged; /* id of the merged symbol */
} MergeSlot;

typedef struct {
  char *content;
  gint32 id;
  gboolean lstrip;
  gboolean special;
} AddedToken;

struct _FlorenceTokenizer {
  GPtrArray *id_to_token;       /* char *, indexed by id; NULL for unused ids */
  GHashTable *token_to_id;      /* char * (borrowed from id_to_token) -> id + 1 */
  guint8 *is_special;           /* per id */
  GArray *added;                /* AddedToken, all tokens matched before BPE */
  GHashTable *added_by_content; /* char * -> AddedToken index + 1 */
  gint32 byte_to_id[256];       /* id of the single-character token of each byte */
  char byte_to_utf8[256][4];    /* the byte-level alphabet: byte -> UTF-8 char */
  gint16 char_to_byte[512];     /* code point (< 512) -> byte, or -1 */
  MergeSlot *merges;            /* open addressing table */
  gsize merges_mask;

  GMutex cache_lock;
  GHashTable *cache; /* char *word -> GArray (gint32) */
  const char *file;  /* while loading: the file read, for messages */
};

G_DEFINE_QUARK (florence - tokenizer - error - quark, florence_tokenizer_error)

/* ------------------------------------------------------------------------------------- */
/* The GPT-2 byte-level alphabet                                                            */

static void
init_byte_alphabet (FlorenceTokenizer *self)
{
  int n = 0;

  for (int c = 0; c < 512; c++)
    self->char_to_byte[c] = -1;
  for (int b = 0; b < 256; b++)
    {
      gunichar c;
      gboolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);

      c = printable ? (gunichar) b : (gunichar) (256 + n++);
      memset (self->byte_to_utf8[b], 0, 4);
      g_unichar_to_utf8 (c, self->byte_to_utf8[b]);
      self->char_to_byte[c] = (gint16) b;
    }
}

/* ------------------------------------------------------------------------------------- */
/* Merge table                                                                              */

static inline guint32
merge_hash (gint32 a, gint32 b)
{
  guint64 k = ((guint64) (guint32) a << 32) | (guint32) b;

  k ^= k >> 33;
  k *= G_GUINT64_CONSTANT (0xff51afd7ed558ccd);
  k ^= k >> 33;
  return (guint32) k;
}

static void
merges_alloc (FlorenceTokenizer *self, gsize n_merges)
{
  gsize size = 16;

  while (size < n_merges * 2 + 16)
    size *= 2;
  self->merges = g_new (MergeSlot, size);
  for (gsize i = 0; i < size; i++)
    self->merges[i].left = -1;
  self->merges_mask = size - 1;
}

static void
merges_insert (FlorenceTokenizer *self, gint32 a, gint32 b, gint32 rank, gint32 merged)
{
  gsize i = merge_hash (a, b) & self->merges_mask;

  while (self->merges[i].left != -1)
    {
      if (self->merges[i].left == a && self->merges[i].right == b)
        return; /* keep the first (lowest) rank */
      i = (i + 1) & self->merges_mask;
    }
  self->merges[i] = (MergeSlot){ a, b, rank, merged };
}

static const MergeSlot *
merges_find (const FlorenceTokenizer *self, gint32 a, gint32 b)
{
  gsize i = merge_hash (a, b) & self->merges_mask;

  while (self->merges[i].left != -1)
    {
      if (self->merges[i].left == a && self->merges[i].right == b)
        return &self->merges[i];
      i = (i + 1) & self->merges_mask;
    }
  return NULL;
}

/* ------------------------------------------------------------------------------------- */
/* Loading                                                                                  */

static FlorenceTokenizer *
tokenizer_alloc (void)
{
  FlorenceTokenizer *self = g_new0 (FlorenceTokenizer, 1);

  self->id_to_token = g_ptr_array_new_with_free_func (g_free);
  self->token_to_id = g_hash_table_new (g_str_hash, g_str_equal);
  self->added = g_array_new (FALSE, TRUE, sizeof (AddedToken));
  self->added_by_content = g_hash_table_new (g_str_hash, g_str_equal);
  self->cache =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_array_unref);
  g_mutex_init (&self->cache_lock);
  init_byte_alphabet (self);
  return self;
}

void
florence_tokenizer_free (FlorenceTokenizer *self)
{
  if (self == NULL)
    return;
  for (guint i = 0; i < self->added->len; i++)
    g_free (g_array_index (self->added, AddedToken, i).content);
  g_array_unref (self->added);
  g_hash_table_unref (self->added_by_content);
  g_hash_table_unref (self->token_to_id);
  g_ptr_array_unref (self->id_to_token);
  g_free (self->is_special);
  g_free (self->merges);
  g_hash_table_unref (self->cache);
  g_mutex_clear (&self->cache_lock);
  g_free (self);
}

static GError *
invalid_file_error (const char *path, const char *what)
{
  return g_error_new (FLORENCE_TOKENIZER_ERROR, FLORENCE_TOKENIZER_ERROR_INVALID,
                      _ ("The tokenizer file “%s” is damaged (%s). Download the model again."),
                      path, what);
}

static gboolean
set_token (FlorenceTokenizer *self, gint64 id, const char *token, GError **error)
{
  if (!g_utf8_validate (token, -1, NULL))
    {
      g_propagate_error (error,
                         invalid_file_error (self->file, _ ("a token that is not UTF-8 text")));
      return FALSE;
    }
  if (id < 0 || id > 1000000)
    {
      g_autofree char *what = g_strdup_printf (_ ("the invalid token id %" PRId64), id);

      g_propagate_error (error, invalid_file_error (self->file, what));
      return FALSE;
    }
  if ((guint) id >= self->id_to_token->len)
    g_ptr_array_set_size (self->id_to_token, (guint) id + 1);
  if (g_ptr_array_index (self->id_to_token, id) != NULL)
    {
      /* The same id twice: keep the first string, but make the new one findable. */
      if (!g_hash_table_contains (self->token_to_id, token))
        {
          const char *kept = g_ptr_array_index (self->id_to_token, id);
          if (strcmp (kept, token) != 0)
            {
              g_autofree char *what = g_strdup_printf (_ ("two tokens with the id %" PRId64), id);

              g_propagate_error (error, invalid_file_error (self->file, what));
              return FALSE;
            }
        }
      return TRUE;
    }
  g_ptr_array_index (self->id_to_token, id) = g_strdup (token);
  if (!g_hash_table_contains (self->token_to_id, token))
    g_hash_table_insert (self->token_to_id, g_ptr_array_index (self->id_to_token, id),
                         GINT_TO_POINTER ((gint) id + 1));
  return TRUE;
}

static void
add_added_token (FlorenceTokenizer *self, const char *content, gint32 id, gboolean lstrip,
                 gboolean special)
{
  AddedToken t = { g_strdup (content), id, lstrip, special };

  g_array_append_val (self->added, t);
  if (!g_hash_table_contains (self->added_by_content, t.content))
    g_hash_table_insert (self->added_by_content, t.content, GUINT_TO_POINTER (self->added->len));
}

/* The tokens that Florence2Processor adds, in its order (spec §7.2). */
static GPtrArray *
florence_added_tokens (void)
{
  static const char *const head[] = { "<od>", "</od>", "<ocr>", "</ocr>" };
  static const char *const tail[] = {
    "<cap>",
    "</cap>",
    "<ncap>",
    "</ncap>",
    "<dcap>",
    "</dcap>",
    "<grounding>",
    "</grounding>",
    "<seg>",
    "</seg>",
    "<sep>",
    "<region_cap>",
    "</region_cap>",
    "<region_to_desciption>",
    "</region_to_desciption>",
    "<proposal>",
    "</proposal>",
    "<poly>",
    "</poly>",
    "<and>",
  };
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);

  for (gsize i = 0; i < G_N_ELEMENTS (head); i++)
    g_ptr_array_add (list, g_strdup (head[i]));
  for (int k = 0; k < FLORENCE_NUM_LOC_BINS; k++)
    g_ptr_array_add (list, g_strdup_printf ("<loc_%d>", k));
  for (gsize i = 0; i < G_N_ELEMENTS (tail); i++)
    g_ptr_array_add (list, g_strdup (tail[i]));
  return list;
}

static gint32
lookup_id (FlorenceTokenizer *self, const char *token)
{
  gpointer v = g_hash_table_lookup (self->token_to_id, token);

  return v != NULL ? GPOINTER_TO_INT (v) - 1 : -1;
}

/* Adds a merge "a b" (already split) of rank RANK. Merges whose parts or result are not in
 * the vocabulary can never apply and are skipped. */
static void
add_merge (FlorenceTokenizer *self, const char *a, const char *b, gint32 rank)
{
  g_autofree char *merged = g_strconcat (a, b, NULL);
  gint32 ia = lookup_id (self, a), ib = lookup_id (self, b), im = lookup_id (self, merged);

  if (ia < 0 || ib < 0 || im < 0)
    return;
  merges_insert (self, ia, ib, rank, im);
}

/* Completes a tokenizer whose vocabulary, base added tokens and merges are loaded. */
static gboolean
finish_loading (FlorenceTokenizer *self, GError **error)
{
  g_autoptr (GPtrArray) extra = florence_added_tokens ();
  gint32 next_id = (gint32) self->id_to_token->len;

  /* The processor's tokens get consecutive ids from len(tokenizer), unless the file
   * already defines them. */
  for (guint i = 0; i < extra->len; i++)
    {
      const char *content = g_ptr_array_index (extra, i);
      if (g_hash_table_contains (self->added_by_content, content))
        continue;
      gint32 id = lookup_id (self, content);
      if (id < 0)
        {
          id = next_id++;
          if (!set_token (self, id, content, error))
            return FALSE;
        }
      add_added_token (self, content, id, FALSE, TRUE);
    }

  for (int b = 0; b < 256; b++)
    {
      self->byte_to_id[b] = lookup_id (self, self->byte_to_utf8[b]);
      if (self->byte_to_id[b] < 0)
        {
          g_autofree char *what =
            g_strdup_printf (_ ("not a byte-level BPE vocabulary: the byte %d has no token"), b);

          g_propagate_error (error, invalid_file_error (self->file, what));
          return FALSE;
        }
    }

  self->is_special = g_new0 (guint8, self->id_to_token->len);
  for (guint i = 0; i < self->added->len; i++)
    {
      AddedToken *t = &g_array_index (self->added, AddedToken, i);
      if (t->special && t->id >= 0 && (guint) t->id < self->id_to_token->len)
        self->is_special[t->id] = 1;
    }
  return TRUE;
}

static gboolean
load_vocab_object (FlorenceTokenizer *self, JsonObject *vocab, GError **error)
{
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  json_object_iter_init (&iter, vocab);
  while (json_object_iter_next (&iter, &key, &value))
    {
      if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_INT64)
        {
          g_propagate_error (error,
                             invalid_file_error (self->file, _ ("a token without a numeric id")));
          return FALSE;
        }
      if (!set_token (self, json_node_get_int (value), key, error))
        return FALSE;
    }
  return TRUE;
}

static void
add_default_specials (FlorenceTokenizer *self)
{
  static const char *const specials[] = { "<s>", "<pad>", "</s>", "<unk>", "<mask>" };

  for (gsize i = 0; i < G_N_ELEMENTS (specials); i++)
    {
      gint32 id = lookup_id (self, specials[i]);
      if (id >= 0 && !g_hash_table_contains (self->added_by_content, specials[i]))
        add_added_token (self, specials[i], id, strcmp (specials[i], "<mask>") == 0, TRUE);
    }
}

/* Typed members of tokenizer.json: absent (or null) leaves *out as it is; a member of another
 * type is an error (json-glib's own getters would log a critical and return a default). */
static gboolean
member_string (JsonObject *obj, const char *name, const char **out)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return FALSE;
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
member_int (JsonObject *obj, const char *name, gint64 *out)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  *out = json_node_get_int (node);
  return TRUE;
}

static gboolean
member_bool (JsonObject *obj, const char *name, gboolean *out)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return FALSE;
  *out = json_node_get_boolean (node);
  return TRUE;
}

/* A string value node, or NULL. */
static const char *
node_string (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* tokenizer.json's "added_tokens": special tokens with their ids and lstrip flags. */
static gboolean
load_added_tokens (FlorenceTokenizer *self, JsonObject *root, const char *tokenizer_json,
                   GError **error)
{
  JsonNode *added_node = json_object_get_member (root, "added_tokens");
  JsonArray *added = NULL;

  if (added_node != NULL && !JSON_NODE_HOLDS_NULL (added_node))
    {
      if (!JSON_NODE_HOLDS_ARRAY (added_node))
        {
          g_propagate_error (
            error, invalid_file_error (tokenizer_json, _ ("its added_tokens is not a list")));
          return FALSE;
        }
      added = json_node_get_array (added_node);
    }
  for (guint i = 0; added != NULL && i < json_array_get_length (added); i++)
    {
      JsonNode *node = json_array_get_element (added, i);
      JsonObject *t;
      const char *content;
      gint64 id;
      gboolean lstrip, special;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          g_propagate_error (
            error, invalid_file_error (tokenizer_json, _ ("an added token that is not an object")));
          return FALSE;
        }
      t = json_node_get_object (node);
      content = NULL;
      id = -1;
      lstrip = FALSE;
      special = TRUE;
      if (!member_string (t, "content", &content) || !member_int (t, "id", &id) ||
          !member_bool (t, "lstrip", &lstrip) || !member_bool (t, "special", &special))
        {
          g_propagate_error (error, invalid_file_error (
                                      tokenizer_json, _ ("an added token with a field of the wrong "
                                                         "type")));
          return FALSE;
        }
      if (content == NULL || *content == '\0' || id < 0)
        {
          g_propagate_error (
            error, invalid_file_error (tokenizer_json, _ ("an added token without content or id")));
          return FALSE;
        }
      if (!set_token (self, id, content, error))
        return FALSE;
      add_added_token (self, content, (gint32) id, lstrip, special);
    }
  return TRUE;
}

/* tokenizer.json's "model.merges": "a b" strings or ["a", "b"] pairs, by rank. */
static gboolean
load_merges (FlorenceTokenizer *self, JsonArray *merges, const char *tokenizer_json, GError **error)
{
  merges_alloc (self, json_array_get_length (merges));
  for (guint i = 0; i < json_array_get_length (merges); i++)
    {
      JsonNode *node = json_array_get_element (merges, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        {
          const char *m = json_node_get_string (node);
          const char *sp = strchr (m, ' ');
          if (sp == NULL)
            {
              g_propagate_error (
                error, invalid_file_error (tokenizer_json, _ ("a merge without a space")));
              return FALSE;
            }
          g_autofree char *a = g_strndup (m, sp - m);
          add_merge (self, a, sp + 1, (gint32) i);
        }
      else if (JSON_NODE_HOLDS_ARRAY (node) &&
               json_array_get_length (json_node_get_array (node)) == 2)
        {
          JsonArray *pair = json_node_get_array (node);
          JsonNode *na = json_array_get_element (pair, 0), *nb = json_array_get_element (pair, 1);
          const char *a = node_string (na);
          const char *b = node_string (nb);
          if (a == NULL || b == NULL)
            {
              g_propagate_error (error,
                                 invalid_file_error (tokenizer_json, _ ("a malformed merge")));
              return FALSE;
            }
          add_merge (self, a, b, (gint32) i);
        }
      else
        {
          g_propagate_error (error, invalid_file_error (tokenizer_json, _ ("a malformed merge")));
          return FALSE;
        }
    }
  return TRUE;
}

FlorenceTokenizer *
florence_tokenizer_new_from_file (const char *tokenizer_json, GError **error)
{
  g_autoptr (FlorenceTokenizer) self = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonObject *root, *model;
  const char *model_type;

  g_return_val_if_fail (tokenizer_json != NULL, NULL);

  if (!florence_json_load_file (parser, tokenizer_json, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, FLORENCE_TOKENIZER_ERROR, FLORENCE_TOKENIZER_ERROR_NOT_FOUND,
                     _ ("The tokenizer file “%s” does not exist. Download the model again."),
                     tokenizer_json);
      else
        g_propagate_error (error, invalid_file_error (tokenizer_json, local_error->message));
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_propagate_error (error, invalid_file_error (tokenizer_json, _ ("not a JSON object")));
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  model = json_object_has_member (root, "model") &&
              JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "model"))
            ? json_object_get_object_member (root, "model")
            : NULL;
  if (model == NULL || !json_object_has_member (model, "vocab") ||
      !JSON_NODE_HOLDS_OBJECT (json_object_get_member (model, "vocab")) ||
      !json_object_has_member (model, "merges") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (model, "merges")))
    {
      g_propagate_error (error, invalid_file_error (tokenizer_json, _ ("no BPE model")));
      return NULL;
    }
  model_type = "BPE";
  if (!member_string (model, "type", &model_type) || g_strcmp0 (model_type, "BPE") != 0)
    {
      g_propagate_error (error, invalid_file_error (tokenizer_json, _ ("not a BPE model")));
      return NULL;
    }

  self = tokenizer_alloc ();
  self->file = tokenizer_json;
  if (!load_vocab_object (self, json_object_get_object_member (model, "vocab"), error))
    return NULL;

  if (!load_added_tokens (self, root, tokenizer_json, error))
    return NULL;
  add_default_specials (self);
  if (!load_merges (self, json_object_get_array_member (model, "merges"), tokenizer_json, error))
    return NULL;

  if (!finish_loading (self, error))
    return NULL;
  self->file = NULL;
  return g_steal_pointer (&self);
}

FlorenceTokenizer *
florence_tokenizer_new_from_vocab_merges (const char *vocab_json, const char *merges_txt,
                                          GError **error)
{
  g_autoptr (FlorenceTokenizer) self = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  gsize len;
  gint32 rank = 0;

  g_return_val_if_fail (vocab_json != NULL && merges_txt != NULL, NULL);

  if (!florence_json_load_file (parser, vocab_json, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, FLORENCE_TOKENIZER_ERROR, FLORENCE_TOKENIZER_ERROR_NOT_FOUND,
                     _ ("The tokenizer file “%s” does not exist. Download the model again."),
                     vocab_json);
      else
        g_propagate_error (error, invalid_file_error (vocab_json, local_error->message));
      return NULL;
    }
  if (json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_propagate_error (error, invalid_file_error (vocab_json, _ ("not a JSON object")));
      return NULL;
    }
  if (!florence_file_get_contents (merges_txt, FLORENCE_JSON_MAX_FILE_SIZE, &contents, &len,
                                   &local_error))
    {
      g_set_error (error, FLORENCE_TOKENIZER_ERROR,
                   g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT)
                     ? FLORENCE_TOKENIZER_ERROR_NOT_FOUND
                     : FLORENCE_TOKENIZER_ERROR_INVALID,
                   _ ("Could not read the tokenizer merges “%s”: %s. Download the model again."),
                   merges_txt, local_error->message);
      return NULL;
    }

  self = tokenizer_alloc ();
  self->file = vocab_json;
  if (!load_vocab_object (self, json_node_get_object (json_parser_get_root (parser)), error))
    return NULL;
  add_default_specials (self);

  lines = g_strsplit (contents, "\n", -1);
  merges_alloc (self, g_strv_length (lines));
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      gsize l = strlen (line);
      char *sp;

      if (l > 0 && line[l - 1] == '\r')
        line[--l] = '\0';
      if (l == 0 || (i == 0 && g_str_has_prefix (line, "#version")))
        continue;
      sp = strchr (line, ' ');
      if (sp == NULL)
        {
          g_propagate_error (error, invalid_file_error (merges_txt, _ ("a merge without a space")));
          return NULL;
        }
      *sp = '\0';
      add_merge (self, line, sp + 1, rank++);
    }

  if (!finish_loading (self, error))
    return NULL;
  self->file = NULL;
  return g_steal_pointer (&self);
}

FlorenceTokenizer *
florence_tokenizer_new_from_dir (const char *dir, GError **error)
{
  g_autofree char *json = NULL, *vocab = NULL, *merges = NULL;

  g_return_val_if_fail (dir != NULL, NULL);

  json = g_build_filename (dir, "tokenizer.json", NULL);
  if (g_file_test (json, G_FILE_TEST_EXISTS))
    return florence_tokenizer_new_from_file (json, error);
  vocab = g_build_filename (dir, "vocab.json", NULL);
  merges = g_build_filename (dir, "merges.txt", NULL);
  if (g_file_test (vocab, G_FILE_TEST_EXISTS) && g_file_test (merges, G_FILE_TEST_EXISTS))
    return florence_tokenizer_new_from_vocab_merges (vocab, merges, error);
  g_set_error (error, FLORENCE_TOKENIZER_ERROR, FLORENCE_TOKENIZER_ERROR_NOT_FOUND,
               _ ("The folder “%s” has no tokenizer (tokenizer.json, or vocab.json and "
                  "merges.txt). Choose a Florence-2 model folder or download the model again."),
               dir);
  return NULL;
}

/* ------------------------------------------------------------------------------------- */
/* Accessors                                                                                */

guint
florence_tokenizer_get_vocab_size (FlorenceTokenizer *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->id_to_token->len;
}

const char *
florence_tokenizer_id_to_token (FlorenceTokenizer *self, gint32 id)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (id < 0 || (guint) id >= self->id_to_token->len)
    return NULL;
  return g_ptr_array_index (self->id_to_token, id);
}

gint32
florence_tokenizer_token_to_id (FlorenceTokenizer *self, const char *token)
{
  g_return_val_if_fail (self != NULL && token != NULL, -1);
  return lookup_id (self, token);
}

gboolean
florence_tokenizer_is_special (FlorenceTokenizer *self, gint32 id)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return id >= 0 && (guint) id < self->id_to_token->len && self->is_special[id];
}

/* ------------------------------------------------------------------------------------- */
/* Pre-tokenization: the GPT-2 regex
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * as Oniguruma runs it: \s is Unicode White_Space, \p{L} the letter categories, \p{N}
 * the number categories (Nd, Nl, No).                                                      */

enum { CLS_SPACE, CLS_LETTER, CLS_NUMBER, CLS_OTHER };

/* Unicode White_Space (what Oniguruma's \s and Rust's char::is_whitespace match). */
static gboolean
is_white_space (gunichar c)
{
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

static int
char_class (gunichar c)
{
  if (is_white_space (c))
    return CLS_SPACE;
  switch (g_unichar_type (c))
    {
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_OTHER_LETTER:
      return CLS_LETTER;
    case G_UNICODE_DECIMAL_NUMBER:
    case G_UNICODE_LETTER_NUMBER:
    case G_UNICODE_OTHER_NUMBER:
      return CLS_NUMBER;
    default:
      return CLS_OTHER;
    }
}

/* Length in bytes of the pre-token starting at S (S < END, valid UTF-8). */
static gsize
pretoken_length (const char *s, const char *end)
{
  const char *p = s;
  gunichar c = g_utf8_get_char (p);
  int cls;

  /* Contractions */
  if (c == '\'' && p + 1 < end)
    {
      static const char *const contr[] = { "s", "t", "re", "ve", "m", "ll", "d" };
      for (gsize i = 0; i < G_N_ELEMENTS (contr); i++)
        {
          gsize l = strlen (contr[i]);
          if ((gsize) (end - p - 1) >= l && memcmp (p + 1, contr[i], l) == 0)
            return l + 1;
        }
    }

  /* " ?X+" for X in letters, numbers, others */
  {
    const char *q = p;
    if (c == ' ' && q + 1 < end)
      q++;
    gunichar d = g_utf8_get_char (q);
    cls = char_class (d);
    if (cls != CLS_SPACE && (q != p || c != ' '))
      {
        const char *r = g_utf8_next_char (q);
        while (r < end && char_class (g_utf8_get_char (r)) == cls)
          r = g_utf8_next_char (r);
        return r - s;
      }
  }

  /* \s+(?!\S) | \s+ */
  {
    const char *r = p, *last = p;
    while (r < end && char_class (g_utf8_get_char (r)) == CLS_SPACE)
      {
        last = r;
        r = g_utf8_next_char (r);
      }
    if (r == p)
      return g_utf8_next_char (p) - s; /* cannot happen: every char has a class */
    if (r >= end)
      return r - s;
    /* followed by non-space: give back the last whitespace char if that leaves some */
    if (last > p)
      return last - s;
    return r - s;
  }
}

/* Appends BYTES as UTF-8 to OUT, replacing each maximal invalid subsequence (the
 * "maximal subpart" practice of Unicode §3.9, as Python and Rust do) by U+FFFD. ORIGIN, when
 * not NULL, holds one gsize per byte of OUT: for each byte appended, the index in BYTES where
 * the sequence it comes from starts. */
static void
append_utf8_lossy (GString *out, const guint8 *b, gsize n, GArray *origin)
{
  gsize i = 0, start = 0;

  while (i < n)
    {
      guint8 c = b[i];
      gsize need, j;
      guint8 lo = 0x80, hi = 0xBF;

      while (origin != NULL && origin->len < out->len)
        g_array_append_val (origin, start);
      start = i;

      if (c < 0x80)
        {
          g_string_append_c (out, (char) c);
          i++;
          continue;
        }
      if (c >= 0xC2 && c <= 0xDF)
        need = 1;
      else if (c >= 0xE0 && c <= 0xEF)
        {
          need = 2;
          if (c == 0xE0)
            lo = 0xA0;
          else if (c == 0xED)
            hi = 0x9F;
        }
      else if (c >= 0xF0 && c <= 0xF4)
        {
          need = 3;
          if (c == 0xF0)
            lo = 0x90;
          else if (c == 0xF4)
            hi = 0x8F;
        }
      else
        {
          g_string_append (out, "\xEF\xBF\xBD");
          i++;
          continue;
        }

      for (j = 1; j <= need; j++)
        {
          if (i + j >= n)
            break;
          guint8 d = b[i + j];
          guint8 l = j == 1 ? lo : 0x80, h = j == 1 ? hi : 0xBF;
          if (d < l || d > h)
            break;
        }
      if (j > need)
        {
          g_string_append_len (out, (const char *) b + i, (gssize) need + 1);
          i += need + 1;
        }
      else
        {
          g_string_append (out, "\xEF\xBF\xBD");
          i += j; /* the lead byte and the valid continuation bytes seen */
        }
    }
  while (origin != NULL && origin->len < out->len)
    g_array_append_val (origin, start);
}

/* ------------------------------------------------------------------------------------- */
/* BPE                                                                                      */

/* A candidate merge of the symbols at LEFT and its right neighbour. */
typedef struct {
  gint32 rank;
  guint32 left;
  gint32 left_id, right_id;
} Candidate;

static gboolean
candidate_less (const Candidate *a, const Candidate *b)
{
  return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void
heap_push (GArray *heap, const Candidate *c)
{
  gsize i;
  Candidate *h;

  g_array_append_val (heap, *c);
  h = (Candidate *) heap->data;
  for (i = heap->len - 1; i > 0 && candidate_less (&h[i], &h[(i - 1) / 2]); i = (i - 1) / 2)
    {
      Candidate t = h[i];
      h[i] = h[(i - 1) / 2];
      h[(i - 1) / 2] = t;
    }
}

static Candidate
heap_pop (GArray *heap)
{
  Candidate *h = (Candidate *) heap->data;
  Candidate top = h[0];
  gsize i = 0, n;

  h[0] = h[heap->len - 1];
  g_array_set_size (heap, heap->len - 1);
  n = heap->len;
  for (;;)
    {
      gsize l = 2 * i + 1, r = l + 1, m = i;
      if (l < n && candidate_less (&h[l], &h[m]))
        m = l;
      if (r < n && candidate_less (&h[r], &h[m]))
        m = r;
      if (m == i)
        break;
      Candidate t = h[i];
      h[i] = h[m];
      h[m] = t;
      i = m;
    }
  return top;
}

/* BPE of a long word in O(n log n): the same merges in the same order as bpe_word()
 * (lowest rank first, leftmost first on ties), with the symbols in a linked list and the
 * candidate pairs in a heap. Candidates made stale by earlier merges are skipped. */
static void
bpe_word_long (FlorenceTokenizer *self, const char *word, gsize len, GArray *out)
{
  g_autofree gint32 *sym = g_new (gint32, len);
  g_autofree gint64 *next = g_new (gint64, len);
  g_autofree gint64 *prev = g_new (gint64, len);
  g_autoptr (GArray) heap = g_array_new (FALSE, FALSE, sizeof (Candidate));

  for (gsize i = 0; i < len; i++)
    {
      sym[i] = self->byte_to_id[(guint8) word[i]];
      prev[i] = (gint64) i - 1;
      next[i] = i + 1 < len ? (gint64) i + 1 : -1;
    }
  for (gsize i = 0; i + 1 < len; i++)
    {
      const MergeSlot *m = merges_find (self, sym[i], sym[i + 1]);
      if (m != NULL)
        heap_push (heap, &(Candidate){ m->rank, (guint32) i, sym[i], sym[i + 1] });
    }

  while (heap->len > 0)
    {
      Candidate c = heap_pop (heap);
      gint64 r = next[c.left];
      const MergeSlot *m;

      if (sym[c.left] != c.left_id || r < 0 || sym[r] != c.right_id)
        continue; /* stale */
      m = merges_find (self, c.left_id, c.right_id);
      sym[c.left] = m->merged;
      sym[r] = -1;
      next[c.left] = next[r];
      if (next[r] >= 0)
        prev[next[r]] = c.left;
      if (prev[c.left] >= 0)
        {
          gint64 p = prev[c.left];
          const MergeSlot *pm = merges_find (self, sym[p], sym[c.left]);
          if (pm != NULL)
            heap_push (heap, &(Candidate){ pm->rank, (guint32) p, sym[p], sym[c.left] });
        }
      if (next[c.left] >= 0)
        {
          gint64 q = next[c.left];
          const MergeSlot *nm = merges_find (self, sym[c.left], sym[q]);
          if (nm != NULL)
            heap_push (heap, &(Candidate){ nm->rank, (guint32) c.left, sym[c.left], sym[q] });
        }
    }
  for (gint64 i = 0; i >= 0; i = next[i])
    g_array_append_val (out, sym[i]);
}

static void
bpe_word (FlorenceTokenizer *self, const char *word, gsize len, GArray *out)
{
  g_autofree gint32 *sym = NULL;
  gsize n = len;

  if (len == 1)
    {
      g_array_append_val (out, self->byte_to_id[(guint8) word[0]]);
      return;
    }
  if (len > BPE_SHORT_WORD)
    {
      bpe_word_long (self, word, len, out);
      return;
    }

  sym = g_new (gint32, len);
  for (gsize i = 0; i < len; i++)
    sym[i] = self->byte_to_id[(guint8) word[i]];

  /* Repeatedly merge the lowest-ranked adjacent pair (leftmost on ties). */
  while (n > 1)
    {
      gint32 best_rank = G_MAXINT32, best_merged = -1;
      gsize best = 0;

      for (gsize i = 0; i + 1 < n; i++)
        {
          const MergeSlot *m = merges_find (self, sym[i], sym[i + 1]);
          if (m != NULL && m->rank < best_rank)
            {
              best_rank = m->rank;
              best_merged = m->merged;
              best = i;
            }
        }
      if (best_merged < 0)
        break;
      sym[best] = best_merged;
      memmove (sym + best + 1, sym + best + 2, (n - best - 2) * sizeof (gint32));
      n--;
    }
  g_array_append_vals (out, sym, (guint) n);
}

static void
encode_segment (FlorenceTokenizer *self, const char *s, const char *end, GArray *out)
{
  while (s < end)
    {
      gsize l = pretoken_length (s, end);
      GArray *cached;

      if (l > BPE_SHORT_WORD)
        {
          bpe_word (self, s, l, out); /* long words are rare: do not cache them */
          s += l;
          continue;
        }

      char key[BPE_SHORT_WORD + 1];
      memcpy (key, s, l);
      key[l] = '\0';

      g_mutex_lock (&self->cache_lock);
      cached = g_hash_table_lookup (self->cache, key);
      if (cached != NULL)
        g_array_append_vals (out, cached->data, cached->len);
      g_mutex_unlock (&self->cache_lock);

      if (cached == NULL)
        {
          GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint32));
          bpe_word (self, s, l, ids);
          g_array_append_vals (out, ids->data, ids->len);
          g_mutex_lock (&self->cache_lock);
          if (g_hash_table_size (self->cache) >= BPE_CACHE_MAX)
            g_hash_table_remove_all (self->cache);
          g_hash_table_replace (self->cache, g_strdup (key), ids);
          g_mutex_unlock (&self->cache_lock);
        }
      s += l;
    }
}

/* Finds the leftmost-longest added token at or after P; returns its AddedToken or NULL,
 * with its byte range in *START / *STOP. */
static const AddedToken *
find_added (FlorenceTokenizer *self, const char *p, const char *end, const char **start,
            const char **stop)
{
  for (; p < end; p++)
    {
      const AddedToken *best = NULL;
      gsize best_len = 0;

      if (*p != '<')
        {
          const char *lt = memchr (p, '<', end - p);
          if (lt == NULL)
            return NULL;
          p = lt;
        }
      for (const char *q = p + 1; q < end && q - p < MAX_ADDED_TOKEN_LEN; q++)
        {
          if (*q != '>')
            continue;
          char key[MAX_ADDED_TOKEN_LEN + 1];
          gsize l = q + 1 - p;
          memcpy (key, p, l);
          key[l] = '\0';
          gpointer v = g_hash_table_lookup (self->added_by_content, key);
          if (v != NULL)
            {
              best = &g_array_index (self->added, AddedToken, GPOINTER_TO_UINT (v) - 1);
              best_len = l;
            }
        }
      if (best != NULL)
        {
          *start = p;
          *stop = p + best_len;
          return best;
        }
    }
  return NULL;
}

GArray *
florence_tokenizer_encode_plain (FlorenceTokenizer *self, const char *text)
{
  g_autofree char *valid = NULL;
  GArray *out;
  const char *p, *end;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  out = g_array_new (FALSE, FALSE, sizeof (gint32));
  if (!g_utf8_validate (text, -1, NULL))
    {
      /* As Python's bytes.decode('utf-8', 'replace') would give it */
      GString *fixed = g_string_new (NULL);
      append_utf8_lossy (fixed, (const guint8 *) text, strlen (text), NULL);
      text = valid = g_string_free (fixed, FALSE);
    }
  p = text;
  end = text + strlen (text);

  while (p < end)
    {
      const char *start, *stop;
      const AddedToken *t = find_added (self, p, end, &start, &stop);
      const char *seg_end = t != NULL ? start : end;

      if (t != NULL && t->lstrip)
        {
          /* The token swallows the whitespace before it (within this segment). */
          while (seg_end > p)
            {
              const char *prev = g_utf8_find_prev_char (p, seg_end);
              if (prev == NULL)
                prev = p;
              if (!is_white_space (g_utf8_get_char (prev)))
                break;
              seg_end = prev;
            }
        }
      encode_segment (self, p, seg_end, out);
      if (t == NULL)
        break;
      g_array_append_val (out, t->id);
      p = stop;
    }
  return out;
}

GArray *
florence_tokenizer_encode (FlorenceTokenizer *self, const char *text)
{
  g_autoptr (GArray) body = NULL;
  GArray *out;
  gint32 bos = FLORENCE_TOKEN_BOS, eos = FLORENCE_TOKEN_EOS;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  body = florence_tokenizer_encode_plain (self, text);
  out = g_array_sized_new (FALSE, FALSE, sizeof (gint32), body->len + 2);
  g_array_append_val (out, bos);
  g_array_append_vals (out, body->data, body->len);
  g_array_append_val (out, eos);
  return out;
}

/* ------------------------------------------------------------------------------------- */
/* Decoding                                                                                 */

static char *
replace_all (char *s, const char *from, const char *to)
{
  if (strstr (s, from) == NULL)
    return s;
  g_auto (GStrv) parts = g_strsplit (s, from, -1);
  g_free (s);
  return g_strjoinv (to, parts);
}

/* replace_all() carrying OWNER (one guint per byte of S) along. TO is FROM with some bytes
 * left out (true of every clean-up rule), so each byte kept keeps its owner. */
static char *
replace_all_owned (char *s, GArray *owner, const char *from, const char *to)
{
  if (strstr (s, from) == NULL)
    return s;
  gsize lf = strlen (from), lt = strlen (to);
  GString *out = g_string_sized_new (strlen (s));
  g_autoptr (GArray) kept = g_array_sized_new (FALSE, FALSE, sizeof (guint), owner->len);
  const char *p = s;
  for (;;)
    {
      const char *m = strstr (p, from);
      gsize run = m != NULL ? (gsize) (m - p) : strlen (p);
      g_string_append_len (out, p, (gssize) run);
      g_array_append_vals (kept, &g_array_index (owner, guint, p - s), (guint) run);
      if (m == NULL)
        break;
      for (gsize i = 0, j = 0; i < lf && j < lt; i++)
        if (from[i] == to[j])
          {
            g_string_append_c (out, to[j++]);
            g_array_append_val (kept, g_array_index (owner, guint, m - s + i));
          }
      p = m + lf;
    }
  g_free (s);
  g_array_set_size (owner, 0);
  g_array_append_vals (owner, kept->data, kept->len);
  return g_string_free (out, FALSE);
}

/* Marks the bytes up to LEN not owned yet (one guint each in BYTE_TOKEN, if any) as INDEX's. */
static void
own_bytes (GArray *byte_token, guint len, guint index)
{
  while (byte_token != NULL && byte_token->len < len)
    g_array_append_val (byte_token, index);
}

/* florence_tokenizer_decode(), and with OFFSETS the offsets (see the header) */
static char *
decode (FlorenceTokenizer *self, const gint32 *ids, gsize n, FlorenceDecodeFlags flags,
        GArray *offsets)
{
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GArray) byte_token = NULL; /* guint: the id index each byte comes from */
  g_autoptr (GArray) origin = NULL;     /* gsize: for each text byte, its first byte */
  g_autoptr (GArray) owner = NULL;      /* guint: for each text byte, its id index */
  GString *out;
  char *text;

  if (offsets != NULL)
    {
      byte_token = g_array_new (FALSE, FALSE, sizeof (guint));
      origin = g_array_new (FALSE, FALSE, sizeof (gsize));
    }
  for (gsize i = 0; i < n; i++)
    {
      gint32 id = ids[i];
      const char *tok;

      own_bytes (byte_token, bytes->len, (guint) i - 1); /* what the previous id appended */
      if (id < 0 || (guint) id >= self->id_to_token->len)
        continue;
      tok = g_ptr_array_index (self->id_to_token, id);
      if (tok == NULL)
        continue;
      if (self->is_special[id])
        {
          if (!(flags & FLORENCE_DECODE_SKIP_SPECIAL))
            g_byte_array_append (bytes, (const guint8 *) tok, (guint) strlen (tok));
          continue;
        }
      for (const char *p = tok; *p != '\0'; p = g_utf8_next_char (p))
        {
          gunichar c = g_utf8_get_char (p);
          if (c < 512 && self->char_to_byte[c] >= 0)
            {
              guint8 b = (guint8) self->char_to_byte[c];
              g_byte_array_append (bytes, &b, 1);
            }
          else
            g_byte_array_append (bytes, (const guint8 *) p, (guint) (g_utf8_next_char (p) - p));
        }
    }
  own_bytes (byte_token, bytes->len, (guint) n - 1);

  out = g_string_sized_new (bytes->len + 1);
  append_utf8_lossy (out, bytes->data, bytes->len, origin);
  text = g_string_free (out, FALSE);
  if (offsets != NULL)
    {
      owner = g_array_sized_new (FALSE, FALSE, sizeof (guint), origin->len);
      for (guint j = 0; j < origin->len; j++)
        g_array_append_val (owner,
                            g_array_index (byte_token, guint, g_array_index (origin, gsize, j)));
    }

  if (!(flags & FLORENCE_DECODE_NO_CLEANUP))
    {
      static const char *const cleanup[][2] = {
        { " .", "." },     { " ?", "?" },   { " !", "!" },   { " ,", "," },     { " ' ", "'" },
        { " n't", "n't" }, { " 'm", "'m" }, { " 's", "'s" }, { " 've", "'ve" }, { " 're", "'re" },
      };
      for (gsize i = 0; i < G_N_ELEMENTS (cleanup); i++)
        text = owner != NULL ? replace_all_owned (text, owner, cleanup[i][0], cleanup[i][1])
                             : replace_all (text, cleanup[i][0], cleanup[i][1]);
    }

  if (offsets != NULL)
    {
      /* the owners ascend: id i starts where the bytes of the ids before it end */
      g_array_set_size (offsets, (guint) n + 1);
      gsize j = 0;
      for (gsize i = 0; i <= n; i++)
        {
          while (j < owner->len && g_array_index (owner, guint, j) < i)
            j++;
          g_array_index (offsets, gsize, i) = i < n ? j : owner->len;
        }
    }
  return text;
}

char *
florence_tokenizer_decode (FlorenceTokenizer *self, const gint32 *ids, gsize n,
                           FlorenceDecodeFlags flags)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (ids != NULL || n == 0, NULL);
  return decode (self, ids, n, flags, NULL);
}

char *
florence_tokenizer_decode_with_offsets (FlorenceTokenizer *self, const gint32 *ids, gsize n,
                                        FlorenceDecodeFlags flags, GArray *offsets)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (ids != NULL || n == 0, NULL);
  g_return_val_if_fail (offsets != NULL, NULL);
  g_return_val_if_fail (g_array_get_element_size (offsets) == sizeof (gsize), NULL);
  return decode (self, ids, n, flags, offsets);
}
