/* test-serve.c: `depict-cli serve` as a client uses it, through libsoup's HTTP client
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Starts depict-cli ($DEPICT_CLI) serve on a loopback port with the tiny fixture model on the CPU
 * reference and asks it what OpenAI, Ollama and Depict clients ask: every route, answers
 * checked against the reference's generated ids and against `depict-cli run --json`; hostile
 * and malformed requests, each a 4xx with a sentence while the server stays up; the token; a
 * full queue (429 with Retry-After); clients that go away (their work is cancelled); SIGTERM
 * (the running request finishes, then the server exits); --gallery.
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
static SoupSession *session;
static ServeTestServer *server; /* --queue 1, pictures allowed under the fixture images */

/* A path below tests/data. */
#define data_path(...) g_build_filename (g_getenv ("DEPICT_TEST_DATA"), __VA_ARGS__)

static char *
image_path (const char *name)
{
  return data_path ("preprocess", "images", name, NULL);
}

static char *
file_base64 (const char *path)
{
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_base64_encode ((const guchar *) data, len);
}

/* ------------------------------------------------------------------------------------------ */
/* The client                                                                                  */

typedef struct {
  guint status;
  char *body;
  char *content_type;
  char *retry_after;
  char *authenticate;
  GError *error; /* the connection failed */
  gboolean done;
} Reply;

static void
reply_free (Reply *reply)
{
  g_free (reply->body);
  g_free (reply->content_type);
  g_free (reply->retry_after);
  g_free (reply->authenticate);
  g_clear_error (&reply->error);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

static SoupMessage *
new_message (const char *method, const char *url, const char *body, gssize length,
             const char *authorization)
{
  SoupMessage *msg = soup_message_new (method, url);
  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, length >= 0 ? (gsize) length : strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  if (authorization != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                  authorization);
  return msg;
}

static void
fill_reply (Reply *reply, SoupMessage *msg, GBytes *bytes)
{
  SoupMessageHeaders *headers = soup_message_get_response_headers (msg);
  gsize size = 0;
  const char *data = bytes != NULL ? g_bytes_get_data (bytes, &size) : NULL;

  reply->status = soup_message_get_status (msg);
  reply->body = g_strndup (data != NULL ? data : "", size);
  reply->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  reply->retry_after = g_strdup (soup_message_headers_get_one (headers, "Retry-After"));
  reply->authenticate = g_strdup (soup_message_headers_get_one (headers, "WWW-Authenticate"));
  reply->done = TRUE;
}

static Reply *
http_auth (const char *method, const char *path, const char *body, const char *authorization)
{
  g_autofree char *url = serve_test_url (server, path);
  g_autoptr (SoupMessage) msg = new_message (method, url, body, -1, authorization);
  Reply *reply = g_new0 (Reply, 1);
  g_autoptr (GBytes) bytes = soup_session_send_and_read (session, msg, NULL, &reply->error);

  if (reply->error == NULL)
    fill_reply (reply, msg, bytes);
  return reply;
}

static Reply *
http (const char *method, const char *path, const char *body)
{
  Reply *reply = http_auth (method, path, body, NULL);
  g_assert_no_error (reply->error);
  return reply;
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);
  if (error != NULL)
    g_test_message ("not JSON: %s", text);
  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

/* A request that the test sends and waits for later (the main context delivers it). */
typedef struct {
  Reply reply;
  SoupMessage *msg;
  GCancellable *cancellable;
} Pending;

static void
pending_free (Pending *p)
{
  g_free (p->reply.body);
  g_free (p->reply.content_type);
  g_free (p->reply.retry_after);
  g_free (p->reply.authenticate);
  g_clear_error (&p->reply.error);
  g_clear_object (&p->msg);
  g_clear_object (&p->cancellable);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_free)

static void
on_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  Pending *p = data;
  g_autoptr (GBytes) bytes =
    soup_session_send_and_read_finish (SOUP_SESSION (source), result, &p->reply.error);
  if (bytes != NULL)
    fill_reply (&p->reply, p->msg, bytes);
  p->reply.done = TRUE;
}

static Pending *
http_async (ServeTestServer *to, const char *path, const char *body)
{
  g_autofree char *url = serve_test_url (to, path);
  Pending *p = g_new0 (Pending, 1);

  p->msg = new_message ("POST", url, body, -1, NULL);
  p->cancellable = g_cancellable_new ();
  soup_session_send_and_read_async (session, p->msg, G_PRIORITY_DEFAULT, p->cancellable, on_sent,
                                    p);
  return p;
}

static void
wait_pending (Pending *p)
{
  while (!p->reply.done)
    g_main_context_iteration (NULL, TRUE);
}

static char *
metrics_of (ServeTestServer *of)
{
  g_autofree char *url = serve_test_url (of, "metrics");
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

/* Polls /metrics (letting pending requests progress) until the sample has the value. */
static void
wait_metric (ServeTestServer *of, const char *sample, double value)
{
  double last = -1;

  for (int i = 0; i < 3000; i++)
    {
      g_autofree char *text = NULL;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      text = metrics_of (of);
      last = serve_test_metric (text, sample);
      if (last == value)
        return;
      g_usleep (50000);
    }
  g_error ("%s stayed %g, never %g", sample, last, value);
}

/* A sentence: an error body says what happened. */
static void
assert_error_sentence (const Reply *reply, guint status)
{
  g_autoptr (JsonNode) root = NULL;
  JsonNode *error;
  const char *message;

  if (reply->status != status)
    g_test_message ("answer %u: %s", reply->status, reply->body);
  g_assert_cmpuint (reply->status, ==, status);
  g_assert_cmpstr (reply->content_type, ==, "application/json");
  root = parse_json (reply->body);
  error = json_object_get_member (json_node_get_object (root), "error");
  g_assert_nonnull (error);
  message = JSON_NODE_HOLDS_OBJECT (error)
              ? json_object_get_string_member (json_node_get_object (error), "message")
              : json_node_get_string (error);
  g_assert_nonnull (message);
  g_assert_cmpuint (strlen (message), >, 20);
  g_assert_true (g_str_has_suffix (message, ".") || g_str_has_suffix (message, ")"));
}

/* ------------------------------------------------------------------------------------------ */
/* Reference results                                                                           */

static JsonObject *
load_case (const char *name, JsonParser *parser)
{
  g_autofree char *path = data_path ("models", "tiny", "cases", name, "expected.json", NULL);
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
  g_autoptr (JsonNode) root = parse_json (json_line);
  json_object_remove_member (json_node_get_object (root), "timings");
  return json_to_string (root, FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Routes                                                                                      */

static void
test_health_and_lists (void)
{
  g_autoptr (Reply) health = http ("GET", "healthz", NULL);
  g_autoptr (Reply) index = http ("GET", "", NULL);
  g_autoptr (Reply) models = http ("GET", "v1/models", NULL);
  g_autoptr (Reply) tags = http ("GET", "api/tags", NULL);
  g_autoptr (Reply) version = http ("GET", "api/version", NULL);
  g_autoptr (JsonNode) m = NULL, t = NULL, v = NULL;
  JsonObject *model;

  g_assert_cmpuint (health->status, ==, 200);
  g_assert_cmpstr (health->body, ==, "ok\n");
  g_assert_cmpuint (index->status, ==, 200);
  g_assert_nonnull (strstr (index->body, "/v1/chat/completions"));

  g_assert_cmpuint (models->status, ==, 200);
  m = parse_json (models->body);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (m), "object"), ==, "list");
  model = json_array_get_object_element (
    json_object_get_array_member (json_node_get_object (m), "data"), 0);
  g_assert_cmpstr (json_object_get_string_member (model, "id"), ==, "tiny");
  g_assert_cmpstr (json_object_get_string_member (model, "object"), ==, "model");

  g_assert_cmpuint (tags->status, ==, 200);
  t = parse_json (tags->body);
  model = json_array_get_object_element (
    json_object_get_array_member (json_node_get_object (t), "models"), 0);
  g_assert_cmpstr (json_object_get_string_member (model, "name"), ==, "tiny");
  g_assert_cmpuint (strlen (json_object_get_string_member (model, "digest")), ==, 64);
  g_assert_cmpint (json_object_get_int_member (model, "size"), >, 0);

  g_assert_cmpuint (version->status, ==, 200);
  v = parse_json (version->body);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (v), "version"), ==,
                   PACKAGE_VERSION);
}

static void
test_metrics_text (void)
{
  g_autofree char *text = metrics_of (server);
  g_autoptr (Reply) health = http ("GET", "healthz", NULL);
  g_autofree char *after = metrics_of (server);
  const char *sample = "depict_requests_total{route=\"/healthz\",code=\"200\"}";
  double before = serve_test_metric (text, sample);

  /* Prometheus text: every family typed, the histogram cumulative up to +Inf = _count. */
  g_assert_nonnull (strstr (text, "# TYPE depict_requests_total counter"));
  g_assert_nonnull (strstr (text, "# TYPE depict_request_duration_seconds histogram"));
  g_assert_nonnull (strstr (text, "# TYPE depict_queue_length gauge"));
  g_assert_nonnull (strstr (text, "# TYPE depict_errors_total counter"));
  g_assert_cmpfloat (serve_test_metric (text, "depict_queue_length"), ==, 0);
  g_assert_cmpfloat (serve_test_metric (text, "depict_queue_limit"), ==, 1);
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
  g_autofree char *image = image_path ("photo_640x480.png");
  g_autofree char *model = data_path ("models", "tiny", NULL);
  g_autofree char *tokenizer = data_path ("tokenizer", NULL);
  g_autofree char *b64 = file_base64 (image);
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
  g_autoptr (Reply) a = http ("POST", "v1/depict/run", by_path);
  g_autoptr (Reply) b = http ("POST", "v1/depict/run", by_upload);
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
  run = parse_json (a->body);
  assert_reference_ids (json_node_get_object (run), "od_beam3");
}

static void
test_depict_run_region (void)
{
  g_autofree char *image = image_path ("photo_640x480.png");
  /* The reference case's <loc_52><loc_333><loc_932><loc_774> as pixels of the 640 × 480
   * picture (bin centres). */
  g_autofree char *body =
    g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<REGION_TO_DESCRIPTION>\", "
                     "\"region\": [33.6, 160.1, 596.8, 371.8], \"max_new_tokens\": 20}",
                     image);
  g_autoptr (Reply) reply = http ("POST", "v1/depict/run", body);
  g_autoptr (JsonNode) run = NULL;

  g_assert_cmpuint (reply->status, ==, 200);
  run = parse_json (reply->body);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (run), "text_input"), ==,
                   "<loc_52><loc_333><loc_932><loc_774>");
  assert_reference_ids (json_node_get_object (run), "region_desc_beam3");
}

static char *
chat_body (const char *text, const char *url, const char *extra)
{
  return g_strdup_printf ("{\"model\": \"tiny\", \"messages\": [{\"role\": \"system\", "
                          "\"content\": \"You describe photos.\"}, {\"role\": \"user\", "
                          "\"content\": [{\"type\": \"text\", \"text\": \"%s\"}, "
                          "{\"type\": \"image_url\", \"image_url\": {\"url\": \"%s\"}}]}]%s}",
                          text, url, extra != NULL ? extra : "");
}

static char *
data_url (const char *image, const char *type)
{
  g_autofree char *b64 = file_base64 (image);
  return g_strdup_printf ("data:%s;base64,%s", type, b64);
}

static void
test_openai_chat (void)
{
  g_autofree char *image = image_path ("photo_640x480.png");
  g_autofree char *url = data_url (image, "image/png");
  g_autofree char *body = chat_body ("<OD>", url, ", \"max_tokens\": 30");
  g_autoptr (Reply) reply = http ("POST", "v1/chat/completions", body);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *o, *choice, *usage, *depict;

  g_assert_cmpuint (reply->status, ==, 200);
  root = parse_json (reply->body);
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
  g_autofree char *image = image_path ("photo_640x480.png");
  g_autofree char *file_url = g_filename_to_uri (image, NULL, NULL);
  g_autofree char *body = chat_body ("What is in this photo?", file_url, ", \"max_tokens\": 5");
  g_autoptr (Reply) reply = http ("POST", "v1/chat/completions", body);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *depict;

  g_assert_cmpuint (reply->status, ==, 200);
  root = parse_json (reply->body);
  depict = json_object_get_object_member (json_node_get_object (root), "depict");
  g_assert_cmpstr (json_object_get_string_member (depict, "task"), ==, "<MORE_DETAILED_CAPTION>");
  g_assert_cmpstr (json_object_get_string_member (depict, "image"), ==, image);
}

static void
test_openai_stream (void)
{
  g_autofree char *image = image_path ("photo_640x480.png");
  g_autofree char *url = data_url (image, "image/png");
  g_autofree char *body = chat_body ("<CAPTION>", url, ", \"max_tokens\": 20, \"stream\": true");
  g_autofree char *plain_body = chat_body ("<CAPTION>", url, ", \"max_tokens\": 20");
  g_autoptr (Reply) reply = http ("POST", "v1/chat/completions", body);
  g_autoptr (Reply) plain = http ("POST", "v1/chat/completions", plain_body);
  g_auto (GStrv) events = NULL;
  g_autoptr (JsonNode) first = NULL, last = NULL, whole = NULL;
  JsonObject *delta;

  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_cmpstr (reply->content_type, ==, "text/event-stream");
  events = g_strsplit (reply->body, "\n\n", -1);
  g_assert_cmpuint (g_strv_length (events), ==, 4); /* 3 events and what follows the last */
  g_assert_true (g_str_has_prefix (events[0], "data: "));
  g_assert_cmpstr (events[2], ==, "data: [DONE]");
  first = parse_json (events[0] + 6);
  last = parse_json (events[1] + 6);
  whole = parse_json (plain->body);
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
  g_autofree char *image = image_path ("photo_1500x1000_q90.jpg");
  g_autofree char *b64 = file_base64 (image);
  g_autofree char *body =
    g_strdup_printf ("{\"model\": \"tiny:latest\", \"prompt\": \"<CAPTION>\", \"images\": "
                     "[\"%s\"], \"stream\": false, \"options\": {\"num_predict\": 20}}",
                     b64);
  g_autofree char *stream_body = g_strdup_printf (
    "{\"model\": \"tiny\", \"prompt\": \"<CAPTION>\", \"images\": [\"%s\"], \"options\": "
    "{\"num_predict\": 20}}",
    b64);
  g_autoptr (Reply) reply = http ("POST", "api/generate", body);
  g_autoptr (Reply) streamed = http ("POST", "api/generate", stream_body);
  g_autoptr (JsonNode) root = NULL, line0 = NULL, line1 = NULL;
  g_auto (GStrv) lines = NULL;
  JsonObject *o;

  g_assert_cmpuint (reply->status, ==, 200);
  root = parse_json (reply->body);
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
  line0 = parse_json (lines[0]);
  line1 = parse_json (lines[1]);
  g_assert_false (json_object_get_boolean_member (json_node_get_object (line0), "done"));
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (line0), "response"), ==,
                   json_object_get_string_member (o, "response"));
  g_assert_true (json_object_get_boolean_member (json_node_get_object (line1), "done"));
}

/* ------------------------------------------------------------------------------------------ */
/* Bad requests                                                                                */

static guint32
crc32_of (const guint8 *data, gsize n, guint32 crc)
{
  crc = ~crc;
  for (gsize i = 0; i < n; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
  return ~crc;
}

static void
png_chunk (GByteArray *png, const char *type, const guint8 *data, gsize n)
{
  guint8 be[4] = { (guint8) (n >> 24), (guint8) (n >> 16), (guint8) (n >> 8), (guint8) n };
  guint32 crc;

  g_byte_array_append (png, be, 4);
  g_byte_array_append (png, (const guint8 *) type, 4);
  g_byte_array_append (png, data, (guint) n);
  crc = crc32_of ((const guint8 *) type, 4, 0);
  crc = crc32_of (data, n, crc);
  be[0] = (guint8) (crc >> 24), be[1] = (guint8) (crc >> 16), be[2] = (guint8) (crc >> 8);
  be[3] = (guint8) crc;
  g_byte_array_append (png, be, 4);
}

/* A valid 8000 × 8000 grey PNG of zeros: 64 megapixels from about 60 KB. */
static GBytes *
decompression_bomb (void)
{
  const guint32 side = 8000;
  g_autoptr (GByteArray) png = g_byte_array_new ();
  g_autoptr (GByteArray) idat = g_byte_array_new ();
  g_autoptr (GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9);
  g_autofree guint8 *row = g_malloc0 (side + 1);
  guint8 out[65536];
  guint8 ihdr[13] = { side >> 24,
                      (side >> 16) & 255,
                      (side >> 8) & 255,
                      side & 255,
                      side >> 24,
                      (side >> 16) & 255,
                      (side >> 8) & 255,
                      side & 255,
                      8,
                      0,
                      0,
                      0,
                      0 };

  g_byte_array_append (png, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  png_chunk (png, "IHDR", ihdr, sizeof ihdr);
  for (guint32 y = 0; y <= side; y++)
    {
      gsize in_off = 0;
      GConverterResult r;
      do
        {
          gsize read = 0, written = 0;
          g_autoptr (GError) error = NULL;
          r = g_converter_convert (G_CONVERTER (z), y < side ? row + in_off : NULL,
                                   y < side ? side + 1 - in_off : 0, out, sizeof out,
                                   y < side ? G_CONVERTER_NO_FLAGS : G_CONVERTER_INPUT_AT_END,
                                   &read, &written, &error);
          g_assert_no_error (error);
          in_off += read;
          g_byte_array_append (idat, out, (guint) written);
        }
      while (y < side ? in_off < side + 1 : r != G_CONVERTER_FINISHED);
    }
  png_chunk (png, "IDAT", idat->data, idat->len);
  png_chunk (png, "IEND", NULL, 0);
  return g_byte_array_free_to_bytes (g_steal_pointer (&png));
}

static char *
ollama_with_image (const char *b64)
{
  return g_strdup_printf (
    "{\"model\": \"tiny\", \"prompt\": \"<CAPTION>\", \"images\": [\"%s\"], \"stream\": false, "
    "\"options\": {\"num_predict\": 5}}",
    b64);
}

/* Streams size bytes of "{" padding as a chunked body (no Content-Length). */
static Reply *
post_huge (gsize size, gboolean chunked)
{
  g_autofree char *url = serve_test_url (server, "v1/chat/completions");
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  g_autofree char *data = g_malloc (size);
  g_autoptr (GInputStream) stream = NULL;
  Reply *reply = g_new0 (Reply, 1);
  g_autoptr (GBytes) bytes = NULL;

  memset (data, ' ', size);
  data[0] = '{';
  stream = g_memory_input_stream_new_from_data (data, (gssize) size, NULL);
  soup_message_set_request_body (msg, "application/json", stream, chunked ? -1 : (gssize) size);
  bytes = soup_session_send_and_read (session, msg, NULL, &reply->error);
  if (reply->error == NULL)
    fill_reply (reply, msg, bytes);
  return reply;
}

typedef struct {
  const char *route;
  const char *body;
  guint status;
} BadCase;

/* str, kept in owned until the test ends. */
static const char *
keep (GPtrArray *owned, char *str)
{
  g_ptr_array_add (owned, str);
  return str;
}

static void
test_bad_requests (void)
{
  g_autofree char *png = image_path ("photo_640x480.png");
  g_autofree char *b64 = file_base64 (png);
  g_autofree char *truncated_b64 = g_strndup (b64, 1001); /* not a multiple of 4 */
  g_autofree char *text_b64 =
    g_base64_encode ((const guchar *) "This is a letter, not a photo.", 30);
  g_autoptr (GBytes) bomb = decompression_bomb ();
  g_autofree char *bomb_b64 =
    g_base64_encode (g_bytes_get_data (bomb, NULL), g_bytes_get_size (bomb));
  g_autofree char *cut_png_b64 = NULL;
  g_autofree char *deep = NULL;
  g_autofree char *wide = NULL; /* 200 000 values: json-glib would spend 20 MB on them */
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  {
    g_autofree char *raw = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (png, &raw, &len, NULL));
    cut_png_b64 = g_base64_encode ((const guchar *) raw, len / 2);
    g_autoptr (GString) s = g_string_new ("{\"messages\": ");
    for (int i = 0; i < 50000; i++) /* past the depth limit, under the value limit */
      g_string_append_c (s, '[');
    deep = g_string_free (g_steal_pointer (&s), FALSE);
    s = g_string_new ("{\"image\": \"AAAA\", \"prompt_ids\": [0");
    for (int i = 0; i < 200000; i++)
      g_string_append (s, ",0");
    g_string_append (s, "]}");
    wide = g_string_free (g_steal_pointer (&s), FALSE);
  }
  const BadCase cases[] = {
    /* base64 and pictures */
    { "api/generate",
      keep (owned, g_strdup_printf ("{\"model\": \"gpt-4o\", \"prompt\": \"<CAPTION>\", "
                                    "\"images\": [\"%s\"]}",
                                    b64)),
      404 },
    { "api/generate", keep (owned, ollama_with_image (truncated_b64)), 400 },
    { "api/generate", keep (owned, ollama_with_image ("iVBORw0KGgo*AAAA")), 400 },
    { "api/generate", keep (owned, ollama_with_image ("iVBO=RwA")), 400 },
    { "api/generate", keep (owned, ollama_with_image ("")), 400 },
    { "api/generate", keep (owned, ollama_with_image (text_b64)), 415 },
    { "api/generate", keep (owned, ollama_with_image (cut_png_b64)), 422 },
    { "api/generate", keep (owned, ollama_with_image (bomb_b64)), 413 },
    { "api/generate", "{\"prompt\": \"<CAPTION>\", \"images\": [5]}", 400 },
    { "api/generate", "{\"prompt\": \"<CAPTION>\", \"images\": [\"AAAA\", \"AAAA\"]}", 400 },
    { "api/generate", "{\"prompt\": \"<CAPTION>\"}", 400 },
    { "api/generate", "{\"prompt\": 7, \"images\": [\"AAAA\"]}", 400 },
    { "api/generate", "{\"prompt\": \"<CAPTION>\", \"images\": [\"AAAA\"], \"options\": []}", 400 },
    /* JSON */
    { "v1/chat/completions", "", 400 },
    { "v1/chat/completions", "{", 400 },
    { "v1/chat/completions", "[1, 2]", 400 },
    { "v1/chat/completions", "{\"messages\": \"hello\"}", 400 },
    { "v1/chat/completions", "{\"messages\": []}", 400 },
    { "v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", 400 },
    { "v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 400 },
    { "v1/chat/completions",
      "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": "
      "\"audio\"}]}]}",
      400 },
    { "v1/chat/completions", deep, 400 },
    { "v1/depict/run", wide, 400 },
    { "v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"\\xff\"}]}",
      400 },
    { "v1/chat/completions", keep (owned, chat_body ("<CAPTION>", "file:///etc/passwd", NULL)),
      403 },
    { "v1/chat/completions",
      keep (owned, chat_body ("<CAPTION>", "https://example.com/cat.jpg", NULL)), 400 },
    { "v1/chat/completions", keep (owned, chat_body ("<FOO>", "data:image/png;base64,AAAA", NULL)),
      400 },
    { "v1/chat/completions",
      keep (owned, chat_body ("<OD> cats", "data:image/png;base64,AAAA", NULL)), 400 },
    { "v1/chat/completions",
      keep (owned, chat_body ("<CAPTION>", "data:image/png,notbase64", NULL)), 400 },
    { "v1/chat/completions",
      keep (owned,
            chat_body ("<CAPTION>", "data:image/png;base64,AAAA", ", \"max_tokens\": \"20\"")),
      400 },
    { "v1/chat/completions",
      keep (owned, chat_body ("<CAPTION>", "data:image/png;base64,AAAA", ", \"stream\": \"yes\"")),
      400 },
    /* Depict's options */
    { "v1/depict/run", "{\"task\": \"<OD>\"}", 400 },
    { "v1/depict/run", "{\"image\": 5, \"task\": \"<OD>\"}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"path\": \"/tmp/x.png\", \"task\": \"<OD>\"}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"beams\": 99}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"beams\": 1.5}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"image_size\": 33}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"region\": [1, 2]}", 400 },
    { "v1/depict/run",
      "{\"image\": \"AAAA\", \"task\": \"<REGION_TO_DESCRIPTION>\", \"region\": [1, 2, \"x\", 4]}",
      400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"prompt_ids\": [-1]}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"max_new_tokens\": 0}", 400 },
    { "v1/depict/run", "{\"path\": \"/etc/passwd\", \"task\": \"<OD>\"}", 403 },
    { "v1/depict/run", "{\"path\": \"relative.png\", \"task\": \"<OD>\"}", 403 },
  };
  g_autoptr (Reply) wrong_method = http ("GET", "v1/chat/completions", NULL);
  g_autoptr (Reply) nowhere = http ("GET", "v1/nowhere", NULL);
  g_autoptr (Reply) huge = post_huge (100 * 1024 * 1024, FALSE);
  g_autoptr (Reply) huge_chunked = post_huge (100 * 1024 * 1024, TRUE);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (Reply) reply = http ("POST", cases[i].route, cases[i].body);
      g_test_message ("case %" G_GSIZE_FORMAT ": %u %s", i, reply->status, reply->body);
      assert_error_sentence (reply, cases[i].status);
    }
  assert_error_sentence (wrong_method, 405);
  assert_error_sentence (nowhere, 404);
  g_assert_no_error (huge->error);
  assert_error_sentence (huge, 413);
  g_assert_no_error (huge_chunked->error);
  assert_error_sentence (huge_chunked, 413);

  /* And the server stays up and answers. */
  {
    g_autoptr (Reply) health = http ("GET", "healthz", NULL);
    g_autofree char *url = data_url (png, "image/png");
    g_autofree char *body = chat_body ("<CAPTION>", url, ", \"max_tokens\": 5");
    g_autoptr (Reply) reply = http ("POST", "v1/chat/completions", body);
    g_assert_cmpuint (health->status, ==, 200);
    g_assert_cmpuint (reply->status, ==, 200);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* The queue, clients that go away                                                             */

/* 8 beams and 1024 tokens of the tiny model: half a minute, unless cancelled. */
static char *
long_run_body (void)
{
  g_autofree char *image = image_path ("photo_640x480.png");
  return g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<CAPTION>\", \"beams\": 8, "
                          "\"max_new_tokens\": 1024}",
                          image);
}

static void
test_full_queue_and_disconnects (void)
{
  g_autofree char *body = long_run_body ();
  g_autofree char *image = image_path ("photo_640x480.png");
  g_autofree char *short_body =
    g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<CAPTION>\", \"beams\": 1, "
                     "\"max_new_tokens\": 5}",
                     image);
  g_autofree char *before = metrics_of (server);
  double cancelled = serve_test_metric (before, "depict_cancelled_total");
  g_autoptr (Pending) running = NULL, waiting = NULL;

  /* One runs, one waits (--queue 1), the next is refused. */
  running = http_async (server, "v1/depict/run", body);
  wait_metric (server, "depict_queue_running", 1);
  waiting = http_async (server, "v1/depict/run", body);
  wait_metric (server, "depict_queue_length", 1);
  {
    g_autoptr (Reply) refused = http ("POST", "v1/depict/run", short_body);
    assert_error_sentence (refused, 429);
    g_assert_nonnull (refused->retry_after);
    g_assert_cmpint (atoi (refused->retry_after), >=, 1);
  }

  /* The waiting client goes away: its job leaves the queue without running. */
  g_cancellable_cancel (waiting->cancellable);
  wait_pending (waiting);
  g_assert_nonnull (waiting->reply.error);
  wait_metric (server, "depict_cancelled_total", cancelled + 1);
  wait_metric (server, "depict_queue_length", 0);

  /* The running client goes away: its run stops. */
  g_cancellable_cancel (running->cancellable);
  wait_pending (running);
  g_assert_nonnull (running->reply.error);
  wait_metric (server, "depict_cancelled_total", cancelled + 2);
  wait_metric (server, "depict_queue_running", 0);

  {
    g_autoptr (Reply) next = http ("POST", "v1/depict/run", short_body);
    g_assert_cmpuint (next->status, ==, 200);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Servers of their own                                                                        */

static void
test_token (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-serve-token-XXXXXX", NULL);
  g_autofree char *token_file = g_build_filename (dir, "token", NULL);
  const char *token = "Zm9vYmFyYmF6cXV4LXRlc3QtdG9rZW4";
  const char *args[] = { "--token-file", token_file, NULL };
  g_autoptr (ServeTestServer) secured = NULL;
  g_autoptr (GError) error = NULL;
  ServeTestServer *shared = server;
  g_autofree char *bearer = g_strdup_printf ("Bearer %s", token);
  g_autofree char *wrong = g_strdup_printf ("Bearer %.*sX", (int) strlen (token) - 1, token);

  g_assert_true (g_file_set_contents (token_file, token, -1, NULL));
  g_chmod (token_file, 0600);
  secured = serve_test_start (cli_path, args, FALSE, &error);
  g_assert_no_error (error);
  server = secured;
  {
    g_autoptr (Reply) none = http_auth ("GET", "v1/models", NULL, NULL);
    g_autoptr (Reply) bad = http_auth ("GET", "v1/models", NULL, wrong);
    g_autoptr (Reply) basic = http_auth ("GET", "metrics", NULL, "Basic dXNlcjpwYXNz");
    g_autoptr (Reply) good = http_auth ("GET", "v1/models", NULL, bearer);
    g_autoptr (Reply) post = http_auth ("POST", "api/generate", "{}", NULL);
    g_autoptr (Reply) health = http_auth ("GET", "healthz", NULL, NULL);

    assert_error_sentence (none, 401);
    g_assert_cmpstr (none->authenticate, ==, "Bearer");
    assert_error_sentence (bad, 401);
    assert_error_sentence (basic, 401);
    assert_error_sentence (post, 401);
    g_assert_cmpuint (good->status, ==, 200);
    g_assert_cmpuint (health->status, ==, 200);
  }
  server = shared;
  g_assert_cmpint (serve_test_stop (secured), ==, 0);
  g_unlink (token_file);
  g_rmdir (dir);
}

static void
run_refused (const char *const *args, int want_status, const char *want_text)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (CliTestResult) r = { 0 };

  g_ptr_array_add (argv, (gpointer) "serve");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  r = cli_test_run ((const char *const *) argv->pdata, NULL, NULL);
  g_test_message ("%s", r.err);
  g_assert_cmpint (r.status, ==, want_status);
  g_assert_nonnull (strstr (r.err, want_text));
}

/* Safe by default: another address than loopback needs a token, and a real one. */
static void
test_listen_needs_token (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-serve-token-XXXXXX", NULL);
  g_autofree char *short_token = g_build_filename (dir, "short", NULL);
  const char *open_args[] = { "--listen", "0.0.0.0:0", NULL };
  const char *short_args[] = { "--listen", "0.0.0.0:0", "--token-file", short_token, NULL };
  const char *bad_listen[] = { "--listen", "example.com:80", NULL };
  const char *bad_folder[] = { "--allow-folder", "/nonexistent/folder", NULL };

  g_assert_true (g_file_set_contents (short_token, "secret\n", -1, NULL));
  run_refused (open_args, 2, "--token-file");
  run_refused (short_args, 1, "shorter than");
  run_refused (bad_listen, 1, "127.0.0.1:8734");
  run_refused (bad_folder, 1, "/nonexistent/folder");
  g_unlink (short_token);
  g_rmdir (dir);
}

/* SIGTERM: the running request is answered, new ones are refused, then the server exits
 * (without waiting for a client that is still sending its request). */
static void
test_sigterm_finishes_work (void)
{
  g_autofree char *image = image_path ("photo_640x480.png");
  g_autofree char *body =
    g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<CAPTION>\", \"beams\": 1, "
                     "\"max_new_tokens\": 1024, \"image_size\": 768}",
                     image);
  const char *allow[] = { "--allow-folder", g_getenv ("DEPICT_TEST_DATA"), NULL };
  g_autoptr (ServeTestServer) stopping = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Pending) work = NULL, late = NULL;
  g_autoptr (JsonNode) run = NULL;
  g_autoptr (GSocketConnection) slow = NULL;

  stopping = serve_test_start (cli_path, allow, FALSE, &error);
  g_assert_no_error (error);
  work = http_async (stopping, "v1/depict/run", body);
  wait_metric (stopping, "depict_queue_running", 1);
  /* A client that never finishes its request does not hold the server up. */
  {
    g_autoptr (GUri) uri = g_uri_parse (stopping->url, G_URI_FLAGS_NONE, &error);
    g_autoptr (GSocketClient) client = g_socket_client_new ();
    const char *partial = "POST /v1/depict/run HTTP/1.1\r\nHost: localhost\r\nContent-";
    g_assert_no_error (error);
    slow = g_socket_client_connect_to_host (client, g_uri_get_host (uri),
                                            (guint16) g_uri_get_port (uri), NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (slow)),
                                              partial, strlen (partial), NULL, NULL, &error));
  }
  g_subprocess_send_signal (stopping->process, SIGTERM);
  /* Once the signal is seen, /healthz says so (and needs no queue). */
  for (;;)
    {
      g_autofree char *url = serve_test_url (stopping, "healthz");
      g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
      g_autoptr (GBytes) bytes = soup_session_send_and_read (session, msg, NULL, &error);
      g_assert_no_error (error);
      if (soup_message_get_status (msg) == 503)
        break;
      g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
      g_usleep (20000);
    }
  late = http_async (stopping, "v1/depict/run", body);
  wait_pending (late);
  g_assert_no_error (late->reply.error);
  assert_error_sentence (&late->reply, 503);

  wait_pending (work);
  g_assert_no_error (work->reply.error);
  g_assert_cmpuint (work->reply.status, ==, 200);
  run = parse_json (work->reply.body);
  g_assert_cmpuint (
    json_array_get_length (json_object_get_array_member (json_node_get_object (run), "token_ids")),
    ==, 1025);
  g_assert_true (g_subprocess_wait (stopping->process, NULL, NULL));
  g_assert_true (g_subprocess_get_if_exited (stopping->process));
  g_assert_cmpint (g_subprocess_get_exit_status (stopping->process), ==, 0);
}

/* --gallery keeps each result: a picture sent in the request under received/, a named file
 * where it lies. */
static void
test_gallery (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-serve-gallery-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "gallery.db", NULL);
  g_autofree char *old_data_home = g_strdup (g_getenv ("XDG_DATA_HOME"));
  g_autofree char *images = data_path ("preprocess", "images", NULL);
  const char *args[] = { "--gallery", "--db", db, "--allow-folder", images, NULL };
  g_autoptr (ServeTestServer) keeping = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *jpeg = image_path ("photo_1500x1000_q90.jpg");
  g_autofree char *png = image_path ("photo_640x480.png");
  g_autofree char *url = data_url (jpeg, "image/jpeg");
  g_autofree char *upload = chat_body ("<CAPTION>", url, ", \"max_tokens\": 5");
  g_autofree char *by_path =
    g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<OD>\", \"max_new_tokens\": 5}", png);
  ServeTestServer *shared = server;
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GPtrArray) list = NULL;
  gboolean received = FALSE, named = FALSE;

  g_setenv ("XDG_DATA_HOME", dir, TRUE);
  keeping = serve_test_start (cli_path, args, FALSE, &error);
  if (old_data_home != NULL)
    g_setenv ("XDG_DATA_HOME", old_data_home, TRUE);
  g_assert_no_error (error);
  server = keeping;
  {
    g_autoptr (Reply) a = http ("POST", "v1/chat/completions", upload);
    g_autoptr (Reply) b = http ("POST", "v1/depict/run", by_path);
    g_assert_cmpuint (a->status, ==, 200);
    g_assert_cmpuint (b->status, ==, 200);
  }
  server = shared;
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
  ServeTestServer *shared = server;

  g_assert_cmpint (g_mkdir (base, 0700), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *from = data_path (files[i][0], files[i][1], NULL);
      g_autofree char *to = g_build_filename (base, files[i][1], NULL);
      g_assert_cmpint (symlink (from, to), ==, 0);
    }
  g_setenv ("DEPICT_MODELS_DIR", dir, TRUE);
  installed = serve_test_start (cli_path, args, FALSE, &error);
  g_unsetenv ("DEPICT_MODELS_DIR");
  g_assert_no_error (error);
  server = installed;
  {
    g_autoptr (Reply) models = http ("GET", "v1/models", NULL);
    g_autoptr (JsonNode) m = parse_json (models->body);
    JsonObject *model = json_array_get_object_element (
      json_object_get_array_member (json_node_get_object (m), "data"), 0);
    g_assert_cmpstr (json_object_get_string_member (model, "id"), ==, "florence-2-base");
  }
  server = shared;
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
  g_autoptr (GError) error = NULL;
  g_autofree char *images = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  cli_path = g_getenv ("DEPICT_CLI");
  g_assert_nonnull (cli_path);
  session =
    soup_session_new_with_options ("max-conns", 64, "max-conns-per-host", 32, "timeout", 600, NULL);
  images = data_path ("preprocess", "images", NULL);
  {
    const char *args[] = { "--queue", "1", "--allow-folder", images, NULL };
    server = serve_test_start (cli_path, args, FALSE, &error);
    g_assert_no_error (error);
  }

  g_test_add_func ("/serve/health-and-lists", test_health_and_lists);
  g_test_add_func ("/serve/metrics", test_metrics_text);
  g_test_add_func ("/serve/depict-run-is-cli-run", test_depict_run_is_cli_run);
  g_test_add_func ("/serve/depict-run-region", test_depict_run_region);
  g_test_add_func ("/serve/openai-chat", test_openai_chat);
  g_test_add_func ("/serve/openai-plain-request-and-file", test_openai_plain_request_and_file);
  g_test_add_func ("/serve/openai-stream", test_openai_stream);
  g_test_add_func ("/serve/ollama-generate", test_ollama_generate);
  g_test_add_func ("/serve/bad-requests", test_bad_requests);
  g_test_add_func ("/serve/full-queue-and-disconnects", test_full_queue_and_disconnects);
  g_test_add_func ("/serve/token", test_token);
  g_test_add_func ("/serve/listen-needs-token", test_listen_needs_token);
  g_test_add_func ("/serve/sigterm-finishes-work", test_sigterm_finishes_work);
  g_test_add_func ("/serve/gallery", test_gallery);
  g_test_add_func ("/serve/installed-model-name", test_installed_model_name);
  g_test_add_func ("/serve/systemd-notify", test_systemd_notify);
  status = g_test_run ();

  g_assert_cmpint (serve_test_stop (server), ==, 0);
  serve_test_server_free (server);
  g_object_unref (session);
  return status;
}
