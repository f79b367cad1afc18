/* gpu-op-attention.h: window, channel-group and multi-head attention; KV-cache reorder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conventions as in gpu-op-norm.h. Head dimension and channel-group width are at most
 * GPU_OP_ATTENTION_MAX_HEAD_DIM and multiples of 4 (the attention shaders read vec4
 * texels; each head dimension compiles its own pipeline, 1–8 s on lavapipe the first time,
 * then from the pipeline cache). All softmaxes are fp32 with a running max.
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

#define GPU_OP_ATTENTION_MAX_HEAD_DIM 64
#define GPU_OP_ATTENTION_MAX_BEAMS 16

/* DaViT window attention. @qkv: the [h·w, 3c] output of the qkv Linear (q | k | v; head i
 * at channels i·hd .. i·hd + hd − 1 of each part, hd = c / heads). Softmax ((q · hd^-0.5) kᵀ)
 * v per window × window block of the grid. A grid that is not a multiple of @window is padded
 * right/bottom with zero tokens that are NOT masked: their k and v are the Linear's bias,
 * @qkv_bias [3c]. @out: [h·w, c] in token order (heads concatenated). */
void gpu_op_attention_window (GpuRecorder *recorder, GpuBuffer *qkv, GpuBuffer *qkv_bias,
                              gboolean bias_f16, guint h, guint w, guint c, guint heads,
                              guint window, GpuBuffer *out);

/* Bytes of the @scratch buffer gpu_op_attention_channel() needs (split-K partial Gram
 * matrices, then the attention matrices). */
guint64 gpu_op_attention_channel_scratch_size (GpuDevice *device, guint n, guint c, guint groups);

/* DaViT channel-group attention over all @n tokens: for each group g of gw = c / groups
 * channels, A_g = softmax_row ((Q_g · n^-0.5)ᵀ K_g) (gw × gw, fp32 split-K reduction over the
 * tokens), out[t, g·gw + i] = Σ_j A_g[i, j] V_g[t, j]. @qkv: [n, 3c]; @out: [n, c]. Three
 * dispatches. */
void gpu_op_attention_channel (GpuRecorder *recorder, GpuBuffer *qkv, guint n, guint c,
                               guint groups, GpuBuffer *scratch, GpuBuffer *out);

/* Rows of a matrix inside a buffer, in elements: row r of batch b starts at
 * offset + b·batch_stride + r·row_stride. batch_stride 0 shares the rows across batches.
 * For gpu_op_attention() all three must be multiples of 4. */
typedef struct {
  GpuBuffer *buffer;
  guint64 offset;
  guint row_stride;
  guint batch_stride;
} GpuRows;

/* Batched multi-head attention. For batch b < batch, query i < n_q, head h < heads:
 *   out[b, i, h·hd + e] = Σ_j softmax_j ((q[b, i, h·hd..] · scale) · k[b, j, h·hd..]) v[b, j, h·hd
 * + e] over keys j < n_kv; with @causal only j ≤ i + n_kv − n_q (the queries are the last n_q
 * positions). Uses:
 *  - BART encoder self-attention: q, k, v column slices of one [L, 3d] projection
 *    (row_stride 3d, offsets 0, d, 2d), batch 1, n_q = n_kv = L, scale hd^-0.5;
 *  - decoder self-attention against the KV cache: batch = beams, q rows [beams, d]
 *    (batch_stride d), k/v in caches of cap rows per beam (batch_stride cap·d), n_q = 1,
 *    n_kv = t (the current length, new row included), causal irrelevant for n_q = 1;
 *  - cross-attention: k/v precomputed once, batch_stride 0 (shared by all beams). */
typedef struct {
  GpuRows q, k, v, out;
  guint batch;
  guint n_q;
  guint n_kv;
  guint heads;
  guint head_dim;
  float scale;
  gboolean causal;
} GpuAttention;

void gpu_op_attention (GpuRecorder *recorder, const GpuAttention *args);

/* The decoder's self-attention in a step whose recording is replayed (attention_decode.comp built
 * with SELF_CACHE): for beam b < beams and head h, with t = ctl[pos_word] (int32, written by the
 * host before each replay):
 *   out[b, h·hd..] = softmax_j ((q_b · scale) · K_b[j]) V_b[j] over j ≤ t, where q_b, and the new
 *   K_b[t] and V_b[t], are columns 0, d and 2d of row b of @qkv [beams, 3d], and for j < t
 *   K_b[j] = k_cache[table[b, j], j] (likewise V): the cache row that beam table[b, j] wrote at
 *   position j. The new key and value are written to the caches at (b, t).
 * Caches: [beams, cap, d] fp32; @table: int32 [beams, cap]; t < cap. */
typedef struct {
  GpuBuffer *qkv;
  GpuBuffer *k_cache, *v_cache;
  GpuBuffer *table;
  GpuBuffer *ctl;
  guint pos_word;
  GpuBuffer *out; /* [beams, d] */
  guint beams, cap, heads, head_dim;
  float scale;
} GpuAttentionStep;

void gpu_op_attention_step (GpuRecorder *recorder, const GpuAttentionStep *args);

/* Beam-search cache reorder: dst[b, 0..t, :] = src[beam[b], 0..t, :] for b < beams, where
 * each beam owns @cap rows of @d elements (beam b starts at row b·cap). Out of place. */
void gpu_op_kv_cache_reorder (GpuRecorder *recorder, GpuBuffer *src, GpuBuffer *dst, guint beams,
                              const guint *beam, guint cap, guint t, guint d);

G_END_DECLS
