/* florence-safetensors.c: a strict reader of the safetensors layout
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include "florence/files/florence-safetensors.h"
#include "florence/files/florence-json.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  const char *name;
  guint size;
  gboolean known;
  FlorenceDType dtype;
} dtypes[] = {
  { "F16", 2, TRUE, FLORENCE_DTYPE_F16 },
  { "BF16", 2, TRUE, FLORENCE_DTYPE_BF16 },
  { "F32", 4, TRUE, FLORENCE_DTYPE_F32 },
  { "BOOL", 1, FALSE, 0 },
  { "U8", 1, FALSE, 0 },
  { "I8", 1, FALSE, 0 },
  { "F8_E5M2", 1, FALSE, 0 },
  { "F8_E4M3", 1, FALSE, 0 },
  { "I16", 2, FALSE, 0 },
  { "U16", 2, FALSE, 0 },
  { "I32", 4, FALSE, 0 },
  { "U32", 4, FALSE, 0 },
  { "F64", 8, FALSE, 0 },
  { "I64", 8, FALSE, 0 },
  { "U64", 8, FALSE, 0 },
};

typedef struct {
  guint64 begin, end;
  const char *name;
} Span;

static int
span_compare (const void *a, const void *b)
{
  const Span *x = a, *y = b;

  if (x->begin != y->begin)
    return x->begin < y->begin ? -1 : 1;
  return x->end < y->end ? -1 : x->end > y->end;
}

static gboolean
get_u64 (JsonNode *node, guint64 *out)
{
  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0)
    return FALSE;
  *out = (guint64) v;
  return TRUE;
}

static FlorenceRawTensor *
parse_entry (const char *name, JsonNode *node, const guint8 *base, guint64 data_size,
             const char *path, GError **error)
{
  g_autoptr (FlorenceRawTensor) t = NULL;
  JsonObject *obj;
  JsonNode *dtype_node, *shape_node, *off_node;
  JsonArray *shape, *offs;
  const char *dtype_name;
  guint64 numel = 1, n_bytes, begin, end;
  guint esize = 0;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      florence_checkpoint_set_corrupt (error, path, _ ("the header entry of “%s” is not an object"),
                                       name);
      return NULL;
    }
  obj = json_node_get_object (node);
  dtype_node = json_object_get_member (obj, "dtype");
  shape_node = json_object_get_member (obj, "shape");
  off_node = json_object_get_member (obj, "data_offsets");
  if (dtype_node == NULL || !JSON_NODE_HOLDS_VALUE (dtype_node) ||
      json_node_get_value_type (dtype_node) != G_TYPE_STRING || shape_node == NULL ||
      !JSON_NODE_HOLDS_ARRAY (shape_node) || off_node == NULL || !JSON_NODE_HOLDS_ARRAY (off_node))
    {
      florence_checkpoint_set_corrupt (
        error, path, _ ("the header entry of “%s” lacks its dtype, shape or data_offsets"), name);
      return NULL;
    }

  t = g_new0 (FlorenceRawTensor, 1);
  t->name = g_strdup (name);
  dtype_name = json_node_get_string (dtype_node);
  t->dtype_name = g_strdup (dtype_name);
  for (guint i = 0; i < G_N_ELEMENTS (dtypes); i++)
    if (g_str_equal (dtype_name, dtypes[i].name))
      {
        esize = dtypes[i].size;
        t->dtype_known = dtypes[i].known;
        t->dtype = dtypes[i].dtype;
      }
  if (esize == 0)
    {
      g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED,
                   _ ("The tensor “%s” in “%s” has the unknown dtype “%s”. The file is damaged or "
                      "was written by a newer tool; convert it to F16, BF16 or F32 safetensors."),
                   name, path, dtype_name);
      return NULL;
    }

  shape = json_node_get_array (shape_node);
  if (json_array_get_length (shape) > FLORENCE_RAW_MAX_DIMS)
    {
      florence_checkpoint_set_corrupt (error, path, _ ("the tensor “%s” has %u dimensions"), name,
                                       json_array_get_length (shape));
      return NULL;
    }
  t->n_dims = json_array_get_length (shape);
  for (guint d = 0; d < t->n_dims; d++)
    {
      guint64 n;

      if (!get_u64 (json_array_get_element (shape, d), &n) || n > G_MAXINT64 ||
          !g_uint64_checked_mul (&numel, numel, n))
        {
          florence_checkpoint_set_corrupt (error, path,
                                           _ ("the shape of “%s” is not a list of sizes"), name);
          return NULL;
        }
      t->shape[d] = (gint64) n;
    }

  offs = json_node_get_array (off_node);
  if (json_array_get_length (offs) != 2 || !get_u64 (json_array_get_element (offs, 0), &begin) ||
      !get_u64 (json_array_get_element (offs, 1), &end) || begin > end)
    {
      florence_checkpoint_set_corrupt (
        error, path, _ ("the data_offsets of “%s” are not two increasing offsets"), name);
      return NULL;
    }
  if (end > data_size)
    {
      florence_checkpoint_set_corrupt (error, path,
                                       _ ("the data of “%s” (bytes %" PRIu64 "–%" PRIu64
                                          ") goes beyond the end of the file (%" PRIu64
                                          " bytes of data): it is truncated"),
                                       name, begin, end, data_size);
      return NULL;
    }
  if (!g_uint64_checked_mul (&n_bytes, numel, esize) || n_bytes != end - begin)
    {
      florence_checkpoint_set_corrupt (
        error, path,
        _ ("the tensor “%s” of %" PRIu64 " %s elements needs %" PRIu64
           " bytes, but its data_offsets span %" PRIu64),
        name, numel, dtype_name, numel * (guint64) esize, end - begin);
      return NULL;
    }
  if (numel > G_MAXSIZE)
    {
      florence_checkpoint_set_corrupt (error, path, _ ("the tensor “%s” is too large"), name);
      return NULL;
    }
  t->n_elements = (gsize) numel;
  t->n_bytes = (gsize) n_bytes;
  t->data = base + begin;
  return g_steal_pointer (&t);
}

gboolean
florence_safetensors_parse (const guint8 *data, gsize size, const char *path, GPtrArray *tensors,
                            GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GList) members = NULL;
  g_autofree Span *spans = NULL;
  guint n_spans = 0, first;
  guint64 header_len, data_size;
  JsonNode *root;
  JsonObject *obj;

  g_return_val_if_fail (data != NULL || size == 0, FALSE);
  g_return_val_if_fail (path != NULL && tensors != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  first = tensors->len;
  if (size < 8)
    {
      florence_checkpoint_set_corrupt (
        error, path, _ ("it is shorter than the 8-byte header length (empty or truncated)"));
      return FALSE;
    }
  header_len = 0;
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | data[i];
  if (header_len < 2 || header_len > FLORENCE_SAFETENSORS_MAX_HEADER || header_len > size - 8)
    {
      florence_checkpoint_set_corrupt (
        error, path,
        _ ("its header length %" PRIu64
           " does not fit the file of %zu bytes (not a safetensors file, or truncated)"),
        header_len, size);
      return FALSE;
    }
  if (data[8] != '{')
    {
      florence_checkpoint_set_corrupt (error, path,
                                       _ ("its header does not start with a JSON object"));
      return FALSE;
    }
  data_size = size - 8 - header_len;
  parser = json_parser_new_immutable ();
  if (!florence_json_load (parser, (const char *) data + 8, (gssize) header_len, &local_error))
    {
      florence_checkpoint_set_corrupt (error, path, _ ("its header is not valid JSON (%s)"),
                                       local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      florence_checkpoint_set_corrupt (error, path, _ ("its header is not a JSON object"));
      return FALSE;
    }
  obj = json_node_get_object (root);
  members = json_object_get_members (obj);
  spans = g_new0 (Span, json_object_get_size (obj) + 1);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (obj, name);
      FlorenceRawTensor *t;

      if (g_str_equal (name, "__metadata__"))
        {
          if (!JSON_NODE_HOLDS_OBJECT (node))
            {
              florence_checkpoint_set_corrupt (error, path,
                                               _ ("its __metadata__ is not an object"));
              goto fail;
            }
          continue;
        }
      if (*name == '\0')
        {
          florence_checkpoint_set_corrupt (error, path,
                                           _ ("its header names a tensor with an empty name"));
          goto fail;
        }
      t = parse_entry (name, node, data + 8 + header_len, data_size, path, error);
      if (t == NULL)
        goto fail;
      g_ptr_array_add (tensors, t);
      if (t->n_bytes > 0)
        {
          spans[n_spans].begin = (guint64) (t->data - (data + 8 + header_len));
          spans[n_spans].end = spans[n_spans].begin + t->n_bytes;
          spans[n_spans].name = t->name;
          n_spans++;
        }
    }

  /* No two tensors may share bytes. */
  qsort (spans, n_spans, sizeof (Span), span_compare);
  for (guint i = 1; i < n_spans; i++)
    if (spans[i].begin < spans[i - 1].end)
      {
        florence_checkpoint_set_corrupt (error, path,
                                         _ ("the data of “%s” overlaps the data of “%s”"),
                                         spans[i].name, spans[i - 1].name);
        goto fail;
      }
  return TRUE;

fail:
  g_ptr_array_remove_range (tensors, first, tensors->len - first);
  return FALSE;
}
