/* depict-model-error.h: what a failed run says when the model, not the photo, is at fault
 *
 * The model's files (config.json, the weights, the tokenizer) can be damaged or cut short;
 * the florence layer's messages then name the file with the details an expert needs. The
 * person sees a sentence in plain words instead: which file of which model, and what to do
 * about it, which depends on where the model came from: a model Depict downloaded is
 * deleted and downloaded again in the Models window, a folder the person chose gets a good
 * copy of that file, or another folder is chosen. Running again cannot help, and the photo
 * did nothing wrong.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Whether ERROR comes from reading the photo (IMAGE_ERROR, or the file itself): only then
 * is the photo marked as failed. */
gboolean depict_model_error_is_photo_error (const GError *error);

/* Whether ERROR says that the model's files are damaged, incomplete or unusable. */
gboolean depict_model_error_is_damaged_model (const GError *error);

/* The title and the plain sentence for a damaged model (depict_model_error_is_damaged_model)
 * loaded from MODEL_DIR: a model Depict downloaded, or a folder the person chose. */
char *depict_model_error_describe (const GError *error, const char *model_dir, char **title);

G_END_DECLS
