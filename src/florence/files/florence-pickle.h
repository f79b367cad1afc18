/* florence-pickle.h: reads a torch.save state dict (pytorch_model.bin) without executing code
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A torch.save file is a zip archive: <prefix>/data.pkl (a pickle) and one raw storage per
 * tensor under <prefix>/data/<key>. This reader interprets only the pickle opcodes and the few
 * globals a state dict uses (collections.OrderedDict, torch._utils._rebuild_tensor_v2 and
 * _rebuild_parameter, torch.{Half,Float,BFloat16}Storage, persistent ids naming storages) and
 * refuses everything else with an error. It never imports or calls anything. Tensors must be
 * contiguous; several may share one storage (tied weights).
 */
#pragma once

#include "florence/files/florence-checkpoint-private.h"

G_BEGIN_DECLS

/* Appends one FlorenceRawTensor per state-dict entry to tensors (data points into data). */
gboolean florence_pickle_read_state_dict (const guint8 *data, gsize size, const char *path,
                                          GPtrArray *tensors, GError **error);

/* Interprets a bare pickle (no archive); storages are looked up in entries (FlorenceZipEntry,
 * names "<prefix>data/<key>") inside archive[0..archive_size). For tests and fuzzing. */
gboolean florence_pickle_interpret (const guint8 *pickle, gsize pickle_size, const guint8 *archive,
                                    gsize archive_size, GPtrArray *entries, const char *prefix,
                                    const char *path, GPtrArray *tensors, GError **error);

G_END_DECLS
