/* florence-processor.h: picture → the model's pixel_values, exactly as the reference
 *
 * The reference (CLIPImageProcessor, PIL path; spec §2, tests/data/README.md §2):
 *   1. Pillow Image.resize((W, H), BICUBIC) on the RGB8 picture (aspect ratio ignored);
 *   2. x = float32 (u8 * (1/255)), the product in double;
 *   3. (x - mean[c]) / std[c] in float32; channels first: [3, H, W].
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

#include "florence/files/florence-config.h"
#include "image/image-rgb.h"

G_BEGIN_DECLS

#define FLORENCE_PROCESSOR_ERROR (florence_processor_error_quark ())

typedef enum {
  FLORENCE_PROCESSOR_ERROR_PARSE,   /* preprocessor_config.json is not a JSON object */
  FLORENCE_PROCESSOR_ERROR_INVALID, /* a field has the wrong type or an unusable value */
} FlorenceProcessorError;

GQuark florence_processor_error_quark (void);

typedef struct {
  int width; /* model input size; 768 × 768 for the released models */
  int height;
  gboolean do_resize;
  gboolean do_rescale;
  double rescale_factor; /* 1/255 */
  gboolean do_normalize;
  float image_mean[3]; /* ImageNet: 0.485 0.456 0.406 */
  float image_std[3];  /* ImageNet: 0.229 0.224 0.225 */
} FlorenceProcessorConfig;

/* The hub defaults: 768 × 768, 1/255, ImageNet mean/std, every step on. */
void florence_processor_config_init (FlorenceProcessorConfig *config);

/* Reads size {height, width} (or a single number), do_resize, do_rescale, rescale_factor,
 * do_normalize, image_mean, image_std from a preprocessor_config.json into config; missing keys
 * keep the values config had (call florence_processor_config_init first). Refuses what this
 * processor does not implement: size {shortest_edge}, resample other than 3 (bicubic),
 * do_center_crop. On failure config is left unchanged. */
gboolean florence_processor_config_load (FlorenceProcessorConfig *config, const char *path,
                                         GError **error);
gboolean florence_processor_config_load_from_data (FlorenceProcessorConfig *config,
                                                   const char *json, gssize length, GError **error);
/* From a loaded model configuration (its image_size, mean, std, rescale_factor). */
void florence_processor_config_init_from_model (FlorenceProcessorConfig *config,
                                                const FlorenceConfig *model);

/* Step 1: the picture resized to width × height, Pillow-exact (a copy if do_resize is off or
 * the size already matches). */
ImageRgb *florence_processor_resize (const FlorenceProcessorConfig *config, const ImageRgb *image,
                                     GError **error);

/* Steps 2-3 on an already resized picture: writes 3 * width * height floats (CHW) to out. */
void florence_processor_normalize (const FlorenceProcessorConfig *config, const ImageRgb *resized,
                                   float *out);

/* All steps: a new array of 3 * height * width floats, CHW (free with g_free). If resized is
 * not NULL it receives the resized RGB picture. */
float *florence_processor_run (const FlorenceProcessorConfig *config, const ImageRgb *image,
                               ImageRgb **resized, GError **error);

/* SHA-256 (lowercase hex) of n float32 values as little-endian bytes: the "sha256_f32le" of
 * the reference fixtures (pixel_values in NCHW order). */
char *florence_processor_values_sha256 (const float *values, gsize n);

G_END_DECLS
