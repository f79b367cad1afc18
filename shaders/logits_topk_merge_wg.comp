// logits_topk_merge_wg.comp: logits_topk_merge.comp for GPUs: one workgroup per row
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// The lanes of a workgroup each merge the chunks l, l + LOCAL, … of logits_topk_partial.comp into
// a running (max, Σ exp) and k best (key desc, id asc), then the lanes' lists are merged in a
// shared-memory tree (log2 LOCAL steps, each merging two sorted lists of k). Same bindings, push
// constants and output as logits_topk_merge.comp; the result is the same, whatever the order.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

#define MAX_K 16

layout(local_size_x_id = 0) in; // a power of two

layout(std430, set = 0, binding = 0) readonly buffer Part { float part[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Out { float dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_TOPK_MERGE } p;

shared float sh_key[gl_WorkGroupSize.x * MAX_K];
shared int sh_id[gl_WorkGroupSize.x * MAX_K];
shared float sh_m[gl_WorkGroupSize.x];
shared float sh_s[gl_WorkGroupSize.x];

const float NEG = -1.0 / 0.0;
const float POS = 1.0 / 0.0;

bool
better (float a, int ia, float b, int ib)
{
  return a > b || (a == b && uint (ia) < uint (ib)); // id −1 (empty) sorts last
}

// (m, s) of two partial log-sum-exps
void
lse_merge (inout float m, inout float s, float m2, float s2)
{
  if (m2 == NEG)
    return;
  if (m == NEG)
    {
      m = m2;
      s = s2;
      return;
    }
  float mn = max (m, m2);
  s = s * exp (m - mn) + s2 * exp (m2 - mn);
  m = mn;
}

void
main ()
{
  const uint LOCAL = gl_WorkGroupSize.x;
  uint lane = gl_LocalInvocationID.x;
  uint w = 2u + 2u * p.k;
  for (uint row = gl_WorkGroupID.x; row < p.rows; row += gl_NumWorkGroups.x)
    {
      float key[MAX_K];
      int kid[MAX_K];
      for (uint j = 0u; j < p.k; j++)
        {
          key[j] = NEG;
          kid[j] = -1;
        }
      float m = NEG, s = 0.0;
      for (uint c = lane; c < p.chunks; c += LOCAL)
        {
          uint b = (row * p.chunks + c) * w;
          lse_merge (m, s, part[b], part[b + 1u]);
          for (uint j = 0u; j < p.k; j++)
            {
              float kv = part[b + 2u + j];
              int id = floatBitsToInt (part[b + 2u + p.k + j]);
              if (id < 0 || !better (kv, id, key[p.k - 1u], kid[p.k - 1u]))
                continue;
              uint pos = p.k - 1u;
              while (pos > 0u && better (kv, id, key[pos - 1u], kid[pos - 1u]))
                {
                  key[pos] = key[pos - 1u];
                  kid[pos] = kid[pos - 1u];
                  pos--;
                }
              key[pos] = kv;
              kid[pos] = id;
            }
        }
      barrier (); // the previous row's readers are done
      for (uint j = 0u; j < p.k; j++)
        {
          sh_key[lane * MAX_K + j] = key[j];
          sh_id[lane * MAX_K + j] = kid[j];
        }
      sh_m[lane] = m;
      sh_s[lane] = s;
      barrier ();
      for (uint step = LOCAL / 2u; step > 0u; step >>= 1u)
        {
          if (lane < step)
            {
              // merge the sorted lists of lanes lane and lane + step, the k best of both
              uint a = lane * MAX_K, o = (lane + step) * MAX_K;
              uint ia = 0u, io = 0u;
              for (uint j = 0u; j < p.k; j++)
                {
                  bool take_a = better (sh_key[a + ia], sh_id[a + ia], sh_key[o + io], sh_id[o + io]);
                  key[j] = take_a ? sh_key[a + ia] : sh_key[o + io];
                  kid[j] = take_a ? sh_id[a + ia] : sh_id[o + io];
                  if (take_a)
                    ia++;
                  else
                    io++;
                }
              lse_merge (m, s, sh_m[lane + step], sh_s[lane + step]);
            }
          barrier ();
          if (lane < step)
            {
              for (uint j = 0u; j < p.k; j++)
                {
                  sh_key[lane * MAX_K + j] = key[j];
                  sh_id[lane * MAX_K + j] = kid[j];
                }
              sh_m[lane] = m;
              sh_s[lane] = s;
            }
          barrier ();
        }
      if (lane == 0u)
        {
          float lse = m + log (s);
          uint ob = row * w;
          for (uint j = 0u; j < p.k; j++)
            {
              float kv = key[j];
              float v = kv == POS ? 0.0 : (kv == NEG ? NEG : kv - lse);
              dst[ob + j] = intBitsToFloat (kid[j]);
              dst[ob + p.k + j] = v;
            }
          dst[ob + 2u * p.k] = m;
          dst[ob + 2u * p.k + 1u] = lse;
        }
    }
}
