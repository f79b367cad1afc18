/* florence-weights-hash.c: the weights hash of a model folder, computed once
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/files/florence-weights-hash.h"

#include <glib/gstdio.h>
#include <string.h>

#include "florence/files/florence-config.h"
#include "florence/files/florence-file.h"

static gboolean
is_weight_file (const char *name)
{
  return g_str_has_suffix (name, ".safetensors") || g_str_has_suffix (name, ".bin") ||
         g_str_has_suffix (name, ".index.json");
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* "name size mtime" of every weight file, sorted, after the folder's absolute path. */
static char *
identity_of (const char *model_dir, GError **error)
{
  g_autoptr (GDir) dir = g_dir_open (model_dir, 0, error);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) identity = NULL;
  g_autofree char *absolute = NULL;
  const char *name;

  if (dir == NULL)
    return NULL;
  absolute = g_canonicalize_filename (model_dir, NULL);
  identity = g_string_new (absolute);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      GStatBuf st;

      if (!is_weight_file (name))
        continue;
      path = g_build_filename (model_dir, name, NULL);
      if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      g_ptr_array_add (lines,
                       g_strdup_printf ("%s\t%" G_GINT64_FORMAT "\t%" G_GINT64_FORMAT ".%09ld",
                                        name, (gint64) st.st_size, (gint64) st.st_mtim.tv_sec,
                                        (long) st.st_mtim.tv_nsec));
    }
  g_ptr_array_sort (lines, compare_strings);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (identity, "\n%s", (const char *) g_ptr_array_index (lines, i));
  return g_string_free (g_steal_pointer (&identity), FALSE);
}

static gboolean
is_sha256_hex (const char *s)
{
  if (strlen (s) != 64)
    return FALSE;
  for (int i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (s[i]))
      return FALSE;
  return TRUE;
}

char *
florence_weights_hash_for_dir (const char *model_dir, FlorenceCheckpoint *checkpoint,
                               GError **error)
{
  g_autofree char *identity = NULL;
  g_autofree char *key = NULL;
  g_autofree char *cache_dir = NULL;
  g_autofree char *cache_path = NULL;
  g_autofree char *cached = NULL;
  g_autoptr (FlorenceConfig) config = NULL;
  g_autoptr (FlorenceCheckpoint) owned = NULL;
  const char *hash;

  g_return_val_if_fail (model_dir != NULL, NULL);

  identity = identity_of (model_dir, error);
  if (identity == NULL)
    return NULL;
  key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, identity, -1);
  cache_dir = g_build_filename (g_get_user_cache_dir (), "depict", "weights-hash", NULL);
  cache_path = g_build_filename (cache_dir, key, NULL);

  if (florence_file_get_contents (cache_path, 4096, &cached, NULL, NULL))
    {
      g_strstrip (cached);
      if (is_sha256_hex (cached))
        return g_steal_pointer (&cached);
    }

  if (checkpoint == NULL)
    {
      config = florence_config_load (model_dir, error);
      if (config == NULL)
        return NULL;
      checkpoint = owned = florence_checkpoint_open (model_dir, config, error);
      if (checkpoint == NULL)
        return NULL;
    }
  hash = florence_checkpoint_get_sha256 (checkpoint);
  if (!florence_checkpoint_check (checkpoint, error))
    return NULL;

  /* A cache that cannot be written only costs time next start. */
  if (g_mkdir_with_parents (cache_dir, 0755) == 0)
    g_file_set_contents (cache_path, hash, -1, NULL);
  return g_strdup (hash);
}
