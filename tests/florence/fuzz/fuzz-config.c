/* fuzz-config.c: parse arbitrary bytes as config.json (+ preprocessor_config.json)
 *
 * The input is the config text, optionally followed by a NUL byte and the preprocessor text.
 * Whatever parses must hold values inside the bounds the loader promises.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "florence/files/florence-config.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, 0, size);
  g_autofree char *config = g_strndup ((const char *) data, nul ? (gsize) (nul - data) : size);
  g_autofree char *proc =
    nul ? g_strndup ((const char *) nul + 1, size - (gsize) (nul - data) - 1) : NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) c = florence_config_load_from_data (config, proc, &error);

  if (c == NULL)
    {
      FUZZ_CHECK (error != NULL && error->domain == FLORENCE_CONFIG_ERROR);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (c->d_model > 0 && c->d_model % c->encoder_heads == 0 &&
              c->d_model % c->decoder_heads == 0);
  FUZZ_CHECK (c->projection_dim == c->d_model);
  FUZZ_CHECK (c->vocab_size > c->eos_token_id && c->vocab_size > c->decoder_start_token_id);
  for (int s = 0; s < 4; s++)
    FUZZ_CHECK (c->dim_embed[s] > 0 && c->dim_embed[s] % c->num_heads[s] == 0 &&
                c->dim_embed[s] % c->num_groups[s] == 0);
  FUZZ_CHECK (c->image_size >= 32 && c->image_size % 32 == 0);
  FUZZ_CHECK (c->image_std[0] > 0 && c->image_std[1] > 0 && c->image_std[2] > 0);
  FUZZ_CHECK (c->name != NULL);
  return 0;
}
