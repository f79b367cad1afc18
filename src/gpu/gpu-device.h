/* gpu-device.h: Vulkan instance, device choice, device listing, limits, pipelines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GPU_ERROR (gpu_error_quark ())

typedef enum {
  GPU_ERROR_NO_DEVICE,        /* no Vulkan driver or no usable device */
  GPU_ERROR_UNSUPPORTED,      /* the device lacks something an op needs */
  GPU_ERROR_OUT_OF_MEMORY,    /* host or device memory exhausted */
  GPU_ERROR_DEVICE_LOST,      /* the driver reset or lost the device */
  GPU_ERROR_INVALID_ARGUMENT, /* an op or buffer call got sizes/offsets that do not fit */
  GPU_ERROR_CANCELLED,
  GPU_ERROR_FAILED, /* any other Vulkan failure */
} GpuError;

GQuark gpu_error_quark (void);

/* The address space this process may still map under its limit (ulimit -v, RLIMIT_AS), or
 * G_MAXUINT64 without a limit. Vulkan drivers need GPU_MIN_ADDRESS_SPACE to start (lavapipe
 * loads LLVM and starts a thread per core); Mesa may crash rather than fail below that. */
guint64 gpu_address_space_left (void);
#define GPU_MIN_ADDRESS_SPACE ((guint64) 512 << 20)

typedef enum {
  GPU_DEVICE_TYPE_OTHER,
  GPU_DEVICE_TYPE_INTEGRATED,
  GPU_DEVICE_TYPE_DISCRETE,
  GPU_DEVICE_TYPE_VIRTUAL,
  GPU_DEVICE_TYPE_CPU,
} GpuDeviceType;

/* One physical device, as gpu_device_list() reports it. */
typedef struct {
  guint index; /* enumeration order: the index DEPICT_VULKAN_DEVICE takes */
  char *name;  /* "llvmpipe (LLVM 15.0.6, 256 bits)" */
  GpuDeviceType type;
  char *driver_name; /* "llvmpipe", "NVIDIA", … (may be empty) */
  char *driver_info; /* "Mesa 22.3.6 (LLVM 15.0.6)" (may be empty) */
  char *api_version; /* "1.3.230" */
  guint32 vendor_id;
  guint32 device_id;
  guint32 driver_version;      /* raw, vendor-specific encoding */
  guint64 device_local_memory; /* bytes: the largest device-local heap */
  gboolean usable;             /* Vulkan ≥ 1.2 with what Depict needs */
  gboolean is_default;         /* the device gpu_device_new() picks without an override */
} GpuDeviceInfo;

void gpu_device_info_free (GpuDeviceInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GpuDeviceInfo, gpu_device_info_free)

/* "discrete", "integrated", "virtual", "cpu" or "other" (not translated: for JSON). */
const char *gpu_device_type_to_string (GpuDeviceType type);
/* The same, translated, for the UI: "Discrete GPU", "Integrated GPU", … */
const char *gpu_device_type_to_label (GpuDeviceType type);

/* Lists the Vulkan devices. Returns a GPtrArray of GpuDeviceInfo (free function set), in
 * enumeration order; GPU_ERROR_NO_DEVICE when there is no Vulkan driver or device. */
GPtrArray *gpu_device_list (GError **error);

/* Which kernels the ops run: the ones written for CPU Vulkan devices (texel-buffer GEMM, one
 * 8-lane subgroup per workgroup, few workgroups), or the ones for GPUs (shared-memory tiles,
 * wide workgroups, subgroup reductions, matrix-vector products). DEPICT_GPU_KERNELS=cpu|gpu
 * forces one set on any device (tests run the GPU set on lavapipe); "auto" or unset: the CPU set
 * on CPU devices, the GPU set elsewhere. */
typedef enum {
  GPU_KERNELS_CPU,
  GPU_KERNELS_GPU,
} GpuKernelSet;

/* "cpu" or "gpu". */
const char *gpu_kernel_set_to_string (GpuKernelSet set);

/* What the device offers; ops pick their variant from these (never from the name). */
typedef struct {
  guint64 max_storage_buffer_range;  /* bytes one storage binding may span */
  guint64 max_texel_buffer_elements; /* texels one texel-buffer view may span */
  guint64 min_storage_buffer_offset_alignment;
  guint64 min_texel_buffer_offset_alignment;
  guint32 max_push_constants_size;
  guint32 max_shared_memory_size;
  guint32 max_workgroup_invocations;
  guint32 max_workgroup_size[3];
  guint32 max_workgroup_count[3];
  guint32 subgroup_size;
  gboolean subgroup_arithmetic; /* subgroupAdd etc. in compute shaders */
  gboolean subgroup_shuffle;
  gboolean subgroup_ballot;           /* subgroupBroadcast etc. */
  gboolean fp16_storage;              /* storageBuffer16BitAccess */
  gboolean fp16_arithmetic;           /* shaderFloat16 */
  gboolean texel_r32f, texel_rgba32f; /* uniform texel buffer formats */
  gboolean texel_r16f, texel_rgba16f;
  gboolean push_descriptors; /* VK_KHR_push_descriptor in use */
  gboolean unified_memory;   /* device memory is mapped: no staging copies */
  gboolean timestamps;       /* compute-queue timestamps */
  gboolean is_cpu;           /* a software rasterizer (lavapipe, SwiftShader) */
  GpuKernelSet kernels;      /* the kernel set the ops choose (see GpuKernelSet) */
  gboolean memory_budget;    /* VK_EXT_memory_budget in use */
  /* GFLOP of work one submission should hold at most, about 0.1 s on the slowest device of
   * its type (work that runs for seconds in one submission stalls a desktop, and drivers reset
   * GPUs over it): discrete GPUs 500, integrated, virtual and others 40, CPU devices 4.
   * DEPICT_GPU_SUBMISSION_GFLOP overrides it (0: a submission per unit of work). */
  double submission_gflop;
} GpuDeviceLimits;

typedef struct _GpuDevice GpuDevice;

/* Opens the preferred device: discrete > integrated > virtual > CPU, unless the environment
 * variable DEPICT_VULKAN_DEVICE names one (an index of gpu_device_list() or a
 * case-insensitive substring of its name). DEPICT_VULKAN_VALIDATION=1 turns on the
 * Khronos validation layer when installed; DEPICT_GPU_TIMESTAMPS=1 times each dispatch. */
GpuDevice *gpu_device_new (GError **error);
/* The same with an explicit selector (NULL or "" = automatic; overrides the environment). */
GpuDevice *gpu_device_new_for_selector (const char *selector, GError **error);

GpuDevice *gpu_device_ref (GpuDevice *device);
void gpu_device_unref (GpuDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GpuDevice, gpu_device_unref)

const GpuDeviceInfo *gpu_device_get_info (GpuDevice *device);
const GpuDeviceLimits *gpu_device_get_limits (GpuDevice *device);

/* Number of validation-layer errors reported since the device was opened (0 when
 * validation is off). gpu_device_validation_enabled() says whether the layer is active. */
guint gpu_device_get_validation_errors (GpuDevice *device);
gboolean gpu_device_validation_enabled (GpuDevice *device);

/* Pipeline cache file: its path, whether a valid file was read at open, saving it now
 * (also done by the last unref when new pipelines were built). */
const char *gpu_device_get_pipeline_cache_path (GpuDevice *device);
gboolean gpu_device_pipeline_cache_was_loaded (GpuDevice *device);
gboolean gpu_device_save_pipeline_cache (GpuDevice *device, GError **error);

/* Per-op GPU time (DEPICT_GPU_TIMESTAMPS=1 or gpu_device_set_timestamps()): a table of
 * op label, total ms, count, share; NULL when nothing was timed. Printed to stderr at the
 * last unref when the environment variable is set. */
void gpu_device_set_timestamps (GpuDevice *device, gboolean enabled);
char *gpu_device_get_timings_table (GpuDevice *device);
void gpu_device_reset_timings (GpuDevice *device);

/* Bytes of device memory Depict may still allocate for buffers on @device: the budget of the
 * heap its buffers come from minus that heap's usage (VK_EXT_memory_budget, which counts other
 * programs too), or without the extension the heap's size minus what Depict holds.
 * DEPICT_GPU_MEMORY_BUDGET=BYTES lowers it (to test what happens on small GPUs). */
guint64 gpu_device_get_memory_available (GpuDevice *device);

/* What Depict has asked of Vulkan in this process so far, all devices together: tests and
 * benchmarks read them to see that a decoder step creates nothing, how large the buffers of a
 * run are, or how many submissions the vision tower took. */
typedef struct {
  guint64 vk_objects;   /* vkCreate* and vkAllocate* calls: buffers, memory, views, command
                         * pools and buffers, fences, descriptor pools and sets, pipelines */
  guint64 submissions;  /* vkQueueSubmit calls */
  guint64 buffers;      /* GpuBuffers alive */
  guint64 buffer_bytes; /* their sizes, as asked */
} GpuCounters;

void gpu_counters_get (GpuCounters *counters);

/* Switches the kernel set of an open device (tests run every op with both sets on one device;
 * pipelines of both stay cached). */
void gpu_device_set_kernels (GpuDevice *device, GpuKernelSet kernels);

/* Test hook: sets limits->submission_gflop (tests compare work cut into many submissions with
 * the same work in one). */
void gpu_device_set_submission_gflop (GpuDevice *device, double gflop);

/* Test hook: lowers max_storage_buffer_range and max_texel_buffer_elements (in bytes / 16)
 * so tests can exercise the splitting of large tensors with small ones; 0 gives the device its
 * own limits back (a test that shares its device with others, and with them its compiled
 * pipelines, lowers them for a while). */
void gpu_device_limit_binding_range_for_testing (GpuDevice *device, guint64 max_bytes);

/* ------------------------------------------------------------------------------------- */
/* Pipelines                                                                              */

typedef struct _GpuPipeline GpuPipeline;

/* A compute pipeline. @bindings has one character per descriptor binding 0, 1, …:
 *   'r' storage buffer the shader only reads      (std430 readonly buffer)
 *   'w' storage buffer the shader writes (or reads and writes)
 *   't' uniform texel buffer, read                (samplerBuffer / textureBuffer)
 * Specialization constants are 32-bit, constant_id 0 … n_spec-1 in order (local sizes via
 * local_size_x_id too). @push_size: bytes of push constants (≤ 128, multiple of 4). */
typedef struct {
  const char *shader; /* name from shaders/meson.build */
  const char *bindings;
  guint32 push_size;
  const guint32 *spec;
  guint n_spec;
} GpuPipelineDesc;

/* Returns the pipeline for @desc, built on first use and cached by the device (the device
 * owns it; valid until the device is freed). Thread-safe. */
GpuPipeline *gpu_device_get_pipeline (GpuDevice *device, const GpuPipelineDesc *desc,
                                      GError **error);

G_END_DECLS
