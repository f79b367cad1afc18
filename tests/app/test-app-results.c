/* test-app-results.c: what the app draws and lists for a result
 *
 * Every post-processing fixture case (reference outputs) becomes overlay items; the Depict
 * JSON form that florence_result_to_json_node() writes for the same generated text must give
 * the same items as the reference form. No display needed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>

#include "app-test-util.h"
#include "depict-overlay-item.h"
#include "depict-result-json.h"
#include "florence/text/florence-postprocess.h"
#include "florence/text/florence-result.h"

static JsonArray *
member_array (JsonObject *obj, const char *name)
{
  JsonNode *n = json_object_get_member (obj, name);

  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

/* Items the fixture describes, counted from its raw lists. */
static guint
expected_count (JsonNode *expected)
{
  JsonObject *outer = json_node_get_object (expected);
  g_autoptr (GList) members = json_object_get_members (outer);
  JsonNode *payload = json_object_get_member (outer, members->data);
  JsonObject *obj;
  JsonArray *a;
  guint n = 0;

  if (!JSON_NODE_HOLDS_OBJECT (payload))
    return 0;
  obj = json_node_get_object (payload);
  if ((a = member_array (obj, "bboxes")) != NULL)
    n += json_array_get_length (a);
  if ((a = member_array (obj, "quad_boxes")) != NULL)
    n += json_array_get_length (a);
  if ((a = member_array (obj, "polygons")) != NULL)
    for (guint i = 0; i < json_array_get_length (a); i++)
      {
        JsonArray *polys = json_array_get_array_element (a, i);
        gboolean drawable = FALSE;

        for (guint j = 0; j < json_array_get_length (polys); j++)
          drawable |= json_array_get_length (json_array_get_array_element (polys, j)) >= 2;
        n += drawable;
      }
  return n;
}

static void
assert_same_items (GListModel *a, GListModel *b, const char *name)
{
  guint n = g_list_model_get_n_items (a);

  g_assert_cmpuint (n, ==, g_list_model_get_n_items (b));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (DepictOverlayItem) x = g_list_model_get_item (a, i);
      g_autoptr (DepictOverlayItem) y = g_list_model_get_item (b, i);
      float bx[4], by[4];

      g_test_message ("%s item %u: %s", name, i, depict_overlay_item_get_label (x));
      g_assert_cmpint (depict_overlay_item_get_kind (x), ==, depict_overlay_item_get_kind (y));
      g_assert_cmpstr (depict_overlay_item_get_label (x), ==, depict_overlay_item_get_label (y));
      g_assert_cmpuint (depict_overlay_item_get_n_polygons (x), ==,
                        depict_overlay_item_get_n_polygons (y));
      depict_overlay_item_get_bounds (x, &bx[0], &bx[1], &bx[2], &bx[3]);
      depict_overlay_item_get_bounds (y, &by[0], &by[1], &by[2], &by[3]);
      for (int k = 0; k < 4; k++)
        g_assert_cmpfloat_with_epsilon (bx[k], by[k], 1e-3);
    }
}

static void
test_fixture_cases (void)
{
  g_autofree char *path = app_test_data_path ("postprocess", "cases.json", NULL);
  g_autoptr (JsonNode) root = app_test_load_json (path);
  JsonArray *cases = json_object_get_array_member (json_node_get_object (root), "cases");
  guint with_items = 0;

  g_assert_cmpuint (json_array_get_length (cases), >, 50);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *name = json_object_get_string_member (c, "name");
      const char *task = json_object_get_string_member (c, "task");
      const char *text = json_object_get_string_member (c, "text");
      JsonArray *size = json_object_get_array_member (c, "image_size");
      JsonNode *expected = json_object_get_member (c, "expected");
      g_autoptr (GListStore) reference_items = NULL;
      g_autoptr (GListStore) depict_items = NULL;
      g_autoptr (FlorenceResult) result = NULL;
      g_autoptr (JsonNode) depict_json = NULL;

      g_test_message ("case %s", name);
      reference_items = depict_result_json_get_items (expected);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (reference_items)), ==,
                        expected_count (expected));
      with_items += g_list_model_get_n_items (G_LIST_MODEL (reference_items)) > 0;

      /* The same text through Depict's post-processor and JSON form. */
      result = florence_postprocess_for_token (task, text, json_array_get_int_element (size, 0),
                                               json_array_get_int_element (size, 1));
      g_assert_nonnull (result);
      depict_json = florence_result_to_json_node (result);
      depict_items = depict_result_json_get_items (depict_json);
      assert_same_items (G_LIST_MODEL (reference_items), G_LIST_MODEL (depict_items), name);

      /* And the same text to show. */
      {
        g_autofree char *t1 = depict_result_json_get_text (expected);
        g_autofree char *t2 = depict_result_json_get_text (depict_json);

        g_assert_cmpstr (t1, ==, t2);
      }
    }
  g_assert_cmpuint (with_items, >, 30);
}

static void
test_boxes (void)
{
  g_autoptr (JsonNode) expected = app_test_postprocess_case ("od_two_objects", NULL, NULL);
  g_autoptr (GListStore) items = depict_result_json_get_items (expected);
  g_autoptr (DepictOverlayItem) car = g_list_model_get_item (G_LIST_MODEL (items), 0);
  JsonArray *boxes = json_object_get_array_member (
    json_object_get_object_member (json_node_get_object (expected), "<OD>"), "bboxes");
  JsonArray *labels = json_object_get_array_member (
    json_object_get_object_member (json_node_get_object (expected), "<OD>"), "labels");
  JsonArray *first = json_array_get_array_element (boxes, 0);
  float x, y, w, h;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (items)), ==, 2);
  g_assert_cmpstr (depict_overlay_item_get_label (car), ==,
                   json_array_get_string_element (labels, 0));
  g_assert_cmpint (depict_overlay_item_get_kind (car), ==, DEPICT_OVERLAY_BOX);
  g_assert_cmpint (depict_overlay_item_get_layer (car), ==, DEPICT_LAYER_BOXES);
  depict_overlay_item_get_bounds (car, &x, &y, &w, &h);
  g_assert_cmpfloat_with_epsilon (x, json_array_get_double_element (first, 0), 1e-4);
  g_assert_cmpfloat_with_epsilon (y, json_array_get_double_element (first, 1), 1e-4);
  g_assert_cmpfloat_with_epsilon (x + w, json_array_get_double_element (first, 2), 1e-3);
  g_assert_cmpfloat_with_epsilon (y + h, json_array_get_double_element (first, 3), 1e-3);

  /* Inside the box, outside it */
  g_assert_true (depict_overlay_item_contains (car, x + w / 2, y + h / 2));
  g_assert_false (depict_overlay_item_contains (car, x - 1, y + h / 2));

  /* Text-only results give no text for boxes; the plain text lists the boxes */
  text = depict_result_json_to_plain_text (expected);
  line = g_strdup_printf (
    "%s: %.0f, %.0f – %.0f, %.0f", json_array_get_string_element (labels, 0),
    json_array_get_double_element (first, 0), json_array_get_double_element (first, 1),
    json_array_get_double_element (first, 2), json_array_get_double_element (first, 3));
  g_assert_nonnull (strstr (text, line));
}

static void
test_reversed_box (void)
{
  /* The reference keeps x1 > x2 as generated: the item still covers the area. */
  g_autoptr (JsonNode) expected = app_test_postprocess_case ("od_reversed_box", NULL, NULL);
  g_autoptr (GListStore) items = depict_result_json_get_items (expected);
  g_autoptr (DepictOverlayItem) box = g_list_model_get_item (G_LIST_MODEL (items), 0);
  float x, y, w, h;

  depict_overlay_item_get_bounds (box, &x, &y, &w, &h);
  g_assert_cmpfloat (w, >, 0);
  g_assert_cmpfloat (h, >, 0);
  g_assert_cmpfloat_with_epsilon (x, 100.5, 1e-3);
  g_assert_true (depict_overlay_item_contains (box, 500, 100));
}

static void
test_masks (void)
{
  g_autoptr (JsonNode) expected = app_test_postprocess_case ("res_multi_polygon_sep", NULL, NULL);
  g_autoptr (GListStore) items = depict_result_json_get_items (expected);
  g_autoptr (DepictOverlayItem) mask = g_list_model_get_item (G_LIST_MODEL (items), 0);
  JsonArray *polys = json_array_get_array_element (
    json_object_get_array_member (
      json_object_get_object_member (json_node_get_object (expected),
                                     "<REFERRING_EXPRESSION_SEGMENTATION>"),
      "polygons"),
    0);
  guint n_points;

  g_assert_cmpint (depict_overlay_item_get_kind (mask), ==, DEPICT_OVERLAY_MASK);
  g_assert_cmpint (depict_overlay_item_get_layer (mask), ==, DEPICT_LAYER_MASKS);
  g_assert_cmpuint (depict_overlay_item_get_n_polygons (mask), ==, json_array_get_length (polys));
  depict_overlay_item_get_polygon (mask, 0, &n_points);
  g_assert_cmpuint (n_points, ==,
                    json_array_get_length (json_array_get_array_element (polys, 0)) / 2);
}

static void
test_polygon_hit (void)
{
  g_autoptr (DepictOverlayItem) tri = depict_overlay_item_new_polygon (DEPICT_OVERLAY_MASK, "tri");
  const float xy[] = { 0, 0, 100, 0, 0, 100 };

  depict_overlay_item_add_polygon (tri, xy, 3);
  g_assert_true (depict_overlay_item_contains (tri, 10, 10));
  /* Inside the bounds, outside the triangle */
  g_assert_false (depict_overlay_item_contains (tri, 90, 90));
  g_assert_false (depict_overlay_item_contains (tri, -5, 10));
}

static void
test_ocr (void)
{
  g_autoptr (JsonNode) expected = app_test_postprocess_case ("ocr_region_two_lines", NULL, NULL);
  JsonArray *labels = json_object_get_array_member (
    json_object_get_object_member (json_node_get_object (expected), "<OCR_WITH_REGION>"), "labels");
  g_autoptr (GListStore) items = depict_result_json_get_items (expected);
  g_autoptr (DepictOverlayItem) first = g_list_model_get_item (G_LIST_MODEL (items), 0);
  g_autofree char *text = depict_result_json_get_text (expected);
  const char *label0 = json_array_get_string_element (labels, 0);
  guint n_points;

  /* The reference keeps "</s>" before the first line; people should not see it. */
  g_assert_true (g_str_has_prefix (label0, "</s>"));
  g_assert_cmpstr (depict_overlay_item_get_label (first), ==, label0 + 4);
  g_assert_cmpint (depict_overlay_item_get_kind (first), ==, DEPICT_OVERLAY_TEXT);
  depict_overlay_item_get_polygon (first, 0, &n_points);
  g_assert_cmpuint (n_points, ==, 4);
  g_assert_true (g_str_has_prefix (text, label0 + 4));
  g_assert_nonnull (strchr (text, '\n'));
}

static void
test_caption (void)
{
  g_autoptr (JsonNode) expected = app_test_postprocess_case ("caption_basic", NULL, NULL);
  g_autoptr (GListStore) items = depict_result_json_get_items (expected);
  g_autofree char *text = depict_result_json_get_text (expected);
  g_autofree char *json = depict_result_json_to_string (expected, FALSE);
  g_autoptr (JsonNode) back = depict_result_json_parse (json, NULL);
  g_autofree char *text2 = depict_result_json_get_text (back);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (items)), ==, 0);
  g_assert_cmpstr (text, ==,
                   json_object_get_string_member (json_node_get_object (expected), "<CAPTION>"));
  g_assert_cmpstr (text2, ==, text);
}

static void
test_palette (void)
{
  float a[3], b[3];

  /* One colour per label, the same every time */
  depict_overlay_color_for_label ("car", 0, a);
  depict_overlay_color_for_label ("car", 7, b);
  g_assert_true (a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
  /* Unlabelled regions take their colour from their index */
  depict_overlay_color_for_label ("", 0, a);
  depict_overlay_color_for_label ("", 1, b);
  g_assert_false (a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
}

static void
test_garbage (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) odd = depict_result_json_parse (
    "{\"<OD>\": {\"bboxes\": [[1, \"x\"], 3, [1,2,3,4]], \"labels\": [5]}}", &error);
  g_autoptr (GListStore) items = NULL;
  g_autoptr (JsonNode) bad = NULL;

  /* Malformed entries are skipped, not trusted */
  g_assert_no_error (error);
  items = depict_result_json_get_items (odd);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (items)), ==, 1);
  bad = depict_result_json_parse ("{not json", &error);
  g_assert_null (bad);
  g_assert_nonnull (error);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/app/results/fixture-cases", test_fixture_cases);
  g_test_add_func ("/app/results/boxes", test_boxes);
  g_test_add_func ("/app/results/reversed-box", test_reversed_box);
  g_test_add_func ("/app/results/masks", test_masks);
  g_test_add_func ("/app/results/polygon-hit", test_polygon_hit);
  g_test_add_func ("/app/results/ocr", test_ocr);
  g_test_add_func ("/app/results/caption", test_caption);
  g_test_add_func ("/app/results/palette", test_palette);
  g_test_add_func ("/app/results/garbage", test_garbage);
  return g_test_run ();
}
