/* test-op-eltwise.c: GELU, add, scale/bias and strided row copies against the C reference
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tolerances: add and copies are exact (one fp32 rounding, identical on both sides).
 * scale_bias: one fp32 multiply-add, atol 1e-6 + rtol 1e-6. GELU: the shader's erf has an
 * absolute error below 1.2e-7 (common.glsl), so y = ½x(1 + erf) is within ~1e-7·|x| plus
 * fp32 rounding; we allow atol 1e-6 + rtol 2e-6 on inputs in [−8, 8].
 */
#include "config.h"

#include "gpu/gpu-op-eltwise.h"
#include "gpu-reference.h"
#include "gpu-test-util.h"

static void
check_gelu (const char *what, const float *x, gsize n)
{
  g_autofree float *want = g_new (float, n);
  g_autoptr (GpuBuffer) bx = gpu_test_upload (x, n);
  g_autoptr (GpuBuffer) by = gpu_test_buffer (n);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  gpu_op_gelu (rec, bx, n, by);
  gpu_test_submit (rec);
  g_autofree float *got = gpu_test_download (by, n);
  gpu_reference_gelu (x, n, want);
  gpu_test_assert_close (what, got, want, NULL, n, 2e-6, 1e-6);
}

static void
test_gelu (void)
{
  const gsize sizes[] = { 1, 63, 1000, 36864 * 4 };
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autofree float *x = gpu_test_random (sizes[s], 100 + s, -8, 8);
      check_gelu ("gelu", x, sizes[s]);
    }

  /* small and special values: tiny inputs (erf's Taylor branch), zero, large magnitudes */
  const float x[] = { 0.0f, 1e-7f, -1e-7f, 0.49f, 0.5f,  -0.5f,
                      1.0f, -1.0f, 3.0f,   -3.0f, 10.0f, -10.0f };
  check_gelu ("gelu special values", x, G_N_ELEMENTS (x));
}

static void
test_add (void)
{
  gsize n = 12345;
  g_autofree float *a = gpu_test_random (n, 200, -5, 5);
  g_autofree float *b = gpu_test_random (n, 201, -5, 5);
  g_autofree float *want = g_new (float, n);
  g_autoptr (GpuBuffer) ba = gpu_test_upload (a, n);
  g_autoptr (GpuBuffer) bb = gpu_test_upload (b, n);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  gpu_op_add (rec, ba, bb, n, ba); /* in place */
  gpu_test_submit (rec);
  g_autofree float *got = gpu_test_download (ba, n);
  gpu_reference_add (a, b, n, want);
  gpu_test_assert_close ("add", got, want, NULL, n, 0, 0);
}

static void
test_scale_bias (void)
{
  guint rows = 31, c = 77;
  gsize n = (gsize) rows * c;
  for (int variant = 0; variant < 3; variant++)
    {
      g_autofree float *x = gpu_test_random (n, 300, -5, 5);
      g_autofree float *bias = gpu_test_random (c, 301, -1, 1);
      g_autofree float *want = g_new (float, n);
      gboolean f16 = variant == 1, has_bias = variant != 2;
      g_autoptr (GpuBuffer) bx = gpu_test_upload (x, n);
      g_autoptr (GpuBuffer) bbias = f16 ? gpu_test_upload_f16 (bias, c) : gpu_test_upload (bias, c);
      g_autoptr (GpuBuffer) by = gpu_test_buffer (n);
      g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

      gpu_op_scale_bias (rec, bx, rows, c, 0.125f, has_bias ? bbias : NULL, f16, by);
      gpu_test_submit (rec);
      g_autofree float *got = gpu_test_download (by, n);
      gpu_reference_scale_bias (x, rows, c, 0.125f, has_bias ? bias : NULL, want);
      gpu_test_assert_close ("scale_bias", got, want, NULL, n, 1e-6, 1e-6);
    }
}

static void
test_copy_rows (void)
{
  /* the k columns of a fused [rows, 3·d] projection into rows 5.. of a cache of width d */
  guint rows = 7, d = 48, cap = 20;
  gsize n_src = (gsize) rows * 3 * d, n_dst = (gsize) cap * d;
  g_autofree float *src = gpu_test_random (n_src, 400, -1, 1);
  g_autofree float *dst = gpu_test_random (n_dst, 401, -1, 1);
  g_autoptr (GpuBuffer) bs = gpu_test_upload (src, n_src);
  g_autoptr (GpuBuffer) bd = gpu_test_upload (dst, n_dst);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  gpu_op_copy_rows (rec, bs, d, 3 * d, bd, 5 * d, d, rows, d);
  gpu_test_submit (rec);
  g_autofree float *got = gpu_test_download (bd, n_dst);
  for (guint r = 0; r < rows; r++)
    memcpy (dst + (5 + r) * d, src + r * 3 * d + d, d * sizeof (float));
  gpu_test_assert_close ("copy_rows", got, dst, NULL, n_dst, 0, 0);

  /* a copy that would write past the end is refused */
  g_autoptr (GError) error = NULL;
  gpu_op_copy_rows (rec, bs, 0, d, bd, 15 * d, d, rows, d);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  g_test_add_func ("/gpu/op/gelu", test_gelu);
  g_test_add_func ("/gpu/op/add", test_add);
  g_test_add_func ("/gpu/op/scale-bias", test_scale_bias);
  g_test_add_func ("/gpu/op/copy-rows", test_copy_rows);
  return gpu_test_run ();
}
