// logits_topk_merge.comp: log-softmax + bans + top-k over vocabulary rows, pass 2 of 2
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// One invocation per row merges the chunks of logits_topk_partial.comp: lse = M + log Σ_c
// s_c·exp (m_c − M), and the k best (key desc, id asc) of all chunk candidates. Output per
// row (2k + 2 words): id[k] (int32), value[k] (fp32 log-probability: logit − lse, −inf when
// banned or not forced, 0 for a forced id), max logit, lse.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

#define MAX_K 16

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer Part { float part[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Out { float dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_TOPK_MERGE } p;

bool
better (float a, int ia, float b, int ib)
{
  return a > b || (a == b && uint (ia) < uint (ib)); // id −1 (empty) sorts last
}

void
main ()
{
  uint row = gl_GlobalInvocationID.x;
  if (row >= p.rows)
    return;
  const float NEG = -1.0 / 0.0, POS = 1.0 / 0.0;
  uint w = 2u + 2u * p.k;
  float key[MAX_K];
  int kid[MAX_K];
  for (uint j = 0u; j < p.k; j++)
    {
      key[j] = NEG;
      kid[j] = -1;
    }
  float mx = NEG;
  for (uint c = 0u; c < p.chunks; c++)
    mx = max (mx, part[(row * p.chunks + c) * w]);
  float s = 0.0;
  for (uint c = 0u; c < p.chunks; c++)
    {
      uint b = (row * p.chunks + c) * w;
      if (part[b] > NEG)
        s += part[b + 1u] * exp (part[b] - mx);
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
  float lse = mx + log (s);
  uint ob = row * w;
  for (uint j = 0u; j < p.k; j++)
    {
      float kv = key[j];
      float v = kv == POS ? 0.0 : (kv == NEG ? NEG : kv - lse);
      dst[ob + j] = intBitsToFloat (kid[j]);
      dst[ob + p.k + j] = v;
    }
  dst[ob + 2u * p.k] = mx;
  dst[ob + 2u * p.k + 1u] = lse;
}
