/* test-serve.c: `depict-cli serve` as a client uses it, through libsoup's HTTP client
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts depict-cli ($DEPICT_CLI) serve on a loopback port with the tiny fixture model on the
 * CPU reference and asks it what OpenAI, Ollama and Depict clients ask: every route, the
 * answers checked against the reference's generated ids and against `depict-cli run --json`;
 * --gallery; the model name of an installed model; the readiness a systemd unit waits for.
 * Bad requests, the token, the queue, hang-ups and SIGTERM: test-serve-hostile.c.
 */
#include "config.h"

#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-test-util.h"
#include "cli/serve-test-util.h"
#include "gallery/gallery-store.h"

static const char *cli_path;
static ServeTestServer *server; /* pictures allowed under the fixture images */

/* ------------------------------------------------------------------------------------------ */
/* Reference results                                                                           */

static JsonObject *
load_case (const char *name, JsonParser *parser)
{
  g_autofree char *path =
    serve_test_data_path ("models", "tiny", "cases", name, "expected.json", NULL);
  g_autoptr (GError) error = NULL;
  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
assert_reference_ids (JsonObject *run, const char *case_name)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *expected = load_case (case_name, parser);
  JsonArray *got = json_object_get_array_member (run, "token_ids");
  JsonArray *want = json_object_get_array_member (expected, "generated_ids");

  g_assert_cmpuint (json_array_get_length (got), ==, json_array_get_length (want));
  for (guint i = 0; i < json_array_get_length (want); i++)
    g_assert_cmpint (json_array_get_int_element (got, i), ==, json_array_get_int_element (want, i));
  g_assert_cmpstr (json_object_get_string_member (run, "text"), ==,
                   json_object_get_string_member (expected, "generated_text"));
}

/* The run JSON without its timings, the one member that differs between two runs. */
static char *
without_timings (const char *json_line)
{
  g_autoptr (JsonNode) root = serve_test_parse_json (json_line);
  json_object_remove_member (json_node_get_object (root), "timings");
  return json_to_string (root, FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Routes                                                                                      */

static void
test_health_and_lists (void)
{
  g_autoptr (ServeTestReply) health = serve_test_http ("GET", "healthz", NULL);
  g_autoptr (ServeTestReply) index = serve_test_http ("GET", "", NULL);
  g_autoptr (ServeTestReply) models = serve_test_http ("GET", "v1/models", NULL);
  g_autoptr (ServeTestReply) tags = serve_test_http ("GET", "api/tags", NULL);
  g_autoptr (ServeTestReply) version = serve_test_http ("GET", "api/version", NULL);
  g_autoptr (JsonNode) m = NULL, t = NULL, v = NULL;
  JsonObject *model;

  g_assert_cmpuint (health->status, ==, 200);
  g_assert_cmpstr (health->body, ==, "ok\n");
  g_assert_cmpuint (index->status, ==, 200);
  g_assert_nonnull (strstr (index->body, "/v1/chat/completions"));

  g_assert_cmpuint (models->status, ==, 200);
  m = serve_test_parse_json (models->body);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (m), "object"), ==, "list");
  model = json_array_get_object_element (
    json_object_get_array_member (json_node_get_object (m), "data"), 0);
  g_assert_cmpstr (json_object_get_string_member (model, "id"), ==, "tiny");
  g_assert_cmpstr (json_object_get_string_member (model, "object"), ==, "model");

  g_assert_cmpuint (tags->status, ==, 200);
  t = serve_test_parse_json (tags->body);
  model = json_array_get_object_element (
    json_object_get_array_member (json_node_get_object (t), "models"), 0);
  g_assert_cmpstr (json_object_get_string_member (model, "name"), ==, "tiny");
  g_assert_cmpuint (strlen (json_object_get_string_member (model, "digest")), ==, 64);
  g_assert_cmpint (json_object_get_int_member (model, "size"), >, 0);

  g_assert_cmpuint (version->status, ==, 200);
  v = serve_test_parse_json (version->body);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (v), "version"), ==,
                   PACKAGE_VERSION);
}

static void
test_metrics_text (void)
{
  g_autofree char *text = serve_test_metrics_of (server);
  g_autoptr (ServeTestReply) health = serve_test_http ("GET", "healthz", NULL);
  g_autofree char *after = serve_test_metrics_of (server);
  const char *sample = "depict_requests_total{route=\"/healthz\",code=\"200\"}";
  double before = serve_test_metric (text, sample);

  /* Prometheus text: every family typed, the histogram cumulative up to +Inf = _count. */
  g_assert_nonnull (strstr (text, "# TYPE depict_requests_total counter"));
  g_assert_nonnull (strstr (text, "# TYPE depict_request_duration_seconds histogram"));
  g_assert_nonnull (strstr (text, "# TYPE depict_queue_length gauge"));
  g_assert_nonnull (strstr (text, "# TYPE depict_errors_total counter"));
  g_assert_cmpfloat (serve_test_metric (text, "depict_queue_length"), ==, 0);
  g_assert_cmpfloat (serve_test_metric (text, "depict_queue_limit"), ==, 16);
  g_assert_cmpfloat (
    serve_test_metric (text, "depict_request_duration_seconds_bucket{le=\"+Inf\"}"), ==,
    serve_test_metric (text, "depict_request_duration_seconds_count"));
  g_assert_cmpfloat (
    serve_test_metric (text, "depict_request_duration_seconds_bucket{le=\"0.05\"}"), <=,
    serve_test_metric (text, "depict_request_duration_seconds_bucket{le=\"1\"}"));
  g_assert_cmpfloat (serve_test_metric (after, sample), ==, MAX (before, 0) + 1);
}

/* /v1/depict/run answers exactly what `depict-cli run --json` prints, and both the reference's
 * ids; the picture named by path (an allowed folder) and sent as base64 alike. */
static void
test_depict_run_is_cli_run (void)
{
  g_autofree char *image = serve_test_image_path ("photo_640x480.png");
  g_autofree char *model = serve_test_data_path ("models", "tiny", NULL);
  g_autofree char *tokenizer = serve_test_data_path ("tokenizer", NULL);
  g_autofree char *b64 = serve_test_file_base64 (image);
  const char *args[] = { "run",     "--json",   "--model",          model,    "--tokenizer",
                         tokenizer, "--device", "cpu-reference",    "--task", "<OD>",
                         "--beams", "3",        "--max-new-tokens", "30",     image,
                         NULL };
  g_auto (CliTestResult) cli = cli_test_run (args, NULL, NULL);
  g_autofree char *by_path = g_strdup_printf (
    "{\"path\": \"%s\", \"task\": \"od\", \"beams\": 3, \"max_new_tokens\": 30}", image);
  g_autofree char *by_upload =
    g_strdup_printf ("{\"image\": \"%s\", \"name\": \"%s\", \"task\": \"<OD>\", \"beams\": 3, "
                     "\"max_new_tokens\": 30, \"image_size\": 96}",
                     b64, image);
  g_autoptr (ServeTestReply) a = serve_test_http ("POST", "v1/depict/run", by_path);
  g_autoptr (ServeTestReply) b = serve_test_http ("POST", "v1/depict/run", by_upload);
  g_autofree char *want = NULL;
  g_autoptr (JsonNode) run = NULL;

  g_assert_cmpint (cli.status, ==, 0);
  want = without_timings (cli.out);
  g_assert_cmpuint (a->status, ==, 200);
  g_assert_cmpuint (b->status, ==, 200);
  g_assert_cmpstr (a->content_type, ==, "application/json");
  g_assert_true (g_str_has_suffix (a->body, "}\n"));
  {
    g_autofree char *got_a = without_timings (a->body);
    g_autofree char *got_b = without_timings (b->body);
    g_assert_cmpstr (got_a, ==, want);
    g_assert_cmpstr (got_b, ==, want);
  }
  run = serve_test_parse_json (a->body);
  assert_reference_ids (json_node_get_object (run), "od_beam3");
}

static void
test_depict_run_region (void)
{
  g_autofree char *image = serve_test_image_path ("photo_640x480.png");
  /* The reference case's <loc_52><loc_333><loc_932><loc_774> as pixels of the 640 × 480
   * picture (bin centres). */
  g_autofree char *body =
    g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<REGION_TO_DESCRIPTION>\", "
                     "\"region\": [33.6, 160.1, 596.8, 371.8], \"max_new_tokens\": 20}",
                     image);
  g_autoptr (ServeTestReply) reply = serve_test_http ("POST", "v1/depict/run", body);
  g_autoptr (JsonNode) run = NULL;

  g_assert_cmpuint (reply->status, ==, 200);
  run = serve_test_parse_json (reply->body);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (run), "text_input"), ==,
                   "<loc_52><loc_333><loc_932><loc_774>");
  assert_reference_ids (json_node_get_object (run), "region_desc_beam3");
}

static void
test_openai_chat (void)
{
  g_autofree char *image = serve_test_image_path ("photo_640x480.png");
  g_autofree char *url = serve_test_data_url (image, "image/png");
  g_autofree char *body = serve_test_chat_body ("<OD>", url, ", \"max_tokens\": 30");
  g_autoptr (ServeTestReply) reply = serve_test_http ("POST", "v1/chat/completions", body);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o, *choice, *usage, *depict;

  g_assert_cmpuint (reply->status, ==, 200);
  root = serve_test_parse_json (reply->body);
  o = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (o, "object"), ==, "chat.completion");
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "id"), "chatcmpl-"));
  g_assert_cmpstr (json_object_get_string_member (o, "model"), ==, "tiny");
  choice = json_array_get_object_element (json_object_get_array_member (o, "choices"), 0);
  g_assert_cmpstr (
    json_object_get_string_member (json_object_get_object_member (choice, "message"), "role"), ==,
    "assistant");
  g_assert_nonnull (
    json_object_get_string_member (json_object_get_object_member (choice, "message"), "content"));
  g_assert_cmpstr (json_object_get_string_member (choice, "finish_reason"), ==, "length");
  usage = json_object_get_object_member (o, "usage");
  g_assert_cmpint (json_object_get_int_member (usage, "prompt_tokens"), ==, 13);
  g_assert_cmpint (json_object_get_int_member (usage, "completion_tokens"), ==, 30);
  /* The parsed result rides along; the model's defaults (3 beams, the processor's size) are
   * the reference case's. */
  depict = json_object_get_object_member (o, "depict");
  g_assert_cmpstr (
    json_object_get_string_member (json_object_get_object_member (depict, "result"), "kind"), ==,
    "boxes");
  assert_reference_ids (depict, "od_beam3");
}

static void
test_openai_plain_request_and_file (void)
{
  g_autofree char *image = serve_test_image_path ("photo_640x480.png");
  g_autofree char *file_url = g_filename_to_uri (image, NULL, NULL);
  g_autofree char *body =
    serve_test_chat_body ("What is in this photo?", file_url, ", \"max_tokens\": 5");
  g_autoptr (ServeTestReply) reply = serve_test_http ("POST", "v1/chat/completions", body);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *depict;

  g_assert_cmpuint (reply->status, ==, 200);
  root = serve_test_parse_json (reply->body);
  depict = json_object_get_object_member (json_node_get_object (root), "depict");
  g_assert_cmpstr (json_object_get_string_member (depict, "task"), ==, "<MORE_DETAILED_CAPTION>");
  g_assert_cmpstr (json_object_get_string_member (depict, "image"), ==, image);
}

static void
test_openai_stream (void)
{
  g_autofree char *image = serve_test_image_path ("photo_640x480.png");
  g_autofree char *url = serve_test_data_url (image, "image/png");
  g_autofree char *body =
    serve_test_chat_body ("<CAPTION>", url, ", \"max_tokens\": 20, \"stream\": true");
  g_autofree char *plain_body = serve_test_chat_body ("<CAPTION>", url, ", \"max_tokens\": 20");
  g_autoptr (ServeTestReply) reply = serve_test_http ("POST", "v1/chat/completions", body);
  g_autoptr (ServeTestReply) plain = serve_test_http ("POST", "v1/chat/completions", plain_body);
  g_auto (GStrv) events = NULL;
  g_autoptr (JsonNode) first = NULL, last = NULL, whole = NULL;
  JsonObject *delta;

  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_cmpstr (reply->content_type, ==, "text/event-stream");
  events = g_strsplit (reply->body, "\n\n", -1);
  g_assert_cmpuint (g_strv_length (events), ==, 4); /* 3 events and what follows the last */
  g_assert_true (g_str_has_prefix (events[0], "data: "));
  g_assert_cmpstr (events[2], ==, "data: [DONE]");
  first = serve_test_parse_json (events[0] + 6);
  last = serve_test_parse_json (events[1] + 6);
  whole = serve_test_parse_json (plain->body);
  delta = json_object_get_object_member (
    json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (first), "choices"), 0),
    "delta");
  g_assert_cmpstr (json_object_get_string_member (delta, "content"), ==,
                   json_object_get_string_member (
                     json_object_get_object_member (
                       json_array_get_object_element (
                         json_object_get_array_member (json_node_get_object (whole), "choices"), 0),
                       "message"),
                     "content"));
  g_assert_true (json_object_has_member (json_node_get_object (last), "depict"));
}

static void
test_ollama_generate (void)
{
  g_autofree char *image = serve_test_image_path ("photo_1500x1000_q90.jpg");
  g_autofree char *b64 = serve_test_file_base64 (image);
  g_autofree char *body =
    g_strdup_printf ("{\"model\": \"tiny:latest\", \"prompt\": \"<CAPTION>\", \"images\": "
                     "[\"%s\"], \"stream\": false, \"options\": {\"num_predict\": 20}}",
                     b64);
  g_autofree char *stream_body = g_strdup_printf (
    "{\"model\": \"tiny\", \"prompt\": \"<CAPTION>\", \"images\": [\"%s\"], \"options\": "
    "{\"num_predict\": 20}}",
    b64);
  g_autoptr (ServeTestReply) reply = serve_test_http ("POST", "api/generate", body);
  g_autoptr (ServeTestReply) streamed = serve_test_http ("POST", "api/generate", stream_body);
  g_autoptr (JsonNode) root = NULL, line0 = NULL, line1 = NULL;
  g_auto (GStrv) lines = NULL;
  JsonObject *o;

  g_assert_cmpuint (reply->status, ==, 200);
  root = serve_test_parse_json (reply->body);
  o = json_node_get_object (root);
  g_assert_true (json_object_get_boolean_member (o, "done"));
  g_assert_cmpint (json_object_get_int_member (o, "eval_count"), ==, 20);
  assert_reference_ids (json_object_get_object_member (o, "depict"), "caption_beam3_jpeg");
  g_assert_cmpstr (
    json_object_get_string_member (o, "response"), ==,
    json_object_get_string_member (
      json_object_get_object_member (json_object_get_object_member (o, "depict"), "result"),
      "text"));

  /* Ollama streams unless told not to: JSON lines, the text first, then done. */
  g_assert_cmpuint (streamed->status, ==, 200);
  g_assert_cmpstr (streamed->content_type, ==, "application/x-ndjson");
  lines = g_strsplit (streamed->body, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  line0 = serve_test_parse_json (lines[0]);
  line1 = serve_test_parse_json (lines[1]);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (line0), "done"));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (line0), "response"), ==,
                   json_object_get_string_member (o, "response"));
  g_assert_true (json_object_get_boolean_member (json_node_get_object (line1), "done"));
}

/* --gallery keeps each result: a picture sent in the request under received/, a named file
 * where it lies. */
static void
test_gallery (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-serve-gallery-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "gallery.db", NULL);
  g_autofree char *old_data_home = g_strdup (g_getenv ("XDG_DATA_HOME"));
  g_autofree char *images = serve_test_data_path ("preprocess", "images", NULL);
  const char *args[] = { "--gallery", "--db", db, "--allow-folder", images, NULL };
  g_autoptr (ServeTestServer) keeping = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *jpeg = serve_test_image_path ("photo_1500x1000_q90.jpg");
  g_autofree char *png = serve_test_image_path ("photo_640x480.png");
  g_autofree char *url = serve_test_data_url (jpeg, "image/jpeg");
  g_autofree char *upload = serve_test_chat_body ("<CAPTION>", url, ", \"max_tokens\": 5");
  g_autofree char *by_path =
    g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<OD>\", \"max_new_tokens\": 5}", png);
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gboolean received = FALSE, named = FALSE;

  g_setenv ("XDG_DATA_HOME", dir, TRUE);
  keeping = serve_test_start (cli_path, args, FALSE, &error);
  if (old_data_home != NULL)
    g_setenv ("XDG_DATA_HOME", old_data_home, TRUE);
  g_assert_no_error (error);
  serve_test_use (keeping);
  {
    g_autoptr (ServeTestReply) a = serve_test_http ("POST", "v1/chat/completions", upload);
    g_autoptr (ServeTestReply) b = serve_test_http ("POST", "v1/depict/run", by_path);
    g_assert_cmpuint (a->status, ==, 200);
    g_assert_cmpuint (b->status, ==, 200);
  }
  serve_test_use (server);
  g_assert_cmpint (serve_test_stop (keeping), ==, 0);

  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 2);
  list = gallery_store_list_images (store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  for (guint i = 0; i < list->len; i++)
    {
      GalleryImage *image = list->pdata[i];
      g_autofree char *received_dir = g_build_filename (dir, "depict", "received", NULL);
      received |= g_str_has_prefix (image->paths[0], received_dir) &&
                  g_str_has_suffix (image->paths[0], ".jpeg");
      named |= g_strcmp0 (image->paths[0], png) == 0;
    }
  g_assert_true (received);
  g_assert_true (named);
}

/* An installed model is served under its hub name, as README.md shows clients asking for it. */
static void
test_installed_model_name (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-serve-models-XXXXXX", NULL);
  g_autofree char *base = g_build_filename (dir, "base", NULL);
  const char *files[][2] = { { "models/tiny", "config.json" },
                             { "models/tiny", "generation_config.json" },
                             { "models/tiny", "preprocessor_config.json" },
                             { "models/tiny", "model.safetensors" },
                             { "tokenizer", "tokenizer.json" },
                             { "tokenizer", "tokenizer_config.json" },
                             { "tokenizer", "vocab.json" } };
  const char *args[] = { "--model", "base", NULL };
  g_autoptr (ServeTestServer) installed = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir (base, 0700), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *from = serve_test_data_path (files[i][0], files[i][1], NULL);
      g_autofree char *to = g_build_filename (base, files[i][1], NULL);
      g_assert_cmpint (symlink (from, to), ==, 0);
    }
  g_setenv ("DEPICT_MODELS_DIR", dir, TRUE);
  installed = serve_test_start (cli_path, args, FALSE, &error);
  g_unsetenv ("DEPICT_MODELS_DIR");
  g_assert_no_error (error);
  serve_test_use (installed);
  {
    g_autoptr (ServeTestReply) models = serve_test_http ("GET", "v1/models", NULL);
    g_autoptr (JsonNode) m = serve_test_parse_json (models->body);
    JsonObject *model = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (m), "data"), 0);
    g_assert_cmpstr (json_object_get_string_member (model, "id"), ==, "florence-2-base");
  }
  serve_test_use (server);
  g_assert_cmpint (serve_test_stop (installed), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *to = g_build_filename (base, files[i][1], NULL);
      g_unlink (to);
    }
  g_rmdir (base);
  g_rmdir (dir);
}

/* Started by systemd as Type=notify (data/systemd/depict-serve.service): READY=1 on
 * $NOTIFY_SOCKET once it listens. */
static void
test_systemd_notify (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-serve-notify-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "notify", NULL);
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, 0, NULL);
  g_autoptr (GSocketAddress) address = g_unix_socket_address_new (path);
  g_autoptr (ServeTestServer) notifying = NULL;
  g_autoptr (GError) error = NULL;
  char message[64] = { 0 };
  gssize n;

  g_assert_true (g_socket_bind (socket, address, FALSE, &error));
  g_setenv ("NOTIFY_SOCKET", path, TRUE);
  notifying = serve_test_start (cli_path, NULL, FALSE, &error);
  g_unsetenv ("NOTIFY_SOCKET");
  g_assert_no_error (error);
  g_assert_true (
    g_socket_condition_timed_wait (socket, G_IO_IN, 60 * G_USEC_PER_SEC, NULL, &error));
  n = g_socket_receive (socket, message, sizeof message - 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, ==, 7);
  g_assert_cmpstr (message, ==, "READY=1");
  g_assert_cmpint (serve_test_stop (notifying), ==, 0);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  cli_path = g_getenv ("DEPICT_CLI");
  server = serve_test_setup (cli_path, NULL);

  g_test_add_func ("/serve/health-and-lists", test_health_and_lists);
  g_test_add_func ("/serve/metrics", test_metrics_text);
  g_test_add_func ("/serve/depict-run-is-cli-run", test_depict_run_is_cli_run);
  g_test_add_func ("/serve/depict-run-region", test_depict_run_region);
  g_test_add_func ("/serve/openai-chat", test_openai_chat);
  g_test_add_func ("/serve/openai-plain-request-and-file", test_openai_plain_request_and_file);
  g_test_add_func ("/serve/openai-stream", test_openai_stream);
  g_test_add_func ("/serve/ollama-generate", test_ollama_generate);
  g_test_add_func ("/serve/gallery", test_gallery);
  g_test_add_func ("/serve/installed-model-name", test_installed_model_name);
  g_test_add_func ("/serve/systemd-notify", test_systemd_notify);
  status = g_test_run ();
  return serve_test_teardown (server, status);
}
