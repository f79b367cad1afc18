/* florence-memory.h: whether an engine will find the memory it needs, asked before it starts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Allocation failures in Vulkan drivers are not always failures: under a tight address-space
 * limit (ulimit -v) Mesa's lavapipe crashes in vkCreateDevice or while compiling a pipeline. So
 * the engine choice compares what an engine will need (the weights, the working memory of
 * florence_config_estimate_working_bytes, and for Vulkan the driver's own share: LLVM and a
 * thread per core) with what the process may still have (physical memory and swap, and the
 * address space its limit leaves), and says so in a sentence before it calls Vulkan.
 */
#pragma once

#include "florence/engine/florence-engine.h"

G_BEGIN_DECLS

/* TRUE when an engine of kind (FLORENCE_DEVICE_VULKAN or FLORENCE_DEVICE_CPU_REFERENCE) is
 * expected to fit; else FALSE and a FLORENCE_ENGINE_ERROR_NO_MEMORY error that says how much it
 * needs and how much is left. */
gboolean florence_memory_check (FlorenceDeviceKind kind, const FlorenceConfig *config,
                                FlorenceCheckpoint *checkpoint, GError **error);

/* How many of `wanted` threads of the CPU engine may multiply at once under the address-space
 * limit, with working_bytes still to come: each thread inside OpenBLAS holds a buffer of its own
 * (128 MiB on x86-64), and OpenBLAS retries a refused mmap() forever, so a thread too many hangs
 * the process. `wanted` without a limit; at least 1, or 0 and a FLORENCE_ENGINE_ERROR_NO_MEMORY
 * error when not even one fits. */
guint florence_memory_cpu_threads (guint wanted, guint64 working_bytes, GError **error);

G_END_DECLS
