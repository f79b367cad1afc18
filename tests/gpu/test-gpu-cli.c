/* test-gpu-cli.c: `depict-cli devices` (text, JSON, and a machine without Vulkan drivers)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "gpu-test-util.h"

static void
run_cli (const char *const *extra_env, const char *arg, char **out, char **err, int *status)
{
  const char *cli = g_getenv ("DEPICT_CLI");
  g_assert_nonnull (cli);
  const char *argv[] = { cli, "devices", arg, NULL };
  g_auto (GStrv) envp = g_get_environ ();
  for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i += 2)
    envp = g_environ_setenv (envp, extra_env[i], extra_env[i + 1], TRUE);
  g_autoptr (GError) error = NULL;
  int wait = 0;
  g_assert_true (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                               &wait, &error));
  g_assert_no_error (error);
  *status = g_spawn_check_wait_status (wait, NULL) ? 0 : 1;
}

static void
test_json (void)
{
  g_autofree char *out = NULL, *err = NULL;
  int status;
  run_cli (NULL, "--json", &out, &err, &status);
  g_assert_cmpint (status, ==, 0);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  JsonArray *list = json_node_get_array (json_parser_get_root (parser));
  g_assert_nonnull (list);
  g_assert_cmpuint (json_array_get_length (list), >, 0);
  guint n_default = 0, n_vulkan = 0;
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *d = json_array_get_object_element (list, i);
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
