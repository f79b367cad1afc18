/* test-op-embed.c: embedding gather, image position embedding and mean over tokens, against
 * the C reference
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Tolerances: the gather and the additions are exact (the same fp32 operations in the same
 * order on both sides; fp16 tables are rounded before the reference sees them). The mean is
 * an fp32 sum of n ≤ 576 values of order 1 against a double sum: atol 1e-6 + rtol 1e-5.
 */
#include "config.h"

#include "gpu/gpu-op-embed.h"
#include "gpu-reference.h"
#include "gpu-test-util.h"

static void
run_embedding (guint vocab, guint d, guint n, gboolean table_f16, gboolean with_pos,
               gboolean pos_f16, guint pos_start, guint pos_step, guint out_row, guint32 seed)
{
  guint pos_rows = pos_start + (n - 1) * pos_step + 1 + 3;
  gsize n_out = (gsize) (out_row + n + 1) * d;
  g_autofree float *table = gpu_test_random ((gsize) vocab * d, seed, -1, 1);
  g_autofree float *pos = gpu_test_random ((gsize) pos_rows * d, seed + 1, -1, 1);
  g_autofree float *init = gpu_test_random (n_out, seed + 2, -1, 1);
  g_autofree gint32 *ids = g_new (gint32, n);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed + 3);
  for (guint i = 0; i < n; i++)
    ids[i] = g_rand_int_range (rand, 0, vocab);
  ids[0] = vocab - 1;
  g_autoptr (GpuBuffer) bt = table_f16 ? gpu_test_upload_f16 (table, (gsize) vocab * d)
                                       : gpu_test_upload (table, (gsize) vocab * d);
  g_autoptr (GpuBuffer) bp = pos_f16 ? gpu_test_upload_f16 (pos, (gsize) pos_rows * d)
                                     : gpu_test_upload (pos, (gsize) pos_rows * d);
  g_autoptr (GpuBuffer) bids = gpu_test_upload_bytes (ids, n * sizeof (gint32));
  g_autoptr (GpuBuffer) bout = gpu_test_upload (init, n_out);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  gpu_op_embedding (rec, bt, table_f16, vocab, d, bids, n, with_pos ? bp : NULL, pos_f16, pos_start,
                    pos_step, bout, (guint64) out_row * d);
  gpu_test_submit (rec);
  g_autofree float *got = gpu_test_download (bout, n_out);
  /* rows outside [out_row, out_row + n) keep their contents */
  gpu_reference_embedding (table, d, ids, n, with_pos ? pos : NULL, pos_start, pos_step,
                           init + (gsize) out_row * d);
  g_autofree char *what = g_strdup_printf ("embedding vocab %u d %u n %u", vocab, d, n);
  gpu_test_assert_close (what, got, init, NULL, n_out, 0, 0);
}

static void
test_embedding (void)
{
  /* encoder prompt: positions 577 + 2 …; out rows after the 577 image rows */
  run_embedding (100, 16, 9, FALSE, TRUE, FALSE, 579, 1, 5, 1);
  run_embedding (51289, 32, 13, TRUE, TRUE, TRUE, 2, 1, 0, 2);
  /* decoder step: 3 beams at the same position t + 2 */
  run_embedding (301, 48, 3, TRUE, TRUE, FALSE, 7, 0, 0, 3);
  run_embedding (7, 33, 1, FALSE, FALSE, FALSE, 0, 0, 2, 4);
  /* Florence-2-base: the shared [51 289, 768] fp16 table, a 13-token prompt */
  run_embedding (51289, 768, 13, TRUE, TRUE, TRUE, 579, 1, 577, 5);
}

static void
test_embedding_bad_id (void)
{
  guint vocab = 10, d = 8;
  g_autofree float *table = gpu_test_random (vocab * d, 6, -1, 1);
  gint32 ids[] = { 3, -1, 10, 1000000 };
  g_autoptr (GpuBuffer) bt = gpu_test_upload (table, vocab * d);
  g_autoptr (GpuBuffer) bids = gpu_test_upload_bytes (ids, sizeof ids);
  g_autoptr (GpuBuffer) bout = gpu_test_buffer (4 * d);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  gpu_op_embedding (rec, bt, FALSE, vocab, d, bids, 4, NULL, FALSE, 0, 0, bout, 0);
  gpu_test_submit (rec);
  g_autofree float *got = gpu_test_download (bout, 4 * d);
  for (guint e = 0; e < d; e++)
    {
      g_assert_cmpfloat (got[e], ==, table[3 * d + e]);
      for (guint r = 1; r < 4; r++)
        g_assert_cmpfloat (got[r * d + e], ==, 0.0f);
    }
}

static void
run_pos2d (guint h, guint w, guint d, gboolean f16, gboolean with_temporal, gboolean in_place,
           guint32 seed)
{
  gsize n = (gsize) h * w * d;
  /* the tables have 50 rows as in Florence-2; the output lands in rows 1.. of [1 + h·w, d] */
  g_autofree float *x = gpu_test_random (n, seed, -1, 1);
  g_autofree float *col = gpu_test_random (50 * (gsize) d / 2, seed + 1, -1, 1);
  g_autofree float *row = gpu_test_random (50 * (gsize) d / 2, seed + 2, -1, 1);
  g_autofree float *temporal = g_new (float, d);
  for (guint e = 0; e < d; e++)
    temporal[e] = e % 2; /* row 0 of the cosine table: 0, 1, 0, 1, … */
  g_autofree float *want = g_new0 (float, n + d);
  g_autoptr (GpuBuffer) bx = gpu_test_upload (x, n);
  g_autoptr (GpuBuffer) bcol =
    f16 ? gpu_test_upload_f16 (col, 50 * d / 2) : gpu_test_upload (col, 50 * d / 2);
  g_autoptr (GpuBuffer) brow =
    f16 ? gpu_test_upload_f16 (row, 50 * d / 2) : gpu_test_upload (row, 50 * d / 2);
  g_autoptr (GpuBuffer) bt =
    f16 ? gpu_test_upload_f16 (temporal, d) : gpu_test_upload (temporal, d);
  g_autoptr (GpuBuffer) bout = gpu_test_buffer (n + d);
  g_autoptr (GpuRecorder) rec = gpu_test_recorder ();

  if (in_place)
    gpu_op_pos2d (rec, bx, 0, h, w, d, bcol, brow, f16, with_temporal ? bt : NULL, f16, bx, 0);
  else
    gpu_op_pos2d (rec, bx, 0, h, w, d, bcol, brow, f16, with_temporal ? bt : NULL, f16, bout, d);
  /* then the pooled token into row 0 */
  if (!in_place)
    gpu_op_mean_rows (rec, bout, d, h * w, d, bout, 0);
  gpu_test_submit (rec);
  gpu_reference_pos2d (x, h, w, d, col, row, with_temporal ? temporal : NULL, want + d);
  g_autofree char *what =
    g_strdup_printf ("pos2d %ux%u d %u%s%s", h, w, d, with_temporal ? " +temporal" : "",
                     in_place ? " in place" : "");
  if (in_place)
    {
      g_autofree float *got = gpu_test_download (bx, n);
      gpu_test_assert_close (what, got, want + d, NULL, n, 0, 0);
      return;
    }
  g_autofree float *got = gpu_test_download (bout, n + d);
  gpu_test_assert_close (what, got + d, want + d, NULL, n, 0, 0);
  gpu_reference_mean_rows (want + d, (gsize) h * w, d, want);
  gpu_test_assert_close ("mean over tokens", got, want, NULL, d, 1e-5, 1e-6);
}

static void
test_pos2d_mean (void)
{
  run_pos2d (3, 3, 64, FALSE, TRUE, FALSE, 10); /* tiny model: 3×3 grid */
  run_pos2d (5, 7, 6, TRUE, FALSE, FALSE, 11);
  run_pos2d (4, 2, 10, FALSE, TRUE, TRUE, 12);
  run_pos2d (24, 24, 1024, TRUE, TRUE, FALSE, 13); /* Florence-2-base: 24×24 × 1024 */
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  g_test_add_func ("/gpu/op/embedding", test_embedding);
  g_test_add_func ("/gpu/op/embedding/bad-id", test_embedding_bad_id);
  g_test_add_func ("/gpu/op/pos2d-mean", test_pos2d_mean);
  return gpu_test_run ();
}
