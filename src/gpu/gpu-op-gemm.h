/* gpu-op-gemm.h: C = epilogue (alpha · A · Wᵀ): Linear layers, batched products
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

typedef enum {
  GPU_GEMM_WEIGHT_F32,
  GPU_GEMM_WEIGHT_F16, /* IEEE halves */
} GpuGemmWeightType;

typedef enum {
  GPU_GEMM_VARIANT_AUTO,  /* from the device's kernel set and properties, and the shape */
  GPU_GEMM_VARIANT_TEXEL, /* texel-buffer kernel (the CPU kernel set: lavapipe) */
  GPU_GEMM_VARIANT_TILED, /* shared-memory tiles (GPUs, many rows) */
  GPU_GEMM_VARIANT_GEMV,  /* matrix-vector: K split across lanes (GPUs, up to 8 rows) */
} GpuGemmVariant;

/* Rows up to which the GPU kernel set runs a product as matrix-vector (GPU_GEMM_VARIANT_GEMV). */
#define GPU_GEMM_GEMV_MAX_ROWS 8

/* "texel", "tiled", "gemv" (or "auto"). */
const char *gpu_gemm_variant_to_string (GpuGemmVariant variant);

/* C[b][m][n] = residual[b][m][n] + act (alpha · Σ_k A[b][m][k] · W[b][n][k] + bias[n])
 *
 * A is fp32 [M, K] (row stride lda), W is [N, K] (PyTorch Linear layout: one row per output
 * feature; row stride ldw), fp32 or fp16; accumulation is fp32. act is exact erf GELU when
 * @gelu is set, identity otherwise. bias and residual are optional (NULL). C may be the
 * residual buffer itself (in place: C += A·Wᵀ) but must not overlap A or W.
 * All offsets, strides and batch strides are in elements of the buffer's type; a stride of
 * 0 means packed (lda = ldw = K, ldc = ldr = N). @batch 0 or 1: one product; more: @batch
 * products, each offset by the batch strides (bias shared).
 * Tensors larger than the device's binding limit are split into several dispatches. */
typedef struct {
  guint32 m, n, k;
  guint32 batch;

  GpuBuffer *a;
  guint64 a_offset;
  guint32 lda;
  guint64 a_batch_stride;

  GpuBuffer *w;
  GpuGemmWeightType w_type;
  guint64 w_offset;
  guint32 ldw;
  guint64 w_batch_stride;

  GpuBuffer *bias; /* fp32 [N] or NULL */
  guint64 bias_offset;

  GpuBuffer *residual; /* fp32 or NULL */
  guint64 residual_offset;
  guint32 ldr;
  guint64 residual_batch_stride;

  GpuBuffer *c;
  guint64 c_offset;
  guint32 ldc;
  guint64 c_batch_stride;

  float alpha; /* 0 is taken as 1 */
  gboolean gelu;
  GpuGemmVariant variant;
  const char *label; /* for the timing table; NULL: "gemm" */
} GpuGemm;

/* Records the product; invalid arguments become the recorder's error. */
void gpu_op_gemm (GpuRecorder *recorder, const GpuGemm *gemm);

/* The common case, a Linear layer on packed tensors: y = act (x · Wᵀ + bias) (+ residual). */
void gpu_op_linear (GpuRecorder *recorder, GpuBuffer *x, GpuBuffer *w, GpuGemmWeightType w_type,
                    GpuBuffer *bias, GpuBuffer *residual, GpuBuffer *y, guint32 m, guint32 n,
                    guint32 k, gboolean gelu);

/* The variant AUTO resolves to on @device for a product of @m rows. */
GpuGemmVariant gpu_op_gemm_pick_variant (GpuDevice *device, guint32 m);

/* Whether the tiled kernel multiplies in fp16 on @device (gemm_tiled_f16): asked for with
 * DEPICT_GPU_F16_MATH=1, and the device has shaderFloat16. */
gboolean gpu_op_gemm_f16_math (GpuDevice *device);

G_END_DECLS
