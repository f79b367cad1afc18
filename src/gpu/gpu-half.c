/* gpu-half.c: IEEE half precision conversions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "gpu/gpu-half.h"

guint16
gpu_half_from_float (float value)
{
  guint32 x;
  memcpy (&x, &value, 4);
  guint32 sign = (x >> 16) & 0x8000u;
  guint32 exp = (x >> 23) & 0xffu;
  guint32 mant = x & 0x7fffffu;

  if (exp == 0xff) /* inf / nan */
    return (guint16) (sign | 0x7c00u | (mant != 0 ? 0x200u | (mant >> 13) : 0));
  int e = (int) exp - 127 + 15;
  if (e >= 31)
    return (guint16) (sign | 0x7c00u);
  if (e <= 0)
    {
      if (e < -10)
        return (guint16) sign;
      mant |= 0x800000u;
      guint32 shift = (guint32) (14 - e);
      guint32 half = mant >> shift;
      guint32 rem = mant & ((1u << shift) - 1);
      guint32 mid = 1u << (shift - 1);
      if (rem > mid || (rem == mid && (half & 1u)))
        half++;
      return (guint16) (sign | half);
    }
  guint32 half = ((guint32) e << 10) | (mant >> 13);
  guint32 rem = mant & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (half & 1u)))
    half++; /* may carry into the exponent, which is right (up to inf) */
  return (guint16) (sign | half);
}

float
gpu_half_to_float (guint16 h)
{
  guint32 sign = ((guint32) h & 0x8000u) << 16;
  guint32 exp = (h >> 10) & 0x1fu;
  guint32 mant = h & 0x3ffu;
  guint32 x;
  if (exp == 0)
    {
      if (mant == 0)
        x = sign;
      else
        {
          /* subnormal: normalize */
          int e = -1;
          do
            {
              e++;
              mant <<= 1;
            }
          while (!(mant & 0x400u));
          x = sign | ((guint32) (127 - 15 - e) << 23) | ((mant & 0x3ffu) << 13);
        }
    }
  else if (exp == 31)
    x = sign | 0x7f800000u | (mant << 13);
  else
    x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
  float f;
  memcpy (&f, &x, 4);
  return f;
}

void
gpu_half_from_float_array (guint16 *dst, const float *src, gsize n)
{
  for (gsize i = 0; i < n; i++)
    dst[i] = gpu_half_from_float (src[i]);
}

void
gpu_half_to_float_array (float *dst, const guint16 *src, gsize n)
{
  for (gsize i = 0; i < n; i++)
    dst[i] = gpu_half_to_float (src[i]);
}
