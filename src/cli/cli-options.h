/* cli-options.h: the option parsing every depict-cli subcommand shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* g_option_context_parse(), then what GOption leaves undone: "--" ends the options, and it is
 * taken out of argv, so that everything after it is a plain argument (a file named
 * "--db=other.db" after "--" is a file, whatever it looks like). */
gboolean cli_options_parse (GOptionContext *context, int *argc, char ***argv, GError **error);

G_END_DECLS
