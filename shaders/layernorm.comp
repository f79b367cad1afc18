// layernorm.comp: y[r, :] = LayerNorm (x[r, :] (+ res[r, :])) · w + b over the last dim
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// One invocation per row, two passes in fp32 (mean, then the centred variance), so that
// the statistics do not suffer from cancellation. y may be the same buffer as x.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#include "ops-weights.glsl"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer R { float res[]; };
OPS_WEIGHTS(2, w)
OPS_WEIGHTS(3, b)
layout(std430, set = 0, binding = 4) buffer Y { float y[]; };

layout(push_constant) uniform Push { GPU_PUSH_LAYERNORM } p;

float
load_in (uint i)
{
  return (p.flags & GPU_ABI_HAS_0) != 0u ? x[i] + res[i] : x[i];
}

void
main ()
{
  bool f16 = (p.flags & GPU_ABI_F16_0) != 0u;
  for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint base = r * p.c;
      float sum = 0.0;
      for (uint i = 0u; i < p.c; i++)
        sum += load_in (base + i);
      float mean = sum / float (p.c);
      float var = 0.0;
      for (uint i = 0u; i < p.c; i++)
        {
          float d = load_in (base + i) - mean;
          var += d * d;
        }
      float inv = inversesqrt (var / float (p.c) + p.eps);
      for (uint i = 0u; i < p.c; i++)
        y[base + i] = (load_in (base + i) - mean) * inv * OPS_LOAD (w, f16, i) + OPS_LOAD (b, f16, i);
    }
}
