/* test-cli-memory.c: short of memory, depict-cli says so in a sentence instead of crashing in the
 * Vulkan driver (lavapipe segfaults in vkCreateDevice or in LLVM under a tight address-space
 * limit) or claiming that there is no Vulkan device
 *
 * depict-cli runs under `ulimit -v` (a shell sets it). Not under AddressSanitizer, whose shadow
 * memory cannot live under such a limit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "cli/cli-test-util.h"
#include "test-sanitizers.h"

/* depict-cli ARGS under an address-space limit of limit_mb. */
static CliTestResult
run_limited (guint limit_mb, const char *args)
{
  g_autofree char *script =
    g_strdup_printf ("ulimit -v %u && exec \"$DEPICT_CLI\" %s", limit_mb * 1024, args);
  CliTestResult r = { 0 };
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "/bin/sh", "-c", script, NULL };
  int wait_status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &r.out, &r.err,
                &wait_status, &error);
  g_assert_no_error (error);
  r.status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
  g_test_message ("ulimit -v %u MB: %s → %d\n%s%s", limit_mb, args, r.status, r.out, r.err);
  return r;
}

static char *
run_args (const char *device)
{
  const char *data = g_getenv ("DEPICT_TEST_DATA");
  return g_strdup_printf ("run --model '%s/models/tiny' --tokenizer '%s/tokenizer' --device %s "
                          "--task '<CAPTION>' --max-new-tokens 4 --beams 1 --json "
                          "'%s/preprocess/images/small_37x101.png'",
                          data, data, device, data);
}

static void
test_vulkan_foreseen (void)
{
  g_autofree char *vulkan = run_args ("vulkan");
  g_autofree char *automatic = run_args ("auto");

#ifdef UNDER_ASAN
  g_test_skip ("AddressSanitizer cannot run under an address-space limit");
  return;
#endif
  /* Too little for a Vulkan driver, enough for the CPU engine. */
  {
    g_auto (CliTestResult) r = run_limited (400, vulkan);
    g_assert_cmpint (r.status, ==, 1);
    g_assert_nonnull (strstr (r.err, "memory"));
    g_assert_nonnull (strstr (r.err, "ulimit -v"));
  }
  {
    g_auto (CliTestResult) r = run_limited (400, automatic);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "\"text\""));
    g_assert_nonnull (strstr (r.out, "CPU"));
  }
}

/* So little that Vulkan cannot even load: memory, not "no device". */
static void
test_devices_short_of_memory (void)
{
#ifdef UNDER_ASAN
  g_test_skip ("AddressSanitizer cannot run under an address-space limit");
  return;
#endif
  g_auto (CliTestResult) r = run_limited (150, "devices");
  g_assert_null (strstr (r.out, "No Vulkan device"));
  g_assert_null (strstr (r.err, "No Vulkan device"));
  g_assert_nonnull (strstr (r.out, "cpu-reference"));
  if (strstr (r.err, "lack of memory") == NULL)
    g_test_message ("Vulkan started within 150 MB here");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/memory/vulkan-foreseen", test_vulkan_foreseen);
  g_test_add_func ("/cli/memory/devices", test_devices_short_of_memory);
  return g_test_run ();
}
