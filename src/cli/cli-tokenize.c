/* cli-tokenize.c: depict-cli tokenize — the prompt of a task and its token ids, as JSON
 *
 *   depict-cli tokenize [--task TASK] [--text TEXT] [--region X1,Y1,X2,Y2 --image-size WxH]
 *                       --model DIR
 *
 * prints {"version": 1, "task", "text", "prompt", "ids", "tokens"} on one line. Without --task the
 * text is given to the processor as it is (it may itself start with a task token, as in the
 * reference).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli-options.h"
#include "depict-cli.h"
#include "cli-text.h"
#include "florence/text/florence-task.h"
#include "florence/text/florence-tokenizer.h"

int cli_tokenize_main (int argc, char **argv);

int
cli_tokenize_main (int argc, char **argv)
{
  g_autofree char *task_name = NULL, *text = NULL, *model = NULL, *region = NULL;
  g_autofree char *image_size = NULL, *prompt = NULL, *region_input = NULL;
  const GOptionEntry entries[] = {
    { "task", 't', 0, G_OPTION_ARG_STRING, &task_name, N_ ("Task token, e.g. <OD> or OD"),
      N_ ("TASK") },
    { "text", 0, 0, G_OPTION_ARG_STRING, &text, N_ ("Text input of the task"), N_ ("TEXT") },
    { "region", 0, 0, G_OPTION_ARG_STRING, &region, N_ ("Region input in pixels"),
      N_ ("X1,Y1,X2,Y2") },
    { "image-size", 0, 0, G_OPTION_ARG_STRING, &image_size,
      N_ ("Size of the picture, for --region"), N_ ("WxH") },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model, N_ ("Model folder with the tokenizer"),
      N_ ("DIR") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceTokenizer) tok = NULL;
  g_autoptr (GArray) ids = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  const FlorenceTaskInfo *task = NULL;

  g_option_context_set_summary (context,
                                _ ("Print the prompt of a task and its token ids as JSON."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc > 1)
    return cli_fail (g_error_new (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                  _ ("Unexpected argument “%s”. Give the text with --text."),
                                  argv[1]));
  if (model == NULL)
    return cli_fail (
      g_error_new (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("No model folder. Give the folder with the tokenizer with --model DIR.")));
  if (task_name == NULL && text == NULL)
    return cli_fail (g_error_new (
      G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      _ ("Nothing to tokenize. Give a task with --task, a text with --text, or both.")));

  if (task_name != NULL && (task = florence_task_find_or_error (task_name, &error)) == NULL)
    return cli_fail (g_steal_pointer (&error));

  if (region != NULL)
    {
      int w, h;
      if (text != NULL)
        return cli_fail (g_error_new (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                                      _ ("Give either --text or --region, not both.")));
      if (!cli_text_parse_image_size (image_size, &w, &h, &error) ||
          (region_input = cli_text_region_input (region, w, h, &error)) == NULL)
        return cli_fail (g_steal_pointer (&error));
      text = g_strdup (region_input);
    }

  if (task != NULL)
    prompt = florence_task_build_prompt (task, text, &error);
  else
    prompt = florence_task_construct_prompt (text, &error);
  if (prompt == NULL)
    return cli_fail (g_steal_pointer (&error));

  tok = florence_tokenizer_new_from_dir (model, &error);
  if (tok == NULL)
    return cli_fail (g_steal_pointer (&error));
  ids = florence_tokenizer_encode (tok, prompt);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "task");
  json_builder_add_string_value (b, task != NULL ? task->token : "");
  json_builder_set_member_name (b, "text");
  json_builder_add_string_value (b, text != NULL ? text : "");
  json_builder_set_member_name (b, "prompt");
  json_builder_add_string_value (b, prompt);
  json_builder_set_member_name (b, "ids");
  json_builder_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    json_builder_add_int_value (b, g_array_index (ids, gint32, i));
  json_builder_end_array (b);
  json_builder_set_member_name (b, "tokens");
  json_builder_begin_array (b);
  for (guint i = 0; i < ids->len; i++)
    json_builder_add_string_value (
      b, florence_tokenizer_id_to_token (tok, g_array_index (ids, gint32, i)));
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  cli_print_json_line (root);
  return 0;
}
