/* gpu-op-eltwise.c: elementwise ops (shaders/gelu.comp, add.comp, scale_bias.comp,
 * copy_rows.comp)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gpu/gpu-op-eltwise.h"
#include "gpu/gpu-op-util.h"

#define F16_0 1u
#define HAS_0 8u

void
gpu_op_gelu (GpuRecorder *recorder, GpuBuffer *x, guint64 n, GpuBuffer *y)
{
  g_return_if_fail (recorder != NULL);
  if (n == 0 || !gpu_op_util_check_count (recorder, "gelu", n) ||
      !gpu_op_util_check_size (recorder, "gelu", "x", x, n * 4) ||
      !gpu_op_util_check_size (recorder, "gelu", "y", y, n * 4))
    return;
  guint32 push = (guint32) n;
  GpuBuffer *buffers[] = { x, y };
  gpu_op_util_dispatch (recorder, "gelu", "rw", sizeof push, &push,
                        gpu_op_util_groups (recorder, n), 1, 1, buffers);
}

void
gpu_op_add (GpuRecorder *recorder, GpuBuffer *a, GpuBuffer *b, guint64 n, GpuBuffer *y)
{
  g_return_if_fail (recorder != NULL);
  if (n == 0 || !gpu_op_util_check_count (recorder, "add", n) ||
      !gpu_op_util_check_size (recorder, "add", "a", a, n * 4) ||
      !gpu_op_util_check_size (recorder, "add", "b", b, n * 4) ||
      !gpu_op_util_check_size (recorder, "add", "y", y, n * 4))
    return;
  guint32 push = (guint32) n;
  GpuBuffer *buffers[] = { a, b, y };
  gpu_op_util_dispatch (recorder, "add", "rrw", sizeof push, &push,
                        gpu_op_util_groups (recorder, n), 1, 1, buffers);
}

void
gpu_op_scale_bias (GpuRecorder *recorder, GpuBuffer *x, guint rows, guint c, float scale,
                   GpuBuffer *bias, gboolean bias_f16, GpuBuffer *y)
{
  const char *op = "scale_bias";
  guint64 n = (guint64) rows * c;

  g_return_if_fail (recorder != NULL);
  if (n == 0 || !gpu_op_util_check_count (recorder, op, n) ||
      !gpu_op_util_check_size (recorder, op, "x", x, n * 4) ||
      (bias &&
       !gpu_op_util_check_size (recorder, op, "bias", bias, (guint64) c * (bias_f16 ? 2 : 4))) ||
      !gpu_op_util_check_size (recorder, op, "y", y, n * 4))
    return;
  struct {
    guint32 n, c, flags;
    float scale;
  } push = { (guint32) n, c, (bias_f16 ? F16_0 : 0) | (bias ? HAS_0 : 0), scale };
  GpuBuffer *buffers[] = { x, bias, y };
  gpu_op_util_dispatch (recorder, op, "rrw", sizeof push, &push, gpu_op_util_groups (recorder, n),
                        1, 1, buffers);
}

void
gpu_op_copy_rows (GpuRecorder *recorder, GpuBuffer *src, guint64 src_offset, guint src_stride,
                  GpuBuffer *dst, guint64 dst_offset, guint dst_stride, guint rows, guint cols)
{
  const char *op = "copy_rows";
  guint64 n = (guint64) rows * cols;

  g_return_if_fail (recorder != NULL);
  if (n == 0)
    return;
  guint64 src_end = src_offset + (guint64) (rows - 1) * src_stride + cols;
  guint64 dst_end = dst_offset + (guint64) (rows - 1) * dst_stride + cols;
  if (!gpu_op_util_check_count (recorder, op, MAX (n, MAX (src_end, dst_end))) ||
      !gpu_op_util_check_size (recorder, op, "src", src, src_end * 4) ||
      !gpu_op_util_check_size (recorder, op, "dst", dst, dst_end * 4))
    return;
  struct {
    guint32 rows, cols, src_off, src_stride, dst_off, dst_stride;
  } push = { rows, cols, (guint32) src_offset, src_stride, (guint32) dst_offset, dst_stride };
  GpuBuffer *buffers[] = { src, dst };
  gpu_op_util_dispatch (recorder, op, "rw", sizeof push, &push, gpu_op_util_groups (recorder, n), 1,
                        1, buffers);
}
