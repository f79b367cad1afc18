/* image-loader.c: any common photo file → oriented RGB8
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file of this length: every decoder (GdkPixbuf, libheif) ends in the same limits and
 * orientation, which must hold for all of them on hostile files.
 */
#include "config.h"

#include <inttypes.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <libheif/heif.h>
#include <string.h>

#include "image/image-loader.h"
#include "image/image-orientation.h"
#include "image/image-private.h"

#define HEAD_SIZE 4096
#define CHUNK_SIZE (256 * 1024)

/* ------------------------------------------------------------------------------------------ */
/* Sniffing                                                                                   */

const char *
image_loader_sniff (const guint8 *head, gsize length)
{
  if (length >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)
    return "jpeg";
  if (length >= 8 && memcmp (head, "\x89PNG\r\n\x1a\n", 8) == 0)
    return "png";
  if (length >= 6 && (memcmp (head, "GIF87a", 6) == 0 || memcmp (head, "GIF89a", 6) == 0))
    return "gif";
  if (length >= 14 && head[0] == 'B' && head[1] == 'M')
    return "bmp";
  if (length >= 4 && (memcmp (head, "II*\0", 4) == 0 || memcmp (head, "MM\0*", 4) == 0 ||
                      memcmp (head, "II+\0", 4) == 0 || memcmp (head, "MM\0+", 4) == 0))
    return "tiff";
  if (length >= 12 && memcmp (head, "RIFF", 4) == 0 && memcmp (head + 8, "WEBP", 4) == 0)
    return "webp";
  if (length >= 12 && memcmp (head + 4, "ftyp", 4) == 0)
    {
      int n = (int) MIN (length, (gsize) G_MAXINT);
      if (heif_check_filetype (head, n) == heif_filetype_no)
        return NULL;
      const char *mime = heif_get_file_mime_type (head, n);
      if (mime != NULL &&
          (strcmp (mime, "image/avif") == 0 || strcmp (mime, "image/avif-sequence") == 0))
        return "avif";
      return "heif";
    }
  return NULL;
}

gboolean
image_loader_read_head (const char *path, GInputStream **stream, guint8 *head, gsize *length,
                        GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) local_error = NULL;
  /* Only a regular file: opening a named pipe would wait for a writer forever. */
  g_autoptr (GFileInfo) info =
    g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (info != NULL && g_file_info_get_file_type (info) == G_FILE_TYPE_SPECIAL)
    {
      g_autofree char *name = g_filename_display_basename (path);
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED,
                   _ ("“%s” is not a regular file (it is a named pipe, a device or a socket), "
                      "so it is not a picture."),
                   name);
      return FALSE;
    }
  g_autoptr (GFileInputStream) input = g_file_read (file, NULL, &local_error);
  if (input == NULL)
    {
      g_autofree char *name = g_filename_display_basename (path);
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                     _ ("“%s” does not exist. It may have been moved or deleted."), name);
      else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                     _ ("“%s” is a folder, not a picture."), name);
      else
        g_set_error (error, local_error->domain, local_error->code,
                     _ ("Could not open “%s” (%s). Check that the file can be read."), name,
                     local_error->message);
      return FALSE;
    }

  gsize n = 0;
  if (!g_input_stream_read_all (G_INPUT_STREAM (input), head, *length, &n, NULL, &local_error))
    {
      g_autofree char *name = g_filename_display_basename (path);
      g_set_error (error, local_error->domain, local_error->code, _ ("Could not read “%s”: %s."),
                   name, local_error->message);
      return FALSE;
    }
  if (n == 0)
    {
      g_autofree char *name = g_filename_display_basename (path);
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_EMPTY,
                   _ ("“%s” is empty (0 bytes). It may not have been copied completely."), name);
      return FALSE;
    }
  *length = n;
  if (stream != NULL)
    *stream = G_INPUT_STREAM (g_steal_pointer (&input));
  return TRUE;
}

static void
set_unsupported_error (GError **error, const char *path)
{
  g_autofree char *name = g_filename_display_basename (path);
  g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED,
               _ ("“%s” is not a picture Depict can read. Supported formats are JPEG, PNG, WebP, "
                  "TIFF, BMP, GIF, HEIC and AVIF."),
               name);
}

static void
set_too_large_error (GError **error, const char *name, gint64 width, gint64 height,
                     guint64 max_pixels)
{
  g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE,
               _ ("“%s” is too large: %" PRId64 " × %" PRId64
                  " pixels, more than the limit of %.1f megapixels. Reduce its size and try "
                  "again."),
               name, width, height, max_pixels / 1e6);
}

static void
set_corrupt_error (GError **error, const char *name, const char *detail)
{
  g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_CORRUPT,
               _ ("“%s” is damaged or incomplete and cannot be read (%s). Try opening the "
                  "original file again."),
               name, detail);
}

/* ------------------------------------------------------------------------------------------ */
/* GdkPixbuf formats                                                                          */

typedef struct {
  guint64 max_pixels;
  int longest_side;
  int width, height;
  gboolean refused;
  /* Rows of the loader's pixbuf that received pixels: a file that ends early leaves some
   * untouched, and GdkPixbuf does not always say so (PNG, JPEG). */
  guint8 *rows_done;
  int rows;
} SizeCheck;

static void
on_area_updated (GdkPixbufLoader *loader, int x, int y, int width, int height, gpointer user_data)
{
  SizeCheck *check = user_data;
  if (check->rows_done == NULL)
    {
      GdkPixbuf *pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
      if (pixbuf == NULL)
        return;
      check->rows = gdk_pixbuf_get_height (pixbuf);
      check->rows_done = g_malloc0 ((gsize) check->rows);
    }
  int y0 = CLAMP (y, 0, check->rows), y1 = CLAMP (y + height, y0, check->rows);
  if (width > 0)
    memset (check->rows_done + y0, 1, (gsize) (y1 - y0));
}

static gboolean
all_rows_done (const SizeCheck *check)
{
  if (check->rows_done == NULL)
    return FALSE;
  return memchr (check->rows_done, 0, (gsize) check->rows) == NULL;
}

static void
on_size_prepared (GdkPixbufLoader *loader, int width, int height, gpointer user_data)
{
  SizeCheck *check = user_data;

  check->width = width;
  check->height = height;
  if (width <= 0 || height <= 0 || (guint64) width * (guint64) height > check->max_pixels)
    {
      /* Every loader stops at a zero size before it allocates the pixels (this is how
       * gdk_pixbuf_get_file_info() works). */
      check->refused = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
      return;
    }
  if (check->longest_side > 0 && MAX (width, height) > check->longest_side)
    {
      double scale = (double) check->longest_side / MAX (width, height);
      int w = MAX (1, (int) (width * scale + 0.5));
      int h = MAX (1, (int) (height * scale + 0.5));
      gdk_pixbuf_loader_set_size (loader, w, h);
    }
}

/* The size a RIFF (WebP) file says it has; 0 when unknown. */
static guint64
riff_size (const guint8 *head, gsize head_length)
{
  if (head_length < 12 || memcmp (head, "RIFF", 4) != 0)
    return 0;
  return (guint64) head[4] + ((guint64) head[5] << 8) + ((guint64) head[6] << 16) +
         ((guint64) head[7] << 24) + 8;
}

/* Progressive JPEGs and interlaced PNGs paint every row in their first pass, so a file cut
 * later still looks whole to the row check; so does a baseline JPEG, whose missing rows
 * libjpeg paints grey. For them we follow the file's structure as it streams by and require
 * its end: the EOI marker after the first scan (JPEG: 0xFF 0xD9 cannot occur inside
 * entropy-coded data, and data appended after EOI, as in motion photos, is fine), or the
 * IEND chunk (PNG). */
typedef enum {
  WALK_START,     /* before the first byte of the signature / SOI */
  WALK_MARKER,    /* JPEG: expecting 0xFF */
  WALK_MARKER_ID, /* JPEG: the byte after 0xFF */
  WALK_LENGTH,    /* JPEG: 2 length bytes; PNG: 8 bytes of chunk length + type */
  WALK_SKIP,      /* skipping a segment / chunk body */
  WALK_SCAN,      /* JPEG: in entropy-coded data, looking for EOI */
  WALK_SCAN_FF,   /* JPEG: saw 0xFF in entropy-coded data */
  WALK_DONE,      /* the end was found */
  WALK_GIVE_UP,   /* not a structure we follow: the other checks decide */
} WalkState;

typedef struct {
  gboolean png;
  WalkState state;
  guint8 field[8];
  guint n_field;
  guint64 skip;
  gboolean needs_end; /* any JPEG, or an interlaced PNG */
} StructureWalk;

static void
walk_feed (StructureWalk *w, const guint8 *data, gsize length)
{
  gsize i = 0;
  while (i < length && w->state != WALK_DONE && w->state != WALK_GIVE_UP)
    {
      if (w->state == WALK_SKIP)
        {
          gsize n = (gsize) MIN (w->skip, (guint64) (length - i));
          i += n;
          w->skip -= n;
          if (w->skip == 0)
            w->state = w->png ? WALK_LENGTH : WALK_MARKER;
          continue;
        }
      if (w->state == WALK_SCAN)
        {
          const guint8 *ff = memchr (data + i, 0xff, length - i);
          if (ff == NULL)
            return;
          i = (gsize) (ff - data) + 1;
          w->state = WALK_SCAN_FF;
          continue;
        }

      guint8 b = data[i++];
      switch (w->state)
        {
        case WALK_START:
          /* PNG: 8 signature bytes; JPEG: FF D8. */
          w->field[w->n_field++] = b;
          if (w->n_field == (w->png ? 8u : 2u))
            {
              w->n_field = 0;
              w->state = w->png ? WALK_LENGTH : WALK_MARKER;
            }
          break;
        case WALK_MARKER:
          w->state = b == 0xff ? WALK_MARKER_ID : WALK_GIVE_UP;
          break;
        case WALK_MARKER_ID:
          if (b == 0xff)
            break;       /* fill byte */
          if (b == 0xda) /* start of scan: its header, then entropy-coded data */
            {
              if (!w->needs_end)
                w->state = WALK_GIVE_UP; /* not a structure that needs its end */
              else
                w->state = WALK_SCAN;
              break;
            }
          if (b == 0x01 || (b >= 0xd0 && b <= 0xd8))
            {
              w->state = WALK_MARKER; /* no length */
              break;
            }
          /* SOF2/6/10/14: progressive. */
          if (b == 0xc2 || b == 0xc6 || b == 0xca || b == 0xce)
            w->needs_end = TRUE;
          w->state = WALK_LENGTH;
          break;
        case WALK_LENGTH:
          w->field[w->n_field++] = b;
          if (!w->png && w->n_field == 2)
            {
              guint len = (guint) w->field[0] << 8 | w->field[1];
              w->n_field = 0;
              if (len < 2)
                w->state = WALK_GIVE_UP;
              else if ((w->skip = len - 2) == 0)
                w->state = WALK_MARKER;
              else
                w->state = WALK_SKIP;
            }
          else if (w->png && w->n_field == 8)
            {
              guint64 len = (guint64) w->field[0] << 24 | (guint64) w->field[1] << 16 |
                            (guint64) w->field[2] << 8 | w->field[3];
              w->n_field = 0;
              if (memcmp (w->field + 4, "IEND", 4) == 0)
                w->state = WALK_DONE;
              else
                {
                  w->skip = len + 4; /* data and CRC */
                  w->state = WALK_SKIP;
                }
            }
          break;
        case WALK_SCAN_FF:
          /* FF 00 (stuffed), FF D0-D7 (restart), FF FF: still data. Another marker ends the
           * scan: EOI is the end, anything else (a progressive JPEG's next DHT/SOS) is walked
           * as a segment. */
          if (b == 0xd9)
            w->state = WALK_DONE;
          else if (b == 0x00 || (b >= 0xd0 && b <= 0xd7))
            w->state = WALK_SCAN;
          else if (b == 0xff)
            w->state = WALK_SCAN_FF;
          else if (b == 0xda)
            w->state = WALK_SCAN; /* SOS header is skipped as data: it has no FF D9 */
          else
            w->state = WALK_LENGTH;
          break;
        default:
          break;
        }
    }
}

/* TRUE when the file's end is known to be missing. */
static gboolean
walk_incomplete (const StructureWalk *w)
{
  return w->needs_end && w->state != WALK_DONE && w->state != WALK_GIVE_UP;
}

/* GdkPixbuf's BMP loader grows its buffer to whatever the file's info header size, pixel
 * offset and palette size say, before it looks at the image size: 29 bytes can make it
 * allocate and clear gigabytes. Only the header sizes of the BMP versions pass, pixels must
 * start within the first megabyte (after at most a 256-colour palette and masks in practice),
 * and the palette has at most 256 colours. */
static gboolean
bmp_header_ok (const guint8 *head, gsize length)
{
  static const guint32 info_sizes[] = { 12, 16, 40, 52, 56, 64, 108, 124 };
  if (length < 18)
    return FALSE;
  guint32 offset = (guint32) head[10] | (guint32) head[11] << 8 | (guint32) head[12] << 16 |
                   (guint32) head[13] << 24;
  guint32 info = (guint32) head[14] | (guint32) head[15] << 8 | (guint32) head[16] << 16 |
                 (guint32) head[17] << 24;
  if (offset > 1024 * 1024)
    return FALSE;
  for (gsize i = 0; i < G_N_ELEMENTS (info_sizes); i++)
    if (info == info_sizes[i])
      {
        /* Headers of 40 bytes and more say how many palette entries follow (biClrUsed, at
         * byte 46): the loader allocates them all, 0xFFFFFFFF of them included. A palette has
         * at most 256. */
        if (info >= 40)
          {
            guint32 colors;
            if (length < 50)
              return FALSE;
            colors = (guint32) head[46] | (guint32) head[47] << 8 | (guint32) head[48] << 16 |
                     (guint32) head[49] << 24;
            if (colors > 256)
              return FALSE;
          }
        return TRUE;
      }
  return FALSE;
}

GdkPixbuf *
image_loader_decode_pixbuf (GInputStream *stream, const guint8 *head, gsize head_length,
                            const char *type, const char *name, guint64 max_pixels,
                            int longest_side, int *file_width, int *file_height, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  if (strcmp (type, "bmp") == 0 && !bmp_header_ok (head, head_length))
    {
      set_corrupt_error (error, name, _ ("the BMP header is invalid"));
      return NULL;
    }
  g_autoptr (GdkPixbufLoader) loader = gdk_pixbuf_loader_new_with_type (type, &local_error);
  if (loader == NULL)
    {
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED,
                   _ ("This system cannot read %s pictures (%s). Install the GdkPixbuf loader "
                      "for it (for WebP: webp-pixbuf-loader)."),
                   type, local_error->message);
      return NULL;
    }

  SizeCheck check = { max_pixels, longest_side, 0, 0, FALSE, NULL, 0 };
  g_autofree guint8 *rows_done = NULL;
  g_signal_connect (loader, "size-prepared", G_CALLBACK (on_size_prepared), &check);
  g_signal_connect (loader, "area-updated", G_CALLBACK (on_area_updated), &check);

  g_autofree guint8 *chunk = g_malloc (CHUNK_SIZE);
  guint64 total = head_length;
  StructureWalk walk = { 0 };
  walk.png = strcmp (type, "png") == 0;
  /* IHDR's interlace byte: signature (8), length and type (8), then byte 12 of its data. */
  walk.needs_end = walk.png ? head_length > 28 && head[28] != 0 : strcmp (type, "jpeg") == 0;
  if (!walk.png && strcmp (type, "jpeg") != 0)
    walk.state = WALK_GIVE_UP;
  walk_feed (&walk, head, head_length);
  gboolean ok = gdk_pixbuf_loader_write (loader, head, head_length, &local_error);
  while (ok && !check.refused)
    {
      gssize n = g_input_stream_read (stream, chunk, CHUNK_SIZE, NULL, &local_error);
      if (n < 0)
        {
          g_autoptr (GError) ignored = NULL;
          gdk_pixbuf_loader_close (loader, &ignored);
          g_free (check.rows_done);
          g_set_error (error, local_error->domain, local_error->code,
                       _ ("Could not read “%s”: %s."), name, local_error->message);
          return NULL;
        }
      if (n == 0)
        break;
      total += (guint64) n;
      walk_feed (&walk, chunk, (gsize) n);
      ok = gdk_pixbuf_loader_write (loader, chunk, (gsize) n, &local_error);
    }

  g_autoptr (GError) close_error = NULL;
  gboolean closed = gdk_pixbuf_loader_close (loader, &close_error);
  rows_done = check.rows_done;
  if (file_width != NULL)
    *file_width = check.width;
  if (file_height != NULL)
    *file_height = check.height;

  if (check.refused)
    {
      if (check.width <= 0 || check.height <= 0)
        g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_EMPTY,
                     _ ("“%s” says it has no pixels (%d × %d). The file is damaged."), name,
                     check.width, check.height);
      else
        set_too_large_error (error, name, check.width, check.height, max_pixels);
      return NULL;
    }

  const char *detail = NULL;
  GdkPixbuf *pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (!ok)
    detail = local_error->message;
  else if (!closed)
    detail = close_error->message;
  else if (pixbuf == NULL)
    detail = _ ("no picture in the file");
  /* A file that ends early: GdkPixbuf does not always say so (PNG, JPEG, WebP). GIF frames
   * may cover only part of the screen: there the loader's word is taken. */
  else if (strcmp (type, "gif") != 0 && !all_rows_done (&check))
    detail = _ ("the file ends before the last row of pixels");
  else if (walk_incomplete (&walk))
    detail = walk.png ? _ ("the file ends before the last pass of a progressive picture")
                      : _ ("the file ends before the end of the picture");
  else if (strcmp (type, "webp") == 0 && total < riff_size (head, head_length))
    detail = _ ("the file is shorter than its header says");
  if (detail != NULL)
    {
      set_corrupt_error (error, name, detail);
      return NULL;
    }
  return g_object_ref (pixbuf);
}

/* The orientation still to apply to a pixbuf decoded by GdkPixbuf. */
static int
pixbuf_orientation (const char *type, int file_orientation, GdkPixbuf *pixbuf,
                    gboolean ignore_orientation)
{
  if (strcmp (type, "tiff") == 0)
    {
      /* libtiff flips 2-4 itself, and treats 5-8 as 1-4 (see gdk-pixbuf's io-tiff.c): what
       * remains is a transpose (5, 7) or a transverse (6, 8). Undoing it is a flip again. */
      static const int remaining[9] = { 1, 1, 1, 1, 1, 5, 7, 5, 7 };
      static const int undo[9] = { 1, 1, 2, 3, 4, 1, 2, 3, 4 };
      if (file_orientation == 0)
        {
          const char *option = gdk_pixbuf_get_option (pixbuf, "orientation");
          return ignore_orientation || option == NULL ? 1 : CLAMP (atoi (option), 1, 8);
        }
      return ignore_orientation ? undo[file_orientation] : remaining[file_orientation];
    }
  /* Exiv2 could not read the metadata (0): as stored. GdkPixbuf's JPEG loader may still find
   * an orientation in damaged EXIF data, but image_orientation_read() and image_load_size()
   * cannot see it, and all three must agree (the gallery maps regions with them). */
  if (ignore_orientation || file_orientation == 0)
    return 1;
  return file_orientation;
}

ImageRgb *
image_loader_orient_pixbuf (GdkPixbuf *pixbuf, const char *path, const char *type,
                            gboolean ignore_orientation, GError **error)
{
  int file_orientation = image_orientation_read_checked (path);
  int orientation = pixbuf_orientation (type, file_orientation, pixbuf, ignore_orientation);
  int n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  if (gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 || (n_channels != 3 && n_channels != 4) ||
      gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB)
    {
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED,
                   _ ("The picture uses a pixel layout Depict cannot read. Convert it to PNG or "
                      "JPEG and try again."));
      return NULL;
    }

  ImageRgb *image = image_orientation_copy_pixels (
    gdk_pixbuf_read_pixels (pixbuf), (gsize) gdk_pixbuf_get_rowstride (pixbuf), n_channels,
    gdk_pixbuf_get_width (pixbuf), gdk_pixbuf_get_height (pixbuf), orientation, error);
  if (image == NULL)
    return NULL;
  if (ignore_orientation)
    image->orientation = 1;
  else
    image->orientation = file_orientation >= 1 ? file_orientation : orientation;
  image->format = g_strdup (type);
  return image;
}

static ImageRgb *
load_with_pixbuf (const char *path, const char *type, GInputStream *stream, const guint8 *head,
                  gsize head_length, guint64 max_pixels, gboolean ignore_orientation,
                  GError **error)
{
  g_autofree char *name = g_filename_display_basename (path);
  g_autoptr (GdkPixbuf) pixbuf = image_loader_decode_pixbuf (stream, head, head_length, type, name,
                                                             max_pixels, 0, NULL, NULL, error);
  if (pixbuf == NULL)
    return NULL;
  return image_loader_orient_pixbuf (pixbuf, path, type, ignore_orientation, error);
}

/* ------------------------------------------------------------------------------------------ */
/* HEIF / AVIF                                                                                */

void
image_loader_ensure_libheif (void)
{
  static gsize initialized = 0;
  if (g_once_init_enter (&initialized))
    {
      heif_init (NULL);
      g_once_init_leave (&initialized, 1);
    }
}

static void
set_heif_error (GError **error, const char *path, struct heif_error heif_err)
{
  g_autofree char *name = g_filename_display_basename (path);
  /* libheif's messages may end with a newline. */
  g_autofree char *message = g_strstrip (g_strdup (heif_err.message ? heif_err.message : ""));
  struct heif_error err = heif_err;
  err.message = message;
  if (err.code == heif_error_Unsupported_filetype || err.code == heif_error_Unsupported_feature)
    g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_UNSUPPORTED,
                 _ ("“%s” uses a HEIF feature this system cannot decode (%s). Convert it to JPEG "
                    "and try again."),
                 name, err.message);
  else if (err.code == heif_error_Memory_allocation_error ||
           err.subcode == heif_suberror_Security_limit_exceeded)
    g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_TOO_LARGE,
                 _ ("“%s” is too large to decode (%s). Reduce its size and try again."), name,
                 err.message);
  else if (err.subcode == heif_suberror_No_pitm_box ||
           err.subcode == heif_suberror_Nonexisting_item_referenced)
    g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_CORRUPT,
                 _ ("“%s” has no main picture (%s). The file is damaged or is not a photo."), name,
                 err.message);
  else
    set_corrupt_error (error, name, err.message);
}

struct heif_image_handle *
image_loader_heif_open_primary (const char *path, guint64 max_pixels,
                                gboolean ignore_transformations, GError **error)
{
  image_loader_ensure_libheif ();
  g_autoptr (HeifContext) ctx = heif_context_alloc ();
  struct heif_error err = heif_context_read_from_file (ctx, path, NULL);
  if (err.code != heif_error_Ok)
    {
      set_heif_error (error, path, err);
      return NULL;
    }

  struct heif_image_handle *handle = NULL;
  err = heif_context_get_primary_image_handle (ctx, &handle);
  if (err.code != heif_error_Ok || handle == NULL)
    {
      g_autofree char *name = g_filename_display_basename (path);
      g_set_error (error, IMAGE_ERROR, IMAGE_ERROR_CORRUPT,
                   _ ("“%s” has no main picture (%s). The file is damaged or is not a photo."),
                   name, err.message != NULL ? err.message : "");
      return NULL;
    }

  gint64 w = heif_image_handle_get_width (handle), h = heif_image_handle_get_height (handle);
  if (ignore_transformations)
    w = heif_image_handle_get_ispe_width (handle), h = heif_image_handle_get_ispe_height (handle);
  if (w <= 0 || h <= 0)
    {
      heif_image_handle_release (handle);
      g_set_error (
        error, IMAGE_ERROR, IMAGE_ERROR_EMPTY,
        _ ("The picture says it has no pixels (%" PRId64 " × %" PRId64 "). The file is damaged."),
        w, h);
      return NULL;
    }
  if ((guint64) w * (guint64) h > max_pixels)
    {
      g_autofree char *name = g_filename_display_basename (path);
      heif_image_handle_release (handle);
      set_too_large_error (error, name, w, h, max_pixels);
      return NULL;
    }
  /* Nothing decoded may be wider or taller than the header says: a grid whose descriptor lies
   * (595 bytes announcing 16 × 12 made libheif allocate 2.3 GB for 14441 × 27759) is refused
   * before its canvas is allocated. */
  gint64 side = MAX (MAX (w, h), MAX (heif_image_handle_get_ispe_width (handle),
                                      heif_image_handle_get_ispe_height (handle)));
  heif_context_set_maximum_image_size_limit (ctx, (int) MIN (side + 1, G_MAXINT));
  return handle;
}

ImageRgb *
image_loader_heif_decode (const char *path, struct heif_image_handle *handle, guint64 max_pixels,
                          gboolean ignore_transformations, GError **error)
{
  struct heif_decoding_options *options = heif_decoding_options_alloc ();
  options->ignore_transformations = ignore_transformations ? 1 : 0;
  options->convert_hdr_to_8bit = 1;
  g_autoptr (HeifImage) img = NULL;
  struct heif_error err =
    heif_decode_image (handle, &img, heif_colorspace_RGB, heif_chroma_interleaved_RGB, options);
  heif_decoding_options_free (options);
  if (err.code != heif_error_Ok || img == NULL)
    {
      set_heif_error (error, path, err);
      return NULL;
    }

  int width = heif_image_get_width (img, heif_channel_interleaved);
  int height = heif_image_get_height (img, heif_channel_interleaved);
  int stride = 0;
  const guint8 *pixels = heif_image_get_plane_readonly (img, heif_channel_interleaved, &stride);
  if (pixels == NULL || width <= 0 || height <= 0 || stride < width * 3 ||
      heif_image_get_bits_per_pixel_range (img, heif_channel_interleaved) != 8 ||
      (guint64) width * (guint64) height > max_pixels)
    {
      g_autofree char *name = g_filename_display_basename (path);
      set_corrupt_error (error, name, _ ("unexpected decoded layout"));
      return NULL;
    }
  /* The picture must have the size its header announced (the 'ispe' size with the file's
   * transformations applied): image_load_size(), the pixel limit and the gallery go by the
   * header. (Without transformations libheif's ispe may be either way round: not checked.) */
  if (!ignore_transformations && (width != heif_image_handle_get_width (handle) ||
                                  height != heif_image_handle_get_height (handle)))
    {
      g_autofree char *name = g_filename_display_basename (path);
      set_corrupt_error (error, name, _ ("the picture is not the size its header says"));
      return NULL;
    }

  ImageRgb *image =
    image_orientation_copy_pixels (pixels, (gsize) stride, 3, width, height, 1, error);
  if (image == NULL)
    return NULL;
  image->original_width = heif_image_handle_get_ispe_width (handle);
  image->original_height = heif_image_handle_get_ispe_height (handle);
  if (image->original_width <= 0 || image->original_height <= 0)
    image->original_width = width, image->original_height = height;
  return image;
}

static ImageRgb *
load_with_libheif (const char *path, const char *format, guint64 max_pixels,
                   gboolean ignore_orientation, GError **error)
{
  g_autoptr (HeifImageHandle) handle =
    image_loader_heif_open_primary (path, max_pixels, ignore_orientation, error);
  if (handle == NULL)
    return NULL;
  ImageRgb *image = image_loader_heif_decode (path, handle, max_pixels, ignore_orientation, error);
  if (image != NULL)
    image->format = g_strdup (format);
  return image;
}

/* ------------------------------------------------------------------------------------------ */
/* Public API                                                                                 */

ImageRgb *
image_load (const char *path, const ImageLoadOptions *opts, GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  guint64 max_pixels =
    opts != NULL && opts->max_pixels > 0 ? opts->max_pixels : IMAGE_LOAD_DEFAULT_MAX_PIXELS;
  gboolean ignore_orientation = opts != NULL && opts->ignore_orientation;

  guint8 head[HEAD_SIZE];
  gsize head_length = sizeof head;
  g_autoptr (GInputStream) stream = NULL;
  if (!image_loader_read_head (path, &stream, head, &head_length, error))
    return NULL;

  const char *type = image_loader_sniff (head, head_length);
  if (type == NULL)
    {
      set_unsupported_error (error, path);
      return NULL;
    }

  if (strcmp (type, "heif") == 0 || strcmp (type, "avif") == 0)
    {
      g_input_stream_close (stream, NULL, NULL);
      return load_with_libheif (path, type, max_pixels, ignore_orientation, error);
    }
  return load_with_pixbuf (path, type, stream, head, head_length, max_pixels, ignore_orientation,
                           error);
}

gboolean
image_load_size (const char *path, int *width, int *height, GError **error)
{
  g_return_val_if_fail (path != NULL, FALSE);

  guint8 head[HEAD_SIZE];
  gsize head_length = sizeof head;
  g_autoptr (GInputStream) stream = NULL;
  if (!image_loader_read_head (path, &stream, head, &head_length, error))
    return FALSE;
  const char *type = image_loader_sniff (head, head_length);
  if (type == NULL)
    {
      set_unsupported_error (error, path);
      return FALSE;
    }

  int w = 0, h = 0;
  if (strcmp (type, "heif") == 0 || strcmp (type, "avif") == 0)
    {
      g_autoptr (HeifImageHandle) handle =
        image_loader_heif_open_primary (path, G_MAXUINT64, FALSE, error);
      if (handle == NULL)
        return FALSE;
      w = heif_image_handle_get_width (handle);
      h = heif_image_handle_get_height (handle);
    }
  else
    {
      /* The loader that image_load() uses, stopped at the header: a pixel limit of 0 refuses
       * every size as soon as it is known (gdk_pixbuf_get_file_info() does the same, but
       * with whichever loader it guesses, and logs a critical for a zero size). */
      g_autofree char *name = g_filename_display_basename (path);
      GdkPixbuf *none =
        image_loader_decode_pixbuf (stream, head, head_length, type, name, 0, 0, &w, &h, NULL);
      g_clear_object (&none); /* always NULL: refused at the size */
      if (w <= 0 || h <= 0)
        {
          set_corrupt_error (error, name, _ ("no readable size in the header"));
          return FALSE;
        }
      int orientation = image_orientation_read_checked (path);
      if (image_orientation_swaps_axes (orientation))
        {
          int t = w;
          w = h;
          h = t;
        }
    }
  if (width != NULL)
    *width = w;
  if (height != NULL)
    *height = h;
  return TRUE;
}
