// im2col.comp: patches of a k×k stride-s pad-p convolution, as rows for the GEMM
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// out[oy·Wo + ox, (ci·k + ky)·k + kx] = in(ci, oy·s + ky − p, ox·s + kx − p), zero outside
// the image. The column order is PyTorch's weight flattening, so the convolution is
// GEMM (out, weight viewed as [cout, cin·k·k]) + bias. The input is a CHW image or tokens
// [H·W, cin] (channels last).
//
// One dispatch writes the output pixels pix0 .. pix0 + npix − 1 at dst[out_off …]; for tokens
// the binding may be a window that starts at input row row0 (element in_off), so that a patch
// matrix beyond one binding's range is made in pieces (gpu_op_im2col).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gpu-abi.h"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer In { float src[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Out { float dst[]; };

layout(push_constant) uniform Push { GPU_PUSH_IM2COL } p;

void
main ()
{
  uint kk = p.k * p.k;
  uint cols = p.cin * kk;
  uint n = p.npix * cols;
  for (uint idx = gl_GlobalInvocationID.x; idx < n; idx += gl_NumWorkGroups.x * gl_WorkGroupSize.x)
    {
      uint pix = p.pix0 + idx / cols, col = idx % cols;
      uint ci = col / kk, tap = col % kk;
      uint ky = tap / p.k, kx = tap % p.k;
      int iy = int ((pix / p.wo) * p.stride + ky) - int (p.pad);
      int ix = int ((pix % p.wo) * p.stride + kx) - int (p.pad);
      float v = 0.0;
      if (iy >= 0 && iy < int (p.h) && ix >= 0 && ix < int (p.w))
        v = p.tokens != 0u ? src[p.in_off + ((uint (iy) - p.row0) * p.w + uint (ix)) * p.cin + ci]
                           : src[p.in_off + (ci * p.h + uint (iy)) * p.w + uint (ix)];
      dst[p.out_off + idx] = v;
    }
}
