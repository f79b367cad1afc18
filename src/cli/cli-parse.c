/* cli-parse.c: depict-cli parse — post-process a generated text (or ids) into a result
 *
 *   depict-cli parse --task TASK --image-size WxH [--model DIR [--ids]] [--reference] TEXT
 *
 * TEXT is the decoded model output (special tokens kept), or "-" to read it from standard
 * input. With --ids, TEXT is a list of token ids ("2,0,5901,…") decoded first with the
 * tokenizer of --model. Prints the Depict result on one line of JSON ("$defs/result" of
 * data/depict-result.schema.json), or with --reference what the reference
 * post_process_generation() returns.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

#include "cli-options.h"
#include "depict-cli.h"
#include "cli-text.h"
#include "florence/text/florence-postprocess.h"
#include "florence/text/florence-tokenizer.h"

int cli_parse_main (int argc, char **argv);

static char *
read_stdin (GError **error)
{
  g_autoptr (GString) text = g_string_new (NULL);
  char buf[4096];
  size_t n;

  while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
    g_string_append_len (text, buf, (gssize) n);
  if (ferror (stdin))
    {
      g_set_error (
        error, G_IO_ERROR, G_IO_ERROR_FAILED,
        _ ("Could not read the text from standard input. Give it as an argument instead."));
      return NULL;
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

static GArray *
parse_ids (const char *str, GError **error)
{
  g_auto (GStrv) parts = g_strsplit_set (str, ", \t\n[]", -1);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint32));

  for (guint i = 0; parts[i] != NULL; i++)
    {
      gint64 v;
      if (parts[i][0] == '\0')
        continue;
      if (!g_ascii_string_to_signed (parts[i], 10, G_MININT32, G_MAXINT32, &v, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _ ("“%s” is not a token id. Give the ids as integers separated by commas."),
                       parts[i]);
          return NULL;
        }
      gint32 id = (gint32) v;
      g_array_append_val (ids, id);
    }
  return g_steal_pointer (&ids);
}

int
cli_parse_main (int argc, char **argv)
{
  g_autofree char *task_name = NULL, *image_size = NULL, *model = NULL, *text = NULL;
  gboolean use_ids = FALSE, reference = FALSE;
  const GOptionEntry entries[] = {
    { "task", 't', 0, G_OPTION_ARG_STRING, &task_name, N_ ("Task token, e.g. <OD> or OD"),
      N_ ("TASK") },
    { "image-size", 's', 0, G_OPTION_ARG_STRING, &image_size, N_ ("Size of the original picture"),
      N_ ("WxH") },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
      N_ ("Model folder with the tokenizer, for --ids"), N_ ("DIR") },
    { "ids", 0, 0, G_OPTION_ARG_NONE, &use_ids, N_ ("TEXT is a list of token ids to decode first"),
      NULL },
    { "reference", 0, 0, G_OPTION_ARG_NONE, &reference,
      N_ ("Print the reference implementation's form"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("TEXT"));
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceResult) result = NULL;
  g_autoptr (JsonNode) root = NULL;
  const FlorenceTaskInfo *task;
  int w, h;

  g_option_context_set_summary (
    context,
    _ ("Post-process the text a Florence-2 model generated and print the result as JSON."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc != 2)
    return cli_fail (
      g_error_new (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("Give exactly one TEXT to parse (or “-” to read it from standard input).")));
  if (task_name == NULL)
    return cli_fail (
      g_error_new (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("No task. Give the task that produced the text with --task.")));
  if ((task = florence_task_find_or_error (task_name, &error)) == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (!cli_text_parse_image_size (image_size, &w, &h, &error))
    return cli_fail (g_steal_pointer (&error));

  if (strcmp (argv[1], "-") == 0)
    {
      if ((text = read_stdin (&error)) == NULL)
        return cli_fail (g_steal_pointer (&error));
    }
  else
    text = g_strdup (argv[1]);

  if (use_ids)
    {
      g_autoptr (FlorenceTokenizer) tok = NULL;
      g_autoptr (GArray) ids = NULL;

      if (model == NULL)
        return cli_fail (g_error_new (
          G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          _ ("Decoding ids needs a tokenizer. Give the model folder with --model DIR.")));
      if ((tok = florence_tokenizer_new_from_dir (model, &error)) == NULL)
        return cli_fail (g_steal_pointer (&error));
      if ((ids = parse_ids (text, &error)) == NULL)
        return cli_fail (g_steal_pointer (&error));
      g_free (text);
      text = florence_tokenizer_decode (tok, (const gint32 *) ids->data, ids->len,
                                        FLORENCE_DECODE_DEFAULT);
    }
  else if (!g_utf8_validate (text, -1, NULL))
    return cli_fail (
      g_error_new (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("The text is not valid UTF-8. Give the decoded model output.")));

  result = florence_postprocess (task, text, w, h);
  root = reference ? florence_result_to_reference_json_node (result)
                   : florence_result_to_json_node (result);
  cli_print_json_line (root);
  return 0;
}
