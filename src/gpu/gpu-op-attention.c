/* gpu-op-attention.c: attention ops (shaders/attention*.comp, cache_reorder.comp)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>

#include "gpu/gpu-op-attention.h"
#include "gpu/gpu-op-util.h"

#define F16_0 1u

/* Workgroup size and queries per invocation: lavapipe runs one 8-lane subgroup per
 * workgroup best and gains from reusing each fetched key for several queries; GPUs want
 * wide workgroups and few registers. */
static void
attention_shape (GpuDevice *device, guint32 *local, guint32 *qpl)
{
  gboolean cpu = gpu_device_get_limits (device)->kernels == GPU_KERNELS_CPU;
  *local = cpu ? 8 : 64;
  *qpl = cpu ? 4 : 1;
}

/* The GPU kernel set's attention (attention_flash.comp): a workgroup of one query per
 * invocation, up to 64 (whole subgroups; fewer when there are fewer @queries), and keys in
 * blocks of BK rows in shared memory next to the block's scores. BK is the largest power of
 * two up to 64 whose keys, values and scores take at most half the shared memory (so that two
 * workgroups fit). FALSE when the device has too little for a block of 4 keys. */
static gboolean
flash_shape (GpuDevice *device, guint hd, guint64 queries, guint32 *local, guint32 *bk)
{
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  guint32 sg = CLAMP (lim->subgroup_size, 1, 128);
  guint64 want = MIN (queries, (guint64) MAX (64, sg));
  *local = (guint32) MIN ((want + sg - 1) / sg * sg, lim->max_workgroup_invocations);
  for (*bk = 64; *bk >= 4; *bk /= 2)
    if ((guint64) *bk * (hd * 8 + *local * 4) <= lim->max_shared_memory_size / 2)
      return TRUE;
  return FALSE;
}

/* Loop iterations per invocation of attention_flash.comp over @n keys (@spec as
 * flash_shape() sets it): per block, one for the block, its loads, and two per key. */
static guint64
flash_loops (guint64 n, const guint32 *spec)
{
  guint64 local = spec[0], hd = spec[1], bk = spec[2];
  guint64 blocks = (n + bk - 1) / bk;
  return blocks * (1 + (bk * hd / 4 + local - 1) / local + 2 * bk);
}

void
gpu_op_attention_window (GpuRecorder *recorder, GpuBuffer *qkv, GpuBuffer *qkv_bias,
                         gboolean bias_f16, guint h, guint w, guint c, guint heads, guint window,
                         GpuBuffer *out)
{
  const char *op = "attention_window";

  g_return_if_fail (recorder != NULL);
  if (h == 0 || w == 0)
    return;
  if (heads == 0 || window == 0 || c % heads != 0 || (c / heads) % 4 != 0 ||
      c / heads > GPU_OP_ATTENTION_MAX_HEAD_DIM)
    {
      gpu_op_util_fail (recorder, op, "channels must split into heads of 4 to 64, a multiple of 4");
      return;
    }
  guint wins_x = (w + window - 1) / window, wins_y = (h + window - 1) / window;
  guint64 wsq = (guint64) window * window;
  guint64 n = (guint64) h * w;
  if (n * 3 * c > G_MAXINT32 || (guint64) wins_x * wins_y > 65535 || heads > 65535)
    {
      gpu_op_util_fail (recorder, op, "the grid is too large");
      return;
    }
  if (!gpu_op_util_check_size (recorder, op, "qkv", qkv, n * 3 * c * 4) ||
      !gpu_op_util_check_size (recorder, op, "qkv_bias", qkv_bias,
                               (guint64) 3 * c * (bias_f16 ? 2 : 4)) ||
      !gpu_op_util_check_size (recorder, op, "out", out, n * c * 4))
    return;
  guint hd = c / heads;
  GpuDevice *device = gpu_recorder_get_device (recorder);
  gboolean flash = gpu_device_get_limits (device)->kernels == GPU_KERNELS_GPU;
  guint32 spec[3];
  if (flash)
    {
      spec[1] = hd;
      if (!flash_shape (device, hd, wsq, &spec[0], &spec[2]))
        {
          gpu_op_util_fail (recorder, op, "the device has too little shared memory");
          return;
        }
      op = "attention_window_flash";
    }
  else
    {
      attention_shape (device, &spec[0], &spec[2]);
      spec[1] = hd;
    }
  struct {
    guint32 h, w, c, ws, wins_x, flags;
    float scale;
    guint32 win0, tok0, qkv_off, out_off;
  } push = { h, w, c, window, wins_x, bias_f16 ? F16_0 : 0, (float) (1.0 / sqrt (hd)) };
  /* loop iterations per invocation: one per key, or one per block of keys */
  if (!gpu_op_util_check_loops (recorder, op, (flash ? flash_loops (wsq, spec) : wsq) + 16))
    return;
  GpuPipeline *pipeline = gpu_op_util_pipeline (recorder, op, "trw", sizeof push, spec, 3);
  if (pipeline == NULL)
    return;
  GpuBinding b[] = {
    { qkv, 0, n * 3 * c * 4, GPU_TEXEL_RGBA32F },
    { qkv_bias, 0, 0, GPU_TEXEL_NONE },
    { out, 0, n * c * 4, GPU_TEXEL_NONE },
  };
  guint64 lanes = flash ? wsq : (wsq + spec[2] - 1) / spec[2];
  /* in bands of window rows when a tensor passes one binding's range */
  const guint64 out_row = (guint64) w * c * 4;
  guint64 band = MIN (gpu_op_util_rows_per_binding (device, GPU_TEXEL_NONE, out_row, h),
                      gpu_op_util_rows_per_binding (device, GPU_TEXEL_RGBA32F, 3 * out_row, h));
  band = band >= h ? wins_y : band / window;
  if (band == 0)
    {
      gpu_op_util_fail (recorder, op, "a row of windows larger than the device's binding limit");
      return;
    }
  for (guint64 wy0 = 0; wy0 < wins_y; wy0 += band)
    {
      guint64 wy1 = MIN (wy0 + band, (guint64) wins_y), qs = 0, os = 0;
      guint64 r0 = wy0 * window, r1 = MIN (wy1 * window, (guint64) h);
      gpu_op_util_bind_texel (device, qkv, GPU_TEXEL_RGBA32F, r0 * 3 * out_row,
                              (r1 - r0) * 3 * out_row, &b[0], &qs);
      gpu_op_util_bind_storage (device, out, r0 * out_row, (r1 - r0) * out_row, &b[2], &os);
      push.win0 = (guint32) (wy0 * wins_x);
      push.tok0 = (guint32) (r0 * w);
      push.qkv_off = (guint32) (qs / 16);
      push.out_off = (guint32) (os / 16);
      gpu_recorder_dispatch (recorder, pipeline, op, gpu_op_util_div_up (lanes, spec[0]),
                             (guint32) (wins_x * (wy1 - wy0)), heads, b, &push);
    }
}

/* Tokens per split of the Gram reduction: enough splits to fill the device, chunks long
 * enough that the partial matrices stay small, and at most 60 000 (one loop iteration per
 * token: lavapipe's limit, gpu_op_util_check_loops). */
static guint
channel_chunk (GpuDevice *device, guint n)
{
  const GpuDeviceLimits *limits = gpu_device_get_limits (device);
  guint target_splits = limits->kernels == GPU_KERNELS_CPU ? 16 : 128;
  guint chunk = (n + target_splits - 1) / target_splits;
  return CLAMP (chunk, 64, 60000);
}

/* Byte offset of the attention matrices in the scratch buffer, after the partial Gram
 * matrices, aligned for a storage and a texel binding. */
static guint64
channel_a_offset (GpuDevice *device, guint64 part_bytes)
{
  const GpuDeviceLimits *limits = gpu_device_get_limits (device);
  guint64 align = MAX (
    MAX (limits->min_storage_buffer_offset_alignment, limits->min_texel_buffer_offset_alignment),
    16);
  return (part_bytes + align - 1) / align * align;
}

guint64
gpu_op_attention_channel_scratch_size (GpuDevice *device, guint n, guint c, guint groups)
{
  g_return_val_if_fail (device != NULL, 0);
  if (groups == 0 || n == 0)
    return 0;
  guint64 gw = c / groups;
  guint chunk = channel_chunk (device, n);
  guint64 splits = (n + chunk - 1) / chunk;
  return channel_a_offset (device, splits * groups * gw * gw * 4) + groups * gw * gw * 4;
}

void
gpu_op_attention_channel (GpuRecorder *recorder, GpuBuffer *qkv, guint n, guint c, guint groups,
                          GpuBuffer *scratch, GpuBuffer *out)
{
  const char *op = "attention_channel";
  GpuDevice *device;
  GpuPipeline *pipeline;

  g_return_if_fail (recorder != NULL);
  if (n == 0)
    return;
  if (groups == 0 || c % groups != 0 || (c / groups) % 4 != 0 ||
      c / groups > GPU_OP_ATTENTION_MAX_HEAD_DIM)
    {
      gpu_op_util_fail (recorder, op,
                        "channels must split into groups of 4 to 64, a multiple of 4");
      return;
    }
  if ((guint64) n * 3 * c > G_MAXINT32)
    {
      gpu_op_util_fail (recorder, op, "too many tokens");
      return;
    }
  device = gpu_recorder_get_device (recorder);
  guint gw = c / groups;
  guint chunk = channel_chunk (device, n);
  guint splits = (n + chunk - 1) / chunk;
  guint64 part_bytes = (guint64) splits * groups * gw * gw * 4;
  guint64 a_off = channel_a_offset (device, part_bytes);
  guint64 a_bytes = (guint64) groups * gw * gw * 4;
  if (!gpu_op_util_check_size (recorder, op, "qkv", qkv, (guint64) n * 3 * c * 4) ||
      !gpu_op_util_check_size (recorder, op, "scratch", scratch, a_off + a_bytes) ||
      !gpu_op_util_check_size (recorder, op, "out", out, (guint64) n * c * 4) ||
      !gpu_op_util_check_loops (recorder, op, MAX (chunk, (guint64) splits * gw) + 3 * gw))
    return;
  guint32 local, qpl;
  attention_shape (device, &local, &qpl);
  GpuBinding qkv_view = { qkv, 0, (guint64) n * 3 * c * 4, GPU_TEXEL_RGBA32F };

  /* 1: partial Gram matrices per split */
  /* passes 1 and 3 in pieces of tokens when a tensor passes one binding's range */
  const guint64 qkv_row = (guint64) 3 * c * 4, out_row = (guint64) c * 4;
  guint64 qkv_rows = gpu_op_util_rows_per_binding (device, GPU_TEXEL_RGBA32F, qkv_row, n);
  guint64 piece = MIN (qkv_rows, gpu_op_util_rows_per_binding (device, GPU_TEXEL_NONE, out_row, n));
  guint64 splits_per = qkv_rows >= n ? splits : qkv_rows / chunk;
  if (piece == 0 || splits_per == 0)
    {
      gpu_op_util_fail (recorder, op, "tokens larger than the device's binding limit");
      return;
    }
  struct {
    guint32 n, c, groups, chunk, s_end, s0, qkv_off;
  } push1 = { n, c, groups, chunk };
  guint32 spec1[] = { local, gw };
  pipeline =
    gpu_op_util_pipeline (recorder, "attention_channel_gram", "tw", sizeof push1, spec1, 2);
  if (pipeline == NULL)
    return;
  GpuBinding b1[] = { qkv_view, { scratch, 0, part_bytes, GPU_TEXEL_NONE } };
  for (guint64 s0 = 0; s0 < splits; s0 += splits_per)
    {
      guint64 s1 = MIN (s0 + splits_per, (guint64) splits), qs = 0;
      guint64 t0 = s0 * chunk, t1 = MIN (s1 * chunk, (guint64) n);
      gpu_op_util_bind_texel (device, qkv, GPU_TEXEL_RGBA32F, t0 * qkv_row, (t1 - t0) * qkv_row,
                              &b1[0], &qs);
      push1.s0 = (guint32) s0;
      push1.s_end = (guint32) s1;
      push1.qkv_off = (guint32) (qs / 16);
      gpu_recorder_dispatch (recorder, pipeline, "attention_channel_gram",
                             gpu_op_util_div_up ((s1 - s0) * groups * (gw / 4), local), 1, 1, b1,
                             &push1);
    }

  /* 2: sum of the splits, scale n^-0.5, softmax over each row */
  struct {
    guint32 groups, gw, splits;
    float scale;
  } push2 = { groups, gw, splits, (float) (1.0 / sqrt ((double) n)) };
  pipeline =
    gpu_op_util_pipeline (recorder, "attention_channel_softmax", "rw", sizeof push2, NULL, 0);
  if (pipeline == NULL)
    return;
  GpuBinding b2[] = { { scratch, 0, part_bytes, GPU_TEXEL_NONE },
                      { scratch, a_off, a_bytes, GPU_TEXEL_NONE } };
  gpu_recorder_dispatch (recorder, pipeline, "attention_channel_softmax",
                         gpu_op_util_div_up ((guint64) groups * gw, 64), 1, 1, b2, &push2);

  /* 3: out = A · V per token and group */
  struct {
    guint32 n, c, groups, t_base, qkv_off, out_off;
  } push3 = { n, c, groups };
  guint32 tpl = 4;
  guint32 spec3[] = { local, gw, tpl };
  pipeline =
    gpu_op_util_pipeline (recorder, "attention_channel_apply", "ttw", sizeof push3, spec3, 3);
  if (pipeline == NULL)
    return;
  GpuBinding b3[] = { qkv_view,
                      { scratch, a_off, a_bytes, GPU_TEXEL_RGBA32F },
                      { out, 0, (guint64) n * c * 4, GPU_TEXEL_NONE } };
  for (guint64 t0 = 0; t0 < n; t0 += piece)
    {
      guint64 t1 = MIN (t0 + piece, (guint64) n), qs = 0, os = 0;
      gpu_op_util_bind_texel (device, qkv, GPU_TEXEL_RGBA32F, t0 * qkv_row, (t1 - t0) * qkv_row,
                              &b3[0], &qs);
      gpu_op_util_bind_storage (device, out, t0 * out_row, (t1 - t0) * out_row, &b3[2], &os);
      push3.n = (guint32) t1;
      push3.t_base = (guint32) t0;
      push3.qkv_off = (guint32) (qs / 16);
      push3.out_off = (guint32) (os / 16);
      gpu_recorder_dispatch (recorder, pipeline, "attention_channel_apply",
                             gpu_op_util_div_up ((t1 - t0 + tpl - 1) / tpl * groups, local), 1, 1,
                             b3, &push3);
    }
}

static gboolean
check_rows (GpuRecorder *recorder, const char *name, const GpuRows *rows, guint batch, guint n,
            guint width)
{
  if (rows->buffer == NULL)
    return gpu_op_util_fail (recorder, "attention", "a buffer is missing");
  guint64 end = rows->offset + (guint64) (batch - 1) * rows->batch_stride +
                (guint64) (n - 1) * rows->row_stride + width;
  if (end > G_MAXUINT32)
    return gpu_op_util_fail (recorder, "attention", "offsets beyond 2³² elements");
  return gpu_op_util_check_size (recorder, "attention", name, rows->buffer, end * 4);
}

void
gpu_op_attention (GpuRecorder *recorder, const GpuAttention *a)
{
  const char *op = "attention";

  g_return_if_fail (recorder != NULL);
  g_return_if_fail (a != NULL);
  if (a->batch == 0 || a->n_q == 0)
    return;
  if (a->n_kv == 0 || a->heads == 0 || a->head_dim == 0 ||
      a->head_dim > GPU_OP_ATTENTION_MAX_HEAD_DIM || a->head_dim % 4 != 0 || a->batch > 65535 ||
      a->heads > 65535 || (a->causal && a->n_kv < a->n_q))
    {
      gpu_op_util_fail (recorder, op,
                        "no keys, a head dimension that is not a multiple of 4 "
                        "up to 64, or fewer keys than causal queries");
      return;
    }
  const GpuRows *rows[] = { &a->q, &a->k, &a->v, &a->out };
  for (guint r = 0; r < G_N_ELEMENTS (rows); r++)
    if (rows[r]->offset % 4 != 0 || rows[r]->row_stride % 4 != 0 || rows[r]->batch_stride % 4 != 0)
      {
        gpu_op_util_fail (recorder, op, "offsets and strides must be multiples of 4 elements");
        return;
      }
  guint width = a->heads * a->head_dim;
  if (!check_rows (recorder, "q", &a->q, a->batch, a->n_q, width) ||
      !check_rows (recorder, "k", &a->k, a->batch, a->n_kv, width) ||
      !check_rows (recorder, "v", &a->v, a->batch, a->n_kv, width) ||
      !check_rows (recorder, "out", &a->out, a->batch, a->n_q, width))
    return;
  /* one query row per (batch, head), as in decoder steps: attention_decode.comp, whose lanes
   * split the keys (attention.comp's lanes split the queries: one lane of a workgroup would
   * work, 22 ms instead of 1 ms per layer for 586 keys on lavapipe); more queries: in the GPU
   * kernel set attention_flash.comp (key blocks in shared memory), else attention.comp */
  GpuDevice *device = gpu_recorder_get_device (recorder);
  gboolean decode = a->n_q == 1;
  gboolean flash = !decode && gpu_device_get_limits (device)->kernels == GPU_KERNELS_GPU;
  guint32 spec[3];
  if (flash)
    {
      spec[1] = a->head_dim;
      if (!flash_shape (device, a->head_dim, a->n_q, &spec[0], &spec[2]))
        {
          gpu_op_util_fail (recorder, op, "the device has too little shared memory");
          return;
        }
    }
  else
    {
      attention_shape (device, &spec[0], &spec[2]);
      spec[1] = a->head_dim;
    }
  /* loop iterations per invocation: one per key, or one per block of keys */
  if (!gpu_op_util_check_loops (recorder, op, (flash ? flash_loops (a->n_kv, spec) : a->n_kv) + 16))
    return;
  struct {
    guint32 q_off, q_stride, q_bstride, k_off, k_stride, k_bstride, v_off, v_stride, v_bstride;
    guint32 o_off, o_stride, o_bstride, n_q, n_kv, causal;
    float scale;
  } push = {
    (guint32) (a->q.offset / 4),
    a->q.row_stride / 4,
    a->q.batch_stride / 4,
    (guint32) (a->k.offset / 4),
    a->k.row_stride / 4,
    a->k.batch_stride / 4,
    (guint32) (a->v.offset / 4),
    a->v.row_stride / 4,
    a->v.batch_stride / 4,
    (guint32) (a->out.offset / 4),
    a->out.row_stride / 4,
    a->out.batch_stride / 4,
    a->n_q,
    a->n_kv,
    a->causal ? 1 : 0,
    a->scale,
  };
  const char *shader = decode ? "attention_decode" : flash ? "attention_flash" : op;
  GpuPipeline *pipeline =
    gpu_op_util_pipeline (recorder, shader, "tttw", sizeof push, spec, decode ? 2 : 3);
  if (pipeline == NULL)
    return;
  GpuBinding b[] = {
    { a->q.buffer, 0, 0, GPU_TEXEL_RGBA32F },
    { a->k.buffer, 0, 0, GPU_TEXEL_RGBA32F },
    { a->v.buffer, 0, 0, GPU_TEXEL_RGBA32F },
    { a->out.buffer, 0, 0, GPU_TEXEL_NONE },
  };
  if (decode)
    {
      gpu_recorder_dispatch (recorder, pipeline, op, 1, a->heads, a->batch, b, &push);
      return;
    }
  guint64 lanes = flash ? a->n_q : (a->n_q + spec[2] - 1) / spec[2];
  gpu_recorder_dispatch (recorder, pipeline, flash ? shader : op,
                         gpu_op_util_div_up (lanes, spec[0]), a->heads, a->batch, b, &push);
}

void
gpu_op_attention_step (GpuRecorder *recorder, const GpuAttentionStep *a)
{
  const char *op = "attention_step";

  g_return_if_fail (recorder != NULL && a != NULL);
  if (a->beams == 0)
    return;
  guint d = a->heads * a->head_dim;
  if (a->heads == 0 || a->head_dim == 0 || a->head_dim > GPU_OP_ATTENTION_MAX_HEAD_DIM ||
      a->head_dim % 4 != 0 || a->beams > 65535 || a->heads > 65535 || a->cap == 0 ||
      a->qkv == NULL || a->k_cache == NULL || a->v_cache == NULL || a->table == NULL ||
      a->ctl == NULL || a->out == NULL || a->k_cache == a->v_cache)
    {
      gpu_op_util_fail (
        recorder, op, "a missing buffer, or a head dimension that is not a multiple of 4 up to 64");
      return;
    }
  guint64 cache = (guint64) a->beams * a->cap * d;
  if (cache > G_MAXUINT32 ||
      !gpu_op_util_check_size (recorder, op, "qkv", a->qkv, (guint64) a->beams * 3 * d * 4) ||
      !gpu_op_util_check_size (recorder, op, "k_cache", a->k_cache, cache * 4) ||
      !gpu_op_util_check_size (recorder, op, "v_cache", a->v_cache, cache * 4) ||
      !gpu_op_util_check_size (recorder, op, "table", a->table, (guint64) a->beams * a->cap * 4) ||
      !gpu_op_util_check_size (recorder, op, "ctl", a->ctl, ((guint64) a->pos_word + 1) * 4) ||
      !gpu_op_util_check_size (recorder, op, "out", a->out, (guint64) a->beams * d * 4) ||
      !gpu_op_util_check_loops (recorder, op, (guint64) a->cap + 16))
    return;
  guint32 spec[3];
  attention_shape (gpu_recorder_get_device (recorder), &spec[0], &spec[2]);
  spec[1] = a->head_dim;
  struct {
    guint32 q_off, q_bstride, knew_off, c_stride, cap, o_off, o_bstride, pos_word;
    float scale;
  } push = { 0, 3 * d / 4, d / 4, d / 4, a->cap, 0, d / 4, a->pos_word, a->scale };
  GpuPipeline *pipeline =
    gpu_op_util_pipeline (recorder, "attention_decode_self", "tttwrrww", sizeof push, spec, 2);
  if (pipeline == NULL)
    return;
  GpuBinding b[] = {
    { a->qkv, 0, 0, GPU_TEXEL_RGBA32F },     { a->k_cache, 0, 0, GPU_TEXEL_RGBA32F },
    { a->v_cache, 0, 0, GPU_TEXEL_RGBA32F }, { a->out, 0, 0, GPU_TEXEL_NONE },
    { a->table, 0, 0, GPU_TEXEL_NONE },      { a->ctl, 0, 0, GPU_TEXEL_NONE },
    { a->k_cache, 0, 0, GPU_TEXEL_NONE },    { a->v_cache, 0, 0, GPU_TEXEL_NONE },
  };
  gpu_recorder_dispatch (recorder, pipeline, op, 1, a->heads, a->beams, b, &push);
}

void
gpu_op_kv_cache_reorder (GpuRecorder *recorder, GpuBuffer *src, GpuBuffer *dst, guint beams,
                         const guint *beam, guint cap, guint t, guint d)
{
  const char *op = "cache_reorder";

  g_return_if_fail (recorder != NULL);
  if (beams == 0 || t == 0 || d == 0)
    return;
  if (beams > GPU_OP_ATTENTION_MAX_BEAMS || t > cap || src == dst)
    {
      gpu_op_util_fail (recorder, op, "too many beams, t beyond the capacity, or in place");
      return;
    }
  guint64 bytes = (guint64) beams * cap * d * 4;
  if (!gpu_op_util_check_count (recorder, op, bytes / 4) ||
      !gpu_op_util_check_size (recorder, op, "src", src, bytes) ||
      !gpu_op_util_check_size (recorder, op, "dst", dst, bytes))
    return;
  struct {
    guint32 beams, cap, t, d;
    guint32 beam[GPU_OP_ATTENTION_MAX_BEAMS];
  } push = { beams, cap, t, d, { 0 } };
  for (guint b = 0; b < beams; b++)
    {
      if (beam[b] >= beams)
        {
          gpu_op_util_fail (recorder, op, "a beam index out of range");
          return;
        }
      push.beam[b] = beam[b];
    }
  GpuBuffer *buffers[] = { src, dst };
  gpu_op_util_dispatch (recorder, op, "rw", sizeof push, &push,
                        gpu_op_util_groups (recorder, (guint64) beams * t * d), 1, 1, buffers);
}
