/* florence-cpu-pool.c: the CPU engine's one thread pool
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-cpu-pool.h"

/* Spin this many times (about 20 µs) for the next run before sleeping: a decoder step is tens
 * of runs of a few hundred µs each. */
#define SPIN 400

struct _FlorenceCpuPool {
  GMutex run_lock; /* one run at a time */
  GMutex lock;
  GCond wake, done;
  int n_threads; /* wanted, caller included */
  GPtrArray *workers;
  /* the current run */
  FlorenceCpuTask task;
  gpointer data;
  guint n_tasks;
  gint next;       /* next task index (atomic) */
  gint busy;       /* workers not done with this run (atomic) */
  gint generation; /* bumped per run (atomic) */
  gint quit;       /* atomic */
};

typedef struct {
  FlorenceCpuPool *pool;
  guint index;
  gint seen; /* the generation at start (runs start only under run_lock) */
  GThread *thread;
} Worker;

static inline void
cpu_relax (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause ();
#endif
}

static void
work (FlorenceCpuPool *pool, guint thread)
{
  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&pool->next, 1);
      if (i >= pool->n_tasks)
        break;
      pool->task (i, thread, pool->data);
    }
}

static gpointer
worker_main (gpointer data)
{
  Worker *w = data;
  FlorenceCpuPool *pool = w->pool;
  gint seen = w->seen;
  for (;;)
    {
      gint g = seen;
      for (int i = 0; i < SPIN && g == seen && !g_atomic_int_get (&pool->quit); i++)
        {
          cpu_relax ();
          g = g_atomic_int_get (&pool->generation);
        }
      if (g == seen)
        {
          g_mutex_lock (&pool->lock);
          while ((g = g_atomic_int_get (&pool->generation)) == seen &&
                 !g_atomic_int_get (&pool->quit))
            g_cond_wait (&pool->wake, &pool->lock);
          g_mutex_unlock (&pool->lock);
        }
      if (g_atomic_int_get (&pool->quit))
        break;
      seen = g;
      work (pool, w->index);
      if (g_atomic_int_dec_and_test (&pool->busy))
        {
          g_mutex_lock (&pool->lock);
          g_cond_signal (&pool->done);
          g_mutex_unlock (&pool->lock);
        }
    }
  return NULL;
}

static void
stop_workers (FlorenceCpuPool *pool)
{
  g_mutex_lock (&pool->lock);
  g_atomic_int_set (&pool->quit, 1);
  g_cond_broadcast (&pool->wake);
  g_mutex_unlock (&pool->lock);
  for (guint i = 0; i < pool->workers->len; i++)
    {
      Worker *w = pool->workers->pdata[i];
      g_thread_join (w->thread);
      g_free (w);
    }
  g_ptr_array_set_size (pool->workers, 0);
  g_atomic_int_set (&pool->quit, 0);
}

/* With run_lock held. */
static void
ensure_workers (FlorenceCpuPool *pool)
{
  if ((int) pool->workers->len == pool->n_threads - 1)
    return;
  stop_workers (pool);
  for (int i = 1; i < pool->n_threads; i++)
    {
      Worker *w = g_new0 (Worker, 1);
      w->pool = pool;
      w->index = (guint) i;
      w->seen = g_atomic_int_get (&pool->generation);
      w->thread = g_thread_new ("depict-cpu", worker_main, w);
      g_ptr_array_add (pool->workers, w);
    }
}

FlorenceCpuPool *
florence_cpu_pool_new (int n_threads)
{
  FlorenceCpuPool *pool = g_new0 (FlorenceCpuPool, 1);
  g_mutex_init (&pool->run_lock);
  g_mutex_init (&pool->lock);
  g_cond_init (&pool->wake);
  g_cond_init (&pool->done);
  pool->workers = g_ptr_array_new ();
  pool->n_threads = CLAMP (n_threads, 1, FLORENCE_CPU_POOL_MAX_THREADS);
  return pool;
}

void
florence_cpu_pool_free (FlorenceCpuPool *pool)
{
  if (pool == NULL)
    return;
  g_mutex_lock (&pool->run_lock);
  stop_workers (pool);
  g_mutex_unlock (&pool->run_lock);
  g_ptr_array_unref (pool->workers);
  g_mutex_clear (&pool->run_lock);
  g_mutex_clear (&pool->lock);
  g_cond_clear (&pool->wake);
  g_cond_clear (&pool->done);
  g_free (pool);
}

int
florence_cpu_pool_get_n_threads (FlorenceCpuPool *pool)
{
  g_return_val_if_fail (pool != NULL, 1);
  return g_atomic_int_get (&pool->n_threads);
}

void
florence_cpu_pool_set_n_threads (FlorenceCpuPool *pool, int n_threads)
{
  g_return_if_fail (pool != NULL);
  g_atomic_int_set (&pool->n_threads, CLAMP (n_threads, 1, FLORENCE_CPU_POOL_MAX_THREADS));
}

void
florence_cpu_pool_run (FlorenceCpuPool *pool, guint n_tasks, FlorenceCpuTask task, gpointer data)
{
  g_return_if_fail (pool != NULL && task != NULL);
  if (n_tasks == 0)
    return;

  g_mutex_lock (&pool->run_lock);
  ensure_workers (pool);
  guint n_workers = pool->workers->len;
  if (n_workers == 0 || n_tasks == 1)
    {
      for (guint i = 0; i < n_tasks; i++)
        task (i, 0, data);
      g_mutex_unlock (&pool->run_lock);
      return;
    }

  pool->task = task;
  pool->data = data;
  pool->n_tasks = n_tasks;
  g_atomic_int_set (&pool->next, 0);
  g_atomic_int_set (&pool->busy, (gint) n_workers);
  g_mutex_lock (&pool->lock);
  g_atomic_int_inc (&pool->generation);
  g_cond_broadcast (&pool->wake);
  g_mutex_unlock (&pool->lock);

  work (pool, 0);

  for (int i = 0; i < SPIN && g_atomic_int_get (&pool->busy) > 0; i++)
    cpu_relax ();
  if (g_atomic_int_get (&pool->busy) > 0)
    {
      g_mutex_lock (&pool->lock);
      while (g_atomic_int_get (&pool->busy) > 0)
        g_cond_wait (&pool->done, &pool->lock);
      g_mutex_unlock (&pool->lock);
    }
  g_mutex_unlock (&pool->run_lock);
}
