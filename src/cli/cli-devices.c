/* cli-devices.c: `depict-cli devices` lists the Vulkan devices Depict can run on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "depict-cli.h"
#include "gpu/gpu-device.h"

int cli_devices_main (int argc, char **argv);

static void
add_member (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value != NULL ? value : "");
}

int
cli_devices_main (int argc, char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print one line of JSON per device"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;

  g_option_context_set_summary (
    context, _ ("Lists the Vulkan devices. The one marked “*” is used unless the environment "
                "variable DEPICT_VULKAN_DEVICE names another (by number or by part of its "
                "name)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));

  g_autoptr (GPtrArray) devices = gpu_device_list (&error);
  if (devices == NULL)
    return cli_fail (g_steal_pointer (&error));

  if (json)
    {
      for (guint i = 0; i < devices->len; i++)
        {
          const GpuDeviceInfo *d = devices->pdata[i];
          g_autoptr (JsonBuilder) b = json_builder_new ();
          g_autoptr (JsonNode) line = NULL;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "version");
          json_builder_add_int_value (b, 1);
          json_builder_set_member_name (b, "index");
          json_builder_add_int_value (b, d->index);
          add_member (b, "name", d->name);
          add_member (b, "type", gpu_device_type_to_string (d->type));
          add_member (b, "driver", d->driver_name);
          add_member (b, "driver_info", d->driver_info);
          add_member (b, "vulkan", d->api_version);
          json_builder_set_member_name (b, "vendor_id");
          json_builder_add_int_value (b, d->vendor_id);
          json_builder_set_member_name (b, "device_id");
          json_builder_add_int_value (b, d->device_id);
          json_builder_set_member_name (b, "memory");
          json_builder_add_int_value (b, (gint64) d->device_local_memory);
          json_builder_set_member_name (b, "usable");
          json_builder_add_boolean_value (b, d->usable);
          json_builder_set_member_name (b, "default");
          json_builder_add_boolean_value (b, d->is_default);
          json_builder_end_object (b);
          line = json_builder_get_root (b);
          cli_print_json_line (line);
        }
      return 0;
    }

  for (guint i = 0; i < devices->len; i++)
    {
      const GpuDeviceInfo *d = devices->pdata[i];
      g_autofree char *memory = g_format_size (d->device_local_memory);
      printf ("%c %u  %s\n", d->is_default ? '*' : ' ', d->index, d->name);
      printf ("     %s, %s %s, Vulkan %s, %s\n", gpu_device_type_to_label (d->type), d->driver_name,
              d->driver_info, d->api_version, memory);
      if (!d->usable)
        printf ("     %s\n", _ ("not usable: Depict needs Vulkan 1.2 and a compute queue"));
    }
  return 0;
}
