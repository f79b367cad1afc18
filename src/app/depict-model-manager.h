/* depict-model-manager.h: the window that downloads, lists and deletes models
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define DEPICT_TYPE_MODEL_MANAGER (depict_model_manager_get_type ())

G_DECLARE_FINAL_TYPE (DepictModelManager, depict_model_manager, DEPICT, MODEL_MANAGER, AdwWindow)

DepictModelManager *depict_model_manager_new (GtkWindow *parent, GSettings *settings);

/* Starts the download of a model of the catalogue (as its Download button does). */
void depict_model_manager_download (DepictModelManager *self, const char *model_id);
/* For tests: whether a download is running, and the row's state text. */
gboolean depict_model_manager_is_busy (DepictModelManager *self);
const char *depict_model_manager_get_row_state (DepictModelManager *self, const char *model_id);

G_END_DECLS
