/* cli-gallery.c: helpers shared by the gallery subcommands of depict-cli
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <unistd.h>

#include "cli-gallery.h"

GalleryStore *
cli_gallery_open (const char *db_path, gboolean read_only, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GalleryStore *store = gallery_store_open_full (
    db_path, read_only ? GALLERY_STORE_READ_ONLY : GALLERY_STORE_FLAGS_NONE, &local_error);

  /* The gallery's sentences fit the app too; here the other gallery file is an option away. */
  if (store == NULL && local_error->domain == GALLERY_STORE_ERROR &&
      local_error->code != GALLERY_STORE_ERROR_BUSY &&
      local_error->code != GALLERY_STORE_ERROR_FULL &&
      local_error->code != GALLERY_STORE_ERROR_TOO_NEW)
    g_set_error (error, local_error->domain, local_error->code, "%s %s", local_error->message,
                 _ ("Another gallery file can be given with --db."));
  else if (store == NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return store;
}

gboolean
cli_gallery_parse_date (const char *text, gint64 *out, GError **error)
{
  g_autoptr (GDateTime) time = NULL;
  int y, m, d;
  char extra;

  if (sscanf (text, "%4d-%2d-%2d%c", &y, &m, &d, &extra) == 3)
    time = g_date_time_new_local (y, m, d, 0, 0, 0);
  else
    {
      g_autoptr (GTimeZone) local = g_time_zone_new_local ();

      time = g_date_time_new_from_iso8601 (text, local);
    }
  if (time == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is not a date. Write it as YYYY-MM-DD, for example 2024-05-01."), text);
      return FALSE;
    }
  *out = g_date_time_to_unix (time);
  return TRUE;
}

gboolean
cli_gallery_parse_confidence (const char *text, double *out, GError **error)
{
  char *end = NULL;
  double value = g_ascii_strtod (text, &end);

  if (end != text && *end == '%' && end[1] == '\0')
    value /= 100.0, end++;
  if (end == text || *end != '\0' || !(value >= 0.0 && value <= 1.0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("“%s” is not a confidence. Give a number from 0 to 1, such as 0.5, or a "
                      "percentage, such as 50%%."),
                   text);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

GArray *
cli_gallery_select_images (GalleryStore *store, char **args, int n_args, GError **error)
{
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  for (int i = 0; i <= n_args; i++)
    {
      g_autoptr (GPtrArray) images = NULL;

      if (i == n_args && n_args > 0)
        break;
      if (n_args == 0 || g_file_test (args[i], G_FILE_TEST_IS_DIR))
        {
          images = gallery_store_list_images (store, n_args == 0 ? NULL : args[i], error);
          if (images == NULL)
            return NULL;
        }
      else
        {
          GalleryImage *image = gallery_store_find_image (store, args[i], error);

          if (image == NULL)
            return NULL;
          images = g_ptr_array_new_with_free_func ((GDestroyNotify) gallery_image_free);
          g_ptr_array_add (images, image);
        }
      for (guint k = 0; k < images->len; k++)
        {
          gint64 id = ((GalleryImage *) g_ptr_array_index (images, k))->id;

          if (g_hash_table_add (seen, g_memdup2 (&id, sizeof id)))
            g_array_append_val (ids, id);
        }
      if (n_args == 0)
        break;
    }
  return g_steal_pointer (&ids);
}

static void
image_path_free (gpointer data)
{
  CliImagePath *item = data;

  g_free (item->path);
  g_free (item);
}

static void
add_image_path (GPtrArray *out, gint64 image_id, const char *path)
{
  CliImagePath *item = g_new0 (CliImagePath, 1);

  item->image_id = image_id;
  item->path = g_strdup (path);
  g_ptr_array_add (out, item);
}

GPtrArray *
cli_gallery_select_paths (GalleryStore *store, char **args, int n_args, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (image_path_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (n_args == 0)
    {
      g_autoptr (GPtrArray) images = gallery_store_list_images (store, NULL, error);

      if (images == NULL)
        return NULL;
      for (guint k = 0; k < images->len; k++)
        add_image_path (out, ((GalleryImage *) g_ptr_array_index (images, k))->id, NULL);
      return g_steal_pointer (&out);
    }
  for (int i = 0; i < n_args; i++)
    {
      g_autofree char *canonical = g_canonicalize_filename (args[i], NULL);

      if (g_file_test (canonical, G_FILE_TEST_IS_DIR))
        {
          g_autoptr (GPtrArray) images = gallery_store_list_images (store, canonical, error);
          g_autofree char *prefix = g_str_has_suffix (canonical, "/")
                                      ? g_strdup (canonical)
                                      : g_strconcat (canonical, "/", NULL);

          if (images == NULL)
            return NULL;
          for (guint k = 0; k < images->len; k++)
            {
              GalleryImage *image = g_ptr_array_index (images, k);

              for (guint p = 0; image->paths[p] != NULL; p++)
                if (g_str_has_prefix (image->paths[p], prefix) &&
                    g_hash_table_add (seen, g_strdup (image->paths[p])))
                  add_image_path (out, image->id, image->paths[p]);
            }
        }
      else
        {
          g_autoptr (GalleryImage) image = gallery_store_find_image (store, args[i], error);

          if (image == NULL)
            return NULL;
          if (g_hash_table_add (seen, g_strdup (canonical)))
            add_image_path (out, image->id, canonical);
        }
    }
  return g_steal_pointer (&out);
}

gboolean
cli_gallery_write_output (const char *path, const char *data, gsize length, GError **error)
{
  if (path != NULL)
    {
      g_autoptr (GError) local_error = NULL;

      if (!g_file_set_contents (path, data, length, &local_error))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _ ("Could not write “%s” (%s). Check that its folder exists and is "
                          "writable."),
                       path, local_error->message);
          return FALSE;
        }
      return TRUE;
    }
  if (fwrite (data, 1, length, stdout) != length || fflush (stdout) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _ ("Could not write the output (the pipe or disk failed)."));
      return FALSE;
    }
  return TRUE;
}

static gboolean
is_unsafe (gunichar c)
{
  return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || (c >= 0x202a && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069) || c == 0x200e || c == 0x200f || c == 0x061c;
}

typedef struct {
  GString *slots[8];
  guint next;
} SafeRing;

static void
safe_ring_free (gpointer data)
{
  SafeRing *ring = data;

  for (guint i = 0; i < G_N_ELEMENTS (ring->slots); i++)
    g_string_free (ring->slots[i], TRUE);
  g_free (ring);
}

const char *
cli_gallery_safe (FILE *out, const char *text)
{
  static GPrivate ring_key = G_PRIVATE_INIT (safe_ring_free);
  SafeRing *ring = g_private_get (&ring_key);
  GString *s;

  if (text == NULL)
    return "";
  if (!isatty (fileno (out)))
    return text;
  if (ring == NULL)
    {
      ring = g_new0 (SafeRing, 1);
      for (guint i = 0; i < G_N_ELEMENTS (ring->slots); i++)
        ring->slots[i] = g_string_new (NULL);
      g_private_set (&ring_key, ring);
    }
  s = ring->slots[ring->next++ % G_N_ELEMENTS (ring->slots)];
  g_string_truncate (s, 0);
  for (const char *p = text; *p != '\0';)
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (s, "\\x%02x", (guint8) *p);
          p++;
          continue;
        }
      if (c == '\n')
        g_string_append (s, "\\n");
      else if (c == '\r')
        g_string_append (s, "\\r");
      else if (c == '\t')
        g_string_append (s, "\\t");
      else if (c < 0x80 && is_unsafe (c))
        g_string_append_printf (s, "\\x%02x", c);
      else if (is_unsafe (c))
        g_string_append_printf (s, "\\u%04x", c);
      else
        g_string_append_len (s, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  return s->str;
}

void
cli_print_path (FILE *out, const char *path)
{
  fputs (cli_gallery_safe (out, path), out);
}
