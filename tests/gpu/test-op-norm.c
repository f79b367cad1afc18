/* test-op-norm.c: LayerNorm and softmax against the C reference
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tolerances: both ops are a handful of fp32 operations per output on values of order 1,
 * after fp32 reductions over at most a few thousand terms; the reference works in double.
 * Observed errors are ~1e-6; we allow atol 2e-5 + rtol 2e-5. fp16 weights are rounded
 * before the reference sees them, so fp16 cases use the same tolerance.
 */
#include "config.h"

#include "gpu/gpu-op-norm.h"
#include "gpu-reference.h"
#include "gpu-test-util.h"

static void
run_layernorm (guint rows, guint c, gboolean with_res, gboolean f16, guint32 seed)
{
  gsize n = (gsize) rows * c;
  g_autofree float *x = gpu_test_random (n, seed, -2, 3);
  g_autofree float *r = gpu_test_random (n, seed + 1, -1, 1);
  g_autofree float *w = gpu_test_random (c, seed + 2, 0.5, 1.5);
  g_autofree float *b = gpu_test_random (c, seed + 3, -0.5, 0.5);
  g_autoptr (GpuBuffer) bx = gpu_test_upload (x, n);
  g_autoptr (GpuBuffer) br = gpu_test_upload (r, n);
  g_autoptr (GpuBuffer) bw = f16 ? gpu_test_upload_f16 (w, c) : gpu_test_upload (w, c);
  g_autoptr (GpuBuffer) bb = f16 ? gpu_test_upload_f16 (b, c) : gpu_test_upload (b, c);
  g_autoptr (GpuBuffer) by = gpu_test_buffer (n);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autofree float *want = g_new (float, n);

  gpu_test_lap ();
  gpu_op_layernorm (rec, bx, with_res ? br : NULL, bw, bb, f16, rows, c, 1e-5f, by);
  gpu_test_submit (rec);
  double t = gpu_test_lap ();
  g_autofree float *got = gpu_test_download (by, n);
  gpu_reference_layernorm (x, with_res ? r : NULL, w, b, 1e-5f, rows, c, want);
  g_autofree char *what =
    g_strdup_printf ("layernorm %ux%u%s%s", rows, c, with_res ? " +res" : "", f16 ? " f16" : "");
  g_test_message ("%s: %.3f s on the GPU (first use includes the pipeline)", what, t);
  gpu_test_assert_close (what, got, want, NULL, n, 2e-5, 2e-5);
}

static void
test_layernorm_small (void)
{
  run_layernorm (1, 1, FALSE, FALSE, 1);
  run_layernorm (37, 48, FALSE, FALSE, 2);
  run_layernorm (65, 16, TRUE, FALSE, 3);
  run_layernorm (7, 33, TRUE, TRUE, 4);
  run_layernorm (3, 768, TRUE, TRUE, 5);
}

static void
test_layernorm_inplace (void)
{
  guint rows = 19, c = 40;
  gsize n = (gsize) rows * c;
  g_autofree float *x = gpu_test_random (n, 11, -1, 1);
  g_autofree float *w = gpu_test_random (c, 12, 0.5, 1.5);
  g_autofree float *b = gpu_test_random (c, 13, -0.5, 0.5);
  g_autofree float *want = g_new (float, n);
  g_autoptr (GpuBuffer) bx = gpu_test_upload (x, n);
  g_autoptr (GpuBuffer) bw = gpu_test_upload (w, c);
  g_autoptr (GpuBuffer) bb = gpu_test_upload (b, c);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  gpu_op_layernorm (rec, bx, NULL, bw, bb, FALSE, rows, c, 1e-5f, bx);
  gpu_test_submit (rec);
  g_autofree float *got = gpu_test_download (bx, n);
  gpu_reference_layernorm (x, NULL, w, b, 1e-5f, rows, c, want);
  gpu_test_assert_close ("layernorm in place", got, want, NULL, n, 2e-5, 2e-5);
}

/* Florence-2-base stage 0: 36 864 tokens × 128 channels; BART: 590 × 768 with residual */
static void
test_layernorm_real (void)
{
  run_layernorm (36864, 128, FALSE, TRUE, 21);
  run_layernorm (590, 768, TRUE, TRUE, 22);
}

static void
test_layernorm_too_small_buffer (void)
{
  g_autoptr (GpuBuffer) bx = gpu_test_buffer (10);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autoptr (GError) error = NULL;

  gpu_op_layernorm (rec, bx, NULL, bx, bx, FALSE, 4, 10, 1e-5f, bx);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
}

static void
run_softmax (guint rows, guint n, guint32 seed)
{
  gsize total = (gsize) rows * n;
  g_autofree float *x = gpu_test_random (total, seed, -8, 8);
  g_autofree float *want = g_new (float, total);
  g_autoptr (GpuBuffer) bx = gpu_test_upload (x, total);
  g_autoptr (GpuBuffer) by = gpu_test_buffer (total);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  gpu_op_softmax (rec, bx, rows, n, by);
  gpu_test_submit (rec);
  g_autofree float *got = gpu_test_download (by, total);
  gpu_reference_softmax (x, rows, n, want);
  g_autofree char *what = g_strdup_printf ("softmax %ux%u", rows, n);
  gpu_test_assert_close (what, got, want, NULL, total, 2e-5, 1e-6);
}

static void
test_softmax (void)
{
  run_softmax (1, 1, 31);
  run_softmax (13, 77, 32);
  run_softmax (144, 144, 33);
  run_softmax (12 * 590, 590, 34); /* BART encoder scores: 12 heads × 590 × 590 */
}

/* lavapipe ends shader invocations after 65 535 loop iterations: the ops refuse sizes that
 * would hit it on a CPU device (instead of returning wrong numbers) and work elsewhere */
static void
test_softmax_long_rows (void)
{
  guint n = 51289;
  g_autofree float *x = gpu_test_random (n, 35, -8, 8);
  g_autofree float *want = g_new (float, n);
  g_autoptr (GpuBuffer) bx = gpu_test_upload (x, n);
  g_autoptr (GpuBuffer) by = gpu_test_buffer (n);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autoptr (GError) error = NULL;

  gpu_op_softmax (rec, bx, 1, n, by);
  if (gpu_device_get_limits (gpu_test_device ())->is_cpu)
    {
      g_assert_false (gpu_recorder_submit (rec, NULL, &error));
      g_assert_error (error, GPU_ERROR, GPU_ERROR_UNSUPPORTED);
      return;
    }
  gpu_test_submit (rec);
  g_autofree float *got = gpu_test_download (by, n);
  gpu_reference_softmax (x, 1, n, want);
  gpu_test_assert_close ("softmax 1x51289", got, want, NULL, n, 2e-5, 1e-6);
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  gpu_test_add_kernel_sets ("/gpu/op/layernorm/small", test_layernorm_small);
  gpu_test_add_kernel_sets ("/gpu/op/layernorm/in-place", test_layernorm_inplace);
  gpu_test_add_kernel_sets ("/gpu/op/layernorm/real", test_layernorm_real);
  g_test_add_func ("/gpu/op/layernorm/too-small-buffer", test_layernorm_too_small_buffer);
  g_test_add_func ("/gpu/op/softmax", test_softmax);
  g_test_add_func ("/gpu/op/softmax/long-rows", test_softmax_long_rows);
  return gpu_test_run ();
}
