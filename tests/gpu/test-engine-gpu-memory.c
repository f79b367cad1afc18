/* test-engine-gpu-memory.c: a model that does not fit the GPU's free memory is refused before
 * anything is uploaded, with a sentence that says how much it needs and has, and what to do
 * (DEPICT_GPU_MEMORY_BUDGET pretends the device has only that much free); with the memory it
 * needs, the same model opens.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "florence/engine/florence-engine.h"
#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "gpu-test-util.h"

static FlorenceEngine *
open_tiny (const char *budget, GError **error)
{
  g_autofree char *dir = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", "tiny", NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (FlorenceConfig) config = florence_config_load (dir, &local);
  g_assert_no_error (local);
  g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (dir, config, &local);
  g_assert_no_error (local);
  if (budget != NULL)
    g_setenv ("DEPICT_GPU_MEMORY_BUDGET", budget, TRUE);
  else
    g_unsetenv ("DEPICT_GPU_MEMORY_BUDGET");
  FlorenceEngine *engine = florence_engine_gpu_new (config, NULL, ckpt, error);
  g_unsetenv ("DEPICT_GPU_MEMORY_BUDGET");
  return engine;
}

static void
test_refused (void)
{
  g_autoptr (GError) error = NULL;
  /* 4 MiB: half of what the tiny model needs */
  FlorenceEngine *engine = open_tiny ("4194304", &error);
  g_assert_null (engine);
  g_assert_error (error, GPU_ERROR, GPU_ERROR_OUT_OF_MEMORY);
  g_assert_nonnull (strstr (error->message, "which has 4 MB free"));
  g_assert_nonnull (strstr (error->message, "run it on the CPU"));
  g_test_message ("%s", error->message);
}

static void
test_fits (void)
{
  g_autoptr (GError) error = NULL;
  FlorenceEngine *engine = open_tiny (NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (engine);
  florence_engine_free (engine);
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  if (g_getenv ("DEPICT_TEST_DATA") == NULL)
    return 77;
  g_test_add_func ("/gpu/engine/memory/refused", test_refused);
  g_test_add_func ("/gpu/engine/memory/fits", test_fits);
  return gpu_test_run ();
}
