/* test-gpu-cli.c: `depict-cli devices` (text, JSON, and a machine without Vulkan drivers)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "cli/cli-test-util.h"
#include "gpu-test-util.h"

static void
run_cli (const char *const *extra_env, const char *arg, char **out, char **err, int *status)
{
  const char *args[] = { "devices", arg, NULL };
  g_auto (CliTestResult) r = cli_test_run (args, extra_env, NULL);

  *out = g_steal_pointer (&r.out);
  *err = g_steal_pointer (&r.err);
  *status = r.status == 0 ? 0 : 1;
}

static void
test_json (void)
{
  g_autofree char *out = NULL, *err = NULL;
  int status;
  run_cli (NULL, "--json", &out, &err, &status);
  g_assert_cmpint (status, ==, 0);
  /* JSON Lines: one object per device */
  g_autoptr (GPtrArray) list = cli_test_json_lines (out);
  g_assert_cmpuint (list->len, >, 0);
  guint n_default = 0, n_vulkan = 0;
  for (guint i = 0; i < list->len; i++)
    {
      JsonObject *d = json_node_get_object (g_ptr_array_index (list, i));
      g_assert_cmpint (json_object_get_int_member (d, "version"), ==, 1);
      n_default += json_object_get_boolean_member (d, "default");
      /* the CPU engines come first (florence-device.h) */
      if (g_strcmp0 (json_object_get_string_member (d, "engine"), "vulkan") != 0)
        continue;
      g_assert_cmpint (json_object_get_int_member (d, "index"), ==, n_vulkan++);
      g_assert_cmpstr (json_object_get_string_member (d, "name"), !=, "");
      const char *type = json_object_get_string_member (d, "type");
      g_assert_true (g_strv_contains (
        (const char *const[]){ "discrete", "integrated", "virtual", "cpu", "other", NULL }, type));
      g_assert_true (json_object_has_member (d, "vulkan"));
      g_assert_true (json_object_has_member (d, "memory"));
      g_assert_true (json_object_has_member (d, "driver"));
    }
  g_assert_cmpuint (n_vulkan, >, 0);
  g_assert_cmpuint (n_default, ==, 1);
}

static void
test_text (void)
{
  g_autofree char *out = NULL, *err = NULL;
  int status;
  run_cli (NULL, NULL, &out, &err, &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_str_has_prefix (out, "* ") || strstr (out, "\n* ") != NULL);
  g_assert_nonnull (strstr (out, "Vulkan "));
}

static void
test_no_driver (void)
{
  const char *env[] = { "VK_DRIVER_FILES", "/nonexistent/depict-icd.json", "VK_ICD_FILENAMES",
                        "/nonexistent/depict-icd.json", NULL };
  g_autofree char *out = NULL, *err = NULL;
  int status;
  run_cli (env, "--json", &out, &err, &status);
  /* the CPU engines are still there; stderr says why no Vulkan device is */
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (err, "No Vulkan device was found"));
  g_assert_nonnull (strstr (err, "mesa-vulkan-drivers"));
  g_assert_nonnull (strstr (out, "\"cpu-reference\""));
  g_assert_null (strstr (out, "\"vulkan\""));
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  g_test_add_func ("/gpu/cli/devices-json", test_json);
  g_test_add_func ("/gpu/cli/devices-text", test_text);
  g_test_add_func ("/gpu/cli/no-driver", test_no_driver);
  return gpu_test_run ();
}
