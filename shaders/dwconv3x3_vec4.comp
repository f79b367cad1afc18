// dwconv3x3_vec4.comp: dwconv3x3.comp for channel counts that are multiples of 4
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// y = x + depthwise conv 3×3 s1 p1 (x) + bias on tokens [H·W, C]; weight [C, 1, 3, 3].
// One invocation = 4 channels of one token; x, weight (RGBA32F or RGBA16F view) and bias
// through texel views. y must be a different buffer from x. One dispatch writes token rows
// row0 .. row0 + rows − 1 at vec4 y_off of its y window; the x view starts at token row
// x_row0, texel x_off (gpu_op_dwconv3x3_residual cuts tensors beyond one binding into
// pieces of rows).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x_id = 0) in;

layout(set = 0, binding = 0) uniform samplerBuffer x;
layout(set = 0, binding = 1) uniform samplerBuffer w;    // [C·9] as texels of 4 taps
layout(set = 0, binding = 2) uniform samplerBuffer bias; // [C] as texels of 4 channels
layout(std430, set = 0, binding = 3) writeonly buffer Y { vec4 y[]; };

layout(push_constant) uniform Push { GPU_PUSH_DWCONV4 } p;

void
main ()
{
  uint n = p.rows * p.w * p.c4;
  for (uint i = gl_GlobalInvocationID.x; i < n; i += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint ch4 = i % p.c4, pix = i / p.c4;
      int oy = int (p.row0 + pix / p.w), ox = int (pix % p.w);
      // the 36 taps of channels 4·ch4 .. 4·ch4 + 3 are 9 consecutive texels; tap k of
      // channel 4·ch4 + j is element 9·j + k of those 36
      vec4 t[9];
      for (int k = 0; k < 9; k++)
        t[k] = texelFetch (w, int (ch4 * 9u) + k);
      vec4 acc = texelFetch (bias, int (ch4));
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
              int k = ky * 3 + kx;
              vec4 wk = vec4 (t[k / 4][k % 4], t[(9 + k) / 4][(9 + k) % 4],
                              t[(18 + k) / 4][(18 + k) % 4], t[(27 + k) / 4][(27 + k) % 4]);
              acc += texelFetch (x, int (p.x_off + ((uint (iy) - p.x_row0) * p.w + uint (ix)) * p.c4
                                        + ch4)) * wk;
            }
        }
      y[p.y_off + i] = texelFetch (x, int (p.x_off + ((uint (oy) - p.x_row0) * p.w + uint (ox))
                                               * p.c4 + ch4)) + acc;
    }
}
