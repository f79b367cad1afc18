/* gallery-identity.c: what makes two files the same photo
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gallery/gallery-identity.h"
#include "image/image-loader.h"

char *
gallery_identity_of_picture (const ImageRgb *picture)
{
  g_autoptr (GChecksum) checksum = NULL;
  g_autofree char *size = NULL;

  g_return_val_if_fail (picture != NULL, NULL);

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  size = g_strdup_printf ("depict-pixels-1 %d %d\n", picture->width, picture->height);
  g_checksum_update (checksum, (const guchar *) size, -1);
  for (int y = 0; y < picture->height; y++)
    g_checksum_update (checksum, image_rgb_row (picture, y), (gssize) picture->width * 3);
  return g_strdup (g_checksum_get_string (checksum));
}

char *
gallery_identity_of_file (const char *path, ImageRgb **out_picture, GCancellable *cancellable,
                          GError **error)
{
  g_autoptr (ImageRgb) picture = NULL;
  char *identity;

  g_return_val_if_fail (path != NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  picture = image_load (path, NULL, error);
  if (picture == NULL)
    return NULL;
  identity = gallery_identity_of_picture (picture);
  if (out_picture != NULL)
    *out_picture = g_steal_pointer (&picture);
  return identity;
}

char *
gallery_identity_hash_file (const char *path, gint64 *out_size, GCancellable *cancellable,
                            GError **error)
{
  g_autoptr (GFile) file = NULL;
  g_autoptr (GFileInputStream) stream = NULL;
  g_autoptr (GChecksum) checksum = NULL;
  g_autofree guint8 *buffer = NULL;
  gint64 size = 0;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_file_new_for_path (path);
  stream = g_file_read (file, cancellable, error);
  if (stream == NULL)
    return NULL;
  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  buffer = g_malloc (256 * 1024);
  for (;;)
    {
      gssize n =
        g_input_stream_read (G_INPUT_STREAM (stream), buffer, 256 * 1024, cancellable, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      g_checksum_update (checksum, buffer, n);
      size += n;
    }
  if (out_size != NULL)
    *out_size = size;
  return g_strdup (g_checksum_get_string (checksum));
}
