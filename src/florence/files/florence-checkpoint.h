/* florence-checkpoint.h: the weights of a Florence-2 model directory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Opens, in this order of preference, model.safetensors, sharded safetensors
 * (model.safetensors.index.json) or the official pytorch_model.bin (a torch.save zip read by a
 * small strict pickle reader that never executes code). The files are memory-mapped: tensors
 * point into the mapping, there is no second host copy of the weights.
 *
 * Names: every tensor is served under its ORIGINAL (remote-code) name, spec §6.2, e.g.
 * "language_model.model.shared.weight". Checkpoints of the native transformers port (spec §6.3,
 * "model.vision_tower.convs.0.conv.weight", ...) are mapped back to those names:
 *  - "model.multi_modal_projector.image_projection.weight" [d_model, D] is served transposed as
 *    "image_projection" [D, d_model] (a small transposed copy made once at open: the only
 *    weights the loader copies);
 *  - "language_model.final_logits_bias", which the port drops, is served as zeros.
 * Tied embeddings: "language_model.lm_head.weight", "...encoder.embed_tokens.weight" and
 * "...decoder.embed_tokens.weight" resolve to "language_model.model.shared.weight" when the file
 * does not hold them (when it does, they are served as stored and their shape is checked).
 *
 * Padded vocabulary: native checkpoints have 51 328 embedding rows (ids >= 51 289 are not real
 * tokens). florence_checkpoint_get_vocab_rows() returns the number of rows of shared.weight (and
 * lm_head.weight, final_logits_bias when stored); the model must use only the first
 * config->vocab_size rows for its logits (rows >= vocab_size are never candidates). The row
 * stride of the embedding matrix is still d_model, so the first vocab_size rows are a prefix.
 *
 * Every expected tensor's shape is validated against the config before open returns; tensors
 * with names the table does not know are ignored (g_debug), except layers or blocks beyond the
 * config's counts, which mean the weights belong to a bigger model (an error).
 *
 * After open, everything is read-only: lookups may run from any thread. A file truncated while it
 * is mapped does not crash the process: reads past the cut see zeros, and
 * florence_checkpoint_check() says so.
 */
#pragma once

#include <glib.h>

#include "florence/files/florence-config.h"

G_BEGIN_DECLS

#define FLORENCE_CHECKPOINT_ERROR (florence_checkpoint_error_quark ())

typedef enum {
  FLORENCE_CHECKPOINT_ERROR_NOT_FOUND,   /* no weights file in the directory */
  FLORENCE_CHECKPOINT_ERROR_CORRUPT,     /* truncated file, lying header, bad archive or pickle */
  FLORENCE_CHECKPOINT_ERROR_UNSUPPORTED, /* dtype, pickle opcode or global we do not accept */
  FLORENCE_CHECKPOINT_ERROR_MISSING,     /* an expected tensor is absent */
  FLORENCE_CHECKPOINT_ERROR_SHAPE,       /* a tensor's shape does not match the config */
} FlorenceCheckpointError;

GQuark florence_checkpoint_error_quark (void);

typedef enum { FLORENCE_DTYPE_F32, FLORENCE_DTYPE_F16, FLORENCE_DTYPE_BF16 } FlorenceDType;

typedef enum {
  FLORENCE_CHECKPOINT_FORMAT_SAFETENSORS,         /* model.safetensors */
  FLORENCE_CHECKPOINT_FORMAT_SAFETENSORS_SHARDED, /* model.safetensors.index.json + shards */
  FLORENCE_CHECKPOINT_FORMAT_PYTORCH,             /* pytorch_model.bin (torch.save zip) */
} FlorenceCheckpointFormat;

typedef struct {
  const char *name; /* ORIGINAL (remote-code) name, e.g. "language_model.model.shared.weight" */
  FlorenceDType dtype;
  guint n_dims;
  gint64 shape[4];
  gsize n_elements;
  /* Little-endian, contiguous, inside the mmap. Files written by torch.save (64-byte
   * aligned entries) and the safetensors library (8-byte padded header) keep it aligned to
   * the element size; other writers may not, and the loader does not copy to fix that:
   * read it with memcpy (uploads) or florence_tensor_to_f32, never through a cast. */
  const void *data;
} FlorenceTensor;

/* One entry of the table of tensors a config expects (spec §6.2). */
typedef struct {
  char *name;
  guint n_dims;
  gint64 shape[4];
  gboolean is_buffer; /* final_logits_bias, pos_idx_to_embed: not a parameter (spec §11.1) */
  gboolean is_tied;   /* lm_head / embed_tokens: an alias of shared.weight, may be absent */
} FlorenceTensorSpec;

typedef struct _FlorenceCheckpoint FlorenceCheckpoint;

/* Opens model.safetensors, *.safetensors shards (model.safetensors.index.json) or
 * pytorch_model.bin in model_dir, maps native-port names back to original names, applies the
 * tied-embedding fallbacks, and validates EVERY tensor's shape against config before returning. */
FlorenceCheckpoint *florence_checkpoint_open (const char *model_dir, const FlorenceConfig *config,
                                              GError **error);

/* The same for one given file (.safetensors, .bin, or a model.safetensors.index.json). */
FlorenceCheckpoint *florence_checkpoint_open_file (const char *path, const FlorenceConfig *config,
                                                   GError **error);

const FlorenceTensor *florence_checkpoint_lookup (FlorenceCheckpoint *ckpt,
                                                  const char *name); /* NULL if absent */
/* FALSE, with a FLORENCE_CHECKPOINT_ERROR_CORRUPT error naming the file, when a weights file was
 * cut short while it was read (florence-file.h): what was read from it since open is zeros past
 * the cut, to be thrown away. Whoever reads the tensors (an engine that uploads or converts them,
 * the hash) calls it once done. */
gboolean florence_checkpoint_check (FlorenceCheckpoint *ckpt, GError **error);
const char *florence_checkpoint_get_path (FlorenceCheckpoint *ckpt);
const char *florence_checkpoint_get_sha256 (
  FlorenceCheckpoint *ckpt); /* lazily computed weights hash, for the gallery; may be slow */
FlorenceCheckpointFormat florence_checkpoint_get_format (FlorenceCheckpoint *ckpt);
gsize florence_checkpoint_get_vocab_rows (FlorenceCheckpoint *ckpt); /* 51289, or 51328 (native) */
gboolean florence_checkpoint_is_native (FlorenceCheckpoint *ckpt);   /* native-port names */
/* The tensors served, in the order of florence_checkpoint_expected_tensors(): those the file
 * holds (tied aliases included when stored) plus the synthesized ones (native: zero
 * final_logits_bias); the tied fallbacks to shared.weight are not listed. tiny: 274,
 * tiny-bin: 277. */
guint florence_checkpoint_get_n_tensors (FlorenceCheckpoint *ckpt);
const FlorenceTensor *florence_checkpoint_get_tensor (FlorenceCheckpoint *ckpt, guint index);
guint64 florence_checkpoint_get_n_bytes (
  FlorenceCheckpoint *ckpt); /* weight bytes; a storage shared by tied names counts once */
/* Drops the memory pages of @t's data from this process (the whole pages inside it, by
 * madvise MADV_DONTNEED on the read-only mapping): an engine that has converted a tensor to
 * its own layout calls it, so that the mapping and the converted weights are not resident
 * together. Nothing is lost: reading the tensor again faults the pages back in from the file.
 * Does nothing for a tensor the loader copied (outside the mappings). */
void florence_checkpoint_release_tensor (FlorenceCheckpoint *ckpt, const FlorenceTensor *t);
void florence_checkpoint_free (FlorenceCheckpoint *ckpt);

gsize florence_dtype_size (FlorenceDType dtype);
const char *florence_dtype_to_string (FlorenceDType dtype);        /* "F16", "BF16", "F32" */
void florence_tensor_to_f32 (const FlorenceTensor *t, float *dst); /* converts n_elements values */
/* The same conversions as gpu_half_to_float () and gpu_half_from_float () (gpu-half.h),
 * which new code should call directly. */
float florence_f16_to_f32 (guint16 h);
guint16 florence_f32_to_f16 (float f); /* round to nearest even */

/* The expected tensors for a config (original names, spec §6.2), vocab_rows rows in the
 * embedding matrices (pass config->vocab_size for the official checkpoints). Elements are
 * FlorenceTensorSpec *, freed with the array. */
GPtrArray *florence_checkpoint_expected_tensors (const FlorenceConfig *config, gsize vocab_rows);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceCheckpoint, florence_checkpoint_free)

G_END_DECLS
