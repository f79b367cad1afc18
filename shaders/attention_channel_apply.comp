// attention_channel_apply.comp: DaViT channel attention, pass 3 of 3
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// out[n, g·gw + i] = Σ_j a[g, i, j] · v[n, g·gw + j], v from qkv [N, 3C]; out [N, C].
#version 450

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer Qkv { float qkv[]; };
layout(std430, set = 0, binding = 1) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Out { float dst[]; };

layout(push_constant) uniform Push
{
  uint n;
  uint c;
  uint gw;
} p;

void
main ()
{
  uint total = p.n * p.c;
  for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint t = idx / p.c, ch = idx % p.c;
      uint g0 = ch - ch % p.gw;
      uint vb = t * 3u * p.c + 2u * p.c + g0;
      uint ab = ch * p.gw; // rows of a are numbered g·gw + i = ch
      float acc = 0.0;
      for (uint j = 0u; j < p.gw; j++)
        acc += a[ab + j] * qkv[vb + j];
      dst[idx] = acc;
    }
}
