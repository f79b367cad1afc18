/* florence-engine-gpu-vision.c: encode_image on the GPU — DaViT stages and blocks, then the
 * 2-D positions, the pooled token and the projection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The tower is cut into several submissions so that no single one runs for long on a slow
 * device (a desktop stalls while a GPU runs one submission; drivers reset GPUs whose work runs
 * for seconds) and a cancellation is seen between them: a submission ends after the block
 * that brings its work to the device's submission_gflop (src/gpu/gpu-device.h), a figure chosen
 * from the device's type.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "florence/engine/florence-engine-gpu-private.h"
#include "florence/engine/florence-graph.h"
#include "gpu/gpu-op-attention.h"
#include "gpu/gpu-op-conv.h"
#include "gpu/gpu-op-embed.h"
#include "gpu/gpu-op-gemm.h"
#include "gpu/gpu-op-norm.h"

#define LN_EPS FLORENCE_GPU_LN_EPS

/* The activations of the tower, sized for its largest stage. */
typedef struct {
  GpuBuffer *pix, *x, *y, *xn, *att, *qkv, *hid, *cols, *cscratch;
} VisionBuffers;

typedef struct {
  guint64 max_nc, max_n4c, max_cols, max_scratch;
} VisionSizes;

static void
vision_sizes (GpuDevice *device, const FlorenceConfig *c, int size, VisionSizes *out)
{
  memset (out, 0, sizeof *out);
  int hw = size, cin = 3;
  for (int s = 0; s < 4; s++)
    {
      int o = (hw + 2 * c->patch_padding[s] - c->patch_size[s]) / c->patch_stride[s] + 1;
      guint64 n = (guint64) o * o, C = (guint64) c->dim_embed[s];
      out->max_nc = MAX (out->max_nc, n * C);
      out->max_nc = MAX (out->max_nc, (guint64) hw * hw * cin);
      out->max_n4c = MAX (out->max_n4c, n * 4 * C);
      out->max_cols = MAX (out->max_cols, n * (guint64) cin * c->patch_size[s] * c->patch_size[s]);
      if (device != NULL)
        out->max_scratch =
          MAX (out->max_scratch, gpu_op_attention_channel_scratch_size (
                                   device, (guint) n, (guint) C, (guint) c->num_groups[s]));
      hw = o;
      cin = (int) C;
    }
}

guint64
florence_gpu_vision_scratch_bytes (GpuDevice *device, const FlorenceConfig *config, int size)
{
  VisionSizes z;
  vision_sizes (device, config, size, &z);
  /* pix, x, y, xn, att, qkv (3×), hid, cols, channel scratch, the features */
  return ((guint64) 3 * size * size + 7 * z.max_nc + z.max_n4c + z.max_cols) * 4 + z.max_scratch;
}

/* Submits when the work recorded since the last submission passes the budget. */
static gboolean
vision_maybe_submit (Run *r, double *gflop, double add, GError **error)
{
  *gflop += add;
  if (*gflop < gpu_device_get_limits (r->g->device)->submission_gflop)
    return TRUE;
  *gflop = 0;
  return florence_gpu_run_submit (r, error);
}

/* Stage @s's patch embedding: [H, W, C] tokens in b->x → [ho, wo, co] tokens in b->x. */
static void
vision_patch (Run *r, int s, const VisionBuffers *b, guint *H, guint *W, guint *C)
{
  const FlorenceConfig *c = r->g->config;
  const GStage *st = &r->g->stages[s];
  const guint k = (guint) c->patch_size[s], stride = (guint) c->patch_stride[s],
              pad = (guint) c->patch_padding[s], co = (guint) c->dim_embed[s];
  const guint ho = gpu_op_conv_out_size (*H, k, stride, pad),
              wo = gpu_op_conv_out_size (*W, k, stride, pad);
  if (s == 0)
    {
      /* im2col + GEMM: 1/9 of the direct convolution's time on lavapipe */
      gpu_op_conv2d_gemm (r->rec, b->pix, GPU_CONV_INPUT_CHW, 3, *H, *W, st->conv.w, TRUE,
                          st->conv.b, co, k, stride, pad, b->cols, b->x);
    }
  else
    {
      GpuBuffer *in = b->x;
      if (c->patch_prenorm[s])
        {
          gpu_op_layernorm (r->rec, b->x, NULL, st->norm.w, st->norm.b, FALSE, *H * *W, *C, LN_EPS,
                            b->xn);
          in = b->xn;
        }
      gpu_op_im2col (r->rec, in, GPU_CONV_INPUT_TOKENS, *C, *H, *W, k, stride, pad, b->cols);
      gpu_op_linear (r->rec, b->cols, st->conv.w, GPU_GEMM_WEIGHT_F16, st->conv.b, NULL, b->x,
                     ho * wo, co, *C * k * k, FALSE);
    }
  *H = ho;
  *W = wo;
  *C = co;
  if (!c->patch_prenorm[s])
    gpu_op_layernorm (r->rec, b->x, NULL, st->norm.w, st->norm.b, FALSE, ho * wo, co, LN_EPS, b->x);
}

/* The FFN half of a block: x += fc2 (GELU (fc1 (LayerNorm (x)))). */
static void
vision_ffn (Run *r, const GBlock *blk, const VisionBuffers *b, guint n, guint C)
{
  gpu_op_layernorm (r->rec, b->x, NULL, blk->norm2.w, blk->norm2.b, FALSE, n, C, LN_EPS, b->xn);
  gpu_op_linear (r->rec, b->xn, blk->fc1.w, GPU_GEMM_WEIGHT_F16, blk->fc1.b, NULL, b->hid, n, 4 * C,
                 C, TRUE);
  gpu_op_linear (r->rec, b->hid, blk->fc2.w, GPU_GEMM_WEIGHT_F16, blk->fc2.b, b->x, b->x, n, C,
                 4 * C, FALSE);
}

/* One spatial (window attention) or channel (channel-group attention) block on b->x. */
static void
vision_block (Run *r, int s, const GBlock *blk, gboolean channel, const VisionBuffers *b, guint H,
              guint W, guint C)
{
  const FlorenceConfig *c = r->g->config;
  const guint n = H * W;
  gpu_op_dwconv3x3_residual (r->rec, b->x, H, W, C, blk->conv1.w, blk->conv1.b, FALSE, b->y);
  gpu_op_layernorm (r->rec, b->y, NULL, blk->norm1.w, blk->norm1.b, FALSE, n, C, LN_EPS, b->xn);
  gpu_op_linear (r->rec, b->xn, blk->qkv.w, GPU_GEMM_WEIGHT_F16, blk->qkv.b, NULL, b->qkv, n, 3 * C,
                 C, FALSE);
  if (!channel)
    gpu_op_attention_window (r->rec, b->qkv, blk->qkv.b, FALSE, H, W, C, (guint) c->num_heads[s],
                             (guint) c->window_size, b->att);
  else
    gpu_op_attention_channel (r->rec, b->qkv, n, C, (guint) c->num_groups[s], b->cscratch, b->att);
  gpu_op_linear (r->rec, b->att, blk->proj.w, GPU_GEMM_WEIGHT_F16, blk->proj.b, b->y, b->y, n, C, C,
                 FALSE);
  gpu_op_dwconv3x3_residual (r->rec, b->y, H, W, C, blk->conv2.w, blk->conv2.b, FALSE, b->x);
  vision_ffn (r, blk, b, n, C);
}

/* + 2-D position + temporal row 0 into rows 1..N of feat, the mean into row 0, then the
 * projection and its LayerNorm into @h [n_image, d]. */
static gboolean
vision_project (Run *r, GpuBuffer *x, guint H, guint W, GpuBuffer *h, GError **error)
{
  Gpu *g = r->g;
  const FlorenceConfig *c = g->config;
  const guint d = (guint) c->d_model, D = (guint) c->dim_embed[3];
  const guint N = H * W, n_image = N + 1;
  GpuBuffer *feat = florence_gpu_run_buffer (r, (guint64) n_image * D, error);
  if (feat == NULL)
    return FALSE;
  gpu_op_pos2d (r->rec, x, 0, H, W, D, g->pos_col, g->pos_row, FALSE, g->temporal0, FALSE, feat, D);
  gpu_op_mean_rows (r->rec, feat, D, N, D, feat, 0);
  gpu_op_linear (r->rec, feat, g->projection_t, GPU_GEMM_WEIGHT_F16, NULL, NULL, h, n_image, d, D,
                 FALSE);
  gpu_op_layernorm (r->rec, h, NULL, g->proj_norm.w, g->proj_norm.b, FALSE, n_image, d, LN_EPS, h);
  return florence_gpu_run_tap (r, "image_features", h, 0, n_image, d, error);
}

void
florence_gpu_features_free (FlorenceEngine *engine, FlorenceImageFeatures *features)
{
  GpuFeatures *f = (GpuFeatures *) features;
  if (f == NULL)
    return;
  gpu_buffer_free (f->h);
  g_free (f);
}

FlorenceImageFeatures *
florence_gpu_encode_image (FlorenceEngine *engine, const float *pixel_values, int size,
                           double *seconds, GCancellable *cancellable, GError **error)
{
  Gpu *g = engine->priv;
  const FlorenceConfig *c = g->config;
  int n_image_tokens = 0;
  if (!florence_graph_check_image_size (c, size, &n_image_tokens, error))
    return NULL;
  const guint d = (guint) c->d_model, D = (guint) c->dim_embed[3];
  const guint n_image = (guint) n_image_tokens, N = n_image - 1;

  gint64 t0 = g_get_monotonic_time ();
  Run r;
  GpuFeatures *features = NULL;
  gboolean ok = FALSE;
  if (!florence_gpu_run_init (&r, engine, cancellable, error))
    return NULL;

  VisionSizes z;
  vision_sizes (g->device, c, size, &z);
  VisionBuffers b = { 0 };
  b.pix = florence_gpu_run_buffer (&r, (guint64) 3 * size * size, error);
  b.x = florence_gpu_run_buffer (&r, z.max_nc, error);
  b.y = florence_gpu_run_buffer (&r, z.max_nc, error);
  b.xn = florence_gpu_run_buffer (&r, z.max_nc, error);
  b.att = florence_gpu_run_buffer (&r, z.max_nc, error);
  b.qkv = florence_gpu_run_buffer (&r, z.max_nc * 3, error);
  b.hid = florence_gpu_run_buffer (&r, z.max_n4c, error);
  b.cols = florence_gpu_run_buffer (&r, z.max_cols, error);
  b.cscratch = florence_gpu_run_buffer (&r, MAX (z.max_scratch, (guint64) 4) / 4 + 1, error);
  if (b.cscratch == NULL)
    goto out;
  gpu_recorder_upload (r.rec, b.pix, 0, pixel_values, (guint64) 3 * size * size * 4);

  guint H = (guint) size, W = (guint) size, C = 3;
  double gflop = 0;
  for (int s = 0; s < 4; s++)
    {
      vision_patch (&r, s, &b, &H, &W, &C);
      const double block_gflop = 24.0 * C * C * H * W * 1e-9;
      for (int j = 0; j < c->depths[s]; j++)
        for (int channel = 0; channel < 2; channel++)
          {
            const GStage *st = &g->stages[s];
            vision_block (&r, s, channel ? &st->channel[j] : &st->spatial[j], channel, &b, H, W, C);
            if (!vision_maybe_submit (&r, &gflop, block_gflop, error))
              goto out;
          }
      char name[32];
      g_snprintf (name, sizeof name, "vision_stage%d", s);
      if (!florence_gpu_run_tap (&r, name, b.x, 0, H * W, C, error))
        goto out;
    }
  if (!florence_gpu_run_tap (&r, "vision_tower_output", b.x, 0, N, D, error))
    goto out;

  features = g_new0 (GpuFeatures, 1);
  features->parent.size = size;
  features->parent.n_tokens = (int) n_image;
  features->parent.bytes = (guint64) n_image * d * 4;
  features->h = gpu_buffer_new (g->device, (guint64) n_image * d * 4, error);
  if (features->h == NULL || !vision_project (&r, b.x, H, W, features->h, error) ||
      !florence_gpu_run_submit (&r, error))
    goto out;
  if (seconds != NULL)
    *seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  ok = TRUE;

out:
  florence_gpu_run_clear (&r);
  if (!ok && features != NULL)
    {
      florence_gpu_features_free (engine, &features->parent);
      features = NULL;
    }
  return features != NULL ? &features->parent : NULL;
}
