/* florence-image-cache.h: the features of the photos viewed last, kept for their next task
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A person runs a task on the photo on screen, then another: the second needs the same image
 * features (vision tower and projection), which depend on the photo and the input size only.
 * The cache keeps the FlorenceModelImage of the last few photos, least recently used first out,
 * within a memory budget taken from the memory available when it is made (no setting), so that
 * the next task on a photo skips decoding and the vision tower (its timings say cached).
 *
 * A photo is known by its path and its file's identity (size, modification time, inode):
 * a file changed on disk is decoded again. Entries keep the image features and, for the photo
 * used last, the decoded picture (another input size needs it); the others drop it.
 *
 * Threads: like the model (one thread at a time, the one that runs it); free the cache before
 * the model. No GTK: the app's session and any other front end use it the same way.
 */
#pragma once

#include <gio/gio.h>

#include "florence/model/florence-model.h"

G_BEGIN_DECLS

typedef struct _FlorenceImageCache FlorenceImageCache;

/* Most photos kept whatever the memory, and the budget's bounds. */
#define FLORENCE_IMAGE_CACHE_MAX_PHOTOS 8
#define FLORENCE_IMAGE_CACHE_MIN_BYTES ((guint64) 32 << 20)
#define FLORENCE_IMAGE_CACHE_MAX_BYTES ((guint64) 512 << 20)

/* budget: bytes the kept images may hold; 0: a sixteenth of the memory available now, within
 * FLORENCE_IMAGE_CACHE_MIN_BYTES and FLORENCE_IMAGE_CACHE_MAX_BYTES. */
FlorenceImageCache *florence_image_cache_new (FlorenceModel *model, guint64 budget);
/* Releases the kept images (a use of the model). */
void florence_image_cache_free (FlorenceImageCache *self);

/* The image of the photo at path, ready for a run at image_size (0: the model's): the one
 * kept when the file is unchanged and it can run at that size, else decoded now (EXIF
 * orientation applied) and kept. A new reference; NULL with error when the file cannot be
 * read or decoded. */
FlorenceModelImage *florence_image_cache_get_file (FlorenceImageCache *self, const char *path,
                                                   int image_size, GCancellable *cancellable,
                                                   GError **error);
/* Forgets every image (e.g. when the person closes the photos). */
void florence_image_cache_clear (FlorenceImageCache *self);

guint florence_image_cache_get_n_photos (FlorenceImageCache *self);
/* Memory the kept images hold now, and the budget. */
guint64 florence_image_cache_get_bytes (FlorenceImageCache *self);
guint64 florence_image_cache_get_budget (FlorenceImageCache *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceImageCache, florence_image_cache_free)

G_END_DECLS
