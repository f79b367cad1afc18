/* florence-weights-hash.h: the weights hash of a model folder, computed once
 *
 * The gallery keys every run by the model's weights hash (florence_checkpoint_get_sha256: a
 * SHA-256 over every tensor, the same for model.safetensors and pytorch_model.bin of the same
 * weights). Hashing 0.5–1.5 GB takes seconds, so the result is kept in
 * $XDG_CACHE_HOME/depict/weights-hash/, keyed by the weight files' names, sizes and
 * modification times: a changed file is hashed again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "florence/files/florence-checkpoint.h"

G_BEGIN_DECLS

/* The hash for the model in model_dir; @checkpoint (nullable) is an already open checkpoint
 * of that folder, used when the hash must be computed. */
char *florence_weights_hash_for_dir (const char *model_dir, FlorenceCheckpoint *checkpoint,
                                     GError **error);

G_END_DECLS
