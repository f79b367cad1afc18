/* florence-checkpoint-private.h: what the weight-file readers hand to the checkpoint
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The readers (florence-safetensors.c, florence-pickle.c) validate a file's layout and list its
 * tensors as FlorenceRawTensor: a name as stored, a dtype, a shape and a pointer into the
 * caller's buffer (the mmap). They know nothing of Florence-2; florence-checkpoint.c maps names
 * and checks shapes against the config.
 */
#pragma once

#include "florence/files/florence-checkpoint.h"

G_BEGIN_DECLS

#define FLORENCE_RAW_MAX_DIMS 8

typedef struct {
  char *name;
  char *dtype_name;     /* as the file spells it: "F16", "I64", "HalfStorage", ... */
  gboolean dtype_known; /* dtype is one of F16/BF16/F32 */
  FlorenceDType dtype;
  guint n_dims;
  gint64 shape[FLORENCE_RAW_MAX_DIMS];
  gsize n_elements;
  const guint8 *data; /* inside the buffer given to the reader; may be unaligned */
  gsize n_bytes;
  const char *file; /* set by the checkpoint: the file it came from, for messages */
  gboolean used;    /* set by the checkpoint: matched an expected tensor */
} FlorenceRawTensor;

void florence_raw_tensor_free (FlorenceRawTensor *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceRawTensor, florence_raw_tensor_free)

/* Sets a FLORENCE_CHECKPOINT_ERROR_CORRUPT error about file "path". */
void florence_checkpoint_set_corrupt (GError **error, const char *path, const char *format, ...)
  G_GNUC_PRINTF (3, 4);

G_END_DECLS
