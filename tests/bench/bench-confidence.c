/* bench-confidence.c: what keeping the tokens' log-probabilities costs a decoder step
 *
 *   bench-confidence --model DIR [--devices cpu,llvmpipe,cpu-reference] [--new-tokens 32]
 *                    [--rounds 4] [--image-size 768]
 *
 * DIR is a Florence-2 model directory; make-random-model writes one with random weights of
 * the real Florence-2-base shapes (the timings are real, the text noise). Per device it runs
 * the encoder once on a flat grey picture with the <CAPTION> prompt, then greedy searches of
 * --new-tokens tokens (random weights rarely emit EOS, so every step runs) in alternating
 * rounds: "with" asks the decoder backend for each step's log-softmax normaliser as the search
 * always does (FlorenceDecodeStep.log_norm), "without" hides the request from it — a wrapper
 * backend passes log_norm = NULL, as before the scores were kept. It prints process CPU time
 * and wall time per step of both and the difference. A backend that only gives logits
 * (cpu-reference) has the normaliser computed by the search itself: the wrapper cannot take
 * it away, so the program times that computation alone (one pass over the vocabulary per
 * beam) against the step. Beam search scores tokens from the log-softmax it already ranks by:
 * its figure is printed for scale only. Figures are printed, never asserted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "florence/engine/florence-cpu-kernels.h"
#include "florence/engine/florence-device.h"
#include "florence/engine/florence-engine.h"
#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "florence/generate/florence-generate.h"

/* The <CAPTION> prompt, "What does the image describe?" (tests/data/models/tiny/cases). */
static const gint32 caption_ids[] = { 0, 2264, 473, 5, 2274, 6190, 116, 2 };

typedef struct {
  FlorenceDecoderBackend parent;
  FlorenceDecoderBackend *inner;
  gboolean hide_norm;
} Wrapper;

static gboolean
wrap_begin (FlorenceDecoderBackend *b, guint n_beams, GError **error)
{
  Wrapper *w = (Wrapper *) b;
  return w->inner->begin (w->inner, n_beams, error);
}

static gboolean
wrap_step_logits (FlorenceDecoderBackend *b, const FlorenceDecodeStep *step, float *logits,
                  GError **error)
{
  Wrapper *w = (Wrapper *) b;
  return w->inner->step_logits (w->inner, step, logits, error);
}

static gboolean
wrap_step_topk (FlorenceDecoderBackend *b, const FlorenceDecodeStep *step, gint32 *ids,
                float *scores, GError **error)
{
  Wrapper *w = (Wrapper *) b;
  FlorenceDecodeStep copy = *step;
  if (w->hide_norm)
    copy.log_norm = NULL;
  return w->inner->step_topk (w->inner, &copy, ids, scores, error);
}

static double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double
wall_seconds (void)
{
  return g_get_monotonic_time () * 1e-6;
}

typedef struct {
  double cpu, wall;
  guint steps;
  gboolean scored;
} Figures;

static gboolean
run_once (FlorenceDecoderBackend *dec, const FlorenceGenerateOptions *opts, Figures *f,
          GError **error)
{
  double c0 = cpu_seconds (), w0 = wall_seconds ();
  g_autoptr (FlorenceGeneration) gen = florence_generate (dec, opts, NULL, NULL, NULL, error);
  if (gen == NULL)
    return FALSE;
  f->cpu += cpu_seconds () - c0;
  f->wall += wall_seconds () - w0;
  f->steps += gen->steps_run;
  f->scored = gen->token_logprobs != NULL;
  return TRUE;
}

/* The search's own normaliser (the step_logits path): one pass over a row, as
 * florence_generate_select_topk (LOG_SOFTMAX) less (RAW_LOGITS) on the same row. */
static double
normaliser_seconds (int vocab)
{
  g_autofree float *row = g_new (float, vocab);
  gint32 ids[4];
  float scores[4];
  const guint reps = 200;
  for (int v = 0; v < vocab; v++)
    row[v] = (float) sin (v * 0.37) * 8.0f;
  double t[2];
  for (int kind = 0; kind < 2; kind++)
    {
      double c0 = cpu_seconds ();
      for (guint r = 0; r < reps; r++)
        florence_generate_select_topk (
          row, vocab, kind == 0 ? FLORENCE_SCORE_RAW_LOGITS : FLORENCE_SCORE_LOG_SOFTMAX, NULL, 0,
          -1, 4, ids, scores);
      t[kind] = (cpu_seconds () - c0) / reps;
    }
  return t[1] - t[0];
}

/* The CPU engine's added work on a greedy step: max and Σ exp over the row with its kernels;
 * the least of 5 batches (the machine is shared). */
static double
engine_normaliser_seconds (int vocab)
{
  const FlorenceCpuKernels *k = florence_cpu_kernels_get ();
  g_autofree float *row = g_new (float, vocab);
  const guint reps = 400;
  volatile double sink = 0.0;
  double best = INFINITY;
  for (int v = 0; v < vocab; v++)
    row[v] = (float) sin (v * 0.37) * 8.0f;
  for (guint batch = 0; batch < 5; batch++)
    {
      double c0 = cpu_seconds ();
      for (guint r = 0; r < reps; r++)
        {
          float max = k->max (row, (gsize) vocab);
          sink += k->sum_exp (row, (gsize) vocab, max);
        }
      best = MIN (best, (cpu_seconds () - c0) / reps);
    }
  (void) sink;
  return best;
}

static gboolean
bench_device (const char *model_dir, const char *device, guint new_tokens, guint rounds,
              int image_size, GError **error)
{
  FlorenceDeviceKind kind;
  g_autofree char *selector = NULL;
  if (!florence_device_parse (device, &kind, &selector, error))
    return FALSE;
  g_autoptr (FlorenceConfig) config = florence_config_load (model_dir, error);
  if (config == NULL)
    return FALSE;
  g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (model_dir, config, error);
  if (ckpt == NULL)
    return FALSE;
  g_autoptr (FlorenceEngine) engine = florence_engine_new (kind, selector, config, ckpt, error);
  if (engine == NULL)
    return FALSE;
  g_clear_pointer (&ckpt, florence_checkpoint_free);

  gsize n = (gsize) 3 * image_size * image_size;
  g_autofree float *pixels = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    pixels[i] = 0.1f;
  FlorenceEngineTimings et = { 0 };
  FlorenceDecoderBackend *dec = florence_engine_prepare (
    engine, pixels, image_size, caption_ids, G_N_ELEMENTS (caption_ids), &et, NULL, error);
  if (dec == NULL)
    return FALSE;

  Wrapper w = { .inner = dec };
  w.parent = *dec;
  w.parent.begin = wrap_begin;
  w.parent.step_logits = dec->step_logits != NULL ? wrap_step_logits : NULL;
  w.parent.step_topk = dec->step_topk != NULL ? wrap_step_topk : NULL;

  FlorenceGenerateOptions opts;
  florence_generate_options_init (&opts, config);
  opts.num_beams = 1;
  opts.max_new_tokens = new_tokens;

  Figures with = { 0 }, without = { 0 }, beams = { 0 };
  gboolean ok = run_once (&w.parent, &opts, &with, error); /* warm-up */
  with = (Figures){ 0 };
  for (guint r = 0; ok && r < rounds; r++)
    {
      w.hide_norm = FALSE;
      ok = run_once (&w.parent, &opts, &with, error);
      w.hide_norm = TRUE;
      ok = ok && run_once (&w.parent, &opts, &without, error);
    }
  opts.num_beams = 3;
  w.hide_norm = FALSE;
  for (guint r = 0; ok && r < MAX (rounds / 2, 1u); r++)
    ok = run_once (&w.parent, &opts, &beams, error);
  gboolean logits_only = dec->step_topk == NULL;
  engine->decoder_free (engine, dec);
  if (!ok)
    return FALSE;

  g_autofree char *load = NULL;
  g_file_get_contents ("/proc/loadavg", &load, NULL, NULL);
  double cw = 1e3 * with.cpu / with.steps, co = 1e3 * without.cpu / without.steps;
  double ww = 1e3 * with.wall / with.steps, wo = 1e3 * without.wall / without.steps;
  printf ("%s (%s), %u rounds of %u greedy steps each way, load average %s", device,
          engine->device_name != NULL ? engine->device_name : "", rounds, new_tokens,
          load != NULL ? load : "?\n");
  printf ("  greedy, scores kept    %s: %8.3f ms CPU/step  %8.3f ms wall/step\n",
          with.scored ? "yes" : "no ", cw, ww);
  printf ("  greedy, without        %s: %8.3f ms CPU/step  %8.3f ms wall/step\n",
          without.scored ? "yes" : "no ", co, wo);
  printf ("  difference: %+.3f ms CPU/step (%+.2f %%), %+.3f ms wall/step (%+.2f %%)\n", cw - co,
          100.0 * (cw - co) / co, ww - wo, 100.0 * (ww - wo) / wo);
  if (kind == FLORENCE_DEVICE_CPU)
    {
      double s = 1e3 * engine_normaliser_seconds (config->vocab_size);
      printf ("  the engine's added max and sum of exp (1 beam): %.4f ms CPU/step = %.3f %% of a "
              "step\n",
              s, 100.0 * s / co);
    }
  if (logits_only)
    {
      double s = 1e3 * normaliser_seconds (config->vocab_size);
      printf ("  the search's own normaliser (logits backend, 1 beam): %.4f ms CPU/step = "
              "%.3f %% of a step\n",
              s, 100.0 * s / co);
    }
  printf ("  3 beams, scores kept: %8.3f ms CPU/step  %8.3f ms wall/step (for scale)\n",
          1e3 * beams.cpu / beams.steps, 1e3 * beams.wall / beams.steps);
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *devices = NULL;
  int new_tokens = 32, rounds = 4, image_size = 768;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_dir, "Florence-2 model directory", "DIR" },
    { "devices", 0, 0, G_OPTION_ARG_STRING, &devices,
      "Devices, comma-separated (default cpu,llvmpipe,cpu-reference)", "LIST" },
    { "new-tokens", 0, 0, G_OPTION_ARG_INT, &new_tokens, "Steps per search (default 32)", "N" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "Searches each way (default 4)", "N" },
    { "image-size", 0, 0, G_OPTION_ARG_INT, &image_size, "Input size (default 768)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("— cost of the token scores");
  g_autoptr (GError) error = NULL;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || model_dir == NULL ||
      new_tokens < 1 || rounds < 1 || image_size < 32)
    {
      fprintf (stderr, "bench-confidence: %s\n",
               error != NULL ? error->message : "give --model DIR (make-random-model writes one)");
      return 2;
    }
  g_auto (GStrv) list =
    g_strsplit (devices != NULL ? devices : "cpu,llvmpipe,cpu-reference", ",", -1);
  int status = 0;
  for (guint i = 0; list[i] != NULL; i++)
    if (!bench_device (model_dir, list[i], (guint) new_tokens, (guint) rounds, image_size, &error))
      {
        fprintf (stderr, "bench-confidence: %s: %s\n", list[i], error->message);
        g_clear_error (&error);
        status = 1;
      }
  return status;
}
