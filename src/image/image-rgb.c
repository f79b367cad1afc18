/* image-rgb.c: an oriented RGB8 picture in memory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "image/image-rgb.h"

G_DEFINE_QUARK (image - error - quark, image_error)

ImageRgb *
image_rgb_new (int width, int height, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (width < 1 || height < 1)
    {
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_EMPTY,
                   _ ("The picture has no pixels (%d × %d)."), width, height);
      return NULL;
    }

  gsize stride = (gsize) width * 3;
  gsize size;
  if (!g_size_checked_mul (&size, stride, (gsize) height))
    goto too_large;

  guint8 *data = g_try_malloc0 (size);
  if (data == NULL)
    goto too_large;

  ImageRgb *image = g_new0 (ImageRgb, 1);
  image->width = image->original_width = width;
  image->height = image->original_height = height;
  image->stride = stride;
  image->data = data;
  image->orientation = 1;
  return image;

too_large:
  g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE,
               _ ("There is not enough memory for a picture of %d × %d pixels. Try a smaller "
                  "picture."),
               width, height);
  return NULL;
}

ImageRgb *
image_rgb_copy (const ImageRgb *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  ImageRgb *copy = g_new0 (ImageRgb, 1);
  *copy = *image;
  copy->stride = (gsize) image->width * 3;
  copy->data = g_malloc ((gsize) image->height * copy->stride);
  for (int y = 0; y < image->height; y++)
    memcpy (image_rgb_row (copy, y), image_rgb_row (image, y), copy->stride);
  copy->format = g_strdup (image->format);
  return copy;
}

void
image_rgb_free (ImageRgb *image)
{
  if (image == NULL)
    return;
  g_free (image->data);
  g_free (image->format);
  g_free (image);
}

char *
image_rgb_sha256 (const ImageRgb *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  for (int y = 0; y < image->height; y++)
    g_checksum_update (checksum, image_rgb_row (image, y), (gssize) image->width * 3);
  return g_strdup (g_checksum_get_string (checksum));
}

static void
free_pixels (guchar *pixels, gpointer data)
{
  g_free (pixels);
}

GdkPixbuf *
image_rgb_to_pixbuf (const ImageRgb *image)
{
  g_return_val_if_fail (image != NULL, NULL);

  /* GdkPixbuf rows are 4-byte aligned by convention; keep that. */
  gsize stride = ((gsize) image->width * 3 + 3) & ~(gsize) 3;
  guint8 *pixels = g_malloc ((gsize) image->height * stride);
  for (int y = 0; y < image->height; y++)
    memcpy (pixels + (gsize) y * stride, image_rgb_row (image, y), (gsize) image->width * 3);
  return gdk_pixbuf_new_from_data (pixels, GDK_COLORSPACE_RGB, FALSE, 8, image->width,
                                   image->height, (int) stride, free_pixels, NULL);
}

ImageRgb *
image_rgb_new_from_pixbuf (GdkPixbuf *pixbuf, GError **error)
{
  g_return_val_if_fail (GDK_IS_PIXBUF (pixbuf), NULL);

  int n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  if (gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 || n_channels < 3 || n_channels > 4 ||
      gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB)
    {
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED,
                   _ ("The picture uses a pixel layout Depict cannot read. Convert it to PNG or "
                      "JPEG and try again."));
      return NULL;
    }

  int width = gdk_pixbuf_get_width (pixbuf);
  int height = gdk_pixbuf_get_height (pixbuf);
  ImageRgb *image = image_rgb_new (width, height, error);
  if (image == NULL)
    return NULL;

  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  gsize src_stride = (gsize) gdk_pixbuf_get_rowstride (pixbuf);
  for (int y = 0; y < height; y++)
    {
      const guint8 *s = pixels + (gsize) y * src_stride;
      guint8 *d = image_rgb_row (image, y);
      if (n_channels == 3)
        memcpy (d, s, (gsize) width * 3);
      else
        for (int x = 0; x < width; x++, s += 4, d += 3)
          {
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
          }
    }
  return image;
}

gboolean
image_rgb_save_png (const ImageRgb *image, const char *path, GError **error)
{
  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  g_autoptr (GdkPixbuf) pixbuf = image_rgb_to_pixbuf (image);
  g_autofree char *buffer = NULL;
  gsize size = 0;
  if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "png", error, NULL))
    return FALSE;

  /* g_file_set_contents writes a temporary file and renames it over path. */
  g_autoptr (GError) local_error = NULL;
  if (!g_file_set_contents (path, buffer, (gssize) size, &local_error))
    {
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_FAILED, _ ("Could not write “%s”: %s"), path,
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}
