/* depict-about.h: the About window, with debug information for bug reports
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* GPU, driver, Vulkan version, model and library versions, as plain text. */
char *depict_about_dup_debug_info (GSettings *settings);
void depict_about_show (GtkWindow *parent, GSettings *settings);

G_END_DECLS
