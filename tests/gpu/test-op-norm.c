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
#include "test-op-common.h"

static void
run_layernorm (guint rows, guint c, gboolean with_res, gboolean f16, guint32 seed)
{
  gsize n = (gsize) rows * c;
  g_autofree float *x = test_op_random (n, seed, -2, 3);
  g_autofree float *r = test_op_random (n, seed + 1, -1, 1);
  g_autofree float *w = test_op_random (c, seed + 2, 0.5, 1.5);
  g_autofree float *b = test_op_random (c, seed + 3, -0.5, 0.5);
  g_autoptr (GpuBuffer) bx = test_op_upload (x, n);
  g_autoptr (GpuBuffer) br = test_op_upload (r, n);
  g_autoptr (GpuBuffer) bw = f16 ? test_op_upload_f16 (w, c) : test_op_upload (w, c);
  g_autoptr (GpuBuffer) bb = f16 ? test_op_upload_f16 (b, c) : test_op_upload (b, c);
  g_autoptr (GpuBuffer) by = test_op_buffer (n);
  g_autoptr (GpuRecorder) rec = test_op_recorder ();
  g_autofree float *want = g_new (float, n);

  test_op_lap ();
  gpu_op_layernorm (rec, bx, with_res ? br : NULL, bw, bb, f16, rows, c, 1e-5f, by);
  test_op_submit (rec);
  double t = test_op_lap ();
  g_autofree float *got = test_op_download (by, n);
  gpu_reference_layernorm (x, with_res ? r : NULL, w, b, 1e-5f, rows, c, want);
  g_autofree char *what = g_strdup_printf ("layernorm %ux%u%s%s", rows, c,
                                           with_res ? " +res" : "", f16 ? " f16" : "");
  g_test_message ("%s: %.3f s on the GPU (first use includes the pipeline)", what, t);
  test_op_assert_close (what, got, want, n, 2e-5, 2e-5);
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
  g_autofree float *x = test_op_random (n, 11, -1, 1);
  g_autofree float *w = test_op_random (c, 12, 0.5, 1.5);
  g_autofree float *b = test_op_random (c, 13, -0.5, 0.5);
  g_autofree float *want = g_new (float, n);
  g_autoptr (GpuBuffer) bx = test_op_upload (x, n);
  g_autoptr (GpuBuffer) bw = test_op_upload (w, c);
  g_autoptr (GpuBuffer) bb = test_op_upload (b, c);
  g_autoptr (GpuRecorder) rec = test_op_recorder ();

  gpu_op_layernorm (rec, bx, NULL, bw, bb, FALSE, rows, c, 1e-5f, bx);
  test_op_submit (rec);
  g_autofree float *got = test_op_download (bx, n);
  gpu_reference_layernorm (x, NULL, w, b, 1e-5f, rows, c, want);
  test_op_assert_close ("layernorm in place", got, want, n, 2e-5, 2e-5);
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
  g_autoptr (GpuBuffer) bx = test_op_buffer (10);
  g_autoptr (GpuRecorder) rec = test_op_recorder ();
  g_autoptr (GError) error = NULL;

  gpu_op_layernorm (rec, bx, NULL, bx, bx, FALSE, 4, 10, 1e-5f, bx);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
}

static void
run_softmax (guint rows, guint n, guint32 seed)
{
  gsize total = (gsize) rows * n;
  g_autofree float *x = test_op_random (total, seed, -8, 8);
  g_autofree float *want = g_new (float, total);
  g_autoptr (GpuBuffer) bx = test_op_upload (x, total);
  g_autoptr (GpuBuffer) by = test_op_buffer (total);
  g_autoptr (GpuRecorder) rec = test_op_recorder ();

  gpu_op_softmax (rec, bx, rows, n, by);
  test_op_submit (rec);
  g_autofree float *got = test_op_download (by, total);
  gpu_reference_softmax (x, rows, n, want);
  g_autofree char *what = g_strdup_printf ("softmax %ux%u", rows, n);
  test_op_assert_close (what, got, want, total, 1e-6, 2e-5);
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
  g_autofree float *x = test_op_random (n, 35, -8, 8);
  g_autofree float *want = g_new (float, n);
  g_autoptr (GpuBuffer) bx = test_op_upload (x, n);
  g_autoptr (GpuBuffer) by = test_op_buffer (n);
  g_autoptr (GpuRecorder) rec = test_op_recorder ();
  g_autoptr (GError) error = NULL;

  gpu_op_softmax (rec, bx, 1, n, by);
  if (gpu_device_get_limits (test_op_device)->is_cpu)
    {
      g_assert_false (gpu_recorder_submit (rec, NULL, &error));
      g_assert_error (error, GPU_ERROR, GPU_ERROR_UNSUPPORTED);
      return;
    }
  test_op_submit (rec);
  g_autofree float *got = test_op_download (by, n);
  gpu_reference_softmax (x, 1, n, want);
  test_op_assert_close ("softmax 1x51289", got, want, n, 1e-6, 2e-5);
}

int
main (int argc, char **argv)
{
  if (!test_op_init (&argc, &argv))
    return 77;
  g_test_add_func ("/gpu/op/layernorm/small", test_layernorm_small);
  g_test_add_func ("/gpu/op/layernorm/in-place", test_layernorm_inplace);
  g_test_add_func ("/gpu/op/layernorm/real", test_layernorm_real);
  g_test_add_func ("/gpu/op/layernorm/too-small-buffer", test_layernorm_too_small_buffer);
  g_test_add_func ("/gpu/op/softmax", test_softmax);
  g_test_add_func ("/gpu/op/softmax/long-rows", test_softmax_long_rows);
  return test_op_run ();
}
