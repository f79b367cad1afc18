/* gpu-op-eltwise.h: elementwise ops and strided row copies (fp32)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conventions as in gpu-op-norm.h. Outputs may be one of the inputs.
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

/* y = x · ½ (1 + erf (x / √2)) (exact GELU) over @n values. */
void gpu_op_gelu (GpuRecorder *recorder, GpuBuffer *x, guint64 n, GpuBuffer *y);

/* y = a + b over @n values. */
void gpu_op_add (GpuRecorder *recorder, GpuBuffer *a, GpuBuffer *b, guint64 n, GpuBuffer *y);

/* y[r, j] = x[r, j] · scale + bias[j] on [rows, c]; @bias may be NULL. */
void gpu_op_scale_bias (GpuRecorder *recorder, GpuBuffer *x, guint rows, guint c, float scale,
                        GpuBuffer *bias, gboolean bias_f16, GpuBuffer *y);

/* dst[dst_offset + r·dst_stride + j] = src[src_offset + r·src_stride + j] for r < rows,
 * j < cols (elements). For KV-cache appends, column slices of fused projections and
 * concatenations. @dst must not overlap the rows read from @src. */
void gpu_op_copy_rows (GpuRecorder *recorder, GpuBuffer *src, guint64 src_offset, guint src_stride,
                       GpuBuffer *dst, guint64 dst_offset, guint dst_stride, guint rows,
                       guint cols);

G_END_DECLS
