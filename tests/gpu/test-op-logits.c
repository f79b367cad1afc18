/* test-op-logits.c: log-softmax + bans + forced tokens + top-k against the C reference
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Ids must match exactly (including the tie order: equal values keep the smaller id first).
 * Values: logit − lse in fp32, with lse summed in fp32 by chunks on the GPU against a
 * double sum: |lse| ≲ 20, so atol 1e-5 + rtol 1e-6 covers the rounding; −inf and 0 are
 * exact. The row max is exact, the lse within the same tolerance.
 */
#include "config.h"

#include <math.h>

#include "gpu/gpu-op-logits.h"
#include "gpu-reference.h"
#include "gpu-test-util.h"

typedef struct {
  guint rows, n, k;
  const gint32 *forced;    /* rows entries or NULL */
  const guint *ban_counts; /* rows entries or NULL */
  const gint32 *bans;
  gboolean ties; /* many equal logits */
} TopkCase;

static void
run_topk (const TopkCase *tc, guint32 seed)
{
  guint stride = tc->n + 5; /* rows padded: the op reads with a stride */
  gsize total = (gsize) tc->rows * stride;
  g_autofree float *logits = gpu_test_random (total, seed, -10, 15);
  if (tc->ties)
    for (gsize i = 0; i < total; i++)
      logits[i] = roundf (logits[i] / 4); /* a few distinct values, ties everywhere */
  guint n_bans = 0;
  for (guint r = 0; tc->ban_counts && r < tc->rows; r++)
    n_bans += tc->ban_counts[r];
  GpuDevice *dev = gpu_test_device ();
  g_autoptr (GpuBuffer) bl = gpu_test_upload (logits, total);
  g_autoptr (GpuBuffer) ctl = gpu_test_buffer (gpu_op_logits_topk_ctl_size (tc->rows, n_bans) / 4);
  g_autoptr (GpuBuffer) scratch =
    gpu_test_buffer (gpu_op_logits_topk_scratch_size (dev, tc->rows, tc->k) / 4);
  guint64 out_bytes = gpu_op_logits_topk_out_size (tc->rows, tc->k);
  g_autoptr (GpuBuffer) bout = gpu_test_buffer (out_bytes / 4);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();
  g_autofree guint8 *out = g_malloc (out_bytes);
  g_autofree char *what =
    g_strdup_printf ("topk rows %u n %u k %u%s%s%s", tc->rows, tc->n, tc->k,
                     tc->forced ? " forced" : "", n_bans ? " bans" : "", tc->ties ? " ties" : "");

  gpu_test_lap ();
  gpu_op_logits_topk (rec, bl, 0, stride, tc->rows, tc->n, tc->forced, tc->bans, tc->ban_counts,
                      tc->k, ctl, scratch, bout);
  gpu_recorder_download (rec, bout, 0, out, out_bytes);
  gpu_test_submit (rec);
  g_test_message ("%s: %.3f s on the GPU", what, gpu_test_lap ());

  guint ban_off = 0;
  for (guint r = 0; r < tc->rows; r++)
    {
      g_autofree GpuTopkCandidate *cand = g_new (GpuTopkCandidate, tc->k);
      g_autofree gint32 *ids = g_new (gint32, tc->k);
      g_autofree float *vals = g_new (float, tc->k);
      g_autofree float *got_vals = g_new (float, tc->k);
      float max, lse, want_max, want_lse;
      guint nb = tc->ban_counts ? tc->ban_counts[r] : 0;

      gpu_op_logits_topk_parse (out, r, tc->k, cand, &max, &lse);
      gpu_reference_logits_topk (logits + (gsize) r * stride, tc->n, tc->bans + ban_off, nb,
                                 tc->forced ? tc->forced[r] : -1, tc->k, ids, vals, &want_max,
                                 &want_lse);
      ban_off += nb;
      for (guint j = 0; j < tc->k; j++)
        {
          if (cand[j].id != ids[j])
            g_error ("%s: row %u candidate %u: id %d, want %d (value %g, want %g)", what, r, j,
                     cand[j].id, ids[j], cand[j].value, vals[j]);
          got_vals[j] = cand[j].value;
        }
      gpu_test_assert_close (what, got_vals, vals, NULL, tc->k, 1e-6, 1e-5);
      gpu_test_assert_close ("row max", &max, &want_max, NULL, 1, 0, 0);
      gpu_test_assert_close ("row lse", &lse, &want_lse, NULL, 1, 1e-6, 1e-5);
    }
}

static void
test_topk_small (void)
{
  const TopkCase plain = { 1, 1000, 6 };
  const TopkCase one = { 1, 1, 1 };
  const TopkCase short_row = { 2, 4, 6 }; /* k > n: the missing candidates are −inf */
  const TopkCase k16 = { 3, 777, 16 };
  const TopkCase ties = { 2, 5000, 6, NULL, NULL, NULL, TRUE };
  run_topk (&plain, 1);
  run_topk (&one, 2);
  run_topk (&short_row, 3);
  run_topk (&k16, 4);
  run_topk (&ties, 5);
}

static void
test_topk_bans_forced (void)
{
  /* bans: row 0 bans its own top ids (found below), row 1 none, row 2 out-of-range ids */
  guint n = 3001;
  g_autofree float *probe = gpu_test_random ((gsize) 3 * (n + 5), 20, -10, 15);
  gint32 top[3] = { 0, 1, 2 };
  for (guint i = 0; i < n; i++) /* the 3 largest of row 0 */
    {
      float v = probe[i];
      if (v > probe[top[0]])
        top[2] = top[1], top[1] = top[0], top[0] = (gint32) i;
      else if (v > probe[top[1]] && (gint32) i != top[0])
        top[2] = top[1], top[1] = (gint32) i;
      else if (v > probe[top[2]] && (gint32) i != top[0] && (gint32) i != top[1])
        top[2] = (gint32) i;
    }
  const gint32 bans[] = { top[0], top[2], 17, top[0], -5, 999999 };
  const guint counts[] = { 4, 0, 2 };
  const TopkCase banned = { 3, n, 6, NULL, counts, bans };
  run_topk (&banned, 20);

  /* forced BOS on row 0 (id 0), forced EOS on row 2 (id 2), none on row 1 */
  const gint32 forced[] = { 0, -1, 2 };
  const TopkCase forcing = { 3, n, 6, forced, counts, bans };
  run_topk (&forcing, 21);
}

static void
test_topk_real (void)
{
  /* Florence-2: 3 beams × 51 289 logits, k = 6, with n-gram bans on two beams */
  const gint32 bans[] = { 5, 50265, 2, 51288, 0, 100 };
  const guint counts[] = { 2, 0, 4 };
  const TopkCase real = { 3, 51289, 6, NULL, counts, bans };
  run_topk (&real, 30);
  const gint32 forced[] = { 0, 0, 0 };
  const TopkCase bos = { 3, 51289, 6, forced };
  run_topk (&bos, 31);
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  gpu_test_add_kernel_sets ("/gpu/op/logits-topk/small", test_topk_small);
  gpu_test_add_kernel_sets ("/gpu/op/logits-topk/bans-forced", test_topk_bans_forced);
  gpu_test_add_kernel_sets ("/gpu/op/logits-topk/real", test_topk_real);
  return gpu_test_run ();
}
