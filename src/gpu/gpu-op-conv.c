/* gpu-op-conv.c: convolutions (shaders/conv2d.comp, im2col.comp, dwconv3x3.comp)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gpu/gpu-op-conv.h"
#include "gpu/gpu-op-gemm.h"
#include "gpu/gpu-op-util.h"

#define F16_0 1u
#define HAS_0 8u

guint
gpu_op_conv_out_size (guint size, guint k, guint stride, guint pad)
{
  if (stride == 0 || (guint64) size + 2 * (guint64) pad < k)
    return 0;
  return (guint) (((guint64) size + 2 * (guint64) pad - k) / stride + 1);
}

static gboolean
check_conv (GpuRecorder *recorder, const char *op, GpuBuffer *in, guint cin, guint h, guint w,
            guint k, guint stride, guint pad, guint64 out_cols, GpuBuffer *out, guint *ho,
            guint *wo)
{
  *ho = gpu_op_conv_out_size (h, k, stride, pad);
  *wo = gpu_op_conv_out_size (w, k, stride, pad);
  if (cin == 0 || *ho == 0 || *wo == 0 || out_cols == 0)
    return gpu_op_util_fail (recorder, op, "empty input or a kernel larger than the input");
  if ((guint64) *ho * *wo * out_cols > G_MAXUINT32)
    return gpu_op_util_fail (recorder, op, "more than 2³² output elements");
  return gpu_op_util_check_size (recorder, op, "in", in, (guint64) cin * h * w * 4) &&
         gpu_op_util_check_size (recorder, op, "out", out, (guint64) *ho * *wo * out_cols * 4);
}

void
gpu_op_conv2d (GpuRecorder *recorder, GpuBuffer *in, GpuConvInput layout, guint cin, guint h,
               guint w, GpuBuffer *weight, GpuBuffer *bias, gboolean weights_f16, guint cout,
               guint k, guint stride, guint pad, GpuBuffer *out)
{
  const char *op = "conv2d";
  guint ho, wo;
  guint64 es = weights_f16 ? 2 : 4;

  g_return_if_fail (recorder != NULL);
  if (!check_conv (recorder, op, in, cin, h, w, k, stride, pad, cout, out, &ho, &wo) ||
      !gpu_op_util_check_size (recorder, op, "weight", weight, (guint64) cout * cin * k * k * es) ||
      !gpu_op_util_check_size (recorder, op, "bias", bias, cout * es) ||
      !gpu_op_util_check_loops (recorder, op, (guint64) k * (1 + k * (1 + (guint64) cin)) + 8))
    return;
  struct {
    guint32 cin, h, w, cout, k, stride, pad, ho, wo, flags, pix0, npix, out_off;
  } push = {
    cin,    h,   w,  cout, k,
    stride, pad, ho, wo,   (weights_f16 ? F16_0 : 0) | (layout == GPU_CONV_INPUT_TOKENS ? HAS_0 : 0)
  };
  GpuPipeline *pipeline = gpu_op_util_pipeline (recorder, op, "rrrw", sizeof push, NULL, 0);
  if (pipeline == NULL)
    return;
  /* the output in pieces of pixels when it passes one binding's range (Florence-2-large's
   * stage 0 from 1472×1472 on lavapipe) */
  GpuDevice *device = gpu_recorder_get_device (recorder);
  const guint64 n_pix = (guint64) ho * wo, pix_bytes = (guint64) cout * 4;
  guint64 piece = gpu_op_util_rows_per_binding (device, GPU_TEXEL_NONE, pix_bytes, n_pix);
  if (piece == 0)
    {
      gpu_op_util_fail (recorder, op, "an output pixel larger than the device's binding limit");
      return;
    }
  GpuBinding b[4] = { { in }, { weight }, { bias } };
  for (guint64 p0 = 0; p0 < n_pix; p0 += piece)
    {
      guint64 np = MIN (piece, n_pix - p0), shift = 0;
      gpu_op_util_bind_storage (device, out, p0 * pix_bytes, np * pix_bytes, &b[3], &shift);
      push.pix0 = (guint32) p0;
      push.npix = (guint32) np;
      push.out_off = (guint32) (shift / 4);
      gpu_recorder_dispatch (recorder, pipeline, op,
                             gpu_op_util_groups (recorder, np * ((cout + 3) / 4)), 1, 1, b, &push);
    }
}

void
gpu_op_im2col (GpuRecorder *recorder, GpuBuffer *in, GpuConvInput layout, guint cin, guint h,
               guint w, guint k, guint stride, guint pad, GpuBuffer *out)
{
  guint ho, wo;
  guint64 cols = (guint64) cin * k * k;

  g_return_if_fail (recorder != NULL);
  if (!check_conv (recorder, "im2col", in, cin, h, w, k, stride, pad, cols, out, &ho, &wo))
    return;
  struct {
    guint32 cin, h, w, k, stride, pad, ho, wo, tokens, pix0, npix, row0, in_off, out_off;
  } push = { cin, h, w, k, stride, pad, ho, wo, layout == GPU_CONV_INPUT_TOKENS };
  GpuPipeline *pipeline = gpu_op_util_pipeline (recorder, "im2col", "rw", sizeof push, NULL, 0);
  if (pipeline == NULL)
    return;

  /* Pieces of whole output rows whose patches, and for tokens the input rows they read, fit
   * one binding (Florence-2-large's stage-1 patches at 992×992 pass 128 MiB). */
  GpuDevice *device = gpu_recorder_get_device (recorder);
  const gboolean tokens = layout == GPU_CONV_INPUT_TOKENS;
  const guint64 lim = gpu_op_util_max_binding (device, GPU_TEXEL_NONE);
  const guint64 slack = gpu_device_get_limits (device)->min_storage_buffer_offset_alignment;
  const guint64 out_row = (guint64) wo * cols * 4, in_row = (guint64) w * cin * 4;
  guint64 rows = ho;
  if (out_row * ho > lim || (tokens && in_row * h > lim))
    {
      rows = lim > slack ? (lim - slack) / out_row : 0;
      if (tokens)
        {
          guint64 in_rows = lim > slack ? (lim - slack) / in_row : 0;
          rows = in_rows >= k ? MIN (rows, (in_rows - k) / stride + 1) : 0;
        }
    }
  if (rows == 0 || (!tokens && (guint64) cin * h * w * 4 > lim))
    {
      gpu_op_util_fail (recorder, "im2col", "tensors too large for the device's binding limit");
      return;
    }
  for (guint64 oy0 = 0; oy0 < ho; oy0 += rows)
    {
      guint64 oy1 = MIN (oy0 + rows, (guint64) ho), shift_in = 0, shift_out = 0;
      GpuBinding b[2];
      if (tokens)
        {
          /* the input rows this piece reads (padding rows excluded) */
          gint64 lo = (gint64) (oy0 * stride) - pad, hi = (gint64) ((oy1 - 1) * stride + k) - pad;
          lo = CLAMP (lo, 0, (gint64) h - 1);
          hi = CLAMP (hi, lo + 1, (gint64) h);
          push.row0 = (guint32) lo;
          gpu_op_util_bind_storage (device, in, (guint64) lo * in_row, (guint64) (hi - lo) * in_row,
                                    &b[0], &shift_in);
        }
      else
        {
          push.row0 = 0;
          gpu_op_util_bind_storage (device, in, 0, (guint64) cin * h * w * 4, &b[0], NULL);
        }
      gpu_op_util_bind_storage (device, out, oy0 * out_row, (oy1 - oy0) * out_row, &b[1],
                                &shift_out);
      push.pix0 = (guint32) (oy0 * wo);
      push.npix = (guint32) ((oy1 - oy0) * wo);
      push.in_off = (guint32) (shift_in / 4);
      push.out_off = (guint32) (shift_out / 4);
      gpu_recorder_dispatch (recorder, pipeline, "im2col",
                             gpu_op_util_groups (recorder, (guint64) push.npix * cols), 1, 1, b,
                             &push);
    }
}

guint64
gpu_op_conv2d_gemm_scratch_size (guint cin, guint h, guint w, guint k, guint stride, guint pad)
{
  return (guint64) gpu_op_conv_out_size (h, k, stride, pad) *
         gpu_op_conv_out_size (w, k, stride, pad) * cin * k * k * 4;
}

void
gpu_op_conv2d_gemm (GpuRecorder *recorder, GpuBuffer *in, GpuConvInput layout, guint cin, guint h,
                    guint w, GpuBuffer *weight, gboolean weight_f16, GpuBuffer *bias, guint cout,
                    guint k, guint stride, guint pad, GpuBuffer *scratch, GpuBuffer *out)
{
  guint ho = gpu_op_conv_out_size (h, k, stride, pad);
  guint wo = gpu_op_conv_out_size (w, k, stride, pad);

  g_return_if_fail (recorder != NULL);
  gpu_op_im2col (recorder, in, layout, cin, h, w, k, stride, pad, scratch);
  if (gpu_recorder_has_error (recorder))
    return;
  GpuGemm g = {
    .m = ho * wo,
    .n = cout,
    .k = cin * k * k,
    .a = scratch,
    .w = weight,
    .w_type = weight_f16 ? GPU_GEMM_WEIGHT_F16 : GPU_GEMM_WEIGHT_F32,
    .bias = bias,
    .c = out,
    .label = "conv2d_gemm",
  };
  gpu_op_gemm (recorder, &g);
}

void
gpu_op_dwconv3x3_residual (GpuRecorder *recorder, GpuBuffer *x, guint h, guint w, guint c,
                           GpuBuffer *weight, GpuBuffer *bias, gboolean weights_f16, GpuBuffer *y)
{
  const char *op = "dwconv3x3";
  guint64 n = (guint64) h * w * c;
  guint64 es = weights_f16 ? 2 : 4;

  g_return_if_fail (recorder != NULL);
  if (n == 0)
    return;
  if (x == y)
    {
      gpu_op_util_fail (recorder, op, "the output must not be the input");
      return;
    }
  if (!gpu_op_util_check_count (recorder, op, n) ||
      !gpu_op_util_check_size (recorder, op, "x", x, n * 4) ||
      !gpu_op_util_check_size (recorder, op, "weight", weight, (guint64) c * 9 * es) ||
      !gpu_op_util_check_size (recorder, op, "bias", bias, (guint64) c * es) ||
      !gpu_op_util_check_size (recorder, op, "y", y, n * 4))
    return;
  if (c % 4 == 0)
    {
      /* vec4 texel reads: 4 channels per invocation (fp16 through RGBA16F views) */
      GpuDevice *device = gpu_recorder_get_device (recorder);
      guint32 spec = gpu_device_get_limits (device)->kernels == GPU_KERNELS_CPU ? 8 : 64;
      struct {
        guint32 h, w, c4, row0, rows, x_row0, x_off, y_off;
      } push4 = { h, w, c / 4 };
      GpuPipeline *pipeline =
        gpu_op_util_pipeline (recorder, "dwconv3x3_vec4", "tttw", sizeof push4, &spec, 1);
      if (pipeline == NULL)
        return;
      GpuTexelFormat wf = weights_f16 ? GPU_TEXEL_RGBA16F : GPU_TEXEL_RGBA32F;
      GpuBinding b[] = {
        { x, 0, n * 4, GPU_TEXEL_RGBA32F },
        { weight, 0, (guint64) c * 9 * es, wf },
        { bias, 0, (guint64) c * es, wf },
        { y, 0, n * 4, GPU_TEXEL_NONE },
      };
      /* in pieces of token rows when a tensor passes one binding's range (x with the rows
       * above and below) */
      const guint64 row = (guint64) w * c * 4;
      guint64 piece = gpu_op_util_rows_per_binding (device, GPU_TEXEL_NONE, row, h);
      guint64 x_rows = gpu_op_util_rows_per_binding (device, GPU_TEXEL_RGBA32F, row, h);
      if (x_rows < h)
        piece = MIN (piece, x_rows > 2 ? x_rows - 2 : 0);
      if (piece == 0)
        {
          gpu_op_util_fail (recorder, op, "rows larger than the device's binding limit");
          return;
        }
      for (guint64 r0 = 0; r0 < h; r0 += piece)
        {
          guint64 nr = MIN (piece, h - r0), xs = 0, ys = 0;
          guint64 x0 = r0 > 0 ? r0 - 1 : 0, x1 = MIN (r0 + nr + 1, (guint64) h);
          gpu_op_util_bind_texel (device, x, GPU_TEXEL_RGBA32F, x0 * row, (x1 - x0) * row, &b[0],
                                  &xs);
          gpu_op_util_bind_storage (device, y, r0 * row, nr * row, &b[3], &ys);
          push4.row0 = (guint32) r0;
          push4.rows = (guint32) nr;
          push4.x_row0 = (guint32) x0;
          push4.x_off = (guint32) (xs / 16);
          push4.y_off = (guint32) (ys / 16);
          gpu_recorder_dispatch (recorder, pipeline, op,
                                 MIN (gpu_op_util_div_up (nr * w * (c / 4), spec), 65535), 1, 1, b,
                                 &push4);
        }
      return;
    }

  struct {
    guint32 h, w, c, flags;
  } push = { h, w, c, weights_f16 ? F16_0 : 0 };
  GpuBuffer *buffers[] = { x, weight, bias, y };
  gpu_op_util_dispatch (recorder, op, "rrrw", sizeof push, &push, gpu_op_util_groups (recorder, n),
                        1, 1, buffers);
}
