/* cli-models.h: finding the model a depict-cli command runs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* --model: a folder, or the id of an installed model ("base"); NULL: the first installed
 * model of the catalogue. Errors say how to get one. */
char *cli_models_resolve (const char *arg, GError **error);

G_END_DECLS
