// gemm_common.glsl: push constants, output bindings and epilogue shared by the GEMM shaders
// C[b][m][n] = epilogue (alpha · Σ_k A[b][m][k] · W[b][n][k]), W in PyTorch Linear layout.
// Every GEMM shader binds A at 0, W at 1, then bias (2), residual (3) and C (4) as here.
//
// SPDX-License-Identifier: GPL-3.0-or-later

#ifndef DEPICT_GEMM_COMMON_GLSL
#define DEPICT_GEMM_COMMON_GLSL

#include "common.glsl"
#include "gpu-abi.h"

// Offsets, strides: elements, relative to the start of each binding (gpu-abi.h).
layout (push_constant) uniform GemmPush { GPU_PUSH_GEMM } p;

layout (std430, binding = 2) readonly buffer Bias { float bias[]; };
layout (std430, binding = 3) readonly buffer Res { float res[]; };
layout (std430, binding = 4) writeonly buffer C { float c[]; };

// Writes C[b][m][n] from its sum: alpha, then the epilogue that p.flags asks for (the same
// for every output: a uniform branch).
void gemm_store (uint b, uint m, uint n, float sum)
{
  float v = p.alpha * sum;
  if ((p.flags & GPU_ABI_GEMM_BIAS) != 0u)
    v += bias[p.bias_off + n];
  if ((p.flags & GPU_ABI_GEMM_GELU) != 0u)
    v = depict_gelu (v);
  if ((p.flags & GPU_ABI_GEMM_RESIDUAL) != 0u)
    v += res[p.r_off + b * p.r_bs + m * p.ldr + n];
  c[p.c_off + b * p.c_bs + m * p.ldc + n] = v;
}

#endif
