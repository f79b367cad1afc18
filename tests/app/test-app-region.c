/* test-app-region.c: the region chosen for a region task (no display needed)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "depict-region-selector.h"

static guint notified;

static void
region_changed_cb (DepictRegionSelector *region, GParamSpec *pspec, gpointer user_data)
{
  notified++;
}

/* A drag draws the region between its two points, clamped to the photo, whichever way it
 * goes; a click without a drag clears it. */
static void
test_drag (void)
{
  g_autoptr (DepictRegionSelector) region = depict_region_selector_new ();
  graphene_rect_t r;

  g_signal_connect (region, "notify::has-region", G_CALLBACK (region_changed_cb), NULL);
  depict_region_selector_set_image_size (region, 640, 480);

  /* Not asked for: a drag does nothing. */
  depict_region_selector_drag_begin (region);
  g_assert_false (depict_region_selector_get_dragging (region));
  depict_region_selector_drag_update (region, 10, 10, 100, 100);
  g_assert_false (depict_region_selector_get_region (region, NULL));

  depict_region_selector_set_active (region, TRUE);
  depict_region_selector_drag_begin (region);
  g_assert_true (depict_region_selector_get_dragging (region));
  notified = 0;
  depict_region_selector_drag_update (region, 600, 400, 700, -50);
  depict_region_selector_drag_update (region, 600, 400, 100, 900);
  g_assert_cmpuint (notified, ==, 2);
  depict_region_selector_drag_end (region);
  g_assert_true (depict_region_selector_get_region (region, &r));
  g_assert_cmpfloat (r.origin.x, ==, 100);
  g_assert_cmpfloat (r.origin.y, ==, 400);
  g_assert_cmpfloat (r.size.width, ==, 500);
  g_assert_cmpfloat (r.size.height, ==, 80);

  depict_region_selector_drag_begin (region);
  depict_region_selector_drag_update (region, 50, 50, 51, 50);
  depict_region_selector_drag_end (region);
  g_assert_false (depict_region_selector_get_region (region, NULL));
}

/* The keys place, move, resize and clear it; another photo or task clears it. */
static void
test_keys (void)
{
  g_autoptr (DepictRegionSelector) region = depict_region_selector_new ();
  graphene_rect_t r;

  depict_region_selector_set_active (region, TRUE);
  /* No photo: nothing to place. */
  g_assert_false (depict_region_selector_key (region, GDK_KEY_Right, 0));
  depict_region_selector_set_image_size (region, 100, 50);
  g_assert_true (depict_region_selector_key (region, GDK_KEY_Right, 0));
  g_assert_true (depict_region_selector_get_region (region, &r));
  g_assert_cmpfloat (r.origin.x, ==, 25);
  g_assert_cmpfloat (r.size.width, ==, 50);
  g_assert_true (depict_region_selector_key (region, GDK_KEY_Right, GDK_SHIFT_MASK));
  depict_region_selector_get_region (region, &r);
  g_assert_cmpfloat (r.size.width, ==, 52);
  /* Shortcuts with Ctrl or Alt are not the region's. */
  g_assert_false (depict_region_selector_key (region, GDK_KEY_Left, GDK_CONTROL_MASK));
  g_assert_false (depict_region_selector_key (region, GDK_KEY_a, 0));
  g_assert_true (depict_region_selector_key (region, GDK_KEY_Escape, 0));
  g_assert_false (depict_region_selector_get_region (region, NULL));
  /* Escape with nothing to clear goes on to the window (it stops a run there). */
  g_assert_false (depict_region_selector_key (region, GDK_KEY_Escape, 0));

  depict_region_selector_nudge (region, 0, 0, FALSE);
  g_assert_true (depict_region_selector_get_region (region, NULL));
  depict_region_selector_set_image_size (region, 200, 200);
  g_assert_false (depict_region_selector_get_region (region, NULL));
  depict_region_selector_nudge (region, 0, 0, FALSE);
  depict_region_selector_set_active (region, FALSE);
  g_assert_false (depict_region_selector_get_region (region, NULL));
  g_assert_false (depict_region_selector_nudge (region, 1, 0, FALSE));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/app/region/drag", test_drag);
  g_test_add_func ("/app/region/keys", test_keys);
  return g_test_run ();
}
