/* image-thumbnail-cache.c: thumbnails kept in the desktop's shared thumbnail cache
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "image/image-thumbnail-cache.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image-thumbnail.h"

static const struct {
  const char *name;
  int size;
} flavors[] = {
  { "normal", 128 },
  { "large", 256 },
  { "x-large", 512 },
  { "xx-large", 1024 },
};

/* The file's URI and modification time as the specification writes them. */
static gboolean
file_identity (const char *path, char **uri, char **mtime, GError **error)
{
  g_autofree char *canonical = g_canonicalize_filename (path, NULL);
  GStatBuf st;
  if (g_stat (canonical, &st) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "%s", g_strerror (saved));
      return FALSE;
    }
  *uri = g_filename_to_uri (canonical, NULL, error);
  if (*uri == NULL)
    return FALSE;
  *mtime = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64) st.st_mtime);
  return TRUE;
}

static char *
flavor_path (const char *uri, const char *flavor)
{
  g_autofree char *md5 = g_compute_checksum_for_string (G_CHECKSUM_MD5, uri, -1);
  g_autofree char *name = g_strconcat (md5, ".png", NULL);
  return g_build_filename (g_get_user_cache_dir (), "thumbnails", flavor, name, NULL);
}

static guint
flavor_for (int longest_side)
{
  guint f = 0;
  while (f + 1 < G_N_ELEMENTS (flavors) && flavors[f].size < longest_side)
    f++;
  return f;
}

char *
image_thumbnail_cache_get_path (const char *path, int longest_side)
{
  g_autofree char *uri = NULL, *mtime = NULL;
  g_return_val_if_fail (path != NULL, NULL);
  if (!file_identity (path, &uri, &mtime, NULL))
    {
      g_autofree char *canonical = g_canonicalize_filename (path, NULL);
      uri = g_filename_to_uri (canonical, NULL, NULL);
      if (uri == NULL)
        return NULL;
    }
  return flavor_path (uri, flavors[flavor_for (longest_side)].name);
}

gboolean
image_thumbnail_cache_save (const char *path, const ImageRgb *thumbnail, int photo_width,
                            int photo_height, GError **error)
{
  g_autofree char *uri = NULL, *mtime = NULL;
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (thumbnail != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!file_identity (path, &uri, &mtime, error))
    return FALSE;
  int longest = MAX (thumbnail->width, thumbnail->height);
  if (longest > IMAGE_THUMBNAIL_CACHE_MAX_SIZE)
    {
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_FAILED,
                   _ ("A thumbnail of %d pixels is larger than the thumbnail cache keeps."),
                   longest);
      return FALSE;
    }
  g_autofree char *target = flavor_path (uri, flavors[flavor_for (longest)].name);
  g_autofree char *dir = g_path_get_dirname (target);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _ ("Could not make the thumbnail folder “%s” (%s)."), dir, g_strerror (saved));
      return FALSE;
    }
  g_autoptr (GdkPixbuf) pixbuf = image_rgb_to_pixbuf (thumbnail);
  g_autofree char *size = g_strdup_printf ("%d", longest);
  g_autofree char *pw = g_strdup_printf ("%d", photo_width);
  g_autofree char *ph = g_strdup_printf ("%d", photo_height);
  g_autofree gchar *png = NULL;
  gsize length = 0;
  if (!gdk_pixbuf_save_to_buffer (pixbuf, &png, &length, "png", error, "tEXt::Thumb::URI", uri,
                                  "tEXt::Thumb::MTime", mtime, "tEXt::Software", "Depict",
                                  "tEXt::Thumb::Size", size, "tEXt::Thumb::Image::Width", pw,
                                  "tEXt::Thumb::Image::Height", ph, NULL))
    return FALSE;
  /* written to a temporary name, then renamed */
  return g_file_set_contents_full (target, png, (gssize) length, G_FILE_SET_CONTENTS_CONSISTENT,
                                   0600, error);
}

ImageRgb *
image_thumbnail_cache_load (const char *path, int longest_side, GError **error)
{
  g_autofree char *uri = NULL, *mtime = NULL;
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (longest_side > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (longest_side > IMAGE_THUMBNAIL_CACHE_MAX_SIZE)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "larger than the thumbnail cache keeps");
      return NULL;
    }
  if (!file_identity (path, &uri, &mtime, error))
    return NULL;
  /* the flavor for that size and the larger ones, then the smaller ones (which hold the whole
   * photo when it is that small) */
  guint first = flavor_for (longest_side);
  for (guint k = 0; k < G_N_ELEMENTS (flavors); k++)
    {
      guint f = first + k < G_N_ELEMENTS (flavors) ? first + k : G_N_ELEMENTS (flavors) - 1 - k;
      g_autofree char *file = flavor_path (uri, flavors[f].name);
      if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
        continue;
      /* Somebody's cache: small files only, and the loader's own checks. */
      int width = 0, height = 0;
      if (gdk_pixbuf_get_file_info (file, &width, &height) == NULL || width <= 0 || height <= 0 ||
          MAX (width, height) > IMAGE_THUMBNAIL_CACHE_MAX_SIZE)
        continue;
      g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (file, NULL);
      if (pixbuf == NULL ||
          g_strcmp0 (gdk_pixbuf_get_option (pixbuf, "tEXt::Thumb::URI"), uri) != 0 ||
          g_strcmp0 (gdk_pixbuf_get_option (pixbuf, "tEXt::Thumb::MTime"), mtime) != 0)
        continue;
      /* Smaller than asked: only when it is the whole photo. */
      int longest = MAX (width, height);
      const char *pw = gdk_pixbuf_get_option (pixbuf, "tEXt::Thumb::Image::Width");
      const char *ph = gdk_pixbuf_get_option (pixbuf, "tEXt::Thumb::Image::Height");
      int photo_longest = MAX (pw != NULL ? atoi (pw) : 0, ph != NULL ? atoi (ph) : 0);
      if (longest < longest_side && photo_longest != longest)
        continue;
      g_autoptr (ImageRgb) image = image_rgb_new_from_pixbuf (pixbuf, error);
      if (image == NULL)
        return NULL;
      return image_thumbnail_scale (image, longest_side, error);
    }
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no cached thumbnail");
  return NULL;
}
