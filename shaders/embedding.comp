// embedding.comp: out[out_off + i·d + e] = table[ids[i], e] + pos[pos_start + i·pos_step, e]
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Token embedding gather with the learned position added (BART: the caller passes the
// offset 2 in pos_start; pos_step 0 gives every row the same position, as beams have).
// Tables are fp32 or fp16. An id outside [0, vocab) gives a zero embedding. With GPU_ABI_HAS_1 the
// word after the ids, ids[n], is added to pos_start (a decoder step's position, so that its
// recording can be replayed).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#include "ops-weights.glsl"

layout(local_size_x = 64) in;

OPS_WEIGHTS(0, table)
layout(std430, set = 0, binding = 1) readonly buffer Ids { int ids[]; };
OPS_WEIGHTS(2, pos)
layout(std430, set = 0, binding = 3) writeonly buffer Out { float dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_EMBEDDING } p;

void
main ()
{
  bool t16 = (p.flags & GPU_ABI_F16_0) != 0u;
  bool p16 = (p.flags & GPU_ABI_F16_1) != 0u;
  bool has_pos = (p.flags & GPU_ABI_HAS_0) != 0u;
  uint total = p.n * p.d;
  uint pos_start = p.pos_start + ((p.flags & GPU_ABI_HAS_1) != 0u ? uint (ids[p.n]) : 0u);
  for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint i = idx / p.d, e = idx % p.d;
      int id = ids[i];
      float v = 0.0;
      if (id >= 0 && uint (id) < p.vocab)
        v = OPS_LOAD (table, t16, uint (id) * p.d + e);
      if (has_pos)
        v += OPS_LOAD (pos, p16, (pos_start + i * p.pos_step) * p.d + e);
      dst[p.out_off + idx] = v;
    }
}
