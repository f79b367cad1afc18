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
  return gpu_device_get_limits (device)->is_cpu ? 64 : 256;
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
gpu_op_logits_topk (GpuRecorder *recorder, GpuBuffer *logits, guint64 offset, guint stride,
                    guint rows, guint n, const gint32 *forced, const gint32 *bans,
                    const guint *ban_counts, guint k, GpuBuffer *ctl, GpuBuffer *scratch,
                    GpuBuffer *out)
{
  const char *op = "logits_topk";
  GpuDevice *device;

  g_return_if_fail (recorder != NULL);
  if (rows == 0)
    return;
  if (k == 0 || k > GPU_OP_TOPK_MAX_K || n == 0 || n > G_MAXINT32 || stride < n)
    {
      gpu_op_util_fail (recorder, op, "k must be 1 to 16 and the row stride at least n");
      return;
    }
  guint64 end = offset + (guint64) (rows - 1) * stride + n;
  if (end > G_MAXUINT32)
    {
      gpu_op_util_fail (recorder, op, "more than 2³² elements");
      return;
    }
  device = gpu_recorder_get_device (recorder);
  guint chunks = topk_chunks (device);
  guint64 n_bans = 0;
  for (guint r = 0; ban_counts && r < rows; r++)
    n_bans += ban_counts[r];
  if (n_bans > G_MAXINT32 / 2)
    {
      gpu_op_util_fail (recorder, op, "too many banned ids");
      return;
    }
  if (!gpu_op_util_check_size (recorder, op, "logits", logits, end * 4) ||
      !gpu_op_util_check_size (recorder, op, "ctl", ctl,
                               gpu_op_logits_topk_ctl_size (rows, (guint) n_bans)) ||
      !gpu_op_util_check_size (recorder, op, "scratch", scratch,
                               gpu_op_logits_topk_scratch_size (device, rows, k)) ||
      !gpu_op_util_check_size (recorder, op, "out", out, gpu_op_logits_topk_out_size (rows, k)) ||
      !gpu_op_util_check_loops (recorder, op, 2 * (((guint64) n + chunks - 1) / chunks) + k * k))
    return;

  /* forced[rows], ban_off[rows + 1], ids */
  gsize words = 2 * (gsize) rows + 1 + n_bans;
  g_autofree gint32 *c = g_new0 (gint32, words);
  gint32 off = 0;
  for (guint r = 0; r < rows; r++)
    {
      c[r] = forced && forced[r] >= 0 && (guint) forced[r] < n ? forced[r] : -1;
      c[rows + r] = off;
      off += ban_counts ? (gint32) ban_counts[r] : 0;
    }
  c[2 * rows] = off;
  if (n_bans > 0)
    memcpy (c + 2 * rows + 1, bans, n_bans * sizeof (gint32));
  gpu_recorder_upload (recorder, ctl, 0, c, words * sizeof (gint32));

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
  gpu_op_util_dispatch (recorder, "logits_topk_merge", "rw", sizeof push2, &push2, (rows + 63) / 64,
                        1, 1, b2);
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
