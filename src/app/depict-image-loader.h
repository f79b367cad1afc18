/* depict-image-loader.h
 *
 * Photos and thumbnails as GdkTextures, oriented as a person sees them, loaded off the
 * main thread.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GdkTexture *depict_image_loader_load (GFile *file, int max_side, GCancellable *cancellable,
                                      GError **error);
void depict_image_loader_load_async (GFile *file, int max_side, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
GdkTexture *depict_image_loader_load_finish (GAsyncResult *result, GError **error);

G_END_DECLS
