// gemv.comp: GEMM for few rows (decoder steps, the LM head): C = epilogue (alpha · A · Wᵀ) with
// M ≤ 8 rows of A. A workgroup owns NR rows of W (NR outputs per row of A); its lanes split K,
// each reading W eight halves (one uvec4, 16 bytes) at a time, and every lane keeps M × NR partial
// sums in fp32. The partial sums are then added across the workgroup: with subgroup operations
// (built with -DSUBGROUP: subgroupAdd, then one shared-memory step across the subgroups), else a
// shared-memory tree. Bias, exact GELU and the residual follow as in the other GEMM kernels.
// Workgroups walk the row blocks grid-stride (one block each on GPUs; CPU devices, where each
// workgroup costs microseconds to start, get fewer workgroups that loop).
// The workgroup is one subgroup where the device adds across subgroups (no barrier at all).
// VEC = 8: fp16 W read as uvec4, A as vec4 (K, strides and offsets multiples of 8 and 4, checked
// by gpu-op-gemm.c); VEC = 1: one element at a time (any shape, fp32 or fp16 W).
//
// SPDX-License-Identifier: GPL-3.0-or-later
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#ifdef SUBGROUP
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#endif
#include "gemm_common.glsl"

layout (local_size_x_id = 0) in;
layout (constant_id = 1) const uint NR = 2;    // W rows (outputs) per workgroup
layout (constant_id = 2) const uint MROWS = 1; // rows of A, 1 … 8
layout (constant_id = 3) const uint VEC = 8;   // 8: uvec4 fp16 W and vec4 A; 1: scalar
layout (constant_id = 4) const uint WTYPE = 0; // GPU_ABI_GEMM_W16: W holds IEEE halves
layout (constant_id = 5) const uint SPLITK = 1; // 1: the lanes split K; 0: each lane owns NR rows

const uint NACC = MROWS * NR;
const uint KLANES = SPLITK != 0u ? gl_WorkGroupSize.x : 1u; // lanes sharing one row's K
const uint BLOCK = SPLITK != 0u ? NR : NR * gl_WorkGroupSize.x; // W rows per workgroup block

layout (std430, binding = 0) readonly buffer A { float a[]; };
layout (std430, binding = 0) readonly buffer A4 { vec4 a4[]; };
layout (std430, binding = 1) readonly buffer W { uint w[]; };
layout (std430, binding = 1) readonly buffer W4 { uvec4 w4[]; };

#ifdef SUBGROUP
shared float part[gl_WorkGroupSize.x / 4u * NACC]; // one slot per subgroup (of ≥ 4 lanes)
#else
shared float part[gl_WorkGroupSize.x * NACC];
#endif

float load_w (uint idx)
{
  if ((WTYPE & GPU_ABI_GEMM_W16) != 0u)
    return depict_half_at (w[idx >> 1], idx & 1u);
  return uintBitsToFloat (w[idx]);
}

// output (i, n) of batch b from its sum, if it exists
void store (uint i, uint n, float sum, uint b)
{
  if (i < p.M && n < p.N)
    gemm_store (b, i, n, sum);
}

void main ()
{
  const uint LOCAL = gl_WorkGroupSize.x;
  uint lane = gl_LocalInvocationID.x;
  uint b = gl_WorkGroupID.z;
  uint a_base = p.a_off + b * p.a_bs;
  uint w_base = p.w_off + b * p.w_bs;
  uint klane = SPLITK != 0u ? lane : 0u;
  for (uint blk = gl_WorkGroupID.x * BLOCK; blk < p.N; blk += gl_NumWorkGroups.x * BLOCK)
    {
      uint n0 = SPLITK != 0u ? blk : blk + lane * NR;
      float acc[NACC];
      [[unroll]] for (uint t = 0u; t < NACC; t++)
        acc[t] = 0.0;
      uint wrow[NR];
      [[unroll]] for (uint r = 0u; r < NR; r++)
        wrow[r] = w_base + min (n0 + r, p.N - 1u) * p.ldw;

      if (VEC == 8u)
        {
          for (uint k8 = klane; k8 < p.K / 8u; k8 += KLANES)
            {
              vec4 lo[MROWS], hi[MROWS];
              [[unroll]] for (uint i = 0u; i < MROWS; i++)
                {
                  uint ab = (a_base + min (i, p.M - 1u) * p.lda) / 4u + 2u * k8;
                  lo[i] = a4[ab];
                  hi[i] = a4[ab + 1u];
                }
              [[unroll]] for (uint r = 0u; r < NR; r++)
                {
                  uvec4 q = w4[wrow[r] / 8u + k8];
                  vec4 wl = vec4 (unpackHalf2x16 (q.x), unpackHalf2x16 (q.y));
                  vec4 wh = vec4 (unpackHalf2x16 (q.z), unpackHalf2x16 (q.w));
                  [[unroll]] for (uint i = 0u; i < MROWS; i++)
                    acc[i * NR + r] += dot (lo[i], wl) + dot (hi[i], wh);
                }
            }
        }
      else
        {
          for (uint k = klane; k < p.K; k += KLANES)
            {
              float av[MROWS];
              [[unroll]] for (uint i = 0u; i < MROWS; i++)
                av[i] = a[a_base + min (i, p.M - 1u) * p.lda + k];
              [[unroll]] for (uint r = 0u; r < NR; r++)
                {
                  float wv = load_w (wrow[r] + k);
                  [[unroll]] for (uint i = 0u; i < MROWS; i++)
                    acc[i * NR + r] = fma (av[i], wv, acc[i * NR + r]);
                }
            }
        }

      if (SPLITK == 0u)
        {
          // each lane wrote its own rows' sums: nothing to add across lanes
          [[unroll]] for (uint t = 0u; t < NACC; t++)
            store (t / NR, n0 + t % NR, acc[t], b);
          continue;
        }
#ifdef SUBGROUP
      [[unroll]] for (uint t = 0u; t < NACC; t++)
        acc[t] = subgroupAdd (acc[t]);
      if (gl_NumSubgroups > 1u)
        {
          if (subgroupElect ())
            [[unroll]] for (uint t = 0u; t < NACC; t++)
              part[gl_SubgroupID * NACC + t] = acc[t];
          barrier ();
          [[unroll]] for (uint t = 0u; t < NACC; t++)
            {
              float s = 0.0;
              for (uint g = 0u; g < gl_NumSubgroups; g++)
                s += part[g * NACC + t];
              acc[t] = s;
            }
          barrier (); // the next block reuses part[]
        }
#else
      [[unroll]] for (uint t = 0u; t < NACC; t++)
        part[lane * NACC + t] = acc[t];
      barrier ();
      for (uint s = LOCAL / 2u; s > 0u; s >>= 1u)
        {
          if (lane < s)
            [[unroll]] for (uint t = 0u; t < NACC; t++)
              part[lane * NACC + t] += part[(lane + s) * NACC + t];
          barrier ();
        }
      [[unroll]] for (uint t = 0u; t < NACC; t++)
        acc[t] = part[t];
      barrier (); // the next block reuses part[]
#endif

      // every lane holds every sum now; lane l writes outputs l, l + LOCAL, …
      for (uint t = lane; t < NACC; t += LOCAL)
        store (t / NR, n0 + t % NR, acc[t], b);
    }
}
