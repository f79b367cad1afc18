/* gpu-abi.h: what the compute shaders and src/gpu agree on: push constants and flag bits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Included by the shaders (GLSL: #include "gpu-abi.h" with GL_GOOGLE_include_directive) and by
 * the op wrappers in src/gpu (C: #include "gpu-abi.h"). Each push-constant block is written
 * once, as a list of 32-bit fields (uint or float: std430 and C lay them out alike):
 *   GLSL  layout (push_constant) uniform Push { GPU_PUSH_GEMM } p;
 *   C     GpuPushGemm push = { .M = m, … };  gpu_op_util_pipeline (…, sizeof push, …)
 * The C side checks at compile time that every block fits 128 bytes (the least Vulkan
 * guarantees, and lavapipe's limit); gpu_device_get_pipeline() checks the size against the
 * device's maxPushConstantsSize when it builds a pipeline.
 */
#ifndef DEPICT_GPU_ABI_H
#define DEPICT_GPU_ABI_H

#ifdef GL_core_profile
#define ABI_U32 uint
#define ABI_F32 float
#else
#include <stdint.h>
#define ABI_U32 uint32_t
#define ABI_F32 float
#endif

/* ---------------------------------------------------------------------------------------
 * Flag bits
 * ------------------------------------------------------------------------------------- */

/* The ops' `flags` push constant (ops-weights.glsl reads weights by them): weight tensor 0, 1
 * or 2 is fp16; optional input 0 or 1 is present (or, per op, a mode: see its shader). */
#define GPU_ABI_F16_0 1u
#define GPU_ABI_F16_1 2u
#define GPU_ABI_F16_2 4u
#define GPU_ABI_HAS_0 8u
#define GPU_ABI_HAS_1 16u

/* GEMM epilogue (the `flags` push constant of GPU_PUSH_GEMM): + bias[n], exact GELU, + the
 * residual, in that order. */
#define GPU_ABI_GEMM_BIAS 1u
#define GPU_ABI_GEMM_GELU 2u
#define GPU_ABI_GEMM_RESIDUAL 4u
/* GEMM W operand (specialization constant WTYPE of the storage-buffer kernels): IEEE halves */
#define GPU_ABI_GEMM_W16 1u

/* ---------------------------------------------------------------------------------------
 * Push constants (offsets and strides in elements of their binding unless said otherwise)
 * ------------------------------------------------------------------------------------- */

/* gemm_texel, gemm_tiled, gemv, gemm_coopmat: C[b][m][n] = epilogue (alpha · A·Wᵀ) */
#define GPU_PUSH_GEMM                                                                       \
  ABI_U32 M, N, K;                                                                          \
  ABI_U32 lda, ldw, ldc, ldr;                                                               \
  ABI_U32 a_off, w_off, c_off, bias_off, r_off;                                             \
  ABI_U32 a_bs, w_bs, c_bs, r_bs; /* batch strides */                                       \
  ABI_F32 alpha;                                                                            \
  ABI_U32 flags; /* GPU_ABI_GEMM_* */

/* runtime_axpy: y = a·x + b·y + c */
#define GPU_PUSH_AXPY                                                                       \
  ABI_U32 n, x_off, y_off;                                                                  \
  ABI_F32 a, b, c;

/* add, gelu: n elements */
#define GPU_PUSH_N ABI_U32 n;

/* softmax over rows */
#define GPU_PUSH_SOFTMAX ABI_U32 rows, n;

/* layernorm (scalar): flags F16_0 (w, b fp16), HAS_0 (res added first) */
#define GPU_PUSH_LAYERNORM                                                                  \
  ABI_U32 rows, c, flags;                                                                   \
  ABI_F32 eps;

/* layernorm_vec4, layernorm_wg: x_off in texels of the x and res views, y_off in vec4 */
#define GPU_PUSH_LAYERNORM4                                                                 \
  ABI_U32 rows, c4, has_res;                                                                \
  ABI_F32 eps;                                                                              \
  ABI_U32 x_off, y_off;

/* scale_bias: y = x·scale (+ bias[c]); flags F16_0 (bias fp16), HAS_0 (bias present) */
#define GPU_PUSH_SCALE_BIAS                                                                 \
  ABI_U32 n, c, flags;                                                                      \
  ABI_F32 scale;

/* copy_rows */
#define GPU_PUSH_COPY_ROWS ABI_U32 rows, cols, src_off, src_stride, dst_off, dst_stride;

/* conv2d (direct): flags F16_0 (weight, bias fp16), HAS_0 (input is tokens, else CHW); output
 * pixels pix0 … pix0 + npix of this piece at out_off */
#define GPU_PUSH_CONV2D                                                                     \
  ABI_U32 cin, h, w, cout, k, stride, pad, ho, wo, flags, pix0, npix, out_off;

/* im2col: tokens 1 = input [H·W, cin], 0 = CHW; row0: the input row at in_off */
#define GPU_PUSH_IM2COL                                                                     \
  ABI_U32 cin, h, w, k, stride, pad, ho, wo, tokens, pix0, npix, row0, in_off, out_off;

/* dwconv3x3 (scalar): flags F16_0 (weight, bias fp16) */
#define GPU_PUSH_DWCONV ABI_U32 h, w, c, flags;

/* dwconv3x3_vec4: output rows row0 … row0 + rows of this piece; x_row0: the token row at texel
 * x_off of the x view; y_off in vec4 */
#define GPU_PUSH_DWCONV4 ABI_U32 h, w, c4, row0, rows, x_row0, x_off, y_off;

/* attention_window, attention_window_flash: flags F16_0 (qkv_bias fp16); a band of windows
 * from win0, its tokens from tok0 at texel qkv_off and vec4 out_off */
#define GPU_PUSH_ATTENTION_WINDOW                                                           \
  ABI_U32 h, w, c, ws, wins_x, flags;                                                       \
  ABI_F32 scale;                                                                            \
  ABI_U32 win0, tok0, qkv_off, out_off;

/* attention_channel_gram: splits s0 … s_end of chunk tokens each, qkv_off in texels */
#define GPU_PUSH_CHANNEL_GRAM ABI_U32 n, c, groups, chunk, s_end, s0, qkv_off;

/* attention_channel_softmax */
#define GPU_PUSH_CHANNEL_SOFTMAX                                                            \
  ABI_U32 groups, gw, splits;                                                               \
  ABI_F32 scale;

/* attention_channel_apply: tokens t_base … n of this piece; qkv_off texels, out_off vec4 */
#define GPU_PUSH_CHANNEL_APPLY ABI_U32 n, c, groups, t_base, qkv_off, out_off;

/* attention, attention_decode, attention_flash: rows addressed in texels (elements / 4) */
#define GPU_PUSH_ATTENTION                                                                  \
  ABI_U32 q_off, q_stride, q_bstride, k_off, k_stride, k_bstride, v_off, v_stride, v_bstride; \
  ABI_U32 o_off, o_stride, o_bstride, n_q, n_kv, causal;                                    \
  ABI_F32 scale;

/* attention_decode_self (a decoder step over its cache; texels): ctl[pos_word] = position */
#define GPU_PUSH_ATTENTION_STEP                                                             \
  ABI_U32 q_off, q_bstride, knew_off, c_stride, cap, o_off, o_bstride, pos_word;            \
  ABI_F32 scale;

/* cache_reorder: dst beam b = src beam beam[b] */
#define GPU_ABI_MAX_BEAMS 16
#define GPU_PUSH_CACHE_REORDER                                                              \
  ABI_U32 beams, cap, t, d;                                                                 \
  ABI_U32 beam[GPU_ABI_MAX_BEAMS];

/* embedding: flags F16_0 (table fp16), F16_1 (pos fp16), HAS_0 (pos present), HAS_1 (ids[n]
 * is added to pos_start) */
#define GPU_PUSH_EMBEDDING ABI_U32 n, d, vocab, pos_start, pos_step, out_off, flags;

/* pos2d: flags F16_0 (col/row fp16), F16_1 (temporal fp16), HAS_0 (temporal present) */
#define GPU_PUSH_POS2D ABI_U32 h, w, d, in_off, out_off, flags;

/* mean_rows */
#define GPU_PUSH_MEAN_ROWS ABI_U32 n, d, in_off, out_off;

/* logits_topk_partial */
#define GPU_PUSH_TOPK_PARTIAL ABI_U32 rows, n, in_off, stride, chunks, k;

/* logits_topk_merge, logits_topk_merge_wg */
#define GPU_PUSH_TOPK_MERGE ABI_U32 rows, chunks, k;

/* ---------------------------------------------------------------------------------------
 * C types, each checked to fit 128 bytes
 * ------------------------------------------------------------------------------------- */
#ifndef GL_core_profile
#define GPU_ABI_STRUCT(Type, FIELDS)                                                        \
  typedef struct {                                                                          \
    FIELDS                                                                                  \
  } Type;                                                                                   \
  _Static_assert (sizeof (Type) <= 128, #Type " needs more than 128 bytes of push constants");

GPU_ABI_STRUCT (GpuPushGemm, GPU_PUSH_GEMM)
GPU_ABI_STRUCT (GpuPushAxpy, GPU_PUSH_AXPY)
GPU_ABI_STRUCT (GpuPushN, GPU_PUSH_N)
GPU_ABI_STRUCT (GpuPushSoftmax, GPU_PUSH_SOFTMAX)
GPU_ABI_STRUCT (GpuPushLayernorm, GPU_PUSH_LAYERNORM)
GPU_ABI_STRUCT (GpuPushLayernorm4, GPU_PUSH_LAYERNORM4)
GPU_ABI_STRUCT (GpuPushScaleBias, GPU_PUSH_SCALE_BIAS)
GPU_ABI_STRUCT (GpuPushCopyRows, GPU_PUSH_COPY_ROWS)
GPU_ABI_STRUCT (GpuPushConv2d, GPU_PUSH_CONV2D)
GPU_ABI_STRUCT (GpuPushIm2col, GPU_PUSH_IM2COL)
GPU_ABI_STRUCT (GpuPushDwconv, GPU_PUSH_DWCONV)
GPU_ABI_STRUCT (GpuPushDwconv4, GPU_PUSH_DWCONV4)
GPU_ABI_STRUCT (GpuPushAttentionWindow, GPU_PUSH_ATTENTION_WINDOW)
GPU_ABI_STRUCT (GpuPushChannelGram, GPU_PUSH_CHANNEL_GRAM)
GPU_ABI_STRUCT (GpuPushChannelSoftmax, GPU_PUSH_CHANNEL_SOFTMAX)
GPU_ABI_STRUCT (GpuPushChannelApply, GPU_PUSH_CHANNEL_APPLY)
GPU_ABI_STRUCT (GpuPushAttention, GPU_PUSH_ATTENTION)
GPU_ABI_STRUCT (GpuPushAttentionStep, GPU_PUSH_ATTENTION_STEP)
GPU_ABI_STRUCT (GpuPushCacheReorder, GPU_PUSH_CACHE_REORDER)
GPU_ABI_STRUCT (GpuPushEmbedding, GPU_PUSH_EMBEDDING)
GPU_ABI_STRUCT (GpuPushPos2d, GPU_PUSH_POS2D)
GPU_ABI_STRUCT (GpuPushMeanRows, GPU_PUSH_MEAN_ROWS)
GPU_ABI_STRUCT (GpuPushTopkPartial, GPU_PUSH_TOPK_PARTIAL)
GPU_ABI_STRUCT (GpuPushTopkMerge, GPU_PUSH_TOPK_MERGE)
#endif

#endif
