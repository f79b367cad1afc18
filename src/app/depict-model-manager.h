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
/* Uses the model in the folder PATH (as Use a Model Folder does); FALSE, with the reason in
 * the folder row, when it lacks files. */
gboolean depict_model_manager_use_folder (DepictModelManager *self, const char *path);
/* For tests: whether a download is running, a row's state text and subtitle (MODEL_ID NULL:
 * the folder in use, or Use a Model Folder when none is), why the folder chosen last was
 * refused. */
gboolean depict_model_manager_is_busy (DepictModelManager *self);
const char *depict_model_manager_get_row_state (DepictModelManager *self, const char *model_id);
const char *depict_model_manager_get_row_subtitle (DepictModelManager *self, const char *model_id);
const char *depict_model_manager_get_folder_problem (DepictModelManager *self);

G_END_DECLS
