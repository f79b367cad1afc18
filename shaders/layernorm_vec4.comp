// layernorm_vec4.comp: layernorm.comp for channel counts that are multiples of 4
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// y[r, :] = LayerNorm (x[r, :] (+ res[r, :])) · w + b. x, res, w and b are read through
// texel views (RGBA32F, or RGBA16F for fp16 weights: the view converts), one vec4 per
// fetch; one invocation per row, two fp32 passes (mean, then the centred variance). y may
// be the same buffer as x (each row is read before it is written, by the same invocation).
// x, res and y are bound as windows that hold the rows of this dispatch from texel x_off
// and vec4 y_off on (gpu_op_layernorm cuts tensors beyond one binding into pieces of rows).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) uniform samplerBuffer x;
layout(set = 0, binding = 1) uniform samplerBuffer res;
layout(set = 0, binding = 2) uniform samplerBuffer w;
layout(set = 0, binding = 3) uniform samplerBuffer b;
layout(std430, set = 0, binding = 4) writeonly buffer Y { vec4 y[]; };

layout(push_constant) uniform Push { GPU_PUSH_LAYERNORM4 } p;

vec4
load_in (int i)
{
  vec4 v = texelFetch (x, i);
  if (p.has_res != 0u)
    v += texelFetch (res, i);
  return v;
}

void
main ()
{
  for (uint r = gl_GlobalInvocationID.x; r < p.rows; r += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      int base = int (p.x_off + r * p.c4);
      uint ybase = p.y_off + r * p.c4;
      vec4 sum = vec4 (0.0);
      for (int i = 0; i < int (p.c4); i++)
        sum += load_in (base + i);
      float mean = (sum.x + sum.y + sum.z + sum.w) / float (4u * p.c4);
      vec4 var = vec4 (0.0);
      for (int i = 0; i < int (p.c4); i++)
        {
          vec4 d = load_in (base + i) - mean;
          var += d * d;
        }
      float inv = inversesqrt ((var.x + var.y + var.z + var.w) / float (4u * p.c4) + p.eps);
      for (int i = 0; i < int (p.c4); i++)
        y[ybase + uint (i)] = (load_in (base + i) - mean) * inv * texelFetch (w, i) + texelFetch (b, i);
    }
}
