// attention_channel_softmax.comp: DaViT channel attention, pass 2 of 3
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// a[g, i, :] = softmax_j (scale · Σ_s partial[s, g, i, j]) with scale = N^-0.5 (applied to q
// in the reference; the same up to rounding). One invocation per (group, row).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

#define MAX_GW 64

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer Part { float part[]; };
layout(std430, set = 0, binding = 1) writeonly buffer A { float a[]; };

layout(push_constant) uniform Push { GPU_PUSH_CHANNEL_SOFTMAX } p;

void
main ()
{
  uint rows = p.groups * p.gw;
  uint r = gl_GlobalInvocationID.x;
  if (r >= rows)
    return;
  float v[MAX_GW];
  float m = -1.0 / 0.0;
  for (uint j = 0u; j < p.gw; j++)
    {
      float acc = 0.0;
      for (uint s = 0u; s < p.splits; s++)
        acc += part[(s * rows + r) * p.gw + j];
      v[j] = acc * p.scale;
      m = max (m, v[j]);
    }
  float sum = 0.0;
  for (uint j = 0u; j < p.gw; j++)
    {
      v[j] = exp (v[j] - m);
      sum += v[j];
    }
  float inv = 1.0 / sum;
  for (uint j = 0u; j < p.gw; j++)
    a[r * p.gw + j] = v[j] * inv;
}
