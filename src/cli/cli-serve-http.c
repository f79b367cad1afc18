/* cli-serve-http.c: depict-cli serve's routes on a libsoup 3 server (see cli-serve-http.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "cli-serve-http.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/socket.h>

#include "cli-serve-access.h"
#include "cli-serve-metrics.h"
#include "florence/model/florence-limits.h"
#include "florence/model/florence-model.h"
#include "florence/text/florence-task.h"
#include "image/image-rgb.h"

struct _CliServeHttp {
  SoupServer *server;
  CliServeMetrics *metrics;
  const CliServeModelInfo *model;
  CliServeQueue *queue;
  char *token;
  char **allowed_folders;
  gsize max_body;
  gboolean log;
  guint in_flight; /* model requests queued, running or being answered */
  gboolean stopping;
  GSourceFunc stopped;
  gpointer stopped_data;
};

typedef struct _Route Route;
typedef void (*RouteFunc) (CliServeHttp *http, SoupServerMessage *msg, const Route *route);

struct _Route {
  const char *method;
  const char *path;
  CliServeApi api;   /* the dialect of its errors */
  gboolean open;     /* answered without the token */
  gboolean is_model; /* runs the model: queued, logged */
  RouteFunc handle;
};

/* One request, from its first byte to its answer; data of its message. */
typedef struct {
  CliServeHttp *http;
  SoupServerMessage *msg; /* not a reference: this is the message's data */
  const Route *route;
  char *method, *path; /* for the log, once the headers are read */
  gint64 arrived;
  guint64 body_read;
  CliServeJob *job; /* queued or running; the message is paused and referenced meanwhile */
  GSource *watch;   /* the client's socket while the job is out */
  gboolean gone;    /* the client closed its connection */
  gboolean awaited; /* a model request: a stopping server waits for its answer */
  gboolean done;    /* counted (and no longer in flight) */
} Request;

#define REQUEST_KEY "depict-serve-request"

static void handle_model (CliServeHttp *http, SoupServerMessage *msg, const Route *route);
static void handle_models (CliServeHttp *http, SoupServerMessage *msg, const Route *route);
static void handle_tags (CliServeHttp *http, SoupServerMessage *msg, const Route *route);
static void handle_version (CliServeHttp *http, SoupServerMessage *msg, const Route *route);
static void handle_health (CliServeHttp *http, SoupServerMessage *msg, const Route *route);
static void handle_metrics (CliServeHttp *http, SoupServerMessage *msg, const Route *route);
static void handle_index (CliServeHttp *http, SoupServerMessage *msg, const Route *route);

static const Route routes[] = {
  { "POST", "/v1/chat/completions", CLI_SERVE_API_OPENAI, FALSE, TRUE, handle_model },
  { "GET", "/v1/models", CLI_SERVE_API_OPENAI, FALSE, FALSE, handle_models },
  { "POST", "/api/generate", CLI_SERVE_API_OLLAMA, FALSE, TRUE, handle_model },
  { "GET", "/api/tags", CLI_SERVE_API_OLLAMA, FALSE, FALSE, handle_tags },
  { "GET", "/api/version", CLI_SERVE_API_OLLAMA, FALSE, FALSE, handle_version },
  { "POST", "/v1/depict/run", CLI_SERVE_API_DEPICT, FALSE, TRUE, handle_model },
  { "GET", "/healthz", CLI_SERVE_API_DEPICT, TRUE, FALSE, handle_health },
  { "GET", "/metrics", CLI_SERVE_API_DEPICT, FALSE, FALSE, handle_metrics },
  { "GET", "/", CLI_SERVE_API_DEPICT, FALSE, FALSE, handle_index },
};

static const Route *
find_route (const char *path)
{
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    if (g_strcmp0 (routes[i].path, path) == 0)
      return &routes[i];
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Answers                                                                                     */

static void
set_response (SoupServerMessage *msg, guint status, CliServeResponse *response)
{
  gsize length = strlen (response->body);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, response->content_type, SOUP_MEMORY_TAKE,
                                    g_steal_pointer (&response->body), length);
  cli_serve_response_clear (response);
}

static void
set_text (SoupServerMessage *msg, guint status, const char *content_type, char *text)
{
  CliServeResponse response = { g_strdup (content_type), text };
  set_response (msg, status, &response);
}

static void
set_error (SoupServerMessage *msg, CliServeApi api, guint status, const char *message)
{
  CliServeResponse response = { 0 };
  cli_serve_response_for_error (api, status, message, &response);
  set_response (msg, status, &response);
}

/* Refuses a request before its body is read: the body is read and dropped, not kept, and
 * the connection closes after the answer. */
static void
refuse_early (SoupServerMessage *msg, CliServeApi api, guint status, const char *message)
{
  set_error (msg, api, status, message);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
}

static guint
status_for_error (const GError *error)
{
  if (error->domain == CLI_SERVE_ERROR)
    return (guint) error->code;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return CLI_SERVE_ERROR_CLIENT_GONE;
  if (error->domain == IMAGE_ERROR)
    switch (error->code)
      {
      case IMAGE_ERROR_UNSUPPORTED:
        return CLI_SERVE_ERROR_UNSUPPORTED_MEDIA;
      case IMAGE_ERROR_TOO_LARGE:
        return CLI_SERVE_ERROR_TOO_LARGE;
      case IMAGE_ERROR_CORRUPT:
      case IMAGE_ERROR_EMPTY:
        return CLI_SERVE_ERROR_UNPROCESSABLE;
      default:
        return CLI_SERVE_ERROR_INTERNAL;
      }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
      g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
    return CLI_SERVE_ERROR_NOT_FOUND;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED) ||
      g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_ACCES))
    return CLI_SERVE_ERROR_FORBIDDEN;
  if (error->domain == FLORENCE_MODEL_ERROR || error->domain == FLORENCE_TASK_ERROR ||
      error->domain == FLORENCE_LIMITS_ERROR)
    return CLI_SERVE_ERROR_BAD_REQUEST;
  return CLI_SERVE_ERROR_INTERNAL;
}

/* ------------------------------------------------------------------------------------------ */
/* Requests in flight                                                                          */

static void
check_stopped (CliServeHttp *http)
{
  if (http->stopping && http->in_flight == 0 && http->stopped != NULL)
    {
      g_idle_add (http->stopped, http->stopped_data);
      http->stopped = NULL;
    }
}

/* The request is answered, or its message is being finalized (then it is not touched). */
static void
request_done (Request *request, gboolean finalizing)
{
  CliServeHttp *http = request->http;
  guint status;
  double seconds;

  if (request->done)
    return;
  request->done = TRUE;
  status = finalizing ? 0 : soup_server_message_get_status (request->msg);
  if (request->gone || status == 0)
    status = CLI_SERVE_ERROR_CLIENT_GONE;
  seconds = (double) (g_get_monotonic_time () - request->arrived) / G_USEC_PER_SEC;
  cli_serve_metrics_count_request (
    http->metrics, request->route != NULL ? request->route->path : "other", status, seconds);
  if (http->log && ((request->route != NULL && request->route->is_model) || status >= 400))
    g_printerr ("depict-cli serve: %s %s %u %.3f s\n",
                request->method != NULL ? request->method : "-",
                request->path != NULL ? request->path : "-", status, seconds);
  if (request->awaited)
    {
      http->in_flight--;
      check_stopped (http);
    }
}

static void
request_free (gpointer data)
{
  Request *request = data;
  /* A message dropped without an answer (the connection broke while its headers came). */
  request_done (request, TRUE);
  g_free (request->method);
  g_free (request->path);
  g_free (request);
}

static char *
too_large_message (CliServeHttp *http)
{
  return g_strdup_printf (_ ("The request is larger than the %u MB this server accepts. Send a "
                             "smaller picture, or start the server with a larger "
                             "--max-body-mb."),
                          (guint) (http->max_body / (1024 * 1024)));
}

static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer data)
{
  Request *request = data;
  CliServeHttp *http = request->http;

  request->body_read += g_bytes_get_size (chunk);
  if (request->body_read > http->max_body && soup_server_message_get_status (msg) == 0)
    {
      g_autofree char *message = too_large_message (http);
      soup_message_body_truncate (soup_server_message_get_request_body (msg));
      refuse_early (msg, request->route != NULL ? request->route->api : CLI_SERVE_API_DEPICT,
                    CLI_SERVE_ERROR_TOO_LARGE, message);
    }
}

static void
on_request_started (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  CliServeHttp *http = data;
  Request *request = g_new0 (Request, 1);

  request->http = http;
  request->msg = msg;
  request->arrived = g_get_monotonic_time ();
  g_object_set_data_full (G_OBJECT (msg), REQUEST_KEY, request, request_free);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), request);
}

static void
on_request_finished (SoupServer *server, SoupServerMessage *msg, gpointer data)
{
  Request *request = g_object_get_data (G_OBJECT (msg), REQUEST_KEY);
  if (request != NULL)
    request_done (request, FALSE);
}

/* Headers read, body not yet: the token, the declared size, a stopping server. */
static void
early_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
               gpointer data)
{
  CliServeHttp *http = data;
  Request *request = g_object_get_data (G_OBJECT (msg), REQUEST_KEY);
  const Route *route = find_route (path);
  CliServeApi api = route != NULL ? route->api : CLI_SERVE_API_DEPICT;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  if (request != NULL)
    {
      request->route = route;
      /* Escaped: a path such as "/%0A…" must not write lines of its own into the log. */
      request->method = g_strescape (soup_server_message_get_method (msg), NULL);
      request->path = g_strescape (path, NULL);
    }
  if (http->stopping && (route == NULL || !route->open))
    {
      refuse_early (msg, api, CLI_SERVE_ERROR_UNAVAILABLE,
                    _ ("The server is stopping. Send the request again once it is back."));
      return;
    }
  if (http->token != NULL && (route == NULL || !route->open) &&
      !cli_serve_access_check_bearer (soup_message_headers_get_one (headers, "Authorization"),
                                      http->token))
    {
      refuse_early (msg, api, CLI_SERVE_ERROR_UNAUTHORIZED,
                    _ ("This server needs its token. Send it as the header "
                       "“Authorization: Bearer TOKEN”."));
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "WWW-Authenticate", "Bearer");
      return;
    }
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      (guint64) soup_message_headers_get_content_length (headers) > http->max_body)
    {
      g_autofree char *message = too_large_message (http);
      refuse_early (msg, api, CLI_SERVE_ERROR_TOO_LARGE, message);
    }
}

static void
handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
         gpointer data)
{
  CliServeHttp *http = data;
  const Route *route = find_route (path);
  const char *method = soup_server_message_get_method (msg);

  if (route == NULL)
    {
      g_autofree char *message =
        g_strdup_printf (_ ("There is nothing at %s. Depict answers POST /v1/chat/completions, "
                            "GET /v1/models, POST /api/generate, GET /api/tags, POST "
                            "/v1/depict/run, GET /healthz and GET /metrics."),
                         path);
      set_error (msg, CLI_SERVE_API_DEPICT, CLI_SERVE_ERROR_NOT_FOUND, message);
      return;
    }
  if (g_strcmp0 (method, route->method) != 0 &&
      !(g_strcmp0 (method, "HEAD") == 0 && g_strcmp0 (route->method, "GET") == 0))
    {
      g_autofree char *message =
        g_strdup_printf (_ ("%s takes %s requests, not %s."), route->path, route->method, method);
      set_error (msg, route->api, CLI_SERVE_ERROR_METHOD_NOT_ALLOWED, message);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    route->method);
      return;
    }
  route->handle (http, msg, route);
}

/* ------------------------------------------------------------------------------------------ */
/* Model requests                                                                              */

static void
stop_watching (Request *request)
{
  if (request->watch != NULL)
    {
      g_source_destroy (request->watch);
      g_clear_pointer (&request->watch, g_source_unref);
    }
}

/* The client's socket became readable while its job is out: end of file means it went away
 * (a client that sends more, such as a pipelined request, is not watched further). */
static gboolean
on_client_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  Request *request = data;
  char c;
  gssize n = recv (g_socket_get_fd (socket), &c, 1, MSG_PEEK | MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&request->watch, g_source_unref);
  if (n > 0)
    return G_SOURCE_REMOVE;
  request->gone = TRUE;
  if (request->job != NULL)
    cli_serve_queue_cancel (request->http->queue, request->job);
  return G_SOURCE_REMOVE;
}

static void
watch_client (Request *request)
{
  GSocket *socket = soup_server_message_get_socket (request->msg);

  if (socket == NULL)
    return;
  request->watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (request->watch, G_SOURCE_FUNC (on_client_readable), request, NULL);
  g_source_attach (request->watch, NULL);
}

static void
on_job_done (CliServeJob *job, gpointer data)
{
  Request *request = data;
  CliServeHttp *http = request->http;
  SoupServerMessage *msg = request->msg;

  stop_watching (request);
  request->job = NULL;
  if (job->run != NULL)
    {
      CliServeResponse response = { 0 };
      cli_serve_response_for_run (http->model, job->request, job->run, &response);
      set_response (msg, SOUP_STATUS_OK, &response);
    }
  else
    {
      guint status = status_for_error (job->error);
      if (g_error_matches (job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        cli_serve_metrics_count_cancelled (http->metrics);
      set_error (msg, job->request->api, status, job->error->message);
    }
  cli_serve_job_free (job);
  soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
handle_model (CliServeHttp *http, SoupServerMessage *msg, const Route *route)
{
  Request *request = g_object_get_data (G_OBJECT (msg), REQUEST_KEY);
  g_autoptr (GBytes) body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr (CliServeRequest) parsed = NULL;
  g_autoptr (GError) error = NULL;
  CliServeJob *job;
  gsize length;
  const char *data = g_bytes_get_data (body, &length);

  parsed = cli_serve_request_parse (route->api, data, length, http->max_body, &error);
  if (parsed == NULL)
    {
      set_error (msg, route->api, status_for_error (error), error->message);
      return;
    }
  if (!cli_serve_response_model_matches (http->model, parsed->model))
    {
      g_autofree char *message = g_strdup_printf (_ ("This server has no model “%s”; it serves "
                                                     "“%s”."),
                                                  parsed->model, http->model->id);
      set_error (msg, route->api, CLI_SERVE_ERROR_NOT_FOUND, message);
      return;
    }
  if (parsed->image_path != NULL)
    {
      char *real = cli_serve_access_allowed_file (
        parsed->image_path, (const char *const *) http->allowed_folders, &error);
      if (real == NULL)
        {
          set_error (msg, route->api, status_for_error (error), error->message);
          return;
        }
      g_free (parsed->image_path);
      parsed->image_path = real;
    }
  if (request == NULL)
    {
      set_error (msg, route->api, CLI_SERVE_ERROR_INTERNAL, _ ("The request was lost."));
      return;
    }

  job = cli_serve_job_new (g_steal_pointer (&parsed), on_job_done, request);
  if (!cli_serve_queue_push (http->queue, job))
    {
      guint wait = cli_serve_queue_retry_after (http->queue);
      g_autofree char *seconds = g_strdup_printf ("%u", wait);
      g_autofree char *message = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE,
                     "The server is busy: %u request is already waiting. Try again in %u "
                     "second.",
                     "The server is busy: %u requests are already waiting. Try again in %u "
                     "seconds.",
                     wait),
        cli_serve_queue_get_limit (http->queue), wait);
      set_error (msg, route->api, CLI_SERVE_ERROR_TOO_MANY_REQUESTS, message);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                    seconds);
      cli_serve_job_free (job);
      return;
    }
  request->job = job;
  request->awaited = TRUE;
  http->in_flight++;
  g_object_ref (msg);
  soup_server_message_pause (msg);
  watch_client (request);
}

/* ------------------------------------------------------------------------------------------ */
/* The other routes                                                                            */

static void
handle_models (CliServeHttp *http, SoupServerMessage *msg, const Route *route)
{
  CliServeResponse response = { 0 };
  cli_serve_response_openai_models (http->model, &response);
  set_response (msg, SOUP_STATUS_OK, &response);
}

static void
handle_tags (CliServeHttp *http, SoupServerMessage *msg, const Route *route)
{
  CliServeResponse response = { 0 };
  cli_serve_response_ollama_tags (http->model, &response);
  set_response (msg, SOUP_STATUS_OK, &response);
}

static void
handle_version (CliServeHttp *http, SoupServerMessage *msg, const Route *route)
{
  set_text (msg, SOUP_STATUS_OK, "application/json",
            g_strdup_printf ("{\"version\":\"%s\"}\n", PACKAGE_VERSION));
}

static void
handle_health (CliServeHttp *http, SoupServerMessage *msg, const Route *route)
{
  if (http->stopping)
    set_text (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8",
              g_strdup ("stopping\n"));
  else
    set_text (msg, SOUP_STATUS_OK, "text/plain; charset=utf-8", g_strdup ("ok\n"));
}

static void
handle_metrics (CliServeHttp *http, SoupServerMessage *msg, const Route *route)
{
  guint waiting, running;

  cli_serve_queue_get_state (http->queue, &waiting, &running);
  set_text (msg, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8",
            cli_serve_metrics_render (http->metrics, waiting, running,
                                      cli_serve_queue_get_limit (http->queue)));
}

static void
handle_index (CliServeHttp *http, SoupServerMessage *msg, const Route *route)
{
  set_text (msg, SOUP_STATUS_OK, "text/plain; charset=utf-8",
            g_strdup_printf (_ ("Depict serves %s on %s.\n\n"
                                "POST /v1/chat/completions  OpenAI chat completion with an "
                                "image_url\n"
                                "GET  /v1/models            OpenAI model list\n"
                                "POST /api/generate         Ollama generate with images\n"
                                "GET  /api/tags             Ollama model list\n"
                                "POST /v1/depict/run        Depict run options, answers as "
                                "depict-cli run --json\n"
                                "GET  /healthz              ok while taking requests\n"
                                "GET  /metrics              Prometheus metrics\n"),
                             http->model->id, florence_model_get_device_name (http->model->model)));
}

/* ------------------------------------------------------------------------------------------ */

CliServeHttp *
cli_serve_http_new (const CliServeHttpOptions *options)
{
  CliServeHttp *http = g_new0 (CliServeHttp, 1);
  g_autofree char *header = g_strdup_printf ("depict/%s", PACKAGE_VERSION);

  http->model = options->model;
  http->queue = options->queue;
  http->token = g_strdup (options->token);
  http->allowed_folders = g_strdupv ((char **) options->allowed_folders);
  http->max_body = options->max_body;
  http->log = options->log;
  http->metrics = cli_serve_metrics_new ();
  http->server = soup_server_new ("server-header", header, NULL);
  soup_server_add_early_handler (http->server, NULL, early_handler, http, NULL);
  soup_server_add_handler (http->server, NULL, handler, http, NULL);
  g_signal_connect (http->server, "request-started", G_CALLBACK (on_request_started), http);
  g_signal_connect (http->server, "request-finished", G_CALLBACK (on_request_finished), http);
  g_signal_connect (http->server, "request-aborted", G_CALLBACK (on_request_finished), http);
  return http;
}

void
cli_serve_http_free (CliServeHttp *http)
{
  if (http == NULL)
    return;
  soup_server_disconnect (http->server);
  g_clear_object (&http->server);
  cli_serve_metrics_free (http->metrics);
  if (http->token != NULL)
    memset (http->token, 0, strlen (http->token));
  g_free (http->token);
  g_strfreev (http->allowed_folders);
  g_free (http);
}

gboolean
cli_serve_http_listen (CliServeHttp *http, GSocketAddress *address, char **out_url, GError **error)
{
  GSList *uris;

  if (!soup_server_listen (http->server, address, 0, error))
    return FALSE;
  if (out_url != NULL)
    {
      uris = soup_server_get_uris (http->server);
      *out_url = uris != NULL ? g_uri_to_string (uris->data) : NULL;
      g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
    }
  return TRUE;
}

void
cli_serve_http_shutdown (CliServeHttp *http, GSourceFunc done, gpointer done_data)
{
  http->stopping = TRUE;
  http->stopped = done;
  http->stopped_data = done_data;
  check_stopped (http);
}
