/* image-resample.h: Pillow-exact antialiased bicubic resize of RGB8 pictures
 *
 * The result is byte-identical to Pillow 9.4 Image.resize((width, height), Image.BICUBIC) on an
 * RGB image: separable cubic convolution (a = -0.5), support widened by the scale factor when
 * downscaling, horizontal pass first over only the rows the vertical pass reads, 8-bit
 * intermediate, 22-bit fixed-point coefficients, rounding and clipping after each pass.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "image/image-rgb.h"

G_BEGIN_DECLS

/* A new width × height picture. The same size gives a copy. */
ImageRgb *image_resample_bicubic (const ImageRgb *image, int width, int height, GError **error);

G_END_DECLS
