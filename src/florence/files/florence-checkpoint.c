/* florence-checkpoint.c: the weights of a Florence-2 model directory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file of this length: the layouts of a model folder (one file, shards, .bin, native names)
 * are checked against one table of names and shapes.
 */
#include "config.h"

#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-checkpoint-private.h"
#include "florence/files/florence-file.h"
#include "florence/files/florence-json.h"
#include "florence/files/florence-pickle.h"
#include "florence/files/florence-safetensors.h"
#include "gpu/gpu-half.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

G_DEFINE_QUARK (florence - checkpoint - error - quark, florence_checkpoint_error)

#define SHARED_NAME "language_model.model.shared.weight"
#define BIAS_NAME "language_model.final_logits_bias"
#define PROJ_NAME "image_projection"
/* A shard index lists a few thousand names: some hundred kilobytes. */
#define MAX_INDEX_FILE_SIZE ((gsize) 16 * 1024 * 1024)

struct _FlorenceCheckpoint {
  char *path; /* the weights file, or the shard index */
  FlorenceCheckpointFormat format;
  gboolean native;
  gsize vocab_rows;
  GPtrArray *files;    /* char * paths, owned (raw->file points here) */
  GPtrArray *mapped;   /* FlorenceFileMap */
  GPtrArray *raw;      /* FlorenceRawTensor, every tensor of every file */
  GPtrArray *specs;    /* FlorenceTensorSpec: names served point here */
  GPtrArray *served;   /* FlorenceTensor (owned), expected order, fallbacks excluded */
  GHashTable *by_name; /* original name → FlorenceTensor (fallback aliases included) */
  GPtrArray *buffers;  /* g_free: aligned or transposed copies, zeros */
  guint64 n_bytes;
  GHashTable *seen_data; /* data pointers counted in n_bytes */
  GMutex hash_lock;
  char *sha256;
};

/* ------------------------------------------------------------------------------------------ */
/* Small shared helpers */

void
florence_raw_tensor_free (FlorenceRawTensor *t)
{
  if (t == NULL)
    return;
  g_free (t->name);
  g_free (t->dtype_name);
  g_free (t);
}

void
florence_checkpoint_set_corrupt (GError **error, const char *path, const char *format, ...)
{
  va_list args;
  g_autofree char *detail = NULL;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_CORRUPT,
               _ ("The weights file “%s” is damaged: %s. Download the model again."), path, detail);
}

gsize
florence_dtype_size (FlorenceDType dtype)
{
  return dtype == FLORENCE_DTYPE_F32 ? 4 : 2;
}

const char *
florence_dtype_to_string (FlorenceDType dtype)
{
  switch (dtype)
    {
    case FLORENCE_DTYPE_F32:
      return "F32";
    case FLORENCE_DTYPE_F16:
      return "F16";
    case FLORENCE_DTYPE_BF16:
      return "BF16";
    default:
      return "?";
    }
}

float
florence_f16_to_f32 (guint16 h)
{
  return gpu_half_to_float (h);
}

guint16
florence_f32_to_f16 (float f)
{
  return gpu_half_from_float (f);
}

void
florence_tensor_to_f32 (const FlorenceTensor *t, float *dst)
{
  g_return_if_fail (t != NULL && dst != NULL);

  switch (t->dtype)
    {
    case FLORENCE_DTYPE_F32:
      memcpy (dst, t->data, t->n_elements * 4);
      break;
    case FLORENCE_DTYPE_F16:
      {
        const guint8 *p = t->data;

        for (gsize i = 0; i < t->n_elements; i++)
          dst[i] = florence_f16_to_f32 ((guint16) (p[2 * i] | (p[2 * i + 1] << 8)));
        break;
      }
    case FLORENCE_DTYPE_BF16:
      {
        const guint8 *p = t->data;

        for (gsize i = 0; i < t->n_elements; i++)
          {
            guint32 bits = ((guint32) p[2 * i] << 16) | ((guint32) p[2 * i + 1] << 24);

            memcpy (&dst[i], &bits, 4);
          }
        break;
      }
    default:
      g_return_if_reached ();
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The table of expected tensors (spec §6.2) */

static void
spec_free (FlorenceTensorSpec *s)
{
  g_free (s->name);
  g_free (s);
}

static void spec (GPtrArray *specs, guint n_dims, gint64 d0, gint64 d1, gint64 d2, gint64 d3,
                  const char *format, ...) G_GNUC_PRINTF (7, 8);

static void
spec (GPtrArray *specs, guint n_dims, gint64 d0, gint64 d1, gint64 d2, gint64 d3,
      const char *format, ...)
{
  FlorenceTensorSpec *s = g_new0 (FlorenceTensorSpec, 1);
  va_list args;

  va_start (args, format);
  s->name = g_strdup_vprintf (format, args);
  va_end (args);
  s->n_dims = n_dims;
  s->shape[0] = d0;
  s->shape[1] = d1;
  s->shape[2] = d2;
  s->shape[3] = d3;
  g_ptr_array_add (specs, s);
}

static void
linear (GPtrArray *specs, gint64 out, gint64 in, const char *prefix)
{
  spec (specs, 2, out, in, 0, 0, "%s.weight", prefix);
  spec (specs, 1, out, 0, 0, 0, "%s.bias", prefix);
}

static void
norm (GPtrArray *specs, gint64 dim, const char *prefix)
{
  spec (specs, 1, dim, 0, 0, 0, "%s.weight", prefix);
  spec (specs, 1, dim, 0, 0, 0, "%s.bias", prefix);
}

static void
bart_stack (GPtrArray *specs, const FlorenceConfig *c, gboolean decoder, gsize vocab_rows)
{
  const char *side = decoder ? "decoder" : "encoder";
  int layers = decoder ? c->decoder_layers : c->encoder_layers;
  int ffn = decoder ? c->decoder_ffn_dim : c->encoder_ffn_dim;
  gint64 d = c->d_model;
  const char *attns[2] = { "self_attn", "encoder_attn" };

  spec (specs, 2, (gint64) vocab_rows, d, 0, 0, "language_model.model.%s.embed_tokens.weight",
        side);
  ((FlorenceTensorSpec *) g_ptr_array_index (specs, specs->len - 1))->is_tied = TRUE;
  spec (specs, 2, c->max_position_embeddings + 2, d, 0, 0,
        "language_model.model.%s.embed_positions.weight", side);
  for (int l = 0; l < layers; l++)
    {
      for (int a = 0; a < (decoder ? 2 : 1); a++)
        {
          const char *projs[4] = { "k_proj", "v_proj", "q_proj", "out_proj" };

          for (int p = 0; p < 4; p++)
            {
              g_autofree char *prefix = g_strdup_printf ("language_model.model.%s.layers.%d.%s.%s",
                                                         side, l, attns[a], projs[p]);

              linear (specs, d, d, prefix);
            }
          {
            g_autofree char *prefix = g_strdup_printf (
              "language_model.model.%s.layers.%d.%s_layer_norm", side, l, attns[a]);

            norm (specs, d, prefix);
          }
        }
      {
        g_autofree char *fc1 = g_strdup_printf ("language_model.model.%s.layers.%d.fc1", side, l);
        g_autofree char *fc2 = g_strdup_printf ("language_model.model.%s.layers.%d.fc2", side, l);
        g_autofree char *ln =
          g_strdup_printf ("language_model.model.%s.layers.%d.final_layer_norm", side, l);

        linear (specs, ffn, d, fc1);
        linear (specs, d, ffn, fc2);
        norm (specs, d, ln);
      }
    }
  {
    g_autofree char *prefix = g_strdup_printf ("language_model.model.%s.layernorm_embedding", side);

    norm (specs, d, prefix);
  }
}

GPtrArray *
florence_checkpoint_expected_tensors (const FlorenceConfig *c, gsize vocab_rows)
{
  GPtrArray *specs;
  gint64 D, d;

  g_return_val_if_fail (c != NULL, NULL);

  specs = g_ptr_array_new_with_free_func ((GDestroyNotify) spec_free);
  D = c->dim_embed[3];
  d = c->d_model;

  /* DaViT */
  for (int s = 0; s < 4; s++)
    {
      gint64 C = c->dim_embed[s], Cin = s == 0 ? 3 : c->dim_embed[s - 1];
      gint64 k = c->patch_size[s];

      spec (specs, 4, C, Cin, k, k, "vision_tower.convs.%d.proj.weight", s);
      spec (specs, 1, C, 0, 0, 0, "vision_tower.convs.%d.proj.bias", s);
      /* ConvEmbed: LayerNorm(in_chans) when pre_norm, else LayerNorm(embed_dim). */
      spec (specs, 1, c->patch_prenorm[s] ? Cin : C, 0, 0, 0, "vision_tower.convs.%d.norm.weight",
            s);
      spec (specs, 1, c->patch_prenorm[s] ? Cin : C, 0, 0, 0, "vision_tower.convs.%d.norm.bias", s);
    }
  for (int s = 0; s < 4; s++)
    for (int j = 0; j < c->depths[s]; j++)
      {
        static const char *blocks[2][2] = { { "spatial_block", "window_attn" },
                                            { "channel_block", "channel_attn" } };
        gint64 C = c->dim_embed[s];

        for (int b = 0; b < 2; b++)
          {
            g_autofree char *p =
              g_strdup_printf ("vision_tower.blocks.%d.%d.%s", s, j, blocks[b][0]);
            g_autofree char *attn = g_strdup_printf ("%s.%s", p, blocks[b][1]);
            g_autofree char *attn_norm = g_strdup_printf ("%s.norm", attn);
            g_autofree char *qkv = g_strdup_printf ("%s.fn.qkv", attn);
            g_autofree char *proj = g_strdup_printf ("%s.fn.proj", attn);
            g_autofree char *ffn_norm = g_strdup_printf ("%s.ffn.norm", p);
            g_autofree char *fc1 = g_strdup_printf ("%s.ffn.fn.net.fc1", p);
            g_autofree char *fc2 = g_strdup_printf ("%s.ffn.fn.net.fc2", p);

            spec (specs, 4, C, 1, 3, 3, "%s.conv1.fn.dw.weight", p);
            spec (specs, 1, C, 0, 0, 0, "%s.conv1.fn.dw.bias", p);
            norm (specs, C, attn_norm);
            linear (specs, 3 * C, C, qkv);
            linear (specs, C, C, proj);
            spec (specs, 4, C, 1, 3, 3, "%s.conv2.fn.dw.weight", p);
            spec (specs, 1, C, 0, 0, 0, "%s.conv2.fn.dw.bias", p);
            norm (specs, C, ffn_norm);
            linear (specs, 4 * C, C, fc1);
            linear (specs, C, 4 * C, fc2);
          }
      }

  /* Projection (spec §4) */
  spec (specs, 2, D, d, 0, 0, "%s", PROJ_NAME);
  norm (specs, d, "image_proj_norm");
  spec (specs, 2, c->image_pos_max, D / 2, 0, 0, "image_pos_embed.row_embeddings.weight");
  spec (specs, 2, c->image_pos_max, D / 2, 0, 0, "image_pos_embed.column_embeddings.weight");
  spec (specs, 2, c->temporal_max, D, 0, 0, "visual_temporal_embed.pos_idx_to_embed");
  ((FlorenceTensorSpec *) g_ptr_array_index (specs, specs->len - 1))->is_buffer = TRUE;

  /* BART */
  spec (specs, 2, (gint64) vocab_rows, d, 0, 0, SHARED_NAME);
  spec (specs, 2, 1, (gint64) vocab_rows, 0, 0, BIAS_NAME);
  ((FlorenceTensorSpec *) g_ptr_array_index (specs, specs->len - 1))->is_buffer = TRUE;
  bart_stack (specs, c, FALSE, vocab_rows);
  bart_stack (specs, c, TRUE, vocab_rows);
  spec (specs, 2, (gint64) vocab_rows, d, 0, 0, "language_model.lm_head.weight");
  ((FlorenceTensorSpec *) g_ptr_array_index (specs, specs->len - 1))->is_tied = TRUE;
  return specs;
}

/* ------------------------------------------------------------------------------------------ */
/* Native transformers port names (spec §6.3) */

static const struct {
  const char *from, *to;
} native_block_parts[] = {
  { "conv1.fn.dw.", "conv1." },
  { "conv2.fn.dw.", "conv2." },
  { "window_attn.norm.", "norm1." },
  { "channel_attn.norm.", "norm1." },
  { "window_attn.fn.", "window_attn." },
  { "channel_attn.fn.", "channel_attn." },
  { "ffn.norm.", "norm2." },
  { "ffn.fn.net.", "ffn." },
};

static const struct {
  const char *from, *to;
} native_prefixes[] = {
  { "image_proj_norm.", "model.multi_modal_projector.image_proj_norm." },
  { "image_pos_embed.", "model.multi_modal_projector.image_position_embed." },
  { "visual_temporal_embed.", "model.multi_modal_projector.visual_temporal_embed." },
  { "language_model.model.", "model.language_model." },
  { "language_model.lm_head.", "lm_head." },
};

/* The native name of an original name, or NULL when the port has no such tensor. */
static char *
native_name (const char *name)
{
  if (g_str_equal (name, PROJ_NAME))
    return g_strdup ("model.multi_modal_projector.image_projection.weight");
  if (g_str_equal (name, BIAS_NAME))
    return NULL;
  if (g_str_has_prefix (name, "vision_tower.convs."))
    {
      const char *rest = name + strlen ("vision_tower.convs.");
      const char *dot = strchr (rest, '.');

      if (dot != NULL && g_str_has_prefix (dot, ".proj."))
        return g_strdup_printf ("model.vision_tower.convs.%.*s.conv.%s", (int) (dot - rest), rest,
                                dot + 6);
      return g_strconcat ("model.", name, NULL);
    }
  if (g_str_has_prefix (name, "vision_tower.blocks."))
    {
      /* vision_tower.blocks.S.J.<block>.<part> */
      const char *p = name + strlen ("vision_tower.blocks.");

      for (int k = 0; k < 3 && p != NULL; k++)
        {
          p = strchr (p, '.');
          if (p != NULL)
            p++;
        }
      if (p == NULL)
        return NULL;
      for (guint i = 0; i < G_N_ELEMENTS (native_block_parts); i++)
        if (g_str_has_prefix (p, native_block_parts[i].from))
          return g_strdup_printf ("model.%.*s%s%s", (int) (p - name), name,
                                  native_block_parts[i].to,
                                  p + strlen (native_block_parts[i].from));
      return NULL;
    }
  for (guint i = 0; i < G_N_ELEMENTS (native_prefixes); i++)
    if (g_str_has_prefix (name, native_prefixes[i].from))
      return g_strconcat (native_prefixes[i].to, name + strlen (native_prefixes[i].from), NULL);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Opening */

static char *
shape_string (guint n_dims, const gint64 *shape)
{
  GString *s = g_string_new ("[");

  for (guint d = 0; d < n_dims; d++)
    g_string_append_printf (s, "%s%" G_GINT64_FORMAT, d ? ", " : "", shape[d]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static gboolean
map_and_parse (FlorenceCheckpoint *ckpt, const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  FlorenceFileMap *mapped;
  const guint8 *data;
  gsize size;
  guint first = ckpt->raw->len;
  gboolean ok;
  char *owned_path;

  mapped = florence_file_map_new (path, &local_error);
  if (mapped == NULL)
    {
      g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_NOT_FOUND,
                   _ ("Could not open the weights file “%s”: %s."), path, local_error->message);
      return FALSE;
    }
  g_ptr_array_add (ckpt->mapped, mapped);
  owned_path = g_strdup (path);
  g_ptr_array_add (ckpt->files, owned_path);
  data = florence_file_map_get_data (mapped);
  size = florence_file_map_get_size (mapped);
  if (g_str_has_suffix (path, ".bin") || g_str_has_suffix (path, ".pt") ||
      g_str_has_suffix (path, ".pth"))
    ok = florence_pickle_read_state_dict (data, size, path, ckpt->raw, &local_error);
  else
    ok = florence_safetensors_parse (data, size, path, ckpt->raw, &local_error);
  /* A file cut while it was parsed reads as zeros: say that rather than what the zeros mean. */
  if (!florence_checkpoint_check (ckpt, error))
    return FALSE;
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  for (guint i = first; i < ckpt->raw->len; i++)
    ((FlorenceRawTensor *) g_ptr_array_index (ckpt->raw, i))->file = owned_path;
  g_debug ("%s: %u tensors, %zu bytes", path, ckpt->raw->len - first, size);
  return TRUE;
}

/* model.safetensors.index.json / pytorch_model.bin.index.json: {"weight_map": {name: file}} */
static gboolean
open_index (FlorenceCheckpoint *ckpt, const char *index_path, GHashTable *by_raw_name,
            GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GHashTable) opened = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *dir = g_path_get_dirname (index_path);
  g_autoptr (GList) names = NULL;
  g_autofree char *text = NULL;
  gsize text_len;
  JsonNode *root, *map_node;
  JsonObject *map;

  if (!florence_file_get_contents (index_path, MAX_INDEX_FILE_SIZE, &text, &text_len, &local_error))
    {
      g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_NOT_FOUND,
                   _ ("Could not read the shard index “%s”: %s."), index_path,
                   local_error->message);
      return FALSE;
    }
  if (!florence_json_load (parser, text, (gssize) text_len, &local_error))
    {
      florence_checkpoint_set_corrupt (error, index_path, _ ("it is not valid JSON (%s)"),
                                       local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      (map_node = json_object_get_member (json_node_get_object (root), "weight_map")) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (map_node))
    {
      florence_checkpoint_set_corrupt (error, index_path, _ ("it has no weight_map object"));
      return FALSE;
    }
  map = json_node_get_object (map_node);
  names = json_object_get_members (map);
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonNode *file_node = json_object_get_member (map, l->data);
      const char *file;

      if (!JSON_NODE_HOLDS_VALUE (file_node) ||
          json_node_get_value_type (file_node) != G_TYPE_STRING)
        {
          florence_checkpoint_set_corrupt (
            error, index_path, _ ("the shard of “%s” is not a file name"), (char *) l->data);
          return FALSE;
        }
      file = json_node_get_string (file_node);
      /* A bare file name next to the index: never a path that leaves the directory. */
      if (*file == '\0' || strchr (file, '/') != NULL || strchr (file, '\\') != NULL ||
          g_str_equal (file, ".") || g_str_equal (file, ".."))
        {
          florence_checkpoint_set_corrupt (
            error, index_path, _ ("the shard name “%s” is not a plain file name"), file);
          return FALSE;
        }
      if (!g_hash_table_contains (opened, file))
        {
          g_autofree char *shard = g_build_filename (dir, file, NULL);

          if (!map_and_parse (ckpt, shard, error))
            return FALSE;
          g_hash_table_add (opened, g_strdup (file));
        }
    }
  /* Every name the index lists must be in the shard it names. */
  for (guint i = 0; i < ckpt->raw->len; i++)
    {
      FlorenceRawTensor *t = g_ptr_array_index (ckpt->raw, i);

      if (g_hash_table_contains (by_raw_name, t->name))
        {
          florence_checkpoint_set_corrupt (error, t->file, _ ("the tensor “%s” is in two shards"),
                                           t->name);
          return FALSE;
        }
      g_hash_table_insert (by_raw_name, t->name, t);
    }
  for (GList *l = names; l != NULL; l = l->next)
    {
      FlorenceRawTensor *t = g_hash_table_lookup (by_raw_name, l->data);
      g_autofree char *base = t ? g_path_get_basename (t->file) : NULL;

      if (t == NULL || !g_str_equal (base, json_object_get_string_member (map, l->data)))
        {
          florence_checkpoint_set_corrupt (
            error, index_path, _ ("it places “%s” in “%s”, which does not hold it"),
            (char *) l->data, json_object_get_string_member (map, l->data));
          return FALSE;
        }
    }
  return TRUE;
}

/* "<prefix>N." at the start of name: N, or -1. */
static gint64
index_after (const char *name, const char *prefix)
{
  const char *p;
  gint64 n = 0;

  if (!g_str_has_prefix (name, prefix))
    return -1;
  p = name + strlen (prefix);
  if (!g_ascii_isdigit (*p))
    return -1;
  while (g_ascii_isdigit (*p))
    {
      n = n * 10 + (*p++ - '0');
      if (n > G_MAXINT32)
        return G_MAXINT32;
    }
  return *p == '.' ? n : -1;
}

/* A tensor the table does not expect: an error when it is a layer or block beyond the config
 * (the weights belong to a larger model), else ignored. */
static gboolean
check_unexpected (const FlorenceConfig *c, FlorenceRawTensor *t, GError **error)
{
  const char *name = t->name;
  const char *what = NULL;
  gint64 n;

  /* Both namings: "model.vision_tower.X" → "vision_tower.X"; the BART stacks
   * ("language_model.model.X", native "model.language_model.X") → "X". */
  if (g_str_has_prefix (name, "model.vision_tower."))
    name += strlen ("model.");
  else if (g_str_has_prefix (name, "language_model.model."))
    name += strlen ("language_model.model.");
  else if (g_str_has_prefix (name, "model.language_model."))
    name += strlen ("model.language_model.");

  if ((n = index_after (name, "vision_tower.convs.")) >= 4)
    what = "vision_tower.convs";
  else if ((n = index_after (name, "vision_tower.blocks.")) >= 0)
    {
      g_autofree char *stage_prefix =
        g_strdup_printf ("vision_tower.blocks.%" G_GINT64_FORMAT ".", n);

      if (n >= 4 || index_after (name, stage_prefix) >= c->depths[n])
        what = "vision_tower.depths";
    }
  else if (index_after (name, "encoder.layers.") >= c->encoder_layers)
    what = "text_config.encoder_layers";
  else if (index_after (name, "decoder.layers.") >= c->decoder_layers)
    what = "text_config.decoder_layers";

  if (what != NULL)
    {
      g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_SHAPE,
                   _ ("The weights file “%s” holds the tensor “%s”, which a model with this "
                      "configuration does not have (%s). The weights and config.json belong to "
                      "different models: download the model again."),
                   t->file, t->name, what);
      return FALSE;
    }
  g_debug ("%s: ignoring the unexpected tensor “%s”", t->file, t->name);
  return TRUE;
}

static FlorenceTensor *
tensor_new (const char *name, FlorenceDType dtype, guint n_dims, const gint64 *shape,
            gsize n_elements, const void *data)
{
  FlorenceTensor *t = g_new0 (FlorenceTensor, 1);

  t->name = name;
  t->dtype = dtype;
  t->n_dims = n_dims;
  memcpy (t->shape, shape, n_dims * sizeof (gint64));
  t->n_elements = n_elements;
  t->data = data;
  return t;
}

static gboolean
serve (FlorenceCheckpoint *ckpt, const FlorenceConfig *c, FlorenceTensorSpec *s,
       FlorenceRawTensor *raw, GError **error)
{
  gsize esize;
  const void *data;
  gboolean transpose = ckpt->native && g_str_equal (s->name, PROJ_NAME);
  gint64 want[4];
  FlorenceTensor *t;

  memcpy (want, s->shape, sizeof want);
  if (transpose)
    {
      want[0] = s->shape[1];
      want[1] = s->shape[0];
    }
  if (!raw->dtype_known)
    {
      g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED,
                   _ ("The tensor “%s” in “%s” has the dtype %s; Depict reads F16, BF16 and F32 "
                      "weights. Convert the checkpoint to one of these."),
                   raw->name, raw->file, raw->dtype_name);
      return FALSE;
    }
  if (raw->n_dims != s->n_dims || memcmp (raw->shape, want, s->n_dims * sizeof (gint64)) != 0)
    {
      g_autofree char *have = shape_string (raw->n_dims, raw->shape);
      g_autofree char *expected = shape_string (s->n_dims, want);

      g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_SHAPE,
                   _ ("The tensor “%s” in “%s” has the shape %s, but config.json describes a model "
                      "where it is %s. The weights and config.json belong to different models: "
                      "download the model again."),
                   raw->name, raw->file, have, expected);
      return FALSE;
    }
  raw->used = TRUE;
  esize = florence_dtype_size (raw->dtype);
  data = raw->data;
  if (transpose)
    {
      /* [d, D] → [D, d], once, in the stored dtype. */
      gsize rows = (gsize) raw->shape[0], cols = (gsize) raw->shape[1];
      guint8 *copy = g_malloc (raw->n_bytes);

      for (gsize r = 0; r < rows; r++)
        for (gsize k = 0; k < cols; k++)
          memcpy (copy + (k * rows + r) * esize, raw->data + (r * cols + k) * esize, esize);
      g_ptr_array_add (ckpt->buffers, copy);
      data = copy;
      g_debug ("%s: “%s” transposed to “%s”", raw->file, raw->name, s->name);
    }
  else if (((guintptr) data % esize) != 0)
    g_debug ("%s: “%s” is not aligned to its element size in the file", raw->file, raw->name);
  t = tensor_new (s->name, raw->dtype, s->n_dims, s->shape, raw->n_elements, data);
  g_ptr_array_add (ckpt->served, t);
  g_hash_table_insert (ckpt->by_name, s->name, t);
  /* Tied names sharing one storage (the .bin) count once. */
  if (g_hash_table_add (ckpt->seen_data, (gpointer) data))
    ckpt->n_bytes += raw->n_bytes;
  return TRUE;
}

static FlorenceCheckpoint *
checkpoint_new (const char *path, FlorenceCheckpointFormat format)
{
  FlorenceCheckpoint *ckpt = g_new0 (FlorenceCheckpoint, 1);

  ckpt->path = g_strdup (path);
  ckpt->format = format;
  ckpt->files = g_ptr_array_new_with_free_func (g_free);
  ckpt->mapped = g_ptr_array_new_with_free_func ((GDestroyNotify) florence_file_map_free);
  ckpt->raw = g_ptr_array_new_with_free_func ((GDestroyNotify) florence_raw_tensor_free);
  ckpt->served = g_ptr_array_new_with_free_func (g_free);
  ckpt->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  ckpt->buffers = g_ptr_array_new_with_free_func (g_free);
  ckpt->seen_data = g_hash_table_new (NULL, NULL);
  g_mutex_init (&ckpt->hash_lock);
  return ckpt;
}

static gboolean
validate (FlorenceCheckpoint *ckpt, const FlorenceConfig *c, GHashTable *by_raw_name,
          GError **error)
{
  g_autofree char *shared_native = native_name (SHARED_NAME);
  FlorenceRawTensor *shared;
  gsize max_rows = ((gsize) c->vocab_size + 1 + 63) / 64 * 64;
  FlorenceTensor *shared_t;

  /* Native-port names: no original shared.weight, and the port's prefixes. */
  for (guint i = 0;
       i < ckpt->raw->len && !ckpt->native && !g_hash_table_contains (by_raw_name, SHARED_NAME);
       i++)
    {
      const char *name = ((FlorenceRawTensor *) g_ptr_array_index (ckpt->raw, i))->name;

      ckpt->native = g_str_has_prefix (name, "model.vision_tower.") ||
                     g_str_has_prefix (name, "model.language_model.") ||
                     g_str_has_prefix (name, "model.multi_modal_projector.");
    }

  /* The embedding's row count: config->vocab_size, or padded (native: 51 328). */
  shared = g_hash_table_lookup (by_raw_name, ckpt->native ? shared_native : SHARED_NAME);
  ckpt->vocab_rows = c->vocab_size;
  if (shared != NULL && shared->n_dims == 2 && shared->shape[0] >= c->vocab_size &&
      (gsize) shared->shape[0] <= max_rows)
    ckpt->vocab_rows = (gsize) shared->shape[0];
  ckpt->specs = florence_checkpoint_expected_tensors (c, ckpt->vocab_rows);

  for (guint i = 0; i < ckpt->specs->len; i++)
    {
      FlorenceTensorSpec *s = g_ptr_array_index (ckpt->specs, i);
      g_autofree char *alt = ckpt->native ? native_name (s->name) : NULL;
      FlorenceRawTensor *raw =
        g_hash_table_lookup (by_raw_name, ckpt->native ? (alt ? alt : "") : s->name);

      if (raw != NULL)
        {
          if (!serve (ckpt, c, s, raw, error))
            return FALSE;
          continue;
        }
      if (s->is_tied)
        continue; /* resolved below */
      if (ckpt->native && g_str_equal (s->name, BIAS_NAME))
        {
          /* The port drops the (all-zero, never trained) buffer: serve zeros. */
          gsize n = ckpt->vocab_rows;
          guint16 *zeros = g_new0 (guint16, n);
          FlorenceTensor *t = tensor_new (s->name, FLORENCE_DTYPE_F16, 2, s->shape, n, zeros);

          g_ptr_array_add (ckpt->buffers, zeros);
          g_ptr_array_add (ckpt->served, t);
          g_hash_table_insert (ckpt->by_name, s->name, t);
          continue;
        }
      g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_MISSING,
                   _ ("The tensor “%s” is missing from “%s”. The file is incomplete or belongs to "
                      "another model: download the model again, or check that config.json matches "
                      "the weights."),
                   alt ? alt : s->name, ckpt->path);
      return FALSE;
    }

  /* Tied embeddings: the aliases the file does not hold are shared.weight. */
  shared_t = g_hash_table_lookup (ckpt->by_name, SHARED_NAME);
  g_assert (shared_t != NULL);
  for (guint i = 0; i < ckpt->specs->len; i++)
    {
      FlorenceTensorSpec *s = g_ptr_array_index (ckpt->specs, i);

      if (s->is_tied && !g_hash_table_contains (ckpt->by_name, s->name))
        {
          g_hash_table_insert (ckpt->by_name, s->name, shared_t);
          g_debug ("%s: “%s” absent, tied to “%s”", ckpt->path, s->name, SHARED_NAME);
        }
    }

  for (guint i = 0; i < ckpt->raw->len; i++)
    {
      FlorenceRawTensor *t = g_ptr_array_index (ckpt->raw, i);

      if (!t->used && !check_unexpected (c, t, error))
        return FALSE;
    }
  return TRUE;
}

static FlorenceCheckpoint *
open_path (const char *path, FlorenceCheckpointFormat format, const FlorenceConfig *config,
           GError **error)
{
  g_autoptr (FlorenceCheckpoint) ckpt = checkpoint_new (path, format);
  g_autoptr (GHashTable) by_raw_name = g_hash_table_new (g_str_hash, g_str_equal);

  if (g_str_has_suffix (path, ".index.json"))
    {
      if (!open_index (ckpt, path, by_raw_name, error))
        return NULL;
    }
  else
    {
      if (!map_and_parse (ckpt, path, error))
        return NULL;
      for (guint i = 0; i < ckpt->raw->len; i++)
        {
          FlorenceRawTensor *t = g_ptr_array_index (ckpt->raw, i);

          /* The safetensors JSON cannot repeat a name (json-glib keeps one); the pickle
           * reader refuses repeats. */
          g_hash_table_insert (by_raw_name, t->name, t);
        }
    }
  if (!validate (ckpt, config, by_raw_name, error) || !florence_checkpoint_check (ckpt, error))
    return NULL;
  g_debug ("%s: %u tensors served, %" G_GUINT64_FORMAT " bytes, vocabulary rows %zu%s", path,
           ckpt->served->len, ckpt->n_bytes, ckpt->vocab_rows,
           ckpt->native ? ", native-port names" : "");
  return g_steal_pointer (&ckpt);
}

FlorenceCheckpoint *
florence_checkpoint_open_file (const char *path, const FlorenceConfig *config, GError **error)
{
  FlorenceCheckpointFormat format;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_str_has_suffix (path, ".safetensors.index.json"))
    format = FLORENCE_CHECKPOINT_FORMAT_SAFETENSORS_SHARDED;
  else if (g_str_has_suffix (path, ".bin") || g_str_has_suffix (path, ".bin.index.json") ||
           g_str_has_suffix (path, ".pt") || g_str_has_suffix (path, ".pth"))
    format = FLORENCE_CHECKPOINT_FORMAT_PYTORCH;
  else
    format = FLORENCE_CHECKPOINT_FORMAT_SAFETENSORS;
  return open_path (path, format, config, error);
}

FlorenceCheckpoint *
florence_checkpoint_open (const char *model_dir, const FlorenceConfig *config, GError **error)
{
  static const char *candidates[] = {
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
  };

  g_return_val_if_fail (model_dir != NULL, NULL);
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autofree char *path = g_build_filename (model_dir, candidates[i], NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS))
        return florence_checkpoint_open_file (path, config, error);
    }
  g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_NOT_FOUND,
               _ ("The folder “%s” holds no Florence-2 weights (model.safetensors, "
                  "model.safetensors.index.json or pytorch_model.bin). Download the model files "
                  "into it, or choose another folder."),
               model_dir);
  return NULL;
}

/* ------------------------------------------------------------------------------------------ */
/* Access */

const FlorenceTensor *
florence_checkpoint_lookup (FlorenceCheckpoint *ckpt, const char *name)
{
  g_return_val_if_fail (ckpt != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return g_hash_table_lookup (ckpt->by_name, name);
}

gboolean
florence_checkpoint_check (FlorenceCheckpoint *ckpt, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (ckpt != NULL, FALSE);

  for (guint i = 0; i < ckpt->mapped->len; i++)
    if (!florence_file_map_check (g_ptr_array_index (ckpt->mapped, i), &local_error))
      {
        g_set_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_CORRUPT,
                     _ ("The weights could not be read: %s."), local_error->message);
        return FALSE;
      }
  return TRUE;
}

const char *
florence_checkpoint_get_path (FlorenceCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, NULL);
  return ckpt->path;
}

FlorenceCheckpointFormat
florence_checkpoint_get_format (FlorenceCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, 0);
  return ckpt->format;
}

gsize
florence_checkpoint_get_vocab_rows (FlorenceCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, 0);
  return ckpt->vocab_rows;
}

gboolean
florence_checkpoint_is_native (FlorenceCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, FALSE);
  return ckpt->native;
}

guint
florence_checkpoint_get_n_tensors (FlorenceCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, 0);
  return ckpt->served->len;
}

const FlorenceTensor *
florence_checkpoint_get_tensor (FlorenceCheckpoint *ckpt, guint index)
{
  g_return_val_if_fail (ckpt != NULL, NULL);
  g_return_val_if_fail (index < ckpt->served->len, NULL);
  return g_ptr_array_index (ckpt->served, index);
}

guint64
florence_checkpoint_get_n_bytes (FlorenceCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, 0);
  return ckpt->n_bytes;
}

void
florence_checkpoint_release_tensor (FlorenceCheckpoint *ckpt, const FlorenceTensor *t)
{
  g_return_if_fail (ckpt != NULL && t != NULL);
  const guintptr start = (guintptr) t->data;
  const guintptr end = start + t->n_elements * florence_dtype_size (t->dtype);
  const guintptr page = (guintptr) sysconf (_SC_PAGESIZE);
  for (guint i = 0; i < ckpt->mapped->len; i++)
    {
      FlorenceFileMap *m = ckpt->mapped->pdata[i];
      const guintptr base = (guintptr) florence_file_map_get_data (m);
      if (base == 0 || start < base || end > base + florence_file_map_get_size (m))
        continue;
      /* the whole pages inside the tensor: its neighbours keep theirs */
      guintptr a = (start + page - 1) / page * page, b = end / page * page;
      if (b > a)
        madvise ((void *) a, b - a, MADV_DONTNEED);
      return;
    }
}

/* The hash covers what the model computes with, independent of the file format: every served
 * tensor in table order (name, dtype, shape, bytes); a stored tied alias only when its bytes
 * differ from shared.weight. model.safetensors and pytorch_model.bin of the same weights hash
 * alike. */
const char *
florence_checkpoint_get_sha256 (FlorenceCheckpoint *ckpt)
{
  g_return_val_if_fail (ckpt != NULL, NULL);

  g_mutex_lock (&ckpt->hash_lock);
  if (ckpt->sha256 == NULL)
    {
      g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
      const FlorenceTensor *shared = g_hash_table_lookup (ckpt->by_name, SHARED_NAME);

      for (guint i = 0; i < ckpt->served->len; i++)
        {
          const FlorenceTensor *t = g_ptr_array_index (ckpt->served, i);
          gsize n_bytes = t->n_elements * florence_dtype_size (t->dtype);
          guint8 header[4 + 4 * 8];

          if (t != shared && t->n_dims == shared->n_dims && t->dtype == shared->dtype &&
              memcmp (t->shape, shared->shape, sizeof t->shape) == 0 &&
              memcmp (t->data, shared->data, n_bytes) == 0)
            continue; /* a tied copy */
          g_checksum_update (sum, (const guchar *) t->name, strlen (t->name) + 1);
          memset (header, 0, sizeof header);
          header[0] = (guint8) t->dtype;
          header[1] = (guint8) t->n_dims;
          for (guint d = 0; d < t->n_dims; d++)
            for (guint b = 0; b < 8; b++)
              header[4 + 8 * d + b] = (guint8) ((guint64) t->shape[d] >> (8 * b));
          g_checksum_update (sum, header, sizeof header);
          /* g_checksum_update takes a gssize length: feed large tensors in pieces. */
          for (gsize off = 0; off < n_bytes; off += 1 << 30)
            g_checksum_update (sum, (const guchar *) t->data + off,
                               MIN (n_bytes - off, (gsize) 1 << 30));
        }
      ckpt->sha256 = g_strdup (g_checksum_get_string (sum));
    }
  g_mutex_unlock (&ckpt->hash_lock);
  return ckpt->sha256;
}

void
florence_checkpoint_free (FlorenceCheckpoint *ckpt)
{
  if (ckpt == NULL)
    return;
  g_hash_table_unref (ckpt->by_name);
  g_ptr_array_unref (ckpt->served);
  if (ckpt->specs != NULL)
    g_ptr_array_unref (ckpt->specs);
  g_ptr_array_unref (ckpt->raw);
  g_ptr_array_unref (ckpt->buffers);
  g_hash_table_unref (ckpt->seen_data);
  g_ptr_array_unref (ckpt->mapped);
  g_ptr_array_unref (ckpt->files);
  g_mutex_clear (&ckpt->hash_lock);
  g_free (ckpt->sha256);
  g_free (ckpt->path);
  g_free (ckpt);
}
