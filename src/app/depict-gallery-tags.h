/* depict-gallery-tags.h: the window that edits the tags of one photo of the gallery
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "depict-session.h"

G_BEGIN_DECLS

#define DEPICT_TYPE_GALLERY_TAGS (depict_gallery_tags_get_type ())

G_DECLARE_FINAL_TYPE (DepictGalleryTags, depict_gallery_tags, DEPICT, GALLERY_TAGS, AdwWindow)

/* A window over PARENT that lists the tags of IMAGE_ID (the model's and the person's), adds
 * tags and removes them; every change is stored in SESSION's gallery at once. */
DepictGalleryTags *depict_gallery_tags_new (GtkWindow *parent, DepictSession *session,
                                            gint64 image_id);
/* What the window's entry and remove buttons do (FALSE with a sentence on error, which the
 * window shows as well). */
gboolean depict_gallery_tags_add (DepictGalleryTags *self, const char *name, GError **error);
gboolean depict_gallery_tags_remove (DepictGalleryTags *self, const char *name, GError **error);
/* The tags listed, in order. */
GStrv depict_gallery_tags_dup_names (DepictGalleryTags *self);

G_END_DECLS
