/* florence-engine-gpu-encoder.c: prepare_task on the GPU — the BART encoder over [image
 * features; prompt], then the cross-attention keys and values of every decoder layer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>

#include "florence/engine/florence-engine-gpu-private.h"
#include "florence/engine/florence-graph.h"
#include "gpu/gpu-op-attention.h"
#include "gpu/gpu-op-embed.h"
#include "gpu/gpu-op-gemm.h"
#include "gpu/gpu-op-norm.h"

#define LN_EPS FLORENCE_GPU_LN_EPS

typedef struct {
  GpuBuffer *h;   /* [L, d] hidden state */
  GpuBuffer *qkv; /* [L, 3d] */
  GpuBuffer *att, *tmp;
  GpuBuffer *ffn; /* [L, ffn] */
} EncoderBuffers;

/* h = LayerNorm ([features; shared[ids]] + positions 2..) */
static gboolean
encoder_embed (Run *r, const GpuFeatures *f, const gint32 *ids, guint n_ids, GpuBuffer *h,
               GError **error)
{
  Gpu *g = r->g;
  const FlorenceConfig *c = g->config;
  const guint d = (guint) c->d_model, n_image = (guint) f->parent.n_tokens, L = n_image + n_ids;
  gpu_recorder_copy (r->rec, f->h, 0, h, 0, (guint64) n_image * d * 4);
  g_autofree gint32 *pos_ids = g_new (gint32, L);
  for (guint i = 0; i < L; i++)
    pos_ids[i] = (gint32) i + 2;
  GpuBuffer *ids_buf = florence_gpu_run_buffer (r, n_ids, error);
  GpuBuffer *pos_buf = florence_gpu_run_buffer (r, L, error);
  GpuBuffer *pe = florence_gpu_run_buffer (r, (guint64) L * d, error);
  if (pe == NULL)
    return FALSE;
  gpu_recorder_upload (r->rec, ids_buf, 0, ids, (guint64) n_ids * 4);
  gpu_recorder_upload (r->rec, pos_buf, 0, pos_ids, (guint64) L * 4);
  gpu_op_embedding (r->rec, g->shared, TRUE, (guint) c->vocab_size, d, ids_buf, n_ids, NULL, FALSE,
                    0, 0, h, (guint64) n_image * d);
  if (!florence_gpu_run_tap (r, "inputs_embeds", h, 0, L, d, error))
    return FALSE;
  gpu_op_embedding (r->rec, g->enc_pos, FALSE, (guint) c->max_position_embeddings + 2, d, pos_buf,
                    L, NULL, FALSE, 0, 0, pe, 0);
  gpu_op_layernorm (r->rec, h, pe, g->enc_ln_emb.w, g->enc_ln_emb.b, FALSE, L, d, LN_EPS, h);
  return florence_gpu_run_tap (r, "encoder_embeddings", h, 0, L, d, error);
}

/* h = LayerNorm (h + o (attention (q, k, v of h))): one GEMM for q | k | v */
static void
encoder_attention (Run *r, const GLayer *Ly, const EncoderBuffers *b, guint L)
{
  const FlorenceConfig *c = r->g->config;
  const guint d = (guint) c->d_model, heads = (guint) c->encoder_heads;
  gpu_op_linear (r->rec, b->h, Ly->qkv.w, GPU_GEMM_WEIGHT_F16, Ly->qkv.b, NULL, b->qkv, L, 3 * d, d,
                 FALSE);
  GpuAttention a = {
    .q = { b->qkv, 0, 3 * d, 0 },
    .k = { b->qkv, d, 3 * d, 0 },
    .v = { b->qkv, 2 * d, 3 * d, 0 },
    .out = { b->att, 0, d, 0 },
    .batch = 1,
    .n_q = L,
    .n_kv = L,
    .heads = heads,
    .head_dim = d / heads,
    .scale = 1.0f / sqrtf ((float) (d / heads)),
    .causal = FALSE,
  };
  gpu_op_attention (r->rec, &a);
  gpu_op_linear (r->rec, b->att, Ly->o.w, GPU_GEMM_WEIGHT_F16, Ly->o.b, NULL, b->tmp, L, d, d,
                 FALSE);
  gpu_op_layernorm (r->rec, b->tmp, b->h, Ly->ln1.w, Ly->ln1.b, FALSE, L, d, LN_EPS, b->h);
}

/* h = LayerNorm (h + fc2 (GELU (fc1 (h)))) */
static void
encoder_ffn (Run *r, const GLayer *Ly, const EncoderBuffers *b, guint L)
{
  const FlorenceConfig *c = r->g->config;
  const guint d = (guint) c->d_model, ffn = (guint) c->encoder_ffn_dim;
  gpu_op_linear (r->rec, b->h, Ly->fc1.w, GPU_GEMM_WEIGHT_F16, Ly->fc1.b, NULL, b->ffn, L, ffn, d,
                 TRUE);
  gpu_op_linear (r->rec, b->ffn, Ly->fc2.w, GPU_GEMM_WEIGHT_F16, Ly->fc2.b, NULL, b->tmp, L, d, ffn,
                 FALSE);
  gpu_op_layernorm (r->rec, b->tmp, b->h, Ly->ln3.w, Ly->ln3.b, FALSE, L, d, LN_EPS, b->h);
}

FlorenceDecoderBackend *
florence_gpu_prepare_task (FlorenceEngine *engine, const FlorenceImageFeatures *features,
                           const gint32 *ids, int n_ids, double *seconds, GCancellable *cancellable,
                           GError **error)
{
  Gpu *g = engine->priv;
  const FlorenceConfig *c = g->config;
  const GpuFeatures *f = (const GpuFeatures *) features;
  if (!florence_graph_check_prompt (c, features->n_tokens, ids, n_ids, error))
    return NULL;
  const guint d = (guint) c->d_model;
  const guint L = (guint) features->n_tokens + (guint) n_ids;
  const int nl = MAX (c->decoder_layers, 1);

  gint64 t1 = g_get_monotonic_time ();
  Run r;
  if (!florence_gpu_run_init (&r, engine, cancellable, error))
    return NULL;
  FlorenceDecoderBackend *dec = NULL;
  g_autofree GpuBuffer **cross_k = g_new0 (GpuBuffer *, nl);
  g_autofree GpuBuffer **cross_v = g_new0 (GpuBuffer *, nl);
  gboolean ok = FALSE;

  EncoderBuffers b;
  b.h = florence_gpu_run_buffer (&r, (guint64) L * d, error);
  b.qkv = florence_gpu_run_buffer (&r, (guint64) L * 3 * d, error);
  b.att = florence_gpu_run_buffer (&r, (guint64) L * d, error);
  b.tmp = florence_gpu_run_buffer (&r, (guint64) L * d, error);
  b.ffn = florence_gpu_run_buffer (&r, (guint64) L * (guint) c->encoder_ffn_dim, error);
  if (b.ffn == NULL || !encoder_embed (&r, f, ids, (guint) n_ids, b.h, error))
    goto out;
  for (int l = 0; l < c->encoder_layers; l++)
    {
      encoder_attention (&r, &g->enc[l], &b, L);
      encoder_ffn (&r, &g->enc[l], &b, L);
      char name[32];
      g_snprintf (name, sizeof name, "encoder_layer%d", l);
      if (!florence_gpu_run_tap (&r, name, b.h, 0, L, d, error))
        goto out;
    }
  if (!florence_gpu_run_tap (&r, "encoder_last_hidden_state", b.h, 0, L, d, error))
    goto out;

  /* the cross-attention keys and values of every decoder layer, once per task */
  for (int l = 0; l < c->decoder_layers; l++)
    {
      if ((cross_k[l] = gpu_buffer_new (g->device, (guint64) L * d * 4, error)) == NULL ||
          (cross_v[l] = gpu_buffer_new (g->device, (guint64) L * d * 4, error)) == NULL)
        goto out;
      gpu_op_linear (r.rec, b.h, g->dec[l].ck.w, GPU_GEMM_WEIGHT_F16, g->dec[l].ck.b, NULL,
                     cross_k[l], L, d, d, FALSE);
      gpu_op_linear (r.rec, b.h, g->dec[l].cv.w, GPU_GEMM_WEIGHT_F16, g->dec[l].cv.b, NULL,
                     cross_v[l], L, d, d, FALSE);
    }
  if (!florence_gpu_run_submit (&r, error) ||
      (dec = florence_gpu_decoder_new (engine, L, cross_k, cross_v, error)) == NULL)
    goto out;
  if (seconds != NULL)
    *seconds = (double) (g_get_monotonic_time () - t1) / G_USEC_PER_SEC;
  ok = TRUE;

out:
  florence_gpu_run_clear (&r);
  if (!ok)
    for (int l = 0; l < nl; l++)
      {
        gpu_buffer_free (cross_k[l]);
        gpu_buffer_free (cross_v[l]);
      }
  return dec;
}
