/* florence-graph.h: what every implementation of the Florence-2 graph shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The tensors of a DaViT block and of a BART layer, in a fixed order (original names, spec
 * §6.2), the stage geometry, and the checks of an input (image size, prompt) before any work.
 * Used by every engine (the CPU reference, the CPU engine, the GPU engine), so that all read
 * the same weights under the same names and refuse the same inputs with the same sentences.
 */
#pragma once

#include <glib.h>

#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "florence/generate/florence-generate.h"

G_BEGIN_DECLS

#define FLORENCE_GRAPH_ERROR (florence_graph_error_quark ())

typedef enum {
  FLORENCE_GRAPH_ERROR_INPUT,   /* bad image size, too many tokens, an id out of range */
  FLORENCE_GRAPH_ERROR_CONFIG,  /* the config describes a graph that cannot run */
  FLORENCE_GRAPH_ERROR_WEIGHTS, /* a tensor is missing or has the wrong size */
} FlorenceGraphError;

GQuark florence_graph_error_quark (void);

/* The 16 tensors of a spatial or channel block, as (weight, bias) pairs in this order:
 * conv1, norm1, qkv, proj, conv2, norm2, fc1, fc2. */
enum {
  FLORENCE_BLOCK_N_TENSORS = 16,
};

/* The 26 tensors of a BART layer, as (weight, bias) pairs in this order: self-attention q, k,
 * v, out, its norm; cross-attention q, k, v, out, its norm (decoder only); fc1, fc2, the final
 * norm. */
enum {
  FLORENCE_LAYER_N_TENSORS = 26,
};

typedef struct {
  char *name;
  gsize n_elements;
  gboolean matrix; /* a Linear weight (a GEMM operand), as opposed to a bias, norm or kernel */
} FlorenceGraphTensor;

void florence_graph_tensor_clear (FlorenceGraphTensor *t);

/* The 4 tensors of stage @stage's patch embedding, in this order: the convolution's weight
 * [c_out, c_in, k, k] and bias, the LayerNorm's weight and bias (over c_in when the stage
 * normalises before the convolution, patch_prenorm, else over c_out). */
enum {
  FLORENCE_STAGE_N_TENSORS = 4,
};
void florence_graph_stage_tensor (const FlorenceConfig *config, int stage, guint index,
                                  FlorenceGraphTensor *out);

/* The tensors outside the stages, blocks and layers. */
typedef enum {
  FLORENCE_GRAPH_POS_ROW,           /* [image_pos_max, D/2] */
  FLORENCE_GRAPH_POS_COLUMN,        /* [image_pos_max, D - D/2] */
  FLORENCE_GRAPH_TEMPORAL,          /* [temporal_max, D] */
  FLORENCE_GRAPH_PROJECTION,        /* [D, d_model], applied as x · W */
  FLORENCE_GRAPH_PROJECTION_NORM_W, /* [d_model] */
  FLORENCE_GRAPH_PROJECTION_NORM_B,
  FLORENCE_GRAPH_SHARED,            /* [vocab_rows, d_model]: embeddings and the tied LM head */
  FLORENCE_GRAPH_FINAL_LOGITS_BIAS, /* [vocab_rows] */
  FLORENCE_GRAPH_ENCODER_POSITIONS, /* [max_position_embeddings + 2, d_model] */
  FLORENCE_GRAPH_DECODER_POSITIONS,
  FLORENCE_GRAPH_ENCODER_EMBED_NORM_W, /* [d_model] */
  FLORENCE_GRAPH_ENCODER_EMBED_NORM_B,
  FLORENCE_GRAPH_DECODER_EMBED_NORM_W,
  FLORENCE_GRAPH_DECODER_EMBED_NORM_B,
  FLORENCE_GRAPH_N_MODEL_TENSORS,
} FlorenceGraphModelTensor;

/* Tensor @which with @vocab_rows embedding rows (florence_checkpoint_get_vocab_rows(), at
 * least config->vocab_size). */
void florence_graph_model_tensor (const FlorenceConfig *config, gsize vocab_rows,
                                  FlorenceGraphModelTensor which, FlorenceGraphTensor *out);

/* Tensor @index of block @block of stage @stage (channel or spatial block), C channels. */
void florence_graph_block_tensor (const FlorenceConfig *config, int stage, int block,
                                  gboolean channel, guint index, FlorenceGraphTensor *out);

/* Tensor @index of encoder or decoder layer @layer; FALSE for the cross-attention tensors of
 * an encoder layer (which has none). */
gboolean florence_graph_layer_tensor (const FlorenceConfig *config, gboolean decoder, int layer,
                                      guint index, FlorenceGraphTensor *out);

/* The grid side after stage @stage for a size × size input. */
int florence_graph_stage_grid (const FlorenceConfig *config, int size, int stage);

/* Checks that the config's sizes fit together (widths that the heads divide, positive
 * counts, projection_dim = d_model) before any weight is read. */
gboolean florence_graph_check_config (const FlorenceConfig *config, GError **error);

/* Checks an image side before any work: a multiple of 32 whose final grid fits the position
 * table. *n_image receives the image tokens (1 + grid²). */
gboolean florence_graph_check_image_size (const FlorenceConfig *config, int size, int *n_image,
                                          GError **error);

/* Checks prompt ids: inside the vocabulary, and n_image + n_ids ≤ max_position_embeddings. */
gboolean florence_graph_check_prompt (const FlorenceConfig *config, int n_image, const gint32 *ids,
                                      int n_ids, GError **error);

/* Both. */
gboolean florence_graph_check_input (const FlorenceConfig *config, int size, const gint32 *ids,
                                     int n_ids, int *n_image, GError **error);

/* The checkpoint's tensor @name with @n_elements values, or NULL with an error that says
 * which tensor is missing or has the wrong size. */
const FlorenceTensor *florence_graph_lookup (FlorenceCheckpoint *checkpoint, const char *name,
                                             gsize n_elements, GError **error);

/* Checks a decoder step against a self-attention cache of @cached positions of @n_beams
 * beams: the position follows the cache, the tokens are among the @vocab_rows embedding rows,
 * the reorder indices are beams. */
gboolean florence_graph_check_step (const FlorenceConfig *config, const FlorenceDecodeStep *step,
                                    guint n_beams, gsize cached, gsize vocab_rows, GError **error);

/* Reorders a self-attention cache laid out as [position][beam][d] in place: for positions
 * < step->position, beam b takes what beam step->reorder[b] had (nothing to do without a
 * reorder or when it is the identity). */
void florence_graph_reorder_cache (float *cache, const FlorenceDecodeStep *step, gsize d);

G_END_DECLS
