// gemm_tiled.comp: GEMM for GPUs: BM × BN output tiles per workgroup of 256 invocations
// (16 × 16, each computing (BM/16) × (BN/16) outputs in registers), K in steps of BK staged
// through shared memory. W may be fp32 or IEEE halves (read as packed pairs, no 16-bit
// storage feature needed).
//
// SPDX-License-Identifier: GPL-3.0-or-later
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"
#include "gemm_common.glsl"

layout (local_size_x_id = 0) in; // must be 256
layout (constant_id = 1) const uint BM = 64;
layout (constant_id = 2) const uint BN = 64;
layout (constant_id = 3) const uint BK = 16;
layout (constant_id = 4) const uint FLAGS = 0;

const uint TM = BM / 16u;
const uint TN = BN / 16u;

layout (std430, binding = 0) readonly buffer A { float a[]; };
layout (std430, binding = 1) readonly buffer W { uint w[]; };
layout (std430, binding = 2) readonly buffer Bias { float bias[]; };
layout (std430, binding = 3) readonly buffer Res { float res[]; };
layout (std430, binding = 4) writeonly buffer C { float c[]; };

shared float As[BK * (BM + 1u)];
shared float Ws[BK * (BN + 1u)];

float load_w (uint idx)
{
  if ((FLAGS & GEMM_W16) != 0u)
    return depict_half_at (w[idx >> 1], idx & 1u);
  return uintBitsToFloat (w[idx]);
}

void main ()
{
  uint lid = gl_LocalInvocationID.x;
  uint tx = lid % 16u;
  uint ty = lid / 16u;
  uint b = gl_WorkGroupID.z;
  uint m0 = gl_WorkGroupID.y * BM;
  uint n0 = gl_WorkGroupID.x * BN;
  uint a_base = p.a_off + b * p.a_bs;
  uint w_base = p.w_off + b * p.w_bs;

  float acc[TM * TN];
  [[unroll]] for (uint t = 0; t < TM * TN; t++)
    acc[t] = 0.0;

  for (uint k0 = 0; k0 < p.K; k0 += BK)
    {
      for (uint e = lid; e < BM * BK; e += 256u)
        {
          uint r = e / BK, kk = e % BK;
          uint m = m0 + r, k = k0 + kk;
          As[kk * (BM + 1u) + r] = (m < p.M && k < p.K) ? a[a_base + m * p.lda + k] : 0.0;
        }
      for (uint e = lid; e < BN * BK; e += 256u)
        {
          uint r = e / BK, kk = e % BK;
          uint n = n0 + r, k = k0 + kk;
          Ws[kk * (BN + 1u) + r] = (n < p.N && k < p.K) ? load_w (w_base + n * p.ldw + k) : 0.0;
        }
      barrier ();
      [[unroll]] for (uint kk = 0; kk < BK; kk++)
        {
          float ar[TM], wr[TN];
          [[unroll]] for (uint i = 0; i < TM; i++)
            ar[i] = As[kk * (BM + 1u) + ty + i * 16u];
          [[unroll]] for (uint j = 0; j < TN; j++)
            wr[j] = Ws[kk * (BN + 1u) + tx + j * 16u];
          [[unroll]] for (uint i = 0; i < TM; i++)
            [[unroll]] for (uint j = 0; j < TN; j++)
              acc[i * TN + j] = fma (ar[i], wr[j], acc[i * TN + j]);
        }
      barrier ();
    }

  [[unroll]] for (uint i = 0; i < TM; i++)
    {
      uint m = m0 + ty + i * 16u;
      if (m >= p.M)
        break;
      [[unroll]] for (uint j = 0; j < TN; j++)
        {
          uint n = n0 + tx + j * 16u;
          if (n >= p.N)
            break;
          float v = p.alpha * acc[i * TN + j];
          if ((FLAGS & GEMM_BIAS) != 0u)
            v += bias[p.bias_off + n];
          if ((FLAGS & GEMM_GELU) != 0u)
            v = depict_gelu (v);
          if ((FLAGS & GEMM_RESIDUAL) != 0u)
            v += res[p.r_off + b * p.r_bs + m * p.ldr + n];
          c[p.c_off + b * p.c_bs + m * p.ldc + n] = v;
        }
    }
}
