/* florence-engine-cpu-vision.c: the CPU engine's DaViT vision tower and image projection
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Spec §2–§3, as florence-reference.c computes it: four stages of patch convolution (im2col
 * per block of output pixels, straight into the GEMM) and spatial + channel blocks, then the
 * 2-D positions, the temporal embedding, the pooled token and the projection with its
 * LayerNorm. A block is six passes: x' = x + dw(x); qkv = LN(x')·W (LayerNorm fused into the
 * GEMM's blocks); attention; x' += proj (a GEMM that accumulates); x'' = x' + dw'(x'); the MLP
 * fused per block of rows.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "florence/engine/florence-engine-cpu-private.h"

/* ---------------------------------------------------------------------------------------------
 * Patch convolution
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  CpuEngine *e;
  const CpuStage *st;
  const float *in; /* [H, W, c_in], or [3, H, W] for the first stage (chw) */
  gboolean chw;
  int H, W, Ho, Wo;
  float *out; /* [Ho · Wo, c_out] */
} ConvJob;

static void
conv_range (gsize start, gsize end, guint thread, gpointer data)
{
  const ConvJob *j = data;
  const CpuStage *st = j->st;
  const int k = st->k, ci = st->c_in;
  const gsize K = (gsize) k * k * ci, r = end - start;
  float *cols = cpu_scratch (j->e, thread, r * K);
  for (gsize p = start; p < end; p++)
    {
      const int oy = (int) (p / (gsize) j->Wo), ox = (int) (p % (gsize) j->Wo);
      float *row = cols + (p - start) * K;
      for (int ky = 0; ky < k; ky++)
        {
          const int iy = oy * st->stride - st->pad + ky;
          for (int kx = 0; kx < k; kx++)
            {
              const int ix = ox * st->stride - st->pad + kx;
              float *dst = row + ((gsize) ky * k + kx) * ci;
              if (iy < 0 || iy >= j->H || ix < 0 || ix >= j->W)
                memset (dst, 0, (gsize) ci * sizeof (float));
              else if (j->chw)
                for (int c = 0; c < ci; c++)
                  dst[c] = j->in[((gsize) c * j->H + iy) * j->W + ix];
              else
                memcpy (dst, j->in + ((gsize) iy * j->W + ix) * ci, (gsize) ci * sizeof (float));
            }
        }
    }
  float *out = j->out + start * st->c_out;
  florence_cpu_blas_sgemm (j->e->blas, FALSE, TRUE, r, (gsize) st->c_out, K, 1.0f, cols, K,
                           st->conv_w, K, 0.0f, out, (gsize) st->c_out);
  for (gsize i = 0; i < r; i++)
    {
      float *o = out + i * st->c_out;
      j->e->k->add_bias (o, st->conv_b, (gsize) st->c_out);
      if (!st->prenorm)
        j->e->k->layernorm (o, o, (gsize) st->c_out, st->norm.w, st->norm.b);
    }
}

typedef struct {
  CpuEngine *e;
  float *x;
  gsize dim;
  const CpuNorm *norm;
} NormJob;

static void
norm_range (gsize start, gsize end, guint thread, gpointer data)
{
  const NormJob *j = data;
  for (gsize i = start; i < end; i++)
    j->e->k->layernorm (j->x + i * j->dim, j->x + i * j->dim, j->dim, j->norm->w, j->norm->b);
}

/* ---------------------------------------------------------------------------------------------
 * Depthwise convolution + residual
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  CpuEngine *e;
  const float *in;
  float *out;
  int H, W, C;
  const float *w9, *b;
} DwJob;

static void
dw_range (gsize start, gsize end, guint thread, gpointer data)
{
  const DwJob *j = data;
  for (gsize y = start; y < end; y++)
    j->e->k->dwconv3x3_row (j->in, j->out, j->H, j->W, j->C, (int) y, j->w9, j->b);
}

/* *x += dw(*x): written to *t, then the two swap */
static void
dwconv_residual (CpuEngine *e, float **x, float **t, int H, int W, int C, const float *w9,
                 const float *b)
{
  DwJob j = { e, *x, *t, H, W, C, w9, b };
  cpu_parallel (e, (gsize) H, 1, dw_range, &j);
  float *tmp = *x;
  *x = *t;
  *t = tmp;
}

/* ---------------------------------------------------------------------------------------------
 * Window attention (spatial blocks)
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  CpuEngine *e;
  const float *qkv;      /* [N, 3C] */
  const float *qkv_bias; /* what a zero (padding) token projects to */
  float *out;            /* [N, C] */
  int H, W, C, heads, ws, wins_x;
} WindowJob;

static void
window_task (guint index, guint thread, gpointer data)
{
  const WindowJob *j = data;
  const int ws = j->ws, C = j->C, hd = C / j->heads, T = ws * ws;
  const int win = (int) index / j->heads, h = (int) index % j->heads;
  const int wy = win / j->wins_x, wx = win % j->wins_x;
  const gsize Tp = (gsize) (T + 7) / 8 * 8;
  const float scale = 1.0f / sqrtf ((float) hd);

  float *s = cpu_scratch (j->e, thread,
                          (gsize) T * hd * 3 + (gsize) hd * Tp +
                            florence_cpu_attention_scratch (T) + (gsize) T);
  float *q = s, *v = q + (gsize) T * hd, *o = v + (gsize) T * hd, *kt = o + (gsize) T * hd;
  float *att = kt + (gsize) hd * Tp;
  int *tok = (int *) (att + florence_cpu_attention_scratch (T));

  for (int t = 0; t < T; t++)
    {
      int y = wy * ws + t / ws, x = wx * ws + t % ws;
      tok[t] = (y < j->H && x < j->W) ? y * j->W + x : -1;
      const float *src = tok[t] >= 0 ? j->qkv + (gsize) tok[t] * 3 * C : j->qkv_bias;
      for (int c = 0; c < hd; c++)
        {
          q[t * hd + c] = src[h * hd + c] * scale;
          kt[(gsize) c * Tp + t] = src[C + h * hd + c];
          v[t * hd + c] = src[2 * C + h * hd + c];
        }
    }
  FlorenceCpuAttention a = {
    .q = q,
    .ldq = (gsize) hd,
    .kt = kt,
    .ldkt = Tp,
    .v = v,
    .ldv = (gsize) hd,
    .o = o,
    .ldo = (gsize) hd,
    .nq = T,
    .nk = T,
    .hd = hd,
    .scratch = att,
  };
  j->e->k->attention (&a);
  for (int t = 0; t < T; t++)
    if (tok[t] >= 0)
      memcpy (j->out + (gsize) tok[t] * C + h * hd, o + (gsize) t * hd,
              (gsize) hd * sizeof (float));
}

/* ---------------------------------------------------------------------------------------------
 * Channel attention
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  CpuEngine *e;
  const float *qkv; /* [N, 3C] */
  float *out;       /* [N, C] */
  gsize N;
  int C, groups, gd, splits;
  float scale;
  float *partial; /* [splits][groups][gd × gd] */
} ChannelJob;

/* A_g over one part of the tokens: (q · scale)ᵀ k */
static void
channel_scores_task (guint index, guint thread, gpointer data)
{
  const ChannelJob *j = data;
  const int g = (int) index % j->groups, part = (int) index / j->groups;
  const gsize n0 = j->N * part / j->splits, n1 = j->N * (part + 1) / j->splits;
  const gsize ld = 3 * (gsize) j->C, gg = (gsize) j->gd * j->gd;
  float *a = j->partial + ((gsize) part * j->groups + g) * gg;
  if (n1 <= n0)
    {
      memset (a, 0, gg * sizeof (float));
      return;
    }
  florence_cpu_blas_sgemm (j->e->blas, TRUE, FALSE, (gsize) j->gd, (gsize) j->gd, n1 - n0, j->scale,
                           j->qkv + n0 * ld + (gsize) g * j->gd, ld,
                           j->qkv + n0 * ld + (gsize) j->C + (gsize) g * j->gd, ld, 0.0f, a,
                           (gsize) j->gd);
}

/* out[n, g] = v[n, g] · A_gᵀ for a range of tokens, every group */
static void
channel_out_range (gsize start, gsize end, guint thread, gpointer data)
{
  const ChannelJob *j = data;
  const gsize ld = 3 * (gsize) j->C, gg = (gsize) j->gd * j->gd;
  for (int g = 0; g < j->groups; g++)
    florence_cpu_blas_sgemm (j->e->blas, FALSE, TRUE, end - start, (gsize) j->gd, (gsize) j->gd,
                             1.0f, j->qkv + start * ld + 2 * (gsize) j->C + (gsize) g * j->gd, ld,
                             j->partial + (gsize) g * gg, (gsize) j->gd, 0.0f,
                             j->out + start * (gsize) j->C + (gsize) g * j->gd, (gsize) j->C);
}

static void
channel_attention (CpuEngine *e, const float *qkv, gsize N, int C, int groups, float *out)
{
  const int gd = C / groups;
  const int threads = florence_cpu_pool_get_n_threads (e->pool);
  /* split the long reduction over the tokens when there are fewer groups than threads */
  int splits = MAX (1, MIN ((2 * threads + groups - 1) / groups, (int) (N / 256) + 1));
  const gsize gg = (gsize) gd * gd;
  g_autofree float *partial = g_new (float, (gsize) splits *groups *gg);
  ChannelJob j = { e, qkv, out, N, C, groups, gd, splits, (float) pow ((double) N, -0.5), partial };
  florence_cpu_pool_run (e->pool, (guint) (splits * groups), channel_scores_task, &j);
  /* sum the parts in order (into part 0), softmax over the key channels */
  for (int g = 0; g < groups; g++)
    {
      float *a = partial + (gsize) g * gg;
      for (int p = 1; p < splits; p++)
        e->k->add (a, partial + ((gsize) p * groups + g) * gg, gg);
      for (int c = 0; c < gd; c++)
        {
          float *row = a + (gsize) c * gd, max = -INFINITY;
          for (int i = 0; i < gd; i++)
            max = MAX (max, row[i]);
          double sum = 0.0;
          for (int i = 0; i < gd; i++)
            {
              row[i] = expf (row[i] - max);
              sum += row[i];
            }
          float inv = (float) (1.0 / sum);
          for (int i = 0; i < gd; i++)
            row[i] *= inv;
        }
    }
  cpu_parallel (e, N, 64, channel_out_range, &j);
}

/* ---------------------------------------------------------------------------------------------
 * A block, a stage, the tower
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  float *x, *t; /* [N, C] each: the tokens and a second buffer */
  float *qkv;   /* [N, 3C] */
} Buffers;

static void
davit_block (CpuEngine *e, const CpuBlock *blk, gboolean channel, Buffers *b, int H, int W, int C,
             int heads)
{
  const gsize N = (gsize) H * W;
  dwconv_residual (e, &b->x, &b->t, H, W, C, blk->conv1_w9, blk->conv1_b);

  CpuLinear qkv = { .x = b->x,
                    .ldx = (gsize) C,
                    .M = N,
                    .K = (gsize) C,
                    .w = blk->qkv_w,
                    .N = 3 * (gsize) C,
                    .bias = blk->qkv_b,
                    .y = b->qkv,
                    .ldy = 3 * (gsize) C,
                    .prenorm = &blk->norm1 };
  cpu_linear (e, &qkv);

  if (channel)
    channel_attention (e, b->qkv, N, C, heads, b->t);
  else
    {
      /* zero padding to multiples of the window, after the norm, unmasked: padded tokens'
       * q/k/v are the qkv bias */
      const int ws = e->config->window_size;
      const int wins_y = (H + ws - 1) / ws, wins_x = (W + ws - 1) / ws;
      WindowJob j = { e, b->qkv, blk->qkv_b, b->t, H, W, C, heads, ws, wins_x };
      cpu_scratch_reserve (e);
      florence_cpu_pool_run (e->pool, (guint) (wins_y * wins_x * heads), window_task, &j);
    }

  CpuLinear proj = { .x = b->t,
                     .ldx = (gsize) C,
                     .M = N,
                     .K = (gsize) C,
                     .w = blk->proj_w,
                     .N = (gsize) C,
                     .bias = blk->proj_b,
                     .y = b->x,
                     .ldy = (gsize) C,
                     .accumulate = TRUE };
  cpu_linear (e, &proj);

  dwconv_residual (e, &b->x, &b->t, H, W, C, blk->conv2_w9, blk->conv2_b);

  CpuMlp mlp = { .x = b->x,
                 .M = N,
                 .C = (gsize) C,
                 .hidden = 4 * (gsize) C,
                 .prenorm = &blk->norm2,
                 .fc1_w = blk->fc1_w,
                 .fc1_b = blk->fc1_b,
                 .fc2_w = blk->fc2_w,
                 .fc2_b = blk->fc2_b };
  cpu_mlp (e, &mlp);
}

typedef struct {
  CpuEngine *e;
  const float *x; /* [H, W, D] */
  float *feat;    /* [1 + H·W, D] */
  int W;
  gsize D;
} PosJob;

static void
pos_range (gsize start, gsize end, guint thread, gpointer data)
{
  const PosJob *j = data;
  const CpuEngine *e = j->e;
  const gsize D = j->D, half_col = D - D / 2, half_row = D / 2;
  for (gsize n = start; n < end; n++)
    {
      const gsize y = n / (gsize) j->W, xx = n % (gsize) j->W;
      const float *src = j->x + n * D;
      float *dst = j->feat + (1 + n) * D;
      for (gsize ch = 0; ch < half_col; ch++)
        dst[ch] = (src[ch] + e->pos_col[xx * half_col + ch]) + e->temporal0[ch];
      for (gsize ch = half_col; ch < D; ch++)
        dst[ch] = (src[ch] + e->pos_row[y * half_row + (ch - half_col)]) + e->temporal0[ch];
    }
}

float *
cpu_vision_encode (CpuEngine *e, const float *pixel_values, int size, int *n_tokens,
                   GCancellable *cancellable, GError **error)
{
  const FlorenceConfig *c = e->config;
  if (!florence_graph_check_image_size (c, size, NULL, error))
    return NULL;

  /* the largest activations: after stage 0 */
  gsize cap = 0;
  for (int s = 0; s < 4; s++)
    {
      gsize g = (gsize) florence_graph_stage_grid (c, size, s);
      cap = MAX (cap, g * g * (gsize) c->dim_embed[s]);
    }
  /* the final features fit in the first stage's share: its grid is 8 × 8 times larger */
  const gsize n_last = (gsize) florence_graph_stage_grid (c, size, 3);
  cap = MAX (cap, (n_last * n_last + 1) * (gsize) c->dim_embed[3]);
  if (e->workspace_size < 5 * cap)
    {
      g_aligned_free (e->workspace);
      e->workspace = cpu_alloc (5 * cap);
      e->workspace_size = 5 * cap;
    }
  Buffers b = { e->workspace, e->workspace + cap, e->workspace + 2 * cap };
  int H = size, W = size, C = 3;
  const float *in = pixel_values;
  for (int s = 0; s < 4; s++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      const CpuStage *st = &e->stages[s];
      if (st->prenorm && s > 0)
        {
          NormJob nj = { e, b.x, (gsize) C, &st->norm };
          cpu_parallel (e, (gsize) H * W, 64, norm_range, &nj);
        }
      const int Ho = (H + 2 * st->pad - st->k) / st->stride + 1;
      const int Wo = (W + 2 * st->pad - st->k) / st->stride + 1;
      ConvJob cj = { e, st, in, s == 0, H, W, Ho, Wo, b.t };
      cpu_parallel (e, (gsize) Ho * Wo, 64, conv_range, &cj);
      float *tmp = b.x;
      b.x = b.t;
      b.t = tmp;
      in = b.x;
      H = Ho, W = Wo, C = st->c_out;
      for (int j = 0; j < c->depths[s]; j++)
        {
          davit_block (e, &st->spatial[j], FALSE, &b, H, W, C, c->num_heads[s]);
          davit_block (e, &st->channel[j], TRUE, &b, H, W, C, c->num_groups[s]);
        }
      in = b.x;
      char name[32];
      g_snprintf (name, sizeof name, "vision_stage%d", s);
      cpu_emit (e, name, b.x, (gsize) H * W, (gsize) C);
    }
  cpu_emit (e, "vision_tower_output", b.x, (gsize) H * W, (gsize) C);

  /* 2-D position (column half first, then row half) + temporal row 0; pooled token first */
  const gsize N = (gsize) H * W, D = (gsize) C, d = (gsize) c->d_model;
  float *feat = b.t;
  PosJob pj = { e, b.x, feat, W, D };
  cpu_parallel (e, N, 16, pos_range, &pj);
  for (gsize ch = 0; ch < D; ch++)
    {
      double sum = 0.0;
      for (gsize n = 0; n < N; n++)
        sum += feat[(1 + n) * D + ch];
      feat[ch] = (float) (sum / (double) N);
    }
  float *out = cpu_alloc ((N + 1) * d);
  CpuLinear proj = { .x = feat,
                     .ldx = D,
                     .M = N + 1,
                     .K = D,
                     .w = e->projection_t,
                     .N = d,
                     .y = out,
                     .ldy = d,
                     .postnorm = &e->proj_norm };
  cpu_linear (e, &proj);
  cpu_emit (e, "image_features", out, N + 1, d);
  *n_tokens = (int) (N + 1);
  return out;
}
