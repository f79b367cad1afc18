/* florence-memory.c: whether an engine will find the memory it needs, asked before it starts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-memory.h"

#include <glib/gi18n.h>
#include <string.h>

#include "gpu/gpu-device.h"

/* What a Vulkan driver maps for itself, measured with lavapipe (LLVM, and per thread a stack and
 * a malloc arena): 772 MB of address space on 2 cores for the tiny model. */
#define VULKAN_BASE_ADDRESS_SPACE ((guint64) 512 << 20)
#define VULKAN_PER_CORE_ADDRESS_SPACE ((guint64) 128 << 20)
/* The CPU engine's threads, code and the rest of the process. */
#define CPU_BASE_ADDRESS_SPACE ((guint64) 256 << 20)
/* OpenBLAS's buffer per thread that multiplies (BUFFER_SIZE, 32 << 22 on x86-64), and a margin
 * for the thread's stack and malloc arena. */
#define CPU_BLAS_THREAD_ADDRESS_SPACE ((guint64) (128 + 16) << 20)

/* MemAvailable + SwapFree, or G_MAXUINT64 when /proc/meminfo cannot be read. */
static guint64
physical_left (void)
{
  g_autofree char *meminfo = NULL;
  guint64 total = 0;
  static const char *const keys[] = { "\nMemAvailable:", "\nSwapFree:" };

  if (!g_file_get_contents ("/proc/meminfo", &meminfo, NULL, NULL))
    return G_MAXUINT64;
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      const char *line = strstr (meminfo, keys[i]);
      if (line == NULL)
        return G_MAXUINT64;
      total += g_ascii_strtoull (line + strlen (keys[i]), NULL, 10) * 1024;
    }
  return total;
}

gboolean
florence_memory_check (FlorenceDeviceKind kind, const FlorenceConfig *config,
                       FlorenceCheckpoint *checkpoint, GError **error)
{
  guint64 weights, working, physical_need, address_need, physical, address;

  g_return_val_if_fail (config != NULL && checkpoint != NULL, FALSE);

  weights = florence_checkpoint_get_n_bytes (checkpoint);
  working = florence_config_estimate_working_bytes (config, config->image_size,
                                                    (guint) MAX (config->num_beams, 1));
  if (kind == FLORENCE_DEVICE_VULKAN)
    {
      /* lavapipe's device memory is host memory; a GPU's is staged through it */
      physical_need = weights + working;
      address_need = weights + working + VULKAN_BASE_ADDRESS_SPACE +
                     VULKAN_PER_CORE_ADDRESS_SPACE * g_get_num_processors ();
    }
  else
    {
      /* the CPU engine computes in fp32: up to twice the fp16 weights */
      physical_need = 2 * weights + working;
      address_need = physical_need + CPU_BASE_ADDRESS_SPACE;
    }
  physical = physical_left ();
  address = gpu_address_space_left ();
  if (address < address_need)
    {
      g_autofree char *need = g_format_size (address_need);
      g_autofree char *left = g_format_size (address);
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_NO_MEMORY,
                   kind == FLORENCE_DEVICE_VULKAN
                     ? _ ("Not enough memory to run the model with Vulkan: it needs about %s, and "
                          "this process may use only %s more (its address-space limit, “ulimit "
                          "-v”). Raise the limit, or run on the CPU.")
                     : _ ("Not enough memory to run the model on the CPU: it needs about %s, and "
                          "this process may use only %s more (its address-space limit, “ulimit "
                          "-v”). Raise the limit, or choose a smaller model."),
                   need, left);
      return FALSE;
    }
  if (physical < physical_need)
    {
      g_autofree char *need = g_format_size (physical_need);
      g_autofree char *left = g_format_size (physical);
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_NO_MEMORY,
                   _ ("Not enough memory to run the model: it needs about %s, and only %s is "
                      "free. Close other programs, or choose a smaller model."),
                   need, left);
      return FALSE;
    }
  return TRUE;
}

guint
florence_memory_cpu_threads (guint wanted, guint64 working_bytes, GError **error)
{
  guint64 left = gpu_address_space_left ();
  guint64 fit;

  g_return_val_if_fail (wanted > 0, 0);

  if (left == G_MAXUINT64)
    return wanted;
  fit = left > working_bytes ? (left - working_bytes) / CPU_BLAS_THREAD_ADDRESS_SPACE : 0;
  if (fit == 0)
    {
      g_autofree char *need = g_format_size (working_bytes + CPU_BLAS_THREAD_ADDRESS_SPACE);
      g_autofree char *have = g_format_size (left);
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_NO_MEMORY,
                   _ ("Not enough memory to run the model on the CPU: it needs about %s, and "
                      "this process may use only %s more (its address-space limit, “ulimit "
                      "-v”). Raise the limit, or choose a smaller model."),
                   need, have);
      return 0;
    }
  return (guint) MIN (fit, (guint64) wanted);
}
