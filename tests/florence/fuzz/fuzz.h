/* fuzz.h: the libFuzzer entry point shared by the fuzz targets and the corpus replay driver
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Aborts (a finding for libFuzzer and for the replay test) when COND is false. */
#define FUZZ_CHECK(cond)                                                                   \
  do                                                                                       \
    {                                                                                      \
      if (!(cond))                                                                         \
        {                                                                                  \
          g_printerr ("%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);        \
          abort ();                                                                        \
        }                                                                                  \
    }                                                                                      \
  while (0)

/* A failure must come with a GError that says something. */
#define FUZZ_CHECK_ERROR(error)                                                            \
  FUZZ_CHECK ((error) != NULL && (error)->message != NULL && (error)->message[0] != '\0')
