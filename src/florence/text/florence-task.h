/* florence-task.h: the Florence-2 tasks, their names, prompts and region inputs
 *
 * One table (florence-task.c) describes the 14 public tasks and <REGION_TO_OCR>: the task
 * token, the short name the command line takes, a translatable name, the group the app
 * shows it in, the prompt template, the kind of input it takes, how its answer is
 * post-processed and how the gallery indexes it. Everything that names, lists or sorts
 * tasks (the app, depict-cli, the gallery) reads this table.
 *
 * Prompt construction reproduces Florence2Processor._construct_prompts exactly: the
 * processor input is TASK + TEXT, a task token that takes no input must be the whole text,
 * and the input of the other tasks is substituted verbatim (nothing trimmed).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLORENCE_TASK_ERROR (florence_task_error_quark ())
#define FLORENCE_TASK_BINS 1000

typedef enum {
  FLORENCE_TASK_ERROR_UNEXPECTED_INPUT, /* a task that takes no input was given some */
  FLORENCE_TASK_ERROR_MISSING_INPUT,    /* a task that needs input was given none */
  FLORENCE_TASK_ERROR_UNKNOWN_TASK,
  FLORENCE_TASK_ERROR_INVALID_REGION,
} FlorenceTaskError;

typedef enum {
  FLORENCE_TASK_INPUT_NONE,
  FLORENCE_TASK_INPUT_TEXT,   /* a phrase or a caption */
  FLORENCE_TASK_INPUT_REGION, /* four <loc_k> tokens: see florence_task_region_input() */
} FlorenceTaskInput;

typedef enum {
  FLORENCE_TASK_GROUP_DESCRIBE,
  FLORENCE_TASK_GROUP_FIND_OBJECTS,
  FLORENCE_TASK_GROUP_READ_TEXT,
  FLORENCE_TASK_GROUP_REGION, /* "Ask about a region" */
  FLORENCE_TASK_GROUP_SEGMENT,
  FLORENCE_TASK_N_GROUPS,
} FlorenceTaskGroup;

/* The reference post-processing types (Florence2PostProcesser). */
typedef enum {
  FLORENCE_PARSE_PURE_TEXT,
  FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES,
  FLORENCE_PARSE_BBOXES,
  FLORENCE_PARSE_PHRASE_GROUNDING,
  FLORENCE_PARSE_POLYGONS,
  FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES_OR_POLYGONS,
  FLORENCE_PARSE_OCR,
} FlorenceParseType;

/* What the gallery's search finds a task's answer by. */
typedef enum {
  FLORENCE_TASK_INDEX_NONE,    /* nothing: region proposals and masks have no words */
  FLORENCE_TASK_INDEX_CAPTION, /* a description of the picture or of a region */
  FLORENCE_TASK_INDEX_OCR,     /* text read in the picture */
  FLORENCE_TASK_INDEX_LABELS,  /* names of things: object labels, phrases, a category */
} FlorenceTaskIndex;

/* Whether the words of a task's answer become proposed tags of the photo. */
typedef enum {
  FLORENCE_TASK_TAGS_NONE,
  FLORENCE_TASK_TAGS_LABELS,  /* each label (or a category answer) is a tag */
  FLORENCE_TASK_TAGS_PHRASES, /* each phrase found in the picture is a tag (grounding) */
} FlorenceTaskTags;

typedef struct {
  const char *token;      /* "<OD>" */
  const char *short_name; /* "od": what --task takes; see florence_task_find() */
  const char *name;       /* N_("Detect Objects"): translate with _() */
  const char *input_hint; /* N_(…) what to enter, NULL for tasks without input */
  FlorenceTaskGroup group;
  const char *prompt; /* the prompt, or a template with "{input}" */
  FlorenceTaskInput input;
  FlorenceParseType parse_type;
  FlorenceTaskIndex index;
  FlorenceTaskTags tags;
} FlorenceTaskInfo;

GQuark florence_task_error_quark (void);

/* The task with this token ("<OD>"), or NULL. */
const FlorenceTaskInfo *florence_task_lookup (const char *token);
/* The task a person names: the token in any case, with or without its angle brackets
 * ("<OD>", "od", "Dense_Region_Caption"), or the short name ("dense-caption",
 * "grounding"); '_', '-' and spaces are the same, surrounding white space is ignored.
 * NULL when there is none. */
const FlorenceTaskInfo *florence_task_find (const char *name);
/* The same, with FLORENCE_TASK_ERROR_UNKNOWN_TASK and a sentence listing the names when
 * there is none. */
const FlorenceTaskInfo *florence_task_find_or_error (const char *name, GError **error);
/* Whether the task with this token takes a text or region input (FALSE when unknown). */
gboolean florence_task_takes_input (const char *token);
/* All tasks in display order; *n receives the count (15). */
const FlorenceTaskInfo *florence_task_get_all (gsize *n);
/* Translated group title ("Describe", "Find Objects", …). */
const char *florence_task_group_get_name (FlorenceTaskGroup group);
/* Name of a parse type as the reference spells it ("description_with_bboxes"). */
const char *florence_task_parse_type_to_string (FlorenceParseType type);

/* The prompt for TASK with TEXT_INPUT, exactly as the reference builds it from
 * task->token + text_input. A task with input refuses NULL, empty or all-whitespace input,
 * a task without input refuses any input (FLORENCE_TASK_ERROR, with a sentence that says
 * what to enter). */
char *florence_task_build_prompt (const FlorenceTaskInfo *task, const char *text_input,
                                  GError **error);

/* Florence2Processor._construct_prompts on the raw processor text (task token + input, or
 * any text). Fails only where the reference asserts: a task token that takes no input
 * that is not the whole text. Empty inputs are accepted, as the reference does. */
char *florence_task_construct_prompt (const char *text, GError **error);

/* Quantizes one pixel coordinate to a 1000-bin index: clamp(floor(v / (size/1000)), 0, 999). */
int florence_task_quantize (double v, int size);

/* The region input "<loc_x1><loc_y1><loc_x2><loc_y2>" for a box given in pixels of the
 * original IMAGE_W × IMAGE_H image. Returns NULL if the image size is not positive or a
 * coordinate is not finite. */
char *florence_task_region_input (double x1, double y1, double x2, double y2, int image_w,
                                  int image_h);

G_END_DECLS
