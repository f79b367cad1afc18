// attention_decode.comp: attention.comp for one query row per (batch, head) — decoder steps
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// out[b, h·hd..] = softmax_j ((q · scale) · k_j) v_j over keys j < n_kv, fp32.
// attention.comp gives each invocation its own queries, so with a single query one lane of
// a workgroup works and the others idle. Here the lanes of one workgroup (one batch row, one
// head) split the keys instead: lane l walks keys l, l + LOCAL, … with an online softmax of
// its own, then the lanes merge their (max, sum, weighted values) through shared memory.
// Same bindings and push constants as attention.comp (n_q must be 1; causal changes
// nothing for the last query).
#version 450
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64;

const uint H4 = HD / 4u;
const uint MAX_LOCAL = 64u;

layout(set = 0, binding = 0) uniform samplerBuffer qs;
layout(set = 0, binding = 1) uniform samplerBuffer ks;
layout(set = 0, binding = 2) uniform samplerBuffer vs;
layout(std430, set = 0, binding = 3) writeonly buffer O { vec4 os[]; };

layout(push_constant) uniform Push
{
  uint q_off; // all in texels
  uint q_stride;
  uint q_bstride;
  uint k_off;
  uint k_stride;
  uint k_bstride;
  uint v_off;
  uint v_stride;
  uint v_bstride;
  uint o_off;
  uint o_stride;
  uint o_bstride;
  uint n_q;
  uint n_kv;
  uint causal;
  float scale;
} p;

shared float sh_m[MAX_LOCAL];
shared float sh_s[MAX_LOCAL];
shared vec4 sh_o[MAX_LOCAL * H4];

void
main ()
{
  const uint LOCAL = gl_WorkGroupSize.x;
  uint lane = gl_LocalInvocationID.x;
  uint h4 = gl_WorkGroupID.y * H4;
  uint b = gl_WorkGroupID.z;

  vec4 q[H4];
  vec4 o[H4];
  int qb = int (p.q_off + b * p.q_bstride + h4);
  [[unroll]] for (uint e = 0u; e < H4; e++)
    {
      q[e] = texelFetch (qs, qb + int (e)) * p.scale;
      o[e] = vec4 (0.0);
    }
  float m = -1.0 / 0.0;
  float s = 0.0;

  uint kb = p.k_off + b * p.k_bstride + h4;
  uint vb = p.v_off + b * p.v_bstride + h4;
  for (uint j = lane; j < p.n_kv; j += LOCAL)
    {
      int ka = int (kb + j * p.k_stride), va = int (vb + j * p.v_stride);
      float d = 0.0;
      [[unroll]] for (uint e = 0u; e < H4; e++)
        d += dot (q[e], texelFetch (ks, ka + int (e)));
      float mn = max (m, d);
      float corr = exp (m - mn);
      float pj = exp (d - mn);
      s = s * corr + pj;
      m = mn;
      [[unroll]] for (uint e = 0u; e < H4; e++)
        o[e] = o[e] * corr + pj * texelFetch (vs, va + int (e));
    }

  sh_m[lane] = m;
  sh_s[lane] = s;
  [[unroll]] for (uint e = 0u; e < H4; e++)
    sh_o[lane * H4 + e] = o[e];
  barrier ();

  // lane 0 has key 0 (n_kv >= 1), so the maximum is finite; lanes without keys weigh 0
  float mall = sh_m[0];
  for (uint l = 1u; l < LOCAL; l++)
    mall = max (mall, sh_m[l]);
  float sall = 0.0;
  for (uint l = 0u; l < LOCAL; l++)
    sall += sh_s[l] * exp (sh_m[l] - mall);
  float inv = sall > 0.0 ? 1.0 / sall : 0.0;
  uint ob = p.o_off + b * p.o_bstride + h4;
  for (uint e = lane; e < H4; e += LOCAL)
    {
      vec4 acc = vec4 (0.0);
      for (uint l = 0u; l < LOCAL; l++)
        acc += sh_o[l * H4 + e] * exp (sh_m[l] - mall);
      os[ob + e] = acc * inv;
    }
}
