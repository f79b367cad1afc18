/* gpu-op-util.h: helpers shared by the op wrappers gpu-op-*.c and gpu-selftest.c
 * (not a public API)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

/* The pipeline for @shader, or NULL after handing the error to @recorder (so an op can
 * simply return). Same arguments as GpuPipelineDesc. */
GpuPipeline *gpu_op_util_pipeline (GpuRecorder *recorder, const char *shader, const char *bindings,
                                   guint32 push_size, const guint32 *spec, guint n_spec);

/* A storage binding covering bytes [offset, offset + size) of @buffer. Bindings must start
 * at an aligned offset, so the binding starts at the aligned offset at or below @offset
 * and *shift gets the bytes between the two (pass shift / element size to the shader as an
 * element offset). */
void gpu_op_util_bind_storage (GpuDevice *device, GpuBuffer *buffer, guint64 offset, guint64 size,
                               GpuBinding *out, guint64 *shift);
/* The same for a uniform texel buffer view of @format (shift in bytes; a multiple of the
 * texel size when @offset is). */
void gpu_op_util_bind_texel (GpuDevice *device, GpuBuffer *buffer, GpuTexelFormat format,
                             guint64 offset, guint64 size, GpuBinding *out, guint64 *shift);

/* Bytes one binding may span: storage range, or texel elements × texel size. */
guint64 gpu_op_util_max_binding (GpuDevice *device, GpuTexelFormat format);

/* How many rows of @row_bytes one binding of @format (GPU_TEXEL_NONE: storage) holds from
 * any offset (gpu_op_util_bind_storage() / _texel()): @n_rows when all fit, else fewer; 0
 * when not even one row fits. Ops whose tensors pass one binding's range (Florence-2-large's
 * stage 0 from 1472×1472 on lavapipe) run in pieces of rows. */
guint64 gpu_op_util_rows_per_binding (GpuDevice *device, GpuTexelFormat format, guint64 row_bytes,
                                      guint64 n_rows);

static inline guint32
gpu_op_util_div_up (guint64 a, guint64 b)
{
  return (guint32) ((a + b - 1) / b);
}

/* Workgroups of 64 invocations for @n items, at least 1 and at most the device's
 * maxComputeWorkGroupCount[0]; the shaders loop (grid stride) over what is left. */
guint32 gpu_op_util_groups (GpuRecorder *recorder, guint64 n);

/* Gets the pipeline of @shader (@bindings as in GpuPipelineDesc) and records a dispatch;
 * a pipeline error goes to the recorder. Bindings are whole buffers, in order; a NULL
 * buffer stands for "not used" and binds @bindings' first buffer instead. */
void gpu_op_util_dispatch (GpuRecorder *recorder, const char *shader, const char *bindings,
                           guint32 push_size, const void *push, guint32 gx, guint32 gy, guint32 gz,
                           GpuBuffer *const *buffers);

/* FALSE (and an error recorded) when @n elements do not fit the shaders' 32-bit indices. */
gboolean gpu_op_util_check_count (GpuRecorder *recorder, const char *op, guint64 n);

/* FALSE (and an error recorded) unless @buffer holds at least @bytes bytes. */
gboolean gpu_op_util_check_size (GpuRecorder *recorder, const char *op, const char *name,
                                 GpuBuffer *buffer, guint64 bytes);

/* Mesa's lavapipe (llvmpipe) ends a shader invocation after 65 535 loop iterations in total,
 * all loops together (LP_MAX_TGSI_LOOP_ITERATIONS), silently leaving wrong results. Ops
 * whose invocations loop over a size estimate their iteration count: on CPU devices above
 * GPU_OP_UTIL_MAX_LOOP this records GPU_ERROR_UNSUPPORTED and returns FALSE. */
#define GPU_OP_UTIL_MAX_LOOP 65000
gboolean gpu_op_util_check_loops (GpuRecorder *recorder, const char *op, guint64 iterations);

/* Records GPU_ERROR_INVALID_ARGUMENT with a message for @op and returns FALSE. */
gboolean gpu_op_util_fail (GpuRecorder *recorder, const char *op, const char *what);

G_END_DECLS
