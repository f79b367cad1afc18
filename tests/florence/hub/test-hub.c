/* test-hub.c: model downloads end to end against a local HTTP server on 127.0.0.1
 *
 * The server (hub-test-server.c) plays the Hugging Face hub and serves the tiny fixture model.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <unistd.h>

#include "florence/hub/florence-hub-private.h"
#include "florence/hub/florence-hub.h"
#include "hub-test-server.h"

typedef struct {
  GMainLoop *loop;
  GError *error;
  gboolean ok;
  guint n_progress;
  guint64 last_received, last_total;
  gboolean monotonic;
  GCancellable *cancel_after_mib; /* cancel once a weights progress report passes 1 MiB */
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
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS)); /* nothing half-installed */
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
  g_autofree char *part_weights =
    g_build_filename (tmp, "bad.part", "model.safetensors.part", NULL);
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

/* A hub answering 416 to every request: the download fails with a sentence after a bounded
 * number of requests (it used to retry recursively, each retry holding a connection, until
 * libsoup had none left: a hang). */
static void
test_download_416 (void)
{
  Hub *hub = hub_start ();
  g_autofree char *tmp = g_dir_make_tmp ("depict-hub-XXXXXX", NULL);
  g_autofree char *dest = g_build_filename (tmp, "refused", NULL);
  g_autofree char *part_dir = g_strconcat (dest, ".part", NULL);
  g_autofree char *part_config = g_build_filename (part_dir, "config.json.part", NULL);
  Run run = { 0 };

  /* A partial file from an earlier run: the client asks for the rest with a range. */
  g_assert_cmpint (g_mkdir_with_parents (part_dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (part_config, "{\"model", -1, NULL));
  alarm (120);
  g_assert_false (run_download (hub->endpoint, "test/416", dest, NULL, &run));
  alarm (0);
  g_assert_nonnull (run.error);
  g_test_message ("%s", run.error->message);
  g_assert_nonnull (strstr (run.error->message, "416"));
  g_assert_cmpuint (hub->refused_requests, <=, 3);
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_clear_error (&run.error);
  hub_stop (hub);
}

/* A file list that inflates to 64 MiB: refused once past the cap, memory bounded. */
static void
test_listing_bomb (void)
{
  Hub *hub = hub_start ();
  g_autofree char *tmp = g_dir_make_tmp ("depict-hub-XXXXXX", NULL);
  g_autofree char *dest = g_build_filename (tmp, "bomb", NULL);
  Run run = { 0 };

  g_assert_false (run_download (hub->endpoint, "test/bomb", dest, NULL, &run));
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_test_message ("%s", run.error->message);
  g_assert_nonnull (strstr (run.error->message, "more than"));
  g_assert_nonnull (strstr (run.error->message, "test/bomb"));
  g_assert_false (g_file_test (dest, G_FILE_TEST_EXISTS));
  g_clear_error (&run.error);
  hub_stop (hub);
}

/* A file list nested half a million levels deep behind a '…' string or a comment (a hostile
 * mirror): refused by the JSON guard, not a stack overflow in json-glib. */
static void
test_listing_deep (void)
{
  static const char *const prefixes[] = { "[{'x':'\"','a':", "[{/* \" */\"a\":" };

  for (gsize p = 0; p < G_N_ELEMENTS (prefixes); p++)
    {
      g_autoptr (GString) json = g_string_new (prefixes[p]);
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) files = NULL;

      for (guint i = 0; i < 500000; i++)
        g_string_append_c (json, '[');
      for (guint i = 0; i < 500000; i++)
        g_string_append_c (json, ']');
      g_string_append (json, "}]");
      files = florence_hub_parse_file_list (json->str, json->len, &error);
      g_assert_null (files);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
    }
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
    g_autofree char *tiny =
      g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", "tiny", NULL);
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
  g_test_add_func ("/hub/download-416", test_download_416);
  g_test_add_func ("/hub/listing-bomb", test_listing_bomb);
  g_test_add_func ("/hub/listing-deep", test_listing_deep);
  return g_test_run ();
}
