/* gallery-tagger-async.h: batch tagging in a worker thread, its progress relayed to the
 * caller's main context, as the app and depict-cli tag both run it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "gallery/gallery-tagger.h"

G_BEGIN_DECLS

/* gallery_tagger_run() in a worker thread. options->progress_func is called in the
 * thread-default main context of the caller (with a copy of the progress, valid during the
 * call), and so is CALLBACK when the batch ends. The store, OPTIONS (and what it points to)
 * and PATHS must stay valid and the store unused by others until then. */
void gallery_tagger_run_async (GalleryStore *store, const GalleryTaggerOptions *options,
                               const char *const *paths, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data);
/* What gallery_tagger_run() returns; SUMMARY (may be NULL) is filled in either way (clear it
 * with gallery_tagger_summary_clear). */
gboolean gallery_tagger_run_finish (GAsyncResult *result, GalleryTaggerSummary *summary,
                                    GError **error);

G_END_DECLS
