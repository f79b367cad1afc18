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

#include "florence/files/florence-pickle.h"
#include "fuzz-checkpoint.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GPtrArray) tensors =
    g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  g_autoptr (GError) error = NULL;

  if (!florence_pickle_read_state_dict (data, size, "fuzz.bin", tensors, &error))
    {
      FUZZ_CHECK (error != NULL && error->domain == FLORENCE_CHECKPOINT_ERROR);
      return 0;
    }
  FUZZ_CHECK (error == NULL);
  for (guint i = 0; i < tensors->len; i++)
    FUZZ_CHECK (((FlorenceRawTensor *) g_ptr_array_index (tensors, i))->dtype_known);
  fuzz_check_raw_tensors (tensors, data, size);
  return 0;
}
