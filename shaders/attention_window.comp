// attention_window.comp: DaViT window multi-head self-attention, qkv in, tokens out
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// qkv is the [H·W, 3C] output of the qkv Linear (q | k | v; head h at channels h·hd..),
// read through an RGBA32F texel view (C and hd multiples of 4). The grid is cut into
// ws×ws windows; when H or W is not a multiple of ws it is padded right/bottom with zero
// tokens that are NOT masked (DaViT pads after the LayerNorm, before the Linear): their k
// and v are the Linear's bias, qkv_bias [3C]. Padded query rows are not computed.
//
// Workgroup = (queries of one window, head); each invocation owns QPL queries, so that
// every key and value row fetched serves QPL queries; all invocations walk the same keys.
// The softmax over the window's keys is computed online (running max and sum) in fp32; q
// is scaled by hd^-0.5 (push constant) before the products. The head dimension is a
// specialization constant, so the loops over it unroll (registers, not memory, and no
// iterations counted against lavapipe's 65 535 per invocation). Output: [H·W, C].
// A dispatch may cover a band of window rows only (gpu_op_attention_window cuts tensors
// beyond one binding into such bands): its windows start at win0, and the qkv view and the
// out window start at token tok0 (texel qkv_off, vec4 out_off).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#include "ops-weights.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 32; // head dimension, multiple of 4
layout(constant_id = 2) const uint QPL = 4; // queries per invocation

const uint H4 = HD / 4u;

layout(set = 0, binding = 0) uniform samplerBuffer qkv;
OPS_WEIGHTS(1, qb)
layout(std430, set = 0, binding = 2) writeonly buffer Out { vec4 dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_ATTENTION_WINDOW } p;

void
main ()
{
  bool f16 = (p.flags & GPU_ABI_F16_0) != 0u;
  uint wsq = p.ws * p.ws;
  uint q0 = gl_GlobalInvocationID.x * QPL; // first query (within the window) of this lane
  uint win = p.win0 + gl_WorkGroupID.y;
  uint head = gl_WorkGroupID.z;
  if (q0 >= wsq)
    return;
  uint wy = win / p.wins_x, wx = win % p.wins_x;
  uint c4 = p.c / 4u;
  uint hoff4 = head * H4;

  vec4 q[QPL][H4];
  vec4 o[QPL][H4];
  float m[QPL];
  float s[QPL];
  uint tok[QPL];
  bool live[QPL];
  for (uint i = 0u; i < QPL; i++)
    {
      uint qi = q0 + i;
      uint qy = wy * p.ws + qi / p.ws, qx = wx * p.ws + qi % p.ws;
      live[i] = qi < wsq && qy < p.h && qx < p.w;
      tok[i] = live[i] ? qy * p.w + qx : p.tok0;
      int base = int (p.qkv_off + (tok[i] - p.tok0) * 3u * c4 + hoff4);
      for (uint e = 0u; e < H4; e++)
        {
          q[i][e] = texelFetch (qkv, base + int (e)) * p.scale;
          o[i][e] = vec4 (0.0);
        }
      m[i] = -1.0 / 0.0;
      s[i] = 0.0;
    }

  // k and v of the padding tokens: the bias
  vec4 kpad[H4];
  vec4 vpad[H4];
  for (uint e = 0u; e < H4; e++)
    {
      uint kb = p.c + head * HD + 4u * e, vb = 2u * p.c + head * HD + 4u * e;
      kpad[e] = vec4 (OPS_LOAD (qb, f16, kb), OPS_LOAD (qb, f16, kb + 1u),
                      OPS_LOAD (qb, f16, kb + 2u), OPS_LOAD (qb, f16, kb + 3u));
      vpad[e] = vec4 (OPS_LOAD (qb, f16, vb), OPS_LOAD (qb, f16, vb + 1u),
                      OPS_LOAD (qb, f16, vb + 2u), OPS_LOAD (qb, f16, vb + 3u));
    }

  for (uint j = 0u; j < wsq; j++)
    {
      uint ky = wy * p.ws + j / p.ws, kx = wx * p.ws + j % p.ws;
      vec4 k[H4];
      vec4 v[H4];
      if (ky < p.h && kx < p.w)
        {
          int kb = int (p.qkv_off + (ky * p.w + kx - p.tok0) * 3u * c4 + c4 + hoff4);
          for (uint e = 0u; e < H4; e++)
            {
              k[e] = texelFetch (qkv, kb + int (e));
              v[e] = texelFetch (qkv, kb + int (c4 + e));
            }
        }
      else
        {
          for (uint e = 0u; e < H4; e++)
            {
              k[e] = kpad[e];
              v[e] = vpad[e];
            }
        }
      for (uint i = 0u; i < QPL; i++)
        {
          float d = 0.0;
          for (uint e = 0u; e < H4; e++)
            d += dot (q[i][e], k[e]);
          float mn = max (m[i], d);
          float corr = exp (m[i] - mn);
          float pj = exp (d - mn);
          s[i] = s[i] * corr + pj;
          m[i] = mn;
          for (uint e = 0u; e < H4; e++)
            o[i][e] = o[i][e] * corr + pj * v[e];
        }
    }

  for (uint i = 0u; i < QPL; i++)
    if (live[i])
      {
        float inv = 1.0 / s[i];
        uint ob = p.out_off + (tok[i] - p.tok0) * c4 + hoff4;
        for (uint e = 0u; e < H4; e++)
          dst[ob + e] = o[i][e] * inv;
      }
}
