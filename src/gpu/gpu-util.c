/* gpu-util.c: small helpers for op wrappers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gpu/gpu-util.h"

GpuPipeline *
gpu_util_pipeline (GpuRecorder *rec, const char *shader, const char *bindings,
                   guint32 push_size, const guint32 *spec, guint n_spec)
{
  GpuPipelineDesc desc = { shader, bindings, push_size, spec, n_spec };
  GError *error = NULL;
  GpuPipeline *p = gpu_device_get_pipeline (gpu_recorder_get_device (rec), &desc, &error);
  if (p == NULL)
    gpu_recorder_take_error (rec, error);
  return p;
}

static void
bind (GpuBuffer *buffer, GpuTexelFormat format, guint64 align, guint64 offset, guint64 size,
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
gpu_util_bind_storage (GpuDevice *device, GpuBuffer *buffer, guint64 offset, guint64 size,
                       GpuBinding *out, guint64 *shift)
{
  bind (buffer, GPU_TEXEL_NONE, gpu_device_get_limits (device)->min_storage_buffer_offset_alignment,
        offset, size, out, shift);
}

void
gpu_util_bind_texel (GpuDevice *device, GpuBuffer *buffer, GpuTexelFormat format,
                     guint64 offset, guint64 size, GpuBinding *out, guint64 *shift)
{
  guint64 align = gpu_device_get_limits (device)->min_texel_buffer_offset_alignment;
  guint ts = gpu_texel_format_size (format);
  /* keep the shift a whole number of texels */
  while (align % ts != 0)
    align *= 2;
  bind (buffer, format, align, offset, size, out, shift);
}

guint64
gpu_util_max_binding (GpuDevice *device, GpuTexelFormat format)
{
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  if (format == GPU_TEXEL_NONE)
    return lim->max_storage_buffer_range;
  return lim->max_texel_buffer_elements * gpu_texel_format_size (format);
}
