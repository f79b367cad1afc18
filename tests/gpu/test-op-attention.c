/* test-op-attention.c: window, channel and multi-head attention, KV-cache reorder, against
 * the C reference
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tolerances: outputs are convex combinations of values in [−1, 1]. The GPU computes
 * scores as fp32 dot products (hd ≤ 64 terms) and an online fp32 softmax; the reference
 * works in double. A score error δ moves a weight by ~δ relative, so with |scores| ≲ 10
 * and ~1e-6 relative score error the outputs are within a few 1e-6: we allow atol 2e-5 +
 * rtol 1e-4. Channel attention reduces over all N tokens in fp32 (split into chunks,
 * summed pairwise-ish); for N = 9 216 the Gram entries carry ~1e-6 relative error, the same
 * tolerance holds. The cache reorder is a copy and must be exact.
 */
#include "config.h"

#include <math.h>

#include "gpu/gpu-op-attention.h"
#include "gpu-reference.h"
#include "gpu-test-util.h"

#define ATOL 2e-5
#define RTOL 1e-4

static void
run_window (guint h, guint w, guint c, guint heads, guint ws, gboolean f16, guint32 seed)
{
  gsize n = (gsize) h * w;
  g_autofree float *qkv = gpu_test_random (n * 3 * c, seed, -1, 1);
  g_autofree float *bias = gpu_test_random (3 * c, seed + 1, -1, 1);
  g_autofree float *want = g_new (float, n *c);
  g_autoptr (GpuBuffer) bqkv = gpu_test_upload (qkv, n * 3 * c);
  g_autoptr (GpuBuffer) bbias =
    f16 ? gpu_test_upload_f16 (bias, 3 * c) : gpu_test_upload (bias, 3 * c);
  g_autoptr (GpuBuffer) bout = gpu_test_buffer (n * c);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autofree char *what = g_strdup_printf ("window attention %ux%u c%u heads %u window %u%s", h, w,
                                           c, heads, ws, f16 ? " f16 bias" : "");

  gpu_test_lap ();
  gpu_op_attention_window (rec, bqkv, bbias, f16, h, w, c, heads, ws, bout);
  gpu_test_submit (rec);
  g_test_message ("%s: %.3f s on the GPU", what, gpu_test_lap ());
  g_autofree float *got = gpu_test_download (bout, n * c);
  gpu_reference_window_attention (qkv, bias, h, w, c, heads, ws, want);
  gpu_test_assert_close (what, got, want, NULL, n * c, RTOL, ATOL);
}

static void
test_window_small (void)
{
  /* tiny models: 24/12/6/3 grids, head dim 16, window 12 (6 and 3 are padded to 12) */
  run_window (24, 24, 16, 1, 12, FALSE, 1);
  run_window (12, 12, 32, 2, 12, TRUE, 2);
  run_window (6, 6, 48, 3, 12, FALSE, 3);
  run_window (3, 3, 64, 4, 12, TRUE, 4);
  /* odd shapes: padding on one side only, small windows */
  run_window (13, 7, 16, 1, 4, FALSE, 5);
  run_window (5, 11, 96, 3, 3, FALSE, 6);
  /* one query (the rest of its window is padding); windows of 17² = 289 queries and keys (no
   * multiple of the GPU set's workgroups and key blocks), padded on both sides */
  run_window (1, 1, 32, 2, 4, TRUE, 7);
  run_window (20, 18, 16, 1, 17, FALSE, 8);
}

static void
test_window_padding_matters (void)
{
  /* The padded keys carry the qkv bias: a kernel that masked them or used zeros would
   * differ. Check that the bias changes the result of a padded grid. */
  guint h = 5, w = 5, c = 16, ws = 4;
  gsize n = (gsize) h * w;
  g_autofree float *qkv = gpu_test_random (n * 3 * c, 50, -1, 1);
  g_autofree float *bias = gpu_test_random (3 * c, 51, -3, 3);
  g_autofree float *zeros = g_new0 (float, 3 * c);
  g_autoptr (GpuBuffer) bqkv = gpu_test_upload (qkv, n * 3 * c);
  g_autoptr (GpuBuffer) bbias = gpu_test_upload (bias, 3 * c);
  g_autoptr (GpuBuffer) bzero = gpu_test_upload (zeros, 3 * c);
  g_autoptr (GpuBuffer) o1 = gpu_test_buffer (n * c);
  g_autoptr (GpuBuffer) o2 = gpu_test_buffer (n * c);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  gpu_op_attention_window (rec, bqkv, bbias, FALSE, h, w, c, 1, ws, o1);
  gpu_op_attention_window (rec, bqkv, bzero, FALSE, h, w, c, 1, ws, o2);
  gpu_test_submit (rec);
  g_autofree float *a = gpu_test_download (o1, n * c);
  g_autofree float *b = gpu_test_download (o2, n * c);
  double diff = 0;
  for (gsize i = 0; i < n * c; i++)
    diff = MAX (diff, fabs (a[i] - b[i]));
  g_assert_cmpfloat (diff, >, 1e-2);
}

static void
test_window_real (void)
{
  /* Florence-2-base: stage 3 tile of 24×24 with 4 heads of 32, and a padded 30×30 grid
   * (a 360×360-ish input, not a multiple of 12) */
  run_window (24, 24, 128, 4, 12, TRUE, 10);
  run_window (30, 30, 128, 4, 12, TRUE, 11);
}

static void
run_channel (guint n, guint c, guint groups, guint32 seed)
{
  g_autofree float *qkv = gpu_test_random ((gsize) n * 3 * c, seed, -1, 1);
  g_autofree float *want = g_new (float, (gsize) n *c);
  g_autoptr (GpuBuffer) bqkv = gpu_test_upload (qkv, (gsize) n * 3 * c);
  g_autoptr (GpuBuffer) bout = gpu_test_buffer ((gsize) n * c);
  guint64 scratch_bytes = gpu_op_attention_channel_scratch_size (gpu_test_device (), n, c, groups);
  g_autoptr (GpuBuffer) scratch = gpu_test_buffer (scratch_bytes / 4 + 64);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autofree char *what = g_strdup_printf ("channel attention n %u c %u groups %u", n, c, groups);

  gpu_test_lap ();
  gpu_op_attention_channel (rec, bqkv, n, c, groups, scratch, bout);
  gpu_test_submit (rec);
  g_test_message ("%s: %.3f s on the GPU", what, gpu_test_lap ());
  g_autofree float *got = gpu_test_download (bout, (gsize) n * c);
  gpu_reference_channel_attention (qkv, n, c, groups, want);
  gpu_test_assert_close (what, got, want, NULL, (gsize) n * c, RTOL, ATOL);
}

static void
test_channel_small (void)
{
  run_channel (1, 16, 1, 20);
  run_channel (37, 48, 3, 21);
  run_channel (144, 32, 2, 22);
  run_channel (577, 64, 2, 23);
  run_channel (9216, 16, 1, 24); /* tiny model stage 0 at 384²: many splits */
}

static void
test_channel_real (void)
{
  /* Florence-2-base stage 2: N = 2 304 tokens, C = 512, 16 groups of 32 */
  run_channel (2304, 512, 16, 30);
}

typedef struct {
  guint batch, n_q, n_kv, heads, hd;
  gboolean causal, shared_kv;
} MhaCase;

static void
run_mha (const MhaCase *mc, guint32 seed)
{
  guint d = mc->heads * mc->hd;
  guint cap = mc->n_kv + 3; /* cache rows per beam, more than used */
  gsize nq = (gsize) mc->batch * mc->n_q * 3 * d;
  guint kv_batches = mc->shared_kv ? 1 : mc->batch;
  gsize nkv = (gsize) kv_batches * cap * 2 * d;
  g_autofree float *q = gpu_test_random (nq, seed, -1, 1);
  g_autofree float *kv = gpu_test_random (nkv, seed + 1, -1, 1);
  gsize nout = (gsize) mc->batch * mc->n_q * d;
  g_autofree float *want = g_new (float, nout);
  g_autoptr (GpuBuffer) bq = gpu_test_upload (q, nq);
  g_autoptr (GpuBuffer) bkv = gpu_test_upload (kv, nkv);
  g_autoptr (GpuBuffer) bout = gpu_test_buffer (nout);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  float scale = 1.0f / sqrtf ((float) mc->hd);
  g_autofree char *what = g_strdup_printf (
    "attention batch %u q %u kv %u heads %u hd %u%s%s", mc->batch, mc->n_q, mc->n_kv, mc->heads,
    mc->hd, mc->causal ? " causal" : "", mc->shared_kv ? " shared kv" : "");

  /* q: the first third of rows of width 3d (a fused projection); k and v: interleaved
   * [cap, 2d] cache rows per batch (k at column 0, v at column d) */
  guint kv_bstride = mc->shared_kv ? 0 : cap * 2 * d;
  GpuAttention args = {
    .q = { bq, d, 3 * d, mc->n_q * 3 * d },
    .k = { bkv, 0, 2 * d, kv_bstride },
    .v = { bkv, d, 2 * d, kv_bstride },
    .out = { bout, 0, d, mc->n_q * d },
    .batch = mc->batch,
    .n_q = mc->n_q,
    .n_kv = mc->n_kv,
    .heads = mc->heads,
    .head_dim = mc->hd,
    .scale = scale,
    .causal = mc->causal,
  };
  gpu_test_lap ();
  gpu_op_attention (rec, &args);
  gpu_test_submit (rec);
  g_test_message ("%s: %.3f s on the GPU", what, gpu_test_lap ());
  g_autofree float *got = gpu_test_download (bout, nout);
  gpu_reference_attention (q + d, 3 * d, (gsize) mc->n_q * 3 * d, kv, 2 * d, kv + d, 2 * d,
                           kv_bstride, want, d, (gsize) mc->n_q * d, mc->batch, mc->n_q, mc->n_kv,
                           mc->heads, mc->hd, scale, mc->causal);
  gpu_test_assert_close (what, got, want, NULL, nout, RTOL, ATOL);
}

static void
test_mha_small (void)
{
  const MhaCase cases[] = {
    { 1, 17, 17, 3, 16, FALSE, FALSE }, /* encoder self-attention, tiny model */
    { 1, 1, 1, 1, 16, FALSE, FALSE },
    { 1, 9, 9, 2, 64, TRUE, FALSE },    /* causal prefill */
    { 2, 5, 12, 2, 16, TRUE, FALSE },   /* causal, queries at the end of the keys */
    { 3, 1, 13, 4, 16, FALSE, FALSE },  /* decoder step: 3 beams, own cache rows, t = 13 */
    { 3, 1, 29, 4, 16, FALSE, TRUE },   /* cross-attention: keys shared by the beams */
    { 2, 1, 5, 3, 32, TRUE, FALSE },    /* decoder step with fewer keys than lanes */
    { 2, 70, 65, 1, 16, FALSE, FALSE }, /* more queries than a workgroup */
    /* the GPU set's key blocks (on lavapipe 32 keys for hd ≤ 32, 16 for hd 64) and workgroups
     * (64 queries): counts that are no multiple of either, causal workgroups that see different
     * key counts, several queries against keys shared by the beams */
    { 2, 100, 133, 2, 32, TRUE, FALSE },
    { 1, 130, 130, 1, 16, TRUE, FALSE },
    { 3, 7, 75, 2, 64, FALSE, TRUE },
  };
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    run_mha (&cases[i], 40 + i);
}

static void
test_mha_real (void)
{
  /* BART encoder of Florence-2-base: L = 590, heads of 64 (4 of the 12: the heads are
   * independent workgroups, and the double-precision reference is the slow part); a decoder
   * step of 3 beams against 590 cross keys and a 40-token self cache, all 12 heads */
  const MhaCase enc = { 1, 590, 590, 4, 64, FALSE, FALSE };
  const MhaCase cross = { 3, 1, 590, 12, 64, FALSE, TRUE };
  const MhaCase self = { 3, 1, 40, 12, 64, TRUE, FALSE };
  run_mha (&enc, 60);
  run_mha (&cross, 61);
  run_mha (&self, 62);
  /* many keys, close to what lavapipe's loop limit allows each kernel (gpu_op_util_check_loops):
   * a kernel that counted fewer iterations than it runs would be cut short and differ */
  const MhaCase many = { 1, 2, 24000, 1, 16, FALSE, FALSE };
  run_mha (&many, 63);
}

/* The dispatch count of @label in a timings table (gpu_device_get_timings_table), 0 if absent. */
static guint64
dispatches (const char *table, const char *label)
{
  g_auto (GStrv) lines = g_strsplit (table, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
      if (g_strcmp0 (f[0], label) != 0)
        continue;
      /* op, ms, count, share, with runs of spaces between */
      guint field = 0;
      for (guint j = 1; f[j] != NULL; j++)
        if (*f[j] != '\0' && ++field == 2)
          return g_ascii_strtoull (f[j], NULL, 10);
    }
  return 0;
}

/* Which kernels each set dispatches (the labels of the per-op timings): the GPU set runs the
 * flash kernels for windows and for several queries, the CPU set the per-lane ones; one query
 * runs attention_decode in both. */
static void
test_variants (void)
{
  GpuDevice *device = gpu_test_device ();
  if (!gpu_device_get_limits (device)->timestamps)
    {
      g_test_skip ("the device has no compute timestamps to name the dispatched kernels");
      return;
    }
  gboolean gpu = gpu_test_kernels () == GPU_KERNELS_GPU;
  guint h = 5, w = 6, c = 16, d = 16;
  g_autoptr (GpuBuffer) bqkv = gpu_test_buffer ((gsize) h * w * 3 * c);
  g_autoptr (GpuBuffer) bbias = gpu_test_buffer (3 * c);
  g_autoptr (GpuBuffer) bout = gpu_test_buffer ((gsize) h * w * c);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  GpuAttention args = {
    .q = { bqkv, 0, 3 * d, 0 },
    .k = { bqkv, d, 3 * d, 0 },
    .v = { bqkv, 2 * d, 3 * d, 0 },
    .out = { bout, 0, d, 0 },
    .batch = 1,
    .n_q = 3,
    .n_kv = 7,
    .heads = 1,
    .head_dim = d,
    .scale = 1,
  };

  gpu_device_reset_timings (device);
  gpu_device_set_timestamps (device, TRUE);
  gpu_op_attention_window (rec, bqkv, bbias, FALSE, h, w, c, 1, 4, bout);
  gpu_op_attention (rec, &args);
  args.n_q = 1;
  gpu_op_attention (rec, &args);
  gpu_test_submit (rec);
  gpu_device_set_timestamps (device, FALSE);
  g_autofree char *table = gpu_device_get_timings_table (device);
  gpu_device_reset_timings (device);
  g_assert_nonnull (table);
  g_test_message ("%s", table);
  g_assert_cmpuint (dispatches (table, "attention_window_flash"), ==, gpu ? 1 : 0);
  g_assert_cmpuint (dispatches (table, "attention_window"), ==, gpu ? 0 : 1);
  g_assert_cmpuint (dispatches (table, "attention_flash"), ==, gpu ? 1 : 0);
  /* attention.comp and attention_decode.comp share the op's label */
  g_assert_cmpuint (dispatches (table, "attention"), ==, gpu ? 1 : 2);
}

static void
test_mha_errors (void)
{
  g_autoptr (GpuBuffer) b = gpu_test_buffer (64);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autoptr (GError) error = NULL;
  GpuAttention args = {
    .q = { b, 0, 16, 0 },
    .k = { b, 0, 16, 0 },
    .v = { b, 0, 16, 0 },
    .out = { b, 0, 16, 0 },
    .batch = 1,
    .n_q = 8,
    .n_kv = 8,
    .heads = 1,
    .head_dim = 16,
    .scale = 1,
  };

  /* 8 rows of 16 do not fit in 64 floats */
  gpu_op_attention (rec, &args);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* head dimension above the limit */
  args.n_q = args.n_kv = 1;
  args.head_dim = 65;
  args.q.row_stride = args.k.row_stride = args.v.row_stride = args.out.row_stride = 65;
  gpu_op_attention (rec, &args);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
}

static void
test_cache_reorder (void)
{
  guint beams = 3, cap = 11, t = 7, d = 24;
  gsize n = (gsize) beams * cap * d;
  const guint beam[] = { 2, 0, 0 };
  const gint32 beam32[] = { 2, 0, 0 };
  g_autofree float *src = gpu_test_random (n, 70, -1, 1);
  g_autofree float *dst0 = gpu_test_random (n, 71, -1, 1);
  g_autofree float *want = g_memdup2 (dst0, n * sizeof (float));
  g_autoptr (GpuBuffer) bs = gpu_test_upload (src, n);
  g_autoptr (GpuBuffer) bd = gpu_test_upload (dst0, n);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  gpu_op_kv_cache_reorder (rec, bs, bd, beams, beam, cap, t, d);
  gpu_test_submit (rec);
  g_autofree float *got = gpu_test_download (bd, n);
  gpu_reference_cache_reorder (src, beam32, beams, cap, t, d, want);
  gpu_test_assert_close ("cache reorder", got, want, NULL, n, 0, 0);

  g_autoptr (GError) error = NULL;
  const guint bad[] = { 0, 3, 1 };
  gpu_op_kv_cache_reorder (rec, bs, bd, beams, bad, cap, t, d);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* a cache of more than 2³² elements is refused, not skipped in silence */
  gpu_op_kv_cache_reorder (rec, bs, bd, beams, beam, 1u << 20, t, 1u << 11);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  gpu_test_add_kernel_sets ("/gpu/op/attention/window/small", test_window_small);
  gpu_test_add_kernel_sets ("/gpu/op/attention/window/padding-uses-bias",
                            test_window_padding_matters);
  gpu_test_add_kernel_sets ("/gpu/op/attention/window/real", test_window_real);
  gpu_test_add_kernel_sets ("/gpu/op/attention/channel/small", test_channel_small);
  gpu_test_add_kernel_sets ("/gpu/op/attention/channel/real", test_channel_real);
  gpu_test_add_kernel_sets ("/gpu/op/attention/mha/small", test_mha_small);
  gpu_test_add_kernel_sets ("/gpu/op/attention/mha/real", test_mha_real);
  gpu_test_add_kernel_sets ("/gpu/op/attention/variants", test_variants);
  g_test_add_func ("/gpu/op/attention/mha/errors", test_mha_errors);
  g_test_add_func ("/gpu/op/attention/cache-reorder", test_cache_reorder);
  return gpu_test_run ();
}
