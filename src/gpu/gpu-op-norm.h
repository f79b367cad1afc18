/* gpu-op-norm.h: LayerNorm and softmax over rows
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conventions of all gpu-op-* wrappers (except gemm): activations are fp32; weights are
 * fp32 or fp16 (the *_f16 flag; fp16 buffers hold little-endian halves, allocate an even
 * count); sizes and offsets are in elements; every op records into @recorder and reports
 * bad arguments (including buffers too small for the shapes) through the recorder, whose
 * gpu_recorder_submit() then fails. Statistics, softmax and reductions are fp32.
 * Ops whose channel count is a multiple of 4 use vec4 texel variants (4× fewer loads on
 * lavapipe). On CPU devices, sizes that would make one shader invocation loop more than
 * ~65 000 times are refused with GPU_ERROR_UNSUPPORTED: lavapipe silently stops such
 * invocations (e.g. softmax rows longer than ~21 000; use gpu-op-logits.h for the vocabulary).
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

/* y[r, :] = LayerNorm (x[r, :] + res[r, :]) · weight + bias over the last dimension of
 * [rows, c]; @res may be NULL (plain LayerNorm; with it, the post-LN "LN (h + sublayer)" of
 * BART). @y may be @x. eps is 1e-5 in Florence-2. */
void gpu_op_layernorm (GpuRecorder *recorder, GpuBuffer *x, GpuBuffer *res, GpuBuffer *weight,
                       GpuBuffer *bias, gboolean weights_f16, guint rows, guint c, float eps,
                       GpuBuffer *y);

/* y[r, :] = softmax (x[r, :]) over rows of [rows, n]; @y may be @x. */
void gpu_op_softmax (GpuRecorder *recorder, GpuBuffer *x, guint rows, guint n, GpuBuffer *y);

G_END_DECLS
