/* florence-task.c: the table of Florence-2 tasks and prompt construction
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/text/florence-task.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

G_DEFINE_QUARK (florence - task - error - quark, florence_task_error)

#define REGION_HINT N_ ("Draw a box around the region on the picture.")

/* Display order. The prompts are those of Florence2Processor (spec §8). */
#define TASK(tok, nick, title, hint, grp, prompt_text, in, parse, idx, tag)                        \
  {                                                                                                \
    .token = tok, .short_name = nick, .name = title, .input_hint = hint, .group = grp,             \
    .prompt = prompt_text, .input = in, .parse_type = parse, .index = idx, .tags = tag,            \
  }
static const FlorenceTaskInfo tasks[] = {
  TASK ("<CAPTION>", "caption", N_ ("Caption"), NULL, FLORENCE_TASK_GROUP_DESCRIBE,
        "What does the image describe?", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_PURE_TEXT,
        FLORENCE_TASK_INDEX_CAPTION, FLORENCE_TASK_TAGS_NONE),
  TASK ("<DETAILED_CAPTION>", "detailed-caption", N_ ("Detailed Caption"), NULL,
        FLORENCE_TASK_GROUP_DESCRIBE, "Describe in detail what is shown in the image.",
        FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_PURE_TEXT, FLORENCE_TASK_INDEX_CAPTION,
        FLORENCE_TASK_TAGS_NONE),
  TASK ("<MORE_DETAILED_CAPTION>", "more-detailed-caption", N_ ("Paragraph Description"), NULL,
        FLORENCE_TASK_GROUP_DESCRIBE, "Describe with a paragraph what is shown in the image.",
        FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_PURE_TEXT, FLORENCE_TASK_INDEX_CAPTION,
        FLORENCE_TASK_TAGS_NONE),
  TASK ("<OD>", "od", N_ ("Detect Objects"), NULL, FLORENCE_TASK_GROUP_FIND_OBJECTS,
        "Locate the objects with category name in the image.", FLORENCE_TASK_INPUT_NONE,
        FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES, FLORENCE_TASK_INDEX_LABELS,
        FLORENCE_TASK_TAGS_LABELS),
  TASK ("<DENSE_REGION_CAPTION>", "dense-caption", N_ ("Describe Regions"), NULL,
        FLORENCE_TASK_GROUP_FIND_OBJECTS,
        "Locate the objects in the image, with their descriptions.", FLORENCE_TASK_INPUT_NONE,
        FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES, FLORENCE_TASK_INDEX_CAPTION,
        FLORENCE_TASK_TAGS_LABELS),
  TASK ("<REGION_PROPOSAL>", "region-proposal", N_ ("Propose Regions"), NULL,
        FLORENCE_TASK_GROUP_FIND_OBJECTS, "Locate the region proposals in the image.",
        FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_BBOXES, FLORENCE_TASK_INDEX_NONE,
        FLORENCE_TASK_TAGS_NONE),
  TASK ("<CAPTION_TO_PHRASE_GROUNDING>", "grounding", N_ ("Find Phrases of a Caption"),
        N_ ("Enter a caption whose phrases should be found in the picture."),
        FLORENCE_TASK_GROUP_FIND_OBJECTS, "Locate the phrases in the caption: {input}",
        FLORENCE_TASK_INPUT_TEXT, FLORENCE_PARSE_PHRASE_GROUNDING, FLORENCE_TASK_INDEX_LABELS,
        FLORENCE_TASK_TAGS_PHRASES),
  TASK ("<OPEN_VOCABULARY_DETECTION>", "open-vocabulary-detection", N_ ("Find Something"),
        N_ ("Enter what to look for, for example “a red car”."), FLORENCE_TASK_GROUP_FIND_OBJECTS,
        "Locate {input} in the image.", FLORENCE_TASK_INPUT_TEXT,
        FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES_OR_POLYGONS, FLORENCE_TASK_INDEX_LABELS,
        FLORENCE_TASK_TAGS_LABELS),
  TASK ("<OCR>", "ocr", N_ ("Read Text"), NULL, FLORENCE_TASK_GROUP_READ_TEXT,
        "What is the text in the image?", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_PURE_TEXT,
        FLORENCE_TASK_INDEX_OCR, FLORENCE_TASK_TAGS_NONE),
  TASK ("<OCR_WITH_REGION>", "ocr-with-region", N_ ("Read Text with Its Position"), NULL,
        FLORENCE_TASK_GROUP_READ_TEXT, "What is the text in the image, with regions?",
        FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_OCR, FLORENCE_TASK_INDEX_OCR,
        FLORENCE_TASK_TAGS_NONE),
  TASK ("<REGION_TO_CATEGORY>", "region-to-category", N_ ("Name a Region"), REGION_HINT,
        FLORENCE_TASK_GROUP_REGION, "What is the region {input}?", FLORENCE_TASK_INPUT_REGION,
        FLORENCE_PARSE_PURE_TEXT, FLORENCE_TASK_INDEX_LABELS, FLORENCE_TASK_TAGS_LABELS),
  TASK ("<REGION_TO_DESCRIPTION>", "region-to-description", N_ ("Describe a Region"), REGION_HINT,
        FLORENCE_TASK_GROUP_REGION, "What does the region {input} describe?",
        FLORENCE_TASK_INPUT_REGION, FLORENCE_PARSE_PURE_TEXT, FLORENCE_TASK_INDEX_CAPTION,
        FLORENCE_TASK_TAGS_NONE),
  TASK ("<REGION_TO_OCR>", "region-to-ocr", N_ ("Read Text in a Region"), REGION_HINT,
        FLORENCE_TASK_GROUP_REGION, "What text is in the region {input}?",
        FLORENCE_TASK_INPUT_REGION, FLORENCE_PARSE_PURE_TEXT, FLORENCE_TASK_INDEX_OCR,
        FLORENCE_TASK_TAGS_NONE),
  TASK ("<REFERRING_EXPRESSION_SEGMENTATION>", "referring-expression-segmentation",
        N_ ("Outline Something"), N_ ("Enter what to outline, for example “the dog on the left”."),
        FLORENCE_TASK_GROUP_SEGMENT, "Locate {input} in the image with mask",
        FLORENCE_TASK_INPUT_TEXT, FLORENCE_PARSE_POLYGONS, FLORENCE_TASK_INDEX_NONE,
        FLORENCE_TASK_TAGS_NONE),
  TASK ("<REGION_TO_SEGMENTATION>", "region-to-segmentation", N_ ("Outline a Region"), REGION_HINT,
        FLORENCE_TASK_GROUP_SEGMENT, "What is the polygon mask of region {input}",
        FLORENCE_TASK_INPUT_REGION, FLORENCE_PARSE_POLYGONS, FLORENCE_TASK_INDEX_NONE,
        FLORENCE_TASK_TAGS_NONE),
};
#undef TASK

/* The order in which the reference looks for task tokens (its two dicts). */
static const char *const tokens_without_input[] = {
  "<OCR>",
  "<OCR_WITH_REGION>",
  "<CAPTION>",
  "<DETAILED_CAPTION>",
  "<MORE_DETAILED_CAPTION>",
  "<OD>",
  "<DENSE_REGION_CAPTION>",
  "<REGION_PROPOSAL>",
};
static const char *const tokens_with_input[] = {
  "<CAPTION_TO_PHRASE_GROUNDING>",
  "<REFERRING_EXPRESSION_SEGMENTATION>",
  "<REGION_TO_SEGMENTATION>",
  "<OPEN_VOCABULARY_DETECTION>",
  "<REGION_TO_CATEGORY>",
  "<REGION_TO_DESCRIPTION>",
  "<REGION_TO_OCR>",
};

const FlorenceTaskInfo *
florence_task_lookup (const char *token)
{
  g_return_val_if_fail (token != NULL, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (tasks); i++)
    if (strcmp (tasks[i].token, token) == 0)
      return &tasks[i];
  return NULL;
}

/* "Dense_Region_Caption " → "dense-region-caption": lower case, '_' and ' ' as '-', the
 * angle brackets of a token dropped. */
static char *
normalize_name (const char *name)
{
  g_autofree char *s = g_ascii_strdown (name, -1);
  gsize len;

  g_strstrip (s);
  len = strlen (s);
  if (len >= 2 && s[0] == '<' && s[len - 1] == '>')
    {
      s[len - 1] = '\0';
      memmove (s, s + 1, len - 1);
    }
  g_strdelimit (s, "_ ", '-');
  return g_steal_pointer (&s);
}

const FlorenceTaskInfo *
florence_task_find (const char *name)
{
  g_autofree char *key = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  key = normalize_name (name);
  for (gsize i = 0; i < G_N_ELEMENTS (tasks); i++)
    {
      g_autofree char *long_name = normalize_name (tasks[i].token);

      if (strcmp (key, tasks[i].short_name) == 0 || strcmp (key, long_name) == 0)
        return &tasks[i];
    }
  return NULL;
}

const FlorenceTaskInfo *
florence_task_find_or_error (const char *name, GError **error)
{
  const FlorenceTaskInfo *task;
  g_autoptr (GString) list = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  task = florence_task_find (name);
  if (task != NULL)
    return task;
  list = g_string_new (NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (tasks); i++)
    g_string_append_printf (list, "%s%s (%s)", i > 0 ? ", " : "", tasks[i].short_name,
                            tasks[i].token);
  g_set_error (error, FLORENCE_TASK_ERROR, FLORENCE_TASK_ERROR_UNKNOWN_TASK,
               _ ("“%s” is not a task. Name one of these: %s."), name, list->str);
  return NULL;
}

gboolean
florence_task_takes_input (const char *token)
{
  const FlorenceTaskInfo *task = token != NULL ? florence_task_lookup (token) : NULL;

  return task != NULL && task->input != FLORENCE_TASK_INPUT_NONE;
}

const FlorenceTaskInfo *
florence_task_get_all (gsize *n)
{
  if (n != NULL)
    *n = G_N_ELEMENTS (tasks);
  return tasks;
}

const char *
florence_task_group_get_name (FlorenceTaskGroup group)
{
  switch (group)
    {
    case FLORENCE_TASK_GROUP_DESCRIBE:
      return _ ("Describe");
    case FLORENCE_TASK_GROUP_FIND_OBJECTS:
      return _ ("Find Objects");
    case FLORENCE_TASK_GROUP_READ_TEXT:
      return _ ("Read Text");
    case FLORENCE_TASK_GROUP_REGION:
      return _ ("Ask About a Region");
    case FLORENCE_TASK_GROUP_SEGMENT:
      return _ ("Segment");
    case FLORENCE_TASK_N_GROUPS:
    default:
      return "";
    }
}

const char *
florence_task_parse_type_to_string (FlorenceParseType type)
{
  switch (type)
    {
    case FLORENCE_PARSE_PURE_TEXT:
      return "pure_text";
    case FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES:
      return "description_with_bboxes";
    case FLORENCE_PARSE_BBOXES:
      return "bboxes";
    case FLORENCE_PARSE_PHRASE_GROUNDING:
      return "phrase_grounding";
    case FLORENCE_PARSE_POLYGONS:
      return "polygons";
    case FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES_OR_POLYGONS:
      return "description_with_bboxes_or_polygons";
    case FLORENCE_PARSE_OCR:
      return "ocr";
    default:
      return "pure_text";
    }
}

static char *
str_replace_all (const char *s, const char *from, const char *to)
{
  g_auto (GStrv) parts = g_strsplit (s, from, -1);

  return g_strjoinv (to, parts);
}

char *
florence_task_construct_prompt (const char *text, GError **error)
{
  g_autofree char *t = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  t = g_strdup (text);
  /* 1. fixed prompts: the task token must be the whole text */
  for (gsize i = 0; i < G_N_ELEMENTS (tokens_without_input); i++)
    if (strstr (t, tokens_without_input[i]) != NULL)
      {
        const FlorenceTaskInfo *info = florence_task_lookup (tokens_without_input[i]);

        if (strcmp (t, tokens_without_input[i]) != 0)
          {
            if (g_str_has_prefix (t, info->token))
              g_set_error (error, FLORENCE_TASK_ERROR, FLORENCE_TASK_ERROR_UNEXPECTED_INPUT,
                           _ ("The task “%s” (%s) takes no text. Leave the text empty, or "
                              "choose a task that takes text."),
                           info->token, _ (info->name));
            else
              g_set_error (error, FLORENCE_TASK_ERROR, FLORENCE_TASK_ERROR_UNEXPECTED_INPUT,
                           _ ("The text contains the task token “%s”, which can only be used "
                              "on its own. Remove it from the text."),
                           info->token);
            return NULL;
          }
        g_free (t);
        t = g_strdup (info->prompt);
        break;
      }
  /* 2. templates: the input is the text with the task token removed, verbatim */
  for (gsize i = 0; i < G_N_ELEMENTS (tokens_with_input); i++)
    if (strstr (t, tokens_with_input[i]) != NULL)
      {
        const FlorenceTaskInfo *info = florence_task_lookup (tokens_with_input[i]);
        g_autofree char *input = str_replace_all (t, tokens_with_input[i], "");

        g_free (t);
        t = str_replace_all (info->prompt, "{input}", input);
        break;
      }
  return g_steal_pointer (&t);
}

static gboolean
is_blank (const char *s)
{
  for (; s != NULL && *s != '\0'; s = g_utf8_next_char (s))
    if (!g_unichar_isspace (g_utf8_get_char (s)))
      return FALSE;
  return TRUE;
}

char *
florence_task_build_prompt (const FlorenceTaskInfo *task, const char *text_input, GError **error)
{
  g_autofree char *full = NULL;

  g_return_val_if_fail (task != NULL, NULL);

  if (text_input != NULL && !g_utf8_validate (text_input, -1, NULL))
    {
      g_set_error (error, FLORENCE_TASK_ERROR, FLORENCE_TASK_ERROR_MISSING_INPUT,
                   _ ("The text for “%s” is not valid UTF-8 text. Enter it again."),
                   _ (task->name));
      return NULL;
    }
  if (task->input == FLORENCE_TASK_INPUT_NONE && text_input != NULL && *text_input != '\0')
    {
      g_set_error (error, FLORENCE_TASK_ERROR, FLORENCE_TASK_ERROR_UNEXPECTED_INPUT,
                   _ ("The task “%s” (%s) takes no text. Leave the text empty, or choose a "
                      "task that takes text."),
                   _ (task->name), task->token);
      return NULL;
    }
  if (task->input != FLORENCE_TASK_INPUT_NONE && is_blank (text_input))
    {
      g_set_error (error, FLORENCE_TASK_ERROR, FLORENCE_TASK_ERROR_MISSING_INPUT,
                   _ ("The task “%s” needs input. %s"), _ (task->name), _ (task->input_hint));
      return NULL;
    }

  full = g_strconcat (task->token, text_input != NULL ? text_input : "", NULL);
  return florence_task_construct_prompt (full, error);
}

int
florence_task_quantize (double v, int size)
{
  double per_bin, q;

  if (size <= 0 || !isfinite (v))
    return 0;
  per_bin = (double) size / FLORENCE_TASK_BINS;
  q = floor (v / per_bin);
  if (q < 0)
    return 0;
  if (q > FLORENCE_TASK_BINS - 1)
    return FLORENCE_TASK_BINS - 1;
  return (int) q;
}

char *
florence_task_region_input (double x1, double y1, double x2, double y2, int image_w, int image_h)
{
  if (image_w <= 0 || image_h <= 0 || !isfinite (x1) || !isfinite (y1) || !isfinite (x2) ||
      !isfinite (y2))
    return NULL;
  return g_strdup_printf ("<loc_%d><loc_%d><loc_%d><loc_%d>", florence_task_quantize (x1, image_w),
                          florence_task_quantize (y1, image_h),
                          florence_task_quantize (x2, image_w),
                          florence_task_quantize (y2, image_h));
}
