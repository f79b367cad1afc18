/* test-result.c: the JSON form of results (data/depict-result.schema.json)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "florence/text/florence-postprocess.h"
#include "florence/text/florence-result.h"
#include "text-json-compare.h"

static void
test_written_form (void)
{
  g_autoptr (FlorenceResult) r = florence_result_new (FLORENCE_RESULT_BOXES, "<OD>", 640, 480);
  g_autofree char *json = NULL;
  FlorenceBox box = { 1.5f, 2.25f, 3.0f, 4.0f };

  florence_result_add_box (r, "car", &box);
  json = florence_result_to_json (r, FALSE);
  g_assert_cmpstr (json, ==,
                   "{\"version\":2,\"task\":\"<OD>\",\"kind\":\"boxes\",\"image_size\":[640,480],"
                   "\"bboxes\":[[1.5,2.25,3.0,4.0]],\"labels\":[\"car\"]}");
}

static void
round_trip (FlorenceResult *r)
{
  g_autofree char *a = florence_result_to_json (r, TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceResult) back = florence_result_from_json (a, &error);
  g_autoptr (FlorenceResult) copy = florence_result_copy (r);
  g_autofree char *b = NULL, *c = NULL;

  g_assert_no_error (error);
  b = florence_result_to_json (back, TRUE);
  c = florence_result_to_json (copy, TRUE);
  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (a, ==, c);
  g_assert_cmpint (back->kind, ==, r->kind);
  g_assert_cmpuint (florence_result_get_n_instances (back), ==,
                    florence_result_get_n_instances (r));
  /* float32 values survive exactly */
  for (guint i = 0; i < r->boxes->len; i++)
    g_assert_true (memcmp (&g_array_index (r->boxes, FlorenceBox, i),
                           &g_array_index (back->boxes, FlorenceBox, i),
                           sizeof (FlorenceBox)) == 0);
  for (guint i = 0; i < r->quads->len; i++)
    g_assert_true (memcmp (&g_array_index (r->quads, FlorenceQuad, i),
                           &g_array_index (back->quads, FlorenceQuad, i),
                           sizeof (FlorenceQuad)) == 0);
}

static FlorenceResult *
postprocess_case (JsonObject *c)
{
  JsonArray *size = json_object_get_array_member (c, "image_size");

  return florence_postprocess_for_token (
    json_object_get_string_member (c, "task"), json_object_get_string_member (c, "text"),
    (int) json_array_get_int_element (size, 0), (int) json_array_get_int_element (size, 1));
}

/* The Depict form holds the reference's answer under the reference's keys, for every task
 * of the post-processing fixtures: its members are the reference's answer and Depict's
 * additions, nothing else. */
static void
test_reference_keys (void)
{
  static const char *const additions[] = { "version", "task", "kind", "image_size" };
  JsonArray *cases;
  g_autoptr (JsonNode) root = text_test_load_postprocess_cases (&cases);

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *task = json_object_get_string_member (c, "task");
      JsonNode *expected =
        json_object_get_member (json_object_get_object_member (c, "expected"), task);
      g_autoptr (FlorenceResult) r = postprocess_case (c);
      g_autoptr (JsonNode) depict = florence_result_to_json_node (r);
      g_autoptr (JsonObject) answer = json_object_new ();
      g_autoptr (JsonNode) answer_node = json_node_new (JSON_NODE_OBJECT);
      g_autoptr (GList) members = json_object_get_members (json_node_get_object (depict));
      g_autofree char *where =
        g_strdup_printf ("%s (%s)", json_object_get_string_member (c, "name"), task);

      for (gsize k = 0; k < G_N_ELEMENTS (additions); k++)
        g_assert_true (json_object_has_member (json_node_get_object (depict), additions[k]));
      if (JSON_NODE_HOLDS_VALUE (expected))
        {
          g_assert_cmpstr (json_object_get_string_member (json_node_get_object (depict), "text"),
                           ==, json_node_get_string (expected));
          g_assert_cmpuint (json_object_get_size (json_node_get_object (depict)), ==,
                            G_N_ELEMENTS (additions) + 1);
          continue;
        }
      for (GList *l = members; l != NULL; l = l->next)
        {
          gboolean added = FALSE;
          for (gsize k = 0; k < G_N_ELEMENTS (additions); k++)
            added = added || strcmp (l->data, additions[k]) == 0;
          if (!added)
            json_object_set_member (
              answer, l->data,
              json_node_copy (json_object_get_member (json_node_get_object (depict), l->data)));
        }
      json_node_set_object (answer_node, answer);
      assert_same_json (answer_node, expected, where);
    }
}

/* Results stored in version 1 (labels named after the shapes) read as they were meant. */
static void
test_reads_version_1 (void)
{
  static const struct {
    const char *v1, *v2;
  } pairs[] = {
    { "{\"version\":1,\"task\":\"<OD>\",\"kind\":\"boxes\",\"image_size\":[9,9],"
      "\"bboxes\":[[1,2,3,4]],\"bboxes_labels\":[\"car\"]}",
      "{\"version\":2,\"task\":\"<OD>\",\"kind\":\"boxes\",\"image_size\":[9,9],"
      "\"bboxes\":[[1.0,2.0,3.0,4.0]],\"labels\":[\"car\"]}" },
    { "{\"version\":1,\"task\":\"<REGION_TO_SEGMENTATION>\",\"kind\":\"polygons\","
      "\"image_size\":[9,9],\"polygons\":[[[1,2,3,4,5,6]]],\"polygons_labels\":[\"\"]}",
      "{\"version\":2,\"task\":\"<REGION_TO_SEGMENTATION>\",\"kind\":\"polygons\","
      "\"image_size\":[9,9],\"polygons\":[[[1.0,2.0,3.0,4.0,5.0,6.0]]],\"labels\":[\"\"]}" },
    { "{\"version\":1,\"task\":\"<OCR_WITH_REGION>\",\"kind\":\"quads\",\"image_size\":[9,9],"
      "\"quad_boxes\":[[1,2,3,4,5,6,7,8]],\"quad_labels\":[\"</s>EXIT\"]}",
      "{\"version\":2,\"task\":\"<OCR_WITH_REGION>\",\"kind\":\"quads\",\"image_size\":[9,9],"
      "\"quad_boxes\":[[1.0,2.0,3.0,4.0,5.0,6.0,7.0,8.0]],\"labels\":[\"</s>EXIT\"]}" },
    { "{\"version\":1,\"task\":\"<OPEN_VOCABULARY_DETECTION>\",\"kind\":\"boxes_or_polygons\","
      "\"image_size\":[9,9],\"bboxes\":[[1,2,3,4]],\"bboxes_labels\":[\"cup\"],\"polygons\":[],"
      "\"polygons_labels\":[]}",
      "{\"version\":2,\"task\":\"<OPEN_VOCABULARY_DETECTION>\",\"kind\":\"boxes_or_polygons\","
      "\"image_size\":[9,9],\"bboxes\":[[1.0,2.0,3.0,4.0]],\"bboxes_labels\":[\"cup\"],"
      "\"polygons\":[],\"polygons_labels\":[]}" },
    { "{\"version\":1,\"task\":\"<CAPTION>\",\"kind\":\"text\",\"image_size\":[9,9],"
      "\"text\":\"A car.\"}",
      "{\"version\":2,\"task\":\"<CAPTION>\",\"kind\":\"text\",\"image_size\":[9,9],"
      "\"text\":\"A car.\"}" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceResult) old = florence_result_from_json (pairs[i].v1, &error);
      g_autofree char *migrated = NULL;

      g_assert_no_error (error);
      migrated = florence_result_to_json (old, FALSE);
      g_assert_cmpstr (migrated, ==, pairs[i].v2);
    }
  /* version 1 keys are not read as version 2, nor the other way round */
  g_assert_null (florence_result_from_json (
    "{\"version\":2,\"task\":\"<OD>\",\"kind\":\"boxes\",\"image_size\":[9,9],"
    "\"bboxes\":[[1,2,3,4]],\"bboxes_labels\":[\"car\"]}",
    NULL));
  g_assert_null (florence_result_from_json (
    "{\"version\":1,\"task\":\"<OD>\",\"kind\":\"boxes\",\"image_size\":[9,9],"
    "\"bboxes\":[[1,2,3,4]],\"labels\":[\"car\"]}",
    NULL));
}

/* The reference's {task: answer} reads back to the same result, for every fixture case and
 * from the fixtures' own expected answers. */
static void
test_reference_reader (void)
{
  JsonArray *cases;
  g_autoptr (JsonNode) root = text_test_load_postprocess_cases (&cases);

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      g_autoptr (FlorenceResult) r = postprocess_case (c);
      g_autoptr (JsonNode) ref = florence_result_to_reference_json_node (r);
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceResult) back = florence_result_from_reference_json_node (
        ref, NULL, r->image_width, r->image_height, &error);
      g_autoptr (FlorenceResult) expected = NULL;
      g_autofree char *a = florence_result_to_json (r, FALSE);
      g_autofree char *b = NULL;
      g_autoptr (JsonNode) ref_back = NULL;

      g_assert_no_error (error);
      b = florence_result_to_json (back, FALSE);
      g_assert_cmpstr (a, ==, b);

      expected = florence_result_from_reference_json_node (
        json_object_get_member (c, "expected"), r->task, r->image_width, r->image_height, &error);
      g_assert_no_error (error);
      g_assert_cmpint (expected->kind, ==, r->kind);
      ref_back = florence_result_to_reference_json_node (expected);
      assert_same_json (ref_back, json_object_get_member (c, "expected"),
                        json_object_get_string_member (c, "name"));
    }
  {
    g_autoptr (JsonNode) bad = json_from_string ("{\"<OD>\":3}", NULL);
    g_assert_null (florence_result_from_reference_json_node (bad, NULL, 1, 1, NULL));
  }
}

static void
test_round_trip_fixtures (void)
{
  JsonArray *cases;
  g_autoptr (JsonNode) root = text_test_load_postprocess_cases (&cases);
  guint kinds = 0;

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      g_autoptr (FlorenceResult) r = postprocess_case (json_array_get_object_element (cases, i));

      round_trip (r);
      kinds |= 1u << r->kind;
    }
  g_assert_cmpuint (kinds, ==, 0x1f); /* every kind was seen */
}

static void
test_damaged (void)
{
  static const char *const bad[] = {
    "",
    "nonsense",
    "[]",
    "{}",
    "{\"version\":1}",
    "{\"version\":3,\"task\":\"\",\"kind\":\"text\",\"image_size\":[1,1],\"text\":\"\"}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"words\",\"image_size\":[1,1],\"text\":\"\"}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"text\",\"image_size\":[1],\"text\":\"\"}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"text\",\"image_size\":[-1,1],\"text\":\"\"}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"text\",\"image_size\":[1,1]}",
    "{\"version\":1,\"task\":3,\"kind\":\"text\",\"image_size\":[1,1],\"text\":\"\"}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"boxes\",\"image_size\":[1,1],\"bboxes\":[[1,2,3]],"
    "\"bboxes_labels\":[\"a\"]}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"boxes\",\"image_size\":[1,1],\"bboxes\":[[1,2,3,4]],"
    "\"bboxes_labels\":[]}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"boxes\",\"image_size\":[1,1],\"bboxes\":[[1,2,3,\"4\"]"
    "],\"bboxes_labels\":[\"a\"]}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"polygons\",\"image_size\":[1,1],\"polygons\":[[[1,2],"
    "3]],\"polygons_labels\":[\"\"]}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"polygons\",\"image_size\":[1,1],\"polygons\":[[1]],"
    "\"polygons_labels\":[\"\"]}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"polygons\",\"image_size\":[1,1],\"polygons\":[],"
    "\"polygons_labels\":[7]}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"quads\",\"image_size\":[1,1],\"quad_boxes\":[[1,2,3,4,"
    "5,6,7]],\"quad_labels\":[\"\"]}",
    "{\"version\":1,\"task\":\"\",\"kind\":\"boxes_or_polygons\",\"image_size\":[1,1],\"bboxes\":[]"
    ",\"bboxes_labels\":[]}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceResult) r = florence_result_from_json (bad[i], &error);
      g_assert_null (r);
      g_assert_error (error, FLORENCE_RESULT_ERROR, FLORENCE_RESULT_ERROR_INVALID);
    }
}

static void
test_accepts_extra_members (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceResult) r = florence_result_from_json (
    "{\"version\":1,\"task\":\"<OCR_WITH_REGION>\",\"kind\":\"quads\",\"image_size\":[10,20],"
    "\"quad_boxes\":[[1,2,3,4,5,6,7,8.5]],\"quad_labels\":[\"EXIT\"],\"future\":{\"x\":1}}",
    &error);

  g_assert_no_error (error);
  g_assert_cmpint (r->kind, ==, FLORENCE_RESULT_QUADS);
  g_assert_cmpint (r->image_width, ==, 10);
  g_assert_cmpint (r->image_height, ==, 20);
  g_assert_cmpstr (g_ptr_array_index (r->quad_labels, 0), ==, "EXIT");
  g_assert_cmpfloat (g_array_index (r->quads, FlorenceQuad, 0).p[7], ==, 8.5f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/florence/result/written-form", test_written_form);
  g_test_add_func ("/florence/result/round-trip-fixtures", test_round_trip_fixtures);
  g_test_add_func ("/florence/result/damaged", test_damaged);
  g_test_add_func ("/florence/result/extra-members", test_accepts_extra_members);
  g_test_add_func ("/florence/result/reference-keys", test_reference_keys);
  g_test_add_func ("/florence/result/reads-version-1", test_reads_version_1);
  g_test_add_func ("/florence/result/reference-reader", test_reference_reader);
  return g_test_run ();
}
