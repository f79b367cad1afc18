/* gpu-test-util.h: what the GPU tests (test-gpu-*.c, test-op-*.c) share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "gpu/gpu.h"

G_BEGIN_DECLS

/* g_test_init, plus DEPICT_VULKAN_VALIDATION=1 unless the environment says otherwise (the
 * device enables the layer only when it is installed). */
void gpu_test_init (int *argc, char ***argv);

/* The process-wide device, opened on first use. NULL (and the reason printed) when this
 * machine has no Vulkan device: main() then returns 77 so meson counts a skip. */
GpuDevice *gpu_test_device (void);

/* Registers @func twice, as /kernels-cpu@path and /kernels-gpu@path: each run switches the
 * shared device to that kernel set first (gpu_device_set_kernels), so every op is tested with
 * the variants of both sets on whatever device this is. */
void gpu_test_add_kernel_sets (const char *path, GTestFunc func);

/* The kernel set of the test that runs now (the device's). */
GpuKernelSet gpu_test_kernels (void);

/* Runs the tests, then fails (returns 1) if the validation layer reported any error, and
 * closes the device. Returns 77 when there is no device. */
int gpu_test_run (void);

/* Fails the current test if the device's validation layer reported errors so far. */
void gpu_test_assert_validation_clean (GpuDevice *device);

/* n uniform floats in [lo, hi) from @seed (reproducible). */
float *gpu_test_random (gsize n, guint32 seed, float lo, float hi);

/* Buffers of the shared device holding @data as fp32, or rounded to fp16 (then @data itself
 * is rounded in place so the reference sees the same values). */
GpuBuffer *gpu_test_upload (const float *data, gsize n);
GpuBuffer *gpu_test_upload_f16 (float *data, gsize n);
GpuBuffer *gpu_test_upload_bytes (const void *data, gsize bytes);
/* An uninitialized fp32 buffer of n values on the shared device. */
GpuBuffer *gpu_test_buffer (gsize n);
float *gpu_test_download (GpuBuffer *buffer, gsize n);

/* A recorder on the shared device; submit asserts success and a clean validation layer
 * (on the recorder's device). */
GpuRecorder *gpu_test_recorder (void);
void gpu_test_submit (GpuRecorder *recorder);

/* Asserts |got[i] − want[i]| ≤ rtol · scale[i] + atol for every i, where scale is the
 * magnitude the error is relative to (e.g. Σ|a·w| for a dot product; NULL: |want[i]|).
 * Where either side is NaN or infinite, both must be the same (NaN matches NaN).
 * Reports the worst case with g_test_message. */
void gpu_test_assert_close (const char *what, const float *got, const float *want,
                            const float *scale, gsize n, double rtol, double atol);

/* Seconds since the last call (for the messages of the real-shape cases). */
double gpu_test_lap (void);

G_END_DECLS
