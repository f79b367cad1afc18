// gemm_texel.comp: GEMM for CPU Vulkan devices (lavapipe). Operands are read through
// uniform texel buffers (one vector load per texelFetch), one subgroup-sized workgroup, no
// shared memory. The workgroup owns MR rows; each lane owns NC columns (interleaved by the
// workgroup size) and keeps MR × NC accumulators; A values are the same for all lanes.
//
// SPDX-License-Identifier: GPL-3.0-or-later
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "gemm_common.glsl"

layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint MR = 16;  // rows per workgroup
layout (constant_id = 2) const uint NC = 1;   // columns per lane
layout (constant_id = 3) const uint VEC = 4;  // 4: RGBA views (K, strides, offsets % 4 == 0); 1: R views

layout (binding = 0) uniform samplerBuffer A; // fp32
layout (binding = 1) uniform samplerBuffer W; // fp32 or fp16 view, same code

void main ()
{
  const uint LOCAL = gl_WorkGroupSize.x;
  uint lane = gl_LocalInvocationID.x;
  uint b = gl_WorkGroupID.z;
  // x walks the row blocks, so consecutive workgroups reuse the same W rows from cache
  uint m0 = gl_WorkGroupID.x * MR;
  uint nbase = gl_WorkGroupID.y * LOCAL * NC + lane;

  uint kt = p.K / VEC;
  int a_row[MR];
  [[unroll]] for (uint i = 0; i < MR; i++)
    a_row[i] = int ((p.a_off + b * p.a_bs + min (m0 + i, p.M - 1u) * p.lda) / VEC);
  int w_row[NC];
  [[unroll]] for (uint j = 0; j < NC; j++)
    w_row[j] = int ((p.w_off + b * p.w_bs + min (nbase + j * LOCAL, p.N - 1u) * p.ldw) / VEC);

  float acc[MR * NC];
  [[unroll]] for (uint t = 0; t < MR * NC; t++)
    acc[t] = 0.0;

  if (VEC == 4u)
    {
      for (int k = 0; k < int (kt); k++)
        {
          vec4 wv[NC];
          [[unroll]] for (uint j = 0; j < NC; j++)
            wv[j] = texelFetch (W, w_row[j] + k);
          [[unroll]] for (uint i = 0; i < MR; i++)
            {
              vec4 av = texelFetch (A, a_row[i] + k);
              [[unroll]] for (uint j = 0; j < NC; j++)
                acc[i * NC + j] += dot (av, wv[j]);
            }
        }
    }
  else
    {
      for (int k = 0; k < int (kt); k++)
        {
          float wv[NC];
          [[unroll]] for (uint j = 0; j < NC; j++)
            wv[j] = texelFetch (W, w_row[j] + k).x;
          [[unroll]] for (uint i = 0; i < MR; i++)
            {
              float av = texelFetch (A, a_row[i] + k).x;
              [[unroll]] for (uint j = 0; j < NC; j++)
                acc[i * NC + j] = fma (av, wv[j], acc[i * NC + j]);
            }
        }
    }

  [[unroll]] for (uint j = 0; j < NC; j++)
    {
      uint n = nbase + j * LOCAL;
      if (n >= p.N)
        continue;
      [[unroll]] for (uint i = 0; i < MR; i++)
        {
          if (m0 + i >= p.M)
            break;
          gemm_store (b, m0 + i, n, acc[i * NC + j]);
        }
    }
}
