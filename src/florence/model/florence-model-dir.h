/* florence-model-dir.h: which model folder a setting or a --model option names
 *
 * One rule for the app and depict-cli:
 *   - a catalogue id ("base", "base-ft", "large", "large-ft", florence-hub.h) names that model
 *     in the models folder, which must be installed;
 *   - anything else names a folder holding config.json and the weights;
 *   - nothing (NULL or "") names the first installed model in catalogue order (base first).
 * The name a run is stored under in the gallery is the loaded model's
 * florence_model_get_config (model)->name: the catalogue id for an installed model, the
 * folder's name otherwise.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLORENCE_MODEL_DIR_ERROR (florence_model_dir_error_quark ())

typedef enum {
  FLORENCE_MODEL_DIR_ERROR_NOT_INSTALLED,  /* a catalogue model that is not installed */
  FLORENCE_MODEL_DIR_ERROR_NONE_INSTALLED, /* no model named, and none installed */
  FLORENCE_MODEL_DIR_ERROR_NOT_FOUND,      /* neither a catalogue id nor a model folder */
} FlorenceModelDirError;

GQuark florence_model_dir_error_quark (void);

/* The folder of the model MODEL names (see above), or NULL with FLORENCE_MODEL_DIR_ERROR and
 * a sentence that says how to get one. */
char *florence_model_dir_resolve (const char *model, GError **error);

G_END_DECLS
