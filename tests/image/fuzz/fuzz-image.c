/* fuzz-image.c: arbitrary bytes as a photo file, through image_load(), image_thumbnail_load()
 * and the model's preprocessing
 *
 * The bytes are written to a file in a private temporary folder, on tmpfs (/dev/shm) where there
 * is one and without fsync, so that an input costs its decoding only. Its name ends in .jpg,
 * .png, .heic or nothing, chosen by the input's length: the loader decides by content, and
 * misnamed files must behave like well-named ones. Whatever loads must keep the promises of
 * image-rgb.h (and image_load_size() must agree with it); whatever fails must say why in a
 * GError. DEPICT_FUZZ_VERBOSE=1 prints what each input gave.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>

#include "florence/model/florence-processor.h"
#include "fuzz.h"
#include "image/image-loader.h"
#include "image/image-orientation.h"
#include "image/image-thumbnail.h"

/* Keeps one input fast (and the memory small) under ASan: a megapixel is far more than the
 * decoders' code paths need. */
#define FUZZ_MAX_PIXELS ((guint64) 1000000)
#define FUZZ_THUMBNAIL_SIDE 64
/* The processor's resampler is the hot loop under the fuzzer's comparison tracing (90 % of the
 * time at 128 × 128): a small output and small pictures keep an input to a millisecond. */
#define FUZZ_MODEL_SIDE 32
#define FUZZ_MODEL_MAX_PIXELS ((guint64) 128 * 128)

static char *fuzz_dir;
static char *fuzz_paths[4];

static void
remove_temp_dir (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (fuzz_paths); i++)
    {
      g_unlink (fuzz_paths[i]);
      g_clear_pointer (&fuzz_paths[i], g_free);
    }
  g_rmdir (fuzz_dir);
  g_clear_pointer (&fuzz_dir, g_free);
}

static const char *
temp_path (size_t size)
{
  static const char *const names[] = { "input.jpg", "input.png", "input.heic", "input" };

  if (fuzz_dir == NULL)
    {
      fuzz_dir = fuzz_make_tmp_dir ("depict-fuzz-image-XXXXXX");
      if (fuzz_dir == NULL)
        abort ();
      for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
        fuzz_paths[i] = g_build_filename (fuzz_dir, names[i], NULL);
      atexit (remove_temp_dir);
    }
  return fuzz_paths[size % G_N_ELEMENTS (names)];
}

static void
check_image (const ImageRgb *image, guint64 max_pixels)
{
  FUZZ_CHECK (image->width > 0 && image->height > 0);
  FUZZ_CHECK ((guint64) image->width * (guint64) image->height <= max_pixels);
  FUZZ_CHECK (image->stride >= 3 * (gsize) image->width);
  FUZZ_CHECK (image->data != NULL);
  FUZZ_CHECK (image->orientation >= 1 && image->orientation <= 8);
  FUZZ_CHECK (image->format != NULL);
  /* Touch the first and the last byte: ASan sees a buffer shorter than promised. */
  volatile guint8 first = image->data[0];
  volatile guint8 last = image_rgb_row (image, image->height - 1)[3 * image->width - 1];
  (void) first;
  (void) last;
}

static void
check_processor (const ImageRgb *image)
{
  FlorenceProcessorConfig config;
  g_autoptr (GError) error = NULL;
  g_autoptr (ImageRgb) resized = NULL;

  florence_processor_config_init (&config);
  config.width = FUZZ_MODEL_SIDE;
  config.height = FUZZ_MODEL_SIDE;
  g_autofree float *values = florence_processor_run (&config, image, &resized, &error);
  if (values == NULL)
    {
      FUZZ_CHECK_ERROR (error);
      return;
    }
  FUZZ_CHECK (resized != NULL && resized->width == FUZZ_MODEL_SIDE &&
              resized->height == FUZZ_MODEL_SIDE);
  for (gsize i = 0; i < 3 * FUZZ_MODEL_SIDE * FUZZ_MODEL_SIDE; i++)
    FUZZ_CHECK (isfinite (values[i]));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *path = temp_path (size);
  g_autoptr (GError) error = NULL;

  /* A critical (a library asked to do what it must not) is a finding too, except
   * GdkPixbuf's own: its GIF loader asserts on a frame of zero width or height inside the
   * file (gdk_pixbuf_calculate_rowstride), then fails with an error that image_load()
   * reports. Refusing such frames first would mean walking every GIF block ourselves;
   * regress-gif-zero-frame*.gif keep the case replayed. */
  fuzz_abort_on_critical ("GdkPixbuf");
  fuzz_write_file (path, data, size);

  ImageLoadOptions opts = { .max_pixels = FUZZ_MAX_PIXELS };
  g_autoptr (ImageRgb) image = image_load (path, &opts, &error);
  if (g_getenv ("DEPICT_FUZZ_VERBOSE") != NULL)
    {
      if (image != NULL)
        g_printerr ("%s %d × %d (stored %d × %d, orientation %d)\n", image->format, image->width,
                    image->height, image->original_width, image->original_height,
                    image->orientation);
      else
        g_printerr ("%s\n", error->message);
    }
  /* The size from the header alone. */
  int w = 0, h = 0;
  g_autoptr (GError) size_error = NULL;
  gboolean sized = image_load_size (path, &w, &h, &size_error);
  if (sized)
    FUZZ_CHECK (w > 0 && h > 0);
  else
    FUZZ_CHECK_ERROR (size_error);
  if (g_getenv ("DEPICT_FUZZ_VERBOSE") != NULL)
    g_printerr ("header: %d × %d\n", w, h);

  if (image == NULL)
    FUZZ_CHECK_ERROR (error);
  else
    {
      FUZZ_CHECK (error == NULL);
      check_image (image, FUZZ_MAX_PIXELS);
      if (g_strcmp0 (image->format, "heif") == 0 || g_strcmp0 (image->format, "avif") == 0)
        {
          /* libheif applies the file's own transforms; there is no EXIF orientation. */
          FUZZ_CHECK (image->orientation == 1);
        }
      else if (image_orientation_swaps_axes (image->orientation))
        FUZZ_CHECK (image->width == image->original_height &&
                    image->height == image->original_width);
      else
        FUZZ_CHECK (image->width == image->original_width &&
                    image->height == image->original_height);
      /* Small pictures only: resampling is the hot loop, and under the fuzzer's comparison
       * tracing a few megapixels take seconds. */
      if ((guint64) image->width * (guint64) image->height <= FUZZ_MODEL_MAX_PIXELS)
        check_processor (image);

      /* The header alone must promise the size that decoding gave. */
      if (!sized || w != image->width || h != image->height)
        g_printerr ("image_load_size: %d × %d, image_load: %d × %d (%s)\n", w, h, image->width,
                    image->height, image->format);
      FUZZ_CHECK (sized && w == image->width && h == image->height);
    }

  /* The thumbnail has no pixel limit of its own (200 megapixels): past ours it would only
   * make the fuzzer slow. */
  if (g_error_matches (error, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE) ||
      (sized && (guint64) w * (guint64) h > FUZZ_MAX_PIXELS))
    return 0;
  g_autoptr (GError) thumb_error = NULL;
  g_autoptr (ImageRgb) thumb = image_thumbnail_load (path, FUZZ_THUMBNAIL_SIDE, &thumb_error);
  if (thumb == NULL)
    FUZZ_CHECK_ERROR (thumb_error);
  else
    {
      FUZZ_CHECK (thumb_error == NULL);
      check_image (thumb, G_MAXUINT64);
      FUZZ_CHECK (MAX (thumb->width, thumb->height) <= FUZZ_THUMBNAIL_SIDE);
    }
  return 0;
}
