/* depict-about.c: the About window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "depict-about.h"
#include "florence/hub/florence-hub.h"
#include "florence/engine/florence-device.h"

char *
depict_about_dup_debug_info (GSettings *settings)
{
  g_autoptr (GString) s = g_string_new (NULL);
  g_autoptr (GError) vulkan_error = NULL;
  g_autoptr (GPtrArray) devices = florence_device_list (&vulkan_error);
  const char *default_id = florence_device_list_get_default (devices);
  g_autofree char *model = settings != NULL ? g_settings_get_string (settings, "model") : NULL;
  g_autofree char *device = settings != NULL ? g_settings_get_string (settings, "device") : NULL;
  const FlorenceHubModel *hub_model = model != NULL ? florence_hub_lookup (model) : NULL;

  g_string_append_printf (s, "Depict %s (%s, profile %s)\n", PACKAGE_VERSION, APPLICATION_ID,
                          PROFILE);
  g_string_append_printf (s, "GLib %u.%u.%u, GTK %u.%u.%u, libadwaita %u.%u.%u\n",
                          glib_major_version, glib_minor_version, glib_micro_version,
                          gtk_get_major_version (), gtk_get_minor_version (),
                          gtk_get_micro_version (), adw_get_major_version (),
                          adw_get_minor_version (), adw_get_micro_version ());
  if (g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
    g_string_append (s, "Running as a Flatpak\n");

  /* The one device list depict-cli devices prints: the CPU engine (its threads and BLAS),
   * the CPU reference, then the Vulkan devices. */
  g_string_append (s, "\nDevices:\n");
  for (guint i = 0; i < devices->len; i++)
    {
      const FlorenceDeviceInfo *info = g_ptr_array_index (devices, i);

      g_string_append_printf (
        s, "  %s: %s%s%s\n", info->id, info->name,
        g_strcmp0 (info->id, default_id) == 0 ? " [automatic choice]" : "",
        info->kind == FLORENCE_DEVICE_VULKAN && !info->usable ? " [not usable]" : "");
      if (info->blas != NULL)
        g_string_append_printf (s, "     %d threads, %s\n", info->n_threads, info->blas);
      else if (info->kind == FLORENCE_DEVICE_VULKAN)
        {
          g_autofree char *memory = g_format_size (info->memory);
          g_string_append_printf (s, "     %s, driver %s %s, Vulkan %s, %s\n", info->type,
                                  info->driver, info->driver_info, info->vulkan_version, memory);
        }
    }
  if (vulkan_error != NULL)
    g_string_append_printf (s, "  no Vulkan device: %s\n", vulkan_error->message);
  g_string_append_printf (s, "Device setting: %s\n",
                          device != NULL && *device != '\0' ? device : "automatic");
  if (g_getenv ("DEPICT_VULKAN_DEVICE") != NULL)
    g_string_append_printf (s, "DEPICT_VULKAN_DEVICE=%s\n", g_getenv ("DEPICT_VULKAN_DEVICE"));

  g_string_append (s, "\nModel: ");
  if (hub_model != NULL)
    {
      g_autofree char *dir = florence_hub_get_install_dir (hub_model);
      guint64 size = florence_hub_get_installed_size (hub_model);
      g_autofree char *size_text = g_format_size (size);
      g_string_append_printf (s, "%s (%s)\n  %s, %s\n", hub_model->id, hub_model->repo, dir,
                              size > 0 ? size_text : "not installed");
    }
  else
    g_string_append_printf (s, "folder %s (%s)\n", model != NULL ? model : "(none)",
                            model != NULL && florence_hub_dir_is_complete (model) ? "complete"
                                                                                  : "incomplete");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

void
depict_about_show (GtkWindow *parent, GSettings *settings)
{
  const char *developers[] = { "The Depict authors", NULL };
  g_autofree char *debug_info = depict_about_dup_debug_info (settings);
  GtkWidget *about = adw_about_window_new ();

  g_object_set (about, "transient-for", parent, "modal", TRUE, "application-name", _ ("Depict"),
                "application-icon", APPLICATION_ID, "version", PACKAGE_VERSION, "developer-name",
                _ ("The Depict authors"), "developers", developers, "comments",
                _ ("Describe, search and tag your photos with Florence-2, running on "
                   "your own computer through Vulkan."),
                "website", "https://github.com/depict/depict", "issue-url",
                "https://github.com/depict/depict/issues", "license-type", GTK_LICENSE_GPL_3_0,
                "copyright", "© 2026 The Depict authors",
                /* Translators: put your names here, one per line */
                "translator-credits", _ ("translator-credits"), "debug-info", debug_info,
                "debug-info-filename", "depict-debug-info.txt", NULL);
  adw_about_window_add_legal_section (ADW_ABOUT_WINDOW (about), _ ("Florence-2 model weights"),
                                      "© Microsoft Corporation", GTK_LICENSE_MIT_X11, NULL);
  gtk_window_present (GTK_WINDOW (about));
}
