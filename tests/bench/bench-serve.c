/* bench-serve.c: depict-cli serve under load, on loopback, with the tiny model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   bench-serve [--requests 200] [--clients 16] [--rounds 2] [--queue 16]
 *               [--rss-bound-mb 16]
 *
 * Starts `depict-cli serve` ($DEPICT_CLI) on 127.0.0.1 with the tiny fixture model on the CPU
 * reference, warms it with one request, then sends each round's requests (OpenAI chat
 * completions: a 640 × 480 PNG as a data URL, <CAPTION>, 20 tokens) from concurrent clients,
 * each with its own connection, and prints per round: throughput, latency p50/p95/p99,
 * answers by status (429 = the queue was full, expected when --queue < clients - 1: the client
 * asks again after Retry-After; anything else is an error), the server's CPU seconds per
 * request, and its peak RSS (VmHWM) and RSS.
 * It stops the server with SIGTERM and exits 1 when a request failed or the peak RSS grew by
 * more than --rss-bound-mb after the first round (a leak grows it round after round).
 */
#include "config.h"

#include <gio/gio.h>
#include <libsoup/soup.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/serve-test-util.h"

typedef struct {
  const char *url;
  GBytes *body;
  guint total;
  gint next; /* atomic: the next request to send */
  GMutex lock;
  GArray *latencies; /* double seconds, answered 200 */
  guint ok, failed;
  gint rejected; /* atomic: answers 429, each retried after Retry-After */
} Round;

static gpointer
client (gpointer data)
{
  Round *round = data;
  g_autoptr (SoupSession) session = soup_session_new_with_options ("timeout", 600, NULL);

  while ((guint) g_atomic_int_add (&round->next, 1) < round->total)
    {
      gint64 t0 = g_get_monotonic_time ();
      guint status;

      /* A well-behaved client: refused with 429, it waits Retry-After seconds and asks again;
       * the latency runs from its first try to its answer. */
      for (;;)
        {
          g_autoptr (SoupMessage) msg = soup_message_new ("POST", round->url);
          g_autoptr (GError) error = NULL;
          g_autoptr (GBytes) reply = NULL;
          const char *retry_after;

          soup_message_set_request_body_from_bytes (msg, "application/json", round->body);
          reply = soup_session_send_and_read (session, msg, NULL, &error);
          status = error == NULL ? soup_message_get_status (msg) : 0;
          if (status != 429)
            {
              if (status != 200)
                g_printerr ("request failed: %u %s\n", status,
                            error != NULL ? error->message
                                          : (const char *) g_bytes_get_data (reply, NULL));
              break;
            }
          g_atomic_int_inc (&round->rejected);
          retry_after =
            soup_message_headers_get_one (soup_message_get_response_headers (msg), "Retry-After");
          g_usleep ((gulong) (retry_after != NULL ? atoi (retry_after) : 1) * G_USEC_PER_SEC);
        }
      double seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
      g_mutex_lock (&round->lock);
      if (status == 200)
        {
          round->ok++;
          g_array_append_val (round->latencies, seconds);
        }
      else
        round->failed++;
      g_mutex_unlock (&round->lock);
    }
  return NULL;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y;
}

static double
percentile (GArray *sorted, double p)
{
  if (sorted->len == 0)
    return 0;
  guint i = (guint) (p / 100.0 * (sorted->len - 1) + 0.5);
  return g_array_index (sorted, double, MIN (i, sorted->len - 1));
}

/* VmHWM and VmRSS of the process, in MiB. */
static void
read_rss (const char *pid, double *peak, double *rss)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  *peak = *rss = -1;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], "VmHWM:"))
        *peak = g_ascii_strtod (lines[i] + 6, NULL) / 1024.0;
      else if (g_str_has_prefix (lines[i], "VmRSS:"))
        *rss = g_ascii_strtod (lines[i] + 6, NULL) / 1024.0;
    }
}

/* The process's user + system CPU seconds. */
static double
read_cpu (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", pid);
  g_autofree char *text = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (after = strrchr (text, ')')) == NULL)
    return -1;
  fields = g_strsplit (after + 2, " ", -1);
  /* state is field 3 of the line, utime 14 and stime 15: indexes 11 and 12 from state. */
  if (g_strv_length (fields) < 13)
    return -1;
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) /
         (double) sysconf (_SC_CLK_TCK);
}

static char *
loadavg (void)
{
  g_autofree char *text = NULL;
  if (!g_file_get_contents ("/proc/loadavg", &text, NULL, NULL))
    return g_strdup ("?");
  return g_strdup (g_strstrip (text));
}

int
main (int argc, char **argv)
{
  int requests = 200, clients = 16, rounds = 2, queue = 16, rss_bound_mb = 16;
  GOptionEntry entries[] = {
    { "requests", 'n', 0, G_OPTION_ARG_INT, &requests, "Requests per round (200)", "N" },
    { "clients", 'c', 0, G_OPTION_ARG_INT, &clients, "Concurrent clients (16)", "N" },
    { "rounds", 'r', 0, G_OPTION_ARG_INT, &rounds, "Rounds (2)", "N" },
    { "queue", 'q', 0, G_OPTION_ARG_INT, &queue, "The server's --queue (16)", "N" },
    { "rss-bound-mb", 0, 0, G_OPTION_ARG_INT, &rss_bound_mb,
      "Most growth of the peak RSS after the first round (16 MiB)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *queue_arg = NULL;
  g_autoptr (ServeTestServer) server = NULL;
  g_autofree char *image = NULL;
  g_autofree char *png = NULL;
  g_autofree char *b64 = NULL;
  g_autofree char *url = NULL;
  g_autoptr (GBytes) body = NULL;
  const char *pid;
  double first_peak = -1, peak, rss;
  gboolean failed = FALSE;
  gsize png_len;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || requests < 1 || clients < 1 ||
      rounds < 1 || queue < 0)
    {
      g_printerr ("bench-serve: %s\n", error != NULL ? error->message : "bad option");
      return 2;
    }
  if (g_getenv ("DEPICT_CLI") == NULL || g_getenv ("DEPICT_TEST_DATA") == NULL)
    {
      g_printerr ("bench-serve: run it through meson (DEPICT_CLI and DEPICT_TEST_DATA).\n");
      return 2;
    }

  image = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "preprocess", "images",
                            "photo_640x480.png", NULL);
  if (!g_file_get_contents (image, &png, &png_len, &error))
    {
      g_printerr ("bench-serve: %s\n", error->message);
      return 1;
    }
  b64 = g_base64_encode ((const guchar *) png, png_len);
  {
    char *text = g_strdup_printf (
      "{\"model\": \"tiny\", \"max_tokens\": 20, \"messages\": [{\"role\": \"user\", "
      "\"content\": [{\"type\": \"text\", \"text\": \"<CAPTION>\"}, {\"type\": "
      "\"image_url\", \"image_url\": {\"url\": \"data:image/png;base64,%s\"}}]}]}",
      b64);
    body = g_bytes_new_take (text, strlen (text));
  }

  queue_arg = g_strdup_printf ("%d", queue);
  {
    const char *args[] = { "--queue", queue_arg, "--quiet", NULL };
    server = serve_test_start (g_getenv ("DEPICT_CLI"), args, FALSE, &error);
  }
  if (server == NULL)
    {
      g_printerr ("bench-serve: %s\n", error->message);
      return 1;
    }
  pid = g_subprocess_get_identifier (server->process);
  url = serve_test_url (server, "v1/chat/completions");
  {
    g_autofree char *load = loadavg ();
    printf ("depict-cli serve (tiny model, CPU reference) at %s, --queue %d; %d clients, "
            "%d requests per round, %d rounds\nload average at start: %s\n",
            server->url, queue, clients, requests, rounds, load);
  }

  /* One request first: the model's first run and the buffers it keeps. */
  {
    Round warm = { url, body, 1, 0 };
    g_mutex_init (&warm.lock);
    warm.latencies = g_array_new (FALSE, FALSE, sizeof (double));
    client (&warm);
    failed |= warm.failed > 0;
    g_array_unref (warm.latencies);
    g_mutex_clear (&warm.lock);
  }
  read_rss (pid, &peak, &rss);
  printf ("after 1 warm-up request: peak RSS %.1f MiB, RSS %.1f MiB\n\n", peak, rss);
  printf ("round  req/s   p50 ms   p95 ms   p99 ms   200   429  errors  CPU s/req  peak RSS MiB  "
          "RSS MiB\n");

  for (int r = 1; r <= rounds; r++)
    {
      Round round = { url, body, (guint) requests, 0 };
      g_autoptr (GPtrArray) threads = g_ptr_array_new ();
      double cpu0 = read_cpu (pid), cpu1, wall;
      gint64 t0 = g_get_monotonic_time ();

      g_mutex_init (&round.lock);
      round.latencies = g_array_new (FALSE, FALSE, sizeof (double));
      for (int c = 0; c < clients; c++)
        g_ptr_array_add (threads, g_thread_new ("bench-client", client, &round));
      for (guint c = 0; c < threads->len; c++)
        g_thread_join (threads->pdata[c]);
      wall = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
      cpu1 = read_cpu (pid);
      read_rss (pid, &peak, &rss);
      g_array_sort (round.latencies, compare_doubles);
      printf ("%5d %6.1f %8.0f %8.0f %8.0f %5u %5u %7u %10.3f %13.1f %8.1f\n", r, round.ok / wall,
              1000 * percentile (round.latencies, 50), 1000 * percentile (round.latencies, 95),
              1000 * percentile (round.latencies, 99), round.ok, (guint) round.rejected,
              round.failed, (cpu1 - cpu0) / MAX (round.ok, 1), peak, rss);
      fflush (stdout);
      failed |= round.failed > 0;
      if (r == 1)
        first_peak = peak;
      g_array_unref (round.latencies);
      g_mutex_clear (&round.lock);
    }

  {
    g_autofree char *load = loadavg ();
    int status = serve_test_stop (server);
    printf ("\nload average at end: %s\nserver exit status after SIGTERM: %d\n", load, status);
    failed |= status != 0;
  }
  if (rounds > 1)
    {
      gboolean within = peak - first_peak <= rss_bound_mb;
      printf ("peak RSS after round %d - after round 1: %+.1f MiB (bound %d MiB): %s\n", rounds,
              peak - first_peak, rss_bound_mb, within ? "within" : "EXCEEDED");
      failed |= !within;
    }
  return failed ? 1 : 0;
}
