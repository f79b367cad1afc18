/* florence-engine-cpu.h: the CPU engine — Florence-2 on a tuned BLAS and vectorized kernels
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The engine for machines without a GPU (florence-device.h: what "auto" picks there, "cpu" by
 * name). The GEMMs of the vision tower, the encoder and the cross-attention keys/values run
 * on OpenBLAS; LayerNorm, the depthwise convolutions, every attention, GELU, the decoder's
 * matrix × few-vectors products and the candidate selection are our own vectorized kernels
 * (florence-cpu-kernels.h), fused where that saves passes over memory. One thread pool runs
 * all of it, the BLAS included (told to use one thread inside each of our tasks), so the
 * engine never has more busy threads than asked for. Weights are converted once at load; the
 * checkpoint's pages are released as they are converted. The results equal the reference's
 * (florence-reference.h) within the fixtures' tolerance, and the generated ids are identical.
 */
#pragma once

#include "florence/engine/florence-engine.h"

G_BEGIN_DECLS

/* @n_threads: 0 for florence_device_default_threads(). */
FlorenceEngine *florence_engine_cpu_new (const FlorenceConfig *config,
                                         FlorenceCheckpoint *checkpoint, int n_threads,
                                         GError **error);

/* The BLAS the CPU engine runs on, for people: "OpenBLAS 0.3.21, Haswell kernels"; NULL with
 * an error that says what to install when it cannot be loaded. */
char *florence_engine_cpu_describe_blas (GError **error);

G_END_DECLS
