/* gpu-shaders.h: the SPIR-V of every shader in shaders/, embedded at build time
 *
 * The table is generated from shader_names in shaders/meson.build.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Finds the SPIR-V of shader @name (the file name without .comp). Returns 1 and sets
 * @code / @size (in bytes) when found, 0 otherwise. */
int gpu_shaders_lookup (const char *name, const uint32_t **code, size_t *size);

/* The @n-th shader name, or NULL past the end (for listings and tests). */
const char *gpu_shaders_nth_name (size_t n);
