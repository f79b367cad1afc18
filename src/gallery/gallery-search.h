/* gallery-search.h: full-text search of the gallery (FTS5, bm25 ranking, snippets, filters)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "gallery/gallery-store.h"

G_BEGIN_DECLS

/* What to look for. Every field is optional; zero-initialize and set what you need. */
typedef struct {
  const char *text;         /* words typed by the person (any characters are safe), NULL = all */
  const char *tag;          /* only images with this tag (normalized like tags are) */
  const char *task;         /* only images with a run of this task token ("<OCR>") */
  const char *folder;       /* only images with a path below this folder */
  gint64 since;             /* only images with a run made at or after (Unix s), 0 = any */
  gint64 until;             /* … and before this time, 0 = any */
  gboolean prefix_last;     /* search as you type: the last word also matches longer words */
  guint limit;              /* at most this many hits, 0 = 50 */
  guint offset;             /* skip this many hits (paging) */
  const char *mark_open;    /* put around matched words in snippets, NULL = "[" */
  const char *mark_close;   /* NULL = "]"; for Pango markup use control characters, escape
                             * the snippet, then replace them */
  gboolean include_missing; /* also images none of whose files is left */
  gboolean check_files;     /* look at each hit's file: one that is gone is left out (and,
                             * with a writable store, marked missing) */
  /* Confidence: a photo's, for a query, is the best confidence (gallery_tag_confidence()) of
   * its tags the query is about — the tag asked for; else those whose name holds every word
   * searched for (the last as a prefix with prefix_last); else all its tags. None when it has
   * no such tag. */
  double min_confidence;        /* only photos of at least this confidence, 0 = any */
  gboolean order_by_confidence; /* most confident first (then as without it) */
} GalleryQuery;

typedef struct {
  gint64 image_id;
  char *hash;
  char *path;        /* the most recently seen path of the image whose file is still there (any
                      * path with include_missing, "" when it has none) */
  double score;      /* bm25 rank, lower is better; 0 without text */
  char *snippet;     /* matched words marked, "" without text */
  char *caption;     /* the latest caption of the image, "" when none */
  double confidence; /* the photo's confidence for the query (GalleryQuery), NaN when none */
} GalleryHit;

/* The FTS5 MATCH expression for what a person typed: every word is quoted (so that ",
 * *, :, ^, -, AND, NEAR… never raise a syntax error), words are ANDed, common English
 * stop words are dropped unless nothing else is left, and with prefix_last the last word
 * also matches as a prefix. NULL when there is nothing to search for. */
char *gallery_search_build_match (const char *text, gboolean prefix_last);

/* Best matches first (GPtrArray of GalleryHit). Without text, the filters alone select the
 * images, most recently added first. */
GPtrArray *gallery_search_run (GalleryStore *store, const GalleryQuery *query, GError **error);
void gallery_hit_free (GalleryHit *hit);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryHit, gallery_hit_free)

G_END_DECLS
