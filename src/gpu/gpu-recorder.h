/* gpu-recorder.h: one command buffer of dispatches and copies, with automatic barriers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "gpu/gpu-buffer.h"
#include "gpu/gpu-device.h"

G_BEGIN_DECLS

typedef enum {
  GPU_TEXEL_NONE = 0, /* storage binding */
  GPU_TEXEL_R32F,
  GPU_TEXEL_RGBA32F,
  GPU_TEXEL_R16F,
  GPU_TEXEL_RGBA16F,
  GPU_TEXEL_R32UI,
  GPU_TEXEL_RGBA32UI,
} GpuTexelFormat;

/* Bytes per texel of @format (0 for GPU_TEXEL_NONE). */
guint gpu_texel_format_size (GpuTexelFormat format);

/* One descriptor of a dispatch: a range of a buffer. @offset must be a multiple of
 * min_storage_buffer_offset_alignment (storage) or min_texel_buffer_offset_alignment
 * (texel); @size 0 means "to the end of the buffer"; a range larger than the device's
 * binding limit is an error (split the work, see gpu-op-gemm.c). @format is required for
 * 't' bindings (the view's texel format) and ignored for storage bindings. */
typedef struct {
  GpuBuffer *buffer;
  guint64 offset;
  guint64 size;
  GpuTexelFormat format;
} GpuBinding;

typedef struct _GpuRecorder GpuRecorder;

GpuRecorder *gpu_recorder_new (GpuDevice *device, GError **error);
void gpu_recorder_free (GpuRecorder *recorder);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GpuRecorder, gpu_recorder_free)

GpuDevice *gpu_recorder_get_device (GpuRecorder *recorder);

/* Records a dispatch of @pipeline over groups_x × groups_y × groups_z workgroups.
 * @bindings: one per character of the pipeline's binding string; @push: push_size bytes
 * (may be NULL when push_size is 0). @label names the op in the timing table.
 * Barriers against earlier commands of this recorder that touch overlapping ranges are
 * inserted automatically. Record calls never fail directly: the first error is kept and
 * returned by gpu_recorder_submit(). */
void gpu_recorder_dispatch (GpuRecorder *recorder, GpuPipeline *pipeline, const char *label,
                            guint32 groups_x, guint32 groups_y, guint32 groups_z,
                            const GpuBinding *bindings, const void *push);

/* Copies @size bytes from @data into @dst at record time (through a staging buffer; the
 * copy into @dst executes in order with the other commands). */
void gpu_recorder_upload (GpuRecorder *recorder, GpuBuffer *dst, guint64 offset, const void *data,
                          guint64 size);
/* Reads @size bytes of @src into @dst when the submission completes; @dst must stay valid
 * until gpu_recorder_submit() returns. */
void gpu_recorder_download (GpuRecorder *recorder, GpuBuffer *src, guint64 offset, void *dst,
                            guint64 size);
/* Buffer to buffer copy (offsets and size multiples of 4). */
void gpu_recorder_copy (GpuRecorder *recorder, GpuBuffer *src, guint64 src_offset, GpuBuffer *dst,
                        guint64 dst_offset, guint64 size);
/* Fills @size bytes (multiple of 4) with the 32-bit pattern @value. */
void gpu_recorder_fill (GpuRecorder *recorder, GpuBuffer *dst, guint64 offset, guint64 size,
                        guint32 value);

/* Makes every later command wait for every earlier one (rarely needed: barriers are
 * automatic). */
void gpu_recorder_barrier (GpuRecorder *recorder);

/* Lets an op report invalid arguments: the first error wins, gpu_recorder_submit() returns
 * it. Takes ownership of @error. */
void gpu_recorder_take_error (GpuRecorder *recorder, GError *error);
gboolean gpu_recorder_has_error (GpuRecorder *recorder);

/* Number of commands recorded since the last submit. */
guint gpu_recorder_get_n_commands (GpuRecorder *recorder);

/* Submits everything recorded as one submission, waits for it, completes the downloads and
 * makes the recorder ready for the next step. With nothing recorded it returns TRUE at
 * once. On error nothing of the pending work is kept. @cancellable is checked before
 * submitting. */
gboolean gpu_recorder_submit (GpuRecorder *recorder, GCancellable *cancellable, GError **error);

/* Recordings that run many times (a decoder step): after gpu_recorder_keep(), the next
 * gpu_recorder_submit() keeps its command buffer, staging and downloads, and
 * gpu_recorder_replay() submits it again, as recorded, with the data the host wrote into the
 * upload slots meanwhile; gpu_recorder_discard() forgets it (recording starts anew). Values
 * that change between replays (a step's position, its token ids) must therefore live in
 * buffers that the kernels read, written through slots. */
void gpu_recorder_keep (GpuRecorder *recorder);
/* Like gpu_recorder_upload(), but the host writes the @size bytes at the returned address
 * (valid while the recording is kept) before each submit or replay. NULL after an error. */
void *gpu_recorder_upload_slot (GpuRecorder *recorder, GpuBuffer *dst, guint64 offset,
                                guint64 size);
/* TRUE when a kept recording is there to replay. */
gboolean gpu_recorder_has_kept (GpuRecorder *recorder);
gboolean gpu_recorder_replay (GpuRecorder *recorder, GCancellable *cancellable, GError **error);
void gpu_recorder_discard (GpuRecorder *recorder);

G_END_DECLS
