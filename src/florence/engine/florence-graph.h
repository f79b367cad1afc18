/* florence-graph.h: what every implementation of the Florence-2 graph shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The tensors of a DaViT block and of a BART layer, in a fixed order (original names, spec
 * §6.2), the stage geometry, and the checks of an input (image size, prompt) before any work.
 * Used by the CPU reference and the GPU engine, so that both read the same weights the same
 * way and refuse the same inputs with the same sentences.
 */
#pragma once

#include <glib.h>

#include "florence/files/florence-config.h"

G_BEGIN_DECLS

#define FLORENCE_GRAPH_ERROR (florence_graph_error_quark ())

typedef enum {
  FLORENCE_GRAPH_ERROR_INPUT, /* bad image size, too many tokens, an id out of range */
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

/* Tensor @index of block @block of stage @stage (channel or spatial block), C channels. */
void florence_graph_block_tensor (const FlorenceConfig *config, int stage, int block,
                                  gboolean channel, guint index, FlorenceGraphTensor *out);

/* Tensor @index of encoder or decoder layer @layer; FALSE for the cross-attention tensors of
 * an encoder layer (which has none). */
gboolean florence_graph_layer_tensor (const FlorenceConfig *config, gboolean decoder, int layer,
                                      guint index, FlorenceGraphTensor *out);

/* The grid side after stage @stage for a size × size input. */
int florence_graph_stage_grid (const FlorenceConfig *config, int size, int stage);

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

G_END_DECLS
