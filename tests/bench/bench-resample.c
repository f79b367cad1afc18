/* bench-resample.c: how long the Pillow-exact resize and the processor take on a 24-megapixel
 * photo (6000 × 4000 → 768 × 768), and how long decoding takes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints figures; asserts nothing about time.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>

#include "florence/model/florence-processor.h"
#include "image/image-loader.h"
#include "image/image-resample.h"

static double
median (double *values, int n)
{
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0 && values[j - 1] > values[j]; j--)
      {
        double t = values[j];
        values[j] = values[j - 1];
        values[j - 1] = t;
      }
  return values[n / 2];
}

int
main (int argc, char **argv)
{
  const int width = 6000, height = 4000, runs = 7;
  g_autoptr (GError) error = NULL;

  /* A photo-like picture: smooth gradients plus some texture (resampling does the same work
   * whatever the values are). */
  g_autoptr (ImageRgb) photo = image_rgb_new (width, height, &error);
  g_assert_no_error (error);
  guint32 seed = 12345;
  for (int y = 0; y < height; y++)
    {
      guint8 *row = image_rgb_row (photo, y);
      for (int x = 0; x < width; x++)
        {
          seed = seed * 1664525u + 1013904223u;
          row[x * 3 + 0] = (guint8) ((x * 255) / width);
          row[x * 3 + 1] = (guint8) ((y * 255) / height);
          row[x * 3 + 2] = (guint8) (seed >> 24);
        }
    }

  FlorenceProcessorConfig config;
  florence_processor_config_init (&config);
  double resize_s[7], run_s[7];
  for (int i = 0; i < runs; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (ImageRgb) small = image_resample_bicubic (photo, 768, 768, &error);
      gint64 t1 = g_get_monotonic_time ();
      g_autofree float *values = florence_processor_run (&config, photo, NULL, &error);
      gint64 t2 = g_get_monotonic_time ();
      g_assert_no_error (error);
      g_assert_nonnull (small);
      g_assert_nonnull (values);
      resize_s[i] = (t1 - t0) / 1e6;
      run_s[i] = (t2 - t1) / 1e6;
    }
  printf ("resize 6000x4000 -> 768x768 (Pillow-exact bicubic, %u threads max): median %.3f s "
          "over %d runs\n",
          MIN (g_get_num_processors (), 8u), median (resize_s, runs), runs);
  printf ("processor (resize + rescale + normalize, CHW float32): median %.3f s\n",
          median (run_s, runs));

  /* Decoding the same picture from a JPEG (GdkPixbuf, libjpeg-turbo). */
  g_autofree char *dir = g_dir_make_tmp ("depict-bench-XXXXXX", &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (dir, "photo.jpg", NULL);
  g_autoptr (GdkPixbuf) pixbuf = image_rgb_to_pixbuf (photo);
  gdk_pixbuf_save (pixbuf, path, "jpeg", &error, "quality", "90", NULL);
  g_assert_no_error (error);
  double decode_s[3];
  for (int i = 0; i < 3; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (ImageRgb) loaded = image_load (path, NULL, &error);
      decode_s[i] = (g_get_monotonic_time () - t0) / 1e6;
      g_assert_no_error (error);
      g_assert_nonnull (loaded);
    }
  printf ("decode 24 MP JPEG (q90) to RGB8: median %.3f s\n", median (decode_s, 3));
  g_unlink (path);
  g_rmdir (dir);
  return 0;
}
