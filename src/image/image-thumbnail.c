/* image-thumbnail.c: small oriented pictures for the gallery and the app
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <libheif/heif.h>
#include <math.h>
#include <string.h>

#include "image/image-loader.h"
#include "image/image-orientation.h"
#include "image/image-private.h"
#include "image/image-resample.h"
#include "image/image-thumbnail-cache.h"
#include "image/image-thumbnail.h"

#define HEAD_SIZE 4096

ImageRgb *
image_thumbnail_scale (const ImageRgb *image, int longest_side, GError **error)
{
  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (longest_side > 0, NULL);

  int longest = MAX (image->width, image->height);
  if (longest <= longest_side)
    return image_rgb_copy (image);
  double scale = (double) longest_side / longest;
  int w = CLAMP ((int) (image->width * scale + 0.5), 1, longest_side);
  int h = CLAMP ((int) (image->height * scale + 0.5), 1, longest_side);
  ImageRgb *small = image_resample_bicubic (image, w, h, error);
  if (small != NULL)
    {
      small->original_width = image->original_width;
      small->original_height = image->original_height;
    }
  return small;
}

/* Scales a picture down so that its longest side is longest_side (never up). Takes ownership. */
static ImageRgb *
fit (ImageRgb *image, int longest_side, GError **error)
{
  if (MAX (image->width, image->height) <= longest_side)
    return image;
  ImageRgb *small = image_thumbnail_scale (image, longest_side, error);
  image_rgb_free (image);
  return small;
}

/* The thumbnail in the EXIF data, when it is large enough and shows the whole picture (same
 * aspect ratio as the stored image: many cameras letterbox theirs). NULL otherwise. */
static ImageRgb *
exif_thumbnail (const char *path, int longest_side, int stored_width, int stored_height)
{
  image_orientation_ensure_gexiv2 ();
  g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
  if (!gexiv2_metadata_open_path (metadata, path, NULL) || !gexiv2_metadata_has_exif (metadata))
    return NULL;

  g_autofree guint8 *data = NULL;
  int size = 0;
  if (!gexiv2_metadata_get_exif_thumbnail (metadata, &data, &size) || data == NULL || size <= 0)
    return NULL;

  gsize head_length = MIN ((gsize) size, (gsize) HEAD_SIZE);
  const char *type = image_loader_sniff (data, head_length);
  if (type == NULL || strcmp (type, "jpeg") != 0)
    return NULL;

  g_autoptr (GInputStream) stream =
    g_memory_input_stream_new_from_data (data + head_length, size - (gssize) head_length, NULL);
  /* A thumbnail larger than the picture is of no use: its header is refused before a pixel
   * is allocated (a few bytes of EXIF data could otherwise ask for 200 megapixels). */
  int tw = 0, th = 0;
  g_autoptr (GdkPixbuf) pixbuf = image_loader_decode_pixbuf (
    stream, data, head_length, type, "thumbnail", (guint64) stored_width * (guint64) stored_height,
    0, &tw, &th, NULL);
  if (pixbuf == NULL || MAX (tw, th) < longest_side)
    return NULL;
  double ratio = (double) tw / th, main_ratio = (double) stored_width / stored_height;
  if (fabs (ratio / main_ratio - 1.0) > 0.02)
    return NULL;

  /* Stored like the main picture: the file's orientation applies to it too. */
  ImageRgb *image = image_loader_orient_pixbuf (pixbuf, path, "jpeg", FALSE, NULL);
  if (image == NULL)
    return NULL;
  image->original_width = stored_width;
  image->original_height = stored_height;
  return image;
}

static ImageRgb *
heif_thumbnail (const char *path, const char *format, int longest_side, GError **error)
{
  g_autoptr (HeifImageHandle) primary =
    image_loader_heif_open_primary (path, IMAGE_LOAD_DEFAULT_MAX_PIXELS, FALSE, error);
  if (primary == NULL)
    return NULL;

  /* The smallest embedded thumbnail that is large enough. */
  g_autoptr (HeifImageHandle) chosen = NULL;
  int n = heif_image_handle_get_number_of_thumbnails (primary);
  if (n > 0)
    {
      g_autofree heif_item_id *ids = g_new (heif_item_id, n);
      n = heif_image_handle_get_list_of_thumbnail_IDs (primary, ids, n);
      int best = 0;
      for (int i = 0; i < n; i++)
        {
          g_autoptr (HeifImageHandle) t = NULL;
          if (heif_image_handle_get_thumbnail (primary, ids[i], &t).code != heif_error_Ok)
            continue;
          int longest = MAX (heif_image_handle_get_width (t), heif_image_handle_get_height (t));
          if (longest >= longest_side && (best == 0 || longest < best))
            {
              g_clear_pointer (&chosen, image_heif_handle_release);
              chosen = g_steal_pointer (&t);
              best = longest;
            }
        }
    }

  ImageRgb *image = NULL;
  if (chosen != NULL)
    image = image_loader_heif_decode (path, chosen, IMAGE_LOAD_DEFAULT_MAX_PIXELS, FALSE, NULL);
  if (image == NULL)
    image = image_loader_heif_decode (path, primary, IMAGE_LOAD_DEFAULT_MAX_PIXELS, FALSE, error);
  if (image == NULL)
    return NULL;
  image->original_width = heif_image_handle_get_ispe_width (primary);
  image->original_height = heif_image_handle_get_ispe_height (primary);
  image->format = g_strdup (format);
  return fit (image, longest_side, error);
}

ImageRgb *
image_thumbnail_load (const char *path, int longest_side, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (longest_side > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* One made before (batch tagging makes them from the decode it needs anyway). */
  ImageRgb *cached = image_thumbnail_cache_load (path, longest_side, NULL);
  if (cached != NULL)
    return cached;

  guint8 head[HEAD_SIZE];
  gsize head_length = sizeof head;
  g_autoptr (GInputStream) stream = NULL;
  if (!image_loader_read_head (path, &stream, head, &head_length, error))
    return NULL;
  const char *type = image_loader_sniff (head, head_length);
  if (type == NULL)
    /* image_load() explains. */
    return image_load (path, NULL, error);

  if (strcmp (type, "heif") == 0 || strcmp (type, "avif") == 0)
    return heif_thumbnail (path, type, longest_side, error);

  /* An embedded EXIF thumbnail, when large enough (JPEG and TIFF from cameras). */
  if (strcmp (type, "jpeg") == 0 || strcmp (type, "tiff") == 0)
    {
      int stored_width = 0, stored_height = 0;
      if (gdk_pixbuf_get_file_info (path, &stored_width, &stored_height) != NULL &&
          stored_width > 0 && stored_height > 0 &&
          (guint64) stored_width * stored_height <= IMAGE_LOAD_DEFAULT_MAX_PIXELS)
        {
          ImageRgb *image = exif_thumbnail (path, longest_side, stored_width, stored_height);
          if (image != NULL)
            return fit (image, longest_side, error);
        }
    }

  /* Decode at (about) the final size: JPEG scales in the DCT, other loaders scale once. */
  int stored_width = 0, stored_height = 0;
  g_autofree char *name = g_filename_display_basename (path);
  g_autoptr (GdkPixbuf) pixbuf = image_loader_decode_pixbuf (
    stream, head, head_length, type, name, IMAGE_LOAD_DEFAULT_MAX_PIXELS, longest_side,
    &stored_width, &stored_height, error);
  if (pixbuf == NULL)
    return NULL;
  ImageRgb *image = image_loader_orient_pixbuf (pixbuf, path, type, FALSE, error);
  if (image == NULL)
    return NULL;
  image->original_width = stored_width;
  image->original_height = stored_height;
  return fit (image, longest_side, error);
}
