/* gpu-pipeline.c: compute pipelines from embedded SPIR-V, cached per device, and the
 * VkPipelineCache kept in $XDG_CACHE_HOME/depict/
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "gpu/gpu-private.h"
#include "gpu/gpu-shaders.h"

void
gpu_pipeline_free (GpuDevice *device, GpuPipeline *p)
{
  if (p->pipeline != VK_NULL_HANDLE)
    vkDestroyPipeline (device->device, p->pipeline, NULL);
  if (p->layout != VK_NULL_HANDLE)
    vkDestroyPipelineLayout (device->device, p->layout, NULL);
  if (p->set_layout != VK_NULL_HANDLE)
    vkDestroyDescriptorSetLayout (device->device, p->set_layout, NULL);
  g_free (p->key);
  g_free (p->bindings);
  g_free (p);
}

static char *
pipeline_key (const GpuPipelineDesc *desc)
{
  GString *s = g_string_new (desc->shader);
  g_string_append_printf (s, "|%s|%u|", desc->bindings, desc->push_size);
  for (guint i = 0; i < desc->n_spec; i++)
    g_string_append_printf (s, "%u,", desc->spec[i]);
  return g_string_free (s, FALSE);
}

static GpuPipeline *
pipeline_build (GpuDevice *device, const GpuPipelineDesc *desc, char *key, GError **error)
{
  const uint32_t *code = NULL;
  size_t code_size = 0;
  if (!gpu_shaders_lookup (desc->shader, &code, &code_size))
    {
      g_set_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                   _ ("The shader “%s” is not built into this program. Rebuild Depict."),
                   desc->shader);
      g_free (key);
      return NULL;
    }

  g_autofree VkSpecializationMapEntry *entries = NULL;
  GpuPipeline *p = g_new0 (GpuPipeline, 1);
  p->key = key;
  p->bindings = g_strdup (desc->bindings);
  p->n_bindings = (guint) strlen (desc->bindings);
  p->push_size = desc->push_size;

  g_autofree VkDescriptorSetLayoutBinding *b =
    g_new0 (VkDescriptorSetLayoutBinding, MAX (p->n_bindings, 1));
  for (guint i = 0; i < p->n_bindings; i++)
    {
      b[i].binding = i;
      b[i].descriptorType = desc->bindings[i] == 't' ? VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER
                                                     : VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      b[i].descriptorCount = 1;
      b[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
    }
  VkDescriptorSetLayoutCreateInfo sl = {
    .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
    .flags =
      device->limits.push_descriptors ? VK_DESCRIPTOR_SET_LAYOUT_CREATE_PUSH_DESCRIPTOR_BIT_KHR : 0,
    .bindingCount = p->n_bindings,
    .pBindings = b,
  };
  VkShaderModule module = VK_NULL_HANDLE;
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  if (!gpu_check_vk (vkCreateDescriptorSetLayout (device->device, &sl, NULL, &p->set_layout),
                     "vkCreateDescriptorSetLayout", error))
    goto fail;

  VkPushConstantRange pc = {
    .stageFlags = VK_SHADER_STAGE_COMPUTE_BIT,
    .offset = 0,
    .size = desc->push_size,
  };
  VkPipelineLayoutCreateInfo pl = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
    .setLayoutCount = 1,
    .pSetLayouts = &p->set_layout,
    .pushConstantRangeCount = desc->push_size > 0 ? 1 : 0,
    .pPushConstantRanges = &pc,
  };
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  if (!gpu_check_vk (vkCreatePipelineLayout (device->device, &pl, NULL, &p->layout),
                     "vkCreatePipelineLayout", error))
    goto fail;

  VkShaderModuleCreateInfo mi = {
    .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
    .codeSize = code_size,
    .pCode = code,
  };
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  if (!gpu_check_vk (vkCreateShaderModule (device->device, &mi, NULL, &module),
                     "vkCreateShaderModule", error))
    goto fail;

  entries = g_new0 (VkSpecializationMapEntry, MAX (desc->n_spec, 1));
  for (guint i = 0; i < desc->n_spec; i++)
    {
      entries[i].constantID = i;
      entries[i].offset = i * 4;
      entries[i].size = 4;
    }
  VkSpecializationInfo spec = {
    .mapEntryCount = desc->n_spec,
    .pMapEntries = entries,
    .dataSize = desc->n_spec * 4,
    .pData = desc->spec,
  };
  VkComputePipelineCreateInfo ci = {
    .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
    .stage = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
      .stage = VK_SHADER_STAGE_COMPUTE_BIT,
      .module = module,
      .pName = "main",
      .pSpecializationInfo = desc->n_spec > 0 ? &spec : NULL,
    },
    .layout = p->layout,
  };
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  VkResult res =
    vkCreateComputePipelines (device->device, device->pipeline_cache, 1, &ci, NULL, &p->pipeline);
  vkDestroyShaderModule (device->device, module, NULL);
  module = VK_NULL_HANDLE;
  if (!gpu_check_vk (res, "vkCreateComputePipelines", error))
    goto fail;
  return p;

fail:
  if (module != VK_NULL_HANDLE)
    vkDestroyShaderModule (device->device, module, NULL);
  gpu_pipeline_free (device, p);
  return NULL;
}

GpuPipeline *
gpu_device_get_pipeline (GpuDevice *device, const GpuPipelineDesc *desc, GError **error)
{
  g_return_val_if_fail (device != NULL, NULL);
  g_return_val_if_fail (desc != NULL && desc->shader != NULL && desc->bindings != NULL, NULL);
  g_return_val_if_fail (desc->n_spec == 0 || desc->spec != NULL, NULL);

  if (desc->push_size > device->limits.max_push_constants_size || desc->push_size % 4 != 0)
    {
      g_set_error (error, GPU_ERROR, GPU_ERROR_UNSUPPORTED,
                   _ ("The shader “%s” needs %u bytes of push constants; the GPU allows %u. Pick "
                      "another device."),
                   desc->shader, desc->push_size, device->limits.max_push_constants_size);
      return NULL;
    }
  for (const char *c = desc->bindings; *c != '\0'; c++)
    if (*c != 'r' && *c != 'w' && *c != 't')
      {
        g_set_error (error, GPU_ERROR, GPU_ERROR_INVALID_ARGUMENT,
                     "Invalid binding kind '%c' for shader %s (use r, w or t).", *c, desc->shader);
        return NULL;
      }

  char *key = pipeline_key (desc);
  g_mutex_lock (&device->lock);
  GpuPipeline *p = g_hash_table_lookup (device->pipelines, key);
  if (p == NULL)
    {
      p = pipeline_build (device, desc, key, error);
      if (p != NULL)
        {
          g_hash_table_insert (device->pipelines, p->key, p);
          device->pipeline_cache_dirty = TRUE;
        }
    }
  else
    g_free (key);
  g_mutex_unlock (&device->lock);
  return p;
}

/* ------------------------------------------------------------------------------------- */
/* Pipeline cache file                                                                    */

/* VkPipelineCacheHeaderVersionOne, read field by field (little or native endian: the file
 * is only ever read back on the machine that wrote it). */
static gboolean
cache_header_valid (GpuDevice *device, const guint8 *data, gsize len)
{
  if (len < 32)
    return FALSE;
  guint32 header_size, version, vendor, devid;
  memcpy (&header_size, data, 4);
  memcpy (&version, data + 4, 4);
  memcpy (&vendor, data + 8, 4);
  memcpy (&devid, data + 12, 4);
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties (device->physical, &props);
  return header_size >= 32 && header_size <= len &&
         version == VK_PIPELINE_CACHE_HEADER_VERSION_ONE && vendor == props.vendorID &&
         devid == props.deviceID && memcmp (data + 16, props.pipelineCacheUUID, VK_UUID_SIZE) == 0;
}

void
gpu_pipeline_cache_open (GpuDevice *device)
{
  g_autofree char *file =
    g_strdup_printf ("pipeline-cache-%04x-%04x-%08x.bin", device->info.vendor_id,
                     device->info.device_id, device->info.driver_version);
  device->pipeline_cache_path = g_build_filename (g_get_user_cache_dir (), "depict", file, NULL);

  g_autofree char *contents = NULL;
  gsize len = 0;
  gboolean have = g_file_get_contents (device->pipeline_cache_path, &contents, &len, NULL) &&
                  cache_header_valid (device, (const guint8 *) contents, len);
  if (contents != NULL && !have)
    g_debug ("Ignoring the invalid pipeline cache %s", device->pipeline_cache_path);

  VkPipelineCacheCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
    .initialDataSize = have ? len : 0,
    .pInitialData = have ? contents : NULL,
  };
  VkResult res = vkCreatePipelineCache (device->device, &info, NULL, &device->pipeline_cache);
  if (res != VK_SUCCESS && have)
    {
      info.initialDataSize = 0;
      info.pInitialData = NULL;
      have = FALSE;
      res = vkCreatePipelineCache (device->device, &info, NULL, &device->pipeline_cache);
    }
  if (res != VK_SUCCESS)
    device->pipeline_cache = VK_NULL_HANDLE; /* pipelines still work without one */
  device->pipeline_cache_loaded = have && res == VK_SUCCESS;
}

gboolean
gpu_device_save_pipeline_cache (GpuDevice *device, GError **error)
{
  g_return_val_if_fail (device != NULL, FALSE);
  if (device->pipeline_cache == VK_NULL_HANDLE)
    return TRUE;

  g_mutex_lock (&device->lock);
  size_t size = 0;
  VkResult res = vkGetPipelineCacheData (device->device, device->pipeline_cache, &size, NULL);
  g_autofree char *data = NULL;
  if (res == VK_SUCCESS && size > 0)
    {
      data = g_malloc (size);
      res = vkGetPipelineCacheData (device->device, device->pipeline_cache, &size, data);
    }
  device->pipeline_cache_dirty = FALSE;
  g_mutex_unlock (&device->lock);
  if (res != VK_SUCCESS && res != VK_INCOMPLETE)
    return gpu_check_vk (res, "vkGetPipelineCacheData", error);
  if (size == 0)
    return TRUE;

  g_autofree char *dir = g_path_get_dirname (device->pipeline_cache_path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                   _ ("Could not create the cache folder %s: %s. Check its permissions."), dir,
                   g_strerror (saved));
      return FALSE;
    }
  /* g_file_set_contents writes a temporary file and renames it over the old one. */
  return g_file_set_contents (device->pipeline_cache_path, data, (gssize) size, error);
}

void
gpu_pipeline_cache_close (GpuDevice *device)
{
  if (device->pipeline_cache == VK_NULL_HANDLE)
    return;
  if (device->pipeline_cache_dirty)
    {
      g_autoptr (GError) error = NULL;
      if (!gpu_device_save_pipeline_cache (device, &error))
        g_debug ("Could not save the pipeline cache: %s", error->message);
    }
  vkDestroyPipelineCache (device->device, device->pipeline_cache, NULL);
  device->pipeline_cache = VK_NULL_HANDLE;
}

const char *
gpu_device_get_pipeline_cache_path (GpuDevice *device)
{
  g_return_val_if_fail (device != NULL, NULL);
  return device->pipeline_cache_path;
}

gboolean
gpu_device_pipeline_cache_was_loaded (GpuDevice *device)
{
  g_return_val_if_fail (device != NULL, FALSE);
  return device->pipeline_cache_loaded;
}
