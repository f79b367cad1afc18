/* gpu-op-norm.c: LayerNorm and softmax over rows (shaders/layernorm.comp, softmax.comp)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gpu/gpu-op-norm.h"
#include "gpu/gpu-op-util.h"

#define F16_0 1u
#define HAS_0 8u

void
gpu_op_layernorm (GpuRecorder *recorder, GpuBuffer *x, GpuBuffer *res, GpuBuffer *weight,
                  GpuBuffer *bias, gboolean weights_f16, guint rows, guint c, float eps,
                  GpuBuffer *y)
{
  const char *op = "layernorm";
  guint64 n = (guint64) rows * c * 4;
  guint64 wb = (guint64) c * (weights_f16 ? 2 : 4);

  g_return_if_fail (recorder != NULL);
  if (rows == 0 || c == 0)
    return;
  if (!gpu_op_util_check_size (recorder, op, "x", x, n) ||
      (res && !gpu_op_util_check_size (recorder, op, "res", res, n)) ||
      !gpu_op_util_check_size (recorder, op, "weight", weight, wb) ||
      !gpu_op_util_check_size (recorder, op, "bias", bias, wb) ||
      !gpu_op_util_check_size (recorder, op, "y", y, n) ||
      !gpu_op_util_check_loops (recorder, op, 3 * (guint64) c + 1))
    return;

  if (c % 4 == 0)
    {
      /* vec4 texel reads: 4 channels per load (fp16 weights through RGBA16F views) */
      GpuDevice *device = gpu_recorder_get_device (recorder);
      const GpuDeviceLimits *lim = gpu_device_get_limits (device);
      struct {
        guint32 rows, c4, has_res;
        float eps;
        guint32 x_off, y_off;
      } push4 = { rows, c / 4, res != NULL, eps, 0, 0 };
      /* CPU set: one invocation per row, 8 rows per workgroup; GPU set: one workgroup per row
       * whose lanes split the channels and add through subgroup operations or shared memory */
      gboolean wg = lim->kernels == GPU_KERNELS_GPU;
      gboolean sg =
        wg && lim->subgroup_arithmetic && lim->subgroup_size >= 4 && lim->subgroup_size <= 128;
      guint32 spec[2] = { 8, 1 };
      if (wg)
        {
          /* one subgroup per row where it can add (no barriers), else 64 lanes and a tree */
          spec[0] = sg ? lim->subgroup_size : 64;
          spec[0] = MIN (spec[0], lim->max_workgroup_invocations);
          spec[1] = gpu_op_util_div_up (c / 4, spec[0]);
        }
      /* rows beyond the workgroups are walked grid-stride; CPU devices start each workgroup in
       * software, so they get few */
      guint64 max_groups = wg && lim->is_cpu ? 64 : 65535;
      GpuPipeline *pipeline = gpu_op_util_pipeline (
        recorder, wg ? (sg ? "layernorm_wg_sg" : "layernorm_wg") : "layernorm_vec4", "ttttw",
        sizeof push4, spec, wg ? 2 : 1);
      if (pipeline == NULL)
        return;
      GpuTexelFormat wf = weights_f16 ? GPU_TEXEL_RGBA16F : GPU_TEXEL_RGBA32F;
      GpuBinding b[] = {
        { x, 0, n, GPU_TEXEL_RGBA32F }, { res ? res : x, 0, n, GPU_TEXEL_RGBA32F },
        { weight, 0, wb, wf },          { bias, 0, wb, wf },
        { y, 0, n, GPU_TEXEL_NONE },
      };
      /* in pieces of rows when a tensor passes one binding's range */
      const guint64 row = (guint64) c * 4;
      guint64 piece = MIN (gpu_op_util_rows_per_binding (device, GPU_TEXEL_NONE, row, rows),
                           gpu_op_util_rows_per_binding (device, GPU_TEXEL_RGBA32F, row, rows));
      if (piece == 0)
        {
          gpu_op_util_fail (recorder, op, "a row larger than the device's binding limit");
          return;
        }
      for (guint64 r0 = 0; r0 < rows; r0 += piece)
        {
          guint64 nr = MIN (piece, rows - r0), xs = 0, ys = 0;
          gpu_op_util_bind_texel (device, x, GPU_TEXEL_RGBA32F, r0 * row, nr * row, &b[0], &xs);
          gpu_op_util_bind_texel (device, res ? res : x, GPU_TEXEL_RGBA32F, r0 * row, nr * row,
                                  &b[1], NULL);
          gpu_op_util_bind_storage (device, y, r0 * row, nr * row, &b[4], &ys);
          push4.rows = (guint32) nr;
          push4.x_off = (guint32) (xs / 16);
          push4.y_off = (guint32) (ys / 16);
          gpu_recorder_dispatch (recorder, pipeline, "layernorm",
                                 MIN (wg ? nr : gpu_op_util_div_up (nr, spec[0]), max_groups), 1, 1,
                                 b, &push4);
        }
      return;
    }

  struct {
    guint32 rows, c, flags;
    float eps;
  } push = { rows, c, (weights_f16 ? F16_0 : 0) | (res ? HAS_0 : 0), eps };
  GpuBuffer *buffers[] = { x, res, weight, bias, y };
  gpu_op_util_dispatch (recorder, "layernorm", "rrrrw", sizeof push, &push,
                        gpu_op_util_groups (recorder, rows), 1, 1, buffers);
}

void
gpu_op_softmax (GpuRecorder *recorder, GpuBuffer *x, guint rows, guint n, GpuBuffer *y)
{
  guint64 bytes = (guint64) rows * n * 4;

  g_return_if_fail (recorder != NULL);
  if (rows == 0 || n == 0)
    return;
  if (!gpu_op_util_check_size (recorder, "softmax", "x", x, bytes) ||
      !gpu_op_util_check_size (recorder, "softmax", "y", y, bytes) ||
      !gpu_op_util_check_loops (recorder, "softmax", 3 * (guint64) n + 1))
    return;

  struct {
    guint32 rows, n;
  } push = { rows, n };
  GpuBuffer *buffers[] = { x, y };
  gpu_op_util_dispatch (recorder, "softmax", "rw", sizeof push, &push,
                        gpu_op_util_groups (recorder, rows), 1, 1, buffers);
}
