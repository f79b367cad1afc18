/* bench-model.h: what bench-model.c (end to end) and bench-model-ops.c (--ops) share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "florence/files/florence-config.h"

G_BEGIN_DECLS

double cpu_seconds (void);  /* process CPU time */
double wall_seconds (void); /* monotonic */
void print_conditions (const char *when);

/* GFLOP of the vision tower (patch convolutions, blocks, attention, projection) at size² */
double bench_vision_gflop (const FlorenceConfig *c, guint size);

/* --ops: the GPU engine's ops one by one on the default Vulkan device */
gboolean bench_ops (const FlorenceConfig *c, guint size, guint n_prompt, double seconds,
                    const char *filter, GError **error);

G_END_DECLS
