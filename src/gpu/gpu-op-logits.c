/* gpu-op-logits.c: log-softmax + bans + top-k (shaders/logits_topk_partial.comp,
 * logits_topk_merge.comp)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "gpu/gpu-op-logits.h"
#include "gpu/gpu-op-util.h"

/* Chunks per row: each invocation of the partial pass scans n / chunks logits. */
static guint
topk_chunks (GpuDevice *device)
{
  return gpu_device_get_limits (device)->kernels == GPU_KERNELS_CPU ? 64 : 256;
}

guint64
gpu_op_logits_topk_scratch_size (GpuDevice *device, guint rows, guint k)
{
  g_return_val_if_fail (device != NULL, 0);
  return (guint64) rows * topk_chunks (device) * (2 + 2 * (guint64) k) * 4;
}

guint64
gpu_op_logits_topk_ctl_size (guint rows, guint n_bans)
{
  return (2 * (guint64) rows + 1 + n_bans) * 4;
}

guint64
gpu_op_logits_topk_out_size (guint rows, guint k)
{
  return (guint64) rows * (2 + 2 * (guint64) k) * 4;
}

void
gpu_op_logits_topk_fill_ctl (void *ctl, guint rows, guint n, const gint32 *forced,
                             const gint32 *bans, const guint *ban_counts)
{
  gint32 *c = ctl;
  gint32 off = 0;
  for (guint r = 0; r < rows; r++)
    {
      c[r] = forced && forced[r] >= 0 && (guint) forced[r] < n ? forced[r] : -1;
      c[rows + r] = off;
      off += ban_counts ? (gint32) ban_counts[r] : 0;
    }
  c[2 * rows] = off;
  if (off > 0)
    memcpy (c + 2 * rows + 1, bans, (gsize) off * sizeof (gint32));
}

static gboolean
topk_check (GpuRecorder *recorder, GpuBuffer *logits, guint64 offset, guint stride, guint rows,
            guint n, guint64 n_bans, guint k, GpuBuffer *ctl, GpuBuffer *scratch, GpuBuffer *out)
{
  const char *op = "logits_topk";
  if (k == 0 || k > GPU_OP_TOPK_MAX_K || n == 0 || n > G_MAXINT32 || stride < n)
    return gpu_op_util_fail (recorder, op, "k must be 1 to 16 and the row stride at least n");
  guint64 end = offset + (guint64) (rows - 1) * stride + n;
  if (end > G_MAXUINT32)
    return gpu_op_util_fail (recorder, op, "more than 2³² elements");
  if (n_bans > G_MAXINT32 / 2)
    return gpu_op_util_fail (recorder, op, "too many banned ids");
  GpuDevice *device = gpu_recorder_get_device (recorder);
  guint chunks = topk_chunks (device);
  return gpu_op_util_check_size (recorder, op, "logits", logits, end * 4) &&
         gpu_op_util_check_size (recorder, op, "ctl", ctl,
                                 gpu_op_logits_topk_ctl_size (rows, (guint) n_bans)) &&
         gpu_op_util_check_size (recorder, op, "scratch", scratch,
                                 gpu_op_logits_topk_scratch_size (device, rows, k)) &&
         gpu_op_util_check_size (recorder, op, "out", out, gpu_op_logits_topk_out_size (rows, k)) &&
         gpu_op_util_check_loops (recorder, op, 2 * (((guint64) n + chunks - 1) / chunks) + k * k);
}

static void
topk_dispatch (GpuRecorder *recorder, GpuBuffer *logits, guint64 offset, guint stride, guint rows,
               guint n, guint k, GpuBuffer *ctl, GpuBuffer *scratch, GpuBuffer *out)
{
  GpuDevice *device = gpu_recorder_get_device (recorder);
  guint chunks = topk_chunks (device);
  struct {
    guint32 rows, n, in_off, stride, chunks, k;
  } push1 = { rows, n, (guint32) offset, stride, chunks, k };
  GpuBuffer *b1[] = { logits, ctl, scratch };
  gpu_op_util_dispatch (recorder, "logits_topk_partial", "rrw", sizeof push1, &push1,
                        (rows * chunks + 63) / 64, 1, 1, b1);

  struct {
    guint32 rows, chunks, k;
  } push2 = { rows, chunks, k };
  GpuBuffer *b2[] = { scratch, out };
  if (gpu_device_get_limits (device)->kernels == GPU_KERNELS_GPU)
    {
      /* one workgroup per row merges the chunks in a tree: a subgroup's worth of lanes */
      const GpuDeviceLimits *lim = gpu_device_get_limits (device);
      guint32 spec = 1;
      while (spec < MIN (lim->subgroup_size, 64))
        spec *= 2;
      GpuPipeline *pipeline =
        gpu_op_util_pipeline (recorder, "logits_topk_merge_wg", "rw", sizeof push2, &spec, 1);
      if (pipeline == NULL)
        return;
      GpuBinding b[] = { { scratch, 0, 0, GPU_TEXEL_NONE }, { out, 0, 0, GPU_TEXEL_NONE } };
      gpu_recorder_dispatch (recorder, pipeline, "logits_topk_merge", MIN (rows, 65535), 1, 1, b,
                             &push2);
      return;
    }
  gpu_op_util_dispatch (recorder, "logits_topk_merge", "rw", sizeof push2, &push2, (rows + 63) / 64,
                        1, 1, b2);
}

void
gpu_op_logits_topk (GpuRecorder *recorder, GpuBuffer *logits, guint64 offset, guint stride,
                    guint rows, guint n, const gint32 *forced, const gint32 *bans,
                    const guint *ban_counts, guint k, GpuBuffer *ctl, GpuBuffer *scratch,
                    GpuBuffer *out)
{
  g_return_if_fail (recorder != NULL);
  if (rows == 0)
    return;
  guint64 n_bans = 0;
  for (guint r = 0; ban_counts && r < rows; r++)
    n_bans += ban_counts[r];
  if (!topk_check (recorder, logits, offset, stride, rows, n, n_bans, k, ctl, scratch, out))
    return;
  /* forced[rows], ban_off[rows + 1], ids */
  gsize words = 2 * (gsize) rows + 1 + n_bans;
  g_autofree gint32 *c = g_new0 (gint32, words);
  gpu_op_logits_topk_fill_ctl (c, rows, n, forced, bans, ban_counts);
  gpu_recorder_upload (recorder, ctl, 0, c, words * sizeof (gint32));
  topk_dispatch (recorder, logits, offset, stride, rows, n, k, ctl, scratch, out);
}

void
gpu_op_logits_topk_ctl_given (GpuRecorder *recorder, GpuBuffer *logits, guint64 offset,
                              guint stride, guint rows, guint n, guint max_bans, guint k,
                              GpuBuffer *ctl, GpuBuffer *scratch, GpuBuffer *out)
{
  g_return_if_fail (recorder != NULL);
  if (rows == 0)
    return;
  if (!topk_check (recorder, logits, offset, stride, rows, n, max_bans, k, ctl, scratch, out))
    return;
  topk_dispatch (recorder, logits, offset, stride, rows, n, k, ctl, scratch, out);
}

void
gpu_op_logits_topk_parse (const void *out, guint row, guint k, GpuTopkCandidate *cand, float *max,
                          float *lse)
{
  const guint8 *base = (const guint8 *) out + (gsize) row * (2 + 2 * k) * 4;

  g_return_if_fail (out != NULL);
  for (guint j = 0; j < k && cand; j++)
    {
      memcpy (&cand[j].id, base + j * 4, 4);
      memcpy (&cand[j].value, base + (k + j) * 4, 4);
    }
  if (max)
    memcpy (max, base + 2 * k * 4, 4);
  if (lse)
    memcpy (lse, base + (2 * k + 1) * 4, 4);
}
