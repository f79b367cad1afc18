/* gpu-recorder.c: batches dispatches and copies into one command buffer, tracks which
 * buffer ranges earlier commands wrote or read and inserts the barriers that are needed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file of this length: tracking which ranges earlier commands wrote or read and the barriers
 * that follow must see every command recorded.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <string.h>

#include "gpu/gpu-private.h"

#define STAGING_CHUNK_MIN ((guint64) 1 << 20)
#define MAX_TIMED_DISPATCHES 4096
#define SETS_PER_POOL 256

typedef struct {
  VkBuffer buffer;
  guint64 begin, end;
} Range;

typedef struct {
  VkBuffer buffer;
  GpuAllocation alloc;
  guint64 size;
  guint64 used;
} StagingChunk;

typedef struct {
  void *dst;
  StagingChunk *chunk;
  guint64 offset;
  guint64 size;
} Readback;

struct _GpuRecorder {
  GpuDevice *device;
  VkCommandPool pool;
  VkCommandBuffer cmd;
  VkFence fence;
  gboolean recording;
  guint n_commands;
  GError *error;

  /* Accesses since the last barrier. */
  GArray *writes; /* Range */
  GArray *reads;  /* Range */
  VkPipelineStageFlags write_stages;
  VkPipelineStageFlags read_stages;

  GPtrArray *staging; /* StagingChunk */
  GArray *readbacks;  /* Readback */

  GPtrArray *desc_pools; /* VkDescriptorPool (fallback path) */
  guint desc_pool_used;  /* sets used in the last pool */

  VkQueryPool queries;
  guint n_timed;
  GPtrArray *timed_labels;

  gboolean keep; /* the next submit keeps its recording (gpu_recorder_keep) */
  gboolean kept; /* a recording is kept for gpu_recorder_replay */

  gboolean no_barriers; /* gpu_recorder_skip_barriers_for_testing */
};

static void
take_error (GpuRecorder *self, GError *error)
{
  if (self->error == NULL)
    self->error = error;
  else
    g_error_free (error);
}

void
gpu_recorder_take_error (GpuRecorder *self, GError *error)
{
  g_return_if_fail (self != NULL && error != NULL);
  take_error (self, error);
}

gboolean
gpu_recorder_has_error (GpuRecorder *self)
{
  g_return_val_if_fail (self != NULL, TRUE);
  return self->error != NULL;
}

GpuDevice *
gpu_recorder_get_device (GpuRecorder *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->device;
}

guint
gpu_recorder_get_n_commands (GpuRecorder *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_commands;
}

GpuRecorder *
gpu_recorder_new (GpuDevice *device, GError **error)
{
  g_return_val_if_fail (device != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GpuRecorder) self = g_new0 (GpuRecorder, 1);
  self->device = gpu_device_ref (device);
  self->writes = g_array_new (FALSE, FALSE, sizeof (Range));
  self->reads = g_array_new (FALSE, FALSE, sizeof (Range));
  self->readbacks = g_array_new (FALSE, FALSE, sizeof (Readback));
  self->staging = g_ptr_array_new ();
  self->desc_pools = g_ptr_array_new ();
  self->timed_labels = g_ptr_array_new_with_free_func (g_free);

  if (!gpu_device_new_commands (device, &self->pool, &self->cmd, &self->fence, error))
    return NULL;
  return g_steal_pointer (&self);
}

void
gpu_recorder_free (GpuRecorder *self)
{
  if (self == NULL)
    return;
  GpuDevice *device = self->device;
  VkDevice dev = device->device;
  if (self->recording)
    {
      vkEndCommandBuffer (self->cmd);
      self->recording = FALSE;
    }
  for (guint i = 0; i < self->staging->len; i++)
    {
      StagingChunk *c = self->staging->pdata[i];
      gpu_staging_free (device, c->buffer, &c->alloc);
      g_free (c);
    }
  g_ptr_array_unref (self->staging);
  for (guint i = 0; i < self->desc_pools->len; i++)
    vkDestroyDescriptorPool (dev, (VkDescriptorPool) self->desc_pools->pdata[i], NULL);
  g_ptr_array_unref (self->desc_pools);
  if (self->queries != VK_NULL_HANDLE)
    vkDestroyQueryPool (dev, self->queries, NULL);
  g_ptr_array_unref (self->timed_labels);
  if (self->fence != VK_NULL_HANDLE)
    vkDestroyFence (dev, self->fence, NULL);
  if (self->pool != VK_NULL_HANDLE)
    vkDestroyCommandPool (dev, self->pool, NULL);
  g_array_unref (self->writes);
  g_array_unref (self->reads);
  g_array_unref (self->readbacks);
  g_clear_error (&self->error);
  gpu_device_unref (device);
  g_free (self);
}

static gboolean run_submission (GpuRecorder *self, GError **error);
static void reset_state (GpuRecorder *self);

static gboolean
ensure_recording (GpuRecorder *self)
{
  if (self->error != NULL)
    return FALSE;
  if (self->recording)
    return TRUE;
  if (self->kept)
    gpu_recorder_discard (self);
  VkCommandBufferBeginInfo begin = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = self->keep ? 0 : VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  VkResult res = vkBeginCommandBuffer (self->cmd, &begin);
  if (res != VK_SUCCESS)
    {
      take_error (self, gpu_error_from_vk (res, "vkBeginCommandBuffer"));
      return FALSE;
    }
  self->recording = TRUE;
  /* Every submission starts after the writes of the ones before it are visible: the queue
   * orders submissions, but only a barrier orders their memory accesses (the vision tower →
   * encoder → decoder steps chain reads what the previous submission wrote). */
  VkMemoryBarrier mb = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT |
                     VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
  };
  const VkPipelineStageFlags stages =
    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  if (!self->no_barriers)
    vkCmdPipelineBarrier (self->cmd, stages, stages, 0, 1, &mb, 0, NULL, 0, NULL);
  if (self->device->timestamps)
    {
      if (self->queries == VK_NULL_HANDLE)
        {
          VkQueryPoolCreateInfo qi = {
            .sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO,
            .queryType = VK_QUERY_TYPE_TIMESTAMP,
            .queryCount = 2 * MAX_TIMED_DISPATCHES,
          };
          gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
          if (vkCreateQueryPool (self->device->device, &qi, NULL, &self->queries) != VK_SUCCESS)
            self->queries = VK_NULL_HANDLE;
        }
      if (self->queries != VK_NULL_HANDLE)
        vkCmdResetQueryPool (self->cmd, self->queries, 0, 2 * MAX_TIMED_DISPATCHES);
    }
  return TRUE;
}

static gboolean
overlaps (GArray *ranges, const Range *r)
{
  for (guint i = 0; i < ranges->len; i++)
    {
      const Range *x = &g_array_index (ranges, Range, i);
      if (x->buffer == r->buffer && x->begin < r->end && r->begin < x->end)
        return TRUE;
    }
  return FALSE;
}

static VkAccessFlags
access_for_stages (VkPipelineStageFlags stages, gboolean write)
{
  VkAccessFlags a = 0;
  if (stages & VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT)
    a |= write ? VK_ACCESS_SHADER_WRITE_BIT : VK_ACCESS_SHADER_READ_BIT;
  if (stages & VK_PIPELINE_STAGE_TRANSFER_BIT)
    a |= write ? VK_ACCESS_TRANSFER_WRITE_BIT : VK_ACCESS_TRANSFER_READ_BIT;
  if (stages & VK_PIPELINE_STAGE_HOST_BIT)
    a |= write ? VK_ACCESS_HOST_WRITE_BIT : VK_ACCESS_HOST_READ_BIT;
  return a;
}

/* Emits one global memory barrier from everything since the last barrier to every later
 * command, and forgets the tracked accesses. The barrier covers both stages the recorder uses
 * whatever command comes next: a write forgotten here may be read by a later command of the
 * other stage (a transfer after two dispatches), which synchronization validation reports. */
static void
emit_barrier (GpuRecorder *self, VkPipelineStageFlags dst_stage)
{
  dst_stage |= VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT;
  VkPipelineStageFlags src = self->write_stages | self->read_stages;
  if (src == 0)
    src = VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT;
  VkMemoryBarrier mb = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = access_for_stages (self->write_stages, TRUE),
    .dstAccessMask = access_for_stages (dst_stage, FALSE) | access_for_stages (dst_stage, TRUE),
  };
  vkCmdPipelineBarrier (self->cmd, src, dst_stage, 0, 1, &mb, 0, NULL, 0, NULL);
  g_array_set_size (self->writes, 0);
  g_array_set_size (self->reads, 0);
  self->write_stages = 0;
  self->read_stages = 0;
}

/* Declares the accesses of the next command: inserts a barrier when it reads what an
 * earlier command wrote, or writes what an earlier one read or wrote. */
static void
track (GpuRecorder *self, const Range *reads, guint n_reads, const Range *writes, guint n_writes,
       VkPipelineStageFlags stage)
{
  gboolean need = FALSE;
  for (guint i = 0; i < n_reads && !need; i++)
    need = overlaps (self->writes, &reads[i]);
  for (guint i = 0; i < n_writes && !need; i++)
    need = overlaps (self->writes, &writes[i]) || overlaps (self->reads, &writes[i]);
  if (need && !self->no_barriers)
    emit_barrier (self, stage);
  if (n_reads > 0)
    {
      g_array_append_vals (self->reads, reads, n_reads);
      self->read_stages |= stage;
    }
  if (n_writes > 0)
    {
      g_array_append_vals (self->writes, writes, n_writes);
      self->write_stages |= stage;
    }
}

void
gpu_recorder_barrier (GpuRecorder *self)
{
  g_return_if_fail (self != NULL);
  if (!ensure_recording (self))
    return;
  emit_barrier (self, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT);
}

static gboolean
check_binding (GpuRecorder *self, GpuPipeline *p, guint i, const GpuBinding *b, Range *range)
{
  const GpuDeviceLimits *lim = &self->device->limits;
  char kind = p->bindings[i];
  if (b->buffer == NULL)
    {
      take_error (self, g_error_new (GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                                     "Binding %u of a dispatch of %s has no buffer.", i, p->key));
      return FALSE;
    }
  guint64 size = b->size != 0                  ? b->size
                 : b->offset < b->buffer->size ? b->buffer->size - b->offset
                                               : 0;
  gboolean texel = kind == 't';
  guint64 align =
    texel ? lim->min_texel_buffer_offset_alignment : lim->min_storage_buffer_offset_alignment;
  guint64 limit = texel
                    ? lim->max_texel_buffer_elements * MAX (gpu_texel_format_size (b->format), 1)
                    : lim->max_storage_buffer_range;
  if (texel && b->format == GPU_TEXEL_NONE)
    {
      take_error (self,
                  g_error_new (GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                               "Binding %u of %s is a texel buffer without a format.", i, p->key));
      return FALSE;
    }
  if (b->offset % align != 0 || size == 0 || b->offset + size > b->buffer->padded_size ||
      size > limit)
    {
      take_error (
        self, g_error_new (GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                           _ ("A GPU op bound %" PRIu64 " bytes at offset %" PRIu64 " of a %" PRIu64
                              "-byte buffer (binding %u of %s; alignment %" PRIu64
                              ", limit %" PRIu64 "). This is a bug in Depict; "
                              "please report it."),
                           size, b->offset, b->buffer->size, i, p->key, align, limit));
      return FALSE;
    }
  range->buffer = b->buffer->buffer;
  range->begin = b->offset;
  range->end = b->offset + size;
  return TRUE;
}

static VkDescriptorSet
alloc_descriptor_set (GpuRecorder *self, GpuPipeline *p)
{
  VkDevice dev = self->device->device;
  if (self->desc_pools->len == 0 || self->desc_pool_used >= SETS_PER_POOL)
    {
      VkDescriptorPoolSize sizes[2] = {
        { VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, SETS_PER_POOL * 8 },
        { VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, SETS_PER_POOL * 8 },
      };
      VkDescriptorPoolCreateInfo pi = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO,
        .maxSets = SETS_PER_POOL,
        .poolSizeCount = 2,
        .pPoolSizes = sizes,
      };
      VkDescriptorPool pool;
      gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
      VkResult res = vkCreateDescriptorPool (dev, &pi, NULL, &pool);
      if (res != VK_SUCCESS)
        {
          take_error (self, gpu_error_from_vk (res, "vkCreateDescriptorPool"));
          return VK_NULL_HANDLE;
        }
      g_ptr_array_add (self->desc_pools, pool);
      self->desc_pool_used = 0;
    }
  VkDescriptorSetAllocateInfo ai = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO,
    .descriptorPool = self->desc_pools->pdata[self->desc_pools->len - 1],
    .descriptorSetCount = 1,
    .pSetLayouts = &p->set_layout,
  };
  VkDescriptorSet set;
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  VkResult res = vkAllocateDescriptorSets (dev, &ai, &set);
  if (res != VK_SUCCESS)
    {
      take_error (self, gpu_error_from_vk (res, "vkAllocateDescriptorSets"));
      return VK_NULL_HANDLE;
    }
  self->desc_pool_used++;
  return set;
}

void
gpu_recorder_dispatch (GpuRecorder *self, GpuPipeline *p, const char *label, guint32 gx, guint32 gy,
                       guint32 gz, const GpuBinding *bindings, const void *push)
{
  g_return_if_fail (self != NULL);
  if (p == NULL)
    {
      if (self->error == NULL)
        take_error (self,
                    g_error_new (GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                                 "A dispatch of %s has no pipeline.", label != NULL ? label : "?"));
      return;
    }
  if (!ensure_recording (self))
    return;
  if (gx == 0 || gy == 0 || gz == 0)
    return;
  const GpuDeviceLimits *lim = &self->device->limits;
  if (gx > lim->max_workgroup_count[0] || gy > lim->max_workgroup_count[1] ||
      gz > lim->max_workgroup_count[2])
    {
      take_error (self, g_error_new (GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                                     "A dispatch of %s asks for %u×%u×%u workgroups, more than "
                                     "the device allows.",
                                     p->key, gx, gy, gz));
      return;
    }

  guint n = p->n_bindings;
  g_autofree Range *ranges = g_new0 (Range, MAX (n, 1));
  g_autofree Range *reads = g_new0 (Range, MAX (n, 1));
  g_autofree Range *writes = g_new0 (Range, MAX (n, 1));
  g_autofree VkWriteDescriptorSet *w = g_new0 (VkWriteDescriptorSet, MAX (n, 1));
  g_autofree VkDescriptorBufferInfo *bi = g_new0 (VkDescriptorBufferInfo, MAX (n, 1));
  g_autofree VkBufferView *views = g_new0 (VkBufferView, MAX (n, 1));
  guint n_reads = 0, n_writes = 0;

  for (guint i = 0; i < n; i++)
    {
      if (!check_binding (self, p, i, &bindings[i], &ranges[i]))
        return;
      if (p->bindings[i] == 'w')
        writes[n_writes++] = ranges[i];
      else
        reads[n_reads++] = ranges[i];

      w[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
      w[i].dstBinding = i;
      w[i].descriptorCount = 1;
      if (p->bindings[i] == 't')
        {
          guint ts = gpu_texel_format_size (bindings[i].format);
          guint64 range = (ranges[i].end - ranges[i].begin + ts - 1) / ts * ts;
          if (bindings[i].offset + range > bindings[i].buffer->padded_size)
            range -= ts;
          GError *error = NULL;
          views[i] = gpu_buffer_get_view (bindings[i].buffer, bindings[i].format,
                                          bindings[i].offset, range, &error);
          if (views[i] == VK_NULL_HANDLE)
            {
              take_error (self, error);
              return;
            }
          w[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
          w[i].pTexelBufferView = &views[i];
        }
      else
        {
          bi[i].buffer = ranges[i].buffer;
          bi[i].offset = ranges[i].begin;
          bi[i].range = ranges[i].end - ranges[i].begin;
          w[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
          w[i].pBufferInfo = &bi[i];
        }
    }

  track (self, reads, n_reads, writes, n_writes, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT);

  vkCmdBindPipeline (self->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
  if (n > 0)
    {
      if (lim->push_descriptors)
        self->device->cmd_push_descriptor_set (self->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout,
                                               0, n, w);
      else
        {
          VkDescriptorSet set = alloc_descriptor_set (self, p);
          if (set == VK_NULL_HANDLE)
            return;
          for (guint i = 0; i < n; i++)
            w[i].dstSet = set;
          vkUpdateDescriptorSets (self->device->device, n, w, 0, NULL);
          vkCmdBindDescriptorSets (self->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set,
                                   0, NULL);
        }
    }
  if (p->push_size > 0 && push != NULL)
    vkCmdPushConstants (self->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_size, push);

  gboolean timed = self->queries != VK_NULL_HANDLE && self->n_timed < MAX_TIMED_DISPATCHES;
  if (timed)
    vkCmdWriteTimestamp (self->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, self->queries,
                         2 * self->n_timed);
  vkCmdDispatch (self->cmd, gx, gy, gz);
  if (timed)
    {
      vkCmdWriteTimestamp (self->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, self->queries,
                           2 * self->n_timed + 1);
      g_ptr_array_add (self->timed_labels, g_strdup (label != NULL ? label : p->key));
      self->n_timed++;
    }
  self->n_commands++;
}

static gboolean
check_copy_range (GpuRecorder *self, GpuBuffer *buf, guint64 offset, guint64 size)
{
  if (buf == NULL || offset > buf->size || size > buf->size - offset || size % 4 != 0 ||
      offset % 4 != 0)
    {
      take_error (self, g_error_new (GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                                     _ ("A GPU copy of %" PRIu64 " bytes at offset %" PRIu64
                                        " does not fit its buffer. This is a "
                                        "bug in Depict; please report it."),
                                     size, offset));
      return FALSE;
    }
  return TRUE;
}

/* Space in a staging chunk (host visible); NULL on error. */
static StagingChunk *
staging_reserve (GpuRecorder *self, guint64 size, guint64 *offset)
{
  size = (size + 15) / 16 * 16;
  for (guint i = 0; i < self->staging->len; i++)
    {
      StagingChunk *c = self->staging->pdata[i];
      if (c->size - c->used >= size)
        {
          *offset = c->used;
          c->used += size;
          return c;
        }
    }
  StagingChunk *c = g_new0 (StagingChunk, 1);
  c->size = MAX (size, STAGING_CHUNK_MIN);
  GError *error = NULL;
  if (!gpu_staging_new (self->device, c->size, &c->buffer, &c->alloc, &error))
    {
      g_free (c);
      take_error (self, error);
      return NULL;
    }
  g_ptr_array_add (self->staging, c);
  *offset = 0;
  c->used = size;
  return c;
}

void
gpu_recorder_upload (GpuRecorder *self, GpuBuffer *dst, guint64 offset, const void *data,
                     guint64 size)
{
  g_return_if_fail (self != NULL);
  if (size == 0 || !ensure_recording (self) || !check_copy_range (self, dst, offset, size))
    return;
  guint64 soff = 0;
  StagingChunk *c = staging_reserve (self, size, &soff);
  if (c == NULL)
    return;
  memcpy ((char *) c->alloc.mapped + soff, data, size);
  Range w = { dst->buffer, offset, offset + size };
  track (self, NULL, 0, &w, 1, VK_PIPELINE_STAGE_TRANSFER_BIT);
  VkBufferCopy region = { soff, offset, size };
  vkCmdCopyBuffer (self->cmd, c->buffer, dst->buffer, 1, &region);
  self->n_commands++;
}

void *
gpu_recorder_upload_slot (GpuRecorder *self, GpuBuffer *dst, guint64 offset, guint64 size)
{
  g_return_val_if_fail (self != NULL, NULL);
  if (size == 0 || !ensure_recording (self) || !check_copy_range (self, dst, offset, size))
    return NULL;
  guint64 soff = 0;
  StagingChunk *c = staging_reserve (self, size, &soff);
  if (c == NULL)
    return NULL;
  Range w = { dst->buffer, offset, offset + size };
  track (self, NULL, 0, &w, 1, VK_PIPELINE_STAGE_TRANSFER_BIT);
  VkBufferCopy region = { soff, offset, size };
  vkCmdCopyBuffer (self->cmd, c->buffer, dst->buffer, 1, &region);
  self->n_commands++;
  return (char *) c->alloc.mapped + soff;
}

void
gpu_recorder_download (GpuRecorder *self, GpuBuffer *src, guint64 offset, void *dst, guint64 size)
{
  g_return_if_fail (self != NULL);
  if (size == 0 || !ensure_recording (self) || !check_copy_range (self, src, offset, size))
    return;
  guint64 soff = 0;
  StagingChunk *c = staging_reserve (self, size, &soff);
  if (c == NULL)
    return;
  Range r = { src->buffer, offset, offset + size };
  track (self, &r, 1, NULL, 0, VK_PIPELINE_STAGE_TRANSFER_BIT);
  VkBufferCopy region = { offset, soff, size };
  vkCmdCopyBuffer (self->cmd, src->buffer, c->buffer, 1, &region);
  Readback rb = { dst, c, soff, size };
  g_array_append_val (self->readbacks, rb);
  self->n_commands++;
}

void
gpu_recorder_copy (GpuRecorder *self, GpuBuffer *src, guint64 src_offset, GpuBuffer *dst,
                   guint64 dst_offset, guint64 size)
{
  g_return_if_fail (self != NULL);
  if (size == 0 || !ensure_recording (self) || !check_copy_range (self, src, src_offset, size) ||
      !check_copy_range (self, dst, dst_offset, size))
    return;
  Range r = { src->buffer, src_offset, src_offset + size };
  Range w = { dst->buffer, dst_offset, dst_offset + size };
  track (self, &r, 1, &w, 1, VK_PIPELINE_STAGE_TRANSFER_BIT);
  VkBufferCopy region = { src_offset, dst_offset, size };
  vkCmdCopyBuffer (self->cmd, src->buffer, dst->buffer, 1, &region);
  self->n_commands++;
}

void
gpu_recorder_fill (GpuRecorder *self, GpuBuffer *dst, guint64 offset, guint64 size, guint32 value)
{
  g_return_if_fail (self != NULL);
  if (size == 0 || !ensure_recording (self) || !check_copy_range (self, dst, offset, size))
    return;
  Range w = { dst->buffer, offset, offset + size };
  track (self, NULL, 0, &w, 1, VK_PIPELINE_STAGE_TRANSFER_BIT);
  vkCmdFillBuffer (self->cmd, dst->buffer, offset, size, value);
  self->n_commands++;
}

/* Forgets the pending work after a submit (successful or not). */
static void
reset_state (GpuRecorder *self)
{
  g_array_set_size (self->writes, 0);
  g_array_set_size (self->reads, 0);
  self->write_stages = self->read_stages = 0;
  g_array_set_size (self->readbacks, 0);
  for (guint i = 0; i < self->staging->len; i++)
    ((StagingChunk *) self->staging->pdata[i])->used = 0;
  for (guint i = 0; i < self->desc_pools->len; i++)
    vkResetDescriptorPool (self->device->device, self->desc_pools->pdata[i], 0);
  if (self->desc_pools->len > 1)
    {
      /* keep one pool */
      for (guint i = 1; i < self->desc_pools->len; i++)
        vkDestroyDescriptorPool (self->device->device, self->desc_pools->pdata[i], NULL);
      g_ptr_array_set_size (self->desc_pools, 1);
    }
  self->desc_pool_used = 0;
  self->n_timed = 0;
  g_ptr_array_set_size (self->timed_labels, 0);
  self->n_commands = 0;
  vkResetCommandBuffer (self->cmd, 0);
}

gboolean
gpu_recorder_submit (GpuRecorder *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->error != NULL)
    {
      if (self->recording)
        vkEndCommandBuffer (self->cmd);
      self->recording = FALSE;
      reset_state (self);
      g_propagate_error (error, g_steal_pointer (&self->error));
      return FALSE;
    }
  if (!self->recording)
    return TRUE;
  if (g_cancellable_is_cancelled (cancellable))
    {
      vkEndCommandBuffer (self->cmd);
      self->recording = FALSE;
      reset_state (self);
      g_set_error_literal (error, GPU_ERROR, GPU_ERROR_CANCELLED,
                           _ ("The GPU work was cancelled."));
      return FALSE;
    }

  /* Make every write visible to the host (readbacks, mapped buffers). */
  VkMemoryBarrier mb = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_HOST_READ_BIT,
  };
  vkCmdPipelineBarrier (self->cmd,
                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                        VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
  VkResult res = vkEndCommandBuffer (self->cmd);
  self->recording = FALSE;
  if (res != VK_SUCCESS)
    {
      reset_state (self);
      return gpu_check_vk (res, "vkEndCommandBuffer", error);
    }

  if (self->keep)
    {
      self->kept = TRUE;
      self->keep = FALSE;
    }
  return run_submission (self, error);
}

/* Submits the ended command buffer, waits, completes the downloads and timings; then forgets
 * the recording unless it is kept. */
static gboolean
run_submission (GpuRecorder *self, GError **error)
{
  GpuDevice *device = self->device;
  VkResult res;
  VkSubmitInfo submit = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &self->cmd,
  };
  gpu_counter_add (GPU_COUNTER_SUBMISSIONS, 1);
  g_mutex_lock (&device->lock);
  res = vkQueueSubmit (device->queue, 1, &submit, self->fence);
  g_mutex_unlock (&device->lock);
  if (res == VK_SUCCESS)
    res = vkWaitForFences (device->device, 1, &self->fence, VK_TRUE, UINT64_MAX);
  vkResetFences (device->device, 1, &self->fence);
  if (res != VK_SUCCESS)
    {
      self->kept = FALSE;
      reset_state (self);
      return gpu_check_vk (res, "vkQueueSubmit", error);
    }

  for (guint i = 0; i < self->readbacks->len; i++)
    {
      Readback *rb = &g_array_index (self->readbacks, Readback, i);
      memcpy (rb->dst, (const char *) rb->chunk->alloc.mapped + rb->offset, rb->size);
    }

  if (self->n_timed > 0)
    {
      g_autofree guint64 *ticks = g_new0 (guint64, 2 * self->n_timed);
      res = vkGetQueryPoolResults (device->device, self->queries, 0, 2 * self->n_timed,
                                   sizeof (guint64) * 2 * self->n_timed, ticks, sizeof (guint64),
                                   VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT);
      if (res == VK_SUCCESS)
        {
          guint64 mask = device->timestamp_valid_bits >= 64
                           ? G_MAXUINT64
                           : (((guint64) 1 << device->timestamp_valid_bits) - 1);
          for (guint i = 0; i < self->n_timed; i++)
            {
              guint64 d = (ticks[2 * i + 1] - ticks[2 * i]) & mask;
              gpu_device_add_timing (device, self->timed_labels->pdata[i],
                                     (double) d * device->timestamp_period * 1e-6);
            }
        }
    }
  if (!self->kept)
    reset_state (self);
  return TRUE;
}

void
gpu_recorder_skip_barriers_for_testing (GpuRecorder *self)
{
  g_return_if_fail (self != NULL);
  self->no_barriers = TRUE;
}

void
gpu_recorder_keep (GpuRecorder *self)
{
  g_return_if_fail (self != NULL);
  if (self->kept)
    gpu_recorder_discard (self);
  g_return_if_fail (!self->recording);
  self->keep = TRUE;
}

gboolean
gpu_recorder_has_kept (GpuRecorder *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->kept;
}

gboolean
gpu_recorder_replay (GpuRecorder *self, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!self->kept)
    {
      g_set_error_literal (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                           "gpu_recorder_replay: no recording is kept.");
      return FALSE;
    }
  if (g_cancellable_is_cancelled (cancellable))
    {
      g_set_error_literal (error, GPU_ERROR, GPU_ERROR_CANCELLED,
                           _ ("The GPU work was cancelled."));
      return FALSE;
    }
  return run_submission (self, error);
}

void
gpu_recorder_discard (GpuRecorder *self)
{
  g_return_if_fail (self != NULL);
  self->keep = FALSE;
  if (!self->kept)
    return;
  self->kept = FALSE;
  reset_state (self);
}
