/* gpu-op-attention.c: attention ops (shaders/attention*.comp, cache_reorder.comp)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>

#include "gpu/gpu-op-attention.h"
#include "gpu/gpu-op-util.h"

#define F16_0 1u

void
gpu_op_attention_window (GpuRecorder *recorder, GpuBuffer *qkv, GpuBuffer *qkv_bias,
                         gboolean bias_f16, guint h, guint w, guint c, guint heads, guint window,
                         GpuBuffer *out)
{
  const char *op = "attention_window";

  g_return_if_fail (recorder != NULL);
  if (h == 0 || w == 0)
    return;
  if (heads == 0 || window == 0 || c % heads != 0 || c / heads > GPU_OP_ATTENTION_MAX_HEAD_DIM)
    {
      gpu_op_util_fail (recorder, op, "channels must split into heads of at most 64");
      return;
    }
  guint wins_x = (w + window - 1) / window, wins_y = (h + window - 1) / window;
  guint64 wsq = (guint64) window * window;
  guint64 n = (guint64) h * w;
  if (n * 3 * c > G_MAXUINT32 || wsq > G_MAXUINT32 / 2 || (guint64) wins_x * wins_y > 65535
      || heads > 65535)
    {
      gpu_op_util_fail (recorder, op, "the grid is too large");
      return;
    }
  if (!gpu_op_util_check_size (recorder, op, "qkv", qkv, n * 3 * c * 4)
      || !gpu_op_util_check_size (recorder, op, "qkv_bias", qkv_bias,
                                  (guint64) 3 * c * (bias_f16 ? 2 : 4))
      || !gpu_op_util_check_size (recorder, op, "out", out, n * c * 4)
      || !gpu_op_util_check_loops (recorder, op, wsq * (1 + 2 * (guint64) (c / heads)) + 64))
    return;
  guint hd = c / heads;
  struct
  {
    guint32 h, w, c, hd, ws, wins_x, flags;
    float scale;
  } push = { h, w, c, hd, window, wins_x, bias_f16 ? F16_0 : 0, (float) (1.0 / sqrt (hd)) };
  GpuBuffer *buffers[] = { qkv, qkv_bias, out };
  gpu_op_util_dispatch (recorder, op, "rrw", sizeof push, &push, (guint32) ((wsq + 63) / 64),
                        wins_x * wins_y, heads, buffers);
}

/* Tokens per split of the Gram reduction: enough splits to fill the device, chunks long
 * enough that the partial matrices stay small, and short enough that an invocation loops
 * (chunk · (gw + 1) iterations) within lavapipe's limit (gpu_op_util_check_loops). */
static guint
channel_chunk (GpuDevice *device, guint n, guint gw)
{
  const GpuDeviceLimits *limits = gpu_device_get_limits (device);
  guint target_splits = limits->is_cpu ? 16 : 128;
  guint chunk = (n + target_splits - 1) / target_splits;
  guint max_chunk = 32768 / (gw + 1);
  return CLAMP (chunk, MIN (64, max_chunk), max_chunk);
}

guint64
gpu_op_attention_channel_scratch_size (GpuDevice *device, guint n, guint c, guint groups)
{
  g_return_val_if_fail (device != NULL, 0);
  if (groups == 0 || n == 0)
    return 0;
  guint64 gw = c / groups;
  guint chunk = channel_chunk (device, n, (guint) gw);
  guint64 splits = (n + chunk - 1) / chunk;
  return (splits + 1) * groups * gw * gw * 4;
}

void
gpu_op_attention_channel (GpuRecorder *recorder, GpuBuffer *qkv, guint n, guint c, guint groups,
                          GpuBuffer *scratch, GpuBuffer *out)
{
  const char *op = "attention_channel";
  GpuDevice *device;

  g_return_if_fail (recorder != NULL);
  if (n == 0)
    return;
  if (groups == 0 || c % groups != 0 || c / groups > GPU_OP_ATTENTION_MAX_HEAD_DIM)
    {
      gpu_op_util_fail (recorder, op, "channels must split into groups of at most 64");
      return;
    }
  if ((guint64) n * 3 * c > G_MAXUINT32)
    {
      gpu_op_util_fail (recorder, op, "too many tokens");
      return;
    }
  device = gpu_recorder_get_device (recorder);
  guint gw = c / groups;
  guint chunk = channel_chunk (device, n, gw);
  guint splits = (n + chunk - 1) / chunk;
  guint64 part_bytes = (guint64) splits * groups * gw * gw * 4;
  if (!gpu_op_util_check_size (recorder, op, "qkv", qkv, (guint64) n * 3 * c * 4)
      || !gpu_op_util_check_size (recorder, op, "scratch", scratch,
                                  gpu_op_attention_channel_scratch_size (device, n, c, groups))
      || !gpu_op_util_check_size (recorder, op, "out", out, (guint64) n * c * 4)
      || !gpu_op_util_check_loops (recorder, op, (guint64) splits * gw + 3 * (guint64) gw))
    return;

  /* the scratch buffer: partial Gram matrices, then A (bound as a range: storage offset
   * alignment is at most 256 bytes and part_bytes is a multiple of 4·gw², so round up) */
  const GpuDeviceLimits *limits = gpu_device_get_limits (device);
  guint64 align = MAX (limits->min_storage_buffer_offset_alignment, 4);
  guint64 a_off = (part_bytes + align - 1) / align * align;
  guint64 a_bytes = (guint64) groups * gw * gw * 4;
  if (!gpu_op_util_check_size (recorder, op, "scratch", scratch, a_off + a_bytes))
    return;

  struct
  {
    guint32 n, c, groups, gw, chunk, splits;
  } push1 = { n, c, groups, gw, chunk, splits };
  GpuBuffer *b1[] = { qkv, scratch };
  gpu_op_util_dispatch (recorder, "attention_channel_gram", "rw", sizeof push1, &push1,
                        gpu_op_util_groups (recorder, (guint64) splits * groups * gw), 1, 1, b1);

  GpuPipeline *pipeline;
  GError *error = NULL;
  struct
  {
    guint32 groups, gw, splits;
    float scale;
  } push2 = { groups, gw, splits, (float) (1.0 / sqrt ((double) n)) };
  GpuPipelineDesc desc2 = { .shader = "attention_channel_softmax", .bindings = "rw",
                            .push_size = sizeof push2 };
  pipeline = gpu_device_get_pipeline (device, &desc2, &error);
  if (pipeline == NULL)
    {
      gpu_recorder_take_error (recorder, error);
      return;
    }
  GpuBinding b2[] = { { scratch, 0, part_bytes, 0 }, { scratch, a_off, a_bytes, 0 } };
  gpu_recorder_dispatch (recorder, pipeline, "attention_channel_softmax",
                         (groups * gw + 63) / 64, 1, 1, b2, &push2);

  struct
  {
    guint32 n, c, gw;
  } push3 = { n, c, gw };
  GpuPipelineDesc desc3 = { .shader = "attention_channel_apply", .bindings = "rrw",
                            .push_size = sizeof push3 };
  pipeline = gpu_device_get_pipeline (device, &desc3, &error);
  if (pipeline == NULL)
    {
      gpu_recorder_take_error (recorder, error);
      return;
    }
  GpuBinding b3[] = { { qkv, 0, 0, 0 }, { scratch, a_off, a_bytes, 0 }, { out, 0, 0, 0 } };
  gpu_recorder_dispatch (recorder, pipeline, "attention_channel_apply",
                         gpu_op_util_groups (recorder, (guint64) n * c), 1, 1, b3, &push3);
}

static gboolean
check_rows (GpuRecorder *recorder, const char *name, const GpuRows *rows, guint batch, guint n,
            guint width)
{
  if (rows->buffer == NULL)
    return gpu_op_util_fail (recorder, "attention", "a buffer is missing");
  guint64 end = rows->offset + (guint64) (batch - 1) * rows->batch_stride
                + (guint64) (n - 1) * rows->row_stride + width;
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
  if (a->n_kv == 0 || a->heads == 0 || a->head_dim == 0
      || a->head_dim > GPU_OP_ATTENTION_MAX_HEAD_DIM || a->head_dim % 4 != 0
      || a->batch > 65535 || a->heads > 65535 || (a->causal && a->n_kv < a->n_q))
    {
      gpu_op_util_fail (recorder, op, "no keys, a head dimension that is not a multiple of 4 "
                                      "up to 64, or fewer keys than causal queries");
      return;
    }
  if (!gpu_op_util_check_loops (recorder, op, (guint64) a->n_kv * (1 + a->head_dim / 2) + a->head_dim))
    return;
  guint width = a->heads * a->head_dim;
  if (!check_rows (recorder, "q", &a->q, a->batch, a->n_q, width)
      || !check_rows (recorder, "k", &a->k, a->batch, a->n_kv, width)
      || !check_rows (recorder, "v", &a->v, a->batch, a->n_kv, width)
      || !check_rows (recorder, "out", &a->out, a->batch, a->n_q, width))
    return;
  struct
  {
    guint32 q_off, q_stride, q_bstride, k_off, k_stride, v_off, v_stride, k_bstride, v_bstride;
    guint32 o_off, o_stride, o_bstride, n_q, n_kv, hd, causal;
    float scale;
  } push = {
    (guint32) a->q.offset, a->q.row_stride, a->q.batch_stride,
    (guint32) a->k.offset, a->k.row_stride,
    (guint32) a->v.offset, a->v.row_stride, a->k.batch_stride, a->v.batch_stride,
    (guint32) a->out.offset, a->out.row_stride, a->out.batch_stride,
    a->n_q, a->n_kv, a->head_dim, a->causal ? 1 : 0, a->scale,
  };
  GpuBuffer *buffers[] = { a->q.buffer, a->k.buffer, a->v.buffer, a->out.buffer };
  gpu_op_util_dispatch (recorder, op, "rrrw", sizeof push, &push, (a->n_q + 63) / 64, a->heads,
                        a->batch, buffers);
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
      gpu_op_util_fail (recorder, op, "more than 16 beams, t beyond the capacity, or in place");
      return;
    }
  guint64 bytes = (guint64) beams * cap * d * 4;
  if (bytes / 4 > G_MAXUINT32 || !gpu_op_util_check_size (recorder, op, "src", src, bytes)
      || !gpu_op_util_check_size (recorder, op, "dst", dst, bytes))
    return;
  struct
  {
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
