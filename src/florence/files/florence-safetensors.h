/* florence-safetensors.h: a strict reader of the safetensors layout
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * File = 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
 * then the data area. Checked: N sane and inside the file, the JSON an object of such entries,
 * offsets inside the data area, end − begin = product(shape) × dtype size without overflow,
 * no two tensors overlapping. Every safetensors dtype is recognised for the layout checks;
 * dtype_known tells whether it is one Depict computes with (F16, BF16, F32).
 */
#pragma once

#include "florence/files/florence-checkpoint-private.h"

G_BEGIN_DECLS

/* The largest header accepted (the safetensors library's own limit is 100 MB). */
#define FLORENCE_SAFETENSORS_MAX_HEADER (100u * 1024 * 1024)

/* Appends one FlorenceRawTensor per entry to tensors (data points into data). */
gboolean florence_safetensors_parse (const guint8 *data, gsize size, const char *path,
                                     GPtrArray *tensors, GError **error);

G_END_DECLS
