/* florence-engine-cpu-text.c: the CPU engine's BART encoder and decoder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Spec §4–§5, as florence-reference.c computes it. The encoder's layers are three GEMM passes
 * (q, k, v stacked; out + residual + LayerNorm; the feed-forward part fused per block of
 * rows) and one attention per head, blocked over the queries. The decoder runs the beams of a
 * step as the rows of one batch: each weight matrix is read once per step by the
 * matrix × few-vectors kernels, the cross-attention keys and values are computed once per task
 * (keys stored transposed for the attention kernel), and step_topk selects the candidates
 * with florence_generate_select_topk_normalised() over vectorised log-sums, skipping the LM
 * head on forced steps.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "florence/engine/florence-engine-cpu-private.h"

static void
embed_row (CpuEngine *e, gint32 id, float *dst)
{
  const gsize d = e->shared.cols;
  if (e->shared.f16 != NULL)
    e->k->f16_to_f32 (e->shared.f16 + (gsize) id * d, dst, d);
  else
    memcpy (dst, e->shared.f32 + (gsize) id * d, d * sizeof (float));
}

/* ---------------------------------------------------------------------------------------------
 * Encoder
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  CpuEngine *e;
  const float *qkv; /* [L, 3d], q scaled */
  float *out;       /* [L, d] */
  gsize L, d;
  int heads, splits; /* tasks: heads × splits of the queries */
} EncoderAttentionJob;

static void
encoder_attention_task (guint index, guint thread, gpointer data)
{
  const EncoderAttentionJob *j = data;
  const int h = (int) index % j->heads, part = (int) index / j->heads;
  const gsize hd = j->d / (gsize) j->heads, L = j->L, Lp = (L + 7) / 8 * 8, ld = 3 * j->d;
  const gsize q0 = L * part / j->splits, q1 = L * (part + 1) / j->splits;
  if (q1 <= q0)
    return;
  float *kt = cpu_scratch (j->e, thread, hd * Lp + florence_cpu_attention_scratch ((int) L));
  for (gsize t = 0; t < L; t++)
    for (gsize c = 0; c < hd; c++)
      kt[c * Lp + t] = j->qkv[t * ld + j->d + h * hd + c];
  FlorenceCpuAttention a = {
    .q = j->qkv + q0 * ld + h * hd,
    .ldq = ld,
    .kt = kt,
    .ldkt = Lp,
    .v = j->qkv + 2 * j->d + h * hd,
    .ldv = ld,
    .o = j->out + q0 * j->d + h * hd,
    .ldo = j->d,
    .nq = (int) (q1 - q0),
    .nk = (int) L,
    .hd = (int) hd,
    .scratch = kt + hd * Lp,
  };
  j->e->k->attention (&a);
}

typedef struct {
  CpuEngine *e;
  float *h;
  gsize d;
} EmbedJob;

static void
encoder_embed_range (gsize start, gsize end, guint thread, gpointer data)
{
  const EmbedJob *j = data;
  for (gsize t = start; t < end; t++)
    {
      float *row = j->h + t * j->d;
      j->e->k->add (row, j->e->enc_pos + (t + 2) * j->d, j->d);
      j->e->k->layernorm (row, row, j->d, j->e->enc_ln_emb.w, j->e->enc_ln_emb.b);
    }
}

float *
cpu_text_encode (CpuEngine *e, const float *image_features, int n_image, const gint32 *ids,
                 int n_ids, int *n_out, GCancellable *cancellable, GError **error)
{
  const FlorenceConfig *c = e->config;
  if (!florence_graph_check_prompt (c, n_image, ids, n_ids, error))
    return NULL;
  const gsize d = (gsize) c->d_model, L = (gsize) n_image + (gsize) n_ids;

  float *h = cpu_alloc (L * d);
  memcpy (h, image_features, (gsize) n_image * d * sizeof (float));
  for (int i = 0; i < n_ids; i++)
    embed_row (e, ids[i], h + ((gsize) n_image + i) * d);
  cpu_emit (e, "inputs_embeds", h, L, d);
  EmbedJob ej = { e, h, d };
  cpu_parallel (e, L, 16, encoder_embed_range, &ej);
  cpu_emit (e, "encoder_embeddings", h, L, d);

  const float scaling = 1.0f / sqrtf ((float) (d / (gsize) c->encoder_heads));
  float *qkv = cpu_alloc (L * 3 * d), *att = cpu_alloc (L * d);
  const int threads = florence_cpu_pool_get_n_threads (e->pool);
  for (int l = 0; l < c->encoder_layers; l++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          g_aligned_free (h), g_aligned_free (qkv), g_aligned_free (att);
          return NULL;
        }
      const CpuEncoderLayer *Ly = &e->enc[l];
      CpuLinear proj = { .x = h,
                         .ldx = d,
                         .M = L,
                         .K = d,
                         .w = Ly->qkv_w,
                         .N = 3 * d,
                         .bias = Ly->qkv_b,
                         .y = qkv,
                         .ldy = 3 * d,
                         .scale = scaling,
                         .scale_cols = d };
      cpu_linear (e, &proj);
      EncoderAttentionJob aj = { e,
                                 qkv,
                                 att,
                                 L,
                                 d,
                                 c->encoder_heads,
                                 MAX (1, (2 * threads + c->encoder_heads - 1) / c->encoder_heads) };
      cpu_scratch_reserve (e);
      florence_cpu_pool_run (e->pool, (guint) (aj.heads * aj.splits), encoder_attention_task, &aj);
      CpuLinear out = { .x = att,
                        .ldx = d,
                        .M = L,
                        .K = d,
                        .w = Ly->o_w,
                        .N = d,
                        .bias = Ly->o_b,
                        .y = h,
                        .ldy = d,
                        .accumulate = TRUE,
                        .postnorm = &Ly->ln1 };
      cpu_linear (e, &out);
      CpuMlp mlp = { .x = h,
                     .M = L,
                     .C = d,
                     .hidden = (gsize) c->encoder_ffn_dim,
                     .fc1_w = Ly->fc1_w,
                     .fc1_b = Ly->fc1_b,
                     .fc2_w = Ly->fc2_w,
                     .fc2_b = Ly->fc2_b,
                     .postnorm = &Ly->ln3 };
      cpu_mlp (e, &mlp);
      char name[32];
      g_snprintf (name, sizeof name, "encoder_layer%d", l);
      cpu_emit (e, name, h, L, d);
    }
  g_aligned_free (qkv);
  g_aligned_free (att);
  cpu_emit (e, "encoder_last_hidden_state", h, L, d);
  *n_out = (int) L;
  return h;
}

/* ---------------------------------------------------------------------------------------------
 * Decoder backend
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  FlorenceDecoderBackend parent;
  CpuEngine *e;
  gsize n_enc, n_enc_pad;
  float **cross_kt; /* per layer [d × n_enc_pad]: keys transposed */
  float **cross_kv; /* per layer [n_enc × 2d]: the values are columns d … 2d */
  guint n_beams;
  gsize len, cap;           /* positions cached, allocated */
  float **self_k, **self_v; /* per layer [cap][n_beams][d] */
  /* per step, [n_beams × …] */
  float *h, *qkv, *q, *att, *ff, *logits;
  guint rows; /* beams the per-step buffers hold */
} CpuDecoder;

static void
decoder_clear_cache (CpuDecoder *dec)
{
  for (int l = 0; l < dec->e->config->decoder_layers; l++)
    {
      g_clear_pointer (&dec->self_k[l], g_aligned_free);
      g_clear_pointer (&dec->self_v[l], g_aligned_free);
    }
  dec->len = dec->cap = 0;
}

static gboolean
decoder_begin (FlorenceDecoderBackend *backend, guint n_beams, GError **error)
{
  CpuDecoder *dec = (CpuDecoder *) backend;
  const FlorenceConfig *c = dec->e->config;
  decoder_clear_cache (dec);
  dec->n_beams = n_beams;
  if (n_beams > dec->rows)
    {
      const gsize d = (gsize) c->d_model, B = n_beams;
      g_aligned_free (dec->h), g_aligned_free (dec->qkv), g_aligned_free (dec->q);
      g_aligned_free (dec->att), g_aligned_free (dec->ff), g_aligned_free (dec->logits);
      dec->h = cpu_alloc (B * d);
      dec->qkv = cpu_alloc (B * 3 * d);
      dec->q = cpu_alloc (B * d);
      dec->att = cpu_alloc (B * d);
      dec->ff = cpu_alloc (B * (gsize) c->decoder_ffn_dim);
      dec->logits = cpu_alloc (B * (gsize) c->vocab_size);
      dec->rows = n_beams;
    }
  return TRUE;
}

static void
decoder_reserve (CpuDecoder *dec, gsize positions)
{
  if (positions <= dec->cap)
    return;
  const FlorenceConfig *c = dec->e->config;
  gsize cap = MAX (MAX (dec->cap * 2, (gsize) 32), positions);
  const gsize row = (gsize) dec->n_beams * (gsize) c->d_model;
  for (int l = 0; l < c->decoder_layers; l++)
    for (int kv = 0; kv < 2; kv++)
      {
        float **cache = kv == 0 ? &dec->self_k[l] : &dec->self_v[l];
        float *grown = cpu_alloc (cap * row);
        if (*cache != NULL)
          memcpy (grown, *cache, dec->len * row * sizeof (float));
        g_aligned_free (*cache);
        *cache = grown;
      }
  dec->cap = cap;
}

typedef struct {
  CpuDecoder *dec;
  int layer;
  gsize t; /* the step's position */
} AttentionJob;

/* self-attention of beam b, head h over positions 0 … t */
static void
self_attention_task (guint index, guint thread, gpointer data)
{
  const AttentionJob *j = data;
  CpuDecoder *dec = j->dec;
  CpuEngine *e = dec->e;
  const int heads = e->config->decoder_heads;
  const gsize d = (gsize) e->config->d_model, hd = d / (gsize) heads;
  const guint b = index / (guint) heads, h = index % (guint) heads;
  const gsize row = (gsize) dec->n_beams * d, n = j->t + 1;
  FlorenceCpuAttention a = {
    .q = dec->qkv + b * 3 * d + h * hd,
    .ldq = 3 * d,
    .k = dec->self_k[j->layer] + b * d + h * hd,
    .ldk = row,
    .v = dec->self_v[j->layer] + b * d + h * hd,
    .ldv = row,
    .o = dec->att + b * d + h * hd,
    .ldo = d,
    .nq = 1,
    .nk = (int) n,
    .hd = (int) hd,
    .scratch = cpu_scratch (e, thread, florence_cpu_attention_scratch ((int) n)),
  };
  e->k->attention (&a);
}

/* cross-attention of every beam, head h */
static void
cross_attention_task (guint index, guint thread, gpointer data)
{
  const AttentionJob *j = data;
  CpuDecoder *dec = j->dec;
  CpuEngine *e = dec->e;
  const gsize d = (gsize) e->config->d_model, hd = d / (gsize) e->config->decoder_heads;
  FlorenceCpuAttention a = {
    .q = dec->q + index * hd,
    .ldq = d,
    .kt = dec->cross_kt[j->layer] + index * hd * dec->n_enc_pad,
    .ldkt = dec->n_enc_pad,
    .v = dec->cross_kv[j->layer] + d + index * hd,
    .ldv = 2 * d,
    .o = dec->att + index * hd,
    .ldo = d,
    .nq = (int) dec->n_beams,
    .nk = (int) dec->n_enc,
    .hd = (int) hd,
    .scratch = cpu_scratch (e, thread, florence_cpu_attention_scratch ((int) dec->n_enc)),
  };
  e->k->attention (&a);
}

static void
layernorm_rows (CpuEngine *e, float *x, guint rows, gsize d, const CpuNorm *n)
{
  for (guint b = 0; b < rows; b++)
    e->k->layernorm (x + b * d, x + b * d, d, n->w, n->b);
}

/* Runs a step; the LM head writes logits [B × vocab_size] when logits is not NULL. */
static gboolean
decoder_step (CpuDecoder *dec, const FlorenceDecodeStep *step, float *logits, GError **error)
{
  CpuEngine *e = dec->e;
  const FlorenceConfig *c = e->config;
  const guint B = step->n_beams;
  const gsize d = (gsize) c->d_model, t = step->position;

  if (!florence_graph_check_step (c, step, dec->n_beams, dec->len, e->shared.rows, error))
    return FALSE;
  const gsize row = (gsize) B * d;
  for (int l = 0; l < c->decoder_layers; l++)
    {
      florence_graph_reorder_cache (dec->self_k[l], step, d);
      florence_graph_reorder_cache (dec->self_v[l], step, d);
    }
  decoder_reserve (dec, t + 1);
  dec->len = t + 1;
  cpu_scratch_reserve (e);

  const float scaling = 1.0f / sqrtf ((float) (d / (gsize) c->decoder_heads));
  for (guint b = 0; b < B; b++)
    {
      float *hb = dec->h + (gsize) b * d;
      embed_row (e, step->tokens[b], hb);
      e->k->add (hb, e->dec_pos + (t + 2) * d, d);
      e->k->layernorm (hb, hb, d, e->dec_ln_emb.w, e->dec_ln_emb.b);
    }

  for (int l = 0; l < c->decoder_layers; l++)
    {
      const CpuDecoderLayer *Ly = &e->dec[l];
      AttentionJob aj = { dec, l, t };

      cpu_gemv (e, dec->h, d, B, &Ly->qkv, Ly->qkv_b, dec->qkv, 3 * d, FALSE, FALSE);
      for (guint b = 0; b < B; b++)
        {
          float *qb = dec->qkv + (gsize) b * 3 * d;
          for (gsize i = 0; i < d; i++)
            qb[i] *= scaling;
          memcpy (dec->self_k[l] + t * row + (gsize) b * d, qb + d, d * sizeof (float));
          memcpy (dec->self_v[l] + t * row + (gsize) b * d, qb + 2 * d, d * sizeof (float));
        }
      florence_cpu_pool_run (e->pool, B * (guint) c->decoder_heads, self_attention_task, &aj);
      cpu_gemv (e, dec->att, d, B, &Ly->o, Ly->o_b, dec->h, d, TRUE, FALSE);
      layernorm_rows (e, dec->h, B, d, &Ly->ln1);

      cpu_gemv (e, dec->h, d, B, &Ly->cq, Ly->cq_b, dec->q, d, FALSE, FALSE);
      for (gsize i = 0; i < row; i++)
        dec->q[i] *= scaling;
      florence_cpu_pool_run (e->pool, (guint) c->decoder_heads, cross_attention_task, &aj);
      cpu_gemv (e, dec->att, d, B, &Ly->co, Ly->co_b, dec->h, d, TRUE, FALSE);
      layernorm_rows (e, dec->h, B, d, &Ly->ln2);

      const gsize ffn = (gsize) c->decoder_ffn_dim;
      cpu_gemv (e, dec->h, d, B, &Ly->fc1, Ly->fc1_b, dec->ff, ffn, FALSE, TRUE);
      cpu_gemv (e, dec->ff, ffn, B, &Ly->fc2, Ly->fc2_b, dec->h, d, TRUE, FALSE);
      layernorm_rows (e, dec->h, B, d, &Ly->ln3);
    }

  if (logits != NULL)
    {
      /* tied LM head over the real vocabulary + final_logits_bias */
      CpuMatrix head = e->shared;
      head.rows = (gsize) c->vocab_size;
      cpu_gemv (e, dec->h, d, B, &head, e->final_logits_bias, logits, (gsize) c->vocab_size, FALSE,
                FALSE);
    }
  return TRUE;
}

static gboolean
decoder_step_logits (FlorenceDecoderBackend *backend, const FlorenceDecodeStep *step, float *logits,
                     GError **error)
{
  return decoder_step ((CpuDecoder *) backend, step, logits, error);
}

typedef struct {
  CpuDecoder *dec;
  const FlorenceDecodeStep *step;
  gint32 *ids;
  float *scores;
} TopkJob;

static void
topk_task (guint b, guint thread, gpointer data)
{
  const TopkJob *j = data;
  const FlorenceDecodeStep *step = j->step;
  CpuEngine *e = j->dec->e;
  const gsize V = (gsize) e->config->vocab_size;
  const float *logits = j->dec->logits + b * V;
  float max = 0.0f, log_sum = 0.0f;
  if (step->score_kind == FLORENCE_SCORE_LOG_SOFTMAX || step->log_norm != NULL)
    {
      max = e->k->max (logits, V);
      log_sum = (float) log (e->k->sum_exp (logits, V, max));
    }
  if (step->log_norm != NULL)
    step->log_norm[b] = max + log_sum; /* greedy: the token's log-probability */
  const guint off = step->ban_offsets != NULL ? step->ban_offsets[b] : 0;
  const guint n_bans = step->ban_offsets != NULL ? step->ban_offsets[b + 1] - off : 0;
  florence_generate_select_topk_normalised (
    logits, (int) V, step->score_kind, step->bans != NULL ? step->bans + off : NULL, n_bans, -1,
    step->k, max, log_sum, j->ids + (gsize) b * step->k, j->scores + (gsize) b * step->k);
}

static gboolean
decoder_step_topk (FlorenceDecoderBackend *backend, const FlorenceDecodeStep *step, gint32 *ids,
                   float *scores, GError **error)
{
  CpuDecoder *dec = (CpuDecoder *) backend;
  const gboolean forced = step->forced_token >= 0;
  if (!decoder_step (dec, step, forced ? NULL : dec->logits, error))
    return FALSE;
  if (forced)
    {
      /* the LM head is skipped: the forced token, then -inf fillers */
      for (guint b = 0; b < step->n_beams; b++)
        for (guint i = 0; i < step->k; i++)
          {
            gint32 id = i == 0 ? step->forced_token : (gint32) (i - 1);
            if (i > 0 && id >= step->forced_token)
              id++;
            ids[(gsize) b * step->k + i] = id;
            scores[(gsize) b * step->k + i] = i == 0 ? 0.0f : -INFINITY;
          }
      return TRUE;
    }
  TopkJob j = { dec, step, ids, scores };
  florence_cpu_pool_run (dec->e->pool, step->n_beams, topk_task, &j);
  return TRUE;
}

typedef struct {
  CpuDecoder *dec;
  float *kv;
  gsize d;
  float *kt;
} TransposeJob;

static void
transpose_range (gsize start, gsize end, guint thread, gpointer data)
{
  const TransposeJob *j = data;
  const gsize L = j->dec->n_enc, Lp = j->dec->n_enc_pad;
  for (gsize c = start; c < end; c++)
    {
      float *dst = j->kt + c * Lp;
      for (gsize t = 0; t < L; t++)
        dst[t] = j->kv[t * 2 * j->d + c];
      for (gsize t = L; t < Lp; t++)
        dst[t] = 0.0f;
    }
}

FlorenceDecoderBackend *
cpu_decoder_new (CpuEngine *e, const float *encoder_out, int n_enc, GError **error)
{
  const FlorenceConfig *c = e->config;
  const gsize d = (gsize) c->d_model, L = (gsize) n_enc;
  CpuDecoder *dec = g_new0 (CpuDecoder, 1);
  dec->parent.vocab_size = c->vocab_size;
  dec->parent.max_positions = c->max_position_embeddings;
  dec->parent.begin = decoder_begin;
  dec->parent.step_logits = decoder_step_logits;
  dec->parent.step_topk = decoder_step_topk;
  dec->parent.user_data = dec;
  dec->e = e;
  dec->n_enc = L;
  dec->n_enc_pad = (L + 7) / 8 * 8;
  const int nl = MAX (c->decoder_layers, 1);
  dec->cross_kt = g_new0 (float *, nl);
  dec->cross_kv = g_new0 (float *, nl);
  dec->self_k = g_new0 (float *, nl);
  dec->self_v = g_new0 (float *, nl);
  for (int l = 0; l < c->decoder_layers; l++)
    {
      dec->cross_kv[l] = cpu_alloc (L * 2 * d);
      dec->cross_kt[l] = cpu_alloc (d * dec->n_enc_pad);
      CpuLinear kv = { .x = encoder_out,
                       .ldx = d,
                       .M = L,
                       .K = d,
                       .w = e->dec[l].ckv_w,
                       .N = 2 * d,
                       .bias = e->dec[l].ckv_b,
                       .y = dec->cross_kv[l],
                       .ldy = 2 * d };
      cpu_linear (e, &kv);
      TransposeJob tj = { dec, dec->cross_kv[l], d, dec->cross_kt[l] };
      cpu_parallel (e, d, 16, transpose_range, &tj);
    }
  return &dec->parent;
}

void
cpu_decoder_free (FlorenceDecoderBackend *decoder)
{
  if (decoder == NULL)
    return;
  CpuDecoder *dec = (CpuDecoder *) decoder;
  decoder_clear_cache (dec);
  for (int l = 0; l < dec->e->config->decoder_layers; l++)
    {
      g_aligned_free (dec->cross_kt[l]);
      g_aligned_free (dec->cross_kv[l]);
    }
  g_free (dec->cross_kt);
  g_free (dec->cross_kv);
  g_free (dec->self_k);
  g_free (dec->self_v);
  g_aligned_free (dec->h), g_aligned_free (dec->qkv), g_aligned_free (dec->q);
  g_aligned_free (dec->att), g_aligned_free (dec->ff), g_aligned_free (dec->logits);
  g_free (dec);
}
