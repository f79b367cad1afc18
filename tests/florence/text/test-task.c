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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/florence/task/table", test_table);
  g_test_add_func ("/florence/task/build-prompt", test_build_prompt);
  g_test_add_func ("/florence/task/region", test_region);
  return g_test_run ();
}
