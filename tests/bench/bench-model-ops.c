/* bench-model-ops.c: bench-model --ops, the GPU engine's ops one by one at the real shapes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The op sequence of florence-engine-gpu.c for one image and one decoder step, each op timed
 * alone on its own device after a warm-up: ms per call, calls per image or step, ms in total,
 * GFLOP/s, GB/s, and OpenBLAS GFLOP/s for the linear layers. The same op table gives the
 * vision tower's FLOP count that the end-to-end part divides by its time.
 */
#include "config.h"

#include <cblas.h>
#include <stdio.h>
#include <string.h>

#include "bench-model.h"
#include "gpu/gpu-op-attention.h"
#include "gpu/gpu-op-conv.h"
#include "gpu/gpu-op-embed.h"
#include "gpu/gpu-op-gemm.h"
#include "gpu/gpu-op-logits.h"
#include "gpu/gpu-op-norm.h"
#include "gpu/gpu.h"

/* =============================================================================================
 * Per-op profile at the real shapes
 * =========================================================================================== */

typedef enum {
  OP_CONV2D,      /* stage-0 direct convolution: a = H(=W), b = cout, c = k, d = stride */
  OP_CONV2D_GEMM, /* the same as im2col + GEMM */
  OP_IM2COL,      /* tokens: a = H(=W), b = cin, c = k, d = stride */
  OP_LAYERNORM,   /* a = rows, b = c, flag = residual */
  OP_DWCONV,      /* a = H(=W), b = C */
  OP_LINEAR,      /* a = m, b = n, c = k, flag = gelu, flag2 = residual */
  OP_GEMM_KV,     /* decoder k/v into the cache: a = beams, b = d, c = cap */
  OP_ATT_WINDOW,  /* a = H(=W), b = C, c = heads, d = window */
  OP_ATT_CHANNEL, /* a = n, b = C, c = groups */
  OP_ATTENTION,   /* a = batch, b = n_q, c = n_kv, d = d_model, e = heads, flag = kv cache */
  OP_EMBEDDING,   /* a = n, b = d, c = vocab */
  OP_TOPK,        /* a = rows, b = V, c = k */
  OP_REORDER,     /* a = beams, b = cap, c = t, d = d */
  OP_POS2D_MEAN,  /* a = H(=W), b = D */
} OpKind;

typedef struct {
  const char *phase;
  OpKind kind;
  guint a, b, c, d, e;
  gboolean flag, flag2;
  guint count; /* calls per image (vision, encoder) or per step (decoder) */
  char what[48];
  double flops, bytes;
  double ms, cpu_ms, blas_gflops; /* results */
} Op;

static guint
conv_out (guint size, guint k, guint stride)
{
  return gpu_op_conv_out_size (size, k, stride, k / 2);
}

static void
op_sizes (Op *op)
{
  double a = op->a, b = op->b, c = op->c, d = op->d;
  switch (op->kind)
    {
    case OP_CONV2D:
    case OP_CONV2D_GEMM:
      {
        double o = conv_out (op->a, op->c, op->d);
        op->flops = 2.0 * o * o * b * 3 * c * c;
        op->bytes =
          4.0 * (3 * a * a + o * o * b) + (op->kind == OP_CONV2D ? 4.0 : 2.0) * b * 3 * c * c;
        g_snprintf (op->what, sizeof op->what, "%u² ×3 → %u², %u ch, %u×%u/%u", op->a, (guint) o,
                    op->b, op->c, op->c, op->d);
        break;
      }
    case OP_IM2COL:
      {
        double o = conv_out (op->a, op->c, op->d);
        op->flops = 0;
        op->bytes = 4.0 * (a * a * b + o * o * b * c * c);
        g_snprintf (op->what, sizeof op->what, "%u² ×%u → %u² ×%u", op->a, op->b, (guint) o,
                    op->b * op->c * op->c);
        break;
      }
    case OP_LAYERNORM:
      op->flops = 8.0 * a * b;
      op->bytes = 4.0 * a * b * (op->flag ? 3 : 2);
      g_snprintf (op->what, sizeof op->what, "%u×%u%s", op->a, op->b, op->flag ? " +res" : "");
      break;
    case OP_DWCONV:
      op->flops = 18.0 * a * a * b;
      op->bytes = 8.0 * a * a * b;
      g_snprintf (op->what, sizeof op->what, "%u² ×%u", op->a, op->b);
      break;
    case OP_LINEAR:
      op->flops = 2.0 * a * b * c;
      op->bytes = 4.0 * a * c + 2.0 * b * c + 4.0 * a * b * (op->flag2 ? 2 : 1);
      g_snprintf (op->what, sizeof op->what, "%u×%u×%u%s%s", op->a, op->b, op->c,
                  op->flag ? " gelu" : "", op->flag2 ? " +res" : "");
      break;
    case OP_GEMM_KV:
      op->flops = 2.0 * a * b * b;
      op->bytes = 4.0 * a * b + 2.0 * b * b + 4.0 * a * b;
      g_snprintf (op->what, sizeof op->what, "%u×%u×%u into cache", op->a, op->b, op->b);
      break;
    case OP_ATT_WINDOW:
      op->flops = 4.0 * a * a * (d * d) * b;
      op->bytes = 4.0 * a * a * b * 4;
      g_snprintf (op->what, sizeof op->what, "%u² ×%u, %u heads, %u×%u", op->a, op->b, op->c, op->d,
                  op->d);
      break;
    case OP_ATT_CHANNEL:
      op->flops = 4.0 * a * b * (b / c);
      op->bytes = 4.0 * a * b * 4;
      g_snprintf (op->what, sizeof op->what, "%u ×%u, %u groups", op->a, op->b, op->c);
      break;
    case OP_ATTENTION:
      op->flops = 4.0 * a * b * c * d;
      op->bytes = 4.0 * d * (2 * a * b + 2 * (op->flag ? a : 1) * c);
      g_snprintf (op->what, sizeof op->what, "%u×%u q, %u kv, %u heads", op->a, op->b, op->c,
                  op->e);
      break;
    case OP_EMBEDDING:
      op->flops = 0;
      op->bytes = 2.0 * a * b + 8.0 * a * b;
      g_snprintf (op->what, sizeof op->what, "%u ×%u of %u", op->a, op->b, op->c);
      break;
    case OP_TOPK:
      op->flops = 4.0 * a * b;
      op->bytes = 4.0 * a * b;
      g_snprintf (op->what, sizeof op->what, "%u×%u, k=%u", op->a, op->b, op->c);
      break;
    case OP_REORDER:
      op->flops = 0;
      op->bytes = 8.0 * a * c * d;
      g_snprintf (op->what, sizeof op->what, "%u beams, %u pos ×%u", op->a, op->c, op->d);
      break;
    case OP_POS2D_MEAN:
      op->flops = 3.0 * a * a * b;
      op->bytes = 12.0 * a * a * b;
      g_snprintf (op->what, sizeof op->what, "%u² ×%u", op->a, op->b);
      break;
    }
}

static void
add_op (GArray *ops, const char *phase, guint count, OpKind kind, guint a, guint b, guint c,
        guint d, guint e, gboolean flag, gboolean flag2)
{
  Op op = { phase, kind, a, b, c, d, e, flag, flag2, count, "", 0, 0, 0, 0, 0 };
  /* merge repeats of the same op (e.g. the 9 blocks of stage 2) */
  for (guint i = 0; i < ops->len; i++)
    {
      Op *o = &g_array_index (ops, Op, i);
      if (strcmp (o->phase, phase) == 0 && o->kind == kind && o->a == a && o->b == b && o->c == c &&
          o->d == d && o->e == e && o->flag == flag && o->flag2 == flag2)
        {
          o->count += count;
          return;
        }
    }
  op_sizes (&op);
  g_array_append_val (ops, op);
}

/* The op sequence of florence-engine-gpu.c for one image and one decoder step. */
static GArray *
graph_ops (const FlorenceConfig *c, guint size, guint n_prompt, guint beams, guint t)
{
  GArray *ops = g_array_new (FALSE, TRUE, sizeof (Op));
  static const char *stage_names[] = { "vision s0", "vision s1", "vision s2", "vision s3" };
  guint hw = size, cin = 3;
  for (int s = 0; s < 4; s++)
    {
      const char *ph = stage_names[s];
      const guint k = (guint) c->patch_size[s], st = (guint) c->patch_stride[s],
                  C = (guint) c->dim_embed[s];
      const guint o = conv_out (hw, k, st), n = o * o;
      if (s == 0)
        {
          add_op (ops, ph, 1, OP_CONV2D_GEMM, hw, C, k, st, 0, FALSE, FALSE);
          add_op (ops, "(alternative)", 1, OP_CONV2D, hw, C, k, st, 0, FALSE, FALSE);
          add_op (ops, ph, 1, OP_LAYERNORM, n, C, 0, 0, 0, FALSE, FALSE);
        }
      else
        {
          add_op (ops, ph, 1, OP_LAYERNORM, hw * hw, cin, 0, 0, 0, FALSE, FALSE);
          add_op (ops, ph, 1, OP_IM2COL, hw, cin, k, st, 0, FALSE, FALSE);
          add_op (ops, ph, 1, OP_LINEAR, n, C, cin * k * k, 0, 0, FALSE, FALSE);
        }
      for (int j = 0; j < c->depths[s]; j++)
        for (int kind = 0; kind < 2; kind++)
          {
            add_op (ops, ph, 2, OP_DWCONV, o, C, 0, 0, 0, FALSE, FALSE);
            add_op (ops, ph, 2, OP_LAYERNORM, n, C, 0, 0, 0, FALSE, FALSE);
            add_op (ops, ph, 1, OP_LINEAR, n, 3 * C, C, 0, 0, FALSE, FALSE);
            if (kind == 0)
              add_op (ops, ph, 1, OP_ATT_WINDOW, o, C, (guint) c->num_heads[s],
                      (guint) c->window_size, 0, FALSE, FALSE);
            else
              add_op (ops, ph, 1, OP_ATT_CHANNEL, n, C, (guint) c->num_groups[s], 0, 0, FALSE,
                      FALSE);
            add_op (ops, ph, 1, OP_LINEAR, n, C, C, 0, 0, FALSE, TRUE);
            add_op (ops, ph, 1, OP_LINEAR, n, 4 * C, C, 0, 0, TRUE, FALSE);
            add_op (ops, ph, 1, OP_LINEAR, n, C, 4 * C, 0, 0, FALSE, TRUE);
          }
      hw = o;
      cin = C;
    }
  const guint D = cin, d = (guint) c->d_model, n_image = hw * hw + 1;
  add_op (ops, "projection", 1, OP_POS2D_MEAN, hw, D, 0, 0, 0, FALSE, FALSE);
  add_op (ops, "projection", 1, OP_LINEAR, n_image, d, D, 0, 0, FALSE, FALSE);
  add_op (ops, "projection", 1, OP_LAYERNORM, n_image, d, 0, 0, 0, FALSE, FALSE);

  const guint L = n_image + n_prompt, heads = (guint) c->encoder_heads;
  const guint V = (guint) c->vocab_size, cap = (guint) c->max_position_embeddings;
  add_op (ops, "encoder", 1, OP_EMBEDDING, n_prompt, d, V, 0, 0, FALSE, FALSE);
  add_op (ops, "encoder", 1, OP_EMBEDDING, L, d, cap + 2, 0, 0, FALSE, FALSE);
  add_op (ops, "encoder", 1, OP_LAYERNORM, L, d, 0, 0, 0, TRUE, FALSE);
  for (int l = 0; l < c->encoder_layers; l++)
    {
      add_op (ops, "encoder", 4, OP_LINEAR, L, d, d, 0, 0, FALSE, FALSE);
      add_op (ops, "encoder", 1, OP_ATTENTION, 1, L, L, d, heads, FALSE, FALSE);
      add_op (ops, "encoder", 2, OP_LAYERNORM, L, d, 0, 0, 0, TRUE, FALSE);
      add_op (ops, "encoder", 1, OP_LINEAR, L, (guint) c->encoder_ffn_dim, d, 0, 0, TRUE, FALSE);
      add_op (ops, "encoder", 1, OP_LINEAR, L, d, (guint) c->encoder_ffn_dim, 0, 0, FALSE, FALSE);
    }
  for (int l = 0; l < c->decoder_layers; l++)
    add_op (ops, "encoder", 2, OP_LINEAR, L, d, d, 0, 0, FALSE, FALSE);

  const char *dp = beams > 1 ? "decoder step (beams)" : "decoder step";
  const guint dh = (guint) c->decoder_heads, ffn = (guint) c->decoder_ffn_dim;
  if (beams > 1)
    add_op (ops, dp, 2 * (guint) c->decoder_layers, OP_REORDER, beams, cap, t, d, 0, FALSE, FALSE);
  add_op (ops, dp, 1, OP_EMBEDDING, beams, d, V, 0, 0, FALSE, FALSE);
  add_op (ops, dp, 1, OP_LAYERNORM, beams, d, 0, 0, 0, FALSE, FALSE);
  for (int l = 0; l < c->decoder_layers; l++)
    {
      add_op (ops, dp, 4, OP_LINEAR, beams, d, d, 0, 0, FALSE, FALSE);
      add_op (ops, dp, 2, OP_GEMM_KV, beams, d, cap, 0, 0, FALSE, FALSE);
      add_op (ops, dp, 1, OP_ATTENTION, beams, 1, t + 1, d, dh, TRUE, FALSE);
      add_op (ops, dp, 1, OP_ATTENTION, beams, 1, L, d, dh, FALSE, FALSE);
      add_op (ops, dp, 3, OP_LAYERNORM, beams, d, 0, 0, 0, TRUE, FALSE);
      add_op (ops, dp, 1, OP_LINEAR, beams, ffn, d, 0, 0, TRUE, FALSE);
      add_op (ops, dp, 1, OP_LINEAR, beams, d, ffn, 0, 0, FALSE, FALSE);
    }
  add_op (ops, dp, 1, OP_LINEAR, beams, V, d, 0, 0, FALSE, FALSE);
  add_op (ops, dp, 1, OP_TOPK, beams, V, 2 * beams, 0, 0, FALSE, FALSE);
  return ops;
}

/* Random data, made once and uploaded in prefixes. */
static float *rand_f32;
static guint16 *rand_f16;
static gsize rand_n;

static void
rand_init (gsize n)
{
  rand_n = n;
  rand_f32 = g_new (float, n);
  rand_f16 = g_new (guint16, n);
  guint32 s = 12345;
  for (gsize i = 0; i < n; i++)
    {
      s = s * 1664525u + 1013904223u;
      rand_f32[i] = ((float) (s >> 8) / 16777216.0f - 0.5f) * 0.2f;
    }
  gpu_half_from_float_array (rand_f16, rand_f32, n);
}

typedef struct {
  GpuDevice *device;
  GPtrArray *buffers;
  GError *error;
} Bufs;

static GpuBuffer *
buf (Bufs *b, guint64 n, gboolean f16)
{
  if (b->error != NULL)
    return NULL;
  guint64 bytes = MAX (n, (guint64) 2) * (f16 ? 2 : 4);
  bytes = (bytes + 3) & ~(guint64) 3;
  GpuBuffer *x = gpu_buffer_new (b->device, bytes, &b->error);
  if (x == NULL)
    return NULL;
  g_ptr_array_add (b->buffers, x);
  for (guint64 off = 0; off < bytes; off += rand_n * 2)
    {
      guint64 len = MIN (bytes - off, (guint64) rand_n * 2);
      if (!gpu_buffer_upload (x, off, rand_f16, len, &b->error))
        return NULL;
    }
  return x;
}

/* Buffers of an op, allocated once; record() then replays it. */
typedef struct {
  GpuBuffer *x, *w, *bias, *res, *y, *k, *v, *scratch, *ctl, *ids;
  gint32 forced[GPU_OP_ATTENTION_MAX_BEAMS];
  guint beam[GPU_OP_ATTENTION_MAX_BEAMS];
} OpBufs;

static gboolean
op_alloc (Bufs *b, const Op *op, OpBufs *ob)
{
  memset (ob, 0, sizeof *ob);
  switch (op->kind)
    {
    case OP_CONV2D:
    case OP_CONV2D_GEMM:
      {
        guint o = conv_out (op->a, op->c, op->d);
        ob->x = buf (b, 3ull * op->a * op->a, FALSE);
        ob->w = buf (b, (guint64) op->b * 3 * op->c * op->c, op->kind == OP_CONV2D_GEMM);
        ob->bias = buf (b, op->b, FALSE);
        ob->y = buf (b, (guint64) o * o * op->b, FALSE);
        if (op->kind == OP_CONV2D_GEMM)
          ob->scratch = buf (
            b, gpu_op_conv2d_gemm_scratch_size (3, op->a, op->a, op->c, op->d, op->c / 2) / 4 + 1,
            FALSE);
        break;
      }
    case OP_IM2COL:
      {
        guint o = conv_out (op->a, op->c, op->d);
        ob->x = buf (b, (guint64) op->a * op->a * op->b, FALSE);
        ob->y = buf (b, (guint64) o * o * op->b * op->c * op->c, FALSE);
        break;
      }
    case OP_LAYERNORM:
      ob->x = buf (b, (guint64) op->a * op->b, FALSE);
      ob->res = op->flag ? buf (b, (guint64) op->a * op->b, FALSE) : NULL;
      ob->w = buf (b, op->b, FALSE);
      ob->bias = buf (b, op->b, FALSE);
      ob->y = buf (b, (guint64) op->a * op->b, FALSE);
      break;
    case OP_DWCONV:
      ob->x = buf (b, (guint64) op->a * op->a * op->b, FALSE);
      ob->w = buf (b, 9ull * op->b, FALSE);
      ob->bias = buf (b, op->b, FALSE);
      ob->y = buf (b, (guint64) op->a * op->a * op->b, FALSE);
      break;
    case OP_LINEAR:
      ob->x = buf (b, (guint64) op->a * op->c, FALSE);
      ob->w = buf (b, (guint64) op->b * op->c, TRUE);
      ob->bias = buf (b, op->b, FALSE);
      ob->res = op->flag2 ? buf (b, (guint64) op->a * op->b, FALSE) : NULL;
      ob->y = buf (b, (guint64) op->a * op->b, FALSE);
      break;
    case OP_GEMM_KV:
      ob->x = buf (b, (guint64) op->a * op->b, FALSE);
      ob->w = buf (b, (guint64) op->b * op->b, TRUE);
      ob->bias = buf (b, op->b, FALSE);
      ob->y = buf (b, (guint64) op->a * op->c * op->b, FALSE);
      break;
    case OP_ATT_WINDOW:
      ob->x = buf (b, (guint64) op->a * op->a * op->b * 3, FALSE);
      ob->bias = buf (b, 3ull * op->b, FALSE);
      ob->y = buf (b, (guint64) op->a * op->a * op->b, FALSE);
      break;
    case OP_ATT_CHANNEL:
      ob->x = buf (b, (guint64) op->a * op->b * 3, FALSE);
      ob->scratch = buf (
        b, gpu_op_attention_channel_scratch_size (b->device, op->a, op->b, op->c) / 4 + 1, FALSE);
      ob->y = buf (b, (guint64) op->a * op->b, FALSE);
      break;
    case OP_ATTENTION:
      {
        guint64 kv = op->flag ? (guint64) op->a * 1024 * op->d : (guint64) op->c * op->d;
        ob->x = buf (b, (guint64) op->a * op->b * op->d, FALSE);
        ob->k = buf (b, kv, FALSE);
        ob->v = buf (b, kv, FALSE);
        ob->y = buf (b, (guint64) op->a * op->b * op->d, FALSE);
        break;
      }
    case OP_EMBEDDING:
      {
        g_autofree gint32 *ids = g_new (gint32, op->a);
        for (guint i = 0; i < op->a; i++)
          ids[i] = (gint32) ((i * 7919u) % MIN (op->c, 1000u));
        ob->w = buf (b, (guint64) op->c * op->b, TRUE);
        ob->ids = buf (b, op->a, FALSE);
        ob->y = buf (b, (guint64) op->a * op->b, FALSE);
        if (ob->ids != NULL && !gpu_buffer_upload (ob->ids, 0, ids, op->a * 4ull, &b->error))
          return FALSE;
        break;
      }
    case OP_TOPK:
      ob->x = buf (b, (guint64) op->a * op->b, FALSE);
      ob->ctl = buf (b, gpu_op_logits_topk_ctl_size (op->a, 128) / 4 + 1, FALSE);
      ob->scratch =
        buf (b, gpu_op_logits_topk_scratch_size (b->device, op->a, op->c) / 4 + 1, FALSE);
      ob->y = buf (b, gpu_op_logits_topk_out_size (op->a, op->c) / 4 + 1, FALSE);
      for (guint i = 0; i < op->a; i++)
        ob->forced[i] = -1;
      break;
    case OP_REORDER:
      ob->x = buf (b, (guint64) op->a * op->b * op->d, FALSE);
      ob->y = buf (b, (guint64) op->a * op->b * op->d, FALSE);
      for (guint i = 0; i < op->a; i++)
        ob->beam[i] = (i + 1) % op->a;
      break;
    case OP_POS2D_MEAN:
      ob->x = buf (b, (guint64) op->a * op->a * op->b, FALSE);
      ob->w = buf (b, 50ull * op->b, FALSE);
      ob->bias = buf (b, 50ull * op->b, FALSE);
      ob->res = buf (b, op->b, FALSE);
      ob->y = buf (b, (guint64) (op->a * op->a + 1) * op->b, FALSE);
      break;
    }
  return b->error == NULL;
}

static void
op_record (GpuRecorder *rec, const Op *op, OpBufs *ob)
{
  switch (op->kind)
    {
    case OP_CONV2D:
      gpu_op_conv2d (rec, ob->x, GPU_CONV_INPUT_CHW, 3, op->a, op->a, ob->w, ob->bias, FALSE, op->b,
                     op->c, op->d, op->c / 2, ob->y);
      break;
    case OP_CONV2D_GEMM:
      gpu_op_conv2d_gemm (rec, ob->x, GPU_CONV_INPUT_CHW, 3, op->a, op->a, ob->w, TRUE, ob->bias,
                          op->b, op->c, op->d, op->c / 2, ob->scratch, ob->y);
      break;
    case OP_IM2COL:
      gpu_op_im2col (rec, ob->x, GPU_CONV_INPUT_TOKENS, op->b, op->a, op->a, op->c, op->d,
                     op->c / 2, ob->y);
      break;
    case OP_LAYERNORM:
      gpu_op_layernorm (rec, ob->x, ob->res, ob->w, ob->bias, FALSE, op->a, op->b, 1e-5f, ob->y);
      break;
    case OP_DWCONV:
      gpu_op_dwconv3x3_residual (rec, ob->x, op->a, op->a, op->b, ob->w, ob->bias, FALSE, ob->y);
      break;
    case OP_LINEAR:
      gpu_op_linear (rec, ob->x, ob->w, GPU_GEMM_WEIGHT_F16, ob->bias, ob->res, ob->y, op->a, op->b,
                     op->c, op->flag);
      break;
    case OP_GEMM_KV:
      {
        GpuGemm gm = {
          .m = op->a,
          .n = op->b,
          .k = op->b,
          .a = ob->x,
          .w = ob->w,
          .w_type = GPU_GEMM_WEIGHT_F16,
          .bias = ob->bias,
          .c = ob->y,
          .c_offset = 16ull * op->b,
          .ldc = op->c * op->b,
          .label = "decoder kv",
        };
        gpu_op_gemm (rec, &gm);
        break;
      }
    case OP_ATT_WINDOW:
      gpu_op_attention_window (rec, ob->x, ob->bias, FALSE, op->a, op->a, op->b, op->c, op->d,
                               ob->y);
      break;
    case OP_ATT_CHANNEL:
      gpu_op_attention_channel (rec, ob->x, op->a, op->b, op->c, ob->scratch, ob->y);
      break;
    case OP_ATTENTION:
      {
        const guint d = op->d, kv_stride = op->flag ? 1024 * d : 0;
        GpuAttention at = {
          .q = { ob->x, 0, d, op->b * d },
          .k = { ob->k, 0, d, kv_stride },
          .v = { ob->v, 0, d, kv_stride },
          .out = { ob->y, 0, d, op->b * d },
          .batch = op->a,
          .n_q = op->b,
          .n_kv = op->c,
          .heads = op->e,
          .head_dim = d / op->e,
          .scale = 0.125f,
          .causal = FALSE,
        };
        gpu_op_attention (rec, &at);
        break;
      }
    case OP_EMBEDDING:
      gpu_op_embedding (rec, ob->w, TRUE, op->c, op->b, ob->ids, op->a, NULL, FALSE, 0, 0, ob->y,
                        0);
      break;
    case OP_TOPK:
      gpu_op_logits_topk (rec, ob->x, 0, op->b, op->a, op->b, ob->forced, NULL, NULL, op->c,
                          ob->ctl, ob->scratch, ob->y);
      break;
    case OP_REORDER:
      gpu_op_kv_cache_reorder (rec, ob->x, ob->y, op->a, ob->beam, op->b, op->c, op->d);
      break;
    case OP_POS2D_MEAN:
      gpu_op_pos2d (rec, ob->x, 0, op->a, op->a, op->b, ob->w, ob->bias, FALSE, ob->res, FALSE,
                    ob->y, op->b);
      gpu_op_mean_rows (rec, ob->y, op->b, op->a * op->a, op->b, ob->y, 0);
      break;
    }
}

static gboolean
op_time (GpuDevice *device, const Op *op, OpBufs *ob, guint reps, double *wall, double *cpu,
         GError **error)
{
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, error);
  if (rec == NULL)
    return FALSE;
  for (guint r = 0; r < reps; r++)
    op_record (rec, op, ob);
  double w0 = wall_seconds (), c0 = cpu_seconds ();
  if (!gpu_recorder_submit (rec, NULL, error))
    return FALSE;
  *wall = wall_seconds () - w0;
  *cpu = cpu_seconds () - c0;
  return TRUE;
}

/* The same product in fp32 on OpenBLAS: C = A·Wᵀ (+ nothing: bias and GELU are cheap). */
static double
blas_gflops (const Op *op, double seconds)
{
  const guint m = op->a, n = op->b, k = op->c;
  g_autofree float *a = g_new (float, (gsize) m *k);
  g_autofree float *w = g_new (float, (gsize) n *k);
  g_autofree float *c = g_new (float, (gsize) m *n);
  for (gsize i = 0; i < (gsize) m * k; i++)
    a[i] = rand_f32[i % rand_n];
  for (gsize i = 0; i < (gsize) n * k; i++)
    w[i] = rand_f32[(i * 3) % rand_n];
  guint reps = 0;
  double t0 = wall_seconds (), t = 0;
  do
    {
      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int) m, (int) n, (int) k, 1.0f, a,
                   (int) k, w, (int) k, 0.0f, c, (int) n);
      reps++;
      t = wall_seconds () - t0;
    }
  while (t < seconds);
  return op->flops * reps / t / 1e9;
}

static const char *
kind_name (OpKind k)
{
  static const char *names[] = {
    "conv2d (direct)", "conv2d_gemm",    "im2col",           "layernorm",         "dwconv3x3+res",
    "linear",          "gemm k/v→cache", "attention_window", "attention_channel", "attention",
    "embedding",       "logits_topk",    "kv_cache_reorder", "pos2d + mean",
  };
  return names[k];
}

gboolean
bench_ops (const FlorenceConfig *c, guint size, guint n_prompt, double seconds, const char *filter,
           GError **error)
{
  g_autoptr (GpuDevice) device = gpu_device_new (error);
  if (device == NULL)
    return FALSE;
  rand_init ((gsize) 1 << 24);
  printf ("\nPer-op profile on %s at %u×%u, %u prompt ids, decoder step at position 16 "
          "(each op alone, after a warm-up; ms = wall per call, CPUms = process CPU ms per "
          "call, GF/CPUs = GFLOP per CPU-second, steadier than wall time on a busy machine; "
          "BLAS = the same product on OpenBLAS, wall)\n",
          gpu_device_get_info (device)->name, size, size, n_prompt);
  print_conditions ("ops start");
  g_autoptr (GArray) ops = graph_ops (c, size, n_prompt, 1, 16);
  g_autoptr (GArray) ops3 = graph_ops (c, size, n_prompt, 3, 16);
  for (guint i = 0; i < ops3->len; i++)
    {
      Op *o = &g_array_index (ops3, Op, i);
      if (g_str_has_prefix (o->phase, "decoder"))
        g_array_append_val (ops, *o);
    }
  for (guint i = ops->len; filter != NULL && i-- > 0;)
    {
      const Op *o = &g_array_index (ops, Op, i);
      if (strstr (kind_name (o->kind), filter) == NULL && strstr (o->phase, filter) == NULL)
        g_array_remove_index (ops, i);
    }

  const char *phase = NULL;
  double phase_ms = 0, phase_cpu = 0, phase_flops = 0;
  printf ("%-20s %-18s %-30s %5s %9s %9s %9s %9s %8s %8s %8s %8s\n", "phase", "op", "shape",
          "calls", "ms/call", "CPUms", "ms total", "CPU tot", "GFLOP/s", "GF/CPUs", "GB/s", "BLAS");
  for (guint i = 0; i <= ops->len; i++)
    {
      Op *op = i < ops->len ? &g_array_index (ops, Op, i) : NULL;
      if (phase != NULL && (op == NULL || strcmp (op->phase, phase) != 0))
        {
          printf ("%-20s %-18s %-30s %5s %9s %9s %9.1f %9.1f %8.1f %8.1f\n\n", phase, "= sum", "",
                  "", "", "", phase_ms, phase_cpu, phase_ms > 0 ? phase_flops / phase_ms / 1e6 : 0,
                  phase_cpu > 0 ? phase_flops / phase_cpu / 1e6 : 0);
          phase_ms = phase_cpu = phase_flops = 0;
        }
      if (op == NULL)
        break;
      phase = op->phase;
      Bufs b = { device, g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_buffer_free), NULL };
      OpBufs ob;
      double w = 0, cp = 0, w1 = 0, c1 = 0;
      gboolean ok = op_alloc (&b, op, &ob) &&
                    op_time (device, op, &ob, 1, &w, &cp, &b.error) && /* warm-up */
                    op_time (device, op, &ob, 1, &w1, &c1, &b.error);
      guint reps = ok ? (guint) CLAMP (seconds / MAX (w1, 1e-5), 1, 200) : 0;
      if (ok && reps > 1)
        ok = op_time (device, op, &ob, reps, &w, &cp, &b.error);
      else
        {
          w = w1;
          cp = c1;
        }
      if (!ok)
        {
          printf ("%-20s %-18s %-30s failed: %s\n", op->phase, kind_name (op->kind), op->what,
                  b.error != NULL ? b.error->message : "?");
          g_clear_error (&b.error);
          g_ptr_array_unref (b.buffers);
          continue;
        }
      g_ptr_array_unref (b.buffers);
      op->ms = 1000.0 * w / reps;
      op->cpu_ms = 1000.0 * cp / reps;
      if (op->kind == OP_LINEAR || op->kind == OP_GEMM_KV)
        {
          Op sq = *op;
          if (op->kind == OP_GEMM_KV)
            sq.c = op->b;
          op->blas_gflops = blas_gflops (&sq, MIN (seconds, 0.3));
        }
      const double total = op->ms * op->count;
      if (strcmp (op->phase, "(alternative)") != 0)
        {
          phase_ms += total;
          phase_cpu += op->cpu_ms * op->count;
          phase_flops += op->flops * op->count;
        }
      char blas[16] = "";
      if (op->blas_gflops > 0)
        g_snprintf (blas, sizeof blas, "%8.1f", op->blas_gflops);
      printf ("%-20s %-18s %-30s %5u %9.3f %9.3f %9.1f %9.1f %8.1f %8.1f %8.1f %8s\n", op->phase,
              kind_name (op->kind), op->what, op->count, op->ms, op->cpu_ms, total,
              op->cpu_ms * op->count, op->flops > 0 ? op->flops / op->ms / 1e6 : 0.0,
              op->flops > 0 && op->cpu_ms > 0 ? op->flops / op->cpu_ms / 1e6 : 0.0,
              op->bytes / op->ms / 1e6, blas);
      fflush (stdout);
    }
  print_conditions ("ops end");
  g_autofree char *table = gpu_device_get_timings_table (device);
  if (table != NULL)
    printf ("\n%s", table);
  return TRUE;
}

double
bench_vision_gflop (const FlorenceConfig *c, guint size)
{
  g_autoptr (GArray) ops = graph_ops (c, size, 1, 1, 0);
  double flops = 0;
  for (guint i = 0; i < ops->len; i++)
    {
      const Op *o = &g_array_index (ops, Op, i);
      if (g_str_has_prefix (o->phase, "vision") || strcmp (o->phase, "projection") == 0)
        flops += o->flops * o->count;
    }
  return flops / 1e9;
}
