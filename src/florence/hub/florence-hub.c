/* florence-hub.c: the model catalogue and verified, resumable downloads from the hub
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file of this length: the catalogue, the listing and the resumable, verified download share
 * one download's state.
 */
#include "config.h"

#include <inttypes.h>

#include "florence-hub.h"
#include "florence/hub/florence-hub-private.h"
#include "florence/files/florence-json.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#define CHUNK_SIZE (256 * 1024)
/* A model repository's file list is a few kilobytes. */
#define MAX_LISTING_SIZE ((gsize) 8 * 1024 * 1024)
/* Times a file's download starts again from its first byte (a partial file longer than the
 * file, a range the server cannot satisfy) before giving up. */
#define MAX_RESTARTS 2
#define MANIFEST_NAME "depict-model.json"

static const FlorenceHubModel models[] = {
  { "base", "microsoft/Florence-2-base", N_ ("Florence-2 Base"),
    N_ ("The smaller model: fast on any graphics card, good captions and detection"), 467000000 },
  { "base-ft", "microsoft/Florence-2-base-ft", N_ ("Florence-2 Base (fine-tuned)"),
    N_ ("The smaller model, fine-tuned on more tasks: better detection and region answers"),
    467000000 },
  { "large", "microsoft/Florence-2-large", N_ ("Florence-2 Large"),
    N_ ("The larger model: more detailed answers, needs about 2 GB of graphics memory"),
    1550000000 },
  { "large-ft", "microsoft/Florence-2-large-ft", N_ ("Florence-2 Large (fine-tuned)"),
    N_ ("The larger model, fine-tuned on more tasks: the most accurate, and the slowest"),
    1550000000 },
};

/* Files a model folder may hold, besides the weights. */
static const char *const metadata_files[] = {
  "config.json",    "preprocessor_config.json", "generation_config.json",
  "tokenizer.json", "tokenizer_config.json",    "vocab.json",
  "merges.txt",     "special_tokens_map.json",  "added_tokens.json",
};

const FlorenceHubModel *
florence_hub_get_models (gsize *n_models)
{
  if (n_models != NULL)
    *n_models = G_N_ELEMENTS (models);
  return models;
}

const FlorenceHubModel *
florence_hub_lookup (const char *id)
{
  g_return_val_if_fail (id != NULL, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (models); i++)
    if (strcmp (models[i].id, id) == 0)
      return &models[i];
  return NULL;
}

char *
florence_hub_get_models_dir (void)
{
  const char *env = g_getenv ("DEPICT_MODELS_DIR");
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "depict", "models", NULL);
}

char *
florence_hub_get_install_dir (const FlorenceHubModel *model)
{
  g_autofree char *dir = NULL;

  g_return_val_if_fail (model != NULL, NULL);
  dir = florence_hub_get_models_dir ();
  return g_build_filename (dir, model->id, NULL);
}

static gboolean
dir_has (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

gboolean
florence_hub_dir_is_complete (const char *dir)
{
  g_return_val_if_fail (dir != NULL, FALSE);
  return dir_has (dir, "config.json") &&
         (dir_has (dir, "model.safetensors") || dir_has (dir, "model.safetensors.index.json") ||
          dir_has (dir, "pytorch_model.bin")) &&
         (dir_has (dir, "tokenizer.json") || dir_has (dir, "vocab.json"));
}

guint64
florence_hub_get_installed_size (const FlorenceHubModel *model)
{
  g_autofree char *dir = florence_hub_get_install_dir (model);

  return florence_hub_dir_is_complete (dir) ? florence_hub_dir_size (dir) : 0;
}

guint64
florence_hub_dir_size (const char *dir)
{
  g_autoptr (GDir) d = NULL;
  const char *name;
  guint64 total = 0;

  g_return_val_if_fail (dir != NULL, 0);
  d = g_dir_open (dir, 0, NULL);
  if (d == NULL)
    return 0;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf st;
      if (g_stat (path, &st) == 0 && S_ISREG (st.st_mode))
        total += (guint64) st.st_size;
    }
  return total;
}

/* Removes a model folder we made: only regular files directly inside, then the folder. */
static gboolean
remove_model_dir (const char *dir, GError **error)
{
  g_autoptr (GDir) d = NULL;
  const char *name;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return TRUE;
  d = g_dir_open (dir, 0, error);
  if (d == NULL)
    return FALSE;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      if (g_unlink (path) != 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _ ("Could not delete “%s”: %s"), path, g_strerror (saved));
          return FALSE;
        }
    }
  if (g_rmdir (dir) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _ ("Could not delete the folder “%s”: %s"), dir, g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

gboolean
florence_hub_delete (const FlorenceHubModel *model, GError **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *part = NULL;

  g_return_val_if_fail (model != NULL, FALSE);
  dir = florence_hub_get_install_dir (model);
  part = g_strconcat (dir, ".part", NULL);
  return remove_model_dir (part, error) && remove_model_dir (dir, error);
}

static char *
strip_trailing_slashes (const char *address)
{
  char *endpoint = g_strdup (address);
  gsize len = strlen (endpoint);

  while (len > 0 && endpoint[len - 1] == '/')
    endpoint[--len] = '\0';
  return endpoint;
}

char *
florence_hub_get_endpoint (void)
{
  const char *env = g_getenv ("HF_ENDPOINT");
  return strip_trailing_slashes (env != NULL && *env != '\0' ? env : "https://huggingface.co");
}

/* ---------------------------------------------------------------------------------------- */

void
florence_hub_file_free (FlorenceHubFile *f)
{
  g_free (f->path);
  g_free (f->sha256);
  g_free (f->git_oid);
  g_free (f);
}

typedef struct {
  FlorenceHubProgressFunc func;
  gpointer data;
  GMainContext *context; /* NULL: call directly */
  guint64 received;
  guint64 total;
  gint64 last_report_us;
  guint64 last_report_bytes;
} Progress;

typedef struct {
  Progress *progress;
  guint64 received;
  guint64 total;
  char *file;
} ProgressReport;

static gboolean
progress_report_dispatch (gpointer data)
{
  ProgressReport *r = data;
  r->progress->func (r->received, r->total, r->file, r->progress->data);
  return G_SOURCE_REMOVE;
}

static void
progress_report_free (gpointer data)
{
  ProgressReport *r = data;
  g_free (r->file);
  g_free (r);
}

static void
progress_emit (Progress *p, const char *file, gboolean force)
{
  gint64 now = g_get_monotonic_time ();

  if (p->func == NULL)
    return;
  /* At most ten reports a second, but at least one per MiB. */
  if (!force && now - p->last_report_us < 100000 && p->received - p->last_report_bytes < 1048576)
    return;
  p->last_report_us = now;
  p->last_report_bytes = p->received;
  if (p->context == NULL)
    {
      p->func (p->received, p->total, file, p->data);
      return;
    }
  ProgressReport *r = g_new0 (ProgressReport, 1);
  r->progress = p;
  r->received = p->received;
  r->total = p->total;
  r->file = g_strdup (file);
  g_main_context_invoke_full (p->context, G_PRIORITY_DEFAULT, progress_report_dispatch, r,
                              progress_report_free);
}

static gboolean
check_status (SoupMessage *msg, const char *what, GError **error)
{
  guint status = soup_message_get_status (msg);

  if (status == SOUP_STATUS_OK || status == SOUP_STATUS_PARTIAL_CONTENT)
    return TRUE;
  if (status == SOUP_STATUS_NOT_FOUND || status == SOUP_STATUS_UNAUTHORIZED ||
      status == SOUP_STATUS_FORBIDDEN)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _ ("The model hub has no “%s” (HTTP %u). Check the model name, or the mirror set "
                    "in HF_ENDPOINT."),
                 what, status);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                 _ ("The model hub answered HTTP %u (%s) for “%s”. Try again later."), status,
                 soup_message_get_reason_phrase (msg), what);
  return FALSE;
}

/* A network error as a sentence for a person. */
static void
prefix_network_error (GError **error, const char *endpoint)
{
  if (error == NULL || *error == NULL)
    return;
  if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if ((*error)->domain == G_RESOLVER_ERROR || (*error)->domain == G_IO_ERROR)
    g_prefix_error (error,
                    _ ("Could not reach the model hub at %s. Check the network connection "
                       "and try again (a partial download resumes where it stopped): "),
                    endpoint);
}

/* The string value of a member, NULL when absent or not a string (null, a number, an array
 * or an object: json-glib's _with_default getters return NULL or warn for those). */
static const char *
member_string (JsonObject *o, const char *name)
{
  JsonNode *node = json_object_get_member (o, name);
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
             json_node_get_value_type (node) == G_TYPE_STRING
           ? json_node_get_string (node)
           : NULL;
}

/* A size member: a non-negative integer, else fallback. */
static guint64
member_size (JsonObject *o, const char *name, guint64 fallback)
{
  JsonNode *node = json_object_get_member (o, name);
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64 || json_node_get_int (node) < 0)
    return fallback;
  return (guint64) json_node_get_int (node);
}

GPtrArray *
florence_hub_parse_file_list (const char *json, gsize len, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) files =
    g_ptr_array_new_with_free_func ((GDestroyNotify) florence_hub_file_free);
  JsonNode *root;
  JsonArray *array;

  g_return_val_if_fail (json != NULL || len == 0, NULL);

  if (len == 0 || len > G_MAXSSIZE || !florence_json_load (parser, json, (gssize) len, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("The model hub sent a file list that could not be read. Try again later."));
      return NULL;
    }
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *o;
      const char *type, *path;
      FlorenceHubFile *f;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      o = json_node_get_object (node);
      type = member_string (o, "type");
      path = member_string (o, "path");
      if (g_strcmp0 (type, "file") != 0 || path == NULL || path[0] == '\0' ||
          strchr (path, '/') != NULL || path[0] == '.' || strlen (path) > 200)
        continue;
      f = g_new0 (FlorenceHubFile, 1);
      f->path = g_strdup (path);
      f->size = member_size (o, "size", 0);
      f->git_oid = g_strdup (member_string (o, "oid"));
      if (json_object_has_member (o, "lfs") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (o, "lfs")))
        {
          JsonObject *lfs = json_object_get_object_member (o, "lfs");
          const char *sha = member_string (lfs, "oid");
          if (sha == NULL)
            sha = member_string (lfs, "sha256");
          f->sha256 = g_strdup (sha);
          f->size = member_size (lfs, "size", f->size);
        }
      g_ptr_array_add (files, f);
    }
  return g_steal_pointer (&files);
}

/* Reads a response body of at most max_size bytes (after decompression: a gzip bomb stops at
 * the cap); the stream is closed either way. NULL and an error beyond the cap. */
static GBytes *
read_body (GInputStream *body, gsize max_size, const char *what, GCancellable *cancellable,
           GError **error)
{
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autofree guint8 *buf = g_malloc (CHUNK_SIZE);
  gssize n;

  while ((n = g_input_stream_read (body, buf, CHUNK_SIZE, cancellable, error)) > 0)
    {
      if (data->len + (gsize) n > max_size)
        {
          g_autofree char *limit = g_format_size (max_size);
          g_input_stream_close (body, NULL, NULL);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _ ("The model hub sent more than %s for %s, far more than it should. Check "
                          "the mirror set in HF_ENDPOINT, or try again later."),
                       limit, what);
          return NULL;
        }
      g_byte_array_append (data, buf, (guint) n);
    }
  g_input_stream_close (body, NULL, NULL);
  if (n < 0)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

static GPtrArray *
list_repository (SoupSession *session, const char *endpoint, const char *repo, const char *revision,
                 GCancellable *cancellable, GError **error)
{
  g_autofree char *url = g_strdup_printf ("%s/api/models/%s/tree/%s", endpoint, repo, revision);
  g_autoptr (SoupMessage) msg = soup_message_new (SOUP_METHOD_GET, url);
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GError) local_error = NULL;
  GPtrArray *files;

  if (msg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is not a valid model hub address. Check HF_ENDPOINT."), endpoint);
      return NULL;
    }
  stream = soup_session_send (session, msg, cancellable, error);
  if (stream == NULL)
    {
      prefix_network_error (error, endpoint);
      return NULL;
    }
  if (!check_status (msg, repo, error))
    {
      g_input_stream_close (stream, NULL, NULL);
      return NULL;
    }
  files = florence_hub_read_file_list (stream, repo, cancellable, &local_error);
  if (files == NULL)
    {
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA))
        prefix_network_error (&local_error, endpoint);
      g_propagate_error (error, g_steal_pointer (&local_error));
    }
  return files;
}

GPtrArray *
florence_hub_read_file_list (GInputStream *body, const char *repo, GCancellable *cancellable,
                             GError **error)
{
  g_autofree char *what = NULL;
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (G_IS_INPUT_STREAM (body) && repo != NULL, NULL);

  what = g_strdup_printf (_ ("the file list of “%s”"), repo);
  bytes = read_body (body, MAX_LISTING_SIZE, what, cancellable, error);
  if (bytes == NULL)
    return NULL;
  return florence_hub_parse_file_list (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                       error);
}

static FlorenceHubFile *
find_file (GPtrArray *files, const char *name)
{
  for (guint i = 0; i < files->len; i++)
    {
      FlorenceHubFile *f = g_ptr_array_index (files, i);
      if (strcmp (f->path, name) == 0)
        return f;
    }
  return NULL;
}

/* The files to fetch: metadata, tokenizer and one form of the weights. */
static GPtrArray *
select_files (GPtrArray *all, const char *repo, GError **error)
{
  g_autoptr (GPtrArray) wanted = g_ptr_array_new ();
  gboolean have_weights = FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (metadata_files); i++)
    {
      FlorenceHubFile *f = find_file (all, metadata_files[i]);
      if (f != NULL)
        g_ptr_array_add (wanted, f);
    }
  if (find_file (all, "model.safetensors") != NULL)
    {
      g_ptr_array_add (wanted, find_file (all, "model.safetensors"));
      have_weights = TRUE;
    }
  else if (find_file (all, "model.safetensors.index.json") != NULL)
    {
      g_ptr_array_add (wanted, find_file (all, "model.safetensors.index.json"));
      for (guint i = 0; i < all->len; i++)
        {
          FlorenceHubFile *f = g_ptr_array_index (all, i);
          if (g_str_has_prefix (f->path, "model-") && g_str_has_suffix (f->path, ".safetensors"))
            g_ptr_array_add (wanted, f);
        }
      have_weights = TRUE;
    }
  else if (find_file (all, "pytorch_model.bin") != NULL)
    {
      g_ptr_array_add (wanted, find_file (all, "pytorch_model.bin"));
      have_weights = TRUE;
    }
  if (find_file (all, "config.json") == NULL || !have_weights ||
      (find_file (all, "tokenizer.json") == NULL && find_file (all, "vocab.json") == NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _ ("“%s” does not look like a Florence-2 model: it lacks a configuration, "
                      "weights or tokenizer files."),
                   repo);
      return NULL;
    }
  return g_steal_pointer (&wanted);
}

static char *
hex_of (GChecksum *checksum)
{
  return g_strdup (g_checksum_get_string (checksum));
}

/* Feeds an existing partial file into the checksum, so a resumed download verifies the whole. */
static gboolean
hash_existing (const char *path, GChecksum *checksum, guint64 *size, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, NULL);
  g_autofree guchar *buf = NULL;
  gssize n;

  *size = 0;
  if (in == NULL)
    return TRUE;
  buf = g_malloc (CHUNK_SIZE);
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, CHUNK_SIZE, NULL, error)) > 0)
    {
      g_checksum_update (checksum, buf, n);
      *size += (guint64) n;
    }
  return n == 0;
}

typedef enum {
  ATTEMPT_FAILED,
  ATTEMPT_DONE,
  ATTEMPT_RESTART, /* the partial file was removed: start again from the first byte */
} Attempt;

/* The partial file must go, and the download start from its first byte: RESTART when
 * may_restart, else an error (a server that keeps refusing). */
static Attempt
restart_or_fail (const char *part_path, const FlorenceHubFile *f, gboolean may_restart,
                 GError **error)
{
  g_unlink (part_path);
  if (may_restart)
    return ATTEMPT_RESTART;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               _ ("The model hub keeps refusing to send “%s” from where the download stopped. The "
                  "partial file was removed; try again later."),
               f->path);
  return ATTEMPT_FAILED;
}

static Attempt
download_attempt (SoupSession *session, const char *endpoint, const char *repo,
                  const char *revision, const FlorenceHubFile *f, const char *part_dir,
                  Progress *progress, gboolean may_restart, GCancellable *cancellable,
                  GError **error)
{
  g_autofree char *final_path = g_build_filename (part_dir, f->path, NULL);
  g_autofree char *part_path = g_strconcat (final_path, ".part", NULL);
  g_autofree char *url = g_strdup_printf ("%s/%s/resolve/%s/%s", endpoint, repo, revision, f->path);
  g_autoptr (GChecksum) checksum = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GInputStream) body = NULL;
  g_autoptr (GFile) part_file = g_file_new_for_path (part_path);
  g_autoptr (GFileOutputStream) out = NULL;
  g_autofree guchar *buf = NULL;
  g_autofree char *actual = NULL;
  const char *expected;
  guint64 offset = 0;
  guint status;
  gssize n;

  /* Already fetched and verified by an earlier, interrupted run. */
  if (g_file_test (final_path, G_FILE_TEST_IS_REGULAR))
    {
      progress->received += f->size;
      progress_emit (progress, f->path, TRUE);
      return ATTEMPT_DONE;
    }

  checksum = g_checksum_new (f->sha256 != NULL ? G_CHECKSUM_SHA256 : G_CHECKSUM_SHA1);
  if (f->sha256 == NULL)
    {
      /* git hashes "blob <size>\0" + content */
      g_autofree char *header = g_strdup_printf ("blob %" G_GUINT64_FORMAT, f->size);
      g_checksum_update (checksum, (const guchar *) header, (gssize) strlen (header) + 1);
    }
  if (!hash_existing (part_path, checksum, &offset, error))
    return ATTEMPT_FAILED;
  if (offset > f->size) /* longer than the file can be */
    return restart_or_fail (part_path, f, may_restart, error);

  msg = soup_message_new (SOUP_METHOD_GET, url);
  if (offset > 0)
    soup_message_headers_set_range (soup_message_get_request_headers (msg), (goffset) offset, -1);
  if (offset < f->size || f->size == 0)
    {
      body = soup_session_send (session, msg, cancellable, error);
      if (body == NULL)
        {
          prefix_network_error (error, endpoint);
          return ATTEMPT_FAILED;
        }
      status = soup_message_get_status (msg);
      /* Close the body before anything else: it holds the connection. */
      if (offset > 0 && status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE)
        {
          g_input_stream_close (body, NULL, NULL);
          return restart_or_fail (part_path, f, may_restart, error);
        }
      if (!check_status (msg, f->path, error))
        {
          g_input_stream_close (body, NULL, NULL);
          return ATTEMPT_FAILED;
        }
      if (offset > 0 && status == SOUP_STATUS_OK)
        {
          /* The server ignored the range: start over from the first byte. */
          g_checksum_reset (checksum);
          if (f->sha256 == NULL)
            {
              g_autofree char *header = g_strdup_printf ("blob %" G_GUINT64_FORMAT, f->size);
              g_checksum_update (checksum, (const guchar *) header, (gssize) strlen (header) + 1);
            }
          offset = 0;
          out = g_file_replace (part_file, NULL, FALSE, G_FILE_CREATE_NONE, cancellable, error);
        }
      else
        out = g_file_append_to (part_file, G_FILE_CREATE_NONE, cancellable, error);
      if (out == NULL)
        {
          g_input_stream_close (body, NULL, NULL);
          return ATTEMPT_FAILED;
        }

      progress->received += offset;
      buf = g_malloc (CHUNK_SIZE);
      while ((n = g_input_stream_read (body, buf, CHUNK_SIZE, cancellable, error)) > 0)
        {
          if (offset + (guint64) n > f->size)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _ ("The model hub sent more data for “%s” than announced. Try again "
                              "later."),
                           f->path);
              g_output_stream_close (G_OUTPUT_STREAM (out), NULL, NULL);
              g_input_stream_close (body, NULL, NULL);
              g_unlink (part_path);
              return ATTEMPT_FAILED;
            }
          if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), buf, (gsize) n, NULL, cancellable,
                                          error))
            {
              g_input_stream_close (body, NULL, NULL);
              return ATTEMPT_FAILED;
            }
          g_checksum_update (checksum, buf, n);
          offset += (guint64) n;
          progress->received += (guint64) n;
          progress_emit (progress, f->path, FALSE);
        }
      g_input_stream_close (body, NULL, NULL);
      if (n < 0)
        {
          g_output_stream_close (G_OUTPUT_STREAM (out), NULL, NULL);
          prefix_network_error (error, endpoint);
          return ATTEMPT_FAILED;
        }
      if (!g_output_stream_close (G_OUTPUT_STREAM (out), cancellable, error))
        return ATTEMPT_FAILED;
    }
  else
    progress->received += offset;

  if (offset != f->size)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                   _ ("The download of “%s” stopped after %" PRIu64 " of %" PRIu64
                      " bytes. Try again: it resumes where it stopped."),
                   f->path, offset, f->size);
      return ATTEMPT_FAILED;
    }

  actual = hex_of (checksum);
  expected = f->sha256 != NULL ? f->sha256 : f->git_oid;
  if (expected == NULL || g_ascii_strcasecmp (actual, expected) != 0)
    {
      g_unlink (part_path);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _ ("The downloaded file “%s” is damaged: its checksum does not match the one "
                      "the model hub publishes. It was removed; try the download again."),
                   f->path);
      return ATTEMPT_FAILED;
    }
  if (g_rename (part_path, final_path) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), _ ("Could not save “%s”: %s"),
                   final_path, g_strerror (saved));
      return ATTEMPT_FAILED;
    }
  progress_emit (progress, f->path, TRUE);
  return ATTEMPT_DONE;
}

static gboolean
download_file (SoupSession *session, const char *endpoint, const char *repo, const char *revision,
               const FlorenceHubFile *f, const char *part_dir, Progress *progress,
               GCancellable *cancellable, GError **error)
{
  guint64 received = progress->received;

  for (guint restarts = 0;; restarts++)
    {
      Attempt a = download_attempt (session, endpoint, repo, revision, f, part_dir, progress,
                                    restarts < MAX_RESTARTS, cancellable, error);
      if (a != ATTEMPT_RESTART)
        return a == ATTEMPT_DONE;
      progress->received = received;
    }
}

static gboolean
write_manifest (const char *part_dir, const FlorenceHubDownload *d, const char *endpoint,
                const char *revision, GPtrArray *files, GError **error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree char *path = g_build_filename (part_dir, MANIFEST_NAME, NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "repo");
  json_builder_add_string_value (b, d->repo);
  json_builder_set_member_name (b, "revision");
  json_builder_add_string_value (b, revision);
  json_builder_set_member_name (b, "endpoint");
  json_builder_add_string_value (b, endpoint);
  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  for (guint i = 0; i < files->len; i++)
    {
      FlorenceHubFile *f = g_ptr_array_index (files, i);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, f->path);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) f->size);
      json_builder_set_member_name (b, f->sha256 != NULL ? "sha256" : "git_oid");
      json_builder_add_string_value (b, f->sha256 != NULL ? f->sha256 : f->git_oid);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  return g_file_set_contents (path, text, -1, error);
}

static gboolean
download_internal (const FlorenceHubDownload *d, GCancellable *cancellable, Progress *progress,
                   GError **error)
{
  g_autofree char *endpoint =
    d->endpoint != NULL ? strip_trailing_slashes (d->endpoint) : florence_hub_get_endpoint ();
  const char *revision = d->revision != NULL ? d->revision : "main";
  g_autofree char *part_dir = g_strconcat (d->dest_dir, ".part", NULL);
  g_autofree char *old_dir = g_strconcat (d->dest_dir, ".old", NULL);
  g_autoptr (SoupSession) session = NULL;
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) wanted = NULL;

  session =
    soup_session_new_with_options ("user-agent", "Depict/" PACKAGE_VERSION, "timeout", 60, NULL);
  all = list_repository (session, endpoint, d->repo, revision, cancellable, error);
  if (all == NULL)
    return FALSE;
  wanted = select_files (all, d->repo, error);
  if (wanted == NULL)
    return FALSE;

  progress->total = 0;
  progress->received = 0;
  for (guint i = 0; i < wanted->len; i++)
    progress->total += ((FlorenceHubFile *) g_ptr_array_index (wanted, i))->size;

  if (g_mkdir_with_parents (part_dir, 0755) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _ ("Could not create the folder “%s”: %s"), part_dir, g_strerror (saved));
      return FALSE;
    }
  for (guint i = 0; i < wanted->len; i++)
    if (!download_file (session, endpoint, d->repo, revision, g_ptr_array_index (wanted, i),
                        part_dir, progress, cancellable, error))
      return FALSE;
  if (!write_manifest (part_dir, d, endpoint, revision, wanted, error))
    return FALSE;

  /* Only a complete, verified folder takes the final name. */
  if (g_file_test (d->dest_dir, G_FILE_TEST_EXISTS))
    {
      if (!remove_model_dir (old_dir, error))
        return FALSE;
      if (g_rename (d->dest_dir, old_dir) != 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _ ("Could not replace “%s”: %s"), d->dest_dir, g_strerror (saved));
          return FALSE;
        }
    }
  if (g_rename (part_dir, d->dest_dir) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _ ("Could not install the model in “%s”: %s"), d->dest_dir, g_strerror (saved));
      return FALSE;
    }
  remove_model_dir (old_dir, NULL);
  return TRUE;
}

gboolean
florence_hub_download_sync (const FlorenceHubDownload *download, GCancellable *cancellable,
                            FlorenceHubProgressFunc progress_func, gpointer progress_data,
                            GError **error)
{
  Progress progress = { progress_func, progress_data, NULL, 0, 0, 0, 0 };

  g_return_val_if_fail (download != NULL && download->repo != NULL, FALSE);
  g_return_val_if_fail (download->dest_dir != NULL, FALSE);
  return download_internal (download, cancellable, &progress, error);
}

typedef struct {
  char *endpoint, *repo, *revision, *dest_dir;
  Progress progress;
  GDestroyNotify progress_destroy;
} DownloadTask;

static void
download_task_free (DownloadTask *t)
{
  g_free (t->endpoint);
  g_free (t->repo);
  g_free (t->revision);
  g_free (t->dest_dir);
  if (t->progress_destroy != NULL)
    t->progress_destroy (t->progress.data);
  if (t->progress.context != NULL)
    g_main_context_unref (t->progress.context);
  g_free (t);
}

static void
download_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DownloadTask *t = task_data;
  FlorenceHubDownload d = { t->endpoint, t->repo, t->revision, t->dest_dir };
  GError *error = NULL;

  if (download_internal (&d, cancellable, &t->progress, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
florence_hub_download_async (const FlorenceHubDownload *download, GCancellable *cancellable,
                             FlorenceHubProgressFunc progress, gpointer progress_data,
                             GDestroyNotify progress_destroy, GAsyncReadyCallback callback,
                             gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  DownloadTask *t;

  g_return_if_fail (download != NULL && download->repo != NULL && download->dest_dir != NULL);
  t = g_new0 (DownloadTask, 1);
  t->endpoint = g_strdup (download->endpoint);
  t->repo = g_strdup (download->repo);
  t->revision = g_strdup (download->revision);
  t->dest_dir = g_strdup (download->dest_dir);
  t->progress.func = progress;
  t->progress.data = progress_data;
  t->progress.context = g_main_context_ref_thread_default ();
  t->progress_destroy = progress_destroy;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, florence_hub_download_async);
  g_task_set_task_data (task, t, (GDestroyNotify) download_task_free);
  g_task_run_in_thread (task, download_thread);
}

gboolean
florence_hub_download_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
