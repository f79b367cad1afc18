/* cli-run.h: what `depict-cli run` shares with `depict-cli serve`
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "florence/model/florence-model.h"

G_BEGIN_DECLS

int cli_run_main (int argc, char **argv);

/* The JSON line `depict-cli run --json` prints for one picture, without its newline; image
 * (nullable) is the picture's name as the person gave it. */
char *cli_run_to_json (FlorenceModel *model, const FlorenceRun *run, const char *image);

G_END_DECLS
