/* test-cpu-kernels.c: the CPU engine's kernels and thread pool against plain loops
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every kernel of each table this machine runs (the generic one, and the AVX2 one where the
 * CPU has it) on random inputs whose sizes are not multiples of the vector width, against
 * straightforward double-precision loops; the pool runs every task exactly once with any
 * number of threads; the checkpoint's released pages read back unchanged.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "florence/engine/florence-cpu-kernels.h"
#include "florence/engine/florence-cpu-pool.h"
#include "florence/files/florence-checkpoint.h"

static GRand *rng;

static float *
random_floats (gsize n, double scale)
{
  float *v = g_new (float, MAX (n, (gsize) 1));
  for (gsize i = 0; i < n; i++)
    v[i] = (float) (g_rand_double_range (rng, -1.0, 1.0) * scale);
  return v;
}

static void
assert_close (const char *what, const float *got, const double *want, gsize n, double atol,
              double rtol)
{
  for (gsize i = 0; i < n; i++)
    if (!(fabs (got[i] - want[i]) <= atol + rtol * fabs (want[i])))
      {
        g_test_fail_printf ("%s: element %" G_GSIZE_FORMAT " is %.9g, expected %.9g", what, i,
                            got[i], want[i]);
        return;
      }
}

typedef void (*KernelTest) (const FlorenceCpuKernels *k);

static void
for_each_table (KernelTest fn)
{
  const FlorenceCpuKernels *tables[] = { florence_cpu_kernels_generic (),
                                         florence_cpu_kernels_avx2 () };
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    if (tables[i] != NULL)
      {
        g_test_message ("kernels: %s", tables[i]->name);
        fn (tables[i]);
      }
}

static void
check_elementwise (const FlorenceCpuKernels *k)
{
  const gsize sizes[] = { 1, 7, 8, 9, 31, 768, 1001 };
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      const gsize n = sizes[s];
      g_autofree float *x = random_floats (n, 6.0), *b = random_floats (n, 1.0);
      g_autofree float *y = g_memdup2 (x, n * sizeof (float));
      g_autofree double *want = g_new (double, n);

      k->bias_gelu (y, b, n);
      for (gsize i = 0; i < n; i++)
        {
          double v = (double) x[i] + b[i];
          want[i] = 0.5 * v * (1.0 + erf (v * M_SQRT1_2));
        }
      assert_close ("gelu", y, want, n, 1e-6, 1e-6);

      memcpy (y, x, n * sizeof (float));
      k->add_bias (y, b, n);
      for (gsize i = 0; i < n; i++)
        want[i] = (double) x[i] + b[i];
      assert_close ("add_bias", y, want, n, 1e-6, 0);

      /* layernorm */
      g_autofree float *w = random_floats (n, 1.0);
      k->layernorm (x, y, n, w, b);
      double mean = 0, var = 0;
      for (gsize i = 0; i < n; i++)
        mean += x[i];
      mean /= (double) n;
      for (gsize i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
      var /= (double) n;
      for (gsize i = 0; i < n; i++)
        want[i] = (x[i] - mean) / sqrt (var + 1e-5) * w[i] + b[i];
      assert_close ("layernorm", y, want, n, 1e-5, 1e-5);

      /* max and Σ exp(x - max) */
      float m = k->max (x, n);
      double wm = -INFINITY, sum = 0;
      for (gsize i = 0; i < n; i++)
        wm = MAX (wm, x[i]);
      g_assert_cmpfloat (m, ==, wm);
      for (gsize i = 0; i < n; i++)
        sum += exp ((double) x[i] - wm);
      g_assert_cmpfloat_with_epsilon (k->sum_exp (x, n, m), sum, sum * 1e-6);

      /* fp16 → fp32 is exact, subnormals and infinities included */
      g_autofree guint16 *h = g_new (guint16, n);
      for (gsize i = 0; i < n; i++)
        h[i] = (guint16) g_rand_int_range (rng, 0, 0x10000);
      h[0] = 0x0001; /* the smallest subnormal */
      if (n > 1)
        h[1] = 0x7c00; /* +inf */
      k->f16_to_f32 (h, y, n);
      for (gsize i = 0; i < n; i++)
        {
          float f = florence_f16_to_f32 (h[i]);
          if (!(isnan (f) && isnan (y[i])))
            g_assert_cmpfloat (y[i], ==, f);
        }
    }
}

static void
test_elementwise (void)
{
  for_each_table (check_elementwise);
}

static void
check_dwconv (const FlorenceCpuKernels *k)
{
  const int H = 5, W = 7, C = 13;
  const gsize n = (gsize) H * W * C;
  g_autofree float *in = random_floats (n, 1.0), *w9 = random_floats (9 * C, 1.0);
  g_autofree float *b = random_floats (C, 1.0), *out = g_new (float, n);
  g_autofree double *want = g_new (double, n);
  for (int y = 0; y < H; y++)
    k->dwconv3x3_row (in, out, H, W, C, y, w9, b);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int c = 0; c < C; c++)
        {
          double acc = b[c];
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++)
              {
                int iy = y + ky - 1, ix = x + kx - 1;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                  acc += (double) in[((gsize) iy * W + ix) * C + c] * w9[(ky * 3 + kx) * C + c];
              }
          gsize i = ((gsize) y * W + x) * C + c;
          want[i] = in[i] + acc;
        }
  assert_close ("dwconv3x3", out, want, n, 1e-5, 1e-5);
}

static void
test_dwconv (void)
{
  for_each_table (check_dwconv);
}

/* attention with transposed and with row keys, against plain loops */
static void
check_attention (const FlorenceCpuKernels *k)
{
  const int shapes[][3] = { { 1, 5, 16 }, { 3, 586, 64 }, { 7, 13, 20 }, { 144, 144, 32 } };
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      const int nq = shapes[s][0], nk = shapes[s][1], hd = shapes[s][2];
      const gsize nkp = (gsize) (nk + 7) / 8 * 8;
      g_autofree float *q = random_floats ((gsize) nq * hd, 1.0);
      g_autofree float *kr = random_floats ((gsize) nk * hd, 1.0);
      g_autofree float *v = random_floats ((gsize) nk * hd, 1.0);
      g_autofree float *kt = g_new0 (float, (gsize) hd *nkp);
      for (int j = 0; j < nk; j++)
        for (int c = 0; c < hd; c++)
          kt[(gsize) c * nkp + j] = kr[(gsize) j * hd + c];
      g_autofree float *o = g_new (float, (gsize) nq *hd);
      g_autofree float *scratch = g_new (float, florence_cpu_attention_scratch (nk));
      g_autofree double *want = g_new (double, (gsize) nq *hd);
      g_autofree double *p = g_new (double, nk);
      for (int i = 0; i < nq; i++)
        {
          double max = -INFINITY, sum = 0;
          for (int j = 0; j < nk; j++)
            {
              double d = 0;
              for (int c = 0; c < hd; c++)
                d += (double) q[(gsize) i * hd + c] * kr[(gsize) j * hd + c];
              p[j] = d;
              max = MAX (max, d);
            }
          for (int j = 0; j < nk; j++)
            sum += (p[j] = exp (p[j] - max));
          for (int c = 0; c < hd; c++)
            {
              double acc = 0;
              for (int j = 0; j < nk; j++)
                acc += p[j] * v[(gsize) j * hd + c];
              want[(gsize) i * hd + c] = acc / sum;
            }
        }
      for (int transposed = 0; transposed < 2; transposed++)
        {
          FlorenceCpuAttention a = {
            .q = q,
            .ldq = (gsize) hd,
            .kt = transposed ? kt : NULL,
            .ldkt = nkp,
            .k = transposed ? NULL : kr,
            .ldk = (gsize) hd,
            .v = v,
            .ldv = (gsize) hd,
            .o = o,
            .ldo = (gsize) hd,
            .nq = nq,
            .nk = nk,
            .hd = hd,
            .scratch = scratch,
          };
          k->attention (&a);
          assert_close (transposed ? "attention (keys transposed)" : "attention (key rows)", o,
                        want, (gsize) nq * hd, 1e-5, 1e-4);
        }
    }
}

static void
test_attention (void)
{
  for_each_table (check_attention);
}

/* matrix × few vectors, fp16 and fp32 weights, 1 … 9 rows, plain and accumulating */
static void
check_gemv (const FlorenceCpuKernels *k)
{
  const gsize N = 37, K = 77;
  for (guint B = 1; B <= 9; B++)
    for (int accumulate = 0; accumulate < 2; accumulate++)
      {
        g_autofree float *x = random_floats (B * K, 1.0), *bias = random_floats (N, 1.0);
        g_autofree float *w32 = random_floats (N * K, 1.0);
        g_autofree guint16 *w16 = g_new (guint16, N * K);
        for (gsize i = 0; i < N * K; i++)
          {
            w16[i] = florence_f32_to_f16 (w32[i]);
            w32[i] = florence_f16_to_f32 (w16[i]);
          }
        g_autofree float *y0 = random_floats (B * N, 1.0);
        g_autofree double *want = g_new (double, B *N);
        for (guint b = 0; b < B; b++)
          for (gsize j = 0; j < N; j++)
            {
              double acc = bias[j] + (accumulate ? y0[b * N + j] : 0.0);
              for (gsize i = 0; i < K; i++)
                acc += (double) x[b * K + i] * w32[j * K + i];
              want[b * N + j] = acc;
            }
        for (int f16 = 0; f16 < 2; f16++)
          {
            g_autofree float *y = g_memdup2 (y0, B * N * sizeof (float));
            /* in two ranges of output rows, as the pool splits it */
            for (int part = 0; part < 2; part++)
              {
                gsize j0 = part == 0 ? 0 : 13, j1 = part == 0 ? 13 : N;
                if (f16)
                  k->gemv_f16 (x, K, B, w16, K, j0, j1, bias, y, N, accumulate);
                else
                  k->gemv_f32 (x, K, B, w32, K, j0, j1, bias, y, N, accumulate);
              }
            assert_close (f16 ? "gemv fp16" : "gemv fp32", y, want, B * N, 1e-5, 1e-5);
          }
      }
}

static void
test_gemv (void)
{
  for_each_table (check_gemv);
}

static void
count_task (guint index, guint thread, gpointer data)
{
  gint *counts = data;
  g_atomic_int_inc (&counts[index]);
}

static void
test_pool (void)
{
  const int threads[] = { 1, 2, 3, 8 };
  g_autoptr (FlorenceCpuPool) pool = florence_cpu_pool_new (1);
  for (guint t = 0; t < G_N_ELEMENTS (threads); t++)
    {
      florence_cpu_pool_set_n_threads (pool, threads[t]);
      g_assert_cmpint (florence_cpu_pool_get_n_threads (pool), ==, threads[t]);
      for (guint n = 0; n < 70; n += 7)
        for (int rep = 0; rep < 20; rep++)
          {
            g_autofree gint *counts = g_new0 (gint, MAX (n, 1u));
            florence_cpu_pool_run (pool, n, count_task, counts);
            for (guint i = 0; i < n; i++)
              g_assert_cmpint (counts[i], ==, 1);
          }
    }
}

/* Released pages come back from the file with the same values. */
static void
test_checkpoint_release (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", "tiny", NULL);
  g_autoptr (FlorenceConfig) config = florence_config_load (dir, &error);
  g_assert_no_error (error);
  g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (dir, config, &error);
  g_assert_no_error (error);
  const FlorenceTensor *t = florence_checkpoint_lookup (ckpt, "language_model.model.shared.weight");
  g_assert_nonnull (t);
  g_autofree float *before = g_new (float, t->n_elements);
  g_autofree float *after = g_new (float, t->n_elements);
  florence_tensor_to_f32 (t, before);
  florence_checkpoint_release_tensor (ckpt, t);
  florence_tensor_to_f32 (t, after);
  g_assert_cmpmem (before, t->n_elements * sizeof (float), after, t->n_elements * sizeof (float));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (20251207);
  g_test_add_func ("/florence/cpu-kernels/elementwise", test_elementwise);
  g_test_add_func ("/florence/cpu-kernels/dwconv", test_dwconv);
  g_test_add_func ("/florence/cpu-kernels/attention", test_attention);
  g_test_add_func ("/florence/cpu-kernels/gemv", test_gemv);
  g_test_add_func ("/florence/cpu-kernels/pool", test_pool);
  g_test_add_func ("/florence/cpu-kernels/checkpoint-release", test_checkpoint_release);
  int status = g_test_run ();
  g_rand_free (rng);
  return status;
}
