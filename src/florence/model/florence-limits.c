/* florence-limits.c: the bounds of a run, checked in one place
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/model/florence-limits.h"

#include <glib/gi18n.h>

#include "florence/engine/florence-graph.h"

G_DEFINE_QUARK (florence - limits - error - quark, florence_limits_error)

int
florence_limits_max_image_size (const FlorenceConfig *config)
{
  int best = 0;

  if (config == NULL)
    return FLORENCE_LIMITS_MAX_IMAGE_SIZE;
  for (int size = FLORENCE_LIMITS_IMAGE_SIZE_STEP; size <= 32 * config->image_pos_max;
       size += FLORENCE_LIMITS_IMAGE_SIZE_STEP)
    {
      int n_image = 0;

      if (!florence_graph_check_image_size (config, size, &n_image, NULL))
        continue;
      if (n_image + FLORENCE_LIMITS_MIN_PROMPT_TOKENS > config->max_position_embeddings)
        break;
      best = size;
    }
  return best;
}

int
florence_limits_max_new_tokens (const FlorenceConfig *config)
{
  if (config == NULL || config->max_position_embeddings <= 0)
    return FLORENCE_LIMITS_MAX_NEW_TOKENS;
  return config->max_position_embeddings;
}

gboolean
florence_limits_check (const FlorenceConfig *config, int num_beams, int max_new_tokens,
                       int image_size, GError **error)
{
  int max_size = florence_limits_max_image_size (config);
  int max_tokens = florence_limits_max_new_tokens (config);

  if (num_beams < 0 || num_beams > FLORENCE_LIMITS_MAX_BEAMS)
    {
      g_set_error (error, FLORENCE_LIMITS_ERROR, FLORENCE_LIMITS_ERROR_OUT_OF_RANGE,
                   _ ("%d beams cannot be used: choose from 1 to %d (1 is the fastest)."),
                   num_beams, FLORENCE_LIMITS_MAX_BEAMS);
      return FALSE;
    }
  if (max_new_tokens < 0 || max_new_tokens > max_tokens)
    {
      g_set_error (error, FLORENCE_LIMITS_ERROR, FLORENCE_LIMITS_ERROR_OUT_OF_RANGE,
                   _ ("The model cannot generate %d tokens: choose a length from 1 to %d."),
                   max_new_tokens, max_tokens);
      return FALSE;
    }
  if (image_size != 0 && (image_size < FLORENCE_LIMITS_IMAGE_SIZE_STEP || image_size > max_size ||
                          image_size % FLORENCE_LIMITS_IMAGE_SIZE_STEP != 0))
    {
      g_set_error (error, FLORENCE_LIMITS_ERROR, FLORENCE_LIMITS_ERROR_OUT_OF_RANGE,
                   _ ("The image size %d cannot be used: choose a multiple of %d from %d to %d."),
                   image_size, FLORENCE_LIMITS_IMAGE_SIZE_STEP, FLORENCE_LIMITS_IMAGE_SIZE_STEP,
                   max_size);
      return FALSE;
    }
  return TRUE;
}
