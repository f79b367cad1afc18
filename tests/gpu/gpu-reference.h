/* gpu-reference.h: plain C reference implementations of the GPU op library
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every function here computes in double (or fp32 where the order of operations does
 * not matter) from fp32 inputs, with no attempt at speed: it is the ground truth the op
 * tests compare against, and a debugging aid for the model code. Layouts match the GPU
 * ops exactly (see src/gpu/gpu-op-*.h); "tokens" means a row-major [H·W, C] grid with
 * channels last. Weights are fp32 here: tests that upload fp16 weights round them to fp16
 * first, so that the comparison is exact up to fp32 arithmetic.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* y[r, :] = LayerNorm (x[r, :] + res[r, :]) · w + b; res may be NULL; y may alias x. */
void gpu_reference_layernorm (const float *x, const float *res, const float *w, const float *b,
                              float eps, size_t rows, size_t c, float *y);
/* y[r, :] = softmax (x[r, :]) */
void gpu_reference_softmax (const float *x, size_t rows, size_t n, float *y);
/* y = x · 0.5 · (1 + erf (x / √2)) */
void gpu_reference_gelu (const float *x, size_t n, float *y);
/* y = a + b */
void gpu_reference_add (const float *a, const float *b, size_t n, float *y);
/* y[r, c] = x[r, c] · scale + bias[c] (bias may be NULL) */
void gpu_reference_scale_bias (const float *x, size_t rows, size_t c, float scale,
                               const float *bias, float *y);

/* Dense 2-D convolution with bias. in is CHW (in_tokens = 0) or tokens [H·W, cin]
 * (in_tokens = 1); weight is PyTorch's [cout, cin, k, k]; out is tokens [Ho·Wo, cout]. */
void gpu_reference_conv2d (const float *in, int in_tokens, size_t cin, size_t h, size_t w,
                           const float *weight, const float *bias, size_t cout, size_t k,
                           size_t stride, size_t pad, float *out, size_t *out_h, size_t *out_w);
/* y = x + dwconv3x3 (x) + bias on tokens [H·W, c]; weight [c, 1, 3, 3]. */
void gpu_reference_dwconv3x3_residual (const float *x, size_t h, size_t w, size_t c,
                                       const float *weight, const float *bias, float *y);

/* Window attention: qkv [H·W, 3C] (q | k | v, head h at channels h·hd..), qkv_bias [3C]
 * (the q/k/v of the zero tokens that pad the grid to multiples of ws), out [H·W, C]. */
void gpu_reference_window_attention (const float *qkv, const float *qkv_bias, size_t h, size_t w,
                                     size_t c, size_t heads, size_t ws, float *out);
/* DaViT channel attention: qkv [N, 3C], groups of C/groups channels, scale N^-0.5. */
void gpu_reference_channel_attention (const float *qkv, size_t n, size_t c, size_t groups,
                                      float *out);

/* Multi-head attention, batched: for batch b, query row i of q (at q + b·q_bstride +
 * i·q_stride), head h (channels h·hd..), keys/values rows j < n_kv of k/v (at k + b·kv_bstride +
 * j·k_stride); scores scaled by scale; with causal, key j is allowed iff
 * j ≤ i + n_kv − n_q. out row at out + b·out_bstride + i·out_stride. */
void gpu_reference_attention (const float *q, size_t q_stride, size_t q_bstride, const float *k,
                              size_t k_stride, const float *v, size_t v_stride, size_t kv_bstride,
                              float *out, size_t out_stride, size_t out_bstride, size_t batch,
                              size_t n_q, size_t n_kv, size_t heads, size_t hd, float scale,
                              int causal);

/* out[i, :] = table[ids[i], :] + pos[pos_start + i·pos_step, :] (pos may be NULL) */
void gpu_reference_embedding (const float *table, size_t d, const int32_t *ids, size_t n,
                              const float *pos, size_t pos_start, size_t pos_step, float *out);
/* out[y·W + x, :] = x[..] + concat (col[x] (d/2), row[y] (d/2)) + temporal[:] (temporal may
 * be NULL) */
void gpu_reference_pos2d (const float *x, size_t h, size_t w, size_t d, const float *col,
                          const float *row, const float *temporal, float *out);
/* out[:] = mean over the n rows of x [n, d] */
void gpu_reference_mean_rows (const float *x, size_t n, size_t d, float *out);
/* dst[b, 0..t, :] = src[beam[b], 0..t, :] with rows of width d and row capacity cap per beam */
void gpu_reference_cache_reorder (const float *src, const int32_t *beam, size_t beams, size_t cap,
                                  size_t t, size_t d, float *dst);

/* Log-softmax of one row of n logits, the row's bans (ids set to -inf) or forced id (all -inf
 * except forced = 0; forced < 0: none), then the k best (value descending, ties toward the
 * smaller id). Writes ids[k], vals[k], *max (largest logit) and *lse (log Σ exp logits, of
 * the raw logits before bans). */
void gpu_reference_logits_topk (const float *logits, size_t n, const int32_t *bans, size_t n_bans,
                                int32_t forced, size_t k, int32_t *ids, float *vals, float *max,
                                float *lse);
