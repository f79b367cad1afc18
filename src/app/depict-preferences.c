/* depict-preferences.c: the preferences window
 *
 * The model choice offers the four published models and, when the setting holds a path, that
 * folder. The device choice lists where a model can run as florence_device_list() says
 * ("Automatic" first, then the processor and the Vulkan devices), stores the name depict-cli's
 * --device takes too, and says plainly when no graphics card can be used. Beams and tokens
 * have the ranges of florence-limits.h. The local API row starts and stops the app's
 * DepictApiService (depict-cli serve) and shows where it answers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "depict-api-service.h"
#include "depict-preferences.h"
#include "florence/engine/florence-device.h"
#include "florence/hub/florence-hub.h"
#include "florence/model/florence-limits.h"

struct _DepictPreferencesWindow {
  AdwPreferencesWindow parent_instance;

  AdwComboRow *model_row;
  AdwPreferencesGroup *device_group;
  AdwComboRow *device_row;
  GtkSpinButton *beams_spin;
  GtkSpinButton *max_tokens_spin;
  GtkSpinButton *threads_spin;
  AdwPreferencesGroup *api_group;
  AdwActionRow *api_row;
  GtkSwitch *api_switch;
  GtkButton *api_copy_button;
  GtkSpinButton *tag_confidence_spin; /* percent; the setting is a fraction */

  GSettings *settings;
  GPtrArray *model_values;  /* char*: setting value of each model choice */
  GPtrArray *device_values; /* char*: setting value of each device choice ("" = automatic) */
  GtkStringList *device_labels;
  char *device_note;
  gboolean updating;
  DepictApiService *api_service;
};

G_DEFINE_FINAL_TYPE (DepictPreferencesWindow, depict_preferences_window,
                     ADW_TYPE_PREFERENCES_WINDOW)

static void
depict_preferences_window_finalize (GObject *object)
{
  DepictPreferencesWindow *self = DEPICT_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);
  g_clear_object (&self->api_service);
  g_clear_pointer (&self->model_values, g_ptr_array_unref);
  g_clear_pointer (&self->device_values, g_ptr_array_unref);
  g_clear_object (&self->device_labels);
  g_free (self->device_note);
  G_OBJECT_CLASS (depict_preferences_window_parent_class)->finalize (object);
}

static void
depict_preferences_window_class_init (DepictPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = depict_preferences_window_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/ui/depict-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, model_row);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, device_group);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, device_row);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, beams_spin);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, max_tokens_spin);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, threads_spin);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, api_group);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, api_row);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, api_switch);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, api_copy_button);
  gtk_widget_class_bind_template_child (widget_class, DepictPreferencesWindow, tag_confidence_spin);
}

/* "min-tag-confidence" (0 to 1) ⇄ the spin button's percent */
static gboolean
percent_from_setting (GValue *value, GVariant *variant, gpointer user_data)
{
  g_value_set_double (value, g_variant_get_double (variant) * 100.0);
  return TRUE;
}

static GVariant *
percent_to_setting (const GValue *value, const GVariantType *type, gpointer user_data)
{
  return g_variant_new_double (CLAMP (g_value_get_double (value) / 100.0, 0.0, 1.0));
}

static void
depict_preferences_window_init (DepictPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->model_values = g_ptr_array_new_with_free_func (g_free);
  self->device_values = g_ptr_array_new_with_free_func (g_free);
}

static void
on_model_selected (AdwComboRow *row, GParamSpec *pspec, DepictPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (row);

  if (self->updating || i >= self->model_values->len)
    return;
  g_settings_set_string (self->settings, "model", g_ptr_array_index (self->model_values, i));
}

static void
fill_models (DepictPreferencesWindow *self)
{
  g_autoptr (GtkStringList) labels = gtk_string_list_new (NULL);
  g_autofree char *current = g_settings_get_string (self->settings, "model");
  const FlorenceHubModel *models;
  gsize n = 0;
  guint selected = 0;

  self->updating = TRUE;
  g_ptr_array_set_size (self->model_values, 0);
  models = florence_hub_get_models (&n);
  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *label = NULL;
      if (florence_hub_get_installed_size (&models[i]) > 0)
        label = g_strdup (_ (models[i].title));
      else
        /* Translators: a model that is not downloaded yet, in the model list */
        label = g_strdup_printf (_ ("%s (not installed)"), _ (models[i].title));
      gtk_string_list_append (labels, label);
      g_ptr_array_add (self->model_values, g_strdup (models[i].id));
      if (g_strcmp0 (current, models[i].id) == 0)
        selected = (guint) i;
    }
  if (current != NULL && florence_hub_lookup (current) == NULL && *current != '\0')
    {
      g_autofree char *base = g_path_get_basename (current);
      /* Translators: a model in a folder the person chose; %s is the folder name */
      g_autofree char *label = g_strdup_printf (_ ("Folder “%s”"), base);
      gtk_string_list_append (labels, label);
      g_ptr_array_add (self->model_values, g_strdup (current));
      selected = self->model_values->len - 1;
    }
  adw_combo_row_set_model (self->model_row, G_LIST_MODEL (labels));
  adw_combo_row_set_selected (self->model_row, selected);
  self->updating = FALSE;
}

static void
on_device_selected (AdwComboRow *row, GParamSpec *pspec, DepictPreferencesWindow *self)
{
  guint i = adw_combo_row_get_selected (row);

  if (self->updating || i >= self->device_values->len)
    return;
  g_settings_set_string (self->settings, "device", g_ptr_array_index (self->device_values, i));
}

static void
fill_devices (DepictPreferencesWindow *self, GPtrArray *devices)
{
  g_autofree char *current = g_settings_get_string (self->settings, "device");
  g_autoptr (GPtrArray) owned = NULL;
  g_autoptr (GError) vulkan_error = NULL;
  const char *default_id;
  const char *default_name = NULL;
  gboolean any_gpu = FALSE;
  guint selected = 0;

  if (devices == NULL)
    devices = owned = florence_device_list (&vulkan_error);
  default_id = florence_device_list_get_default (devices);

  self->updating = TRUE;
  g_clear_object (&self->device_labels);
  self->device_labels = gtk_string_list_new (NULL);
  g_ptr_array_set_size (self->device_values, 0);

  for (guint i = 0; i < devices->len; i++)
    {
      const FlorenceDeviceInfo *info = g_ptr_array_index (devices, i);

      if (g_strcmp0 (info->id, default_id) == 0)
        default_name = info->name;
      if (info->kind == FLORENCE_DEVICE_VULKAN && info->usable &&
          g_strcmp0 (info->type, "cpu") != 0)
        any_gpu = TRUE;
    }

  {
    g_autofree char *automatic =
      default_name != NULL
        /* Translators: the automatic device choice; %s is the device it picks */
        ? g_strdup_printf (_ ("Automatic (%s)"), default_name)
        : g_strdup (_ ("Automatic"));
    gtk_string_list_append (self->device_labels, automatic);
    g_ptr_array_add (self->device_values, g_strdup (""));
  }

  for (guint i = 0; i < devices->len; i++)
    {
      const FlorenceDeviceInfo *info = g_ptr_array_index (devices, i);
      g_autofree char *label = NULL;

      if (info->kind == FLORENCE_DEVICE_VULKAN && !info->usable)
        continue;
      /* Translators: a place a model runs: its name, then what it is ("CPU — 8 threads, …") */
      label = g_strdup_printf (_ ("%s — %s"), info->name, info->description);
      gtk_string_list_append (self->device_labels, label);
      g_ptr_array_add (self->device_values, g_strdup (info->id));
      /* The id, or a Vulkan device's name as earlier versions stored it */
      if (current != NULL && *current != '\0' &&
          (g_str_equal (current, info->id) || g_str_equal (current, info->name)))
        selected = self->device_values->len - 1;
    }

  g_clear_pointer (&self->device_note, g_free);
  if (vulkan_error != NULL)
    self->device_note = g_strdup_printf (
      _ ("No Vulkan driver was found, so models run on the processor, which is slower. For a "
         "graphics card, install Mesa’s Vulkan drivers (mesa-vulkan-drivers) or the card’s "
         "driver. (%s)"),
      vulkan_error->message);
  else if (!any_gpu)
    self->device_note = g_strdup (
      _ ("No graphics card with a Vulkan driver was found, so models run on the processor. "
         "Depict works, but slowly: a graphics card makes it many times faster."));
  adw_preferences_group_set_description (self->device_group, self->device_note);

  adw_combo_row_set_model (self->device_row, G_LIST_MODEL (self->device_labels));
  adw_combo_row_set_selected (self->device_row, selected);
  self->updating = FALSE;
}

static void
on_model_setting_changed (GSettings *settings, const char *key, DepictPreferencesWindow *self)
{
  fill_models (self);
}

/* The local API row: the switch follows the service, the subtitle says where it answers. */
static void
on_api_service_changed (DepictApiService *service, GParamSpec *pspec, DepictPreferencesWindow *self)
{
  DepictApiServiceState state = depict_api_service_get_state (service);
  g_autofree char *subtitle = NULL;

  switch (state)
    {
    case DEPICT_API_SERVICE_STARTING:
      subtitle = g_strdup (_ ("Loading the model…"));
      break;
    case DEPICT_API_SERVICE_RUNNING:
      /* Translators: %s is the service's address, e.g. http://127.0.0.1:8734 */
      subtitle = g_strdup_printf (_ ("Answers on %s"), depict_api_service_get_url (service));
      break;
    case DEPICT_API_SERVICE_STOPPING:
      subtitle = g_strdup (_ ("Stopping once the requests in progress are answered…"));
      break;
    case DEPICT_API_SERVICE_FAILED:
      subtitle = g_strdup (depict_api_service_get_message (service));
      break;
    case DEPICT_API_SERVICE_STOPPED:
    default:
      subtitle = g_strdup (_ ("Off"));
      break;
    }
  adw_action_row_set_subtitle (self->api_row, subtitle);
  gtk_widget_set_visible (GTK_WIDGET (self->api_copy_button), state == DEPICT_API_SERVICE_RUNNING);
  self->updating = TRUE;
  gtk_switch_set_active (self->api_switch, state == DEPICT_API_SERVICE_STARTING ||
                                             state == DEPICT_API_SERVICE_RUNNING);
  self->updating = FALSE;
}

static void
on_api_switch_active (GtkSwitch *api_switch, GParamSpec *pspec, DepictPreferencesWindow *self)
{
  if (self->updating || self->api_service == NULL)
    return;
  if (gtk_switch_get_active (api_switch))
    depict_api_service_start (self->api_service, NULL); /* a failure shows as the subtitle */
  else
    depict_api_service_stop (self->api_service);
  on_api_service_changed (self->api_service, NULL, self);
}

static void
on_api_copy_clicked (GtkButton *button, DepictPreferencesWindow *self)
{
  const char *url = depict_api_service_get_url (self->api_service);

  if (url != NULL)
    gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), url);
}

void
depict_preferences_window_set_api_service (DepictPreferencesWindow *self, DepictApiService *service)
{
  g_return_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self));
  g_return_if_fail (DEPICT_IS_API_SERVICE (service));
  g_return_if_fail (self->api_service == NULL);

  self->api_service = g_object_ref (service);
  g_signal_connect_object (service, "notify", G_CALLBACK (on_api_service_changed), self, 0);
  g_signal_connect (self->api_switch, "notify::active", G_CALLBACK (on_api_switch_active), self);
  g_signal_connect (self->api_copy_button, "clicked", G_CALLBACK (on_api_copy_clicked), self);
  gtk_widget_set_visible (GTK_WIDGET (self->api_group), TRUE);
  on_api_service_changed (service, NULL, self);
}

DepictPreferencesWindow *
depict_preferences_window_new (GtkWindow *parent, GSettings *settings, GPtrArray *devices)
{
  DepictPreferencesWindow *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (DEPICT_TYPE_PREFERENCES_WINDOW, "transient-for", parent, NULL);
  self->settings = g_object_ref (settings);

  fill_models (self);
  fill_devices (self, devices);
  g_signal_connect (self->model_row, "notify::selected", G_CALLBACK (on_model_selected), self);
  g_signal_connect (self->device_row, "notify::selected", G_CALLBACK (on_device_selected), self);
  g_signal_connect_object (settings, "changed::model", G_CALLBACK (on_model_setting_changed), self,
                           0);
  gtk_spin_button_set_range (self->beams_spin, 1, FLORENCE_LIMITS_MAX_BEAMS);
  gtk_spin_button_set_range (self->max_tokens_spin, 16, florence_limits_max_new_tokens (NULL));
  g_settings_bind (settings, "beams", gtk_spin_button_get_adjustment (self->beams_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  /* Without a service (set_api_service), there is no local API to offer. */
  gtk_widget_set_visible (GTK_WIDGET (self->api_group), FALSE);
  g_settings_bind (settings, "max-new-tokens",
                   gtk_spin_button_get_adjustment (self->max_tokens_spin), "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "cpu-threads", gtk_spin_button_get_adjustment (self->threads_spin),
                   "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind_with_mapping (
    settings, "min-tag-confidence", gtk_spin_button_get_adjustment (self->tag_confidence_spin),
    "value", G_SETTINGS_BIND_DEFAULT, percent_from_setting, percent_to_setting, NULL, NULL);
  return self;
}

GStrv
depict_preferences_window_dup_device_labels (DepictPreferencesWindow *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  guint n;

  g_return_val_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self), NULL);
  n = g_list_model_get_n_items (G_LIST_MODEL (self->device_labels));
  for (guint i = 0; i < n; i++)
    g_strv_builder_add (builder, gtk_string_list_get_string (self->device_labels, i));
  return g_strv_builder_end (builder);
}

const char *
depict_preferences_window_get_device_note (DepictPreferencesWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self), NULL);
  return self->device_note;
}

AdwComboRow *
depict_preferences_window_get_device_row (DepictPreferencesWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self), NULL);
  return self->device_row;
}

AdwComboRow *
depict_preferences_window_get_model_row (DepictPreferencesWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self), NULL);
  return self->model_row;
}

GtkSpinButton *
depict_preferences_window_get_threads_spin (DepictPreferencesWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self), NULL);
  return self->threads_spin;
}

GtkSpinButton *
depict_preferences_window_get_tag_confidence_spin (DepictPreferencesWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self), NULL);
  return self->tag_confidence_spin;
}

GtkSpinButton *
depict_preferences_window_get_beams_spin (DepictPreferencesWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self), NULL);
  return self->beams_spin;
}

AdwActionRow *
depict_preferences_window_get_api_row (DepictPreferencesWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self), NULL);
  return self->api_row;
}

GtkSwitch *
depict_preferences_window_get_api_switch (DepictPreferencesWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_PREFERENCES_WINDOW (self), NULL);
  return self->api_switch;
}
