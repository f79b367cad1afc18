/* depict-cli.h: the command table of depict-cli
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Each subcommand lives in its own file, cli-<name>.c, and exposes one entry point.
 * argv[0] is the subcommand name. Returns the process exit status. */
typedef int (*CliMainFunc) (int argc, char **argv);

typedef struct {
  const char *name;
  const char *summary; /* one line, translatable (N_()) */
  CliMainFunc main;
} CliCommand;

/* Prints a GError to stderr as "depict-cli: <message>" and returns 1. */
int cli_fail (GError *error);

G_END_DECLS
