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
//
// Built with -DSELF_CACHE (attention_decode_self): the decoder's self-attention over its cache,
// for a step whose recording is replayed. q, the new key and the new value are columns of one
// [beams, 3d] q|k|v row; the step position t is read from the ctl buffer; keys j < t come from
// the cache, where beam b's position j is the row written by beam table[b, j] (beams that
// continue another beam's history read it there, so the cache is never copied when beams
// reorder), and key t is the new one, which this workgroup also writes into the cache at
// (b, t) for its head.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64;

const uint H4 = HD / 4u;
const uint MAX_LOCAL = 64u;

layout(set = 0, binding = 0) uniform samplerBuffer qs;
layout(set = 0, binding = 1) uniform samplerBuffer ks;
layout(set = 0, binding = 2) uniform samplerBuffer vs;
layout(std430, set = 0, binding = 3) writeonly buffer O { vec4 os[]; };

#ifdef SELF_CACHE
layout(std430, set = 0, binding = 4) readonly buffer Table { int table[]; };
layout(std430, set = 0, binding = 5) readonly buffer Ctl { uint ctl[]; };
layout(std430, set = 0, binding = 6) writeonly buffer KC { vec4 kc[]; };
layout(std430, set = 0, binding = 7) writeonly buffer VC { vec4 vc[]; };

layout(push_constant) uniform Push { GPU_PUSH_ATTENTION_STEP } p;
#else
layout(push_constant) uniform Push { GPU_PUSH_ATTENTION } p;
#endif

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

#ifdef SELF_CACHE
  uint t = ctl[p.pos_word];
  uint n_kv = t + 1u;
#else
  uint n_kv = p.n_kv;
  uint kb = p.k_off + b * p.k_bstride + h4;
  uint vb = p.v_off + b * p.v_bstride + h4;
#endif
  for (uint j = lane; j < n_kv; j += LOCAL)
    {
      vec4 kj[H4];
      vec4 vj[H4];
#ifdef SELF_CACHE
      if (j == t)
        {
          // the new key and value: from the q|k|v row, and into the cache at (b, t)
          uint cb = (b * p.cap + t) * p.c_stride + h4;
          [[unroll]] for (uint e = 0u; e < H4; e++)
            {
              kj[e] = texelFetch (qs, qb + int (p.knew_off + e));
              vj[e] = texelFetch (qs, qb + int (2u * p.knew_off + e));
              kc[cb + e] = kj[e];
              vc[cb + e] = vj[e];
            }
        }
      else
        {
          uint src = uint (table[b * p.cap + j]);
          int ca = int ((src * p.cap + j) * p.c_stride + h4);
          [[unroll]] for (uint e = 0u; e < H4; e++)
            {
              kj[e] = texelFetch (ks, ca + int (e));
              vj[e] = texelFetch (vs, ca + int (e));
            }
        }
#else
      int ka = int (kb + j * p.k_stride), va = int (vb + j * p.v_stride);
      [[unroll]] for (uint e = 0u; e < H4; e++)
        {
          kj[e] = texelFetch (ks, ka + int (e));
          vj[e] = texelFetch (vs, va + int (e));
        }
#endif
      float d = 0.0;
      [[unroll]] for (uint e = 0u; e < H4; e++)
        d += dot (q[e], kj[e]);
      float mn = max (m, d);
      float corr = exp (m - mn);
      float pj = exp (d - mn);
      s = s * corr + pj;
      m = mn;
      [[unroll]] for (uint e = 0u; e < H4; e++)
        o[e] = o[e] * corr + pj * vj[e];
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
