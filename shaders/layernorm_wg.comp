// layernorm_wg.comp: layernorm_vec4.comp for GPUs: one workgroup per row
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// y[r, :] = LayerNorm (x[r, :] (+ res[r, :])) · w + b, channels a multiple of 4. The lanes of a
// workgroup split the row's vec4s (lane l holds l, l + LOCAL, …: VPL of them, in registers),
// then two workgroup sums (reduce.glsl) give the mean and the centred variance, both fp32. Rows
// beyond the workgroup count are walked grid-stride. Same bindings and push constants as
// layernorm_vec4.comp; y may be x (each row is read into registers before it is written).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const uint VPL = 4; // vec4 per lane: ceil (c4 / LOCAL)

#include "reduce.glsl"

layout(set = 0, binding = 0) uniform samplerBuffer x;
layout(set = 0, binding = 1) uniform samplerBuffer res;
layout(set = 0, binding = 2) uniform samplerBuffer w;
layout(set = 0, binding = 3) uniform samplerBuffer b;
layout(std430, set = 0, binding = 4) writeonly buffer Y { vec4 y[]; };

layout(push_constant) uniform Push { GPU_PUSH_LAYERNORM4 } p;

void
main ()
{
  const uint LOCAL = gl_WorkGroupSize.x;
  uint lane = gl_LocalInvocationID.x;
  float inv_c = 1.0 / float (4u * p.c4);
  for (uint r = gl_WorkGroupID.x; r < p.rows; r += gl_NumWorkGroups.x)
    {
      int base = int (p.x_off + r * p.c4);
      vec4 v[VPL];
      float sum = 0.0;
      [[unroll]] for (uint j = 0u; j < VPL; j++)
        {
          uint i = lane + j * LOCAL;
          v[j] = vec4 (0.0);
          if (i < p.c4)
            {
              v[j] = texelFetch (x, base + int (i));
              if (p.has_res != 0u)
                v[j] += texelFetch (res, base + int (i));
            }
          sum += (v[j].x + v[j].y) + (v[j].z + v[j].w);
        }
      float mean = depict_wg_sum (sum) * inv_c;
      float sq = 0.0;
      [[unroll]] for (uint j = 0u; j < VPL; j++)
        if (lane + j * LOCAL < p.c4)
          {
            vec4 d = v[j] - mean;
            sq += dot (d, d);
          }
      float inv = inversesqrt (depict_wg_sum (sq) * inv_c + p.eps);
      uint ybase = p.y_off + r * p.c4;
      [[unroll]] for (uint j = 0u; j < VPL; j++)
        {
          uint i = lane + j * LOCAL;
          if (i < p.c4)
            y[ybase + i] = (v[j] - mean) * inv * texelFetch (w, int (i)) + texelFetch (b, int (i));
        }
    }
}
