/* bench-util.c: what the benchmark programs share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "bench-util.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

double
bench_cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

double
bench_wall_seconds (void)
{
  return (double) g_get_monotonic_time () / 1e6;
}

/* A "Name:   1234 kB" line of /proc/self/status, in MiB */
static double
status_mib (const char *name)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  const char *p = strstr (status, name);
  return p != NULL ? g_ascii_strtod (p + strlen (name), NULL) / 1024.0 : 0;
}

double
bench_peak_rss_mib (void)
{
  return status_mib ("VmHWM:");
}

double
bench_rss_mib (void)
{
  return status_mib ("VmRSS:");
}

void
bench_print_conditions (const char *when)
{
  g_autofree char *loadavg = NULL;
  g_auto (GStrv) f = NULL;
  if (g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL))
    f = g_strsplit (loadavg, " ", 4);
  g_autofree char *load = f != NULL && g_strv_length (f) >= 3
                            ? g_strdup_printf ("%s %s %s", f[0], f[1], f[2])
                            : g_strdup ("?");
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%H:%M:%S UTC");
  printf ("[%s] %s, load average %s, %d CPUs\n", when, stamp, load, g_get_num_processors ());
}

char *
bench_program_dir (GError **error)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", error);
  return self != NULL ? g_path_get_dirname (self) : NULL;
}

char *
bench_make_model (GError **error)
{
  g_autofree char *dir = bench_program_dir (error);
  if (dir == NULL)
    return NULL;
  char *model = g_build_filename (dir, "bench-model-base", NULL);
  g_autofree char *weights = g_build_filename (model, "model.safetensors", NULL);
  if (g_file_test (weights, G_FILE_TEST_EXISTS))
    return model;
  g_autofree char *maker = g_build_filename (dir, "make-random-model", NULL);
  const char *argv[] = { maker, model, NULL };
  int status = 0;
  g_printerr ("Writing a Florence-2-base model with random weights to %s...\n", model);
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL,
                     NULL, &status, error) ||
      !g_spawn_check_wait_status (status, error))
    {
      g_free (model);
      return NULL;
    }
  return model;
}
