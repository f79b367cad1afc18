/* fuzz.h: the libFuzzer entry point shared by the fuzz targets and the corpus replay driver
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* Aborts (a finding for libFuzzer and for the replay test) when COND is false. */
#define FUZZ_CHECK(cond)                                                                           \
  do                                                                                               \
    {                                                                                              \
      if (!(cond))                                                                                 \
        {                                                                                          \
          g_printerr ("%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #cond);                \
          abort ();                                                                                \
        }                                                                                          \
    }                                                                                              \
  while (0)

/* A failure must come with a GError that says something. */
#define FUZZ_CHECK_ERROR(error)                                                                    \
  FUZZ_CHECK ((error) != NULL && (error)->message != NULL && (error)->message[0] != '\0')

/* Makes every critical (and error) a finding: printed, then abort(), which libFuzzer catches
 * and saves the input for. (g_log_set_always_fatal() would raise SIGTRAP instead, which
 * kills a libFuzzer process without a reproducer.) Call at the start of each input.
 * ignored_domain (or NULL): a library whose criticals are known, documented and harmless
 * (it fails with an error right after), so that fuzzing goes on past them. */
static const char *fuzz_ignored_log_domain;

static inline GLogWriterOutput
fuzz_log_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  GLogWriterOutput out = g_log_writer_standard_streams (level, fields, n_fields, data);
  const char *domain = NULL;
  for (gsize i = 0; i < n_fields; i++)
    if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0 && fields[i].length < 0)
      domain = fields[i].value;
  if ((level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) &&
      (fuzz_ignored_log_domain == NULL || g_strcmp0 (domain, fuzz_ignored_log_domain) != 0 ||
       (level & G_LOG_LEVEL_ERROR)))
    abort ();
  return out;
}

static inline void
fuzz_abort_on_critical (const char *ignored_domain)
{
  static gboolean installed = FALSE;
  if (!installed)
    {
      fuzz_ignored_log_domain = ignored_domain;
      g_log_set_writer_func (fuzz_log_writer, NULL, NULL);
      installed = TRUE;
    }
}

/* A private temporary folder on tmpfs (/dev/shm) when there is one: files there cost no disk
 * and no sync. Aborts when it cannot be made. */
static inline char *
fuzz_make_tmp_dir (const char *template_name)
{
  const char *base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();
  char *dir = g_mkdtemp (g_build_filename (base, template_name, NULL));

  if (dir == NULL)
    abort ();
  return dir;
}

/* Writes data to path, without the fsync of g_file_set_contents(). Aborts on failure. */
static inline void
fuzz_write_file (const char *path, const uint8_t *data, size_t size)
{
  FILE *f = fopen (path, "wb");

  if (f == NULL || (size > 0 && fwrite (data, 1, size, f) != size) || fclose (f) != 0)
    abort ();
}
