/* depict-image-view-input.c: the image view's pointer, scroll, pinch, drag and keys
 *
 * Hovering picks the item under the pointer; Ctrl+scroll and pinch zoom around the pointer;
 * scroll and drag pan a zoomed photo; in region mode a drag and the arrow keys choose the
 * region (depict-region-selector.h).
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-image-view"

#include "config.h"

#include <math.h>

#include "depict-image-view-private.h"

static void
motion_cb (GtkEventControllerMotion *motion, double x, double y, DepictImageView *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
  if (!self->dragging)
    depict_image_view_set_hover_item (self, depict_image_view_pick (self, x, y));
}

static void
leave_cb (GtkEventControllerMotion *motion, DepictImageView *self)
{
  self->pointer_inside = FALSE;
  depict_image_view_set_hover_item (self, NULL);
}

static gboolean
scroll_cb (GtkEventControllerScroll *scroll, double dx, double dy, DepictImageView *self)
{
  GdkModifierType state =
    gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (scroll));
  double wx, wy;

  if (self->texture == NULL)
    return FALSE;

  if (state & GDK_CONTROL_MASK)
    {
      wx = self->pointer_inside ? self->pointer_x : gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      wy = self->pointer_inside ? self->pointer_y : gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
      _depict_image_view_update_view (self);
      _depict_image_view_zoom_around (self, self->scale * pow (ZOOM_STEP, -dy), wx, wy);
      return TRUE;
    }

  /* Without Ctrl, scrolling pans a zoomed picture. */
  if (self->fit)
    return FALSE;
  self->cx += dx * 40 / self->scale;
  self->cy += dy * 40 / self->scale;
  _depict_image_view_clamp_centre (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return TRUE;
}

static void
zoom_begin_cb (GtkGesture *gesture, GdkEventSequence *sequence, DepictImageView *self)
{
  _depict_image_view_update_view (self);
  self->zoom_gesture_start_scale = self->scale;
}

static void
zoom_scale_changed_cb (GtkGestureZoom *gesture, double scale, DepictImageView *self)
{
  double x, y;

  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    {
      x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
  _depict_image_view_zoom_around (self, self->zoom_gesture_start_scale * scale, x, y);
}

static void
drag_begin_cb (GtkGestureDrag *drag, double x, double y, DepictImageView *self)
{
  if (self->texture == NULL)
    {
      gtk_gesture_set_state (GTK_GESTURE (drag), GTK_EVENT_SEQUENCE_DENIED);
      return;
    }
  _depict_image_view_update_view (self);
  self->dragging = TRUE;
  self->drag_start_x = x;
  self->drag_start_y = y;
  self->drag_start_cx = self->cx;
  self->drag_start_cy = self->cy;
  depict_region_selector_drag_begin (self->region);
  /* Then the arrow keys fine-tune what was dragged. */
  if (depict_region_selector_get_dragging (self->region))
    gtk_widget_grab_focus (GTK_WIDGET (self));
  _depict_image_view_update_cursor (self);
}

static void
drag_update_cb (GtkGestureDrag *drag, double dx, double dy, DepictImageView *self)
{
  if (depict_region_selector_get_dragging (self->region))
    {
      double ax, ay, bx, by;

      depict_image_view_widget_to_image (self, self->drag_start_x, self->drag_start_y, &ax, &ay);
      depict_image_view_widget_to_image (self, self->drag_start_x + dx, self->drag_start_y + dy,
                                         &bx, &by);
      depict_region_selector_drag_update (self->region, ax, ay, bx, by);
      return;
    }
  if (self->fit)
    return;
  self->cx = self->drag_start_cx - dx / self->scale;
  self->cy = self->drag_start_cy - dy / self->scale;
  _depict_image_view_clamp_centre (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
drag_end_cb (GtkGestureDrag *drag, double dx, double dy, DepictImageView *self)
{
  self->dragging = FALSE;
  depict_region_selector_drag_end (self->region);
  _depict_image_view_update_cursor (self);
}

/* Keyboard: in region mode the arrow keys choose the region without a pointer. */
static gboolean
key_pressed_cb (GtkEventControllerKey *controller, guint keyval, guint keycode,
                GdkModifierType state, DepictImageView *self)
{
  return depict_region_selector_key (self->region, keyval, state) ? GDK_EVENT_STOP
                                                                  : GDK_EVENT_PROPAGATE;
}

void
_depict_image_view_input_init (DepictImageView *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion_cb), self);
  g_signal_connect (controller, "leave", G_CALLBACK (leave_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES |
                                                GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect (controller, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_zoom_new ();
  g_signal_connect (gesture, "begin", G_CALLBACK (zoom_begin_cb), self);
  g_signal_connect (gesture, "scale-changed", G_CALLBACK (zoom_scale_changed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_key_new ();
  g_signal_connect (controller, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_PRIMARY);
  g_signal_connect (gesture, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (gesture, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (gesture, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));
}
