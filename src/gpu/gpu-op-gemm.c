/* gpu-op-gemm.c: GEMM with bias / GELU / residual epilogues, two variants, splitting of
 * tensors beyond the device's binding limits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "gpu-abi.h"
#include "gpu/gpu-op-gemm.h"
#include "gpu/gpu-op-util.h"

const char *
gpu_gemm_variant_to_string (GpuGemmVariant variant)
{
  switch (variant)
    {
    case GPU_GEMM_VARIANT_TEXEL:
      return "texel";
    case GPU_GEMM_VARIANT_TILED:
      return "tiled";
    case GPU_GEMM_VARIANT_GEMV:
      return "gemv";
    case GPU_GEMM_VARIANT_AUTO:
    default:
      return "auto";
    }
}

GpuGemmVariant
gpu_op_gemm_pick_variant (GpuDevice *device, guint32 m)
{
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  /* CPU implementations turn shared memory and storage loads into per-lane scalar code;
   * vector texel fetches are what they execute well (DESIGN.md). */
  if (lim->kernels == GPU_KERNELS_CPU && lim->texel_r32f && lim->texel_rgba32f && lim->texel_r16f &&
      lim->texel_rgba16f)
    return GPU_GEMM_VARIANT_TEXEL;
  /* A few rows: a 64-row tile would be mostly padding; split K across lanes instead. */
  if (m <= GPU_GEMM_GEMV_MAX_ROWS)
    return GPU_GEMM_VARIANT_GEMV;
  return GPU_GEMM_VARIANT_TILED;
}

gboolean
gpu_op_gemm_f16_math (GpuDevice *device)
{
  g_return_val_if_fail (device != NULL, FALSE);
  return gpu_device_get_limits (device)->fp16_arithmetic &&
         g_strcmp0 (g_getenv ("DEPICT_GPU_F16_MATH"), "1") == 0;
}

/* The matrix-vector kernel's shape: one subgroup per workgroup where the device adds across a
 * subgroup (the sums need no barrier then), else a power-of-two workgroup of 64 lanes adding
 * through shared memory. The lanes split K when every lane gets at least one piece of it (@k
 * elements read @vec at a time); for shorter rows each lane owns whole rows instead and no sums
 * cross lanes. NR W rows per workgroup (split K) or per lane. */
static void
gemv_config (GpuDevice *device, guint32 n, guint32 k, guint32 vec, guint32 *local, guint32 *nr,
             gboolean *subgroup, gboolean *split_k)
{
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  *subgroup = lim->subgroup_arithmetic && lim->subgroup_size >= 4 && lim->subgroup_size <= 128;
  guint32 l = *subgroup ? lim->subgroup_size : 64;
  while (l > lim->max_workgroup_invocations || l > lim->max_workgroup_size[0])
    l /= 2;
  *local = MAX (l, 1);
  *split_k = k / vec >= *local;
  /* split K: two rows per workgroup, more when N would need more workgroups than allowed;
   * whole rows: eight per lane, which read each piece of A once for eight rows */
  guint32 r = *split_k ? 2 : 8;
  while (*split_k && r < 8 && (n + r - 1) / r > lim->max_workgroup_count[0])
    r *= 2;
  *nr = r;
}

/* Elements the tensor spans: batch strides + rows × stride + row length. */
static guint64
span (guint32 batch, guint64 batch_stride, guint64 rows, guint64 ld, guint64 cols)
{
  return (guint64) (batch - 1) * batch_stride + (rows - 1) * ld + cols;
}

static gboolean
check_tensor (GpuRecorder *rec, const char *label, const char *name, GpuBuffer *buf, guint64 offset,
              guint64 elems, guint esize)
{
  if (buf == NULL)
    return TRUE;
  if ((offset + elems) * esize > gpu_buffer_get_size (buf))
    {
      g_autofree char *what =
        g_strdup_printf ("a %s tensor that does not fit its buffer (%" G_GUINT64_FORMAT
                         " elements at %" G_GUINT64_FORMAT ", buffer %" G_GUINT64_FORMAT " bytes)",
                         name, elems, offset, gpu_buffer_get_size (buf));
      return gpu_op_util_fail (rec, label, what);
    }
  return TRUE;
}

/* The texel kernel's shape: MR rows per workgroup, NC columns per lane (MR × NC
 * accumulators per lane). DEPICT_GEMM_TEXEL_CONFIG="MR,NC" overrides it (for tuning with
 * bench-gemm --cpu-time). */
static void
texel_config (guint32 m, guint32 *mr, guint32 *nc)
{
  const char *env = g_getenv ("DEPICT_GEMM_TEXEL_CONFIG");
  if (env != NULL)
    {
      char *end = NULL;
      guint64 a = g_ascii_strtoull (env, &end, 10);
      guint64 b = end != NULL && *end == ',' ? g_ascii_strtoull (end + 1, NULL, 10) : 0;
      if (a >= 1 && a <= 64 && b >= 1 && b <= 16)
        {
          *mr = (guint32) a;
          *nc = (guint32) b;
          return;
        }
    }
  /* Products of 64 rows or more: 16 × 16 accumulators per lane. On lavapipe the texel
   * fetches (8-lane gathers), not the multiplies, bound this kernel; an MR × NC tile takes
   * MR + NC fetches per 4 k for MR·NC vec4 products, and 16 × 16 runs 1.6-2× faster than
   * 4 × 4 (bench-gemm --cpu-time, tests/bench/PERFORMANCE.md) for ~0.7 s more shader compilation
   * per pipeline, once (Mesa's and our pipeline caches keep it).
   * Otherwise 4 × 4; exactly M rows when M < 4 (decoder steps: M = beams) so that no fetch
   * or multiply is spent on rows that do not exist. */
  if (m >= 64)
    {
      *mr = 16;
      *nc = 16;
      return;
    }
  *mr = m < 4 ? m : 4;
  *nc = 16 / *mr;
}

/* The tiled kernel's shape (shaders/gemm_tiled.comp): BM × BM output tiles, TM × TM per
 * invocation, BK per step. CPU devices: 64 × 64 tiles of 8 × 8 per invocation (64 invocations:
 * few barriers to schedule, four vec4 shared loads per 64 multiply-adds). GPUs: 128 × 128 tiles
 * of 8 × 8 (256 invocations) when the product has enough of them to fill a device, else 64 × 64
 * of 4 × 4 (256 invocations); BK = 16, or 8 where shared memory is short.
 * DEPICT_GEMM_TILED_CONFIG="BM,TM,BK" overrides it (tests run every shape on lavapipe). */
typedef struct {
  guint32 bm, tm, bk;
} TiledConfig;

static guint64
tiled_shared_bytes (const TiledConfig *t)
{
  return 2 * (guint64) t->bk * 2 * (t->bm / 4 + 1) * 16;
}

static gboolean
tiled_config_valid (GpuDevice *device, const TiledConfig *t)
{
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  guint32 local = (t->bm / t->tm) * (t->bm / t->tm);
  return t->tm >= 4 && t->tm % 4 == 0 && t->bm % (4 * (t->bm / MAX (t->tm, 1))) == 0 &&
         t->bk >= 4 && t->bk % 4 == 0 && local <= lim->max_workgroup_invocations &&
         local <= lim->max_workgroup_size[0] &&
         tiled_shared_bytes (t) <= lim->max_shared_memory_size;
}

static TiledConfig
tiled_config (GpuDevice *device, guint32 m, guint32 n)
{
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);
  TiledConfig t = { 64, 8, 16 };
  const char *env = g_getenv ("DEPICT_GEMM_TILED_CONFIG");
  if (env != NULL)
    {
      guint v[3] = { 0 };
      if (sscanf (env, "%u,%u,%u", &v[0], &v[1], &v[2]) == 3)
        {
          TiledConfig e = { v[0], v[1], v[2] };
          if (e.bm >= 4 && e.bm <= 256 && tiled_config_valid (device, &e))
            return e;
        }
    }
  if (!lim->is_cpu)
    {
      guint64 big = (guint64) ((m + 127) / 128) * ((n + 127) / 128);
      TiledConfig large = { 128, 8, 16 };
      if (!tiled_config_valid (device, &large))
        large.bk = 8;
      TiledConfig medium = { 64, 4, 16 };
      if (m >= 128 && n >= 128 && big >= 32 && tiled_config_valid (device, &large))
        t = large;
      else if (tiled_config_valid (device, &medium))
        t = medium;
    }
  /* the smallest that the device takes (Vulkan guarantees 128 invocations, 16 KiB) */
  while (!tiled_config_valid (device, &t) && t.bk > 4)
    t.bk /= 2;
  return t;
}

typedef struct {
  GpuTexelFormat a_fmt, w_fmt; /* GPU_TEXEL_NONE: storage */
  guint w_esize;
  guint32 flags;
  GpuPipeline *pipeline;
  guint32 rows_per_group, cols_per_group;
} Plan;

/* Rows of a [rows, ld] tensor (plus the batch) that one binding of @limit bytes holds. */
static guint64
rows_fitting (guint64 limit, guint64 align, guint32 batch, guint64 bs, guint64 ld, guint64 cols,
              guint esize)
{
  guint64 fixed = ((guint64) (batch - 1) * bs + cols) * esize + align;
  if (limit <= fixed)
    return 0;
  return (limit - fixed) / (MAX (ld, 1) * esize) + 1;
}

void
gpu_op_gemm (GpuRecorder *rec, const GpuGemm *g)
{
  g_return_if_fail (rec != NULL && g != NULL);
  const char *label = g->label != NULL ? g->label : "gemm";
  GpuDevice *device = gpu_recorder_get_device (rec);
  const GpuDeviceLimits *lim = gpu_device_get_limits (device);

  if (g->a == NULL || g->w == NULL || g->c == NULL)
    {
      gpu_op_util_fail (rec, label, "no A, W or C buffer");
      return;
    }
  if (g->m == 0 || g->n == 0)
    return;
  if (g->k == 0)
    {
      gpu_op_util_fail (rec, label, "K = 0");
      return;
    }
  guint32 batch = MAX (g->batch, 1);
  guint32 lda = g->lda ? g->lda : g->k, ldw = g->ldw ? g->ldw : g->k;
  guint32 ldc = g->ldc ? g->ldc : g->n, ldr = g->ldr ? g->ldr : g->n;
  if (lda < g->k || ldw < g->k || ldc < g->n || ldr < g->n)
    {
      gpu_op_util_fail (rec, label, "a row stride shorter than its row");
      return;
    }
  gboolean f16 = g->w_type == GPU_GEMM_WEIGHT_F16;
  guint wes = f16 ? 2 : 4;
  if (!check_tensor (rec, label, "A", g->a, g->a_offset,
                     span (batch, g->a_batch_stride, g->m, lda, g->k), 4) ||
      !check_tensor (rec, label, "W", g->w, g->w_offset,
                     span (batch, g->w_batch_stride, g->n, ldw, g->k), wes) ||
      !check_tensor (rec, label, "bias", g->bias, g->bias_offset, g->n, 4) ||
      !check_tensor (rec, label, "residual", g->residual, g->residual_offset,
                     span (batch, g->residual_batch_stride, g->m, ldr, g->n), 4) ||
      !check_tensor (rec, label, "C", g->c, g->c_offset,
                     span (batch, g->c_batch_stride, g->m, ldc, g->n), 4))
    return;

  GpuGemmVariant variant =
    g->variant == GPU_GEMM_VARIANT_AUTO ? gpu_op_gemm_pick_variant (device, g->m) : g->variant;
  if (variant == GPU_GEMM_VARIANT_GEMV && g->m > GPU_GEMM_GEMV_MAX_ROWS)
    {
      gpu_op_util_fail (rec, label, "the matrix-vector kernel takes at most 8 rows");
      return;
    }

  Plan plan = { 0 };
  plan.w_esize = wes;
  plan.flags = (g->bias ? GPU_ABI_GEMM_BIAS : 0) | (g->gelu ? GPU_ABI_GEMM_GELU : 0) |
               (g->residual ? GPU_ABI_GEMM_RESIDUAL : 0);
  if (variant == GPU_GEMM_VARIANT_TEXEL)
    {
      gboolean vec4 = g->k % 4 == 0 && lda % 4 == 0 && ldw % 4 == 0 && g->a_offset % 4 == 0 &&
                      g->w_offset % 4 == 0 && g->a_batch_stride % 4 == 0 &&
                      g->w_batch_stride % 4 == 0;
      plan.a_fmt = vec4 ? GPU_TEXEL_RGBA32F : GPU_TEXEL_R32F;
      plan.w_fmt = f16 ? (vec4 ? GPU_TEXEL_RGBA16F : GPU_TEXEL_R16F) : plan.a_fmt;
      gboolean ok = vec4 ? lim->texel_rgba32f && (!f16 || lim->texel_rgba16f)
                         : lim->texel_r32f && (!f16 || lim->texel_r16f);
      if (!ok)
        {
          gpu_recorder_take_error (rec, g_error_new (GPU_ERROR, GPU_ERROR_UNSUPPORTED,
                                                     _ ("The GPU cannot read float texel "
                                                        "buffers, which this matrix product "
                                                        "needs. Pick another device.")));
          return;
        }
      guint32 local = MIN (MAX (lim->subgroup_size, 1), 64);
      guint32 mr, nc;
      texel_config (g->m, &mr, &nc);
      const guint32 spec[] = { local, mr, nc, vec4 ? 4 : 1 };
      plan.pipeline = gpu_op_util_pipeline (rec, "gemm_texel", "ttrrw", sizeof (GpuPushGemm), spec,
                                            G_N_ELEMENTS (spec));
      plan.rows_per_group = mr;
      plan.cols_per_group = local * nc;
    }
  else if (variant == GPU_GEMM_VARIANT_GEMV)
    {
      plan.a_fmt = plan.w_fmt = GPU_TEXEL_NONE;
      /* 16-byte loads of 8 halves (and two vec4 of A) where every row starts aligned */
      gboolean vec8 = f16 && g->k % 8 == 0 && ldw % 8 == 0 && g->w_offset % 8 == 0 &&
                      g->w_batch_stride % 8 == 0 && lda % 4 == 0 && g->a_offset % 4 == 0 &&
                      g->a_batch_stride % 4 == 0;
      guint32 local, nr;
      gboolean subgroup, split_k;
      gemv_config (device, g->n, g->k, vec8 ? 8 : 1, &local, &nr, &subgroup, &split_k);
      const guint32 spec[] = { local, nr, g->m, vec8 ? 8 : 1, f16 ? GPU_ABI_GEMM_W16 : 0, split_k };
      plan.pipeline = gpu_op_util_pipeline (rec, subgroup ? "gemv_sg" : "gemv", "rrrrw",
                                            sizeof (GpuPushGemm), spec, G_N_ELEMENTS (spec));
      plan.rows_per_group = GPU_GEMM_GEMV_MAX_ROWS;
      plan.cols_per_group = split_k ? nr : nr * local;
      /* binding windows start at aligned offsets ≥ 4 bytes below an element offset that is a
       * multiple of 8 halves or 4 floats, so the shifts keep the rows' vector alignment */
    }
  else
    {
      plan.a_fmt = plan.w_fmt = GPU_TEXEL_NONE;
      /* 4 × 4 blocks from memory where every row starts at a multiple of 4 elements */
      gboolean vec4 = g->k % 4 == 0 && lda % 4 == 0 && ldw % 4 == 0 && g->a_offset % 4 == 0 &&
                      g->w_offset % 4 == 0 && g->a_batch_stride % 4 == 0 &&
                      g->w_batch_stride % 4 == 0;
      TiledConfig t = tiled_config (device, g->m, g->n);
      /* fp16 products only where asked (DEPICT_GPU_F16_MATH) and the device has them */
      gboolean f16_math = gpu_op_gemm_f16_math (device);
      const guint32 spec[] = {
        (t.bm / t.tm) * (t.bm / t.tm), t.bm,         t.bm, t.bk, t.tm, t.tm,
        f16 ? GPU_ABI_GEMM_W16 : 0,    vec4 ? 4 : 1,
      };
      plan.pipeline =
        gpu_op_util_pipeline (rec, f16_math ? "gemm_tiled_f16" : "gemm_tiled", "rrrrw",
                              sizeof (GpuPushGemm), spec, G_N_ELEMENTS (spec));
      plan.rows_per_group = t.bm;
      plan.cols_per_group = t.bm;
    }
  if (plan.pipeline == NULL)
    return;
  /* Chunks that fit the binding limits. */
  guint64 salign = lim->min_storage_buffer_offset_alignment;
  guint64 talign = MAX (lim->min_texel_buffer_offset_alignment, 16);
  guint64 a_lim = gpu_op_util_max_binding (device, plan.a_fmt);
  guint64 w_lim = gpu_op_util_max_binding (device, plan.w_fmt);
  guint64 s_lim = lim->max_storage_buffer_range;
  guint64 a_align = plan.a_fmt ? talign : salign, w_align = plan.w_fmt ? talign : salign;
  guint64 m_rows = g->m, n_cols = g->n;
  m_rows = MIN (m_rows, rows_fitting (a_lim, a_align, batch, g->a_batch_stride, lda, g->k, 4));
  m_rows = MIN (m_rows, rows_fitting (s_lim, salign, batch, g->c_batch_stride, ldc, g->n, 4));
  if (g->residual != NULL)
    m_rows =
      MIN (m_rows, rows_fitting (s_lim, salign, batch, g->residual_batch_stride, ldr, g->n, 4));
  n_cols =
    MIN (n_cols, rows_fitting (w_lim, w_align, batch, g->w_batch_stride, ldw, g->k + 1, wes));
  if (m_rows == 0 || n_cols == 0 || (batch > 1 && (m_rows < g->m || n_cols < g->n)))
    {
      gpu_op_util_fail (rec, label, "tensors too large for the device's binding limit");
      return;
    }
  if (m_rows < g->m && m_rows > plan.rows_per_group)
    m_rows = m_rows / plan.rows_per_group * plan.rows_per_group;
  if (n_cols < g->n && n_cols > plan.cols_per_group)
    n_cols = n_cols / plan.cols_per_group * plan.cols_per_group;

  for (guint64 m0 = 0; m0 < g->m; m0 += m_rows)
    for (guint64 n0 = 0; n0 < g->n; n0 += n_cols)
      {
        guint64 mr = MIN (m_rows, g->m - m0), nr = MIN (n_cols, g->n - n0);
        GpuBinding b[5];
        guint64 sa, sw, sb = 0, sr = 0, sc;
        guint64 a_el = g->a_offset + m0 * lda, w_el = g->w_offset + n0 * ldw;
        guint64 a_bytes = span (batch, g->a_batch_stride, mr, lda, g->k) * 4;
        guint64 w_bytes = (span (batch, g->w_batch_stride, nr, ldw, g->k) * wes + 3) / 4 * 4;
        if (plan.a_fmt != GPU_TEXEL_NONE)
          {
            gpu_op_util_bind_texel (device, g->a, plan.a_fmt, a_el * 4, a_bytes, &b[0], &sa);
            gpu_op_util_bind_texel (device, g->w, plan.w_fmt, w_el * wes, w_bytes, &b[1], &sw);
          }
        else
          {
            gpu_op_util_bind_storage (device, g->a, a_el * 4, a_bytes, &b[0], &sa);
            gpu_op_util_bind_storage (device, g->w, w_el * wes, w_bytes, &b[1], &sw);
          }
        if (g->bias != NULL)
          gpu_op_util_bind_storage (device, g->bias, (g->bias_offset + n0) * 4, nr * 4, &b[2], &sb);
        else
          gpu_op_util_bind_storage (device, g->a, 0, 16, &b[2], NULL); /* unused */
        guint64 r_el = g->residual_offset + m0 * ldr + n0;
        if (g->residual != NULL)
          gpu_op_util_bind_storage (device, g->residual, r_el * 4,
                                    span (batch, g->residual_batch_stride, mr, ldr, nr) * 4, &b[3],
                                    &sr);
        else
          gpu_op_util_bind_storage (device, g->a, 0, 16, &b[3], NULL); /* unused */
        guint64 c_el = g->c_offset + m0 * ldc + n0;
        gpu_op_util_bind_storage (device, g->c, c_el * 4,
                                  span (batch, g->c_batch_stride, mr, ldc, nr) * 4, &b[4], &sc);

        GpuPushGemm push = {
          .M = (guint32) mr,
          .N = (guint32) nr,
          .K = g->k,
          .lda = lda,
          .ldw = ldw,
          .ldc = ldc,
          .ldr = ldr,
          .a_off = (guint32) (sa / 4),
          .w_off = (guint32) (sw / wes),
          .c_off = (guint32) (sc / 4),
          .bias_off = (guint32) (sb / 4),
          .r_off = (guint32) (sr / 4),
          .a_bs = (guint32) g->a_batch_stride,
          .w_bs = (guint32) g->w_batch_stride,
          .c_bs = (guint32) g->c_batch_stride,
          .r_bs = (guint32) g->residual_batch_stride,
          .alpha = g->alpha != 0.0f ? g->alpha : 1.0f,
          .flags = plan.flags,
        };
        guint32 gm = gpu_op_util_div_up (mr, plan.rows_per_group);
        guint32 gn = gpu_op_util_div_up (nr, plan.cols_per_group);
        /* texel: x = row blocks (W rows stay in cache across consecutive workgroups);
         * tiled: x = column blocks; gemv: x = column blocks, all rows at once */
        if (variant == GPU_GEMM_VARIANT_GEMV)
          {
            /* CPU devices start each workgroup in software: a few that loop over the rows */
            guint32 groups = lim->is_cpu ? MIN (gn, 64) : MIN (gn, lim->max_workgroup_count[0]);
            gpu_recorder_dispatch (rec, plan.pipeline, label, groups, 1, batch, b, &push);
          }
        else if (variant == GPU_GEMM_VARIANT_TEXEL)
          gpu_recorder_dispatch (rec, plan.pipeline, label, gm, gn, batch, b, &push);
        else
          gpu_recorder_dispatch (rec, plan.pipeline, label, gn, gm, batch, b, &push);
      }
}

void
gpu_op_linear (GpuRecorder *rec, GpuBuffer *x, GpuBuffer *w, GpuGemmWeightType w_type,
               GpuBuffer *bias, GpuBuffer *residual, GpuBuffer *y, guint32 m, guint32 n, guint32 k,
               gboolean gelu)
{
  GpuGemm g = {
    .m = m,
    .n = n,
    .k = k,
    .a = x,
    .w = w,
    .w_type = w_type,
    .bias = bias,
    .residual = residual,
    .c = y,
    .gelu = gelu,
    .label = gelu               ? "linear+gelu"
             : residual != NULL ? "linear+residual"
                                : "linear",
  };
  gpu_op_gemm (rec, &g);
}
