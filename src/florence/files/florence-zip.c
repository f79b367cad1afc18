/* florence-zip.c: a small strict reader of stored (uncompressed) zip archives
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include "florence/files/florence-zip.h"
#include "florence/files/florence-checkpoint-private.h"

#include <glib/gi18n.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_EOCD 0x06054b50u
#define SIG_EOCD64 0x06064b50u
#define SIG_EOCD64_LOC 0x07064b50u

#define EOCD_SIZE 22
#define EOCD64_SIZE 56
#define EOCD64_LOC_SIZE 20
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30

static guint16
rd16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static guint32
rd32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

static guint64
rd64 (const guint8 *p)
{
  return (guint64) rd32 (p) | ((guint64) rd32 (p + 4) << 32);
}

static void
entry_free (FlorenceZipEntry *e)
{
  g_free (e->name);
  g_free (e);
}

/* Finds the end-of-central-directory record: the last signature whose comment length ends
 * exactly at the end of the buffer. */
static gboolean
find_eocd (const guint8 *data, gsize size, gsize *eocd)
{
  gsize lowest;

  if (size < EOCD_SIZE)
    return FALSE;
  lowest = size > EOCD_SIZE + 65535 ? size - EOCD_SIZE - 65535 : 0;
  for (gsize pos = size - EOCD_SIZE + 1; pos-- > lowest;)
    {
      if (rd32 (data + pos) == SIG_EOCD && pos + EOCD_SIZE + rd16 (data + pos + 20) == size)
        {
          *eocd = pos;
          return TRUE;
        }
    }
  return FALSE;
}

/* ZIP64 extended information extra field (id 1): the 64-bit values of the fields that hold
 * 0xFFFFFFFF (0xFFFF for the disk), in this order. */
static gboolean
read_zip64_extra (const guint8 *extra, gsize extra_len, guint64 *usize, guint64 *csize,
                  guint64 *offset, gboolean need_u, gboolean need_c, gboolean need_o)
{
  gsize pos = 0;

  while (pos + 4 <= extra_len)
    {
      guint16 id = rd16 (extra + pos), len = rd16 (extra + pos + 2);
      const guint8 *f = extra + pos + 4;
      gsize fpos = 0;

      if (pos + 4 + len > extra_len)
        return FALSE;
      if (id == 0x0001)
        {
          if (need_u)
            {
              if (fpos + 8 > len)
                return FALSE;
              *usize = rd64 (f + fpos);
              fpos += 8;
            }
          if (need_c)
            {
              if (fpos + 8 > len)
                return FALSE;
              *csize = rd64 (f + fpos);
              fpos += 8;
            }
          if (need_o)
            {
              if (fpos + 8 > len)
                return FALSE;
              *offset = rd64 (f + fpos);
            }
          return TRUE;
        }
      pos += 4 + len;
    }
  return !need_u && !need_c && !need_o;
}

GPtrArray *
florence_zip_list (const guint8 *data, gsize size, const char *path, GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GHashTable) names = NULL;
  gsize eocd;
  guint64 n_entries, cd_size, cd_offset, cd_end, pos;

  g_return_val_if_fail (data != NULL || size == 0, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!find_eocd (data, size, &eocd))
    {
      florence_checkpoint_set_corrupt (
        error, path,
        _ ("it is not a zip archive (no end-of-directory record), or it is truncated"));
      return NULL;
    }
  if (rd16 (data + eocd + 4) != 0 || rd16 (data + eocd + 6) != 0 ||
      rd16 (data + eocd + 8) != rd16 (data + eocd + 10))
    {
      florence_checkpoint_set_corrupt (error, path,
                                       _ ("it is a zip archive split over several disks"));
      return NULL;
    }
  n_entries = rd16 (data + eocd + 10);
  cd_size = rd32 (data + eocd + 12);
  cd_offset = rd32 (data + eocd + 16);
  cd_end = eocd;

  /* ZIP64: a locator right before the record points at the 64-bit record. */
  if (eocd >= EOCD64_LOC_SIZE && rd32 (data + eocd - EOCD64_LOC_SIZE) == SIG_EOCD64_LOC)
    {
      const guint8 *loc = data + eocd - EOCD64_LOC_SIZE;
      guint64 off64 = rd64 (loc + 8);
      const guint8 *r;

      if (rd32 (loc + 4) != 0 || rd32 (loc + 16) > 1 || off64 > eocd - EOCD64_LOC_SIZE ||
          eocd - EOCD64_LOC_SIZE - off64 < EOCD64_SIZE)
        {
          florence_checkpoint_set_corrupt (error, path,
                                           _ ("its ZIP64 end-of-directory locator is invalid"));
          return NULL;
        }
      r = data + off64;
      if (rd32 (r) != SIG_EOCD64 || rd32 (r + 16) != 0 || rd32 (r + 20) != 0 ||
          rd64 (r + 24) != rd64 (r + 32))
        {
          florence_checkpoint_set_corrupt (error, path,
                                           _ ("its ZIP64 end-of-directory record is invalid"));
          return NULL;
        }
      n_entries = rd64 (r + 32);
      cd_size = rd64 (r + 40);
      cd_offset = rd64 (r + 48);
      cd_end = off64;
    }
  else if (n_entries == 0xFFFF || cd_size == 0xFFFFFFFFu || cd_offset == 0xFFFFFFFFu)
    {
      florence_checkpoint_set_corrupt (error, path,
                                       _ ("its ZIP64 end-of-directory record is missing"));
      return NULL;
    }

  if (cd_offset > cd_end || cd_size > cd_end - cd_offset || n_entries > cd_size / CENTRAL_SIZE)
    {
      florence_checkpoint_set_corrupt (
        error, path, _ ("its central directory lies outside the file (truncated or damaged)"));
      return NULL;
    }

  entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  names = g_hash_table_new (g_str_hash, g_str_equal);
  pos = cd_offset;
  for (guint64 i = 0; i < n_entries; i++)
    {
      const guint8 *c = data + pos;
      guint16 flags, method, name_len, extra_len, comment_len;
      guint64 csize, usize, local, data_off;
      const guint8 *l;
      FlorenceZipEntry *e;

      if (cd_offset + cd_size - pos < CENTRAL_SIZE || rd32 (c) != SIG_CENTRAL)
        {
          florence_checkpoint_set_corrupt (
            error, path, _ ("entry %" PRIu64 " of its central directory is damaged"), i);
          return NULL;
        }
      flags = rd16 (c + 8);
      method = rd16 (c + 10);
      csize = rd32 (c + 20);
      usize = rd32 (c + 24);
      name_len = rd16 (c + 28);
      extra_len = rd16 (c + 30);
      comment_len = rd16 (c + 32);
      local = rd32 (c + 42);
      if (cd_offset + cd_size - pos - CENTRAL_SIZE < (guint64) name_len + extra_len + comment_len ||
          name_len == 0 || memchr (c + CENTRAL_SIZE, 0, name_len) != NULL)
        {
          florence_checkpoint_set_corrupt (
            error, path, _ ("entry %" PRIu64 " of its central directory is damaged"), i);
          return NULL;
        }
      if (!read_zip64_extra (c + CENTRAL_SIZE + name_len, extra_len, &usize, &csize, &local,
                             usize == 0xFFFFFFFFu, csize == 0xFFFFFFFFu, local == 0xFFFFFFFFu))
        {
          florence_checkpoint_set_corrupt (error, path,
                                           _ ("entry %" PRIu64 " has a damaged ZIP64 field"), i);
          return NULL;
        }
      e = g_new0 (FlorenceZipEntry, 1);
      e->name = g_strndup ((const char *) c + CENTRAL_SIZE, name_len);
      g_ptr_array_add (entries, e);
      if ((flags & 0x0001) != 0 || method != 0 || csize != usize)
        {
          g_set_error (
            error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED,
            _ ("The weights file “%s” holds the entry “%s” compressed or encrypted; only "
               "the stored entries that torch.save writes are supported. Save the "
               "checkpoint again with torch.save, or convert it to safetensors."),
            path, e->name);
          return NULL;
        }
      /* The local header: its name must agree; its sizes may be 0 (data descriptor). */
      if (local > cd_offset || cd_offset - local < LOCAL_SIZE || rd32 (data + local) != SIG_LOCAL)
        {
          florence_checkpoint_set_corrupt (error, path, _ ("the local header of “%s” is damaged"),
                                           e->name);
          return NULL;
        }
      l = data + local;
      data_off = local + LOCAL_SIZE + (guint64) rd16 (l + 26) + rd16 (l + 28);
      if (rd16 (l + 26) != name_len || data_off > cd_offset ||
          memcmp (l + LOCAL_SIZE, c + CENTRAL_SIZE, name_len) != 0 || rd16 (l + 8) != 0)
        {
          florence_checkpoint_set_corrupt (error, path, _ ("the local header of “%s” is damaged"),
                                           e->name);
          return NULL;
        }
      if (usize > cd_offset - data_off)
        {
          florence_checkpoint_set_corrupt (
            error, path, _ ("the entry “%s” goes beyond its end (truncated or damaged)"), e->name);
          return NULL;
        }
      if (!g_hash_table_add (names, e->name))
        {
          florence_checkpoint_set_corrupt (error, path, _ ("the entry “%s” appears twice"),
                                           e->name);
          return NULL;
        }
      e->offset = data_off;
      e->size = usize;
      pos += CENTRAL_SIZE + (guint64) name_len + extra_len + comment_len;
    }
  return g_steal_pointer (&entries);
}
