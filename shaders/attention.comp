// attention.comp: batched multi-head attention (full, causal, cross), fp32
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// For batch b (a beam), query row i and head h:
//   out[b, i, h·hd..] = softmax_j ((q_i · scale) · k_j) v_j over keys j < n_kv,
// with causal: only j ≤ i + n_kv − n_q (the queries are the last n_q positions).
// q, k and v are read through RGBA32F texel views; their rows are addressed by offsets and
// strides in texels (elements / 4), so that they can be column slices of fused projections,
// and a KV cache of cap rows per beam is addressed with a batch stride of cap · row width
// (0: keys shared by all beams, cross-attention).
// Each invocation owns QPL consecutive queries of one (head, batch) and walks the keys once
// for all of them (online softmax, fp32). The head dimension is a specialization constant
// (multiple of 4) so the loops over it unroll.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64;
layout(constant_id = 2) const uint QPL = 4;

const uint H4 = HD / 4u;

layout(set = 0, binding = 0) uniform samplerBuffer qs;
layout(set = 0, binding = 1) uniform samplerBuffer ks;
layout(set = 0, binding = 2) uniform samplerBuffer vs;
layout(std430, set = 0, binding = 3) writeonly buffer O { vec4 os[]; };

layout(push_constant) uniform Push { GPU_PUSH_ATTENTION } p;

void
main ()
{
  uint i0 = gl_GlobalInvocationID.x * QPL;
  uint h4 = gl_WorkGroupID.y * H4;
  uint b = gl_WorkGroupID.z;
  if (i0 >= p.n_q)
    return;

  vec4 q[QPL][H4];
  vec4 o[QPL][H4];
  float m[QPL];
  float s[QPL];
  uint last[QPL]; // keys j < last[i] are visible to query i
  uint n = 0u;
  for (uint i = 0u; i < QPL; i++)
    {
      uint qi = min (i0 + i, p.n_q - 1u);
      int qb = int (p.q_off + b * p.q_bstride + qi * p.q_stride + h4);
      for (uint e = 0u; e < H4; e++)
        {
          q[i][e] = texelFetch (qs, qb + int (e)) * p.scale;
          o[i][e] = vec4 (0.0);
        }
      m[i] = -1.0 / 0.0;
      s[i] = 0.0;
      last[i] = p.causal != 0u ? min (p.n_kv, qi + p.n_kv - p.n_q + 1u) : p.n_kv;
      n = max (n, last[i]);
    }

  uint kb = p.k_off + b * p.k_bstride + h4;
  uint vb = p.v_off + b * p.v_bstride + h4;
  for (uint j = 0u; j < n; j++)
    {
      vec4 k[H4];
      vec4 v[H4];
      int ka = int (kb + j * p.k_stride), va = int (vb + j * p.v_stride);
      for (uint e = 0u; e < H4; e++)
        {
          k[e] = texelFetch (ks, ka + int (e));
          v[e] = texelFetch (vs, va + int (e));
        }
      for (uint i = 0u; i < QPL; i++)
        {
          if (j >= last[i])
            continue;
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
    if (i0 + i < p.n_q)
      {
        float inv = s[i] > 0.0 ? 1.0 / s[i] : 0.0;
        uint ob = p.o_off + b * p.o_bstride + (i0 + i) * p.o_stride + h4;
        for (uint e = 0u; e < H4; e++)
          os[ob + e] = o[i][e] * inv;
      }
}
