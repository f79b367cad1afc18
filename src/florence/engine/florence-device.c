/* florence-device.c: where a model runs — the device names, the list, and the automatic choice
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-device.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "florence/engine/florence-engine-cpu.h"
#include "gpu/gpu-device.h"

G_DEFINE_QUARK (florence - device - error - quark, florence_device_error)

void
florence_device_info_free (FlorenceDeviceInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->id);
  g_free (info->name);
  g_free (info->description);
  g_free (info->blas);
  g_free (info->driver);
  g_free (info->driver_info);
  g_free (info->vulkan_version);
  g_free (info);
}

const char *
florence_device_kind_to_string (FlorenceDeviceKind kind)
{
  switch (kind)
    {
    case FLORENCE_DEVICE_CPU:
      return "cpu";
    case FLORENCE_DEVICE_CPU_REFERENCE:
      return "cpu-reference";
    case FLORENCE_DEVICE_VULKAN:
      return "vulkan";
    case FLORENCE_DEVICE_AUTO:
    default:
      return "auto";
    }
}

/* a GPU of its own: what "auto" prefers to the CPU engine */
static gboolean
is_real_gpu (const GpuDeviceInfo *info)
{
  return info->usable &&
         (info->type == GPU_DEVICE_TYPE_DISCRETE || info->type == GPU_DEVICE_TYPE_INTEGRATED ||
          info->type == GPU_DEVICE_TYPE_VIRTUAL);
}

/* The Vulkan device gpu_device_new() would open (the best usable one: discrete, integrated,
 * virtual, then CPU), or -1; with @real_only, -1 unless that one is a real GPU. */
static int
best_vulkan (GPtrArray *gpus, gboolean real_only)
{
  for (guint i = 0; gpus != NULL && i < gpus->len; i++)
    {
      const GpuDeviceInfo *info = gpus->pdata[i];
      if (info->is_default)
        return !real_only || is_real_gpu (info) ? (int) i : -1;
    }
  return -1;
}

int
florence_device_default_threads (void)
{
  const char *env = g_getenv ("DEPICT_CPU_THREADS");
  int n = env != NULL ? atoi (env) : 0;
  return CLAMP (n > 0 ? n : (int) g_get_num_processors (), 1, 64);
}

static FlorenceDeviceInfo *
info_cpu (gboolean reference)
{
  FlorenceDeviceInfo *d = g_new0 (FlorenceDeviceInfo, 1);
  d->kind = reference ? FLORENCE_DEVICE_CPU_REFERENCE : FLORENCE_DEVICE_CPU;
  d->id = g_strdup (florence_device_kind_to_string (d->kind));
  d->type = "cpu";
  d->vulkan_index = -1;
  d->n_threads = florence_device_default_threads ();
  d->usable = TRUE;
  if (reference)
    {
      d->name = g_strdup (_ ("CPU reference"));
      d->description = g_strdup_printf (
        /* Translators: a device choice; %d is the number of threads */
        g_dngettext (GETTEXT_PACKAGE, "Plain C reference engine (fp32, slow; for tests), %d thread",
                     "Plain C reference engine (fp32, slow; for tests), %d threads",
                     (gulong) d->n_threads),
        d->n_threads);
    }
  else
    {
      g_autoptr (GError) error = NULL;
      d->name = g_strdup (_ ("CPU"));
      d->blas = florence_engine_cpu_describe_blas (&error);
      d->usable = d->blas != NULL;
      if (d->blas != NULL)
        d->description = g_strdup_printf (
          /* Translators: a device choice; %s is a math library (“OpenBLAS 0.3.21, Haswell
           * kernels”), %d the number of threads */
          g_dngettext (GETTEXT_PACKAGE, "CPU engine on %s, %d thread",
                       "CPU engine on %s, %d threads", (gulong) d->n_threads),
          d->blas, d->n_threads);
      else
        d->description = g_strdup (error->message);
    }
  return d;
}

static FlorenceDeviceInfo *
info_vulkan (const GpuDeviceInfo *g)
{
  FlorenceDeviceInfo *d = g_new0 (FlorenceDeviceInfo, 1);
  g_autofree char *memory = g_format_size (g->device_local_memory);
  d->kind = FLORENCE_DEVICE_VULKAN;
  d->id = g_strdup_printf ("vulkan:%u", g->index);
  d->name = g_strdup (g->name);
  d->type = gpu_device_type_to_string (g->type);
  d->driver = g_strdup (g->driver_name);
  d->driver_info = g_strdup (g->driver_info);
  d->vulkan_version = g_strdup (g->api_version);
  d->vendor_id = g->vendor_id;
  d->device_id = g->device_id;
  d->vulkan_index = (int) g->index;
  d->memory = g->device_local_memory;
  d->usable = g->usable;
  /* Translators: a Vulkan device: its type, driver, driver version, Vulkan version, memory,
   * e.g. "CPU (software), llvmpipe Mesa 22.3.6 (LLVM 15.0.6), Vulkan 1.3.230, 24.0 GB" */
  d->description =
    g_strdup_printf (_ ("%s, %s %s, Vulkan %s, %s"), gpu_device_type_to_label (g->type),
                     g->driver_name, g->driver_info, g->api_version, memory);
  return d;
}

GPtrArray *
florence_device_list (GError **vulkan_error)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) florence_device_info_free);
  g_ptr_array_add (list, info_cpu (FALSE));
  g_ptr_array_add (list, info_cpu (TRUE));
  g_autoptr (GPtrArray) gpus = gpu_device_list (vulkan_error);
  for (guint i = 0; gpus != NULL && i < gpus->len; i++)
    g_ptr_array_add (list, info_vulkan (gpus->pdata[i]));

  int best = best_vulkan (gpus, TRUE);
  for (guint i = 0; i < list->len; i++)
    {
      FlorenceDeviceInfo *d = list->pdata[i];
      d->is_default = best >= 0 ? d->vulkan_index == best : d->kind == FLORENCE_DEVICE_CPU;
    }
  return list;
}

const char *
florence_device_list_get_default (GPtrArray *list)
{
  g_return_val_if_fail (list != NULL, NULL);
  for (guint i = 0; i < list->len; i++)
    if (((FlorenceDeviceInfo *) list->pdata[i])->is_default)
      return ((FlorenceDeviceInfo *) list->pdata[i])->id;
  return "cpu";
}

/* "cpu (CPU engine …), cpu-reference (…), vulkan:0 (llvmpipe …)" */
static char *
list_for_people (void)
{
  g_autoptr (GPtrArray) list = florence_device_list (NULL);
  GString *s = g_string_new ("auto");
  for (guint i = 0; i < list->len; i++)
    {
      const FlorenceDeviceInfo *d = list->pdata[i];
      g_string_append_printf (s, ", %s (%s)", d->id,
                              d->kind == FLORENCE_DEVICE_VULKAN ? d->name : d->description);
    }
  return g_string_free (s, FALSE);
}

/* The Vulkan device that @selector names (a number or a part of a name), or -1 with @error
 * set. @what (may be NULL) names the environment variable the name came from. */
static int
match_vulkan (GPtrArray *gpus, const char *selector, const char *what, GError **error)
{
  const char *text = selector;
  if (g_ascii_strncasecmp (text, "vulkan:", 7) == 0)
    text = selector + 7;

  int found = -1;
  gboolean unusable = FALSE;
  char *end = NULL;
  guint64 idx = g_ascii_strtoull (text, &end, 10);
  if (*text != '\0' && end != text && *end == '\0')
    {
      if (gpus != NULL && idx < gpus->len)
        {
          found = ((GpuDeviceInfo *) gpus->pdata[idx])->usable ? (int) idx : -1;
          unusable = found < 0;
        }
    }
  else if (*text != '\0')
    {
      g_autofree char *needle = g_utf8_casefold (text, -1);
      for (guint i = 0; gpus != NULL && i < gpus->len && found < 0; i++)
        {
          const GpuDeviceInfo *info = gpus->pdata[i];
          g_autofree char *hay = g_utf8_casefold (info->name, -1);
          if (strstr (hay, needle) != NULL)
            {
              if (info->usable)
                found = (int) i;
              else
                unusable = TRUE;
            }
        }
    }
  if (found >= 0)
    return found;

  g_autofree char *devices = list_for_people ();
  g_autofree char *problem =
    unusable
      /* Translators: %s is a device name */
      ? g_strdup_printf (_ ("“%s” is a Vulkan device that cannot run Depict (it lacks Vulkan 1.2 "
                            "or a compute queue)."),
                         selector)
      /* Translators: %s is a device name */
      : g_strdup_printf (_ ("“%s” is no device here."), selector);
  if (what != NULL)
    g_set_error (error, FLORENCE_DEVICE_ERROR, FLORENCE_DEVICE_ERROR_NOT_FOUND,
                 /* Translators: “DEPICT_VULKAN_DEVICE is set: “foo” is no device here. Use one
                  * of: auto, cpu (…), …” */
                 _ ("%s is set: %s Use one of: %s."), what, problem, devices);
  else
    g_set_error (error, FLORENCE_DEVICE_ERROR, FLORENCE_DEVICE_ERROR_NOT_FOUND,
                 /* Translators: “foo” is no device here. Use one of: auto, cpu (…), … */
                 _ ("%s Use one of: %s."), problem, devices);
  return -1;
}

gboolean
florence_device_parse (const char *name, FlorenceDeviceKind *kind, char **vulkan_selector,
                       GError **error)
{
  g_return_val_if_fail (kind != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (vulkan_selector != NULL)
    *vulkan_selector = NULL;
  if (name == NULL || *name == '\0' || g_ascii_strcasecmp (name, "auto") == 0)
    *kind = FLORENCE_DEVICE_AUTO;
  else if (g_ascii_strcasecmp (name, "cpu") == 0)
    *kind = FLORENCE_DEVICE_CPU;
  else if (g_ascii_strcasecmp (name, "cpu-reference") == 0)
    *kind = FLORENCE_DEVICE_CPU_REFERENCE;
  else if (g_ascii_strcasecmp (name, "vulkan") == 0 || g_ascii_strcasecmp (name, "gpu") == 0)
    *kind = FLORENCE_DEVICE_VULKAN;
  else
    {
      g_autoptr (GPtrArray) gpus = gpu_device_list (NULL);
      if (match_vulkan (gpus, name, NULL, error) < 0)
        return FALSE;
      *kind = FLORENCE_DEVICE_VULKAN;
      if (vulkan_selector != NULL)
        *vulkan_selector =
          g_strdup (g_ascii_strncasecmp (name, "vulkan:", 7) == 0 ? name + 7 : name);
    }
  return TRUE;
}

gboolean
florence_device_resolve (FlorenceDeviceKind kind, const char *vulkan_selector,
                         FlorenceDeviceKind *out_kind, int *out_vulkan_index, GError **error)
{
  g_return_val_if_fail (out_kind != NULL && out_vulkan_index != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *out_vulkan_index = -1;
  if (kind == FLORENCE_DEVICE_CPU || kind == FLORENCE_DEVICE_CPU_REFERENCE)
    {
      *out_kind = kind;
      return TRUE;
    }

  const char *what = NULL;
  const char *env = g_getenv ("DEPICT_VULKAN_DEVICE");
  if ((vulkan_selector == NULL || *vulkan_selector == '\0') && env != NULL && *env != '\0')
    {
      vulkan_selector = env;
      what = "DEPICT_VULKAN_DEVICE";
    }

  g_autoptr (GError) vulkan_error = NULL;
  g_autoptr (GPtrArray) gpus = gpu_device_list (&vulkan_error);
  int idx;
  if (vulkan_selector != NULL && *vulkan_selector != '\0')
    {
      if ((idx = match_vulkan (gpus, vulkan_selector, what, error)) < 0)
        return FALSE;
    }
  else if (kind == FLORENCE_DEVICE_AUTO)
    {
      idx = best_vulkan (gpus, TRUE);
      if (idx < 0)
        {
          *out_kind = FLORENCE_DEVICE_CPU;
          return TRUE;
        }
    }
  else if ((idx = best_vulkan (gpus, FALSE)) < 0)
    {
      if (vulkan_error != NULL)
        g_propagate_error (error, g_steal_pointer (&vulkan_error));
      else
        g_set_error (error, GPU_ERROR, GPU_ERROR_NO_DEVICE,
                     _ ("No Vulkan device supports Vulkan 1.2, which Depict needs. Update Mesa's "
                        "Vulkan drivers (Debian: mesa-vulkan-drivers) or your GPU vendor's "
                        "driver, or run on the CPU (--device cpu)."));
      return FALSE;
    }
  *out_kind = FLORENCE_DEVICE_VULKAN;
  *out_vulkan_index = idx;
  return TRUE;
}
