/* florence-engine.c: choosing the engine; the CPU reference engine
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/engine/florence-engine.h"

#include <glib/gi18n.h>
#include <string.h>

#include "florence/engine/florence-reference.h"

G_DEFINE_QUARK (florence - engine - error - quark, florence_engine_error)

gboolean
florence_device_kind_from_string (const char *str, FlorenceDeviceKind *out_kind)
{
  g_return_val_if_fail (out_kind != NULL, FALSE);
  if (str == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (str, "auto") == 0)
    *out_kind = FLORENCE_DEVICE_AUTO;
  else if (g_ascii_strcasecmp (str, "cpu-reference") == 0 || g_ascii_strcasecmp (str, "cpu") == 0)
    *out_kind = FLORENCE_DEVICE_CPU_REFERENCE;
  else if (g_ascii_strcasecmp (str, "vulkan") == 0 || g_ascii_strcasecmp (str, "gpu") == 0)
    *out_kind = FLORENCE_DEVICE_VULKAN;
  else
    return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------------------------------------
 * CPU reference engine
 * ------------------------------------------------------------------------------------------- */

static FlorenceDecoderBackend *
cpu_prepare (FlorenceEngine *self, const float *pixel_values, int size, const gint32 *ids,
             int n_ids, FlorenceEngineTimings *timings, GCancellable *cancellable, GError **error)
{
  FlorenceReference *ref = self->priv;
  florence_reference_set_tap (ref, self->tap, self->tap_data);
  gint64 t0 = g_get_monotonic_time ();
  int n_image = 0, n_enc = 0;
  g_autofree float *features =
    florence_reference_encode_image (ref, pixel_values, size, &n_image, cancellable, error);
  if (features == NULL)
    return NULL;
  gint64 t1 = g_get_monotonic_time ();
  g_autofree float *enc =
    florence_reference_encode (ref, features, n_image, ids, n_ids, &n_enc, cancellable, error);
  if (enc == NULL)
    return NULL;
  FlorenceDecoderBackend *dec = florence_reference_decoder_new (ref, enc, n_enc, error);
  florence_reference_set_tap (ref, NULL, NULL);
  gint64 t2 = g_get_monotonic_time ();
  if (timings != NULL)
    {
      timings->vision = (double) (t1 - t0) / G_USEC_PER_SEC;
      timings->encoder = (double) (t2 - t1) / G_USEC_PER_SEC;
    }
  return dec;
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
  self->prepare = cpu_prepare;
  self->decoder_free = cpu_decoder_free;
  self->free = cpu_free;
  self->priv = ref;
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

  switch (kind)
    {
    case FLORENCE_DEVICE_VULKAN:
      return florence_engine_gpu_new (config, vulkan_device, checkpoint, error);
    case FLORENCE_DEVICE_AUTO:
      {
        g_autoptr (GError) gpu_error = NULL;
        FlorenceEngine *engine =
          florence_engine_gpu_new (config, vulkan_device, checkpoint, &gpu_error);
        if (engine != NULL)
          return engine;
        g_debug ("No GPU engine (%s); running on the CPU reference", gpu_error->message);
        return engine_new_cpu (config, checkpoint, error);
      }
    case FLORENCE_DEVICE_CPU_REFERENCE:
    default:
      return engine_new_cpu (config, checkpoint, error);
    }
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
