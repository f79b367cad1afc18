/* test-op-common.h: what the op tests (test-op-*.c) share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "gpu/gpu-buffer.h"
#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

/* The device every test of the process uses (opened by test_op_init). */
extern GpuDevice *test_op_device;

/* gpu_test_init + gpu_test_device (gpu-test-util.h); returns FALSE when there is no
 * device (the caller returns 77 so meson counts the test as skipped). */
gboolean test_op_init (int *argc, char ***argv);
/* gpu_test_run: the tests, then the validation-layer check; closes the device. */
int test_op_run (void);

/* n uniform random floats in [lo, hi) from a fixed seed (reproducible). */
float *test_op_random (gsize n, guint32 seed, float lo, float hi);

/* Device buffers holding @data as fp32, or rounded to fp16 (then @data itself is rounded in
 * place so the reference sees the same values). */
GpuBuffer *test_op_upload (const float *data, gsize n);
GpuBuffer *test_op_upload_f16 (float *data, gsize n);
GpuBuffer *test_op_upload_bytes (const void *data, gsize bytes);
/* An uninitialized fp32 buffer of n values. */
GpuBuffer *test_op_buffer (gsize n);
float *test_op_download (GpuBuffer *buffer, gsize n);

/* A recorder; submit asserts success. */
GpuRecorder *test_op_recorder (void);
void test_op_submit (GpuRecorder *recorder);

/* Asserts |got − want| ≤ atol + rtol·|want| for all i (NaN and inf must match exactly);
 * prints the worst error with g_test_message. */
void test_op_assert_close (const char *what, const float *got, const float *want, gsize n,
                           double atol, double rtol);

/* Seconds since the last call (for the messages of the real-shape cases). */
double test_op_lap (void);

G_END_DECLS
