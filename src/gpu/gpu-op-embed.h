/* gpu-op-embed.h: token embeddings, image position embeddings, mean over tokens
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conventions as in gpu-op-norm.h (sizes and offsets in elements).
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

/* out[out_offset + i·d + e] = table[ids[i], e] + pos[pos_start + i·pos_step, e] for i < n.
 * @table: [vocab, d]; @ids: n int32 (an id outside [0, vocab) gives zeros); @pos: a position
 * table [rows, d] or NULL. BART passes pos_start = first position + 2; decoder beams share
 * one position (pos_step 0). The table is bound whole: an fp32 [51 289, 768] table (157 MB)
 * exceeds lavapipe's 128 MiB binding limit, the checkpoint's fp16 table does not. */
void gpu_op_embedding (GpuRecorder *recorder, GpuBuffer *table, gboolean table_f16, guint vocab,
                       guint d, GpuBuffer *ids, guint n, GpuBuffer *pos, gboolean pos_f16,
                       guint pos_start, guint pos_step, GpuBuffer *out, guint64 out_offset);

/* A decoder step of @n beams: as gpu_op_embedding() with pos_step 0, but the position is
 * @pos_base + ids[n] (the int32 after the ids, written by the host before each replay of the
 * step's recording, which keeps it below @pos_rows − @pos_base); @pos_rows: rows of @pos. */
void gpu_op_embedding_step (GpuRecorder *recorder, GpuBuffer *table, gboolean table_f16,
                            guint vocab, guint d, GpuBuffer *ids, guint n, GpuBuffer *pos,
                            gboolean pos_f16, guint pos_base, guint pos_rows, GpuBuffer *out);

/* Florence-2 image position embedding on tokens [h·w, d] (d even):
 *   out[y·w + x, e] = in[y·w + x, e] + (e < d/2 ? col[x, e] : row[y, e − d/2]) + temporal[e]
 * @col, @row: [≥ w or h, d/2] tables; @temporal: d values (its first row is used, so the
 * whole [100, d] temporal table can be passed for T = 1) or NULL. In place is allowed
 * (same buffer and offset). */
void gpu_op_pos2d (GpuRecorder *recorder, GpuBuffer *in, guint64 in_offset, guint h, guint w,
                   guint d, GpuBuffer *col, GpuBuffer *row, gboolean tables_f16,
                   GpuBuffer *temporal, gboolean temporal_f16, GpuBuffer *out, guint64 out_offset);

/* out[out_offset + e] = mean over i < n of in[in_offset + i·d + e] (the pooled token). The
 * output row may sit in the same buffer, outside the rows read. */
void gpu_op_mean_rows (GpuRecorder *recorder, GpuBuffer *in, guint64 in_offset, guint n, guint d,
                       GpuBuffer *out, guint64 out_offset);

G_END_DECLS
