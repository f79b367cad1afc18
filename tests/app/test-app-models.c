/* test-app-models.c: the preferences window and the model manager
 *
 * The model manager downloads from a local stand-in for the hub (tests/florence/
 * hub-test-server.c, on 127.0.0.1) into a private models folder.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <string.h>

#include "app-test-util.h"
#include "depict-about.h"
#include "depict-model-manager.h"
#include "depict-preferences.h"
#include "florence/hub/florence-hub.h"
#include "florence/engine/florence-device.h"
#include "hub-test-server.h"

/* GSETTINGS_BACKEND=memory in the test environment: nothing is written to disk. */
static GSettings *
new_settings (void)
{
  return g_settings_new ("io.github.depict.Depict");
}

static void
test_preferences_devices (void)
{
  g_autoptr (GSettings) settings = new_settings ();
  g_autoptr (GError) vulkan_error = NULL;
  g_autoptr (GPtrArray) devices = florence_device_list (&vulkan_error);
  const FlorenceDeviceInfo *first = g_ptr_array_index (devices, 0);
  DepictPreferencesWindow *window;
  g_auto (GStrv) labels = NULL;
  gboolean any_gpu = FALSE;

  window = depict_preferences_window_new (NULL, settings, NULL);
  labels = depict_preferences_window_dup_device_labels (window);
  g_assert_nonnull (labels[0]);
  g_assert_true (g_str_has_prefix (labels[0], "Automatic ("));

  /* Every place the model can run, as depict-cli devices lists it, with what it is. */
  g_assert_nonnull (labels[1]);
  g_assert_true (g_str_has_prefix (labels[1], first->name));
  g_assert_nonnull (strstr (labels[1], first->description));
  for (guint i = 0; i < devices->len; i++)
    {
      const FlorenceDeviceInfo *info = g_ptr_array_index (devices, i);

      any_gpu |=
        info->kind == FLORENCE_DEVICE_VULKAN && info->usable && g_strcmp0 (info->type, "cpu") != 0;
    }
  if (vulkan_error != NULL)
    g_assert_nonnull (
      strstr (depict_preferences_window_get_device_note (window), "mesa-vulkan-drivers"));
  else if (!any_gpu)
    g_assert_nonnull (strstr (depict_preferences_window_get_device_note (window), "processor"));
  else
    g_assert_null (depict_preferences_window_get_device_note (window));

  /* Choosing a device stores the name depict-cli --device takes; Automatic stores "". */
  {
    AdwComboRow *row = depict_preferences_window_get_device_row (window);
    FlorenceDeviceKind kind;

    adw_combo_row_set_selected (row, 1);
    {
      g_autofree char *stored = g_settings_get_string (settings, "device");
      g_assert_cmpstr (stored, ==, first->id);
      g_assert_true (florence_device_parse (stored, &kind, NULL, NULL));
      g_assert_cmpint (kind, ==, first->kind);
    }
    adw_combo_row_set_selected (row, 0);
    {
      g_autofree char *stored = g_settings_get_string (settings, "device");
      g_assert_cmpstr (stored, ==, "");
    }
  }

  /* A Vulkan device stored by name (as earlier versions did) is still the one chosen. */
  for (guint i = 0, row = 1; i < devices->len; i++)
    {
      const FlorenceDeviceInfo *info = g_ptr_array_index (devices, i);

      if (info->kind == FLORENCE_DEVICE_VULKAN && !info->usable)
        continue;
      if (info->kind != FLORENCE_DEVICE_VULKAN)
        {
          row++;
          continue;
        }
      {
        DepictPreferencesWindow *again;

        g_settings_set_string (settings, "device", info->name);
        again = depict_preferences_window_new (NULL, settings, devices);
        g_assert_cmpuint (
          adw_combo_row_get_selected (depict_preferences_window_get_device_row (again)), ==, row);
        gtk_window_destroy (GTK_WINDOW (again));
        g_settings_set_string (settings, "device", "");
        break;
      }
    }

  /* Beams and maximum length follow the settings both ways. */
  g_settings_set_int (settings, "beams", 5);
  {
    GtkSpinButton *beams = depict_preferences_window_get_beams_spin (window);
    g_assert_cmpint (gtk_spin_button_get_value_as_int (beams), ==, 5);
    gtk_spin_button_set_value (beams, 2);
    g_assert_cmpint (g_settings_get_int (settings, "beams"), ==, 2);
  }
  /* Long model and device names are shown whole, as the rows' subtitles. */
  g_assert_true (adw_combo_row_get_use_subtitle (depict_preferences_window_get_model_row (window)));
  g_assert_true (
    adw_combo_row_get_use_subtitle (depict_preferences_window_get_device_row (window)));
  /* The processor engine's threads, 0 for every core, are the setting the session reads. */
  {
    GtkSpinButton *threads = depict_preferences_window_get_threads_spin (window);

    g_assert_cmpint (gtk_spin_button_get_value_as_int (threads), ==, 0);
    gtk_spin_button_set_value (threads, 2);
    g_assert_cmpint (g_settings_get_int (settings, "cpu-threads"), ==, 2);
    g_settings_reset (settings, "cpu-threads");
  }
  gtk_window_destroy (GTK_WINDOW (window));
}

/* How many buttons under WIDGET carry the style class NAME. */
static guint
count_styled_buttons (GtkWidget *widget, const char *name)
{
  guint n = GTK_IS_BUTTON (widget) && gtk_widget_has_css_class (widget, name) ? 1 : 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_styled_buttons (child, name);
  return n;
}

static gboolean
manager_idle (gpointer data)
{
  return !depict_model_manager_is_busy (data);
}

static void
test_model_manager_download (void)
{
  g_autoptr (GSettings) settings = new_settings ();
  Hub *hub = hub_start ();
  g_autofree char *models = g_dir_make_tmp ("depict-models-XXXXXX", NULL);
  g_autofree char *base_dir = NULL;
  DepictModelManager *manager;

  g_setenv ("HF_ENDPOINT", hub->endpoint, TRUE);
  g_setenv ("DEPICT_MODELS_DIR", models, TRUE);
  /* The model in use is one that is not installed. */
  g_settings_set_string (settings, "model", "large");

  manager = depict_model_manager_new (NULL, settings);
  gtk_window_present (GTK_WINDOW (manager));
  g_assert_cmpstr (depict_model_manager_get_row_state (manager, "base"), ==, "Not installed");
  /* One suggested action (the base model's Download), not one per row. */
  g_assert_cmpuint (count_styled_buttons (GTK_WIDGET (manager), "suggested-action"), ==, 1);

  depict_model_manager_download (manager, "base");
  g_assert_true (depict_model_manager_is_busy (manager));
  app_test_wait (manager_idle, manager, 60000, "the download to finish");

  /* Installed, and in use: the first installed model becomes the one in use. */
  g_assert_cmpstr (depict_model_manager_get_row_state (manager, "base"), ==, "In use");
  /* Delete is a plain button: the confirmation is where the red one is. */
  g_assert_cmpuint (count_styled_buttons (GTK_WIDGET (manager), "destructive-action"), ==, 0);
  base_dir = florence_hub_get_install_dir (florence_hub_lookup ("base"));
  g_assert_true (g_str_has_prefix (base_dir, models));
  g_assert_true (florence_hub_dir_is_complete (base_dir));
  /* The first installed model becomes the one in use. */
  {
    g_autofree char *model = g_settings_get_string (settings, "model");
    g_assert_cmpstr (model, ==, "base");
  }
  /* Choosing another model in the preferences: this one is only installed. */
  g_settings_set_string (settings, "model", "large");
  g_assert_cmpstr (depict_model_manager_get_row_state (manager, "base"), ==, "Installed");

  gtk_window_destroy (GTK_WINDOW (manager));
  g_unsetenv ("HF_ENDPOINT");
  hub_stop (hub);
}

/* Offline: the download fails, and its row keeps saying why, whole, with what to do without
 * a network, until the next try. */
static void
test_model_manager_offline (void)
{
  g_autoptr (GSettings) settings = new_settings ();
  g_autofree char *models = g_dir_make_tmp ("depict-models-XXXXXX", NULL);
  DepictModelManager *manager;
  const char *subtitle;

  /* Nothing listens on port 1 of this machine. */
  g_setenv ("HF_ENDPOINT", "http://127.0.0.1:1", TRUE);
  g_setenv ("DEPICT_MODELS_DIR", models, TRUE);
  g_settings_set_string (settings, "model", "base");
  manager = depict_model_manager_new (NULL, settings);
  gtk_window_present (GTK_WINDOW (manager));

  depict_model_manager_download (manager, "base");
  app_test_wait (manager_idle, manager, 60000, "the download to fail");
  g_assert_cmpstr (depict_model_manager_get_row_state (manager, "base"), ==, "Download failed");
  subtitle = depict_model_manager_get_row_subtitle (manager, "base");
  g_test_message ("%s", subtitle);
  g_assert_nonnull (strstr (subtitle, "127.0.0.1:1"));
  g_assert_nonnull (strstr (subtitle, "Use a Model Folder"));
  g_assert_nonnull (app_test_find_button (GTK_WIDGET (manager), "Try Again"));
  /* It lasts: another change of the settings leaves it. */
  g_settings_set_string (settings, "model", "large");
  g_assert_cmpstr (depict_model_manager_get_row_state (manager, "base"), ==, "Download failed");

  gtk_window_destroy (GTK_WINDOW (manager));
  g_unsetenv ("HF_ENDPOINT");
}

static void
touch (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, "{}", -1, NULL));
}

/* A model folder: refused with what it lacks; once complete, in use with its own row, its
 * size and place, until Stop Using. */
static void
test_model_folder (void)
{
  g_autoptr (GSettings) settings = new_settings ();
  g_autofree char *models = g_dir_make_tmp ("depict-models-XXXXXX", NULL);
  g_autofree char *folder = g_dir_make_tmp ("depict-my-model-XXXXXX", NULL);
  DepictModelManager *manager;
  const char *problem;

  g_setenv ("DEPICT_MODELS_DIR", models, TRUE);
  g_settings_set_string (settings, "model", "base");
  manager = depict_model_manager_new (NULL, settings);
  gtk_window_present (GTK_WINDOW (manager));
  g_assert_cmpuint (count_styled_buttons (GTK_WIDGET (manager), "suggested-action"), ==, 1);

  touch (folder, "config.json");
  g_assert_false (depict_model_manager_use_folder (manager, folder));
  problem = depict_model_manager_get_folder_problem (manager);
  g_test_message ("%s", problem);
  g_assert_nonnull (strstr (problem, "model.safetensors"));
  g_assert_nonnull (strstr (problem, "tokenizer.json"));
  g_assert_nonnull (strstr (problem, "lacks the weights"));
  g_assert_cmpstr (depict_model_manager_get_row_subtitle (manager, NULL), ==, problem);
  {
    g_autofree char *model = g_settings_get_string (settings, "model");
    g_assert_cmpstr (model, ==, "base");
  }

  touch (folder, "model.safetensors");
  touch (folder, "tokenizer.json");
  g_assert_true (depict_model_manager_use_folder (manager, folder));
  {
    g_autofree char *model = g_settings_get_string (settings, "model");
    g_assert_cmpstr (model, ==, folder);
  }
  /* Its row says where it is and how large; nothing else asks to be downloaded. */
  g_assert_nonnull (strstr (depict_model_manager_get_row_subtitle (manager, NULL), folder));
  g_assert_nonnull (strstr (depict_model_manager_get_row_subtitle (manager, NULL), "bytes"));
  g_assert_cmpuint (count_styled_buttons (GTK_WIDGET (manager), "suggested-action"), ==, 0);

  g_signal_emit_by_name (app_test_find_button (GTK_WIDGET (manager), "_Stop Using"), "clicked");
  {
    g_autofree char *model = g_settings_get_string (settings, "model");
    g_assert_cmpstr (model, ==, "base");
  }
  g_assert_cmpuint (count_styled_buttons (GTK_WIDGET (manager), "suggested-action"), ==, 1);
  gtk_window_destroy (GTK_WINDOW (manager));
}

/* About's debug information lists what depict-cli devices lists: every device, the CPU engine
 * with its threads and BLAS, and which one "automatic" picks. */
static void
test_about_devices (void)
{
  g_autoptr (GSettings) settings = g_settings_new ("io.github.depict.Depict");
  g_autoptr (GPtrArray) devices = florence_device_list (NULL);
  g_autofree char *info = depict_about_dup_debug_info (settings);
  g_autofree char *automatic = NULL;

  g_test_message ("%s", info);
  for (guint i = 0; i < devices->len; i++)
    {
      const FlorenceDeviceInfo *device = g_ptr_array_index (devices, i);
      g_autofree char *line = g_strdup_printf ("  %s: %s", device->id, device->name);

      g_assert_nonnull (strstr (info, line));
      if (device->blas != NULL)
        {
          g_autofree char *engine =
            g_strdup_printf ("%d threads, %s", device->n_threads, device->blas);
          g_assert_nonnull (strstr (info, engine));
        }
    }
  automatic = g_strdup_printf ("  %s: ", florence_device_list_get_default (devices));
  g_assert_nonnull (strstr (strstr (info, automatic), "[automatic choice]"));
  g_assert_nonnull (strstr (info, "  cpu: "));
}

int
main (int argc, char **argv)
{
  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  app_test_init_gtk (&argc, &argv);
  g_test_add_func ("/app/preferences/devices", test_preferences_devices);
  g_test_add_func ("/app/about/devices", test_about_devices);
  g_test_add_func ("/app/models/download", test_model_manager_download);
  g_test_add_func ("/app/models/offline", test_model_manager_offline);
  g_test_add_func ("/app/models/folder", test_model_folder);
  return g_test_run ();
}
