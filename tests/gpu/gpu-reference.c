/* gpu-reference.c: plain C reference implementations of the GPU op library
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "gpu-reference.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void
gpu_reference_layernorm (const float *x, const float *res, const float *w, const float *b,
                         float eps, size_t rows, size_t c, float *y)
{
  double *t = malloc (c * sizeof *t);
  for (size_t r = 0; r < rows; r++)
    {
      double mean = 0, var = 0;
      for (size_t i = 0; i < c; i++)
        {
          /* the sum is rounded to fp32, as the GPU stores it */
          t[i] = res ? (double) (x[r * c + i] + res[r * c + i]) : x[r * c + i];
          mean += t[i];
        }
      mean /= (double) c;
      for (size_t i = 0; i < c; i++)
        var += (t[i] - mean) * (t[i] - mean);
      var /= (double) c;
      double inv = 1.0 / sqrt (var + eps);
      for (size_t i = 0; i < c; i++)
        y[r * c + i] = (float) ((t[i] - mean) * inv * w[i] + b[i]);
    }
  free (t);
}

void
gpu_reference_softmax (const float *x, size_t rows, size_t n, float *y)
{
  for (size_t r = 0; r < rows; r++)
    {
      const float *xr = x + r * n;
      double m = -INFINITY, s = 0;
      for (size_t i = 0; i < n; i++)
        m = fmax (m, xr[i]);
      for (size_t i = 0; i < n; i++)
        s += exp (xr[i] - m);
      for (size_t i = 0; i < n; i++)
        y[r * n + i] = (float) (exp (xr[i] - m) / s);
    }
}

void
gpu_reference_gelu (const float *x, size_t n, float *y)
{
  for (size_t i = 0; i < n; i++)
    y[i] = (float) (0.5 * x[i] * (1.0 + erf (x[i] / sqrt (2.0))));
}

void
gpu_reference_add (const float *a, const float *b, size_t n, float *y)
{
  for (size_t i = 0; i < n; i++)
    y[i] = a[i] + b[i];
}

void
gpu_reference_scale_bias (const float *x, size_t rows, size_t c, float scale, const float *bias,
                          float *y)
{
  for (size_t r = 0; r < rows; r++)
    for (size_t i = 0; i < c; i++)
      y[r * c + i] = (float) ((double) x[r * c + i] * scale + (bias ? bias[i] : 0.0));
}

void
gpu_reference_conv2d (const float *in, int in_tokens, size_t cin, size_t h, size_t w,
                      const float *weight, const float *bias, size_t cout, size_t k, size_t stride,
                      size_t pad, float *out, size_t *out_h, size_t *out_w)
{
  size_t ho = (h + 2 * pad - k) / stride + 1;
  size_t wo = (w + 2 * pad - k) / stride + 1;
  for (size_t oy = 0; oy < ho; oy++)
    for (size_t ox = 0; ox < wo; ox++)
      for (size_t co = 0; co < cout; co++)
        {
          double acc = bias ? bias[co] : 0.0;
          for (size_t ci = 0; ci < cin; ci++)
            for (size_t ky = 0; ky < k; ky++)
              for (size_t kx = 0; kx < k; kx++)
                {
                  long iy = (long) (oy * stride + ky) - (long) pad;
                  long ix = (long) (ox * stride + kx) - (long) pad;
                  if (iy < 0 || ix < 0 || iy >= (long) h || ix >= (long) w)
                    continue;
                  float v = in_tokens ? in[((size_t) iy * w + (size_t) ix) * cin + ci]
                                      : in[(ci * h + (size_t) iy) * w + (size_t) ix];
                  acc += (double) v * weight[((co * cin + ci) * k + ky) * k + kx];
                }
          out[(oy * wo + ox) * cout + co] = (float) acc;
        }
  if (out_h)
    *out_h = ho;
  if (out_w)
    *out_w = wo;
}

void
gpu_reference_dwconv3x3_residual (const float *x, size_t h, size_t w, size_t c, const float *weight,
                                  const float *bias, float *y)
{
  for (size_t oy = 0; oy < h; oy++)
    for (size_t ox = 0; ox < w; ox++)
      for (size_t ch = 0; ch < c; ch++)
        {
          double acc = bias[ch];
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
              {
                long iy = (long) oy + ky - 1, ix = (long) ox + kx - 1;
                if (iy < 0 || ix < 0 || iy >= (long) h || ix >= (long) w)
                  continue;
                acc += (double) x[((size_t) iy * w + (size_t) ix) * c + ch] *
                       weight[ch * 9 + (size_t) (ky * 3 + kx)];
              }
          size_t o = (oy * w + ox) * c + ch;
          /* the convolution is rounded to fp32 before the residual, as on the GPU */
          y[o] = x[o] + (float) acc;
        }
}

/* One query against n keys: softmax (q·k_j) v_j, all in double. kv(j, part) returns the row
 * of key (part 1) or value (part 2) j, already offset to the head's channels. */
typedef const float *(*RefKvFunc) (const void *data, size_t j, int part);

static void
reference_attend (const double *q, size_t hd, size_t n, const unsigned char *allowed, RefKvFunc kv,
                  const void *data, float *out)
{
  double *s = malloc ((n ? n : 1) * sizeof *s);
  double m = -INFINITY, sum = 0;
  for (size_t j = 0; j < n; j++)
    {
      if (allowed && !allowed[j])
        continue;
      const float *kr = kv (data, j, 1);
      double d = 0;
      for (size_t e = 0; e < hd; e++)
        d += q[e] * kr[e];
      s[j] = d;
      m = fmax (m, d);
    }
  for (size_t j = 0; j < n; j++)
    if (!allowed || allowed[j])
      {
        s[j] = exp (s[j] - m);
        sum += s[j];
      }
  for (size_t e = 0; e < hd; e++)
    {
      double acc = 0;
      for (size_t j = 0; j < n; j++)
        if (!allowed || allowed[j])
          acc += s[j] * kv (data, j, 2)[e];
      out[e] = (float) (sum > 0 ? acc / sum : 0.0);
    }
  free (s);
}

typedef struct {
  const float *qkv, *bias;
  size_t h, w, c, ws, head, hd, wy, wx;
} WindowCtx;

static const float *
window_kv (const void *data, size_t j, int part)
{
  const WindowCtx *ctx = data;
  size_t y = ctx->wy * ctx->ws + j / ctx->ws, x = ctx->wx * ctx->ws + j % ctx->ws;
  size_t off = (size_t) part * ctx->c + ctx->head * ctx->hd;
  if (y >= ctx->h || x >= ctx->w)
    return ctx->bias + off;
  return ctx->qkv + (y * ctx->w + x) * 3 * ctx->c + off;
}

void
gpu_reference_window_attention (const float *qkv, const float *qkv_bias, size_t h, size_t w,
                                size_t c, size_t heads, size_t ws, float *out)
{
  size_t hd = c / heads;
  double scale = 1.0 / sqrt ((double) hd);
  double *q = malloc (hd * sizeof *q);
  WindowCtx ctx = { qkv, qkv_bias, h, w, c, ws, 0, hd, 0, 0 };
  for (size_t y = 0; y < h; y++)
    for (size_t x = 0; x < w; x++)
      for (size_t head = 0; head < heads; head++)
        {
          const float *qr = qkv + (y * w + x) * 3 * c + head * hd;
          for (size_t e = 0; e < hd; e++)
            q[e] = (double) (float) (qr[e] * (float) scale);
          ctx.head = head;
          ctx.wy = y / ws;
          ctx.wx = x / ws;
          reference_attend (q, hd, ws * ws, NULL, window_kv, &ctx,
                            out + (y * w + x) * c + head * hd);
        }
  free (q);
}

void
gpu_reference_channel_attention (const float *qkv, size_t n, size_t c, size_t groups, float *out)
{
  size_t gw = c / groups;
  double scale = 1.0 / sqrt ((double) n);
  double *a = malloc (gw * gw * sizeof *a);
  for (size_t g = 0; g < groups; g++)
    {
      for (size_t i = 0; i < gw; i++)
        {
          double m = -INFINITY, s = 0;
          for (size_t j = 0; j < gw; j++)
            {
              double acc = 0;
              for (size_t t = 0; t < n; t++)
                acc += (double) qkv[t * 3 * c + g * gw + i] * qkv[t * 3 * c + c + g * gw + j];
              a[i * gw + j] = acc * scale;
              m = fmax (m, a[i * gw + j]);
            }
          for (size_t j = 0; j < gw; j++)
            {
              a[i * gw + j] = exp (a[i * gw + j] - m);
              s += a[i * gw + j];
            }
          for (size_t j = 0; j < gw; j++)
            a[i * gw + j] /= s;
        }
      for (size_t t = 0; t < n; t++)
        for (size_t i = 0; i < gw; i++)
          {
            double acc = 0;
            for (size_t j = 0; j < gw; j++)
              acc += a[i * gw + j] * qkv[t * 3 * c + 2 * c + g * gw + j];
            out[t * c + g * gw + i] = (float) acc;
          }
    }
  free (a);
}

typedef struct {
  const float *k, *v;
  size_t k_stride, v_stride;
} MhaCtx;

static const float *
mha_kv (const void *data, size_t j, int part)
{
  const MhaCtx *ctx = data;
  return part == 1 ? ctx->k + j * ctx->k_stride : ctx->v + j * ctx->v_stride;
}

void
gpu_reference_attention (const float *q, size_t q_stride, size_t q_bstride, const float *k,
                         size_t k_stride, const float *v, size_t v_stride, size_t kv_bstride,
                         float *out, size_t out_stride, size_t out_bstride, size_t batch,
                         size_t n_q, size_t n_kv, size_t heads, size_t hd, float scale, int causal)
{
  double *qd = malloc (hd * sizeof *qd);
  unsigned char *allowed = malloc (n_kv ? n_kv : 1);
  for (size_t b = 0; b < batch; b++)
    for (size_t i = 0; i < n_q; i++)
      for (size_t h = 0; h < heads; h++)
        {
          const float *qr = q + b * q_bstride + i * q_stride + h * hd;
          for (size_t e = 0; e < hd; e++)
            qd[e] = (double) (float) (qr[e] * scale);
          for (size_t j = 0; j < n_kv; j++)
            allowed[j] = !causal || j + n_q <= i + n_kv;
          MhaCtx ctx = { k + b * kv_bstride + h * hd, v + b * kv_bstride + h * hd, k_stride,
                         v_stride };
          reference_attend (qd, hd, n_kv, allowed, mha_kv, &ctx,
                            out + b * out_bstride + i * out_stride + h * hd);
        }
  free (allowed);
  free (qd);
}

void
gpu_reference_embedding (const float *table, size_t d, const int32_t *ids, size_t n,
                         const float *pos, size_t pos_start, size_t pos_step, float *out)
{
  for (size_t i = 0; i < n; i++)
    for (size_t e = 0; e < d; e++)
      out[i * d + e] =
        table[(size_t) ids[i] * d + e] + (pos ? pos[(pos_start + i * pos_step) * d + e] : 0.0f);
}

void
gpu_reference_pos2d (const float *x, size_t h, size_t w, size_t d, const float *col,
                     const float *row, const float *temporal, float *out)
{
  size_t half = d / 2;
  for (size_t y = 0; y < h; y++)
    for (size_t xx = 0; xx < w; xx++)
      for (size_t e = 0; e < d; e++)
        {
          size_t i = (y * w + xx) * d + e;
          float p = e < half ? col[xx * half + e] : row[y * half + (e - half)];
          /* same association as the shader: (x + p) + t */
          float v = x[i] + p;
          out[i] = temporal ? v + temporal[e] : v;
        }
}

void
gpu_reference_mean_rows (const float *x, size_t n, size_t d, float *out)
{
  for (size_t e = 0; e < d; e++)
    {
      double acc = 0;
      for (size_t i = 0; i < n; i++)
        acc += x[i * d + e];
      out[e] = (float) (acc / (double) n);
    }
}

void
gpu_reference_cache_reorder (const float *src, const int32_t *beam, size_t beams, size_t cap,
                             size_t t, size_t d, float *dst)
{
  for (size_t b = 0; b < beams; b++)
    memcpy (dst + b * cap * d, src + (size_t) beam[b] * cap * d, t * d * sizeof *dst);
}

void
gpu_reference_logits_topk (const float *logits, size_t n, const int32_t *bans, size_t n_bans,
                           int32_t forced, size_t k, int32_t *ids, float *vals, float *max,
                           float *lse)
{
  double m = -INFINITY, s = 0;
  for (size_t i = 0; i < n; i++)
    m = fmax (m, logits[i]);
  for (size_t i = 0; i < n; i++)
    s += exp ((double) logits[i] - m);
  double l = m + log (s);
  *max = (float) m;
  *lse = (float) l;

  /* selection by repeated scan: k is small */
  unsigned char *taken = calloc (n, 1);
  for (size_t r = 0; r < k; r++)
    {
      long best = -1;
      double bv = 0;
      for (size_t i = 0; i < n; i++)
        {
          if (taken[i])
            continue;
          double v;
          if (forced >= 0)
            v = (int32_t) i == forced ? 0.0 : -INFINITY;
          else
            {
              v = (double) logits[i] - l;
              for (size_t j = 0; j < n_bans; j++)
                if (bans[j] == (int32_t) i)
                  v = -INFINITY;
            }
          if (best < 0 || v > bv) /* strict: ties keep the smaller id */
            {
              best = (long) i;
              bv = v;
            }
        }
      if (best < 0)
        {
          ids[r] = -1;
          vals[r] = -INFINITY;
          continue;
        }
      taken[best] = 1;
      ids[r] = (int32_t) best;
      vals[r] = (float) bv;
    }
  free (taken);
}
