/* image-orientation.c: EXIF orientation (1-8)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <glib/gi18n.h>
#include <string.h>

#include "image/image-orientation.h"
#include "image/image-private.h"

void
image_orientation_ensure_gexiv2 (void)
{
  static gsize initialized = 0;
  if (g_once_init_enter (&initialized))
    {
      gexiv2_initialize ();
      /* Exiv2 reports recoverable oddities of damaged files through its log; we only want
       * the orientation, and a damaged file is reported by the decoder. */
      gexiv2_log_set_level (GEXIV2_LOG_LEVEL_MUTE);
      g_once_init_leave (&initialized, 1);
    }
}

static int
orientation_from_metadata (GExiv2Metadata *metadata)
{
  if (!gexiv2_metadata_has_exif (metadata) && !gexiv2_metadata_has_xmp (metadata))
    return 1;
  g_autoptr (GError) error = NULL;
  GExiv2Orientation orientation = gexiv2_metadata_try_get_orientation (metadata, &error);
  if (error != NULL || orientation < 1 || orientation > 8)
    return 1;
  return (int) orientation;
}

int
image_orientation_read_checked (const char *path)
{
  image_orientation_ensure_gexiv2 ();
  g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
  if (!gexiv2_metadata_open_path (metadata, path, NULL))
    return 0;
  return orientation_from_metadata (metadata);
}

int
image_orientation_read (const char *path)
{
  g_return_val_if_fail (path != NULL, 1);

  return MAX (1, image_orientation_read_checked (path));
}

gboolean
image_orientation_swaps_axes (int orientation)
{
  return orientation >= 5 && orientation <= 8;
}

void
image_orientation_map_point (int orientation, int stored_width, int stored_height, int x, int y,
                             int *out_x, int *out_y)
{
  int dx, dy;
  int sw = stored_width, sh = stored_height;

  switch (orientation)
    {
    case IMAGE_ORIENTATION_MIRROR_HORIZONTAL:
      dx = sw - 1 - x, dy = y;
      break;
    case IMAGE_ORIENTATION_ROTATE_180:
      dx = sw - 1 - x, dy = sh - 1 - y;
      break;
    case IMAGE_ORIENTATION_MIRROR_VERTICAL:
      dx = x, dy = sh - 1 - y;
      break;
    case IMAGE_ORIENTATION_TRANSPOSE:
      dx = y, dy = x;
      break;
    case IMAGE_ORIENTATION_ROTATE_90:
      dx = sh - 1 - y, dy = x;
      break;
    case IMAGE_ORIENTATION_TRANSVERSE:
      dx = sh - 1 - y, dy = sw - 1 - x;
      break;
    case IMAGE_ORIENTATION_ROTATE_270:
      dx = y, dy = sw - 1 - x;
      break;
    default:
      dx = x, dy = y;
      break;
    }
  if (out_x != NULL)
    *out_x = dx;
  if (out_y != NULL)
    *out_y = dy;
}

/* Tiles keep both the reads and the writes of a 90° turn inside the cache. */
#define TILE 64

ImageRgb *
image_orientation_copy_pixels (const guint8 *pixels, gsize stride, int bpp, int width, int height,
                               int orientation, GError **error)
{
  g_return_val_if_fail (pixels != NULL, NULL);
  g_return_val_if_fail (bpp == 3 || bpp == 4, NULL);

  if (orientation < 1 || orientation > 8)
    orientation = 1;
  gboolean swap = image_orientation_swaps_axes (orientation);
  ImageRgb *image = image_rgb_new (swap ? height : width, swap ? width : height, error);
  if (image == NULL)
    return NULL;
  image->original_width = width;
  image->original_height = height;
  image->orientation = orientation;

  if (orientation == 1)
    {
      for (int y = 0; y < height; y++)
        {
          const guint8 *s = pixels + (gsize) y * stride;
          guint8 *d = image_rgb_row (image, y);
          if (bpp == 3)
            memcpy (d, s, (gsize) width * 3);
          else
            for (int x = 0; x < width; x++, s += 4, d += 3)
              d[0] = s[0], d[1] = s[1], d[2] = s[2];
        }
      return image;
    }

  /* The displayed position of stored pixel (x, y) is origin + x·step_x + y·step_y, in bytes
   * of the destination. */
  int dx0, dy0, dx1, dy1, dx2, dy2;
  image_orientation_map_point (orientation, width, height, 0, 0, &dx0, &dy0);
  image_orientation_map_point (orientation, width, height, 1, 0, &dx1, &dy1);
  image_orientation_map_point (orientation, width, height, 0, 1, &dx2, &dy2);
  gssize dstride = (gssize) image->stride;
  gssize origin = (gssize) dy0 * dstride + (gssize) dx0 * 3;
  gssize step_x = (gssize) (dy1 - dy0) * dstride + (gssize) (dx1 - dx0) * 3;
  gssize step_y = (gssize) (dy2 - dy0) * dstride + (gssize) (dx2 - dx0) * 3;

  for (int ty = 0; ty < height; ty += TILE)
    for (int tx = 0; tx < width; tx += TILE)
      {
        int y_end = MIN (ty + TILE, height), x_end = MIN (tx + TILE, width);
        for (int y = ty; y < y_end; y++)
          {
            const guint8 *s = pixels + (gsize) y * stride + (gsize) tx * bpp;
            guint8 *d = image->data + origin + (gssize) y * step_y + (gssize) tx * step_x;
            for (int x = tx; x < x_end; x++, s += bpp, d += step_x)
              d[0] = s[0], d[1] = s[1], d[2] = s[2];
          }
      }
  return image;
}

ImageRgb *
image_orientation_apply (const ImageRgb *image, int orientation, GError **error)
{
  g_return_val_if_fail (image != NULL, NULL);

  ImageRgb *result = image_orientation_copy_pixels (image->data, image->stride, 3, image->width,
                                                    image->height, orientation, error);
  if (result == NULL)
    return NULL;
  result->format = g_strdup (image->format);
  return result;
}
