/* florence-hub.h: the Florence-2 models Depict knows, where they are installed, and their
 * download from the Hugging Face hub
 *
 * A model is installed in $XDG_DATA_HOME/depict/models/<id>/ and appears there only when it
 * is complete and verified: a download writes into <id>.part/ (each file as <name>.part, so an
 * interrupted transfer resumes with an HTTP range request), checks every file against the
 * hash the hub publishes (SHA-256 for LFS files, the git blob SHA-1 for the small ones), and
 * only then renames the folder. HF_ENDPOINT overrides the hub address (mirrors).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  const char *id;          /* "base", "base-ft", "large", "large-ft" */
  const char *repo;        /* "microsoft/Florence-2-base" */
  const char *title;       /* translatable, N_() */
  const char *description; /* translatable, N_() */
  guint64 download_size;   /* approximate, in bytes, for the person to decide */
} FlorenceHubModel;

const FlorenceHubModel *florence_hub_get_models (gsize *n_models);
const FlorenceHubModel *florence_hub_lookup (const char *id);

/* $XDG_DATA_HOME/depict/models, or $DEPICT_MODELS_DIR when set. */
char *florence_hub_get_models_dir (void);
char *florence_hub_get_install_dir (const FlorenceHubModel *model);
/* A folder holds a usable model when it has config.json, weights and tokenizer files. */
gboolean florence_hub_dir_is_complete (const char *dir);
/* Bytes used by an installed model (0 when not installed). */
guint64 florence_hub_get_installed_size (const FlorenceHubModel *model);
/* Bytes of the regular files directly in DIR (a model folder). */
guint64 florence_hub_dir_size (const char *dir);
gboolean florence_hub_delete (const FlorenceHubModel *model, GError **error);

/* https://huggingface.co unless HF_ENDPOINT is set. */
char *florence_hub_get_endpoint (void);

/* Progress: bytes received so far over all files, and the total to receive. Called on the
 * thread-default main context of the caller of florence_hub_download_async(). */
typedef void (*FlorenceHubProgressFunc) (guint64 received, guint64 total, const char *file,
                                         gpointer user_data);

typedef struct {
  const char *endpoint; /* NULL: florence_hub_get_endpoint () */
  const char *repo;     /* "microsoft/Florence-2-base" */
  const char *revision; /* NULL: "main" */
  const char *dest_dir; /* the final folder; <dest_dir>.part is used while downloading */
} FlorenceHubDownload;

void florence_hub_download_async (const FlorenceHubDownload *download, GCancellable *cancellable,
                                  FlorenceHubProgressFunc progress, gpointer progress_data,
                                  GDestroyNotify progress_destroy, GAsyncReadyCallback callback,
                                  gpointer user_data);
gboolean florence_hub_download_finish (GAsyncResult *result, GError **error);

/* The same, blocking (for the command line and worker threads). */
gboolean florence_hub_download_sync (const FlorenceHubDownload *download, GCancellable *cancellable,
                                     FlorenceHubProgressFunc progress, gpointer progress_data,
                                     GError **error);

G_END_DECLS
