// attention_window.comp: DaViT window multi-head self-attention, qkv in, tokens out
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// qkv is the [H·W, 3C] output of the qkv Linear (q | k | v; head h at channels h·hd..).
// The grid is cut into ws×ws windows; when H or W is not a multiple of ws it is padded
// right/bottom with zero tokens that are NOT masked (DaViT pads after the LayerNorm, before
// the Linear): their k and v are the Linear's bias, read from qkv_bias [3C]. Padded query
// rows are not computed. One invocation = one query token and one head; the softmax over
// the window's keys is computed online (running max and sum) in fp32; q is scaled by
// hd^-0.5 (push constant) before the products. Output: [H·W, C] in token order.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "ops-weights.glsl"

#define MAX_HD 64

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer Qkv { float qkv[]; };
OPS_WEIGHTS(1, qb)
layout(std430, set = 0, binding = 2) writeonly buffer Out { float dst[]; };

layout(push_constant) uniform Push
{
  uint h;
  uint w;
  uint c;
  uint hd;
  uint ws;
  uint wins_x; // windows per row of the padded grid
  uint flags;  // OPS_F16_0: qkv_bias is fp16
  float scale;
} p;

void
main ()
{
  bool f16 = (p.flags & OPS_F16_0) != 0u;
  uint wsq = p.ws * p.ws;
  uint qi = gl_GlobalInvocationID.x; // query within the window
  uint win = gl_WorkGroupID.y;
  uint head = gl_WorkGroupID.z;
  if (qi >= wsq)
    return;
  uint wy = win / p.wins_x, wx = win % p.wins_x;
  uint qy = wy * p.ws + qi / p.ws, qx = wx * p.ws + qi % p.ws;
  if (qy >= p.h || qx >= p.w)
    return; // padded query rows are discarded

  uint c3 = 3u * p.c;
  uint hoff = head * p.hd;
  float q[MAX_HD];
  float o[MAX_HD];
  uint qbase = (qy * p.w + qx) * c3 + hoff;
  for (uint e = 0u; e < p.hd; e++)
    {
      q[e] = qkv[qbase + e] * p.scale;
      o[e] = 0.0;
    }

  float m = -1.0 / 0.0;
  float s = 0.0;
  for (uint j = 0u; j < wsq; j++)
    {
      uint ky = wy * p.ws + j / p.ws, kx = wx * p.ws + j % p.ws;
      bool real = ky < p.h && kx < p.w;
      uint kbase = (ky * p.w + kx) * c3 + p.c + hoff;
      float d = 0.0;
      if (real)
        for (uint e = 0u; e < p.hd; e++)
          d += q[e] * qkv[kbase + e];
      else
        for (uint e = 0u; e < p.hd; e++)
          d += q[e] * OPS_LOAD (qb, f16, p.c + hoff + e);
      float mn = max (m, d);
      float corr = exp (m - mn);
      float pj = exp (d - mn);
      s = s * corr + pj;
      m = mn;
      if (real)
        for (uint e = 0u; e < p.hd; e++)
          o[e] = o[e] * corr + pj * qkv[kbase + p.c + e];
      else
        for (uint e = 0u; e < p.hd; e++)
          o[e] = o[e] * corr + pj * OPS_LOAD (qb, f16, 2u * p.c + hoff + e);
    }
  float inv = 1.0 / s;
  uint obase = (qy * p.w + qx) * p.c + hoff;
  for (uint e = 0u; e < p.hd; e++)
    dst[obase + e] = o[e] * inv;
}
