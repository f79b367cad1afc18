/* cli-serve-metrics.h: what depict-cli serve counts, in Prometheus' text format
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Requests by route and status, errors by kind, model runs that were cancelled, and the
 * latency of answered requests as a histogram. Updated from the main thread only (the HTTP
 * side); the queue's lengths are read when the text is made.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _CliServeMetrics CliServeMetrics;

CliServeMetrics *cli_serve_metrics_new (void);
void cli_serve_metrics_free (CliServeMetrics *metrics);

/* One answered request: its route ("/v1/chat/completions"; unknown paths count as "other"),
 * its HTTP status and the seconds from its arrival to its answer. */
void cli_serve_metrics_count_request (CliServeMetrics *metrics, const char *route, guint status,
                                      double seconds);
/* A model run stopped because its client went away. */
void cli_serve_metrics_count_cancelled (CliServeMetrics *metrics);

/* The exposition text (text/plain; version=0.0.4) with the queue's current state. */
char *cli_serve_metrics_render (CliServeMetrics *metrics, guint waiting, guint running,
                                guint queue_limit);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliServeMetrics, cli_serve_metrics_free)

G_END_DECLS
