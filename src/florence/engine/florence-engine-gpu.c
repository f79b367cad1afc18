/* florence-engine-gpu.c: the Florence-2 graph on the Vulkan op library (src/gpu): the weights
 * on the device, the memory check before loading, the engine object
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Weights: matrices (Linear weights, the patch convolutions as [cout, cin·k²], the shared
 * embedding / LM head) in fp16 on the device, everything small (biases, norms, depthwise
 * kernels, position tables) in fp32. The q, k and v projections of a BART layer become one
 * [3d, d] matrix (one GEMM). Activations fp32. The graph itself is built in -vision.c,
 * -encoder.c and -decoder.c (florence-engine-gpu-private.h).
 */
#include "config.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "florence/engine/florence-engine-gpu-private.h"
#include "florence/engine/florence-graph.h"
#include "gpu/gpu-op-attention.h"

G_STATIC_ASSERT (sizeof (((GBlock *) NULL)->t) == FLORENCE_BLOCK_N_TENSORS * sizeof (GpuBuffer *));
G_STATIC_ASSERT (sizeof (((GLayer *) NULL)->t) == FLORENCE_LAYER_N_TENSORS * sizeof (GpuBuffer *));

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

/* Matrices (GEMM operands) in fp16, the rest in fp32. */
static gboolean
load_graph_tensor (Gpu *g, FlorenceCheckpoint *ckpt, FlorenceGraphTensor *t, GpuBuffer **dst,
                   GError **error)
{
  *dst = upload (g, ckpt, t->matrix, t->n_elements, error, "%s", t->name);
  florence_graph_tensor_clear (t);
  return *dst != NULL;
}

/* A tensor outside the blocks and layers, as florence-graph names it (fp16 for the matrices). */
static gboolean
load_model_tensor (Gpu *g, FlorenceCheckpoint *ckpt, gsize vocab_rows,
                   FlorenceGraphModelTensor which, GpuBuffer **dst, GError **error)
{
  FlorenceGraphTensor t;
  florence_graph_model_tensor (g->config, vocab_rows, which, &t);
  return load_graph_tensor (g, ckpt, &t, dst, error);
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

/* The checkpoint's q, k and v weights (or biases, @bias) of a layer, one after the other. */
static GpuBuffer *
upload_qkv (Gpu *g, FlorenceCheckpoint *ckpt, gboolean decoder, int l, gboolean bias,
            GError **error)
{
  const gsize d = (gsize) g->config->d_model, each = bias ? d : d * d;
  g_autofree float *v = g_try_new (float, 3 * each);
  if (v == NULL)
    {
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                   _ ("Out of memory while loading the model. Close other programs and try "
                      "again."));
      return NULL;
    }
  for (guint i = 0; i < 3; i++)
    {
      FlorenceGraphTensor t;
      florence_graph_layer_tensor (g->config, decoder, l, 2 * i + (bias ? 1 : 0), &t);
      const FlorenceTensor *ct = florence_checkpoint_lookup (ckpt, t.name);
      if (ct == NULL || ct->n_elements != each)
        {
          g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                       _ ("The checkpoint’s tensor “%s” is missing or has the wrong size. Use a "
                          "checkpoint that matches its config.json."),
                       t.name);
          florence_graph_tensor_clear (&t);
          return NULL;
        }
      florence_graph_tensor_clear (&t);
      florence_tensor_to_f32 (ct, v + i * each);
    }
  return upload_values (g, v, 3 * each, !bias, error);
}

static gboolean
load_layer (Gpu *g, FlorenceCheckpoint *ckpt, GLayer *L, gboolean decoder, int l, GError **error)
{
  if ((L->qkv.w = upload_qkv (g, ckpt, decoder, l, FALSE, error)) == NULL ||
      (L->qkv.b = upload_qkv (g, ckpt, decoder, l, TRUE, error)) == NULL)
    return FALSE;
  for (guint i = 6; i < FLORENCE_LAYER_N_TENSORS; i++) /* after q, k, v */
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
  for (int s = 0; s < 4; s++)
    {
      GStage *st = &g->stages[s];
      /* every stage runs its patch convolution as im2col + GEMM (fp16 weights) */
      GpuBuffer **stage_dst[FLORENCE_STAGE_N_TENSORS] = { &st->conv.w, &st->conv.b, &st->norm.w,
                                                          &st->norm.b };
      for (guint i = 0; i < FLORENCE_STAGE_N_TENSORS; i++)
        {
          FlorenceGraphTensor t;
          florence_graph_stage_tensor (c, s, i, &t);
          if (!load_graph_tensor (g, ckpt, &t, stage_dst[i], error))
            return FALSE;
        }
      st->spatial = g_new0 (GBlock, MAX (c->depths[s], 1));
      st->channel = g_new0 (GBlock, MAX (c->depths[s], 1));
      for (int j = 0; j < c->depths[s]; j++)
        if (!load_block (g, ckpt, &st->spatial[j], s, j, FALSE, error) ||
            !load_block (g, ckpt, &st->channel[j], s, j, TRUE, error))
          return FALSE;
    }

  const gsize D = (gsize) c->dim_embed[3], d = (gsize) c->d_model;
  gsize rows = florence_checkpoint_get_vocab_rows (ckpt);
  if (rows < (gsize) c->vocab_size)
    rows = (gsize) c->vocab_size;
  if (!load_model_tensor (g, ckpt, rows, FLORENCE_GRAPH_POS_ROW, &g->pos_row, error) ||
      !load_model_tensor (g, ckpt, rows, FLORENCE_GRAPH_POS_COLUMN, &g->pos_col, error))
    return FALSE;
  {
    FlorenceGraphTensor gt, gp;
    florence_graph_model_tensor (c, rows, FLORENCE_GRAPH_TEMPORAL, &gt);
    florence_graph_model_tensor (c, rows, FLORENCE_GRAPH_PROJECTION, &gp);
    const FlorenceTensor *t = florence_checkpoint_lookup (ckpt, gt.name);
    const FlorenceTensor *p = florence_checkpoint_lookup (ckpt, gp.name);
    florence_graph_tensor_clear (&gt);
    florence_graph_tensor_clear (&gp);
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
  const struct {
    FlorenceGraphModelTensor which;
    GpuBuffer **dst;
  } model_tensors[] = {
    { FLORENCE_GRAPH_PROJECTION_NORM_W, &g->proj_norm.w },
    { FLORENCE_GRAPH_PROJECTION_NORM_B, &g->proj_norm.b },
    { FLORENCE_GRAPH_SHARED, &g->shared },
    { FLORENCE_GRAPH_FINAL_LOGITS_BIAS, &g->final_logits_bias },
    { FLORENCE_GRAPH_ENCODER_POSITIONS, &g->enc_pos },
    { FLORENCE_GRAPH_DECODER_POSITIONS, &g->dec_pos },
    { FLORENCE_GRAPH_ENCODER_EMBED_NORM_W, &g->enc_ln_emb.w },
    { FLORENCE_GRAPH_ENCODER_EMBED_NORM_B, &g->enc_ln_emb.b },
    { FLORENCE_GRAPH_DECODER_EMBED_NORM_W, &g->dec_ln_emb.w },
    { FLORENCE_GRAPH_DECODER_EMBED_NORM_B, &g->dec_ln_emb.b },
  };
  for (guint i = 0; i < G_N_ELEMENTS (model_tensors); i++)
    if (!load_model_tensor (g, ckpt, rows, model_tensors[i].which, model_tensors[i].dst, error))
      return FALSE;
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
 * Runs (florence-engine-gpu-private.h)
 * =========================================================================================== */

gboolean
florence_gpu_run_init (Run *r, FlorenceEngine *engine, GCancellable *cancellable, GError **error)
{
  Gpu *g = engine->priv;
  r->engine = engine;
  r->g = g;
  r->cancellable = cancellable;
  r->scratch = g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_buffer_free);
  r->rec = gpu_recorder_new (g->device, error);
  if (r->rec == NULL)
    {
      g_clear_pointer (&r->scratch, g_ptr_array_unref);
      return FALSE;
    }
  return TRUE;
}

void
florence_gpu_run_clear (Run *r)
{
  g_clear_pointer (&r->rec, gpu_recorder_free);
  g_clear_pointer (&r->scratch, g_ptr_array_unref);
}

GpuBuffer *
florence_gpu_run_buffer (Run *r, guint64 n_floats, GError **error)
{
  if (error != NULL && *error != NULL)
    return NULL;
  GpuBuffer *b = gpu_buffer_new (r->g->device, MAX (n_floats, (guint64) 1) * 4, error);
  if (b != NULL)
    g_ptr_array_add (r->scratch, b);
  return b;
}

gboolean
florence_gpu_run_submit (Run *r, GError **error)
{
  return gpu_recorder_submit (r->rec, r->cancellable, error);
}

gboolean
florence_gpu_run_tap (Run *r, const char *name, GpuBuffer *buf, guint64 offset_floats, gsize rows,
                      gsize cols, GError **error)
{
  if (r->engine->tap == NULL)
    return TRUE;
  g_autofree float *host = g_new (float, rows *cols);
  gpu_recorder_download (r->rec, buf, offset_floats * 4, host, rows * cols * 4);
  if (!florence_gpu_run_submit (r, error))
    return FALSE;
  r->engine->tap (name, host, rows, cols, r->engine->tap_data);
  return TRUE;
}

/* =============================================================================================
 * Memory
 * =========================================================================================== */

/* Device memory a run needs: the weights as uploaded (matrices fp16, the rest fp32: a few
 * percent more than fp16 throughout), the vision tower's scratch at the config's input size,
 * the encoder's at the longest input, and a 3-beam decoder of 256 positions (its caches grow
 * beyond that only when a result is that long). */
static guint64
memory_needed (GpuDevice *device, const FlorenceConfig *c, FlorenceCheckpoint *ckpt)
{
  guint64 weights = 0;
  for (guint i = 0; i < florence_checkpoint_get_n_tensors (ckpt); i++)
    weights += florence_checkpoint_get_tensor (ckpt, i)->n_elements * 2;
  weights += weights / 32;
  const guint64 L = (guint64) c->max_position_embeddings;
  const guint64 encoder = L * (6 * (guint64) c->d_model + (guint64) c->encoder_ffn_dim) * 4;
  return weights + florence_gpu_vision_scratch_bytes (device, c, c->image_size) + encoder +
         florence_gpu_decoder_bytes (c, 3, 256);
}

static gboolean
memory_check (Gpu *g, FlorenceCheckpoint *ckpt, GError **error)
{
  guint64 need = memory_needed (g->device, g->config, ckpt);
  guint64 have = gpu_device_get_memory_available (g->device);
  if (need <= have)
    return TRUE;
  g_set_error (error, GPU_ERROR, GPU_ERROR_OUT_OF_MEMORY,
               _ ("This model needs about %" PRIu64 " MB of memory on the GPU “%s”, which has "
                  "%" PRIu64 " MB free. Close programs that use the GPU, choose a smaller model, "
                  "or run it on the CPU."),
               need >> 20, gpu_device_get_info (g->device)->name, have >> 20);
  return FALSE;
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
  if (g->device == NULL || !memory_check (g, checkpoint, error) ||
      !load_weights (g, checkpoint, error))
    {
      gpu_free (g);
      return NULL;
    }

  FlorenceEngine *engine = g_new0 (FlorenceEngine, 1);
  engine->kind = FLORENCE_DEVICE_VULKAN;
  engine->device_name = g_strdup (gpu_device_get_info (g->device)->name);
  engine->encode_image = florence_gpu_encode_image;
  engine->prepare_task = florence_gpu_prepare_task;
  engine->features_free = florence_gpu_features_free;
  engine->decoder_free = florence_gpu_decoder_free;
  engine->free = engine_gpu_free;
  engine->priv = g;
  return engine;
}
