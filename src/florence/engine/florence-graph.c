/* florence-graph.c: what every implementation of the Florence-2 graph shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-graph.h"

#include <glib/gi18n.h>
#include <string.h>

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

void
florence_graph_stage_tensor (const FlorenceConfig *config, int stage, guint index,
                             FlorenceGraphTensor *out)
{
  g_return_if_fail (index < FLORENCE_STAGE_N_TENSORS && stage >= 0 && stage < 4);
  static const char *const suffix[FLORENCE_STAGE_N_TENSORS] = { "proj.weight", "proj.bias",
                                                                "norm.weight", "norm.bias" };
  const gsize c_in = stage == 0 ? 3 : (gsize) config->dim_embed[stage - 1];
  const gsize c_out = (gsize) config->dim_embed[stage], k = (gsize) config->patch_size[stage];
  out->name = g_strdup_printf ("vision_tower.convs.%d.%s", stage, suffix[index]);
  out->n_elements = index == 0                     ? c_out * c_in * k * k
                    : index == 1                   ? c_out
                    : config->patch_prenorm[stage] ? c_in
                                                   : c_out;
  out->matrix = index == 0;
}

void
florence_graph_model_tensor (const FlorenceConfig *config, gsize vocab_rows,
                             FlorenceGraphModelTensor which, FlorenceGraphTensor *out)
{
  g_return_if_fail (which < FLORENCE_GRAPH_N_MODEL_TENSORS);
  const gsize D = (gsize) config->dim_embed[3], d = (gsize) config->d_model;
  const gsize pmax = (gsize) config->image_pos_max;
  const gsize n_pos = (gsize) config->max_position_embeddings + 2;
  const gsize rows = MAX (vocab_rows, (gsize) config->vocab_size);
  static const char *const names[FLORENCE_GRAPH_N_MODEL_TENSORS] = {
    [FLORENCE_GRAPH_POS_ROW] = "image_pos_embed.row_embeddings.weight",
    [FLORENCE_GRAPH_POS_COLUMN] = "image_pos_embed.column_embeddings.weight",
    [FLORENCE_GRAPH_TEMPORAL] = "visual_temporal_embed.pos_idx_to_embed",
    [FLORENCE_GRAPH_PROJECTION] = "image_projection",
    [FLORENCE_GRAPH_PROJECTION_NORM_W] = "image_proj_norm.weight",
    [FLORENCE_GRAPH_PROJECTION_NORM_B] = "image_proj_norm.bias",
    [FLORENCE_GRAPH_SHARED] = "language_model.model.shared.weight",
    [FLORENCE_GRAPH_FINAL_LOGITS_BIAS] = "language_model.final_logits_bias",
    [FLORENCE_GRAPH_ENCODER_POSITIONS] = "language_model.model.encoder.embed_positions.weight",
    [FLORENCE_GRAPH_DECODER_POSITIONS] = "language_model.model.decoder.embed_positions.weight",
    [FLORENCE_GRAPH_ENCODER_EMBED_NORM_W] =
      "language_model.model.encoder.layernorm_embedding.weight",
    [FLORENCE_GRAPH_ENCODER_EMBED_NORM_B] = "language_model.model.encoder.layernorm_embedding.bias",
    [FLORENCE_GRAPH_DECODER_EMBED_NORM_W] =
      "language_model.model.decoder.layernorm_embedding.weight",
    [FLORENCE_GRAPH_DECODER_EMBED_NORM_B] = "language_model.model.decoder.layernorm_embedding.bias",
  };
  out->name = g_strdup (names[which]);
  out->matrix = which == FLORENCE_GRAPH_PROJECTION || which == FLORENCE_GRAPH_SHARED;
  switch (which)
    {
    case FLORENCE_GRAPH_POS_ROW:
      out->n_elements = pmax * (D / 2);
      break;
    case FLORENCE_GRAPH_POS_COLUMN:
      out->n_elements = pmax * (D - D / 2);
      break;
    case FLORENCE_GRAPH_TEMPORAL:
      out->n_elements = (gsize) config->temporal_max * D;
      break;
    case FLORENCE_GRAPH_PROJECTION:
      out->n_elements = D * d;
      break;
    case FLORENCE_GRAPH_SHARED:
      out->n_elements = rows * d;
      break;
    case FLORENCE_GRAPH_FINAL_LOGITS_BIAS:
      out->n_elements = rows;
      break;
    case FLORENCE_GRAPH_ENCODER_POSITIONS:
    case FLORENCE_GRAPH_DECODER_POSITIONS:
      out->n_elements = n_pos * d;
      break;
    case FLORENCE_GRAPH_PROJECTION_NORM_W:
    case FLORENCE_GRAPH_PROJECTION_NORM_B:
    case FLORENCE_GRAPH_ENCODER_EMBED_NORM_W:
    case FLORENCE_GRAPH_ENCODER_EMBED_NORM_B:
    case FLORENCE_GRAPH_DECODER_EMBED_NORM_W:
    case FLORENCE_GRAPH_DECODER_EMBED_NORM_B:
    case FLORENCE_GRAPH_N_MODEL_TENSORS:
    default:
      out->n_elements = d;
      break;
    }
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

gboolean
florence_graph_check_config (const FlorenceConfig *c, GError **error)
{
  gboolean ok = c->d_model > 0 && c->vocab_size > 0 && c->encoder_heads > 0 &&
                c->decoder_heads > 0 && c->d_model % c->encoder_heads == 0 &&
                c->d_model % c->decoder_heads == 0 && c->encoder_ffn_dim > 0 &&
                c->decoder_ffn_dim > 0 && c->encoder_layers >= 0 && c->decoder_layers >= 0 &&
                c->max_position_embeddings > 0 && c->window_size > 0 && c->image_pos_max > 0 &&
                c->temporal_max > 0 && c->projection_dim == c->d_model;
  for (int s = 0; s < 4 && ok; s++)
    ok = c->dim_embed[s] > 0 && c->num_heads[s] > 0 && c->num_groups[s] > 0 &&
         c->dim_embed[s] % c->num_heads[s] == 0 && c->dim_embed[s] % c->num_groups[s] == 0 &&
         c->depths[s] >= 0 && c->patch_size[s] > 0 && c->patch_stride[s] > 0 &&
         c->patch_padding[s] >= 0;
  if (!ok)
    g_set_error (error, FLORENCE_GRAPH_ERROR, FLORENCE_GRAPH_ERROR_CONFIG,
                 _ ("The model's config.json describes sizes that do not fit together (for "
                    "example a width that the number of heads does not divide). Use an "
                    "unmodified Florence-2 configuration."));
  return ok;
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

const FlorenceTensor *
florence_graph_lookup (FlorenceCheckpoint *checkpoint, const char *name, gsize n_elements,
                       GError **error)
{
  const FlorenceTensor *t = florence_checkpoint_lookup (checkpoint, name);
  if (t == NULL)
    {
      g_set_error (error, FLORENCE_GRAPH_ERROR, FLORENCE_GRAPH_ERROR_WEIGHTS,
                   _ ("The checkpoint has no tensor “%s”. Use a complete Florence-2 checkpoint "
                      "that matches its config.json."),
                   name);
      return NULL;
    }
  if (t->n_elements != n_elements)
    {
      g_set_error (error, FLORENCE_GRAPH_ERROR, FLORENCE_GRAPH_ERROR_WEIGHTS,
                   _ ("The tensor “%s” has %zu values where the config asks for "
                      "%zu. Use a checkpoint that matches its config.json."),
                   name, t->n_elements, n_elements);
      return NULL;
    }
  return t;
}

gboolean
florence_graph_check_step (const FlorenceConfig *config, const FlorenceDecodeStep *step,
                           guint n_beams, gsize cached, gsize vocab_rows, GError **error)
{
  const guint B = step->n_beams;
  if (B != n_beams || step->position >= (guint) config->max_position_embeddings ||
      step->position != cached)
    {
      g_set_error (error, FLORENCE_GRAPH_ERROR, FLORENCE_GRAPH_ERROR_INPUT,
                   _ ("The decoder was asked for position %u of %u beams, which does not follow "
                      "its cache. This is a bug; please report it."),
                   step->position, B);
      return FALSE;
    }
  for (guint b = 0; b < B; b++)
    if (step->tokens[b] < 0 || (gsize) step->tokens[b] >= vocab_rows ||
        (step->reorder != NULL && step->reorder[b] >= B))
      {
        g_set_error (error, FLORENCE_GRAPH_ERROR, FLORENCE_GRAPH_ERROR_INPUT,
                     _ ("The decoder was given the token id %d, which is outside the "
                        "vocabulary. This is a bug; please report it."),
                     step->tokens[b]);
        return FALSE;
      }
  return TRUE;
}

void
florence_graph_reorder_cache (float *cache, const FlorenceDecodeStep *step, gsize d)
{
  const guint B = step->n_beams;
  if (step->position == 0 || step->reorder == NULL)
    return;
  gboolean identity = TRUE;
  for (guint b = 0; b < B; b++)
    identity = identity && step->reorder[b] == b;
  if (identity)
    return;
  const gsize row = (gsize) B * d;
  g_autofree float *tmp = g_new (float, row);
  for (gsize j = 0; j < step->position; j++)
    {
      float *r = cache + j * row;
      for (guint b = 0; b < B; b++)
        memcpy (tmp + (gsize) b * d, r + (gsize) step->reorder[b] * d, d * sizeof (float));
      memcpy (r, tmp, row * sizeof (float));
    }
}
