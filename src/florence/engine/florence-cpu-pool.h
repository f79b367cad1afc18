/* florence-cpu-pool.h: the CPU engine's one thread pool
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A fork-join pool of n - 1 worker threads plus the calling thread. florence_cpu_pool_run()
 * hands out task indices 0 … n_tasks - 1 from a shared counter until none is left and returns
 * when every task has finished. The CPU engine runs everything through it, the BLAS included
 * (single-threaded inside each task: florence-engine-cpu.c tells the BLAS to use one thread),
 * so there are never more busy threads than the pool has. Workers wait on a condition
 * variable between runs (a short spin first, so that the many small steps of a decoder step
 * do not each pay a wake-up). Runs of one pool are serialised.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The most threads a pool runs (more are asked for: this many). */
#define FLORENCE_CPU_POOL_MAX_THREADS 256

typedef struct _FlorenceCpuPool FlorenceCpuPool;

/* Runs task @index on thread @thread (0 = the caller, < florence_cpu_pool_get_n_threads()). */
typedef void (*FlorenceCpuTask) (guint index, guint thread, gpointer data);

FlorenceCpuPool *florence_cpu_pool_new (int n_threads);
void florence_cpu_pool_free (FlorenceCpuPool *pool);

int florence_cpu_pool_get_n_threads (FlorenceCpuPool *pool);
/* Takes effect at the next run (workers are started or stopped then). 1 … 256. */
void florence_cpu_pool_set_n_threads (FlorenceCpuPool *pool, int n_threads);

void florence_cpu_pool_run (FlorenceCpuPool *pool, guint n_tasks, FlorenceCpuTask task,
                            gpointer data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceCpuPool, florence_cpu_pool_free)

G_END_DECLS
