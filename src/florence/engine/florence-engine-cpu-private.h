/* florence-engine-cpu-private.h: what the CPU engine's files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * florence-engine-cpu.c      the engine: weights (converted once, in the layout below), the
 *                            linear layers on the BLAS with their fused prologues and
 *                            epilogues, the FlorenceEngine entry points
 * florence-engine-cpu-vision.c   DaViT, positions, projection (encode_image)
 * florence-engine-cpu-text.c     BART encoder, cross-attention keys/values, the decoder backend
 *
 * Layout: tokens are rows (channels last). Linear weights are [out, in] rows as in the
 * checkpoint; everything the vision tower and the encoder use is fp32 (the BLAS GEMMs). The
 * decoder's matrices and the tied embedding, read once per step by matrix × few-vectors
 * kernels that are bound by memory, stay in the checkpoint's fp16 when it is fp16 (half the
 * bytes per step; the products are the same, fp16 → fp32 is exact) and are fp32 otherwise.
 */
#pragma once

#include "florence/engine/florence-cpu-blas.h"
#include "florence/engine/florence-cpu-kernels.h"
#include "florence/engine/florence-cpu-pool.h"
#include "florence/engine/florence-engine-cpu.h"
#include "florence/engine/florence-graph.h"

G_BEGIN_DECLS

/* A matrix [rows × cols], fp32 or fp16 (exactly one of the pointers is set). */
typedef struct {
  const float *f32;
  const guint16 *f16;
  gsize rows, cols;
} CpuMatrix;

typedef struct {
  const float *w, *b;
} CpuNorm;

typedef struct {
  const float *conv1_w9, *conv1_b; /* depthwise kernels as [9][C] */
  CpuNorm norm1;
  const float *qkv_w, *qkv_b; /* [3C, C] */
  const float *proj_w, *proj_b;
  const float *conv2_w9, *conv2_b;
  CpuNorm norm2;
  const float *fc1_w, *fc1_b; /* [4C, C] */
  const float *fc2_w, *fc2_b; /* [C, 4C] */
} CpuBlock;

typedef struct {
  const float *conv_w; /* [c_out][ky][kx][c_in], the im2col order */
  const float *conv_b;
  CpuNorm norm;
  int k, stride, pad, c_in, c_out;
  gboolean prenorm;
  CpuBlock *spatial, *channel; /* [depth] */
} CpuStage;

typedef struct {
  const float *qkv_w, *qkv_b; /* q, k, v stacked: [3d, d] */
  const float *o_w, *o_b;
  CpuNorm ln1;
  const float *fc1_w, *fc1_b, *fc2_w, *fc2_b;
  CpuNorm ln3;
} CpuEncoderLayer;

typedef struct {
  CpuMatrix qkv; /* [3d, d] */
  const float *qkv_b;
  CpuMatrix o;
  const float *o_b;
  CpuNorm ln1;
  CpuMatrix cq;
  const float *cq_b;
  const float *ckv_w, *ckv_b; /* cross-attention k, v stacked: [2d, d], fp32 (once per task) */
  CpuMatrix co;
  const float *co_b;
  CpuNorm ln2;
  CpuMatrix fc1, fc2;
  const float *fc1_b, *fc2_b;
  CpuNorm ln3;
} CpuDecoderLayer;

typedef struct _CpuEngine CpuEngine;

struct _CpuEngine {
  FlorenceEngine *engine; /* the public side (tap, name) */
  FlorenceConfig *config;
  FlorenceCpuPool *pool;
  guint max_threads; /* what the address-space limit allows (florence_memory_cpu_threads) */
  const FlorenceCpuKernels *k;
  const FlorenceCpuBlas *blas;
  GPtrArray *buffers; /* every weight buffer (g_aligned_free) */

  CpuStage stages[4];
  const float *pos_row, *pos_col; /* [pos_max, D/2], [pos_max, D - D/2] */
  const float *temporal0;         /* [D]: row 0 of the temporal embedding */
  const float *projection_t;      /* [d, D] */
  CpuNorm proj_norm;

  CpuMatrix shared; /* [vocab_rows, d]: embeddings and the tied LM head */
  const float *final_logits_bias;
  const float *enc_pos, *dec_pos; /* [max_pos + 2, d] */
  CpuNorm enc_ln_emb, dec_ln_emb;
  CpuEncoderLayer *enc;
  CpuDecoderLayer *dec;

  /* the vision tower's activations, kept from one picture to the next (no page faults) */
  float *workspace;
  gsize workspace_size;

  /* per thread scratch (florence_cpu_pool thread index), grown on demand */
  GMutex scratch_lock;
  float **scratch;
  gsize *scratch_size;
  guint n_scratch;
};

/* A thread's scratch of at least n floats (64-byte aligned). Valid until the next call for
 * the same thread. */
float *cpu_scratch (CpuEngine *e, guint thread, gsize n);
/* Makes sure every thread of the pool has a scratch slot (call before a run). */
void cpu_scratch_reserve (CpuEngine *e);

/* 64-byte aligned, freed with g_aligned_free */
float *cpu_alloc (gsize n);

void cpu_emit (CpuEngine *e, const char *name, const float *data, gsize rows, gsize cols);

/* A linear layer y = x · wᵀ + bias over M rows, run as blocks of rows over the pool, each
 * block with its prologue and epilogue while it is in cache. */
typedef struct {
  const float *x; /* [M, K], row stride ldx */
  gsize ldx, M, K;
  const float *w; /* [N, K] fp32 */
  gsize N;
  const float *bias; /* [N] or NULL */
  float *y;          /* [M, N], row stride ldy */
  gsize ldy;
  const CpuNorm *prenorm;  /* LayerNorm the rows of x first (into scratch) */
  gboolean accumulate;     /* y += … (a residual) */
  gboolean gelu;           /* y = gelu(…) */
  float scale;             /* with scale_cols > 0: multiply the first scale_cols columns */
  gsize scale_cols;        /*   (after the bias: the attention query) */
  const CpuNorm *postnorm; /* LayerNorm the rows of y last */
} CpuLinear;

void cpu_linear (CpuEngine *e, const CpuLinear *op);

/* The feed-forward part, fused per block of rows (the hidden layer never leaves the thread's
 * scratch): x = post(x + fc2(gelu(fc1(pre(x))))) with pre and post optional LayerNorms. */
typedef struct {
  float *x; /* [M, C], in place */
  gsize M, C, hidden;
  const CpuNorm *prenorm;
  const float *fc1_w, *fc1_b, *fc2_w, *fc2_b;
  const CpuNorm *postnorm;
} CpuMlp;

void cpu_mlp (CpuEngine *e, const CpuMlp *op);

/* y[b, j] = x[b] · w[j] + bias[j] for the B rows of x and every row j of w, over the pool;
 * accumulate adds to y, gelu applies GELU. */
void cpu_gemv (CpuEngine *e, const float *x, gsize ldx, guint B, const CpuMatrix *w,
               const float *bias, float *y, gsize ldy, gboolean accumulate, gboolean gelu);

/* Runs fn over [0, n) split into a few contiguous ranges per thread of at least min_part
 * items each. */
typedef void (*CpuRangeFunc) (gsize start, gsize end, guint thread, gpointer data);
void cpu_parallel (CpuEngine *e, gsize n, gsize min_part, CpuRangeFunc fn, gpointer data);

/* florence-engine-cpu-vision.c */
float *cpu_vision_encode (CpuEngine *e, const float *pixel_values, int size, int *n_tokens,
                          GCancellable *cancellable, GError **error);

/* florence-engine-cpu-text.c */
float *cpu_text_encode (CpuEngine *e, const float *image_features, int n_image, const gint32 *ids,
                        int n_ids, int *n_out, GCancellable *cancellable, GError **error);
FlorenceDecoderBackend *cpu_decoder_new (CpuEngine *e, const float *encoder_out, int n_enc,
                                         GError **error);
void cpu_decoder_free (FlorenceDecoderBackend *decoder);

G_END_DECLS
