/* gpu-op-conv.h: patch-embedding convolutions and the depthwise 3×3 with residual
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conventions as in gpu-op-norm.h. "Tokens" are a row-major H×W grid with channels last,
 * [H·W, C]. Convolution weights use PyTorch's layout [cout, cin, k, k].
 */
#pragma once

#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

typedef enum {
  GPU_CONV_INPUT_CHW,    /* an image tensor [cin, H, W] (the stage-0 7×7 stride-4 conv) */
  GPU_CONV_INPUT_TOKENS, /* tokens [H·W, cin] (the 3×3 stride-2 downsampling convs) */
} GpuConvInput;

/* floor ((size + 2·pad − k) / stride) + 1, or 0 when the kernel does not fit. */
guint gpu_op_conv_out_size (guint size, guint k, guint stride, guint pad);

/* Direct convolution with bias: out [Ho·Wo, cout] tokens. Good for few input channels
 * (the 3-channel image); for the downsampling convs im2col + GEMM is faster. */
void gpu_op_conv2d (GpuRecorder *recorder, GpuBuffer *in, GpuConvInput layout, guint cin, guint h,
                    guint w, GpuBuffer *weight, GpuBuffer *bias, gboolean weights_f16, guint cout,
                    guint k, guint stride, guint pad, GpuBuffer *out);

/* The patch matrix: out [Ho·Wo, cin·k·k], column (ci·k + ky)·k + kx, zero padding. Then
 * GEMM (out, weight as [cout, cin·k·k] rows, bias) is the convolution. */
void gpu_op_im2col (GpuRecorder *recorder, GpuBuffer *in, GpuConvInput layout, guint cin, guint h,
                    guint w, guint k, guint stride, guint pad, GpuBuffer *out);

/* Convolution as im2col + GEMM (gpu-op-gemm.h): the fast way for every Florence-2 patch
 * embedding. @scratch receives the patch matrix, gpu_op_conv2d_gemm_scratch_size() bytes;
 * @bias is fp32 [cout] or NULL (the GEMM's bias). Output as gpu_op_conv2d(). */
guint64 gpu_op_conv2d_gemm_scratch_size (guint cin, guint h, guint w, guint k, guint stride,
                                         guint pad);
void gpu_op_conv2d_gemm (GpuRecorder *recorder, GpuBuffer *in, GpuConvInput layout, guint cin,
                         guint h, guint w, GpuBuffer *weight, gboolean weight_f16, GpuBuffer *bias,
                         guint cout, guint k, guint stride, guint pad, GpuBuffer *scratch,
                         GpuBuffer *out);

/* y = x + DepthwiseConv3×3 (x, stride 1, pad 1) + bias on tokens [h·w, c]; weight
 * [c, 1, 3, 3]. @y must differ from @x. */
void gpu_op_dwconv3x3_residual (GpuRecorder *recorder, GpuBuffer *x, guint h, guint w, guint c,
                                GpuBuffer *weight, GpuBuffer *bias, gboolean weights_f16,
                                GpuBuffer *y);

G_END_DECLS
