/* serve-test-util.h: starting `depict-cli serve` with the tiny fixture model on a loopback
 * port (for the tests and the load benchmark), and asking it as a client (for the tests)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  GSubprocess *process;
  char *url; /* "http://127.0.0.1:PORT/", read from the server's first line on stdout */
} ServeTestServer;

/* Starts cli_path serve --listen 127.0.0.1:0 with the tiny model of $DEPICT_TEST_DATA on the
 * CPU reference, then extra_args (NULL-terminated, may be NULL), and waits for its URL.
 * stderr is inherited unless stderr_pipe. NULL when it did not start (error says why). */
ServeTestServer *serve_test_start (const char *cli_path, const char *const *extra_args,
                                   gboolean stderr_pipe, GError **error);
/* SIGTERM, then waits; returns the exit status (-1 when it did not exit normally). */
int serve_test_stop (ServeTestServer *server);
void serve_test_server_free (ServeTestServer *server);

/* url + path ("v1/models"): a new string. */
char *serve_test_url (const ServeTestServer *server, const char *path);

/* The value of one sample of the server's /metrics text ("depict_queue_running",
 * "depict_requests_total{route=\"/healthz\",code=\"200\"}"); -1 when absent. */
double serve_test_metric (const char *metrics_text, const char *sample);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServeTestServer, serve_test_server_free)

/* ------------------------------------------------------------------------------------------ */
/* The fixtures                                                                                */

/* A path below tests/data. */
#define serve_test_data_path(...) g_build_filename (g_getenv ("DEPICT_TEST_DATA"), __VA_ARGS__)
/* A picture of tests/data/preprocess/images. */
char *serve_test_image_path (const char *name);
char *serve_test_file_base64 (const char *path);
/* "data:TYPE;base64,…" of the file. */
char *serve_test_data_url (const char *image, const char *type);
/* An OpenAI chat completion body for model "tiny": a system message, then a user message with
 * TEXT and an image_url URL; EXTRA (nullable) is added to the top object (", \"max_tokens\": 5").
 */
char *serve_test_chat_body (const char *text, const char *url, const char *extra);

/* ------------------------------------------------------------------------------------------ */
/* The client: one libsoup session; each test program calls serve_test_client_init() first.   */

typedef struct {
  guint status;
  char *body;
  char *content_type;
  char *retry_after;
  char *authenticate;
  GError *error; /* the connection failed */
  gboolean done;
} ServeTestReply;

void serve_test_client_init (void);
void serve_test_client_done (void);
/* The server serve_test_http() asks. */
void serve_test_use (ServeTestServer *server);

/* METHOD path (relative to the server's URL) with a JSON body (nullable) and an Authorization
 * header (nullable); a failed connection is reply->error. */
ServeTestReply *serve_test_http_auth (const char *method, const char *path, const char *body,
                                      const char *authorization);
/* The same without Authorization; the connection must work. */
ServeTestReply *serve_test_http (const char *method, const char *path, const char *body);
/* POST path with a body read from a stream: length bytes, or chunked when length is -1. */
ServeTestReply *serve_test_http_stream (const char *path, GInputStream *body, gssize length);
void serve_test_reply_free (ServeTestReply *reply);

/* A POST sent now and waited for later, while the main context runs; cancel its cancellable to
 * hang up. */
typedef struct {
  ServeTestReply reply;
  SoupMessage *msg;
  GCancellable *cancellable;
} ServeTestPending;

ServeTestPending *serve_test_http_async (ServeTestServer *to, const char *path, const char *body);
void serve_test_wait_pending (ServeTestPending *pending);
void serve_test_pending_free (ServeTestPending *pending);

/* GET /metrics of the server. */
char *serve_test_metrics_of (ServeTestServer *of);
/* Polls /metrics (pending requests progress meanwhile) until the sample has the value; fails
 * the test after 150 s. */
void serve_test_wait_metric (ServeTestServer *of, const char *sample, double value);

/* Fails the test unless text is JSON. */
JsonNode *serve_test_parse_json (const char *text);
/* An error answer: STATUS, JSON, and a message that is a sentence. */
void serve_test_assert_error (const ServeTestReply *reply, guint status);

/* A test program's shared server (pictures allowed under the fixture images, then
 * extra_args), with the client set up and asking it; the teardown stops it (it must exit 0)
 * and returns status. */
ServeTestServer *serve_test_setup (const char *cli_path, const char *const *extra_args);
int serve_test_teardown (ServeTestServer *server, int status);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServeTestReply, serve_test_reply_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServeTestPending, serve_test_pending_free)

G_END_DECLS
