/* florence-graph.c: what every implementation of the Florence-2 graph shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-graph.h"

#include <glib/gi18n.h>

G_DEFINE_QUARK (florence - graph - error - quark, florence_graph_error)

void
florence_graph_tensor_clear (FlorenceGraphTensor *t)
{
  g_clear_pointer (&t->name, g_free);
}

/* size = c2 · C² + c1 · C; in_attn: below the attention module (window_attn/channel_attn) */
static const struct {
  const char *suffix;
  guint c2, c1;
  gboolean matrix, in_attn;
} block_tensors[FLORENCE_BLOCK_N_TENSORS] = {
  { "conv1.fn.dw.weight", 0, 9, FALSE, FALSE },   { "conv1.fn.dw.bias", 0, 1, FALSE, FALSE },
  { "norm.weight", 0, 1, FALSE, TRUE },           { "norm.bias", 0, 1, FALSE, TRUE },
  { "fn.qkv.weight", 3, 0, TRUE, TRUE },          { "fn.qkv.bias", 0, 3, FALSE, TRUE },
  { "fn.proj.weight", 1, 0, TRUE, TRUE },         { "fn.proj.bias", 0, 1, FALSE, TRUE },
  { "conv2.fn.dw.weight", 0, 9, FALSE, FALSE },   { "conv2.fn.dw.bias", 0, 1, FALSE, FALSE },
  { "ffn.norm.weight", 0, 1, FALSE, FALSE },      { "ffn.norm.bias", 0, 1, FALSE, FALSE },
  { "ffn.fn.net.fc1.weight", 4, 0, TRUE, FALSE }, { "ffn.fn.net.fc1.bias", 0, 4, FALSE, FALSE },
  { "ffn.fn.net.fc2.weight", 4, 0, TRUE, FALSE }, { "ffn.fn.net.fc2.bias", 0, 1, FALSE, FALSE },
};

void
florence_graph_block_tensor (const FlorenceConfig *config, int stage, int block, gboolean channel,
                             guint index, FlorenceGraphTensor *out)
{
  g_return_if_fail (index < FLORENCE_BLOCK_N_TENSORS && stage >= 0 && stage < 4);
  const gsize C = (gsize) config->dim_embed[stage];
  out->name =
    g_strdup_printf ("vision_tower.blocks.%d.%d.%s.%s%s%s", stage, block,
                     channel ? "channel_block" : "spatial_block",
                     !block_tensors[index].in_attn ? ""
                     : channel                     ? "channel_attn"
                                                   : "window_attn",
                     block_tensors[index].in_attn ? "." : "", block_tensors[index].suffix);
  out->n_elements = block_tensors[index].c2 * C * C + block_tensors[index].c1 * C;
  out->matrix = block_tensors[index].matrix;
}

/* size = dd · d² + d1 · d + fd · ffn · d + f1 · ffn */
static const struct {
  const char *suffix;
  guint dd, d1, fd, f1;
  gboolean matrix, cross;
} layer_tensors[FLORENCE_LAYER_N_TENSORS] = {
  { "self_attn.q_proj.weight", 1, 0, 0, 0, TRUE, FALSE },
  { "self_attn.q_proj.bias", 0, 1, 0, 0, FALSE, FALSE },
  { "self_attn.k_proj.weight", 1, 0, 0, 0, TRUE, FALSE },
  { "self_attn.k_proj.bias", 0, 1, 0, 0, FALSE, FALSE },
  { "self_attn.v_proj.weight", 1, 0, 0, 0, TRUE, FALSE },
  { "self_attn.v_proj.bias", 0, 1, 0, 0, FALSE, FALSE },
  { "self_attn.out_proj.weight", 1, 0, 0, 0, TRUE, FALSE },
  { "self_attn.out_proj.bias", 0, 1, 0, 0, FALSE, FALSE },
  { "self_attn_layer_norm.weight", 0, 1, 0, 0, FALSE, FALSE },
  { "self_attn_layer_norm.bias", 0, 1, 0, 0, FALSE, FALSE },
  { "encoder_attn.q_proj.weight", 1, 0, 0, 0, TRUE, TRUE },
  { "encoder_attn.q_proj.bias", 0, 1, 0, 0, FALSE, TRUE },
  { "encoder_attn.k_proj.weight", 1, 0, 0, 0, TRUE, TRUE },
  { "encoder_attn.k_proj.bias", 0, 1, 0, 0, FALSE, TRUE },
  { "encoder_attn.v_proj.weight", 1, 0, 0, 0, TRUE, TRUE },
  { "encoder_attn.v_proj.bias", 0, 1, 0, 0, FALSE, TRUE },
  { "encoder_attn.out_proj.weight", 1, 0, 0, 0, TRUE, TRUE },
  { "encoder_attn.out_proj.bias", 0, 1, 0, 0, FALSE, TRUE },
  { "encoder_attn_layer_norm.weight", 0, 1, 0, 0, FALSE, TRUE },
  { "encoder_attn_layer_norm.bias", 0, 1, 0, 0, FALSE, TRUE },
  { "fc1.weight", 0, 0, 1, 0, TRUE, FALSE },
  { "fc1.bias", 0, 0, 0, 1, FALSE, FALSE },
  { "fc2.weight", 0, 0, 1, 0, TRUE, FALSE },
  { "fc2.bias", 0, 1, 0, 0, FALSE, FALSE },
  { "final_layer_norm.weight", 0, 1, 0, 0, FALSE, FALSE },
  { "final_layer_norm.bias", 0, 1, 0, 0, FALSE, FALSE },
};

gboolean
florence_graph_layer_tensor (const FlorenceConfig *config, gboolean decoder, int layer, guint index,
                             FlorenceGraphTensor *out)
{
  g_return_val_if_fail (index < FLORENCE_LAYER_N_TENSORS, FALSE);
  if (!decoder && layer_tensors[index].cross)
    return FALSE;
  const gsize d = (gsize) config->d_model;
  const gsize ffn = (gsize) (decoder ? config->decoder_ffn_dim : config->encoder_ffn_dim);
  out->name = g_strdup_printf ("language_model.model.%s.layers.%d.%s",
                               decoder ? "decoder" : "encoder", layer, layer_tensors[index].suffix);
  out->n_elements = layer_tensors[index].dd * d * d + layer_tensors[index].d1 * d +
                    layer_tensors[index].fd * ffn * d + layer_tensors[index].f1 * ffn;
  out->matrix = layer_tensors[index].matrix;
  return TRUE;
}

int
florence_graph_stage_grid (const FlorenceConfig *config, int size, int stage)
{
  int g = size;
  for (int s = 0; s <= stage && s < 4; s++)
    g = (g + 2 * config->patch_padding[s] - config->patch_size[s]) / config->patch_stride[s] + 1;
  return g;
}

gboolean
florence_graph_check_image_size (const FlorenceConfig *config, int size, int *n_image,
                                 GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);

  int grid = florence_graph_stage_grid (config, size, 3);
  if (size < 32 || size % 32 != 0 || grid < 1 || grid > config->image_pos_max)
    {
      g_set_error (error, FLORENCE_GRAPH_ERROR, FLORENCE_GRAPH_ERROR_INPUT,
                   _ ("The model cannot take a %d×%d input: the side must be a multiple of 32 "
                      "whose feature grid fits its position table (at most %d)."),
                   size, size, 32 * config->image_pos_max);
      return FALSE;
    }
  if (n_image != NULL)
    *n_image = 1 + grid * grid;
  return TRUE;
}

gboolean
florence_graph_check_prompt (const FlorenceConfig *config, int n_image, const gint32 *ids,
                             int n_ids, GError **error)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (ids != NULL || n_ids == 0, FALSE);

  if (n_image < 0 || n_ids < 0 || n_image + n_ids == 0 ||
      n_ids > config->max_position_embeddings - n_image)
    {
      g_set_error (error, FLORENCE_GRAPH_ERROR, FLORENCE_GRAPH_ERROR_INPUT,
                   _ ("The prompt does not fit: %d image tokens and %d text tokens, where the "
                      "model has %d positions. Use a shorter text input."),
                   n_image, n_ids, config->max_position_embeddings);
      return FALSE;
    }
  for (int i = 0; i < n_ids; i++)
    if (ids[i] < 0 || ids[i] >= config->vocab_size)
      {
        g_set_error (error, FLORENCE_GRAPH_ERROR, FLORENCE_GRAPH_ERROR_INPUT,
                     _ ("The prompt holds the token id %d, which is outside the model's "
                        "vocabulary."),
                     ids[i]);
        return FALSE;
      }
  return TRUE;
}

gboolean
florence_graph_check_input (const FlorenceConfig *config, int size, const gint32 *ids, int n_ids,
                            int *n_image, GError **error)
{
  int n = 0;
  if (!florence_graph_check_image_size (config, size, &n, error) ||
      !florence_graph_check_prompt (config, n, ids, n_ids, error))
    return FALSE;
  if (n_image != NULL)
    *n_image = n;
  return TRUE;
}
