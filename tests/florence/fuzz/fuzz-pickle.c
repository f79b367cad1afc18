/* fuzz-pickle.c: read arbitrary bytes as a pytorch_model.bin (zip archive + pickle)
 *
 * The reader must refuse with a GError or list tensors that lie inside the buffer; it never
 * crashes and never runs anything.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdlib.h>

#include "florence/florence-pickle.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) tensors = g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  g_autoptr (GError) error = NULL;
  volatile guint8 sink = 0;

  if (!florence_pickle_read_state_dict (data, size, "fuzz.bin", tensors, &error))
    {
      FUZZ_CHECK (error != NULL && error->domain == FLORENCE_CHECKPOINT_ERROR);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  for (guint i = 0; i < tensors->len; i++)
    {
      FlorenceRawTensor *t = g_ptr_array_index (tensors, i);
      gsize n = 1;

      for (guint d = 0; d < t->n_dims; d++)
        n *= (gsize) t->shape[d];
      FUZZ_CHECK (t->dtype_known && n == t->n_elements);
      FUZZ_CHECK (t->n_bytes == n * florence_dtype_size (t->dtype));
      FUZZ_CHECK (t->data >= data && t->n_bytes <= size && t->data - data <= (ptrdiff_t) (size - t->n_bytes));
      if (t->n_bytes > 0)
        sink ^= t->data[0] ^ t->data[t->n_bytes - 1];
    }
  (void) sink;
  return 0;
}
