/* depict-cli.h: the command table of depict-cli
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

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

/* Prints NODE on one line of standard output and flushes it: every --json output is JSON
 * Lines, one object per picture or hit, as data/depict-result.schema.json describes. */
void cli_print_json_line (JsonNode *node);

G_END_DECLS
