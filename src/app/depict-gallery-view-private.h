/* depict-gallery-view-private.h: what the Gallery page's files share
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "depict-gallery-view.h"

G_BEGIN_DECLS

struct _DepictGalleryView {
  GtkWidget parent_instance;

  GtkWidget *box;
  GtkSearchEntry *search_entry;
  GtkDropDown *tag_dropdown;
  GtkRevealer *batch_revealer;
  GtkLabel *batch_title;
  GtkLabel *batch_detail;
  GtkButton *batch_pause_button;
  GtkProgressBar *batch_progress;
  GtkStack *stack;
  AdwStatusPage *error_page;
  GtkWidget *retry_button;
  GtkWidget *start_new_button;
  GtkWidget *folder_button;
  GtkGridView *grid_view;
  GtkToggleButton *select_button;
  GtkRevealer *selection_revealer;
  GtkLabel *selection_label;

  DepictSession *session;
  GListStore *model;
  GHashTable *thumbnails; /* path → GdkTexture: kept across searches */
  GtkStringList *tags;
  gboolean updating_tags;
  guint shown_generation;       /* the session's store generation last shown */
  GtkMultiSelection *selection; /* over model, in selection mode */
  GArray *removing;             /* image ids removed, until their Undo runs out */
  AdwToast *removal_toast;      /* the Undo of removing */
  gboolean pointer_inside;      /* the pointer is over the view: nothing moves */
  gboolean reload_waiting;      /* answers stored while it was */

  DepictJob *batch; /* the session's batch shown */
};

/* depict-gallery-view.c */
void _depict_gallery_view_refresh (DepictGalleryView *self, gboolean tags);
void _depict_gallery_view_toast (DepictGalleryView *self, const char *message);

/* depict-gallery-view-selection.c: selection mode, removing photos, editing tags */
void _depict_gallery_view_selection_class_init (GtkWidgetClass *widget_class);
void _depict_gallery_view_selection_init (DepictGalleryView *self);
void _depict_gallery_view_setup_cell_selection (GtkListItem *list_item, GtkWidget *box,
                                                GtkWidget *check);
gboolean _depict_gallery_view_selecting (DepictGalleryView *self);
void _depict_gallery_view_set_selecting (DepictGalleryView *self, gboolean on);
void _depict_gallery_view_update_selection (DepictGalleryView *self);
gboolean _depict_gallery_view_is_removing (DepictGalleryView *self, gint64 image_id);

G_END_DECLS
