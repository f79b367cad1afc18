/* test-op-gemm.c: the GEMM op (both variants) against a plain C reference
 *
 * Tolerances. The reference accumulates in double from the same inputs the GPU sees (fp16
 * weights are rounded to half first and the reference uses those rounded values). An fp32
 * dot product of K terms, summed in any order, has a rounding error bounded by about
 * K·2⁻²⁴·Σ|a·w| and typically √K·2⁻²⁴·Σ|a·w| (3.3e-6 relative for K = 3072). We allow
 * 1e-5 · S + 1e-6 where S = |alpha|·Σ|a·w| + |bias| + |residual| (+ the same through GELU,
 * whose slope is at most 1.13 and whose erf approximation in common.glsl is accurate to
 * ~1.2e-7). Against the unrounded fp32 weights, fp16 storage adds a relative error of up to
 * 2⁻¹¹ per weight, so that comparison allows 1e-3 · S.
 *
 * The tiled kernel's fp16-arithmetic build (DEPICT_GPU_F16_MATH=1, test-op-gemm-tiled-f16)
 * rounds A and W to fp16 and each product to fp16 before the fp32 sums: three roundings of at
 * most 2⁻¹¹ each, 1.47e-3 relative per product, so it is allowed 1.5e-3 · S (2.5e-3 · S against
 * the unrounded fp32 weights). A device without fp16 denormals (lavapipe) flushes an operand or
 * a product below fp16's normal range (2⁻¹⁴) to zero: an error under 2⁻¹⁴ per such product,
 * which the bound adds for each one the inputs hold.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "gpu-test-util.h"
#include "gpu/gpu-op-gemm.h"

#define RTOL_F32 1e-5
#define ATOL 1e-6
#define RTOL_F16_VS_F32 1e-3
#define RTOL_F16_MATH 1.5e-3
#define F16_MIN_NORMAL 6.103515625e-05 /* 2⁻¹⁴ */

typedef struct {
  guint32 m, n, k, batch;
  guint32 lda, ldw, ldc;       /* 0: packed */
  guint32 a_off, w_off, c_off; /* elements */
  gboolean bias, gelu, residual, in_place, f16;
  float alpha;
  guint32 row_step; /* > 1: check only every row_step-th row (and the last) of big cases */
  GpuGemmVariant variant;
} Case;

static double
gelu_ref (double x)
{
  return 0.5 * x * (1.0 + erf (x / sqrt (2.0)));
}

static const GpuGemmVariant variants[] = { GPU_GEMM_VARIANT_TEXEL, GPU_GEMM_VARIANT_TILED,
                                           GPU_GEMM_VARIANT_GEMV };

/* --variant=texel|tiled|gemv: only that kernel's cases (the suite runs each kernel as a test of
 * its own, side by side); GPU_GEMM_VARIANT_AUTO: all. */
static GpuGemmVariant only_variant = GPU_GEMM_VARIANT_AUTO;

static gboolean
selected (GpuGemmVariant variant)
{
  return only_variant == GPU_GEMM_VARIANT_AUTO || variant == only_variant;
}

/* The matrix-vector kernel takes up to 8 rows: cases with more run the other variants only. */
static gboolean
runs (GpuGemmVariant variant, guint32 m)
{
  return variant != GPU_GEMM_VARIANT_GEMV || m <= GPU_GEMM_GEMV_MAX_ROWS;
}

/* Runs @c on @device; compares with the reference computed on @w_ref (the weights the GPU
 * sees) within rtol, and if @w_orig is given also with the unrounded weights within
 * RTOL_F16_VS_F32. */
static void
run_case (GpuDevice *device, const Case *c, guint32 seed)
{
  g_autoptr (GError) error = NULL;
  if (!runs (c->variant, c->m) || !selected (c->variant))
    return;
  guint32 batch = MAX (c->batch, 1);
  guint32 lda = c->lda ? c->lda : c->k, ldw = c->ldw ? c->ldw : c->k;
  guint32 ldc = c->ldc ? c->ldc : c->n;
  gsize a_bs = (gsize) c->m * lda, w_bs = (gsize) c->n * ldw, c_bs = (gsize) c->m * ldc;
  gsize na = c->a_off + batch * a_bs, nw = c->w_off + batch * w_bs, nc = c->c_off + batch * c_bs;

  g_autofree float *a = gpu_test_random (na, seed, -1, 1);
  g_autofree float *w = gpu_test_random (nw, seed + 1, -0.5f, 0.5f);
  g_autofree float *bias = gpu_test_random (c->n, seed + 2, -1, 1);
  g_autofree float *res = gpu_test_random (nc, seed + 3, -2, 2);
  g_autofree float *w_orig = g_memdup2 (w, nw * sizeof (float));

  g_autoptr (GpuBuffer) ba = gpu_buffer_new_from_data (device, a, na * 4, &error);
  g_assert_no_error (error);
  g_autoptr (GpuBuffer) bw = NULL;
  if (c->f16)
    {
      g_autofree guint16 *h = g_new (guint16, nw);
      gpu_half_from_float_array (h, w, nw);
      gpu_half_to_float_array (w, h, nw); /* the reference sees the rounded weights */
      bw = gpu_buffer_new_from_data (device, h, nw * 2, &error);
    }
  else
    bw = gpu_buffer_new_from_data (device, w, nw * 4, &error);
  g_assert_no_error (error);
  g_autoptr (GpuBuffer) bb = gpu_buffer_new_from_data (device, bias, c->n * 4, &error);
  g_autoptr (GpuBuffer) br = gpu_buffer_new_from_data (device, res, nc * 4, &error);
  g_autoptr (GpuBuffer) bc =
    c->in_place ? NULL : gpu_buffer_new_from_data (device, res, nc * 4, &error);
  g_assert_no_error (error);

  GpuGemm g = {
    .m = c->m,
    .n = c->n,
    .k = c->k,
    .batch = c->batch,
    .a = ba,
    .a_offset = c->a_off,
    .lda = c->lda,
    .a_batch_stride = a_bs,
    .w = bw,
    .w_type = c->f16 ? GPU_GEMM_WEIGHT_F16 : GPU_GEMM_WEIGHT_F32,
    .w_offset = c->w_off,
    .ldw = c->ldw,
    .w_batch_stride = w_bs,
    .bias = c->bias ? bb : NULL,
    .residual = c->residual ? br : NULL,
    .residual_offset = c->c_off,
    .ldr = c->ldc,
    .residual_batch_stride = c_bs,
    .c = c->in_place ? br : bc,
    .c_offset = c->c_off,
    .ldc = c->ldc,
    .c_batch_stride = c_bs,
    .alpha = c->alpha,
    .gelu = c->gelu,
    .variant = c->variant,
  };
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
  g_assert_no_error (error);
  gpu_op_gemm (rec, &g);
  g_autofree float *got = g_new0 (float, nc);
  gpu_recorder_download (rec, c->in_place ? br : bc, 0, got, nc * 4);
  g_assert_true (gpu_recorder_submit (rec, NULL, &error));
  g_assert_no_error (error);

  g_autofree float *want = g_new0 (float, nc);
  g_autofree float *want32 = g_new0 (float, nc);
  g_autofree float *scale = g_new0 (float, nc);
  g_autofree gboolean *checked = g_new0 (gboolean, nc);
  /* the fp16-arithmetic build of the tiled kernel (see the top of this file) */
  gboolean f16_math = c->variant == GPU_GEMM_VARIANT_TILED && gpu_op_gemm_f16_math (device);
  const double rtol = f16_math ? RTOL_F16_MATH : RTOL_F32;
  memcpy (want, res, nc * 4); /* untouched elements keep the initial contents */
  memcpy (want32, res, nc * 4);
  double alpha = c->alpha != 0 ? c->alpha : 1.0;
  guint32 step = MAX (c->row_step, 1);
  for (guint32 b = 0; b < batch; b++)
    for (guint32 i = 0; i < c->m; i++)
      for (guint32 j = 0; j < c->n && (i % step == 0 || i == c->m - 1); j++)
        {
          const float *ar = a + c->a_off + b * a_bs + (gsize) i * lda;
          const float *wr = w + c->w_off + b * w_bs + (gsize) j * ldw;
          const float *wo = w_orig + c->w_off + b * w_bs + (gsize) j * ldw;
          double s = 0, s32 = 0, mag = 0, flushed = 0;
          for (guint32 k = 0; k < c->k; k++)
            {
              double p = (double) ar[k] * wr[k];
              s += p;
              mag += fabs (p);
              if (f16_math && (fabs (p) < F16_MIN_NORMAL || fabs (ar[k]) < F16_MIN_NORMAL ||
                               fabs (wr[k]) < F16_MIN_NORMAL))
                flushed += F16_MIN_NORMAL;
            }
          /* an absolute error under the tolerance's scale: S + flushed / rtol */
          mag += flushed / (fabs (alpha) * rtol);
          if (c->f16)
            for (guint32 k = 0; k < c->k; k++)
              s32 += (double) ar[k] * wo[k];
          else
            s32 = s;
          gsize o = c->c_off + b * c_bs + (gsize) i * ldc + j;
          double v = alpha * s, v32 = alpha * s32, sc = fabs (alpha) * mag;
          if (c->bias)
            {
              v += bias[j];
              v32 += bias[j];
              sc += fabs (bias[j]);
            }
          if (c->gelu)
            {
              v = gelu_ref (v);
              v32 = gelu_ref (v32);
              sc = 1.13 * sc;
            }
          if (c->residual)
            {
              v += res[o];
              v32 += res[o];
              sc += fabs (res[o]);
            }
          want[o] = (float) v;
          want32[o] = (float) v32;
          scale[o] = (float) sc;
          checked[o] = TRUE;
        }
  /* Compare what was computed: with row_step, only the sampled rows (elements outside C's
   * rows must keep their contents, which the full comparison checks). */
  gsize n_cmp = 0;
  for (gsize o = 0; o < nc; o++)
    if (step == 1 || checked[o])
      {
        got[n_cmp] = got[o];
        want[n_cmp] = want[o];
        want32[n_cmp] = want32[o];
        scale[n_cmp] = scale[o];
        n_cmp++;
      }
  g_autofree char *what = g_strdup_printf (
    "%s %ux%ux%u batch %u %s%s%s%s%s", gpu_gemm_variant_to_string (c->variant), c->m, c->n, c->k,
    batch, c->f16 ? "f16" : "f32", c->bias ? " +bias" : "", c->gelu ? " +gelu" : "",
    c->residual ? " +residual" : "", c->in_place ? " in-place" : "");
  gpu_test_assert_close (what, got, want, scale, n_cmp, rtol, ATOL);
  if (c->f16)
    gpu_test_assert_close (what, got, want32, scale, n_cmp,
                           RTOL_F16_VS_F32 + (f16_math ? RTOL_F16_MATH : 0), ATOL);
}

/* Cost of a case on lavapipe: each kernel build (variant, specialization constants, W format)
 * is compiled once per process by LLVM on first use, from 0.3 s (small texel tiles) to 15 s of
 * CPU (the texel kernel's 16 × 16 tile, 64 rows or more), which outweighs running any of these
 * shapes. So the cases below reach every build of every kernel path once or twice, not every
 * combination: the 16 × 16 texel tile with vec4 views is run with fp16 weights and with scalar
 * views with fp32 weights (the same code reads either format, which the 4 × 4 tile covers
 * both ways); the tiled kernel in all four of {vec4, scalar} × {fp16, fp32}; the
 * matrix-vector kernel with 1, 3 and 8 rows (its row count is a specialization constant). */

/* Whether @c would build the texel kernel's 16 × 16 tile in a combination the cases do not
 * otherwise need (see above): vec4 views with fp32 weights, or scalar views with fp16. */
static gboolean
texel_big_extra (const Case *c)
{
  gboolean vec4 = c->k % 4 == 0 && (c->lda ? c->lda : c->k) % 4 == 0 &&
                  (c->ldw ? c->ldw : c->k) % 4 == 0 && c->a_off % 4 == 0 && c->w_off % 4 == 0;
  return c->variant == GPU_GEMM_VARIANT_TEXEL && c->m >= 64 && vec4 != c->f16;
}

static void
run_checked (GpuDevice *device, const Case *c, guint32 seed)
{
  g_assert_false (texel_big_extra (c));
  run_case (device, c, seed);
}

/* Shapes that are not multiples of any tile: M, N, K of 1 to 130 */
static void
test_small_shapes (void)
{
  static const guint32 shapes[][3] = {
    { 1, 1, 13 },   { 3, 7, 13 },   { 6, 10, 13 },  { 5, 33, 16 },   { 17, 9, 96 },
    { 33, 70, 64 }, { 65, 65, 20 }, { 67, 45, 21 }, { 2, 130, 768 }, { 8, 33, 16 },
  };
  guint32 seed = 10;
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
      for (int f16 = 0; f16 < 2; f16++)
        {
          Case c = { .m = shapes[s][0],
                     .n = shapes[s][1],
                     .k = shapes[s][2],
                     .f16 = f16,
                     .variant = variants[v] };
          /* the matrix-vector kernel: 1, 3 or 8 rows */
          if (c.variant == GPU_GEMM_VARIANT_GEMV && c.m != 1 && c.m != 3 && c.m != 8)
            continue;
          if (texel_big_extra (&c))
            continue;
          run_checked (gpu_test_device (), &c, seed++);
        }
}

static void
test_epilogues (void)
{
  guint32 seed = 100;
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    for (int e = 0; e < 6; e++)
      {
        /* 19 rows: the 4 × 4 texel tiles; 70: the 16 × 16 ones, with a partial last tile; 3
         * and 8 for the matrix-vector kernel. fp16 weights with K = 56 (vec4 and 8-half
         * loads), fp32 with K = 53 (scalar loads). */
        gboolean gemv = variants[v] == GPU_GEMM_VARIANT_GEMV;
        Case c = { .m = e < 3 ? (gemv ? 3 : 19) : (gemv ? 8 : 70),
                   .n = 45,
                   .k = e % 2 ? 56 : 53,
                   .variant = variants[v],
                   .f16 = e % 2 };
        c.bias = e != 0;
        c.gelu = e == 2 || e == 3 || e == 5;
        c.residual = e >= 3;
        c.in_place = e == 4;
        c.alpha = e == 5 ? 0.125f : 0.0f;
        run_checked (gpu_test_device (), &c, seed++);
      }
}

/* GELU over a range of pre-activations, where erf matters most. */
static void
test_gelu_range (void)
{
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    {
      Case c = {
        .m = 3, .n = 300, .k = 4, .bias = TRUE, .gelu = TRUE, .alpha = 8.0f, .variant = variants[v]
      };
      run_checked (gpu_test_device (), &c, 200);
    }
}

/* Offsets and strides: unaligned offsets force the scalar texel path and binding shifts. */
static void
test_strides (void)
{
  guint32 seed = 300;
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    for (int f16 = 0; f16 < 2; f16++)
      {
        gboolean gemv = variants[v] == GPU_GEMM_VARIANT_GEMV;
        Case aligned = { .m = gemv ? 3 : 9,
                         .n = 21,
                         .k = 32,
                         .lda = 40,
                         .ldw = 36,
                         .ldc = 30,
                         .a_off = 8,
                         .w_off = 4,
                         .c_off = 4,
                         .bias = TRUE,
                         .residual = TRUE,
                         .f16 = f16,
                         .variant = variants[v] };
        run_checked (gpu_test_device (), &aligned, seed++);
        Case odd = { .m = gemv ? 8 : 11,
                     .n = 23,
                     .k = 31,
                     .lda = 33,
                     .ldw = 35,
                     .ldc = 29,
                     .a_off = 3,
                     .w_off = 5,
                     .c_off = 7,
                     .bias = TRUE,
                     .gelu = TRUE,
                     .f16 = f16,
                     .variant = variants[v] };
        run_checked (gpu_test_device (), &odd, seed++);
      }
}

/* Batched products (attention scores over heads: strided views of Q and K). */
static void
test_batched (void)
{
  guint32 seed = 400;
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    {
      Case c = {
        .m = 23, .n = 23, .k = 32, .batch = 4, .alpha = 0.17677669f, .variant = variants[v]
      };
      run_checked (gpu_test_device (), &c, seed++);
      Case d = { .m = 3,
                 .n = 50,
                 .k = 12,
                 .batch = 3,
                 .bias = TRUE,
                 .residual = TRUE,
                 .f16 = TRUE,
                 .variant = variants[v] };
      run_checked (gpu_test_device (), &d, seed++);
    }
}

/* Florence-2-base shapes (d = 768, FFN 3072; 145 of the encoder's ~580 rows: whole 16-row tiles
 * and a partial one, a quarter of the work; a decoder step's products). */
static void
test_florence_shapes (void)
{
  GpuDevice *device = gpu_test_device ();
  Case fc1 = { .m = 145,
               .n = 3072,
               .k = 768,
               .bias = TRUE,
               .gelu = TRUE,
               .f16 = TRUE,
               .row_step = 24,
               .variant = GPU_GEMM_VARIANT_TEXEL };
  run_checked (device, &fc1, 500);
  Case fc2 = { .m = 145,
               .n = 768,
               .k = 3072,
               .bias = TRUE,
               .residual = TRUE,
               .f16 = TRUE,
               .row_step = 24,
               .variant = GPU_GEMM_VARIANT_TEXEL };
  run_checked (device, &fc2, 501);
  Case logits = {
    .m = 3, .n = 51289, .k = 768, .bias = TRUE, .f16 = TRUE, .variant = GPU_GEMM_VARIANT_TEXEL
  };
  run_checked (device, &logits, 503);
  /* a decoder step of 3 beams on the matrix-vector kernel: fc2 (K = 3072), the LM head */
  Case step_fc2 = { .m = 3,
                    .n = 768,
                    .k = 3072,
                    .bias = TRUE,
                    .residual = TRUE,
                    .f16 = TRUE,
                    .variant = GPU_GEMM_VARIANT_GEMV };
  run_checked (device, &step_fc2, 505);
  logits.variant = GPU_GEMM_VARIANT_GEMV;
  run_checked (device, &logits, 506);
  /* the tiled kernel (the GPU set's) on the encoder's projections, fp32 and fp16 weights */
  for (int f16 = 0; f16 < 2; f16++)
    {
      Case tiled = { .m = 145,
                     .n = 768,
                     .k = 768,
                     .bias = TRUE,
                     .f16 = f16,
                     .row_step = 12,
                     .variant = GPU_GEMM_VARIANT_TILED };
      run_checked (device, &tiled, 504 + f16);
    }
}

/* The tiled kernel's shapes for GPUs (gpu-op-gemm.c: 128 × 128 tiles of 8 × 8 per invocation,
 * 64 × 64 of 4 × 4; CPU devices get 64 × 64 of 8 × 8, which the cases above run), forced
 * through DEPICT_GEMM_TILED_CONFIG; one case each, with partial tiles and the full epilogue. */
static void
test_tiled_configs (void)
{
  static const char *const configs[] = { "128,8,8", "64,4,16" };
  guint32 seed = 700;
  for (guint i = 0; i < G_N_ELEMENTS (configs); i++)
    {
      g_setenv ("DEPICT_GEMM_TILED_CONFIG", configs[i], TRUE);
      Case c = { .m = 150,
                 .n = 200,
                 .k = 72,
                 .bias = TRUE,
                 .gelu = TRUE,
                 .residual = TRUE,
                 .f16 = TRUE,
                 .variant = GPU_GEMM_VARIANT_TILED };
      run_checked (gpu_test_device (), &c, seed++);
      g_unsetenv ("DEPICT_GEMM_TILED_CONFIG");
    }
}

/* Splitting over M and N when tensors exceed the binding limit (lowered for the test, on the
 * shared device so that its kernels are not compiled again). */
static void
test_split (void)
{
  g_autoptr (GError) error = NULL;
  GpuDevice *device = gpu_test_device ();
  gpu_device_limit_binding_range_for_testing (device, 64 * 1024);
  guint32 seed = 600;
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    for (int f16 = 0; f16 < 2; f16++)
      {
        /* A: 300 × 96 × 4 = 115 kB, W: 400 × 96 × 4 = 154 kB, C: 120 kB: all split (the
         * matrix-vector kernel: 3 or 8 rows, W split; the texel kernel with fp32 weights: 60
         * rows, its 4 × 4 tile, W and C split) */
        gboolean gemv = variants[v] == GPU_GEMM_VARIANT_GEMV;
        gboolean texel = variants[v] == GPU_GEMM_VARIANT_TEXEL;
        Case c = { .m = gemv            ? 3
                        : texel && !f16 ? 60
                                        : 300,
                   .n = 400,
                   .k = 96,
                   .bias = TRUE,
                   .residual = TRUE,
                   .f16 = f16,
                   .variant = variants[v] };
        run_checked (device, &c, seed++);
        Case odd = { .m = gemv           ? 8
                          : texel && f16 ? 60
                                         : 77,
                     .n = 301,
                     .k = 61,
                     .lda = 63,
                     .a_off = 1,
                     .gelu = TRUE,
                     .bias = TRUE,
                     .f16 = f16,
                     .variant = variants[v] };
        run_checked (device, &odd, seed++);
      }
  /* a single row that cannot fit is an error, not a crash */
  {
    g_autoptr (GpuBuffer) a = gpu_buffer_new (device, 4 * 20000, &error);
    g_autoptr (GpuBuffer) w = gpu_buffer_new (device, 4 * 20000, &error);
    g_autoptr (GpuBuffer) c = gpu_buffer_new (device, 4, &error);
    g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
    gpu_op_linear (rec, a, w, GPU_GEMM_WEIGHT_F32, NULL, NULL, c, 1, 1, 20000, FALSE);
    g_assert_false (gpu_recorder_submit (rec, NULL, &error));
    g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  }
  gpu_device_limit_binding_range_for_testing (device, 0);
  gpu_test_assert_validation_clean (device);
}

/* A real weight beyond maxStorageBufferRange: fp16 70000 × 1024 = 143 MB > 128 MiB (on
 * lavapipe). The texel kernel reads it through one view; the tiled kernel gets a window of
 * rows that straddles the 128 MiB mark. Weights come from a cheap generator to keep host
 * memory at one copy. */
static void
test_large_weight (void)
{
  GpuDevice *device = gpu_test_device ();
  g_autoptr (GError) error = NULL;
  const guint32 n = 70000, k = 1024;
  const guint64 bytes = (guint64) n * k * 2;
  if (gpu_device_get_limits (device)->max_storage_buffer_range >= bytes)
    {
      g_test_skip ("the device binds the whole weight at once");
      return;
    }
  /* random sign and mantissa, exponent of 0.25…0.5: fast to make, exact as halves */
  g_autofree guint16 *h = g_new (guint16, (gsize) n * k);
  guint32 state = 12345;
  for (gsize i = 0; i < (gsize) n * k; i++)
    {
      state = state * 1664525u + 1013904223u;
      h[i] = (guint16) (((state >> 16) & 0x83ffu) | 0x3400u);
    }
  g_autofree float *half_value = g_new (float, 65536);
  for (guint32 i = 0; i < 65536; i++)
    half_value[i] = gpu_half_to_float ((guint16) i);
  g_autofree float *x = gpu_test_random (k, 800, -1, 1);
  g_autoptr (GpuBuffer) bw = gpu_buffer_new_from_data (device, h, bytes, &error);
  g_assert_no_error (error);
  g_autoptr (GpuBuffer) bx = gpu_buffer_new_from_data (device, x, k * 4, &error);
  g_autoptr (GpuBuffer) by = gpu_buffer_new (device, (gsize) n * 4, &error);
  g_assert_no_error (error);

  const guint32 first = 64000, rows = 3000; /* rows 64000…66999 span byte 128 MiB */
  g_assert_cmpuint ((guint64) first * k * 2, <, (guint64) 128 << 20);
  g_assert_cmpuint ((guint64) (first + rows) * k * 2, >, (guint64) 128 << 20);
  for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
    {
      if (!selected (variants[v]))
        continue;
      gboolean texel = variants[v] == GPU_GEMM_VARIANT_TEXEL;
      guint32 n0 = texel ? 0 : first, nn = texel ? n : rows;
      GpuGemm g = { .m = 1,
                    .n = nn,
                    .k = k,
                    .a = bx,
                    .w = bw,
                    .w_type = GPU_GEMM_WEIGHT_F16,
                    .w_offset = (guint64) n0 * k,
                    .c = by,
                    .variant = variants[v] };
      g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
      gpu_op_gemm (rec, &g);
      g_autofree float *got = g_new0 (float, nn);
      gpu_recorder_download (rec, by, 0, got, (gsize) nn * 4);
      g_assert_true (gpu_recorder_submit (rec, NULL, &error));
      g_assert_no_error (error);
      g_autofree float *want = g_new0 (float, nn);
      g_autofree float *scale = g_new0 (float, nn);
      gboolean f16_math = variants[v] == GPU_GEMM_VARIANT_TILED && gpu_op_gemm_f16_math (device);
      const double rtol = f16_math ? RTOL_F16_MATH : RTOL_F32;
      for (guint32 j = 0; j < nn; j++)
        {
          const guint16 *wr = h + (gsize) (n0 + j) * k;
          double s = 0, mag = 0;
          for (guint32 i = 0; i < k; i++)
            {
              double p = (double) x[i] * half_value[wr[i]];
              s += p;
              mag += fabs (p);
              if (f16_math && (fabs (p) < F16_MIN_NORMAL || fabs (x[i]) < F16_MIN_NORMAL))
                mag += F16_MIN_NORMAL / rtol; /* flushed to zero: see the top of this file */
            }
          want[j] = (float) s;
          scale[j] = (float) mag;
        }
      gpu_test_assert_close (texel ? "texel 1x70000x1024 f16 (143 MB)"
                                   : "tiled rows 64000-66999 across 128 MiB",
                             got, want, scale, nn, rtol, ATOL);
    }
}

static void
test_bad_arguments (void)
{
  GpuDevice *device = gpu_test_device ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GpuBuffer) a = gpu_buffer_new (device, 4 * 64, &error);
  g_autoptr (GpuBuffer) c = gpu_buffer_new (device, 4 * 10, &error);
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
  /* C too small for 8 × 8 */
  gpu_op_linear (rec, a, a, GPU_GEMM_WEIGHT_F32, NULL, NULL, c, 8, 8, 8, FALSE);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* stride shorter than a row */
  GpuGemm g = { .m = 2, .n = 2, .k = 4, .a = a, .lda = 3, .w = a, .c = c };
  gpu_op_gemm (rec, &g);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* empty products record nothing */
  gpu_op_linear (rec, a, a, GPU_GEMM_WEIGHT_F32, NULL, NULL, c, 0, 8, 8, FALSE);
  g_assert_cmpuint (gpu_recorder_get_n_commands (rec), ==, 0);
  g_assert_true (gpu_recorder_submit (rec, NULL, &error));
}

static void
test_variant_choice (void)
{
  GpuDevice *device = gpu_test_device ();
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  gboolean texel_ok =
    lim->texel_rgba32f && lim->texel_rgba16f && lim->texel_r32f && lim->texel_r16f;
  for (guint32 m = 1; m <= 16; m++)
    {
      GpuGemmVariant v = gpu_op_gemm_pick_variant (device, m);
      if (lim->kernels == GPU_KERNELS_CPU && texel_ok)
        g_assert_cmpint (v, ==, GPU_GEMM_VARIANT_TEXEL);
      else if (m <= GPU_GEMM_GEMV_MAX_ROWS)
        g_assert_cmpint (v, ==, GPU_GEMM_VARIANT_GEMV);
      else
        g_assert_cmpint (v, ==, GPU_GEMM_VARIANT_TILED);
    }
}

/* Which builds the environment forces (gpu.h): DEPICT_GPU_F16_MATH=1 the tiled kernel's
 * fp16-arithmetic build, DEPICT_GPU_NO_SUBGROUP_ARITHMETIC=1 the matrix-vector kernel's
 * shared-memory sums. FALSE, with the reason on stderr, when this device cannot run what is
 * asked: the test is then skipped, not passed. */
static gboolean
say_forced_builds (void)
{
  GpuDevice *device = gpu_test_device ();
  if (device == NULL)
    return FALSE;
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  const char *name = gpu_device_get_info (device)->name;
  if (g_strcmp0 (g_getenv ("DEPICT_GPU_F16_MATH"), "1") == 0)
    {
      if (!gpu_op_gemm_f16_math (device))
        {
          g_printerr ("SKIP: %s has no shaderFloat16, so the tiled GEMM's fp16-arithmetic build "
                      "(DEPICT_GPU_F16_MATH=1) cannot run here; it is untested on this machine\n",
                      name);
          return FALSE;
        }
      g_printerr ("%s: the tiled GEMM multiplies in fp16 (gemm_tiled_f16)\n", name);
    }
  if (g_getenv ("DEPICT_GPU_NO_SUBGROUP_ARITHMETIC") != NULL)
    {
      g_assert_false (lim->subgroup_arithmetic);
      g_printerr ("%s: the matrix-vector GEMM adds through shared memory (gemv, not gemv_sg)\n",
                  name);
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--variant="))
      {
        const char *name = argv[i] + strlen ("--variant=");
        for (guint v = 0; v < G_N_ELEMENTS (variants); v++)
          if (g_str_equal (name, gpu_gemm_variant_to_string (variants[v])))
            only_variant = variants[v];
        if (only_variant == GPU_GEMM_VARIANT_AUTO)
          {
            g_printerr ("--variant: texel, tiled or gemv\n");
            return 2;
          }
        memmove (argv + i, argv + i + 1, (gsize) (argc - i) * sizeof (char *));
        argc--;
        break;
      }
  gpu_test_init (&argc, &argv);
  if (!say_forced_builds ())
    return 77;
  gpu_test_add_kernel_sets ("/gemm/variant-choice", test_variant_choice);
  g_test_add_func ("/gemm/small-shapes", test_small_shapes);
  g_test_add_func ("/gemm/epilogues", test_epilogues);
  g_test_add_func ("/gemm/gelu-range", test_gelu_range);
  g_test_add_func ("/gemm/strides", test_strides);
  g_test_add_func ("/gemm/batched", test_batched);
  g_test_add_func ("/gemm/tiled-configs", test_tiled_configs);
  g_test_add_func ("/gemm/split", test_split);
  g_test_add_func ("/gemm/large-weight", test_large_weight);
  g_test_add_func ("/gemm/florence-shapes", test_florence_shapes);
  g_test_add_func ("/gemm/bad-arguments", test_bad_arguments);
  return gpu_test_run ();
}
