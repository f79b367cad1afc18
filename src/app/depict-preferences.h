/* depict-preferences.h: the preferences window (model, compute device, generation)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

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

G_END_DECLS
