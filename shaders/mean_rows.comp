// mean_rows.comp: out[out_off + e] = mean over i < n of in[in_off + i·d + e], fp32
//
// SPDX-License-Identifier: GPL-3.0-or-later
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer In { float src[]; };
layout(std430, set = 0, binding = 1) buffer Out { float dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_MEAN_ROWS } p;

void
main ()
{
  uint e = gl_GlobalInvocationID.x;
  if (e >= p.d)
    return;
  float acc = 0.0;
  for (uint i = 0u; i < p.n; i++)
    acc += src[p.in_off + i * p.d + e];
  dst[p.out_off + e] = acc / float (p.n);
}
