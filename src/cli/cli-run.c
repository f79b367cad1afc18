/* cli-run.c: `depict-cli run`, one task on one or more pictures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli-text.h"
#include "cli-options.h"
#include "depict-cli.h"
#include "florence/model/florence-limits.h"
#include "florence/model/florence-model-dir.h"
#include "florence/model/florence-model.h"
#include "florence/text/florence-task.h"

int cli_run_main (int argc, char **argv);

/* "0,2264 473 2" → ids; NULL on a bad number. */
static GArray *
parse_ids (const char *str)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_auto (GStrv) parts = g_regex_split_simple ("[,\\s]+", str, 0, 0);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (parts[i][0] == '\0')
        continue;
      gint64 v;
      if (!g_ascii_string_to_signed (parts[i], 10, 0, G_MAXINT32, &v, NULL))
        return NULL;
      gint32 id = (gint32) v;
      g_array_append_val (ids, id);
    }
  return ids->len > 0 ? g_steal_pointer (&ids) : NULL;
}

static void
print_floats (GString *out, const float *v, gsize n)
{
  g_string_append_c (out, '[');
  for (gsize i = 0; i < n; i++)
    g_string_append_printf (out, "%s%.1f", i ? ", " : "", v[i]);
  g_string_append_c (out, ']');
}

static const char *
label_or (const GPtrArray *labels, guint i)
{
  const char *l = labels != NULL && i < labels->len ? labels->pdata[i] : NULL;
  return l != NULL && *l != '\0' ? l : _ ("(no label)");
}

/* The result for people: the text, or one line per box / polygon / text line. */
static void
print_result (const char *image, const FlorenceRun *run)
{
  const FlorenceResult *r = run->result;
  g_autoptr (GString) out = g_string_new (NULL);
  g_string_append_printf (out, "%s: %s\n", image, run->task[0] != '\0' ? run->task : run->text);
  if (r->text != NULL)
    g_string_append_printf (out, "  %s\n", r->text);
  for (guint i = 0; r->boxes != NULL && i < r->boxes->len; i++)
    {
      const FlorenceBox *b = &g_array_index (r->boxes, FlorenceBox, i);
      float v[4] = { b->x1, b->y1, b->x2, b->y2 };
      g_string_append_printf (out, "  %s: ", label_or (r->box_labels, i));
      print_floats (out, v, 4);
      g_string_append_c (out, '\n');
    }
  for (guint i = 0; r->polygons != NULL && i < r->polygons->len; i++)
    {
      GPtrArray *inst = r->polygons->pdata[i];
      for (guint p = 0; p < inst->len; p++)
        {
          GArray *poly = inst->pdata[p];
          g_string_append_printf (out, "  %s: ", label_or (r->polygon_labels, i));
          g_string_append_printf (
            out, ngettext ("polygon of %u point ", "polygon of %u points ", poly->len / 2),
            poly->len / 2);
          print_floats (out, (const float *) poly->data, poly->len);
          g_string_append_c (out, '\n');
        }
    }
  for (guint i = 0; r->quads != NULL && i < r->quads->len; i++)
    {
      const FlorenceQuad *q = &g_array_index (r->quads, FlorenceQuad, i);
      g_string_append_printf (out, "  %s: ", label_or (r->quad_labels, i));
      print_floats (out, q->p, 8);
      g_string_append_c (out, '\n');
    }
  if (florence_result_get_n_instances (r) == 0 && r->text == NULL)
    g_string_append_printf (out, "  %s\n", _ ("(nothing found)"));
  fputs (out->str, stdout);
  fflush (stdout);
}

int
cli_run_main (int argc, char **argv)
{
  g_autofree char *model_arg = NULL;
  g_autofree char *model_dir = NULL;
  g_auto (GStrv) tasks = NULL;
  g_autofree char *text = NULL;
  g_autofree char *device = NULL;
  g_autofree char *tokenizer_dir = NULL;
  g_autofree char *prompt_ids_str = NULL;
  int beams = 0, max_new_tokens = 0, image_size = 0;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_arg,
      N_ ("The model: a folder (config.json, weights, tokenizer) or the name of an installed "
          "model (base, base-ft, large, large-ft; default: the first installed)"),
      N_ ("DIR|NAME") },
    { "task", 't', 0, G_OPTION_ARG_STRING_ARRAY, &tasks,
      N_ ("The task token, e.g. <CAPTION>, <OD>, <OCR_WITH_REGION>; repeat it to run several "
          "tasks on each picture, which is then decoded and encoded once"),
      N_ ("TASK") },
    { "text", 0, 0, G_OPTION_ARG_STRING, &text,
      N_ ("The task’s text input (a phrase, a caption or a region); with several tasks, "
          "the input of those that take one"),
      N_ ("TEXT") },
    { "beams", 'b', 0, G_OPTION_ARG_INT, &beams,
      N_ ("Beams of the search (default: the model’s, 3; 1 = greedy)"), N_ ("N") },
    { "max-new-tokens", 0, 0, G_OPTION_ARG_INT, &max_new_tokens,
      N_ ("Most tokens to generate (default 1024)"), N_ ("N") },
    { "image-size", 0, 0, G_OPTION_ARG_INT, &image_size,
      N_ ("Model input side in pixels, a multiple of 32 up to 992 (default: the model’s)"),
      N_ ("N") },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &json,
      N_ ("Print one line of JSON per picture and task (ids, text, result, timings)"), NULL },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &device,
      N_ ("Where to run: auto, vulkan, cpu-reference, or a Vulkan device by index or part of "
          "its name as “depict-cli devices” lists them (default auto, or $DEPICT_DEVICE)"),
      N_ ("DEVICE") },
    { "tokenizer", 0, 0, G_OPTION_ARG_FILENAME, &tokenizer_dir,
      N_ ("A folder with tokenizer.json, when the model directory has none"), N_ ("DIR") },
    { "prompt-ids", 0, 0, G_OPTION_ARG_STRING, &prompt_ids_str,
      N_ ("Use these prompt token ids (comma separated) instead of the task’s prompt"),
      N_ ("IDS") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("IMAGE…"));
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (
    context, _ ("Runs one Florence-2 task on each picture and prints the result: the text, "
                "or the boxes, polygons and text lines in the picture’s pixels."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));

  if (argc < 2)
    {
      g_printerr ("%s\n", _ ("depict-cli run: give at least one IMAGE. See --help."));
      return 2;
    }
  if (!florence_limits_check (NULL, beams, max_new_tokens, image_size, &error))
    {
      g_printerr ("depict-cli run: %s\n", error->message);
      return 2;
    }
  g_autoptr (GArray) prompt_ids = NULL;
  if (prompt_ids_str != NULL && (prompt_ids = parse_ids (prompt_ids_str)) == NULL)
    {
      g_printerr ("%s\n", _ ("depict-cli run: --prompt-ids takes token ids separated by commas, "
                             "e.g. 0,2264,473,2."));
      return 2;
    }
  if (tasks == NULL && text == NULL && prompt_ids == NULL)
    {
      g_printerr ("%s\n", _ ("depict-cli run: give a --task (for example <CAPTION>). See "
                             "--help."));
      return 2;
    }
  if (tasks == NULL)
    tasks = g_strdupv ((char *[]){ (char *) "", NULL });
  if (prompt_ids != NULL && g_strv_length (tasks) > 1)
    {
      g_printerr ("%s\n", _ ("depict-cli run: --prompt-ids goes with one --task at most."));
      return 2;
    }
  for (guint t = 0; tasks[t] != NULL; t++)
    if (tasks[t][0] != '\0')
      {
        /* "<OD>", "od" and "OD" name the same task, as for tokenize and parse. */
        const FlorenceTaskInfo *info = florence_task_find_or_error (tasks[t], &error);
        if (info == NULL)
          {
            g_printerr ("depict-cli run: %s\n", error->message);
            return 2;
          }
        g_free (tasks[t]);
        tasks[t] = g_strdup (info->token);
      }

  FlorenceModelOptions mopts = { FLORENCE_DEVICE_AUTO, tokenizer_dir };
  g_autofree char *vulkan_device = NULL;
  if (device != NULL && !florence_device_parse (device, &mopts.device, &vulkan_device, &error))
    {
      g_printerr ("depict-cli run: %s\n", error->message);
      return 2;
    }
  mopts.vulkan_device = vulkan_device;
  model_dir = florence_model_dir_resolve (model_arg, &error);
  if (model_dir == NULL)
    return cli_fail (g_steal_pointer (&error));
  g_autoptr (FlorenceModel) model = florence_model_load (model_dir, &mopts, &error);
  if (model == NULL)
    return cli_fail (g_steal_pointer (&error));

  FlorenceRunOptions ropts = {
    .num_beams = (guint) beams,
    .max_new_tokens = (guint) max_new_tokens,
    .image_size = image_size,
    .prompt_ids = prompt_ids != NULL ? (const gint32 *) prompt_ids->data : NULL,
    .n_prompt_ids = prompt_ids != NULL ? prompt_ids->len : 0,
  };
  int status = 0;
  for (int i = 1; i < argc; i++)
    {
      /* Decoded once; each input size's features are made once and shared by the tasks. */
      g_autoptr (FlorenceModelImage) image =
        florence_model_image_new_from_file (model, argv[i], NULL, &error);
      for (guint t = 0; image != NULL && tasks[t] != NULL; t++)
        {
          ropts.task = tasks[t];
          /* With several tasks, --text goes to those that take an input. */
          const FlorenceTaskInfo *info = florence_task_lookup (tasks[t]);
          ropts.text_input =
            tasks[1] != NULL && info != NULL && info->input == FLORENCE_TASK_INPUT_NONE ? NULL
                                                                                        : text;
          g_autoptr (FlorenceRun) run =
            florence_model_run_image (model, image, &ropts, NULL, NULL, NULL, &error);
          if (run == NULL)
            break;
          if (json)
            {
              g_autoptr (JsonNode) node =
                florence_run_to_json_node (run, argv[i], florence_model_get_device_name (model));
              cli_print_json_line (node);
            }
          else
            print_result (argv[i], run);
        }
      if (error != NULL)
        {
          g_printerr ("depict-cli: %s: %s\n", argv[i], error->message);
          g_clear_error (&error);
          status = 1;
        }
    }
  return status;
}
