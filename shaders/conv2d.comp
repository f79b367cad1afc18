// conv2d.comp: dense 2-D convolution with bias, output as tokens [Ho·Wo, cout]
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// The input is a CHW image (the 7×7 stride-4 patch embedding) or tokens [H·W, cin] with
// channels last (the 3×3 stride-2 downsampling); the weight is PyTorch's [cout, cin, k, k].
// One invocation computes 4 consecutive output channels of one output pixel. For large
// channel counts im2col.comp + the GEMM is faster. A dispatch writes output pixels pix0 ..
// pix0 + npix − 1 from float out_off of its out window (gpu_op_conv2d cuts an output beyond
// one binding into pieces).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"
#include "ops-weights.glsl"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer In { float src[]; };
OPS_WEIGHTS(1, w)
OPS_WEIGHTS(2, bias)
layout(std430, set = 0, binding = 3) writeonly buffer Out { float dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_CONV2D } p;

void
main ()
{
  bool f16 = (p.flags & GPU_ABI_F16_0) != 0u;
  bool tokens = (p.flags & GPU_ABI_HAS_0) != 0u;
  uint blocks = (p.cout + 3u) / 4u;
  uint n = p.npix * blocks;
  uint kk = p.k * p.k;
  for (uint idx = gl_GlobalInvocationID.x; idx < n; idx += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint pix = p.pix0 + idx / blocks;
      uint co = (idx % blocks) * 4u;
      uint oy = pix / p.wo, ox = pix % p.wo;
      uint nco = min (4u, p.cout - co);
      // the 4 weight rows, clamped to the last channel (no inner loop: lavapipe limits the
      // loop iterations of an invocation)
      uint wstep = p.cin * kk;
      uvec4 ch = uvec4 (co, min (co + 1u, p.cout - 1u), min (co + 2u, p.cout - 1u),
                        min (co + 3u, p.cout - 1u));
      uvec4 wrow = ch * wstep;
      vec4 acc = vec4 (OPS_LOAD (bias, f16, ch.x), OPS_LOAD (bias, f16, ch.y),
                       OPS_LOAD (bias, f16, ch.z), OPS_LOAD (bias, f16, ch.w));
      int y0 = int (oy * p.stride) - int (p.pad);
      int x0 = int (ox * p.stride) - int (p.pad);
      for (uint ky = 0u; ky < p.k; ky++)
        {
          int iy = y0 + int (ky);
          if (iy < 0 || iy >= int (p.h))
            continue;
          for (uint kx = 0u; kx < p.k; kx++)
            {
              int ix = x0 + int (kx);
              if (ix < 0 || ix >= int (p.w))
                continue;
              uint tap = ky * p.k + kx;
              for (uint ci = 0u; ci < p.cin; ci++)
                {
                  float v = tokens ? src[(uint (iy) * p.w + uint (ix)) * p.cin + ci]
                                   : src[(ci * p.h + uint (iy)) * p.w + uint (ix)];
                  uint wi = ci * kk + tap;
                  acc += v * vec4 (OPS_LOAD (w, f16, wrow.x + wi), OPS_LOAD (w, f16, wrow.y + wi),
                                   OPS_LOAD (w, f16, wrow.z + wi), OPS_LOAD (w, f16, wrow.w + wi));
                }
            }
        }
      uint o = p.out_off + (pix - p.pix0) * p.cout + co;
      for (uint j = 0u; j < nco; j++)
        dst[o + j] = acc[j];
    }
}
