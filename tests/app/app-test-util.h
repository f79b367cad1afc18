/* app-test-util.h: helpers shared by the app tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "depict-answer.h"
#include "depict-session.h"
#include "depict-window.h"

G_BEGIN_DECLS

/* A new, empty $XDG_DATA_HOME (the gallery, models) for this process: call first in main().
 * (G_TEST_OPTION_ISOLATE_DIRS would also hide the icon theme and the MIME database.) */
void app_test_private_data_dir (void);
/* gtk_init_check() + adw_init(); exits 77 (skipped) when there is no display. */
void app_test_init_gtk (int *argc, char ***argv);
char *app_test_data_path (const char *first, ...) G_GNUC_NULL_TERMINATED;
JsonNode *app_test_load_json (const char *path);
/* The typed result of post-processing fixture case NAME's generated text, as the model's
 * would be (the reference's own output is the case's "expected"). */
FlorenceResult *app_test_postprocess_result (const char *name);
/* That result as an answer with INFO. */
DepictAnswer *app_test_answer (const char *name, const char *info);
/* A session over the app's settings and the default gallery (in the private data dir). */
DepictSession *app_test_session_new (void);
/* A window of SESSION, 1000 × 700, presented; and its end. */
DepictWindow *app_test_window_new (DepictSession *session);
void app_test_window_close (DepictWindow *window);
/* The JPEG fixture cut after half of its bytes (a copy that stopped), written in DIR. */
char *app_test_write_half_jpeg (const char *dir);
/* A new folder with a copy of the tiny model whose weights file lost its second half; and
 * its removal. */
char *app_test_damaged_model_dir (void);
void app_test_remove_model_dir (const char *dir);
/* Iterates the main context until cond (data) is TRUE; fails the test after timeout_ms. */
void app_test_wait (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms,
                    const char *what);
void app_test_spin (guint ms);
/* The button labelled LABEL (with its mnemonic) under WIDGET (itself included), or NULL. */
GtkWidget *app_test_find_button (GtkWidget *widget, const char *label);

G_END_DECLS
