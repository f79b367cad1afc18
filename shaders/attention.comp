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
// One invocation = one (query, head, batch); online softmax over the keys.
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
  uint hoff = head * p.hd;
  float q[MAX_HD];
  float o[MAX_HD];
  uint qbase = p.q_off + b * p.q_bstride + i * p.q_stride + hoff;
  for (uint e = 0u; e < p.hd; e++)
    {
      q[e] = qs[qbase + e] * p.scale;
      o[e] = 0.0;
    }
  uint n = p.causal != 0u ? min (p.n_kv, i + p.n_kv - p.n_q + 1u) : p.n_kv;
  uint kb = p.k_off + b * p.k_bstride + hoff;
  uint vb = p.v_off + b * p.v_bstride + hoff;
  float m = -1.0 / 0.0;
  float s = 0.0;
  for (uint j = 0u; j < n; j++)
    {
      float d = 0.0;
      for (uint e = 0u; e < p.hd; e++)
        d += q[e] * ks[kb + j * p.k_stride + e];
      float mn = max (m, d);
      float corr = exp (m - mn);
      float pj = exp (d - mn);
      s = s * corr + pj;
      m = mn;
      for (uint e = 0u; e < p.hd; e++)
        o[e] = o[e] * corr + pj * vs[vb + j * p.v_stride + e];
    }
  float inv = s > 0.0 ? 1.0 / s : 0.0;
  uint obase = p.o_off + b * p.o_bstride + i * p.o_stride + hoff;
  for (uint e = 0u; e < p.hd; e++)
    os[obase + e] = o[e] * inv;
}
