/* fuzz-safetensors.c: parse arbitrary bytes as a safetensors file
 *
 * Whatever parses must describe tensors that lie inside the buffer, with sizes that agree
 * with their shapes; whatever fails must say why (a GError) and list nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>

#include "florence/files/florence-safetensors.h"
#include "fuzz-checkpoint.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) tensors =
    g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  g_autoptr (GError) error = NULL;

  if (!florence_safetensors_parse (data, size, "fuzz.safetensors", tensors, &error))
    {
      FUZZ_CHECK (error != NULL && error->domain == FLORENCE_CHECKPOINT_ERROR);
      FUZZ_CHECK (tensors->len == 0);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  fuzz_check_raw_tensors (tensors, data, size);
  return 0;
}
