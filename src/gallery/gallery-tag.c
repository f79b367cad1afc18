/* gallery-tag.c: a tag of a photo, and how tag names are written
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "gallery/gallery-tag.h"

#include <math.h>
#include <string.h>

char *
gallery_tag_normalize (const char *name)
{
  g_autofree char *folded = NULL;
  GString *out;
  gboolean space = TRUE;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    return NULL;
  folded = g_utf8_strdown (name, -1);
  out = g_string_new (NULL);
  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
        {
          if (!space)
            g_string_append_c (out, ' ');
          space = TRUE;
          continue;
        }
      g_string_append_unichar (out, c);
      space = FALSE;
    }
  if (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  if (out->len == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }
  return g_string_free (out, FALSE);
}

gboolean
gallery_tag_is_debris (const char *name)
{
  g_auto (GStrv) words = NULL;
  gboolean letter = FALSE;
  guint n_words;

  if (name == NULL || name[0] == '\0' || !g_utf8_validate (name, -1, NULL) ||
      g_utf8_strlen (name, -1) > GALLERY_TAG_MAX_CHARS || strchr (name, '<') != NULL ||
      strchr (name, '>') != NULL || strstr (name, "loc_") != NULL)
    return TRUE;
  for (const char *p = name; *p != '\0' && !letter; p = g_utf8_next_char (p))
    letter = g_unichar_isalpha (g_utf8_get_char (p));
  if (!letter)
    return TRUE;
  words = g_strsplit (name, " ", -1);
  n_words = g_strv_length (words);
  if (n_words > GALLERY_TAG_MAX_WORDS)
    return TRUE;
  for (guint i = 1; i < n_words; i++)
    if (words[i][0] != '\0' && g_strcmp0 (words[i], words[i - 1]) == 0)
      return TRUE;
  return FALSE;
}

double
gallery_tag_confidence (const GalleryTag *tag)
{
  g_return_val_if_fail (tag != NULL, 0.0);
  return tag->source == GALLERY_TAG_SOURCE_USER || isnan (tag->score) ? 1.0 : tag->score;
}

const char *
gallery_tag_source_to_string (GalleryTagSource source)
{
  switch (source)
    {
    case GALLERY_TAG_SOURCE_LABEL:
      return "label";
    case GALLERY_TAG_SOURCE_GROUNDING:
      return "grounding";
    case GALLERY_TAG_SOURCE_USER:
      return "user";
    default:
      return "unknown";
    }
}

void
gallery_tag_free (GalleryTag *tag)
{
  if (tag == NULL)
    return;
  g_free (tag->name);
  g_free (tag);
}

void
gallery_tag_add_json (JsonBuilder *builder, const GalleryTag *tag, gboolean with_removed)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, tag->name);
  json_builder_set_member_name (builder, "source");
  json_builder_add_string_value (builder, gallery_tag_source_to_string (tag->source));
  if (with_removed)
    {
      json_builder_set_member_name (builder, "removed");
      json_builder_add_boolean_value (builder, tag->removed);
    }
  if (!isnan (tag->score))
    {
      json_builder_set_member_name (builder, "score");
      json_builder_add_double_value (builder, tag->score);
    }
  json_builder_end_object (builder);
}
