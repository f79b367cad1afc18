/* test-app-results.c: what the app draws and lists for a result
 *
 * Every post-processing fixture case: the typed result Depict's post-processor makes of the
 * generated text becomes overlay items that match, item by item, what the reference
 * implementation returned for the same text (its "expected" output, read here from the
 * fixture); and the text shown is the reference's. No display needed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>

#include "app-test-util.h"
#include "depict-answer.h"
#include "depict-overlay-item.h"

/* ---------------------------------------------------------------------------------------- */
/* The reference's answer, as the fixture holds it                                          */

typedef struct {
  DepictOverlayKind kind;
  char *label;
  float x1, y1, x2, y2; /* bounds of every drawable point */
  guint n_polygons;
} Expected;

static void
expected_free (gpointer data)
{
  Expected *e = data;

  g_free (e->label);
  g_free (e);
}

static JsonArray *
member_array (JsonObject *obj, const char *name)
{
  JsonNode *n = json_object_get_member (obj, name);

  return n != NULL && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const char *
shown_label (JsonArray *labels, guint i)
{
  const char *label;

  if (labels == NULL || i >= json_array_get_length (labels))
    return "";
  label = json_array_get_string_element (labels, i);
  /* The reference keeps the end token before the first OCR line; people do not see it. */
  return g_str_has_prefix (label, "</s>") ? label + 4 : label;
}

static Expected *
expected_new (DepictOverlayKind kind, const char *label)
{
  Expected *e = g_new0 (Expected, 1);

  e->kind = kind;
  e->label = g_strdup (label);
  e->x1 = e->y1 = INFINITY;
  e->x2 = e->y2 = -INFINITY;
  return e;
}

static void
grow (Expected *e, JsonArray *xy)
{
  for (guint i = 0; i + 1 < json_array_get_length (xy); i += 2)
    {
      float x = json_array_get_double_element (xy, i),
            y = json_array_get_double_element (xy, i + 1);

      e->x1 = MIN (e->x1, x);
      e->y1 = MIN (e->y1, y);
      e->x2 = MAX (e->x2, x);
      e->y2 = MAX (e->y2, y);
    }
}

/* The items the reference's answer describes, in the order the app lists them: text lines,
 * boxes, masks with at least one point. */
static GPtrArray *
expected_items (JsonNode *expected, JsonNode **payload_out)
{
  JsonObject *outer = json_node_get_object (expected);
  g_autoptr (GList) members = json_object_get_members (outer);
  JsonNode *payload = json_object_get_member (outer, members->data);
  GPtrArray *items = g_ptr_array_new_with_free_func (expected_free);
  JsonObject *obj;
  JsonArray *a, *labels;

  *payload_out = payload;
  if (!JSON_NODE_HOLDS_OBJECT (payload))
    return items;
  obj = json_node_get_object (payload);
  if ((a = member_array (obj, "quad_boxes")) != NULL)
    for (guint i = 0; i < json_array_get_length (a); i++)
      {
        Expected *e =
          expected_new (DEPICT_OVERLAY_TEXT, shown_label (member_array (obj, "labels"), i));

        grow (e, json_array_get_array_element (a, i));
        e->n_polygons = 1;
        g_ptr_array_add (items, e);
      }
  labels = member_array (obj, "bboxes_labels") != NULL ? member_array (obj, "bboxes_labels")
                                                       : member_array (obj, "labels");
  if ((a = member_array (obj, "bboxes")) != NULL)
    for (guint i = 0; i < json_array_get_length (a); i++)
      {
        Expected *e = expected_new (DEPICT_OVERLAY_BOX, shown_label (labels, i));

        grow (e, json_array_get_array_element (a, i));
        e->n_polygons = 1;
        g_ptr_array_add (items, e);
      }
  labels = member_array (obj, "polygons_labels") != NULL ? member_array (obj, "polygons_labels")
                                                         : member_array (obj, "labels");
  if ((a = member_array (obj, "polygons")) != NULL)
    for (guint i = 0; i < json_array_get_length (a); i++)
      {
        JsonArray *polys = json_array_get_array_element (a, i);
        Expected *e = expected_new (DEPICT_OVERLAY_MASK, shown_label (labels, i));

        for (guint j = 0; j < json_array_get_length (polys); j++)
          if (json_array_get_length (json_array_get_array_element (polys, j)) >= 2)
            {
              grow (e, json_array_get_array_element (polys, j));
              e->n_polygons++;
            }
        if (e->n_polygons > 0)
          g_ptr_array_add (items, e);
        else
          expected_free (e);
      }
  return items;
}

/* ---------------------------------------------------------------------------------------- */

static void
test_fixture_cases (void)
{
  g_autofree char *path = app_test_data_path ("postprocess", "cases.json", NULL);
  g_autoptr (JsonNode) root = app_test_load_json (path);
  JsonArray *cases = json_object_get_array_member (json_node_get_object (root), "cases");
  guint with_items = 0, with_text = 0;

  g_assert_cmpuint (json_array_get_length (cases), >, 50);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      const char *name = json_object_get_string_member (c, "name");
      JsonNode *payload = NULL;
      g_autoptr (GPtrArray) expected =
        expected_items (json_object_get_member (c, "expected"), &payload);
      g_autoptr (FlorenceResult) result = app_test_postprocess_result (name);
      g_autoptr (GListStore) items = depict_overlay_items_from_result (result);
      g_autofree char *text = depict_overlay_result_dup_text (result);

      g_test_message ("case %s", name);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (items)), ==, expected->len);
      with_items += expected->len > 0;
      for (guint k = 0; k < expected->len; k++)
        {
          g_autoptr (DepictOverlayItem) item = g_list_model_get_item (G_LIST_MODEL (items), k);
          Expected *e = g_ptr_array_index (expected, k);
          float x, y, w, h;

          g_assert_cmpint (depict_overlay_item_get_kind (item), ==, e->kind);
          g_assert_cmpstr (depict_overlay_item_get_label (item), ==, e->label);
          g_assert_cmpuint (depict_overlay_item_get_index (item), ==, k);
          g_assert_cmpuint (depict_overlay_item_get_n_polygons (item), ==, e->n_polygons);
          depict_overlay_item_get_bounds (item, &x, &y, &w, &h);
          g_assert_cmpfloat_with_epsilon (x, e->x1, 1e-3);
          g_assert_cmpfloat_with_epsilon (y, e->y1, 1e-3);
          g_assert_cmpfloat_with_epsilon (x + w, e->x2, 1e-3);
          g_assert_cmpfloat_with_epsilon (y + h, e->y2, 1e-3);
        }

      /* The words shown: the reference's text, or its OCR lines one per line. */
      if (JSON_NODE_HOLDS_VALUE (payload))
        {
          g_assert_cmpstr (text, ==, json_node_get_string (payload));
          with_text++;
        }
      else if (result->kind == FLORENCE_RESULT_QUADS)
        {
          g_autoptr (GString) lines = g_string_new (NULL);

          for (guint k = 0; k < expected->len; k++)
            g_string_append_printf (lines, "%s%s", k > 0 ? "\n" : "",
                                    ((Expected *) g_ptr_array_index (expected, k))->label);
          g_assert_cmpstr (text, ==, lines->str);
        }
      else
        g_assert_null (text);
    }
  g_assert_cmpuint (with_items, >, 30);
  g_assert_cmpuint (with_text, >, 5);
}

static void
test_boxes (void)
{
  g_autoptr (DepictAnswer) answer = app_test_answer ("od_two_objects", NULL);
  g_autoptr (GListStore) items = depict_overlay_items_from_result (answer->result);
  g_autoptr (DepictOverlayItem) car = g_list_model_get_item (G_LIST_MODEL (items), 0);
  const FlorenceBox *first = &g_array_index (answer->result->boxes, FlorenceBox, 0);
  float x, y, w, h;
  g_autofree char *text = NULL;
  g_autofree char *line = NULL;

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (items)), ==, 2);
  g_assert_cmpstr (depict_overlay_item_get_label (car), ==,
                   g_ptr_array_index (answer->result->box_labels, 0));
  g_assert_cmpint (depict_overlay_item_get_kind (car), ==, DEPICT_OVERLAY_BOX);
  g_assert_cmpint (depict_overlay_item_get_layer (car), ==, DEPICT_LAYER_BOXES);
  depict_overlay_item_get_bounds (car, &x, &y, &w, &h);
  g_assert_cmpfloat_with_epsilon (x, first->x1, 1e-4);
  g_assert_cmpfloat_with_epsilon (y, first->y1, 1e-4);
  g_assert_cmpfloat_with_epsilon (x + w, first->x2, 1e-3);
  g_assert_cmpfloat_with_epsilon (y + h, first->y2, 1e-3);

  /* Inside the box, outside it */
  g_assert_true (depict_overlay_item_contains (car, x + w / 2, y + h / 2));
  g_assert_false (depict_overlay_item_contains (car, x - 1, y + h / 2));

  /* Boxes have no text of their own; the plain text lists them */
  g_assert_null (depict_overlay_result_dup_text (answer->result));
  text = depict_answer_to_plain_text (answer);
  line = g_strdup_printf ("%s: %.0f, %.0f – %.0f, %.0f",
                          (char *) g_ptr_array_index (answer->result->box_labels, 0), first->x1,
                          first->y1, first->x2, first->y2);
  g_assert_nonnull (strstr (text, line));
}

static void
test_reversed_box (void)
{
  /* The reference keeps x1 > x2 as generated: the item still covers the area. */
  g_autoptr (FlorenceResult) result = app_test_postprocess_result ("od_reversed_box");
  g_autoptr (GListStore) items = depict_overlay_items_from_result (result);
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
  g_autoptr (FlorenceResult) result = app_test_postprocess_result ("res_multi_polygon_sep");
  g_autoptr (GListStore) items = depict_overlay_items_from_result (result);
  g_autoptr (DepictOverlayItem) mask = g_list_model_get_item (G_LIST_MODEL (items), 0);
  GPtrArray *polys = g_ptr_array_index (result->polygons, 0);
  guint n_points;

  g_assert_cmpint (depict_overlay_item_get_kind (mask), ==, DEPICT_OVERLAY_MASK);
  g_assert_cmpint (depict_overlay_item_get_layer (mask), ==, DEPICT_LAYER_MASKS);
  g_assert_cmpuint (polys->len, >, 1);
  g_assert_cmpuint (depict_overlay_item_get_n_polygons (mask), ==, polys->len);
  depict_overlay_item_get_polygon (mask, 0, &n_points);
  g_assert_cmpuint (n_points, ==, ((GArray *) g_ptr_array_index (polys, 0))->len / 2);
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
  g_autoptr (DepictAnswer) answer = app_test_answer ("ocr_region_two_lines", NULL);
  g_autoptr (GListStore) items = depict_overlay_items_from_result (answer->result);
  g_autoptr (DepictOverlayItem) first = g_list_model_get_item (G_LIST_MODEL (items), 0);
  g_autofree char *text = depict_overlay_result_dup_text (answer->result);
  g_autofree char *plain = depict_answer_to_plain_text (answer);
  const char *label0 = g_ptr_array_index (answer->result->quad_labels, 0);
  guint n_points;

  /* The reference keeps "</s>" before the first line; people should not see it. */
  g_assert_true (g_str_has_prefix (label0, "</s>"));
  g_assert_cmpstr (depict_overlay_item_get_label (first), ==, label0 + 4);
  g_assert_cmpint (depict_overlay_item_get_kind (first), ==, DEPICT_OVERLAY_TEXT);
  depict_overlay_item_get_polygon (first, 0, &n_points);
  g_assert_cmpuint (n_points, ==, 4);
  g_assert_true (g_str_has_prefix (text, label0 + 4));
  g_assert_nonnull (strchr (text, '\n'));
  /* Copy as Text gives the lines, not their places. */
  g_assert_cmpstr (plain, ==, text);
}

static void
test_caption (void)
{
  g_autoptr (DepictAnswer) answer = app_test_answer ("caption_basic", "2.0 s");
  g_autoptr (GListStore) items = depict_overlay_items_from_result (answer->result);
  g_autofree char *text = depict_overlay_result_dup_text (answer->result);
  g_autofree char *json = depict_answer_to_json (answer);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceResult) back = florence_result_from_json (json, &error);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (items)), ==, 0);
  g_assert_cmpstr (text, ==, "A green car parked in front of a yellow building.");
  g_assert_cmpstr (answer->task, ==, "<CAPTION>");
  g_assert_cmpstr (answer->text_input, ==, "");
  g_assert_cmpstr (answer->info, ==, "2.0 s");
  /* Export writes the one JSON form, which reads back to the same answer. */
  g_assert_no_error (error);
  g_assert_cmpstr (back->text, ==, text);
  g_assert_cmpstr (back->task, ==, "<CAPTION>");
}

static void
test_palette (void)
{
  g_autoptr (FlorenceResult) result = florence_result_new (FLORENCE_RESULT_BOXES, "<OD>", 100, 100);
  g_autoptr (GListStore) items = NULL;
  const char *labels[] = { "car", "dog", "car", "", "" };
  guint color[G_N_ELEMENTS (labels)];

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    florence_result_add_box (result, labels[i], &(FlorenceBox){ 0, 0, 10, 10 });
  items = depict_overlay_items_from_result (result);
  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (G_LIST_MODEL (items), i);

      color[i] = depict_overlay_item_get_color_index (item);
    }
  /* One colour per label within a photo; classes in order of appearance */
  g_assert_cmpuint (color[0], ==, 0);
  g_assert_cmpuint (color[1], ==, 1);
  g_assert_cmpuint (color[2], ==, color[0]);
  /* Unlabelled regions each take the next colour */
  g_assert_cmpuint (color[3], ==, 2);
  g_assert_cmpuint (color[4], ==, 3);
}

static void
test_not_finite (void)
{
  g_autoptr (FlorenceResult) result = florence_result_new (FLORENCE_RESULT_BOXES, "<OD>", 10, 10);
  const FlorenceBox good = { 1, 2, 3, 4 }, bad = { NAN, 2, INFINITY, 4 };
  g_autoptr (GListStore) items = NULL;
  g_autoptr (DepictOverlayItem) item = NULL;
  float x, y, w, h;

  /* Points that are not numbers are left out, never drawn. */
  florence_result_add_box (result, "good", &good);
  florence_result_add_box (result, "bad", &bad);
  items = depict_overlay_items_from_result (result);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (items)), ==, 2);
  item = g_list_model_get_item (G_LIST_MODEL (items), 1);
  depict_overlay_item_get_bounds (item, &x, &y, &w, &h);
  g_assert_true (isfinite (x) && isfinite (y) && isfinite (w) && isfinite (h));
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
  g_test_add_func ("/app/results/not-finite", test_not_finite);
  return g_test_run ();
}
