/* florence-engine-cpu.c: the CPU engine — weights, linear layers on the BLAS, entry points
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-engine-cpu-private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "florence/engine/florence-device.h"
#include "florence/engine/florence-memory.h"

/* =============================================================================================
 * Memory
 * =========================================================================================== */

float *
cpu_alloc (gsize n)
{
  return g_aligned_alloc (MAX (n, (gsize) 16), sizeof (float), 64);
}

static gpointer
alloc_bytes (CpuEngine *e, gsize bytes)
{
  gpointer p = g_aligned_alloc (MAX (bytes, (gsize) 64), 1, 64);
  g_ptr_array_add (e->buffers, p);
  return p;
}

void
cpu_scratch_reserve (CpuEngine *e)
{
  guint n = (guint) florence_cpu_pool_get_n_threads (e->pool);
  g_mutex_lock (&e->scratch_lock);
  if (n > e->n_scratch)
    {
      e->scratch = g_renew (float *, e->scratch, n);
      e->scratch_size = g_renew (gsize, e->scratch_size, n);
      for (guint i = e->n_scratch; i < n; i++)
        {
          e->scratch[i] = NULL;
          e->scratch_size[i] = 0;
        }
      e->n_scratch = n;
    }
  g_mutex_unlock (&e->scratch_lock);
}

float *
cpu_scratch (CpuEngine *e, guint thread, gsize n)
{
  g_assert (thread < e->n_scratch);
  if (e->scratch_size[thread] < n)
    {
      g_aligned_free (e->scratch[thread]);
      gsize size = MAX (n, e->scratch_size[thread] * 3 / 2);
      e->scratch[thread] = cpu_alloc (size);
      e->scratch_size[thread] = size;
    }
  return e->scratch[thread];
}

void
cpu_emit (CpuEngine *e, const char *name, const float *data, gsize rows, gsize cols)
{
  if (e->engine->tap != NULL)
    e->engine->tap (name, data, rows, cols, e->engine->tap_data);
}

typedef struct {
  CpuRangeFunc fn;
  gpointer data;
  gsize n;
  guint parts;
} RangeJob;

static void
range_task (guint index, guint thread, gpointer data)
{
  const RangeJob *j = data;
  gsize start = j->n * index / j->parts, end = j->n * (index + 1) / j->parts;
  if (end > start)
    j->fn (start, end, thread, j->data);
}

void
cpu_parallel (CpuEngine *e, gsize n, gsize min_part, CpuRangeFunc fn, gpointer data)
{
  if (n == 0)
    return;
  gsize threads = (gsize) florence_cpu_pool_get_n_threads (e->pool);
  gsize parts = MIN (n / MAX (min_part, (gsize) 1), threads * 4);
  RangeJob j = { fn, data, n, (guint) MAX (parts, (gsize) 1) };
  cpu_scratch_reserve (e);
  florence_cpu_pool_run (e->pool, j.parts, range_task, &j);
}

/* =============================================================================================
 * Linear layers
 * =========================================================================================== */

/* Rows per block. The BLAS packs the whole weight matrix again for every block, which costs
 * about 16 / rows of the product on an AVX2 core: blocks of about 1024 rows keep that near 2 %,
 * with up to 4 blocks per thread so that a thread the system slows down does not hold the
 * others back. Equal sizes. */
static gsize
block_rows (CpuEngine *e, gsize M)
{
  const gsize threads = (gsize) florence_cpu_pool_get_n_threads (e->pool);
  const gsize target = 1024;
  gsize per_thread = CLAMP ((M + threads * target - 1) / (threads * target), (gsize) 1, (gsize) 4);
  gsize n_blocks = threads * per_thread;
  return MAX ((M + n_blocks - 1) / n_blocks, (gsize) 1);
}

static void
sgemm_nt (CpuEngine *e, gsize M, gsize N, gsize K, const float *x, gsize ldx, const float *w,
          float beta, float *y, gsize ldy)
{
  florence_cpu_blas_sgemm (e->blas, FALSE, TRUE, M, N, K, 1.0f, x, ldx, w, K, beta, y, ldy);
}

typedef struct {
  CpuEngine *e;
  const CpuLinear *op;
  gsize rows;
} LinearJob;

static void
linear_task (guint index, guint thread, gpointer data)
{
  const LinearJob *j = data;
  const CpuLinear *op = j->op;
  const FlorenceCpuKernels *k = j->e->k;
  const gsize r0 = (gsize) index * j->rows, r = MIN (op->M - r0, j->rows);
  const float *x = op->x + r0 * op->ldx;
  gsize ldx = op->ldx;
  if (op->prenorm != NULL)
    {
      float *xn = cpu_scratch (j->e, thread, r * op->K);
      for (gsize i = 0; i < r; i++)
        k->layernorm (x + i * op->ldx, xn + i * op->K, op->K, op->prenorm->w, op->prenorm->b);
      x = xn;
      ldx = op->K;
    }
  float *y = op->y + r0 * op->ldy;
  sgemm_nt (j->e, r, op->N, op->K, x, ldx, op->w, op->accumulate ? 1.0f : 0.0f, y, op->ldy);
  for (gsize i = 0; i < r; i++)
    {
      float *yr = y + i * op->ldy;
      if (op->gelu)
        k->bias_gelu (yr, op->bias, op->N);
      else
        k->add_bias (yr, op->bias, op->N);
      for (gsize c = 0; c < op->scale_cols; c++)
        yr[c] *= op->scale;
      if (op->postnorm != NULL)
        k->layernorm (yr, yr, op->N, op->postnorm->w, op->postnorm->b);
    }
}

void
cpu_linear (CpuEngine *e, const CpuLinear *op)
{
  if (op->M == 0)
    return;
  LinearJob j = { e, op, block_rows (e, op->M) };
  cpu_scratch_reserve (e);
  florence_cpu_pool_run (e->pool, (guint) ((op->M + j.rows - 1) / j.rows), linear_task, &j);
}

typedef struct {
  CpuEngine *e;
  const CpuMlp *op;
  gsize rows;
} MlpJob;

static void
mlp_task (guint index, guint thread, gpointer data)
{
  const MlpJob *j = data;
  const CpuMlp *op = j->op;
  const FlorenceCpuKernels *k = j->e->k;
  const gsize r0 = (gsize) index * j->rows, r = MIN (op->M - r0, j->rows);
  const gsize C = op->C, Hd = op->hidden;
  float *x = op->x + r0 * C;
  float *s = cpu_scratch (j->e, thread, r * (C + Hd));
  float *hidden = s + r * C;
  const float *in = x;
  if (op->prenorm != NULL)
    {
      for (gsize i = 0; i < r; i++)
        k->layernorm (x + i * C, s + i * C, C, op->prenorm->w, op->prenorm->b);
      in = s;
    }
  sgemm_nt (j->e, r, Hd, C, in, C, op->fc1_w, 0.0f, hidden, Hd);
  for (gsize i = 0; i < r; i++)
    k->bias_gelu (hidden + i * Hd, op->fc1_b, Hd);
  sgemm_nt (j->e, r, C, Hd, hidden, Hd, op->fc2_w, 1.0f, x, C);
  for (gsize i = 0; i < r; i++)
    {
      k->add_bias (x + i * C, op->fc2_b, C);
      if (op->postnorm != NULL)
        k->layernorm (x + i * C, x + i * C, C, op->postnorm->w, op->postnorm->b);
    }
}

void
cpu_mlp (CpuEngine *e, const CpuMlp *op)
{
  if (op->M == 0)
    return;
  MlpJob j = { e, op, block_rows (e, op->M) };
  cpu_scratch_reserve (e);
  florence_cpu_pool_run (e->pool, (guint) ((op->M + j.rows - 1) / j.rows), mlp_task, &j);
}

typedef struct {
  CpuEngine *e;
  const float *x;
  gsize ldx;
  guint B;
  const CpuMatrix *w;
  const float *bias;
  float *y;
  gsize ldy;
  gboolean accumulate, gelu;
  gsize rows; /* output rows per task */
} GemvJob;

static void
gemv_task (guint index, guint thread, gpointer data)
{
  const GemvJob *j = data;
  const gsize j0 = (gsize) index * j->rows, j1 = MIN (j->w->rows, j0 + j->rows);
  if (j->w->f16 != NULL)
    j->e->k->gemv_f16 (j->x, j->ldx, j->B, j->w->f16, j->w->cols, j0, j1, j->bias, j->y, j->ldy,
                       j->accumulate);
  else
    j->e->k->gemv_f32 (j->x, j->ldx, j->B, j->w->f32, j->w->cols, j0, j1, j->bias, j->y, j->ldy,
                       j->accumulate);
  if (j->gelu)
    for (guint b = 0; b < j->B; b++)
      j->e->k->bias_gelu (j->y + b * j->ldy + j0, NULL, j1 - j0);
}

void
cpu_gemv (CpuEngine *e, const float *x, gsize ldx, guint B, const CpuMatrix *w, const float *bias,
          float *y, gsize ldy, gboolean accumulate, gboolean gelu)
{
  /* parts of at least 16 rows (whole tiles of the kernel), a few per thread */
  const gsize threads = (gsize) florence_cpu_pool_get_n_threads (e->pool);
  gsize rows = (w->rows + threads * 4 - 1) / (threads * 4);
  rows = MAX ((rows + 15) / 16 * 16, (gsize) 16);
  GemvJob j = { e, x, ldx, B, w, bias, y, ldy, accumulate, gelu, rows };
  florence_cpu_pool_run (e->pool, (guint) ((w->rows + rows - 1) / rows), gemv_task, &j);
}

/* =============================================================================================
 * Weights
 * =========================================================================================== */

/* converts @t to fp32 into dst, then lets its pages go */
static void
convert_release (FlorenceCheckpoint *ckpt, const FlorenceTensor *t, float *dst)
{
  florence_tensor_to_f32 (t, dst);
  florence_checkpoint_release_tensor (ckpt, t);
}

static const float *
take (CpuEngine *e, FlorenceCheckpoint *ckpt, const FlorenceGraphTensor *gt, GError **error)
{
  const FlorenceTensor *t = florence_graph_lookup (ckpt, gt->name, gt->n_elements, error);
  if (t == NULL)
    return NULL;
  float *dst = alloc_bytes (e, t->n_elements * sizeof (float));
  convert_release (ckpt, t, dst);
  return dst;
}

/* @gt in fp32 in a temporary buffer, for weights that are rearranged before use */
static float *
take_temp (FlorenceCheckpoint *ckpt, const FlorenceGraphTensor *gt, GError **error)
{
  const FlorenceTensor *t = florence_graph_lookup (ckpt, gt->name, gt->n_elements, error);
  if (t == NULL)
    return NULL;
  float *dst = g_new (float, MAX (t->n_elements, (gsize) 1));
  convert_release (ckpt, t, dst);
  return dst;
}

/* Several tensors of cols columns stacked as the rows of one matrix, fp16 when every part is
 * fp16 and keep_f16, else fp32. */
static gboolean
take_stacked (CpuEngine *e, FlorenceCheckpoint *ckpt, FlorenceGraphTensor *parts, guint n_parts,
              gsize cols, gboolean keep_f16, CpuMatrix *out, GError **error)
{
  const FlorenceTensor *ts[4];
  gsize rows = 0;
  gboolean f16 = keep_f16;
  g_assert (n_parts <= G_N_ELEMENTS (ts));
  for (guint i = 0; i < n_parts; i++)
    {
      if ((ts[i] = florence_graph_lookup (ckpt, parts[i].name, parts[i].n_elements, error)) == NULL)
        return FALSE;
      rows += ts[i]->n_elements / cols;
      f16 = f16 && ts[i]->dtype == FLORENCE_DTYPE_F16;
    }
  out->rows = rows;
  out->cols = cols;
  out->f16 = NULL;
  out->f32 = NULL;
  gsize off = 0;
  if (f16)
    {
      guint16 *dst = alloc_bytes (e, rows * cols * sizeof (guint16));
      for (guint i = 0; i < n_parts; i++)
        {
          memcpy (dst + off, ts[i]->data, ts[i]->n_elements * sizeof (guint16));
          florence_checkpoint_release_tensor (ckpt, ts[i]);
          off += ts[i]->n_elements;
        }
      out->f16 = dst;
    }
  else
    {
      float *dst = alloc_bytes (e, rows * cols * sizeof (float));
      for (guint i = 0; i < n_parts; i++)
        {
          convert_release (ckpt, ts[i], dst + off);
          off += ts[i]->n_elements;
        }
      out->f32 = dst;
    }
  return TRUE;
}

/* a depthwise kernel [C, 1, 3, 3] as [9][C] */
static const float *
take_dw (CpuEngine *e, FlorenceCheckpoint *ckpt, const FlorenceGraphTensor *gt, gsize C,
         GError **error)
{
  g_autofree float *tmp = take_temp (ckpt, gt, error);
  if (tmp == NULL)
    return NULL;
  float *dst = alloc_bytes (e, 9 * C * sizeof (float));
  for (gsize c = 0; c < C; c++)
    for (gsize q = 0; q < 9; q++)
      dst[q * C + c] = tmp[c * 9 + q];
  return dst;
}

static gboolean
load_block (CpuEngine *e, FlorenceCheckpoint *ckpt, CpuBlock *blk, int s, int j, gboolean channel,
            GError **error)
{
  const gsize C = (gsize) e->config->dim_embed[s];
  const float *t[FLORENCE_BLOCK_N_TENSORS];
  for (guint i = 0; i < FLORENCE_BLOCK_N_TENSORS; i++)
    {
      FlorenceGraphTensor gt;
      florence_graph_block_tensor (e->config, s, j, channel, i, &gt);
      t[i] = (i == 0 || i == 8) ? take_dw (e, ckpt, &gt, C, error) : take (e, ckpt, &gt, error);
      florence_graph_tensor_clear (&gt);
      if (t[i] == NULL)
        return FALSE;
    }
  *blk = (CpuBlock){
    .conv1_w9 = t[0],
    .conv1_b = t[1],
    .norm1 = { t[2], t[3] },
    .qkv_w = t[4],
    .qkv_b = t[5],
    .proj_w = t[6],
    .proj_b = t[7],
    .conv2_w9 = t[8],
    .conv2_b = t[9],
    .norm2 = { t[10], t[11] },
    .fc1_w = t[12],
    .fc1_b = t[13],
    .fc2_w = t[14],
    .fc2_b = t[15],
  };
  return TRUE;
}

/* the tensors of layer l, by florence_graph_layer_tensor() index */
static void
layer_tensors (CpuEngine *e, gboolean decoder, int l, FlorenceGraphTensor *gt)
{
  for (guint i = 0; i < FLORENCE_LAYER_N_TENSORS; i++)
    if (!florence_graph_layer_tensor (e->config, decoder, l, i, &gt[i]))
      gt[i] = (FlorenceGraphTensor){ NULL, 0, FALSE };
}

static void
layer_tensors_clear (FlorenceGraphTensor *gt)
{
  for (guint i = 0; i < FLORENCE_LAYER_N_TENSORS; i++)
    florence_graph_tensor_clear (&gt[i]);
}

/* q, k, v (or a part of them) biases stacked */
static const float *
take_bias_stacked (CpuEngine *e, FlorenceCheckpoint *ckpt, FlorenceGraphTensor *gt,
                   const guint *idx, guint n, GError **error)
{
  gsize total = 0;
  for (guint i = 0; i < n; i++)
    total += gt[idx[i]].n_elements;
  float *dst = alloc_bytes (e, total * sizeof (float));
  gsize off = 0;
  for (guint i = 0; i < n; i++)
    {
      const FlorenceTensor *t =
        florence_graph_lookup (ckpt, gt[idx[i]].name, gt[idx[i]].n_elements, error);
      if (t == NULL)
        return NULL;
      convert_release (ckpt, t, dst + off);
      off += t->n_elements;
    }
  return dst;
}

static gboolean
load_encoder_layer (CpuEngine *e, FlorenceCheckpoint *ckpt, int l, CpuEncoderLayer *L,
                    GError **error)
{
  FlorenceGraphTensor gt[FLORENCE_LAYER_N_TENSORS];
  const gsize d = (gsize) e->config->d_model;
  layer_tensors (e, FALSE, l, gt);
  FlorenceGraphTensor qkv[3] = { gt[0], gt[2], gt[4] };
  CpuMatrix m;
  gboolean ok =
    take_stacked (e, ckpt, qkv, 3, d, FALSE, &m, error) &&
    (L->qkv_b = take_bias_stacked (e, ckpt, gt, (const guint[]){ 1, 3, 5 }, 3, error)) != NULL &&
    (L->o_w = take (e, ckpt, &gt[6], error)) != NULL &&
    (L->o_b = take (e, ckpt, &gt[7], error)) != NULL &&
    (L->ln1.w = take (e, ckpt, &gt[8], error)) != NULL &&
    (L->ln1.b = take (e, ckpt, &gt[9], error)) != NULL &&
    (L->fc1_w = take (e, ckpt, &gt[20], error)) != NULL &&
    (L->fc1_b = take (e, ckpt, &gt[21], error)) != NULL &&
    (L->fc2_w = take (e, ckpt, &gt[22], error)) != NULL &&
    (L->fc2_b = take (e, ckpt, &gt[23], error)) != NULL &&
    (L->ln3.w = take (e, ckpt, &gt[24], error)) != NULL &&
    (L->ln3.b = take (e, ckpt, &gt[25], error)) != NULL;
  L->qkv_w = m.f32;
  layer_tensors_clear (gt);
  return ok;
}

static gboolean
load_decoder_layer (CpuEngine *e, FlorenceCheckpoint *ckpt, int l, CpuDecoderLayer *L,
                    GError **error)
{
  FlorenceGraphTensor gt[FLORENCE_LAYER_N_TENSORS];
  const gsize d = (gsize) e->config->d_model, ffn = (gsize) e->config->decoder_ffn_dim;
  layer_tensors (e, TRUE, l, gt);
  FlorenceGraphTensor qkv[3] = { gt[0], gt[2], gt[4] }, ckv[2] = { gt[12], gt[14] };
  CpuMatrix kv;
  gboolean ok =
    take_stacked (e, ckpt, qkv, 3, d, TRUE, &L->qkv, error) &&
    (L->qkv_b = take_bias_stacked (e, ckpt, gt, (const guint[]){ 1, 3, 5 }, 3, error)) != NULL &&
    take_stacked (e, ckpt, &gt[6], 1, d, TRUE, &L->o, error) &&
    (L->o_b = take (e, ckpt, &gt[7], error)) != NULL &&
    (L->ln1.w = take (e, ckpt, &gt[8], error)) != NULL &&
    (L->ln1.b = take (e, ckpt, &gt[9], error)) != NULL &&
    take_stacked (e, ckpt, &gt[10], 1, d, TRUE, &L->cq, error) &&
    (L->cq_b = take (e, ckpt, &gt[11], error)) != NULL &&
    take_stacked (e, ckpt, ckv, 2, d, FALSE, &kv, error) &&
    (L->ckv_b = take_bias_stacked (e, ckpt, gt, (const guint[]){ 13, 15 }, 2, error)) != NULL &&
    take_stacked (e, ckpt, &gt[16], 1, d, TRUE, &L->co, error) &&
    (L->co_b = take (e, ckpt, &gt[17], error)) != NULL &&
    (L->ln2.w = take (e, ckpt, &gt[18], error)) != NULL &&
    (L->ln2.b = take (e, ckpt, &gt[19], error)) != NULL &&
    take_stacked (e, ckpt, &gt[20], 1, d, TRUE, &L->fc1, error) &&
    (L->fc1_b = take (e, ckpt, &gt[21], error)) != NULL &&
    take_stacked (e, ckpt, &gt[22], 1, ffn, TRUE, &L->fc2, error) &&
    (L->fc2_b = take (e, ckpt, &gt[23], error)) != NULL &&
    (L->ln3.w = take (e, ckpt, &gt[24], error)) != NULL &&
    (L->ln3.b = take (e, ckpt, &gt[25], error)) != NULL;
  L->ckv_w = kv.f32;
  layer_tensors_clear (gt);
  return ok;
}

static const float *
take_model (CpuEngine *e, FlorenceCheckpoint *ckpt, gsize vocab_rows,
            FlorenceGraphModelTensor which, GError **error)
{
  FlorenceGraphTensor gt;
  florence_graph_model_tensor (e->config, vocab_rows, which, &gt);
  const float *t = take (e, ckpt, &gt, error);
  florence_graph_tensor_clear (&gt);
  return t;
}

static gboolean
load_weights (CpuEngine *e, FlorenceCheckpoint *ckpt, GError **error)
{
  const FlorenceConfig *c = e->config;
  int c_prev = 3;
  for (int s = 0; s < 4; s++)
    {
      CpuStage *st = &e->stages[s];
      st->k = c->patch_size[s];
      st->stride = c->patch_stride[s];
      st->pad = c->patch_padding[s];
      st->c_in = c_prev;
      st->c_out = c->dim_embed[s];
      st->prenorm = c->patch_prenorm[s];
      const float *t[FLORENCE_STAGE_N_TENSORS];
      g_autofree float *conv = NULL;
      for (guint i = 0; i < FLORENCE_STAGE_N_TENSORS; i++)
        {
          FlorenceGraphTensor gt;
          florence_graph_stage_tensor (c, s, i, &gt);
          t[i] = i == 0 ? (conv = take_temp (ckpt, &gt, error)) : take (e, ckpt, &gt, error);
          florence_graph_tensor_clear (&gt);
          if (t[i] == NULL)
            return FALSE;
        }
      /* [out][in][ky][kx] → [out][ky][kx][in], the im2col order */
      const gsize kk = (gsize) st->k * st->k, ci = (gsize) st->c_in;
      float *w = alloc_bytes (e, (gsize) st->c_out * ci * kk * sizeof (float));
      for (gsize o = 0; o < (gsize) st->c_out; o++)
        for (gsize i = 0; i < ci; i++)
          for (gsize q = 0; q < kk; q++)
            w[(o * kk + q) * ci + i] = t[0][(o * ci + i) * kk + q];
      st->conv_w = w;
      st->conv_b = t[1];
      st->norm = (CpuNorm){ t[2], t[3] };
      st->spatial = alloc_bytes (e, MAX (c->depths[s], 1) * sizeof (CpuBlock));
      st->channel = alloc_bytes (e, MAX (c->depths[s], 1) * sizeof (CpuBlock));
      for (int j = 0; j < c->depths[s]; j++)
        if (!load_block (e, ckpt, &st->spatial[j], s, j, FALSE, error) ||
            !load_block (e, ckpt, &st->channel[j], s, j, TRUE, error))
          return FALSE;
      c_prev = st->c_out;
    }

  const gsize D = (gsize) c->dim_embed[3], d = (gsize) c->d_model;
  gsize vocab_rows = MAX (florence_checkpoint_get_vocab_rows (ckpt), (gsize) c->vocab_size);
  const float *temporal;
  g_autofree float *proj = NULL;
  {
    FlorenceGraphTensor gt;
    florence_graph_model_tensor (c, vocab_rows, FLORENCE_GRAPH_PROJECTION, &gt);
    proj = take_temp (ckpt, &gt, error);
    florence_graph_tensor_clear (&gt);
    if (proj == NULL)
      return FALSE;
  }
  if ((e->pos_row = take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_POS_ROW, error)) == NULL ||
      (e->pos_col = take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_POS_COLUMN, error)) == NULL ||
      (temporal = take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_TEMPORAL, error)) == NULL ||
      (e->proj_norm.w =
         take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_PROJECTION_NORM_W, error)) == NULL ||
      (e->proj_norm.b =
         take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_PROJECTION_NORM_B, error)) == NULL ||
      (e->final_logits_bias =
         take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_FINAL_LOGITS_BIAS, error)) == NULL ||
      (e->enc_pos = take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_ENCODER_POSITIONS, error)) ==
        NULL ||
      (e->dec_pos = take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_DECODER_POSITIONS, error)) ==
        NULL ||
      (e->enc_ln_emb.w =
         take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_ENCODER_EMBED_NORM_W, error)) == NULL ||
      (e->enc_ln_emb.b =
         take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_ENCODER_EMBED_NORM_B, error)) == NULL ||
      (e->dec_ln_emb.w =
         take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_DECODER_EMBED_NORM_W, error)) == NULL ||
      (e->dec_ln_emb.b =
         take_model (e, ckpt, vocab_rows, FLORENCE_GRAPH_DECODER_EMBED_NORM_B, error)) == NULL)
    return FALSE;
  e->temporal0 = temporal; /* row 0 is what a single picture uses */
  float *pt = alloc_bytes (e, D * d * sizeof (float));
  for (gsize i = 0; i < D; i++)
    for (gsize o = 0; o < d; o++)
      pt[o * D + i] = proj[i * d + o];
  e->projection_t = pt;

  {
    FlorenceGraphTensor gt;
    florence_graph_model_tensor (c, vocab_rows, FLORENCE_GRAPH_SHARED, &gt);
    gboolean ok = take_stacked (e, ckpt, &gt, 1, d, TRUE, &e->shared, error);
    florence_graph_tensor_clear (&gt);
    if (!ok)
      return FALSE;
  }

  e->enc = alloc_bytes (e, MAX (c->encoder_layers, 1) * sizeof (CpuEncoderLayer));
  e->dec = alloc_bytes (e, MAX (c->decoder_layers, 1) * sizeof (CpuDecoderLayer));
  for (int l = 0; l < c->encoder_layers; l++)
    if (!load_encoder_layer (e, ckpt, l, &e->enc[l], error))
      return FALSE;
  for (int l = 0; l < c->decoder_layers; l++)
    if (!load_decoder_layer (e, ckpt, l, &e->dec[l], error))
      return FALSE;
  return TRUE;
}

/* =============================================================================================
 * The engine
 * =========================================================================================== */

typedef struct {
  FlorenceImageFeatures parent;
  float *data; /* [n_tokens × d_model] */
} CpuFeatures;

static FlorenceImageFeatures *
engine_encode_image (FlorenceEngine *self, const float *pixel_values, int size, double *seconds,
                     GCancellable *cancellable, GError **error)
{
  CpuEngine *e = self->priv;
  gint64 t0 = g_get_monotonic_time ();
  int n = 0;
  float *data = cpu_vision_encode (e, pixel_values, size, &n, cancellable, error);
  if (data == NULL)
    return NULL;
  CpuFeatures *f = g_new0 (CpuFeatures, 1);
  f->parent.size = size;
  f->parent.n_tokens = n;
  f->parent.bytes = (guint64) n * (guint64) e->config->d_model * sizeof (float);
  f->data = data;
  if (seconds != NULL)
    *seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  return &f->parent;
}

static FlorenceDecoderBackend *
engine_prepare_task (FlorenceEngine *self, const FlorenceImageFeatures *features, const gint32 *ids,
                     int n_ids, double *seconds, GCancellable *cancellable, GError **error)
{
  CpuEngine *e = self->priv;
  const CpuFeatures *f = (const CpuFeatures *) features;
  gint64 t0 = g_get_monotonic_time ();
  int n_enc = 0;
  float *enc =
    cpu_text_encode (e, f->data, features->n_tokens, ids, n_ids, &n_enc, cancellable, error);
  if (enc == NULL)
    return NULL;
  FlorenceDecoderBackend *dec = cpu_decoder_new (e, enc, n_enc, error);
  g_aligned_free (enc);
  if (seconds != NULL)
    *seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  return dec;
}

static void
engine_features_free (FlorenceEngine *self, FlorenceImageFeatures *features)
{
  CpuFeatures *f = (CpuFeatures *) features;
  g_aligned_free (f->data);
  g_free (f);
}

static void
engine_decoder_free (FlorenceEngine *self, FlorenceDecoderBackend *decoder)
{
  cpu_decoder_free (decoder);
}

static void
engine_free (FlorenceEngine *self)
{
  CpuEngine *e = self->priv;
  if (e == NULL)
    return;
  g_clear_pointer (&e->pool, florence_cpu_pool_free);
  if (e->buffers != NULL)
    g_ptr_array_unref (e->buffers);
  g_aligned_free (e->workspace);
  for (guint i = 0; i < e->n_scratch; i++)
    g_aligned_free (e->scratch[i]);
  g_free (e->scratch);
  g_free (e->scratch_size);
  g_mutex_clear (&e->scratch_lock);
  g_clear_pointer (&e->config, florence_config_free);
  g_free (e);
}

char *
florence_engine_cpu_describe_blas (GError **error)
{
  const FlorenceCpuBlas *blas = florence_cpu_blas_get (error);
  return blas != NULL ? g_strdup (florence_cpu_blas_get_description (blas)) : NULL;
}

static void
update_name (FlorenceEngine *self)
{
  CpuEngine *e = self->priv;
  const char *blas = florence_cpu_blas_get_description (e->blas);
  g_free (self->device_name);
  self->n_threads = florence_cpu_pool_get_n_threads (e->pool);
  self->device_name = g_strdup_printf (
    /* Translators: the engine in use; %s is the math library (“OpenBLAS 0.3.21, Haswell
     * kernels”), %d the number of threads */
    g_dngettext (GETTEXT_PACKAGE, "CPU (%s, %d thread)", "CPU (%s, %d threads)",
                 (gulong) self->n_threads),
    blas, self->n_threads);
}

static void
engine_set_n_threads (FlorenceEngine *self, int n_threads)
{
  CpuEngine *e = self->priv;
  guint wanted = (guint) (n_threads > 0 ? n_threads : florence_device_default_threads ());
  florence_cpu_pool_set_n_threads (e->pool, (int) MIN (wanted, e->max_threads));
  update_name (self);
}

FlorenceEngine *
florence_engine_cpu_new (const FlorenceConfig *config, FlorenceCheckpoint *checkpoint,
                         int n_threads, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (checkpoint != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!florence_graph_check_config (config, error))
    return NULL;

  /* our pool runs the BLAS inside its tasks, single-threaded (florence-cpu-blas.h) */
  const FlorenceCpuBlas *blas = florence_cpu_blas_get (error);
  if (blas == NULL)
    return NULL;

  g_autoptr (FlorenceEngine) self = g_new0 (FlorenceEngine, 1);
  CpuEngine *e = g_new0 (CpuEngine, 1);
  self->kind = FLORENCE_DEVICE_CPU;
  self->priv = e;
  self->encode_image = engine_encode_image;
  self->prepare_task = engine_prepare_task;
  self->features_free = engine_features_free;
  self->decoder_free = engine_decoder_free;
  self->free = engine_free;
  self->set_n_threads = engine_set_n_threads;
  e->engine = self;
  e->config = florence_config_copy (config);
  e->k = florence_cpu_kernels_get ();
  e->blas = blas;
  e->buffers = g_ptr_array_new_with_free_func (g_aligned_free);
  g_mutex_init (&e->scratch_lock);
  e->pool = florence_cpu_pool_new (1);

  if (!load_weights (e, checkpoint, error))
    return NULL;
  /* with the weights in place: no more threads than the address space leaves OpenBLAS room for
   * (here, and when the count changes) */
  guint wanted = (guint) (n_threads > 0 ? n_threads : florence_device_default_threads ());
  e->max_threads =
    florence_memory_cpu_threads (FLORENCE_CPU_POOL_MAX_THREADS,
                                 florence_config_estimate_working_bytes (
                                   config, config->image_size, (guint) MAX (config->num_beams, 1)),
                                 error);
  if (e->max_threads == 0)
    return NULL;
  if (e->max_threads < wanted)
    g_debug ("CPU engine: %u of %u threads fit under the address-space limit", e->max_threads,
             wanted);
  florence_cpu_pool_set_n_threads (e->pool, (int) MIN (wanted, e->max_threads));
  update_name (self);
  g_debug ("CPU engine: %s, kernels %s", self->device_name, e->k->name);
  return g_steal_pointer (&self);
}
