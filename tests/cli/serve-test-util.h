/* serve-test-util.h: starting `depict-cli serve` with the tiny fixture model on a loopback
 * port, for the tests and the load benchmark
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

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

G_END_DECLS
