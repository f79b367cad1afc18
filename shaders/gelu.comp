// gelu.comp: y = x · ½ (1 + erf (x / √2)) (exact GELU), elementwise over n fp32 values
//
// SPDX-License-Identifier: GPL-3.0-or-later
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#include "common.glsl"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform Push { GPU_PUSH_N } p;

void
main ()
{
  for (uint i = gl_GlobalInvocationID.x; i < p.n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    y[i] = depict_gelu (x[i]);
}
