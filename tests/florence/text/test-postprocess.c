/* test-postprocess.c: post-processing against the reference (tests/data/postprocess/cases.json)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "florence/text/florence-postprocess.h"
#include "text-json-compare.h"

static void
test_cases (void)
{
  JsonArray *cases;
  g_autoptr (JsonNode) root = text_test_load_postprocess_cases (&cases);

  g_assert_cmpuint (json_array_get_length (cases), ==, 78);

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      JsonArray *size = json_object_get_array_member (c, "image_size");
      const char *name = json_object_get_string_member (c, "name");
      g_autoptr (FlorenceResult) r = NULL;
      g_autoptr (JsonNode) got = NULL;

      g_test_message ("%s", name);
      r = florence_postprocess_for_token (
        json_object_get_string_member (c, "task"), json_object_get_string_member (c, "text"),
        (int) json_array_get_int_element (size, 0), (int) json_array_get_int_element (size, 1));
      got = florence_result_to_reference_json_node (r);
      assert_same_json (got, json_object_get_member (c, "expected"), name);
    }
}

static void
check_boxes (FlorenceResult *r, const char *const *labels, guint n)
{
  g_assert_cmpuint (r->boxes->len, ==, n);
  g_assert_cmpuint (r->box_labels->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (g_ptr_array_index (r->box_labels, i), ==, labels[i]);
}

static void
test_typed (void)
{
  g_autoptr (FlorenceResult) od = florence_postprocess (
    florence_task_lookup ("<OD>"), "</s><s>car<loc_53><loc_333><loc_933><loc_774></s>", 640, 480);
  g_autoptr (FlorenceResult) poly = NULL, ocr = NULL, text = NULL, unknown = NULL;
  const FlorenceBox *b;

  /* spec §9.1: car.jpg 640×480, <loc_53><loc_333><loc_933><loc_774> -> [34, 160, 597, 371]
   * after the native port's truncation */
  g_assert_cmpint (od->kind, ==, FLORENCE_RESULT_BOXES);
  check_boxes (od, (const char *[]){ "car" }, 1);
  b = &g_array_index (od->boxes, FlorenceBox, 0);
  g_assert_cmpint ((int) b->x1, ==, 34);
  g_assert_cmpint ((int) b->y1, ==, 160);
  g_assert_cmpint ((int) b->x2, ==, 597);
  g_assert_cmpint ((int) b->y2, ==, 371);
  g_assert_cmpfloat (b->x1, ==, 53.5f * (float) (640 / 1000.0)); /* fl32(53.5) * fl32(0.64) */

  poly = florence_postprocess (florence_task_lookup ("<REGION_TO_SEGMENTATION>"),
                               "<loc_0><loc_999><sep><loc_10>", 1000, 1000);
  g_assert_cmpint (poly->kind, ==, FLORENCE_RESULT_POLYGONS);
  /* four run tokens: one instance, a one-point polygon and (single loc) an empty one */
  g_assert_cmpuint (poly->polygons->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (poly->polygon_labels, 0), ==, "");
  {
    GPtrArray *inst = g_ptr_array_index (poly->polygons, 0);
    g_assert_cmpuint (inst->len, ==, 2);
    g_assert_cmpuint (((GArray *) g_ptr_array_index (inst, 0))->len, ==, 2);
    g_assert_cmpuint (((GArray *) g_ptr_array_index (inst, 1))->len, ==, 0);
  }

  ocr = florence_postprocess (florence_task_lookup ("<OCR_WITH_REGION>"),
                              "</s><s>AB<loc_1><loc_2><loc_3><loc_4><loc_5><loc_6><loc_7><loc_8>",
                              100, 100);
  g_assert_cmpint (ocr->kind, ==, FLORENCE_RESULT_QUADS);
  g_assert_cmpuint (ocr->quads->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (ocr->quad_labels, 0), ==, "</s>AB");
  g_assert_cmpfloat (g_array_index (ocr->quads, FlorenceQuad, 0).p[7], ==,
                     8.5f * (float) (100 / 1000.0));

  text = florence_postprocess (NULL, "<s>x</s>", 1, 1);
  g_assert_cmpint (text->kind, ==, FLORENCE_RESULT_TEXT);
  g_assert_cmpstr (text->text, ==, "x");
  g_assert_cmpstr (text->task, ==, "");

  unknown = florence_postprocess_for_token ("<NOT_A_TASK>", "<</s>s>", 1, 1);
  g_assert_cmpstr (unknown->text, ==, "<s>"); /* replace('<s>') runs before replace('</s>') */
  g_assert_cmpstr (unknown->task, ==, "<NOT_A_TASK>");
}

static void
test_hostile (void)
{
  /* Quirks beyond the fixtures: Unicode digits are \d for Python's re and int(); huge
   * numbers saturate; newlines stop ".", truncated tokens and invalid UTF-8 are safe. */
  g_autoptr (FlorenceResult) arabic =
    florence_postprocess_for_token ("<OD>", "car<loc_\xd9\xa3><loc_1><loc_2><loc_3>", 1000, 1000);
  g_autoptr (FlorenceResult) huge = florence_postprocess_for_token (
    "<OD>", "x<loc_99999999999999999999999><loc_1><loc_2><loc_3>", 1000, 1000);
  g_autoptr (FlorenceResult) newline = florence_postprocess_for_token (
    "<OD>", "a\nb<loc_1><loc_1><loc_2><loc_3> \nc<loc_1><loc_1><loc_2><loc_3>", 1000, 1000);
  static const char *const tails[] = { "<loc_", "<loc_1", "<loc_1><", "<poly", "<loc_>", "<" };
  static const char *const tasks[] = { "<OD>",
                                       "<REGION_PROPOSAL>",
                                       "<OCR_WITH_REGION>",
                                       "<REGION_TO_SEGMENTATION>",
                                       "<OPEN_VOCABULARY_DETECTION>",
                                       "<CAPTION_TO_PHRASE_GROUNDING>",
                                       "<CAPTION>" };

  g_assert_cmpuint (arabic->boxes->len, ==, 1);
  g_assert_cmpfloat (g_array_index (arabic->boxes, FlorenceBox, 0).x1, ==, 3.5f);
  g_assert_cmpuint (huge->boxes->len, ==, 1);
  g_assert_true (isfinite (g_array_index (huge->boxes, FlorenceBox, 0).x1));
  /* "a\nb": the label search stops at the newline, so the first phrase is dropped */
  check_boxes (newline, (const char *[]){ "c" }, 1);

  for (gsize i = 0; i < G_N_ELEMENTS (tasks); i++)
    for (gsize k = 0; k < G_N_ELEMENTS (tails); k++)
      {
        g_autofree char *text = g_strconcat ("x<loc_1><loc_2><loc_3><loc_4>\xff", tails[k], NULL);
        g_autoptr (FlorenceResult) r = florence_postprocess_for_token (tasks[i], text, 7, 3);
        g_assert_nonnull (r);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/florence/postprocess/cases", test_cases);
  g_test_add_func ("/florence/postprocess/typed", test_typed);
  g_test_add_func ("/florence/postprocess/hostile", test_hostile);
  return g_test_run ();
}
