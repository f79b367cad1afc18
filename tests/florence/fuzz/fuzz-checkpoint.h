/* fuzz-checkpoint.h: what every parsed tensor list must satisfy (the checkpoint fuzz targets)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "florence/files/florence-checkpoint-private.h"
#include "fuzz.h"

/* Each tensor's element count agrees with its shape and size, and its bytes lie inside
 * data[0..size); both ends are read so that ASan checks them. */
static inline void
fuzz_check_raw_tensors (GPtrArray *tensors, const uint8_t *data, size_t size)
{
  volatile guint8 sink = 0;

  for (guint i = 0; i < tensors->len; i++)
    {
      FlorenceRawTensor *t = g_ptr_array_index (tensors, i);
      gsize n = 1;

      for (guint d = 0; d < t->n_dims; d++)
        n *= (gsize) t->shape[d];
      FUZZ_CHECK (n == t->n_elements);
      FUZZ_CHECK (!t->dtype_known || t->n_bytes == n * florence_dtype_size (t->dtype));
      FUZZ_CHECK (t->data >= data && t->n_bytes <= size &&
                  t->data - data <= (ptrdiff_t) (size - t->n_bytes));
      if (t->n_bytes > 0)
        sink ^= t->data[0] ^ t->data[t->n_bytes - 1];
    }
  (void) sink;
}
