/* gpu-half.h: IEEE half precision conversions (round to nearest even), for fp16 weights
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

guint16 gpu_half_from_float (float value);
float gpu_half_to_float (guint16 value);
void gpu_half_from_float_array (guint16 *dst, const float *src, gsize n);
void gpu_half_to_float_array (float *dst, const guint16 *src, gsize n);

G_END_DECLS
