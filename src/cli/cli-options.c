/* cli-options.c: the option parsing every depict-cli subcommand shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "cli-options.h"

#include <string.h>

gboolean
cli_options_parse (GOptionContext *context, int *argc, char ***argv, GError **error)
{
  g_return_val_if_fail (context != NULL && argc != NULL && argv != NULL, FALSE);

  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  /* GOption stops at the first "--" but leaves it in place: every "--" before it was an
   * option's value and was taken out, so the first one left is that end of the options. */
  for (int i = 1; i < *argc; i++)
    if (strcmp ((*argv)[i], "--") == 0)
      {
        memmove (&(*argv)[i], &(*argv)[i + 1], (gsize) (*argc - i) * sizeof (char *));
        (*argc)--;
        break;
      }
  return TRUE;
}
