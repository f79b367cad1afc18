/* check-engines.c: the GPU engine against the CPU reference on any model directory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 *   check-engines MODEL_DIR [--size N] [--tokens N] [--image PATH] [--beams LIST]
 *                           [--task NAME [--text TEXT]] [--device NAME] [--threads N]
 *                           [--no-taps] [--gpu-only]
 *
 * For models too big for the fixtures (Florence-2-large made by make-random-model): loads the
 * directory on the CPU reference and on the Vulkan engine, runs one picture (default: the
 * fixtures' photo_640x480.png through the processor) with a task's prompt (default <CAPTION>;
 * --task takes what depict-cli's does, tokenized by the model's tokenizer, or the fixtures' where
 * the folder has none) at the given input size, and prints per tapped tensor (vision stages,
 * image features, encoder input and layers, first-step logits) the max abs error, the max relative
 * error (over |ref| > 1e-3 of the tensor's largest magnitude) and the max abs error over the
 * tensor's RMS. Then it runs greedy and beam search (default "1,3") for --tokens new tokens on both
 * and says whether the ids are equal; at the first difference it prints both engines' best
 * candidates of that step and the reference's margin between them. Timings (load, vision, encoder,
 * ms per token) per engine and the process's peak memory (VmHWM) at the end. The DEPICT_GPU_* and
 * DEPICT_GEMM_* settings in the environment (the kernel set, fp16 products, …: src/gpu/gpu.h) are
 * printed first, so that the output says which kernels ran.
 *
 * Both engines read the same checkpoint values: the reference converts the fp16 weights to
 * fp32 exactly, the GPU engine uploads them as fp16 (also exact), so what differs is only the
 * order of fp32 accumulations (GEMM blocking, vec4 partial sums, online softmax) and the
 * reference's fp64 statistics: about √K · 6e-8 relative per product, which LayerNorm keeps
 * from growing through the layers. A tensor whose max abs error passes TOLERANCE × its RMS is
 * marked "OUT OF TOLERANCE" (a wrong index or a skipped piece gives errors of order 1 × RMS;
 * Florence-2-large at 768×768 stays below 4e-5 × RMS). At 992×992 the reference's own fp32
 * channel-attention Gram (one sequential sum over up to 61 504 tokens) drifts: large's
 * tensors then differ by up to 3e-4 × RMS, and by 2.5e-5 × RMS once that sum is made in fp64
 * on the reference side. The first-step logits must also be within LOGITS_TOLERANCE relative
 * RMS (rms of the error / rms of the reference's logits, with every kernel set): beam search
 * follows the reference through a near-tie only that close. Exit status 0 when every
 * tensor was within tolerance and every generation matched, 1 otherwise, 2 on an error.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "florence/engine/florence-engine.h"
#include "florence/generate/florence-generate.h"
#include "florence/model/florence-processor.h"
#include "florence/text/florence-task.h"
#include "florence/text/florence-tokenizer.h"
#include "image/image-loader.h"

#ifndef DEPICT_SOURCE_TEST_DATA
#define DEPICT_SOURCE_TEST_DATA "tests/data"
#endif

#define TOLERANCE 2e-4
#define LOGITS_TOLERANCE 1e-4

typedef struct {
  char *name;
  float *data;
  gsize n;
} Tensor;

static void
tensor_free (Tensor *t)
{
  g_free (t->name);
  g_free (t->data);
  g_free (t);
}

typedef struct {
  GPtrArray *saved; /* Tensor *: the reference's taps, in order */
} TapState;

static void
save_tap (const char *name, const float *data, gsize rows, gsize cols, gpointer user_data)
{
  TapState *st = user_data;
  Tensor *t = g_new0 (Tensor, 1);
  t->name = g_strdup (name);
  t->n = rows * cols;
  t->data = g_memdup2 (data, t->n * sizeof (float));
  g_ptr_array_add (st->saved, t);
}

static const Tensor *
find_saved (TapState *st, const char *name)
{
  for (guint i = 0; i < st->saved->len; i++)
    {
      const Tensor *t = st->saved->pdata[i];
      if (strcmp (t->name, name) == 0)
        return t;
    }
  return NULL;
}

static gboolean all_within = TRUE;

/* Prints the comparison of one tensor; returns rms(got - ref) / rms(ref) (infinite when a value
 * is not finite). */
static double
compare (const char *name, const float *ref, const float *got, gsize n, gsize cols)
{
  double max_mag = 0.0, sum2 = 0.0;
  gsize n_nonfinite = 0;
  for (gsize i = 0; i < n; i++)
    {
      max_mag = MAX (max_mag, fabs ((double) ref[i]));
      sum2 += (double) ref[i] * ref[i];
    }
  double rms = sqrt (sum2 / MAX (n, (gsize) 1));
  double thr = 1e-3 * max_mag;
  double max_abs = 0.0, max_rel = 0.0, err2 = 0.0;
  gsize worst = 0;
  for (gsize i = 0; i < n; i++)
    {
      if (!isfinite (got[i]))
        {
          n_nonfinite++;
          continue;
        }
      double diff = fabs ((double) got[i] - (double) ref[i]);
      err2 += diff * diff;
      if (diff > max_abs)
        {
          max_abs = diff;
          worst = i;
        }
      if (fabs ((double) ref[i]) > thr)
        max_rel = MAX (max_rel, diff / fabs ((double) ref[i]));
    }
  printf ("  %-28s %10" G_GSIZE_FORMAT "  max|ref| %9.3g  rms %9.3g  max abs %9.3g  max rel %9.3g"
          "  abs/rms %9.3g",
          name, n, max_mag, rms, max_abs, max_rel, rms > 0 ? max_abs / rms : 0.0);
  /* noise spreads over the rows; a wrong index or piece concentrates in a few */
  gsize rows = n / MAX (cols, (gsize) 1), rows_hot = 0;
  for (gsize r = 0; r < rows; r++)
    for (gsize c = 0; c < cols; c++)
      if (fabs ((double) got[r * cols + c] - (double) ref[r * cols + c]) > max_abs / 4)
        {
          rows_hot++;
          break;
        }
  double rel_rms = rms > 0 ? sqrt (err2 / MAX (n, (gsize) 1)) / rms : 0.0;
  printf ("  rms err/rms %9.3g  rows with an error > max/4: %" G_GSIZE_FORMAT
          " of %" G_GSIZE_FORMAT,
          rel_rms, rows_hot, rows);
  if (n > 0)
    printf ("  (worst [%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT "] ref %.6g gpu %.6g)",
            worst / MAX (cols, (gsize) 1), worst % MAX (cols, (gsize) 1), ref[worst], got[worst]);
  if (n_nonfinite > 0)
    printf ("  %" G_GSIZE_FORMAT " NOT FINITE", n_nonfinite);
  if (n_nonfinite > 0 || !(max_abs <= TOLERANCE * rms))
    {
      printf ("  OUT OF TOLERANCE");
      all_within = FALSE;
    }
  printf ("\n");
  fflush (stdout);
  return n_nonfinite > 0 ? INFINITY : rel_rms;
}

static void
compare_tap (const char *name, const float *data, gsize rows, gsize cols, gpointer user_data)
{
  const Tensor *ref = find_saved (user_data, name);
  if (ref == NULL)
    {
      printf ("  %-28s only on the GPU engine\n", name);
      return;
    }
  if (ref->n != rows * cols)
    {
      printf ("  %-28s %" G_GSIZE_FORMAT " values on the GPU, %" G_GSIZE_FORMAT
              " on the reference\n",
              name, rows * cols, ref->n);
      all_within = FALSE;
      return;
    }
  (void) compare (name, ref->data, data, ref->n, cols);
}

typedef struct {
  GArray *ids;    /* gint32 per step: n_beams × k */
  GArray *scores; /* float */
  GArray *shape;  /* guint per step: n_beams, k */
} Trace;

static void
trace_cb (guint step, guint n_beams, guint k, const gint32 *ids, const float *scores,
          gpointer user_data)
{
  Trace *tr = user_data;
  (void) step;
  g_array_append_vals (tr->ids, ids, n_beams * k);
  g_array_append_vals (tr->scores, scores, n_beams * k);
  guint sh[2] = { n_beams, k };
  g_array_append_vals (tr->shape, sh, 2);
}

static void
trace_clear (Trace *tr)
{
  g_array_unref (tr->ids);
  g_array_unref (tr->scores);
  g_array_unref (tr->shape);
}

typedef struct {
  const char *label;
  FlorenceEngine *engine;
  FlorenceDecoderBackend *dec;
  double load_s, vision_s, encoder_s;
} Side;

static double
now_s (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

static FlorenceGeneration *
run_generation (Side *s, const FlorenceConfig *config, guint beams, guint tokens, Trace *tr,
                double *ms_per_token, GError **error)
{
  FlorenceGenerateOptions opts;
  florence_generate_options_init (&opts, config);
  opts.num_beams = beams;
  opts.max_new_tokens = tokens;
  opts.trace_k = 2 * beams;
  opts.trace = trace_cb;
  opts.trace_data = tr;
  double t0 = now_s ();
  FlorenceGeneration *gen = florence_generate (s->dec, &opts, NULL, NULL, NULL, error);
  if (gen != NULL)
    *ms_per_token = (now_s () - t0) * 1e3 / MAX (gen->steps_run, 1u);
  return gen;
}

static void
print_ids (const char *label, const GArray *ids)
{
  printf ("    %-10s", label);
  for (guint i = 0; i < ids->len; i++)
    printf (" %d", g_array_index (ids, gint32, i));
  printf ("\n");
}

/* The first step whose candidates differ in id, with both engines' lists. */
static void
explain_difference (const Trace *a, const Trace *b)
{
  guint off_ids = 0;
  guint n_steps = MIN (a->shape->len, b->shape->len) / 2;
  for (guint s = 0; s < n_steps; s++)
    {
      guint nb = g_array_index (a->shape, guint, 2 * s),
            k = g_array_index (a->shape, guint, 2 * s + 1);
      guint nb2 = g_array_index (b->shape, guint, 2 * s);
      if (nb != nb2)
        {
          printf ("    step %u: %u beams on the reference, %u on the GPU\n", s, nb, nb2);
          return;
        }
      const gint32 *ia = &g_array_index (a->ids, gint32, off_ids);
      const gint32 *ib = &g_array_index (b->ids, gint32, off_ids);
      const float *sa = &g_array_index (a->scores, float, off_ids);
      const float *sb = &g_array_index (b->scores, float, off_ids);
      /* what the search uses: the first n_beams candidates of each beam (greedy: 1) */
      guint used = nb == 1 ? 1 : k;
      gboolean differ = FALSE;
      for (guint beam = 0; beam < nb && !differ; beam++)
        for (guint j = 0; j < used; j++)
          if (ia[beam * k + j] != ib[beam * k + j])
            differ = TRUE;
      if (differ)
        {
          printf ("    first differing candidates at step %u:\n", s);
          for (guint beam = 0; beam < nb; beam++)
            {
              printf ("      beam %u reference:", beam);
              for (guint j = 0; j < k; j++)
                printf (" %d (%.6f)", ia[beam * k + j], sa[beam * k + j]);
              printf ("\n      beam %u gpu:      ", beam);
              for (guint j = 0; j < k; j++)
                printf (" %d (%.6f)", ib[beam * k + j], sb[beam * k + j]);
              printf ("\n      reference margin between its rank 0 and 1: %.3g\n",
                      (double) sa[beam * k] - (double) sa[beam * k + 1]);
            }
          return;
        }
      off_ids += nb * k;
    }
  printf ("    the candidates of every step matched (the difference is in the bookkeeping)\n");
}

static gboolean
parse_beams (const char *s, GArray *out)
{
  g_auto (GStrv) parts = g_strsplit (s, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 v;
      if (!g_ascii_string_to_unsigned (parts[i], 10, 1, 16, &v, NULL))
        return FALSE;
      guint b = (guint) v;
      g_array_append_val (out, b);
    }
  return out->len > 0;
}

static guint64
vm_hwm_kib (void)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  const char *p = strstr (status, "VmHWM:");
  return p != NULL ? g_ascii_strtoull (p + 6, NULL, 10) : 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree float *pixels = NULL;
  g_autofree float *logits0 = NULL, *logits1 = NULL;
  g_autofree char *prompt = NULL;
  g_autoptr (FlorenceTokenizer) tokenizer = NULL;
  g_autoptr (GArray) prompt_ids = NULL;
  float *logits[2] = { NULL, NULL };
  int size = 0, tokens = 16, threads = 0;
  char *image_path = NULL, *beams_str = NULL, *device = NULL, *task_name = NULL, *text = NULL;
  gboolean no_taps = FALSE, gpu_only = FALSE;
  GOptionEntry entries[] = {
    { "size", 's', 0, G_OPTION_ARG_INT, &size, "Input size (default: the processor's)", "N" },
    { "tokens", 't', 0, G_OPTION_ARG_INT, &tokens, "New tokens to generate (default 16)", "N" },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &image_path, "Picture (default: a fixture photo)",
      "PATH" },
    { "beams", 'b', 0, G_OPTION_ARG_STRING, &beams_str, "Beam counts to run (default 1,3)",
      "LIST" },
    { "task", 0, 0, G_OPTION_ARG_STRING, &task_name, "Task (default <CAPTION>)", "NAME" },
    { "text", 0, 0, G_OPTION_ARG_STRING, &text, "The task's text input, for tasks that take one",
      "TEXT" },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &device, "Vulkan device (index or name part)",
      "NAME" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU reference threads", "N" },
    { "no-taps", 0, 0, G_OPTION_ARG_NONE, &no_taps, "Do not compare the intermediate tensors",
      NULL },
    { "gpu-only", 0, 0, G_OPTION_ARG_NONE, &gpu_only,
      "Run the GPU engine alone (timings and peak memory; nothing compared)", NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("MODEL_DIR");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "Give one model directory.");
      return 2;
    }
  g_autoptr (GArray) beams = g_array_new (FALSE, FALSE, sizeof (guint));
  if (!parse_beams (beams_str != NULL ? beams_str : "1,3", beams) || tokens < 1)
    {
      g_printerr ("Bad --beams or --tokens.\n");
      return 2;
    }
  if (threads > 0)
    {
      g_autofree char *n = g_strdup_printf ("%d", threads);
      g_setenv ("DEPICT_CPU_THREADS", n, TRUE);
    }

  const char *model_dir = argv[1];
  g_autoptr (FlorenceConfig) config = florence_config_load (model_dir, &error);
  if (config == NULL)
    goto fail;

  /* the prompt's ids */
  const FlorenceTaskInfo *task =
    florence_task_find_or_error (task_name != NULL ? task_name : "<CAPTION>", &error);
  if (task == NULL)
    goto fail;
  prompt = florence_task_build_prompt (task, text, &error);
  if (prompt == NULL)
    goto fail;
  {
    /* the fixture models have no tokenizer of their own: Florence-2's is in the test data */
    g_autofree char *own = g_build_filename (model_dir, "tokenizer.json", NULL);
    g_autofree char *own_vocab = g_build_filename (model_dir, "vocab.json", NULL);
    gboolean has_own =
      g_file_test (own, G_FILE_TEST_EXISTS) || g_file_test (own_vocab, G_FILE_TEST_EXISTS);
    g_autofree char *fixture = g_build_filename (DEPICT_SOURCE_TEST_DATA, "tokenizer", NULL);
    tokenizer = florence_tokenizer_new_from_dir (has_own ? model_dir : fixture, &error);
  }
  if (tokenizer == NULL)
    goto fail;
  prompt_ids = florence_tokenizer_encode (tokenizer, prompt);

  /* pixel values */
  {
    g_autofree char *path = image_path != NULL
                              ? g_strdup (image_path)
                              : g_build_filename (DEPICT_SOURCE_TEST_DATA, "preprocess", "images",
                                                  "photo_640x480.png", NULL);
    ImageLoadOptions lo = { .ignore_orientation = TRUE };
    g_autoptr (ImageRgb) image = image_load (path, &lo, &error);
    if (image == NULL)
      goto fail;
    FlorenceProcessorConfig pc;
    florence_processor_config_init_from_model (&pc, config);
    if (size > 0)
      pc.width = pc.height = size;
    size = pc.width;
    pixels = florence_processor_run (&pc, image, NULL, &error);
    if (pixels == NULL)
      goto fail;
  }
  printf ("model %s: d_model %d, dims %d/%d/%d/%d, input %d×%d, task %s (%u prompt ids), %d new "
          "tokens\n",
          model_dir, config->d_model, config->dim_embed[0], config->dim_embed[1],
          config->dim_embed[2], config->dim_embed[3], size, size, task->token, prompt_ids->len,
          tokens);

  /* the settings that choose the GPU engine's kernels (gpu.h), so that a figure says what ran */
  {
    g_auto (GStrv) env = g_get_environ ();
    for (guint i = 0; env[i] != NULL; i++)
      if (g_str_has_prefix (env[i], "DEPICT_GPU_") || g_str_has_prefix (env[i], "DEPICT_GEMM_"))
        printf ("  %s\n", env[i]);
  }

  Side sides[2] = { { .label = "reference" }, { .label = "gpu" } };
  TapState taps = { g_ptr_array_new_with_free_func ((GDestroyNotify) tensor_free) };
  int first = gpu_only ? 1 : 0;
  for (int i = first; i < 2; i++)
    {
      Side *s = &sides[i];
      double t0 = now_s ();
      g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (model_dir, config, &error);
      if (ckpt == NULL)
        goto fail;
      if (i == 0)
        s->engine = florence_engine_new (FLORENCE_DEVICE_CPU_REFERENCE, NULL, config, ckpt, &error);
      else
        s->engine = florence_engine_gpu_new (config, device, ckpt, &error);
      if (s->engine == NULL)
        goto fail;
      s->load_s = now_s () - t0;
      printf ("%s: %s, loaded in %.2f s\n", s->label, s->engine->device_name, s->load_s);
      fflush (stdout);
      if (!no_taps && !gpu_only)
        {
          s->engine->tap = i == 0 ? save_tap : compare_tap;
          s->engine->tap_data = &taps;
        }
      FlorenceEngineTimings et = { 0 };
      s->dec = florence_engine_prepare (s->engine, pixels, size, (const gint32 *) prompt_ids->data,
                                        (int) prompt_ids->len, &et, NULL, &error);
      s->engine->tap = NULL;
      if (s->dec == NULL)
        goto fail;
      s->vision_s = et.vision;
      s->encoder_s = et.encoder;
      printf ("%s: vision %.2f s, encoder %.2f s%s\n", s->label, et.vision, et.encoder,
              !no_taps && !gpu_only ? " (with tap read-backs)" : "");
      fflush (stdout);
    }

  /* first-step logits */
  const int V = config->vocab_size;
  logits[0] = logits0 = g_new0 (float, V);
  logits[1] = logits1 = g_new0 (float, V);
  for (int i = first; i < 2; i++)
    {
      Side *s = &sides[i];
      gint32 start = config->decoder_start_token_id;
      FlorenceDecodeStep step = {
        .n_beams = 1, .position = 0, .tokens = &start, .forced_token = -1
      };
      if (!s->dec->begin (s->dec, 1, &error) || s->dec->step_logits == NULL ||
          !s->dec->step_logits (s->dec, &step, logits[i], &error))
        goto fail;
    }
  double logits_rel_rms = 0.0;
  if (!gpu_only)
    logits_rel_rms = compare ("first_step_logits", logits[0], logits[1], (gsize) V, (gsize) V);

  int status = 0;
  for (guint bi = 0; bi < beams->len; bi++)
    {
      guint nb = g_array_index (beams, guint, bi);
      FlorenceGeneration *gen[2] = { NULL, NULL };
      Trace tr[2];
      double ms[2] = { 0, 0 };
      for (int i = first; i < 2; i++)
        {
          tr[i].ids = g_array_new (FALSE, FALSE, sizeof (gint32));
          tr[i].scores = g_array_new (FALSE, FALSE, sizeof (float));
          tr[i].shape = g_array_new (FALSE, FALSE, sizeof (guint));
          gen[i] = run_generation (&sides[i], config, nb, (guint) tokens, &tr[i], &ms[i], &error);
          if (gen[i] == NULL)
            goto fail;
        }
      if (gpu_only)
        {
          printf ("%u beam(s): %u steps, gpu %.1f ms/step\n", nb, gen[1]->steps_run, ms[1]);
          print_ids ("gpu", gen[1]->ids);
        }
      else
        {
          gboolean same =
            gen[0]->ids->len == gen[1]->ids->len &&
            memcmp (gen[0]->ids->data, gen[1]->ids->data, gen[0]->ids->len * sizeof (gint32)) == 0;
          printf ("%u beam(s): ids %s; %u steps; reference %.1f ms/step, gpu %.1f ms/step", nb,
                  same ? "EQUAL" : "DIFFER", gen[1]->steps_run, ms[0], ms[1]);
          if (gen[0]->has_score && gen[1]->has_score)
            printf ("; sequences_score %.7f vs %.7f", gen[0]->sequences_score,
                    gen[1]->sequences_score);
          printf ("\n");
          print_ids ("reference", gen[0]->ids);
          print_ids ("gpu", gen[1]->ids);
          if (!same)
            {
              status = 1;
              explain_difference (&tr[0], &tr[1]);
            }
        }
      for (int i = first; i < 2; i++)
        {
          florence_generation_free (gen[i]);
          trace_clear (&tr[i]);
        }
      fflush (stdout);
    }

  for (int i = first; i < 2; i++)
    printf ("%s: load %.2f s, vision %.2f s, encoder %.2f s\n", sides[i].label, sides[i].load_s,
            sides[i].vision_s, sides[i].encoder_s);
  printf ("peak resident memory (VmHWM, whole process): %.0f MiB\n", vm_hwm_kib () / 1024.0);
  if (!gpu_only)
    {
      printf ("tensors: %s (max abs error ≤ %g × RMS)\n",
              all_within ? "all within tolerance" : "SOME OUT OF TOLERANCE", TOLERANCE);
      gboolean logits_ok = logits_rel_rms <= LOGITS_TOLERANCE;
      printf ("first-step logits: rms error / rms %.3g, %s (≤ %g)\n", logits_rel_rms,
              logits_ok ? "within tolerance" : "OUT OF TOLERANCE", LOGITS_TOLERANCE);
      if (!all_within || !logits_ok)
        status = 1;
    }
  for (int i = first; i < 2; i++)
    {
      sides[i].engine->decoder_free (sides[i].engine, sides[i].dec);
      florence_engine_free (sides[i].engine);
    }
  g_ptr_array_unref (taps.saved);
  g_free (image_path);
  g_free (beams_str);
  g_free (device);
  g_free (task_name);
  g_free (text);
  return status;

fail:
  g_printerr ("check-engines: %s\n", error != NULL ? error->message : "failed");
  return 2;
}
