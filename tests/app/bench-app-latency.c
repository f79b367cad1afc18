/* bench-app-latency.c: how fast the window answers while the model runs
 *
 * Opens the main window on a photo, starts a task on the tiny fixture model (1024 tokens,
 * its progress shown as it goes; another run follows when one ends) and, while they run,
 * measures how late the main loop dispatches a 10 ms timer: the time an input event waits
 * before the window can handle it (events are dispatched at the same priority). Prints the
 * median, 95th percentile and worst lateness, with the load average. A benchmark, not a
 * test: run it by hand under a display, e.g.
 *
 *   GSETTINGS_SCHEMA_DIR=_build/data GSETTINGS_BACKEND=memory GSK_RENDERER=cairo \
 *   DEPICT_TEST_DATA=tests/data DEPICT_TOKENIZER_DIR=tests/data/tokenizer \
 *   dbus-run-session -- xvfb-run -a _build/tests/app/bench-app-latency [seconds] [device] [idle]
 *
 * With "idle" nothing runs: the same measure with the window alone, the baseline of a busy
 * machine.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>

#include "app-test-util.h"
#include "depict-application.h"
#include "depict-window-private.h"

typedef struct {
  gint64 due;
  GArray *late_us; /* gint64 */
} Probe;

static gboolean
probe_cb (gpointer data)
{
  Probe *probe = data;
  gint64 now = g_get_monotonic_time ();
  gint64 late = MAX (0, now - probe->due);

  if (g_getenv ("BENCH_TRACE") != NULL && late > 50000)
    g_printerr ("late %.0f ms at sample %u\n", late / 1000.0, probe->late_us->len);

  g_array_append_val (probe->late_us, late);
  probe->due = now + 10000;
  return G_SOURCE_CONTINUE;
}

static int
cmp_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

static gboolean
has_texture (gpointer data)
{
  return depict_image_view_get_texture (depict_window_get_image_view (data)) != NULL;
}

static gboolean
generating (gpointer data)
{
  return depict_session_get_busy (data);
}

int
main (int argc, char *argv[])
{
  double seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 8;
  const char *device = argc > 2 ? argv[2] : "cpu-reference";
  gboolean idle = argc > 3 && g_str_equal (argv[3], "idle");
  g_autoptr (GSettings) settings = NULL;
  g_autoptr (DepictSession) session = NULL;
  g_autofree char *tiny = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GFile) photo = NULL;
  g_autofree char *loadavg = NULL;
  DepictWindow *window;
  GSList one = { NULL, NULL };
  Probe probe = { 0 };
  guint source, runs = 1;
  gint64 end, n;

  app_test_private_data_dir ();
  app_test_init_gtk (&argc, &argv);
  settings = g_settings_new (DEPICT_SCHEMA_ID);
  tiny = app_test_data_path ("models", "tiny", NULL);
  g_settings_set_string (settings, "model", tiny);
  g_settings_set_string (settings, "device", device);
  g_settings_set_int (settings, "beams", 1);
  g_settings_set_int (settings, "max-new-tokens", 1024);
  g_settings_set_string (settings, "last-task", "<CAPTION>");
  session = app_test_session_new ();

  window = depict_window_new_for_session (session);
  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  gtk_window_present (GTK_WINDOW (window));
  path = app_test_data_path ("preprocess", "images", "photo_640x480.png", NULL);
  photo = g_file_new_for_path (path);
  one.data = photo;
  depict_window_drop_files (window, &one);
  app_test_wait (has_texture, window, 30000, "the photo");
  app_test_spin (300);

  probe.late_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (!idle)
    {
      depict_window_run (window);
      app_test_wait (generating, session, 30000, "the run to start");
    }
  probe.due = g_get_monotonic_time () + 10000;
  source = g_timeout_add (10, probe_cb, &probe);
  end = g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
  /* A run of the tiny model ends within a second or two: another follows until the time is
   * up, so that every figure covers the whole time. */
  while (g_get_monotonic_time () < end)
    {
      if (!idle && !depict_window_get_busy (window))
        {
          depict_window_run (window);
          runs++;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (source);
  depict_window_cancel (window);
  while (depict_session_get_busy (session))
    g_main_context_iteration (NULL, TRUE);

  n = probe.late_us->len;
  g_array_sort (probe.late_us, cmp_int64);
  g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL);
  if (n == 0)
    {
      g_printerr ("No samples: the run ended at once\n");
      return 1;
    }
  g_print ("main-loop lateness %s (device %s, %u runs, %" G_GINT64_FORMAT " samples over %.0f s):"
           " median %.1f ms, p95 %.1f ms, max %.1f ms; loadavg %s",
           idle ? "with nothing running" : "during runs", device, runs, n, seconds,
           g_array_index (probe.late_us, gint64, n / 2) / 1000.0,
           g_array_index (probe.late_us, gint64, n * 95 / 100) / 1000.0,
           g_array_index (probe.late_us, gint64, n - 1) / 1000.0,
           loadavg != NULL ? loadavg : "?\n");
  gtk_window_destroy (GTK_WINDOW (window));
  g_array_free (probe.late_us, TRUE);
  return 0;
}
