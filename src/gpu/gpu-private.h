/* gpu-private.h: internals shared by the runtime files of src/gpu (not for ops)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <vulkan/vulkan.h>

#include "gpu/gpu-buffer.h"
#include "gpu/gpu-device.h"
#include "gpu/gpu-recorder.h"

G_BEGIN_DECLS

typedef struct _GpuMemoryBlock GpuMemoryBlock;

struct _GpuPipeline {
  char *key;
  char *bindings;
  guint n_bindings;
  guint32 push_size;
  VkDescriptorSetLayout set_layout;
  VkPipelineLayout layout;
  VkPipeline pipeline;
};

struct _GpuDevice {
  gint ref_count;
  VkInstance instance;
  VkDebugUtilsMessengerEXT messenger;
  VkPhysicalDevice physical;
  VkDevice device;
  VkQueue queue;
  guint32 queue_family;
  float timestamp_period; /* ns per tick */
  guint32 timestamp_valid_bits;

  GpuDeviceInfo info;
  GpuDeviceLimits limits;
  guint64 own_storage_buffer_range; /* what the device reports, before a test lowers it */
  guint64 own_texel_buffer_elements;
  VkPhysicalDeviceMemoryProperties memory;
  guint32 device_memory_type;  /* for buffers */
  guint32 staging_memory_type; /* host visible + coherent (cached if possible) */
  gboolean device_memory_mapped;

  gboolean validation;
  gint validation_errors;

  PFN_vkCmdPushDescriptorSetKHR cmd_push_descriptor_set;

  GMutex lock; /* queue, allocator, pipelines, transfer command buffer, timings */
  GList *blocks;
  guint64 allocated;     /* bytes of the blocks */
  GHashTable *pipelines; /* key → GpuPipeline */

  VkPipelineCache pipeline_cache;
  char *pipeline_cache_path;
  gboolean pipeline_cache_loaded;
  gboolean pipeline_cache_dirty;

  VkCommandPool transfer_pool;
  VkCommandBuffer transfer_cmd;
  VkFence transfer_fence;

  gboolean timestamps;
  gboolean print_timings;
  GHashTable *timings; /* label → GpuTiming */
};

typedef struct {
  double total_ms;
  guint64 count;
} GpuTiming;

typedef struct {
  GpuMemoryBlock *block;
  VkDeviceMemory memory;
  VkDeviceSize offset;
  VkDeviceSize size;
  void *mapped; /* NULL unless the memory is host visible */
} GpuAllocation;

struct _GpuBuffer {
  GpuDevice *device;
  VkBuffer buffer;
  guint64 size;        /* as asked */
  guint64 padded_size; /* as created (views may round up to it) */
  GpuAllocation alloc;
  GHashTable *views; /* GpuViewKey → VkBufferView */
};

/* gpu-device.c */
typedef enum {
  GPU_COUNTER_VK_OBJECTS,
  GPU_COUNTER_SUBMISSIONS,
  GPU_COUNTER_BUFFERS,
  GPU_COUNTER_BUFFER_BYTES,
  GPU_N_COUNTERS,
} GpuCounter;
/* Adds @delta to a counter of gpu_counters_get(); thread-safe. */
void gpu_counter_add (GpuCounter counter, gint64 delta);
GError *gpu_error_from_vk (VkResult result, const char *what);
gboolean gpu_check_vk (VkResult result, const char *what, GError **error);
void gpu_device_add_timing (GpuDevice *device, const char *label, double ms);
/* A resettable command pool with one primary command buffer, and a fence (the caller
 * destroys the pool and the fence, also after a failure: handles not made stay NULL). */
gboolean gpu_device_new_commands (GpuDevice *device, VkCommandPool *pool, VkCommandBuffer *cmd,
                                  VkFence *fence, GError **error);

/* gpu-recorder.c: records without the automatic barriers, nor the one at the start of each
 * submission (tests show that synchronization validation reports what they prevent) */
void gpu_recorder_skip_barriers_for_testing (GpuRecorder *recorder);

/* gpu-buffer.c */
gboolean gpu_memory_alloc (GpuDevice *device, const VkMemoryRequirements *req, guint32 type_index,
                           GpuAllocation *out, GError **error);
void gpu_memory_free (GpuDevice *device, GpuAllocation *alloc);
void gpu_memory_free_all_blocks (GpuDevice *device);
/* Creates a host-visible staging buffer (its own allocation). */
gboolean gpu_staging_new (GpuDevice *device, guint64 size, VkBuffer *buffer, GpuAllocation *alloc,
                          GError **error);
void gpu_staging_free (GpuDevice *device, VkBuffer buffer, GpuAllocation *alloc);
VkBufferView gpu_buffer_get_view (GpuBuffer *buffer, GpuTexelFormat format, guint64 offset,
                                  guint64 range, GError **error);
VkFormat gpu_texel_format_to_vk (GpuTexelFormat format);

/* gpu-pipeline.c */
void gpu_pipeline_free (GpuDevice *device, GpuPipeline *pipeline);
void gpu_pipeline_cache_open (GpuDevice *device);
void gpu_pipeline_cache_close (GpuDevice *device);

G_END_DECLS
