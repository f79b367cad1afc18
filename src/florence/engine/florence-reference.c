/* florence-reference.c: a plain-C, fp32 CPU implementation of the whole Florence-2 graph
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Its length is the graph's: the plain fp32 reference of every op, read side by side with the spec
 * and the other engines.
 */
#include "config.h"

#include <inttypes.h>

#include "florence/engine/florence-reference.h"

#include "florence/engine/florence-device.h"
#include "florence/engine/florence-graph.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

G_DEFINE_QUARK (florence - reference - error - quark, florence_reference_error)

#define LN_EPS 1e-5

/* =============================================================================================
 * Parallel loops
 * =========================================================================================== */

typedef void (*RangeFunc) (gsize start, gsize end, gpointer data);

typedef struct {
  RangeFunc func;
  gpointer data;
  gsize start, end;
} RangeJob;

static gpointer
range_job_run (gpointer p)
{
  RangeJob *job = p;
  job->func (job->start, job->end, job->data);
  return NULL;
}

/* Splits [0, n) into contiguous parts of at least min_chunk items over up to n_threads threads
 * (the caller's thread included). */
static void
parallel_for (int n_threads, gsize n, gsize min_chunk, RangeFunc func, gpointer data)
{
  gsize parts = n_threads > 1 ? (gsize) n_threads : 1;
  if (min_chunk > 0 && n / min_chunk < parts)
    parts = MAX (n / min_chunk, (gsize) 1);
  if (parts <= 1)
    {
      if (n > 0)
        func (0, n, data);
      return;
    }
  RangeJob jobs[64];
  GThread *threads[64];
  parts = MIN (parts, G_N_ELEMENTS (jobs));
  for (gsize i = 0; i < parts; i++)
    jobs[i] = (RangeJob){ func, data, n * i / parts, n * (i + 1) / parts };
  for (gsize i = 1; i < parts; i++)
    threads[i] = g_thread_new ("depict-cpu", range_job_run, &jobs[i]);
  range_job_run (&jobs[0]);
  for (gsize i = 1; i < parts; i++)
    g_thread_join (threads[i]);
}

/* =============================================================================================
 * Kernels
 * =========================================================================================== */

typedef float v4f __attribute__ ((vector_size (16)));

static inline v4f
load4 (const float *p)
{
  v4f v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline float
hsum4 (v4f v)
{
  return (v[0] + v[2]) + (v[1] + v[3]);
}

static inline float
dot (const float *a, const float *b, gsize n)
{
  v4f acc0 = { 0 }, acc1 = { 0 };
  gsize k = 0;
  for (; k + 8 <= n; k += 8)
    {
      acc0 += load4 (a + k) * load4 (b + k);
      acc1 += load4 (a + k + 4) * load4 (b + k + 4);
    }
  for (; k + 4 <= n; k += 4)
    acc0 += load4 (a + k) * load4 (b + k);
  float s = hsum4 (acc0 + acc1);
  for (; k < n; k++)
    s += a[k] * b[k];
  return s;
}

typedef struct {
  const float *x; /* [M, K], row stride ldx */
  const float *w; /* [N, K], row stride K */
  const float *bias;
  float *y; /* [M, N], row stride ldy */
  gsize M, N, K, ldx, ldy;
  gboolean split_n;
} GemmJob;

/* y[i, j] = x[i, :] · w[j, :] (+ bias[j]) for rows [i0, i1) and columns [j0, j1). */
static void
gemm_block (const GemmJob *g, gsize i0, gsize i1, gsize j0, gsize j1)
{
  const gsize K = g->K;
  gsize i = i0;
  for (; i + 4 <= i1; i += 4)
    {
      const float *x0 = g->x + i * g->ldx, *x1 = x0 + g->ldx, *x2 = x1 + g->ldx, *x3 = x2 + g->ldx;
      gsize j = j0;
      for (; j + 4 <= j1; j += 4)
        {
          const float *w0 = g->w + j * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
          v4f a00 = { 0 }, a01 = { 0 }, a02 = { 0 }, a03 = { 0 };
          v4f a10 = { 0 }, a11 = { 0 }, a12 = { 0 }, a13 = { 0 };
          v4f a20 = { 0 }, a21 = { 0 }, a22 = { 0 }, a23 = { 0 };
          v4f a30 = { 0 }, a31 = { 0 }, a32 = { 0 }, a33 = { 0 };
          gsize k = 0;
          for (; k + 4 <= K; k += 4)
            {
              v4f b0 = load4 (w0 + k), b1 = load4 (w1 + k), b2 = load4 (w2 + k),
                  b3 = load4 (w3 + k);
              v4f v = load4 (x0 + k);
              a00 += v * b0, a01 += v * b1, a02 += v * b2, a03 += v * b3;
              v = load4 (x1 + k);
              a10 += v * b0, a11 += v * b1, a12 += v * b2, a13 += v * b3;
              v = load4 (x2 + k);
              a20 += v * b0, a21 += v * b1, a22 += v * b2, a23 += v * b3;
              v = load4 (x3 + k);
              a30 += v * b0, a31 += v * b1, a32 += v * b2, a33 += v * b3;
            }
          float r[4][4] = {
            { hsum4 (a00), hsum4 (a01), hsum4 (a02), hsum4 (a03) },
            { hsum4 (a10), hsum4 (a11), hsum4 (a12), hsum4 (a13) },
            { hsum4 (a20), hsum4 (a21), hsum4 (a22), hsum4 (a23) },
            { hsum4 (a30), hsum4 (a31), hsum4 (a32), hsum4 (a33) },
          };
          const float *xs[4] = { x0, x1, x2, x3 };
          const float *ws[4] = { w0, w1, w2, w3 };
          for (; k < K; k++)
            for (int a = 0; a < 4; a++)
              for (int b = 0; b < 4; b++)
                r[a][b] += xs[a][k] * ws[b][k];
          for (int a = 0; a < 4; a++)
            {
              float *yr = g->y + (i + a) * g->ldy + j;
              for (int b = 0; b < 4; b++)
                yr[b] = r[a][b] + (g->bias != NULL ? g->bias[j + b] : 0.0f);
            }
        }
      for (; j < j1; j++)
        {
          const float *wr = g->w + j * K;
          float bj = g->bias != NULL ? g->bias[j] : 0.0f;
          g->y[i * g->ldy + j] = dot (x0, wr, K) + bj;
          g->y[(i + 1) * g->ldy + j] = dot (x1, wr, K) + bj;
          g->y[(i + 2) * g->ldy + j] = dot (x2, wr, K) + bj;
          g->y[(i + 3) * g->ldy + j] = dot (x3, wr, K) + bj;
        }
    }
  for (; i < i1; i++)
    {
      const float *xr = g->x + i * g->ldx;
      for (gsize j = j0; j < j1; j++)
        g->y[i * g->ldy + j] = dot (xr, g->w + j * K, K) + (g->bias != NULL ? g->bias[j] : 0.0f);
    }
}

static void
gemm_range (gsize start, gsize end, gpointer data)
{
  const GemmJob *g = data;
  /* blocks of 64 weight rows keep a slice of w in cache across the x rows */
  const gsize JB = 64;
  if (g->split_n)
    {
      for (gsize j = start; j < end; j += JB)
        gemm_block (g, 0, g->M, j, MIN (end, j + JB));
    }
  else
    {
      for (gsize j = 0; j < g->N; j += JB)
        gemm_block (g, start, end, j, MIN (g->N, j + JB));
    }
}

/* y[M, N] = x[M, K] · w[N, K]ᵀ + bias (bias may be NULL). */
static void
gemm_nt_ld (int n_threads, const float *x, gsize ldx, gsize M, gsize K, const float *w, gsize N,
            const float *bias, float *y, gsize ldy)
{
  GemmJob g = { x, w, bias, y, M, N, K, ldx, ldy, FALSE };
  double work = (double) M * (double) N * (double) K;
  if (work < 2e6)
    n_threads = 1;
  g.split_n = M < 64 || N >= 256 * (gsize) MAX (n_threads, 1);
  if (g.split_n)
    parallel_for (n_threads, N, 16, gemm_range, &g);
  else
    parallel_for (n_threads, M, 16, gemm_range, &g);
}

static void
gemm_nt (int n_threads, const float *x, gsize M, gsize K, const float *w, gsize N,
         const float *bias, float *y)
{
  gemm_nt_ld (n_threads, x, K, M, K, w, N, bias, y, N);
}

static void
layernorm (float *x, gsize rows, gsize dim, const float *w, const float *b)
{
  for (gsize r = 0; r < rows; r++)
    {
      float *xr = x + r * dim;
      double mean = 0.0;
      for (gsize c = 0; c < dim; c++)
        mean += xr[c];
      mean /= (double) dim;
      double var = 0.0;
      for (gsize c = 0; c < dim; c++)
        {
          double d = xr[c] - mean;
          var += d * d;
        }
      var /= (double) dim;
      double inv = 1.0 / sqrt (var + LN_EPS);
      for (gsize c = 0; c < dim; c++)
        xr[c] = (float) ((xr[c] - mean) * inv) * w[c] + b[c];
    }
}

static void
layernorm_to (float *dst, const float *x, gsize rows, gsize dim, const float *w, const float *b)
{
  memcpy (dst, x, rows * dim * sizeof (float));
  layernorm (dst, rows, dim, w, b);
}

static void
gelu (float *x, gsize n)
{
  for (gsize i = 0; i < n; i++)
    x[i] = (float) (0.5 * x[i] * (1.0 + erf (x[i] * M_SQRT1_2)));
}

static void
softmax_row (float *x, gsize n)
{
  float max = -INFINITY;
  for (gsize i = 0; i < n; i++)
    max = MAX (max, x[i]);
  double sum = 0.0;
  for (gsize i = 0; i < n; i++)
    {
      x[i] = expf (x[i] - max);
      sum += x[i];
    }
  float inv = (float) (1.0 / sum);
  for (gsize i = 0; i < n; i++)
    x[i] *= inv;
}

static void
add_inplace (float *x, const float *y, gsize n)
{
  for (gsize i = 0; i < n; i++)
    x[i] += y[i];
}

/* =============================================================================================
 * Weights
 * =========================================================================================== */

typedef struct {
  const float *w, *b;
} Lin; /* w [out, in]; for a norm: weight and bias; for a depthwise conv: w [C × 9] */

/* in the order of florence_graph_block_tensor() */
typedef union {
  struct {
    Lin conv1, norm1, qkv, proj, conv2, norm2, fc1, fc2;
  };
  const float *t[FLORENCE_BLOCK_N_TENSORS];
} DavitBlock;
G_STATIC_ASSERT (sizeof (DavitBlock) == FLORENCE_BLOCK_N_TENSORS * sizeof (float *));

typedef struct {
  Lin conv; /* w rearranged to [out][ky][kx][in] */
  Lin norm;
  int k, stride, pad, c_in, c_out;
  gboolean prenorm;
  DavitBlock *spatial, *channel; /* [depth] */
} DavitStage;

/* in the order of florence_graph_layer_tensor() */
typedef union {
  struct {
    Lin q, k, v, o, ln1, cq, ck, cv, co, ln2, fc1, fc2, ln3;
  };
  const float *t[FLORENCE_LAYER_N_TENSORS];
} BartLayer;
G_STATIC_ASSERT (sizeof (BartLayer) == FLORENCE_LAYER_N_TENSORS * sizeof (float *));

struct _FlorenceReference {
  FlorenceConfig *config;
  int n_threads;
  FlorenceReferenceTap tap;
  gpointer tap_data;
  GPtrArray *buffers; /* owns every converted weight */

  DavitStage stages[4];
  const float *pos_row, *pos_col; /* [pos_max, D/2], [pos_max, D - D/2] */
  const float *temporal;          /* [temporal_max, D] */
  const float *projection_t;      /* [d_model, D] (image_projection transposed) */
  Lin proj_norm;

  const float *shared; /* [vocab_rows, d] */
  gsize vocab_rows;
  const float *final_logits_bias; /* [vocab_rows] */
  const float *enc_pos, *dec_pos; /* [max_pos + 2, d] */
  Lin enc_ln_emb, dec_ln_emb;
  BartLayer *enc, *dec;
};

static const float *take_tensor (FlorenceReference *self, FlorenceCheckpoint *ckpt, gsize expected,
                                 GError **error, const char *format, ...) G_GNUC_PRINTF (5, 6);

static const float *
take_tensor (FlorenceReference *self, FlorenceCheckpoint *ckpt, gsize expected, GError **error,
             const char *format, ...)
{
  va_list args;
  va_start (args, format);
  g_autofree char *name = g_strdup_vprintf (format, args);
  va_end (args);

  const FlorenceTensor *t = florence_graph_lookup (ckpt, name, expected, error);
  if (t == NULL)
    return NULL;
  float *data = g_try_new (float, MAX (t->n_elements, (gsize) 1));
  if (data == NULL)
    {
      g_set_error (error, FLORENCE_REFERENCE_ERROR, FLORENCE_REFERENCE_ERROR_WEIGHTS,
                   _ ("Out of memory while converting “%s”. Close other programs and try again."),
                   name);
      return NULL;
    }
  florence_tensor_to_f32 (t, data);
  g_ptr_array_add (self->buffers, data);
  return data;
}

/* a tensor by its florence-graph entry */
static const float *
take_graph (FlorenceReference *self, FlorenceCheckpoint *ckpt, FlorenceGraphTensor *t,
            GError **error)
{
  const float *data = take_tensor (self, ckpt, t->n_elements, error, "%s", t->name);
  florence_graph_tensor_clear (t);
  return data;
}

static const float *
take_model (FlorenceReference *self, FlorenceCheckpoint *ckpt, FlorenceGraphModelTensor which,
            GError **error)
{
  FlorenceGraphTensor t;
  florence_graph_model_tensor (self->config, self->vocab_rows, which, &t);
  return take_graph (self, ckpt, &t, error);
}

#define TAKE_MODEL(dst, which)                                                                     \
  G_STMT_START                                                                                     \
  {                                                                                                \
    if (((dst) = take_model (self, ckpt, (which), error)) == NULL)                                 \
      return FALSE;                                                                                \
  }                                                                                                \
  G_STMT_END

static gboolean
load_block (FlorenceReference *self, FlorenceCheckpoint *ckpt, DavitBlock *blk, int s, int j,
            gboolean channel, GError **error)
{
  for (guint i = 0; i < FLORENCE_BLOCK_N_TENSORS; i++)
    {
      FlorenceGraphTensor t;
      florence_graph_block_tensor (self->config, s, j, channel, i, &t);
      blk->t[i] = take_tensor (self, ckpt, t.n_elements, error, "%s", t.name);
      florence_graph_tensor_clear (&t);
      if (blk->t[i] == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
load_bart_layer (FlorenceReference *self, FlorenceCheckpoint *ckpt, BartLayer *L, gboolean decoder,
                 int l, GError **error)
{
  for (guint i = 0; i < FLORENCE_LAYER_N_TENSORS; i++)
    {
      FlorenceGraphTensor t;
      if (!florence_graph_layer_tensor (self->config, decoder, l, i, &t))
        continue;
      L->t[i] = take_tensor (self, ckpt, t.n_elements, error, "%s", t.name);
      florence_graph_tensor_clear (&t);
      if (L->t[i] == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
load_weights (FlorenceReference *self, FlorenceCheckpoint *ckpt, GError **error)
{
  const FlorenceConfig *c = self->config;
  int c_prev = 3;

  for (int s = 0; s < 4; s++)
    {
      DavitStage *st = &self->stages[s];
      st->k = c->patch_size[s];
      st->stride = c->patch_stride[s];
      st->pad = c->patch_padding[s];
      st->c_in = c_prev;
      st->c_out = c->dim_embed[s];
      st->prenorm = c->patch_prenorm[s];
      gsize kk = (gsize) st->k * st->k;
      const float *t[FLORENCE_STAGE_N_TENSORS];
      for (guint i = 0; i < FLORENCE_STAGE_N_TENSORS; i++)
        {
          FlorenceGraphTensor gt;
          florence_graph_stage_tensor (c, s, i, &gt);
          if ((t[i] = take_graph (self, ckpt, &gt, error)) == NULL)
            return FALSE;
        }
      /* [out][in][ky][kx] → [out][ky][kx][in], matching the im2col rows */
      const float *w = t[0];
      float *wr = g_new (float, (gsize) st->c_out * st->c_in * kk);
      for (int o = 0; o < st->c_out; o++)
        for (int i = 0; i < st->c_in; i++)
          for (gsize q = 0; q < kk; q++)
            wr[((gsize) o * kk + q) * st->c_in + i] = w[((gsize) o * st->c_in + i) * kk + q];
      g_ptr_array_add (self->buffers, wr);
      st->conv.w = wr;
      st->conv.b = t[1];
      st->norm.w = t[2];
      st->norm.b = t[3];

      st->spatial = g_new0 (DavitBlock, MAX (c->depths[s], 1));
      st->channel = g_new0 (DavitBlock, MAX (c->depths[s], 1));
      g_ptr_array_add (self->buffers, st->spatial);
      g_ptr_array_add (self->buffers, st->channel);
      for (int j = 0; j < c->depths[s]; j++)
        {
          if (!load_block (self, ckpt, &st->spatial[j], s, j, FALSE, error) ||
              !load_block (self, ckpt, &st->channel[j], s, j, TRUE, error))
            return FALSE;
        }
      c_prev = st->c_out;
    }

  const gsize D = (gsize) c->dim_embed[3], d = (gsize) c->d_model;
  self->vocab_rows = florence_checkpoint_get_vocab_rows (ckpt);
  if (self->vocab_rows < (gsize) c->vocab_size)
    self->vocab_rows = (gsize) c->vocab_size;
  TAKE_MODEL (self->pos_row, FLORENCE_GRAPH_POS_ROW);
  TAKE_MODEL (self->pos_col, FLORENCE_GRAPH_POS_COLUMN);
  TAKE_MODEL (self->temporal, FLORENCE_GRAPH_TEMPORAL);
  const float *proj;
  TAKE_MODEL (proj, FLORENCE_GRAPH_PROJECTION);
  float *pt = g_new (float, D *d);
  for (gsize i = 0; i < D; i++)
    for (gsize o = 0; o < d; o++)
      pt[o * D + i] = proj[i * d + o];
  g_ptr_array_add (self->buffers, pt);
  self->projection_t = pt;
  TAKE_MODEL (self->proj_norm.w, FLORENCE_GRAPH_PROJECTION_NORM_W);
  TAKE_MODEL (self->proj_norm.b, FLORENCE_GRAPH_PROJECTION_NORM_B);
  /* The LM head is the shared embedding (tied); a stored lm_head equals it (spec §5.2). */
  TAKE_MODEL (self->shared, FLORENCE_GRAPH_SHARED);
  TAKE_MODEL (self->final_logits_bias, FLORENCE_GRAPH_FINAL_LOGITS_BIAS);
  TAKE_MODEL (self->enc_pos, FLORENCE_GRAPH_ENCODER_POSITIONS);
  TAKE_MODEL (self->dec_pos, FLORENCE_GRAPH_DECODER_POSITIONS);
  TAKE_MODEL (self->enc_ln_emb.w, FLORENCE_GRAPH_ENCODER_EMBED_NORM_W);
  TAKE_MODEL (self->enc_ln_emb.b, FLORENCE_GRAPH_ENCODER_EMBED_NORM_B);
  TAKE_MODEL (self->dec_ln_emb.w, FLORENCE_GRAPH_DECODER_EMBED_NORM_W);
  TAKE_MODEL (self->dec_ln_emb.b, FLORENCE_GRAPH_DECODER_EMBED_NORM_B);

  self->enc = g_new0 (BartLayer, MAX (c->encoder_layers, 1));
  self->dec = g_new0 (BartLayer, MAX (c->decoder_layers, 1));
  g_ptr_array_add (self->buffers, self->enc);
  g_ptr_array_add (self->buffers, self->dec);
  for (int l = 0; l < c->encoder_layers; l++)
    if (!load_bart_layer (self, ckpt, &self->enc[l], FALSE, l, error))
      return FALSE;
  for (int l = 0; l < c->decoder_layers; l++)
    if (!load_bart_layer (self, ckpt, &self->dec[l], TRUE, l, error))
      return FALSE;
  return TRUE;
}

#undef TAKE_MODEL

FlorenceReference *
florence_reference_new (const FlorenceConfig *config, FlorenceCheckpoint *checkpoint,
                        GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (checkpoint != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!florence_graph_check_config (config, error))
    return NULL;

  g_autoptr (FlorenceReference) self = g_new0 (FlorenceReference, 1);
  self->config = florence_config_copy (config);
  self->buffers = g_ptr_array_new_with_free_func (g_free);
  self->n_threads = florence_device_default_threads ();

  if (!load_weights (self, checkpoint, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
florence_reference_free (FlorenceReference *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->buffers, g_ptr_array_unref);
  g_clear_pointer (&self->config, florence_config_free);
  g_free (self);
}

void
florence_reference_set_n_threads (FlorenceReference *self, int n_threads)
{
  g_return_if_fail (self != NULL);
  self->n_threads = CLAMP (n_threads, 1, 64);
}

void
florence_reference_set_tap (FlorenceReference *self, FlorenceReferenceTap tap, gpointer user_data)
{
  g_return_if_fail (self != NULL);
  self->tap = tap;
  self->tap_data = user_data;
}

const FlorenceConfig *
florence_reference_get_config (FlorenceReference *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->config;
}

static void
emit (FlorenceReference *self, const char *name, const float *data, gsize rows, gsize cols)
{
  if (self->tap != NULL)
    self->tap (name, data, rows, cols, self->tap_data);
}

/* =============================================================================================
 * DaViT
 * =========================================================================================== */

/* Dense convolution on channels-last tokens: in [H, W, c_in] → out [Ho, Wo, c_out]. */
static float *
conv2d (FlorenceReference *self, const DavitStage *st, const float *in, int H, int W, int *Ho,
        int *Wo)
{
  const int k = st->k, s = st->stride, p = st->pad, ci = st->c_in;
  int ho = (H + 2 * p - k) / s + 1, wo = (W + 2 * p - k) / s + 1;
  gsize K = (gsize) k * k * ci, N = (gsize) ho * wo;
  float *cols = g_new0 (float, N *K);
  for (int oy = 0; oy < ho; oy++)
    for (int ox = 0; ox < wo; ox++)
      {
        float *row = cols + ((gsize) oy * wo + ox) * K;
        for (int ky = 0; ky < k; ky++)
          {
            int iy = oy * s - p + ky;
            if (iy < 0 || iy >= H)
              continue;
            for (int kx = 0; kx < k; kx++)
              {
                int ix = ox * s - p + kx;
                if (ix < 0 || ix >= W)
                  continue;
                memcpy (row + ((gsize) ky * k + kx) * ci, in + ((gsize) iy * W + ix) * ci,
                        (gsize) ci * sizeof (float));
              }
          }
      }
  float *out = g_new (float, N * st->c_out);
  gemm_nt (self->n_threads, cols, N, K, st->conv.w, (gsize) st->c_out, st->conv.b, out);
  g_free (cols);
  *Ho = ho;
  *Wo = wo;
  return out;
}

/* x += depthwise 3×3 conv (padding 1) of x; x is [H, W, C]. */
static void
dwconv_residual (const Lin *conv, float *x, int H, int W, int C)
{
  gsize n = (gsize) H * W * C;
  float *out = g_new (float, n);
  for (int y = 0; y < H; y++)
    for (int xx = 0; xx < W; xx++)
      {
        float *o = out + ((gsize) y * W + xx) * C;
        for (int c = 0; c < C; c++)
          o[c] = conv->b[c];
        for (int ky = 0; ky < 3; ky++)
          {
            int iy = y + ky - 1;
            if (iy < 0 || iy >= H)
              continue;
            for (int kx = 0; kx < 3; kx++)
              {
                int ix = xx + kx - 1;
                if (ix < 0 || ix >= W)
                  continue;
                const float *in = x + ((gsize) iy * W + ix) * C;
                for (int c = 0; c < C; c++)
                  o[c] += in[c] * conv->w[c * 9 + ky * 3 + kx];
              }
          }
      }
  add_inplace (x, out, n);
  g_free (out);
}

/* x += fc2(gelu(fc1(LN(x)))) */
static void
mlp_residual (FlorenceReference *self, const DavitBlock *blk, float *x, gsize N, gsize C)
{
  float *xn = g_new (float, N *C);
  layernorm_to (xn, x, N, C, blk->norm2.w, blk->norm2.b);
  float *h = g_new (float, N * 4 * C);
  gemm_nt (self->n_threads, xn, N, C, blk->fc1.w, 4 * C, blk->fc1.b, h);
  gelu (h, N * 4 * C);
  gemm_nt (self->n_threads, h, N, 4 * C, blk->fc2.w, C, blk->fc2.b, xn);
  add_inplace (x, xn, N * C);
  g_free (h);
  g_free (xn);
}

typedef struct {
  const float *qkv;      /* [N, 3C] */
  const float *qkv_bias; /* what a zero (padding) token projects to */
  float *out;            /* [N, C] */
  int H, W, C, heads, ws, wins_x;
} WindowJob;

static void
window_range (gsize start, gsize end, gpointer data)
{
  const WindowJob *j = data;
  const int ws = j->ws, C = j->C, hd = C / j->heads, T = ws * ws;
  const float scale = 1.0f / sqrtf ((float) hd);
  float *q = g_new (float, (gsize) T *hd);
  float *k = g_new (float, (gsize) T *hd);
  float *vt = g_new (float, (gsize) hd *T);
  float *sc = g_new (float, (gsize) T *T);
  float *o = g_new (float, (gsize) T *hd);
  int *tok = g_new (int, T);

  for (gsize win = start; win < end; win++)
    {
      int wy = (int) win / j->wins_x, wx = (int) win % j->wins_x;
      for (int t = 0; t < T; t++)
        {
          int y = wy * ws + t / ws, x = wx * ws + t % ws;
          tok[t] = (y < j->H && x < j->W) ? y * j->W + x : -1;
        }
      for (int h = 0; h < j->heads; h++)
        {
          for (int t = 0; t < T; t++)
            {
              const float *src = tok[t] >= 0 ? j->qkv + (gsize) tok[t] * 3 * C : j->qkv_bias;
              for (int c = 0; c < hd; c++)
                {
                  q[t * hd + c] = src[h * hd + c] * scale;
                  k[t * hd + c] = src[C + h * hd + c];
                  vt[(gsize) c * T + t] = src[2 * C + h * hd + c];
                }
            }
          gemm_nt (1, q, T, hd, k, T, NULL, sc);
          for (int t = 0; t < T; t++)
            softmax_row (sc + (gsize) t * T, T);
          gemm_nt (1, sc, T, T, vt, hd, NULL, o);
          for (int t = 0; t < T; t++)
            if (tok[t] >= 0)
              memcpy (j->out + (gsize) tok[t] * C + h * hd, o + (gsize) t * hd,
                      hd * sizeof (float));
        }
    }
  g_free (q);
  g_free (k);
  g_free (vt);
  g_free (sc);
  g_free (o);
  g_free (tok);
}

/* The attention of a channel block: out [N, C] from qkv [N, 3C], C/groups channels a group. */
static void
channel_attention (FlorenceReference *self, const float *qkv, gsize N, int C, int groups,
                   float *out)
{
  const int gd = C / groups;
  const float scale = (float) pow ((double) N, -0.5);
  float *qt = g_new (float, (gsize) gd *N);
  float *kt = g_new (float, (gsize) gd *N);
  float *vg = g_new (float, N *gd);
  float *a = g_new (float, (gsize) gd *gd);
  float *o = g_new (float, N *gd);
  for (int g = 0; g < groups; g++)
    {
      for (gsize n = 0; n < N; n++)
        {
          const float *r = qkv + n * 3 * C + g * gd;
          for (int c = 0; c < gd; c++)
            {
              qt[c * N + n] = r[c] * scale;
              kt[c * N + n] = r[C + c];
              vg[n * gd + c] = r[2 * C + c];
            }
        }
      /* A = softmax over key channels of (q·s)ᵀ k, [gd × gd] */
      gemm_nt (self->n_threads, qt, gd, N, kt, gd, NULL, a);
      for (int c = 0; c < gd; c++)
        softmax_row (a + (gsize) c * gd, gd);
      /* out[n, c] = Σ_c' A[c, c'] v[n, c'] */
      gemm_nt (self->n_threads, vg, N, gd, a, gd, NULL, o);
      for (gsize n = 0; n < N; n++)
        memcpy (out + n * C + g * gd, o + n * gd, gd * sizeof (float));
    }
  g_free (qt);
  g_free (kt);
  g_free (vg);
  g_free (a);
  g_free (o);
}

/* A spatial (window attention, @heads) or channel (channel attention, @heads groups) block:
 * x += dw(x); x += attn(LN(x)); x += dw'(x); x += mlp(LN(x)). */
static void
davit_block (FlorenceReference *self, const DavitBlock *blk, gboolean channel, float *x, int H,
             int W, int C, int heads)
{
  const gsize N = (gsize) H * W;
  dwconv_residual (&blk->conv1, x, H, W, C);

  float *xn = g_new (float, N *C);
  layernorm_to (xn, x, N, C, blk->norm1.w, blk->norm1.b);
  float *qkv = g_new (float, N * 3 * C);
  gemm_nt (self->n_threads, xn, N, C, blk->qkv.w, 3 * (gsize) C, blk->qkv.b, qkv);
  if (channel)
    channel_attention (self, qkv, N, C, heads, xn);
  else
    {
      /* zero padding to multiples of the window, after the norm, unmasked: padded tokens'
       * q/k/v are the qkv bias */
      const int ws = self->config->window_size;
      int hp = (H + ws - 1) / ws * ws, wp = (W + ws - 1) / ws * ws;
      WindowJob job = { qkv, blk->qkv.b, xn, H, W, C, heads, ws, wp / ws };
      parallel_for (self->n_threads, (gsize) (hp / ws) * (wp / ws), 1, window_range, &job);
    }
  float *y = g_new (float, N *C);
  gemm_nt (self->n_threads, xn, N, C, blk->proj.w, C, blk->proj.b, y);
  add_inplace (x, y, N * C);
  g_free (y);
  g_free (qkv);
  g_free (xn);

  dwconv_residual (&blk->conv2, x, H, W, C);
  mlp_residual (self, blk, x, N, C);
}

float *
florence_reference_encode_image (FlorenceReference *self, const float *pixel_values, int size,
                                 int *n_tokens, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (pixel_values != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  const FlorenceConfig *c = self->config;
  if (!florence_graph_check_image_size (c, size, NULL, error))
    return NULL;

  /* channels first → channels last */
  int H = size, W = size, C = 3;
  float *x = g_new (float, (gsize) H *W * 3);
  for (int ch = 0; ch < 3; ch++)
    for (gsize i = 0; i < (gsize) H * W; i++)
      x[i * 3 + ch] = pixel_values[(gsize) ch * H * W + i];

  for (int s = 0; s < 4; s++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          g_free (x);
          return NULL;
        }
      const DavitStage *st = &self->stages[s];
      if (st->prenorm && s > 0)
        layernorm (x, (gsize) H * W, (gsize) C, st->norm.w, st->norm.b);
      int ho, wo;
      float *y = conv2d (self, st, x, H, W, &ho, &wo);
      g_free (x);
      x = y;
      H = ho;
      W = wo;
      C = st->c_out;
      if (!st->prenorm)
        layernorm (x, (gsize) H * W, (gsize) C, st->norm.w, st->norm.b);
      for (int j = 0; j < c->depths[s]; j++)
        {
          davit_block (self, &st->spatial[j], FALSE, x, H, W, C, c->num_heads[s]);
          davit_block (self, &st->channel[j], TRUE, x, H, W, C, c->num_groups[s]);
        }
      char name[32];
      g_snprintf (name, sizeof name, "vision_stage%d", s);
      emit (self, name, x, (gsize) H * W, (gsize) C);
    }
  emit (self, "vision_tower_output", x, (gsize) H * W, (gsize) C);

  /* 2-D position (column half first, then row half) + temporal row 0; pooled token first */
  const gsize N = (gsize) H * W, D = (gsize) C, half_col = D - D / 2, half_row = D / 2;
  const gsize d = (gsize) c->d_model;
  float *feat = g_new0 (float, (N + 1) * D);
  for (int y = 0; y < H; y++)
    for (int xx = 0; xx < W; xx++)
      {
        const float *src = x + ((gsize) y * W + xx) * D;
        float *dst = feat + (1 + (gsize) y * W + xx) * D;
        for (gsize ch = 0; ch < D; ch++)
          {
            float pos = ch < half_col ? self->pos_col[(gsize) xx * half_col + ch]
                                      : self->pos_row[(gsize) y * half_row + (ch - half_col)];
            dst[ch] = (src[ch] + pos) + self->temporal[ch];
          }
      }
  g_free (x);
  for (gsize ch = 0; ch < D; ch++)
    {
      double sum = 0.0;
      for (gsize n = 0; n < N; n++)
        sum += feat[(1 + n) * D + ch];
      feat[ch] = (float) (sum / (double) N);
    }
  float *out = g_new (float, (N + 1) * d);
  gemm_nt (self->n_threads, feat, N + 1, D, self->projection_t, d, NULL, out);
  g_free (feat);
  layernorm (out, N + 1, d, self->proj_norm.w, self->proj_norm.b);
  emit (self, "image_features", out, N + 1, d);
  *n_tokens = (int) (N + 1);
  return out;
}

/* =============================================================================================
 * BART
 * =========================================================================================== */

/* Full multi-head attention: out[L, d] from q, k, v [L, d] (q already scaled). */
static void
mha_full (FlorenceReference *self, const float *q, const float *k, const float *v, gsize L, gsize d,
          int heads, float *out)
{
  const gsize hd = d / (gsize) heads;
  float *qh = g_new (float, L *hd), *kh = g_new (float, L *hd), *vt = g_new (float, hd *L);
  float *sc = g_new (float, L *L), *oh = g_new (float, L *hd);
  for (int h = 0; h < heads; h++)
    {
      for (gsize t = 0; t < L; t++)
        for (gsize c = 0; c < hd; c++)
          {
            qh[t * hd + c] = q[t * d + h * hd + c];
            kh[t * hd + c] = k[t * d + h * hd + c];
            vt[c * L + t] = v[t * d + h * hd + c];
          }
      gemm_nt (self->n_threads, qh, L, hd, kh, L, NULL, sc);
      for (gsize t = 0; t < L; t++)
        softmax_row (sc + t * L, L);
      gemm_nt (self->n_threads, sc, L, L, vt, hd, NULL, oh);
      for (gsize t = 0; t < L; t++)
        memcpy (out + t * d + h * hd, oh + t * hd, hd * sizeof (float));
    }
  g_free (qh);
  g_free (kh);
  g_free (vt);
  g_free (sc);
  g_free (oh);
}

static void
scale_inplace (float *x, gsize n, float s)
{
  for (gsize i = 0; i < n; i++)
    x[i] *= s;
}

/* h = LN(h + fc2(gelu(fc1(h)))) */
static void
ffn_post_ln (FlorenceReference *self, const BartLayer *L, float *h, gsize rows, gsize d, gsize ffn)
{
  float *t = g_new (float, rows *ffn);
  float *o = g_new (float, rows *d);
  gemm_nt (self->n_threads, h, rows, d, L->fc1.w, ffn, L->fc1.b, t);
  gelu (t, rows * ffn);
  gemm_nt (self->n_threads, t, rows, ffn, L->fc2.w, d, L->fc2.b, o);
  add_inplace (h, o, rows * d);
  layernorm (h, rows, d, L->ln3.w, L->ln3.b);
  g_free (t);
  g_free (o);
}

float *
florence_reference_encode (FlorenceReference *self, const float *image_features, int n_image,
                           const gint32 *ids, int n_ids, int *n_out, GCancellable *cancellable,
                           GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (image_features != NULL || n_image == 0, NULL);
  g_return_val_if_fail (ids != NULL || n_ids == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  const FlorenceConfig *c = self->config;
  const gsize d = (gsize) c->d_model;
  const gsize L = (gsize) n_image + (gsize) n_ids;
  if (!florence_graph_check_prompt (c, n_image, ids, n_ids, error))
    return NULL;

  float *h = g_new (float, L *d);
  memcpy (h, image_features, (gsize) n_image * d * sizeof (float));
  for (int i = 0; i < n_ids; i++)
    memcpy (h + ((gsize) n_image + i) * d, self->shared + (gsize) ids[i] * d, d * sizeof (float));
  emit (self, "inputs_embeds", h, L, d);
  for (gsize t = 0; t < L; t++)
    add_inplace (h + t * d, self->enc_pos + (t + 2) * d, d);
  layernorm (h, L, d, self->enc_ln_emb.w, self->enc_ln_emb.b);
  emit (self, "encoder_embeddings", h, L, d);

  const float scaling = 1.0f / sqrtf ((float) (d / (gsize) c->encoder_heads));
  float *q = g_new (float, L *d), *k = g_new (float, L *d), *v = g_new (float, L *d);
  float *a = g_new (float, L *d), *o = g_new (float, L *d);
  for (int l = 0; l < c->encoder_layers; l++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        {
          g_free (q), g_free (k), g_free (v), g_free (a), g_free (o), g_free (h);
          return NULL;
        }
      const BartLayer *Ly = &self->enc[l];
      gemm_nt (self->n_threads, h, L, d, Ly->q.w, d, Ly->q.b, q);
      scale_inplace (q, L * d, scaling);
      gemm_nt (self->n_threads, h, L, d, Ly->k.w, d, Ly->k.b, k);
      gemm_nt (self->n_threads, h, L, d, Ly->v.w, d, Ly->v.b, v);
      mha_full (self, q, k, v, L, d, c->encoder_heads, a);
      gemm_nt (self->n_threads, a, L, d, Ly->o.w, d, Ly->o.b, o);
      add_inplace (h, o, L * d);
      layernorm (h, L, d, Ly->ln1.w, Ly->ln1.b);
      ffn_post_ln (self, Ly, h, L, d, (gsize) c->encoder_ffn_dim);
      char name[32];
      g_snprintf (name, sizeof name, "encoder_layer%d", l);
      emit (self, name, h, L, d);
    }
  g_free (q), g_free (k), g_free (v), g_free (a), g_free (o);
  emit (self, "encoder_last_hidden_state", h, L, d);
  *n_out = (int) L;
  return h;
}

/* =============================================================================================
 * Decoder backend
 * =========================================================================================== */

typedef struct {
  FlorenceDecoderBackend parent;
  FlorenceReference *ref;
  gsize n_enc;
  float **cross_k, **cross_v; /* per layer [n_enc × d] */
  guint n_beams;
  gsize len;                /* positions cached */
  gsize cap;                /* positions allocated */
  float **self_k, **self_v; /* per layer [cap][n_beams][d] */
} RefDecoder;

static gboolean
ref_decoder_begin (FlorenceDecoderBackend *backend, guint n_beams, GError **error)
{
  RefDecoder *dec = (RefDecoder *) backend;
  const FlorenceConfig *c = dec->ref->config;
  for (int l = 0; l < c->decoder_layers; l++)
    {
      g_clear_pointer (&dec->self_k[l], g_free);
      g_clear_pointer (&dec->self_v[l], g_free);
    }
  dec->n_beams = n_beams;
  dec->len = 0;
  dec->cap = 0;
  return TRUE;
}

static void
ref_decoder_reserve (RefDecoder *dec, gsize positions)
{
  if (positions <= dec->cap)
    return;
  const FlorenceConfig *c = dec->ref->config;
  gsize cap = MAX (dec->cap * 2, (gsize) 16);
  cap = MAX (cap, positions);
  gsize row = (gsize) dec->n_beams * (gsize) c->d_model;
  for (int l = 0; l < c->decoder_layers; l++)
    {
      dec->self_k[l] = g_renew (float, dec->self_k[l], cap *row);
      dec->self_v[l] = g_renew (float, dec->self_v[l], cap *row);
    }
  dec->cap = cap;
}

/* Attention of B single queries over per-position keys/values. q [B, d] (scaled); keys for
 * query b at position j: k[j * kstride_pos + b * kstride_beam]. */
static void
attend (const float *q, const float *k, const float *v, gsize n_pos, gsize pos_stride,
        gsize beam_stride, guint B, gsize d, int heads, float *out)
{
  const gsize hd = d / (gsize) heads;
  float *sc = g_new (float, n_pos);
  for (guint b = 0; b < B; b++)
    for (int h = 0; h < heads; h++)
      {
        const float *qh = q + (gsize) b * d + h * hd;
        for (gsize j = 0; j < n_pos; j++)
          sc[j] = dot (qh, k + j * pos_stride + b * beam_stride + h * hd, hd);
        softmax_row (sc, n_pos);
        float *oh = out + (gsize) b * d + h * hd;
        for (gsize c = 0; c < hd; c++)
          oh[c] = 0.0f;
        for (gsize j = 0; j < n_pos; j++)
          {
            const float *vj = v + j * pos_stride + b * beam_stride + h * hd;
            for (gsize c = 0; c < hd; c++)
              oh[c] += sc[j] * vj[c];
          }
      }
  g_free (sc);
}

static gboolean
ref_decoder_step_logits (FlorenceDecoderBackend *backend, const FlorenceDecodeStep *step,
                         float *logits, GError **error)
{
  RefDecoder *dec = (RefDecoder *) backend;
  FlorenceReference *self = dec->ref;
  const FlorenceConfig *c = self->config;
  const guint B = step->n_beams;
  const gsize d = (gsize) c->d_model, t = step->position;

  if (!florence_graph_check_step (c, step, dec->n_beams, dec->len, self->vocab_rows, error))
    return FALSE;
  const gsize row = (gsize) B * d;
  for (int l = 0; l < c->decoder_layers; l++)
    {
      florence_graph_reorder_cache (dec->self_k[l], step, d);
      florence_graph_reorder_cache (dec->self_v[l], step, d);
    }
  ref_decoder_reserve (dec, t + 1);
  dec->len = t + 1;

  const float scaling = 1.0f / sqrtf ((float) (d / (gsize) c->decoder_heads));
  float *h = g_new (float, row), *q = g_new (float, row), *a = g_new (float, row),
        *o = g_new (float, row);
  for (guint b = 0; b < B; b++)
    for (gsize i = 0; i < d; i++)
      h[b * d + i] = self->shared[(gsize) step->tokens[b] * d + i] + self->dec_pos[(t + 2) * d + i];
  layernorm (h, B, d, self->dec_ln_emb.w, self->dec_ln_emb.b);

  for (int l = 0; l < c->decoder_layers; l++)
    {
      const BartLayer *Ly = &self->dec[l];
      float *kc = dec->self_k[l], *vc = dec->self_v[l];
      gemm_nt (1, h, B, d, Ly->q.w, d, Ly->q.b, q);
      scale_inplace (q, row, scaling);
      gemm_nt (1, h, B, d, Ly->k.w, d, Ly->k.b, kc + t * row);
      gemm_nt (1, h, B, d, Ly->v.w, d, Ly->v.b, vc + t * row);
      attend (q, kc, vc, t + 1, row, d, B, d, c->decoder_heads, a);
      gemm_nt (1, a, B, d, Ly->o.w, d, Ly->o.b, o);
      add_inplace (h, o, row);
      layernorm (h, B, d, Ly->ln1.w, Ly->ln1.b);

      gemm_nt (1, h, B, d, Ly->cq.w, d, Ly->cq.b, q);
      scale_inplace (q, row, scaling);
      attend (q, dec->cross_k[l], dec->cross_v[l], dec->n_enc, d, 0, B, d, c->decoder_heads, a);
      gemm_nt (1, a, B, d, Ly->co.w, d, Ly->co.b, o);
      add_inplace (h, o, row);
      layernorm (h, B, d, Ly->ln2.w, Ly->ln2.b);

      ffn_post_ln (self, Ly, h, B, d, (gsize) c->decoder_ffn_dim);
    }

  /* tied LM head over the real vocabulary + final_logits_bias */
  gemm_nt (self->n_threads, h, B, d, self->shared, (gsize) c->vocab_size, self->final_logits_bias,
           logits);
  g_free (h);
  g_free (q);
  g_free (a);
  g_free (o);
  return TRUE;
}

FlorenceDecoderBackend *
florence_reference_decoder_new (FlorenceReference *self, const float *encoder_out, int n_enc,
                                GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (encoder_out != NULL && n_enc > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  const FlorenceConfig *c = self->config;
  const gsize d = (gsize) c->d_model, L = (gsize) n_enc;
  RefDecoder *dec = g_new0 (RefDecoder, 1);
  dec->parent.vocab_size = c->vocab_size;
  dec->parent.max_positions = c->max_position_embeddings;
  dec->parent.begin = ref_decoder_begin;
  dec->parent.step_logits = ref_decoder_step_logits;
  dec->parent.user_data = dec;
  dec->ref = self;
  dec->n_enc = L;
  int nl = MAX (c->decoder_layers, 1);
  dec->cross_k = g_new0 (float *, nl);
  dec->cross_v = g_new0 (float *, nl);
  dec->self_k = g_new0 (float *, nl);
  dec->self_v = g_new0 (float *, nl);
  for (int l = 0; l < c->decoder_layers; l++)
    {
      dec->cross_k[l] = g_new (float, L *d);
      dec->cross_v[l] = g_new (float, L *d);
      gemm_nt (self->n_threads, encoder_out, L, d, self->dec[l].ck.w, d, self->dec[l].ck.b,
               dec->cross_k[l]);
      gemm_nt (self->n_threads, encoder_out, L, d, self->dec[l].cv.w, d, self->dec[l].cv.b,
               dec->cross_v[l]);
    }
  return &dec->parent;
}

void
florence_reference_decoder_free (FlorenceDecoderBackend *decoder)
{
  if (decoder == NULL)
    return;
  RefDecoder *dec = (RefDecoder *) decoder;
  int nl = dec->ref->config->decoder_layers;
  for (int l = 0; l < nl; l++)
    {
      g_free (dec->cross_k[l]);
      g_free (dec->cross_v[l]);
      g_free (dec->self_k[l]);
      g_free (dec->self_v[l]);
    }
  g_free (dec->cross_k);
  g_free (dec->cross_v);
  g_free (dec->self_k);
  g_free (dec->self_v);
  g_free (dec);
}
