// attention_channel_apply.comp: DaViT channel attention, pass 3 of 3
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// out[n, g·gw + i] = Σ_j a[g, i, j] · v[n, g·gw + j], v from qkv [N, 3C] and a [G, gw, gw]
// both through RGBA32F texel views; out [N, C]. One invocation = TPL tokens of one group:
// each row of a it fetches serves TPL tokens. gw is a specialization constant. A dispatch
// covers tokens t_base .. n − 1 (all of them unless a tensor passes one binding's range);
// the qkv view and the out window start at token t_base (texel qkv_off, vec4 out_off).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint GW = 32;
layout(constant_id = 2) const uint TPL = 4;

const uint G4 = GW / 4u;

layout(set = 0, binding = 0) uniform samplerBuffer qkv;
layout(set = 0, binding = 1) uniform samplerBuffer a;
layout(std430, set = 0, binding = 2) writeonly buffer Out { vec4 dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_CHANNEL_APPLY } p;

void
main ()
{
  uint idx = gl_GlobalInvocationID.x;
  uint blocks = (p.n - p.t_base + TPL - 1u) / TPL;
  if (idx >= blocks * p.groups)
    return;
  uint g = idx % p.groups;
  uint t0 = p.t_base + (idx / p.groups) * TPL;
  uint c4 = p.c / 4u;
  vec4 v[TPL][G4];
  for (uint t = 0u; t < TPL; t++)
    {
      uint tok = min (t0 + t, p.n - 1u);
      int vb = int (p.qkv_off + (tok - p.t_base) * 3u * c4 + 2u * c4 + g * G4);
      for (uint j = 0u; j < G4; j++)
        v[t][j] = texelFetch (qkv, vb + int (j));
    }
  for (uint i4 = 0u; i4 < G4; i4++)
    {
      vec4 outv[TPL];
      for (uint t = 0u; t < TPL; t++)
        outv[t] = vec4 (0.0);
      for (uint r = 0u; r < 4u; r++)
        {
          int ab = int ((g * GW + 4u * i4 + r) * G4);
          vec4 row[G4];
          for (uint j = 0u; j < G4; j++)
            row[j] = texelFetch (a, ab + int (j));
          for (uint t = 0u; t < TPL; t++)
            {
              float acc = 0.0;
              for (uint j = 0u; j < G4; j++)
                acc += dot (row[j], v[t][j]);
              outv[t][r] = acc;
            }
        }
      for (uint t = 0u; t < TPL; t++)
        if (t0 + t < p.n)
          dst[p.out_off + (t0 + t - p.t_base) * c4 + g * G4 + i4] = outv[t];
    }
}
