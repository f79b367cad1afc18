/* cli-serve-gallery.c: depict-cli serve --gallery (see cli-serve-gallery.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "cli-serve-gallery.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "cli-gallery.h"
#include "gallery/gallery-run.h"
#include "gallery/gallery-store.h"

struct _CliServeGallery {
  GalleryStore *store;
  char *model_name;
  char *weights_hash;
  char *received_dir;
};

CliServeGallery *
cli_serve_gallery_open (const char *db_path, GError **error)
{
  g_autoptr (GalleryStore) store = cli_gallery_open (db_path, FALSE, error);
  CliServeGallery *gallery;

  if (store == NULL)
    return NULL;
  gallery = g_new0 (CliServeGallery, 1);
  gallery->store = g_steal_pointer (&store);
  gallery->received_dir = g_build_filename (g_get_user_data_dir (), "depict", "received", NULL);
  return gallery;
}

void
cli_serve_gallery_free (CliServeGallery *gallery)
{
  if (gallery == NULL)
    return;
  gallery_store_close (gallery->store);
  g_free (gallery->model_name);
  g_free (gallery->weights_hash);
  g_free (gallery->received_dir);
  g_free (gallery);
}

void
cli_serve_gallery_set_model (CliServeGallery *gallery, const char *model_name,
                             const char *weights_hash)
{
  g_free (gallery->model_name);
  g_free (gallery->weights_hash);
  gallery->model_name = g_strdup (model_name);
  gallery->weights_hash = g_strdup (weights_hash);
}

/* A picture sent in a request, kept as received/<sha256>.<type>; written once, atomically. */
static char *
keep_upload (CliServeGallery *gallery, GBytes *bytes, GError **error)
{
  gsize size;
  const guchar *data = g_bytes_get_data (bytes, &size);
  g_autofree char *hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  g_autofree char *type = g_content_type_guess (NULL, data, size, NULL);
  g_autofree char *mime = g_content_type_get_mime_type (type);
  const char *slash = mime != NULL ? strchr (mime, '/') : NULL;
  g_autofree char *name = g_strdup_printf (
    "%s.%s", hash, slash != NULL && g_str_has_prefix (mime, "image/") ? slash + 1 : "image");
  g_autofree char *path = g_build_filename (gallery->received_dir, name, NULL);

  if (g_mkdir_with_parents (gallery->received_dir, 0700) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   _ ("The folder %s cannot be made, so the picture was not kept."),
                   gallery->received_dir);
      return NULL;
    }
  if (!g_file_test (path, G_FILE_TEST_EXISTS) &&
      !g_file_set_contents_full (path, (const char *) data, (gssize) size,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, error))
    return NULL;
  return g_steal_pointer (&path);
}

gboolean
cli_serve_gallery_store (const CliServeRequest *request, const char *path, const FlorenceRun *run,
                         gpointer data, GError **error)
{
  CliServeGallery *gallery = data;
  g_autofree char *kept = NULL;
  g_autoptr (GalleryRun) stored = NULL;
  gint64 image_id;

  if (request->image != NULL)
    {
      kept = keep_upload (gallery, request->image, error);
      if (kept == NULL)
        return FALSE;
      path = kept;
    }
  image_id = gallery_store_add_image (gallery->store, path, NULL, error);
  if (image_id == 0)
    return FALSE;

  stored = gallery_run_new_from_florence (run, gallery->model_name, gallery->weights_hash,
                                          (int) request->max_new_tokens);
  return gallery_store_add_run (gallery->store, image_id, stored, error) != 0;
}
