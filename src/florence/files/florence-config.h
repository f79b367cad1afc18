/* florence-config.h: a Florence-2 model directory's configuration
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads config.json (the remote-code layout of the official hub repositories, and the layout of
 * the native transformers port) and preprocessor_config.json. Generation settings come from
 * text_config (spec §10.1); the stale top-level bos/eos/pad ids are ignored.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define FLORENCE_CONFIG_ERROR (florence_config_error_quark ())

typedef enum {
  FLORENCE_CONFIG_ERROR_NOT_FOUND, /* no config.json in the directory */
  FLORENCE_CONFIG_ERROR_PARSE,     /* not JSON, or not an object */
  FLORENCE_CONFIG_ERROR_INVALID,   /* a field is missing, has the wrong type or a bad value */
} FlorenceConfigError;

GQuark florence_config_error_quark (void);

typedef struct {
  /* vision (DaViT) */
  int dim_embed[4], num_heads[4], num_groups[4], depths[4];
  int patch_size[4], patch_stride[4], patch_padding[4];
  gboolean patch_prenorm[4];
  int window_size;    /* 12 */
  int projection_dim; /* = d_model */
  int image_pos_max;  /* 50 */
  int temporal_max;   /* 100 */
  /* language model (BART) */
  int vocab_size, d_model;
  int encoder_layers, decoder_layers, encoder_heads, decoder_heads;
  int encoder_ffn_dim, decoder_ffn_dim, max_position_embeddings;
  /* generation (from text_config) */
  int num_beams, no_repeat_ngram_size;
  gboolean early_stopping;
  double length_penalty;
  int decoder_start_token_id, forced_bos_token_id, forced_eos_token_id;
  int bos_token_id, eos_token_id, pad_token_id;
  int max_new_tokens; /* default 1024 */
  /* processor (preprocessor_config.json) */
  int image_size; /* square side: 768, tiny models 96 */
  float image_mean[3], image_std[3];
  double rescale_factor;
  char *name; /* model name for display, e.g. "Florence-2-base" or dir basename */
} FlorenceConfig;

/* Loads model_dir/config.json and, when present, model_dir/preprocessor_config.json (without
 * it the hub defaults apply: 768, ImageNet mean/std, 1/255). */
FlorenceConfig *florence_config_load (const char *model_dir, GError **error);

/* The same from strings; preprocessor_json may be NULL. name is set to "Florence-2". */
FlorenceConfig *florence_config_load_from_data (const char *config_json,
                                                const char *preprocessor_json, GError **error);

FlorenceConfig *florence_config_copy (const FlorenceConfig *config);
void florence_config_free (FlorenceConfig *config);

/* Total number of DaViT blocks over the four stages (base: 12). */
int florence_config_get_total_blocks (const FlorenceConfig *config);

/* An upper estimate of the working memory (activations, caches; weights excluded) an engine needs
 * for one task at image_size with num_beams beams. Florence-2-large at 768, 3 beams: ~1 GB.
 * florence_config_load refuses a configuration whose estimate at the largest input its position
 * table allows and 8 beams passes 8 GiB. */
guint64 florence_config_estimate_working_bytes (const FlorenceConfig *config, int image_size,
                                                guint num_beams);

/* TRUE when normalizing every 8-bit pixel value as the processor does ((float) (v ×
 * rescale_factor) when do_rescale, minus mean, divided by std, in float) gives finite numbers:
 * the check image_mean/image_std must pass after conversion to float (1e-300 is positive as a
 * double and 0 as a float). */
gboolean florence_config_normalization_ok (gboolean do_rescale, double rescale_factor,
                                           const float mean[3], const float std[3]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceConfig, florence_config_free)

G_END_DECLS
