// gemm_common.glsl: push constants and epilogue shared by the GEMM shaders
// C[b][m][n] = epilogue (alpha · Σ_k A[b][m][k] · W[b][n][k]), W in PyTorch Linear layout.
//
// SPDX-License-Identifier: GPL-3.0-or-later

#ifndef DEPICT_GEMM_COMMON_GLSL
#define DEPICT_GEMM_COMMON_GLSL

// Mirrors GemmPush in src/gpu/gpu-op-gemm.c. Offsets, strides: elements, relative to the
// start of each binding.
layout (push_constant) uniform GemmPush
{
  uint M, N, K;
  uint lda, ldw, ldc, ldr;
  uint a_off, w_off, c_off, bias_off, r_off;
  uint a_bs, w_bs, c_bs, r_bs; // batch strides
  float alpha;
} p;

// FLAGS bits (specialization constant)
const uint GEMM_BIAS = 1u;
const uint GEMM_GELU = 2u;
const uint GEMM_RESIDUAL = 4u;
const uint GEMM_W16 = 8u; // tiled variant: W holds IEEE halves

#endif
