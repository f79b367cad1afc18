/* depict-cli.c: the headless twin of Depict, one subcommand per file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "depict-cli.h"

#define CLI_COMMAND(name, summary, func) int func (int argc, char **argv);
#include "cli-commands.h"
#undef CLI_COMMAND

/* The subcommands, from cli-commands.h, then a sentinel. */
static const CliCommand commands[] = {
#define CLI_COMMAND(name, summary, func) { name, summary, func },
#include "cli-commands.h"
#undef CLI_COMMAND
  { NULL, NULL, NULL },
};

int
cli_fail (GError *error)
{
  g_printerr ("depict-cli: %s\n", error != NULL ? error->message : _ ("unknown error"));
  g_clear_error (&error);
  return 1;
}

void
cli_print_json_line (JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  printf ("%s\n", text);
  fflush (stdout);
}

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n\n", _ ("Usage: depict-cli COMMAND [OPTION…]"));
  fprintf (out, "%s\n", _ ("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (commands[i].name != NULL)
      fprintf (out, "  %-12s %s\n", commands[i].name, _ (commands[i].summary));
  fprintf (out, "\n%s\n", _ ("Run “depict-cli COMMAND --help” for the options of a command."));
}

int
main (int argc, char **argv)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2 || strcmp (argv[1], "--help") == 0 || strcmp (argv[1], "-h") == 0 ||
      strcmp (argv[1], "help") == 0)
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  if (strcmp (argv[1], "--version") == 0)
    {
      printf ("depict-cli %s\n", PACKAGE_VERSION);
      return 0;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (commands[i].name != NULL && strcmp (commands[i].name, argv[1]) == 0)
      return commands[i].main (argc - 1, argv + 1);

  g_printerr (_ ("depict-cli: unknown command “%s”\n\n"), argv[1]);
  print_usage (stderr);
  return 2;
}
