/* gpu-op-embed.c: embeddings (shaders/embedding.comp, pos2d.comp, mean_rows.comp)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gpu/gpu-op-embed.h"
#include "gpu/gpu-op-util.h"

#define F16_0 1u
#define F16_1 2u
#define HAS_0 8u
#define HAS_1 16u

void
gpu_op_embedding (GpuRecorder *recorder, GpuBuffer *table, gboolean table_f16, guint vocab, guint d,
                  GpuBuffer *ids, guint n, GpuBuffer *pos, gboolean pos_f16, guint pos_start,
                  guint pos_step, GpuBuffer *out, guint64 out_offset)
{
  const char *op = "embedding";
  guint64 total = (guint64) n * d;

  g_return_if_fail (recorder != NULL);
  if (total == 0)
    return;
  guint64 pos_rows = pos_start + (guint64) (n - 1) * pos_step + 1;
  if ((guint64) vocab * d > G_MAXUINT32 || out_offset + total > G_MAXUINT32 ||
      pos_rows * d > G_MAXUINT32)
    {
      gpu_op_util_fail (recorder, op, "more than 2³² elements");
      return;
    }
  if (!gpu_op_util_check_size (recorder, op, "table", table,
                               (guint64) vocab * d * (table_f16 ? 2 : 4)) ||
      !gpu_op_util_check_size (recorder, op, "ids", ids, (guint64) n * 4) ||
      (pos &&
       !gpu_op_util_check_size (recorder, op, "pos", pos, pos_rows * d * (pos_f16 ? 2 : 4))) ||
      !gpu_op_util_check_size (recorder, op, "out", out, (out_offset + total) * 4))
    return;
  struct {
    guint32 n, d, vocab, pos_start, pos_step, out_off, flags;
  } push = { n,
             d,
             vocab,
             pos_start,
             pos_step,
             (guint32) out_offset,
             (table_f16 ? F16_0 : 0) | (pos_f16 ? F16_1 : 0) | (pos ? HAS_0 : 0) };
  GpuBuffer *buffers[] = { table, ids, pos, out };
  gpu_op_util_dispatch (recorder, op, "rrrw", sizeof push, &push,
                        gpu_op_util_groups (recorder, total), 1, 1, buffers);
}

void
gpu_op_embedding_step (GpuRecorder *recorder, GpuBuffer *table, gboolean table_f16, guint vocab,
                       guint d, GpuBuffer *ids, guint n, GpuBuffer *pos, gboolean pos_f16,
                       guint pos_base, guint pos_rows, GpuBuffer *out)
{
  const char *op = "embedding";
  guint64 total = (guint64) n * d;

  g_return_if_fail (recorder != NULL);
  if (total == 0)
    return;
  if ((guint64) vocab * d > G_MAXUINT32 || (guint64) pos_rows * d > G_MAXUINT32 || pos == NULL ||
      pos_base >= pos_rows)
    {
      gpu_op_util_fail (recorder, op, "more than 2³² elements, or no position table");
      return;
    }
  if (!gpu_op_util_check_size (recorder, op, "table", table,
                               (guint64) vocab * d * (table_f16 ? 2 : 4)) ||
      !gpu_op_util_check_size (recorder, op, "ids", ids, (guint64) (n + 1) * 4) ||
      !gpu_op_util_check_size (recorder, op, "pos", pos,
                               (guint64) pos_rows * d * (pos_f16 ? 2 : 4)) ||
      !gpu_op_util_check_size (recorder, op, "out", out, total * 4))
    return;
  struct {
    guint32 n, d, vocab, pos_start, pos_step, out_off, flags;
  } push = {
    n, d, vocab, pos_base, 0, 0, (table_f16 ? F16_0 : 0) | (pos_f16 ? F16_1 : 0) | HAS_0 | HAS_1
  };
  GpuBuffer *buffers[] = { table, ids, pos, out };
  gpu_op_util_dispatch (recorder, op, "rrrw", sizeof push, &push,
                        gpu_op_util_groups (recorder, total), 1, 1, buffers);
}

void
gpu_op_pos2d (GpuRecorder *recorder, GpuBuffer *in, guint64 in_offset, guint h, guint w, guint d,
              GpuBuffer *col, GpuBuffer *row, gboolean tables_f16, GpuBuffer *temporal,
              gboolean temporal_f16, GpuBuffer *out, guint64 out_offset)
{
  const char *op = "pos2d";
  guint64 total = (guint64) h * w * d;
  guint64 es = tables_f16 ? 2 : 4;

  g_return_if_fail (recorder != NULL);
  if (total == 0)
    return;
  if (d % 2 != 0 || in_offset + total > G_MAXUINT32 || out_offset + total > G_MAXUINT32)
    {
      gpu_op_util_fail (recorder, op, "an odd width or more than 2³² elements");
      return;
    }
  if (!gpu_op_util_check_size (recorder, op, "in", in, (in_offset + total) * 4) ||
      !gpu_op_util_check_size (recorder, op, "col", col, (guint64) w * (d / 2) * es) ||
      !gpu_op_util_check_size (recorder, op, "row", row, (guint64) h * (d / 2) * es) ||
      (temporal && !gpu_op_util_check_size (recorder, op, "temporal", temporal,
                                            (guint64) d * (temporal_f16 ? 2 : 4))) ||
      !gpu_op_util_check_size (recorder, op, "out", out, (out_offset + total) * 4))
    return;
  struct {
    guint32 h, w, d, in_off, out_off, flags;
  } push = { h,
             w,
             d,
             (guint32) in_offset,
             (guint32) out_offset,
             (tables_f16 ? F16_0 : 0) | (temporal_f16 ? F16_1 : 0) | (temporal ? HAS_0 : 0) };
  GpuBuffer *buffers[] = { in, col, row, temporal, out };
  gpu_op_util_dispatch (recorder, op, "rrrrw", sizeof push, &push,
                        gpu_op_util_groups (recorder, total), 1, 1, buffers);
}

void
gpu_op_mean_rows (GpuRecorder *recorder, GpuBuffer *in, guint64 in_offset, guint n, guint d,
                  GpuBuffer *out, guint64 out_offset)
{
  const char *op = "mean_rows";
  guint64 end = in_offset + (guint64) n * d;

  g_return_if_fail (recorder != NULL);
  if (n == 0 || d == 0)
    return;
  if (end > G_MAXUINT32 || out_offset + d > G_MAXUINT32)
    {
      gpu_op_util_fail (recorder, op, "more than 2³² elements");
      return;
    }
  if (!gpu_op_util_check_size (recorder, op, "in", in, end * 4) ||
      !gpu_op_util_check_size (recorder, op, "out", out, (out_offset + d) * 4) ||
      !gpu_op_util_check_loops (recorder, op, n))
    return;
  struct {
    guint32 n, d, in_off, out_off;
  } push = { n, d, (guint32) in_offset, (guint32) out_offset };
  GpuBuffer *buffers[] = { in, out };
  gpu_op_util_dispatch (recorder, op, "rw", sizeof push, &push, (d + 63) / 64, 1, 1, buffers);
}
