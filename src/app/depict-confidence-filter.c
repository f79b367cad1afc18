/* depict-confidence-filter.c
 *
 * The control over the photo that hides the regions the model is less sure of: a button that
 * says the threshold ("≥ 40 %") and opens a slider. The threshold is kept for each task (a
 * detection and a segmentation need different ones) in the settings' "confidence-thresholds",
 * and a GtkFilter applies it to the overlay items of the answer shown. Items without a score
 * (answers stored by earlier versions) always show.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-confidence-filter"

#include "config.h"

#include <glib/gi18n.h>
#include "depict-confidence-filter.h"
#include "depict-overlay-item.h"

#define THRESHOLDS_KEY "confidence-thresholds"

struct _DepictConfidenceFilter {
  GtkWidget parent_instance;

  GtkWidget *button;         /* GtkMenuButton */
  GtkAdjustment *adjustment; /* percent */
  GtkCustomFilter *filter;
  GSettings *settings;
  char *task;
  double threshold;
  gboolean loading; /* the adjustment follows the task's threshold: nothing to keep */
};

G_DEFINE_FINAL_TYPE (DepictConfidenceFilter, depict_confidence_filter, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_THRESHOLD, N_PROPS };

static GParamSpec *properties[N_PROPS];

static gboolean
keep_item (gpointer object, gpointer user_data)
{
  DepictConfidenceFilter *self = user_data;
  double score = depict_overlay_item_get_score (DEPICT_OVERLAY_ITEM (object));

  return score < 0 || score >= self->threshold - 1e-6;
}

/* The task's threshold in the settings, 0 when none is kept. */
static double
stored_threshold (DepictConfidenceFilter *self)
{
  g_autoptr (GVariant) map = NULL;
  double value = 0.0;

  if (self->settings == NULL || self->task == NULL)
    return 0.0;
  map = g_settings_get_value (self->settings, THRESHOLDS_KEY);
  if (!g_variant_lookup (map, self->task, "d", &value) || !(value >= 0.0 && value <= 1.0))
    return 0.0;
  return value;
}

static void
store_threshold (DepictConfidenceFilter *self)
{
  g_autoptr (GVariant) map = NULL;
  g_auto (GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{sd}"));
  GVariantIter iter;
  const char *task;
  double value;

  if (self->settings == NULL || self->task == NULL)
    return;
  map = g_settings_get_value (self->settings, THRESHOLDS_KEY);
  g_variant_iter_init (&iter, map);
  while (g_variant_iter_next (&iter, "{&sd}", &task, &value))
    if (g_strcmp0 (task, self->task) != 0)
      g_variant_builder_add (&builder, "{sd}", task, value);
  if (self->threshold > 0.0)
    g_variant_builder_add (&builder, "{sd}", self->task, self->threshold);
  g_settings_set_value (self->settings, THRESHOLDS_KEY, g_variant_builder_end (&builder));
}

static void
update_button (DepictConfidenceFilter *self)
{
  g_autofree char *label = NULL;

  if (self->threshold > 0.0)
    /* Translators: the button over the photo: regions shown from this confidence up */
    label = g_strdup_printf (_ ("≥ %.0f %%"), self->threshold * 100.0);
  else
    label = g_strdup (_ ("All Regions"));
  gtk_menu_button_set_label (GTK_MENU_BUTTON (self->button), label);
}

static void
apply_threshold (DepictConfidenceFilter *self, double threshold)
{
  threshold = CLAMP (threshold, 0.0, 1.0);
  if (threshold == self->threshold)
    return;
  self->threshold = threshold;
  update_button (self);
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  if (!self->loading)
    store_threshold (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THRESHOLD]);
}

static void
value_changed_cb (GtkAdjustment *adjustment, DepictConfidenceFilter *self)
{
  apply_threshold (self, gtk_adjustment_get_value (adjustment) / 100.0);
}

static char *
format_percent (GtkScale *scale, double value, gpointer user_data)
{
  return g_strdup_printf (_ ("%.0f %%"), value);
}

static void
depict_confidence_filter_dispose (GObject *object)
{
  DepictConfidenceFilter *self = DEPICT_CONFIDENCE_FILTER (object);

  if (self->adjustment != NULL)
    g_signal_handlers_disconnect_by_data (self->adjustment, self);
  g_clear_pointer (&self->button, gtk_widget_unparent);
  g_clear_object (&self->adjustment);
  g_clear_object (&self->filter);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->task, g_free);

  G_OBJECT_CLASS (depict_confidence_filter_parent_class)->dispose (object);
}

static void
depict_confidence_filter_get_property (GObject *object, guint prop_id, GValue *value,
                                       GParamSpec *pspec)
{
  DepictConfidenceFilter *self = DEPICT_CONFIDENCE_FILTER (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      g_value_set_double (value, self->threshold);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_confidence_filter_set_property (GObject *object, guint prop_id, const GValue *value,
                                       GParamSpec *pspec)
{
  DepictConfidenceFilter *self = DEPICT_CONFIDENCE_FILTER (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      depict_confidence_filter_set_threshold (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_confidence_filter_class_init (DepictConfidenceFilterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = depict_confidence_filter_dispose;
  object_class->get_property = depict_confidence_filter_get_property;
  object_class->set_property = depict_confidence_filter_set_property;

  properties[PROP_THRESHOLD] =
    g_param_spec_double ("threshold", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "depict-confidence-filter");
}

static void
depict_confidence_filter_init (DepictConfidenceFilter *self)
{
  GtkWidget *popover, *box, *title, *scale, *caption;

  self->filter = gtk_custom_filter_new (keep_item, self, NULL);
  self->adjustment = g_object_ref_sink (gtk_adjustment_new (0.0, 0.0, 100.0, 5.0, 10.0, 0.0));

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  title = gtk_label_new (_ ("Minimum Confidence"));
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");
  scale = gtk_scale_new (GTK_ORIENTATION_HORIZONTAL, self->adjustment);
  gtk_scale_set_draw_value (GTK_SCALE (scale), TRUE);
  gtk_scale_set_format_value_func (GTK_SCALE (scale), format_percent, NULL, NULL);
  gtk_widget_set_size_request (scale, 220, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (scale), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _ ("Minimum confidence"), -1);
  caption = gtk_label_new (_ ("The regions the model is less sure of are hidden from the photo. "
                              "Each task keeps its own setting."));
  gtk_label_set_wrap (GTK_LABEL (caption), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (caption), 32);
  gtk_label_set_xalign (GTK_LABEL (caption), 0);
  gtk_widget_add_css_class (caption, "dim-label");
  gtk_widget_add_css_class (caption, "caption");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), scale);
  gtk_box_append (GTK_BOX (box), caption);
  popover = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (popover), box);

  self->button = gtk_menu_button_new ();
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (self->button), popover);
  gtk_menu_button_set_direction (GTK_MENU_BUTTON (self->button), GTK_ARROW_UP);
  gtk_widget_set_tooltip_text (self->button, _ ("Hide Regions the Model Is Less Sure Of"));
  gtk_widget_set_parent (self->button, GTK_WIDGET (self));
  gtk_widget_add_css_class (GTK_WIDGET (self), "osd");
  gtk_widget_add_css_class (GTK_WIDGET (self), "toolbar");
  gtk_widget_add_css_class (GTK_WIDGET (self), "view-osd");
  update_button (self);
  g_signal_connect (self->adjustment, "value-changed", G_CALLBACK (value_changed_cb), self);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

DepictConfidenceFilter *
depict_confidence_filter_new (void)
{
  return g_object_new (DEPICT_TYPE_CONFIDENCE_FILTER, NULL);
}

void
depict_confidence_filter_set_settings (DepictConfidenceFilter *self, GSettings *settings)
{
  g_return_if_fail (DEPICT_IS_CONFIDENCE_FILTER (self));
  g_return_if_fail (settings == NULL || G_IS_SETTINGS (settings));

  g_set_object (&self->settings, settings);
}

void
depict_confidence_filter_set_answer (DepictConfidenceFilter *self, const char *task,
                                     GListModel *items)
{
  gboolean scored = FALSE;
  guint n;

  g_return_if_fail (DEPICT_IS_CONFIDENCE_FILTER (self));
  g_return_if_fail (items == NULL || G_IS_LIST_MODEL (items));

  g_free (self->task);
  self->task = g_strdup (task);
  self->loading = TRUE;
  gtk_adjustment_set_value (self->adjustment, stored_threshold (self) * 100.0);
  self->loading = FALSE;

  n = items != NULL ? g_list_model_get_n_items (items) : 0;
  for (guint i = 0; i < n && !scored; i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (items, i);
      scored = depict_overlay_item_get_score (item) >= 0;
    }
  gtk_widget_set_visible (GTK_WIDGET (self), scored);
}

double
depict_confidence_filter_get_threshold (DepictConfidenceFilter *self)
{
  g_return_val_if_fail (DEPICT_IS_CONFIDENCE_FILTER (self), 0.0);
  return self->threshold;
}

void
depict_confidence_filter_set_threshold (DepictConfidenceFilter *self, double threshold)
{
  g_return_if_fail (DEPICT_IS_CONFIDENCE_FILTER (self));
  gtk_adjustment_set_value (self->adjustment, CLAMP (threshold, 0.0, 1.0) * 100.0);
}

GtkFilter *
depict_confidence_filter_get_filter (DepictConfidenceFilter *self)
{
  g_return_val_if_fail (DEPICT_IS_CONFIDENCE_FILTER (self), NULL);
  return GTK_FILTER (self->filter);
}
