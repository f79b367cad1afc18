/* gallery-merge.h: several galleries brought into one (the galleries of a cluster job's tasks,
 * or of two computers)
 *
 * A photo is the same photo in every gallery when its pixels are (gallery-identity.h), else
 * its first file content; a result is the same result when its key is (photo, task, text
 * input, weights, num_beams, max_new_tokens: gallery-store.h), and of two the newer one
 * stays (the one already there when they are as old); the tags keep their sources, and a tag
 * a person removed in any gallery stays removed; the paths of a photo come along (rewritten by
 * the prefix maps), the most recently seen winning for one path. The searchable text of every
 * photo touched is rebuilt. Merging a gallery twice changes nothing the second time.
 *
 * Everything happens in one transaction of the destination: an error (a source that is not a
 * gallery, of an unknown schema version, damaged; a full disk) or an interruption (kill -9)
 * leaves the destination as it was. Sources are only read, through SQLite.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "gallery/gallery-store.h"

G_BEGIN_DECLS

typedef struct {
  /* "OLD=NEW" path prefix maps (absolute folders), NULL-terminated, nullable: a path of a
   * source below OLD is stored below NEW (the first map that applies). */
  const char *const *map_prefixes;
} GalleryMergeOptions;

typedef struct {
  guint sources;
  guint images_added;  /* photos the destination did not know */
  guint runs_added;    /* results with a key it did not have */
  guint runs_replaced; /* results it had, replaced by a newer one */
  guint runs_kept;     /* results it had as new or newer */
  guint paths_added;   /* paths it did not have, or saw less recently */
} GalleryMergeSummary;

/* Checks a map: "OLD=NEW" with two absolute paths. */
gboolean gallery_merge_check_prefix (const char *map, GError **error);

/* Merges the galleries at sources into the gallery into (open for writing). Each source is
 * read through a read-only store (gallery_store_open_full); one of an older schema version is
 * first brought up to date as opening it in Depict would (its own transaction). One that is
 * not a Depict gallery or was written by a newer version (an unknown schema) is refused with a
 * sentence naming it, as is the destination itself. summary (nullable) is filled in on
 * success. */
gboolean gallery_merge (GalleryStore *into, const char *const *sources,
                        const GalleryMergeOptions *options, GalleryMergeSummary *summary,
                        GCancellable *cancellable, GError **error);

G_END_DECLS
