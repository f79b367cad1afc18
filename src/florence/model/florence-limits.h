/* florence-limits.h: the bounds of a run (beams, new tokens, input size) and their defaults
 *
 * The model API checks every run against these (florence_model_run refuses what is out of
 * range with a sentence), and the front ends take their option ranges and defaults from
 * here, so that the app, depict-cli and the gallery agree on them.
 *
 * Why these numbers: each step of the beam search keeps the best 2 × beams candidates, and the
 * GPU engine's top-k op returns at most 16 (GPU_OP_TOPK_MAX_K), hence 8 beams. Florence-2 has 1 024
 * learned positions in the encoder and in the decoder: the decoder cannot generate more than 1 024
 * tokens, and the encoder must hold the image tokens (1 + (side/32)², 577 at 768) and the prompt
 * together, so 992 (962 image tokens) is the largest square input that leaves room for a prompt;
 * the position table of the vision tower (50 × 50) would allow 1 600.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "florence/files/florence-config.h"

G_BEGIN_DECLS

#define FLORENCE_LIMITS_ERROR (florence_limits_error_quark ())

typedef enum {
  FLORENCE_LIMITS_ERROR_OUT_OF_RANGE,
} FlorenceLimitsError;

#define FLORENCE_LIMITS_MAX_BEAMS 8
#define FLORENCE_LIMITS_DEFAULT_BEAMS 3 /* the released models' generation config */
#define FLORENCE_LIMITS_MAX_NEW_TOKENS 1024
#define FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS 1024 /* what the reference passes */
#define FLORENCE_LIMITS_IMAGE_SIZE_STEP 32          /* the vision tower's total stride */
#define FLORENCE_LIMITS_MAX_IMAGE_SIZE 992          /* for Florence-2's 1 024 positions */

/* The shortest prompt a task has: "<s>" and "</s>" around at least one word. */
#define FLORENCE_LIMITS_MIN_PROMPT_TOKENS 3

GQuark florence_limits_error_quark (void);

/* The largest square input side for CONFIG (a multiple of 32 whose image tokens leave room
 * for the shortest prompt); NULL: Florence-2's, FLORENCE_LIMITS_MAX_IMAGE_SIZE. */
int florence_limits_max_image_size (const FlorenceConfig *config);
/* The most tokens CONFIG's decoder can generate; NULL: FLORENCE_LIMITS_MAX_NEW_TOKENS. */
int florence_limits_max_new_tokens (const FlorenceConfig *config);

/* Checks the settings of a run for CONFIG (NULL: for Florence-2, before a model is loaded).
 * 0 stands for the default and is always accepted; anything else must be within the limits.
 * FLORENCE_LIMITS_ERROR_OUT_OF_RANGE with a sentence naming the range otherwise. */
gboolean florence_limits_check (const FlorenceConfig *config, int num_beams, int max_new_tokens,
                                int image_size, GError **error);

G_END_DECLS
