/* gpu-buffer.c: device memory blocks with a first-fit free list, buffers, texel views,
 * staging copies
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <string.h>

#include "gpu/gpu-private.h"

/* Device memory comes in blocks of BLOCK_SIZE; a request of more than a quarter of it gets
 * a dedicated allocation. */
#define BLOCK_SIZE ((VkDeviceSize) 64 << 20)
/* Synchronous staging copies go through chunks of at most this size. */
#define STAGING_CHUNK ((VkDeviceSize) 16 << 20)

typedef struct {
  VkDeviceSize offset;
  VkDeviceSize size;
} FreeRange;

struct _GpuMemoryBlock {
  VkDeviceMemory memory;
  guint32 type_index;
  VkDeviceSize size;
  void *mapped;
  gboolean dedicated;
  GArray *free; /* FreeRange, sorted by offset, coalesced */
  guint n_live;
};

static void
block_destroy (GpuDevice *device, GpuMemoryBlock *block)
{
  if (block->mapped != NULL)
    vkUnmapMemory (device->device, block->memory);
  vkFreeMemory (device->device, block->memory, NULL);
  device->allocated -= MIN (device->allocated, block->size);
  g_array_unref (block->free);
  g_free (block);
}

static GpuMemoryBlock *
block_new (GpuDevice *device, guint32 type_index, VkDeviceSize size, gboolean dedicated,
           GError **error)
{
  VkMemoryAllocateInfo info = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
    .allocationSize = size,
    .memoryTypeIndex = type_index,
  };
  VkDeviceMemory memory;
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  VkResult res = vkAllocateMemory (device->device, &info, NULL, &memory);
  if (res != VK_SUCCESS)
    {
      g_propagate_error (error, gpu_error_from_vk (res, "vkAllocateMemory"));
      return NULL;
    }
  GpuMemoryBlock *block = g_new0 (GpuMemoryBlock, 1);
  device->allocated += size;
  block->memory = memory;
  block->type_index = type_index;
  block->size = size;
  block->dedicated = dedicated;
  block->free = g_array_new (FALSE, FALSE, sizeof (FreeRange));
  FreeRange all = { 0, size };
  g_array_append_val (block->free, all);
  if (device->memory.memoryTypes[type_index].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)
    {
      res = vkMapMemory (device->device, memory, 0, VK_WHOLE_SIZE, 0, &block->mapped);
      if (res != VK_SUCCESS)
        {
          block->mapped = NULL;
          block_destroy (device, block);
          g_propagate_error (error, gpu_error_from_vk (res, "vkMapMemory"));
          return NULL;
        }
    }
  return block;
}

/* First fit: returns TRUE and the aligned offset when the block has room. */
static gboolean
block_take (GpuMemoryBlock *block, VkDeviceSize size, VkDeviceSize align, VkDeviceSize *out)
{
  for (guint i = 0; i < block->free->len; i++)
    {
      FreeRange *r = &g_array_index (block->free, FreeRange, i);
      VkDeviceSize start = (r->offset + align - 1) / align * align;
      if (start + size > r->offset + r->size)
        continue;
      VkDeviceSize end = start + size;
      VkDeviceSize r_end = r->offset + r->size;
      if (start > r->offset)
        {
          /* keep the head; add the tail after it */
          VkDeviceSize head = start - r->offset;
          r->size = head;
          if (r_end > end)
            {
              FreeRange tail = { end, r_end - end };
              g_array_insert_val (block->free, i + 1, tail);
            }
        }
      else if (r_end > end)
        {
          r->offset = end;
          r->size = r_end - end;
        }
      else
        g_array_remove_index (block->free, i);
      *out = start;
      block->n_live++;
      return TRUE;
    }
  return FALSE;
}

static void
block_give (GpuMemoryBlock *block, VkDeviceSize offset, VkDeviceSize size)
{
  guint i = 0;
  while (i < block->free->len && g_array_index (block->free, FreeRange, i).offset < offset)
    i++;
  FreeRange r = { offset, size };
  g_array_insert_val (block->free, i, r);
  /* merge with the next, then with the previous */
  if (i + 1 < block->free->len)
    {
      FreeRange *a = &g_array_index (block->free, FreeRange, i);
      FreeRange *b = &g_array_index (block->free, FreeRange, i + 1);
      if (a->offset + a->size == b->offset)
        {
          a->size += b->size;
          g_array_remove_index (block->free, i + 1);
        }
    }
  if (i > 0)
    {
      FreeRange *a = &g_array_index (block->free, FreeRange, i - 1);
      FreeRange *b = &g_array_index (block->free, FreeRange, i);
      if (a->offset + a->size == b->offset)
        {
          a->size += b->size;
          g_array_remove_index (block->free, i);
        }
    }
  block->n_live--;
}

gboolean
gpu_memory_alloc (GpuDevice *device, const VkMemoryRequirements *req, guint32 type_index,
                  GpuAllocation *out, GError **error)
{
  if (!(req->memoryTypeBits & (1u << type_index)))
    {
      /* fall back to any allowed type with the same properties */
      VkMemoryPropertyFlags want = device->memory.memoryTypes[type_index].propertyFlags;
      gboolean found = FALSE;
      for (guint32 i = 0; i < device->memory.memoryTypeCount; i++)
        if ((req->memoryTypeBits & (1u << i)) &&
            (device->memory.memoryTypes[i].propertyFlags & want) == want)
          {
            type_index = i;
            found = TRUE;
            break;
          }
      if (!found)
        {
          g_set_error (error, GPU_ERROR, GPU_ERROR_UNSUPPORTED,
                       _ ("The GPU offers no suitable memory for a buffer. Update the driver or "
                          "pick another device."));
          return FALSE;
        }
    }

  VkDeviceSize align = MAX (req->alignment, 256);
  g_mutex_lock (&device->lock);
  GpuMemoryBlock *block = NULL;
  VkDeviceSize offset = 0;
  if (req->size <= BLOCK_SIZE / 4)
    {
      for (GList *l = device->blocks; l != NULL; l = l->next)
        {
          GpuMemoryBlock *b = l->data;
          if (!b->dedicated && b->type_index == type_index &&
              block_take (b, req->size, align, &offset))
            {
              block = b;
              break;
            }
        }
      if (block == NULL)
        {
          block = block_new (device, type_index, BLOCK_SIZE, FALSE, error);
          if (block == NULL)
            {
              g_mutex_unlock (&device->lock);
              return FALSE;
            }
          device->blocks = g_list_prepend (device->blocks, block);
          block_take (block, req->size, align, &offset);
        }
    }
  else
    {
      block = block_new (device, type_index, req->size, TRUE, error);
      if (block == NULL)
        {
          g_mutex_unlock (&device->lock);
          return FALSE;
        }
      device->blocks = g_list_prepend (device->blocks, block);
      block_take (block, req->size, 1, &offset);
    }
  g_mutex_unlock (&device->lock);

  out->block = block;
  out->memory = block->memory;
  out->offset = offset;
  out->size = req->size;
  out->mapped = block->mapped != NULL ? (char *) block->mapped + offset : NULL;
  return TRUE;
}

void
gpu_memory_free (GpuDevice *device, GpuAllocation *alloc)
{
  if (alloc->block == NULL)
    return;
  g_mutex_lock (&device->lock);
  GpuMemoryBlock *block = alloc->block;
  block_give (block, alloc->offset, alloc->size);
  if (block->n_live == 0)
    {
      /* keep one empty shared block of each type around for reuse */
      gboolean keep = FALSE;
      if (!block->dedicated)
        {
          keep = TRUE;
          for (GList *l = device->blocks; l != NULL; l = l->next)
            {
              GpuMemoryBlock *b = l->data;
              if (b != block && !b->dedicated && b->n_live == 0 &&
                  b->type_index == block->type_index)
                keep = FALSE;
            }
        }
      if (!keep)
        {
          device->blocks = g_list_remove (device->blocks, block);
          block_destroy (device, block);
        }
    }
  g_mutex_unlock (&device->lock);
  memset (alloc, 0, sizeof *alloc);
}

void
gpu_memory_free_all_blocks (GpuDevice *device)
{
  for (GList *l = device->blocks; l != NULL; l = l->next)
    {
      GpuMemoryBlock *b = l->data;
      if (b->n_live > 0)
        g_debug ("GPU memory block freed with %u live allocations (a GpuBuffer outlived its "
                 "device)",
                 b->n_live);
      block_destroy (device, b);
    }
  g_list_free (device->blocks);
  device->blocks = NULL;
}

static VkBufferUsageFlags
all_usage (void)
{
  return VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
         VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
}

static gboolean
create_buffer (GpuDevice *device, guint64 size, guint32 type_index, VkBufferUsageFlags usage,
               VkBuffer *out, GpuAllocation *alloc, GError **error)
{
  VkBufferCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
    .size = size,
    .usage = usage,
    .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkBuffer buffer;
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  if (!gpu_check_vk (vkCreateBuffer (device->device, &info, NULL, &buffer), "vkCreateBuffer",
                     error))
    return FALSE;
  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements (device->device, buffer, &req);
  if (!gpu_memory_alloc (device, &req, type_index, alloc, error))
    {
      vkDestroyBuffer (device->device, buffer, NULL);
      return FALSE;
    }
  VkResult res = vkBindBufferMemory (device->device, buffer, alloc->memory, alloc->offset);
  if (res != VK_SUCCESS)
    {
      gpu_memory_free (device, alloc);
      vkDestroyBuffer (device->device, buffer, NULL);
      g_propagate_error (error, gpu_error_from_vk (res, "vkBindBufferMemory"));
      return FALSE;
    }
  *out = buffer;
  return TRUE;
}

gboolean
gpu_staging_new (GpuDevice *device, guint64 size, VkBuffer *buffer, GpuAllocation *alloc,
                 GError **error)
{
  return create_buffer (device, MAX (size, 16), device->staging_memory_type,
                        VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT, buffer,
                        alloc, error);
}

void
gpu_staging_free (GpuDevice *device, VkBuffer buffer, GpuAllocation *alloc)
{
  if (buffer != VK_NULL_HANDLE)
    vkDestroyBuffer (device->device, buffer, NULL);
  gpu_memory_free (device, alloc);
}

typedef struct {
  VkFormat format;
  guint64 offset;
  guint64 range;
} ViewKey;

static guint
view_key_hash (gconstpointer p)
{
  const ViewKey *k = p;
  return (guint) (k->format * 2654435761u) ^ g_int64_hash (&k->offset) ^
         (g_int64_hash (&k->range) * 31u);
}

static gboolean
view_key_equal (gconstpointer a, gconstpointer b)
{
  const ViewKey *x = a, *y = b;
  return x->format == y->format && x->offset == y->offset && x->range == y->range;
}

GpuBuffer *
gpu_buffer_new (GpuDevice *device, guint64 size, GError **error)
{
  g_return_val_if_fail (device != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (size == 0)
    size = 4;
  /* Padded so that texel views may round their range up to whole texels. */
  guint64 padded = (size + 255) / 256 * 256;
  g_autoptr (GpuBuffer) self = g_new0 (GpuBuffer, 1);
  self->device = gpu_device_ref (device);
  self->size = size;
  self->padded_size = padded;
  if (!create_buffer (device, padded, device->device_memory_type, all_usage (), &self->buffer,
                      &self->alloc, error))
    return NULL;
  if (!device->device_memory_mapped)
    self->alloc.mapped = NULL; /* never write device memory from the host directly */
  gpu_counter_add (GPU_COUNTER_BUFFERS, 1);
  gpu_counter_add (GPU_COUNTER_BUFFER_BYTES, (gint64) size);
  return g_steal_pointer (&self);
}

void
gpu_buffer_free (GpuBuffer *self)
{
  if (self == NULL)
    return;
  GpuDevice *device = self->device;
  if (self->views != NULL)
    {
      GHashTableIter iter;
      gpointer v;
      g_hash_table_iter_init (&iter, self->views);
      while (g_hash_table_iter_next (&iter, NULL, &v))
        vkDestroyBufferView (device->device, (VkBufferView) v, NULL);
      g_hash_table_unref (self->views);
    }
  if (self->buffer != VK_NULL_HANDLE)
    {
      vkDestroyBuffer (device->device, self->buffer, NULL);
      gpu_counter_add (GPU_COUNTER_BUFFERS, -1);
      gpu_counter_add (GPU_COUNTER_BUFFER_BYTES, -(gint64) self->size);
    }
  gpu_memory_free (device, &self->alloc);
  gpu_device_unref (device);
  g_free (self);
}

guint64
gpu_buffer_get_size (GpuBuffer *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->size;
}

GpuDevice *
gpu_buffer_get_device (GpuBuffer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->device;
}

VkFormat
gpu_texel_format_to_vk (GpuTexelFormat format)
{
  switch (format)
    {
    case GPU_TEXEL_R32F:
      return VK_FORMAT_R32_SFLOAT;
    case GPU_TEXEL_RGBA32F:
      return VK_FORMAT_R32G32B32A32_SFLOAT;
    case GPU_TEXEL_R16F:
      return VK_FORMAT_R16_SFLOAT;
    case GPU_TEXEL_RGBA16F:
      return VK_FORMAT_R16G16B16A16_SFLOAT;
    case GPU_TEXEL_R32UI:
      return VK_FORMAT_R32_UINT;
    case GPU_TEXEL_RGBA32UI:
      return VK_FORMAT_R32G32B32A32_UINT;
    case GPU_TEXEL_NONE:
    default:
      return VK_FORMAT_UNDEFINED;
    }
}

guint
gpu_texel_format_size (GpuTexelFormat format)
{
  switch (format)
    {
    case GPU_TEXEL_R32F:
      return 4;
    case GPU_TEXEL_RGBA32F:
      return 16;
    case GPU_TEXEL_R16F:
      return 2;
    case GPU_TEXEL_RGBA16F:
      return 8;
    case GPU_TEXEL_R32UI:
      return 4;
    case GPU_TEXEL_RGBA32UI:
      return 16;
    case GPU_TEXEL_NONE:
    default:
      return 0;
    }
}

VkBufferView
gpu_buffer_get_view (GpuBuffer *self, GpuTexelFormat format, guint64 offset, guint64 range,
                     GError **error)
{
  ViewKey key = { gpu_texel_format_to_vk (format), offset, range };
  if (self->views == NULL)
    self->views = g_hash_table_new_full (view_key_hash, view_key_equal, g_free, NULL);
  gpointer found = g_hash_table_lookup (self->views, &key);
  if (found != NULL)
    return (VkBufferView) found;

  VkBufferViewCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO,
    .buffer = self->buffer,
    .format = key.format,
    .offset = offset,
    .range = range,
  };
  VkBufferView view;
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  if (!gpu_check_vk (vkCreateBufferView (self->device->device, &info, NULL, &view),
                     "vkCreateBufferView", error))
    return VK_NULL_HANDLE;
  g_hash_table_insert (self->views, g_memdup2 (&key, sizeof key), (gpointer) view);
  return view;
}

/* One synchronous copy on the device's transfer command buffer; called with the lock. */
static gboolean
run_copy (GpuDevice *device, VkBuffer src, VkDeviceSize src_off, VkBuffer dst, VkDeviceSize dst_off,
          VkDeviceSize size, GError **error)
{
  VkCommandBufferBeginInfo begin = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
    .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT,
  };
  if (!gpu_check_vk (vkBeginCommandBuffer (device->transfer_cmd, &begin), "vkBeginCommandBuffer",
                     error))
    return FALSE;
  /* after what earlier submissions wrote or read (see gpu-recorder.c) */
  VkMemoryBarrier before = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT,
  };
  vkCmdPipelineBarrier (device->transfer_cmd,
                        VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
                        VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0, NULL);
  VkBufferCopy region = { src_off, dst_off, size };
  vkCmdCopyBuffer (device->transfer_cmd, src, dst, 1, &region);
  VkMemoryBarrier barrier = {
    .sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
    .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
    .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_SHADER_READ_BIT,
  };
  vkCmdPipelineBarrier (device->transfer_cmd, VK_PIPELINE_STAGE_TRANSFER_BIT,
                        VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                        &barrier, 0, NULL, 0, NULL);
  if (!gpu_check_vk (vkEndCommandBuffer (device->transfer_cmd), "vkEndCommandBuffer", error))
    return FALSE;
  VkSubmitInfo submit = {
    .sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
    .commandBufferCount = 1,
    .pCommandBuffers = &device->transfer_cmd,
  };
  gpu_counter_add (GPU_COUNTER_SUBMISSIONS, 1);
  if (!gpu_check_vk (vkQueueSubmit (device->queue, 1, &submit, device->transfer_fence),
                     "vkQueueSubmit", error))
    return FALSE;
  VkResult res = vkWaitForFences (device->device, 1, &device->transfer_fence, VK_TRUE, UINT64_MAX);
  vkResetFences (device->device, 1, &device->transfer_fence);
  vkResetCommandBuffer (device->transfer_cmd, 0);
  return gpu_check_vk (res, "vkWaitForFences", error);
}

static gboolean
check_range (GpuBuffer *self, guint64 offset, guint64 size, GError **error)
{
  if (offset > self->size || size > self->size - offset)
    {
      g_set_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                   _ ("A copy of %" PRIu64 " bytes at offset %" PRIu64
                      " does not fit a GPU buffer of %" PRIu64 " bytes."),
                   size, offset, self->size);
      return FALSE;
    }
  return TRUE;
}

static gboolean
staged_copy (GpuBuffer *self, guint64 offset, void *host, guint64 size, gboolean upload,
             GError **error)
{
  GpuDevice *device = self->device;
  VkBuffer staging = VK_NULL_HANDLE;
  GpuAllocation alloc = { 0 };
  VkDeviceSize chunk = MIN (size, STAGING_CHUNK);
  if (!gpu_staging_new (device, chunk, &staging, &alloc, error))
    return FALSE;
  gboolean ok = TRUE;
  for (guint64 done = 0; ok && done < size; done += chunk)
    {
      VkDeviceSize n = MIN (chunk, size - done);
      g_mutex_lock (&device->lock);
      if (upload)
        {
          memcpy (alloc.mapped, (const char *) host + done, n);
          ok = run_copy (device, staging, 0, self->buffer, offset + done, n, error);
        }
      else
        {
          ok = run_copy (device, self->buffer, offset + done, staging, 0, n, error);
          if (ok)
            memcpy ((char *) host + done, alloc.mapped, n);
        }
      g_mutex_unlock (&device->lock);
    }
  gpu_staging_free (device, staging, &alloc);
  return ok;
}

static gboolean
transfer (GpuBuffer *self, guint64 offset, void *host, guint64 size, gboolean upload,
          GError **error)
{
  if (!check_range (self, offset, size, error))
    return FALSE;
  if (size == 0)
    return TRUE;
  if (self->alloc.mapped == NULL)
    return staged_copy (self, offset, host, size, upload, error);
  char *mapped = (char *) self->alloc.mapped + offset;
  if (upload)
    memcpy (mapped, host, size);
  else
    memcpy (host, mapped, size);
  return TRUE;
}

gboolean
gpu_buffer_upload (GpuBuffer *self, guint64 offset, const void *data, guint64 size, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || size == 0, FALSE);
  return transfer (self, offset, (void *) data, size, TRUE, error);
}

gboolean
gpu_buffer_download (GpuBuffer *self, guint64 offset, void *data, guint64 size, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || size == 0, FALSE);
  return transfer (self, offset, data, size, FALSE, error);
}

GpuBuffer *
gpu_buffer_new_from_data (GpuDevice *device, const void *data, guint64 size, GError **error)
{
  g_autoptr (GpuBuffer) buffer = gpu_buffer_new (device, size, error);
  if (buffer == NULL || !gpu_buffer_upload (buffer, 0, data, size, error))
    return NULL;
  return g_steal_pointer (&buffer);
}
