/* depict-preferences.h: the preferences window (model, device, generation, local API)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "depict-api-service.h"

G_BEGIN_DECLS

#define DEPICT_TYPE_PREFERENCES_WINDOW (depict_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (DepictPreferencesWindow, depict_preferences_window, DEPICT,
                      PREFERENCES_WINDOW, AdwPreferencesWindow)

/* @devices: a GPtrArray of FlorenceDeviceInfo to offer (NULL: florence_device_list () now). */
DepictPreferencesWindow *depict_preferences_window_new (GtkWindow *parent, GSettings *settings,
                                                        GPtrArray *devices);
/* For tests: the labels of the device choices, "Automatic" first. */
GStrv depict_preferences_window_dup_device_labels (DepictPreferencesWindow *self);
const char *depict_preferences_window_get_device_note (DepictPreferencesWindow *self);
AdwComboRow *depict_preferences_window_get_device_row (DepictPreferencesWindow *self);
GtkSpinButton *depict_preferences_window_get_beams_spin (DepictPreferencesWindow *self);
GtkSpinButton *depict_preferences_window_get_threads_spin (DepictPreferencesWindow *self);
AdwComboRow *depict_preferences_window_get_model_row (DepictPreferencesWindow *self);
/* The app's local API, which the "Local API" row starts and stops. */
void depict_preferences_window_set_api_service (DepictPreferencesWindow *self,
                                                DepictApiService *service);
AdwActionRow *depict_preferences_window_get_api_row (DepictPreferencesWindow *self);
GtkSwitch *depict_preferences_window_get_api_switch (DepictPreferencesWindow *self);
/* The minimum tag confidence, in percent ("min-tag-confidence" is a fraction). */
GtkSpinButton *depict_preferences_window_get_tag_confidence_spin (DepictPreferencesWindow *self);

G_END_DECLS
