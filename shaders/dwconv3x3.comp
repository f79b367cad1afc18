// dwconv3x3.comp: y = x + depthwise conv 3×3 s1 p1 (x) + bias, on tokens [H·W, C]
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// The DaViT conditional position encoding with its residual. weight is [C, 1, 3, 3].
// y must be a different buffer from x (neighbours are read).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#include "ops-weights.glsl"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
OPS_WEIGHTS(1, w)
OPS_WEIGHTS(2, bias)
layout(std430, set = 0, binding = 3) writeonly buffer Y { float y[]; };

layout(push_constant) uniform Push { GPU_PUSH_DWCONV } p;

void
main ()
{
  bool f16 = (p.flags & GPU_ABI_F16_0) != 0u;
  uint n = p.h * p.w * p.c;
  for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint ch = i % p.c, pix = i / p.c;
      int oy = int (pix / p.w), ox = int (pix % p.w);
      float acc = OPS_LOAD (bias, f16, ch);
      for (int ky = 0; ky < 3; ky++)
        {
          int iy = oy + ky - 1;
          if (iy < 0 || iy >= int (p.h))
            continue;
          for (int kx = 0; kx < 3; kx++)
            {
              int ix = ox + kx - 1;
              if (ix < 0 || ix >= int (p.w))
                continue;
              acc += x[(uint (iy) * p.w + uint (ix)) * p.c + ch]
                     * OPS_LOAD (w, f16, ch * 9u + uint (ky * 3 + kx));
            }
        }
      y[i] = x[i] + acc;
    }
}
