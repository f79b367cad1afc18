/* florence-engine-gpu-private.h: what the files of the GPU engine share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The GPU engine is four files: florence-engine-gpu.c (the weights on the device, the memory
 * check, the engine object), -vision.c (encode_image: the DaViT stages, blocks and the
 * projection), -encoder.c (prepare_task: the BART encoder and the cross-attention keys and
 * values) and -decoder.c (the decoder backend: one replayed recording per step). Each builds
 * its part of the graph from small steps (a stage, a block, an attention, an FFN) on the op
 * library of src/gpu.
 */
#pragma once

#include "florence/engine/florence-engine.h"
#include "gpu/gpu.h"

G_BEGIN_DECLS

#define FLORENCE_GPU_LN_EPS 1e-5f

typedef struct {
  GpuBuffer *w, *b;
} GLin;

/* in the order of florence_graph_block_tensor() */
typedef union {
  struct {
    GLin conv1, norm1, qkv, proj, conv2, norm2, fc1, fc2;
  };
  GpuBuffer *t[16];
} GBlock;

typedef struct {
  GLin conv, norm;
  GBlock *spatial, *channel;
} GStage;

/* in the order of florence_graph_layer_tensor(); q, k and v stay NULL: their weights live in
 * qkv, one [3d, d] Linear (one GEMM for the three) */
typedef struct {
  union {
    struct {
      GLin q, k, v, o, ln1, cq, ck, cv, co, ln2, fc1, fc2, ln3;
    };
    GpuBuffer *t[26];
  };
  GLin qkv;
} GLayer;

typedef struct {
  FlorenceConfig *config;
  GpuDevice *device;
  GPtrArray *buffers; /* owns the weight buffers */
  GStage stages[4];
  GpuBuffer *pos_row, *pos_col, *temporal0, *projection_t;
  GLin proj_norm;
  GpuBuffer *shared, *final_logits_bias, *enc_pos, *dec_pos;
  GLin enc_ln_emb, dec_ln_emb;
  GLayer *enc, *dec;
} Gpu;

typedef struct {
  FlorenceImageFeatures parent;
  GpuBuffer *h; /* [n_tokens × d_model] */
} GpuFeatures;

/* One submission's worth of recording (vision, encoder) and the scratch buffers it owns. */
typedef struct {
  FlorenceEngine *engine;
  Gpu *g;
  GpuRecorder *rec;
  GPtrArray *scratch; /* owns the activation buffers of this run */
  GCancellable *cancellable;
} Run;

gboolean florence_gpu_run_init (Run *r, FlorenceEngine *engine, GCancellable *cancellable,
                                GError **error);
void florence_gpu_run_clear (Run *r);
/* An fp32 scratch buffer of @n_floats owned by the run; NULL (and @error set) on failure, also
 * when @error is already set (so allocations can be chained and checked once). */
GpuBuffer *florence_gpu_run_buffer (Run *r, guint64 n_floats, GError **error);
/* Submits what is recorded (the recorder stays ready for more). */
gboolean florence_gpu_run_submit (Run *r, GError **error);
/* With a tap: submits, downloads buf and hands it over. */
gboolean florence_gpu_run_tap (Run *r, const char *name, GpuBuffer *buf, guint64 offset_floats,
                               gsize rows, gsize cols, GError **error);

/* florence-engine-gpu-vision.c */
FlorenceImageFeatures *florence_gpu_encode_image (FlorenceEngine *engine, const float *pixel_values,
                                                  int size, double *seconds,
                                                  GCancellable *cancellable, GError **error);
void florence_gpu_features_free (FlorenceEngine *engine, FlorenceImageFeatures *features);
/* Device memory of the vision tower's scratch at @size × @size (for the memory check). */
guint64 florence_gpu_vision_scratch_bytes (GpuDevice *device, const FlorenceConfig *config,
                                           int size);

/* florence-engine-gpu-encoder.c */
FlorenceDecoderBackend *florence_gpu_prepare_task (FlorenceEngine *engine,
                                                   const FlorenceImageFeatures *features,
                                                   const gint32 *ids, int n_ids, double *seconds,
                                                   GCancellable *cancellable, GError **error);

/* florence-engine-gpu-decoder.c: a decoder over @n_enc encoder rows whose cross-attention keys
 * and values (per layer, [n_enc, d]) it takes over (they stay the caller's on failure). */
FlorenceDecoderBackend *florence_gpu_decoder_new (FlorenceEngine *engine, guint n_enc,
                                                  GpuBuffer **cross_k, GpuBuffer **cross_v,
                                                  GError **error);
void florence_gpu_decoder_free (FlorenceEngine *engine, FlorenceDecoderBackend *decoder);
/* Device memory of the decoder for @beams beams and @positions positions. */
guint64 florence_gpu_decoder_bytes (const FlorenceConfig *config, guint beams, guint positions);

G_END_DECLS
