/* florence-model.c: a loaded Florence-2 model that runs tasks on pictures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/model/florence-model.h"

#include <glib/gi18n.h>
#include <string.h>

#include "florence/files/florence-checkpoint.h"
#include "florence/text/florence-postprocess.h"
#include "florence/model/florence-processor.h"
#include "florence/text/florence-task.h"
#include "florence/text/florence-tokenizer.h"
#include "image/image-loader.h"

G_DEFINE_QUARK (florence - model - error - quark, florence_model_error)

struct _FlorenceModel {
  FlorenceConfig *config;
  FlorenceTokenizer *tokenizer;
  FlorenceEngine *engine;
  double load_seconds;
  char *weights_path; /* for messages */
};

static double
seconds_since (gint64 t0)
{
  return (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
}

FlorenceModel *
florence_model_load (const char *model_dir, const FlorenceModelOptions *options, GError **error)
{
  g_return_val_if_fail (model_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  gint64 t0 = g_get_monotonic_time ();
  FlorenceDeviceKind kind = options != NULL ? options->device : FLORENCE_DEVICE_AUTO;
  const char *env = g_getenv ("DEPICT_DEVICE");
  if (kind == FLORENCE_DEVICE_AUTO && env != NULL && *env != '\0' &&
      !florence_device_kind_from_string (env, &kind))
    {
      g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                   _ ("DEPICT_DEVICE is set to “%s”, which is not a device kind. Use “auto”, "
                      "“vulkan” or “cpu-reference”."),
                   env);
      return NULL;
    }

  g_autoptr (FlorenceModel) self = g_new0 (FlorenceModel, 1);
  self->config = florence_config_load (model_dir, error);
  if (self->config == NULL)
    return NULL;

  const char *tok_dir =
    options != NULL && options->tokenizer_dir != NULL ? options->tokenizer_dir : model_dir;
  g_autoptr (GError) tok_error = NULL;
  self->tokenizer = florence_tokenizer_new_from_dir (tok_dir, &tok_error);
  if (self->tokenizer == NULL)
    {
      g_set_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_TOKENIZER,
                   _ ("The model in “%s” has no usable tokenizer (%s). Download the model again, "
                      "or name a folder holding tokenizer.json."),
                   model_dir, tok_error->message);
      return NULL;
    }

  {
    g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (model_dir, self->config, error);
    if (ckpt == NULL)
      return NULL;
    self->weights_path = g_strdup (florence_checkpoint_get_path (ckpt));
    self->engine = florence_engine_new (kind, options != NULL ? options->vulkan_device : NULL,
                                        self->config, ckpt, error);
    if (self->engine == NULL)
      return NULL;
  }
  self->load_seconds = seconds_since (t0);
  return g_steal_pointer (&self);
}

void
florence_model_free (FlorenceModel *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->engine, florence_engine_free);
  g_clear_pointer (&self->tokenizer, florence_tokenizer_free);
  g_clear_pointer (&self->config, florence_config_free);
  g_free (self->weights_path);
  g_free (self);
}

const FlorenceConfig *
florence_model_get_config (FlorenceModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->config;
}

const char *
florence_model_get_device_name (FlorenceModel *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->engine->device_name;
}

FlorenceDeviceKind
florence_model_get_device_kind (FlorenceModel *self)
{
  g_return_val_if_fail (self != NULL, FLORENCE_DEVICE_AUTO);
  return self->engine->kind;
}

double
florence_model_get_load_seconds (FlorenceModel *self)
{
  g_return_val_if_fail (self != NULL, 0.0);
  return self->load_seconds;
}

void
florence_run_free (FlorenceRun *run)
{
  if (run == NULL)
    return;
  g_free (run->task);
  g_free (run->text_input);
  g_free (run->prompt);
  g_clear_pointer (&run->prompt_ids, g_array_unref);
  g_clear_pointer (&run->token_ids, g_array_unref);
  g_free (run->text);
  g_clear_pointer (&run->result, florence_result_free);
  g_free (run);
}

/* Runs everything after decoding; preprocess_seconds is what the caller spent before. */
static FlorenceRun *
model_run (FlorenceModel *self, const ImageRgb *image, const FlorenceRunOptions *options,
           double preprocess_seconds, GCancellable *cancellable, FlorenceGenerateProgress progress,
           gpointer progress_data, GError **error)
{
  const FlorenceConfig *config = self->config;
  gint64 t_start = g_get_monotonic_time ();
  FlorenceRunOptions defaults = { 0 };
  if (options == NULL)
    options = &defaults;

  int size = options->image_size > 0 ? options->image_size : config->image_size;
  if (size < 32 || size > 1600 || size % 32 != 0)
    {
      g_set_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_INPUT,
                   _ ("The image size %d cannot be used: choose a multiple of 32 from 32 to "
                      "1600."),
                   size);
      return NULL;
    }
  guint num_beams =
    options->num_beams > 0 ? options->num_beams : (guint) MAX (config->num_beams, 1);
  if (num_beams > 8)
    {
      g_set_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_INPUT,
                   _ ("%u beams are too many: choose from 1 to 8."), num_beams);
      return NULL;
    }

  g_autoptr (FlorenceRun) run = g_new0 (FlorenceRun, 1);
  run->task = g_strdup (options->task != NULL ? options->task : "");
  run->text_input = g_strdup (options->text_input != NULL ? options->text_input : "");
  run->image_width = image->width;
  run->image_height = image->height;
  run->input_size = size;
  run->num_beams = num_beams;

  /* prompt */
  if (options->prompt_ids != NULL)
    {
      run->prompt_ids = g_array_sized_new (FALSE, FALSE, sizeof (gint32), options->n_prompt_ids);
      g_array_append_vals (run->prompt_ids, options->prompt_ids, options->n_prompt_ids);
      for (gsize i = 0; i < options->n_prompt_ids; i++)
        if (options->prompt_ids[i] < 0 || options->prompt_ids[i] >= config->vocab_size)
          {
            g_set_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_INPUT,
                         _ ("The prompt id %d is outside the vocabulary (0 to %d)."),
                         options->prompt_ids[i], config->vocab_size - 1);
            return NULL;
          }
    }
  else
    {
      g_autofree char *raw = g_strconcat (run->task, run->text_input, NULL);
      run->prompt = florence_task_construct_prompt (raw, error);
      if (run->prompt == NULL)
        return NULL;
      run->prompt_ids = florence_tokenizer_encode (self->tokenizer, run->prompt);
    }
  if (run->prompt_ids->len == 0)
    {
      g_set_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_INPUT,
                   _ ("The prompt is empty. Give a task or a text."));
      return NULL;
    }

  /* pixels */
  gint64 t0 = g_get_monotonic_time ();
  FlorenceProcessorConfig pc;
  florence_processor_config_init_from_model (&pc, config);
  pc.width = pc.height = size;
  g_autofree float *pixels = florence_processor_run (&pc, image, NULL, error);
  if (pixels == NULL)
    return NULL;
  run->timings.preprocess = preprocess_seconds + seconds_since (t0);

  /* graph */
  FlorenceEngineTimings et = { 0 };
  FlorenceDecoderBackend *dec =
    florence_engine_prepare (self->engine, pixels, size, (const gint32 *) run->prompt_ids->data,
                             (int) run->prompt_ids->len, &et, cancellable, error);
  if (dec == NULL)
    return NULL;
  run->timings.vision = et.vision;
  run->timings.encoder = et.encoder;

  /* generation */
  gint64 t1 = g_get_monotonic_time ();
  FlorenceGenerateOptions go;
  florence_generate_options_init (&go, config);
  go.num_beams = num_beams;
  if (options->max_new_tokens > 0)
    go.max_new_tokens = options->max_new_tokens;
  g_autoptr (GError) gen_error = NULL;
  g_autoptr (FlorenceGeneration) gen =
    florence_generate (dec, &go, cancellable, progress, progress_data, &gen_error);
  self->engine->decoder_free (self->engine, dec);
  if (gen == NULL)
    {
      /* NaN or infinite scores: name the file they come from. */
      if (g_error_matches (gen_error, FLORENCE_GENERATE_ERROR, FLORENCE_GENERATE_ERROR_NON_FINITE))
        g_set_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_WEIGHTS,
                     _ ("The weights file “%s” is damaged: the model computes scores from it "
                        "that are not numbers (NaN or infinity). Download the model again."),
                     self->weights_path);
      else
        g_propagate_error (error, g_steal_pointer (&gen_error));
      return NULL;
    }
  run->token_ids = g_array_ref (gen->ids);
  run->has_score = gen->has_score;
  run->sequences_score = gen->sequences_score;
  run->text = florence_tokenizer_decode (self->tokenizer, (const gint32 *) gen->ids->data,
                                         gen->ids->len, FLORENCE_DECODE_DEFAULT);
  run->timings.decode = seconds_since (t1);

  run->result = florence_postprocess_for_token (run->task, run->text, image->width, image->height);
  run->timings.load = self->load_seconds;
  run->timings.total = preprocess_seconds + seconds_since (t_start);
  return g_steal_pointer (&run);
}

FlorenceRun *
florence_model_run (FlorenceModel *self, const ImageRgb *image, const FlorenceRunOptions *options,
                    GCancellable *cancellable, FlorenceGenerateProgress progress,
                    gpointer progress_data, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (image != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  return model_run (self, image, options, 0.0, cancellable, progress, progress_data, error);
}

FlorenceRun *
florence_model_run_file (FlorenceModel *self, const char *path, const FlorenceRunOptions *options,
                         GCancellable *cancellable, FlorenceGenerateProgress progress,
                         gpointer progress_data, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  gint64 t0 = g_get_monotonic_time ();
  g_autoptr (ImageRgb) image = image_load (path, NULL, error);
  if (image == NULL)
    return NULL;
  return model_run (self, image, options, seconds_since (t0), cancellable, progress, progress_data,
                    error);
}

static void
add_ids (JsonBuilder *b, const char *name, const GArray *ids)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; ids != NULL && i < ids->len; i++)
    json_builder_add_int_value (b, g_array_index (ids, gint32, i));
  json_builder_end_array (b);
}

static void
add_string (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
add_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_double_value (b, value);
}

JsonNode *
florence_run_to_json_node (const FlorenceRun *run, const char *image, const char *device)
{
  g_return_val_if_fail (run != NULL, NULL);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_string (b, "image", image);
  add_string (b, "task", run->task);
  add_string (b, "text_input", run->text_input);
  add_string (b, "prompt", run->prompt);
  add_ids (b, "prompt_ids", run->prompt_ids);
  add_ids (b, "token_ids", run->token_ids);
  add_string (b, "text", run->text);
  json_builder_set_member_name (b, "result");
  json_builder_add_value (b, florence_result_to_json_node (run->result));
  json_builder_set_member_name (b, "post_processed");
  json_builder_add_value (b, florence_result_to_reference_json_node (run->result));
  json_builder_set_member_name (b, "image_size");
  json_builder_begin_array (b);
  json_builder_add_int_value (b, run->image_width);
  json_builder_add_int_value (b, run->image_height);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "input_size");
  json_builder_add_int_value (b, run->input_size);
  json_builder_set_member_name (b, "num_beams");
  json_builder_add_int_value (b, run->num_beams);
  if (run->has_score)
    add_double (b, "sequences_score", run->sequences_score);
  json_builder_set_member_name (b, "timings");
  json_builder_begin_object (b);
  add_double (b, "load", run->timings.load);
  add_double (b, "preprocess", run->timings.preprocess);
  add_double (b, "vision", run->timings.vision);
  add_double (b, "encoder", run->timings.encoder);
  add_double (b, "decode", run->timings.decode);
  add_double (b, "total", run->timings.total);
  json_builder_end_object (b);
  add_string (b, "device", device);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
