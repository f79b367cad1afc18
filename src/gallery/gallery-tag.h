/* gallery-tag.h: a tag of a photo, and how tag names are written
 *
 * What the gallery's store lists and what results propose (gallery-result.h) share this
 * type, so neither needs the other's header.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum {
  GALLERY_TAG_SOURCE_LABEL = 0,     /* object labels: OD, dense captions, open vocabulary */
  GALLERY_TAG_SOURCE_GROUNDING = 1, /* phrase grounding */
  GALLERY_TAG_SOURCE_USER = 2,      /* added, renamed or removed by the person */
} GalleryTagSource;

typedef struct {
  char *name; /* normalized: lower case, single spaces */
  GalleryTagSource source;
  gboolean removed; /* removed by the person: kept so that re-imports do not bring it back */
  gint64 run_id;    /* the run it came from, 0 for user tags */
  /* How sure the model was of it, from 0 to 1: the best score of the regions (or the text)
   * of the result that proposed it (florence-result.h, "Scores"); NaN when it has none (the
   * person's own tags, tags of results without scores). */
  double score;
} GalleryTag;

/* A tag's confidence, from 0 to 1, as filters and rankings use it: 1 for the person's own
 * tags (added, or proposed and then kept by the person), else its score, or 1 for a tag
 * without one (from a result made before results had scores). */
double gallery_tag_confidence (const GalleryTag *tag);

/* The same in SQL, for a row of the tags table aliased T ("t"). */
#define GALLERY_TAG_CONFIDENCE_SQL(T)                                                              \
  "(CASE WHEN " T ".source = 2 THEN 1.0 ELSE coalesce (" T ".score, 1.0) END)"

void gallery_tag_free (GalleryTag *tag);
/* "label", "grounding", "user" */
const char *gallery_tag_source_to_string (GalleryTagSource source);
/* Normalized tag name (trimmed, lower case, runs of white space and control characters to
 * one space), NULL when nothing is left. */
char *gallery_tag_normalize (const char *name);
/* Longest tag, in characters and in words: a longer label is a description, not a tag. */
#define GALLERY_TAG_MAX_CHARS 48
#define GALLERY_TAG_MAX_WORDS 6
/* Whether a normalized name is model debris rather than a label a person would file a photo
 * under: empty or over-long, with no letter, holding what is left of the model's markup ('<',
 * '>', "loc_"), or a word said twice in a row ("eagle eagle"). Results never propose such
 * a tag, and tags stored before this check are not listed. */
gboolean gallery_tag_is_debris (const char *name);
/* Adds the tag as a JSON object to @builder: name, source, "removed" when @with_removed, and
 * its score when it has one (the shape export and `depict-cli tags --json` print). */
void gallery_tag_add_json (JsonBuilder *builder, const GalleryTag *tag, gboolean with_removed);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryTag, gallery_tag_free)

G_END_DECLS
