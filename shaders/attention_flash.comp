// attention_flash.comp: attention for GPUs, key/value blocks in shared memory, blocked softmax
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Same op, bindings and push constants as attention.comp (full, causal and cross attention;
// q, k, v as column slices of fused projections, KV caches of cap rows per beam, batch stride 0
// for keys shared by all beams): for batch b, query i and head h,
//   out[b, i, h·hd..] = softmax_j ((q_i · scale) · k_j) v_j over keys j < n_kv,
// with causal: only j ≤ i + n_kv − n_q.
// A workgroup owns LOCAL consecutive queries of one (head, batch), one per invocation. The
// keys and values of the workgroup's queries are walked in blocks of BK rows: the invocations
// load a block together into shared memory (one barrier before, one after); then each
// invocation scores its query against the block's keys it may see (the scores go to its own
// column of a shared array: no registers indexed at run time, no bank conflicts), takes the
// block's maximum, rescales its running sum and output by exp(m_old − m_new) once, and adds
// the block's weighted values. Statistics and accumulators are fp32. Keys beyond n_kv or past
// a query's causal limit are skipped (the first block always holds a visible key, key 0). The
// loops over the head dimension unroll (a specialization constant); per invocation lavapipe
// counts two loop iterations per key and BK · hd / (4 · LOCAL) + 1 per block against its limit
// of 65 535.
//
// Built with -DWINDOW (attention_window_flash): attention_window.comp's op (DaViT windows; same
// bindings and push constants, bands of window rows included). A workgroup owns LOCAL queries
// of one (window, head) (a 12 × 12 window takes several workgroups, each loading its keys);
// the keys are the window's ws² tokens, where tokens of the padding (beyond the grid,
// right/bottom) are NOT masked: their k and v are the qkv Linear's bias.
// Padding queries are not written.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "gpu-abi.h"
#ifdef WINDOW
#include "ops-weights.glsl"
#endif

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint HD = 64; // head dimension, a multiple of 4
layout(constant_id = 2) const uint BK = 32; // keys per block

const uint H4 = HD / 4u;
const uint LOCAL = gl_WorkGroupSize.x;

#ifdef WINDOW
layout(set = 0, binding = 0) uniform samplerBuffer qkv;
OPS_WEIGHTS(1, qb)
layout(std430, set = 0, binding = 2) writeonly buffer Out { vec4 dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_ATTENTION_WINDOW } p;
#else
layout(set = 0, binding = 0) uniform samplerBuffer qs;
layout(set = 0, binding = 1) uniform samplerBuffer ks;
layout(set = 0, binding = 2) uniform samplerBuffer vs;
layout(std430, set = 0, binding = 3) writeonly buffer O { vec4 os[]; };

layout(push_constant) uniform Push { GPU_PUSH_ATTENTION } p;
#endif

shared vec4 sh_k[BK * H4];
shared vec4 sh_v[BK * H4];
shared float sh_p[BK * LOCAL]; // scores: key c of the block, query of lane l at c · LOCAL + l

void
main ()
{
  uint lane = gl_LocalInvocationID.x;
  uint qi = gl_WorkGroupID.x * LOCAL + lane;
  vec4 q[H4];
  vec4 o[H4];

#ifdef WINDOW
  bool f16 = (p.flags & GPU_ABI_F16_0) != 0u;
  uint wsq = p.ws * p.ws;
  uint win = p.win0 + gl_WorkGroupID.y;
  uint h4 = gl_WorkGroupID.z * H4;
  uint wy = win / p.wins_x, wx = win % p.wins_x;
  uint c4 = p.c / 4u;
  uint qy = wy * p.ws + qi / p.ws, qx = wx * p.ws + qi % p.ws;
  bool live = qi < wsq && qy < p.h && qx < p.w;
  uint tok = live ? qy * p.w + qx : p.tok0;
  int qa = int (p.qkv_off + (tok - p.tok0) * 3u * c4 + h4);
  uint n_keys = wsq; // every query of a window sees all its keys
  uint last = wsq;
#else
  uint h4 = gl_WorkGroupID.y * H4;
  uint b = gl_WorkGroupID.z;
  bool live = qi < p.n_q;
  uint qc = min (qi, p.n_q - 1u);
  int qa = int (p.q_off + b * p.q_bstride + qc * p.q_stride + h4);
  // keys j < last are visible to this query; the workgroup walks those of its last query
  uint qlast = min (gl_WorkGroupID.x * LOCAL + LOCAL, p.n_q) - 1u;
  uint n_keys = p.causal != 0u ? min (p.n_kv, qlast + p.n_kv - p.n_q + 1u) : p.n_kv;
  uint last = p.causal != 0u ? min (p.n_kv, qc + p.n_kv - p.n_q + 1u) : p.n_kv;
  uint kb = p.k_off + b * p.k_bstride + h4;
  uint vb = p.v_off + b * p.v_bstride + h4;
#endif

#ifdef WINDOW
  [[unroll]] for (uint e = 0u; e < H4; e++) q[e] = texelFetch (qkv, qa + int (e)) * p.scale;
#else
  [[unroll]] for (uint e = 0u; e < H4; e++) q[e] = texelFetch (qs, qa + int (e)) * p.scale;
#endif
  [[unroll]] for (uint e = 0u; e < H4; e++) o[e] = vec4 (0.0);
  float m = -1.0 / 0.0;
  float s = 0.0;

  for (uint j0 = 0u; j0 < n_keys; j0 += BK)
    {
      barrier (); // the previous block is no longer read
      for (uint t = lane; t < BK * H4; t += LOCAL)
        {
          uint j = j0 + t / H4, e = t % H4;
          vec4 kt = vec4 (0.0), vt = vec4 (0.0);
#ifdef WINDOW
          uint ky = wy * p.ws + j / p.ws, kx = wx * p.ws + j % p.ws;
          if (j < wsq && ky < p.h && kx < p.w)
            {
              int ka = int (p.qkv_off + (ky * p.w + kx - p.tok0) * 3u * c4 + c4 + h4 + e);
              kt = texelFetch (qkv, ka);
              vt = texelFetch (qkv, ka + int (c4));
            }
          else if (j < wsq)
            {
              // a padding token: its k and v are the bias
              uint kc = p.c + 4u * (h4 + e), vc = kc + p.c;
              kt = vec4 (OPS_LOAD (qb, f16, kc), OPS_LOAD (qb, f16, kc + 1u),
                         OPS_LOAD (qb, f16, kc + 2u), OPS_LOAD (qb, f16, kc + 3u));
              vt = vec4 (OPS_LOAD (qb, f16, vc), OPS_LOAD (qb, f16, vc + 1u),
                         OPS_LOAD (qb, f16, vc + 2u), OPS_LOAD (qb, f16, vc + 3u));
            }
#else
          if (j < n_keys)
            {
              kt = texelFetch (ks, int (kb + j * p.k_stride + e));
              vt = texelFetch (vs, int (vb + j * p.v_stride + e));
            }
#endif
          sh_k[t] = kt;
          sh_v[t] = vt;
        }
      barrier (); // the block is in shared memory

      // this query's scores against the block, into its own column of sh_p; the block's max
      uint nc = last > j0 ? min (BK, last - j0) : 0u;
      float mb = m;
      for (uint c = 0u; c < nc; c++)
        {
          float d = 0.0;
          [[unroll]] for (uint e = 0u; e < H4; e++) d += dot (q[e], sh_k[c * H4 + e]);
          sh_p[c * LOCAL + lane] = d;
          mb = max (mb, d);
        }
      // one rescale per block, then the block's weighted values
      float corr = exp (m - mb);
      m = mb;
      s *= corr;
      [[unroll]] for (uint e = 0u; e < H4; e++) o[e] *= corr;
      for (uint c = 0u; c < nc; c++)
        {
          float pj = exp (sh_p[c * LOCAL + lane] - m);
          s += pj;
          [[unroll]] for (uint e = 0u; e < H4; e++) o[e] += pj * sh_v[c * H4 + e];
        }
    }

  if (!live)
    return;
  float inv = 1.0 / s;
#ifdef WINDOW
  uint ob = p.out_off + (tok - p.tok0) * c4 + h4;
  [[unroll]] for (uint e = 0u; e < H4; e++) dst[ob + e] = o[e] * inv;
#else
  uint ob = p.o_off + b * p.o_bstride + qi * p.o_stride + h4;
  [[unroll]] for (uint e = 0u; e < H4; e++) os[ob + e] = o[e] * inv;
#endif
}
