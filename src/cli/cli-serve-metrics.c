/* cli-serve-metrics.c: what depict-cli serve counts (see cli-serve-metrics.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "cli-serve-metrics.h"

#include <stdlib.h>
#include <string.h>

/* The routes that are counted by name; anything else is "other". */
static const char *const routes[] = {
  "/v1/chat/completions", "/v1/models", "/api/generate", "/api/tags",
  "/v1/depict/run",       "/healthz",   "/metrics",      "other",
};
#define N_ROUTES G_N_ELEMENTS (routes)

/* Upper bounds of the latency buckets, in seconds (the last, +Inf, is the count). */
static const double buckets[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300 };
#define N_BUCKETS G_N_ELEMENTS (buckets)

struct _CliServeMetrics {
  GHashTable *requests; /* "route\tstatus" → guint64 count, as a pointer-sized integer */
  guint64 latency_buckets[N_BUCKETS];
  guint64 latency_count;
  double latency_sum;
  guint64 client_errors, server_errors, rejected, cancelled;
};

CliServeMetrics *
cli_serve_metrics_new (void)
{
  CliServeMetrics *metrics = g_new0 (CliServeMetrics, 1);
  metrics->requests = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return metrics;
}

void
cli_serve_metrics_free (CliServeMetrics *metrics)
{
  if (metrics == NULL)
    return;
  g_hash_table_unref (metrics->requests);
  g_free (metrics);
}

static const char *
route_name (const char *route)
{
  for (gsize i = 0; i + 1 < N_ROUTES; i++)
    if (g_strcmp0 (route, routes[i]) == 0)
      return routes[i];
  return "other";
}

void
cli_serve_metrics_count_request (CliServeMetrics *metrics, const char *route, guint status,
                                 double seconds)
{
  g_autofree char *key = g_strdup_printf ("%s\t%u", route_name (route), status);
  gpointer value = g_hash_table_lookup (metrics->requests, key);

  g_hash_table_replace (metrics->requests, g_steal_pointer (&key),
                        GSIZE_TO_POINTER (GPOINTER_TO_SIZE (value) + 1));
  if (status == 429)
    metrics->rejected++;
  else if (status >= 500)
    metrics->server_errors++;
  else if (status >= 400)
    metrics->client_errors++;
  for (gsize i = 0; i < N_BUCKETS; i++)
    if (seconds <= buckets[i])
      metrics->latency_buckets[i]++;
  metrics->latency_count++;
  metrics->latency_sum += seconds;
}

void
cli_serve_metrics_count_cancelled (CliServeMetrics *metrics)
{
  metrics->cancelled++;
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char *
cli_serve_metrics_render (CliServeMetrics *metrics, guint waiting, guint running, guint queue_limit)
{
  GString *out = g_string_new (NULL);
  g_autofree gpointer *keys = NULL;
  guint n_keys = 0;
  char num[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, "# HELP depict_requests_total Requests answered, by route and HTTP "
                        "status.\n"
                        "# TYPE depict_requests_total counter\n");
  keys = g_hash_table_get_keys_as_array (metrics->requests, &n_keys);
  qsort (keys, n_keys, sizeof (gpointer), compare_keys);
  for (guint i = 0; i < n_keys; i++)
    {
      const char *key = keys[i];
      const char *tab = strchr (key, '\t');
      g_string_append_printf (
        out, "depict_requests_total{route=\"%.*s\",code=\"%s\"} %" G_GSIZE_FORMAT "\n",
        (int) (tab - key), key, tab + 1,
        GPOINTER_TO_SIZE (g_hash_table_lookup (metrics->requests, key)));
    }

  g_string_append_printf (out,
                          "# HELP depict_errors_total Requests answered with an error, by "
                          "kind (client: 4xx but 429; server: 5xx; rejected: 429, queue full).\n"
                          "# TYPE depict_errors_total counter\n"
                          "depict_errors_total{kind=\"client\"} %" G_GUINT64_FORMAT "\n"
                          "depict_errors_total{kind=\"server\"} %" G_GUINT64_FORMAT "\n"
                          "depict_errors_total{kind=\"rejected\"} %" G_GUINT64_FORMAT "\n",
                          metrics->client_errors, metrics->server_errors, metrics->rejected);
  g_string_append_printf (out,
                          "# HELP depict_cancelled_total Model runs stopped because the "
                          "client went away.\n"
                          "# TYPE depict_cancelled_total counter\n"
                          "depict_cancelled_total %" G_GUINT64_FORMAT "\n",
                          metrics->cancelled);
  g_string_append_printf (out,
                          "# HELP depict_queue_length Requests waiting for the engine.\n"
                          "# TYPE depict_queue_length gauge\n"
                          "depict_queue_length %u\n"
                          "# HELP depict_queue_running Requests the engine is running.\n"
                          "# TYPE depict_queue_running gauge\n"
                          "depict_queue_running %u\n"
                          "# HELP depict_queue_limit Most requests that may wait; more are "
                          "answered 429.\n"
                          "# TYPE depict_queue_limit gauge\n"
                          "depict_queue_limit %u\n",
                          waiting, running, queue_limit);

  g_string_append (out, "# HELP depict_request_duration_seconds Time from a request's arrival "
                        "to its answer.\n"
                        "# TYPE depict_request_duration_seconds histogram\n");
  for (gsize i = 0; i < N_BUCKETS; i++)
    g_string_append_printf (
      out, "depict_request_duration_seconds_bucket{le=\"%s\"} %" G_GUINT64_FORMAT "\n",
      g_ascii_formatd (num, sizeof num, "%g", buckets[i]), metrics->latency_buckets[i]);
  g_string_append_printf (
    out, "depict_request_duration_seconds_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT "\n",
    metrics->latency_count);
  g_string_append_printf (out, "depict_request_duration_seconds_sum %s\n",
                          g_ascii_formatd (num, sizeof num, "%.6f", metrics->latency_sum));
  g_string_append_printf (out, "depict_request_duration_seconds_count %" G_GUINT64_FORMAT "\n",
                          metrics->latency_count);
  return g_string_free (out, FALSE);
}
