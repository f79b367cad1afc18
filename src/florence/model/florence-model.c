/* florence-model.c: a loaded Florence-2 model that runs tasks on pictures
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/model/florence-model.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-weights-hash.h"
#include "florence/model/florence-limits.h"
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
  char *model_dir;
  GMutex hash_lock;
  char *weights_hash; /* computed on first use */
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
  const char *vulkan_device = options != NULL ? options->vulkan_device : NULL;
  const char *env = g_getenv ("DEPICT_DEVICE");
  g_autofree char *env_vulkan = NULL;
  if (kind == FLORENCE_DEVICE_AUTO && env != NULL && *env != '\0')
    {
      g_autoptr (GError) env_error = NULL;
      if (!florence_device_parse (env, &kind, &env_vulkan, &env_error))
        {
          g_set_error (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE,
                       _ ("DEPICT_DEVICE is set: %s"), env_error->message);
          return NULL;
        }
      if (vulkan_device == NULL || *vulkan_device == '\0')
        vulkan_device = env_vulkan;
    }

  g_autoptr (FlorenceModel) self = g_new0 (FlorenceModel, 1);
  g_mutex_init (&self->hash_lock);
  self->model_dir = g_strdup (model_dir);
  self->config = florence_config_load (model_dir, error);
  if (self->config == NULL)
    return NULL;

  const char *tok_dir =
    options != NULL && options->tokenizer_dir != NULL ? options->tokenizer_dir : model_dir;
  g_autoptr (GError) tok_error = NULL;
  self->tokenizer = florence_tokenizer_new_from_dir (tok_dir, &tok_error);
  if (self->tokenizer == NULL)
    {
      /* The tokenizer's sentence names the file and says what to do. */
      g_set_error_literal (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_TOKENIZER,
                           tok_error->message);
      return NULL;
    }

  {
    g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (model_dir, self->config, error);
    if (ckpt == NULL)
      return NULL;
    self->weights_path = g_strdup (florence_checkpoint_get_path (ckpt));
    self->engine = florence_engine_new (kind, vulkan_device, self->config, ckpt, error);
    if (self->engine == NULL)
      return NULL;
    if (options != NULL && options->n_threads > 0)
      florence_engine_set_n_threads (self->engine, options->n_threads);
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
  g_free (self->model_dir);
  g_free (self->weights_hash);
  g_mutex_clear (&self->hash_lock);
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

void
florence_model_set_n_threads (FlorenceModel *self, int n_threads)
{
  g_return_if_fail (self != NULL);
  florence_engine_set_n_threads (self->engine, n_threads);
}

int
florence_model_get_n_threads (FlorenceModel *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return florence_engine_get_n_threads (self->engine);
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

const char *
florence_model_get_weights_hash (FlorenceModel *self, GError **error)
{
  const char *hash;

  g_return_val_if_fail (self != NULL, NULL);
  g_mutex_lock (&self->hash_lock);
  if (self->weights_hash == NULL)
    self->weights_hash = florence_weights_hash_for_dir (self->model_dir, NULL, error);
  hash = self->weights_hash;
  g_mutex_unlock (&self->hash_lock);
  return hash;
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
  g_clear_pointer (&run->token_logprobs, g_array_unref);
  g_free (run->text);
  g_clear_pointer (&run->result, florence_result_free);
  g_free (run);
}

/* ---------------------------------------------------------------------------------------------
 * The picture part
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  int size;
  float *pixels;                   /* [3, size, size]; freed once the features are made */
  FlorenceImageFeatures *features; /* NULL until the vision tower ran */
  double preprocess_seconds;       /* making the pixel values */
  double vision_seconds;           /* making the features */
  gboolean reported;               /* a run has reported these times (later runs: cached) */
} SizeEntry;

struct _FlorenceModelImage {
  gint ref_count;
  FlorenceModel *model;
  ImageRgb *picture; /* NULL once dropped */
  gboolean owns_picture;
  int width, height;
  double decode_seconds; /* reading the file, reported with the first run */
  gboolean decode_reported;
  GArray *sizes; /* SizeEntry */
};

static FlorenceModelImage *
image_new (FlorenceModel *self, ImageRgb *picture, gboolean owns_picture)
{
  FlorenceModelImage *image = g_new0 (FlorenceModelImage, 1);
  image->ref_count = 1;
  image->model = self;
  image->picture = picture;
  image->owns_picture = owns_picture;
  image->width = picture->width;
  image->height = picture->height;
  image->sizes = g_array_new (FALSE, TRUE, sizeof (SizeEntry));
  return image;
}

FlorenceModelImage *
florence_model_image_new (FlorenceModel *self, ImageRgb *picture)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (picture != NULL, NULL);
  return image_new (self, picture, TRUE);
}

FlorenceModelImage *
florence_model_image_new_from_file (FlorenceModel *self, const char *path,
                                    GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  gint64 t0 = g_get_monotonic_time ();
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  ImageRgb *picture = image_load (path, NULL, error);
  if (picture == NULL)
    return NULL;
  FlorenceModelImage *image = image_new (self, picture, TRUE);
  image->decode_seconds = seconds_since (t0);
  return image;
}

FlorenceModelImage *
florence_model_image_ref (FlorenceModelImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);
  g_atomic_int_inc (&image->ref_count);
  return image;
}

static void
entry_clear (FlorenceModel *model, SizeEntry *e)
{
  g_clear_pointer (&e->pixels, g_free);
  if (e->features != NULL)
    florence_engine_features_free (model->engine, e->features);
  e->features = NULL;
}

void
florence_model_image_unref (FlorenceModelImage *image)
{
  if (image == NULL || !g_atomic_int_dec_and_test (&image->ref_count))
    return;
  for (guint i = 0; i < image->sizes->len; i++)
    entry_clear (image->model, &g_array_index (image->sizes, SizeEntry, i));
  g_array_unref (image->sizes);
  if (image->owns_picture)
    image_rgb_free (image->picture);
  g_free (image);
}

int
florence_model_image_get_width (FlorenceModelImage *image)
{
  g_return_val_if_fail (image != NULL, 0);
  return image->width;
}

int
florence_model_image_get_height (FlorenceModelImage *image)
{
  g_return_val_if_fail (image != NULL, 0);
  return image->height;
}

const ImageRgb *
florence_model_image_get_picture (FlorenceModelImage *image)
{
  g_return_val_if_fail (image != NULL, NULL);
  return image->picture;
}

void
florence_model_image_drop_picture (FlorenceModelImage *image)
{
  g_return_if_fail (image != NULL);
  if (image->owns_picture)
    image_rgb_free (image->picture);
  image->picture = NULL;
}

static int
resolve_size (FlorenceModel *self, int image_size)
{
  return image_size > 0 ? image_size : self->config->image_size;
}

static SizeEntry *
find_entry (FlorenceModelImage *image, int size)
{
  for (guint i = 0; i < image->sizes->len; i++)
    if (g_array_index (image->sizes, SizeEntry, i).size == size)
      return &g_array_index (image->sizes, SizeEntry, i);
  return NULL;
}

/* The entry of this size with its pixel values or features, made when missing. */
static SizeEntry *
ensure_pixels (FlorenceModelImage *image, int size, GError **error)
{
  if (!florence_limits_check (image->model->config, 0, 0, size, error))
    return NULL;
  SizeEntry *e = find_entry (image, size);
  if (e != NULL && (e->pixels != NULL || e->features != NULL))
    return e;
  if (image->picture == NULL)
    {
      g_set_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_INPUT,
                   _ ("The picture is no longer in memory, and it was not prepared at the image "
                      "size %d. Open it again."),
                   size);
      return NULL;
    }
  gint64 t0 = g_get_monotonic_time ();
  FlorenceProcessorConfig pc;
  florence_processor_config_init_from_model (&pc, image->model->config);
  pc.width = pc.height = size;
  float *pixels = florence_processor_run (&pc, image->picture, NULL, error);
  if (pixels == NULL)
    return NULL;
  if (e == NULL)
    {
      SizeEntry fresh = { .size = size };
      g_array_append_val (image->sizes, fresh);
      e = &g_array_index (image->sizes, SizeEntry, image->sizes->len - 1);
    }
  e->pixels = pixels;
  e->preprocess_seconds = seconds_since (t0);
  return e;
}

gboolean
florence_model_image_preprocess (FlorenceModelImage *image, int image_size, GError **error)
{
  g_return_val_if_fail (image != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  return ensure_pixels (image, resolve_size (image->model, image_size), error) != NULL;
}

gboolean
florence_model_image_has_features (FlorenceModelImage *image, int image_size)
{
  g_return_val_if_fail (image != NULL, FALSE);
  SizeEntry *e = find_entry (image, resolve_size (image->model, image_size));
  return e != NULL && e->features != NULL;
}

gboolean
florence_model_image_can_run (FlorenceModelImage *image, int image_size)
{
  g_return_val_if_fail (image != NULL, FALSE);
  SizeEntry *e = find_entry (image, resolve_size (image->model, image_size));
  return image->picture != NULL || (e != NULL && (e->features != NULL || e->pixels != NULL));
}

guint64
florence_model_image_get_bytes (FlorenceModelImage *image)
{
  g_return_val_if_fail (image != NULL, 0);
  guint64 bytes = sizeof *image;
  if (image->picture != NULL && image->owns_picture)
    bytes += (guint64) image->picture->stride * (guint64) image->picture->height;
  for (guint i = 0; i < image->sizes->len; i++)
    {
      const SizeEntry *e = &g_array_index (image->sizes, SizeEntry, i);
      if (e->pixels != NULL)
        bytes += (guint64) 3 * e->size * e->size * sizeof (float);
      if (e->features != NULL)
        bytes += e->features->bytes;
    }
  return bytes;
}

guint
florence_model_get_image_batch (FlorenceModel *self, int image_size)
{
  g_return_val_if_fail (self != NULL, 1);
  return florence_engine_get_image_batch (self->engine, resolve_size (self, image_size));
}

gboolean
florence_model_encode_images (FlorenceModel *self, FlorenceModelImage *const *images,
                              guint n_images, int image_size, GCancellable *cancellable,
                              GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (n_images == 0 || images != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  int size = resolve_size (self, image_size);
  g_autofree SizeEntry **todo = g_new0 (SizeEntry *, MAX (n_images, 1));
  g_autofree const float **pixels = g_new0 (const float *, MAX (n_images, 1));
  g_autofree FlorenceImageFeatures **out = g_new0 (FlorenceImageFeatures *, MAX (n_images, 1));
  guint n = 0;
  for (guint i = 0; i < n_images; i++)
    {
      g_return_val_if_fail (images[i] != NULL && images[i]->model == self, FALSE);
      SizeEntry *e = ensure_pixels (images[i], size, error);
      if (e == NULL)
        return FALSE;
      gboolean listed = e->features != NULL;
      for (guint j = 0; j < n && !listed; j++)
        listed = todo[j] == e;
      if (listed)
        continue;
      todo[n] = e;
      pixels[n] = e->pixels;
      n++;
    }
  if (n == 0)
    return TRUE;
  double seconds = 0;
  if (!florence_engine_encode_images (self->engine, n, pixels, size, out, &seconds, cancellable,
                                      error))
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      todo[i]->features = out[i];
      todo[i]->vision_seconds = seconds / n;
      g_clear_pointer (&todo[i]->pixels, g_free);
    }
  return TRUE;
}

gboolean
florence_model_image_encode (FlorenceModelImage *image, int image_size, GCancellable *cancellable,
                             GError **error)
{
  g_return_val_if_fail (image != NULL, FALSE);
  return florence_model_encode_images (image->model, &image, 1, image_size, cancellable, error);
}

/* ---------------------------------------------------------------------------------------------
 * The task part
 * ------------------------------------------------------------------------------------------- */

FlorenceRun *
florence_model_run_image (FlorenceModel *self, FlorenceModelImage *image,
                          const FlorenceRunOptions *options, GCancellable *cancellable,
                          FlorenceGenerateProgress progress, gpointer progress_data, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (image != NULL && image->model == self, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  const FlorenceConfig *config = self->config;
  FlorenceRunOptions defaults = { 0 };
  if (options == NULL)
    options = &defaults;

  int size = resolve_size (self, options->image_size);
  guint num_beams =
    options->num_beams > 0 ? options->num_beams : (guint) MAX (config->num_beams, 1);
  if (!florence_limits_check (config, (int) MIN (num_beams, G_MAXINT),
                              (int) MIN (options->max_new_tokens, G_MAXINT), size, error))
    return NULL;

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

  /* the picture's part: pixel values and features, made once per input size */
  if (!florence_model_image_encode (image, size, cancellable, error))
    return NULL;
  SizeEntry *e = find_entry (image, size);
  if (!e->reported)
    {
      run->timings.preprocess = e->preprocess_seconds;
      run->timings.vision = e->vision_seconds;
      e->reported = TRUE;
    }
  else
    run->timings.cached = TRUE;
  if (!image->decode_reported)
    {
      run->timings.preprocess += image->decode_seconds;
      image->decode_reported = TRUE;
    }

  /* the task's part: encoder and cross-attention keys/values over the features */
  gint64 t_task = g_get_monotonic_time ();
  double encoder = 0;
  FlorenceDecoderBackend *dec =
    self->engine->prepare_task (self->engine, e->features, (const gint32 *) run->prompt_ids->data,
                                (int) run->prompt_ids->len, &encoder, cancellable, error);
  if (dec == NULL)
    return NULL;
  run->timings.encoder = encoder;

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
  if (gen->token_logprobs != NULL)
    run->token_logprobs = g_array_ref (gen->token_logprobs);
  run->has_score = gen->has_score;
  run->sequences_score = gen->sequences_score;
  g_autoptr (GArray) offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  run->text =
    florence_tokenizer_decode_with_offsets (self->tokenizer, (const gint32 *) gen->ids->data,
                                            gen->ids->len, FLORENCE_DECODE_DEFAULT, offsets);
  run->timings.decode = seconds_since (t1);

  /* each instance scored from the log-probabilities of its tokens (the start id has none) */
  g_autofree float *logprobs = g_new (float, gen->ids->len);
  logprobs[0] = NAN;
  for (guint i = 1; run->token_logprobs != NULL && i < gen->ids->len; i++)
    logprobs[i] = g_array_index (run->token_logprobs, float, i - 1);
  FlorenceTokenScores scores = { (const gsize *) offsets->data, logprobs, gen->ids->len };
  run->result = florence_postprocess_scored (run->task, run->text, image->width, image->height,
                                             run->token_logprobs != NULL ? &scores : NULL);
  run->timings.load = self->load_seconds;
  run->timings.total = run->timings.preprocess + run->timings.vision + seconds_since (t_task);
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

  /* The caller's picture, borrowed for this run */
  g_autoptr (FlorenceModelImage) img = image_new (self, (ImageRgb *) image, FALSE);
  return florence_model_run_image (self, img, options, cancellable, progress, progress_data, error);
}

FlorenceRun *
florence_model_run_file (FlorenceModel *self, const char *path, const FlorenceRunOptions *options,
                         GCancellable *cancellable, FlorenceGenerateProgress progress,
                         gpointer progress_data, GError **error)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_autoptr (FlorenceModelImage) img =
    florence_model_image_new_from_file (self, path, cancellable, error);
  if (img == NULL)
    return NULL;
  return florence_model_run_image (self, img, options, cancellable, progress, progress_data, error);
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
florence_timings_to_json_node (const FlorenceTimings *timings)
{
  g_return_val_if_fail (timings != NULL, NULL);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  add_double (b, "load", timings->load);
  add_double (b, "preprocess", timings->preprocess);
  add_double (b, "vision", timings->vision);
  add_double (b, "encoder", timings->encoder);
  add_double (b, "decode", timings->decode);
  add_double (b, "total", timings->total);
  json_builder_set_member_name (b, "cached");
  json_builder_add_boolean_value (b, timings->cached);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

JsonNode *
florence_run_to_json_node (const FlorenceRun *run, const char *image, const char *device)
{
  g_return_val_if_fail (run != NULL, NULL);

  g_autoptr (JsonBuilder) b = json_builder_new ();
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
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
  if (run->token_logprobs != NULL)
    {
      json_builder_set_member_name (b, "token_logprobs");
      json_builder_begin_array (b);
      for (guint i = 0; i < run->token_logprobs->len; i++)
        json_builder_add_double_value (b, g_array_index (run->token_logprobs, float, i));
      json_builder_end_array (b);
    }
  if (run->has_score)
    add_double (b, "sequences_score", run->sequences_score);
  json_builder_set_member_name (b, "timings");
  json_builder_add_value (b, florence_timings_to_json_node (&run->timings));
  add_string (b, "device", device);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
