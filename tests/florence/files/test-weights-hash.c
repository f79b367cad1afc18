/* test-weights-hash.c: the cached weights hash of a model folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "florence/files/florence-weights-hash.h"

static char *cache_home;

static char *
copy_model (const char *name)
{
  g_autofree char *src = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", name, NULL);
  g_autofree char *dir = g_dir_make_tmp ("depict-weights-XXXXXX", NULL);
  const char *files[] = { "config.json", "preprocessor_config.json", "model.safetensors",
                          "pytorch_model.bin" };

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *from = g_build_filename (src, files[i], NULL);
      g_autofree char *to = g_build_filename (dir, files[i], NULL);
      g_autofree char *data = NULL;
      gsize len;
      if (g_file_get_contents (from, &data, &len, NULL))
        g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
    }
  return g_steal_pointer (&dir);
}

static guint
count_cache_entries (void)
{
  g_autofree char *dir = g_build_filename (cache_home, "depict", "weights-hash", NULL);
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;
  while (d != NULL && g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static void
test_same_weights_same_hash (void)
{
  g_autofree char *st = copy_model ("tiny");
  g_autofree char *bin = copy_model ("tiny-bin");
  g_autoptr (GError) error = NULL;
  g_autofree char *a = florence_weights_hash_for_dir (st, NULL, &error);
  g_autofree char *b = NULL;

  g_assert_no_error (error);
  b = florence_weights_hash_for_dir (bin, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (a), ==, 64);
  /* The same weights as safetensors and as pytorch_model.bin. */
  g_assert_cmpstr (a, ==, b);
}

static void
test_cache_used_and_invalidated (void)
{
  g_autofree char *dir = copy_model ("tiny");
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *first = NULL, *second = NULL, *third = NULL, *fourth = NULL;
  guint before = count_cache_entries ();
  const char *fake = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  first = florence_weights_hash_for_dir (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_cache_entries (), ==, before + 1);

  /* Served from the cache: overwrite the cached value and it comes back. */
  {
    g_autofree char *cdir = g_build_filename (cache_home, "depict", "weights-hash", NULL);
    g_autoptr (GDir) d = g_dir_open (cdir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *path = g_build_filename (cdir, name, NULL);
        g_autofree char *text = NULL;
        g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
        if (strcmp (text, first) == 0)
          g_assert_true (g_file_set_contents (path, fake, -1, NULL));
      }
  }
  second = florence_weights_hash_for_dir (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (second, ==, fake);

  /* A changed weight file is hashed again. */
  {
    g_autofree char *data = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (weights, &data, &len, NULL));
    data[len - 1] ^= 0x01;
    g_usleep (10000);
    g_assert_true (g_file_set_contents (weights, data, (gssize) len, NULL));
  }
  third = florence_weights_hash_for_dir (dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (third, !=, fake);
  g_assert_cmpstr (third, !=, first);

  /* The new hash is cached in turn. */
  fourth = florence_weights_hash_for_dir (dir, NULL, &error);
  g_assert_cmpstr (fourth, ==, third);
}

static void
test_missing_folder (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *hash = florence_weights_hash_for_dir ("/nonexistent/depict-model", NULL, &error);
  g_assert_null (hash);
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  /* A private cache, set before GLib reads XDG_CACHE_HOME. */
  cache_home = g_dir_make_tmp ("depict-cache-XXXXXX", NULL);
  g_setenv ("XDG_CACHE_HOME", cache_home, TRUE);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/weights-hash/same-weights", test_same_weights_same_hash);
  g_test_add_func ("/weights-hash/cache", test_cache_used_and_invalidated);
  g_test_add_func ("/weights-hash/missing-folder", test_missing_folder);
  return g_test_run ();
}
