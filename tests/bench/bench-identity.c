/* bench-identity.c: what knowing a photo costs, on a 24-megapixel JPEG and HEIC it makes
 *
 * The gallery knows a photo by the SHA-256 of its decoded pixels (gallery-identity.h). This
 * prints, per file, the CPU and wall time of: hashing the whole file (what finds an unchanged
 * or copied file), hashing the coded data without its metadata segments (the alternative
 * identity; for JPEG every segment but APPn and COM, measured; for HEIC the coded data is
 * nearly the whole file, so its cost is the file hash's), decoding (image_load, which the
 * batch tagger does anyway for the model) and hashing the decoded pixels. Best of 3.
 *
 *   bench-identity [--megapixels N]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>

#include "gallery/gallery-identity.h"
#include "image/image-loader.h"
#include "image-test-util.h"

typedef struct {
  double cpu, wall;
} Cost;

static double
cpu_seconds (void)
{
  struct rusage u;

  getrusage (RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* SHA-256 of a JPEG's segments other than APPn (EXIF, XMP, IPTC, ICC…) and COM, and of the
 * entropy-coded data after the first SOS: what metadata editors leave alone. */
static char *
jpeg_coded_hash (const char *path)
{
  g_autofree guint8 *data = NULL;
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize length = 0, pos = 2;

  if (!g_file_get_contents (path, (char **) &data, &length, NULL) || length < 4 ||
      data[0] != 0xff || data[1] != 0xd8)
    return NULL;
  while (pos + 4 <= length && data[pos] == 0xff)
    {
      guint8 marker = data[pos + 1];
      gsize size = (gsize) data[pos + 2] << 8 | data[pos + 3];

      if (marker == 0xda) /* SOS: the rest is the image */
        {
          g_checksum_update (checksum, data + pos, (gssize) (length - pos));
          return g_strdup (g_checksum_get_string (checksum));
        }
      if (!((marker >= 0xe0 && marker <= 0xef) || marker == 0xfe))
        g_checksum_update (checksum, data + pos, (gssize) MIN (size + 2, length - pos));
      pos += size + 2;
    }
  return NULL;
}

typedef enum { STEP_FILE, STEP_CODED, STEP_DECODE, STEP_PIXELS, N_STEPS } Step;
static const char *const step_names[] = {
  "SHA-256 of the file",
  "SHA-256 of the coded data (no metadata)",
  "decode (image_load)",
  "SHA-256 of the decoded pixels",
};

static void
measure (const char *path, gboolean is_jpeg, Cost best[N_STEPS])
{
  for (int s = 0; s < N_STEPS; s++)
    best[s] = (Cost){ G_MAXDOUBLE, G_MAXDOUBLE };
  for (int round = 0; round < 3; round++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (ImageRgb) picture = NULL;
      g_autofree char *file_hash = NULL, *coded = NULL, *pixels = NULL;
      double c0, w0;

      c0 = cpu_seconds (), w0 = g_get_monotonic_time () / 1e6;
      file_hash = gallery_identity_hash_file (path, NULL, NULL, &error);
      g_assert_no_error (error);
      best[STEP_FILE].cpu = MIN (best[STEP_FILE].cpu, cpu_seconds () - c0);
      best[STEP_FILE].wall = MIN (best[STEP_FILE].wall, g_get_monotonic_time () / 1e6 - w0);

      if (is_jpeg)
        {
          c0 = cpu_seconds (), w0 = g_get_monotonic_time () / 1e6;
          coded = jpeg_coded_hash (path);
          g_assert_nonnull (coded);
          best[STEP_CODED].cpu = MIN (best[STEP_CODED].cpu, cpu_seconds () - c0);
          best[STEP_CODED].wall = MIN (best[STEP_CODED].wall, g_get_monotonic_time () / 1e6 - w0);
        }

      c0 = cpu_seconds (), w0 = g_get_monotonic_time () / 1e6;
      picture = image_load (path, NULL, &error);
      g_assert_no_error (error);
      best[STEP_DECODE].cpu = MIN (best[STEP_DECODE].cpu, cpu_seconds () - c0);
      best[STEP_DECODE].wall = MIN (best[STEP_DECODE].wall, g_get_monotonic_time () / 1e6 - w0);

      c0 = cpu_seconds (), w0 = g_get_monotonic_time () / 1e6;
      pixels = gallery_identity_of_picture (picture);
      best[STEP_PIXELS].cpu = MIN (best[STEP_PIXELS].cpu, cpu_seconds () - c0);
      best[STEP_PIXELS].wall = MIN (best[STEP_PIXELS].wall, g_get_monotonic_time () / 1e6 - w0);
    }
}

static void
print_costs (const char *name, const char *path, gboolean is_jpeg, const Cost best[N_STEPS])
{
  GStatBuf st;

  g_stat (path, &st);
  printf ("%s, %.1f MB:\n", name, st.st_size / 1e6);
  for (int s = 0; s < N_STEPS; s++)
    {
      if (s == STEP_CODED && !is_jpeg)
        printf ("  %-42s  ≈ the file's (the coded data is almost all of it)\n", step_names[s]);
      else
        printf ("  %-42s  %7.0f ms CPU  %7.0f ms wall\n", step_names[s], best[s].cpu * 1000,
                best[s].wall * 1000);
    }
}

/* A photo-like picture: smooth gradients, edges and some noise (so that it compresses as a
 * photo does, not as a flat test card). */
static GdkPixbuf *
make_picture (int width, int height)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  GRand *rand = g_rand_new_with_seed (24);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = pixels + (gsize) y * stride + (gsize) x * 3;
        int noise = g_rand_int_range (rand, -6, 7);
        int band = ((x / 97) + (y / 131)) % 2 ? 40 : 0;

        p[0] = (guint8) CLAMP (x * 200 / width + band + noise, 0, 255);
        p[1] = (guint8) CLAMP (y * 180 / height + noise, 0, 255);
        p[2] = (guint8) CLAMP (120 + band - noise + ((x ^ y) & 15), 0, 255);
      }
  g_rand_free (rand);
  return pixbuf;
}

int
main (int argc, char **argv)
{
  double megapixels = 24;
  GOptionEntry entries[] = {
    { "megapixels", 0, 0, G_OPTION_ARG_DOUBLE, &megapixels, "Size of the pictures (default 24)",
      "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = NULL;
  g_autofree char *dir = g_dir_make_tmp ("depict-bench-identity-XXXXXX", NULL);
  g_autofree char *jpeg = g_build_filename (dir, "photo.jpg", NULL);
  g_autofree char *heic = g_build_filename (dir, "photo.heic", NULL);
  g_autofree char *loadavg = NULL;
  Cost costs[N_STEPS];
  int width, height;
  double t0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) || megapixels <= 0)
    {
      g_printerr ("bench-identity: %s\n", error != NULL ? error->message : "bad --megapixels");
      return 2;
    }
  /* 3:2, 6000 × 4000 at 24 MP */
  width = (int) (sqrt (megapixels * 1e6 * 1.5) + 0.5);
  height = (int) (width / 1.5 + 0.5);
  g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL);
  printf ("bench-identity: %d × %d pictures; load %s", width, height,
          loadavg != NULL ? loadavg : "?\n");

  pixbuf = make_picture (width, height);
  gdk_pixbuf_save (pixbuf, jpeg, "jpeg", &error, "quality", "90", NULL);
  g_assert_no_error (error);
  {
    /* Metadata as a camera and a photo manager leave it. */
    g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
    const char *keywords[] = { "holiday", "sea", NULL };

    gexiv2_initialize ();
    gexiv2_metadata_open_path (metadata, jpeg, &error);
    g_assert_no_error (error);
    gexiv2_metadata_try_set_tag_string (metadata, "Exif.Image.Model", "Bench Camera", &error);
    gexiv2_metadata_try_set_tag_multiple (metadata, "Xmp.dc.subject", keywords, &error);
    gexiv2_metadata_try_set_tag_multiple (metadata, "Iptc.Application2.Keywords", keywords, &error);
    gexiv2_metadata_save_file (metadata, jpeg, &error);
    g_assert_no_error (error);
  }
  t0 = g_get_monotonic_time () / 1e6;
  if (!test_write_heif (heic, pixbuf, FALSE, 1, NULL))
    g_clear_pointer (&heic, g_free);
  if (heic != NULL)
    printf ("(the HEIC took %.0f s to encode)\n", g_get_monotonic_time () / 1e6 - t0);

  measure (jpeg, TRUE, costs);
  print_costs ("JPEG, quality 90, with EXIF, XMP and IPTC", jpeg, TRUE, costs);
  if (heic != NULL)
    {
      measure (heic, FALSE, costs);
      print_costs ("HEIC (x265, quality 90)", heic, FALSE, costs);
    }
  else
    printf ("HEIC: no HEVC encoder in libheif here, not measured\n");
  g_unlink (jpeg);
  if (heic != NULL)
    g_unlink (heic);
  g_rmdir (dir);
  return 0;
}
