/* ckpt-test-util.h: writers of crafted weight files for the checkpoint tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Header-only (static functions), shared by test-checkpoint.c and test-checkpoint-fuzz.c. The
 * writers are independent of the code under test: they build safetensors files, stored zip
 * archives and pickles byte by byte from the formats' definitions.
 */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static inline char *
ckpt_data_path (const char *first, ...)
{
  const char *root = g_getenv ("DEPICT_TEST_DATA");
  va_list args;
  GString *path;

  if (root == NULL)
    root = TEST_DATA_DIR;
  path = g_string_new (root);
  va_start (args, first);
  for (const char *part = first; part != NULL; part = va_arg (args, const char *))
    {
      g_string_append_c (path, G_DIR_SEPARATOR);
      g_string_append (path, part);
    }
  va_end (args);
  return g_string_free (path, FALSE);
}

static inline GBytes *
ckpt_read_file (const char *path)
{
  char *contents = NULL;
  gsize len = 0;
  GError *error = NULL;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

/* Plain writes: g_file_set_contents would fsync every crafted file. */
static inline void
ckpt_write_file (const char *path, const void *data, gsize len)
{
  FILE *f = g_fopen (path, "wb");

  g_assert_nonnull (f);
  g_assert_cmpuint (fwrite (data, 1, len, f), ==, len);
  g_assert_cmpint (fclose (f), ==, 0);
}

static inline void
ckpt_copy_file (const char *from, const char *to)
{
  g_autoptr (GBytes) bytes = ckpt_read_file (from);
  gsize len = 0;
  const void *data = g_bytes_get_data (bytes, &len);

  ckpt_write_file (to, data, len);
}

/* Removes a flat temporary folder and the files in it. */
static inline void
ckpt_remove_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

/* ---- safetensors ------------------------------------------------------------------------ */

typedef struct {
  char *name;
  char *dtype; /* "F16", ... */
  guint n_dims;
  gint64 shape[8];
  const guint8 *data; /* not owned */
  gsize n_bytes;
} CkptEntry;

static inline void
ckpt_entry_free (CkptEntry *e)
{
  g_free (e->name);
  g_free (e->dtype);
  g_free (e);
}

static inline CkptEntry *
ckpt_entry_new (const char *name, const char *dtype, guint n_dims, const gint64 *shape,
                const void *data, gsize n_bytes)
{
  CkptEntry *e = g_new0 (CkptEntry, 1);

  e->name = g_strdup (name);
  e->dtype = g_strdup (dtype);
  e->n_dims = n_dims;
  memcpy (e->shape, shape, n_dims * sizeof (gint64));
  e->data = data;
  e->n_bytes = n_bytes;
  return e;
}

/* Parses a safetensors file with json-glib (no Depict code): entries point into file. */
static inline GPtrArray *
ckpt_parse_safetensors (GBytes *file)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (file, &size);
  guint64 n = 0;
  JsonParser *parser = json_parser_new ();
  GError *error = NULL;
  JsonObject *root;
  GList *members;
  GPtrArray *entries = g_ptr_array_new_with_free_func ((GDestroyNotify) ckpt_entry_free);

  for (int i = 7; i >= 0; i--)
    n = (n << 8) | data[i];
  g_assert_cmpuint (8 + n, <=, size);
  json_parser_load_from_data (parser, (const char *) data + 8, (gssize) n, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  members = json_object_get_members (root);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *o;
      JsonArray *shape, *offs;
      gint64 dims[8];
      guint64 begin;

      if (g_str_equal (l->data, "__metadata__"))
        continue;
      o = json_object_get_object_member (root, l->data);
      shape = json_object_get_array_member (o, "shape");
      offs = json_object_get_array_member (o, "data_offsets");
      for (guint d = 0; d < json_array_get_length (shape); d++)
        dims[d] = json_array_get_int_element (shape, d);
      begin = (guint64) json_array_get_int_element (offs, 0);
      g_ptr_array_add (
        entries, ckpt_entry_new (l->data, json_object_get_string_member (o, "dtype"),
                                 json_array_get_length (shape), dims, data + 8 + n + begin,
                                 (gsize) (json_array_get_int_element (offs, 1) - (gint64) begin)));
    }
  g_list_free (members);
  g_object_unref (parser);
  return entries;
}

static inline CkptEntry *
ckpt_find (GPtrArray *entries, const char *name)
{
  for (guint i = 0; i < entries->len; i++)
    {
      CkptEntry *e = g_ptr_array_index (entries, i);

      if (g_str_equal (e->name, name))
        return e;
    }
  return NULL;
}

static inline void
ckpt_remove (GPtrArray *entries, const char *name)
{
  CkptEntry *e = ckpt_find (entries, name);

  g_assert_nonnull (e);
  g_ptr_array_remove (entries, e);
}

/* The bytes of a safetensors file holding entries, packed in order, header padded to 8. */
static inline GBytes *
ckpt_build_safetensors (GPtrArray *entries)
{
  GString *header = g_string_new ("{\"__metadata__\":{\"format\":\"pt\"}");
  GByteArray *out = g_byte_array_new ();
  guint64 offset = 0, n;
  guint8 len[8];

  for (guint i = 0; i < entries->len; i++)
    {
      CkptEntry *e = g_ptr_array_index (entries, i);

      g_string_append_printf (header, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", e->name, e->dtype);
      for (guint d = 0; d < e->n_dims; d++)
        g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d ? "," : "", e->shape[d]);
      g_string_append_printf (header,
                              "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              offset, offset + e->n_bytes);
      offset += e->n_bytes;
    }
  g_string_append_c (header, '}');
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');
  n = header->len;
  for (int i = 0; i < 8; i++)
    len[i] = (guint8) (n >> (8 * i));
  g_byte_array_append (out, len, 8);
  g_byte_array_append (out, (const guint8 *) header->str, header->len);
  for (guint i = 0; i < entries->len; i++)
    {
      CkptEntry *e = g_ptr_array_index (entries, i);

      g_byte_array_append (out, e->data, e->n_bytes);
    }
  g_string_free (header, TRUE);
  return g_byte_array_free_to_bytes (out);
}

/* A file from a literal header and data area. */
static inline GBytes *
ckpt_raw_safetensors (const char *header, const void *data, gsize n)
{
  GByteArray *out = g_byte_array_new ();
  guint64 h = strlen (header);
  guint8 len[8];

  for (int i = 0; i < 8; i++)
    len[i] = (guint8) (h >> (8 * i));
  g_byte_array_append (out, len, 8);
  g_byte_array_append (out, (const guint8 *) header, h);
  g_byte_array_append (out, data, n);
  return g_byte_array_free_to_bytes (out);
}

/* ---- stored zip archives ------------------------------------------------------------------ */

static inline void
ckpt_put16 (GByteArray *a, guint v)
{
  guint8 b[2] = { (guint8) v, (guint8) (v >> 8) };

  g_byte_array_append (a, b, 2);
}

static inline void
ckpt_put32 (GByteArray *a, guint32 v)
{
  ckpt_put16 (a, v & 0xffff);
  ckpt_put16 (a, v >> 16);
}

static inline void
ckpt_put64 (GByteArray *a, guint64 v)
{
  ckpt_put32 (a, (guint32) v);
  ckpt_put32 (a, (guint32) (v >> 32));
}

typedef struct {
  const char *name;
  GBytes *data;
  guint method; /* 0 = stored; anything else is written as is, data unchanged */
} CkptZipEntry;

/* A zip archive as torch.save writes it: local header, data, central directory, end record.
 * With zip64, sizes and offsets go to ZIP64 extra fields and a ZIP64 end record. */
static inline GBytes *
ckpt_build_zip (const CkptZipEntry *entries, guint n, gboolean zip64)
{
  GByteArray *out = g_byte_array_new ();
  g_autofree guint64 *offsets = g_new0 (guint64, n);
  guint64 cd_start, cd_end;

  for (guint i = 0; i < n; i++)
    {
      gsize len;
      const guint8 *d = g_bytes_get_data (entries[i].data, &len);

      offsets[i] = out->len;
      ckpt_put32 (out, 0x04034b50);
      ckpt_put16 (out, 20);
      ckpt_put16 (out, 0);
      ckpt_put16 (out, entries[i].method);
      ckpt_put32 (out, 0);
      ckpt_put32 (out, 0); /* crc: not checked by the reader under test */
      ckpt_put32 (out, (guint32) len);
      ckpt_put32 (out, (guint32) len);
      ckpt_put16 (out, strlen (entries[i].name));
      ckpt_put16 (out, 0);
      g_byte_array_append (out, (const guint8 *) entries[i].name, strlen (entries[i].name));
      g_byte_array_append (out, d, len);
    }
  cd_start = out->len;
  for (guint i = 0; i < n; i++)
    {
      gsize len = g_bytes_get_size (entries[i].data);

      ckpt_put32 (out, 0x02014b50);
      ckpt_put16 (out, 45);
      ckpt_put16 (out, 45);
      ckpt_put16 (out, 0);
      ckpt_put16 (out, entries[i].method);
      ckpt_put32 (out, 0);
      ckpt_put32 (out, 0);
      ckpt_put32 (out, zip64 ? 0xffffffffu : (guint32) len);
      ckpt_put32 (out, zip64 ? 0xffffffffu : (guint32) len);
      ckpt_put16 (out, strlen (entries[i].name));
      ckpt_put16 (out, zip64 ? 28 : 0);
      ckpt_put16 (out, 0);
      ckpt_put16 (out, 0);
      ckpt_put16 (out, 0);
      ckpt_put32 (out, 0);
      ckpt_put32 (out, zip64 ? 0xffffffffu : (guint32) offsets[i]);
      g_byte_array_append (out, (const guint8 *) entries[i].name, strlen (entries[i].name));
      if (zip64)
        {
          ckpt_put16 (out, 0x0001);
          ckpt_put16 (out, 24);
          ckpt_put64 (out, len);
          ckpt_put64 (out, len);
          ckpt_put64 (out, offsets[i]);
        }
    }
  cd_end = out->len;
  if (zip64)
    {
      guint64 rec = out->len;

      ckpt_put32 (out, 0x06064b50);
      ckpt_put64 (out, 44);
      ckpt_put16 (out, 45);
      ckpt_put16 (out, 45);
      ckpt_put32 (out, 0);
      ckpt_put32 (out, 0);
      ckpt_put64 (out, n);
      ckpt_put64 (out, n);
      ckpt_put64 (out, cd_end - cd_start);
      ckpt_put64 (out, cd_start);
      ckpt_put32 (out, 0x07064b50);
      ckpt_put32 (out, 0);
      ckpt_put64 (out, rec);
      ckpt_put32 (out, 1);
    }
  ckpt_put32 (out, 0x06054b50);
  ckpt_put16 (out, 0);
  ckpt_put16 (out, 0);
  ckpt_put16 (out, zip64 ? 0xffff : n);
  ckpt_put16 (out, zip64 ? 0xffff : n);
  ckpt_put32 (out, zip64 ? 0xffffffffu : (guint32) (cd_end - cd_start));
  ckpt_put32 (out, zip64 ? 0xffffffffu : (guint32) cd_start);
  ckpt_put16 (out, 0);
  return g_byte_array_free_to_bytes (out);
}

/* ---- pickles ------------------------------------------------------------------------------ */

static inline void
pk_op (GByteArray *p, guint8 op)
{
  g_byte_array_append (p, &op, 1);
}

static inline void
pk_str (GByteArray *p, const char *s)
{
  pk_op (p, 'X');
  ckpt_put32 (p, strlen (s));
  g_byte_array_append (p, (const guint8 *) s, strlen (s));
}

static inline void
pk_global (GByteArray *p, const char *module, const char *name)
{
  pk_op (p, 'c');
  g_byte_array_append (p, (const guint8 *) module, strlen (module));
  pk_op (p, '\n');
  g_byte_array_append (p, (const guint8 *) name, strlen (name));
  pk_op (p, '\n');
}

static inline void
pk_int (GByteArray *p, gint64 v)
{
  if (v >= 0 && v < 256)
    {
      pk_op (p, 'K');
      pk_op (p, (guint8) v);
    }
  else if (v >= 0 && v < 65536)
    {
      pk_op (p, 'M');
      ckpt_put16 (p, (guint) v);
    }
  else if (v >= G_MININT32 && v <= G_MAXINT32)
    {
      pk_op (p, 'J');
      ckpt_put32 (p, (guint32) v);
    }
  else
    {
      pk_op (p, 0x8a);
      pk_op (p, 8);
      ckpt_put64 (p, (guint64) v);
    }
}

static inline void
pk_ints (GByteArray *p, guint n, const gint64 *v)
{
  pk_op (p, '(');
  for (guint i = 0; i < n; i++)
    pk_int (p, v[i]);
  pk_op (p, 't');
}

/* One state-dict item: name → _rebuild_tensor_v2 (storage, offset, shape, stride, False,
 * OrderedDict ()). Contiguous strides unless stride is given. */
static inline void
pk_tensor (GByteArray *p, const char *name, const char *storage_class, const char *key,
           gint64 storage_numel, gint64 offset, guint n_dims, const gint64 *shape,
           const gint64 *stride)
{
  gint64 st[8];

  if (stride == NULL)
    {
      gint64 acc = 1;

      for (guint d = n_dims; d-- > 0;)
        {
          st[d] = acc;
          acc *= shape[d];
        }
      stride = st;
    }
  pk_str (p, name);
  pk_global (p, "torch._utils", "_rebuild_tensor_v2");
  pk_op (p, '(');
  pk_op (p, '(');
  pk_str (p, "storage");
  pk_global (p, "torch", storage_class);
  pk_str (p, key);
  pk_str (p, "cpu");
  pk_int (p, storage_numel);
  pk_op (p, 't');
  pk_op (p, 'Q');
  pk_int (p, offset);
  pk_ints (p, n_dims, shape);
  pk_ints (p, n_dims, stride);
  pk_op (p, 0x89);
  pk_global (p, "collections", "OrderedDict");
  pk_op (p, ')');
  pk_op (p, 'R');
  pk_op (p, 't');
  pk_op (p, 'R');
}

/* PROTO 2, OrderedDict (), MARK — then items, then pk_dict_end. */
static inline GByteArray *
pk_dict_begin (void)
{
  GByteArray *p = g_byte_array_new ();

  pk_op (p, 0x80);
  pk_op (p, 2);
  pk_global (p, "collections", "OrderedDict");
  pk_op (p, ')');
  pk_op (p, 'R');
  pk_op (p, '(');
  return p;
}

static inline GBytes *
pk_dict_end (GByteArray *p)
{
  pk_op (p, 'u');
  pk_op (p, '.');
  return g_byte_array_free_to_bytes (p);
}
