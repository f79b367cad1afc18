/* test-gpu-runtime.c: device choice and listing, buffers, dispatch, barriers, descriptor
 * fallback, large buffers, pipeline cache, timestamps, validation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "gpu-test-util.h"
#include "gpu/gpu-private.h"
#include "gpu/gpu-selftest.h"

static GpuBuffer *
upload_floats (GpuDevice *device, const float *data, gsize n)
{
  g_autoptr (GError) error = NULL;
  GpuBuffer *b = gpu_buffer_new_from_data (device, data, n * sizeof (float), &error);
  g_assert_no_error (error);
  return b;
}

static void
test_device_list (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = gpu_device_list (&error);
  g_assert_no_error (error);
  g_assert_nonnull (list);
  g_assert_cmpuint (list->len, >, 0);
  guint n_default = 0;
  for (guint i = 0; i < list->len; i++)
    {
      GpuDeviceInfo *info = list->pdata[i];
      g_assert_cmpuint (info->index, ==, i);
      g_assert_nonnull (info->name);
      g_assert_cmpstr (info->name, !=, "");
      g_assert_nonnull (info->api_version);
      g_assert_nonnull (info->driver_name);
      g_assert_cmpstr (gpu_device_type_to_string (info->type), !=, NULL);
      n_default += info->is_default;
      g_test_message ("%u: %s (%s) %s %s Vulkan %s, %" G_GUINT64_FORMAT " MiB", i, info->name,
                      gpu_device_type_to_string (info->type), info->driver_name, info->driver_info,
                      info->api_version, info->device_local_memory >> 20);
    }
  g_assert_cmpuint (n_default, ==, 1);

  /* the default device is the one the shared test device opened (no override set) */
  GpuDevice *device = gpu_test_device ();
  if (g_getenv ("DEPICT_VULKAN_DEVICE") == NULL)
    for (guint i = 0; i < list->len; i++)
      if (((GpuDeviceInfo *) list->pdata[i])->is_default)
        g_assert_cmpstr (((GpuDeviceInfo *) list->pdata[i])->name, ==,
                         gpu_device_get_info (device)->name);
}

static void
test_device_select (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = gpu_device_list (&error);
  g_assert_no_error (error);
  GpuDeviceInfo *last = list->pdata[list->len - 1];

  /* by index */
  g_autofree char *idx = g_strdup_printf ("%u", last->index);
  g_autoptr (GpuDevice) by_index = gpu_device_new_for_selector (idx, &error);
  if (last->usable)
    {
      g_assert_no_error (error);
      g_assert_cmpstr (gpu_device_get_info (by_index)->name, ==, last->name);
    }
  g_clear_error (&error);

  /* by case-insensitive name substring, through the environment variable */
  GpuDeviceInfo *usable = NULL;
  for (guint i = 0; i < list->len && usable == NULL; i++)
    if (((GpuDeviceInfo *) list->pdata[i])->usable)
      usable = list->pdata[i];
  g_assert_nonnull (usable);
  g_autofree char *upper = g_utf8_strup (usable->name, -1);
  g_autofree char *needle = g_strndup (upper + 1, MIN (strlen (upper) - 1, 6));
  g_setenv ("DEPICT_VULKAN_DEVICE", needle, TRUE);
  g_autoptr (GpuDevice) by_name = gpu_device_new (&error);
  g_unsetenv ("DEPICT_VULKAN_DEVICE");
  g_assert_no_error (error);
  g_autofree char *got = g_utf8_strup (gpu_device_get_info (by_name)->name, -1);
  g_assert_nonnull (strstr (got, needle));

  /* no match, bad index: clear errors, no device */
  g_autoptr (GpuDevice) none = gpu_device_new_for_selector ("no-such-device-xyz", &error);
  g_assert_null (none);
  g_assert_error (error, GPU_ERROR, GPU_ERROR_NO_DEVICE);
  g_assert_nonnull (strstr (error->message, "no-such-device-xyz"));
  g_clear_error (&error);
  g_autoptr (GpuDevice) none2 = gpu_device_new_for_selector ("99", &error);
  g_assert_null (none2);
  g_assert_error (error, GPU_ERROR, GPU_ERROR_NO_DEVICE);
}

/* A machine without any Vulkan driver: the loader finds no ICD. */
static void
test_no_device (void)
{
  if (g_test_subprocess ())
    {
      g_setenv ("VK_DRIVER_FILES", "/nonexistent/depict-test-icd.json", TRUE);
      g_setenv ("VK_ICD_FILENAMES", "/nonexistent/depict-test-icd.json", TRUE);
      g_autoptr (GError) error = NULL;
      g_autoptr (GpuDevice) device = gpu_device_new (&error);
      g_assert_null (device);
      g_assert_error (error, GPU_ERROR, GPU_ERROR_NO_DEVICE);
      g_assert_nonnull (strstr (error->message, "mesa-vulkan-drivers"));
      g_clear_error (&error);
      g_autoptr (GPtrArray) list = gpu_device_list (&error);
      g_assert_null (list);
      g_assert_error (error, GPU_ERROR, GPU_ERROR_NO_DEVICE);
      printf ("no-device-ok\n");
      return;
    }
  g_test_trap_subprocess (NULL, 30 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*no-device-ok*");
}

static void
test_half (void)
{
  const float values[] = {
    0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 6.103515625e-05f, 5.960464477539063e-08f, 0.333251953125f
  };
  const guint16 bits[] = { 0x0000, 0x8000, 0x3c00, 0xc100, 0x7bff, 0x0400, 0x0001, 0x3555 };
  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_assert_cmphex (gpu_half_from_float (values[i]), ==, bits[i]);
      g_assert_cmpfloat (gpu_half_to_float (bits[i]), ==, values[i]);
    }
  g_assert_cmphex (gpu_half_from_float (1e6f), ==, 0x7c00);                 /* overflow → inf */
  g_assert_cmphex (gpu_half_from_float (1.0f + 1.0f / 2048), ==, 0x3c00);   /* tie → even */
  g_assert_cmphex (gpu_half_from_float (1.0f + 3.0f / 2048), ==, 0x3c02);   /* tie → even */
  g_assert_true (gpu_half_to_float (0x7e00) != gpu_half_to_float (0x7e00)); /* NaN */
  /* every half survives a round trip */
  for (guint32 h = 0; h < 0x10000; h++)
    if ((h & 0x7c00) != 0x7c00 || (h & 0x3ff) == 0)
      g_assert_cmphex (gpu_half_from_float (gpu_half_to_float ((guint16) h)), ==, h);
}

static void
check_roundtrip (GpuDevice *device)
{
  g_autoptr (GError) error = NULL;
  const gsize n = 100003;
  g_autofree float *data = gpu_test_random (n, 1, -1, 1);
  g_autoptr (GpuBuffer) buf = upload_floats (device, data, n);
  g_assert_cmpuint (gpu_buffer_get_size (buf), ==, n * 4);
  g_autofree float *back = g_new0 (float, n);
  g_assert_true (gpu_buffer_download (buf, 0, back, n * 4, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (back, n * 4, data, n * 4);
  /* partial, unaligned */
  float patch[3] = { 7, 8, 9 };
  g_assert_true (gpu_buffer_upload (buf, 4 * 1001, patch, sizeof patch, &error));
  float got[5];
  g_assert_true (gpu_buffer_download (buf, 4 * 1000, got, sizeof got, &error));
  g_assert_cmpfloat (got[0], ==, data[1000]);
  g_assert_cmpfloat (got[1], ==, 7);
  g_assert_cmpfloat (got[3], ==, 9);
  g_assert_cmpfloat (got[4], ==, data[1004]);
  /* out of range: an error, not a crash */
  g_assert_false (gpu_buffer_download (buf, n * 4 - 4, got, 8, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
}

static void
test_buffer_roundtrip (void)
{
  check_roundtrip (gpu_test_device ());
}

/* The same through staging copies (the path of discrete GPUs). */
static void
test_buffer_staging (void)
{
  g_autoptr (GError) error = NULL;
  g_setenv ("DEPICT_GPU_NO_UNIFIED_MEMORY", "1", TRUE);
  g_autoptr (GpuDevice) device = gpu_device_new (&error);
  g_unsetenv ("DEPICT_GPU_NO_UNIFIED_MEMORY");
  g_assert_no_error (error);
  g_assert_false (gpu_device_get_limits (device)->unified_memory);
  check_roundtrip (device);
  gpu_test_assert_validation_clean (device);
}

static void
test_allocator (void)
{
  GpuDevice *device = gpu_test_device ();
  g_autoptr (GError) error = NULL;
  /* many small buffers in shared blocks, freed in a scattered order, then reused */
  GpuBuffer *bufs[200];
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    {
      bufs[i] = gpu_buffer_new (device, 1000 + 37 * i, &error);
      g_assert_no_error (error);
      guint32 tag[2] = { i, ~i };
      g_assert_true (gpu_buffer_upload (bufs[i], 0, tag, sizeof tag, &error));
    }
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i += 2)
    g_clear_pointer (&bufs[i], gpu_buffer_free);
  for (guint i = 1; i < G_N_ELEMENTS (bufs); i += 2)
    {
      guint32 tag[2];
      g_assert_true (gpu_buffer_download (bufs[i], 0, tag, sizeof tag, &error));
      g_assert_cmpuint (tag[0], ==, i);
      g_assert_cmpuint (tag[1], ==, ~i);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i += 2)
    {
      bufs[i] = gpu_buffer_new (device, 5000, &error);
      g_assert_no_error (error);
    }
  for (guint i = 1; i < G_N_ELEMENTS (bufs); i += 2)
    {
      guint32 tag[2];
      g_assert_true (gpu_buffer_download (bufs[i], 0, tag, sizeof tag, &error));
      g_assert_cmpuint (tag[0], ==, i);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bufs); i++)
    gpu_buffer_free (bufs[i]);
}

static void
test_dispatch (void)
{
  GpuDevice *device = gpu_test_device ();
  g_autoptr (GError) error = NULL;
  const guint n = 1000;
  g_autofree float *x = gpu_test_random (n + 8, 2, -1, 1);
  g_autofree float *y = gpu_test_random (n + 8, 3, -1, 1);
  g_autoptr (GpuBuffer) bx = upload_floats (device, x, n + 8);
  g_autoptr (GpuBuffer) by = upload_floats (device, y, n + 8);
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
  g_assert_no_error (error);
  /* odd element offsets exercise the aligned-window + shift binding */
  gpu_selftest_axpy (rec, bx, 3, by, 5, n, 2.0f, -1.0f, 0.5f);
  g_autofree float *got = g_new0 (float, n + 8);
  gpu_recorder_download (rec, by, 0, got, (n + 8) * 4);
  gpu_test_submit (rec);
  for (guint i = 0; i < n + 8; i++)
    {
      float want = (i >= 5 && i < n + 5) ? 2.0f * x[i - 5 + 3] - y[i] + 0.5f : y[i];
      g_assert_cmpfloat_with_epsilon (got[i], want, 1e-6);
    }
  /* an empty submit is fine */
  gpu_test_submit (rec);
}

/* A chain of dependent commands in one submission: every step reads what the one before
 * wrote (RAW), writes what an earlier one read (WAR), and mixes transfers and dispatches. */
static void
check_chain (GpuDevice *device, guint steps)
{
  g_autoptr (GError) error = NULL;
  const guint n = 4099;
  g_autofree float *a = g_new0 (float, n);
  for (guint i = 0; i < n; i++)
    a[i] = (float) (i % 7);
  g_autoptr (GpuBuffer) ba = gpu_buffer_new (device, n * 4, &error);
  g_autoptr (GpuBuffer) bb = gpu_buffer_new (device, n * 4, &error);
  g_autoptr (GpuBuffer) bc = gpu_buffer_new (device, n * 4, &error);
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
  g_assert_no_error (error);

  gpu_recorder_upload (rec, ba, 0, a, n * 4); /* transfer → compute */
  gpu_recorder_fill (rec, bb, 0, n * 4, 0);   /* b = 0 */
  for (guint s = 0; s < steps; s++)
    {
      gpu_selftest_axpy (rec, ba, 0, bb, 0, n, 1.0f, 1.0f, 1.0f); /* b += a + 1 */
      gpu_selftest_axpy (rec, bb, 0, ba, 0, n, 0.0f, 1.0f, 1.0f); /* a += 1 (after the read) */
    }
  gpu_recorder_copy (rec, bb, 0, bc, 0, n * 4);               /* compute → transfer */
  gpu_selftest_axpy (rec, bc, 0, bc, 0, n, 0.0f, 2.0f, 0.0f); /* transfer → compute */
  g_autofree float *got = g_new0 (float, n);
  gpu_recorder_download (rec, bc, 0, got, n * 4); /* compute → transfer → host */
  g_assert_cmpuint (gpu_recorder_get_n_commands (rec), ==, 2 * steps + 5);
  gpu_test_submit (rec);

  for (guint i = 0; i < n; i++)
    {
      /* step s adds a0 + s + 1 */
      double a0 = i % 7, want = 0;
      for (guint s = 0; s < steps; s++)
        want += a0 + s + 1;
      g_assert_cmpfloat (got[i], ==, (float) (2 * want));
    }
}

static void
test_barrier_chain (void)
{
  check_chain (gpu_test_device (), 60);
}

/* Without VK_KHR_push_descriptor: descriptor pools, more sets than one pool holds. */
static void
test_descriptor_fallback (void)
{
  g_autoptr (GError) error = NULL;
  g_setenv ("DEPICT_GPU_NO_PUSH_DESCRIPTORS", "1", TRUE);
  g_autoptr (GpuDevice) device = gpu_device_new (&error);
  g_unsetenv ("DEPICT_GPU_NO_PUSH_DESCRIPTORS");
  g_assert_no_error (error);
  g_assert_false (gpu_device_get_limits (device)->push_descriptors);
  check_chain (device, 200);
  check_chain (device, 3); /* the recorder and pools are reused */
  gpu_test_assert_validation_clean (device);
}

/* A buffer beyond maxStorageBufferRange (128 MiB on lavapipe): bound by windows. */
static void
test_large_buffer (void)
{
  GpuDevice *device = gpu_test_device ();
  g_autoptr (GError) error = NULL;
  const guint64 limit = gpu_device_get_limits (device)->max_storage_buffer_range;
  if (limit > ((guint64) 1 << 30))
    {
      g_test_skip ("the device binds more than 1 GiB per storage buffer");
      return;
    }
  const guint64 size = limit + ((guint64) 8 << 20);
  g_autoptr (GpuBuffer) big = gpu_buffer_new (device, size, &error);
  g_assert_no_error (error);
  const guint n = 1 << 16;
  g_autofree float *x = gpu_test_random (n, 4, -1, 1);
  g_autofree float *head = g_new0 (float, n);
  for (guint i = 0; i < n; i++)
    head[i] = (float) i;
  guint64 hi = (size - (guint64) n * 4) / 4 - 3; /* an element offset past the limit */
  g_assert_cmpuint (hi * 4, >, limit);

  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
  gpu_recorder_upload (rec, big, 0, head, n * 4);
  gpu_recorder_upload (rec, big, hi * 4, x, n * 4);
  /* y (at hi) = 3·x(at 0) + y: reads the low window, writes the high one */
  gpu_selftest_axpy (rec, big, 0, big, hi, n, 3.0f, 1.0f, 0.0f);
  g_autofree float *got = g_new0 (float, n);
  gpu_recorder_download (rec, big, hi * 4, got, n * 4);
  gpu_test_submit (rec);
  for (guint i = 0; i < n; i++)
    g_assert_cmpfloat_with_epsilon (got[i], 3.0f * i + x[i], 1e-3);

  /* A binding larger than the limit is refused with an error (ops must split). */
  GpuBinding whole[2] = { { big, 0, 0, GPU_TEXEL_NONE }, { big, 0, 0, GPU_TEXEL_NONE } };
  const guint32 spec[] = { 64 };
  GpuPipelineDesc desc = { "runtime_axpy", "rw", 24, spec, 1 };
  GpuPipeline *p = gpu_device_get_pipeline (device, &desc, &error);
  g_assert_no_error (error);
  guint32 push[6] = { 1, 0, 0, 0, 0, 0 };
  gpu_recorder_dispatch (rec, p, "too-big", 1, 1, 1, whole, push);
  g_assert_true (gpu_recorder_has_error (rec));
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* and the recorder works again afterwards */
  gpu_recorder_download (rec, big, hi * 4, got, 4);
  gpu_test_submit (rec);
  g_assert_cmpfloat_with_epsilon (got[0], x[0], 1e-3);
}

static void
test_bad_binding (void)
{
  GpuDevice *device = gpu_test_device ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GpuBuffer) buf = gpu_buffer_new (device, 4096, &error);
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
  const guint32 spec[] = { 64 };
  GpuPipelineDesc desc = { "runtime_axpy", "rw", 24, spec, 1 };
  GpuPipeline *p = gpu_device_get_pipeline (device, &desc, &error);
  g_assert_no_error (error);
  GpuBinding b[2] = { { buf, 4, 64, GPU_TEXEL_NONE }, { buf, 1024, 64, GPU_TEXEL_NONE } };
  if (gpu_device_get_limits (device)->min_storage_buffer_offset_alignment > 4)
    {
      gpu_recorder_dispatch (rec, p, "misaligned", 1, 1, 1, b, NULL);
      g_assert_false (gpu_recorder_submit (rec, NULL, &error));
      g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  b[0].offset = 0;
  b[1].size = 8192; /* past the end */
  gpu_recorder_dispatch (rec, p, "past-end", 1, 1, 1, b, NULL);
  g_assert_false (gpu_recorder_submit (rec, NULL, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* unknown shader */
  GpuPipelineDesc bad = { "no_such_shader", "r", 0, NULL, 0 };
  g_assert_null (gpu_device_get_pipeline (device, &bad, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* cancelled before submit */
  g_autoptr (GCancellable) cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  gpu_recorder_fill (rec, buf, 0, 16, 0);
  g_assert_false (gpu_recorder_submit (rec, cancel, &error));
  g_assert_error (error, GPU_ERROR, GPU_ERROR_CANCELLED);
}

static gboolean
read_header (const char *path, guint32 *vendor, guint32 *devid)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents (path, &data, &len, NULL) || len < 32)
    return FALSE;
  guint32 hsize, version;
  memcpy (&hsize, data, 4);
  memcpy (&version, data + 4, 4);
  memcpy (vendor, data + 8, 4);
  memcpy (devid, data + 12, 4);
  return hsize >= 32 && version == 1;
}

/* Runs in a subprocess with its own XDG_CACHE_HOME, so that other tests running in parallel
 * cannot touch the file between the steps. */
static void
test_pipeline_cache (void)
{
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  g_autoptr (GError) error = NULL;
  g_autofree char *home = g_dir_make_tmp ("depict-test-cache-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("XDG_CACHE_HOME", home, TRUE);
  const guint32 spec[] = { 32 };
  GpuPipelineDesc desc = { "runtime_axpy", "rw", 24, spec, 1 };
  g_autofree char *path = NULL;

  {
    g_autoptr (GpuDevice) first = gpu_device_new (&error);
    g_assert_no_error (error);
    path = g_strdup (gpu_device_get_pipeline_cache_path (first));
    g_assert_true (g_str_has_prefix (path, home));
    g_assert_nonnull (strstr (path, "/depict/pipeline-cache-"));
    g_assert_nonnull (gpu_device_get_pipeline (first, &desc, &error));
    /* a fresh start: remove what earlier runs left, then close → saves */
    g_unlink (path);
  }
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  guint32 vendor = 0, devid = 0;
  g_assert_true (read_header (path, &vendor, &devid));

  {
    g_autoptr (GpuDevice) second = gpu_device_new (&error);
    g_assert_no_error (error);
    g_assert_true (gpu_device_pipeline_cache_was_loaded (second));
    g_assert_cmpuint (vendor, ==, gpu_device_get_info (second)->vendor_id);
    g_assert_cmpuint (devid, ==, gpu_device_get_info (second)->device_id);
    g_assert_nonnull (gpu_device_get_pipeline (second, &desc, &error));
  }

  /* a corrupt file is ignored, not fatal, and replaced on the next save */
  g_assert_true (
    g_file_set_contents (path, "garbage that is not a pipeline cache header", -1, &error));
  {
    g_autoptr (GpuDevice) third = gpu_device_new (&error);
    g_assert_no_error (error);
    g_assert_false (gpu_device_pipeline_cache_was_loaded (third));
    g_assert_nonnull (gpu_device_get_pipeline (third, &desc, &error));
    g_assert_true (gpu_device_save_pipeline_cache (third, &error));
    g_assert_no_error (error);
  }
  g_assert_true (read_header (path, &vendor, &devid));

  g_autofree char *dir = g_path_get_dirname (path);
  g_unlink (path);
  g_rmdir (dir);
  g_rmdir (home);
}

static void
test_timestamps (void)
{
  GpuDevice *device = gpu_test_device ();
  if (!gpu_device_get_limits (device)->timestamps)
    {
      g_test_skip ("the device has no compute timestamps");
      return;
    }
  gpu_device_reset_timings (device);
  gpu_device_set_timestamps (device, TRUE);
  check_chain (device, 5);
  gpu_device_set_timestamps (device, FALSE);
  g_autofree char *table = gpu_device_get_timings_table (device);
  g_assert_nonnull (table);
  g_test_message ("%s", table);
  g_assert_nonnull (strstr (table, "axpy"));
  g_assert_nonnull (strstr (table, "   11 ")); /* 2·5 + 1 axpy dispatches */
  gpu_device_reset_timings (device);
  g_assert_null (gpu_device_get_timings_table (device));
}

static void
test_validation (void)
{
  GpuDevice *device = gpu_test_device ();
  const char *env = g_getenv ("DEPICT_VULKAN_VALIDATION");
  gboolean layer = g_file_test (
    "/usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json", G_FILE_TEST_EXISTS);
  if (env != NULL && strcmp (env, "1") == 0 && layer)
    g_assert_true (gpu_device_validation_enabled (device));
  if (!gpu_device_validation_enabled (device))
    g_test_message ("validation layer not active here");
  gpu_test_assert_validation_clean (device);
}

/* A deliberate API misuse: a buffer of 0 bytes. */
static void
provoke_api_misuse (GpuDevice *device)
{
  VkBufferCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = 0, /* invalid: must be greater than 0 */
    .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
  };
  VkBuffer buffer = VK_NULL_HANDLE;
  if (vkCreateBuffer (device->device, &info, NULL, &buffer) == VK_SUCCESS)
    vkDestroyBuffer (device->device, buffer, NULL);
}

/* A hazard: a dispatch that reads what the one before it wrote, recorded without the recorder's
 * barriers. (The same across two submissions, without the barrier each starts with, is none to
 * Debian 12's layer, 1.3.239: it counts the fence wait between them as a dependency.) */
static void
provoke_hazard (GpuDevice *device)
{
  g_autoptr (GError) error = NULL;
  const guint n = 1024;
  g_autofree float *x = gpu_test_random (n, 7, -1, 1);
  g_autoptr (GpuBuffer) bx = gpu_buffer_new_from_data (device, x, n * 4, &error);
  g_autoptr (GpuBuffer) by = gpu_buffer_new_from_data (device, x, n * 4, &error);
  g_autoptr (GpuBuffer) bz = gpu_buffer_new_from_data (device, x, n * 4, &error);
  g_assert_no_error (error);
  g_autoptr (GpuRecorder) rec = gpu_recorder_new (device, &error);
  g_assert_no_error (error);
  gpu_recorder_skip_barriers_for_testing (rec);
  gpu_selftest_axpy (rec, bx, 0, by, 0, n, 2.0f, 1.0f, 0.0f); /* writes y */
  gpu_selftest_axpy (rec, by, 0, bz, 0, n, 2.0f, 1.0f, 0.0f); /* reads y */
  g_assert_true (gpu_recorder_submit (rec, NULL, &error));
  g_assert_no_error (error);
}

/* The validation layer is really on, with synchronization validation (@data: "hazard", else an
 * API misuse): what is provoked is counted, and closing the device then fails the program (a
 * critical, fatal under g_test). */
static void
test_validation_detects (gconstpointer data)
{
  const gboolean hazard = g_strcmp0 (data, "hazard") == 0;
  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      GpuDevice *device = gpu_device_new (&error);
      g_assert_no_error (error);
      if (!gpu_device_validation_enabled (device))
        {
          printf ("validation-off\n");
          gpu_device_unref (device);
          return;
        }
      if (hazard)
        provoke_hazard (device);
      else
        provoke_api_misuse (device);
      printf ("errors=%u\n", gpu_device_get_validation_errors (device));
      fflush (stdout);
      gpu_device_unref (device); /* critical → abort */
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  if (g_test_trap_has_passed ())
    {
      g_test_trap_assert_stdout ("*validation-off*");
      g_test_skip ("the validation layer is not active here");
      return;
    }
  g_test_trap_assert_failed ();
  g_test_trap_assert_stdout_unmatched ("*errors=0*");
  g_test_trap_assert_stderr ("*validation layer reported*");
  if (hazard)
    g_test_trap_assert_stderr ("*SYNC-HAZARD-READ*AFTER*WRITE*");
}

int
main (int argc, char **argv)
{
  gpu_test_init (&argc, &argv);
  g_test_add_func ("/gpu/half", test_half);
  g_test_add_func ("/gpu/device/list", test_device_list);
  g_test_add_func ("/gpu/device/select", test_device_select);
  g_test_add_func ("/gpu/device/none", test_no_device);
  g_test_add_func ("/gpu/buffer/roundtrip", test_buffer_roundtrip);
  g_test_add_func ("/gpu/buffer/staging", test_buffer_staging);
  g_test_add_func ("/gpu/buffer/allocator", test_allocator);
  g_test_add_func ("/gpu/buffer/large", test_large_buffer);
  g_test_add_func ("/gpu/recorder/dispatch", test_dispatch);
  g_test_add_func ("/gpu/recorder/barrier-chain", test_barrier_chain);
  g_test_add_func ("/gpu/recorder/descriptor-fallback", test_descriptor_fallback);
  g_test_add_func ("/gpu/recorder/bad-binding", test_bad_binding);
  g_test_add_func ("/gpu/recorder/timestamps", test_timestamps);
  g_test_add_func ("/gpu/pipeline-cache", test_pipeline_cache);
  g_test_add_func ("/gpu/validation", test_validation);
  g_test_add_data_func ("/gpu/validation/detects-errors", "misuse", test_validation_detects);
  g_test_add_data_func ("/gpu/validation/detects-hazards", "hazard", test_validation_detects);
  return gpu_test_run ();
}
