// attention_channel_gram.comp: DaViT channel attention, pass 1 of 3 (split-K Gram)
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// partial[s, g, i, j] = Σ_{n in chunk s} q[n, g·gw + i] · k[n, g·gw + j], fp32, from qkv
// [N, 3C] (q | k | v). One invocation = one (split, group, row i) and keeps the gw sums of
// its row in registers; the chunks of tokens are summed by attention_channel_softmax.comp.
#version 450

#define MAX_GW 64

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer Qkv { float qkv[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Part { float part[]; };

layout(push_constant) uniform Push
{
  uint n;
  uint c;
  uint groups;
  uint gw;
  uint chunk;  // tokens per split
  uint splits;
} p;

void
main ()
{
  uint total = p.splits * p.groups * p.gw;
  for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint i = idx % p.gw;
      uint g = (idx / p.gw) % p.groups;
      uint s = idx / (p.gw * p.groups);
      float acc[MAX_GW];
      for (uint j = 0u; j < p.gw; j++)
        acc[j] = 0.0;
      uint t0 = s * p.chunk;
      uint t1 = min (p.n, t0 + p.chunk);
      uint c3 = 3u * p.c;
      uint qcol = g * p.gw + i;
      uint kcol = p.c + g * p.gw;
      for (uint t = t0; t < t1; t++)
        {
          float qv = qkv[t * c3 + qcol];
          uint kb = t * c3 + kcol;
          for (uint j = 0u; j < p.gw; j++)
            acc[j] += qv * qkv[kb + j];
        }
      uint ob = idx * p.gw;
      for (uint j = 0u; j < p.gw; j++)
        part[ob + j] = acc[j];
    }
}
