/* gpu-util.h: small helpers for op wrappers (gpu-op-*.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

/* The pipeline for @shader, or NULL after handing the error to @recorder (so an op can
 * simply return). Same arguments as GpuPipelineDesc. */
GpuPipeline *gpu_util_pipeline (GpuRecorder *recorder, const char *shader, const char *bindings,
                                guint32 push_size, const guint32 *spec, guint n_spec);

/* A storage binding covering bytes [offset, offset + size) of @buffer. Bindings must start
 * at an aligned offset, so the binding starts at the aligned offset at or below @offset
 * and *shift gets the bytes between the two (pass shift / element size to the shader as an
 * element offset). */
void gpu_util_bind_storage (GpuDevice *device, GpuBuffer *buffer, guint64 offset, guint64 size,
                            GpuBinding *out, guint64 *shift);
/* The same for a uniform texel buffer view of @format (shift in bytes; a multiple of the
 * texel size when @offset is). */
void gpu_util_bind_texel (GpuDevice *device, GpuBuffer *buffer, GpuTexelFormat format,
                          guint64 offset, guint64 size, GpuBinding *out, guint64 *shift);

/* Bytes one binding may span: storage range, or texel elements × texel size. */
guint64 gpu_util_max_binding (GpuDevice *device, GpuTexelFormat format);

static inline guint32
gpu_util_div_up (guint64 a, guint64 b)
{
  return (guint32) ((a + b - 1) / b);
}

G_END_DECLS
