// attention_channel_gram.comp: DaViT channel attention, pass 1 of 3 (split-K Gram)
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// partial[s, g, i, j] = Σ_{n in chunk s} q[n, g·gw + i] · k[n, g·gw + j], fp32, from qkv
// [N, 3C] (q | k | v) read through an RGBA32F texel view. One invocation = one (split,
// group, 4 rows i..i+3) and keeps its 4 × gw sums in registers (the group width gw is a
// specialization constant, a multiple of 4, so the loops over it unroll); the splits are
// summed by attention_channel_softmax.comp. A dispatch covers splits s0 .. s_end − 1 (all
// of them unless qkv passes one binding's range); the qkv view starts at token s0·chunk,
// texel qkv_off.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint GW = 32;

const uint G4 = GW / 4u;

layout(set = 0, binding = 0) uniform samplerBuffer qkv;
layout(std430, set = 0, binding = 1) writeonly buffer Part { vec4 part[]; };

layout(push_constant) uniform Push { GPU_PUSH_CHANNEL_GRAM } p;

void
main ()
{
  uint idx = gl_GlobalInvocationID.x;
  if (idx >= (p.s_end - p.s0) * p.groups * G4)
    return;
  uint i4 = idx % G4;
  uint g = (idx / G4) % p.groups;
  uint s = p.s0 + idx / (G4 * p.groups);
  uint tb = p.s0 * p.chunk;
  vec4 acc[4][G4];
  for (uint r = 0u; r < 4u; r++)
    for (uint j = 0u; j < G4; j++)
      acc[r][j] = vec4 (0.0);
  uint t0 = s * p.chunk;
  uint t1 = min (p.n, t0 + p.chunk);
  uint c34 = 3u * p.c / 4u;
  uint qcol = g * G4 + i4;
  uint kcol = p.c / 4u + g * G4;
  for (uint t = t0; t < t1; t++)
    {
      vec4 qv = texelFetch (qkv, int (p.qkv_off + (t - tb) * c34 + qcol));
      for (uint j = 0u; j < G4; j++)
        {
          vec4 kv = texelFetch (qkv, int (p.qkv_off + (t - tb) * c34 + kcol + j));
          acc[0][j] += qv.x * kv;
          acc[1][j] += qv.y * kv;
          acc[2][j] += qv.z * kv;
          acc[3][j] += qv.w * kv;
        }
    }
  // rows g·gw + 4·i4 + r of split s, gw values each
  uint ob = ((s * p.groups + g) * GW + 4u * i4) * G4;
  for (uint r = 0u; r < 4u; r++)
    for (uint j = 0u; j < G4; j++)
      part[ob + r * G4 + j] = acc[r][j];
}
