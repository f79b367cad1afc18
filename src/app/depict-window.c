/* depict-window.c
 *
 * The main window, a view over the session: the photo list (a flap), the photo with its
 * overlays, the task picker and the answer beside it, and the gallery as a second page. This
 * file holds the template, the layout, toasts and the public API; the other concerns live in
 * the depict-window-*.c files (see depict-window-private.h).
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-window"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-application.h"
#include "depict-window-private.h"
#include "florence/hub/florence-hub.h"

G_DEFINE_FINAL_TYPE (DepictWindow, depict_window, ADW_TYPE_APPLICATION_WINDOW)

enum { PROP_0, PROP_SESSION, N_PROPS };

static GParamSpec *properties[N_PROPS];

/* ---------------------------------------------------------------------------------------- */
/* Toasts and notifications                                                                 */

/* Work that ends while the window is not active (a folder tagged, Run on All Photos done)
 * is also told in a notification (HIG: toasts are for the window in use); it goes away when
 * the window is back. */
#define BACKGROUND_NOTIFICATION_ID "background-done"

void
_depict_window_notify_in_background (DepictWindow *self, const char *message)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (self));
  g_autoptr (GNotification) notification = NULL;

  if (app == NULL || gtk_window_is_active (GTK_WINDOW (self)) ||
      !g_application_get_is_registered (G_APPLICATION (app)))
    return;
  notification = g_notification_new (_ ("Depict"));
  g_notification_set_body (notification, message);
  g_application_send_notification (G_APPLICATION (app), BACKGROUND_NOTIFICATION_ID, notification);
}

/* Toasts sit at the bottom of the window, where the zoom and layer buttons are: those move
 * up while a toast is shown (instead of showing through it). */
static void
toast_dismissed_cb (AdwToast *toast, DepictWindow *self)
{
  if (self->n_toasts > 0)
    self->n_toasts--;
  if (self->n_toasts == 0 && self->view_controls != NULL)
    gtk_widget_remove_css_class (self->view_controls, "above-toast");
}

void
_depict_window_present_toast (DepictWindow *self, AdwToast *toast)
{
  self->n_toasts++;
  gtk_widget_add_css_class (self->view_controls, "above-toast");
  g_signal_connect_object (toast, "dismissed", G_CALLBACK (toast_dismissed_cb), self, 0);
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* ---------------------------------------------------------------------------------------- */
/* Pages and layout                                                                         */

/* The empty page offers the model download when no model is installed. */
void
_depict_window_update_empty_page (DepictWindow *self)
{
  gboolean none = !depict_session_has_model (self->session);
  g_autofree char *size = NULL;
  g_autofree char *text = NULL;

  gtk_widget_set_visible (self->empty_no_model, none);
  if (!none)
    return;
  /* The size as the Models window writes it. */
  size = g_format_size (florence_hub_lookup ("base")->download_size);
  /* Translators: %s is a size, "467.0 MB" */
  text =
    g_strdup_printf (_ ("No model is installed yet. The base model is a download of %s."), size);
  gtk_label_set_label (self->empty_no_model_label, text);
}

static void
update_queue_button (DepictWindow *self)
{
  gboolean photo;

  if (self->queue_button == NULL || self->main_stack == NULL || self->photo_stack == NULL)
    return;
  photo = g_strcmp0 (depict_window_get_visible_page (self), "photo") == 0;
  gtk_widget_set_visible (self->queue_button, photo);
}

static void
page_changed_cb (GObject *stack, GParamSpec *pspec, DepictWindow *self)
{
  update_queue_button (self);
  _depict_window_update_actions (self);
}

/* Narrow windows (a phone, half a laptop screen) put the results below the photo. The
 * layout changes after the allocation that finds the new width, never during it. */
static gboolean
apply_layout_cb (gpointer user_data)
{
  DepictWindow *self = user_data;
  GtkPaned *paned;

  self->layout_idle = 0;
  if (self->side_pane == NULL)
    return G_SOURCE_REMOVE;
  paned = GTK_PANED (gtk_widget_get_parent (self->side_pane));
  gtk_orientable_set_orientation (
    GTK_ORIENTABLE (paned), self->narrow ? GTK_ORIENTATION_VERTICAL : GTK_ORIENTATION_HORIZONTAL);
  gtk_widget_set_size_request (self->side_pane, self->narrow ? -1 : 340, self->narrow ? 240 : -1);
  return G_SOURCE_REMOVE;
}

static void
depict_window_size_allocate (GtkWidget *widget, int width, int height, int baseline)
{
  DepictWindow *self = DEPICT_WINDOW (widget);
  gboolean narrow = width < 720;

  GTK_WIDGET_CLASS (depict_window_parent_class)->size_allocate (widget, width, height, baseline);

  if (narrow != self->narrow && self->layout_idle == 0)
    {
      self->narrow = narrow;
      self->layout_idle = g_idle_add (apply_layout_cb, self);
    }
}

/* Back from the model manager: a model may have been installed. */
static void
active_changed_cb (GtkWindow *window, GParamSpec *pspec, DepictWindow *self)
{
  GtkApplication *app = gtk_window_get_application (window);

  if (!gtk_window_is_active (window))
    return;
  if (app != NULL && g_application_get_is_registered (G_APPLICATION (app)))
    g_application_withdraw_notification (G_APPLICATION (app), BACKGROUND_NOTIFICATION_ID);
  if (self->current == NULL)
    _depict_window_update_empty_page (self);
  else if (g_strcmp0 (depict_results_pane_get_page (self->results_pane), "no-model") == 0)
    _depict_window_show_current (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Layers and hover                                                                         */

/* A toggle for each kind of layer the answer has. */
static void
items_changed_cb (GListModel *items, guint position, guint removed, guint added, DepictWindow *self)
{
  guint present = 0;

  for (guint i = 0; i < g_list_model_get_n_items (items); i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (items, i);

      present |= depict_overlay_item_get_layer (item);
    }
  gtk_widget_set_visible (self->boxes_toggle, (present & DEPICT_LAYER_BOXES) != 0);
  gtk_widget_set_visible (self->masks_toggle, (present & DEPICT_LAYER_MASKS) != 0);
  gtk_widget_set_visible (self->text_toggle, (present & DEPICT_LAYER_TEXT) != 0);
  gtk_widget_set_visible (self->layer_toggles, present != 0);
}

static void
view_items_changed_cb (DepictImageView *view, GParamSpec *pspec, DepictWindow *self)
{
  /* the answer's items, also those the confidence filter hides */
  GListModel *items =
    self->items != NULL ? G_LIST_MODEL (self->items) : depict_image_view_get_items (view);

  if (items != NULL)
    items_changed_cb (items, 0, 0, 0, self);
}

static void
layers_changed_cb (GSettings *settings, const char *key, DepictWindow *self)
{
  guint layers = 0;

  if (g_settings_get_boolean (settings, "show-boxes"))
    layers |= DEPICT_LAYER_BOXES;
  if (g_settings_get_boolean (settings, "show-masks"))
    layers |= DEPICT_LAYER_MASKS;
  if (g_settings_get_boolean (settings, "show-text"))
    layers |= DEPICT_LAYER_TEXT;
  depict_image_view_set_layers (self->image_view, layers);
}

/* Hover on the photo <-> the list of results */
static void
image_hover_cb (DepictImageView *view, GParamSpec *pspec, DepictWindow *self)
{
  depict_results_pane_set_hover_item (self->results_pane, depict_image_view_get_hover_item (view));
}

static void
pane_hover_cb (DepictResultsPane *pane, GParamSpec *pspec, DepictWindow *self)
{
  depict_image_view_set_hover_item (self->image_view, depict_results_pane_get_hover_item (pane));
}

static void
gallery_toast_cb (DepictGalleryView *view, const char *message, DepictWindow *self)
{
  depict_window_add_toast (self, message);
}

static void
session_changed_cb (DepictSession *session, GParamSpec *pspec, DepictWindow *self)
{
  _depict_window_update_actions (self);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject                                                                                  */

static gboolean
depict_window_close_request (GtkWindow *window)
{
  DepictWindow *self = DEPICT_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));

  depict_window_cancel (self);
  g_cancellable_cancel (self->cancellable);

  return GTK_WINDOW_CLASS (depict_window_parent_class)->close_request (window);
}

static void
depict_window_constructed (GObject *object)
{
  DepictWindow *self = DEPICT_WINDOW (object);

  G_OBJECT_CLASS (depict_window_parent_class)->constructed (object);

  g_assert (DEPICT_IS_SESSION (self->session));
  self->settings = g_object_ref (depict_session_get_settings (self->session));

  gtk_window_set_default_size (GTK_WINDOW (self),
                               g_settings_get_int (self->settings, "window-width"),
                               g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  g_signal_connect_object (self->settings, "changed::show-boxes", G_CALLBACK (layers_changed_cb),
                           self, 0);
  g_signal_connect_object (self->settings, "changed::show-masks", G_CALLBACK (layers_changed_cb),
                           self, 0);
  g_signal_connect_object (self->settings, "changed::show-text", G_CALLBACK (layers_changed_cb),
                           self, 0);
  layers_changed_cb (self->settings, NULL, self);
  depict_confidence_filter_set_settings (self->confidence_filter, self->settings);

  depict_gallery_view_set_session (self->gallery_view, self->session);
  g_signal_connect_object (self->session, "notify::busy", G_CALLBACK (session_changed_cb), self, 0);
  g_signal_connect_object (self->session, "notify::batch-paused", G_CALLBACK (session_changed_cb),
                           self, 0);
  _depict_window_queue_init (self);
  _depict_window_results_init (self);
  _depict_window_batch_init (self);
  _depict_window_actions_init (self);
  _depict_window_dnd_init (self);
  _depict_window_show_item (self, NULL);
  update_queue_button (self);
}

static void
depict_window_dispose (GObject *object)
{
  DepictWindow *self = DEPICT_WINDOW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->layout_idle, g_source_remove);
  _depict_window_batch_dispose (self);
  _depict_window_results_dispose (self);
  _depict_window_queue_dispose (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), DEPICT_TYPE_WINDOW);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->settings);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (depict_window_parent_class)->dispose (object);
}

static void
depict_window_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictWindow *self = DEPICT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_window_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  DepictWindow *self = DEPICT_WINDOW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      self->session = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_window_class_init (DepictWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);

  object_class->constructed = depict_window_constructed;
  object_class->dispose = depict_window_dispose;
  object_class->get_property = depict_window_get_property;
  object_class->set_property = depict_window_set_property;
  widget_class->size_allocate = depict_window_size_allocate;
  window_class->close_request = depict_window_close_request;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, DEPICT_TYPE_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (DEPICT_TYPE_IMAGE_VIEW);
  g_type_ensure (DEPICT_TYPE_TASK_PICKER);
  g_type_ensure (DEPICT_TYPE_RESULTS_PANE);
  g_type_ensure (DEPICT_TYPE_GALLERY_VIEW);
  g_type_ensure (DEPICT_TYPE_CONFIDENCE_FILTER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/ui/depict-window.ui");
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, drop_overlay);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, photo_stack);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, flap);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, queue_list);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, image_view);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, view_controls);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, run_all_button);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, empty_no_model);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, empty_no_model_label);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, layer_toggles);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, boxes_toggle);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, masks_toggle);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, text_toggle);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, confidence_filter);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, queue_button);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, region_hint_revealer);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, side_pane);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, task_picker);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, results_pane);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, gallery_view);
  gtk_widget_class_bind_template_child (widget_class, DepictWindow, drop_revealer);

  _depict_window_class_actions_init (klass);
}

static void
depict_window_init (DepictWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  if (g_str_has_suffix (APPLICATION_ID, ".Devel"))
    gtk_widget_add_css_class (GTK_WIDGET (self), "devel");

  self->cancellable = g_cancellable_new ();

  g_signal_connect (self->image_view, "notify::hover-item", G_CALLBACK (image_hover_cb), self);
  g_signal_connect (self->image_view, "notify::items", G_CALLBACK (view_items_changed_cb), self);
  g_signal_connect (self->results_pane, "notify::hover-item", G_CALLBACK (pane_hover_cb), self);
  g_signal_connect (self->main_stack, "notify::visible-child", G_CALLBACK (page_changed_cb), self);
  g_signal_connect (self->photo_stack, "notify::visible-child", G_CALLBACK (page_changed_cb), self);
  g_signal_connect (self, "notify::is-active", G_CALLBACK (active_changed_cb), self);
  g_signal_connect (self->gallery_view, "toast", G_CALLBACK (gallery_toast_cb), self);
}

/* ---------------------------------------------------------------------------------------- */
/* Public API                                                                               */

DepictWindow *
depict_window_new (GtkApplication *application)
{
  g_return_val_if_fail (DEPICT_IS_APPLICATION (application), NULL);

  return g_object_new (DEPICT_TYPE_WINDOW, "application", application, "session",
                       depict_application_get_session (DEPICT_APPLICATION (application)), NULL);
}

DepictWindow *
depict_window_new_for_session (DepictSession *session)
{
  g_return_val_if_fail (DEPICT_IS_SESSION (session), NULL);

  return g_object_new (DEPICT_TYPE_WINDOW, "session", session, NULL);
}

DepictSession *
depict_window_get_session (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return self->session;
}

/* Shows FILE with a stored ANSWER (NULL: none), without running the model. */
void
depict_window_show_file (DepictWindow *self, GFile *file, DepictAnswer *answer)
{
  DepictQueueItem *item;

  g_return_if_fail (DEPICT_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  _depict_window_add_photos (self, &file, 1);
  item = _depict_window_find_item (self, file, NULL);
  if (item != NULL && answer != NULL)
    {
      depict_queue_item_add_answer (item, answer);
      depict_queue_item_set_state (item, DEPICT_QUEUE_ITEM_DONE);
      if (item == self->current)
        _depict_window_show_answer (self, answer);
    }
}

void
depict_window_add_toast (DepictWindow *self, const char *title)
{
  AdwToast *toast;

  g_return_if_fail (DEPICT_IS_WINDOW (self));

  toast = adw_toast_new (title);
  adw_toast_set_timeout (toast, 5);
  _depict_window_present_toast (self, toast);
}

/* "empty" (nothing opened), "batch" (nothing opened, a batch under way), "photo" or "gallery" */
const char *
depict_window_get_visible_page (DepictWindow *self)
{
  const char *page;

  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);

  page = adw_view_stack_get_visible_child_name (self->main_stack);
  if (g_strcmp0 (page, "photo") == 0)
    return gtk_stack_get_visible_child_name (self->photo_stack);
  return page;
}

void
depict_window_show_gallery (DepictWindow *self, gboolean focus_search)
{
  g_return_if_fail (DEPICT_IS_WINDOW (self));

  adw_view_stack_set_visible_child_name (self->main_stack, "gallery");
  if (focus_search)
    depict_gallery_view_focus_search (self->gallery_view);
}

DepictImageView *
depict_window_get_image_view (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return self->image_view;
}

DepictResultsPane *
depict_window_get_results_pane (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return self->results_pane;
}

DepictTaskPicker *
depict_window_get_task_picker (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return self->task_picker;
}

GListModel *
depict_window_get_queue (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return G_LIST_MODEL (self->queue);
}

GtkWidget *
depict_window_get_gallery_view (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return GTK_WIDGET (self->gallery_view);
}

DepictAnswer *
depict_window_get_answer (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), NULL);
  return self->answer;
}
