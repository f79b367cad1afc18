// attention.comp: batched multi-head attention (full, causal, cross), fp32
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// For batch b (a beam), query row i and head h:
//   out[b, i, h·hd..] = softmax_j ((q_i · scale) · k_j) v_j over keys j < n_kv,
// with causal: only j ≤ i + n_kv − n_q (the queries are the last n_q positions).
// Rows are addressed by element offsets and strides so that q, k and v can be column
// slices of fused projections, and a KV cache of cap rows per beam is addressed with
// k_bstride = v_bstride = cap · row width (0: keys shared by all beams, cross-attention).
// One invocation = one (query, head, batch); online softmax over the keys. The head
// dimension must be a multiple of 4.
#version 450

#define MAX_HD 64

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer Q { float qs[]; };
layout(std430, set = 0, binding = 1) readonly buffer K { float ks[]; };
layout(std430, set = 0, binding = 2) readonly buffer V { float vs[]; };
layout(std430, set = 0, binding = 3) writeonly buffer O { float os[]; };

layout(push_constant) uniform Push
{
  uint q_off;
  uint q_stride;
  uint q_bstride;
  uint k_off;
  uint k_stride;
  uint v_off;
  uint v_stride;
  uint k_bstride;
  uint v_bstride;
  uint o_off;
  uint o_stride;
  uint o_bstride;
  uint n_q;
  uint n_kv;
  uint hd;
  uint causal;
  float scale;
} p;

void
main ()
{
  uint i = gl_GlobalInvocationID.x;
  uint head = gl_WorkGroupID.y;
  uint b = gl_WorkGroupID.z;
  if (i >= p.n_q)
    return;
  // vec4 steps: lavapipe stops a shader after 65 535 loop iterations in total, so the
  // per-key work must be few iterations (1 + hd/2 per key here)
  uint hd4 = p.hd / 4u;
  uint hoff = head * p.hd;
  vec4 q[MAX_HD / 4];
  vec4 o[MAX_HD / 4];
  uint qbase = p.q_off + b * p.q_bstride + i * p.q_stride + hoff;
  for (uint e = 0u; e < hd4; e++)
    {
      uint a = qbase + 4u * e;
      q[e] = vec4 (qs[a], qs[a + 1u], qs[a + 2u], qs[a + 3u]) * p.scale;
      o[e] = vec4 (0.0);
    }
  uint n = p.causal != 0u ? min (p.n_kv, i + p.n_kv - p.n_q + 1u) : p.n_kv;
  uint kb = p.k_off + b * p.k_bstride + hoff;
  uint vb = p.v_off + b * p.v_bstride + hoff;
  float m = -1.0 / 0.0;
  float s = 0.0;
  for (uint j = 0u; j < n; j++)
    {
      uint ka = kb + j * p.k_stride;
      float d = 0.0;
      for (uint e = 0u; e < hd4; e++)
        {
          uint a = ka + 4u * e;
          d += dot (q[e], vec4 (ks[a], ks[a + 1u], ks[a + 2u], ks[a + 3u]));
        }
      float mn = max (m, d);
      float corr = exp (m - mn);
      float pj = exp (d - mn);
      s = s * corr + pj;
      m = mn;
      uint va = vb + j * p.v_stride;
      for (uint e = 0u; e < hd4; e++)
        {
          uint a = va + 4u * e;
          o[e] = o[e] * corr + pj * vec4 (vs[a], vs[a + 1u], vs[a + 2u], vs[a + 3u]);
        }
    }
  float inv = s > 0.0 ? 1.0 / s : 0.0;
  uint obase = p.o_off + b * p.o_bstride + i * p.o_stride + hoff;
  for (uint e = 0u; e < hd4; e++)
    {
      uint a = obase + 4u * e;
      vec4 r = o[e] * inv;
      os[a] = r.x;
      os[a + 1u] = r.y;
      os[a + 2u] = r.z;
      os[a + 3u] = r.w;
    }
}
