/* bench-model.c: Florence-2-base end to end — time per stage, peak memory, ms per token
 *
 *   bench-model [--model DIR] [--device auto|vulkan|cpu-reference] [--image-size N]
 *               [--new-tokens N] [--image FILE]
 *
 * Without --model it makes (once) a model directory with random weights of the real
 * Florence-2-base shapes next to itself, with make-random-model. Runs <CAPTION> greedy and
 * with 3 beams, 32 new tokens by default, on a 640×480 photo resized to 768×768, and prints
 * the load, preprocess, vision, encoder and decode times, milliseconds per decoded token and
 * the peak resident memory. Random weights: the text is noise, the timings are real.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <sys/resource.h>

#include "florence/florence-model.h"

static double
peak_rss_mib (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return (double) ru.ru_maxrss / 1024.0;
}

static char *
make_model (GError **error)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", error);
  if (self == NULL)
    return NULL;
  g_autofree char *dir = g_path_get_dirname (self);
  char *model = g_build_filename (dir, "bench-model-base", NULL);
  g_autofree char *weights = g_build_filename (model, "model.safetensors", NULL);
  if (g_file_test (weights, G_FILE_TEST_EXISTS))
    return model;
  g_autofree char *maker = g_build_filename (dir, "make-random-model", NULL);
  const char *argv[] = { maker, model, NULL };
  int status = 0;
  g_printerr ("Writing a Florence-2-base model with random weights to %s…\n", model);
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL,
                     NULL, &status, error) ||
      !g_spawn_check_wait_status (status, error))
    {
      g_free (model);
      return NULL;
    }
  return model;
}

int
main (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *device = NULL, *image = NULL;
  int image_size = 0, new_tokens = 32;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_dir, "Model directory", "DIR" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device, "auto, vulkan or cpu-reference", "KIND" },
    { "image-size", 0, 0, G_OPTION_ARG_INT, &image_size, "Model input side", "N" },
    { "new-tokens", 0, 0, G_OPTION_ARG_INT, &new_tokens, "Tokens to generate", "N" },
    { "image", 0, 0, G_OPTION_ARG_FILENAME, &image, "Picture", "FILE" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (model_dir == NULL && (model_dir = make_model (&error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (image == NULL)
    image = g_build_filename (g_getenv ("DEPICT_TEST_DATA") != NULL ? g_getenv ("DEPICT_TEST_DATA")
                                                                   : "tests/data",
                              "preprocess", "images", "photo_640x480.png", NULL);

  FlorenceModelOptions mo = { FLORENCE_DEVICE_AUTO, NULL };
  if (device != NULL && !florence_device_kind_from_string (device, &mo.device))
    {
      g_printerr ("unknown device kind %s\n", device);
      return 2;
    }
  g_autoptr (FlorenceModel) model = florence_model_load (model_dir, &mo, &error);
  if (model == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  printf ("model %s on %s: load %.2f s, peak memory %.0f MiB\n", model_dir,
          florence_model_get_device_name (model), florence_model_get_load_seconds (model),
          peak_rss_mib ());

  for (guint beams = 1; beams <= 3; beams += 2)
    {
      FlorenceRunOptions ro = {
        .task = "<CAPTION>",
        .num_beams = beams,
        .max_new_tokens = (guint) new_tokens,
        .image_size = image_size,
      };
      /* the first run compiles the shaders: run twice, report the second */
      g_autoptr (FlorenceRun) run = NULL;
      for (int i = 0; i < 2; i++)
        {
          g_clear_pointer (&run, florence_run_free);
          run = florence_model_run_file (model, image, &ro, NULL, NULL, NULL, &error);
          if (run == NULL)
            {
              g_printerr ("%s\n", error->message);
              return 1;
            }
        }
      guint tokens = run->token_ids->len - 1;
      printf ("<CAPTION> %u beam%s, %d×%d: preprocess %.3f s, vision %.3f s, encoder %.3f s, "
              "decode %.3f s (%u tokens, %.1f ms/token), total %.3f s; peak memory %.0f MiB\n",
              beams, beams > 1 ? "s" : "", run->input_size, run->input_size,
              run->timings.preprocess, run->timings.vision, run->timings.encoder,
              run->timings.decode, tokens, tokens > 0 ? 1000.0 * run->timings.decode / tokens : 0.0,
              run->timings.total, peak_rss_mib ());
    }
  return 0;
}
