/* cli-devices.c: `depict-cli devices` lists where Depict can run: the CPU engines and the
 * Vulkan devices, with the name that selects each (florence-device.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli-options.h"
#include "depict-cli.h"
#include "florence/engine/florence-device.h"

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
    context, _ ("Lists where Depict can run, with the name that selects each for --device. "
                "The one marked “*” is what --device auto picks: a graphics card when there "
                "is one, else the CPU engine. The environment variable DEPICT_VULKAN_DEVICE "
                "(a number or part of a name) makes auto pick that Vulkan device instead."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));

  g_autoptr (GError) vulkan_error = NULL;
  g_autoptr (GPtrArray) devices = florence_device_list (&vulkan_error);

  if (json)
    {
      for (guint i = 0; i < devices->len; i++)
        {
          const FlorenceDeviceInfo *d = devices->pdata[i];
          g_autoptr (JsonBuilder) b = json_builder_new ();
          g_autoptr (JsonNode) line = NULL;
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "version");
          json_builder_add_int_value (b, 1);
          add_member (b, "id", d->id);
          add_member (b, "name", d->name);
          add_member (b, "description", d->description);
          add_member (b, "engine", florence_device_kind_to_string (d->kind));
          add_member (b, "type", d->type);
          if (d->vulkan_index >= 0)
            {
              json_builder_set_member_name (b, "index");
              json_builder_add_int_value (b, d->vulkan_index);
              add_member (b, "driver", d->driver);
              add_member (b, "driver_info", d->driver_info);
              add_member (b, "vulkan", d->vulkan_version);
              json_builder_set_member_name (b, "vendor_id");
              json_builder_add_int_value (b, d->vendor_id);
              json_builder_set_member_name (b, "device_id");
              json_builder_add_int_value (b, d->device_id);
              json_builder_set_member_name (b, "memory");
              json_builder_add_int_value (b, (gint64) d->memory);
            }
          if (d->n_threads > 0)
            {
              json_builder_set_member_name (b, "threads");
              json_builder_add_int_value (b, d->n_threads);
            }
          if (d->blas != NULL)
            add_member (b, "blas", d->blas);
          json_builder_set_member_name (b, "usable");
          json_builder_add_boolean_value (b, d->usable);
          json_builder_set_member_name (b, "default");
          json_builder_add_boolean_value (b, d->is_default);
          json_builder_end_object (b);
          line = json_builder_get_root (b);
          cli_print_json_line (line);
        }
    }
  else
    for (guint i = 0; i < devices->len; i++)
      {
        const FlorenceDeviceInfo *d = devices->pdata[i];
        printf ("%c %-14s %s\n", d->is_default ? '*' : ' ', d->id, d->name);
        printf ("  %-14s %s\n", "", d->description);
        if (!d->usable)
          printf ("  %-14s %s\n", "",
                  _ ("not usable: Depict needs Vulkan 1.2 and a compute queue"));
      }
  /* on stderr, so that the JSON stays JSON */
  if (vulkan_error != NULL)
    g_printerr ("%s\n", vulkan_error->message);
  return 0;
}
