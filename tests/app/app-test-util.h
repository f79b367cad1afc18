/* app-test-util.h: helpers shared by the app tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A new, empty $XDG_DATA_HOME (the gallery, models) for this process: call first in main().
 * (G_TEST_OPTION_ISOLATE_DIRS would also hide the icon theme and the MIME database.) */
void app_test_private_data_dir (void);
/* gtk_init_check() + adw_init(); exits 77 (skipped) when there is no display. */
void app_test_init_gtk (int *argc, char ***argv);
char *app_test_data_path (const char *first, ...) G_GNUC_NULL_TERMINATED;
JsonNode *app_test_load_json (const char *path);
/* The "expected" object of the post-processing fixture case NAME. */
JsonNode *app_test_postprocess_case (const char *name, int *image_w, int *image_h);
/* Iterates the main context until cond (data) is TRUE; fails the test after timeout_ms. */
void app_test_wait (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms,
                    const char *what);
void app_test_spin (guint ms);

G_END_DECLS
