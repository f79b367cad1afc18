/* test-task.c: the task table, prompts and region quantization
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "florence/text/florence-task.h"

static void
test_table (void)
{
  /* spec §8: the 14 public tasks and <REGION_TO_OCR> */
  static const struct {
    const char *token;
    FlorenceTaskInput input;
    FlorenceParseType type;
  } expected[] = {
    { "<OCR>", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_PURE_TEXT },
    { "<OCR_WITH_REGION>", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_OCR },
    { "<CAPTION>", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_PURE_TEXT },
    { "<DETAILED_CAPTION>", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_PURE_TEXT },
    { "<MORE_DETAILED_CAPTION>", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_PURE_TEXT },
    { "<OD>", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES },
    { "<DENSE_REGION_CAPTION>", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES },
    { "<REGION_PROPOSAL>", FLORENCE_TASK_INPUT_NONE, FLORENCE_PARSE_BBOXES },
    { "<CAPTION_TO_PHRASE_GROUNDING>", FLORENCE_TASK_INPUT_TEXT, FLORENCE_PARSE_PHRASE_GROUNDING },
    { "<REFERRING_EXPRESSION_SEGMENTATION>", FLORENCE_TASK_INPUT_TEXT, FLORENCE_PARSE_POLYGONS },
    { "<REGION_TO_SEGMENTATION>", FLORENCE_TASK_INPUT_REGION, FLORENCE_PARSE_POLYGONS },
    { "<OPEN_VOCABULARY_DETECTION>", FLORENCE_TASK_INPUT_TEXT,
      FLORENCE_PARSE_DESCRIPTION_WITH_BBOXES_OR_POLYGONS },
    { "<REGION_TO_CATEGORY>", FLORENCE_TASK_INPUT_REGION, FLORENCE_PARSE_PURE_TEXT },
    { "<REGION_TO_DESCRIPTION>", FLORENCE_TASK_INPUT_REGION, FLORENCE_PARSE_PURE_TEXT },
    { "<REGION_TO_OCR>", FLORENCE_TASK_INPUT_REGION, FLORENCE_PARSE_PURE_TEXT },
  };
  gsize n;
  const FlorenceTaskInfo *all = florence_task_get_all (&n);

  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expected));
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const FlorenceTaskInfo *t = florence_task_lookup (expected[i].token);
      g_assert_nonnull (t);
      g_assert_true (t >= all && t < all + n);
      g_assert_cmpint (t->input, ==, expected[i].input);
      g_assert_cmpint (t->parse_type, ==, expected[i].type);
      g_assert_cmpint (t->group, <, FLORENCE_TASK_N_GROUPS);
      g_assert_nonnull (t->name);
      g_assert_true ((t->input == FLORENCE_TASK_INPUT_NONE) == (t->input_hint == NULL));
      g_assert_true ((t->input == FLORENCE_TASK_INPUT_NONE) ==
                     (strstr (t->prompt, "{input}") == NULL));
      g_assert_cmpstr (florence_task_group_get_name (t->group), !=, "");
    }
  g_assert_null (florence_task_lookup ("<od>"));
  g_assert_null (florence_task_lookup (""));
  g_assert_cmpstr (florence_task_parse_type_to_string (FLORENCE_PARSE_OCR), ==, "ocr");
}

static void
test_build_prompt (void)
{
  g_autoptr (GError) error = NULL;
  const FlorenceTaskInfo *res = florence_task_lookup ("<REFERRING_EXPRESSION_SEGMENTATION>");
  const FlorenceTaskInfo *cap = florence_task_lookup ("<CAPTION>");
  const FlorenceTaskInfo *rtc = florence_task_lookup ("<REGION_TO_CATEGORY>");
  char *p;

  p = florence_task_build_prompt (cap, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p, ==, "What does the image describe?");
  g_free (p);
  p = florence_task_build_prompt (cap, "", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p, ==, "What does the image describe?");
  g_free (p);

  /* verbatim input, nothing trimmed */
  p = florence_task_build_prompt (res, " a dog ", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p, ==, "Locate  a dog  in the image with mask");
  g_free (p);

  /* a task that needs input refuses to run without it */
  for (int i = 0; i < 3; i++)
    {
      p = florence_task_build_prompt (i == 2 ? rtc : res, i == 0 ? NULL : " \t\n", &error);
      g_assert_null (p);
      g_assert_error (error, FLORENCE_TASK_ERROR, FLORENCE_TASK_ERROR_MISSING_INPUT);
      g_assert_nonnull (strstr (error->message, "Enter") != NULL ? error->message
                                                                 : strstr (error->message, "Draw"));
      g_clear_error (&error);
    }

  /* the task token inside the input is removed, as the reference does */
  p = florence_task_construct_prompt ("a<OPEN_VOCABULARY_DETECTION>b<OPEN_VOCABULARY_DETECTION>",
                                      &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p, ==, "Locate ab in the image.");
  g_free (p);

  /* the first task with input in the reference's order wins */
  p = florence_task_construct_prompt ("<REGION_TO_CATEGORY><OPEN_VOCABULARY_DETECTION>x", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p, ==, "Locate <REGION_TO_CATEGORY>x in the image.");
  g_free (p);

  /* "{input}" typed by the user is not expanded again */
  p = florence_task_build_prompt (res, "{input}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (p, ==, "Locate {input} in the image with mask");
  g_free (p);

  p = florence_task_build_prompt (cap, "\xff", &error);
  g_assert_null (p);
  g_assert_nonnull (error);
  g_clear_error (&error);
}

static void
test_region (void)
{
  char *s;

  /* spec §8 example: 640x480 car.jpg region of the README */
  s = florence_task_region_input (449.6, 276.0, 554.3, 370.6, 640, 480);
  g_assert_cmpstr (s, ==, "<loc_702><loc_575><loc_866><loc_772>");
  g_free (s);

  /* floor, clamp to 0..999 */
  s = florence_task_region_input (-5, 0, 640, 10000, 640, 480);
  g_assert_cmpstr (s, ==, "<loc_0><loc_0><loc_999><loc_999>");
  g_free (s);
  s = florence_task_region_input (0.6399, 0.48, 639.359, 479.52, 640, 480);
  g_assert_cmpstr (s, ==, "<loc_0><loc_1><loc_998><loc_999>");
  g_free (s);
  s = florence_task_region_input (1, 1, 2, 2, 1, 1);
  g_assert_cmpstr (s, ==, "<loc_999><loc_999><loc_999><loc_999>");
  g_free (s);

  g_assert_null (florence_task_region_input (0, 0, 1, 1, 0, 10));
  g_assert_null (florence_task_region_input (NAN, 0, 1, 1, 10, 10));
  g_assert_null (florence_task_region_input (0, INFINITY, 1, 1, 10, 10));

  g_assert_cmpint (florence_task_quantize (999.999, 1000), ==, 999);
  g_assert_cmpint (florence_task_quantize (1.0, 1000), ==, 1);
  g_assert_cmpint (florence_task_quantize (0.999, 1000), ==, 0);
  g_assert_cmpint (florence_task_quantize (3.0, 3), ==, 999);
  g_assert_cmpint (florence_task_quantize (1.5, 3), ==, 500);
}

/* Every name a person may give: the names depict-cli's --task and --tasks took before the
 * table held them, in the spellings each accepted. */
static void
test_find (void)
{
  static const struct {
    const char *name;
    const char *token;
  } names[] = {
    { "caption", "<CAPTION>" },
    { "detailed-caption", "<DETAILED_CAPTION>" },
    { "more-detailed-caption", "<MORE_DETAILED_CAPTION>" },
    { "od", "<OD>" },
    { "dense-caption", "<DENSE_REGION_CAPTION>" },
    { "dense-region-caption", "<DENSE_REGION_CAPTION>" },
    { "region-proposal", "<REGION_PROPOSAL>" },
    { "ocr", "<OCR>" },
    { "ocr-with-region", "<OCR_WITH_REGION>" },
    { "grounding", "<CAPTION_TO_PHRASE_GROUNDING>" },
    { "caption-to-phrase-grounding", "<CAPTION_TO_PHRASE_GROUNDING>" },
    { "open-vocabulary-detection", "<OPEN_VOCABULARY_DETECTION>" },
    { "referring-expression-segmentation", "<REFERRING_EXPRESSION_SEGMENTATION>" },
    { "region-to-segmentation", "<REGION_TO_SEGMENTATION>" },
    { "region-to-category", "<REGION_TO_CATEGORY>" },
    { "region-to-description", "<REGION_TO_DESCRIPTION>" },
    { "region-to-ocr", "<REGION_TO_OCR>" },
    /* tokens, in any case, with or without brackets */
    { "<OD>", "<OD>" },
    { "OD", "<OD>" },
    { "<od>", "<OD>" },
    { " ocr ", "<OCR>" },
    { "Dense_Region_Caption", "<DENSE_REGION_CAPTION>" },
    { "DENSE_REGION_CAPTION", "<DENSE_REGION_CAPTION>" },
    { "<OCR_WITH_REGION>", "<OCR_WITH_REGION>" },
    { "region to ocr", "<REGION_TO_OCR>" },
  };
  static const char *const unknown[] = {
    "", "<>", "<CAPTON>", "captions", "od,ocr", "<OD", "dense"
  };
  gsize n;
  const FlorenceTaskInfo *all = florence_task_get_all (&n);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const FlorenceTaskInfo *t = florence_task_find (names[i].name);
      g_assert_nonnull (t);
      g_assert_cmpstr (t->token, ==, names[i].token);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_null (florence_task_find (unknown[i]));
      g_assert_null (florence_task_find_or_error (unknown[i], &error));
      g_assert_error (error, FLORENCE_TASK_ERROR, FLORENCE_TASK_ERROR_UNKNOWN_TASK);
      /* the sentence names every task by short name and token */
      for (gsize k = 0; k < n; k++)
        {
          g_assert_nonnull (strstr (error->message, all[k].token));
          g_assert_nonnull (strstr (error->message, all[k].short_name));
        }
    }
  /* each task by its own short name and token; short names are unique */
  for (gsize i = 0; i < n; i++)
    {
      g_assert_true (florence_task_find (all[i].short_name) == &all[i]);
      g_assert_true (florence_task_find (all[i].token) == &all[i]);
      g_assert_true (florence_task_find_or_error (all[i].token, NULL) == &all[i]);
      g_assert_cmpint (florence_task_takes_input (all[i].token), ==,
                       all[i].input != FLORENCE_TASK_INPUT_NONE);
    }
  g_assert_false (florence_task_takes_input (NULL));
  g_assert_false (florence_task_takes_input ("grounding")); /* a token, not a name */
}

/* How the gallery indexes each task's answer. */
static void
test_index (void)
{
  static const struct {
    const char *token;
    FlorenceTaskIndex index;
    FlorenceTaskTags tags;
  } expected[] = {
    { "<CAPTION>", FLORENCE_TASK_INDEX_CAPTION, FLORENCE_TASK_TAGS_NONE },
    { "<DETAILED_CAPTION>", FLORENCE_TASK_INDEX_CAPTION, FLORENCE_TASK_TAGS_NONE },
    { "<MORE_DETAILED_CAPTION>", FLORENCE_TASK_INDEX_CAPTION, FLORENCE_TASK_TAGS_NONE },
    { "<REGION_TO_DESCRIPTION>", FLORENCE_TASK_INDEX_CAPTION, FLORENCE_TASK_TAGS_NONE },
    { "<DENSE_REGION_CAPTION>", FLORENCE_TASK_INDEX_CAPTION, FLORENCE_TASK_TAGS_LABELS },
    { "<OCR>", FLORENCE_TASK_INDEX_OCR, FLORENCE_TASK_TAGS_NONE },
    { "<OCR_WITH_REGION>", FLORENCE_TASK_INDEX_OCR, FLORENCE_TASK_TAGS_NONE },
    { "<REGION_TO_OCR>", FLORENCE_TASK_INDEX_OCR, FLORENCE_TASK_TAGS_NONE },
    { "<OD>", FLORENCE_TASK_INDEX_LABELS, FLORENCE_TASK_TAGS_LABELS },
    { "<OPEN_VOCABULARY_DETECTION>", FLORENCE_TASK_INDEX_LABELS, FLORENCE_TASK_TAGS_LABELS },
    { "<REGION_TO_CATEGORY>", FLORENCE_TASK_INDEX_LABELS, FLORENCE_TASK_TAGS_LABELS },
    { "<CAPTION_TO_PHRASE_GROUNDING>", FLORENCE_TASK_INDEX_LABELS, FLORENCE_TASK_TAGS_PHRASES },
    { "<REGION_PROPOSAL>", FLORENCE_TASK_INDEX_NONE, FLORENCE_TASK_TAGS_NONE },
    { "<REFERRING_EXPRESSION_SEGMENTATION>", FLORENCE_TASK_INDEX_NONE, FLORENCE_TASK_TAGS_NONE },
    { "<REGION_TO_SEGMENTATION>", FLORENCE_TASK_INDEX_NONE, FLORENCE_TASK_TAGS_NONE },
  };
  gsize n;

  florence_task_get_all (&n);
  g_assert_cmpuint (n, ==, G_N_ELEMENTS (expected));
  for (gsize i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const FlorenceTaskInfo *t = florence_task_lookup (expected[i].token);
      g_assert_nonnull (t);
      g_assert_cmpint (t->index, ==, expected[i].index);
      g_assert_cmpint (t->tags, ==, expected[i].tags);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/florence/task/table", test_table);
  g_test_add_func ("/florence/task/build-prompt", test_build_prompt);
  g_test_add_func ("/florence/task/region", test_region);
  g_test_add_func ("/florence/task/find", test_find);
  g_test_add_func ("/florence/task/index", test_index);
  return g_test_run ();
}
