/* test-app-overlay.c: overlays a person can read on any photo
 *
 * The label chips' text against their fill (WCAG AA, 4.5:1, for every colour of the
 * palette; the chips are opaque and drawn alike in the light and the dark style), the
 * palette's colours told apart (CIELAB distance), a colour per class within a photo, and the
 * labels' places: never over each other, never off the photo, next to their box, on a busy
 * photo and at its edges. No display needed.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>

#include "depict-overlay-item.h"
#include "depict-overlay-painter.h"

/* ---------------------------------------------------------------------------------------- */
/* Colours                                                                                  */

static double
linear (double c)
{
  return c <= 0.04045 ? c / 12.92 : pow ((c + 0.055) / 1.055, 2.4);
}

/* sRGB → CIELAB (D65) */
static void
to_lab (const float rgb[3], double lab[3])
{
  double r = linear (rgb[0]), g = linear (rgb[1]), b = linear (rgb[2]);
  double xyz[3] = { (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
                    0.2126 * r + 0.7152 * g + 0.0722 * b,
                    (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883 };
  double f[3];

  for (int i = 0; i < 3; i++)
    f[i] = xyz[i] > 0.008856 ? cbrt (xyz[i]) : 7.787 * xyz[i] + 16.0 / 116;
  lab[0] = 116 * f[1] - 16;
  lab[1] = 500 * (f[0] - f[1]);
  lab[2] = 200 * (f[1] - f[2]);
}

static void
test_contrast (void)
{
  const GdkRGBA black = { 0, 0, 0, 1 }, white = { 1, 1, 1, 1 };
  const GdkRGBA orange = { 1.0f, 0x78 / 255.f, 0, 1 };
  double lowest = 21;

  /* The ratio itself, on known pairs */
  g_assert_cmpfloat_with_epsilon (depict_overlay_contrast_ratio (&black, &white), 21.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (depict_overlay_contrast_ratio (&white, &white), 1.0, 1e-6);
  /* White on GNOME orange 3, what the chips had: about 2.65:1 */
  g_assert_cmpfloat (depict_overlay_contrast_ratio (&white, &orange), <, 2.7);

  for (guint i = 0; i < DEPICT_OVERLAY_N_COLORS; i++)
    {
      GdkRGBA fill, text;
      float rgb[3];
      double ratio;

      depict_overlay_palette_color (i, rgb);
      depict_overlay_painter_chip_colors (rgb, &fill, &text);
      /* Opaque: the photo under the chip cannot lower the contrast. */
      g_assert_cmpfloat (fill.alpha, ==, 1.0);
      g_assert_cmpfloat (text.alpha, ==, 1.0);
      ratio = depict_overlay_contrast_ratio (&fill, &text);
      g_test_message ("colour %u: %.2f:1", i, ratio);
      g_assert_cmpfloat (ratio, >=, 4.5);
      lowest = MIN (lowest, ratio);
    }
  g_test_message ("lowest label contrast: %.2f:1", lowest);
}

static void
test_distinct_colours (void)
{
  double nearest = INFINITY;

  for (guint i = 0; i < DEPICT_OVERLAY_N_COLORS; i++)
    for (guint j = i + 1; j < DEPICT_OVERLAY_N_COLORS; j++)
      {
        float a[3], b[3];
        double la[3], lb[3], d;

        depict_overlay_palette_color (i, a);
        depict_overlay_palette_color (j, b);
        to_lab (a, la);
        to_lab (b, lb);
        d = sqrt ((la[0] - lb[0]) * (la[0] - lb[0]) + (la[1] - lb[1]) * (la[1] - lb[1]) +
                  (la[2] - lb[2]) * (la[2] - lb[2]));
        nearest = MIN (nearest, d);
      }
  g_test_message ("nearest two colours: ΔE*76 %.1f", nearest);
  g_assert_cmpfloat (nearest, >=, 25.0);
}

/* Twelve classes, each twice, in a photo: twelve colours, the same for a class. */
static void
test_class_colours (void)
{
  g_autoptr (FlorenceResult) result = florence_result_new (FLORENCE_RESULT_BOXES, "<OD>", 800, 600);
  g_autoptr (GListStore) items = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new (g_direct_hash, g_direct_equal);

  for (guint round = 0; round < 2; round++)
    for (guint c = 0; c < 12; c++)
      {
        g_autofree char *label = g_strdup_printf ("class %u", c);

        florence_result_add_box (result, label,
                                 &(FlorenceBox){ c * 10, round * 10, c * 10 + 8, 50 });
      }
  items = depict_overlay_items_from_result (result);
  for (guint i = 0; i < 12; i++)
    {
      g_autoptr (DepictOverlayItem) first = g_list_model_get_item (G_LIST_MODEL (items), i);
      g_autoptr (DepictOverlayItem) again = g_list_model_get_item (G_LIST_MODEL (items), i + 12);
      float a[3], b[3];

      g_assert_cmpuint (depict_overlay_item_get_color_index (first), ==,
                        depict_overlay_item_get_color_index (again));
      depict_overlay_item_get_color (first, a);
      depict_overlay_item_get_color (again, b);
      g_assert_true (a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
      g_hash_table_add (seen, GUINT_TO_POINTER (depict_overlay_item_get_color_index (first)));
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 12);
}

/* The rows say how much of the photo an item covers, never its pixel coordinates. */
static void
test_share (void)
{
  g_autoptr (FlorenceResult) result = florence_result_new (FLORENCE_RESULT_BOXES, "<OD>", 200, 100);
  g_autoptr (GListStore) items = NULL;
  g_autoptr (DepictOverlayItem) half = NULL, tiny = NULL;
  g_autofree char *half_text = NULL, *tiny_text = NULL;

  florence_result_add_box (result, "wall", &(FlorenceBox){ 0, 0, 100, 100 });
  florence_result_add_box (result, "fly", &(FlorenceBox){ 10, 10, 12, 11 });
  items = depict_overlay_items_from_result (result);
  half = g_list_model_get_item (G_LIST_MODEL (items), 0);
  tiny = g_list_model_get_item (G_LIST_MODEL (items), 1);
  g_assert_cmpfloat_with_epsilon (depict_overlay_item_get_share (half), 0.5, 1e-9);
  half_text = depict_overlay_item_dup_details (half);
  tiny_text = depict_overlay_item_dup_details (tiny);
  g_assert_cmpstr (half_text, ==, "50 % of the photo");
  g_assert_cmpstr (tiny_text, ==, "Less than 1 % of the photo");
  /* With a confidence, both */
  depict_overlay_item_set_score (half, 0.942);
  g_free (half_text);
  half_text = depict_overlay_item_dup_details (half);
  g_assert_cmpstr (half_text, ==, "Confidence 94 % · 50 % of the photo");
}

/* ---------------------------------------------------------------------------------------- */
/* Label places                                                                             */

static gboolean
rects_overlap (const graphene_rect_t *a, const graphene_rect_t *b)
{
  return a->origin.x < b->origin.x + b->size.width && b->origin.x < a->origin.x + a->size.width &&
         a->origin.y < b->origin.y + b->size.height && b->origin.y < a->origin.y + a->size.height;
}

static gboolean
rect_inside (const graphene_rect_t *r, const graphene_rect_t *bounds)
{
  return r->origin.x >= bounds->origin.x - 1e-3 && r->origin.y >= bounds->origin.y - 1e-3 &&
         r->origin.x + r->size.width <= bounds->origin.x + bounds->size.width + 1e-3 &&
         r->origin.y + r->size.height <= bounds->origin.y + bounds->size.height + 1e-3;
}

/* The chip touches or lies in its box, grown by one chip height. */
static gboolean
near_anchor (const graphene_rect_t *chip, const graphene_rect_t *anchor)
{
  graphene_rect_t grown;

  graphene_rect_inset_r (anchor, 0, -chip->size.height - 1, &grown);
  return rects_overlap (chip, &grown);
}

static void
check_places (const DepictLabelRequest *requests, guint n, const graphene_rect_t *bounds,
              guint min_placed)
{
  g_autofree graphene_rect_t *out = g_new0 (graphene_rect_t, n);
  g_autofree gboolean *placed = g_new0 (gboolean, n);
  guint n_placed = 0;

  depict_overlay_painter_place_labels (requests, n, bounds, out, placed);
  for (guint i = 0; i < n; i++)
    {
      if (!placed[i])
        continue;
      n_placed++;
      g_assert_true (rect_inside (&out[i], bounds));
      g_assert_true (near_anchor (&out[i], &requests[i].anchor));
      g_assert_cmpfloat (out[i].size.height, ==, requests[i].height);
      for (guint j = 0; j < i; j++)
        if (placed[j] && !requests[i].always)
          g_assert_false (rects_overlap (&out[i], &out[j]));
    }
  g_test_message ("%u of %u labels placed", n_placed, n);
  g_assert_cmpuint (n_placed, >=, min_placed);
}

/* Boxes at every edge and corner of the photo: their labels stay on it. */
static void
test_labels_at_edges (void)
{
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (100, 50, 600, 400);
  DepictLabelRequest requests[] = {
    { GRAPHENE_RECT_INIT (100, 50, 200, 120), 80, 20, FALSE },  /* top left corner */
    { GRAPHENE_RECT_INIT (560, 50, 140, 100), 120, 20, FALSE }, /* top right corner */
    { GRAPHENE_RECT_INIT (100, 400, 150, 50), 90, 20, FALSE },  /* bottom left */
    { GRAPHENE_RECT_INIT (650, 420, 50, 30), 140, 20, FALSE },  /* small, bottom right */
    { GRAPHENE_RECT_INIT (100, 50, 600, 400), 200, 20, FALSE }, /* the whole photo */
  };

  check_places (requests, G_N_ELEMENTS (requests), &bounds, G_N_ELEMENTS (requests));
}

/* A busy photo: forty boxes, many overlapping, labels of every length. Every label placed
 * avoids the others; most find a place. */
static void
test_labels_busy (void)
{
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, 900, 600);
  DepictLabelRequest requests[40];
  GRand *rand = g_rand_new_with_seed (18);

  for (guint i = 0; i < G_N_ELEMENTS (requests); i++)
    {
      double w = g_rand_double_range (rand, 40, 300), h = g_rand_double_range (rand, 30, 250);
      double x = g_rand_double_range (rand, 0, 900 - w), y = g_rand_double_range (rand, 0, 600 - h);

      requests[i].anchor = GRAPHENE_RECT_INIT (x, y, w, h);
      requests[i].width = g_rand_double_range (rand, 30, 160);
      requests[i].height = 20;
      requests[i].always = FALSE;
    }
  check_places (requests, G_N_ELEMENTS (requests), &bounds, 30);
  g_rand_free (rand);
}

/* Nested boxes with the same top edge (a person, their face, their hat): three labels, one
 * over the other would hide two. */
static void
test_labels_nested (void)
{
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (0, 0, 640, 480);
  DepictLabelRequest requests[] = {
    { GRAPHENE_RECT_INIT (200, 100, 200, 300), 70, 20, FALSE },
    { GRAPHENE_RECT_INIT (200, 100, 120, 120), 50, 20, FALSE },
    { GRAPHENE_RECT_INIT (200, 100, 80, 40), 40, 20, FALSE },
  };

  check_places (requests, G_N_ELEMENTS (requests), &bounds, 3);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/app/overlay/contrast", test_contrast);
  g_test_add_func ("/app/overlay/distinct-colours", test_distinct_colours);
  g_test_add_func ("/app/overlay/class-colours", test_class_colours);
  g_test_add_func ("/app/overlay/share", test_share);
  g_test_add_func ("/app/overlay/labels-at-edges", test_labels_at_edges);
  g_test_add_func ("/app/overlay/labels-busy", test_labels_busy);
  g_test_add_func ("/app/overlay/labels-nested", test_labels_nested);
  return g_test_run ();
}
