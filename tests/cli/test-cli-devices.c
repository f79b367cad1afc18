/* test-cli-devices.c: `depict-cli devices`, and one device name for run and tag
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs depict-cli. The listing itself is checked in
 * tests/gpu/test-gpu-cli.c (Vulkan entries, no driver) and tests/florence/engine/test-device.c
 * (the parser); here: run and tag read --device the same way, and a name that matches nothing,
 * on the command line or in the environment, stops the command with the list of devices.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "cli/cli-test-util.h"

/* env: NULL-terminated name, value pairs; DEPICT_DEVICE and DEPICT_VULKAN_DEVICE are unset
 * unless env sets them */
static CliTestResult
run_cli (const char *const *env, const char *const *args)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  const char *unset[] = { "DEPICT_DEVICE", NULL, "DEPICT_VULKAN_DEVICE", NULL };

  for (guint i = 0; i < G_N_ELEMENTS (unset); i++)
    g_ptr_array_add (all, (gpointer) unset[i]);
  for (guint i = 0; env != NULL && env[i] != NULL; i++)
    g_ptr_array_add (all, (gpointer) env[i]);
  g_ptr_array_add (all, NULL);
  return cli_test_run (args, (const char *const *) all->pdata, NULL);
}

static char *
data_path (const char *a, const char *b, const char *c)
{
  return g_build_filename (g_getenv ("DEPICT_TEST_DATA"), a, b, c, NULL);
}

/* the ids `depict-cli devices --json` lists */
static GPtrArray *
device_ids (void)
{
  const char *args[] = { "devices", "--json", NULL };
  CliTestResult r = run_cli (NULL, args);
  g_assert_cmpint (r.status, ==, 0);
  g_autoptr (GPtrArray) list = cli_test_json_lines (r.out);
  GPtrArray *ids = g_ptr_array_new_with_free_func (g_free);
  guint n_default = 0, n_cpu = 0;
  for (guint i = 0; i < list->len; i++)
    {
      JsonObject *d = json_node_get_object (g_ptr_array_index (list, i));
      g_ptr_array_add (ids, g_strdup (json_object_get_string_member (d, "id")));
      g_assert_cmpstr (json_object_get_string_member (d, "description"), !=, "");
      n_default += json_object_get_boolean_member (d, "default");
      const char *engine = json_object_get_string_member (d, "engine");
      if (g_strcmp0 (engine, "vulkan") != 0)
        g_assert_cmpint (json_object_get_int_member (d, "threads"), >=, 1);
      /* the CPU engine names its BLAS, in its own member and in its description */
      if (g_strcmp0 (engine, "cpu") == 0)
        {
          const char *blas = json_object_get_string_member_with_default (d, "blas", "");
          g_assert_true (g_str_has_prefix (blas, "OpenBLAS "));
          g_assert_nonnull (strstr (json_object_get_string_member (d, "description"), blas));
          n_cpu++;
        }
    }
  g_assert_cmpuint (n_default, ==, 1);
  g_assert_cmpuint (n_cpu, ==, 1);
  g_assert_true (g_ptr_array_find_with_equal_func (ids, "cpu-reference", g_str_equal, NULL));
  cli_test_result_clear (&r);
  return ids;
}

static void
assert_lists_devices (const CliTestResult *r, GPtrArray *ids, const char *name)
{
  g_assert_cmpint (r->status, !=, 0);
  g_assert_cmpstr (r->out, ==, "");
  g_assert_nonnull (strstr (r->err, name));
  for (guint i = 0; i < ids->len; i++)
    g_assert_nonnull (strstr (r->err, ids->pdata[i]));
}

static void
test_unknown_device (void)
{
  g_autoptr (GPtrArray) ids = device_ids ();
  g_autofree char *model = data_path ("models", "tiny", NULL);
  g_autofree char *tokenizer = data_path ("tokenizer", NULL, NULL);
  g_autofree char *image = data_path ("preprocess", "images", "photo_640x480.png");
  g_autofree char *db = g_build_filename (g_get_tmp_dir (), "depict-test-devices.db", NULL);

  const char *run[] = {
    "run", "--model", model, "--tokenizer", tokenizer, "--device", "no-such-device-xyz",
    "-t",  "caption", image, NULL
  };
  CliTestResult r = run_cli (NULL, run);
  assert_lists_devices (&r, ids, "no-such-device-xyz");
  cli_test_result_clear (&r);

  const char *tag[] = { "tag", "--db", db, "--device", "no-such-device-xyz", image, NULL };
  r = run_cli (NULL, tag);
  assert_lists_devices (&r, ids, "no-such-device-xyz");
  cli_test_result_clear (&r);

  /* the environment: never a quiet fallback to another device */
  const char *auto_run[] = { "run", "--model", model, "--tokenizer", tokenizer,
                             "-t",  "caption", image, NULL };
  const char *env_vulkan[] = { "DEPICT_VULKAN_DEVICE", "no-such-device-xyz", NULL };
  r = run_cli (env_vulkan, auto_run);
  assert_lists_devices (&r, ids, "no-such-device-xyz");
  g_assert_nonnull (strstr (r.err, "DEPICT_VULKAN_DEVICE"));
  cli_test_result_clear (&r);

  const char *env_device[] = { "DEPICT_DEVICE", "no-such-device-xyz", NULL };
  r = run_cli (env_device, auto_run);
  assert_lists_devices (&r, ids, "no-such-device-xyz");
  g_assert_nonnull (strstr (r.err, "DEPICT_DEVICE"));
  cli_test_result_clear (&r);
}

/* Every listed name is accepted by run and tag alike (tag used to refuse device names). The
 * model is left out, so that nothing runs: the command stops at the model, after the device. */
static void
test_listed_names_accepted (void)
{
  g_autoptr (GPtrArray) ids = device_ids ();
  g_autofree char *image = data_path ("preprocess", "images", "photo_640x480.png");
  g_autofree char *db = g_build_filename (g_get_tmp_dir (), "depict-test-devices.db", NULL);
  g_autofree char *nowhere = g_build_filename (g_get_tmp_dir (), "depict-no-such-model", NULL);
  for (guint i = 0; i < ids->len; i++)
    {
      const char *run[] = { "run", "--model", nowhere, "--device", ids->pdata[i],
                            "-t",  "caption", image,   NULL };
      const char *tag[] = { "tag",      "--db",        db,    "--model", nowhere,
                            "--device", ids->pdata[i], image, NULL };
      const char *const *cmds[] = { run, tag };
      for (guint c = 0; c < G_N_ELEMENTS (cmds); c++)
        {
          CliTestResult r = run_cli (NULL, cmds[c]);
          g_assert_cmpint (r.status, !=, 0);
          g_assert_null (strstr (r.err, "no device here"));
          g_assert_nonnull (strstr (r.err, "depict-no-such-model"));
          cli_test_result_clear (&r);
        }
    }
  g_remove (db);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (g_getenv ("DEPICT_TEST_DATA"));
  g_test_add_func ("/cli/devices/unknown-device", test_unknown_device);
  g_test_add_func ("/cli/devices/listed-names-accepted", test_listed_names_accepted);
  return g_test_run ();
}
