/* florence-engine.c: choosing the engine; the CPU reference engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-engine.h"

#include <glib/gi18n.h>
#include <string.h>

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

static FlorenceEngine *
engine_new_cpu (const FlorenceConfig *config, FlorenceCheckpoint *checkpoint, GError **error)
{
  FlorenceReference *ref = florence_reference_new (config, checkpoint, error);
  if (ref == NULL)
    return NULL;
  FlorenceEngine *self = g_new0 (FlorenceEngine, 1);
  self->kind = FLORENCE_DEVICE_CPU_REFERENCE;
  self->device_name =
    g_strdup_printf (_ ("CPU reference (fp32, %u threads)"), g_get_num_processors ());
  self->encode_image = cpu_encode_image;
  self->prepare_task = cpu_prepare_task;
  self->features_free = cpu_features_free;
  self->decoder_free = cpu_decoder_free;
  self->free = cpu_free;
  self->priv = ref;
  return self;
}

/* ---------------------------------------------------------------------------------------------
 * Choice
 * ------------------------------------------------------------------------------------------- */

static FlorenceEngine *
engine_new_of_kind (FlorenceDeviceKind kind, const char *vulkan_device,
                    const FlorenceConfig *config, FlorenceCheckpoint *checkpoint, GError **error)
{
  FlorenceDeviceKind resolved;
  int index = -1;
  if (!florence_device_resolve (kind, vulkan_device, &resolved, &index, error))
    return NULL;
  switch (resolved)
    {
    case FLORENCE_DEVICE_VULKAN:
      {
        g_autofree char *selector = g_strdup_printf ("%d", index);
        g_autoptr (GError) gpu_error = NULL;
        FlorenceEngine *engine = florence_engine_gpu_new (config, selector, checkpoint, &gpu_error);
        const char *env = g_getenv ("DEPICT_VULKAN_DEVICE");
        if (engine != NULL || kind != FLORENCE_DEVICE_AUTO || (env != NULL && *env != '\0'))
          {
            if (engine == NULL)
              g_propagate_error (error, g_steal_pointer (&gpu_error));
            return engine;
          }
        /* AUTO chose this GPU: say why it is not used, and run on the CPU */
        g_warning ("The GPU engine could not start (%s); running on the CPU instead.",
                   gpu_error->message);
        return engine_new_cpu (config, checkpoint, error);
      }
    case FLORENCE_DEVICE_CPU_REFERENCE:
    default:
      return engine_new_cpu (config, checkpoint, error);
    }
}

FlorenceEngine *
florence_engine_new (FlorenceDeviceKind kind, const char *vulkan_device,
                     const FlorenceConfig *config, FlorenceCheckpoint *checkpoint, GError **error)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (checkpoint != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Vulkan drivers may crash rather than fail when memory is short: ask before. */
  if (kind != FLORENCE_DEVICE_CPU_REFERENCE)
    {
      g_autoptr (GError) memory_error = NULL;
      if (!florence_memory_check (FLORENCE_DEVICE_VULKAN, config, checkpoint, &memory_error))
        {
          if (kind == FLORENCE_DEVICE_VULKAN)
            {
              g_propagate_error (error, g_steal_pointer (&memory_error));
              return NULL;
            }
          g_warning ("%s", memory_error->message);
          kind = FLORENCE_DEVICE_CPU_REFERENCE;
        }
    }
  if (kind == FLORENCE_DEVICE_CPU_REFERENCE &&
      !florence_memory_check (FLORENCE_DEVICE_CPU_REFERENCE, config, checkpoint, error))
    return NULL;
  FlorenceEngine *engine = engine_new_of_kind (kind, vulkan_device, config, checkpoint, error);
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
florence_engine_free (FlorenceEngine *self)
{
  if (self == NULL)
    return;
  if (self->free != NULL)
    self->free (self);
  g_free (self->device_name);
  g_free (self);
}
