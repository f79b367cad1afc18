/* cli-text.h: helpers shared by the text subcommands of depict-cli (tokenize, parse)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "florence/text/florence-task.h"

G_BEGIN_DECLS

/* Parses "WxH" (positive integers). */
gboolean cli_text_parse_image_size (const char *str, int *w, int *h, GError **error);
/* "X1,Y1,X2,Y2" in pixels of a W×H picture -> "<loc_…>×4". */
char *cli_text_region_input (const char *str, int w, int h, GError **error);

G_END_DECLS
