/* depict-gallery-view.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "depict-session.h"

G_BEGIN_DECLS

#define DEPICT_TYPE_GALLERY_VIEW (depict_gallery_view_get_type ())

G_DECLARE_FINAL_TYPE (DepictGalleryView, depict_gallery_view, DEPICT, GALLERY_VIEW, GtkWidget)

void depict_gallery_view_set_session (DepictGalleryView *self, DepictSession *session);
void depict_gallery_view_reload (DepictGalleryView *self);
void depict_gallery_view_search (DepictGalleryView *self, const char *text, const char *tag);
void depict_gallery_view_focus_search (DepictGalleryView *self);
GListModel *depict_gallery_view_get_model (DepictGalleryView *self);
const char *depict_gallery_view_get_page (DepictGalleryView *self);
void depict_gallery_view_remove (DepictGalleryView *self, const gint64 *ids, guint n_ids);
void depict_gallery_view_forget_removed (DepictGalleryView *self);
gboolean depict_gallery_view_get_selection_mode (DepictGalleryView *self);
GtkSelectionModel *depict_gallery_view_get_selection (DepictGalleryView *self);
AdwToast *depict_gallery_view_get_removal_toast (DepictGalleryView *self);

G_END_DECLS
