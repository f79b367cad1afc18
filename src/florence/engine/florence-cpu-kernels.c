/* florence-cpu-kernels.c: the CPU engine's vectorized ops (everything but the BLAS GEMMs)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Compiled twice (see florence-cpu-kernels.h and meson.build): with KERNELS_AVX2 and
 * -mavx2 -mfma -mf16c, and without for the target's baseline. The code is the same: GCC vector
 * extensions of 8 floats, which become one AVX register or two SSE/NEON ones.
 */
#include "config.h"

#include "florence/engine/florence-cpu-kernels.h"

#include <math.h>
#include <string.h>

#if defined(HAVE_KERNELS_AVX2)
#include <cpuid.h>
#endif
#if defined(KERNELS_AVX2)
#include <immintrin.h>
#define KERNELS_NAME "AVX2, FMA, F16C"
#define TABLE florence_cpu_kernels_table_avx2
#else
#define KERNELS_NAME "generic"
#define TABLE florence_cpu_kernels_table_generic
#endif

extern const FlorenceCpuKernels TABLE;

/* The 32-byte vectors below pass between static functions only, which GCC inlines: the note
 * that their calling convention differs without AVX does not concern any interface. */
#pragma GCC diagnostic ignored "-Wpsabi"

typedef float v8f __attribute__ ((vector_size (32)));
typedef gint32 v8i __attribute__ ((vector_size (32)));

#define V8(x) ((v8f){ (x), (x), (x), (x), (x), (x), (x), (x) })
#define V8I(x) ((v8i){ (x), (x), (x), (x), (x), (x), (x), (x) })

static inline v8f
load8 (const float *p)
{
  v8f v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline void
store8 (float *p, v8f v)
{
  memcpy (p, &v, sizeof v);
}

/* the first n (< 8) values, zeros after */
static inline v8f
load_part (const float *p, gsize n)
{
  v8f v = V8 (0.0f);
  for (gsize i = 0; i < n; i++)
    v[i] = p[i];
  return v;
}

static inline void
store_part (float *p, v8f v, gsize n)
{
  for (gsize i = 0; i < n; i++)
    p[i] = v[i];
}

static inline float
hsum8 (v8f v)
{
  float a = (v[0] + v[4]) + (v[2] + v[6]);
  float b = (v[1] + v[5]) + (v[3] + v[7]);
  return a + b;
}

static inline v8f
vmax (v8f a, v8f b)
{
  return (v8f) ((v8i) a & (a > b)) + (v8f) ((v8i) b & ~(a > b));
}

static inline v8f
vselect (v8i mask, v8f a, v8f b)
{
  return (v8f) (((v8i) a & mask) | ((v8i) b & ~mask));
}

/* ---------------------------------------------------------------------------------------------
 * fp16
 * ------------------------------------------------------------------------------------------- */

static inline float
half_to_float (guint16 h)
{
  guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1f, man = h & 0x3ff;
  guint32 bits;
  if (exp == 0x1f)
    bits = sign | 0x7f800000u | (man << 13);
  else if (exp != 0)
    bits = sign | ((exp + 112) << 23) | (man << 13);
  else if (man == 0)
    bits = sign;
  else
    {
      /* subnormal: normalise */
      int e = -1;
      do
        {
          man <<= 1;
          e++;
        }
      while ((man & 0x400) == 0);
      bits = sign | ((guint32) (112 - e) << 23) | ((man & 0x3ff) << 13);
    }
  float f;
  memcpy (&f, &bits, sizeof f);
  return f;
}

static inline v8f
load8_f16 (const guint16 *p)
{
#if defined(KERNELS_AVX2)
  return (v8f) _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *) p));
#else
  v8f v;
  for (int i = 0; i < 8; i++)
    v[i] = half_to_float (p[i]);
  return v;
#endif
}

static void
k_f16_to_f32 (const guint16 *src, float *dst, gsize n)
{
  gsize i = 0;
  for (; i + 8 <= n; i += 8)
    store8 (dst + i, load8_f16 (src + i));
  for (; i < n; i++)
    dst[i] = half_to_float (src[i]);
}

/* ---------------------------------------------------------------------------------------------
 * exp, erf
 * ------------------------------------------------------------------------------------------- */

/* Cephes' expf: 2^n · e^r, |r| ≤ ln2/2, degree-7 polynomial; 0 below -87.3 */
static inline v8f
vexp (v8f x)
{
  const v8f hi = V8 (88.3762626647949f), lo = V8 (-87.3365447504f);
  v8i small = x < lo;
  x = vselect (x > hi, hi, x);
  x = vselect (small, lo, x);
  v8f fx = x * V8 (1.44269504088896341f) + V8 (0.5f);
  v8i n = __builtin_convertvector(fx, v8i);
  v8f nf = __builtin_convertvector(n, v8f);
  v8i over = nf > fx; /* truncation rounded up a negative value: floor */
  n += over;          /* over is -1 where true */
  nf = __builtin_convertvector(n, v8f);
  x = x - nf * V8 (0.693359375f) - nf * V8 (-2.12194440e-4f);
  v8f z = x * x;
  v8f y = V8 (1.9875691500e-4f);
  y = y * x + V8 (1.3981999507e-3f);
  y = y * x + V8 (8.3334519073e-3f);
  y = y * x + V8 (4.1665795894e-2f);
  y = y * x + V8 (1.6666665459e-1f);
  y = y * x + V8 (5.0000001201e-1f);
  y = y * z + x + V8 (1.0f);
  v8i bits = (n + V8I (127)) << 23;
  y = y * (v8f) bits;
  return (v8f) ((v8i) y & ~small);
}

/* erf(x) by Abramowitz and Stegun 7.1.26: |error| < 1.5e-7 */
static inline v8f
verf (v8f x)
{
  v8i sign = (v8i) x & V8I ((gint32) 0x80000000);
  v8f ax = (v8f) ((v8i) x & V8I (0x7fffffff));
  v8f t = V8 (1.0f) / (V8 (1.0f) + V8 (0.3275911f) * ax);
  v8f p = V8 (1.061405429f);
  p = p * t + V8 (-1.453152027f);
  p = p * t + V8 (1.421413741f);
  p = p * t + V8 (-0.284496736f);
  p = p * t + V8 (0.254829592f);
  p = p * t;
  v8f r = V8 (1.0f) - p * vexp (-(ax * ax));
  return (v8f) ((v8i) r | sign);
}

static inline v8f
vgelu (v8f x)
{
  return V8 (0.5f) * x * (V8 (1.0f) + verf (x * V8 ((float) M_SQRT1_2)));
}

/* ---------------------------------------------------------------------------------------------
 * Element-wise, LayerNorm
 * ------------------------------------------------------------------------------------------- */

static void
k_add_bias (float *y, const float *bias, gsize n)
{
  if (bias == NULL)
    return;
  gsize i = 0;
  for (; i + 8 <= n; i += 8)
    store8 (y + i, load8 (y + i) + load8 (bias + i));
  for (; i < n; i++)
    y[i] += bias[i];
}

static void
k_bias_gelu (float *y, const float *bias, gsize n)
{
  gsize i = 0;
  for (; i + 8 <= n; i += 8)
    {
      v8f v = load8 (y + i);
      if (bias != NULL)
        v += load8 (bias + i);
      store8 (y + i, vgelu (v));
    }
  if (i < n)
    {
      gsize r = n - i;
      v8f v = load_part (y + i, r);
      if (bias != NULL)
        v += load_part (bias + i, r);
      store_part (y + i, vgelu (v), r);
    }
}

static void
k_add (float *y, const float *x, gsize n)
{
  gsize i = 0;
  for (; i + 8 <= n; i += 8)
    store8 (y + i, load8 (y + i) + load8 (x + i));
  for (; i < n; i++)
    y[i] += x[i];
}

static void
k_layernorm (const float *x, float *y, gsize dim, const float *w, const float *b)
{
  v8f s0 = V8 (0.0f), s1 = V8 (0.0f);
  gsize i = 0;
  for (; i + 16 <= dim; i += 16)
    {
      s0 += load8 (x + i);
      s1 += load8 (x + i + 8);
    }
  for (; i + 8 <= dim; i += 8)
    s0 += load8 (x + i);
  float sum = hsum8 (s0 + s1);
  for (; i < dim; i++)
    sum += x[i];
  const float mean = sum / (float) dim;

  v8f q0 = V8 (0.0f), q1 = V8 (0.0f), m = V8 (mean);
  for (i = 0; i + 16 <= dim; i += 16)
    {
      v8f d0 = load8 (x + i) - m, d1 = load8 (x + i + 8) - m;
      q0 += d0 * d0;
      q1 += d1 * d1;
    }
  for (; i + 8 <= dim; i += 8)
    {
      v8f d0 = load8 (x + i) - m;
      q0 += d0 * d0;
    }
  float var = hsum8 (q0 + q1);
  for (; i < dim; i++)
    var += (x[i] - mean) * (x[i] - mean);
  var /= (float) dim;
  const float inv = (float) (1.0 / sqrt ((double) var + 1e-5));

  v8f vi = V8 (inv);
  for (i = 0; i + 8 <= dim; i += 8)
    store8 (y + i, (load8 (x + i) - m) * vi * load8 (w + i) + load8 (b + i));
  for (; i < dim; i++)
    y[i] = (x[i] - mean) * inv * w[i] + b[i];
}

/* ---------------------------------------------------------------------------------------------
 * Depthwise 3×3 convolution + residual
 * ------------------------------------------------------------------------------------------- */

static void
k_dwconv3x3_row (const float *in, float *out, int H, int W, int C, int oy, const float *w9,
                 const float *bias)
{
  const gsize row = (gsize) W * C;
  for (int ox = 0; ox < W; ox++)
    {
      float *o = out + (gsize) oy * row + (gsize) ox * C;
      const float *center = in + (gsize) oy * row + (gsize) ox * C;
      int c = 0;
      for (; c + 8 <= C; c += 8)
        {
          v8f acc = load8 (bias + c);
          for (int ky = 0; ky < 3; ky++)
            {
              int iy = oy + ky - 1;
              if (iy < 0 || iy >= H)
                continue;
              for (int kx = 0; kx < 3; kx++)
                {
                  int ix = ox + kx - 1;
                  if (ix < 0 || ix >= W)
                    continue;
                  acc += load8 (in + (gsize) iy * row + (gsize) ix * C + c) *
                         load8 (w9 + (gsize) (ky * 3 + kx) * C + c);
                }
            }
          store8 (o + c, load8 (center + c) + acc);
        }
      for (; c < C; c++)
        {
          float acc = bias[c];
          for (int ky = 0; ky < 3; ky++)
            {
              int iy = oy + ky - 1;
              if (iy < 0 || iy >= H)
                continue;
              for (int kx = 0; kx < 3; kx++)
                {
                  int ix = ox + kx - 1;
                  if (ix < 0 || ix >= W)
                    continue;
                  acc += in[(gsize) iy * row + (gsize) ix * C + c] * w9[(ky * 3 + kx) * C + c];
                }
            }
          o[c] = center[c] + acc;
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Attention
 * ------------------------------------------------------------------------------------------- */

#define QB 4 /* query rows at a time */

#define ALWAYS_INLINE static inline __attribute__ ((always_inline))

/* scores [R × nk] (row stride ldsc) of R ≤ QB query rows against keys given transposed; R is
 * a constant where this is inlined, so that the accumulators stay in registers */
ALWAYS_INLINE void
scores_kt (const FlorenceCpuAttention *a, const float *q, const int R, float *sc, gsize ldsc)
{
  const int hd = a->hd;
  int j = 0;
  for (; j + 16 <= a->nk; j += 16)
    {
      v8f acc[QB][2];
      for (int i = 0; i < R; i++)
        acc[i][0] = acc[i][1] = V8 (0.0f);
      for (int c = 0; c < hd; c++)
        {
          const float *kr = a->kt + (gsize) c * a->ldkt + j;
          v8f k0 = load8 (kr), k1 = load8 (kr + 8);
          for (int i = 0; i < R; i++)
            {
              v8f qv = V8 (q[(gsize) i * a->ldq + c]);
              acc[i][0] += qv * k0;
              acc[i][1] += qv * k1;
            }
        }
      for (int i = 0; i < R; i++)
        {
          store8 (sc + (gsize) i * ldsc + j, acc[i][0]);
          store8 (sc + (gsize) i * ldsc + j + 8, acc[i][1]);
        }
    }
  for (; j < a->nk; j += 8)
    {
      gsize rest = (gsize) MIN (8, a->nk - j);
      v8f acc[QB];
      for (int i = 0; i < R; i++)
        acc[i] = V8 (0.0f);
      for (int c = 0; c < hd; c++)
        {
          const float *kr = a->kt + (gsize) c * a->ldkt + j;
          v8f kv = rest == 8 ? load8 (kr) : load_part (kr, rest);
          for (int i = 0; i < R; i++)
            acc[i] += V8 (q[(gsize) i * a->ldq + c]) * kv;
        }
      for (int i = 0; i < R; i++)
        store_part (sc + (gsize) i * ldsc + j, acc[i], rest);
    }
}

/* o rows i0 … i0 + R = p · v, scaled by inv; R constant where inlined */
ALWAYS_INLINE void
pv_rows (const FlorenceCpuAttention *a, const float *sc, gsize ldsc, const float *inv, const int R,
         int i0)
{
  const int hd = a->hd, nk = a->nk;
  int c = 0;
  for (; c + 16 <= hd; c += 16)
    {
      v8f acc[QB][2];
      for (int i = 0; i < R; i++)
        acc[i][0] = acc[i][1] = V8 (0.0f);
      for (int j = 0; j < nk; j++)
        {
          const float *vr = a->v + (gsize) j * a->ldv + c;
          v8f v0 = load8 (vr), v1 = load8 (vr + 8);
          for (int i = 0; i < R; i++)
            {
              v8f p = V8 (sc[(gsize) i * ldsc + j]);
              acc[i][0] += p * v0;
              acc[i][1] += p * v1;
            }
        }
      for (int i = 0; i < R; i++)
        {
          float *o = a->o + (gsize) (i0 + i) * a->ldo + c;
          store8 (o, acc[i][0] * V8 (inv[i]));
          store8 (o + 8, acc[i][1] * V8 (inv[i]));
        }
    }
  for (; c < hd; c += 8)
    {
      gsize w = (gsize) MIN (8, hd - c);
      v8f acc[QB];
      for (int i = 0; i < R; i++)
        acc[i] = V8 (0.0f);
      for (int j = 0; j < nk; j++)
        {
          v8f v0 = load_part (a->v + (gsize) j * a->ldv + c, w);
          for (int i = 0; i < R; i++)
            acc[i] += V8 (sc[(gsize) i * ldsc + j]) * v0;
        }
      for (int i = 0; i < R; i++)
        store_part (a->o + (gsize) (i0 + i) * a->ldo + c, acc[i] * V8 (inv[i]), w);
    }
}

static inline float
dot (const float *a, const float *b, int n)
{
  v8f s0 = V8 (0.0f), s1 = V8 (0.0f);
  int i = 0;
  for (; i + 16 <= n; i += 16)
    {
      s0 += load8 (a + i) * load8 (b + i);
      s1 += load8 (a + i + 8) * load8 (b + i + 8);
    }
  for (; i + 8 <= n; i += 8)
    s0 += load8 (a + i) * load8 (b + i);
  float s = hsum8 (s0 + s1);
  for (; i < n; i++)
    s += a[i] * b[i];
  return s;
}

/* p = exp(s - max) in place; returns 1 / Σ p */
static float
softmax_unnormalised (float *s, int n)
{
  float max = -INFINITY;
  int j = 0;
  v8f vm = V8 (-INFINITY);
  for (; j + 8 <= n; j += 8)
    vm = vmax (vm, load8 (s + j));
  for (int l = 0; l < 8; l++)
    max = MAX (max, vm[l]);
  for (; j < n; j++)
    max = MAX (max, s[j]);
  v8f acc = V8 (0.0f), m = V8 (max);
  for (j = 0; j + 8 <= n; j += 8)
    {
      v8f e = vexp (load8 (s + j) - m);
      store8 (s + j, e);
      acc += e;
    }
  if (j < n)
    {
      gsize rest = (gsize) (n - j);
      v8f e = vexp (load_part (s + j, rest) - m);
      for (gsize l = rest; l < 8; l++)
        e[l] = 0.0f;
      store_part (s + j, e, rest);
      acc += e;
    }
  return 1.0f / hsum8 (acc);
}

static void
k_attention (const FlorenceCpuAttention *a)
{
  const int hd = a->hd, nk = a->nk;
  const gsize ldsc = (gsize) ((nk + 7) / 8 * 8);
  float *sc = a->scratch;
  for (int i0 = 0; i0 < a->nq; i0 += QB)
    {
      const int r = MIN (QB, a->nq - i0);
      const float *q = a->q + (gsize) i0 * a->ldq;
      if (a->kt == NULL)
        for (int i = 0; i < r; i++)
          for (int j = 0; j < nk; j++)
            sc[(gsize) i * ldsc + j] = dot (q + (gsize) i * a->ldq, a->k + (gsize) j * a->ldk, hd);
      else if (r == 4)
        scores_kt (a, q, 4, sc, ldsc);
      else if (r == 3)
        scores_kt (a, q, 3, sc, ldsc);
      else if (r == 2)
        scores_kt (a, q, 2, sc, ldsc);
      else
        scores_kt (a, q, 1, sc, ldsc);
      float inv[QB];
      for (int i = 0; i < r; i++)
        inv[i] = softmax_unnormalised (sc + (gsize) i * ldsc, nk);
      if (r == 4)
        pv_rows (a, sc, ldsc, inv, 4, i0);
      else if (r == 3)
        pv_rows (a, sc, ldsc, inv, 3, i0);
      else if (r == 2)
        pv_rows (a, sc, ldsc, inv, 2, i0);
      else
        pv_rows (a, sc, ldsc, inv, 1, i0);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Matrix × few vectors (decoder steps)
 * ------------------------------------------------------------------------------------------- */

static inline v8f
loadw_f32 (const float *p)
{
  return load8 (p);
}

static inline float
w1_f32 (const float *p)
{
  return *p;
}

static inline v8f
loadw_f16 (const guint16 *p)
{
  return load8_f16 (p);
}

static inline float
w1_f16 (const guint16 *p)
{
  return half_to_float (*p);
}

/* NB rows of x against NJ rows of w at a time; NB × NJ accumulators */
#define DEFINE_GEMV_TILE(NAME, WT, LOADW, W1, NB, NJ)                                              \
  static inline void NAME (const float *x, gsize ldx, const WT *w, gsize K, gsize j,               \
                           const float *bias, float *y, gsize ldy, gboolean accumulate)            \
  {                                                                                                \
    v8f acc[NB][NJ];                                                                               \
    for (int b = 0; b < NB; b++)                                                                   \
      for (int jj = 0; jj < NJ; jj++)                                                              \
        acc[b][jj] = V8 (0.0f);                                                                    \
    gsize k = 0;                                                                                   \
    for (; k + 8 <= K; k += 8)                                                                     \
      {                                                                                            \
        v8f wv[NJ];                                                                                \
        for (int jj = 0; jj < NJ; jj++)                                                            \
          wv[jj] = LOADW (w + (j + jj) * K + k);                                                   \
        for (int b = 0; b < NB; b++)                                                               \
          {                                                                                        \
            v8f xv = load8 (x + b * ldx + k);                                                      \
            for (int jj = 0; jj < NJ; jj++)                                                        \
              acc[b][jj] += xv * wv[jj];                                                           \
          }                                                                                        \
      }                                                                                            \
    for (int b = 0; b < NB; b++)                                                                   \
      for (int jj = 0; jj < NJ; jj++)                                                              \
        {                                                                                          \
          float s = hsum8 (acc[b][jj]);                                                            \
          for (gsize kk = k; kk < K; kk++)                                                         \
            s += x[b * ldx + kk] * W1 (w + (j + jj) * K + kk);                                     \
          if (bias != NULL)                                                                        \
            s += bias[j + jj];                                                                     \
          float *dst = y + b * ldy + j + jj;                                                       \
          *dst = accumulate ? *dst + s : s;                                                        \
        }                                                                                          \
  }

#define DEFINE_GEMV(NAME, WT, LOADW, W1)                                                           \
  DEFINE_GEMV_TILE (NAME##_1x4, WT, LOADW, W1, 1, 4)                                               \
  DEFINE_GEMV_TILE (NAME##_2x4, WT, LOADW, W1, 2, 4)                                               \
  DEFINE_GEMV_TILE (NAME##_3x4, WT, LOADW, W1, 3, 4)                                               \
  DEFINE_GEMV_TILE (NAME##_4x2, WT, LOADW, W1, 4, 2)                                               \
  DEFINE_GEMV_TILE (NAME##_1x1, WT, LOADW, W1, 1, 1)                                               \
  static void NAME (const float *x, gsize ldx, guint B, const WT *w, gsize K, gsize j0, gsize j1,  \
                    const float *bias, float *y, gsize ldy, gboolean accumulate)                   \
  {                                                                                                \
    for (guint b = 0; b < B;)                                                                      \
      {                                                                                            \
        const float *xb = x + b * ldx;                                                             \
        float *yb = y + b * ldy;                                                                   \
        guint nb = MIN (B - b, 4u);                                                                \
        gsize j = j0;                                                                              \
        if (nb == 4)                                                                               \
          for (; j + 2 <= j1; j += 2)                                                              \
            NAME##_4x2 (xb, ldx, w, K, j, bias, yb, ldy, accumulate);                              \
        else if (nb == 3)                                                                          \
          for (; j + 4 <= j1; j += 4)                                                              \
            NAME##_3x4 (xb, ldx, w, K, j, bias, yb, ldy, accumulate);                              \
        else if (nb == 2)                                                                          \
          for (; j + 4 <= j1; j += 4)                                                              \
            NAME##_2x4 (xb, ldx, w, K, j, bias, yb, ldy, accumulate);                              \
        else                                                                                       \
          for (; j + 4 <= j1; j += 4)                                                              \
            NAME##_1x4 (xb, ldx, w, K, j, bias, yb, ldy, accumulate);                              \
        for (; j < j1; j++)                                                                        \
          for (guint bb = 0; bb < nb; bb++)                                                        \
            NAME##_1x1 (xb + bb * ldx, ldx, w, K, j, bias, yb + bb * ldy, ldy, accumulate);        \
        b += nb;                                                                                   \
      }                                                                                            \
  }

DEFINE_GEMV (k_gemv_f32, float, loadw_f32, w1_f32)
DEFINE_GEMV (k_gemv_f16, guint16, loadw_f16, w1_f16)

/* ---------------------------------------------------------------------------------------------
 * Reductions for the log-softmax of the candidates
 * ------------------------------------------------------------------------------------------- */

static float
k_max (const float *x, gsize n)
{
  v8f m = V8 (-INFINITY);
  gsize i = 0;
  for (; i + 8 <= n; i += 8)
    m = vmax (m, load8 (x + i));
  float r = -INFINITY;
  for (int l = 0; l < 8; l++)
    r = MAX (r, m[l]);
  for (; i < n; i++)
    r = MAX (r, x[i]);
  return r;
}

static double
k_sum_exp (const float *x, gsize n, float max)
{
  double total = 0.0;
  v8f m = V8 (max);
  gsize i = 0;
  while (i + 8 <= n)
    {
      /* float partial sums over 256 values, then double */
      v8f acc = V8 (0.0f);
      gsize end = MIN (n, i + 256);
      for (; i + 8 <= end; i += 8)
        acc += vexp (load8 (x + i) - m);
      for (int l = 0; l < 8; l++)
        total += (double) acc[l];
    }
  for (; i < n; i++)
    total += exp ((double) (x[i] - max));
  return total;
}

/* ------------------------------------------------------------------------------------------- */

const FlorenceCpuKernels TABLE = {
  .name = KERNELS_NAME,
  .f16_to_f32 = k_f16_to_f32,
  .layernorm = k_layernorm,
  .add_bias = k_add_bias,
  .bias_gelu = k_bias_gelu,
  .add = k_add,
  .dwconv3x3_row = k_dwconv3x3_row,
  .attention = k_attention,
  .gemv_f16 = k_gemv_f16,
  .gemv_f32 = k_gemv_f32,
  .max = k_max,
  .sum_exp = k_sum_exp,
};

#if !defined(KERNELS_AVX2)

gsize
florence_cpu_attention_scratch (int nk)
{
  return (gsize) QB * (gsize) ((nk + 7) / 8 * 8);
}

#if defined(HAVE_KERNELS_AVX2)
extern const FlorenceCpuKernels florence_cpu_kernels_table_avx2;
#endif

const FlorenceCpuKernels *
florence_cpu_kernels_generic (void)
{
  return &TABLE;
}

const FlorenceCpuKernels *
florence_cpu_kernels_avx2 (void)
{
#if defined(HAVE_KERNELS_AVX2)
  static gsize supported = 0;
  if (g_once_init_enter (&supported))
    {
      /* F16C from CPUID: clang before 16 knows no "f16c" for __builtin_cpu_supports. */
      unsigned int eax = 0, ebx = 0, ecx = 0, edx = 0;
      gboolean f16c = __get_cpuid (1, &eax, &ebx, &ecx, &edx) && (ecx & bit_F16C) != 0;
      __builtin_cpu_init ();
      gboolean ok = __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma") && f16c;
      g_once_init_leave (&supported, ok ? 2 : 1);
    }
  return supported == 2 ? &florence_cpu_kernels_table_avx2 : NULL;
#else
  return NULL;
#endif
}

const FlorenceCpuKernels *
florence_cpu_kernels_get (void)
{
  const FlorenceCpuKernels *k = florence_cpu_kernels_avx2 ();
  if (k != NULL && g_strcmp0 (g_getenv ("DEPICT_CPU_KERNELS"), "generic") == 0)
    k = NULL;
  return k != NULL ? k : &TABLE;
}

#endif
