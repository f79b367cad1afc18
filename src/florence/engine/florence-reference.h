/* florence-reference.h: a plain-C, fp32 CPU implementation of the whole Florence-2 graph
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The debugging oracle of the GPU engine and the CPU decoder backend of the generation tests
 * (spec §1–§5): DaViT vision tower, 2-D position + temporal embedding, pooled token first,
 * projection + LayerNorm, BART encoder (positions over image + prompt tokens), decoder with a
 * self-attention cache and cross-attention keys/values computed once, tied LM head plus
 * final_logits_bias. Weights are converted from the checkpoint to fp32 once; compute is fp32
 * with fp64 statistics (LayerNorm, softmax sums). Straightforward loops: meant to be right and
 * tolerable, not fast (Florence-2-base: tens of seconds per image on a few cores).
 */
#pragma once

#include <gio/gio.h>

#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "florence/generate/florence-generate.h"

G_BEGIN_DECLS

#define FLORENCE_REFERENCE_ERROR (florence_reference_error_quark ())

typedef enum {
  FLORENCE_REFERENCE_ERROR_CONFIG,  /* unused: bad configs are FLORENCE_GRAPH_ERROR_CONFIG */
  FLORENCE_REFERENCE_ERROR_WEIGHTS, /* a tensor is missing or has the wrong size */
  FLORENCE_REFERENCE_ERROR_INPUT,   /* a decoder step that does not follow its cache (bad
                                     * image sizes and prompts: FLORENCE_GRAPH_ERROR) */
} FlorenceReferenceError;

GQuark florence_reference_error_quark (void);

typedef struct _FlorenceReference FlorenceReference;

/* Receives intermediate tensors, named as in the fixtures' expected.safetensors (batch 1,
 * rows × cols, row-major): "vision_stage0" … "vision_stage3", "vision_tower_output",
 * "image_features", "inputs_embeds", "encoder_embeddings", "encoder_layer<l>",
 * "encoder_last_hidden_state". */
typedef void (*FlorenceReferenceTap) (const char *name, const float *data, gsize rows, gsize cols,
                                      gpointer user_data);

/* Converts every weight the graph uses to fp32 (the checkpoint may be closed afterwards). */
FlorenceReference *florence_reference_new (const FlorenceConfig *config,
                                           FlorenceCheckpoint *checkpoint, GError **error);
void florence_reference_free (FlorenceReference *self);

/* Worker threads for the large loops (default: florence_device_default_threads()). */
void florence_reference_set_n_threads (FlorenceReference *self, int n_threads);
void florence_reference_set_tap (FlorenceReference *self, FlorenceReferenceTap tap,
                                 gpointer user_data);

/* pixel_values: [3, size, size] float32, channels first (the processor's output). size must be
 * a multiple of 32 whose final feature grid fits the 2-D position table. Returns the image
 * features [*n_tokens × d_model], the pooled token first (*n_tokens = 1 + grid²). */
float *florence_reference_encode_image (FlorenceReference *self, const float *pixel_values,
                                        int size, int *n_tokens, GCancellable *cancellable,
                                        GError **error);

/* The BART encoder over [image features; shared[ids]]. Returns [*n_out × d_model],
 * *n_out = n_image + n_ids, which must not exceed max_position_embeddings. */
float *florence_reference_encode (FlorenceReference *self, const float *image_features, int n_image,
                                  const gint32 *ids, int n_ids, int *n_out,
                                  GCancellable *cancellable, GError **error);

/* A decoder backend (full logits) attending to encoder_out [n_enc × d_model] (copied into the
 * cross-attention keys/values at once). self must outlive it. */
FlorenceDecoderBackend *florence_reference_decoder_new (FlorenceReference *self,
                                                        const float *encoder_out, int n_enc,
                                                        GError **error);
void florence_reference_decoder_free (FlorenceDecoderBackend *decoder);

const FlorenceConfig *florence_reference_get_config (FlorenceReference *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceReference, florence_reference_free)

G_END_DECLS
