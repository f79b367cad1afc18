// gemm_tiled.comp: GEMM for GPUs without matrix cores (and products of more than 8 rows):
// C = epilogue (alpha · A · Wᵀ) in BM × BN output tiles per workgroup.
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// Each invocation keeps a TM × TN register tile (fp32 accumulators, as vec4 along N): the
// workgroup is (BM / TM) × (BN / TN) invocations. K advances in steps of BK through two
// shared-memory buffers (double buffering): while the tile of step k is multiplied out of one
// buffer, the loads of step k + 1 from memory are already issued into registers, and they go
// into the other buffer afterwards, so one barrier per step suffices. The shared tiles hold
// vec4s of four rows (A) or four columns (W) at one k, so every inner step reads TM / 4 + TN / 4
// vec4s for TM · TN multiply-adds. Loads from memory take 4 × 4 blocks (four rows, four
// consecutive k: one vec4 per row, or one uvec2 of four halves for fp16 W) when K, the strides
// and the offsets are multiples of 4 (VEC = 4), else one element at a time (VEC = 1); what lies
// past M, N or K reads as zero.
//
// Built with -DF16MATH (gemm_tiled_f16, devices with shaderFloat16): the shared tiles hold
// halves and the products are fp16 (A rounded to fp16: about 5e-4 relative per product), the
// sums fp32. Faster where fp16 arithmetic is (half the shared-memory traffic); not for results
// that need fp32 accuracy: on Florence-2-base at 768² every tensor from the first vision stage
// on is ~3e-4–7e-4 relative RMS from fp32 (check-engines, tests/bench/PERFORMANCE.md), so no
// model GEMM takes it unless DEPICT_GPU_F16_MATH=1 asks.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#ifdef F16MATH
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
#define SVEC f16vec4
#else
#define SVEC vec4
#endif
#include "gemm_common.glsl"

layout (local_size_x_id = 0) in;              // (BM / TM) · (BN / TN)
layout (constant_id = 1) const uint BM = 64;  // output tile rows, a multiple of 4 · (BM / TM)
layout (constant_id = 2) const uint BN = 64;  // output tile columns
layout (constant_id = 3) const uint BK = 16;  // K per step, a multiple of 4
layout (constant_id = 4) const uint TM = 8;   // rows per invocation, a multiple of 4
layout (constant_id = 5) const uint TN = 8;   // columns per invocation, a multiple of 4
layout (constant_id = 6) const uint WTYPE = 0; // GPU_ABI_GEMM_W16: W holds IEEE halves
layout (constant_id = 7) const uint VEC = 4;  // 4: 4 × 4 blocks from memory; 1: elements

const uint LOCAL = (BM / TM) * (BN / TN);
const uint TX = BN / TN; // invocations along N
const uint TY = BM / TM; // invocations along M
const uint AQ = BM / 4u + 1u; // vec4s per k in the A tile (one of padding)
const uint WQ = BN / 4u + 1u;
const uint KQ = BK / 4u;
const uint A_BLOCKS = (BM / 4u) * KQ; // 4 × 4 blocks per tile
const uint W_BLOCKS = (BN / 4u) * KQ;
const uint A_PER = (A_BLOCKS + LOCAL - 1u) / LOCAL; // blocks each invocation loads
const uint W_PER = (W_BLOCKS + LOCAL - 1u) / LOCAL;

layout (std430, binding = 0) readonly buffer A { float a[]; };
layout (std430, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout (std430, binding = 1) readonly buffer W { uint w[]; };
layout (std430, binding = 1) readonly buffer W4 { vec4 w4[]; };
layout (std430, binding = 1) readonly buffer W2 { uvec2 w2[]; };

shared SVEC As[2u * BK * AQ];
shared SVEC Ws[2u * BK * WQ];

float load_w1 (uint idx)
{
  if ((WTYPE & GPU_ABI_GEMM_W16) != 0u)
    return depict_half_at (w[idx >> 1], idx & 1u);
  return uintBitsToFloat (w[idx]);
}

// Row r of a 4 × 4 block: 4 consecutive k of row `row` (of `rows`) from element `base`.
vec4 load_a (uint base, uint row, uint k)
{
  if (row >= p.M || k >= p.K)
    return vec4 (0.0);
  uint i = base + row * p.lda + k;
  if (VEC == 4u)
    return a4[i / 4u];
  vec4 v;
  [[unroll]] for (uint e = 0u; e < 4u; e++)
    v[e] = k + e < p.K ? a[i + e] : 0.0;
  return v;
}

vec4 load_w (uint base, uint row, uint k)
{
  if (row >= p.N || k >= p.K)
    return vec4 (0.0);
  uint i = base + row * p.ldw + k;
  if (VEC == 4u)
    {
      if ((WTYPE & GPU_ABI_GEMM_W16) != 0u)
        {
          uvec2 h = w2[i / 4u];
          return vec4 (unpackHalf2x16 (h.x), unpackHalf2x16 (h.y));
        }
      return w4[i / 4u];
    }
  vec4 v;
  [[unroll]] for (uint e = 0u; e < 4u; e++)
    v[e] = k + e < p.K ? load_w1 (i + e) : 0.0;
  return v;
}

// The 4 × 4 blocks of the step at k0 that this invocation loads (A_PER of A, W_PER of W).
void load_step (uint k0, uint a_base, uint w_base, uint m0, uint n0, uint lid,
                out vec4 ra[A_PER][4], out vec4 rw[W_PER][4])
{
  [[unroll]] for (uint q = 0u; q < A_PER; q++)
    {
      uint blk = lid + q * LOCAL, mq = blk / KQ, k = k0 + (blk % KQ) * 4u;
      [[unroll]] for (uint r = 0u; r < 4u; r++)
        ra[q][r] = blk < A_BLOCKS ? load_a (a_base, m0 + mq * 4u + r, k) : vec4 (0.0);
    }
  [[unroll]] for (uint q = 0u; q < W_PER; q++)
    {
      uint blk = lid + q * LOCAL, nq = blk / KQ, k = k0 + (blk % KQ) * 4u;
      [[unroll]] for (uint r = 0u; r < 4u; r++)
        rw[q][r] = blk < W_BLOCKS ? load_w (w_base, n0 + nq * 4u + r, k) : vec4 (0.0);
    }
}

// Those blocks into the shared buffer that starts at k row `buf`, transposed: a vec4 holds
// four rows (A) or columns (W) at one k.
void store_step (uint buf, uint lid, vec4 ra[A_PER][4], vec4 rw[W_PER][4])
{
  [[unroll]] for (uint q = 0u; q < A_PER; q++)
    {
      uint blk = lid + q * LOCAL, mq = blk / KQ, kq = blk % KQ;
      if (blk < A_BLOCKS)
        [[unroll]] for (uint e = 0u; e < 4u; e++)
          As[(buf + kq * 4u + e) * AQ + mq] =
            SVEC (ra[q][0][e], ra[q][1][e], ra[q][2][e], ra[q][3][e]);
    }
  [[unroll]] for (uint q = 0u; q < W_PER; q++)
    {
      uint blk = lid + q * LOCAL, nq = blk / KQ, kq = blk % KQ;
      if (blk < W_BLOCKS)
        [[unroll]] for (uint e = 0u; e < 4u; e++)
          Ws[(buf + kq * 4u + e) * WQ + nq] =
            SVEC (rw[q][0][e], rw[q][1][e], rw[q][2][e], rw[q][3][e]);
    }
}

void main ()
{
  uint lid = gl_LocalInvocationID.x;
  uint tx = lid % TX, ty = lid / TX;
  uint b = gl_WorkGroupID.z;
  uint m0 = gl_WorkGroupID.y * BM;
  uint n0 = gl_WorkGroupID.x * BN;
  uint a_base = p.a_off + b * p.a_bs;
  uint w_base = p.w_off + b * p.w_bs;

  vec4 acc[TM][TN / 4u];
  [[unroll]] for (uint i = 0u; i < TM; i++)
    [[unroll]] for (uint j = 0u; j < TN / 4u; j++)
      acc[i][j] = vec4 (0.0);

  // the blocks of one step in registers: [block][row of the block] = 4 consecutive k
  vec4 ra[A_PER][4];
  vec4 rw[W_PER][4];
  uint steps = (p.K + BK - 1u) / BK;

  load_step (0u, a_base, w_base, m0, n0, lid, ra, rw);
  store_step (0u, lid, ra, rw);
  barrier ();
  for (uint s = 0u; s < steps; s++)
    {
      // the loads of step s + 1 go out before the arithmetic of step s
      bool next = s + 1u < steps;
      if (next)
        load_step ((s + 1u) * BK, a_base, w_base, m0, n0, lid, ra, rw);
      uint buf = (s & 1u) * BK;
      [[unroll]] for (uint kk = 0u; kk < BK; kk++)
        {
          SVEC av[TM / 4u], wv[TN / 4u];
          [[unroll]] for (uint i = 0u; i < TM / 4u; i++)
            av[i] = As[(buf + kk) * AQ + ty + i * TY];
          [[unroll]] for (uint j = 0u; j < TN / 4u; j++)
            wv[j] = Ws[(buf + kk) * WQ + tx + j * TX];
          [[unroll]] for (uint i = 0u; i < TM; i++)
            [[unroll]] for (uint j = 0u; j < TN / 4u; j++)
#ifdef F16MATH
              acc[i][j] += vec4 (av[i / 4u][i % 4u] * wv[j]);
#else
              acc[i][j] = fma (vec4 (av[i / 4u][i % 4u]), wv[j], acc[i][j]);
#endif
        }
      // the other buffer was last read in step s - 1, which every invocation has finished
      if (next)
        {
          store_step (((s + 1u) & 1u) * BK, lid, ra, rw);
          barrier ();
        }
    }

  // invocation (tx, ty) holds rows (ty + i·TY)·4 + e and columns (tx + j·TX)·4 + f
  [[unroll]] for (uint i = 0u; i < TM; i++)
    {
      uint m = m0 + (ty + (i / 4u) * TY) * 4u + i % 4u;
      if (m >= p.M)
        continue;
      [[unroll]] for (uint j = 0u; j < TN / 4u; j++)
        [[unroll]] for (uint f = 0u; f < 4u; f++)
          {
            uint n = n0 + (tx + j * TX) * 4u + f;
            if (n < p.N)
              gemm_store (b, m, n, acc[i][j][f]);
          }
    }
}
