// copy_rows.comp: dst[dst_off + r·dst_stride + j] = src[src_off + r·src_stride + j], fp32
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// A strided 2-D copy: writing new key/value rows into a cache, slicing columns of a fused
// projection, concatenating sequences.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer S { float src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer D { float dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_COPY_ROWS } p;

void
main ()
{
  uint n = p.rows * p.cols;
  for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint r = i / p.cols, j = i % p.cols;
      dst[p.dst_off + r * p.dst_stride + j] = src[p.src_off + r * p.src_stride + j];
    }
}
