/* depict-region-selector.c
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-region-selector"

#include "config.h"

#include <math.h>

#include "depict-region-selector.h"

struct _DepictRegionSelector {
  GObject parent_instance;

  double width, height; /* the photo, 0 when none */
  gboolean active;
  gboolean has_region;
  graphene_rect_t region; /* image pixels */
  gboolean dragging;
};

G_DEFINE_FINAL_TYPE (DepictRegionSelector, depict_region_selector, G_TYPE_OBJECT)

enum { PROP_0, PROP_ACTIVE, PROP_HAS_REGION, N_PROPS };

static GParamSpec *properties[N_PROPS];

static void
depict_region_selector_get_property (GObject *object, guint prop_id, GValue *value,
                                     GParamSpec *pspec)
{
  DepictRegionSelector *self = DEPICT_REGION_SELECTOR (object);

  switch (prop_id)
    {
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;
    case PROP_HAS_REGION:
      g_value_set_boolean (value, self->has_region);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_region_selector_class_init (DepictRegionSelectorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = depict_region_selector_get_property;

  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /* Notified whenever the region changes, not only when it comes or goes. */
  properties[PROP_HAS_REGION] = g_param_spec_boolean ("has-region", NULL, NULL, FALSE,
                                                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
depict_region_selector_init (DepictRegionSelector *self)
{
}

DepictRegionSelector *
depict_region_selector_new (void)
{
  return g_object_new (DEPICT_TYPE_REGION_SELECTOR, NULL);
}

void
depict_region_selector_set_image_size (DepictRegionSelector *self, double width, double height)
{
  g_return_if_fail (DEPICT_IS_REGION_SELECTOR (self));

  self->width = MAX (width, 0);
  self->height = MAX (height, 0);
  depict_region_selector_set_region (self, NULL);
}

gboolean
depict_region_selector_get_active (DepictRegionSelector *self)
{
  g_return_val_if_fail (DEPICT_IS_REGION_SELECTOR (self), FALSE);
  return self->active;
}

void
depict_region_selector_set_active (DepictRegionSelector *self, gboolean active)
{
  g_return_if_fail (DEPICT_IS_REGION_SELECTOR (self));

  active = !!active;
  if (self->active == active)
    return;
  self->active = active;
  if (!active && self->has_region)
    depict_region_selector_set_region (self, NULL);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
}

gboolean
depict_region_selector_get_region (DepictRegionSelector *self, graphene_rect_t *region)
{
  g_return_val_if_fail (DEPICT_IS_REGION_SELECTOR (self), FALSE);

  if (region != NULL && self->has_region)
    *region = self->region;
  return self->has_region;
}

void
depict_region_selector_set_region (DepictRegionSelector *self, const graphene_rect_t *region)
{
  g_return_if_fail (DEPICT_IS_REGION_SELECTOR (self));

  self->has_region = region != NULL;
  if (region != NULL)
    self->region = *region;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_REGION]);
}

gboolean
depict_region_selector_nudge (DepictRegionSelector *self, int dx, int dy, gboolean resize)
{
  double w = self->width, h = self->height, step_x, step_y;
  graphene_rect_t r;

  g_return_val_if_fail (DEPICT_IS_REGION_SELECTOR (self), FALSE);

  if (!self->active || w <= 0 || h <= 0)
    return FALSE;
  if (!self->has_region)
    {
      r = GRAPHENE_RECT_INIT (round (w / 4), round (h / 4), round (w / 2), round (h / 2));
      depict_region_selector_set_region (self, &r);
      return TRUE;
    }
  step_x = MAX (1, round (w / 50));
  step_y = MAX (1, round (h / 50));
  r = self->region;
  if (resize)
    {
      r.size.width = CLAMP (r.size.width + dx * step_x, MIN (step_x, w), w - r.origin.x);
      r.size.height = CLAMP (r.size.height + dy * step_y, MIN (step_y, h), h - r.origin.y);
    }
  else
    {
      r.origin.x = CLAMP (r.origin.x + dx * step_x, 0, w - r.size.width);
      r.origin.y = CLAMP (r.origin.y + dy * step_y, 0, h - r.size.height);
    }
  depict_region_selector_set_region (self, &r);
  return TRUE;
}

gboolean
depict_region_selector_key (DepictRegionSelector *self, guint keyval, GdkModifierType state)
{
  int dx = 0, dy = 0;

  g_return_val_if_fail (DEPICT_IS_REGION_SELECTOR (self), FALSE);

  if (!self->active || self->width <= 0 || (state & (GDK_CONTROL_MASK | GDK_ALT_MASK)) != 0)
    return FALSE;
  switch (keyval)
    {
    case GDK_KEY_Left:
    case GDK_KEY_KP_Left:
      dx = -1;
      break;
    case GDK_KEY_Right:
    case GDK_KEY_KP_Right:
      dx = 1;
      break;
    case GDK_KEY_Up:
    case GDK_KEY_KP_Up:
      dy = -1;
      break;
    case GDK_KEY_Down:
    case GDK_KEY_KP_Down:
      dy = 1;
      break;
    case GDK_KEY_Delete:
    case GDK_KEY_BackSpace:
    case GDK_KEY_Escape:
      if (!self->has_region)
        return FALSE;
      depict_region_selector_set_region (self, NULL);
      return TRUE;
    default:
      return FALSE;
    }
  return depict_region_selector_nudge (self, dx, dy, (state & GDK_SHIFT_MASK) != 0);
}

void
depict_region_selector_drag_begin (DepictRegionSelector *self)
{
  g_return_if_fail (DEPICT_IS_REGION_SELECTOR (self));

  self->dragging = self->active && self->width > 0;
}

void
depict_region_selector_drag_update (DepictRegionSelector *self, double x0, double y0, double x,
                                    double y)
{
  graphene_rect_t r;

  g_return_if_fail (DEPICT_IS_REGION_SELECTOR (self));

  if (!self->dragging)
    return;
  x0 = CLAMP (x0, 0, self->width);
  y0 = CLAMP (y0, 0, self->height);
  x = CLAMP (x, 0, self->width);
  y = CLAMP (y, 0, self->height);
  r = GRAPHENE_RECT_INIT (MIN (x0, x), MIN (y0, y), fabs (x - x0), fabs (y - y0));
  depict_region_selector_set_region (self, &r);
}

void
depict_region_selector_drag_end (DepictRegionSelector *self)
{
  g_return_if_fail (DEPICT_IS_REGION_SELECTOR (self));

  if (!self->dragging)
    return;
  self->dragging = FALSE;
  /* A click without a drag clears the selection. */
  if (self->has_region && (self->region.size.width < 2 || self->region.size.height < 2))
    depict_region_selector_set_region (self, NULL);
  else
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_REGION]);
}

gboolean
depict_region_selector_get_dragging (DepictRegionSelector *self)
{
  g_return_val_if_fail (DEPICT_IS_REGION_SELECTOR (self), FALSE);
  return self->dragging;
}
