/* florence-model.h: a loaded Florence-2 model that runs tasks on pictures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Loads a model directory (config.json, preprocessor_config.json, the weights, the tokenizer)
 * and runs tasks on pictures in two parts:
 *
 *   the picture (FlorenceModelImage): decode → processor → pixel_values → vision tower →
 *     projection: the image tokens, which depend on the picture and the input size only;
 *   the task (florence_model_run_image): prompt → ids → encoder over [image tokens; prompt]
 *     → generation → ids → text → post-processed result in the picture's pixels.
 *
 * A caller holds a FlorenceModelImage and runs any number of tasks on it: the picture is
 * decoded, preprocessed and sent through the vision tower once per input size, and each
 * result is identical to running that task alone (florence_model_run).
 *
 * Blocking calls: run them in a worker thread (GTask) and cancel with the GCancellable;
 * progress reports the number of tokens generated so far. A model and the images made for
 * it are used from one thread at a time, except where a function says otherwise.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "florence/files/florence-config.h"
#include "florence/engine/florence-engine.h"
#include "florence/generate/florence-generate.h"
#include "florence/text/florence-result.h"
#include "image/image-rgb.h"

G_BEGIN_DECLS

#define FLORENCE_MODEL_ERROR (florence_model_error_quark ())

typedef enum {
  FLORENCE_MODEL_ERROR_TOKENIZER, /* no usable tokenizer files */
  FLORENCE_MODEL_ERROR_INPUT,     /* a bad run option (image size, beams, prompt ids) */
  FLORENCE_MODEL_ERROR_WEIGHTS,   /* the weights give NaN or infinite scores (damaged) */
} FlorenceModelError;

GQuark florence_model_error_quark (void);

typedef struct _FlorenceModel FlorenceModel;

typedef struct {
  FlorenceDeviceKind device; /* AUTO by default; $DEPICT_DEVICE overrides AUTO */
  const char *tokenizer_dir; /* NULL: the model directory */
  const char *vulkan_device; /* NULL or "": automatic; else an index or part of a device name
                              * (as DEPICT_VULKAN_DEVICE takes), which it overrides */
  int n_threads;             /* CPU engines: threads (0 = every processor, or
                              * $DEPICT_CPU_THREADS); florence_model_set_n_threads() changes it */
} FlorenceModelOptions;

FlorenceModel *florence_model_load (const char *model_dir, const FlorenceModelOptions *options,
                                    GError **error);
void florence_model_free (FlorenceModel *self);

const FlorenceConfig *florence_model_get_config (FlorenceModel *self);
const char *florence_model_get_device_name (FlorenceModel *self);
FlorenceDeviceKind florence_model_get_device_kind (FlorenceModel *self);
/* CPU engines: the threads the next runs use (0 = every processor); does nothing on a GPU.
 * The device name changes with it. Not while a run is in progress on another thread. */
void florence_model_set_n_threads (FlorenceModel *self, int n_threads);
/* The threads a CPU engine uses; 0 on a GPU. */
int florence_model_get_n_threads (FlorenceModel *self);
double florence_model_get_load_seconds (FlorenceModel *self);
/* The SHA-256 of the model's weights (florence-weights-hash.h), which the gallery keys every
 * run by: computed on the first call (seconds for a model not hashed before, kept in the
 * user cache after that), then kept. Thread-safe. NULL with error when the weights cannot be
 * read. */
const char *florence_model_get_weights_hash (FlorenceModel *self, GError **error);

typedef struct {
  const char *task;         /* a task token ("<CAPTION>"); NULL or "" = use text_input as is */
  const char *text_input;   /* NULL = none */
  guint num_beams;          /* 0 = the model's default (3); limits: florence-limits.h */
  guint max_new_tokens;     /* 0 = the model's default (1024) */
  int image_size;           /* 0 = the processor's; else a multiple of 32 up to 992 */
  const gint32 *prompt_ids; /* optional: these ids instead of task + text_input */
  gsize n_prompt_ids;
} FlorenceRunOptions;

typedef struct {
  double load, preprocess, vision, encoder, decode, total; /* seconds */
  /* TRUE: the picture's features at this input size were made for an earlier run (same
   * FlorenceModelImage) and reused; preprocess and vision are then 0. */
  gboolean cached;
} FlorenceTimings;

typedef struct {
  char *task;             /* never NULL */
  char *text_input;       /* never NULL ("" for none) */
  char *prompt;           /* NULL when prompt ids were given */
  GArray *prompt_ids;     /* gint32 */
  GArray *token_ids;      /* gint32, the full generated sequence, starting with the start id */
  GArray *token_logprobs; /* float, one per id after the start id (florence-generate.h), or
                           * NULL when the engine gave none */
  char *text;             /* decoded, special tokens kept */
  FlorenceResult *result; /* in the picture's pixels */
  int image_width, image_height;
  int input_size; /* model input side */
  guint num_beams;
  gboolean has_score;
  float sequences_score;
  FlorenceTimings timings; /* load = the model's load time */
} FlorenceRun;

FlorenceRun *florence_model_run (FlorenceModel *self, const ImageRgb *image,
                                 const FlorenceRunOptions *options, GCancellable *cancellable,
                                 FlorenceGenerateProgress progress, gpointer progress_data,
                                 GError **error);

/* The same from a file: decoded with EXIF orientation applied; the decode time counts as
 * preprocessing. */
FlorenceRun *florence_model_run_file (FlorenceModel *self, const char *path,
                                      const FlorenceRunOptions *options, GCancellable *cancellable,
                                      FlorenceGenerateProgress progress, gpointer progress_data,
                                      GError **error);

void florence_run_free (FlorenceRun *run);

/* ------------------------------------------------------------------------------------------
 * The picture part, shared by the tasks
 * ---------------------------------------------------------------------------------------- */

/* A picture for one model: its oriented size, and per model input size its pixel values
 * (the processor's output) and its image features (vision tower and projection, kept where
 * the engine keeps them: device memory on a GPU), each made on first need and then kept.
 * Reference-counted; the last unref frees the features, so it counts as a use of the model
 * (one thread at a time), and every image must be released before its model is freed.
 *
 * What runs on any thread, without the model's engine: making an image (new, new_from_file),
 * preprocess, drop_picture and the getters, on an image that no other thread uses. This is
 * what lets a batch decode and preprocess the next photos while the engine runs. */
typedef struct _FlorenceModelImage FlorenceModelImage;

/* A picture the caller made; the image takes it (no copy). */
FlorenceModelImage *florence_model_image_new (FlorenceModel *self, ImageRgb *picture);
/* Decoded from a file with EXIF orientation applied; the decode time counts in the
 * preprocessing of the first run on the image. */
FlorenceModelImage *florence_model_image_new_from_file (FlorenceModel *self, const char *path,
                                                        GCancellable *cancellable, GError **error);
FlorenceModelImage *florence_model_image_ref (FlorenceModelImage *image);
void florence_model_image_unref (FlorenceModelImage *image);

int florence_model_image_get_width (FlorenceModelImage *image);
int florence_model_image_get_height (FlorenceModelImage *image);
/* The decoded picture, NULL once dropped. */
const ImageRgb *florence_model_image_get_picture (FlorenceModelImage *image);

/* Makes the pixel values at this input size (0: the model's) now, if not yet there. Needs
 * the picture (fails with FLORENCE_MODEL_ERROR_INPUT once it is dropped). */
gboolean florence_model_image_preprocess (FlorenceModelImage *image, int image_size,
                                          GError **error);
/* Forgets the decoded picture (megabytes for a photo): only the input sizes already
 * preprocessed or encoded can be used afterwards. */
void florence_model_image_drop_picture (FlorenceModelImage *image);

/* Runs the vision tower at this input size (0: the model's) now, if its features are not
 * there yet; the pixel values are freed afterwards. A use of the model. */
gboolean florence_model_image_encode (FlorenceModelImage *image, int image_size,
                                      GCancellable *cancellable, GError **error);
/* The same for several images at one input size, in one engine call where the engine can
 * (florence_engine_encode_images); images that already have their features are left out. */
gboolean florence_model_encode_images (FlorenceModel *self, FlorenceModelImage *const *images,
                                       guint n_images, int image_size, GCancellable *cancellable,
                                       GError **error);
/* How many pictures of this input size the engine takes in one florence_model_encode_images
 * call to good effect (1 where memory is short or the engine has no batched path). */
guint florence_model_get_image_batch (FlorenceModel *self, int image_size);

/* Whether the features at this input size (0: the model's) are there. */
gboolean florence_model_image_has_features (FlorenceModelImage *image, int image_size);
/* Whether a run at this input size can go ahead: its features or pixel values are there, or
 * the picture is still kept. */
gboolean florence_model_image_can_run (FlorenceModelImage *image, int image_size);
/* Memory held: the picture, the pixel values and the features, in bytes. */
guint64 florence_model_image_get_bytes (FlorenceModelImage *image);

/* Runs one task on the image, making its pixel values and features at the run's input size
 * first when they are not there; later runs at that size reuse them (timings.cached). The
 * result is the same as florence_model_run on the picture. */
FlorenceRun *florence_model_run_image (FlorenceModel *self, FlorenceModelImage *image,
                                       const FlorenceRunOptions *options, GCancellable *cancellable,
                                       FlorenceGenerateProgress progress, gpointer progress_data,
                                       GError **error);

/* {"load", "preprocess", "vision", "encoder", "decode", "total" (seconds), "cached"} */
JsonNode *florence_timings_to_json_node (const FlorenceTimings *timings);

/* The line depict-cli run --json prints for one picture: {"version": 1, "image", "task",
 * "text_input", "prompt", "prompt_ids", "token_ids", "text", "result" (Depict form),
 * "post_processed" (the reference's form), "image_size", "input_size", "num_beams",
 * "sequences_score" (beam search), "timings", "device"}, "$defs/run" of
 * data/depict-result.schema.json. image and device may be NULL. */
JsonNode *florence_run_to_json_node (const FlorenceRun *run, const char *image, const char *device);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceModel, florence_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceRun, florence_run_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceModelImage, florence_model_image_unref)

G_END_DECLS
