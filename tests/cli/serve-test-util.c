/* serve-test-util.c: starting `depict-cli serve` for the tests (see serve-test-util.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "serve-test-util.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

/* The server goes when the program that started it goes, even by a crash: a server left
 * running would hold the test's output open. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

ServeTestServer *
serve_test_start (const char *cli_path, const char *const *extra_args, gboolean stderr_pipe,
                  GError **error)
{
  const char *data = g_getenv ("DEPICT_TEST_DATA");
  g_autofree char *model = g_build_filename (data, "models", "tiny", NULL);
  g_autofree char *tokenizer = g_build_filename (data, "tokenizer", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (ServeTestServer) server = g_new0 (ServeTestServer, 1);
  const char *fixed[] = { cli_path, "serve",       "--listen", "127.0.0.1:0", "--model",
                          model,    "--tokenizer", tokenizer,  "--device",    "cpu-reference" };

  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (argv, (gpointer) fixed[i]);
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra_args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        (stderr_pipe ? G_SUBPROCESS_FLAGS_STDERR_PIPE : 0));
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  server->process =
    g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
  if (server->process == NULL)
    return NULL;
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  server->url = g_data_input_stream_read_line_utf8 (out, NULL, NULL, error);
  if (server->url == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                             "depict-cli serve exited before it listened");
      g_subprocess_force_exit (server->process);
      g_subprocess_wait (server->process, NULL, NULL);
      return NULL;
    }
  return g_steal_pointer (&server);
}

int
serve_test_stop (ServeTestServer *server)
{
  g_subprocess_send_signal (server->process, SIGTERM);
  if (!g_subprocess_wait (server->process, NULL, NULL) ||
      !g_subprocess_get_if_exited (server->process))
    return -1;
  return g_subprocess_get_exit_status (server->process);
}

void
serve_test_server_free (ServeTestServer *server)
{
  if (server == NULL)
    return;
  if (server->process != NULL && g_subprocess_get_identifier (server->process) != NULL)
    {
      g_subprocess_force_exit (server->process);
      g_subprocess_wait (server->process, NULL, NULL);
    }
  g_clear_object (&server->process);
  g_free (server->url);
  g_free (server);
}

char *
serve_test_url (const ServeTestServer *server, const char *path)
{
  return g_strconcat (server->url, path, NULL);
}

double
serve_test_metric (const char *metrics_text, const char *sample)
{
  g_auto (GStrv) lines = g_strsplit (metrics_text, "\n", -1);
  gsize n = strlen (sample);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strncmp (lines[i], sample, n) == 0 && lines[i][n] == ' ')
      return g_ascii_strtod (lines[i] + n + 1, NULL);
  return -1;
}

char *
serve_test_image_path (const char *name)
{
  return serve_test_data_path ("preprocess", "images", name, NULL);
}

char *
serve_test_file_base64 (const char *path)
{
  g_autofree char *data = NULL;
  gsize len;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return g_base64_encode ((const guchar *) data, len);
}

/* ------------------------------------------------------------------------------------------ */
/* The client                                                                                  */

static SoupSession *session;
static ServeTestServer *current;

void
serve_test_client_init (void)
{
  session =
    soup_session_new_with_options ("max-conns", 64, "max-conns-per-host", 32, "timeout", 600, NULL);
}

void
serve_test_client_done (void)
{
  g_clear_object (&session);
}

void
serve_test_use (ServeTestServer *server)
{
  current = server;
}

void
serve_test_reply_free (ServeTestReply *reply)
{
  g_free (reply->body);
  g_free (reply->content_type);
  g_free (reply->retry_after);
  g_free (reply->authenticate);
  g_clear_error (&reply->error);
  g_free (reply);
}

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
fill_reply (ServeTestReply *reply, SoupMessage *msg, GBytes *bytes)
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

ServeTestReply *
serve_test_http_auth (const char *method, const char *path, const char *body,
                      const char *authorization)
{
  g_autofree char *url = serve_test_url (current, path);
  g_autoptr (SoupMessage) msg = new_message (method, url, body, -1, authorization);
  ServeTestReply *reply = g_new0 (ServeTestReply, 1);
  g_autoptr (GBytes) bytes = soup_session_send_and_read (session, msg, NULL, &reply->error);

  if (reply->error == NULL)
    fill_reply (reply, msg, bytes);
  return reply;
}

ServeTestReply *
serve_test_http_stream (const char *path, GInputStream *body, gssize length)
{
  g_autofree char *url = serve_test_url (current, path);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  ServeTestReply *reply = g_new0 (ServeTestReply, 1);
  g_autoptr (GBytes) bytes = NULL;

  soup_message_set_request_body (msg, "application/json", body, length);
  bytes = soup_session_send_and_read (session, msg, NULL, &reply->error);
  if (reply->error == NULL)
    fill_reply (reply, msg, bytes);
  return reply;
}

ServeTestReply *
serve_test_http (const char *method, const char *path, const char *body)
{
  ServeTestReply *reply = serve_test_http_auth (method, path, body, NULL);
  g_assert_no_error (reply->error);
  return reply;
}

JsonNode *
serve_test_parse_json (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);
  if (error != NULL)
    g_test_message ("not JSON: %s", text);
  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

void
serve_test_pending_free (ServeTestPending *p)
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

static void
on_sent (GObject *source, GAsyncResult *result, gpointer data)
{
  ServeTestPending *p = data;
  g_autoptr (GBytes) bytes =
    soup_session_send_and_read_finish (SOUP_SESSION (source), result, &p->reply.error);
  if (bytes != NULL)
    fill_reply (&p->reply, p->msg, bytes);
  p->reply.done = TRUE;
}

ServeTestPending *
serve_test_http_async (ServeTestServer *to, const char *path, const char *body)
{
  g_autofree char *url = serve_test_url (to, path);
  ServeTestPending *p = g_new0 (ServeTestPending, 1);

  p->msg = new_message ("POST", url, body, -1, NULL);
  p->cancellable = g_cancellable_new ();
  soup_session_send_and_read_async (session, p->msg, G_PRIORITY_DEFAULT, p->cancellable, on_sent,
                                    p);
  return p;
}

void
serve_test_wait_pending (ServeTestPending *p)
{
  while (!p->reply.done)
    g_main_context_iteration (NULL, TRUE);
}

char *
serve_test_metrics_of (ServeTestServer *of)
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
void
serve_test_wait_metric (ServeTestServer *of, const char *sample, double value)
{
  double last = -1;

  for (int i = 0; i < 3000; i++)
    {
      g_autofree char *text = NULL;
      while (g_main_context_iteration (NULL, FALSE))
        ;
      text = serve_test_metrics_of (of);
      last = serve_test_metric (text, sample);
      if (last == value)
        return;
      g_usleep (50000);
    }
  g_error ("%s stayed %g, never %g", sample, last, value);
}

/* A sentence: an error body says what happened. */
void
serve_test_assert_error (const ServeTestReply *reply, guint status)
{
  g_autoptr (JsonNode) root = NULL;
  JsonNode *error;
  const char *message;

  if (reply->status != status)
    g_test_message ("answer %u: %s", reply->status, reply->body);
  g_assert_cmpuint (reply->status, ==, status);
  g_assert_cmpstr (reply->content_type, ==, "application/json");
  root = serve_test_parse_json (reply->body);
  error = json_object_get_member (json_node_get_object (root), "error");
  g_assert_nonnull (error);
  message = JSON_NODE_HOLDS_OBJECT (error)
              ? json_object_get_string_member (json_node_get_object (error), "message")
              : json_node_get_string (error);
  g_assert_nonnull (message);
  g_assert_cmpuint (strlen (message), >, 20);
  g_assert_true (g_str_has_suffix (message, ".") || g_str_has_suffix (message, ")"));
}

char *
serve_test_chat_body (const char *text, const char *url, const char *extra)
{
  return g_strdup_printf ("{\"model\": \"tiny\", \"messages\": [{\"role\": \"system\", "
                          "\"content\": \"You describe photos.\"}, {\"role\": \"user\", "
                          "\"content\": [{\"type\": \"text\", \"text\": \"%s\"}, "
                          "{\"type\": \"image_url\", \"image_url\": {\"url\": \"%s\"}}]}]%s}",
                          text, url, extra != NULL ? extra : "");
}

char *
serve_test_data_url (const char *image, const char *type)
{
  g_autofree char *b64 = serve_test_file_base64 (image);
  return g_strdup_printf ("data:%s;base64,%s", type, b64);
}

ServeTestServer *
serve_test_setup (const char *cli_path, const char *const *extra_args)
{
  g_autofree char *images = serve_test_data_path ("preprocess", "images", NULL);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  ServeTestServer *server;

  g_assert_nonnull (cli_path);
  g_ptr_array_add (args, (gpointer) "--allow-folder");
  g_ptr_array_add (args, images);
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) extra_args[i]);
  g_ptr_array_add (args, NULL);
  serve_test_client_init ();
  server = serve_test_start (cli_path, (const char *const *) args->pdata, FALSE, &error);
  g_assert_no_error (error);
  serve_test_use (server);
  return server;
}

int
serve_test_teardown (ServeTestServer *server, int status)
{
  g_assert_cmpint (serve_test_stop (server), ==, 0);
  serve_test_server_free (server);
  serve_test_client_done ();
  return status;
}
