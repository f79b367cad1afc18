/* florence-engine-gpu-decoder.c: the decoder backend of the GPU engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A step is recorded once and then replayed: everything that changes from step to step lives
 * in device buffers that the host writes through upload slots before each replay — the token
 * ids and the position (ctl: ids[beams], t), the beam table, the row controls of the top-k
 * (forced token, bans). The decoder keeps one recorder for its whole life, so its command
 * pool, fence and staging memory are made once.
 *
 * The self-attention cache is never copied when beams reorder: beam b's key at position j is
 * the cache row (table[b, j], j), the row that beam table[b, j] wrote at step j; the host keeps
 * the table ([beams, cap] int32) and uploads it with each step. The caches are sized to the
 * generation's limit (sequence_positions, its max_new_tokens) up to CACHE_START positions, and
 * double when a longer sequence reaches their capacity, never beyond its limit: a caption never
 * holds the memory of a 1024-token OCR result, and a sequence within CACHE_START positions
 * allocates nothing after begin and the first step.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "florence/engine/florence-engine-gpu-private.h"
#include "gpu/gpu-op-attention.h"
#include "gpu/gpu-op-embed.h"
#include "gpu/gpu-op-gemm.h"
#include "gpu/gpu-op-logits.h"
#include "gpu/gpu-op-norm.h"

#define LN_EPS FLORENCE_GPU_LN_EPS
#define CACHE_START 256 /* positions the caches hold at most at first (the memory check's) */

typedef struct {
  FlorenceDecoderBackend parent;
  FlorenceEngine *engine;
  Gpu *g;
  guint n_enc;
  GpuBuffer **cross_k, **cross_v; /* per layer [n_enc, d], owned */
  GpuRecorder *rec;               /* for the decoder's life */

  /* per sequence (begin) */
  GPtrArray *buffers; /* owns what follows */
  guint n_beams, cap, len;
  guint limit;                  /* the positions this sequence may use (the generation's limit) */
  GpuBuffer **self_k, **self_v; /* per layer [beams, cap, d] */
  GpuBuffer *ctl;               /* int32: ids[beams], t */
  GpuBuffer *table;             /* int32 [beams, cap] */
  GpuBuffer *h, *qkv, *q, *att, *tmp, *ffn, *logits;
  GpuBuffer *topk_ctl, *scratch, *out;
  gint32 *host_table, *host_table_next; /* [beams, cap] */

  /* the kept recording: what it was made for, and its slots */
  gboolean kept_topk;
  guint kept_k, kept_bans;
  gint32 *slot_ctl, *slot_table, *slot_topk;
  guint8 *host_out;   /* top-k results (topk recording) */
  float *host_logits; /* logits (logits recording) */
} GpuDecoder;

guint64
florence_gpu_decoder_bytes (const FlorenceConfig *c, guint beams, guint positions)
{
  const guint64 d = (guint64) c->d_model;
  guint64 caches = (guint64) MAX (c->decoder_layers, 1) * 2 * beams * positions * d * 4;
  guint64 rows = (guint64) beams * (8 * d + (guint64) c->decoder_ffn_dim + c->vocab_size) * 4;
  return caches + rows + (guint64) beams * positions * 4 + (1 << 20);
}

static GpuBuffer *
dec_buffer (GpuDecoder *dec, guint64 bytes, GError **error)
{
  if (error != NULL && *error != NULL)
    return NULL;
  GpuBuffer *b = gpu_buffer_new (dec->g->device, MAX (bytes, (guint64) 4), error);
  if (b != NULL)
    g_ptr_array_add (dec->buffers, b);
  return b;
}

static void
dec_drop (GpuDecoder *dec, GpuBuffer **b)
{
  if (*b != NULL)
    g_ptr_array_remove_fast (dec->buffers, *b);
  *b = NULL;
}

/* Forgets the kept recording (the buffers it names change, or what it computes). */
static void
dec_forget_recording (GpuDecoder *dec)
{
  gpu_recorder_discard (dec->rec);
  dec->slot_ctl = dec->slot_table = dec->slot_topk = NULL;
  g_clear_pointer (&dec->host_out, g_free);
  g_clear_pointer (&dec->host_logits, g_free);
}

static void
dec_clear_sequence (GpuDecoder *dec)
{
  dec_forget_recording (dec);
  g_ptr_array_set_size (dec->buffers, 0);
  g_clear_pointer (&dec->self_k, g_free);
  g_clear_pointer (&dec->self_v, g_free);
  g_clear_pointer (&dec->host_table, g_free);
  g_clear_pointer (&dec->host_table_next, g_free);
  dec->ctl = dec->table = NULL;
  dec->h = dec->qkv = dec->q = dec->att = dec->tmp = dec->ffn = dec->logits = NULL;
  dec->topk_ctl = dec->scratch = dec->out = NULL;
  dec->n_beams = dec->cap = dec->len = 0;
}

/* The caches and the table for @cap positions; the rows of the old ones are kept. */
static gboolean
dec_set_capacity (GpuDecoder *dec, guint cap, GError **error)
{
  const FlorenceConfig *c = dec->g->config;
  const guint B = dec->n_beams, d = (guint) c->d_model, old = dec->cap;
  const guint64 bytes = (guint64) B * cap * d * 4;
  /* the old buffers go once the copies out of them have run */
  g_autoptr (GPtrArray) old_buffers = g_ptr_array_new ();
  dec_forget_recording (dec);
  if (dec->table != NULL)
    g_ptr_array_add (old_buffers, dec->table);
  if ((dec->table = dec_buffer (dec, (guint64) B * cap * 4, error)) == NULL)
    return FALSE;
  for (int l = 0; l < c->decoder_layers; l++)
    for (int kv = 0; kv < 2; kv++)
      {
        GpuBuffer **slot = kv == 0 ? &dec->self_k[l] : &dec->self_v[l];
        GpuBuffer *grown = dec_buffer (dec, bytes, error);
        if (grown == NULL)
          return FALSE;
        if (*slot != NULL)
          {
            for (guint b = 0; b < B; b++)
              gpu_recorder_copy (dec->rec, *slot, (guint64) b * old * d * 4, grown,
                                 (guint64) b * cap * d * 4, (guint64) old * d * 4);
            g_ptr_array_add (old_buffers, *slot);
          }
        *slot = grown;
      }
  gboolean copied = gpu_recorder_submit (dec->rec, NULL, error);
  for (guint i = 0; i < old_buffers->len; i++)
    g_ptr_array_remove_fast (dec->buffers, old_buffers->pdata[i]);
  if (!copied)
    return FALSE;
  gint32 *t = g_new0 (gint32, (gsize) B * cap);
  for (guint b = 0; b < B && dec->host_table != NULL; b++)
    memcpy (t + (gsize) b * cap, dec->host_table + (gsize) b * old, (gsize) old * 4);
  g_free (dec->host_table);
  g_free (dec->host_table_next);
  dec->host_table = t;
  dec->host_table_next = g_new0 (gint32, (gsize) B * cap);
  dec->cap = cap;
  dec_forget_recording (dec);
  return TRUE;
}

static gboolean
gpu_decoder_begin (FlorenceDecoderBackend *backend, guint n_beams, GError **error)
{
  GpuDecoder *dec = (GpuDecoder *) backend;
  const FlorenceConfig *c = dec->g->config;
  const guint d = (guint) c->d_model, V = (guint) c->vocab_size;
  /* a beam search reads back 2 × beams candidates per beam */
  const guint max_beams = MIN (GPU_OP_ATTENTION_MAX_BEAMS, GPU_OP_TOPK_MAX_K / 2);
  if (n_beams == 0 || n_beams > max_beams)
    {
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                   _ ("The GPU decoder runs 1 to %u beams, not %u."), max_beams, n_beams);
      return FALSE;
    }
  dec_clear_sequence (dec);
  dec->n_beams = n_beams;
  const guint max_pos = (guint) c->max_position_embeddings;
  dec->limit =
    backend->sequence_positions > 0 ? MIN ((guint) backend->sequence_positions, max_pos) : max_pos;
  const int nl = MAX (c->decoder_layers, 1);
  dec->self_k = g_new0 (GpuBuffer *, nl);
  dec->self_v = g_new0 (GpuBuffer *, nl);
  const guint64 row = (guint64) n_beams * d * 4;
  dec->ctl = dec_buffer (dec, (guint64) (n_beams + 1) * 4, error);
  dec->h = dec_buffer (dec, row, error);
  dec->qkv = dec_buffer (dec, 3 * row, error);
  dec->q = dec_buffer (dec, row, error);
  dec->att = dec_buffer (dec, row, error);
  dec->tmp = dec_buffer (dec, row, error);
  dec->ffn = dec_buffer (dec, (guint64) n_beams * (guint) c->decoder_ffn_dim * 4, error);
  dec->logits = dec_buffer (dec, (guint64) n_beams * V * 4, error);
  if (dec->logits == NULL || !dec_set_capacity (dec, MIN (CACHE_START, dec->limit), error))
    return FALSE;
  return TRUE;
}

/* The top-k buffers for @k candidates and @bans banned ids per step (grown, never shrunk). */
static gboolean
dec_topk_buffers (GpuDecoder *dec, guint k, guint bans, GError **error)
{
  const guint B = dec->n_beams;
  if (dec->topk_ctl == NULL || bans > dec->kept_bans || dec->out == NULL || k > dec->kept_k)
    dec_forget_recording (dec); /* it names the buffers replaced below */
  if (dec->topk_ctl == NULL || bans > dec->kept_bans)
    {
      dec_drop (dec, &dec->topk_ctl);
      dec->kept_bans = MAX (bans, 64u) * 2;
      if ((dec->topk_ctl =
             dec_buffer (dec, gpu_op_logits_topk_ctl_size (B, dec->kept_bans), error)) == NULL)
        return FALSE;
      dec_forget_recording (dec);
    }
  if (dec->out == NULL || k > dec->kept_k)
    {
      dec_drop (dec, &dec->out);
      dec_drop (dec, &dec->scratch);
      dec->kept_k = k;
      if ((dec->out = dec_buffer (dec, gpu_op_logits_topk_out_size (B, k), error)) == NULL ||
          (dec->scratch = dec_buffer (dec, gpu_op_logits_topk_scratch_size (dec->g->device, B, k),
                                      error)) == NULL)
        return FALSE;
      dec_forget_recording (dec);
    }
  return TRUE;
}

/* One decoder layer on dec->h: self-attention over the cache, cross-attention, FFN. */
static void
record_layer (GpuDecoder *dec, int l)
{
  GpuRecorder *rec = dec->rec;
  const FlorenceConfig *c = dec->g->config;
  const GLayer *Ly = &dec->g->dec[l];
  const guint B = dec->n_beams, d = (guint) c->d_model;
  const guint heads = (guint) c->decoder_heads, ffn = (guint) c->decoder_ffn_dim;
  const float scale = 1.0f / sqrtf ((float) (d / heads));

  gpu_op_linear (rec, dec->h, Ly->qkv.w, GPU_GEMM_WEIGHT_F16, Ly->qkv.b, NULL, dec->qkv, B, 3 * d,
                 d, FALSE);
  GpuAttentionStep sa = {
    .qkv = dec->qkv,
    .k_cache = dec->self_k[l],
    .v_cache = dec->self_v[l],
    .table = dec->table,
    .ctl = dec->ctl,
    .pos_word = B,
    .out = dec->att,
    .beams = B,
    .cap = dec->cap,
    .heads = heads,
    .head_dim = d / heads,
    .scale = scale,
  };
  gpu_op_attention_step (rec, &sa);
  gpu_op_linear (rec, dec->att, Ly->o.w, GPU_GEMM_WEIGHT_F16, Ly->o.b, NULL, dec->tmp, B, d, d,
                 FALSE);
  gpu_op_layernorm (rec, dec->tmp, dec->h, Ly->ln1.w, Ly->ln1.b, FALSE, B, d, LN_EPS, dec->h);

  gpu_op_linear (rec, dec->h, Ly->cq.w, GPU_GEMM_WEIGHT_F16, Ly->cq.b, NULL, dec->q, B, d, d,
                 FALSE);
  GpuAttention ca = {
    .q = { dec->q, 0, d, d },
    .k = { dec->cross_k[l], 0, d, 0 },
    .v = { dec->cross_v[l], 0, d, 0 },
    .out = { dec->att, 0, d, d },
    .batch = B,
    .n_q = 1,
    .n_kv = dec->n_enc,
    .heads = heads,
    .head_dim = d / heads,
    .scale = scale,
    .causal = FALSE,
  };
  gpu_op_attention (rec, &ca);
  gpu_op_linear (rec, dec->att, Ly->co.w, GPU_GEMM_WEIGHT_F16, Ly->co.b, NULL, dec->tmp, B, d, d,
                 FALSE);
  gpu_op_layernorm (rec, dec->tmp, dec->h, Ly->ln2.w, Ly->ln2.b, FALSE, B, d, LN_EPS, dec->h);

  gpu_op_linear (rec, dec->h, Ly->fc1.w, GPU_GEMM_WEIGHT_F16, Ly->fc1.b, NULL, dec->ffn, B, ffn, d,
                 TRUE);
  gpu_op_linear (rec, dec->ffn, Ly->fc2.w, GPU_GEMM_WEIGHT_F16, Ly->fc2.b, NULL, dec->tmp, B, d,
                 ffn, FALSE);
  gpu_op_layernorm (rec, dec->tmp, dec->h, Ly->ln3.w, Ly->ln3.b, FALSE, B, d, LN_EPS, dec->h);
}

/* Records a whole step (kept for replays): the inputs through slots, the embedding, the layers,
 * the LM head, then the top-k (@topk) or the logits read back. */
static gboolean
record_step (GpuDecoder *dec, gboolean topk, GError **error)
{
  GpuRecorder *rec = dec->rec;
  Gpu *g = dec->g;
  const FlorenceConfig *c = g->config;
  const guint B = dec->n_beams, d = (guint) c->d_model, V = (guint) c->vocab_size;

  dec_forget_recording (dec);
  gpu_recorder_keep (rec);
  dec->slot_ctl = gpu_recorder_upload_slot (rec, dec->ctl, 0, (guint64) (B + 1) * 4);
  dec->slot_table = gpu_recorder_upload_slot (rec, dec->table, 0, (guint64) B * dec->cap * 4);
  gpu_op_embedding_step (rec, g->shared, TRUE, (guint) c->vocab_size, d, dec->ctl, B, g->dec_pos,
                         FALSE, 2, (guint) c->max_position_embeddings + 2, dec->h);
  gpu_op_layernorm (rec, dec->h, NULL, g->dec_ln_emb.w, g->dec_ln_emb.b, FALSE, B, d, LN_EPS,
                    dec->h);
  for (int l = 0; l < c->decoder_layers; l++)
    record_layer (dec, l);
  gpu_op_linear (rec, dec->h, g->shared, GPU_GEMM_WEIGHT_F16, g->final_logits_bias, NULL,
                 dec->logits, B, V, d, FALSE);
  if (topk)
    {
      dec->slot_topk = gpu_recorder_upload_slot (rec, dec->topk_ctl, 0,
                                                 gpu_op_logits_topk_ctl_size (B, dec->kept_bans));
      gpu_op_logits_topk_ctl_given (rec, dec->logits, 0, V, B, V, dec->kept_bans, dec->kept_k,
                                    dec->topk_ctl, dec->scratch, dec->out);
      guint64 out_bytes = gpu_op_logits_topk_out_size (B, dec->kept_k);
      dec->host_out = g_malloc (out_bytes);
      gpu_recorder_download (rec, dec->out, 0, dec->host_out, out_bytes);
    }
  else
    {
      dec->host_logits = g_new (float, (gsize) B *V);
      gpu_recorder_download (rec, dec->logits, 0, dec->host_logits, (guint64) B * V * 4);
    }
  dec->kept_topk = topk;
  if (gpu_recorder_has_error (rec) || dec->slot_ctl == NULL || dec->slot_table == NULL ||
      (topk && dec->slot_topk == NULL))
    {
      /* the recorder holds the reason: submitting returns it */
      if (gpu_recorder_submit (rec, NULL, error))
        g_set_error_literal (error, GPU_ERROR, GPU_ERROR_FAILED,
                             _ ("The GPU decoder step could not be recorded."));
      dec_forget_recording (dec);
      return FALSE;
    }
  return TRUE;
}

/* Checks the step, grows the caches when needed, updates the beam table. */
static gboolean
prepare_step (GpuDecoder *dec, const FlorenceDecodeStep *step, GError **error)
{
  const FlorenceConfig *c = dec->g->config;
  const guint B = step->n_beams, t = step->position;
  if (B != dec->n_beams || t != dec->len || t >= (guint) c->max_position_embeddings)
    {
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                   _ ("The decoder was asked for position %u of %u beams, which does not follow "
                      "its cache. This is a bug; please report it."),
                   t, B);
      return FALSE;
    }
  for (guint b = 0; b < B; b++)
    if (step->tokens[b] < 0 || step->tokens[b] >= c->vocab_size ||
        (step->reorder != NULL && step->reorder[b] >= B))
      {
        g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                     _ ("The decoder was given the token id %d, which is outside the "
                        "vocabulary. This is a bug; please report it."),
                     step->tokens[b]);
        return FALSE;
      }
  if (t >= dec->cap)
    {
      /* twice the capacity, within the sequence's limit (or past it, for a caller that steps
       * beyond the limit it declared) and the model's positions */
      guint grown = MAX (2 * dec->cap, t + 1);
      if (t < dec->limit)
        grown = MIN (grown, dec->limit);
      if (!dec_set_capacity (dec, MIN (grown, (guint) c->max_position_embeddings), error))
        return FALSE;
    }
  /* beam b continues the history of beam reorder[b]; its own row t is (b, t) */
  const gsize cap = dec->cap;
  for (guint b = 0; b < B; b++)
    {
      guint from = t > 0 && step->reorder != NULL ? step->reorder[b] : b;
      memcpy (dec->host_table_next + b * cap, dec->host_table + from * cap, (gsize) t * 4);
      dec->host_table_next[b * cap + t] = (gint32) b;
    }
  gint32 *swap = dec->host_table;
  dec->host_table = dec->host_table_next;
  dec->host_table_next = swap;
  return TRUE;
}

/* Writes the step's inputs into the slots and submits (a new recording) or replays. */
static gboolean
run_step (GpuDecoder *dec, const FlorenceDecodeStep *step, gboolean fresh, GError **error)
{
  const guint B = dec->n_beams;
  memcpy (dec->slot_ctl, step->tokens, (gsize) B * 4);
  dec->slot_ctl[B] = (gint32) step->position;
  memcpy (dec->slot_table, dec->host_table, (gsize) B * dec->cap * 4);
  gboolean ok = fresh ? gpu_recorder_submit (dec->rec, NULL, error)
                      : gpu_recorder_replay (dec->rec, NULL, error);
  if (!ok)
    {
      dec_forget_recording (dec);
      return FALSE;
    }
  dec->len = step->position + 1;
  return TRUE;
}

static gboolean
gpu_decoder_step_logits (FlorenceDecoderBackend *backend, const FlorenceDecodeStep *step,
                         float *logits, GError **error)
{
  GpuDecoder *dec = (GpuDecoder *) backend;
  if (!prepare_step (dec, step, error))
    return FALSE;
  gboolean fresh = !gpu_recorder_has_kept (dec->rec) || dec->kept_topk;
  if (fresh && !record_step (dec, FALSE, error))
    return FALSE;
  if (!run_step (dec, step, fresh, error))
    return FALSE;
  memcpy (logits, dec->host_logits, (gsize) step->n_beams * dec->g->config->vocab_size * 4);
  return TRUE;
}

static gboolean
gpu_decoder_step_topk (FlorenceDecoderBackend *backend, const FlorenceDecodeStep *step, gint32 *ids,
                       float *scores, GError **error)
{
  GpuDecoder *dec = (GpuDecoder *) backend;
  const guint B = step->n_beams, k = step->k, V = (guint) dec->g->config->vocab_size;
  if (k == 0 || k > GPU_OP_TOPK_MAX_K || !prepare_step (dec, step, error))
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                     _ ("The GPU decoder reads back 1 to %u candidates per beam, not %u."),
                     GPU_OP_TOPK_MAX_K, k);
      return FALSE;
    }
  guint n_bans = step->ban_offsets != NULL ? step->ban_offsets[B] : 0;
  if (!dec_topk_buffers (dec, k, n_bans, error))
    return FALSE;
  gboolean fresh = !gpu_recorder_has_kept (dec->rec) || !dec->kept_topk;
  if (fresh && !record_step (dec, TRUE, error))
    return FALSE;
  g_autofree gint32 *forced = g_new (gint32, B);
  g_autofree guint *counts = g_new0 (guint, B);
  for (guint b = 0; b < B; b++)
    {
      forced[b] = step->forced_token;
      if (step->ban_offsets != NULL)
        counts[b] = step->ban_offsets[b + 1] - step->ban_offsets[b];
    }
  gpu_op_logits_topk_fill_ctl (dec->slot_topk, B, V, forced, n_bans > 0 ? step->bans : NULL,
                               n_bans > 0 ? counts : NULL);
  if (!run_step (dec, step, fresh, error))
    return FALSE;

  /* the recording reads back kept_k ≥ k candidates per beam, best first */
  g_autofree GpuTopkCandidate *cand = g_new (GpuTopkCandidate, dec->kept_k);
  for (guint b = 0; b < B; b++)
    {
      float lse = 0.0f;
      gpu_op_logits_topk_parse (dec->host_out, b, dec->kept_k, cand, NULL, &lse);
      if (step->log_norm != NULL && step->forced_token < 0)
        step->log_norm[b] = lse; /* read back with the candidates */
      for (guint i = 0; i < k; i++)
        {
          ids[b * k + i] = cand[i].id;
          float s = cand[i].value;
          /* greedy ranks raw logits: the same order, the values shifted back */
          if (step->score_kind == FLORENCE_SCORE_RAW_LOGITS && isfinite (s) &&
              step->forced_token < 0)
            s += lse;
          scores[b * k + i] = s;
        }
    }
  return TRUE;
}

FlorenceDecoderBackend *
florence_gpu_decoder_new (FlorenceEngine *engine, guint n_enc, GpuBuffer **cross_k,
                          GpuBuffer **cross_v, GError **error)
{
  Gpu *g = engine->priv;
  GpuRecorder *rec = gpu_recorder_new (g->device, error);
  if (rec == NULL)
    return NULL;
  const FlorenceConfig *c = g->config;
  const int nl = MAX (c->decoder_layers, 1);
  GpuDecoder *dec = g_new0 (GpuDecoder, 1);
  dec->parent.vocab_size = c->vocab_size;
  dec->parent.max_positions = c->max_position_embeddings;
  dec->parent.begin = gpu_decoder_begin;
  dec->parent.step_logits = gpu_decoder_step_logits;
  dec->parent.step_topk = gpu_decoder_step_topk;
  dec->parent.user_data = dec;
  dec->engine = engine;
  dec->g = g;
  dec->n_enc = n_enc;
  dec->cross_k = g_memdup2 (cross_k, nl * sizeof (GpuBuffer *));
  dec->cross_v = g_memdup2 (cross_v, nl * sizeof (GpuBuffer *));
  dec->buffers = g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_buffer_free);
  dec->rec = rec;
  return &dec->parent;
}

void
florence_gpu_decoder_free (FlorenceEngine *engine, FlorenceDecoderBackend *backend)
{
  if (backend == NULL)
    return;
  GpuDecoder *dec = (GpuDecoder *) backend;
  const int nl = MAX (dec->g->config->decoder_layers, 1);
  dec_clear_sequence (dec);
  g_clear_pointer (&dec->rec, gpu_recorder_free);
  g_ptr_array_unref (dec->buffers);
  for (int l = 0; l < nl; l++)
    {
      gpu_buffer_free (dec->cross_k[l]);
      gpu_buffer_free (dec->cross_v[l]);
    }
  g_free (dec->cross_k);
  g_free (dec->cross_v);
  g_free (dec);
}
