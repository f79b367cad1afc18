/* florence-engine-gpu.c: the Florence-2 graph on the Vulkan op library (src/gpu)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Weights: matrices (Linear weights, the 3×3 downsampling convs as [cout, cin·9], the shared
 * embedding / LM head) in fp16 on the device, everything small (biases, norms, depthwise
 * kernels, position tables) in fp32. Activations fp32. The vision tower, projection, encoder
 * and cross-attention keys/values are one submission; each decoder step is one submission
 * that reads back only the top candidates of each beam.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "florence/engine/florence-engine.h"
#include "florence/engine/florence-graph.h"
#include "gpu/gpu-op-attention.h"
#include "gpu/gpu-op-conv.h"
#include "gpu/gpu-op-eltwise.h"
#include "gpu/gpu-op-embed.h"
#include "gpu/gpu-op-gemm.h"
#include "gpu/gpu-op-logits.h"
#include "gpu/gpu-op-norm.h"
#include "gpu/gpu.h"

#define LN_EPS 1e-5f

typedef struct {
  GpuBuffer *w, *b;
} GLin;

/* in the order of florence_graph_block_tensor() */
typedef union {
  struct {
    GLin conv1, norm1, qkv, proj, conv2, norm2, fc1, fc2;
  };
  GpuBuffer *t[FLORENCE_BLOCK_N_TENSORS];
} GBlock;
G_STATIC_ASSERT (sizeof (GBlock) == FLORENCE_BLOCK_N_TENSORS * sizeof (GpuBuffer *));

typedef struct {
  GLin conv, norm;
  GBlock *spatial, *channel;
} GStage;

/* in the order of florence_graph_layer_tensor() */
typedef union {
  struct {
    GLin q, k, v, o, ln1, cq, ck, cv, co, ln2, fc1, fc2, ln3;
  };
  GpuBuffer *t[FLORENCE_LAYER_N_TENSORS];
} GLayer;
G_STATIC_ASSERT (sizeof (GLayer) == FLORENCE_LAYER_N_TENSORS * sizeof (GpuBuffer *));

typedef struct {
  FlorenceConfig *config;
  GpuDevice *device;
  GPtrArray *buffers; /* owns the weight buffers */
  GStage stages[4];
  GpuBuffer *pos_row, *pos_col, *temporal0, *projection_t;
  GLin proj_norm;
  GpuBuffer *shared, *final_logits_bias, *enc_pos, *dec_pos;
  GLin enc_ln_emb, dec_ln_emb;
  GLayer *enc, *dec;
} Gpu;

/* =============================================================================================
 * Weights
 * =========================================================================================== */

static GpuBuffer *upload (Gpu *g, FlorenceCheckpoint *ckpt, gboolean f16, gsize expected,
                          GError **error, const char *format, ...) G_GNUC_PRINTF (6, 7);

static GpuBuffer *
upload_values (Gpu *g, const float *v, gsize n, gboolean f16, GError **error)
{
  GpuBuffer *buf;
  if (f16)
    {
      gsize n_even = (n + 1) & ~(gsize) 1;
      g_autofree guint16 *h = g_new0 (guint16, n_even);
      gpu_half_from_float_array (h, v, n);
      buf = gpu_buffer_new_from_data (g->device, h, n_even * 2, error);
    }
  else
    buf = gpu_buffer_new_from_data (g->device, v, MAX (n, (gsize) 1) * 4, error);
  if (buf != NULL)
    g_ptr_array_add (g->buffers, buf);
  return buf;
}

static GpuBuffer *
upload (Gpu *g, FlorenceCheckpoint *ckpt, gboolean f16, gsize expected, GError **error,
        const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = g_strdup_vprintf (format, args);
  va_end (args);

  const FlorenceTensor *t = florence_checkpoint_lookup (ckpt, name);
  if (t == NULL || (expected != 0 && t->n_elements != expected))
    {
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                   _ ("The checkpoint’s tensor “%s” is missing or has the wrong size. Use a "
                      "checkpoint that matches its config.json."),
                   name);
      return NULL;
    }
  if (f16 && t->dtype == FLORENCE_DTYPE_F16 && t->n_elements % 2 == 0)
    {
      GpuBuffer *buf = gpu_buffer_new_from_data (g->device, t->data, t->n_elements * 2, error);
      if (buf != NULL)
        g_ptr_array_add (g->buffers, buf);
      return buf;
    }
  g_autofree float *v = g_try_new (float, MAX (t->n_elements, (gsize) 1));
  if (v == NULL)
    {
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                   _ ("Out of memory while loading “%s”. Close other programs and try again."),
                   name);
      return NULL;
    }
  florence_tensor_to_f32 (t, v);
  return upload_values (g, v, t->n_elements, f16, error);
}

#define UP(dst, f16, n, ...)                                                                       \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (((dst) = upload (g, ckpt, (f16), (n), error, __VA_ARGS__)) == NULL)                        \
      return FALSE;                                                                                \
  }                                                                                                \
  G_STMT_END

/* Matrices (GEMM operands) in fp16, the rest in fp32. */
static gboolean
load_graph_tensor (Gpu *g, FlorenceCheckpoint *ckpt, FlorenceGraphTensor *t, GpuBuffer **dst,
                   GError **error)
{
  *dst = upload (g, ckpt, t->matrix, t->n_elements, error, "%s", t->name);
  florence_graph_tensor_clear (t);
  return *dst != NULL;
}

static gboolean
load_block (Gpu *g, FlorenceCheckpoint *ckpt, GBlock *b, int s, int j, gboolean channel,
            GError **error)
{
  for (guint i = 0; i < FLORENCE_BLOCK_N_TENSORS; i++)
    {
      FlorenceGraphTensor t;
      florence_graph_block_tensor (g->config, s, j, channel, i, &t);
      if (!load_graph_tensor (g, ckpt, &t, &b->t[i], error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
load_layer (Gpu *g, FlorenceCheckpoint *ckpt, GLayer *L, gboolean decoder, int l, GError **error)
{
  for (guint i = 0; i < FLORENCE_LAYER_N_TENSORS; i++)
    {
      FlorenceGraphTensor t;
      if (florence_graph_layer_tensor (g->config, decoder, l, i, &t) &&
          !load_graph_tensor (g, ckpt, &t, &L->t[i], error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
load_weights (Gpu *g, FlorenceCheckpoint *ckpt, GError **error)
{
  const FlorenceConfig *c = g->config;
  int c_prev = 3;
  for (int s = 0; s < 4; s++)
    {
      GStage *st = &g->stages[s];
      gsize k = (gsize) c->patch_size[s], co = (gsize) c->dim_embed[s];
      /* every stage runs its patch convolution as im2col + GEMM (fp16 weights) */
      UP (st->conv.w, TRUE, co * (gsize) c_prev * k * k, "vision_tower.convs.%d.proj.weight", s);
      UP (st->conv.b, FALSE, co, "vision_tower.convs.%d.proj.bias", s);
      gsize nd = c->patch_prenorm[s] ? (gsize) c_prev : co;
      UP (st->norm.w, FALSE, nd, "vision_tower.convs.%d.norm.weight", s);
      UP (st->norm.b, FALSE, nd, "vision_tower.convs.%d.norm.bias", s);
      st->spatial = g_new0 (GBlock, MAX (c->depths[s], 1));
      st->channel = g_new0 (GBlock, MAX (c->depths[s], 1));
      for (int j = 0; j < c->depths[s]; j++)
        if (!load_block (g, ckpt, &st->spatial[j], s, j, FALSE, error) ||
            !load_block (g, ckpt, &st->channel[j], s, j, TRUE, error))
          return FALSE;
      c_prev = (int) co;
    }

  const gsize D = (gsize) c->dim_embed[3], d = (gsize) c->d_model;
  const gsize pmax = (gsize) c->image_pos_max;
  UP (g->pos_row, FALSE, pmax * (D / 2), "image_pos_embed.row_embeddings.weight");
  UP (g->pos_col, FALSE, pmax * (D - D / 2), "image_pos_embed.column_embeddings.weight");
  {
    const FlorenceTensor *t =
      florence_checkpoint_lookup (ckpt, "visual_temporal_embed.pos_idx_to_embed");
    const FlorenceTensor *p = florence_checkpoint_lookup (ckpt, "image_projection");
    if (t == NULL || t->n_elements != (gsize) c->temporal_max * D || p == NULL ||
        p->n_elements != D * d)
      {
        g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                     _ ("The checkpoint’s image projection or temporal embedding is missing or "
                        "has the wrong size. Use a checkpoint that matches its config.json."));
        return FALSE;
      }
    g_autofree float *tv = g_new (float, t->n_elements);
    florence_tensor_to_f32 (t, tv);
    if ((g->temporal0 = upload_values (g, tv, D, FALSE, error)) == NULL)
      return FALSE;
    /* image_projection [D, d] is applied as x @ W: the GEMM wants [d, D] rows */
    g_autofree float *pv = g_new (float, D *d);
    g_autofree float *pt = g_new (float, D *d);
    florence_tensor_to_f32 (p, pv);
    for (gsize i = 0; i < D; i++)
      for (gsize o = 0; o < d; o++)
        pt[o * D + i] = pv[i * d + o];
    if ((g->projection_t = upload_values (g, pt, D * d, TRUE, error)) == NULL)
      return FALSE;
  }
  UP (g->proj_norm.w, FALSE, d, "image_proj_norm.weight");
  UP (g->proj_norm.b, FALSE, d, "image_proj_norm.bias");

  gsize rows = florence_checkpoint_get_vocab_rows (ckpt);
  if (rows < (gsize) c->vocab_size)
    rows = (gsize) c->vocab_size;
  UP (g->shared, TRUE, rows * d, "language_model.model.shared.weight");
  UP (g->final_logits_bias, FALSE, rows, "language_model.final_logits_bias");
  const gsize n_pos = (gsize) c->max_position_embeddings + 2;
  UP (g->enc_pos, FALSE, n_pos * d, "language_model.model.encoder.embed_positions.weight");
  UP (g->dec_pos, FALSE, n_pos * d, "language_model.model.decoder.embed_positions.weight");
  UP (g->enc_ln_emb.w, FALSE, d, "language_model.model.encoder.layernorm_embedding.weight");
  UP (g->enc_ln_emb.b, FALSE, d, "language_model.model.encoder.layernorm_embedding.bias");
  UP (g->dec_ln_emb.w, FALSE, d, "language_model.model.decoder.layernorm_embedding.weight");
  UP (g->dec_ln_emb.b, FALSE, d, "language_model.model.decoder.layernorm_embedding.bias");
  g->enc = g_new0 (GLayer, MAX (c->encoder_layers, 1));
  g->dec = g_new0 (GLayer, MAX (c->decoder_layers, 1));
  for (int l = 0; l < c->encoder_layers; l++)
    if (!load_layer (g, ckpt, &g->enc[l], FALSE, l, error))
      return FALSE;
  for (int l = 0; l < c->decoder_layers; l++)
    if (!load_layer (g, ckpt, &g->dec[l], TRUE, l, error))
      return FALSE;
  return TRUE;
}

#undef UP

static void
gpu_free (Gpu *g)
{
  if (g == NULL)
    return;
  for (int s = 0; s < 4; s++)
    {
      g_free (g->stages[s].spatial);
      g_free (g->stages[s].channel);
    }
  g_free (g->enc);
  g_free (g->dec);
  if (g->buffers != NULL)
    g_ptr_array_unref (g->buffers);
  if (g->device != NULL)
    gpu_device_unref (g->device);
  florence_config_free (g->config);
  g_free (g);
}

/* =============================================================================================
 * Vision + encoder: one submission (several when tapping)
 * =========================================================================================== */

typedef struct {
  FlorenceEngine *engine;
  Gpu *g;
  GpuRecorder *rec;
  GPtrArray *scratch; /* owns the activation buffers of this run */
} Run;

static GpuBuffer *
run_buffer (Run *r, guint64 n_floats, GError **error)
{
  if (error != NULL && *error != NULL)
    return NULL;
  GpuBuffer *b = gpu_buffer_new (r->g->device, MAX (n_floats, (guint64) 1) * 4, error);
  if (b != NULL)
    g_ptr_array_add (r->scratch, b);
  return b;
}

/* With a tap: submit what is recorded, download buf, hand it over, start a new recorder. */
static gboolean
run_tap (Run *r, const char *name, GpuBuffer *buf, guint64 offset_floats, gsize rows, gsize cols,
         GCancellable *cancellable, GError **error)
{
  if (r->engine->tap == NULL)
    return TRUE;
  g_autofree float *host = g_new (float, rows *cols);
  gpu_recorder_download (r->rec, buf, offset_floats * 4, host, rows * cols * 4);
  if (!gpu_recorder_submit (r->rec, cancellable, error))
    return FALSE;
  gpu_recorder_free (r->rec);
  r->rec = gpu_recorder_new (r->g->device, error);
  if (r->rec == NULL)
    return FALSE;
  r->engine->tap (name, host, rows, cols, r->engine->tap_data);
  return TRUE;
}

typedef struct {
  GpuBuffer *cross_k, *cross_v; /* per layer, [n_enc, d] */
} CrossKV;

typedef struct {
  FlorenceDecoderBackend parent;
  FlorenceEngine *engine;
  Gpu *g;
  guint n_enc;
  GPtrArray *buffers; /* owns everything below */
  CrossKV *cross;
  guint n_beams, cap, len;
  GpuBuffer **self_k, **self_v, **spare_k, **spare_v; /* per layer [beams, cap, d] */
  GpuBuffer *ids, *h, *q, *att, *tmp, *ffn, *logits, *ctl, *scratch, *out;
  guint ctl_bans; /* bans the ctl buffer holds */
  guint k_alloc;  /* candidates the out/scratch buffers hold */
} GpuDecoder;

static void gpu_decoder_free (FlorenceEngine *engine, FlorenceDecoderBackend *backend);
static gboolean gpu_decoder_begin (FlorenceDecoderBackend *backend, guint n_beams, GError **error);
static gboolean gpu_decoder_step_logits (FlorenceDecoderBackend *backend,
                                         const FlorenceDecodeStep *step, float *logits,
                                         GError **error);
static gboolean gpu_decoder_step_topk (FlorenceDecoderBackend *backend,
                                       const FlorenceDecodeStep *step, gint32 *ids, float *scores,
                                       GError **error);

typedef struct {
  FlorenceImageFeatures parent;
  GpuBuffer *h; /* [n_tokens × d_model] */
} GpuFeatures;

static void
gpu_features_free (FlorenceEngine *engine, FlorenceImageFeatures *features)
{
  GpuFeatures *f = (GpuFeatures *) features;
  gpu_buffer_free (f->h);
  g_free (f);
}

static FlorenceImageFeatures *
gpu_encode_image (FlorenceEngine *engine, const float *pixel_values, int size, double *seconds,
                  GCancellable *cancellable, GError **error)
{
  Gpu *g = engine->priv;
  const FlorenceConfig *c = g->config;
  int n_image_tokens = 0;
  if (!florence_graph_check_image_size (c, size, &n_image_tokens, error))
    return NULL;
  const guint d = (guint) c->d_model, D = (guint) c->dim_embed[3];
  const guint n_image = (guint) n_image_tokens, N = n_image - 1;

  gint64 t0 = g_get_monotonic_time ();
  Run r = { engine, g, NULL, g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_buffer_free) };
  GpuFeatures *features = NULL;
  gboolean ok = FALSE;
  r.rec = gpu_recorder_new (g->device, error);
  if (r.rec == NULL)
    goto out;

  /* sizes: the largest activation over the stages */
  guint64 max_nc = 0, max_n4c = 0, max_cols = 0, max_scratch = 0;
  {
    int hw = size, cin = 3;
    for (int s = 0; s < 4; s++)
      {
        int o = (hw + 2 * c->patch_padding[s] - c->patch_size[s]) / c->patch_stride[s] + 1;
        guint64 n = (guint64) o * o, C = (guint64) c->dim_embed[s];
        max_nc = MAX (max_nc, n * C);
        max_nc = MAX (max_nc, (guint64) hw * hw * cin);
        max_n4c = MAX (max_n4c, n * 4 * C);
        max_cols = MAX (max_cols, n * (guint64) cin * c->patch_size[s] * c->patch_size[s]);
        max_scratch =
          MAX (max_scratch, gpu_op_attention_channel_scratch_size (g->device, (guint) n, (guint) C,
                                                                   (guint) c->num_groups[s]));
        hw = o;
        cin = (int) C;
      }
  }
  GpuBuffer *pix = run_buffer (&r, (guint64) 3 * size * size, error);
  GpuBuffer *x = run_buffer (&r, max_nc, error);
  GpuBuffer *y = run_buffer (&r, max_nc, error);
  GpuBuffer *xn = run_buffer (&r, max_nc, error);
  GpuBuffer *att = run_buffer (&r, max_nc, error);
  GpuBuffer *qkv = run_buffer (&r, max_nc * 3, error);
  GpuBuffer *hid = run_buffer (&r, max_n4c, error);
  GpuBuffer *cols = run_buffer (&r, max_cols, error);
  GpuBuffer *cscratch = run_buffer (&r, MAX (max_scratch, (guint64) 4) / 4 + 1, error);
  if (pix == NULL || x == NULL || y == NULL || xn == NULL || att == NULL || qkv == NULL ||
      hid == NULL || cols == NULL || cscratch == NULL)
    goto out;
  gpu_recorder_upload (r.rec, pix, 0, pixel_values, (guint64) 3 * size * size * 4);

  guint H = (guint) size, W = (guint) size, C = 3;
  for (int s = 0; s < 4; s++)
    {
      const GStage *st = &g->stages[s];
      const guint k = (guint) c->patch_size[s], stride = (guint) c->patch_stride[s],
                  pad = (guint) c->patch_padding[s], co = (guint) c->dim_embed[s];
      const guint ho = gpu_op_conv_out_size (H, k, stride, pad),
                  wo = gpu_op_conv_out_size (W, k, stride, pad);
      if (s == 0)
        {
          /* im2col + GEMM: 1/9 of the direct convolution's time on lavapipe */
          gpu_op_conv2d_gemm (r.rec, pix, GPU_CONV_INPUT_CHW, 3, H, W, st->conv.w, TRUE, st->conv.b,
                              co, k, stride, pad, cols, x);
        }
      else
        {
          GpuBuffer *in = x;
          if (c->patch_prenorm[s])
            {
              gpu_op_layernorm (r.rec, x, NULL, st->norm.w, st->norm.b, FALSE, H * W, C, LN_EPS,
                                xn);
              in = xn;
            }
          gpu_op_im2col (r.rec, in, GPU_CONV_INPUT_TOKENS, C, H, W, k, stride, pad, cols);
          gpu_op_linear (r.rec, cols, st->conv.w, GPU_GEMM_WEIGHT_F16, st->conv.b, NULL, x, ho * wo,
                         co, C * k * k, FALSE);
        }
      H = ho;
      W = wo;
      C = co;
      const guint n = H * W;
      if (!c->patch_prenorm[s])
        gpu_op_layernorm (r.rec, x, NULL, st->norm.w, st->norm.b, FALSE, n, C, LN_EPS, x);

      for (int j = 0; j < c->depths[s]; j++)
        for (int kind = 0; kind < 2; kind++)
          {
            const GBlock *b = kind == 0 ? &st->spatial[j] : &st->channel[j];
            gpu_op_dwconv3x3_residual (r.rec, x, H, W, C, b->conv1.w, b->conv1.b, FALSE, y);
            gpu_op_layernorm (r.rec, y, NULL, b->norm1.w, b->norm1.b, FALSE, n, C, LN_EPS, xn);
            gpu_op_linear (r.rec, xn, b->qkv.w, GPU_GEMM_WEIGHT_F16, b->qkv.b, NULL, qkv, n, 3 * C,
                           C, FALSE);
            if (kind == 0)
              gpu_op_attention_window (r.rec, qkv, b->qkv.b, FALSE, H, W, C,
                                       (guint) c->num_heads[s], (guint) c->window_size, att);
            else
              gpu_op_attention_channel (r.rec, qkv, n, C, (guint) c->num_groups[s], cscratch, att);
            gpu_op_linear (r.rec, att, b->proj.w, GPU_GEMM_WEIGHT_F16, b->proj.b, y, y, n, C, C,
                           FALSE);
            gpu_op_dwconv3x3_residual (r.rec, y, H, W, C, b->conv2.w, b->conv2.b, FALSE, x);
            gpu_op_layernorm (r.rec, x, NULL, b->norm2.w, b->norm2.b, FALSE, n, C, LN_EPS, xn);
            gpu_op_linear (r.rec, xn, b->fc1.w, GPU_GEMM_WEIGHT_F16, b->fc1.b, NULL, hid, n, 4 * C,
                           C, TRUE);
            gpu_op_linear (r.rec, hid, b->fc2.w, GPU_GEMM_WEIGHT_F16, b->fc2.b, x, x, n, C, 4 * C,
                           FALSE);
          }
      char name[32];
      g_snprintf (name, sizeof name, "vision_stage%d", s);
      if (!run_tap (&r, name, x, 0, n, C, cancellable, error))
        goto out;
    }
  if (!run_tap (&r, "vision_tower_output", x, 0, N, D, cancellable, error))
    goto out;

  /* + 2-D position + temporal row 0 into rows 1..N of feat, the mean into row 0 */
  GpuBuffer *feat = run_buffer (&r, (guint64) n_image * D, error);
  if (feat == NULL)
    goto out;
  features = g_new0 (GpuFeatures, 1);
  features->parent.size = size;
  features->parent.n_tokens = (int) n_image;
  features->parent.bytes = (guint64) n_image * d * 4;
  features->h = gpu_buffer_new (g->device, (guint64) n_image * d * 4, error);
  if (features->h == NULL)
    goto out;
  GpuBuffer *h = features->h;
  gpu_op_pos2d (r.rec, x, 0, H, W, D, g->pos_col, g->pos_row, FALSE, g->temporal0, FALSE, feat, D);
  gpu_op_mean_rows (r.rec, feat, D, N, D, feat, 0);
  gpu_op_linear (r.rec, feat, g->projection_t, GPU_GEMM_WEIGHT_F16, NULL, NULL, h, n_image, d, D,
                 FALSE);
  gpu_op_layernorm (r.rec, h, NULL, g->proj_norm.w, g->proj_norm.b, FALSE, n_image, d, LN_EPS, h);
  if (!run_tap (&r, "image_features", h, 0, n_image, d, cancellable, error))
    goto out;
  if (!gpu_recorder_submit (r.rec, cancellable, error))
    goto out;
  if (seconds != NULL)
    *seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  ok = TRUE;

out:
  if (r.rec != NULL)
    gpu_recorder_free (r.rec);
  g_ptr_array_unref (r.scratch);
  if (!ok && features != NULL)
    {
      if (features->h != NULL)
        gpu_buffer_free (features->h);
      g_clear_pointer (&features, g_free);
    }
  return features != NULL ? &features->parent : NULL;
}

static FlorenceDecoderBackend *
gpu_prepare_task (FlorenceEngine *engine, const FlorenceImageFeatures *features, const gint32 *ids,
                  int n_ids, double *seconds, GCancellable *cancellable, GError **error)
{
  Gpu *g = engine->priv;
  const FlorenceConfig *c = g->config;
  const GpuFeatures *f = (const GpuFeatures *) features;
  if (!florence_graph_check_prompt (c, features->n_tokens, ids, n_ids, error))
    return NULL;
  const guint d = (guint) c->d_model;
  const guint n_image = (guint) features->n_tokens;
  const guint L = n_image + (guint) n_ids;

  gint64 t1 = g_get_monotonic_time ();
  Run r = { engine, g, NULL, g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_buffer_free) };
  GpuDecoder *dec = NULL;
  gboolean ok = FALSE;
  r.rec = gpu_recorder_new (g->device, error);
  if (r.rec == NULL)
    goto out;
  GpuBuffer *h = run_buffer (&r, (guint64) L * d, error);
  if (h == NULL)
    goto out;
  gpu_recorder_copy (r.rec, f->h, 0, h, 0, (guint64) n_image * d * 4);

  /* encoder input: [image features; shared[ids]] + positions 2.., layernorm_embedding */
  {
    g_autofree gint32 *pos_ids = g_new (gint32, L);
    for (guint i = 0; i < L; i++)
      pos_ids[i] = (gint32) i + 2;
    GpuBuffer *ids_buf = run_buffer (&r, n_ids, error);
    GpuBuffer *pos_buf = run_buffer (&r, L, error);
    GpuBuffer *pe = run_buffer (&r, (guint64) L * d, error);
    if (ids_buf == NULL || pos_buf == NULL || pe == NULL)
      goto out;
    gpu_recorder_upload (r.rec, ids_buf, 0, ids, (guint64) n_ids * 4);
    gpu_recorder_upload (r.rec, pos_buf, 0, pos_ids, (guint64) L * 4);
    gpu_op_embedding (r.rec, g->shared, TRUE, (guint) c->vocab_size, d, ids_buf, (guint) n_ids,
                      NULL, FALSE, 0, 0, h, (guint64) n_image * d);
    if (!run_tap (&r, "inputs_embeds", h, 0, L, d, cancellable, error))
      goto out;
    gpu_op_embedding (r.rec, g->enc_pos, FALSE, (guint) c->max_position_embeddings + 2, d, pos_buf,
                      L, NULL, FALSE, 0, 0, pe, 0);
    gpu_op_layernorm (r.rec, h, pe, g->enc_ln_emb.w, g->enc_ln_emb.b, FALSE, L, d, LN_EPS, h);
    if (!run_tap (&r, "encoder_embeddings", h, 0, L, d, cancellable, error))
      goto out;
  }

  {
    const guint ffn = (guint) c->encoder_ffn_dim, heads = (guint) c->encoder_heads;
    GpuBuffer *q = run_buffer (&r, (guint64) L * d, error);
    GpuBuffer *kb = run_buffer (&r, (guint64) L * d, error);
    GpuBuffer *vb = run_buffer (&r, (guint64) L * d, error);
    GpuBuffer *ab = run_buffer (&r, (guint64) L * d, error);
    GpuBuffer *tb = run_buffer (&r, (guint64) L * d, error);
    GpuBuffer *fb = run_buffer (&r, (guint64) L * MAX (ffn, (guint) c->decoder_ffn_dim), error);
    if (q == NULL || kb == NULL || vb == NULL || ab == NULL || tb == NULL || fb == NULL)
      goto out;
    for (int l = 0; l < c->encoder_layers; l++)
      {
        const GLayer *Ly = &g->enc[l];
        gpu_op_linear (r.rec, h, Ly->q.w, GPU_GEMM_WEIGHT_F16, Ly->q.b, NULL, q, L, d, d, FALSE);
        gpu_op_linear (r.rec, h, Ly->k.w, GPU_GEMM_WEIGHT_F16, Ly->k.b, NULL, kb, L, d, d, FALSE);
        gpu_op_linear (r.rec, h, Ly->v.w, GPU_GEMM_WEIGHT_F16, Ly->v.b, NULL, vb, L, d, d, FALSE);
        GpuAttention a = {
          .q = { q, 0, d, 0 },
          .k = { kb, 0, d, 0 },
          .v = { vb, 0, d, 0 },
          .out = { ab, 0, d, 0 },
          .batch = 1,
          .n_q = L,
          .n_kv = L,
          .heads = heads,
          .head_dim = d / heads,
          .scale = 1.0f / sqrtf ((float) (d / heads)),
          .causal = FALSE,
        };
        gpu_op_attention (r.rec, &a);
        gpu_op_linear (r.rec, ab, Ly->o.w, GPU_GEMM_WEIGHT_F16, Ly->o.b, NULL, tb, L, d, d, FALSE);
        gpu_op_layernorm (r.rec, tb, h, Ly->ln1.w, Ly->ln1.b, FALSE, L, d, LN_EPS, h);
        gpu_op_linear (r.rec, h, Ly->fc1.w, GPU_GEMM_WEIGHT_F16, Ly->fc1.b, NULL, fb, L, ffn, d,
                       TRUE);
        gpu_op_linear (r.rec, fb, Ly->fc2.w, GPU_GEMM_WEIGHT_F16, Ly->fc2.b, NULL, tb, L, d, ffn,
                       FALSE);
        gpu_op_layernorm (r.rec, tb, h, Ly->ln3.w, Ly->ln3.b, FALSE, L, d, LN_EPS, h);
        char name[32];
        g_snprintf (name, sizeof name, "encoder_layer%d", l);
        if (!run_tap (&r, name, h, 0, L, d, cancellable, error))
          goto out;
      }
    if (!run_tap (&r, "encoder_last_hidden_state", h, 0, L, d, cancellable, error))
      goto out;
  }

  /* the decoder, with the cross-attention keys/values of every layer */
  dec = g_new0 (GpuDecoder, 1);
  dec->parent.vocab_size = c->vocab_size;
  dec->parent.max_positions = c->max_position_embeddings;
  dec->parent.begin = gpu_decoder_begin;
  dec->parent.step_logits = gpu_decoder_step_logits;
  dec->parent.step_topk = gpu_decoder_step_topk;
  dec->parent.user_data = dec;
  dec->engine = engine;
  dec->g = g;
  dec->n_enc = L;
  dec->buffers = g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_buffer_free);
  dec->cross = g_new0 (CrossKV, MAX (c->decoder_layers, 1));
  for (int l = 0; l < c->decoder_layers; l++)
    {
      dec->cross[l].cross_k = gpu_buffer_new (g->device, (guint64) L * d * 4, error);
      if (dec->cross[l].cross_k == NULL)
        goto out;
      g_ptr_array_add (dec->buffers, dec->cross[l].cross_k);
      dec->cross[l].cross_v = gpu_buffer_new (g->device, (guint64) L * d * 4, error);
      if (dec->cross[l].cross_v == NULL)
        goto out;
      g_ptr_array_add (dec->buffers, dec->cross[l].cross_v);
      gpu_op_linear (r.rec, h, g->dec[l].ck.w, GPU_GEMM_WEIGHT_F16, g->dec[l].ck.b, NULL,
                     dec->cross[l].cross_k, L, d, d, FALSE);
      gpu_op_linear (r.rec, h, g->dec[l].cv.w, GPU_GEMM_WEIGHT_F16, g->dec[l].cv.b, NULL,
                     dec->cross[l].cross_v, L, d, d, FALSE);
    }
  if (!gpu_recorder_submit (r.rec, cancellable, error))
    goto out;
  if (seconds != NULL)
    *seconds = (double) (g_get_monotonic_time () - t1) / G_USEC_PER_SEC;
  ok = TRUE;

out:
  if (r.rec != NULL)
    gpu_recorder_free (r.rec);
  g_ptr_array_unref (r.scratch);
  if (!ok && dec != NULL)
    {
      gpu_decoder_free (engine, &dec->parent);
      dec = NULL;
    }
  return dec != NULL ? &dec->parent : NULL;
}

/* =============================================================================================
 * Decoder
 * =========================================================================================== */

static GpuBuffer *
dec_buffer (GpuDecoder *dec, guint64 bytes, GError **error)
{
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

static gboolean
gpu_decoder_begin (FlorenceDecoderBackend *backend, guint n_beams, GError **error)
{
  GpuDecoder *dec = (GpuDecoder *) backend;
  const FlorenceConfig *c = dec->g->config;
  const guint d = (guint) c->d_model, V = (guint) c->vocab_size;
  const guint ffn = (guint) c->decoder_ffn_dim;
  /* a beam search reads back 2 × beams candidates per beam */
  const guint max_beams = MIN (GPU_OP_ATTENTION_MAX_BEAMS, GPU_OP_TOPK_MAX_K / 2);
  if (n_beams == 0 || n_beams > max_beams)
    {
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                   _ ("The GPU decoder runs 1 to %u beams, not %u."), max_beams, n_beams);
      return FALSE;
    }
  int nl = MAX (c->decoder_layers, 1);
  if (dec->self_k != NULL)
    for (int l = 0; l < c->decoder_layers; l++)
      {
        dec_drop (dec, &dec->self_k[l]);
        dec_drop (dec, &dec->self_v[l]);
        dec_drop (dec, &dec->spare_k[l]);
        dec_drop (dec, &dec->spare_v[l]);
      }
  GpuBuffer **fixed[] = { &dec->ids, &dec->h,      &dec->q,   &dec->att,     &dec->tmp,
                          &dec->ffn, &dec->logits, &dec->ctl, &dec->scratch, &dec->out };
  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    dec_drop (dec, fixed[i]);
  g_clear_pointer (&dec->self_k, g_free);
  g_clear_pointer (&dec->self_v, g_free);
  g_clear_pointer (&dec->spare_k, g_free);
  g_clear_pointer (&dec->spare_v, g_free);

  dec->n_beams = n_beams;
  dec->cap = (guint) c->max_position_embeddings;
  dec->len = 0;
  dec->self_k = g_new0 (GpuBuffer *, nl);
  dec->self_v = g_new0 (GpuBuffer *, nl);
  dec->spare_k = g_new0 (GpuBuffer *, nl);
  dec->spare_v = g_new0 (GpuBuffer *, nl);
  const guint64 cache = (guint64) n_beams * dec->cap * d * 4;
  for (int l = 0; l < c->decoder_layers; l++)
    if ((dec->self_k[l] = dec_buffer (dec, cache, error)) == NULL ||
        (dec->self_v[l] = dec_buffer (dec, cache, error)) == NULL)
      return FALSE;
  const guint64 row = (guint64) n_beams * d * 4;
  if ((dec->ids = dec_buffer (dec, (guint64) n_beams * 4, error)) == NULL ||
      (dec->h = dec_buffer (dec, row, error)) == NULL ||
      (dec->q = dec_buffer (dec, row, error)) == NULL ||
      (dec->att = dec_buffer (dec, row, error)) == NULL ||
      (dec->tmp = dec_buffer (dec, row, error)) == NULL ||
      (dec->ffn = dec_buffer (dec, (guint64) n_beams * ffn * 4, error)) == NULL ||
      (dec->logits = dec_buffer (dec, (guint64) n_beams * V * 4, error)) == NULL)
    return FALSE;
  dec->ctl_bans = 0;
  dec->k_alloc = 0;
  return TRUE;
}

/* Records one decoder step up to the logits [beams, V] in dec->logits. */
static gboolean
record_step (GpuDecoder *dec, GpuRecorder *rec, const FlorenceDecodeStep *step, GError **error)
{
  const FlorenceConfig *c = dec->g->config;
  Gpu *g = dec->g;
  const guint B = step->n_beams, d = (guint) c->d_model, t = step->position;
  const guint heads = (guint) c->decoder_heads, ffn = (guint) c->decoder_ffn_dim;
  if (B != dec->n_beams || t != dec->len || t >= dec->cap)
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

  /* beam reorder of the self-attention caches (positions < t) */
  if (t > 0 && step->reorder != NULL)
    {
      gboolean identity = TRUE;
      for (guint b = 0; b < B; b++)
        identity = identity && step->reorder[b] == b;
      if (!identity)
        for (int l = 0; l < c->decoder_layers; l++)
          {
            const guint64 cache = (guint64) B * dec->cap * d * 4;
            if (dec->spare_k[l] == NULL &&
                ((dec->spare_k[l] = dec_buffer (dec, cache, error)) == NULL ||
                 (dec->spare_v[l] = dec_buffer (dec, cache, error)) == NULL))
              return FALSE;
            gpu_op_kv_cache_reorder (rec, dec->self_k[l], dec->spare_k[l], B, step->reorder,
                                     dec->cap, t, d);
            gpu_op_kv_cache_reorder (rec, dec->self_v[l], dec->spare_v[l], B, step->reorder,
                                     dec->cap, t, d);
            GpuBuffer *tk = dec->self_k[l], *tv = dec->self_v[l];
            dec->self_k[l] = dec->spare_k[l];
            dec->self_v[l] = dec->spare_v[l];
            dec->spare_k[l] = tk;
            dec->spare_v[l] = tv;
          }
    }

  gpu_recorder_upload (rec, dec->ids, 0, step->tokens, (guint64) B * 4);
  gpu_op_embedding (rec, g->shared, TRUE, (guint) c->vocab_size, d, dec->ids, B, g->dec_pos, FALSE,
                    t + 2, 0, dec->h, 0);
  gpu_op_layernorm (rec, dec->h, NULL, g->dec_ln_emb.w, g->dec_ln_emb.b, FALSE, B, d, LN_EPS,
                    dec->h);
  const float scale = 1.0f / sqrtf ((float) (d / heads));
  for (int l = 0; l < c->decoder_layers; l++)
    {
      const GLayer *Ly = &g->dec[l];
      const guint64 beam_stride = (guint64) dec->cap * d;
      gpu_op_linear (rec, dec->h, Ly->q.w, GPU_GEMM_WEIGHT_F16, Ly->q.b, NULL, dec->q, B, d, d,
                     FALSE);
      for (int kv = 0; kv < 2; kv++)
        {
          GpuGemm gm = {
            .m = B,
            .n = d,
            .k = d,
            .a = dec->h,
            .w = kv == 0 ? Ly->k.w : Ly->v.w,
            .w_type = GPU_GEMM_WEIGHT_F16,
            .bias = kv == 0 ? Ly->k.b : Ly->v.b,
            .c = kv == 0 ? dec->self_k[l] : dec->self_v[l],
            .c_offset = (guint64) t * d,
            .ldc = (guint32) beam_stride,
            .label = "decoder kv",
          };
          gpu_op_gemm (rec, &gm);
        }
      GpuAttention sa = {
        .q = { dec->q, 0, d, d },
        .k = { dec->self_k[l], 0, d, (guint) beam_stride },
        .v = { dec->self_v[l], 0, d, (guint) beam_stride },
        .out = { dec->att, 0, d, d },
        .batch = B,
        .n_q = 1,
        .n_kv = t + 1,
        .heads = heads,
        .head_dim = d / heads,
        .scale = scale,
        .causal = FALSE,
      };
      gpu_op_attention (rec, &sa);
      gpu_op_linear (rec, dec->att, Ly->o.w, GPU_GEMM_WEIGHT_F16, Ly->o.b, NULL, dec->tmp, B, d, d,
                     FALSE);
      gpu_op_layernorm (rec, dec->tmp, dec->h, Ly->ln1.w, Ly->ln1.b, FALSE, B, d, LN_EPS, dec->h);

      gpu_op_linear (rec, dec->h, Ly->cq.w, GPU_GEMM_WEIGHT_F16, Ly->cq.b, NULL, dec->q, B, d, d,
                     FALSE);
      GpuAttention ca = {
        .q = { dec->q, 0, d, d },
        .k = { dec->cross[l].cross_k, 0, d, 0 },
        .v = { dec->cross[l].cross_v, 0, d, 0 },
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
      gpu_op_linear (rec, dec->att, Ly->co.w, GPU_GEMM_WEIGHT_F16, Ly->co.b, NULL, dec->tmp, B, d,
                     d, FALSE);
      gpu_op_layernorm (rec, dec->tmp, dec->h, Ly->ln2.w, Ly->ln2.b, FALSE, B, d, LN_EPS, dec->h);

      gpu_op_linear (rec, dec->h, Ly->fc1.w, GPU_GEMM_WEIGHT_F16, Ly->fc1.b, NULL, dec->ffn, B, ffn,
                     d, TRUE);
      gpu_op_linear (rec, dec->ffn, Ly->fc2.w, GPU_GEMM_WEIGHT_F16, Ly->fc2.b, NULL, dec->tmp, B, d,
                     ffn, FALSE);
      gpu_op_layernorm (rec, dec->tmp, dec->h, Ly->ln3.w, Ly->ln3.b, FALSE, B, d, LN_EPS, dec->h);
    }
  gpu_op_linear (rec, dec->h, g->shared, GPU_GEMM_WEIGHT_F16, g->final_logits_bias, NULL,
                 dec->logits, B, (guint) c->vocab_size, d, FALSE);
  dec->len = t + 1;
  return TRUE;
}

static gboolean
gpu_decoder_step_logits (FlorenceDecoderBackend *backend, const FlorenceDecodeStep *step,
                         float *logits, GError **error)
{
  GpuDecoder *dec = (GpuDecoder *) backend;
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (dec->g->device, error);
  if (rec == NULL || !record_step (dec, rec, step, error))
    return FALSE;
  gpu_recorder_download (rec, dec->logits, 0, logits,
                         (guint64) step->n_beams * dec->g->config->vocab_size * 4);
  return gpu_recorder_submit (rec, NULL, error);
}

static gboolean
gpu_decoder_step_topk (FlorenceDecoderBackend *backend, const FlorenceDecodeStep *step, gint32 *ids,
                       float *scores, GError **error)
{
  GpuDecoder *dec = (GpuDecoder *) backend;
  const FlorenceConfig *c = dec->g->config;
  const guint B = step->n_beams, k = step->k, V = (guint) c->vocab_size;
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (dec->g->device, error);
  if (rec == NULL || !record_step (dec, rec, step, error))
    return FALSE;

  guint n_bans = step->ban_offsets != NULL ? step->ban_offsets[B] : 0;
  if (dec->ctl == NULL || n_bans > dec->ctl_bans)
    {
      dec_drop (dec, &dec->ctl);
      dec->ctl_bans = MAX (n_bans, 64u) * 2;
      if ((dec->ctl = dec_buffer (dec, gpu_op_logits_topk_ctl_size (B, dec->ctl_bans), error)) ==
          NULL)
        return FALSE;
    }
  if (dec->out == NULL || k > dec->k_alloc)
    {
      dec_drop (dec, &dec->out);
      dec_drop (dec, &dec->scratch);
      dec->k_alloc = k;
      if ((dec->out = dec_buffer (dec, gpu_op_logits_topk_out_size (B, k), error)) == NULL ||
          (dec->scratch = dec_buffer (dec, gpu_op_logits_topk_scratch_size (dec->g->device, B, k),
                                      error)) == NULL)
        return FALSE;
    }
  g_autofree gint32 *forced = g_new (gint32, B);
  g_autofree guint *counts = g_new0 (guint, B);
  for (guint b = 0; b < B; b++)
    {
      forced[b] = step->forced_token;
      if (step->ban_offsets != NULL)
        counts[b] = step->ban_offsets[b + 1] - step->ban_offsets[b];
    }
  gpu_op_logits_topk (rec, dec->logits, 0, V, B, V, forced, n_bans > 0 ? step->bans : NULL,
                      n_bans > 0 ? counts : NULL, k, dec->ctl, dec->scratch, dec->out);
  guint64 out_bytes = gpu_op_logits_topk_out_size (B, k);
  g_autofree guint8 *host = g_malloc (out_bytes);
  gpu_recorder_download (rec, dec->out, 0, host, out_bytes);
  if (!gpu_recorder_submit (rec, NULL, error))
    return FALSE;

  g_autofree GpuTopkCandidate *cand = g_new (GpuTopkCandidate, k);
  for (guint b = 0; b < B; b++)
    {
      float lse = 0.0f;
      gpu_op_logits_topk_parse (host, b, k, cand, NULL, &lse);
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

static void
gpu_decoder_free (FlorenceEngine *engine, FlorenceDecoderBackend *backend)
{
  if (backend == NULL)
    return;
  GpuDecoder *dec = (GpuDecoder *) backend;
  g_free (dec->self_k);
  g_free (dec->self_v);
  g_free (dec->spare_k);
  g_free (dec->spare_v);
  g_free (dec->cross);
  g_ptr_array_unref (dec->buffers);
  g_free (dec);
}

/* =============================================================================================
 * Engine
 * =========================================================================================== */

static void
engine_gpu_free (FlorenceEngine *engine)
{
  gpu_free (engine->priv);
}

FlorenceEngine *
florence_engine_gpu_new (const FlorenceConfig *config, const char *vulkan_device,
                         FlorenceCheckpoint *checkpoint, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (checkpoint != NULL, NULL);

  const int d = config->d_model;
  if (d % config->encoder_heads != 0 || d % config->decoder_heads != 0 ||
      d / config->encoder_heads > GPU_OP_ATTENTION_MAX_HEAD_DIM ||
      d / config->decoder_heads > GPU_OP_ATTENTION_MAX_HEAD_DIM || config->dim_embed[3] % 2 != 0)
    {
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                   _ ("The GPU engine cannot run this model’s shapes. Run it on the CPU "
                      "reference instead (device “cpu-reference”)."));
      return NULL;
    }

  Gpu *g = g_new0 (Gpu, 1);
  g->config = florence_config_copy (config);
  g->buffers = g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_buffer_free);
  g->device = vulkan_device != NULL && *vulkan_device != '\0'
                ? gpu_device_new_for_selector (vulkan_device, error)
                : gpu_device_new (error);
  if (g->device == NULL || !load_weights (g, checkpoint, error))
    {
      gpu_free (g);
      return NULL;
    }

  FlorenceEngine *engine = g_new0 (FlorenceEngine, 1);
  engine->kind = FLORENCE_DEVICE_VULKAN;
  engine->device_name = g_strdup (gpu_device_get_info (g->device)->name);
  engine->encode_image = gpu_encode_image;
  engine->prepare_task = gpu_prepare_task;
  engine->features_free = gpu_features_free;
  engine->decoder_free = gpu_decoder_free;
  engine->free = engine_gpu_free;
  engine->priv = g;
  return engine;
}
