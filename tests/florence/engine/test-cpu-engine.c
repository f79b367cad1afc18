/* test-cpu-engine.c: the CPU engine's candidates, threads and name
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The fixture cases themselves run in tests/florence/model (test-model-cpu). Here, on the tiny
 * model: step_topk returns exactly what florence_generate_select_topk() makes of step_logits
 * (same ids in the same order, scores within float rounding), greedy and beams, with bans and
 * forced steps; any thread count gives the same generation; the thread count shows in the
 * engine's name and can change between runs. The BLAS is told its thread count before main()
 * (setenv() is unsafe once threads run), starts no thread of its own, and multiplies. Under an
 * address-space limit, only as many threads multiply as OpenBLAS has room for (a thread too
 * many would hang in OpenBLAS's endless retries of mmap).
 */
#include "config.h"

#include <math.h>
#include <sys/resource.h>
#include <string.h>

#include "florence/engine/florence-cpu-blas.h"
#include "florence/engine/florence-device.h"
#include "florence/engine/florence-memory.h"
#include "florence/engine/florence-engine-cpu.h"
#include "test-sanitizers.h"

typedef struct {
  FlorenceConfig *config;
  FlorenceEngine *engine;
  float *pixels;
  int size;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", "tiny", NULL);
  f->config = florence_config_load (dir, &error);
  g_assert_no_error (error);
  g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (dir, f->config, &error);
  g_assert_no_error (error);
  f->engine = florence_engine_cpu_new (f->config, ckpt, 0, &error);
  g_assert_no_error (error);
  f->size = 96;
  gsize n = (gsize) 3 * f->size * f->size;
  f->pixels = g_new (float, n);
  GRand *rng = g_rand_new_with_seed (7);
  for (gsize i = 0; i < n; i++)
    f->pixels[i] = (float) g_rand_double_range (rng, -2.0, 2.0);
  g_rand_free (rng);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  florence_engine_free (f->engine);
  florence_config_free (f->config);
  g_free (f->pixels);
}

static const gint32 prompt[] = { 0, 2264, 473, 5, 2274, 6190, 116, 2 };

static FlorenceDecoderBackend *
prepare (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  FlorenceDecoderBackend *dec = florence_engine_prepare (f->engine, f->pixels, f->size, prompt,
                                                         G_N_ELEMENTS (prompt), NULL, NULL, &error);
  g_assert_no_error (error);
  return dec;
}

/* Steps both decoders through the same random beam search and compares the candidates. */
static void
test_topk (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  FlorenceDecoderBackend *a = prepare (f), *b = prepare (f);
  const int V = f->config->vocab_size;
  const guint k = 6;
  GRand *rng = g_rand_new_with_seed (11);
  for (guint beams = 1; beams <= 4; beams += 3)
    {
      g_assert_true (a->begin (a, beams, &error));
      g_assert_true (b->begin (b, beams, &error));
      g_autofree gint32 *tokens = g_new (gint32, beams);
      g_autofree guint *reorder = g_new (guint, beams);
      g_autofree float *logits = g_new (float, (gsize) beams *V);
      g_autofree gint32 *ids = g_new (gint32, beams * k), *want_ids = g_new (gint32, beams * k);
      g_autofree float *scores = g_new (float, beams *k), *want = g_new (float, beams *k);
      for (guint b0 = 0; b0 < beams; b0++)
        tokens[b0] = 2;
      for (guint pos = 0; pos < 12; pos++)
        {
          /* bans: a few ids per beam, some of them the best ones of the last step */
          g_autoptr (GArray) bans = g_array_new (FALSE, FALSE, sizeof (gint32));
          g_autofree guint *offsets = g_new (guint, beams + 1);
          for (guint bb = 0; bb < beams; bb++)
            {
              offsets[bb] = bans->len;
              for (int i = 0; i < 3; i++)
                {
                  gint32 id = pos > 0 && i == 0 ? want_ids[bb * k] : g_rand_int_range (rng, 0, V);
                  g_array_append_val (bans, id);
                }
            }
          offsets[beams] = bans->len;
          FlorenceDecodeStep step = {
            .n_beams = beams,
            .position = pos,
            .tokens = tokens,
            .reorder = pos > 0 ? reorder : NULL,
            .score_kind = beams > 1 ? FLORENCE_SCORE_LOG_SOFTMAX : FLORENCE_SCORE_RAW_LOGITS,
            .k = k,
            .forced_token = pos == 0 ? 0 : -1,
            .ban_offsets = offsets,
            .bans = (const gint32 *) bans->data,
          };
          g_assert_true (a->step_logits (a, &step, logits, &error));
          g_assert_no_error (error);
          g_assert_true (b->step_topk (b, &step, ids, scores, &error));
          g_assert_no_error (error);
          for (guint bb = 0; bb < beams; bb++)
            florence_generate_select_topk (logits + (gsize) bb * V, V, step.score_kind,
                                           step.bans + offsets[bb], offsets[bb + 1] - offsets[bb],
                                           step.forced_token, k, want_ids + bb * k, want + bb * k);
          if (step.forced_token >= 0)
            for (guint bb = 0; bb < beams; bb++)
              {
                g_assert_cmpint (ids[bb * k], ==, step.forced_token);
                g_assert_cmpfloat (scores[bb * k], ==, 0.0f);
              }
          else
            for (guint i = 0; i < beams * k; i++)
              {
                g_assert_cmpint (ids[i], ==, want_ids[i]);
                if (isinf (want[i]))
                  g_assert_cmpfloat (scores[i], ==, want[i]);
                else
                  g_assert_cmpfloat_with_epsilon (scores[i], want[i], 1e-5);
              }
          /* next: a shuffled reorder, each beam's best candidate */
          for (guint bb = 0; bb < beams; bb++)
            {
              reorder[bb] = (guint) g_rand_int_range (rng, 0, (gint32) beams);
              tokens[bb] = want_ids[reorder[bb] * k];
            }
        }
    }
  g_rand_free (rng);
  f->engine->decoder_free (f->engine, a);
  f->engine->decoder_free (f->engine, b);
}

static GArray *
generate_ids (Fixture *f, guint beams)
{
  g_autoptr (GError) error = NULL;
  FlorenceDecoderBackend *dec = prepare (f);
  FlorenceGenerateOptions opts;
  florence_generate_options_init (&opts, f->config);
  opts.num_beams = beams;
  opts.max_new_tokens = 20;
  FlorenceGeneration *gen = florence_generate (dec, &opts, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  GArray *ids = g_array_ref (gen->ids);
  florence_generation_free (gen);
  f->engine->decoder_free (f->engine, dec);
  return ids;
}

static void
test_threads (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (florence_engine_get_n_threads (f->engine), ==,
                   florence_device_default_threads ());
  g_autoptr (GArray) want = generate_ids (f, 3);
  const int counts[] = { 1, 3, 2 };
  for (guint i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      florence_engine_set_n_threads (f->engine, counts[i]);
      g_assert_cmpint (florence_engine_get_n_threads (f->engine), ==, counts[i]);
      g_autofree char *label = g_strdup_printf ("%d thread", counts[i]);
      g_assert_nonnull (strstr (f->engine->device_name, label));
      g_assert_nonnull (strstr (f->engine->device_name, "OpenBLAS"));
      g_autoptr (GArray) got = generate_ids (f, 3);
      g_assert_cmpmem (got->data, got->len * sizeof (gint32), want->data,
                       want->len * sizeof (gint32));
    }
  florence_engine_set_n_threads (f->engine, 0);
  g_assert_cmpint (florence_engine_get_n_threads (f->engine), ==,
                   florence_device_default_threads ());
}

static guint
count_threads (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

static const char *blas_threads_at_start;

static void
test_blas (void)
{
  g_autoptr (GError) error = NULL;
  guint before = count_threads ();

  g_assert_cmpstr (blas_threads_at_start, ==, "1");
  const FlorenceCpuBlas *blas = florence_cpu_blas_get (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_threads (), ==, before);

  /* C[2, 3] = A[2, 4] · B[3, 4]ᵀ */
  const float a[] = { 1, 2, 3, 4, -1, 0, 2, 0.5f };
  const float b[] = { 1, 0, 0, 1, 0, 1, 1, 0, 2, -1, 0, 3 };
  float c[6];
  florence_cpu_blas_sgemm (blas, FALSE, TRUE, 2, 3, 4, 1.0f, a, 4, b, 4, 0.0f, c, 3);
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++)
      {
        float want = 0;
        for (int k = 0; k < 4; k++)
          want += a[i * 4 + k] * b[j * 4 + k];
        g_assert_cmpfloat_with_epsilon (c[i * 3 + j], want, 1e-6);
      }
}

static guint64
vm_size (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "\nVmSize:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("\nVmSize:"), NULL, 10) * 1024;
}

/* In a child under RLIMIT_AS = what it maps now + room: how many of 8 threads fit. */
static void
test_threads_under_limit (void)
{
#ifdef UNDER_ASAN
  g_test_skip ("AddressSanitizer cannot run under an address-space limit");
  return;
#endif
  if (g_test_subprocess ())
    {
      guint64 room = g_ascii_strtoull (g_getenv ("ROOM_MB"), NULL, 10) << 20;
      struct rlimit limit = { .rlim_cur = vm_size () + room, .rlim_max = RLIM_INFINITY };
      g_autoptr (GError) error = NULL;
      guint n;

      g_assert_cmpint (setrlimit (RLIMIT_AS, &limit), ==, 0);
      n = florence_memory_cpu_threads (8, (guint64) 20 << 20, &error);
      g_print ("threads=%u%s%s\n", n, error != NULL ? " " : "",
               error != NULL ? error->message : "");
      return;
    }
  /* 20 MiB of work and 144 MiB a thread: 320 MiB leaves room for 2, 100 MiB for none. */
  g_setenv ("ROOM_MB", "320", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("threads=2\n");
  g_setenv ("ROOM_MB", "100", TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("threads=0 Not enough memory to run the model on the CPU*ulimit -v*");
  /* No limit: every thread asked for. */
  g_assert_cmpuint (florence_memory_cpu_threads (8, (guint64) 20 << 20, NULL), ==, 8);
}

int
main (int argc, char **argv)
{
  blas_threads_at_start = g_getenv ("OPENBLAS_NUM_THREADS");
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("DEPICT_TEST_DATA") == NULL)
    return 77;
  g_test_add_func ("/florence/cpu-engine/blas", test_blas);
  g_test_add_func ("/florence/cpu-engine/threads-under-limit", test_threads_under_limit);
  g_test_add ("/florence/cpu-engine/topk", Fixture, NULL, fixture_setup, test_topk,
              fixture_teardown);
  g_test_add ("/florence/cpu-engine/threads", Fixture, NULL, fixture_setup, test_threads,
              fixture_teardown);
  return g_test_run ();
}
