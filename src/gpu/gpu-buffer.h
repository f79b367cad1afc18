/* gpu-buffer.h: device buffers (weights, activations), suballocated from large blocks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "gpu/gpu-device.h"
#include "gpu/gpu-half.h" /* fp16 weights are uploaded as halves */

G_BEGIN_DECLS

typedef struct _GpuBuffer GpuBuffer;

/* A device-local buffer of @size bytes (any size; beyond max_storage_buffer_range ops bind
 * it by range). Contents start undefined. Usable as storage buffer, uniform texel buffer
 * and transfer source/destination. Holds a reference on @device. */
GpuBuffer *gpu_buffer_new (GpuDevice *device, guint64 size, GError **error);
void gpu_buffer_free (GpuBuffer *buffer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GpuBuffer, gpu_buffer_free)

guint64 gpu_buffer_get_size (GpuBuffer *buffer);
GpuDevice *gpu_buffer_get_device (GpuBuffer *buffer);

/* Synchronous copies between host memory and the buffer (a direct memcpy on unified-memory
 * devices, a staging copy otherwise). Do not call while a submission that uses the buffer
 * runs on another thread. Inside a step, use gpu_recorder_upload/download instead. */
gboolean gpu_buffer_upload (GpuBuffer *buffer, guint64 offset, const void *data, guint64 size,
                            GError **error);
gboolean gpu_buffer_download (GpuBuffer *buffer, guint64 offset, void *data, guint64 size,
                              GError **error);

/* Convenience: a new buffer holding a copy of @data. */
GpuBuffer *gpu_buffer_new_from_data (GpuDevice *device, const void *data, guint64 size,
                                     GError **error);

G_END_DECLS
