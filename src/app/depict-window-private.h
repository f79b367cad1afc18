/* depict-window-private.h: what depict-window*.c share
 *
 * The window is a view over the session (depict-session.h), split by concern:
 *   depict-window.c          the template, layout, toasts, pages, the public API
 *   depict-window-queue.c    the photo list and the photo shown
 *   depict-window-results.c  the answer shown, running a task, the task and region
 *   depict-window-batch.c    "Run on All Photos" and "Tag Folder" (the session's batch)
 *   depict-window-dnd.c      dropped and opened files, checked off the main thread
 *   depict-window-actions.c  the win.* actions
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "depict-confidence-filter.h"
#include "depict-gallery-view.h"
#include "depict-queue-item.h"
#include "depict-session.h"
#include "depict-window.h"

G_BEGIN_DECLS

struct _DepictWindow {
  AdwApplicationWindow parent_instance;

  /* Template children */
  GtkOverlay *drop_overlay;
  AdwToastOverlay *toast_overlay;
  AdwHeaderBar *header_bar;
  AdwViewStack *main_stack;
  GtkStack *photo_stack;
  AdwFlap *flap;
  GtkListView *queue_list;
  DepictImageView *image_view;
  GtkWidget *empty_no_model; /* the empty page's way to a model */
  GtkLabel *empty_no_model_label;
  GtkWidget *view_controls; /* the zoom and layer buttons over the photo */
  GtkWidget *layer_toggles;
  GtkWidget *boxes_toggle;
  GtkWidget *masks_toggle;
  GtkWidget *text_toggle;
  DepictConfidenceFilter *confidence_filter; /* hides the regions the model is less sure of */
  GtkWidget *queue_button;
  GtkRevealer *region_hint_revealer;
  GtkWidget *side_pane;
  DepictTaskPicker *task_picker;
  DepictResultsPane *results_pane;
  DepictGalleryView *gallery_view;
  GtkRevealer *drop_revealer;
  GtkButton *run_all_button;

  DepictSession *session;
  GSettings *settings; /* the session's */

  /* The photo list and the photo shown (depict-window-queue.c) */
  GListStore *queue;
  GtkSingleSelection *queue_selection;
  DepictQueueItem *current;       /* the photo shown */
  GCancellable *load_cancellable; /* loading the shown photo; NULL once loaded */
  guint stale_photo_timeout;      /* hides the previous photo when the next one is slow */
  guint reveal_idle;

  /* The answer shown (depict-window-results.c) */
  GListStore *items;    /* its overlay items */
  DepictAnswer *answer; /* NULL: none shown */
  DepictJob *run_job;   /* the run this window asked for, until it ends */
  gboolean showing_answer;

  /* The batch (depict-window-batch.c) */
  DepictJob *batch;                  /* the session's batch this window follows */
  DepictJob *run_all_job;            /* the batch "Run on All Photos" started, while it goes on */
  AdwMessageDialog *batch_dialog;    /* "Tag …?" while it asks (a weak pointer) */
  GStrv batch_failures;              /* what the last batch could not read, one sentence each */
  AdwMessageDialog *failures_dialog; /* those, while shown (a weak pointer) */
  AdwStatusPage *batch_page;         /* the photo page while a batch goes on and none is open */
  GtkProgressBar *batch_page_bar;
  GFile *batch_page_file;               /* the photo whose thumbnail it shows */
  GCancellable *batch_page_cancellable; /* loading that thumbnail */
  GtkRevealer *batch_strip;             /* over the photo open while a batch goes on */
  GtkLabel *batch_strip_label;

  GCancellable *cancellable; /* files being checked and listed; cancelled on close */
  gboolean narrow;           /* results below the photo */
  guint n_toasts;            /* shown or waiting: the view controls make room */
  guint layout_idle;
};

/* depict-window.c */
void _depict_window_present_toast (DepictWindow *self, AdwToast *toast);
void _depict_window_notify_in_background (DepictWindow *self, const char *message);
void _depict_window_update_empty_page (DepictWindow *self);

/* depict-window-queue.c */
void _depict_window_queue_init (DepictWindow *self);
void _depict_window_queue_dispose (DepictWindow *self);
DepictQueueItem *_depict_window_find_item (DepictWindow *self, GFile *file, guint *position);
void _depict_window_add_photos (DepictWindow *self, GFile **files, guint n_files);
/* The photo list and the photo shown (the gallery, the window title) follow ITEM. */
void _depict_window_show_item (DepictWindow *self, DepictQueueItem *item);

/* depict-window-results.c */
void _depict_window_results_init (DepictWindow *self);
void _depict_window_results_dispose (DepictWindow *self);
/* What the results pane shows for the photo shown: its answer to the chosen task, the run
 * under way, or ready to run. */
void _depict_window_show_current (DepictWindow *self);
void _depict_window_show_answer (DepictWindow *self, DepictAnswer *answer);
typedef enum {
  DEPICT_STORED_ANSWERS_ONCE,        /* the first time the photo is shown */
  DEPICT_STORED_ANSWERS_AGAIN,       /* the gallery has new ones (a batch stored them) */
  DEPICT_STORED_ANSWERS_SHOW_LATEST, /* and show the latest of them, with its task */
} DepictStoredAnswers;

/* Reads the gallery's answers for ITEM in a thread; a newer stored answer of a task replaces
 * the one the photo has. */
void _depict_window_load_stored_answers (DepictWindow *self, DepictQueueItem *item,
                                         DepictStoredAnswers how);
/* Progress of JOB on the photo shown, if it is working on it. */
void _depict_window_show_progress (DepictWindow *self, DepictJob *job);
/* "40 s", "3 min", "1.5 h" */
char *_depict_window_format_duration (double seconds);
/* Why JOB failed, in words that fit: a damaged model names its file and the way to mend it
 * (depict-model-error.h); TITLE (may be NULL) receives a title for it. */
char *_depict_window_describe_job_error (DepictJob *job, const GError *error, char **title);
/* That, on the results pane, with the one button that helps (Open Models, Try Again), if any. */
void _depict_window_show_job_error (DepictWindow *self, DepictJob *job, const GError *error);
/* The human name of a task, with its text input when it has one. */
char *_depict_window_answer_title (DepictAnswer *answer);

/* depict-window-batch.c */
void _depict_window_batch_init (DepictWindow *self);
void _depict_window_batch_dispose (DepictWindow *self);
/* What the photo page shows of the batch under way: with no photo open, the photo being
 * tagged and the batch's progress (else the empty page); over an open photo, a line with the
 * batch's progress. */
void _depict_window_batch_update_photo_page (DepictWindow *self);
/* Asks which tasks to run on FOLDER's photos, then tags it. */
void _depict_window_tag_folder (DepictWindow *self, GFile *folder);
/* The question of _depict_window_tag_folder() while it is open, or NULL. */
AdwMessageDialog *_depict_window_get_batch_dialog (DepictWindow *self);
/* The files the last batch could not read (its toast's Details lists them), and the dialog
 * that lists them while it is open. */
const char *const *_depict_window_get_batch_failures (DepictWindow *self);
AdwMessageDialog *_depict_window_show_batch_failures (DepictWindow *self);

/* depict-window-actions.c */
void _depict_window_class_actions_init (DepictWindowClass *klass);
void _depict_window_actions_init (DepictWindow *self);
void _depict_window_update_actions (DepictWindow *self);
void _depict_window_open_dialog (DepictWindow *self, gboolean folder_for_tagging);
/* Export: where the dialog opens (beside the photo, else Pictures), and the writing of the
 * answer shown, as JSON or as text. */
GFile *_depict_window_export_folder (DepictWindow *self);
gboolean _depict_window_export_to (DepictWindow *self, GFile *file, gboolean as_text,
                                   GError **error);

/* depict-window-dnd.c */
void _depict_window_dnd_init (DepictWindow *self);
void _depict_window_set_drop_feedback (DepictWindow *self, gboolean active);

G_END_DECLS
