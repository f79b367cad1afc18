// softmax.comp: y[r, :] = softmax (x[r, :]), fp32, one invocation per row
//
// SPDX-License-Identifier: GPL-3.0-or-later
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform Push { GPU_PUSH_SOFTMAX } p;

void
main ()
{
  for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint base = r * p.n;
      float m = -1.0 / 0.0;
      for (uint i = 0u; i < p.n; i++)
        m = max (m, x[base + i]);
      float s = 0.0;
      for (uint i = 0u; i < p.n; i++)
        s += exp (x[base + i] - m);
      float inv = 1.0 / s;
      for (uint i = 0u; i < p.n; i++)
        y[base + i] = exp (x[base + i] - m) * inv;
    }
}
