/* florence-model.h: a loaded Florence-2 model that runs tasks on pictures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Loads a model directory (config.json, preprocessor_config.json, the weights, the tokenizer)
 * and runs one task on one picture: prompt → ids, processor → pixel_values, engine (GPU or CPU
 * reference) → encoder, generation → ids → text → post-processed result in the picture's
 * pixels. Blocking calls: run them in a worker thread (GTask) and cancel with the
 * GCancellable; progress reports the number of tokens generated so far.
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
} FlorenceModelOptions;

FlorenceModel *florence_model_load (const char *model_dir, const FlorenceModelOptions *options,
                                    GError **error);
void florence_model_free (FlorenceModel *self);

const FlorenceConfig *florence_model_get_config (FlorenceModel *self);
const char *florence_model_get_device_name (FlorenceModel *self);
FlorenceDeviceKind florence_model_get_device_kind (FlorenceModel *self);
double florence_model_get_load_seconds (FlorenceModel *self);

typedef struct {
  const char *task;         /* a task token ("<CAPTION>"); NULL or "" = use text_input as is */
  const char *text_input;   /* NULL = none */
  guint num_beams;          /* 0 = the model's default (3); at most 8 */
  guint max_new_tokens;     /* 0 = the model's default (1024) */
  int image_size;           /* 0 = the processor's; else a multiple of 32 up to 1600 */
  const gint32 *prompt_ids; /* optional: these ids instead of task + text_input */
  gsize n_prompt_ids;
} FlorenceRunOptions;

typedef struct {
  double load, preprocess, vision, encoder, decode, total; /* seconds */
} FlorenceTimings;

typedef struct {
  char *task;             /* never NULL */
  char *text_input;       /* never NULL ("" for none) */
  char *prompt;           /* NULL when prompt ids were given */
  GArray *prompt_ids;     /* gint32 */
  GArray *token_ids;      /* gint32, the full generated sequence, starting with the start id */
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

/* {"image", "task", "text_input", "prompt", "prompt_ids", "token_ids", "text", "result"
 * (Depict form), "post_processed" (the reference's form), "image_size", "input_size",
 * "num_beams", "sequences_score" (beam search), "timings", "device"}. image and device may
 * be NULL. */
JsonNode *florence_run_to_json_node (const FlorenceRun *run, const char *image, const char *device);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceModel, florence_model_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceRun, florence_run_free)

G_END_DECLS
