/* fuzz-replay.c: feeds every file of a corpus to a fuzz target, so that the committed
 * corpus runs as a plain test (under ASan + UBSan in CI) without libFuzzer
 *
 *   fuzz-replay-TARGET DIR|FILE…
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"

static int
replay_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len;

  if (!g_file_get_contents (path, &data, &len, &error))
    {
      g_printerr ("fuzz-replay: %s\n", error->message);
      exit (1);
    }
  /* a private copy of exactly LEN bytes, so that ASan sees reads past the end */
  {
    g_autofree guint8 *copy = g_memdup2 (data, len);
    LLVMFuzzerTestOneInput (copy, len);
  }
  return 1;
}

int
main (int argc, char **argv)
{
  int n = 0;

  for (int i = 1; i < argc; i++)
    {
      if (g_file_test (argv[i], G_FILE_TEST_IS_DIR))
        {
          g_autoptr (GDir) dir = g_dir_open (argv[i], 0, NULL);
          g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
          const char *name;

          while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
            g_ptr_array_add (names, g_build_filename (argv[i], name, NULL));
          g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
          for (guint k = 0; k < names->len; k++)
            n += replay_file (g_ptr_array_index (names, k));
        }
      else
        n += replay_file (argv[i]);
    }
  printf ("replayed %d inputs\n", n);
  /* an empty corpus would test nothing: fail rather than pass silently */
  return n > 0 ? 0 : 1;
}
