/* bench-model.c: Florence-2 end to end on each engine side by side — wall and CPU time per
 * stage, ms per decoder step, peak memory, GFLOP/s of the vision tower
 *
 *   bench-model [--model DIR] [--config base|large] [--devices LIST] [--threads N]
 *               [--image FILE] [--image-size N] [--new-tokens N] [--beams 1,3] [--runs N]
 *               [--pytorch GREEDY,BEAMS] [--gpu-timestamps] [--ops] [--ops-only]
 *               [--ops-seconds S] [--ops-filter TEXT]
 *
 * Without --model it makes (once) a model directory with random weights of the real
 * Florence-2-base shapes next to itself (make-random-model, ~463 MB; --config large: the
 * Florence-2-large shapes, ~1.5 GB). Each device of --devices (default
 * "cpu,cpu-reference,llvmpipe": the CPU engine, the plain-C reference and the GPU engine on
 * lavapipe; any name florence-device.h reads) runs in a process of its own, so that its peak
 * resident memory (VmHWM) is its own: it loads the model through the public model API and
 * runs <CAPTION> on a 640×480 photo that the processor resizes to 768×768, greedy and with 3
 * beams, 32 new tokens (random weights rarely emit EOS; the forced EOS ends the sequence at
 * the limit, so every step runs), after one warm-up run per beam count (shader compilation on
 * the GPU). Per stage it prints wall and process CPU time: preprocess, vision (DaViT +
 * projection, with its GFLOP per second and per CPU-second), encoder (+ cross-attention
 * keys/values; its CPU time is up to the end of the first step less one steady step), decode;
 * ms per decoder step (wall and CPU, steady state), the total, VmHWM, the load average.
 * On a busy machine the CPU times stay near the quiet figures; wall times do not. A table of
 * the devices side by side closes the report; with --pytorch (the Python reference's wall
 * seconds for the same run, measured apart on the same machine) it gives each total as a
 * share of PyTorch's.
 *
 * --gpu-timestamps: DEPICT_GPU_TIMESTAMPS=1, the runtime's per-op table on stderr.
 * --ops: the GPU engine's ops one by one (bench-model-ops.c); --ops-only skips the rest.
 *
 * Random weights: the text is noise, the timings are real. Figures are printed, never
 * asserted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-model.h"
#include "florence/files/florence-config.h"
#include "florence/model/florence-model.h"

/* =============================================================================================
 * Process figures
 * =========================================================================================== */

double
cpu_seconds (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

double
wall_seconds (void)
{
  return (double) g_get_monotonic_time () / 1e6;
}

/* VmHWM (peak resident set) in MiB, from /proc/self/status */
static double
peak_rss_mib (void)
{
  g_autofree char *status = NULL;
  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return 0;
  const char *p = strstr (status, "VmHWM:");
  return p != NULL ? g_ascii_strtod (p + 6, NULL) / 1024.0 : 0;
}

static char *
load_average (void)
{
  g_autofree char *s = NULL;
  if (!g_file_get_contents ("/proc/loadavg", &s, NULL, NULL))
    return g_strdup ("?");
  char **f = g_strsplit (s, " ", 4);
  char *out = g_strdup_printf ("%s %s %s", f[0], f[1] != NULL ? f[1] : "",
                               f[1] != NULL && f[2] != NULL ? f[2] : "");
  g_strfreev (f);
  return out;
}

void
print_conditions (const char *when)
{
  g_autofree char *load = load_average ();
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format (now, "%H:%M:%S UTC");
  printf ("[%s] %s, load average %s, %d CPUs\n", when, stamp, load, g_get_num_processors ());
}

static char *
make_model (const char *config, GError **error)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", error);
  if (self == NULL)
    return NULL;
  g_autofree char *dir = g_path_get_dirname (self);
  g_autofree char *name = g_strdup_printf ("bench-model-%s", config);
  char *model = g_build_filename (dir, name, NULL);
  g_autofree char *weights = g_build_filename (model, "model.safetensors", NULL);
  if (g_file_test (weights, G_FILE_TEST_EXISTS))
    return model;
  g_autofree char *maker = g_build_filename (dir, "make-random-model", NULL);
  const char *argv[] = { maker, model, "--config", config, NULL };
  int status = 0;
  g_printerr ("Writing a Florence-2-%s model with random weights to %s…\n", config, model);
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL,
                     NULL, &status, error) ||
      !g_spawn_check_wait_status (status, error))
    {
      g_free (model);
      return NULL;
    }
  return model;
}

/* =============================================================================================
 * One device, in its own process
 * =========================================================================================== */

typedef struct {
  guint steps;
  double wall_first, cpu_first, wall_last, cpu_last;
} StepClock;

static void
on_progress (guint n_tokens, gpointer user_data)
{
  StepClock *sc = user_data;
  double w = wall_seconds (), c = cpu_seconds ();
  if (sc->steps == 0)
    {
      sc->wall_first = w;
      sc->cpu_first = c;
    }
  sc->wall_last = w;
  sc->cpu_last = c;
  sc->steps = n_tokens;
}

typedef struct {
  double prep, prep_cpu, vision, vision_cpu, encoder, encoder_cpu, decode, decode_cpu;
  double step_ms, step_cpu_ms, total, total_cpu;
  guint steps, tokens;
} Figures;

static gboolean
run_once (FlorenceModel *model, const char *image, const FlorenceRunOptions *ro, Figures *f,
          GError **error)
{
  StepClock sc = { 0 };
  double w0 = wall_seconds (), c0 = cpu_seconds ();
  g_autoptr (FlorenceModelImage) img =
    florence_model_image_new_from_file (model, image, NULL, error);
  if (img == NULL || !florence_model_image_preprocess (img, ro->image_size, error))
    return FALSE;
  double w1 = wall_seconds (), c1 = cpu_seconds ();
  if (!florence_model_image_encode (img, ro->image_size, NULL, error))
    return FALSE;
  double w2 = wall_seconds (), c2 = cpu_seconds ();
  g_autoptr (FlorenceRun) run =
    florence_model_run_image (model, img, ro, NULL, on_progress, &sc, error);
  if (run == NULL)
    return FALSE;
  double w3 = wall_seconds (), c3 = cpu_seconds ();

  *f = (Figures){ 0 };
  f->prep = w1 - w0, f->prep_cpu = c1 - c0;
  f->vision = w2 - w1, f->vision_cpu = c2 - c1;
  f->steps = sc.steps;
  f->tokens = run->token_ids->len - 1;
  f->step_ms = sc.steps > 1 ? 1000.0 * (sc.wall_last - sc.wall_first) / (sc.steps - 1) : 0;
  f->step_cpu_ms = sc.steps > 1 ? 1000.0 * (sc.cpu_last - sc.cpu_first) / (sc.steps - 1) : 0;
  f->encoder = run->timings.encoder;
  f->decode = run->timings.decode;
  /* CPU up to the end of the first step, less one steady step, is the encoder's */
  f->encoder_cpu = sc.steps > 0 ? MAX (sc.cpu_first - c2 - f->step_cpu_ms / 1000.0, 0.0) : c3 - c2;
  f->decode_cpu = (c3 - c2) - f->encoder_cpu;
  f->total = w3 - w0;
  f->total_cpu = c3 - c0;
  return TRUE;
}

static gboolean
bench_device (const char *model_dir, const char *device, int threads, const char *image,
              int image_size, int new_tokens, const char *beam_list, int runs, GError **error)
{
  FlorenceModelOptions mo = { FLORENCE_DEVICE_AUTO };
  g_autofree char *vulkan = NULL;
  if (!florence_device_parse (device, &mo.device, &vulkan, error))
    return FALSE;
  mo.vulkan_device = vulkan;
  mo.n_threads = threads;
  print_conditions ("before load");
  double w0 = wall_seconds (), c0 = cpu_seconds ();
  g_autoptr (FlorenceModel) model = florence_model_load (model_dir, &mo, error);
  if (model == NULL)
    return FALSE;
  const FlorenceConfig *config = florence_model_get_config (model);
  const int size = image_size > 0 ? image_size : config->image_size;
  const double gflop = bench_vision_gflop (config, (guint) size);
  printf ("model %s\ndevice %s (--device %s)\nload %.2f s (CPU %.2f s), peak resident memory "
          "after load %.0f MiB\nvision tower %.1f GFLOP at %d×%d\n",
          model_dir, florence_model_get_device_name (model), device, wall_seconds () - w0,
          cpu_seconds () - c0, peak_rss_mib (), gflop, size, size);

  g_auto (GStrv) beams = g_strsplit (beam_list, ",", -1);
  printf ("\n%-9s %15s %15s %15s %15s %15s %15s %11s %8s\n", "<CAPTION>", "prep s (CPU)",
          "vision s (CPU)", "GFLOP/s (/CPUs)", "encoder s (CPU)", "decode s (CPU)", "ms/step (CPU)",
          "total s", "VmHWM");
  for (guint i = 0; beams[i] != NULL; i++)
    {
      guint nb = (guint) g_ascii_strtoull (beams[i], NULL, 10);
      if (nb == 0)
        continue;
      FlorenceRunOptions ro = {
        .task = "<CAPTION>",
        .num_beams = nb,
        .max_new_tokens = (guint) new_tokens,
        .image_size = size,
      };
      /* one warm-up run (shader compilation, first allocations), then the best of @runs */
      Figures best = { 0 };
      gboolean have = FALSE;
      for (int r = 0; r <= runs; r++)
        {
          Figures f;
          if (!run_once (model, image, &ro, &f, error))
            return FALSE;
          if (r == 0 && runs > 0)
            {
              printf ("  (warm-up, %u beam%s: total %.2f s)\n", nb, nb > 1 ? "s" : "", f.total);
              continue;
            }
          if (!have || f.total < best.total)
            best = f;
          have = TRUE;
        }
      char label[32], c[7][32];
      g_snprintf (label, sizeof label, "%u beam%s", nb, nb > 1 ? "s" : "");
      g_snprintf (c[0], sizeof c[0], "%.3f (%.3f)", best.prep, best.prep_cpu);
      g_snprintf (c[1], sizeof c[1], "%.3f (%.3f)", best.vision, best.vision_cpu);
      g_snprintf (c[2], sizeof c[2], "%.1f (%.1f)", gflop / best.vision, gflop / best.vision_cpu);
      g_snprintf (c[3], sizeof c[3], "%.3f (%.3f)", best.encoder, best.encoder_cpu);
      g_snprintf (c[4], sizeof c[4], "%.3f (%.3f)", best.decode, best.decode_cpu);
      g_snprintf (c[5], sizeof c[5], "%.1f (%.1f)", best.step_ms, best.step_cpu_ms);
      g_snprintf (c[6], sizeof c[6], "%.2f (%.2f)", best.total, best.total_cpu);
      printf ("%-9s %15s %15s %15s %15s %15s %15s %11s %6.0f M\n", label, c[0], c[1], c[2], c[3],
              c[4], c[5], c[6], peak_rss_mib ());
      printf ("          %u steps, %u tokens, process CPU %.2f s for the run\n", best.steps,
              best.tokens, best.total_cpu);
      print_conditions ("after");
      /* for the table of the devices side by side */
      printf ("RESULT\t%s\t%u\t%.3f\t%.3f\t%.3f\t%.3f\t%.1f\t%.1f\t%.0f\t%.1f\n", device, nb,
              best.total, best.total_cpu, best.vision, best.vision_cpu, best.step_ms,
              best.step_cpu_ms, peak_rss_mib (), gflop / best.vision_cpu);
    }
  printf ("(prep = decode + resize + normalize; vision = DaViT + projection; encoder = BART "
          "encoder + cross-attention keys/values; decode = all steps; ms/step = steady state; "
          "CPU = process CPU seconds, all threads)\n");
  return TRUE;
}

/* =============================================================================================
 * The devices side by side
 * =========================================================================================== */

/* --pytorch GREEDY,BEAMS: the PyTorch reference's wall seconds for the same run (greedy, 3
 * beams), measured apart on the same machine; 0 where not given */
static gboolean
parse_pytorch (const char *text, double pytorch[2], GError **error)
{
  g_auto (GStrv) f = g_strsplit (text, ",", -1);
  char *end = NULL;
  for (guint i = 0; i < 2; i++)
    {
      pytorch[i] = f[0] != NULL && f[i] != NULL ? g_ascii_strtod (f[i], &end) : 0;
      if (f[0] == NULL || f[i] == NULL || end == f[i] || *end != '\0' || !(pytorch[i] > 0))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "--pytorch wants two seconds, greedy and 3 beams (e.g. 8.5,11.2)");
          return FALSE;
        }
    }
  return TRUE;
}

static void
print_side_by_side (GPtrArray *results, const double pytorch[2])
{
  if (results->len == 0)
    return;
  printf ("\nSide by side (best run; wall s and process CPU s; ms per steady decoder step; "
          "VmHWM of the device's process; vision GFLOP per CPU-second%s):\n",
          pytorch[0] > 0 ? "; wall total as a share of PyTorch's" : "");
  printf ("%-18s %6s %9s %9s %9s %9s %9s %9s %8s %8s%s\n", "device", "beams", "total", "CPU",
          "vision", "CPU", "ms/step", "CPU ms", "VmHWM", "GF/CPUs",
          pytorch[0] > 0 ? " x PyTorch" : "");
  for (guint i = 0; i < results->len; i++)
    {
      g_auto (GStrv) f = g_strsplit (results->pdata[i], "\t", -1);
      if (g_strv_length (f) < 11)
        continue;
      int beams = atoi (f[2]);
      double ref = beams == 1 ? pytorch[0] : beams == 3 ? pytorch[1] : 0;
      char ratio[32] = "";
      if (ref > 0)
        g_snprintf (ratio, sizeof ratio, " %9.2f", g_ascii_strtod (f[3], NULL) / ref);
      printf ("%-18s %6s %9s %9s %9s %9s %9s %9s %6s M %8s%s\n", f[1], f[2], f[3], f[4], f[5], f[6],
              f[7], f[8], f[9], f[10], ratio);
    }
  for (guint i = 0; i < 2 && pytorch[0] > 0; i++)
    printf ("%-18s %6u %9.3f   (given with --pytorch, measured apart)\n", "PyTorch", i == 0 ? 1 : 3,
            pytorch[i]);
}

int
main (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *devices = NULL, *device = NULL, *image = NULL, *beams = NULL,
                  *config_name = NULL, *pytorch_text = NULL;
  int image_size = 0, new_tokens = 32, runs = 1, threads = 0;
  gboolean timestamps = FALSE, ops = FALSE, ops_only = FALSE;
  double ops_seconds = 0.5;
  g_autofree char *ops_filter = NULL;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_dir,
      "Model directory (default: random weights of the --config shapes, made next to the "
      "program)",
      "DIR" },
    { "config", 0, 0, G_OPTION_ARG_STRING, &config_name, "base (default) or large", "NAME" },
    { "devices", 0, 0, G_OPTION_ARG_STRING, &devices,
      "Devices to compare, each in its own process (cpu,cpu-reference,llvmpipe)", "LIST" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device,
      "One device, in this process (any name florence-device.h reads)", "DEVICE" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &threads, "CPU engines: threads (all)", "N" },
    { "image", 0, 0, G_OPTION_ARG_FILENAME, &image, "Picture (default: a 640×480 fixture)",
      "FILE" },
    { "image-size", 0, 0, G_OPTION_ARG_INT, &image_size, "Model input side (default 768)", "N" },
    { "new-tokens", 0, 0, G_OPTION_ARG_INT, &new_tokens, "Tokens to generate (32)", "N" },
    { "beams", 0, 0, G_OPTION_ARG_STRING, &beams, "Beam counts to run (1,3)", "LIST" },
    { "runs", 0, 0, G_OPTION_ARG_INT, &runs,
      "Measured runs after the warm-up; the best is reported (1; 0 = no warm-up)", "N" },
    { "pytorch", 0, 0, G_OPTION_ARG_STRING, &pytorch_text,
      "The PyTorch reference's wall seconds for the same run, greedy and 3 beams, measured apart "
      "on this machine: the table gives each engine's total as a share of it",
      "GREEDY,BEAMS" },
    { "gpu-timestamps", 0, 0, G_OPTION_ARG_NONE, &timestamps,
      "Print the runtime's per-op GPU time table (DEPICT_GPU_TIMESTAMPS=1) on stderr", NULL },
    { "ops", 0, 0, G_OPTION_ARG_NONE, &ops, "Also profile the GPU engine's ops one by one", NULL },
    { "ops-only", 0, 0, G_OPTION_ARG_NONE, &ops_only, "Only the per-op profile", NULL },
    { "ops-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &ops_seconds, "Seconds per op (0.5)", "S" },
    { "ops-filter", 0, 0, G_OPTION_ARG_STRING, &ops_filter,
      "Only the ops whose name or phase contains this text", "TEXT" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  setvbuf (stdout, NULL, _IOLBF, 0); /* figures appear as they come, also in a file */
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  double pytorch[2] = { 0, 0 };
  if (pytorch_text != NULL && !parse_pytorch (pytorch_text, pytorch, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (timestamps)
    g_setenv ("DEPICT_GPU_TIMESTAMPS", "1", TRUE);
  const char *data =
    g_getenv ("DEPICT_TEST_DATA") != NULL ? g_getenv ("DEPICT_TEST_DATA") : "tests/data";
  if (config_name == NULL)
    config_name = g_strdup ("base");
  if (!ops_only && model_dir == NULL && (model_dir = make_model (config_name, &error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (image == NULL)
    image = g_build_filename (data, "preprocess", "images", "photo_640x480.png", NULL);
  const char *beam_list = beams != NULL ? beams : "1,3";

  if (!ops_only && device != NULL)
    {
      if (!bench_device (model_dir, device, threads, image, image_size, new_tokens, beam_list,
                         MAX (runs, 0), &error))
        {
          g_printerr ("%s: %s\n", device, error->message);
          return 1;
        }
    }
  else if (!ops_only)
    {
      /* each device in a process of its own: its VmHWM is its own */
      g_autofree char *self = g_file_read_link ("/proc/self/exe", &error);
      if (self == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      g_auto (GStrv) list =
        g_strsplit (devices != NULL ? devices : "cpu,cpu-reference,llvmpipe", ",", -1);
      g_autoptr (GPtrArray) results = g_ptr_array_new_with_free_func (g_free);
      for (guint i = 0; list[i] != NULL; i++)
        {
          g_autofree char *runs_s = g_strdup_printf ("%d", runs);
          g_autofree char *tokens_s = g_strdup_printf ("%d", new_tokens);
          g_autofree char *size_s = g_strdup_printf ("%d", image_size);
          g_autofree char *threads_s = g_strdup_printf ("%d", threads);
          const char *child[] = {
            self,      "--model",      model_dir, "--device",     list[i],   "--image",
            image,     "--image-size", size_s,    "--new-tokens", tokens_s,  "--beams",
            beam_list, "--runs",       runs_s,    "--threads",    threads_s, NULL
          };
          g_autofree char *out = NULL;
          int status = 0;
          printf ("\n===== %s =====\n", list[i]);
          if (!g_spawn_sync (NULL, (char **) child, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL,
                             &out, NULL, &status, &error))
            {
              g_printerr ("%s\n", error->message);
              return 1;
            }
          g_auto (GStrv) lines = g_strsplit (out != NULL ? out : "", "\n", -1);
          for (guint l = 0; lines[l] != NULL; l++)
            if (g_str_has_prefix (lines[l], "RESULT\t"))
              g_ptr_array_add (results, g_strdup (lines[l]));
            else if (lines[l][0] != '\0' || lines[l + 1] != NULL)
              printf ("%s\n", lines[l]);
          if (!g_spawn_check_wait_status (status, NULL))
            printf ("(%s did not finish: see above)\n", list[i]);
        }
      print_side_by_side (results, pytorch);
    }

  if (ops || ops_only)
    {
      g_autofree char *cdir =
        model_dir != NULL ? g_strdup (model_dir) : g_build_filename (data, "hub", "base", NULL);
      g_autoptr (FlorenceConfig) config = florence_config_load (cdir, &error);
      if (config == NULL)
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      guint size = image_size > 0 ? (guint) image_size : (guint) config->image_size;
      if (!bench_ops (config, size, 9, ops_seconds, ops_filter, &error))
        {
          printf ("bench-model: per-op profile skipped: %s\n", error->message);
          return ops_only ? 77 : 0;
        }
    }
  return 0;
}
