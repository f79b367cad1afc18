/* bench-blas.c: the BLAS candidates for the CPU engine on Florence-2's real GEMM shapes
 *
 *   bench-blas [--threads N] [--seconds S] [--filter TEXT] [--block ROWS]
 *
 * Built once per library found (bench-blas-openblas, bench-blas-blis, bench-blas-dnnl): each
 * binary links one library, since all three export cblas_sgemm. For every linear layer of
 * Florence-2-base at 768×768 (vision stages, encoder, cross-attention keys/values, a decoder
 * step with 1 and 3 beams, the LM head) it prints GFLOP/s (wall) and GFLOP per CPU-second of
 *   lib   the library's own threading, one call over the whole product (N threads);
 *   pool  what the CPU engine does: the library single-threaded, called from N threads of
 *         our own, each taking blocks of --block rows (default 256) from a shared counter,
 *         the way florence-engine-cpu runs a linear layer with its epilogue.
 * y[M, N] = x[M, K] · w[N, K]ᵀ (row-major, weights as stored in the checkpoint).
 *
 * Figures are printed, never asserted. SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(BENCH_BLAS_DNNL)
#include <oneapi/dnnl/dnnl.h>
#define LIB_NAME "oneDNN " G_STRINGIFY (DNNL_VERSION_MAJOR) "." G_STRINGIFY (DNNL_VERSION_MINOR)
#elif defined(BENCH_BLAS_BLIS)
#include <blis.h>
#define LIB_NAME "BLIS"
#else
#include <cblas.h>
#define LIB_NAME "OpenBLAS"
#endif

typedef struct {
  const char *what;
  int M, N, K;
} Shape;

/* Florence-2-base, 768×768 input, a 9-token prompt (586 encoder positions) */
static const Shape shapes[] = {
  { "s0 conv 7x7/4 (im2col)", 36864, 128, 147 },
  { "s0 qkv", 36864, 384, 128 },
  { "s0 proj", 36864, 128, 128 },
  { "s0 fc1", 36864, 512, 128 },
  { "s0 fc2", 36864, 128, 512 },
  { "s1 conv 3x3/2 (im2col)", 9216, 256, 1152 },
  { "s1 qkv", 9216, 768, 256 },
  { "s1 fc1", 9216, 1024, 256 },
  { "s1 fc2", 9216, 256, 1024 },
  { "s2 conv 3x3/2 (im2col)", 2304, 512, 2304 },
  { "s2 qkv", 2304, 1536, 512 },
  { "s2 proj", 2304, 512, 512 },
  { "s2 fc1", 2304, 2048, 512 },
  { "s2 fc2", 2304, 512, 2048 },
  { "s3 conv 3x3/2 (im2col)", 576, 1024, 4608 },
  { "s3 qkv", 576, 3072, 1024 },
  { "s3 fc1", 576, 4096, 1024 },
  { "s3 fc2", 576, 1024, 4096 },
  { "enc q/k/v/o, cross k/v", 586, 768, 768 },
  { "enc fc1", 586, 3072, 768 },
  { "enc fc2", 586, 768, 3072 },
  { "dec 1 beam 768x768", 1, 768, 768 },
  { "dec 3 beams 768x768", 3, 768, 768 },
  { "dec 3 beams fc1", 3, 3072, 768 },
  { "LM head 1 beam", 1, 51289, 768 },
  { "LM head 3 beams", 3, 51289, 768 },
};

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void
set_threads (int n)
{
#if defined(BENCH_BLAS_DNNL)
  g_setenv ("OMP_NUM_THREADS", "", FALSE); /* read by libgomp at start; see main() */
  (void) n;
#elif defined(BENCH_BLAS_BLIS)
  bli_thread_set_num_threads (n);
#else
  openblas_set_num_threads (n);
#endif
}

static void
sgemm_nt (int M, int N, int K, const float *x, int ldx, const float *w, float *y, int ldy)
{
#if defined(BENCH_BLAS_DNNL)
  dnnl_sgemm ('N', 'T', M, N, K, 1.0f, x, ldx, w, K, 0.0f, y, ldy);
#else
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, x, ldx, w, K, 0.0f, y, ldy);
#endif
}

typedef struct {
  const Shape *s;
  const float *x, *w;
  float *y;
  int block;
  gint next;
} PoolJob;

static gpointer
pool_worker (gpointer data)
{
  PoolJob *j = data;
  const int n_blocks = (j->s->M + j->block - 1) / j->block;
  for (;;)
    {
      int b = g_atomic_int_add (&j->next, 1);
      if (b >= n_blocks)
        break;
      int r0 = b * j->block, r1 = MIN (j->s->M, r0 + j->block);
      sgemm_nt (r1 - r0, j->s->N, j->s->K, j->x + (gsize) r0 * j->s->K, j->s->K, j->w,
                j->y + (gsize) r0 * j->s->N, j->s->N);
    }
  return NULL;
}

static void
run_pool (const Shape *s, const float *x, const float *w, float *y, int threads, int block)
{
  PoolJob j = { s, x, w, y, block, 0 };
  GThread *t[64];
  for (int i = 1; i < threads; i++)
    t[i] = g_thread_new ("bench", pool_worker, &j);
  pool_worker (&j);
  for (int i = 1; i < threads; i++)
    g_thread_join (t[i]);
}

/* GFLOP/s wall and per CPU-second of @mode over about @seconds */
static void
measure (const Shape *s, const float *x, const float *w, float *y, gboolean pool, int threads,
         int block, double seconds, double *gflops, double *gflops_cpu)
{
  double flop = 2.0 * s->M * s->N * s->K;
  /* warm-up */
  if (pool)
    run_pool (s, x, w, y, threads, block);
  else
    sgemm_nt (s->M, s->N, s->K, x, s->K, w, y, s->N);
  guint reps = 0;
  gint64 t0 = g_get_monotonic_time ();
  double c0 = cpu_seconds ();
  double el = 0;
  do
    {
      if (pool)
        run_pool (s, x, w, y, threads, block);
      else
        sgemm_nt (s->M, s->N, s->K, x, s->K, w, y, s->N);
      reps++;
      el = (g_get_monotonic_time () - t0) / 1e6;
    }
  while (el < seconds);
  double cpu = cpu_seconds () - c0;
  *gflops = flop * reps / el / 1e9;
  *gflops_cpu = flop * reps / cpu / 1e9;
}

int
main (int argc, char **argv)
{
  int threads = (int) g_get_num_processors (), block = 256;
  double seconds = 1.0;
  g_autofree char *filter = NULL;
  GOptionEntry entries[] = {
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "Threads (all processors)", "N" },
    { "seconds", 0, 0, G_OPTION_ARG_DOUBLE, &seconds, "Seconds per shape and mode (1)", "S" },
    { "filter", 0, 0, G_OPTION_ARG_STRING, &filter, "Only shapes whose name contains TEXT",
      "TEXT" },
    { "block", 0, 0, G_OPTION_ARG_INT, &block, "Rows per block in pool mode (256)", "ROWS" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  threads = CLAMP (threads, 1, 64);
  block = MAX (block, 1);
  setvbuf (stdout, NULL, _IOLBF, 0);

  g_autofree char *load = NULL;
  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  printf ("%s, %d threads, load average %s", LIB_NAME, threads, load != NULL ? load : "?\n");
#if !defined(BENCH_BLAS_DNNL) && !defined(BENCH_BLAS_BLIS)
  printf ("OpenBLAS config: %s, core %s\n", openblas_get_config (), openblas_get_corename ());
#endif
#if defined(BENCH_BLAS_DNNL)
  printf ("oneDNN threads: OMP_NUM_THREADS=%s (set it before starting the program)\n",
          g_getenv ("OMP_NUM_THREADS") ? g_getenv ("OMP_NUM_THREADS") : "(unset: all)");
#endif
  printf ("%-24s %6s %6s %6s  %9s %9s  %9s %9s\n", "shape", "M", "N", "K", "lib GF/s", "GF/CPUs",
          "pool GF/s", "GF/CPUs");

  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    {
      const Shape *s = &shapes[i];
      if (filter != NULL && strstr (s->what, filter) == NULL)
        continue;
      float *x = g_new (float, (gsize) s->M * s->K);
      float *w = g_new (float, (gsize) s->N * s->K);
      float *y = g_new (float, (gsize) s->M * s->N);
      for (gsize k = 0; k < (gsize) s->M * s->K; k++)
        x[k] = (float) ((k * 2654435761u) % 1000) / 1000.0f - 0.5f;
      for (gsize k = 0; k < (gsize) s->N * s->K; k++)
        w[k] = (float) ((k * 40503u) % 1000) / 1000.0f - 0.5f;

      double lib = 0, lib_cpu = 0;
      set_threads (threads);
      measure (s, x, w, y, FALSE, threads, block, seconds, &lib, &lib_cpu);
#if !defined(BENCH_BLAS_DNNL)
      double pool = 0, pool_cpu = 0;
      set_threads (1);
      measure (s, x, w, y, TRUE, threads, block, seconds, &pool, &pool_cpu);
      printf ("%-24s %6d %6d %6d  %9.1f %9.1f  %9.1f %9.1f\n", s->what, s->M, s->N, s->K, lib,
              lib_cpu, pool, pool_cpu);
#else
      printf ("%-24s %6d %6d %6d  %9.1f %9.1f  %9s %9s\n", s->what, s->M, s->N, s->K, lib, lib_cpu,
              "-", "-");
#endif
      g_free (x);
      g_free (w);
      g_free (y);
    }
  g_clear_pointer (&load, g_free);
  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  printf ("load average after: %s", load != NULL ? load : "?\n");
  return 0;
}
