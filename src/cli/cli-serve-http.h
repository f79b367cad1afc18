/* cli-serve-http.h: depict-cli serve's routes on a libsoup 3 server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   POST /v1/chat/completions   OpenAI chat completion (image_url + a task or a plain request)
 *   GET  /v1/models             OpenAI model list
 *   POST /api/generate          Ollama generate (prompt + base64 images)
 *   GET  /api/tags              Ollama model list
 *   GET  /api/version           Ollama version
 *   POST /v1/depict/run         Depict's options; answers what `depict-cli run --json` prints
 *   GET  /healthz               "ok" while the server takes requests
 *   GET  /metrics               Prometheus text
 *
 * Before a body is read: the token (when one is set; /healthz needs none) and the body's
 * declared size. A model request is parsed, queued (429 with Retry-After when the queue is
 * full) and its message paused; the client's socket is watched, and a client that goes away
 * cancels its job. Every error is answered with a 4xx or 5xx and a sentence.
 */
#pragma once

#include <gio/gio.h>

#include "cli-serve-queue.h"
#include "cli-serve-response.h"

G_BEGIN_DECLS

typedef struct _CliServeHttp CliServeHttp;

typedef struct {
  const CliServeModelInfo *model;
  CliServeQueue *queue;
  const char *token;                  /* NULL: no token asked */
  const char *const *allowed_folders; /* real paths; NULL: clients may not name files */
  gsize max_body;                     /* bytes of a request body */
  gboolean log;                       /* a line on stderr per model request and per error */
} CliServeHttpOptions;

CliServeHttp *cli_serve_http_new (const CliServeHttpOptions *options);
void cli_serve_http_free (CliServeHttp *http);

/* Listens on address; *out_url (nullable) receives the base URL ("http://127.0.0.1:8734/"),
 * with the port the system chose when address has port 0. */
gboolean cli_serve_http_listen (CliServeHttp *http, GSocketAddress *address, char **out_url,
                                GError **error);

/* Stops taking requests (they are answered 503) and calls done in the main context once
 * every model request already taken has been answered (a client still sending its request
 * is not waited for). */
void cli_serve_http_shutdown (CliServeHttp *http, GSourceFunc done, gpointer done_data);

G_END_DECLS
