/* depict-inference.c
 *
 * The app's door to florence-model.h. One model is loaded at a time and kept for the next
 * run (loading takes seconds; running again should not). Runs are serialized: the model and
 * its device are used by one thread at a time, whether the run comes from the window or from
 * the gallery's batch tagger.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-inference"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-inference.h"
#include "florence/hub/florence-hub.h"
#include "florence/model/florence-model.h"
#include "florence/files/florence-weights-hash.h"
#include "gallery/gallery-store.h"
#include "image/image-loader.h"

G_DEFINE_QUARK (depict - inference - error - quark, depict_inference_error)

/* ---------------------------------------------------------------------------------------- */
/* Settings                                                                                 */

DepictInferenceSettings *
depict_inference_settings_new (void)
{
  DepictInferenceSettings *settings = g_new0 (DepictInferenceSettings, 1);

  settings->num_beams = 3;
  settings->max_new_tokens = 1024;
  return settings;
}

DepictInferenceSettings *
depict_inference_settings_copy (const DepictInferenceSettings *settings)
{
  DepictInferenceSettings *copy = g_new0 (DepictInferenceSettings, 1);

  copy->model_dir = g_strdup (settings->model_dir);
  copy->tokenizer_dir = g_strdup (settings->tokenizer_dir);
  copy->model_name = g_strdup (settings->model_name);
  copy->device = g_strdup (settings->device);
  copy->num_beams = settings->num_beams;
  copy->max_new_tokens = settings->max_new_tokens;
  return copy;
}

void
depict_inference_settings_free (DepictInferenceSettings *settings)
{
  if (settings == NULL)
    return;
  g_free (settings->model_dir);
  g_free (settings->tokenizer_dir);
  g_free (settings->model_name);
  g_free (settings->device);
  g_free (settings);
}

static gboolean
has_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

static gboolean
dir_has_model (const char *dir)
{
  return has_file (dir, "config.json") &&
         (has_file (dir, "model.safetensors") || has_file (dir, "model.safetensors.index.json") ||
          has_file (dir, "pytorch_model.bin"));
}

/* The folder of the model the "model" setting names: a catalogue id ("base", …) installed by
 * the model manager, or a folder. NULL with DEPICT_INFERENCE_ERROR_NO_MODEL when there is
 * none. */
char *
depict_inference_find_model_dir (const char *model, char **model_name, GError **error)
{
  const FlorenceHubModel *hub;

  if (model_name != NULL)
    *model_name = NULL;
  if (model == NULL || model[0] == '\0')
    model = "base";

  hub = florence_hub_lookup (model);
  if (hub != NULL)
    {
      g_autofree char *dir = florence_hub_get_install_dir (hub);

      if (dir != NULL && florence_hub_dir_is_complete (dir))
        {
          if (model_name != NULL)
            *model_name = g_strdup (hub->id);
          return g_steal_pointer (&dir);
        }
      g_set_error (error, DEPICT_INFERENCE_ERROR, DEPICT_INFERENCE_ERROR_NO_MODEL,
                   _ ("The model “%s” is not installed. Download it in Models, in the main menu."),
                   _ (hub->title));
      return NULL;
    }

  if (g_path_is_absolute (model) && dir_has_model (model))
    {
      if (model_name != NULL)
        *model_name = g_path_get_basename (model);
      return g_strdup (model);
    }
  g_set_error (error, DEPICT_INFERENCE_ERROR, DEPICT_INFERENCE_ERROR_NO_MODEL,
               _ ("No model was found in “%s”. Choose a folder with config.json and the weights, "
                  "or download a model in Models, in the main menu."),
               model);
  return NULL;
}

DepictInferenceSettings *
depict_inference_settings_from_gsettings (GSettings *gsettings, GError **error)
{
  g_autoptr (DepictInferenceSettings) settings = depict_inference_settings_new ();
  g_autofree char *model = g_settings_get_string (gsettings, "model");
  const char *tokenizer = g_getenv ("DEPICT_TOKENIZER_DIR");

  settings->model_dir = depict_inference_find_model_dir (model, &settings->model_name, error);
  if (settings->model_dir == NULL)
    return NULL;
  /* A model folder without tokenizer files (the test fixtures) takes them from
   * $DEPICT_TOKENIZER_DIR. */
  if (!has_file (settings->model_dir, "tokenizer.json") &&
      !has_file (settings->model_dir, "vocab.json") && tokenizer != NULL && tokenizer[0] != '\0')
    settings->tokenizer_dir = g_strdup (tokenizer);
  settings->device = g_settings_get_string (gsettings, "device");
  settings->num_beams = g_settings_get_int (gsettings, "beams");
  settings->max_new_tokens = g_settings_get_int (gsettings, "max-new-tokens");
  return g_steal_pointer (&settings);
}

const char *
depict_inference_stage_to_string (DepictInferenceStage stage)
{
  switch (stage)
    {
    case DEPICT_INFERENCE_STAGE_WAITING:
      return _ ("Waiting for the model…");
    case DEPICT_INFERENCE_STAGE_LOADING_MODEL:
      return _ ("Loading the model…");
    case DEPICT_INFERENCE_STAGE_READING_IMAGE:
      return _ ("Reading the photo…");
    case DEPICT_INFERENCE_STAGE_ENCODING:
      return _ ("Looking at the photo…");
    case DEPICT_INFERENCE_STAGE_GENERATING:
      return _ ("Generating…");
    case DEPICT_INFERENCE_STAGE_SAVING:
      return _ ("Saving…");
    case DEPICT_INFERENCE_STAGE_DONE:
    default:
      return _ ("Done");
    }
}

/* ---------------------------------------------------------------------------------------- */
/* The loaded model                                                                         */

static GMutex model_lock;
static FlorenceModel *loaded_model;
static char *loaded_key;
static char *loaded_weights_hash;

static FlorenceDeviceKind
device_kind (const char *device)
{
  FlorenceDeviceKind kind = FLORENCE_DEVICE_AUTO;

  if (device == NULL || device[0] == '\0')
    return FLORENCE_DEVICE_AUTO;
  if (florence_device_kind_from_string (device, &kind))
    return kind;
  /* A Vulkan device by name (the preferences store the name): see ensure_model(). */
  return FLORENCE_DEVICE_VULKAN;
}

/* With model_lock held. */
static FlorenceModel *
ensure_model (const DepictInferenceSettings *settings, GError **error)
{
  g_autofree char *key = g_strdup_printf ("%s\n%s\n%s", settings->model_dir,
                                          settings->tokenizer_dir ? settings->tokenizer_dir : "",
                                          settings->device ? settings->device : "");
  FlorenceModelOptions options = { 0 };

  if (loaded_model != NULL && g_strcmp0 (key, loaded_key) == 0)
    return loaded_model;

  g_clear_pointer (&loaded_model, florence_model_free);
  g_clear_pointer (&loaded_key, g_free);
  g_clear_pointer (&loaded_weights_hash, g_free);

  options.device = device_kind (settings->device);
  options.tokenizer_dir = settings->tokenizer_dir;
  {
    FlorenceDeviceKind named;
    if (settings->device != NULL && settings->device[0] != '\0' &&
        !florence_device_kind_from_string (settings->device, &named))
      options.vulkan_device = settings->device;
  }
  loaded_model = florence_model_load (settings->model_dir, &options, error);
  if (loaded_model == NULL)
    return NULL;
  loaded_key = g_steal_pointer (&key);
  /* The gallery keys runs by the weights hash; it is computed once per weights file. */
  {
    g_autoptr (GError) hash_error = NULL;
    loaded_weights_hash = florence_weights_hash_for_dir (settings->model_dir, NULL, &hash_error);
    if (loaded_weights_hash == NULL)
      {
        g_warning ("Could not hash the weights of %s: %s", settings->model_dir,
                   hash_error->message);
        loaded_weights_hash = g_strdup ("");
      }
  }
  g_debug ("Loaded %s on %s", settings->model_dir, florence_model_get_device_name (loaded_model));
  return loaded_model;
}

void
depict_inference_unload (void)
{
  g_mutex_lock (&model_lock);
  g_clear_pointer (&loaded_model, florence_model_free);
  g_clear_pointer (&loaded_key, g_free);
  g_clear_pointer (&loaded_weights_hash, g_free);
  g_mutex_unlock (&model_lock);
}

typedef struct {
  DepictInferenceProgressFunc func;
  gpointer data;
} ProgressRelay;

static void
tokens_progress_cb (guint n_tokens, gpointer user_data)
{
  ProgressRelay *relay = user_data;

  if (relay->func != NULL)
    relay->func (DEPICT_INFERENCE_STAGE_GENERATING, n_tokens, relay->data);
}

GalleryRun *
depict_inference_run_sync (const DepictInferenceSettings *settings, const char *image_path,
                           const char *task, const char *text_input,
                           DepictInferenceProgressFunc progress, gpointer progress_data,
                           GCancellable *cancellable, GError **error)
{
  g_autoptr (ImageRgb) image = NULL;
  g_autoptr (FlorenceRun) run = NULL;
  g_autoptr (GalleryRun) out = NULL;
  g_autofree char *weights_hash = NULL;
  FlorenceRunOptions options = { 0 };
  ProgressRelay relay = { progress, progress_data };
  FlorenceModel *model;

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (image_path != NULL, NULL);
  g_return_val_if_fail (task != NULL, NULL);

  if (progress != NULL)
    progress (DEPICT_INFERENCE_STAGE_READING_IMAGE, 0, progress_data);
  image = image_load (image_path, NULL, error);
  if (image == NULL)
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  if (progress != NULL)
    progress (DEPICT_INFERENCE_STAGE_WAITING, 0, progress_data);
  g_mutex_lock (&model_lock);
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      g_mutex_unlock (&model_lock);
      return NULL;
    }
  if (progress != NULL && (loaded_model == NULL || loaded_key == NULL ||
                           !g_str_has_prefix (loaded_key, settings->model_dir)))
    progress (DEPICT_INFERENCE_STAGE_LOADING_MODEL, 0, progress_data);
  model = ensure_model (settings, error);
  if (model == NULL)
    {
      g_mutex_unlock (&model_lock);
      return NULL;
    }

  if (progress != NULL)
    progress (DEPICT_INFERENCE_STAGE_ENCODING, 0, progress_data);
  options.task = task;
  options.text_input = text_input;
  options.num_beams = MAX (settings->num_beams, 0);
  options.max_new_tokens = MAX (settings->max_new_tokens, 0);
  run = florence_model_run (model, image, &options, cancellable, tokens_progress_cb, &relay, error);
  weights_hash = g_strdup (loaded_weights_hash);
  g_mutex_unlock (&model_lock);
  if (run == NULL)
    return NULL;

  out = gallery_run_new_from_florence (run, settings->model_name, weights_hash,
                                       settings->max_new_tokens);
  return g_steal_pointer (&out);
}

GalleryRun *
depict_inference_gallery_run_func (const char *image_path, const char *task, const char *text_input,
                                   gpointer user_data, GCancellable *cancellable, GError **error)
{
  return depict_inference_run_sync (user_data, image_path, task, text_input, NULL, NULL,
                                    cancellable, error);
}

/* ---------------------------------------------------------------------------------------- */
/* DepictInferenceJob: one run for the window                                               */

struct _DepictInferenceJob {
  GObject parent_instance;

  DepictInferenceSettings *settings;
  GFile *file;
  char *task;
  char *text_input;
  char *gallery_path;

  /* Progress, read and written on the main context only */
  DepictInferenceStage stage;
  guint n_tokens;

  GalleryRun *run;
  GError *store_error;
  gint64 start_time;
  double seconds;
  GMainContext *context;
};

G_DEFINE_FINAL_TYPE (DepictInferenceJob, depict_inference_job, G_TYPE_OBJECT)

enum { PROP_0, PROP_STAGE, PROP_N_TOKENS, N_PROPS };

static GParamSpec *properties[N_PROPS];

static void
depict_inference_job_finalize (GObject *object)
{
  DepictInferenceJob *self = DEPICT_INFERENCE_JOB (object);

  depict_inference_settings_free (self->settings);
  g_clear_object (&self->file);
  g_free (self->task);
  g_free (self->text_input);
  g_free (self->gallery_path);
  g_clear_pointer (&self->run, gallery_run_free);
  g_clear_error (&self->store_error);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (depict_inference_job_parent_class)->finalize (object);
}

static void
depict_inference_job_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictInferenceJob *self = DEPICT_INFERENCE_JOB (object);

  switch (prop_id)
    {
    case PROP_STAGE:
      g_value_set_int (value, self->stage);
      break;
    case PROP_N_TOKENS:
      g_value_set_uint (value, self->n_tokens);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_inference_job_class_init (DepictInferenceJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = depict_inference_job_finalize;
  object_class->get_property = depict_inference_job_get_property;

  properties[PROP_STAGE] = g_param_spec_int ("stage", NULL, NULL, 0, DEPICT_INFERENCE_STAGE_DONE, 0,
                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_TOKENS] = g_param_spec_uint ("n-tokens", NULL, NULL, 0, G_MAXUINT, 0,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
depict_inference_job_init (DepictInferenceJob *self)
{
}

DepictInferenceJob *
depict_inference_job_new (const DepictInferenceSettings *settings, GFile *file, const char *task,
                          const char *text_input)
{
  DepictInferenceJob *self;

  g_return_val_if_fail (settings != NULL, NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (task != NULL, NULL);

  self = g_object_new (DEPICT_TYPE_INFERENCE_JOB, NULL);
  self->settings = depict_inference_settings_copy (settings);
  self->file = g_object_ref (file);
  self->task = g_strdup (task);
  self->text_input = g_strdup (text_input);
  return self;
}

/* After a successful run, the run is stored in the gallery at this path (NULL: not stored). */
void
depict_inference_job_set_gallery (DepictInferenceJob *self, const char *gallery_path)
{
  g_return_if_fail (DEPICT_IS_INFERENCE_JOB (self));

  g_free (self->gallery_path);
  self->gallery_path = g_strdup (gallery_path);
}

typedef struct {
  DepictInferenceJob *job;
  DepictInferenceStage stage;
  guint n_tokens;
} ProgressUpdate;

static gboolean
apply_progress_cb (gpointer user_data)
{
  ProgressUpdate *update = user_data;
  DepictInferenceJob *self = update->job;

  if (self->stage != update->stage)
    {
      self->stage = update->stage;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STAGE]);
    }
  if (self->n_tokens != update->n_tokens)
    {
      self->n_tokens = update->n_tokens;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_TOKENS]);
    }
  return G_SOURCE_REMOVE;
}

static void
progress_update_free (gpointer data)
{
  ProgressUpdate *update = data;

  g_object_unref (update->job);
  g_free (update);
}

/* In the worker: hand the progress to the main context. */
static void
job_progress_cb (DepictInferenceStage stage, guint n_tokens, gpointer user_data)
{
  DepictInferenceJob *self = user_data;
  ProgressUpdate *update = g_new0 (ProgressUpdate, 1);

  update->job = g_object_ref (self);
  update->stage = stage;
  update->n_tokens = n_tokens;
  g_main_context_invoke_full (self->context, G_PRIORITY_DEFAULT, apply_progress_cb, update,
                              progress_update_free);
}

static void
store_run (DepictInferenceJob *self, const char *path)
{
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (GalleryRun) copy = NULL;
  GError *error = NULL;
  gint64 image_id;

  store = gallery_store_open (self->gallery_path, &error);
  if (store == NULL)
    {
      self->store_error = error;
      return;
    }
  image_id = gallery_store_add_image (store, path, NULL, &error);
  if (image_id == 0)
    {
      self->store_error = error;
      return;
    }
  copy = gallery_run_copy (self->run);
  if (gallery_store_add_run (store, image_id, copy, &error) == 0)
    self->store_error = error;
}

static void
job_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  DepictInferenceJob *self = source_object;
  g_autofree char *path = g_file_get_path (self->file);
  GError *error = NULL;

  if (path == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _ ("Only photos on this computer can be read. Copy it here first."));
      return;
    }
  self->run = depict_inference_run_sync (self->settings, path, self->task, self->text_input,
                                         job_progress_cb, self, cancellable, &error);
  if (self->run == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (self->gallery_path != NULL)
    {
      job_progress_cb (DEPICT_INFERENCE_STAGE_SAVING, 0, self);
      store_run (self, path);
    }
  g_task_return_boolean (task, TRUE);
}

void
depict_inference_job_run_async (DepictInferenceJob *self, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (DEPICT_IS_INFERENCE_JOB (self));
  g_return_if_fail (self->context == NULL);

  self->context = g_main_context_ref_thread_default ();
  self->start_time = g_get_monotonic_time ();
  self->stage = DEPICT_INFERENCE_STAGE_WAITING;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, depict_inference_job_run_async);
  g_task_run_in_thread (task, job_thread);
}

gboolean
depict_inference_job_run_finish (DepictInferenceJob *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (DEPICT_IS_INFERENCE_JOB (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  self->seconds = (g_get_monotonic_time () - self->start_time) / 1e6;
  self->stage = DEPICT_INFERENCE_STAGE_DONE;
  return g_task_propagate_boolean (G_TASK (result), error);
}

DepictInferenceStage
depict_inference_job_get_stage (DepictInferenceJob *self)
{
  g_return_val_if_fail (DEPICT_IS_INFERENCE_JOB (self), DEPICT_INFERENCE_STAGE_WAITING);
  return self->stage;
}

guint
depict_inference_job_get_n_tokens (DepictInferenceJob *self)
{
  g_return_val_if_fail (DEPICT_IS_INFERENCE_JOB (self), 0);
  return self->n_tokens;
}

GFile *
depict_inference_job_get_file (DepictInferenceJob *self)
{
  g_return_val_if_fail (DEPICT_IS_INFERENCE_JOB (self), NULL);
  return self->file;
}

const char *
depict_inference_job_get_task (DepictInferenceJob *self)
{
  g_return_val_if_fail (DEPICT_IS_INFERENCE_JOB (self), NULL);
  return self->task;
}

/* The finished run (NULL before it finished or when it failed). */
GalleryRun *
depict_inference_job_get_run (DepictInferenceJob *self)
{
  g_return_val_if_fail (DEPICT_IS_INFERENCE_JOB (self), NULL);
  return self->run;
}

double
depict_inference_job_get_seconds (DepictInferenceJob *self)
{
  g_return_val_if_fail (DEPICT_IS_INFERENCE_JOB (self), 0);
  return self->seconds;
}

/* Why the finished run could not be stored in the gallery, or NULL. */
const GError *
depict_inference_job_get_store_error (DepictInferenceJob *self)
{
  g_return_val_if_fail (DEPICT_IS_INFERENCE_JOB (self), NULL);
  return self->store_error;
}
