/* florence-engine.c: choosing the engine; the CPU reference as an engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-engine.h"

#include <glib/gi18n.h>
#include <string.h>

#include "florence/engine/florence-engine-cpu.h"
#include "florence/engine/florence-memory.h"
#include "florence/engine/florence-reference.h"

G_DEFINE_QUARK (florence - engine - error - quark, florence_engine_error)

gboolean
florence_device_kind_from_string (const char *str, FlorenceDeviceKind *out_kind)
{
  g_return_val_if_fail (out_kind != NULL, FALSE);
  if (str == NULL || g_ascii_strcasecmp (str, "auto") == 0 ||
      g_ascii_strcasecmp (str, "cpu") == 0 || g_ascii_strcasecmp (str, "cpu-reference") == 0 ||
      g_ascii_strcasecmp (str, "vulkan") == 0 || g_ascii_strcasecmp (str, "gpu") == 0)
    return florence_device_parse (str, out_kind, NULL, NULL);
  return FALSE;
}

/* ---------------------------------------------------------------------------------------------
 * CPU reference engine
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  FlorenceImageFeatures parent;
  float *data; /* [n_tokens × d_model] */
} CpuFeatures;

static FlorenceImageFeatures *
cpu_encode_image (FlorenceEngine *self, const float *pixel_values, int size, double *seconds,
                  GCancellable *cancellable, GError **error)
{
  FlorenceReference *ref = self->priv;
  gint64 t0 = g_get_monotonic_time ();
  int n_image = 0;
  florence_reference_set_tap (ref, self->tap, self->tap_data);
  float *data =
    florence_reference_encode_image (ref, pixel_values, size, &n_image, cancellable, error);
  florence_reference_set_tap (ref, NULL, NULL);
  if (data == NULL)
    return NULL;
  CpuFeatures *f = g_new0 (CpuFeatures, 1);
  f->parent.size = size;
  f->parent.n_tokens = n_image;
  f->parent.bytes =
    (guint64) n_image * (guint64) florence_reference_get_config (ref)->d_model * sizeof (float);
  f->data = data;
  if (seconds != NULL)
    *seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  return &f->parent;
}

static FlorenceDecoderBackend *
cpu_prepare_task (FlorenceEngine *self, const FlorenceImageFeatures *features, const gint32 *ids,
                  int n_ids, double *seconds, GCancellable *cancellable, GError **error)
{
  FlorenceReference *ref = self->priv;
  const CpuFeatures *f = (const CpuFeatures *) features;
  gint64 t0 = g_get_monotonic_time ();
  int n_enc = 0;
  florence_reference_set_tap (ref, self->tap, self->tap_data);
  g_autofree float *enc = florence_reference_encode (ref, f->data, features->n_tokens, ids, n_ids,
                                                     &n_enc, cancellable, error);
  florence_reference_set_tap (ref, NULL, NULL);
  if (enc == NULL)
    return NULL;
  FlorenceDecoderBackend *dec = florence_reference_decoder_new (ref, enc, n_enc, error);
  if (seconds != NULL)
    *seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  return dec;
}

static void
cpu_features_free (FlorenceEngine *self, FlorenceImageFeatures *features)
{
  CpuFeatures *f = (CpuFeatures *) features;
  g_free (f->data);
  g_free (f);
}

static void
cpu_decoder_free (FlorenceEngine *self, FlorenceDecoderBackend *decoder)
{
  florence_reference_decoder_free (decoder);
}

static void
cpu_free (FlorenceEngine *self)
{
  florence_reference_free (self->priv);
}

static void
cpu_set_n_threads (FlorenceEngine *self, int n_threads)
{
  self->n_threads = n_threads > 0 ? CLAMP (n_threads, 1, 256) : florence_device_default_threads ();
  florence_reference_set_n_threads (self->priv, self->n_threads);
  g_free (self->device_name);
  self->device_name = g_strdup_printf (
    /* Translators: the engine in use; %d is the number of threads */
    g_dngettext (GETTEXT_PACKAGE, "CPU reference (fp32, %d thread)",
                 "CPU reference (fp32, %d threads)", (gulong) self->n_threads),
    self->n_threads);
}

static FlorenceEngine *
engine_new_reference (const FlorenceConfig *config, FlorenceCheckpoint *checkpoint, GError **error)
{
  FlorenceReference *ref = florence_reference_new (config, checkpoint, error);
  if (ref == NULL)
    return NULL;
  FlorenceEngine *self = g_new0 (FlorenceEngine, 1);
  self->kind = FLORENCE_DEVICE_CPU_REFERENCE;
  self->set_n_threads = cpu_set_n_threads;
  self->priv = ref;
  cpu_set_n_threads (self, 0);
  self->encode_image = cpu_encode_image;
  self->prepare_task = cpu_prepare_task;
  self->features_free = cpu_features_free;
  self->decoder_free = cpu_decoder_free;
  self->free = cpu_free;
  return self;
}

/* ---------------------------------------------------------------------------------------------
 * Choice
 * ------------------------------------------------------------------------------------------- */

FlorenceEngine *
florence_engine_new (FlorenceDeviceKind kind, const char *vulkan_device,
                     const FlorenceConfig *config, FlorenceCheckpoint *checkpoint, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (checkpoint != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* auto picks by itself unless DEPICT_VULKAN_DEVICE names a device: when the GPU it would
   * pick cannot start, it says why and runs on the CPU */
  const char *env = g_getenv ("DEPICT_VULKAN_DEVICE");
  const gboolean may_fall_back = kind == FLORENCE_DEVICE_AUTO && (env == NULL || *env == '\0');
  g_autoptr (GError) gpu_error = NULL;
  FlorenceDeviceKind resolved = kind;
  int index = -1;
  /* Vulkan drivers may crash rather than fail when memory is short: ask before even listing
   * the devices */
  if ((kind == FLORENCE_DEVICE_AUTO || kind == FLORENCE_DEVICE_VULKAN) &&
      !florence_memory_check (FLORENCE_DEVICE_VULKAN, config, checkpoint, &gpu_error))
    {
      if (!may_fall_back)
        {
          g_propagate_error (error, g_steal_pointer (&gpu_error));
          return NULL;
        }
      g_warning ("%s", gpu_error->message);
      resolved = FLORENCE_DEVICE_CPU;
    }
  else if (!florence_device_resolve (kind, vulkan_device, &resolved, &index, error))
    return NULL;

  FlorenceEngine *engine = NULL;
  if (resolved == FLORENCE_DEVICE_VULKAN)
    {
      g_autofree char *selector = g_strdup_printf ("%d", index);
      engine = florence_engine_gpu_new (config, selector, checkpoint, &gpu_error);
      if (engine == NULL && !may_fall_back)
        {
          g_propagate_error (error, g_steal_pointer (&gpu_error));
          return NULL;
        }
      if (engine == NULL)
        {
          g_warning ("The GPU engine could not start (%s); running on the CPU instead.",
                     gpu_error->message);
          resolved = FLORENCE_DEVICE_CPU;
        }
    }
  if (engine == NULL)
    {
      /* both CPU engines hold fp32 weights (the estimate of florence-memory.h) */
      if (!florence_memory_check (FLORENCE_DEVICE_CPU_REFERENCE, config, checkpoint, error))
        return NULL;
      engine = resolved == FLORENCE_DEVICE_CPU_REFERENCE
                 ? engine_new_reference (config, checkpoint, error)
                 : florence_engine_cpu_new (config, checkpoint, 0, error);
    }
  /* The engine has read every weight: a file cut short meanwhile gave zeros. */
  if (engine != NULL && !florence_checkpoint_check (checkpoint, error))
    g_clear_pointer (&engine, florence_engine_free);
  return engine;
}

FlorenceDecoderBackend *
florence_engine_prepare (FlorenceEngine *self, const float *pixel_values, int size,
                         const gint32 *ids, int n_ids, FlorenceEngineTimings *timings,
                         GCancellable *cancellable, GError **error)
{
  double vision = 0, encoder = 0;

  g_return_val_if_fail (self != NULL, NULL);
  FlorenceImageFeatures *features =
    self->encode_image (self, pixel_values, size, &vision, cancellable, error);
  if (features == NULL)
    return NULL;
  FlorenceDecoderBackend *dec =
    self->prepare_task (self, features, ids, n_ids, &encoder, cancellable, error);
  self->features_free (self, features);
  if (timings != NULL)
    {
      timings->vision = vision;
      timings->encoder = encoder;
    }
  return dec;
}

void
florence_engine_features_free (FlorenceEngine *self, FlorenceImageFeatures *features)
{
  if (features != NULL)
    self->features_free (self, features);
}

gboolean
florence_engine_encode_images (FlorenceEngine *self, guint n, const float *const *pixel_values,
                               int size, FlorenceImageFeatures **out, double *seconds,
                               GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (n == 0 || (pixel_values != NULL && out != NULL), FALSE);

  if (self->encode_images != NULL && n > 1)
    return self->encode_images (self, n, pixel_values, size, out, seconds, cancellable, error);
  gint64 t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      out[i] = self->encode_image (self, pixel_values[i], size, NULL, cancellable, error);
      if (out[i] == NULL)
        {
          for (guint j = 0; j < i; j++)
            {
              self->features_free (self, out[j]);
              out[j] = NULL;
            }
          return FALSE;
        }
    }
  if (seconds != NULL)
    *seconds = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  return TRUE;
}

guint
florence_engine_get_image_batch (FlorenceEngine *self, int size)
{
  g_return_val_if_fail (self != NULL, 1);
  return self->image_batch != NULL ? MAX (self->image_batch (self, size), 1u) : 1;
}

void
florence_engine_set_n_threads (FlorenceEngine *self, int n_threads)
{
  g_return_if_fail (self != NULL);
  if (self->set_n_threads != NULL)
    self->set_n_threads (self, n_threads);
}

int
florence_engine_get_n_threads (FlorenceEngine *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->n_threads;
}

void
florence_engine_free (FlorenceEngine *self)
{
  if (self == NULL)
    return;
  if (self->free != NULL)
    self->free (self);
  g_free (self->device_name);
  g_free (self);
}
