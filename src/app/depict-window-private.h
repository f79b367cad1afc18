/* depict-window-private.h: what depict-window*.c share
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "depict-gallery-view.h"
#include "depict-inference.h"
#include "depict-queue-item.h"
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
  GtkWidget *view_controls;  /* the zoom and layer buttons over the photo */
  GtkWidget *layer_toggles;
  GtkWidget *boxes_toggle;
  GtkWidget *masks_toggle;
  GtkWidget *text_toggle;
  GtkWidget *queue_button;
  GtkRevealer *region_hint_revealer;
  GtkWidget *side_pane;
  DepictTaskPicker *task_picker;
  DepictResultsPane *results_pane;
  DepictGalleryView *gallery_view;
  GtkRevealer *drop_revealer;

  GSettings *settings;
  GListStore *queue;
  GtkSingleSelection *queue_selection;
  DepictQueueItem *current;       /* the photo shown */
  GCancellable *load_cancellable; /* loading the shown photo; NULL once loaded */
  guint stale_photo_timeout;      /* hides the previous photo when the next one is slow */
  GListStore *items;              /* overlay items of the shown result */
  JsonNode *result;               /* the shown result */
  char *result_task;

  DepictInferenceJob *job; /* the run in progress, or NULL */
  GCancellable *run_cancellable;
  GCancellable *scan_cancellable; /* folders being listed */
  char *run_all_task;             /* "Run on All Photos" in progress: its task and text */
  char *run_all_text;
  GHashTable *run_all_done; /* the items it has started, so each runs once */
  guint run_all_total;      /* how many it had to do when it began */
  GtkButton *run_all_button;
  gboolean narrow; /* results below the photo */
  gboolean showing_result;
  guint n_toasts; /* shown or waiting: the view controls make room */
  guint layout_idle;
  guint reveal_idle;
};

void _depict_window_class_actions_init (DepictWindowClass *klass);
void _depict_window_actions_init (DepictWindow *self);
void _depict_window_update_actions (DepictWindow *self);
void _depict_window_dnd_init (DepictWindow *self);
void _depict_window_set_drop_feedback (DepictWindow *self, gboolean active);
void _depict_window_open_dialog (DepictWindow *self, gboolean folder_for_tagging);

G_END_DECLS
