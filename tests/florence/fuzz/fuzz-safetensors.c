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

#include "florence/florence-safetensors.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  g_autoptr (GError) error = NULL;
  volatile guint8 sink = 0;

  if (!florence_safetensors_parse (data, size, "fuzz.safetensors", tensors, &error))
    {
      FUZZ_CHECK (error != NULL && error->domain == FLORENCE_CHECKPOINT_ERROR);
      FUZZ_CHECK (tensors->len == 0);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  for (guint i = 0; i < tensors->len; i++)
    {
      FlorenceRawTensor *t = g_ptr_array_index (tensors, i);
      gsize n = 1;

      for (guint d = 0; d < t->n_dims; d++)
        n *= (gsize) t->shape[d];
      FUZZ_CHECK (n == t->n_elements);
      FUZZ_CHECK (!t->dtype_known || t->n_bytes == n * florence_dtype_size (t->dtype));
      FUZZ_CHECK (t->data >= data && t->n_bytes <= size && t->data - data <= (ptrdiff_t) (size - t->n_bytes));
      if (t->n_bytes > 0)
        sink ^= t->data[0] ^ t->data[t->n_bytes - 1]; /* ASan checks both ends */
    }
  (void) sink;
  return 0;
}
