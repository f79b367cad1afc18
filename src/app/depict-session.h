/* depict-session.h: the app's work, apart from its windows
 *
 * One session per process (the application makes it; tests make their own), as
 * gnome-text-editor's EditorSession and gnome-calendar's GcalContext: it owns the settings,
 * the one gallery connection of the process, the loaded model and its weights hash, and one
 * worker thread that does the jobs (depict-job.h) in turn: a run (one task on one photo) or
 * a batch ("Run on All Photos", "Tag Folder": the gallery's tagger). Runs asked for while a
 * batch goes on are done between two of its photos. Windows and their views show the
 * session; they do not own work.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "depict-answer.h"
#include "depict-job.h"
#include "gallery/gallery-store.h"

G_BEGIN_DECLS

#define DEPICT_SESSION_ERROR (depict_session_error_quark ())

typedef enum {
  DEPICT_SESSION_ERROR_NO_MODEL, /* no model installed where the settings point */
  DEPICT_SESSION_ERROR_BUSY,     /* a batch is under way already */
  DEPICT_SESSION_ERROR_INPUT,    /* nothing to do with what was given */
} DepictSessionError;

GQuark depict_session_error_quark (void);

#define DEPICT_TYPE_SESSION (depict_session_get_type ())

G_DECLARE_FINAL_TYPE (DepictSession, depict_session, DEPICT, SESSION, GObject)

/* SETTINGS: the app's (io.github.depict.Depict); GALLERY_PATH NULL: the default gallery. */
DepictSession *depict_session_new (GSettings *settings, const char *gallery_path);
/* The gallery file the session opens. */
char *depict_session_dup_gallery_path (DepictSession *self);

GSettings *depict_session_get_settings (DepictSession *self);

/* What a run would use: the model the settings name (DEPICT_SESSION_ERROR_NO_MODEL with a
 * sentence that says how to get one), beams and tokens within the model's limits
 * (DEPICT_SESSION_ERROR_INPUT otherwise). */
DepictRunSettings *depict_session_read_run_settings (DepictSession *self, GError **error);
gboolean depict_session_has_model (DepictSession *self);
/* The seconds one task took on one photo with SETTINGS' model and device, as measured on
 * the last runs and batches (kept in the settings); 0 when never measured. */
double depict_session_get_task_seconds (DepictSession *self, const DepictRunSettings *settings);

/* The gallery of the process, opened on first use and shared by the views, the runs and the
 * batches (any thread; each call holds the connection for its duration). NULL when it cannot
 * be opened. */
GalleryStore *depict_session_get_store (DepictSession *self, GError **error);
/* Closes the gallery connection, so that a damaged gallery file can be moved aside; the next
 * depict_session_get_store() opens the gallery again. FALSE (and nothing done) while a run,
 * a batch or a load of stored answers may use it. */
gboolean depict_session_close_store (DepictSession *self);
/* Told on the main context after the worker stored something (a run, a batch's photo). */
guint depict_session_get_store_generation (DepictSession *self);

/* Queues TASK on FILE (TEXT_INPUT: its text or region input, NULL when none) and returns the
 * job, or NULL with DEPICT_SESSION_ERROR_NO_MODEL. The answer is kept in the gallery. */
DepictJob *depict_session_run (DepictSession *self, GFile *file, const char *task,
                               const char *text_input, GError **error);
/* Queues TASKS on the photos among FILES (photos and folders, walked recursively) through the
 * gallery's tagger, skipping what the gallery has with the same model and settings. One batch
 * at a time (DEPICT_SESSION_ERROR_BUSY). TITLE says what it is for the person. */
DepictJob *depict_session_tag (DepictSession *self, GPtrArray *files, const char *const *tasks,
                               const char *text_input, const char *title, GError **error);
/* The tasks chosen last for a batch (the batch-tasks setting), or when none were, the ones
 * depict-cli tag runs by default. */
GStrv depict_session_dup_batch_tasks (DepictSession *self);
/* "Tag Folder": those tasks on the photos of FOLDER. */
DepictJob *depict_session_tag_folder (DepictSession *self, GFile *folder, GError **error);

/* The batch under way or paused, or NULL. */
DepictJob *depict_session_get_batch (DepictSession *self);
gboolean depict_session_get_batch_paused (DepictSession *self);
/* Stops the batch after the photo in progress; resuming starts it again, and the photos
 * done are skipped. */
void depict_session_pause_batch (DepictSession *self);
DepictJob *depict_session_resume_batch (DepictSession *self, GError **error);
/* Stops the batch (or forgets the paused one). */
void depict_session_stop_batch (DepictSession *self);

/* Whether a job is queued or under way. */
gboolean depict_session_get_busy (DepictSession *self);

/* The latest stored answer of each task for FILE (a GPtrArray of DepictAnswer, oldest
 * first), read from the gallery in a thread. An unknown photo gives an empty array. */
void depict_session_load_answers_async (DepictSession *self, GFile *file, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *depict_session_load_answers_finish (DepictSession *self, GAsyncResult *result,
                                               GError **error);

G_END_DECLS
