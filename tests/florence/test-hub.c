/* test-hub.c: model downloads end to end against a local HTTP server on 127.0.0.1
 *
 * The server plays the Hugging Face hub: a file list at /api/models/<repo>/tree/main with
 * git blob SHA-1s and, for the weights, LFS SHA-256s, and the files at
 * /<repo>/resolve/main/<name>, with HTTP range requests. It serves the tiny fixture model.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "florence/florence-hub.h"

typedef struct {
  char *name;
  GBytes *served;     /* what the server sends */
  char *sha1_git;     /* hashes of the ORIGINAL content */
  char *sha256;
  gboolean lfs;
} RepoFile;

typedef struct {
  SoupServer *server;
  char *endpoint;
  GPtrArray *files;          /* RepoFile*, repo "test/tiny" */
  GPtrArray *bad_files;      /* the same with a damaged weights file, repo "test/bad" */
  goffset last_range_start;  /* of the latest weights request, -1 when none */
  guint weight_requests;
} Hub;

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
  struct { const char *name; const char *dir; gboolean lfs; } list[] = {
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
      g_ptr_array_add (files, repo_file_new (list[i].name, path, list[i].lfs,
                                             damage_weights && list[i].lfs));
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

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer user_data)
{
  Hub *hub = user_data;
  struct { const char *repo; GPtrArray *files; } repos[] = {
    { "test/tiny", hub->files },
    { "test/bad", hub->bad_files },
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

static Hub *
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

static void
hub_stop (Hub *hub)
{
  soup_server_disconnect (hub->server);
  g_object_unref (hub->server);
  g_ptr_array_unref (hub->files);
  g_ptr_array_unref (hub->bad_files);
  g_free (hub->endpoint);
  g_free (hub);
}

typedef struct {
  GMainLoop *loop;
  GError *error;
  gboolean ok;
  guint n_progress;
  guint64 last_received, last_total;
  gboolean monotonic;
  GCancellable *cancel_after_mib;   /* cancel once a weights progress report passes 1 MiB */
} Run;

static void
on_progress (guint64 received, guint64 total, const char *file, gpointer user_data)
{
  Run *run = user_data;
  if (received < run->last_received)
    run->monotonic = FALSE;
  run->n_progress++;
  run->last_received = received;
  run->last_total = total;
  if (run->cancel_after_mib != NULL && g_strcmp0 (file, "model.safetensors") == 0 &&
      received > 1048576 && received < total)
    g_cancellable_cancel (run->cancel_after_mib);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  run->ok = florence_hub_download_finish (result, &run->error);
  g_main_loop_quit (run->loop);
}

static gboolean
run_download (const char *endpoint, const char *repo, const char *dest, GCancellable *cancel,
              Run *run)
{
  FlorenceHubDownload d = { endpoint, repo, NULL, dest };
  run->loop = g_main_loop_new (NULL, FALSE);
  run->monotonic = TRUE;
  florence_hub_download_async (&d, cancel, on_progress, run, NULL, on_done, run);
  g_main_loop_run (run->loop);
  g_main_loop_unref (run->loop);
  return run->ok;
}

static void
assert_installed_equal (const char *dest, GPtrArray *files)
{
  for (guint i = 0; i < files->len; i++)
    {
      RepoFile *f = g_ptr_array_index (files, i);
      g_autofree char *path = g_build_filename (dest, f->name, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      g_assert_cmpmem (data, len, g_bytes_get_data (f->served, NULL), g_bytes_get_size (f->served));
    }
}

static void
test_download_resume (void)
{
  Hub *hub = hub_start ();
  g_autofree char *tmp = g_dir_make_tmp ("depict-hub-XXXXXX", NULL);
  g_autofree char *dest = g_build_filename (tmp, "tiny", NULL);
  g_autofree char *part = g_strconcat (dest, ".part", NULL);
  g_autofree char *part_weights = g_build_filename (part, "model.safetensors.part", NULL);
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  Run first = { 0 }, second = { 0 };
  GStatBuf st;

  /* HF_ENDPOINT is how a person points Depict at a mirror. */
  g_setenv ("HF_ENDPOINT", hub->endpoint, TRUE);

  /* First attempt: interrupted in the middle of the weights. */
  first.cancel_after_mib = cancel;
  g_assert_false (run_download (NULL, "test/tiny", dest, cancel, &first));
  g_assert_error (first.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));  /* nothing half-installed */
  g_assert_false (florence_hub_dir_is_complete (dest));
  g_assert_cmpint (g_stat (part_weights, &st), ==, 0);
  g_assert_cmpint (st.st_size, >, 0);
  g_assert_cmpint (st.st_size, <, 4000000);
  g_clear_error (&first.error);

  /* Second attempt: resumes with a range request from where the first stopped. */
  g_assert_true (run_download (NULL, "test/tiny", dest, NULL, &second));
  g_assert_no_error (second.error);
  g_assert_cmpint (hub->last_range_start, ==, st.st_size);
  g_assert_true (florence_hub_dir_is_complete (dest));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  assert_installed_equal (dest, hub->files);

  /* Progress went up to the total, never backwards. */
  g_assert_cmpuint (second.n_progress, >, 1);
  g_assert_true (second.monotonic);
  g_assert_cmpuint (second.last_received, ==, second.last_total);
  {
    guint64 total = 0;
    for (guint i = 0; i < hub->files->len; i++)
      total += g_bytes_get_size (((RepoFile *) g_ptr_array_index (hub->files, i))->served);
    g_assert_cmpuint (second.last_total, ==, total);
  }

  /* The manifest records where the model came from. */
  {
    g_autofree char *manifest = g_build_filename (dest, "depict-model.json", NULL);
    g_autofree char *text = NULL;
    g_assert_true (g_file_get_contents (manifest, &text, NULL, NULL));
    g_assert_nonnull (strstr (text, "\"test/tiny\""));
  }

  g_unsetenv ("HF_ENDPOINT");
  hub_stop (hub);
}

static void
test_download_corrupt (void)
{
  Hub *hub = hub_start ();
  g_autofree char *tmp = g_dir_make_tmp ("depict-hub-XXXXXX", NULL);
  g_autofree char *dest = g_build_filename (tmp, "bad", NULL);
  g_autofree char *part_weights = g_build_filename (tmp, "bad.part", "model.safetensors.part", NULL);
  g_autofree char *part_final = g_build_filename (tmp, "bad.part", "model.safetensors", NULL);
  Run run = { 0 };

  g_assert_false (run_download (hub->endpoint, "test/bad", dest, NULL, &run));
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (run.error->message, "model.safetensors"));
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part_weights, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part_final, G_FILE_TEST_EXISTS));
  g_clear_error (&run.error);
  hub_stop (hub);
}

static void
test_download_unknown_repo (void)
{
  Hub *hub = hub_start ();
  g_autofree char *tmp = g_dir_make_tmp ("depict-hub-XXXXXX", NULL);
  g_autofree char *dest = g_build_filename (tmp, "none", NULL);
  Run run = { 0 };

  g_assert_false (run_download (hub->endpoint, "test/none", dest, NULL, &run));
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_clear_error (&run.error);
  hub_stop (hub);
}

static void
test_catalogue (void)
{
  gsize n = 0;
  const FlorenceHubModel *m = florence_hub_get_models (&n);
  g_autofree char *endpoint = NULL;

  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpstr (m[0].repo, ==, "microsoft/Florence-2-base");
  g_assert_true (florence_hub_lookup ("large-ft") == &m[3]);
  g_assert_null (florence_hub_lookup ("huge"));

  g_unsetenv ("HF_ENDPOINT");
  endpoint = florence_hub_get_endpoint ();
  g_assert_cmpstr (endpoint, ==, "https://huggingface.co");
  g_setenv ("HF_ENDPOINT", "https://mirror.example/hf///", TRUE);
  g_free (endpoint);
  endpoint = florence_hub_get_endpoint ();
  g_assert_cmpstr (endpoint, ==, "https://mirror.example/hf");
  g_unsetenv ("HF_ENDPOINT");

  /* The tiny fixture folder holds no tokenizer: not a complete model. */
  {
    g_autofree char *tiny = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", "tiny", NULL);
    g_assert_false (florence_hub_dir_is_complete (tiny));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hub/catalogue", test_catalogue);
  g_test_add_func ("/hub/download-resume", test_download_resume);
  g_test_add_func ("/hub/download-corrupt", test_download_corrupt);
  g_test_add_func ("/hub/download-unknown-repo", test_download_unknown_repo);
  return g_test_run ();
}
