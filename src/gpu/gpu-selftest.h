/* gpu-selftest.h: the smallest op (y = a·x + b·y + c), used by the runtime tests and the
 * copy benchmark, and a worked example of how an op wrapper looks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

/* Records y[y_offset + i] = a * x[x_offset + i] + b * y[y_offset + i] + c for i < n.
 * Offsets are in floats (any value); x and y may be the same buffer with disjoint ranges.
 * Errors are kept by the recorder. */
void gpu_selftest_axpy (GpuRecorder *recorder, GpuBuffer *x, guint64 x_offset, GpuBuffer *y,
                        guint64 y_offset, guint32 n, float a, float b, float c);

G_END_DECLS
