// scale_bias.comp: y[r, c] = x[r, c] · scale + bias[c] (bias optional, fp32 or fp16)
//
// SPDX-License-Identifier: GPL-3.0-or-later
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#include "ops-weights.glsl"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
OPS_WEIGHTS(1, bias)
layout(std430, set = 0, binding = 2) buffer Y { float y[]; };

layout(push_constant) uniform Push { GPU_PUSH_SCALE_BIAS } p;

void
main ()
{
  bool f16 = (p.flags & GPU_ABI_F16_0) != 0u;
  bool has_bias = (p.flags & GPU_ABI_HAS_0) != 0u;
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    y[i] = x[i] * p.scale + (has_bias ? OPS_LOAD (bias, f16, i % p.c) : 0.0);
}
