/* gpu-device.c: Vulkan instance, device choice, device listing and limits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One file of this length: creating the instance, choosing, listing and limiting devices all read
 * the same physical-device properties and features.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "gpu/gpu-private.h"

G_DEFINE_QUARK (gpu - error - quark, gpu_error)

#define NO_DEVICE_MESSAGE                                                                          \
  _ ("No Vulkan device was found. Install Mesa's Vulkan drivers (Debian: mesa-vulkan-drivers) "    \
     "or your GPU vendor's driver.")

guint64
gpu_address_space_left (void)
{
  struct rlimit limit;
  g_autofree char *status = NULL;
  const char *line;
  guint64 used_kb = 0;

  if (getrlimit (RLIMIT_AS, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY)
    return G_MAXUINT64;
  if (g_file_get_contents ("/proc/self/status", &status, NULL, NULL) &&
      (line = strstr (status, "\nVmSize:")) != NULL)
    used_kb = g_ascii_strtoull (line + strlen ("\nVmSize:"), NULL, 10);
  return (guint64) limit.rlim_cur > used_kb * 1024 ? (guint64) limit.rlim_cur - used_kb * 1024 : 0;
}

/* Vulkan failed to start (result): for lack of memory when the driver said so or the process
 * is close to its address-space limit (drivers load LLVM and start threads), else no device. */
static GError *
no_device_error (VkResult result)
{
  guint64 left = gpu_address_space_left ();

  if (left < GPU_MIN_ADDRESS_SPACE)
    {
      g_autofree char *size = g_format_size (left);
      return g_error_new (GPU_ERROR, GPU_ERROR_OUT_OF_MEMORY,
                          _ ("Vulkan could not start for lack of memory: this process may use only "
                             "%s more (its address-space limit, “ulimit -v”). Raise the limit, or "
                             "run on the CPU."),
                          size);
    }
  if (result == VK_ERROR_OUT_OF_HOST_MEMORY || result == VK_ERROR_OUT_OF_DEVICE_MEMORY)
    return g_error_new_literal (GPU_ERROR, GPU_ERROR_OUT_OF_MEMORY,
                                _ ("Vulkan could not start for lack of memory. Close other "
                                   "programs, or run on the CPU."));
  return g_error_new_literal (GPU_ERROR, GPU_ERROR_NO_DEVICE, NO_DEVICE_MESSAGE);
}

GError *
gpu_error_from_vk (VkResult result, const char *what)
{
  switch (result)
    {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_OUT_OF_POOL_MEMORY:
    case VK_ERROR_FRAGMENTED_POOL:
      return g_error_new (GPU_ERROR, GPU_ERROR_OUT_OF_MEMORY,
                          _ ("The GPU ran out of memory (%s). Close other programs that use the "
                             "GPU or choose a smaller model."),
                          what);
    case VK_ERROR_DEVICE_LOST:
      return g_error_new (GPU_ERROR, GPU_ERROR_DEVICE_LOST,
                          _ ("The GPU driver lost the device (%s). Try again; if it keeps "
                             "happening, update the driver or pick another device."),
                          what);
    case VK_ERROR_INCOMPATIBLE_DRIVER:
    case VK_ERROR_INITIALIZATION_FAILED:
      return no_device_error (result);
    case VK_ERROR_FEATURE_NOT_PRESENT:
    case VK_ERROR_EXTENSION_NOT_PRESENT:
    case VK_ERROR_FORMAT_NOT_SUPPORTED:
      return g_error_new (GPU_ERROR, GPU_ERROR_UNSUPPORTED,
                          _ ("The GPU does not support a feature Depict needs (%s). Update the "
                             "driver or pick another device."),
                          what);
    default:
      return g_error_new (GPU_ERROR, GPU_ERROR_FAILED,
                          _ ("A Vulkan call failed (%s, error %d). Update the GPU driver or pick "
                             "another device."),
                          what, (int) result);
    }
}

gboolean
gpu_check_vk (VkResult result, const char *what, GError **error)
{
  if (result == VK_SUCCESS)
    return TRUE;
  g_propagate_error (error, gpu_error_from_vk (result, what));
  return FALSE;
}

const char *
gpu_device_type_to_string (GpuDeviceType type)
{
  switch (type)
    {
    case GPU_DEVICE_TYPE_DISCRETE:
      return "discrete";
    case GPU_DEVICE_TYPE_INTEGRATED:
      return "integrated";
    case GPU_DEVICE_TYPE_VIRTUAL:
      return "virtual";
    case GPU_DEVICE_TYPE_CPU:
      return "cpu";
    case GPU_DEVICE_TYPE_OTHER:
    default:
      return "other";
    }
}

const char *
gpu_device_type_to_label (GpuDeviceType type)
{
  switch (type)
    {
    case GPU_DEVICE_TYPE_DISCRETE:
      return _ ("Discrete GPU");
    case GPU_DEVICE_TYPE_INTEGRATED:
      return _ ("Integrated GPU");
    case GPU_DEVICE_TYPE_VIRTUAL:
      return _ ("Virtual GPU");
    case GPU_DEVICE_TYPE_CPU:
      return _ ("CPU (software)");
    case GPU_DEVICE_TYPE_OTHER:
    default:
      return _ ("Other device");
    }
}

void
gpu_device_info_free (GpuDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->driver_name);
  g_free (info->driver_info);
  g_free (info->api_version);
  g_free (info);
}

static void
gpu_device_info_clear (GpuDeviceInfo *info)
{
  g_free (info->name);
  g_free (info->driver_name);
  g_free (info->driver_info);
  g_free (info->api_version);
}

static GpuDeviceType
type_from_vk (VkPhysicalDeviceType type)
{
  switch (type)
    {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return GPU_DEVICE_TYPE_DISCRETE;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return GPU_DEVICE_TYPE_INTEGRATED;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return GPU_DEVICE_TYPE_VIRTUAL;
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return GPU_DEVICE_TYPE_CPU;
    default:
      return GPU_DEVICE_TYPE_OTHER;
    }
}

/* Higher is better: discrete > integrated > virtual > CPU > other. */
static int
type_rank (GpuDeviceType type)
{
  switch (type)
    {
    case GPU_DEVICE_TYPE_DISCRETE:
      return 4;
    case GPU_DEVICE_TYPE_INTEGRATED:
      return 3;
    case GPU_DEVICE_TYPE_VIRTUAL:
      return 2;
    case GPU_DEVICE_TYPE_CPU:
      return 1;
    case GPU_DEVICE_TYPE_OTHER:
    default:
      return 0;
    }
}

static gboolean
env_true (const char *name)
{
  const char *v = g_getenv (name);
  return v != NULL && *v != '\0' && strcmp (v, "0") != 0 && g_ascii_strcasecmp (v, "false") != 0;
}

static gboolean
has_layer (const char *name)
{
  guint32 n = 0;
  if (vkEnumerateInstanceLayerProperties (&n, NULL) != VK_SUCCESS || n == 0)
    return FALSE;
  g_autofree VkLayerProperties *layers = g_new0 (VkLayerProperties, n);
  if (vkEnumerateInstanceLayerProperties (&n, layers) != VK_SUCCESS)
    return FALSE;
  for (guint32 i = 0; i < n; i++)
    if (strcmp (layers[i].layerName, name) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
has_instance_extension (const char *name)
{
  guint32 n = 0;
  if (vkEnumerateInstanceExtensionProperties (NULL, &n, NULL) != VK_SUCCESS || n == 0)
    return FALSE;
  g_autofree VkExtensionProperties *exts = g_new0 (VkExtensionProperties, n);
  if (vkEnumerateInstanceExtensionProperties (NULL, &n, exts) != VK_SUCCESS)
    return FALSE;
  for (guint32 i = 0; i < n; i++)
    if (strcmp (exts[i].extensionName, name) == 0)
      return TRUE;
  return FALSE;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL
debug_messenger_cb (VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                    VkDebugUtilsMessageTypeFlagsEXT types,
                    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user_data)
{
  GpuDevice *self = user_data;

  /* Loader messages (general type, e.g. "Found no drivers") are not API misuse. */
  if ((severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT) &&
      (types & VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT))
    {
      g_atomic_int_inc (&self->validation_errors);
      fprintf (stderr, "depict: Vulkan validation error: %s\n",
               data->pMessage != NULL ? data->pMessage : "");
    }
  else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
    {
      g_debug ("Vulkan loader: %s", data->pMessage != NULL ? data->pMessage : "");
    }
  else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
    {
      fprintf (stderr, "depict: Vulkan validation warning: %s\n",
               data->pMessage != NULL ? data->pMessage : "");
    }
  return VK_FALSE;
}

/* Creates the instance. @self is NULL for listing (no validation). */
static VkInstance
create_instance (GpuDevice *self, GError **error)
{
  VkApplicationInfo app = {
    .sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
    .pApplicationName = "Depict",
    .applicationVersion = VK_MAKE_API_VERSION (0, 0, 1, 0),
    .pEngineName = "depict-gpu",
    .engineVersion = 1,
    .apiVersion = VK_API_VERSION_1_2,
  };
  const char *layers[1];
  const char *exts[2];
  guint32 n_layers = 0, n_exts = 0;
  VkInstanceCreateFlags flags = 0;

  if (self != NULL && env_true ("DEPICT_VULKAN_VALIDATION"))
    {
      if (has_layer ("VK_LAYER_KHRONOS_validation") &&
          has_instance_extension (VK_EXT_DEBUG_UTILS_EXTENSION_NAME))
        {
          layers[n_layers++] = "VK_LAYER_KHRONOS_validation";
          exts[n_exts++] = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
          self->validation = TRUE;
        }
      else
        g_message ("DEPICT_VULKAN_VALIDATION is set but VK_LAYER_KHRONOS_validation is not "
                   "installed (Debian: vulkan-validationlayers); running without it.");
    }
  if (has_instance_extension (VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME))
    {
      exts[n_exts++] = VK_KHR_PORTABILITY_ENUMERATION_EXTENSION_NAME;
      flags |= VK_INSTANCE_CREATE_ENUMERATE_PORTABILITY_BIT_KHR;
    }

  VkDebugUtilsMessengerCreateInfoEXT messenger_info = {
    .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
    .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT,
    .messageType =
      VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT,
    .pfnUserCallback = debug_messenger_cb,
    .pUserData = self,
  };
  /* with the layer: synchronization validation too (a missing barrier is a hazard, an error) */
  static const VkValidationFeatureEnableEXT enables[] = {
    VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT,
  };
  VkValidationFeaturesEXT features = {
    .sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
    .pNext = &messenger_info,
    .enabledValidationFeatureCount = G_N_ELEMENTS (enables),
    .pEnabledValidationFeatures = enables,
  };
  VkInstanceCreateInfo info = {
    .sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
    .pNext = self != NULL && self->validation ? &features : NULL,
    .flags = flags,
    .pApplicationInfo = &app,
    .enabledLayerCount = n_layers,
    .ppEnabledLayerNames = layers,
    .enabledExtensionCount = n_exts,
    .ppEnabledExtensionNames = exts,
  };
  VkInstance instance = VK_NULL_HANDLE;
  VkResult res = vkCreateInstance (&info, NULL, &instance);
  if (res == VK_ERROR_INCOMPATIBLE_DRIVER || res == VK_ERROR_INITIALIZATION_FAILED ||
      res == VK_ERROR_LAYER_NOT_PRESENT || res == VK_ERROR_EXTENSION_NOT_PRESENT)
    {
      g_propagate_error (error, no_device_error (res));
      return VK_NULL_HANDLE;
    }
  if (!gpu_check_vk (res, "vkCreateInstance", error))
    return VK_NULL_HANDLE;

  if (self != NULL && self->validation)
    {
      PFN_vkCreateDebugUtilsMessengerEXT create =
        (PFN_vkCreateDebugUtilsMessengerEXT) vkGetInstanceProcAddr (
          instance, "vkCreateDebugUtilsMessengerEXT");
      if (create != NULL)
        create (instance, &messenger_info, NULL, &self->messenger);
    }
  return instance;
}

static GPtrArray *
enumerate_physical (VkInstance instance, GError **error)
{
  guint32 n = 0;
  VkResult res = vkEnumeratePhysicalDevices (instance, &n, NULL);
  if (res != VK_SUCCESS && res != VK_INCOMPLETE)
    {
      g_propagate_error (error, no_device_error (res));
      return NULL;
    }
  if (n == 0)
    {
      g_propagate_error (error, no_device_error (res));
      return NULL;
    }
  g_autofree VkPhysicalDevice *devs = g_new0 (VkPhysicalDevice, n);
  res = vkEnumeratePhysicalDevices (instance, &n, devs);
  if (res != VK_SUCCESS && res != VK_INCOMPLETE)
    {
      g_propagate_error (error, no_device_error (res));
      return NULL;
    }
  GPtrArray *out = g_ptr_array_new ();
  for (guint32 i = 0; i < n; i++)
    g_ptr_array_add (out, devs[i]);
  return out;
}

static void
fill_info (VkPhysicalDevice phys, guint index, GpuDeviceInfo *info)
{
  VkPhysicalDeviceProperties props;
  vkGetPhysicalDeviceProperties (phys, &props);

  info->index = index;
  info->name = g_strdup (props.deviceName);
  info->type = type_from_vk (props.deviceType);
  info->vendor_id = props.vendorID;
  info->device_id = props.deviceID;
  info->driver_version = props.driverVersion;
  info->api_version = g_strdup_printf ("%u.%u.%u", VK_API_VERSION_MAJOR (props.apiVersion),
                                       VK_API_VERSION_MINOR (props.apiVersion),
                                       VK_API_VERSION_PATCH (props.apiVersion));
  if (props.apiVersion >= VK_API_VERSION_1_2)
    {
      VkPhysicalDeviceDriverProperties driver = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES,
      };
      VkPhysicalDeviceProperties2 props2 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
        .pNext = &driver,
      };
      vkGetPhysicalDeviceProperties2 (phys, &props2);
      info->driver_name = g_strndup (driver.driverName, VK_MAX_DRIVER_NAME_SIZE);
      info->driver_info = g_strndup (driver.driverInfo, VK_MAX_DRIVER_INFO_SIZE);
    }
  else
    {
      info->driver_name = g_strdup ("");
      info->driver_info = g_strdup ("");
    }

  VkPhysicalDeviceMemoryProperties mem;
  vkGetPhysicalDeviceMemoryProperties (phys, &mem);
  info->device_local_memory = 0;
  for (guint32 h = 0; h < mem.memoryHeapCount; h++)
    if (mem.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT)
      info->device_local_memory = MAX (info->device_local_memory, mem.memoryHeaps[h].size);

  /* Usable: Vulkan 1.2 (the shaders are SPIR-V 1.5) and a compute queue. */
  gboolean compute = FALSE;
  guint32 nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties (phys, &nq, NULL);
  g_autofree VkQueueFamilyProperties *q = g_new0 (VkQueueFamilyProperties, MAX (nq, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (phys, &nq, q);
  for (guint32 i = 0; i < nq; i++)
    if (q[i].queueFlags & VK_QUEUE_COMPUTE_BIT)
      compute = TRUE;
  info->usable = props.apiVersion >= VK_API_VERSION_1_2 && compute;
}

/* Index of the device to open in @infos, or -1 with @error set. */
static int
select_device (GPtrArray *infos, const char *selector, GError **error)
{
  if (selector != NULL && *selector != '\0')
    {
      char *end = NULL;
      guint64 idx = g_ascii_strtoull (selector, &end, 10);
      if (end != selector && *end == '\0')
        {
          if (idx >= infos->len)
            {
              g_set_error (error, GPU_ERROR, GPU_ERROR_NO_DEVICE,
                           _ ("There is no Vulkan device number %s (this computer has %u). Run "
                              "“depict-cli devices” to list them."),
                           selector, infos->len);
              return -1;
            }
          GpuDeviceInfo *info = infos->pdata[idx];
          if (!info->usable)
            {
              g_set_error (error, GPU_ERROR, GPU_ERROR_UNSUPPORTED,
                           _ ("The Vulkan device “%s” supports only Vulkan %s; Depict needs "
                              "1.2. Update its driver or pick another device."),
                           info->name, info->api_version);
              return -1;
            }
          return (int) idx;
        }
      g_autofree char *needle = g_utf8_casefold (selector, -1);
      for (guint i = 0; i < infos->len; i++)
        {
          GpuDeviceInfo *info = infos->pdata[i];
          g_autofree char *hay = g_utf8_casefold (info->name, -1);
          if (info->usable && strstr (hay, needle) != NULL)
            return (int) i;
        }
      g_set_error (error, GPU_ERROR, GPU_ERROR_NO_DEVICE,
                   _ ("No usable Vulkan device matches “%s”. Run “depict-cli devices” to list "
                      "them, or unset DEPICT_VULKAN_DEVICE."),
                   selector);
      return -1;
    }

  int best = -1;
  for (guint i = 0; i < infos->len; i++)
    {
      GpuDeviceInfo *info = infos->pdata[i];
      if (!info->usable)
        continue;
      if (best < 0 ||
          type_rank (info->type) > type_rank (((GpuDeviceInfo *) infos->pdata[best])->type))
        best = (int) i;
    }
  if (best < 0)
    g_set_error (error, GPU_ERROR, GPU_ERROR_NO_DEVICE,
                 _ ("No Vulkan device supports Vulkan 1.2, which Depict needs. Update Mesa's "
                    "Vulkan drivers (Debian: mesa-vulkan-drivers) or your GPU vendor's driver."));
  return best;
}

static GPtrArray *
list_infos (VkInstance instance, GPtrArray **out_phys, GError **error)
{
  g_autoptr (GPtrArray) phys = enumerate_physical (instance, error);
  if (phys == NULL)
    return NULL;
  GPtrArray *infos = g_ptr_array_new_with_free_func ((GDestroyNotify) gpu_device_info_free);
  for (guint i = 0; i < phys->len; i++)
    {
      GpuDeviceInfo *info = g_new0 (GpuDeviceInfo, 1);
      fill_info (phys->pdata[i], i, info);
      g_ptr_array_add (infos, info);
    }
  int def = select_device (infos, NULL, NULL);
  if (def >= 0)
    ((GpuDeviceInfo *) infos->pdata[def])->is_default = TRUE;
  if (out_phys != NULL)
    *out_phys = g_steal_pointer (&phys);
  return infos;
}

GPtrArray *
gpu_device_list (GError **error)
{
  VkInstance instance = create_instance (NULL, error);
  if (instance == VK_NULL_HANDLE)
    return NULL;
  GPtrArray *infos = list_infos (instance, NULL, error);
  vkDestroyInstance (instance, NULL);
  return infos;
}

static gboolean
has_device_extension (VkPhysicalDevice phys, const char *name)
{
  guint32 n = 0;
  if (vkEnumerateDeviceExtensionProperties (phys, NULL, &n, NULL) != VK_SUCCESS || n == 0)
    return FALSE;
  g_autofree VkExtensionProperties *exts = g_new0 (VkExtensionProperties, n);
  if (vkEnumerateDeviceExtensionProperties (phys, NULL, &n, exts) != VK_SUCCESS)
    return FALSE;
  for (guint32 i = 0; i < n; i++)
    if (strcmp (exts[i].extensionName, name) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
texel_format_ok (VkPhysicalDevice phys, VkFormat format)
{
  VkFormatProperties fp;
  vkGetPhysicalDeviceFormatProperties (phys, format, &fp);
  return (fp.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT) != 0;
}

static int
find_memory_type (const VkPhysicalDeviceMemoryProperties *mem, VkMemoryPropertyFlags want)
{
  for (guint32 i = 0; i < mem->memoryTypeCount; i++)
    if ((mem->memoryTypes[i].propertyFlags & want) == want)
      return (int) i;
  return -1;
}

const char *
gpu_kernel_set_to_string (GpuKernelSet set)
{
  return set == GPU_KERNELS_CPU ? "cpu" : "gpu";
}

/* DEPICT_GPU_KERNELS: "cpu", "gpu", or "auto" (or unset): the CPU set on CPU devices. */
static GpuKernelSet
kernels_from_env (gboolean is_cpu)
{
  const char *v = g_getenv ("DEPICT_GPU_KERNELS");
  if (v != NULL && g_ascii_strcasecmp (v, "cpu") == 0)
    return GPU_KERNELS_CPU;
  if (v != NULL && g_ascii_strcasecmp (v, "gpu") == 0)
    return GPU_KERNELS_GPU;
  if (v != NULL && *v != '\0' && g_ascii_strcasecmp (v, "auto") != 0)
    g_message ("DEPICT_GPU_KERNELS is “%s”; it takes cpu, gpu or auto. Choosing automatically.", v);
  return is_cpu ? GPU_KERNELS_CPU : GPU_KERNELS_GPU;
}

/* See GpuDeviceLimits.submission_gflop. */
static double
submission_gflop_for (GpuDeviceType type)
{
  const char *v = g_getenv ("DEPICT_GPU_SUBMISSION_GFLOP");
  if (v != NULL && *v != '\0')
    {
      char *end = NULL;
      double g = g_ascii_strtod (v, &end);
      if (end != NULL && *end == '\0' && g >= 0 && isfinite (g))
        return g;
      g_message ("DEPICT_GPU_SUBMISSION_GFLOP is “%s”; it takes a number of GFLOP ≥ 0. "
                 "Choosing from the device type.",
                 v);
    }
  switch (type)
    {
    case GPU_DEVICE_TYPE_DISCRETE:
      return 500.0; /* the whole vision tower of Florence-2-large in one */
    case GPU_DEVICE_TYPE_INTEGRATED:
    case GPU_DEVICE_TYPE_VIRTUAL:
    case GPU_DEVICE_TYPE_OTHER:
      return 40.0;
    case GPU_DEVICE_TYPE_CPU:
    default:
      return 4.0; /* lavapipe: seconds per submission at most, and cancellable between */
    }
}

/* The limits and properties the ops choose their variants from. */
static void
read_limits (GpuDevice *self)
{
  VkPhysicalDevice phys = self->physical;
  GpuDeviceLimits *lim = &self->limits;

  VkPhysicalDeviceSubgroupProperties subgroup = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES,
  };
  VkPhysicalDeviceProperties2 props2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
    .pNext = &subgroup,
  };
  vkGetPhysicalDeviceProperties2 (phys, &props2);
  const VkPhysicalDeviceLimits *vl = &props2.properties.limits;
  lim->max_storage_buffer_range = vl->maxStorageBufferRange;
  lim->max_texel_buffer_elements = vl->maxTexelBufferElements;
  lim->min_storage_buffer_offset_alignment = MAX (vl->minStorageBufferOffsetAlignment, 4);
  lim->min_texel_buffer_offset_alignment = MAX (vl->minTexelBufferOffsetAlignment, 4);
  lim->max_push_constants_size = vl->maxPushConstantsSize;
  lim->max_shared_memory_size = vl->maxComputeSharedMemorySize;
  lim->max_workgroup_invocations = vl->maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; i++)
    {
      lim->max_workgroup_size[i] = vl->maxComputeWorkGroupSize[i];
      lim->max_workgroup_count[i] = vl->maxComputeWorkGroupCount[i];
    }
  lim->subgroup_size = MAX (subgroup.subgroupSize, 1);
  gboolean sg_compute = (subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT) != 0;
  /* DEPICT_GPU_NO_SUBGROUP_ARITHMETIC: the shared-memory sums instead, on any device */
  lim->subgroup_arithmetic = sg_compute &&
                             (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT) &&
                             !env_true ("DEPICT_GPU_NO_SUBGROUP_ARITHMETIC");
  lim->subgroup_shuffle =
    sg_compute && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT);
  lim->subgroup_ballot =
    sg_compute && (subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BALLOT_BIT);
  lim->is_cpu = self->info.type == GPU_DEVICE_TYPE_CPU;
  lim->submission_gflop = submission_gflop_for (self->info.type);
  lim->kernels = kernels_from_env (lim->is_cpu);
  lim->texel_r32f = texel_format_ok (phys, VK_FORMAT_R32_SFLOAT);
  lim->texel_rgba32f = texel_format_ok (phys, VK_FORMAT_R32G32B32A32_SFLOAT);
  lim->texel_r16f = texel_format_ok (phys, VK_FORMAT_R16_SFLOAT);
  lim->texel_rgba16f = texel_format_ok (phys, VK_FORMAT_R16G16B16A16_SFLOAT);
  self->timestamp_period = vl->timestampPeriod;
}

/* Prefers a compute-only queue family, else any with compute. */
static gboolean
choose_queue_family (GpuDevice *self, GError **error)
{
  VkPhysicalDevice phys = self->physical;

  guint32 nq = 0;
  vkGetPhysicalDeviceQueueFamilyProperties (phys, &nq, NULL);
  g_autofree VkQueueFamilyProperties *qf = g_new0 (VkQueueFamilyProperties, MAX (nq, 1));
  vkGetPhysicalDeviceQueueFamilyProperties (phys, &nq, qf);
  int family = -1;
  for (guint32 i = 0; i < nq; i++)
    if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && family < 0)
      family = (int) i;
  for (guint32 i = 0; i < nq; i++)
    if ((qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
      family = (int) i;
  if (family < 0)
    {
      g_set_error (error, GPU_ERROR, GPU_ERROR_UNSUPPORTED,
                   _ ("The Vulkan device “%s” has no compute queue. Pick another device."),
                   self->info.name);
      return FALSE;
    }
  self->queue_family = (guint32) family;
  self->timestamp_valid_bits = qf[family].timestampValidBits;
  self->limits.timestamps = self->timestamp_valid_bits > 0 && self->timestamp_period > 0;
  return TRUE;
}

/* Memory types. Unified memory (integrated GPUs, CPU devices): every device-local heap
 * is host visible, so buffers are mapped and written directly. */
static gboolean
choose_memory_types (GpuDevice *self, GError **error)
{
  vkGetPhysicalDeviceMemoryProperties (self->physical, &self->memory);
  int dev_type = find_memory_type (&self->memory, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  int unified = find_memory_type (&self->memory, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                                   VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  int staging = find_memory_type (&self->memory, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                   VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                                                   VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  if (staging < 0)
    staging = find_memory_type (&self->memory, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                 VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
  if (dev_type < 0)
    dev_type = staging;
  if (dev_type < 0 || staging < 0)
    {
      g_set_error (error, GPU_ERROR, GPU_ERROR_UNSUPPORTED,
                   _ ("The Vulkan device “%s” offers no usable memory type. Update its driver "
                      "or pick another device."),
                   self->info.name);
      return FALSE;
    }
  gboolean unified_ok =
    unified >= 0 &&
    (self->info.type == GPU_DEVICE_TYPE_INTEGRATED || self->info.type == GPU_DEVICE_TYPE_CPU) &&
    self->memory.memoryTypes[unified].heapIndex == self->memory.memoryTypes[dev_type].heapIndex &&
    !env_true ("DEPICT_GPU_NO_UNIFIED_MEMORY");
  self->device_memory_type = unified_ok ? (guint32) unified : (guint32) dev_type;
  self->device_memory_mapped = unified_ok;
  self->staging_memory_type = (guint32) staging;
  self->limits.unified_memory = unified_ok;
  return TRUE;
}

static gboolean
open_logical_device (GpuDevice *self, GError **error)
{
  VkPhysicalDevice phys = self->physical;
  GpuDeviceLimits *lim = &self->limits;

  read_limits (self);
  if (!choose_queue_family (self, error))
    return FALSE;

  /* Features */
  VkPhysicalDeviceVulkan12Features f12 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
  };
  VkPhysicalDeviceVulkan11Features f11 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
    .pNext = &f12,
  };
  VkPhysicalDeviceFeatures2 f2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
    .pNext = &f11,
  };
  vkGetPhysicalDeviceFeatures2 (phys, &f2);
  VkPhysicalDeviceVulkan12Features e12 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES,
    .shaderFloat16 = f12.shaderFloat16,
    .storageBuffer8BitAccess = f12.storageBuffer8BitAccess,
    .shaderInt8 = f12.shaderInt8,
  };
  VkPhysicalDeviceVulkan11Features e11 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES,
    .pNext = &e12,
    .storageBuffer16BitAccess = f11.storageBuffer16BitAccess,
    .uniformAndStorageBuffer16BitAccess = f11.uniformAndStorageBuffer16BitAccess,
  };
  VkPhysicalDeviceFeatures2 e2 = {
    .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
    .pNext = &e11,
  };
  e2.features.shaderInt16 = f2.features.shaderInt16;
  e2.features.shaderInt64 = f2.features.shaderInt64;
  lim->fp16_storage = f11.storageBuffer16BitAccess;
  lim->fp16_arithmetic = f12.shaderFloat16;

  const char *exts[4];
  guint32 n_exts = 0;
  if (has_device_extension (phys, VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME) &&
      !env_true ("DEPICT_GPU_NO_PUSH_DESCRIPTORS"))
    {
      exts[n_exts++] = VK_KHR_PUSH_DESCRIPTOR_EXTENSION_NAME;
      lim->push_descriptors = TRUE;
    }
  if (has_device_extension (phys, "VK_KHR_portability_subset"))
    exts[n_exts++] = "VK_KHR_portability_subset";
  if (has_device_extension (phys, VK_EXT_MEMORY_BUDGET_EXTENSION_NAME))
    {
      exts[n_exts++] = VK_EXT_MEMORY_BUDGET_EXTENSION_NAME;
      lim->memory_budget = TRUE;
    }

  float prio = 1.0f;
  VkDeviceQueueCreateInfo qinfo = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
    .queueFamilyIndex = self->queue_family,
    .queueCount = 1,
    .pQueuePriorities = &prio,
  };
  VkDeviceCreateInfo dinfo = {
    .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
    .pNext = &e2,
    .queueCreateInfoCount = 1,
    .pQueueCreateInfos = &qinfo,
    .enabledExtensionCount = n_exts,
    .ppEnabledExtensionNames = exts,
  };
  if (!gpu_check_vk (vkCreateDevice (phys, &dinfo, NULL, &self->device), "vkCreateDevice", error))
    return FALSE;
  vkGetDeviceQueue (self->device, self->queue_family, 0, &self->queue);
  if (lim->push_descriptors)
    {
      self->cmd_push_descriptor_set = (PFN_vkCmdPushDescriptorSetKHR) vkGetDeviceProcAddr (
        self->device, "vkCmdPushDescriptorSetKHR");
      if (self->cmd_push_descriptor_set == NULL)
        lim->push_descriptors = FALSE;
    }

  if (!choose_memory_types (self, error))
    return FALSE;
  return gpu_device_new_commands (self, &self->transfer_pool, &self->transfer_cmd,
                                  &self->transfer_fence, error);
}

GpuDevice *
gpu_device_new_for_selector (const char *selector, GError **error)
{
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (GpuDevice) self = g_new0 (GpuDevice, 1);
  self->ref_count = 1;
  g_mutex_init (&self->lock);
  self->pipelines = g_hash_table_new (g_str_hash, g_str_equal);
  self->timings = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  self->instance = create_instance (self, error);
  if (self->instance == VK_NULL_HANDLE)
    return NULL;

  g_autoptr (GPtrArray) phys = NULL;
  g_autoptr (GPtrArray) infos = list_infos (self->instance, &phys, error);
  if (infos == NULL)
    return NULL;
  int idx = select_device (infos, selector, error);
  if (idx < 0)
    return NULL;
  self->physical = phys->pdata[idx];
  GpuDeviceInfo *chosen = infos->pdata[idx];
  self->info = *chosen;
  /* steal the strings */
  chosen->name = chosen->driver_name = chosen->driver_info = chosen->api_version = NULL;

  if (!open_logical_device (self, error))
    return NULL;

  self->timestamps = self->limits.timestamps && env_true ("DEPICT_GPU_TIMESTAMPS");
  self->print_timings = self->timestamps;
  gpu_pipeline_cache_open (self);

  g_debug ("Vulkan device: %s (%s, %s %s), subgroup %u, unified memory %d, push descriptors %d",
           self->info.name, gpu_device_type_to_string (self->info.type), self->info.driver_name,
           self->info.driver_info, self->limits.subgroup_size, self->limits.unified_memory,
           self->limits.push_descriptors);
  return g_steal_pointer (&self);
}

GpuDevice *
gpu_device_new (GError **error)
{
  return gpu_device_new_for_selector (g_getenv ("DEPICT_VULKAN_DEVICE"), error);
}

GpuDevice *
gpu_device_ref (GpuDevice *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
gpu_device_unref (GpuDevice *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;

  if (self->device != VK_NULL_HANDLE)
    {
      vkDeviceWaitIdle (self->device);
      if (self->print_timings)
        {
          g_autofree char *table = gpu_device_get_timings_table (self);
          if (table != NULL)
            fprintf (stderr, "%s", table);
        }
      gpu_pipeline_cache_close (self);
      GHashTableIter iter;
      gpointer value;
      g_hash_table_iter_init (&iter, self->pipelines);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        gpu_pipeline_free (self, value);
      gpu_memory_free_all_blocks (self);
      if (self->transfer_fence != VK_NULL_HANDLE)
        vkDestroyFence (self->device, self->transfer_fence, NULL);
      if (self->transfer_pool != VK_NULL_HANDLE)
        vkDestroyCommandPool (self->device, self->transfer_pool, NULL);
      vkDestroyDevice (self->device, NULL);
    }
  if (self->validation && self->device != VK_NULL_HANDLE &&
      g_atomic_int_get (&self->validation_errors) > 0)
    /* API misuse is a bug: fatal in tests (g_test_init makes criticals fatal), a log line
     * otherwise */
    g_critical ("The Vulkan validation layer reported %d errors on %s (see above).",
                g_atomic_int_get (&self->validation_errors), self->info.name);
  if (self->messenger != VK_NULL_HANDLE)
    {
      PFN_vkDestroyDebugUtilsMessengerEXT destroy =
        (PFN_vkDestroyDebugUtilsMessengerEXT) vkGetInstanceProcAddr (
          self->instance, "vkDestroyDebugUtilsMessengerEXT");
      if (destroy != NULL)
        destroy (self->instance, self->messenger, NULL);
    }
  if (self->instance != VK_NULL_HANDLE)
    vkDestroyInstance (self->instance, NULL);
  g_hash_table_unref (self->pipelines);
  g_hash_table_unref (self->timings);
  g_free (self->pipeline_cache_path);
  gpu_device_info_clear (&self->info);
  g_mutex_clear (&self->lock);
  g_free (self);
}

const GpuDeviceInfo *
gpu_device_get_info (GpuDevice *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->info;
}

const GpuDeviceLimits *
gpu_device_get_limits (GpuDevice *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->limits;
}

guint
gpu_device_get_validation_errors (GpuDevice *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return (guint) g_atomic_int_get (&self->validation_errors);
}

gboolean
gpu_device_validation_enabled (GpuDevice *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->validation;
}

guint64
gpu_device_get_memory_available (GpuDevice *self)
{
  g_return_val_if_fail (self != NULL, 0);
  guint32 heap = self->memory.memoryTypes[self->device_memory_type].heapIndex;
  guint64 available;
  if (self->limits.memory_budget)
    {
      VkPhysicalDeviceMemoryBudgetPropertiesEXT budget = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT,
      };
      VkPhysicalDeviceMemoryProperties2 props = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2,
        .pNext = &budget,
      };
      vkGetPhysicalDeviceMemoryProperties2 (self->physical, &props);
      available = budget.heapBudget[heap] > budget.heapUsage[heap]
                    ? budget.heapBudget[heap] - budget.heapUsage[heap]
                    : 0;
    }
  else
    {
      g_mutex_lock (&self->lock);
      guint64 size = self->memory.memoryHeaps[heap].size, used = self->allocated;
      g_mutex_unlock (&self->lock);
      available = size > used ? size - used : 0;
    }
  const char *env = g_getenv ("DEPICT_GPU_MEMORY_BUDGET");
  if (env != NULL && *env != '\0')
    {
      guint64 cap = g_ascii_strtoull (env, NULL, 10);
      g_mutex_lock (&self->lock);
      guint64 used = self->allocated;
      g_mutex_unlock (&self->lock);
      available = MIN (available, cap > used ? cap - used : 0);
    }
  return available;
}

void
gpu_device_set_submission_gflop (GpuDevice *self, double gflop)
{
  g_return_if_fail (self != NULL && gflop >= 0);
  self->limits.submission_gflop = gflop;
}

void
gpu_device_set_kernels (GpuDevice *self, GpuKernelSet kernels)
{
  g_return_if_fail (self != NULL);
  self->limits.kernels = kernels;
}

void
gpu_device_limit_binding_range_for_testing (GpuDevice *self, guint64 max_bytes)
{
  g_return_if_fail (self != NULL);
  if (self->own_storage_buffer_range == 0)
    {
      self->own_storage_buffer_range = self->limits.max_storage_buffer_range;
      self->own_texel_buffer_elements = self->limits.max_texel_buffer_elements;
    }
  if (max_bytes == 0)
    {
      self->limits.max_storage_buffer_range = self->own_storage_buffer_range;
      self->limits.max_texel_buffer_elements = self->own_texel_buffer_elements;
      return;
    }
  self->limits.max_storage_buffer_range = MIN (self->limits.max_storage_buffer_range, max_bytes);
  self->limits.max_texel_buffer_elements =
    MIN (self->limits.max_texel_buffer_elements, max_bytes / 16);
}

/* ------------------------------------------------------------------------------------- */
/* Timings                                                                                */

void
gpu_device_set_timestamps (GpuDevice *self, gboolean enabled)
{
  g_return_if_fail (self != NULL);
  self->timestamps = enabled && self->limits.timestamps;
}

static gint64 counters[GPU_N_COUNTERS];

void
gpu_counter_add (GpuCounter counter, gint64 delta)
{
  __atomic_fetch_add (&counters[counter], delta, __ATOMIC_RELAXED);
}

void
gpu_counters_get (GpuCounters *out)
{
  g_return_if_fail (out != NULL);
  out->vk_objects = (guint64) __atomic_load_n (&counters[GPU_COUNTER_VK_OBJECTS], __ATOMIC_RELAXED);
  out->submissions =
    (guint64) __atomic_load_n (&counters[GPU_COUNTER_SUBMISSIONS], __ATOMIC_RELAXED);
  out->buffers = (guint64) __atomic_load_n (&counters[GPU_COUNTER_BUFFERS], __ATOMIC_RELAXED);
  out->buffer_bytes =
    (guint64) __atomic_load_n (&counters[GPU_COUNTER_BUFFER_BYTES], __ATOMIC_RELAXED);
}

gboolean
gpu_device_new_commands (GpuDevice *self, VkCommandPool *pool, VkCommandBuffer *cmd, VkFence *fence,
                         GError **error)
{
  VkCommandPoolCreateInfo pinfo = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
    .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
    .queueFamilyIndex = self->queue_family,
  };
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  if (!gpu_check_vk (vkCreateCommandPool (self->device, &pinfo, NULL, pool), "vkCreateCommandPool",
                     error))
    return FALSE;
  VkCommandBufferAllocateInfo cinfo = {
    .sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
    .commandPool = *pool,
    .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
    .commandBufferCount = 1,
  };
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  if (!gpu_check_vk (vkAllocateCommandBuffers (self->device, &cinfo, cmd),
                     "vkAllocateCommandBuffers", error))
    return FALSE;
  VkFenceCreateInfo finfo = { .sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO };
  gpu_counter_add (GPU_COUNTER_VK_OBJECTS, 1);
  return gpu_check_vk (vkCreateFence (self->device, &finfo, NULL, fence), "vkCreateFence", error);
}

void
gpu_device_add_timing (GpuDevice *self, const char *label, double ms)
{
  g_mutex_lock (&self->lock);
  GpuTiming *t = g_hash_table_lookup (self->timings, label);
  if (t == NULL)
    {
      t = g_new0 (GpuTiming, 1);
      g_hash_table_insert (self->timings, g_strdup (label), t);
    }
  t->total_ms += ms;
  t->count++;
  g_mutex_unlock (&self->lock);
}

void
gpu_device_reset_timings (GpuDevice *self)
{
  g_return_if_fail (self != NULL);
  g_mutex_lock (&self->lock);
  g_hash_table_remove_all (self->timings);
  g_mutex_unlock (&self->lock);
}

typedef struct {
  const char *label;
  GpuTiming *t;
} TimingRow;

static int
timing_row_cmp (gconstpointer a, gconstpointer b)
{
  const TimingRow *x = a, *y = b;
  return x->t->total_ms < y->t->total_ms ? 1 : x->t->total_ms > y->t->total_ms ? -1 : 0;
}

char *
gpu_device_get_timings_table (GpuDevice *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_mutex_lock (&self->lock);
  guint n = g_hash_table_size (self->timings);
  if (n == 0)
    {
      g_mutex_unlock (&self->lock);
      return NULL;
    }
  g_autofree TimingRow *rows = g_new0 (TimingRow, n);
  GHashTableIter iter;
  gpointer k, v;
  guint i = 0;
  double total = 0;
  g_hash_table_iter_init (&iter, self->timings);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      rows[i].label = k;
      rows[i].t = v;
      total += rows[i].t->total_ms;
      i++;
    }
  qsort (rows, n, sizeof *rows, timing_row_cmp);
  GString *s = g_string_new (NULL);
  g_string_append_printf (s, "GPU time per op on %s\n", self->info.name);
  g_string_append_printf (s, "%-32s %12s %8s %7s\n", "op", "ms", "count", "share");
  for (i = 0; i < n; i++)
    g_string_append_printf (s, "%-32s %12.3f %8" G_GUINT64_FORMAT " %6.1f%%\n", rows[i].label,
                            rows[i].t->total_ms, rows[i].t->count,
                            total > 0 ? 100.0 * rows[i].t->total_ms / total : 0.0);
  g_string_append_printf (s, "%-32s %12.3f\n", "total", total);
  g_mutex_unlock (&self->lock);
  return g_string_free (s, FALSE);
}
