// ops-weights.glsl: reading weights stored as fp32 or fp16
//
// SPDX-License-Identifier: GPL-3.0-or-later
//
// A weight tensor is bound twice at the same binding, once as float[] and once as uint[]
// (pairs of fp16 values, the low half first); a flag picks the view. This needs no 16-bit
// storage feature. fp16 buffers must be allocated with their size rounded up to 4 bytes.
// The flags that pick the view are GPU_ABI_F16_* (gpu-abi.h).

#include "gpu-abi.h"
#define OPS_WEIGHTS(b, name) \
  layout(std430, set = 0, binding = b) readonly buffer name##_f32_block { float name##_f32[]; }; \
  layout(std430, set = 0, binding = b) readonly buffer name##_f16_block { uint name##_f16[]; };

#define OPS_LOAD(name, is_f16, i) \
  ((is_f16) ? unpackHalf2x16 (name##_f16[(i) >> 1u])[(i) & 1u] : name##_f32[i])

