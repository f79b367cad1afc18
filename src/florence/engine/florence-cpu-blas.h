/* florence-cpu-blas.h: the BLAS of the CPU engine, loaded when the engine first needs it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpenBLAS (libopenblas.so.0) is opened at run time, not linked: its library constructor
 * starts a thread per processor and gives each a 128 MB buffer, which every depict-cli command
 * and the app would pay for whether or not they use the CPU engine (and which, under a tight
 * address-space limit, keeps the process from exiting). From the start of any program that
 * links the CPU engine, the environment says OPENBLAS_NUM_THREADS=1 (set by a constructor,
 * before any thread exists): the engine calls it single-threaded from its own pool
 * (florence-cpu-pool.h), so OpenBLAS starts no thread of its own. The build requires OpenBLAS
 * (meson finds it, the Flatpak builds it), so a missing library is an installation problem,
 * which florence_cpu_blas_get() says in a sentence.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLORENCE_CPU_BLAS_ERROR (florence_cpu_blas_error_quark ())

typedef enum {
  FLORENCE_CPU_BLAS_ERROR_MISSING, /* the library or one of its functions is not there */
} FlorenceCpuBlasError;

GQuark florence_cpu_blas_error_quark (void);

typedef struct _FlorenceCpuBlas FlorenceCpuBlas;

/* Loads the BLAS once (thread-safe); NULL and an error when it cannot be loaded. */
const FlorenceCpuBlas *florence_cpu_blas_get (GError **error);

/* "OpenBLAS 0.3.21, Haswell kernels" */
const char *florence_cpu_blas_get_description (const FlorenceCpuBlas *blas);

/* C[M, N] = alpha · op(A) · op(B) + beta · C, row-major (cblas_sgemm), op = transposed when
 * asked; A is [M, K] (or [K, M] transposed), B [K, N] (or [N, K] transposed). */
void florence_cpu_blas_sgemm (const FlorenceCpuBlas *blas, gboolean trans_a, gboolean trans_b,
                              gsize M, gsize N, gsize K, float alpha, const float *A, gsize lda,
                              const float *B, gsize ldb, float beta, float *C, gsize ldc);

G_END_DECLS
