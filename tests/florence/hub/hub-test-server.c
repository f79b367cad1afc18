/* hub-test-server.c: a local stand-in for the Hugging Face hub, on 127.0.0.1
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "hub-test-server.h"

static void
repo_file_free (RepoFile *f)
{
  g_free (f->name);
  g_bytes_unref (f->served);
  g_free (f->sha1_git);
  g_free (f->sha256);
  g_free (f);
}

static char *
git_blob_sha1 (GBytes *bytes)
{
  g_autoptr (GChecksum) c = g_checksum_new (G_CHECKSUM_SHA1);
  g_autofree char *header = g_strdup_printf ("blob %" G_GSIZE_FORMAT, g_bytes_get_size (bytes));
  g_checksum_update (c, (const guchar *) header, (gssize) strlen (header) + 1);
  g_checksum_update (c, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes));
  return g_strdup (g_checksum_get_string (c));
}

static RepoFile *
repo_file_new (const char *name, const char *path, gboolean lfs, gboolean damage)
{
  RepoFile *f = g_new0 (RepoFile, 1);
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  g_assert_no_error (error);
  f->name = g_strdup (name);
  {
    g_autoptr (GBytes) original = g_bytes_new_take (data, len);
    f->sha1_git = git_blob_sha1 (original);
    f->sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, original);
    if (damage)
      {
        guint8 *copy = g_memdup2 (g_bytes_get_data (original, NULL), len);
        copy[len / 2] ^= 0x5a;
        f->served = g_bytes_new_take (copy, len);
      }
    else
      f->served = g_bytes_ref (original);
  }
  f->lfs = lfs;
  return f;
}

static GPtrArray *
make_repo (gboolean damage_weights)
{
  const char *data = g_getenv ("DEPICT_TEST_DATA");
  GPtrArray *files = g_ptr_array_new_with_free_func ((GDestroyNotify) repo_file_free);
  g_autofree char *model = g_build_filename (data, "models", "tiny", NULL);
  g_autofree char *tok = g_build_filename (data, "tokenizer", NULL);
  struct {
    const char *name;
    const char *dir;
    gboolean lfs;
  } list[] = {
    { "config.json", model, FALSE },
    { "preprocessor_config.json", model, FALSE },
    { "generation_config.json", model, FALSE },
    { "model.safetensors", model, TRUE },
    { "tokenizer.json", tok, FALSE },
    { "tokenizer_config.json", tok, FALSE },
    { "vocab.json", tok, FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (list); i++)
    {
      g_autofree char *path = g_build_filename (list[i].dir, list[i].name, NULL);
      g_ptr_array_add (
        files, repo_file_new (list[i].name, path, list[i].lfs, damage_weights && list[i].lfs));
    }
  return files;
}

static void
serve_tree (SoupServerMessage *msg, GPtrArray *files)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  char *text;

  json_builder_begin_array (b);
  /* A folder and a README the client must ignore. */
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "directory");
  json_builder_set_member_name (b, "path");
  json_builder_add_string_value (b, "assets");
  json_builder_end_object (b);
  for (guint i = 0; i < files->len; i++)
    {
      RepoFile *f = g_ptr_array_index (files, i);
      gint64 size = (gint64) g_bytes_get_size (f->served);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, "file");
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, f->name);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, f->lfs ? 134 : size);
      json_builder_set_member_name (b, "oid");
      json_builder_add_string_value (b, f->sha1_git);
      if (f->lfs)
        {
          json_builder_set_member_name (b, "lfs");
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "oid");
          json_builder_add_string_value (b, f->sha256);
          json_builder_set_member_name (b, "size");
          json_builder_add_int_value (b, size);
          json_builder_set_member_name (b, "pointerSize");
          json_builder_add_int_value (b, 134);
          json_builder_end_object (b);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, strlen (text));
}

static void
serve_file (Hub *hub, SoupServerMessage *msg, RepoFile *f)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  gsize total = g_bytes_get_size (f->served);
  const char *data = g_bytes_get_data (f->served, NULL);
  SoupRange *ranges = NULL;
  int n_ranges = 0;

  if (f->lfs)
    {
      hub->weight_requests++;
      hub->last_range_start = -1;
    }
  if (soup_message_headers_get_ranges (req, (goffset) total, &ranges, &n_ranges) && n_ranges == 1)
    {
      goffset start = ranges[0].start, end = ranges[0].end;
      soup_message_headers_free_ranges (req, ranges);
      if (f->lfs)
        hub->last_range_start = start;
      if (start >= (goffset) total)
        {
          soup_server_message_set_status (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, NULL);
          return;
        }
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
      soup_message_headers_set_content_range (resp, start, end, (goffset) total);
      soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY,
                                        data + start, (gsize) (end - start + 1));
      return;
    }
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "application/octet-stream", SOUP_MEMORY_COPY, data, total);
}

/* 64 MiB of spaces, gzip-compressed (64 KiB on the wire), once. */
static GBytes *
gzip_bomb (void)
{
  static GBytes *bomb;

  if (bomb == NULL)
    {
      g_autoptr (GZlibCompressor) zlib = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 1);
      g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
      g_autoptr (GOutputStream) out = g_converter_output_stream_new (mem, G_CONVERTER (zlib));
      g_autofree char *spaces = g_malloc (1 << 20);

      memset (spaces, ' ', 1 << 20);
      for (int i = 0; i < 64; i++)
        g_assert_true (g_output_stream_write_all (out, spaces, 1 << 20, NULL, NULL, NULL));
      g_assert_true (g_output_stream_close (out, NULL, NULL));
      bomb = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
    }
  return g_bytes_ref (bomb);
}

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  Hub *hub = user_data;

  /* Hostile hubs: a file list that inflates to 64 MiB; files always refused with 416. */
  if (strcmp (path, "/api/models/test/bomb/tree/main") == 0)
    {
      g_autoptr (GBytes) bomb = gzip_bomb ();
      soup_message_headers_append (soup_server_message_get_response_headers (msg),
                                   "Content-Encoding", "gzip");
      soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (bomb, NULL), g_bytes_get_size (bomb));
      return;
    }
  if (strcmp (path, "/api/models/test/416/tree/main") == 0)
    {
      serve_tree (msg, hub->files);
      return;
    }
  if (g_str_has_prefix (path, "/test/416/resolve/main/"))
    {
      hub->refused_requests++;
      soup_server_message_set_status (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, NULL);
      return;
    }
  struct {
    const char *repo;
    GPtrArray *files;
  } repos[] = {
    { "test/tiny", hub->files },
    { "test/bad", hub->bad_files },
    /* The catalogue's first model, for the model manager's tests. */
    { "microsoft/Florence-2-base", hub->files },
  };

  for (gsize r = 0; r < G_N_ELEMENTS (repos); r++)
    {
      g_autofree char *tree = g_strdup_printf ("/api/models/%s/tree/main", repos[r].repo);
      g_autofree char *resolve = g_strdup_printf ("/%s/resolve/main/", repos[r].repo);
      if (strcmp (path, tree) == 0)
        {
          serve_tree (msg, repos[r].files);
          return;
        }
      if (g_str_has_prefix (path, resolve))
        {
          const char *name = path + strlen (resolve);
          for (guint i = 0; i < repos[r].files->len; i++)
            {
              RepoFile *f = g_ptr_array_index (repos[r].files, i);
              if (strcmp (f->name, name) == 0)
                {
                  serve_file (hub, msg, f);
                  return;
                }
            }
        }
    }
  soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
}

Hub *
hub_start (void)
{
  Hub *hub = g_new0 (Hub, 1);
  g_autoptr (GError) error = NULL;
  GSList *uris;

  hub->files = make_repo (FALSE);
  hub->bad_files = make_repo (TRUE);
  hub->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (hub->server, NULL, handler, hub, NULL);
  g_assert_true (soup_server_listen_local (hub->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (hub->server);
  g_assert_nonnull (uris);
  hub->endpoint = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  /* "http://127.0.0.1:PORT/" */
  g_assert_true (g_str_has_prefix (hub->endpoint, "http://127.0.0.1:"));
  hub->last_range_start = -1;
  return hub;
}

void
hub_stop (Hub *hub)
{
  soup_server_disconnect (hub->server);
  g_object_unref (hub->server);
  g_ptr_array_unref (hub->files);
  g_ptr_array_unref (hub->bad_files);
  g_free (hub->endpoint);
  g_free (hub);
}
