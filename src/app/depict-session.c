/* depict-session.c
 *
 * The session's main-context side: settings, the model the settings name, the gallery
 * connection, making and queueing jobs, the batch and its pause, and stored answers. What
 * the worker thread does is in depict-session-worker.c.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-session"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-gallery-date.h"
#include "depict-session-private.h"
#include "florence/model/florence-limits.h"
#include "florence/model/florence-model-dir.h"
#include "florence/text/florence-task.h"
#include "gallery/gallery-result.h"
#include "gallery/gallery-tagger.h"

G_DEFINE_QUARK (depict - session - error - quark, depict_session_error)

G_DEFINE_FINAL_TYPE (DepictSession, depict_session, G_TYPE_OBJECT)

enum { PROP_0, PROP_BATCH, PROP_BATCH_PAUSED, PROP_BUSY, PROP_STORE_GENERATION, N_PROPS };

static GParamSpec *properties[N_PROPS];

/* ---------------------------------------------------------------------------------------- */
/* The model the settings name                                                              */

static gboolean
has_file (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

DepictRunSettings *
depict_session_read_run_settings (DepictSession *self, GError **error)
{
  g_autoptr (DepictRunSettings) settings = depict_run_settings_new ();
  g_autoptr (GError) local_error = NULL;
  g_autofree char *model = NULL;
  const char *tokenizer = g_getenv ("DEPICT_TOKENIZER_DIR");

  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);

  /* The model the setting names, by the rule depict-cli follows (florence-model-dir.h). */
  model = g_settings_get_string (self->settings, "model");
  settings->model_dir = florence_model_dir_resolve (model, &local_error);
  if (settings->model_dir == NULL)
    {
      g_set_error_literal (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_NO_MODEL,
                           local_error->message);
      return NULL;
    }
  /* A model folder without tokenizer files (the test fixtures) takes them from
   * $DEPICT_TOKENIZER_DIR. */
  if (!has_file (settings->model_dir, "tokenizer.json") &&
      !has_file (settings->model_dir, "vocab.json") && tokenizer != NULL && tokenizer[0] != '\0')
    settings->tokenizer_dir = g_strdup (tokenizer);
  settings->device = g_settings_get_string (self->settings, "device");
  settings->num_beams = g_settings_get_int (self->settings, "beams");
  settings->max_new_tokens = g_settings_get_int (self->settings, "max-new-tokens");
  settings->n_threads = g_settings_get_int (self->settings, "cpu-threads");
  settings->min_tag_score = g_settings_get_double (self->settings, "min-tag-confidence");
  if (!florence_limits_check (NULL, settings->num_beams, settings->max_new_tokens, 0, &local_error))
    {
      g_set_error_literal (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_INPUT,
                           local_error->message);
      return NULL;
    }
  return g_steal_pointer (&settings);
}

gboolean
depict_session_has_model (DepictSession *self)
{
  g_autofree char *model = NULL;
  g_autofree char *dir = NULL;

  g_return_val_if_fail (DEPICT_IS_SESSION (self), FALSE);

  model = g_settings_get_string (self->settings, "model");
  dir = florence_model_dir_resolve (model, NULL);
  return dir != NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* How long a task takes                                                                    */

char *
_depict_session_task_seconds_key (const DepictRunSettings *settings)
{
  return g_strdup_printf ("%s|%s", settings->model_dir,
                          settings->device != NULL ? settings->device : "");
}

double
depict_session_get_task_seconds (DepictSession *self, const DepictRunSettings *settings)
{
  g_autoptr (GVariant) all = NULL;
  g_autofree char *key = NULL;
  double seconds = 0;

  g_return_val_if_fail (DEPICT_IS_SESSION (self), 0);
  g_return_val_if_fail (settings != NULL, 0);

  all = g_settings_get_value (self->settings, "task-seconds");
  key = _depict_session_task_seconds_key (settings);
  if (!g_variant_lookup (all, key, "d", &seconds))
    return 0;
  return seconds > 0 ? seconds : 0;
}

/* What the worker measured during the job that ended, kept for the next estimate. */
static void
keep_task_seconds (DepictSession *self)
{
  g_autoptr (GVariant) all = NULL;
  g_autofree char *key = NULL;
  GVariantBuilder builder;
  GVariantIter iter;
  const char *name;
  double seconds, value;

  g_mutex_lock (&self->worker.lock);
  seconds = self->worker.measured_seconds;
  key = g_steal_pointer (&self->worker.measured_key);
  self->worker.measured_seconds = 0;
  g_mutex_unlock (&self->worker.lock);
  if (key == NULL)
    return;
  all = g_settings_get_value (self->settings, "task-seconds");
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sd}"));
  g_variant_iter_init (&iter, all);
  while (g_variant_iter_next (&iter, "{&sd}", &name, &value))
    if (g_strcmp0 (name, key) != 0)
      g_variant_builder_add (&builder, "{sd}", name, value);
  g_variant_builder_add (&builder, "{sd}", key, seconds);
  g_settings_set_value (self->settings, "task-seconds", g_variant_builder_end (&builder));
}

/* ---------------------------------------------------------------------------------------- */
/* The gallery connection                                                                   */

GalleryStore *
depict_session_get_store (DepictSession *self, GError **error)
{
  GalleryStore *store;

  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);

  g_mutex_lock (&self->store_lock);
  if (self->store == NULL)
    self->store = gallery_store_open (self->gallery_path, error);
  store = self->store;
  g_mutex_unlock (&self->store_lock);
  return store;
}

gboolean
depict_session_close_store (DepictSession *self)
{
  g_return_val_if_fail (DEPICT_IS_SESSION (self), FALSE);

  if (depict_session_get_busy (self) || self->batch != NULL || self->store_readers > 0)
    return FALSE;
  g_mutex_lock (&self->store_lock);
  g_clear_pointer (&self->store, gallery_store_close);
  g_mutex_unlock (&self->store_lock);
  return TRUE;
}

guint
depict_session_get_store_generation (DepictSession *self)
{
  g_return_val_if_fail (DEPICT_IS_SESSION (self), 0);
  return self->store_generation;
}

/* ---------------------------------------------------------------------------------------- */
/* Jobs                                                                                     */

static void
job_answer_cb (DepictJob *job, GFile *file, DepictAnswer *answer, DepictSession *self)
{
  if (answer->run_id > 0)
    {
      self->store_generation++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE_GENERATION]);
    }
}

void
_depict_session_job_done (GObject *object, DepictJob *job)
{
  DepictSession *self = DEPICT_SESSION (object);
  gboolean was_busy = self->jobs->len > 0;

  g_signal_handlers_disconnect_by_data (job, self);
  g_ptr_array_remove (self->jobs, job);
  keep_task_seconds (self);
  if (depict_job_get_kind (job) == DEPICT_JOB_BATCH)
    {
      self->store_generation++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STORE_GENERATION]);
    }
  if (job == self->batch && !self->batch_paused)
    {
      g_clear_object (&self->batch);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH]);
    }
  else if (job == self->batch && depict_job_get_error (job) == NULL)
    {
      /* Paused too late: it had finished. */
      self->batch_paused = FALSE;
      g_clear_object (&self->batch);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH_PAUSED]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH]);
    }
  if (was_busy && self->jobs->len == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
queue_job (DepictSession *self, DepictJob *job)
{
  gboolean was_busy = self->jobs->len > 0;

  g_ptr_array_add (self->jobs, g_object_ref (job));
  g_signal_connect_object (job, "answer", G_CALLBACK (job_answer_cb), self, 0);
  _depict_session_worker_push (self, job);
  if (!was_busy)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

DepictJob *
depict_session_run (DepictSession *self, GFile *file, const char *task, const char *text_input,
                    GError **error)
{
  g_autoptr (DepictRunSettings) settings = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new ();
  const char *tasks[] = { task, NULL };
  DepictJob *job;

  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);
  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (task != NULL, NULL);

  settings = depict_session_read_run_settings (self, error);
  if (settings == NULL)
    return NULL;
  g_ptr_array_add (files, file);
  job = _depict_job_new (DEPICT_JOB_RUN, settings, files, tasks, text_input, NULL);
  queue_job (self, job);
  return job;
}

static DepictJob *
start_batch (DepictSession *self, DepictJobKind kind, const DepictRunSettings *settings,
             GPtrArray *files, const char *const *tasks, const char *text_input, const char *title)
{
  DepictJob *job = _depict_job_new (kind, settings, files, tasks, text_input, title);

  g_set_object (&self->batch, job);
  self->batch_paused = FALSE;
  queue_job (self, job);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH_PAUSED]);
  return job;
}

DepictJob *
depict_session_tag (DepictSession *self, GPtrArray *files, const char *const *tasks,
                    const char *text_input, const char *title, GError **error)
{
  g_autoptr (DepictRunSettings) settings = NULL;

  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);
  g_return_val_if_fail (files != NULL, NULL);

  if (self->batch != NULL && !self->batch_paused)
    {
      g_set_error (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_BUSY,
                   _ ("Photos are being tagged already. Wait for it or stop it first."));
      return NULL;
    }
  if (files->len == 0 || tasks == NULL || tasks[0] == NULL)
    {
      g_set_error (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_INPUT,
                   _ ("There is nothing to tag: add photos and choose a task first."));
      return NULL;
    }
  for (guint i = 0; tasks[i] != NULL; i++)
    {
      const FlorenceTaskInfo *info = florence_task_lookup (tasks[i]);

      if (info != NULL && info->input == FLORENCE_TASK_INPUT_REGION)
        {
          g_set_error (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_INPUT,
                       _ ("A region task runs on one photo at a time: choose the region on each"));
          return NULL;
        }
    }
  settings = depict_session_read_run_settings (self, error);
  if (settings == NULL)
    return NULL;
  return start_batch (self, DEPICT_JOB_BATCH, settings, files, tasks, text_input, title);
}

GStrv
depict_session_dup_batch_tasks (DepictSession *self)
{
  g_auto (GStrv) chosen = NULL;

  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);

  chosen = g_settings_get_strv (self->settings, "batch-tasks");
  if (chosen[0] != NULL)
    return g_steal_pointer (&chosen);
  return g_strdupv ((char **) gallery_tagger_default_tasks ());
}

DepictJob *
depict_session_tag_folder (DepictSession *self, GFile *folder, GError **error)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new ();
  g_auto (GStrv) tasks = NULL;
  g_autofree char *name = NULL;
  g_autofree char *title = NULL;

  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);
  g_return_val_if_fail (G_IS_FILE (folder), NULL);

  tasks = depict_session_dup_batch_tasks (self);
  name = g_file_get_basename (folder);
  /* Translators: %s is a folder name */
  title = g_strdup_printf (_ ("Tagging “%s”"), name);
  g_ptr_array_add (files, folder);
  return depict_session_tag (self, files, (const char *const *) tasks, NULL, title, error);
}

DepictJob *
depict_session_get_batch (DepictSession *self)
{
  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);
  return self->batch;
}

gboolean
depict_session_get_batch_paused (DepictSession *self)
{
  g_return_val_if_fail (DEPICT_IS_SESSION (self), FALSE);
  return self->batch_paused;
}

void
depict_session_pause_batch (DepictSession *self)
{
  g_return_if_fail (DEPICT_IS_SESSION (self));

  if (self->batch == NULL || self->batch_paused)
    return;
  self->batch_paused = TRUE;
  depict_job_cancel (self->batch);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH_PAUSED]);
}

DepictJob *
depict_session_resume_batch (DepictSession *self, GError **error)
{
  g_autoptr (DepictJob) paused = NULL;
  g_autoptr (DepictRunSettings) settings = NULL;

  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);

  if (self->batch == NULL || !self->batch_paused)
    return self->batch;
  if (!depict_job_get_finished (self->batch))
    {
      g_set_error (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_BUSY,
                   _ ("The batch is still stopping. Try again in a moment."));
      return NULL;
    }
  /* What was asked, with the settings of now: the photos done are skipped. */
  settings = depict_session_read_run_settings (self, error);
  if (settings == NULL)
    return NULL;
  paused = g_steal_pointer (&self->batch);
  return start_batch (self, depict_job_get_kind (paused), settings, depict_job_get_files (paused),
                      depict_job_get_tasks (paused), depict_job_get_text_input (paused),
                      depict_job_get_title (paused));
}

void
depict_session_stop_batch (DepictSession *self)
{
  g_return_if_fail (DEPICT_IS_SESSION (self));

  if (self->batch == NULL)
    return;
  depict_job_cancel (self->batch);
  if (self->batch_paused || depict_job_get_finished (self->batch))
    {
      g_clear_object (&self->batch);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH]);
    }
  self->batch_paused = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BATCH_PAUSED]);
}

gboolean
depict_session_get_busy (DepictSession *self)
{
  g_return_val_if_fail (DEPICT_IS_SESSION (self), FALSE);
  return self->jobs->len > 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Stored answers                                                                           */

static char *
stored_info (const GalleryRun *run)
{
  g_autofree char *date = depict_gallery_date_format (run->created, NULL);

  /* Translators: a stored answer: when it was made, and by which model */
  return g_strdup_printf (_ ("Stored %s · %s"), date,
                          run->model_name != NULL ? run->model_name : "");
}

static void
load_answers_thread (GTask *task, gpointer source_object, gpointer task_data,
                     GCancellable *cancellable)
{
  DepictSession *self = source_object;
  g_autofree char *path = g_file_get_path (G_FILE (task_data));
  g_autoptr (GPtrArray) answers =
    g_ptr_array_new_with_free_func ((GDestroyNotify) depict_answer_unref);
  g_autoptr (GPtrArray) runs = NULL;
  g_autoptr (GHashTable) latest = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GalleryImage) image = NULL;
  g_autoptr (GError) error = NULL;
  GalleryStore *store;

  if (path == NULL)
    {
      g_task_return_pointer (task, g_steal_pointer (&answers), (GDestroyNotify) g_ptr_array_unref);
      return;
    }
  store = depict_session_get_store (self, &error);
  if (store == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  image = gallery_store_find_image (store, path, &error);
  if (image != NULL)
    runs = gallery_store_list_runs (store, image->id, &error);
  if (image == NULL && g_error_matches (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND))
    g_clear_error (&error);
  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* The latest of each task (runs come oldest first), in the order they were made. */
  for (guint i = 0; runs != NULL && i < runs->len; i++)
    {
      GalleryRun *run = g_ptr_array_index (runs, i);

      if (run->task != NULL && run->result != NULL)
        g_hash_table_insert (latest, run->task, run);
    }
  for (guint i = 0; runs != NULL && i < runs->len; i++)
    {
      GalleryRun *run = g_ptr_array_index (runs, i);
      g_autoptr (FlorenceResult) result = NULL;
      g_autoptr (GError) parse_error = NULL;
      g_autofree char *info = NULL;
      DepictAnswer *answer;

      if (run->task == NULL || g_hash_table_lookup (latest, run->task) != run)
        continue;
      /* The gallery's one reader: it knows every shape a gallery has stored. */
      result = gallery_result_read (run->task, run->result, run->image_width, run->image_height,
                                    &parse_error);
      if (result == NULL)
        {
          g_debug ("Stored run %" G_GINT64_FORMAT " cannot be shown: %s", run->id,
                   parse_error->message);
          continue;
        }
      info = stored_info (run);
      answer = depict_answer_new (run->task, run->text_input, g_steal_pointer (&result), info);
      answer->run_id = run->id;
      g_ptr_array_add (answers, answer);
    }
  g_task_return_pointer (task, g_steal_pointer (&answers), (GDestroyNotify) g_ptr_array_unref);
}

/* The thread's work is over (main context): the connection is free to close again, and the
 * caller's task gets the answers. */
static void
load_answers_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DepictSession *self = DEPICT_SESSION (source);
  g_autoptr (GTask) outer = user_data;
  g_autoptr (GError) error = NULL;
  GPtrArray *answers = g_task_propagate_pointer (G_TASK (result), &error);

  g_assert (self->store_readers > 0);
  self->store_readers--;
  if (answers == NULL)
    g_task_return_error (outer, g_steal_pointer (&error));
  else
    g_task_return_pointer (outer, answers, (GDestroyNotify) g_ptr_array_unref);
}

void
depict_session_load_answers_async (DepictSession *self, GFile *file, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *outer;
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (DEPICT_IS_SESSION (self));
  g_return_if_fail (G_IS_FILE (file));

  /* The thread holds the gallery connection until load_answers_done: closing it then (to
   * move a damaged file aside) would pull it from under the thread. */
  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, depict_session_load_answers_async);
  task = g_task_new (self, cancellable, load_answers_done, outer);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  self->store_readers++;
  g_task_run_in_thread (task, load_answers_thread);
}

GPtrArray *
depict_session_load_answers_finish (DepictSession *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---------------------------------------------------------------------------------------- */
/* GObject                                                                                  */

static void
depict_session_dispose (GObject *object)
{
  DepictSession *self = DEPICT_SESSION (object);

  _depict_session_worker_stop (self);
  for (guint i = 0; i < self->jobs->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->jobs, i), self);
  g_ptr_array_set_size (self->jobs, 0);
  g_clear_object (&self->batch);

  G_OBJECT_CLASS (depict_session_parent_class)->dispose (object);
}

static void
depict_session_finalize (GObject *object)
{
  DepictSession *self = DEPICT_SESSION (object);

  g_clear_pointer (&self->store, gallery_store_close);
  g_mutex_clear (&self->store_lock);
  g_clear_pointer (&self->jobs, g_ptr_array_unref);
  g_clear_object (&self->settings);
  g_free (self->gallery_path);

  G_OBJECT_CLASS (depict_session_parent_class)->finalize (object);
}

static void
depict_session_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictSession *self = DEPICT_SESSION (object);

  switch (prop_id)
    {
    case PROP_BATCH:
      g_value_set_object (value, self->batch);
      break;
    case PROP_BATCH_PAUSED:
      g_value_set_boolean (value, self->batch_paused);
      break;
    case PROP_BUSY:
      g_value_set_boolean (value, depict_session_get_busy (self));
      break;
    case PROP_STORE_GENERATION:
      g_value_set_uint (value, self->store_generation);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_session_class_init (DepictSessionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = depict_session_dispose;
  object_class->finalize = depict_session_finalize;
  object_class->get_property = depict_session_get_property;

  properties[PROP_BATCH] = g_param_spec_object ("batch", NULL, NULL, DEPICT_TYPE_JOB,
                                                G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BATCH_PAUSED] = g_param_spec_boolean ("batch-paused", NULL, NULL, FALSE,
                                                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_BUSY] =
    g_param_spec_boolean ("busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_STORE_GENERATION] = g_param_spec_uint (
    "store-generation", NULL, NULL, 0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
depict_session_init (DepictSession *self)
{
  g_mutex_init (&self->store_lock);
  self->jobs = g_ptr_array_new_with_free_func (g_object_unref);
}

DepictSession *
depict_session_new (GSettings *settings, const char *gallery_path)
{
  DepictSession *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (DEPICT_TYPE_SESSION, NULL);
  self->settings = g_object_ref (settings);
  self->gallery_path = g_strdup (gallery_path);
  _depict_session_worker_start (self);
  return self;
}

GSettings *
depict_session_get_settings (DepictSession *self)
{
  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);
  return self->settings;
}

char *
depict_session_dup_gallery_path (DepictSession *self)
{
  g_return_val_if_fail (DEPICT_IS_SESSION (self), NULL);
  return self->gallery_path != NULL ? g_strdup (self->gallery_path) : gallery_store_default_path ();
}
