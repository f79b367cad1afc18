/* depict-image-loader.c
 *
 * The app's door to src/image: image_load() for the full photo (every format Depict reads,
 * EXIF orientation applied, the same pixels the model sees) and image_thumbnail_load() for
 * thumbnails, wrapped as GdkTextures and run in GLib's worker threads.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-image-loader"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-image-loader.h"
#include "image/image-loader.h"
#include "image/image-thumbnail.h"

static GdkTexture *
texture_from_rgb (ImageRgb *rgb)
{
  g_autoptr (GBytes) bytes = NULL;

  /* The texture takes the pixels; ImageRgb keeps no other reference to them. */
  bytes = g_bytes_new_take (g_steal_pointer (&rgb->data), (gsize) rgb->height * rgb->stride);
  return gdk_memory_texture_new (rgb->width, rgb->height, GDK_MEMORY_R8G8B8, bytes, rgb->stride);
}

/* max_side > 0: a thumbnail whose longest side is at most max_side; 0: the whole photo. */
GdkTexture *
depict_image_loader_load (GFile *file, int max_side, GCancellable *cancellable, GError **error)
{
  g_autoptr (ImageRgb) rgb = NULL;
  g_autofree char *path = NULL;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  path = g_file_get_path (file);
  if (path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _ ("“%s” is not a local file. Copy it to this computer first."), uri);
      return NULL;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  if (max_side > 0)
    rgb = image_thumbnail_load (path, max_side, error);
  else
    rgb = image_load (path, NULL, error);
  if (rgb == NULL)
    return NULL;
  return texture_from_rgb (rgb);
}

static void
load_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  GFile *file = source_object;
  int max_side = GPOINTER_TO_INT (task_data);
  GError *error = NULL;
  GdkTexture *texture = depict_image_loader_load (file, max_side, cancellable, &error);

  if (texture == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, texture, g_object_unref);
}

void
depict_image_loader_load_async (GFile *file, int max_side, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (file, cancellable, callback, user_data);
  g_task_set_source_tag (task, depict_image_loader_load_async);
  g_task_set_task_data (task, GINT_TO_POINTER (max_side), NULL);
  g_task_run_in_thread (task, load_thread);
}

GdkTexture *
depict_image_loader_load_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
