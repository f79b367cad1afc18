/* gpu-op-util.c: helpers shared by the op wrappers gpu-op-*.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "gpu/gpu-op-util.h"

#define GPU_OP_UTIL_MAX_BINDINGS 8

GpuPipeline *
gpu_op_util_pipeline (GpuRecorder *rec, const char *shader, const char *bindings, guint32 push_size,
                      const guint32 *spec, guint n_spec)
{
  GpuPipelineDesc desc = { shader, bindings, push_size, spec, n_spec };
  GError *error = NULL;
  GpuPipeline *p = gpu_device_get_pipeline (gpu_recorder_get_device (rec), &desc, &error);
  if (p == NULL)
    gpu_recorder_take_error (rec, error);
  return p;
}

static void
bind_window (GpuBuffer *buffer, GpuTexelFormat format, guint64 align, guint64 offset, guint64 size,
             GpuBinding *out, guint64 *shift)
{
  guint64 base = offset / align * align;
  out->buffer = buffer;
  out->offset = base;
  out->size = size + (offset - base);
  out->format = format;
  if (shift != NULL)
    *shift = offset - base;
}

void
gpu_op_util_bind_storage (GpuDevice *device, GpuBuffer *buffer, guint64 offset, guint64 size,
                          GpuBinding *out, guint64 *shift)
{
  bind_window (buffer, GPU_TEXEL_NONE,
               gpu_device_get_limits (device)->min_storage_buffer_offset_alignment, offset, size,
               out, shift);
}

void
gpu_op_util_bind_texel (GpuDevice *device, GpuBuffer *buffer, GpuTexelFormat format, guint64 offset,
                        guint64 size, GpuBinding *out, guint64 *shift)
{
  guint64 align = gpu_device_get_limits (device)->min_texel_buffer_offset_alignment;
  guint ts = gpu_texel_format_size (format);
  /* keep the shift a whole number of texels */
  while (align % ts != 0)
    align *= 2;
  bind_window (buffer, format, align, offset, size, out, shift);
}

guint64
gpu_op_util_max_binding (GpuDevice *device, GpuTexelFormat format)
{
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  if (format == GPU_TEXEL_NONE)
    return lim->max_storage_buffer_range;
  return lim->max_texel_buffer_elements * gpu_texel_format_size (format);
}

guint64
gpu_op_util_rows_per_binding (GpuDevice *device, GpuTexelFormat format, guint64 row_bytes,
                              guint64 n_rows)
{
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  guint64 max = gpu_op_util_max_binding (device, format);
  if (row_bytes == 0 || row_bytes * n_rows <= max)
    return n_rows;
  /* a window starts at the aligned offset below the piece: leave room for the shift */
  guint64 align = lim->min_storage_buffer_offset_alignment;
  if (format != GPU_TEXEL_NONE)
    {
      guint ts = gpu_texel_format_size (format);
      align = lim->min_texel_buffer_offset_alignment;
      while (align % ts != 0)
        align *= 2;
    }
  return MIN ((max > align ? max - align : 0) / row_bytes, n_rows);
}

guint32
gpu_op_util_groups (GpuRecorder *recorder, guint64 n)
{
  const GpuDeviceLimits *limits = gpu_device_get_limits (gpu_recorder_get_device (recorder));
  guint64 groups = (n + 63) / 64;
  guint64 max = limits->max_workgroup_count[0] ? limits->max_workgroup_count[0] : 65535;
  return (guint32) CLAMP (groups, 1, max);
}

void
gpu_op_util_dispatch (GpuRecorder *recorder, const char *shader, const char *bindings,
                      guint32 push_size, const void *push, guint32 gx, guint32 gy, guint32 gz,
                      GpuBuffer *const *buffers)
{
  GpuBinding b[GPU_OP_UTIL_MAX_BINDINGS] = { 0 };
  guint n = (guint) strlen (bindings);

  g_assert (n <= GPU_OP_UTIL_MAX_BINDINGS);
  GpuPipeline *pipeline = gpu_op_util_pipeline (recorder, shader, bindings, push_size, NULL, 0);
  if (pipeline == NULL)
    return;
  for (guint i = 0; i < n; i++)
    b[i].buffer = buffers[i] ? buffers[i] : buffers[0];
  gpu_recorder_dispatch (recorder, pipeline, shader, gx, gy, gz, b, push);
}

gboolean
gpu_op_util_fail (GpuRecorder *recorder, const char *op, const char *what)
{
  gpu_recorder_take_error (recorder,
                           g_error_new (GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                                        /* Translators: %s are an op name and a description */
                                        _ ("The GPU operation “%s” got invalid arguments (%s). "
                                           "This is a bug in Depict; please report it."),
                                        op, what));
  return FALSE;
}

gboolean
gpu_op_util_check_count (GpuRecorder *recorder, const char *op, guint64 n)
{
  if (n <= G_MAXUINT32)
    return TRUE;
  return gpu_op_util_fail (recorder, op, "more than 2³² elements");
}

gboolean
gpu_op_util_check_size (GpuRecorder *recorder, const char *op, const char *name, GpuBuffer *buffer,
                        guint64 bytes)
{
  g_autofree char *what = NULL;

  if (buffer != NULL && gpu_buffer_get_size (buffer) >= bytes)
    return TRUE;
  what = g_strdup_printf ("buffer “%s” holds %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT
                          " are needed",
                          name, buffer ? gpu_buffer_get_size (buffer) : 0, bytes);
  return gpu_op_util_fail (recorder, op, what);
}

gboolean
gpu_op_util_check_loops (GpuRecorder *recorder, const char *op, guint64 iterations)
{
  const GpuDeviceLimits *limits = gpu_device_get_limits (gpu_recorder_get_device (recorder));

  if (!limits->is_cpu || iterations <= GPU_OP_UTIL_MAX_LOOP)
    return TRUE;
  gpu_recorder_take_error (recorder,
                           g_error_new (GPU_ERROR, GPU_ERROR_UNSUPPORTED,
                                        /* Translators: %s is an op name */
                                        _ ("The GPU operation “%s” is too large for a software "
                                           "Vulkan device, which stops long shader loops. Use a "
                                           "smaller input or a hardware GPU."),
                                        op));
  return FALSE;
}
