/* florence-engine.h: what runs the Florence-2 graph (the CPU reference, or the GPU engine)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An engine turns pixel_values and prompt ids into a decoder backend attached to the encoder
 * output (vision tower → projection → encoder → cross-attention keys/values); generation then
 * drives that backend (florence-generate.h). Where the tensors live in between is the engine's
 * business: the GPU engine keeps them on the device.
 */
#pragma once

#include <gio/gio.h>

#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "florence/engine/florence-device.h"
#include "florence/generate/florence-generate.h"
#include "florence/engine/florence-reference.h"

G_BEGIN_DECLS

#define FLORENCE_ENGINE_ERROR (florence_engine_error_quark ())

typedef enum {
  FLORENCE_ENGINE_ERROR_UNAVAILABLE, /* the asked-for device kind cannot be used here */
  FLORENCE_ENGINE_ERROR_NO_MEMORY,   /* the engine would not find the memory it needs */
} FlorenceEngineError;

GQuark florence_engine_error_quark (void);

/* Parses "auto", "cpu", "cpu-reference" and "vulkan" (or "gpu") only; names of Vulkan devices
 * are refused. florence_device_parse() reads every device name and checks it: use that. */
gboolean florence_device_kind_from_string (const char *str, FlorenceDeviceKind *out_kind);

typedef struct _FlorenceEngine FlorenceEngine;

typedef struct {
  double vision;  /* seconds: tower + projection (0 when the features were given) */
  double encoder; /* seconds: encoder + cross-attention keys/values */
} FlorenceEngineTimings;

/* The image tokens of one picture (vision tower → 2-D positions → projection → LayerNorm), where
 * the engine keeps them (device memory on the GPU). They depend on the picture and the input
 * size only, so any number of tasks can run on them. Engines embed this header. */
typedef struct {
  int size;      /* model input side the picture was processed at */
  int n_tokens;  /* image tokens, the pooled token first */
  guint64 bytes; /* memory the features hold (a cache sizes itself by it) */
} FlorenceImageFeatures;

struct _FlorenceEngine {
  FlorenceDeviceKind kind;
  char *device_name; /* for people: "CPU reference (fp32, 4 threads)", "AMD Radeon …" */

  /* pixel_values [3, size, size] → the image features, freed with features_free. *seconds (may
   * be NULL) receives the time taken. */
  FlorenceImageFeatures *(*encode_image) (FlorenceEngine *self, const float *pixel_values, int size,
                                          double *seconds, GCancellable *cancellable,
                                          GError **error);
  /* The encoder over [features; embedded ids] and the cross-attention keys/values: a decoder
   * backend attached to that encoder output, freed with decoder_free. ids are the prompt ids
   * (<s> … </s>). features stay the caller's and may be used again. */
  FlorenceDecoderBackend *(*prepare_task) (FlorenceEngine *self,
                                           const FlorenceImageFeatures *features, const gint32 *ids,
                                           int n_ids, double *seconds, GCancellable *cancellable,
                                           GError **error);
  void (*features_free) (FlorenceEngine *self, FlorenceImageFeatures *features);
  void (*decoder_free) (FlorenceEngine *self, FlorenceDecoderBackend *decoder);
  void (*free) (FlorenceEngine *self);
  /* CPU engines: the threads a run uses, and how to change it (NULL and 0 on the GPU) */
  int n_threads;
  void (*set_n_threads) (FlorenceEngine *self, int n_threads);
  gpointer priv;
  /* Debugging: when set, encode_image and prepare_task hand over the intermediate tensors under
   * the names of florence-reference.h (the GPU engine then submits and reads back at each). */
  FlorenceReferenceTap tap;
  gpointer tap_data;

  /* Optional, NULL where the engine has no batched vision tower. encode_images: n pictures of
   * one input size in one go (a GPU in one submission); out[i] receives the features of
   * pixel_values[i]; on failure none is kept. image_batch: how many pictures of that size it
   * takes at once to good effect (from the device's memory), at least 1. */
  gboolean (*encode_images) (FlorenceEngine *self, guint n, const float *const *pixel_values,
                             int size, FlorenceImageFeatures **out, double *seconds,
                             GCancellable *cancellable, GError **error);
  guint (*image_batch) (FlorenceEngine *self, int size);
};

/* encode_image, then prepare_task, then the features are freed: one task on one picture. */
FlorenceDecoderBackend *florence_engine_prepare (FlorenceEngine *self, const float *pixel_values,
                                                 int size, const gint32 *ids, int n_ids,
                                                 FlorenceEngineTimings *timings,
                                                 GCancellable *cancellable, GError **error);
void florence_engine_features_free (FlorenceEngine *self, FlorenceImageFeatures *features);

/* CPU engines: the threads the next runs use (1 … 256; 0 = florence_device_default_threads());
 * device_name says the new count. Does nothing on the GPU engine. */
void florence_engine_set_n_threads (FlorenceEngine *self, int n_threads);
/* The threads a CPU engine uses; 0 for the GPU engine. */
int florence_engine_get_n_threads (FlorenceEngine *self);

/* The features of n pictures of one input size: the engine's encode_images where it has one,
 * else encode_image for each. out[i] receives those of pixel_values[i]; on failure none is
 * kept. *seconds (may be NULL) receives the time taken by all. */
gboolean florence_engine_encode_images (FlorenceEngine *self, guint n,
                                        const float *const *pixel_values, int size,
                                        FlorenceImageFeatures **out, double *seconds,
                                        GCancellable *cancellable, GError **error);
/* How many pictures of this size florence_engine_encode_images takes at once to good
 * effect: 1 without a batched path. */
guint florence_engine_get_image_batch (FlorenceEngine *self, int size);

/* An engine of the given kind for a loaded config and checkpoint; the checkpoint may be freed
 * afterwards. @vulkan_device: for VULKAN, NULL or a device number or name part (as
 * florence_device_parse() returns it). The choice is florence_device_resolve()'s: AUTO takes a
 * real GPU when there is one and never fails for lack of one; a name that matches no device
 * fails with FLORENCE_DEVICE_ERROR_NOT_FOUND. */
FlorenceEngine *florence_engine_new (FlorenceDeviceKind kind, const char *vulkan_device,
                                     const FlorenceConfig *config, FlorenceCheckpoint *checkpoint,
                                     GError **error);
void florence_engine_free (FlorenceEngine *self);

/* The GPU engine alone (florence-engine-gpu.c): fails without a usable Vulkan device.
 * @vulkan_device: NULL or "" for the automatic choice, else an index or a part of a device
 * name (gpu_device_new_for_selector()). */
FlorenceEngine *florence_engine_gpu_new (const FlorenceConfig *config, const char *vulkan_device,
                                         FlorenceCheckpoint *checkpoint, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceEngine, florence_engine_free)

G_END_DECLS
