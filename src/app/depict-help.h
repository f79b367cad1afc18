/* depict-help.h: Help (F1), a short guide that works offline
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* Shows the guide beside PARENT (may be NULL) and returns its window: how to look at a
 * photo, every task by group with what it needs, the gallery and Tag Folder, where models
 * come from, and the way to the keyboard shortcuts of PARENT. */
GtkWindow *depict_help_show (GtkWindow *parent);

G_END_DECLS
