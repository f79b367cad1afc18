/* gallery-result.c: what the gallery indexes from a result
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "florence/text/florence-result.h"
#include "florence/text/florence-task.h"
#include "gallery/gallery-result.h"

typedef enum {
  KIND_CAPTION,   /* pure text: a description */
  KIND_OCR,       /* recognized text, as text or as the labels of text lines */
  KIND_CATEGORY,  /* pure text: a category name (region to category) */
  KIND_LABELS,    /* {bboxes/polygons, labels}: object labels */
  KIND_DENSE,     /* dense region captions: labels are descriptions */
  KIND_GROUNDING, /* phrase grounding: labels are phrases of the caption */
  KIND_NONE,      /* region proposals, segmentation: nothing to index */
} ResultKind;

/* How the task table (florence-task.h) says a task is indexed. */
static ResultKind
kind_of_task (const char *task)
{
  const FlorenceTaskInfo *info = task != NULL ? florence_task_lookup (task) : NULL;

  if (info == NULL)
    return KIND_CAPTION; /* unknown tasks are pure text */
  switch (info->index)
    {
    case FLORENCE_TASK_INDEX_NONE:
      return KIND_NONE;
    case FLORENCE_TASK_INDEX_OCR:
      return KIND_OCR;
    case FLORENCE_TASK_INDEX_LABELS:
      if (info->tags == FLORENCE_TASK_TAGS_PHRASES)
        return KIND_GROUNDING;
      return info->parse_type == FLORENCE_PARSE_PURE_TEXT ? KIND_CATEGORY : KIND_LABELS;
    case FLORENCE_TASK_INDEX_CAPTION:
    default:
      return info->tags != FLORENCE_TASK_TAGS_NONE ? KIND_DENSE : KIND_CAPTION;
    }
}

/* A special token: '<', an optional '/', then [a-z0-9_] characters, then '>'. */
static gsize
special_token_length (const char *p)
{
  gsize n = 1;

  if (p[0] != '<')
    return 0;
  if (p[n] == '/')
    n++;
  if (!g_ascii_isalnum (p[n]))
    return 0;
  while (g_ascii_isalnum (p[n]) || p[n] == '_')
    n++;
  return p[n] == '>' && n <= 40 ? n + 1 : 0;
}

char *
gallery_result_strip_tokens (const char *text)
{
  GString *out;
  gboolean space = TRUE;

  if (text == NULL)
    return g_strdup ("");
  out = g_string_sized_new (strlen (text));
  for (const char *p = text; *p != '\0';)
    {
      gsize n = special_token_length (p);

      if (n > 0 || g_ascii_isspace (*p))
        {
          if (!space)
            g_string_append_c (out, ' ');
          space = TRUE;
          p += n > 0 ? n : 1;
          continue;
        }
      g_string_append_c (out, *p);
      space = FALSE;
      p++;
    }
  if (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  return g_string_free (out, FALSE);
}

static void
append_text (GString *s, const char *text, const char *separator)
{
  g_autofree char *clean = gallery_result_strip_tokens (text);

  if (clean[0] == '\0')
    return;
  if (s->len > 0)
    g_string_append (s, separator);
  g_string_append (s, clean);
}

/* Proposes LABEL as a tag of SCORE (NaN: none); a label proposed again keeps its best score. */
static void
add_tag (GPtrArray *tags, const char *label, GalleryTagSource source, double score)
{
  g_autofree char *name = gallery_tag_normalize (label);
  GalleryTag *tag;

  /* The label as parsed: what is left of the model's markup in it makes it no tag. */
  if (gallery_tag_is_debris (name))
    return;
  for (guint i = 0; i < tags->len; i++)
    {
      tag = g_ptr_array_index (tags, i);
      if (strcmp (tag->name, name) == 0)
        {
          if (isnan (tag->score) || score > tag->score)
            tag->score = score;
          return;
        }
    }
  tag = g_new0 (GalleryTag, 1);
  tag->name = g_steal_pointer (&name);
  tag->source = source;
  tag->score = score;
  g_ptr_array_add (tags, tag);
}

/* The labels and, when the result has them, their scores (else NaN). */
static void
gather_labels (GPtrArray *labels, GArray *scores, gboolean has_scores, GPtrArray *out,
               GArray *out_scores)
{
  for (guint i = 0; labels != NULL && i < labels->len; i++)
    {
      double score = has_scores ? g_array_index (scores, float, i) : NAN;
      g_ptr_array_add (out, g_ptr_array_index (labels, i));
      g_array_append_val (out_scores, score);
    }
}

/* Appends a label once: "car; car; car" adds nothing to the index. */
static void
append_label (GString *s, const char *label)
{
  g_autofree char *clean = gallery_result_strip_tokens (label);
  g_autofree char *needle = NULL;
  g_autofree char *hay = NULL;

  if (clean[0] == '\0')
    return;
  needle = g_strconcat ("; ", clean, ";", NULL);
  hay = g_strconcat ("; ", s->str, ";", NULL);
  if (strstr (hay, needle) != NULL)
    return;
  if (s->len > 0)
    g_string_append (s, "; ");
  g_string_append (s, clean);
}

FlorenceResult *
gallery_result_read (const char *task, JsonNode *stored, int image_width, int image_height,
                     GError **error)
{
  g_return_val_if_fail (stored != NULL, NULL);

  if (JSON_NODE_HOLDS_OBJECT (stored) &&
      json_object_has_member (json_node_get_object (stored), "kind"))
    return florence_result_from_json_node (stored, error);
  return florence_result_from_reference_json_node (
    stored, task != NULL && task[0] != '\0' ? task : NULL, image_width, image_height, error);
}

GalleryResultText *
gallery_result_extract (const char *task, JsonNode *result)
{
  g_autoptr (FlorenceResult) typed = NULL;

  if (result != NULL)
    typed = gallery_result_read (task, result, 0, 0, NULL);
  return gallery_result_text_new (task, typed);
}

GalleryResultText *
gallery_result_text_new (const char *task, const FlorenceResult *typed)
{
  GalleryResultText *text = g_new0 (GalleryResultText, 1);
  g_autoptr (GString) caption = g_string_new (NULL);
  g_autoptr (GString) ocr = g_string_new (NULL);
  g_autoptr (GString) labels = g_string_new (NULL);
  g_autoptr (GPtrArray) strings = g_ptr_array_new (); /* borrowed label strings */
  g_autoptr (GArray) scores = g_array_new (FALSE, FALSE, sizeof (double)); /* theirs */
  const char *answer_text = NULL;
  double answer_score = NAN;
  ResultKind kind;

  text->tags = g_ptr_array_new_with_free_func ((GDestroyNotify) gallery_tag_free);
  if (typed != NULL)
    {
      if (task == NULL || task[0] == '\0')
        task = typed->task;
      if (typed->kind == FLORENCE_RESULT_TEXT)
        answer_text = typed->text;
      if (typed->has_scores)
        answer_score = typed->text_score;
      gather_labels (typed->box_labels, typed->box_scores, typed->has_scores, strings, scores);
      gather_labels (typed->polygon_labels, typed->polygon_scores, typed->has_scores, strings,
                     scores);
      gather_labels (typed->quad_labels, typed->quad_scores, typed->has_scores, strings, scores);
    }

  kind = kind_of_task (task);
  if (answer_text != NULL)
    switch (kind)
      {
      case KIND_OCR:
        append_text (ocr, answer_text, "\n");
        break;
      case KIND_CATEGORY:
        append_text (labels, answer_text, "; ");
        add_tag (text->tags, answer_text, GALLERY_TAG_SOURCE_LABEL, answer_score);
        break;
      case KIND_NONE:
        break;
      case KIND_CAPTION:
      case KIND_LABELS:
      case KIND_DENSE:
      case KIND_GROUNDING:
      default:
        append_text (caption, answer_text, "\n");
        break;
      }
  for (guint i = 0; i < strings->len; i++)
    {
      const char *label = g_ptr_array_index (strings, i);
      double score = g_array_index (scores, double, i);

      switch (kind)
        {
        case KIND_OCR:
          append_text (ocr, label, "\n");
          break;
        case KIND_NONE:
          break;
        case KIND_DENSE:
          append_label (caption, label);
          add_tag (text->tags, label, GALLERY_TAG_SOURCE_LABEL, score);
          break;
        case KIND_GROUNDING:
          append_label (labels, label);
          add_tag (text->tags, label, GALLERY_TAG_SOURCE_GROUNDING, score);
          break;
        case KIND_LABELS:
        case KIND_CAPTION:
        case KIND_CATEGORY:
        default:
          append_label (labels, label);
          add_tag (text->tags, label, GALLERY_TAG_SOURCE_LABEL, score);
          break;
        }
    }

  text->caption = g_string_free (g_steal_pointer (&caption), FALSE);
  text->ocr = g_string_free (g_steal_pointer (&ocr), FALSE);
  text->labels = g_string_free (g_steal_pointer (&labels), FALSE);
  return text;
}

void
gallery_result_text_free (GalleryResultText *text)
{
  if (text == NULL)
    return;
  g_free (text->caption);
  g_free (text->ocr);
  g_free (text->labels);
  g_clear_pointer (&text->tags, g_ptr_array_unref);
  g_free (text);
}
