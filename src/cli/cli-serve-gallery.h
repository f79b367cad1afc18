/* cli-serve-gallery.h: depict-cli serve --gallery, every answered run kept in the gallery
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A picture named by path is added where it lies; a picture sent in a request is kept first
 * in $XDG_DATA_HOME/depict/received/, named by its SHA-256, so that the gallery can show it
 * again. Used from the queue's worker thread only (one gallery connection, one thread).
 */
#pragma once

#include <glib.h>

#include "cli-serve-request.h"
#include "florence/model/florence-model.h"

G_BEGIN_DECLS

typedef struct _CliServeGallery CliServeGallery;

/* Opens the gallery at db_path (NULL: the default one). */
CliServeGallery *cli_serve_gallery_open (const char *db_path, GError **error);
void cli_serve_gallery_free (CliServeGallery *gallery);

/* The model the runs come from: its name and weights hash. */
void cli_serve_gallery_set_model (CliServeGallery *gallery, const char *model_name,
                                  const char *weights_hash);

/* A CliServeStoreFunc (cli-serve-queue.h): keeps the run of the picture at path. */
gboolean cli_serve_gallery_store (const CliServeRequest *request, const char *path,
                                  const FlorenceRun *run, gpointer gallery, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliServeGallery, cli_serve_gallery_free)

G_END_DECLS
