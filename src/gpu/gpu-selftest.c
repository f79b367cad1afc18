/* gpu-selftest.c: y = a·x + b·y + c (see gpu-selftest.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gpu/gpu-selftest.h"
#include "gpu/gpu-op-util.h"

/* Mirrors the push_constant block of shaders/runtime_axpy.comp. */
typedef struct {
  guint32 n, x_off, y_off;
  float a, b, c;
} AxpyPush;

void
gpu_selftest_axpy (GpuRecorder *rec, GpuBuffer *x, guint64 x_offset, GpuBuffer *y, guint64 y_offset,
                   guint32 n, float a, float b, float c)
{
  g_return_if_fail (rec != NULL && x != NULL && y != NULL);
  if (n == 0)
    return;
  GpuDevice *device = gpu_recorder_get_device (rec);
  const guint32 local = 64;
  const guint32 spec[] = { local };
  GpuPipeline *p =
    gpu_op_util_pipeline (rec, "runtime_axpy", "rw", sizeof (AxpyPush), spec, G_N_ELEMENTS (spec));
  if (p == NULL)
    return;

  /* Windows start at aligned offsets; the remainder goes to the shader as element offsets. */
  GpuBinding bindings[2];
  guint64 xs, ys;
  gpu_op_util_bind_storage (device, x, x_offset * 4, (guint64) n * 4, &bindings[0], &xs);
  gpu_op_util_bind_storage (device, y, y_offset * 4, (guint64) n * 4, &bindings[1], &ys);
  AxpyPush push = { n, (guint32) (xs / 4), (guint32) (ys / 4), a, b, c };

  /* at most 1024 workgroups; the shader loops over the rest */
  guint32 groups = MIN (gpu_op_util_div_up (n, local), 1024);
  gpu_recorder_dispatch (rec, p, "axpy", groups, 1, 1, bindings, &push);
}
