/* test-op-common.c: what the op tests (test-op-*.c) share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>

#include "gpu-test-util.h"
#include "test-op-common.h"

GpuDevice *test_op_device = NULL;

gboolean
test_op_init (int *argc, char ***argv)
{
  gpu_test_init (argc, argv);
  test_op_device = gpu_test_device ();
  return test_op_device != NULL;
}

int
test_op_run (void)
{
  return gpu_test_run ();
}

float *
test_op_random (gsize n, guint32 seed, float lo, float hi)
{
  return gpu_test_random (n, seed, lo, hi);
}

GpuBuffer *
test_op_upload_bytes (const void *data, gsize bytes)
{
  g_autoptr (GError) error = NULL;
  GpuBuffer *b = gpu_buffer_new_from_data (test_op_device, data, MAX (bytes, 4), &error);
  g_assert_no_error (error);
  return b;
}

GpuBuffer *
test_op_upload (const float *data, gsize n)
{
  return test_op_upload_bytes (data, n * sizeof (float));
}

GpuBuffer *
test_op_upload_f16 (float *data, gsize n)
{
  /* an even count: the shaders read fp16 pairs as 32-bit words */
  g_autofree guint16 *h = g_new0 (guint16, n + 2);
  for (gsize i = 0; i < n; i++)
    {
      h[i] = gpu_half_from_float (data[i]);
      data[i] = gpu_half_to_float (h[i]);
    }
  return test_op_upload_bytes (h, (n + 1) / 2 * 4);
}

GpuBuffer *
test_op_buffer (gsize n)
{
  g_autoptr (GError) error = NULL;
  GpuBuffer *b = gpu_buffer_new (test_op_device, MAX (n, 1) * sizeof (float), &error);
  g_assert_no_error (error);
  return b;
}

float *
test_op_download (GpuBuffer *buffer, gsize n)
{
  g_autoptr (GError) error = NULL;
  float *x = g_new (float, MAX (n, 1));
  g_assert_true (gpu_buffer_download (buffer, 0, x, n * sizeof (float), &error));
  g_assert_no_error (error);
  return x;
}

GpuRecorder *
test_op_recorder (void)
{
  g_autoptr (GError) error = NULL;
  GpuRecorder *r = gpu_recorder_new (test_op_device, &error);
  g_assert_no_error (error);
  return r;
}

void
test_op_submit (GpuRecorder *recorder)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = gpu_recorder_submit (recorder, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  /* with DEPICT_VULKAN_VALIDATION=1 (the test environment) and the layer installed */
  gpu_test_assert_validation_clean (test_op_device);
}

void
test_op_assert_close (const char *what, const float *got, const float *want, gsize n,
                      double atol, double rtol)
{
  gsize worst = 0;
  double worst_excess = -1, worst_err = 0;

  for (gsize i = 0; i < n; i++)
    {
      if (isnan (want[i]) || isinf (want[i]) || isnan (got[i]) || isinf (got[i]))
        {
          if (!(isnan (want[i]) && isnan (got[i])) && got[i] != want[i])
            g_error ("%s: element %" G_GSIZE_FORMAT ": got %g, want %g", what, i, got[i],
                     want[i]);
          continue;
        }
      double err = fabs ((double) got[i] - want[i]);
      double excess = err / (atol + rtol * fabs (want[i]));
      if (excess > worst_excess)
        {
          worst_excess = excess;
          worst_err = err;
          worst = i;
        }
    }
  g_test_message ("%s: %" G_GSIZE_FORMAT " values, worst error %.3g at %" G_GSIZE_FORMAT
                  " (%.3g of the tolerance)",
                  what, n, worst_err, worst, worst_excess);
  if (worst_excess > 1)
    g_error ("%s: element %" G_GSIZE_FORMAT ": got %.9g, want %.9g (atol %g, rtol %g)", what,
             worst, got[worst], want[worst], atol, rtol);
}

double
test_op_lap (void)
{
  static gint64 last = 0;
  gint64 now = g_get_monotonic_time ();
  double s = last ? (now - last) / 1e6 : 0;
  last = now;
  return s;
}
