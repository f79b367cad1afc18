// common.glsl: helpers shared by the compute shaders (#include "common.glsl")
//
// SPDX-License-Identifier: GPL-3.0-or-later

#ifndef DEPICT_COMMON_GLSL
#define DEPICT_COMMON_GLSL

// erf(x) to ~1.2e-7 absolute error (Numerical Recipes' erfc Chebyshev fit, fractional
// error < 1.2e-7 everywhere), so exact-GELU matches PyTorch's erf GELU at fp32 level.
// Note: Abramowitz-Stegun 7.1.26 (error 1.5e-7 absolute but up to 1e-4 relative near 0 for
// GELU's use) is not used.
float depict_erfc_nr (float x)
{
  float z = abs (x);
  float t = 1.0 / (1.0 + 0.5 * z);
  float r = t * exp (-z * z - 1.26551223 +
                     t * (1.00002368 +
                     t * (0.37409196 +
                     t * (0.09678418 +
                     t * (-0.18628806 +
                     t * (0.27886807 +
                     t * (-1.13520398 +
                     t * (1.48851587 +
                     t * (-0.82215223 +
                     t * 0.17087277)))))))));
  return x >= 0.0 ? r : 2.0 - r;
}

// erf with a Taylor series near zero (where 1 - erfc loses relative precision).
float depict_erf (float x)
{
  float ax = abs (x);
  if (ax < 0.5)
    {
      // erf(x) = 2/sqrt(pi) * (x - x^3/3 + x^5/10 - x^7/42 + x^9/216 - x^11/1320)
      float x2 = x * x;
      return 1.1283791670955126 * x *
             (1.0 + x2 * (-1.0 / 3.0 + x2 * (1.0 / 10.0 + x2 * (-1.0 / 42.0 +
              x2 * (1.0 / 216.0 + x2 * (-1.0 / 1320.0))))));
    }
  return 1.0 - depict_erfc_nr (x);
}

// Exact (erf) GELU as PyTorch's nn.GELU() default: x * 0.5 * (1 + erf(x / sqrt(2))).
float depict_gelu (float x)
{
  return 0.5 * x * (1.0 + depict_erf (x * 0.70710678118654752));
}

// IEEE half from a packed pair: element i (0 or 1) of the uint.
float depict_half_at (uint packed, uint i)
{
  vec2 v = unpackHalf2x16 (packed);
  return i == 0u ? v.x : v.y;
}

#endif
