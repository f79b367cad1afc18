/* gpu-test-util.c: what the GPU tests (test-gpu-*.c, test-op-*.c) share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <stdio.h>

#include "gpu-test-util.h"

static GpuDevice *test_device;
static gboolean test_device_tried;

void
gpu_test_init (int *argc, char ***argv)
{
  g_setenv ("DEPICT_VULKAN_VALIDATION", "1", FALSE);
  g_test_init (argc, argv, NULL);
}

GpuDevice *
gpu_test_device (void)
{
  if (!test_device_tried)
    {
      g_autoptr (GError) error = NULL;
      test_device_tried = TRUE;
      test_device = gpu_device_new (&error);
      if (test_device == NULL)
        printf ("# SKIP: %s\n", error->message);
      else
        printf ("# device: %s (%s), validation %s\n", gpu_device_get_info (test_device)->name,
                gpu_device_type_to_string (gpu_device_get_info (test_device)->type),
                gpu_device_validation_enabled (test_device) ? "on" : "off");
    }
  return test_device;
}

typedef struct {
  GpuKernelSet kernels;
  GTestFunc func;
} KernelSetCase;

static void
run_kernel_set_case (gconstpointer data)
{
  const KernelSetCase *c = data;
  GpuDevice *device = gpu_test_device ();
  if (device == NULL)
    {
      g_test_skip ("no Vulkan device");
      return;
    }
  gpu_device_set_kernels (device, c->kernels);
  c->func ();
}

void
gpu_test_add_kernel_sets (const char *path, GTestFunc func)
{
  static const GpuKernelSet sets[] = { GPU_KERNELS_CPU, GPU_KERNELS_GPU };
  for (guint i = 0; i < G_N_ELEMENTS (sets); i++)
    {
      KernelSetCase *c = g_new0 (KernelSetCase, 1); /* lives as long as the test list */
      c->kernels = sets[i];
      c->func = func;
      g_autofree char *full =
        g_strdup_printf ("/kernels-%s%s", gpu_kernel_set_to_string (sets[i]), path);
      g_test_add_data_func_full (full, c, run_kernel_set_case, g_free);
    }
}

GpuKernelSet
gpu_test_kernels (void)
{
  GpuDevice *device = gpu_test_device ();
  return device != NULL ? gpu_device_get_limits (device)->kernels : GPU_KERNELS_CPU;
}

void
gpu_test_assert_validation_clean (GpuDevice *device)
{
  guint n = gpu_device_get_validation_errors (device);
  if (n > 0)
    g_test_fail_printf ("the Vulkan validation layer reported %u errors (see stderr)", n);
}

int
gpu_test_run (void)
{
  if (!g_test_subprocess () && gpu_test_device () == NULL)
    return 77;
  int status = g_test_run ();
  if (test_device != NULL)
    {
      guint n = gpu_device_get_validation_errors (test_device);
      if (n > 0)
        {
          fprintf (stderr, "FAIL: the Vulkan validation layer reported %u errors\n", n);
          status = 1;
        }
      g_clear_pointer (&test_device, gpu_device_unref);
    }
  return status;
}

float *
gpu_test_random (gsize n, guint32 seed, float lo, float hi)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  float *x = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    x[i] = (float) g_rand_double_range (rand, lo, hi);
  return x;
}

GpuBuffer *
gpu_test_upload_bytes (const void *data, gsize bytes)
{
  g_autoptr (GError) error = NULL;
  GpuBuffer *b = gpu_buffer_new_from_data (gpu_test_device (), data, MAX (bytes, 4), &error);
  g_assert_no_error (error);
  return b;
}

GpuBuffer *
gpu_test_upload (const float *data, gsize n)
{
  return gpu_test_upload_bytes (data, n * sizeof (float));
}

GpuBuffer *
gpu_test_upload_f16 (float *data, gsize n)
{
  /* an even count: the shaders read fp16 pairs as 32-bit words */
  g_autofree guint16 *h = g_new0 (guint16, n + 2);
  for (gsize i = 0; i < n; i++)
    {
      h[i] = gpu_half_from_float (data[i]);
      data[i] = gpu_half_to_float (h[i]);
    }
  return gpu_test_upload_bytes (h, (n + 1) / 2 * 4);
}

GpuBuffer *
gpu_test_buffer (gsize n)
{
  g_autoptr (GError) error = NULL;
  GpuBuffer *b = gpu_buffer_new (gpu_test_device (), MAX (n, 1) * sizeof (float), &error);
  g_assert_no_error (error);
  return b;
}

float *
gpu_test_download (GpuBuffer *buffer, gsize n)
{
  g_autoptr (GError) error = NULL;
  float *x = g_new (float, MAX (n, 1));
  g_assert_true (gpu_buffer_download (buffer, 0, x, n * sizeof (float), &error));
  g_assert_no_error (error);
  return x;
}

GpuRecorder *
gpu_test_recorder (void)
{
  g_autoptr (GError) error = NULL;
  GpuRecorder *r = gpu_recorder_new (gpu_test_device (), &error);
  g_assert_no_error (error);
  return r;
}

void
gpu_test_submit (GpuRecorder *recorder)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = gpu_recorder_submit (recorder, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  /* with DEPICT_VULKAN_VALIDATION=1 (the test environment) and the layer installed */
  gpu_test_assert_validation_clean (gpu_recorder_get_device (recorder));
}

void
gpu_test_assert_close (const char *what, const float *got, const float *want, const float *scale,
                       gsize n, double rtol, double atol)
{
  double worst = 0;
  gsize worst_i = 0;
  gsize bad = 0;
  for (gsize i = 0; i < n; i++)
    {
      if (!isfinite (want[i]) || !isfinite (got[i]))
        {
          /* NaN and infinities must match exactly */
          if (!(isnan (want[i]) && isnan (got[i])) && got[i] != want[i])
            {
              if (bad == 0)
                worst_i = i;
              bad++;
            }
          continue;
        }
      double s = scale != NULL ? fabs ((double) scale[i]) : fabs ((double) want[i]);
      double err = fabs ((double) got[i] - (double) want[i]);
      double allowed = rtol * s + atol;
      if (!(err <= allowed)) /* also catches a NaN scale */
        {
          if (bad == 0)
            worst_i = i;
          bad++;
        }
      double ratio = allowed > 0 ? err / allowed : err;
      if (ratio > worst || isnan (ratio))
        {
          worst = isnan (ratio) ? INFINITY : ratio;
          if (bad == 0)
            worst_i = i;
        }
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT
                  " values, worst error %.3g of the tolerance (at %" G_GSIZE_FORMAT ")",
                  what, n, worst, worst_i);
  if (bad > 0)
    g_test_fail_printf ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " values out of tolerance; "
                        "first at %" G_GSIZE_FORMAT ": got %.9g want %.9g (scale %.3g, rtol %g, "
                        "atol %g)",
                        what, bad, n, worst_i, got[worst_i], want[worst_i],
                        scale != NULL ? scale[worst_i] : want[worst_i], rtol, atol);
}

double
gpu_test_lap (void)
{
  static gint64 last = 0;
  gint64 now = g_get_monotonic_time ();
  double s = last ? (now - last) / 1e6 : 0;
  last = now;
  return s;
}
