// pos2d.comp: Florence-2 image position embedding on the tower output
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// out[y·W + x, e] = in[y·W + x, e] + (e < D/2 ? col[x, e] : row[y, e − D/2]) + temporal[e]
// (learned_abs_2d: the column (x) half first; temporal: one row of the temporal table, e.g.
// row 0 = [0, 1, 0, 1, …]). Element offsets let the output land in rows 1.. of the [577, D]
// sequence whose row 0 gets the mean (mean_rows.comp). In place is allowed (same buffer and
// offsets).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#include "ops-weights.glsl"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer In { float src[]; };
OPS_WEIGHTS(1, col)
OPS_WEIGHTS(2, row)
OPS_WEIGHTS(3, tmp)
layout(std430, set = 0, binding = 4) buffer Out { float dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_POS2D } p;

void
main ()
{
  bool f16 = (p.flags & GPU_ABI_F16_0) != 0u;
  bool t16 = (p.flags & GPU_ABI_F16_1) != 0u;
  bool has_t = (p.flags & GPU_ABI_HAS_0) != 0u;
  uint half_d = p.d / 2u;
  uint total = p.h * p.w * p.d;
  for (uint idx = gl_GlobalInvocationID.x; idx < total; idx += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint e = idx % p.d, pix = idx / p.d;
      uint y = pix / p.w, x = pix % p.w;
      float pe = e < half_d ? OPS_LOAD (col, f16, x * half_d + e)
                            : OPS_LOAD (row, f16, y * half_d + (e - half_d));
      float v = src[p.in_off + idx] + pe;
      if (has_t)
        v += OPS_LOAD (tmp, t16, e);
      dst[p.out_off + idx] = v;
    }
}
