/* gallery-export.h: tags and captions into XMP sidecars; whole results as JSON or CSV
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "gallery/gallery-store.h"

G_BEGIN_DECLS

typedef enum {
  GALLERY_EXPORT_FLAGS_NONE = 0,
  /* Write into the photo itself instead of a sidecar (through a temporary copy that is
   * renamed over the original). */
  GALLERY_EXPORT_OVERWRITE_ORIGINAL = 1 << 0,
} GalleryExportFlags;

/* "photo.jpg" → "photo.jpg.xmp" */
char *gallery_export_sidecar_path (const char *photo_path);

/* Writes the image's tags (Xmp.dc.subject, Iptc.Application2.Keywords) and its latest
 * caption (Xmp.dc.description) for every existing path of the image: into the sidecar
 * photo.jpg.xmp (created, or updated keeping what other programs wrote there), or into the
 * photo with GALLERY_EXPORT_OVERWRITE_ORIGINAL. Keywords already present are kept, except
 * the tags the person removed in Depict. Every file is written to a temporary name and
 * renamed. out_written receives the number of files written. */
gboolean gallery_export_xmp (GalleryStore *store, gint64 image_id, GalleryExportFlags flags,
                             guint *out_written, GError **error);
/* The same for the given paths of the image only (NULL-terminated; NULL: all its paths, as
 * gallery_export_xmp()). A given path whose file is not there is an error. */
gboolean gallery_export_xmp_paths (GalleryStore *store, gint64 image_id, const char *const *paths,
                                   GalleryExportFlags flags, guint *out_written, GError **error);
/* The same writing only the tags of at least MIN_CONFIDENCE (gallery_tag_confidence()); the
 * keywords a file already has stay. */
gboolean gallery_export_xmp_confident (GalleryStore *store, gint64 image_id,
                                       const char *const *paths, GalleryExportFlags flags,
                                       double min_confidence, guint *out_written, GError **error);

/* Everything stored about an image, one JSON object (the form of show --json and export
 * --json; "$defs/image" of data/depict-result.schema.json): {"version": 1, "hash", "pixels"
 * (null for a photo of an older gallery not seen since), "missing", "paths", "size",
 * "width", "height", "orientation", "added" (ISO 8601), "tags": [{"name", "source"}],
 * "runs": [{"task", "text_input", "model", "weights_hash", "num_beams", "max_new_tokens",
 * "created", "raw_text", "token_ids", "result" (the typed result, florence-result.h),
 * "timings"}]}. */
JsonNode *gallery_export_image_json (GalleryStore *store, gint64 image_id, GError **error);

/* JSON Lines: gallery_export_image_json() of each image id (gint64), one per line. */
gboolean gallery_export_json (GalleryStore *store, GArray *image_ids, GOutputStream *out,
                              GCancellable *cancellable, GError **error);
/* CSV (RFC 4180, UTF-8, header row): one row per run: hash, path, task, text_input, model,
 * weights_hash, num_beams, max_new_tokens, created (ISO 8601), text, labels, tags, result
 * (JSON). Text cells starting with = + - @ get a leading ' so that spreadsheets never run
 * them as formulas. */
gboolean gallery_export_csv (GalleryStore *store, GArray *image_ids, GOutputStream *out,
                             GCancellable *cancellable, GError **error);

G_END_DECLS
