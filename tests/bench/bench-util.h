/* bench-util.h: what the benchmark programs share: process figures, the conditions of a
 * measurement, the random Florence-2-base model made next to the programs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

double bench_cpu_seconds (void);  /* the process's CPU time, all threads, user + system */
double bench_wall_seconds (void); /* monotonic */
double bench_peak_rss_mib (void); /* VmHWM: the peak resident memory so far */
double bench_rss_mib (void);      /* VmRSS: the resident memory now */

/* "[WHEN] 12:34:56 UTC, load average 1.02 0.98 0.87, 2 CPUs" on stdout */
void bench_print_conditions (const char *when);

/* The directory of a Florence-2-base model with random weights (make-random-model), made next
 * to the running program on first use (~463 MB). */
char *bench_make_model (GError **error);
/* The directory of the running program. */
char *bench_program_dir (GError **error);

G_END_DECLS
