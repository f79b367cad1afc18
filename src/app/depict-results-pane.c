/* depict-results-pane.c
 *
 * The answer beside the photo: the caption or text (selectable), the list of boxes, masks
 * and text regions with what a person wants of each (its label, the model's confidence when
 * it gives one, how much of the photo it covers), and the copy/export buttons; or the state
 * before it (ready, working with progress and Cancel, no model, an error).
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-results-pane"

#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

#include "depict-results-pane.h"
#include "florence/hub/florence-hub.h"

struct _DepictResultsPane {
  GtkWidget parent_instance;

  GtkStack *stack;
  GtkSpinner *spinner;
  GtkLabel *stage_label;
  GtkLabel *subject_label;
  GtkProgressBar *progress_bar;
  GtkLabel *detail_label;
  GtkLabel *batch_label;
  GtkLabel *note_label;
  char *progress_text; /* every line of the busy page, for tests and screen readers */
  AdwStatusPage *idle_page;
  AdwStatusPage *error_page;
  AdwStatusPage *no_model_page;
  GtkWidget *retry_button;
  GtkLabel *title_label;
  GtkLabel *info_label;
  GtkLabel *text_label;
  GtkLabel *items_heading;
  GtkListBox *items_list;

  GListModel *items;
  DepictOverlayItem *hover_item;
};

G_DEFINE_FINAL_TYPE (DepictResultsPane, depict_results_pane, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_HOVER_ITEM, N_PROPS };

static GParamSpec *properties[N_PROPS];

static void
draw_swatch (GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer user_data)
{
  DepictOverlayItem *item = user_data;
  float rgb[3];
  double r = MIN (width, height) / 2.0;

  depict_overlay_item_get_color (item, rgb);
  cairo_arc (cr, width / 2.0, height / 2.0, r - 1, 0, 2 * G_PI);
  cairo_set_source_rgb (cr, rgb[0], rgb[1], rgb[2]);
  cairo_fill (cr);
}

static void
row_enter_cb (GtkEventControllerMotion *motion, double x, double y, DepictResultsPane *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (motion));

  depict_results_pane_set_hover_item (self, g_object_get_data (G_OBJECT (row), "item"));
}

static void
row_leave_cb (GtkEventControllerMotion *motion, DepictResultsPane *self)
{
  depict_results_pane_set_hover_item (self, NULL);
}

/* Keyboard: a focused row highlights its item on the photo, as hovering it does. */
static void
row_focus_enter_cb (GtkEventControllerFocus *focus, DepictResultsPane *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (focus));

  depict_results_pane_set_hover_item (self, g_object_get_data (G_OBJECT (row), "item"));
}

static void
row_focus_leave_cb (GtkEventControllerFocus *focus, DepictResultsPane *self)
{
  GtkWidget *row = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (focus));

  if (self->hover_item == g_object_get_data (G_OBJECT (row), "item"))
    depict_results_pane_set_hover_item (self, NULL);
}

static const char *
kind_name (DepictOverlayItem *item)
{
  switch (depict_overlay_item_get_kind (item))
    {
    case DEPICT_OVERLAY_MASK:
      return _ ("Mask");
    case DEPICT_OVERLAY_TEXT:
      return _ ("Text");
    case DEPICT_OVERLAY_BOX:
    default:
      return _ ("Region");
    }
}

static GtkWidget *
create_row (gpointer object, gpointer user_data)
{
  DepictResultsPane *self = user_data;
  DepictOverlayItem *item = object;
  GtkWidget *row, *box, *swatch, *labels, *title, *subtitle;
  GtkEventController *motion;
  const char *label = depict_overlay_item_get_label (item);
  g_autofree char *details = depict_overlay_item_dup_details (item);

  row = gtk_list_box_row_new ();
  g_object_set_data_full (G_OBJECT (row), "item", g_object_ref (item), g_object_unref);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class (box, "item-row");

  swatch = gtk_drawing_area_new ();
  gtk_widget_set_size_request (swatch, 14, 14);
  gtk_widget_set_valign (swatch, GTK_ALIGN_CENTER);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (swatch), draw_swatch, g_object_ref (item),
                                  g_object_unref);
  gtk_box_append (GTK_BOX (box), swatch);

  labels = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  gtk_widget_set_hexpand (labels, TRUE);
  title = gtk_label_new (label[0] != '\0' ? label : kind_name (item));
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (title), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_selectable (GTK_LABEL (title),
                            depict_overlay_item_get_kind (item) == DEPICT_OVERLAY_TEXT);
  subtitle = gtk_label_new (details);
  gtk_widget_set_visible (subtitle, details != NULL);
  gtk_label_set_xalign (GTK_LABEL (subtitle), 0);
  gtk_widget_add_css_class (subtitle, "dim-label");
  gtk_widget_add_css_class (subtitle, "caption");
  gtk_widget_add_css_class (subtitle, "numeric");
  gtk_box_append (GTK_BOX (labels), title);
  gtk_box_append (GTK_BOX (labels), subtitle);
  gtk_box_append (GTK_BOX (box), labels);

  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "enter", G_CALLBACK (row_enter_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (row_leave_cb), self);
  gtk_widget_add_controller (row, motion);
  motion = gtk_event_controller_focus_new ();
  g_signal_connect (motion, "enter", G_CALLBACK (row_focus_enter_cb), self);
  g_signal_connect (motion, "leave", G_CALLBACK (row_focus_leave_cb), self);
  gtk_widget_add_controller (row, motion);

  return row;
}

static void
depict_results_pane_dispose (GObject *object)
{
  DepictResultsPane *self = DEPICT_RESULTS_PANE (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), DEPICT_TYPE_RESULTS_PANE);
  g_clear_object (&self->items);
  g_clear_object (&self->hover_item);
  g_clear_pointer (&self->progress_text, g_free);

  G_OBJECT_CLASS (depict_results_pane_parent_class)->dispose (object);
}

static void
depict_results_pane_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictResultsPane *self = DEPICT_RESULTS_PANE (object);

  switch (prop_id)
    {
    case PROP_HOVER_ITEM:
      g_value_set_object (value, self->hover_item);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_results_pane_set_property (GObject *object, guint prop_id, const GValue *value,
                                  GParamSpec *pspec)
{
  DepictResultsPane *self = DEPICT_RESULTS_PANE (object);

  switch (prop_id)
    {
    case PROP_HOVER_ITEM:
      depict_results_pane_set_hover_item (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_results_pane_class_init (DepictResultsPaneClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = depict_results_pane_dispose;
  object_class->get_property = depict_results_pane_get_property;
  object_class->set_property = depict_results_pane_set_property;

  properties[PROP_HOVER_ITEM] =
    g_param_spec_object ("hover-item", NULL, NULL, DEPICT_TYPE_OVERLAY_ITEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/ui/depict-results-pane.ui");
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, stack);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, spinner);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, stage_label);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, subject_label);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, detail_label);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, batch_label);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, note_label);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, idle_page);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, error_page);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, no_model_page);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, retry_button);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, title_label);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, info_label);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, text_label);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, items_heading);
  gtk_widget_class_bind_template_child (widget_class, DepictResultsPane, items_list);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "depict-results-pane");
}

static void
depict_results_pane_init (DepictResultsPane *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  depict_results_pane_show_idle (self);
}

static void
show_page (DepictResultsPane *self, const char *name)
{
  gtk_spinner_set_spinning (self->spinner, g_str_equal (name, "busy"));
  gtk_stack_set_visible_child_name (self->stack, name);
}

void
depict_results_pane_show_idle (DepictResultsPane *self)
{
  depict_results_pane_show_idle_with_other_answer (self, NULL);
}

/* Ready to run; OTHER_TASK (a task's human name, or NULL) is a task this photo already has
 * an answer to, so that the person knows where to find it. */
void
depict_results_pane_show_idle_with_other_answer (DepictResultsPane *self, const char *other_task)
{
  g_autofree char *description = NULL;

  g_return_if_fail (DEPICT_IS_RESULTS_PANE (self));

  if (other_task != NULL)
    /* Translators: %s is a task, e.g. "Caption" */
    description = g_strdup_printf (_ ("Press Run or Ctrl+Enter. This photo has an answer to "
                                      "“%s”: choose that task to see it."),
                                   other_task);
  adw_status_page_set_description (
    self->idle_page,
    description != NULL ? description : _ ("Choose a task and press Run or Ctrl+Enter"));
  show_page (self, "idle");
}

static void
set_line (GtkLabel *label, const char *text, GString *all)
{
  gboolean shown = text != NULL && text[0] != '\0';

  gtk_label_set_label (label, shown ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (label), shown);
  if (shown)
    g_string_append_printf (all, "%s%s", all->len > 0 ? "\n" : "", text);
}

void
depict_results_pane_show_progress (DepictResultsPane *self, const DepictProgressInfo *info)
{
  g_autoptr (GString) all = g_string_new (NULL);

  g_return_if_fail (DEPICT_IS_RESULTS_PANE (self));
  g_return_if_fail (info != NULL);

  set_line (self->stage_label, info->stage, all);
  set_line (self->subject_label, info->subject, all);
  set_line (self->detail_label, info->detail, all);
  set_line (self->batch_label, info->batch, all);
  set_line (self->note_label, info->note, all);
  gtk_widget_set_visible (GTK_WIDGET (self->progress_bar), info->fraction >= 0);
  if (info->fraction >= 0)
    gtk_progress_bar_set_fraction (self->progress_bar, CLAMP (info->fraction, 0.0, 1.0));
  g_free (self->progress_text);
  self->progress_text = g_string_free (g_steal_pointer (&all), FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_bar),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, self->progress_text, -1);
  show_page (self, "busy");
}

void
depict_results_pane_show_busy (DepictResultsPane *self, const char *stage, const char *detail)
{
  DepictProgressInfo info = { .stage = stage, .detail = detail, .fraction = -1 };

  depict_results_pane_show_progress (self, &info);
}

const char *
depict_results_pane_get_progress_text (DepictResultsPane *self)
{
  g_return_val_if_fail (DEPICT_IS_RESULTS_PANE (self), NULL);
  return self->progress_text != NULL ? self->progress_text : "";
}

void
depict_results_pane_show_no_model (DepictResultsPane *self)
{
  g_autofree char *size = NULL;
  g_autofree char *text = NULL;

  g_return_if_fail (DEPICT_IS_RESULTS_PANE (self));

  /* The size as the Models window writes it. */
  size = g_format_size (florence_hub_lookup ("base")->download_size);
  /* Translators: %s is a size, "467.0 MB" */
  text = g_strdup_printf (_ ("Depict needs a Florence-2 model to look at photos. The base model "
                             "is a download of %s; after that everything runs on this computer, "
                             "offline."),
                          size);
  adw_status_page_set_description (self->no_model_page, text);
  show_page (self, "no-model");
}

void
depict_results_pane_show_error (DepictResultsPane *self, const char *title, const char *description,
                                gboolean can_retry)
{
  g_return_if_fail (DEPICT_IS_RESULTS_PANE (self));

  /* No "Try Again" where running again cannot help (a photo that cannot be read). */
  depict_results_pane_show_error_with_action (self, title, description,
                                              can_retry ? _ ("_Try Again") : NULL, "win.run");
}

void
depict_results_pane_show_error_with_action (DepictResultsPane *self, const char *title,
                                            const char *description, const char *button_label,
                                            const char *action_name)
{
  g_return_if_fail (DEPICT_IS_RESULTS_PANE (self));

  adw_status_page_set_title (self->error_page, title);
  adw_status_page_set_description (self->error_page, description);
  gtk_widget_set_visible (self->retry_button, button_label != NULL);
  if (button_label != NULL)
    {
      gtk_button_set_label (GTK_BUTTON (self->retry_button), button_label);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->retry_button), action_name);
    }
  show_page (self, "error");
}

void
depict_results_pane_show_answer (DepictResultsPane *self, const char *title, DepictAnswer *answer,
                                 GListModel *items)
{
  g_autofree char *text = NULL;
  g_autofree char *scored_info = NULL;
  const char *info;
  guint n_items;
  gboolean quads;

  g_return_if_fail (DEPICT_IS_RESULTS_PANE (self));
  g_return_if_fail (answer != NULL);
  g_return_if_fail (items == NULL || G_IS_LIST_MODEL (items));

  /* OCR with regions lists its lines below; the joined text would say it twice. */
  quads = answer->result->kind == FLORENCE_RESULT_QUADS;
  text = quads ? NULL : depict_overlay_result_dup_text (answer->result);
  n_items = items != NULL ? g_list_model_get_n_items (items) : 0;
  info = answer->info;
  /* a text answer's confidence beside what was run */
  if (answer->result->has_scores && !isnan (answer->result->text_score))
    {
      /* Translators: how sure the model is of the text it answered, in percent */
      g_autofree char *confidence =
        g_strdup_printf (_ ("Confidence %.0f %%"), answer->result->text_score * 100.0);
      scored_info = info != NULL && info[0] != '\0' ? g_strdup_printf ("%s · %s", info, confidence)
                                                    : g_steal_pointer (&confidence);
      info = scored_info;
    }

  gtk_label_set_label (self->title_label, title != NULL ? title : "");
  gtk_label_set_label (self->info_label, info != NULL ? info : "");
  gtk_widget_set_visible (GTK_WIDGET (self->info_label), info != NULL && info[0] != '\0');

  /* An empty answer says so, whatever its kind. */
  if ((text == NULL || text[0] == '\0') && n_items == 0)
    {
      g_free (text);
      text = g_strdup (_ ("Nothing was found."));
    }
  gtk_label_set_label (self->text_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->text_label), text != NULL);

  if (n_items > 0)
    {
      g_autofree char *heading = NULL;

      heading = g_strdup_printf (
        quads ? g_dngettext (GETTEXT_PACKAGE, "%u Text Line", "%u Text Lines", n_items)
              : g_dngettext (GETTEXT_PACKAGE, "%u Item", "%u Items", n_items),
        n_items);
      gtk_label_set_label (self->items_heading, heading);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->items_heading), n_items > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->items_list), n_items > 0);

  g_set_object (&self->items, items);
  gtk_list_box_bind_model (self->items_list, items, create_row, self, NULL);
  show_page (self, "results");
}

const char *
depict_results_pane_get_page (DepictResultsPane *self)
{
  g_return_val_if_fail (DEPICT_IS_RESULTS_PANE (self), NULL);
  return gtk_stack_get_visible_child_name (self->stack);
}

const char *
depict_results_pane_get_text (DepictResultsPane *self)
{
  g_return_val_if_fail (DEPICT_IS_RESULTS_PANE (self), NULL);
  return gtk_label_get_label (self->text_label);
}

DepictOverlayItem *
depict_results_pane_get_hover_item (DepictResultsPane *self)
{
  g_return_val_if_fail (DEPICT_IS_RESULTS_PANE (self), NULL);
  return self->hover_item;
}

/* Highlights the row of ITEM (hovered on the photo), or none. */
void
depict_results_pane_set_hover_item (DepictResultsPane *self, DepictOverlayItem *item)
{
  GtkWidget *child;

  g_return_if_fail (DEPICT_IS_RESULTS_PANE (self));

  if (!g_set_object (&self->hover_item, item))
    return;

  for (child = gtk_widget_get_first_child (GTK_WIDGET (self->items_list)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      gboolean hovered = item != NULL && g_object_get_data (G_OBJECT (child), "item") == item;

      if (hovered)
        gtk_widget_add_css_class (child, "hovered-item");
      else
        gtk_widget_remove_css_class (child, "hovered-item");
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOVER_ITEM]);
}
