/* cli-models.c: `depict-cli models` lists the known models, `depict-cli download` installs one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli-options.h"
#include "depict-cli.h"
#include "florence/hub/florence-hub.h"

int cli_models_main (int argc, char **argv);
int cli_download_main (int argc, char **argv);

int
cli_models_main (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print one line of JSON per model"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  gsize n = 0;
  const FlorenceHubModel *models = florence_hub_get_models (&n);

  g_option_context_set_summary (context,
                                _ ("Lists the Florence-2 models and where they are installed."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));

  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *dir = florence_hub_get_install_dir (&models[i]);
      guint64 installed = florence_hub_get_installed_size (&models[i]);
      if (json)
        {
          g_autoptr (JsonBuilder) b = json_builder_new ();
          g_autoptr (JsonNode) line = NULL;

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "version");
          json_builder_add_int_value (b, 1);
          json_builder_set_member_name (b, "id");
          json_builder_add_string_value (b, models[i].id);
          json_builder_set_member_name (b, "repo");
          json_builder_add_string_value (b, models[i].repo);
          json_builder_set_member_name (b, "installed");
          json_builder_add_boolean_value (b, installed > 0);
          json_builder_set_member_name (b, "path");
          json_builder_add_string_value (b, dir);
          json_builder_set_member_name (b, "size");
          json_builder_add_int_value (
            b, (gint64) (installed > 0 ? installed : models[i].download_size));
          json_builder_end_object (b);
          line = json_builder_get_root (b);
          cli_print_json_line (line);
        }
      else
        {
          g_autofree char *size =
            g_format_size (installed > 0 ? installed : models[i].download_size);
          printf ("%-9s %-32s %-10s %s\n", models[i].id, models[i].repo, size,
                  installed > 0 ? dir : _ ("not installed"));
        }
    }
  return 0;
}

static void
print_progress (guint64 received, guint64 total, const char *file, gpointer user_data)
{
  g_autofree char *r = g_format_size (received);
  g_autofree char *t = g_format_size (total);
  fprintf (stderr, "\r%-28s %s / %s   ", file, r, t);
}

int
cli_download_main (int argc, char **argv)
{
  g_autofree char *dest = NULL;
  GOptionEntry entries[] = {
    { "to", 0, 0, G_OPTION_ARG_FILENAME, &dest,
      N_ ("Install into DIR instead of the models folder"), N_ ("DIR") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("MODEL"));
  g_autoptr (GError) error = NULL;
  const FlorenceHubModel *model;
  FlorenceHubDownload d = { 0 };

  g_option_context_set_summary (
    context,
    _ ("Downloads a Florence-2 model (base, base-ft, large, large-ft) from the Hugging Face hub, "
       "verifying every file. An interrupted download resumes where it stopped. HF_ENDPOINT "
       "selects a mirror."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc != 2)
    {
      g_printerr ("%s\n",
                  _ ("depict-cli download: name one model: base, base-ft, large or large-ft."));
      return 2;
    }
  model = florence_hub_lookup (argv[1]);
  if (model == NULL)
    {
      g_printerr (_ ("depict-cli download: there is no model “%s”; choose base, base-ft, large or "
                     "large-ft.\n"),
                  argv[1]);
      return 2;
    }
  if (dest == NULL)
    dest = florence_hub_get_install_dir (model);
  d.repo = model->repo;
  d.dest_dir = dest;
  if (!florence_hub_download_sync (&d, NULL, print_progress, NULL, &error))
    {
      fprintf (stderr, "\n");
      return cli_fail (g_steal_pointer (&error));
    }
  fprintf (stderr, "\n");
  printf (_ ("%s is installed in %s\n"), model->repo, dest);
  return 0;
}
