/* bench-gemm.c: GFLOP/s of the GEMM op for Florence-2-base shapes on the chosen Vulkan
 * device (fp32 and fp16 weights), the same products on the CPU with OpenBLAS when it is
 * available, and GB/s for buffer copies.
 *
 *   bench-gemm [--variant auto|texel|tiled] [--seconds S] [--cpu-time] [--shape MxNxK]…
 *
 * DEPICT_VULKAN_DEVICE picks the device; DEPICT_GEMM_TEXEL_CONFIG="MR,NC" tunes the texel
 * kernel. Figures are printed, never asserted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

#include "gpu/gpu-op-gemm.h"
#include "gpu/gpu-selftest.h"
#include "gpu/gpu.h"
#include "gpu/gpu-test-util.h" /* tests/gpu */

typedef struct {
  guint32 m, n, k;
  const char *what;
} Shape;

static const Shape default_shapes[] = {
  { 577, 768, 768, "BART/projection 768→768" }, { 577, 3072, 768, "fc1 768→3072" },
  { 577, 768, 3072, "fc2 3072→768" },           { 36864, 128, 512, "DaViT stage 1 fc2 512→128" },
  { 3, 51289, 768, "LM head, 3 beams" },
};

static double seconds_per_case = 1.0;
static gboolean report_cpu_time;

/* CPU seconds of the whole process (all threads, lavapipe's workers included): with
 * --cpu-time figures are per CPU-second, which stays meaningful on a busy machine. */
static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
now (void)
{
  return report_cpu_time ? cpu_seconds () : g_get_monotonic_time () / 1e6;
}

static gboolean
run_gemm (GpuDevice *device, const GpuGemm *g, guint reps, double *secs, GError **error)
{
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, error);
  if (rec == NULL)
    return FALSE;
  for (guint r = 0; r < reps; r++)
    gpu_op_gemm (rec, g);
  double t0 = now ();
  if (!gpu_recorder_submit (rec, NULL, error))
    return FALSE;
  *secs = now () - t0;
  return TRUE;
}

static double
bench_gpu (GpuDevice *device, const Shape *s, gboolean f16, GpuGemmVariant variant)
{
  g_autoptr (GError) error = NULL;
  gsize na = (gsize) s->m * s->k, nw = (gsize) s->n * s->k, nc = (gsize) s->m * s->n;
  g_autofree float *a = gpu_test_random (na, 1, -0.5f, 0.5f);
  g_autofree float *w = gpu_test_random (nw, 2, -0.5f, 0.5f);
  g_autoptr (GpuBuffer) ba = gpu_buffer_new_from_data (device, a, na * 4, &error);
  g_autoptr (GpuBuffer) bw = NULL;
  if (f16)
    {
      g_autofree guint16 *h = g_new (guint16, nw);
      gpu_half_from_float_array (h, w, nw);
      bw = gpu_buffer_new_from_data (device, h, nw * 2, &error);
    }
  else
    bw = gpu_buffer_new_from_data (device, w, nw * 4, &error);
  g_autoptr (GpuBuffer) bc = gpu_buffer_new (device, nc * 4, &error);
  if (ba == NULL || bw == NULL || bc == NULL)
    {
      fprintf (stderr, "bench-gemm: %s\n", error != NULL ? error->message : "?");
      return 0;
    }
  GpuGemm g = { .m = s->m,
                .n = s->n,
                .k = s->k,
                .a = ba,
                .w = bw,
                .w_type = f16 ? GPU_GEMM_WEIGHT_F16 : GPU_GEMM_WEIGHT_F32,
                .c = bc,
                .variant = variant };
  double t = 0;
  /* warm-up (pipeline compilation), then enough repetitions for ~seconds_per_case */
  if (!run_gemm (device, &g, 1, &t, &error) || !run_gemm (device, &g, 1, &t, &error))
    {
      fprintf (stderr, "bench-gemm: %s\n", error->message);
      return 0;
    }
  guint reps = (guint) CLAMP (seconds_per_case / MAX (t, 1e-6), 1, 1000);
  if (!run_gemm (device, &g, reps, &t, &error))
    {
      fprintf (stderr, "bench-gemm: %s\n", error->message);
      return 0;
    }
  return 2.0 * s->m * s->n * s->k * reps / t / 1e9;
}

#ifdef HAVE_OPENBLAS
static double
bench_blas (const Shape *s)
{
  gsize na = (gsize) s->m * s->k, nw = (gsize) s->n * s->k, nc = (gsize) s->m * s->n;
  g_autofree float *a = gpu_test_random (na, 1, -0.5f, 0.5f);
  g_autofree float *w = gpu_test_random (nw, 2, -0.5f, 0.5f);
  g_autofree float *c = g_new (float, nc);
  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) s->m, (int) s->n, (int) s->k, 1.0f, a,
               (int) s->k, w, (int) s->k, 0.0f, c, (int) s->n);
  guint reps = 0;
  double t0 = now ();
  double t = 0;
  do
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) s->m, (int) s->n, (int) s->k,
                   1.0f, a, (int) s->k, w, (int) s->k, 0.0f, c, (int) s->n);
      reps++;
      t = now () - t0;
    }
  while (t < seconds_per_case);
  return 2.0 * s->m * s->n * s->k * reps / t / 1e9;
}
#endif

/* Seconds for @reps serial copies of @bytes from @src to @dst (one submission). */
static double
time_copy (GpuDevice *device, GpuBuffer *src, GpuBuffer *dst, guint64 bytes, gboolean shader,
           guint reps, GError **error)
{
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, error);
  if (rec == NULL)
    return -1;
  for (guint r = 0; r < reps; r++)
    {
      if (shader)
        gpu_selftest_axpy (rec, src, 0, dst, 0, (guint32) (bytes / 4), 1.0f, 0.0f, 0.0f);
      else
        gpu_recorder_copy (rec, src, 0, dst, 0, bytes);
      gpu_recorder_barrier (rec); /* keep the repetitions serial */
    }
  double t0 = now ();
  if (!gpu_recorder_submit (rec, NULL, error))
    return -1;
  return now () - t0;
}

static void
bench_copy (GpuDevice *device)
{
  g_autoptr (GError) error = NULL;
  const guint64 bytes = (guint64) 64 << 20;
  g_autoptr (GpuBuffer) src = gpu_buffer_new (device, bytes, &error);
  g_autoptr (GpuBuffer) dst = src != NULL ? gpu_buffer_new (device, bytes, &error) : NULL;
  g_autoptr (GpuRecorder) rec = dst != NULL ? gpu_recorder_new (device, &error) : NULL;
  if (rec != NULL)
    {
      gpu_recorder_fill (rec, src, 0, bytes, 0x3f800000u);
      gpu_recorder_submit (rec, NULL, &error);
    }
  for (int shader = 0; shader < 2 && error == NULL; shader++)
    {
      double t = time_copy (device, src, dst, bytes, shader, 1, &error);
      guint reps = (guint) CLAMP (seconds_per_case / MAX (t, 1e-6), 1, 1000);
      if (t >= 0)
        t = time_copy (device, src, dst, bytes, shader, reps, &error);
      if (t > 0)
        printf ("%-28s %-20s %10.2f GB/s (bytes copied per second)\n",
                shader ? "copy by shader" : "copy (vkCmdCopyBuffer)", "64 MiB",
                (double) bytes * reps / t / 1e9);
    }
  if (error != NULL)
    fprintf (stderr, "bench-gemm: %s\n", error->message);
}

int
main (int argc, char **argv)
{
  GpuGemmVariant variant = GPU_GEMM_VARIANT_AUTO;
  g_autoptr (GArray) shapes = g_array_new (FALSE, FALSE, sizeof (Shape));
  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--variant") == 0 && i + 1 < argc)
        {
          const char *v = argv[++i];
          variant = strcmp (v, "texel") == 0   ? GPU_GEMM_VARIANT_TEXEL
                    : strcmp (v, "tiled") == 0 ? GPU_GEMM_VARIANT_TILED
                    : strcmp (v, "gemv") == 0  ? GPU_GEMM_VARIANT_GEMV
                                               : GPU_GEMM_VARIANT_AUTO;
        }
      else if (strcmp (argv[i], "--cpu-time") == 0)
        report_cpu_time = TRUE;
      else if (strcmp (argv[i], "--seconds") == 0 && i + 1 < argc)
        seconds_per_case = g_ascii_strtod (argv[++i], NULL);
      else if (strcmp (argv[i], "--shape") == 0 && i + 1 < argc)
        {
          Shape s = { 0, 0, 0, "custom" };
          if (sscanf (argv[++i], "%ux%ux%u", &s.m, &s.n, &s.k) == 3 && s.m && s.n && s.k)
            g_array_append_val (shapes, s);
        }
      else
        {
          fprintf (stderr, "usage: bench-gemm [--variant auto|texel|tiled|gemv] [--seconds S] "
                           "[--cpu-time] [--shape MxNxK]…\n");
          return 2;
        }
    }
  if (shapes->len == 0)
    g_array_append_vals (shapes, default_shapes, G_N_ELEMENTS (default_shapes));

  g_autoptr (GError) error = NULL;
  g_autoptr (GpuDevice) device = gpu_device_new (&error);
  if (device == NULL)
    {
      printf ("bench-gemm: skipped: %s\n", error->message);
      return 77;
    }
  const GpuDeviceInfo *info = gpu_device_get_info (device);
  printf ("device: %s (%s, %s %s), %s kernels, GEMM variant %s, %s\n", info->name,
          gpu_device_type_to_string (info->type), info->driver_name, info->driver_info,
          gpu_kernel_set_to_string (gpu_device_get_limits (device)->kernels),
          variant == GPU_GEMM_VARIANT_AUTO ? "auto (by rows)"
                                           : gpu_gemm_variant_to_string (variant),
          report_cpu_time ? "per CPU-second of this process" : "per wall-clock second");
  printf ("%-28s %-20s %10s %10s %10s\n", "C[M,N] = A[M,K]·W[N,K]ᵀ", "M×N×K", "GPU f32w",
          "GPU f16w", "OpenBLAS");
  for (guint i = 0; i < shapes->len; i++)
    {
      const Shape *s = &g_array_index (shapes, Shape, i);
      double f32 = bench_gpu (device, s, FALSE, variant);
      double f16 = bench_gpu (device, s, TRUE, variant);
      char dims[64];
      g_snprintf (dims, sizeof dims, "%u×%u×%u", s->m, s->n, s->k);
#ifdef HAVE_OPENBLAS
      double blas = bench_blas (s);
      printf ("%-28s %-20s %10.1f %10.1f %10.1f  GFLOP/s\n", s->what, dims, f32, f16, blas);
#else
      printf ("%-28s %-20s %10.1f %10.1f %10s  GFLOP/s\n", s->what, dims, f32, f16, "n/a");
#endif
      fflush (stdout);
    }
  bench_copy (device);
  return 0;
}
