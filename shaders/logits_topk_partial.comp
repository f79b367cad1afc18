// logits_topk_partial.comp: log-softmax + bans + top-k over vocabulary rows, pass 1 of 2
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// One invocation per (row, chunk); chunk c of a row reads ids c, c + chunks, c + 2·chunks, …
// (ascending, so a tie with the current k-th candidate never displaces it: ties break
// toward the smaller id). It keeps the running max and Σ exp of the raw logits (for the
// log-sum-exp) and its k best candidates ranked by (key desc, id asc), where the key is the
// raw logit, −inf for a banned id, and in a row with a forced id +inf for that id and −inf
// for every other.
//
// ctl (int32): forced[rows] (−1: none), ban_off[rows + 1], then the banned ids; row r's bans
// are ids[ban_off[r] .. ban_off[r + 1]) counted from the start of the id list.
// part, per (row, chunk): max, sum, key[k], id[k] (ids as float bits).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

#define MAX_K 16

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, set = 0, binding = 1) readonly buffer Ctl { int ctl[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Part { float part[]; };

layout(push_constant) uniform Push { GPU_PUSH_TOPK_PARTIAL } p;

bool
is_banned (uint row, int id)
{
  uint ids0 = 2u * p.rows + 1u;
  int b0 = ctl[p.rows + row], b1 = ctl[p.rows + row + 1u];
  for (int b = b0; b < b1; b++)
    if (ctl[ids0 + uint (b)] == id)
      return true;
  return false;
}

void
main ()
{
  uint idx = gl_GlobalInvocationID.x;
  if (idx >= p.rows * p.chunks)
    return;
  uint row = idx / p.chunks, chunk = idx % p.chunks;
  int forced = ctl[row];
  uint base = p.in_off + row * p.stride;
  const float NEG = -1.0 / 0.0, POS = 1.0 / 0.0;

  float key[MAX_K];
  int kid[MAX_K];
  uint count = 0u;
  float m = NEG, s = 0.0;
  for (uint i = chunk; i < p.n; i += p.chunks)
    {
      float x = logits[base + i];
      if (x > m)
        {
          s = s * exp (m - x) + 1.0;
          m = x;
        }
      else
        s += exp (x - m);

      // candidate key; ids ascend, so equal keys never displace what is kept
      if (count == p.k && x <= key[p.k - 1u] && forced < 0)
        continue;
      float kv = x;
      if (forced >= 0)
        kv = int (i) == forced ? POS : NEG;
      else if (is_banned (row, int (i)))
        kv = NEG;
      if (count == p.k && !(kv > key[p.k - 1u]))
        continue;
      // insert, keeping key descending (stable: after equal keys)
      uint pos = count < p.k ? count : p.k - 1u;
      while (pos > 0u && kv > key[pos - 1u])
        {
          key[pos] = key[pos - 1u];
          kid[pos] = kid[pos - 1u];
          pos--;
        }
      key[pos] = kv;
      kid[pos] = int (i);
      if (count < p.k)
        count++;
    }
  uint ob = idx * (2u + 2u * p.k);
  part[ob] = m;
  part[ob + 1u] = s;
  for (uint j = 0u; j < p.k; j++)
    {
      part[ob + 2u + j] = j < count ? key[j] : NEG;
      part[ob + 2u + p.k + j] = intBitsToFloat (j < count ? kid[j] : -1);
    }
}
