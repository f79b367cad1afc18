// runtime_axpy.comp: y[i] = a * x[i] + b * y[i] + c over n floats (runtime self-tests, the
// copy benchmark, and the smallest example of an op).
//
// SPDX-License-Identifier: GPL-3.0-or-later
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
#include "gpu-abi.h"

layout (local_size_x_id = 0) in;

layout (std430, binding = 0) readonly buffer X { float x[]; };
layout (std430, binding = 1) buffer Y { float y[]; };

// n elements; x_off, y_off: element offsets (binding offsets must be aligned; these need not)
layout (push_constant) uniform Push { GPU_PUSH_AXPY } pc;

void main ()
{
  // grid-stride loop: CPU devices pay per workgroup, so the C side launches few of them
  uint stride = gl_NumWorkGroups.x * gl_WorkGroupSize.x;
  for (uint i = gl_GlobalInvocationID.x; i < pc.n; i += stride)
    y[pc.y_off + i] = pc.a * x[pc.x_off + i] + pc.b * y[pc.y_off + i] + pc.c;
}
