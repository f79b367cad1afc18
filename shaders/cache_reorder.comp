// cache_reorder.comp: dst[b, 0..t, :] = src[beam[b], 0..t, :] (beam search cache gather)
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// The cache holds, per beam, cap rows of width d (beam b starts at row b·cap). The chosen
// source beams come in the push constants (at most 16 beams). Out of place: src != dst.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer S { float src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer D { float dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_CACHE_REORDER } p;

void
main ()
{
  uint per_beam = p.t * p.d;
  uint n = p.beams * per_beam;
  for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint b = i / per_beam, e = i % per_beam;
      uint from = p.beam[b];
      dst[b * p.cap * p.d + e] = src[from * p.cap * p.d + e];
    }
}
