/* florence-cpu-kernels.h: the CPU engine's vectorized ops (everything but the BLAS GEMMs)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * florence-cpu-kernels.c is compiled twice: for x86-64 with AVX2, FMA and F16C (every x86-64
 * CPU since 2013–2015) and for the baseline of the target (SSE2 on x86-64, NEON on arm64);
 * florence_cpu_kernels_get() picks the best table the CPU runs, once, at run time. Nothing is
 * compiled on the user's machine. Each kernel works on one thread's share; the engine splits
 * the work over its pool (florence-cpu-pool.h).
 *
 * Arithmetic is fp32 throughout. The transcendental functions are vector polynomials: exp with
 * a relative error below 2e-7, erf (for GELU) with an absolute error below 2e-7 (Abramowitz
 * and Stegun 7.1.26, as PyTorch's vectorized GELU); the graph's tolerances are 1e-4.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Attention of nq query rows over nk keys of one head (hd channels). */
typedef struct {
  const float *q; /* [nq × hd], row stride ldq, already scaled */
  gsize ldq;
  /* the keys, either transposed (channel c of key j at kt[c * ldkt + j]; faster for many
   * queries) or, when kt is NULL, as rows (key j at k[j * ldk]) */
  const float *kt;
  gsize ldkt;
  const float *k;
  gsize ldk;
  const float *v; /* [nk × hd], row stride ldv */
  gsize ldv;
  float *o; /* [nq × hd], row stride ldo */
  gsize ldo;
  int nq, nk, hd;
  float *scratch; /* florence_cpu_attention_scratch (nk) floats */
} FlorenceCpuAttention;

gsize florence_cpu_attention_scratch (int nk);

typedef struct {
  const char *name; /* "AVX2, FMA, F16C" or "generic" */

  void (*f16_to_f32) (const guint16 *src, float *dst, gsize n);

  /* y = LayerNorm(x) · w + b over one row of dim values (eps 1e-5); y may be x. */
  void (*layernorm) (const float *x, float *y, gsize dim, const float *w, const float *b);
  /* y += bias (n values); y = gelu(y + bias) with the exact (erf) GELU. bias may be NULL. */
  void (*add_bias) (float *y, const float *bias, gsize n);
  void (*bias_gelu) (float *y, const float *bias, gsize n);
  /* y += x */
  void (*add) (float *y, const float *x, gsize n);

  /* Row oy of out [H, W, C] = in + depthwise 3×3 conv (padding 1) of in + bias; w9 is the
   * kernel as [ky · 3 + kx][C]. */
  void (*dwconv3x3_row) (const float *in, float *out, int H, int W, int C, int oy, const float *w9,
                         const float *bias);

  /* Softmax attention, one head: o = softmax(q · kᵀ) · v, row by row. */
  void (*attention) (const FlorenceCpuAttention *a);

  /* y[b, j] = Σ_k x[b, k] · w[j, k] (+ bias[j]) (+ y[b, j] when accumulate) for the output
   * rows j0 ≤ j < j1 and the B rows of x: matrix × few vectors, for the decoder steps. w is
   * [rows × K], row-major, fp16 or fp32. */
  void (*gemv_f16) (const float *x, gsize ldx, guint B, const guint16 *w, gsize K, gsize j0,
                    gsize j1, const float *bias, float *y, gsize ldy, gboolean accumulate);
  void (*gemv_f32) (const float *x, gsize ldx, guint B, const float *w, gsize K, gsize j0, gsize j1,
                    const float *bias, float *y, gsize ldy, gboolean accumulate);

  /* max of x[0 … n) (-inf for n = 0), and Σ exp(x[i] - max) summed in double. */
  float (*max) (const float *x, gsize n);
  double (*sum_exp) (const float *x, gsize n, float max);
} FlorenceCpuKernels;

/* The best table for this CPU ($DEPICT_CPU_KERNELS=generic asks for the generic one, for the
 * tests). */
const FlorenceCpuKernels *florence_cpu_kernels_get (void);
/* Both tables, for the tests: the generic one and, where built and supported, the AVX2 one
 * (NULL otherwise). */
const FlorenceCpuKernels *florence_cpu_kernels_generic (void);
const FlorenceCpuKernels *florence_cpu_kernels_avx2 (void);

G_END_DECLS
