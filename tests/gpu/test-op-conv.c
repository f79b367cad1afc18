/* test-op-conv.c: convolutions against the C reference
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tolerances: each output is a fp32 sum of cin·k² products (≤ 1152 here) of values of
 * order 1 with weights of order 0.1; fp32 accumulation error grows like √terms · 6e-8 ·
 * |terms|, well below 1e-5. We allow atol 2e-5 + rtol 2e-5 (fp16 weights are rounded
 * before the reference sees them). im2col is a pure copy and must match exactly.
 */
#include "config.h"

#include "gpu/gpu-op-conv.h"
#include "gpu-reference.h"
#include "gpu-test-util.h"

/* The three ways the op library computes a convolution */
typedef enum {
  PATH_DIRECT, /* gpu_op_conv2d */
  PATH_IM2COL, /* gpu_op_im2col, then the product on the CPU */
  PATH_GEMM,   /* gpu_op_conv2d_gemm (im2col + GEMM on the GPU) */
} ConvPath;

static void
run_conv (GpuConvInput layout, guint cin, guint h, guint w, guint cout, guint k, guint stride,
          guint pad, gboolean f16, ConvPath path, guint32 seed)
{
  static const char *const path_names[] = { "conv2d", "im2col", "conv2d via gemm" };
  gsize n_in = (gsize) cin * h * w, n_w = (gsize) cout * cin * k * k;
  guint ho = gpu_op_conv_out_size (h, k, stride, pad),
        wo = gpu_op_conv_out_size (w, k, stride, pad);
  gsize n_out = (gsize) ho * wo * cout;
  g_autofree float *in = gpu_test_random (n_in, seed, -1, 1);
  g_autofree float *wt = gpu_test_random (n_w, seed + 1, -0.2f, 0.2f);
  g_autofree float *bias = gpu_test_random (cout, seed + 2, -0.5, 0.5);
  g_autofree float *want = g_new (float, n_out);
  g_autoptr (GpuBuffer) bin = gpu_test_upload (in, n_in);
  g_autoptr (GpuBuffer) bw = f16 ? gpu_test_upload_f16 (wt, n_w) : gpu_test_upload (wt, n_w);
  /* conv2d_gemm takes its bias in fp32 whatever the weight type */
  g_autoptr (GpuBuffer) bb =
    f16 && path != PATH_GEMM ? gpu_test_upload_f16 (bias, cout) : gpu_test_upload (bias, cout);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autofree char *what = g_strdup_printf ("%s %s %ux%ux%u k%u s%u p%u -> %u%s", path_names[path],
                                           layout == GPU_CONV_INPUT_TOKENS ? "tokens" : "chw", cin,
                                           h, w, k, stride, pad, cout, f16 ? " f16" : "");
  size_t rho, rwo;
  gpu_reference_conv2d (in, layout == GPU_CONV_INPUT_TOKENS, cin, h, w, wt, bias, cout, k, stride,
                        pad, want, &rho, &rwo);
  g_assert_cmpuint (rho, ==, ho);
  g_assert_cmpuint (rwo, ==, wo);

  gpu_test_lap ();
  if (path != PATH_IM2COL)
    {
      g_autoptr (GpuBuffer) bout = gpu_test_buffer (n_out);
      g_autoptr (GpuBuffer) scratch = NULL;
      if (path == PATH_DIRECT)
        gpu_op_conv2d (rec, bin, layout, cin, h, w, bw, bb, f16, cout, k, stride, pad, bout);
      else
        {
          scratch =
            gpu_test_buffer (gpu_op_conv2d_gemm_scratch_size (cin, h, w, k, stride, pad) / 4);
          gpu_op_conv2d_gemm (rec, bin, layout, cin, h, w, bw, f16, bb, cout, k, stride, pad,
                              scratch, bout);
        }
      gpu_test_submit (rec);
      g_test_message ("%s: %.3f s on the GPU", what, gpu_test_lap ());
      g_autofree float *got = gpu_test_download (bout, n_out);
      gpu_test_assert_close (what, got, want, NULL, n_out, 2e-5, 2e-5);
      return;
    }

  /* im2col, then the product with the weight as [cout, cin·k·k] on the CPU in double: the
   * convolution through the patch matrix must equal the direct reference */
  gsize cols = (gsize) cin * k * k, n_cols = (gsize) ho * wo * cols;
  g_autoptr (GpuBuffer) bcols = gpu_test_buffer (n_cols);
  gpu_op_im2col (rec, bin, layout, cin, h, w, k, stride, pad, bcols);
  gpu_test_submit (rec);
  g_test_message ("%s: %.3f s on the GPU", what, gpu_test_lap ());
  g_autofree float *patches = gpu_test_download (bcols, n_cols);
  g_autofree float *got = g_new (float, n_out);
  for (gsize p = 0; p < (gsize) ho * wo; p++)
    for (guint co = 0; co < cout; co++)
      {
        double acc = bias[co];
        for (gsize j = 0; j < cols; j++)
          acc += (double) patches[p * cols + j] * wt[co * cols + j];
        got[p * cout + co] = (float) acc;
      }
  /* both sides accumulate in double from the same fp32 values: equal up to the rounding
   * of a different summation order */
  gpu_test_assert_close (what, got, want, NULL, n_out, 1e-6, 1e-6);
}

static void
test_conv2d_small (void)
{
  /* the stage-0 patch embedding on a 96×96 tiny-model image (3 → 16), odd sizes */
  run_conv (GPU_CONV_INPUT_CHW, 3, 96, 96, 16, 7, 4, 3, FALSE, PATH_DIRECT, 1);
  run_conv (GPU_CONV_INPUT_CHW, 3, 29, 23, 6, 7, 4, 3, TRUE, PATH_DIRECT, 2);
  /* downsampling from tokens, 3×3 s2 p1: 24×24×16 → 12×12×32, odd grid and cout */
  run_conv (GPU_CONV_INPUT_TOKENS, 16, 24, 24, 32, 3, 2, 1, TRUE, PATH_DIRECT, 3);
  run_conv (GPU_CONV_INPUT_TOKENS, 5, 7, 9, 7, 3, 2, 1, FALSE, PATH_DIRECT, 4);
  run_conv (GPU_CONV_INPUT_TOKENS, 48, 3, 3, 64, 3, 2, 1, FALSE, PATH_DIRECT, 5);
}

static void
test_conv2d_gemm (void)
{
  run_conv (GPU_CONV_INPUT_CHW, 3, 29, 23, 6, 7, 4, 3, TRUE, PATH_GEMM, 40);
  run_conv (GPU_CONV_INPUT_TOKENS, 16, 24, 24, 32, 3, 2, 1, FALSE, PATH_GEMM, 41);
  /* Florence-2-base convs.1 channels (128 → 256) on a 48×48 crop of its 192×192 input */
  run_conv (GPU_CONV_INPUT_TOKENS, 128, 48, 48, 256, 3, 2, 1, TRUE, PATH_GEMM, 42);
}

static void
test_conv2d_real (void)
{
  /* Florence-2-base convs.0 (3 → 128, 7×7 s4 p3) on a 192×192 crop (48×48 outputs: the
   * full 768×768 image is the same kernel 16 times over) */
  run_conv (GPU_CONV_INPUT_CHW, 3, 192, 192, 128, 7, 4, 3, TRUE, PATH_DIRECT, 10);
}

static void
test_im2col (void)
{
  run_conv (GPU_CONV_INPUT_CHW, 3, 29, 23, 6, 7, 4, 3, FALSE, PATH_IM2COL, 20);
  run_conv (GPU_CONV_INPUT_TOKENS, 16, 12, 11, 32, 3, 2, 1, FALSE, PATH_IM2COL, 21);
  /* Florence-2-base convs.3 input: 48×48 × 512 → patches [576, 4608] (the product is done
   * for 8 output channels only, to keep the CPU side short) */
  run_conv (GPU_CONV_INPUT_TOKENS, 512, 48, 48, 8, 3, 2, 1, FALSE, PATH_IM2COL, 22);
}

/* With the binding limit lowered to 16 KiB the patch matrix, and for tokens the input rows,
 * are made in pieces of output rows: the same copy as in one piece. */
static void
test_im2col_split (void)
{
  static const struct {
    GpuConvInput layout;
    guint cin, h, w, k, stride, pad;
  } cases[] = {
    { GPU_CONV_INPUT_TOKENS, 16, 24, 24, 3, 2, 1 }, /* pieces of 2 output rows */
    { GPU_CONV_INPUT_TOKENS, 5, 29, 61, 3, 2, 1 },  /* odd rows: a short last piece */
    { GPU_CONV_INPUT_CHW, 3, 29, 23, 7, 4, 3 },     /* the input whole, the output in pieces */
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GpuDevice) device = gpu_device_new (&error);
  g_assert_no_error (error);
  gpu_device_limit_binding_range_for_testing (device, 16 * 1024);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const gboolean tokens = cases[i].layout == GPU_CONV_INPUT_TOKENS;
      const guint cin = cases[i].cin, h = cases[i].h, w = cases[i].w, k = cases[i].k,
                  s = cases[i].stride, pad = cases[i].pad;
      const guint ho = gpu_op_conv_out_size (h, k, s, pad),
                  wo = gpu_op_conv_out_size (w, k, s, pad);
      const gsize n_in = (gsize) cin * h * w, cols = (gsize) cin * k * k, n_out = ho * wo * cols;
      g_assert_cmpuint (n_out * 4, >, 16 * 1024);
      g_autofree float *in = gpu_test_random (n_in, 70 + i, -1, 1);
      g_autofree float *want = g_new (float, n_out);
      for (gsize p = 0; p < (gsize) ho * wo; p++)
        for (gsize col = 0; col < cols; col++)
          {
            guint ci = col / (k * k), ky = col % (k * k) / k, kx = col % k;
            int iy = (int) (p / wo * s + ky) - (int) pad, ix = (int) (p % wo * s + kx) - (int) pad;
            gboolean inside = iy >= 0 && iy < (int) h && ix >= 0 && ix < (int) w;
            want[p * cols + col] = !inside  ? 0.0f
                                   : tokens ? in[((gsize) iy * w + ix) * cin + ci]
                                            : in[((gsize) ci * h + iy) * w + ix];
          }
      g_autoptr (GpuBuffer) bin = gpu_buffer_new_from_data (device, in, n_in * 4, &error);
      g_assert_no_error (error);
      g_autoptr (GpuBuffer) bout = gpu_buffer_new (device, n_out * 4, &error);
      g_assert_no_error (error);
      g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
      g_assert_no_error (error);
      g_autofree float *got = g_new (float, n_out);
      gpu_op_im2col (rec, bin, cases[i].layout, cin, h, w, k, s, pad, bout);
      gpu_recorder_download (rec, bout, 0, got, n_out * 4);
      gpu_recorder_submit (rec, NULL, &error);
      g_assert_no_error (error);
      g_autofree char *what = g_strdup_printf ("im2col in pieces, case %u", i);
      gpu_test_assert_close (what, got, want, NULL, n_out, 0, 0);
    }
  gpu_test_assert_validation_clean (device);
}

static void
run_dwconv (guint h, guint w, guint c, gboolean f16, guint32 seed)
{
  gsize n = (gsize) h * w * c;
  g_autofree float *x = gpu_test_random (n, seed, -1, 1);
  g_autofree float *wt = gpu_test_random ((gsize) c * 9, seed + 1, -0.5, 0.5);
  g_autofree float *bias = gpu_test_random (c, seed + 2, -0.5, 0.5);
  g_autofree float *want = g_new (float, n);
  g_autoptr (GpuBuffer) bx = gpu_test_upload (x, n);
  g_autoptr (GpuBuffer) bw =
    f16 ? gpu_test_upload_f16 (wt, (gsize) c * 9) : gpu_test_upload (wt, (gsize) c * 9);
  g_autoptr (GpuBuffer) bb = f16 ? gpu_test_upload_f16 (bias, c) : gpu_test_upload (bias, c);
  g_autoptr (GpuBuffer) by = gpu_test_buffer (n);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autofree char *what = g_strdup_printf ("dwconv3x3 %ux%ux%u%s", h, w, c, f16 ? " f16" : "");

  gpu_test_lap ();
  gpu_op_dwconv3x3_residual (rec, bx, h, w, c, bw, bb, f16, by);
  gpu_test_submit (rec);
  g_test_message ("%s: %.3f s on the GPU", what, gpu_test_lap ());
  g_autofree float *got = gpu_test_download (by, n);
  gpu_reference_dwconv3x3_residual (x, h, w, c, wt, bias, want);
  gpu_test_assert_close (what, got, want, NULL, n, 1e-5, 1e-5);
}

static void
test_dwconv (void)
{
  run_dwconv (1, 1, 3, FALSE, 30);
  run_dwconv (6, 6, 64, TRUE, 31);
  run_dwconv (13, 7, 33, FALSE, 32);
  run_dwconv (192, 192, 128, TRUE, 33); /* Florence-2-base stage 0 */
}

static void
test_conv_errors (void)
{
  g_autoptr (GpuBuffer) b = gpu_test_buffer (16);
  g_autoptr (GpuBuffer) bw = gpu_test_buffer (16);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autoptr (GError) error = NULL;

  /* in place depthwise is refused (it reads neighbours) */
  gpu_op_dwconv3x3_residual (rec, b, 2, 2, 4, b, b, FALSE, b);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a kernel larger than the padded input */
  gpu_op_conv2d (rec, b, GPU_CONV_INPUT_CHW, 1, 2, 2, b, b, FALSE, 1, 7, 1, 0, b);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* more than 2³² elements is refused, not skipped in silence */
  gpu_op_dwconv3x3_residual (rec, b, 1u << 16, 1u << 16, 4, b, b, FALSE, bw);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  g_test_add_func ("/gpu/op/conv2d/small", test_conv2d_small);
  g_test_add_func ("/gpu/op/conv2d/real", test_conv2d_real);
  g_test_add_func ("/gpu/op/im2col", test_im2col);
  g_test_add_func ("/gpu/op/im2col/split", test_im2col_split);
  gpu_test_add_kernel_sets ("/gpu/op/conv2d/gemm", test_conv2d_gemm);
  gpu_test_add_kernel_sets ("/gpu/op/dwconv3x3", test_dwconv);
  g_test_add_func ("/gpu/op/conv/errors", test_conv_errors);
  return gpu_test_run ();
}
