/* gallery-tagger.c: batch tagging of a photo library
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "florence/engine/florence-engine.h"
#include "florence/model/florence-limits.h"
#include "florence/model/florence-model.h"
#include "florence/text/florence-task.h"
#include "gallery/gallery-tagger.h"
#include "image/image-files.h"

/* ------------------------------------------------------------------------------------------ */
/* Tasks                                                                                       */

static const char *const default_tasks[] = { "<CAPTION>", "<OD>", "<OCR>", NULL };

const char *const *
gallery_tagger_default_tasks (void)
{
  return default_tasks;
}

const char *
gallery_tagger_task_token (const char *name)
{
  const FlorenceTaskInfo *task;

  g_return_val_if_fail (name != NULL, NULL);

  task = florence_task_find (name);
  return task != NULL ? task->token : NULL;
}

gboolean
gallery_tagger_task_takes_input (const char *task)
{
  return florence_task_takes_input (task);
}

char **
gallery_tagger_parse_tasks (const char *list, GError **error)
{
  g_auto (GStrv) names = NULL;
  g_autoptr (GPtrArray) tokens = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (list != NULL, NULL);

  names = g_strsplit (list, ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *token;
      gboolean seen = FALSE;

      if (g_strstrip (names[i])[0] == '\0')
        continue;
      token = gallery_tagger_task_token (names[i]);
      if (token == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _ ("“%s” is not a task. Use names such as caption, detailed-caption, od, "
                          "dense-caption, ocr or ocr-with-region, separated by commas."),
                       names[i]);
          return NULL;
        }
      for (guint k = 0; k < tokens->len; k++)
        seen = seen || strcmp (g_ptr_array_index (tokens, k), token) == 0;
      if (!seen)
        g_ptr_array_add (tokens, g_strdup (token));
    }
  if (tokens->len == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("No task was given. Name at least one, for example --tasks caption,od."));
      return NULL;
    }
  g_ptr_array_add (tokens, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&tokens), FALSE);
}

/* ------------------------------------------------------------------------------------------ */
/* Running                                                                                     */

void
gallery_tagger_summary_clear (GalleryTaggerSummary *summary)
{
  if (summary == NULL)
    return;
  g_clear_pointer (&summary->failures, g_ptr_array_unref);
  memset (summary, 0, sizeof *summary);
}

char *
gallery_tagger_format_duration (double seconds)
{
  long s = lround (MAX (seconds, 0));

  if (s < 60)
    return g_strdup_printf ("%lds", s);
  else if (s < 3600)
    return g_strdup_printf ("%ldm%02lds", s / 60, s % 60);
  else
    return g_strdup_printf ("%ldh%02ldm", s / 3600, (s % 3600) / 60);
}

char *
gallery_tagger_format_progress (const GalleryTaggerProgress *progress)
{
  GString *out;

  g_return_val_if_fail (progress != NULL, NULL);

  out = g_string_new (NULL);
  g_string_append_printf (out, "%u/%u", progress->done, progress->total);
  if (progress->images_per_second > 0)
    {
      double per_hour = progress->images_per_second * 3600;

      g_string_append (out, "  ");
      if (per_hour >= 10)
        /* Translators: tagging speed, "340 photos/h" */
        g_string_append_printf (out, _ ("%.0f photos/h"), per_hour);
      else
        /* Translators: tagging speed, "2.5 photos/h" */
        g_string_append_printf (out, _ ("%.1f photos/h"), per_hour);
    }
  if (progress->seconds_left >= 0 && progress->done < progress->total)
    {
      g_autofree char *left = gallery_tagger_format_duration (progress->seconds_left);

      g_string_append (out, "  ");
      /* Translators: time left in a batch, "4m20s left" */
      g_string_append_printf (out, _ ("%s left"), left);
    }
  return g_string_free (out, FALSE);
}

typedef struct {
  const GalleryTaggerOptions *options;
  GalleryTaggerSummary *summary;
  gint64 start_us;
  double busy_seconds; /* time spent on processed (not skipped) images */
} Batch;

static void
report (Batch *batch, const char *path)
{
  GalleryTaggerProgress progress = { 0 };
  GalleryTaggerSummary *s = batch->summary;
  guint left;

  if (batch->options->progress_func == NULL)
    return;
  progress.done = s->processed + s->skipped + s->failed;
  progress.total = s->total;
  progress.processed = s->processed;
  progress.skipped = s->skipped;
  progress.failed = s->failed;
  progress.current_path = path;
  progress.seconds_left = -1;
  left = s->total - progress.done;
  if (s->processed > 0 && batch->busy_seconds > 0)
    {
      progress.images_per_second = s->processed / batch->busy_seconds;
      progress.seconds_left = left / progress.images_per_second;
    }
  else if (left == 0)
    progress.seconds_left = 0;
  batch->options->progress_func (&progress, batch->options->progress_data);
}

static void
add_failure (Batch *batch, const char *path, const char *message)
{
  batch->summary->failed++;
  g_ptr_array_add (batch->summary->failures, g_strdup_printf ("%s: %s", path, message));
}

/* An unreadable sub-folder (or a path too long for the system) found by the walk, or a file
 * named that is not a photo. */
static void
on_walk_problem (const char *path, const GError *error, gpointer user_data)
{
  Batch *batch = user_data;

  batch->summary->unreadable++;
  g_ptr_array_add (batch->summary->failures, g_strdup (error->message)); /* names the path */
}

/* What a photo needs, decided before it is decoded: its image id and the tasks not yet done
 * (or why it failed). */
typedef struct {
  gint64 image_id;       /* 0: new content, known once decoded */
  gboolean needs_pixels; /* the decode must tell the gallery its pixels first */
  guint64 todo;          /* bit t: tasks[t] is to run (all, for new content) */
  char *failure;
} Plan;

static void
key_init (const GalleryTaggerOptions *options, const char *task, GalleryRun *key)
{
  const char *input = gallery_tagger_task_takes_input (task) ? options->text_input : NULL;

  key->task = g_strdup (task);
  key->text_input = g_strdup (input != NULL ? input : "");
  key->model_name = g_strdup (options->model_name != NULL ? options->model_name : "");
  key->weights_hash = g_strdup (options->weights_hash != NULL ? options->weights_hash : "");
  /* 0 is the default, stored as the number it stands for: the app and the command line
   * recognise each other's runs whichever way they asked. */
  key->num_beams = options->num_beams > 0 ? options->num_beams : FLORENCE_LIMITS_DEFAULT_BEAMS;
  key->max_new_tokens =
    options->max_new_tokens > 0 ? options->max_new_tokens : FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS;
}

/* The tasks of tasks not yet done for image_id (bit t: tasks[t]). FALSE on a store error. */
static gboolean
tasks_to_do (Batch *batch, GalleryStore *store, gint64 image_id, guint64 *out_todo, GError **error)
{
  const GalleryTaggerOptions *options = batch->options;
  const char *const *tasks = options->tasks != NULL ? options->tasks : default_tasks;

  *out_todo = 0;
  for (guint t = 0; tasks[t] != NULL && t < 64; t++)
    {
      g_autoptr (GalleryRun) key = gallery_run_new ();
      gboolean found = FALSE;

      key_init (options, tasks[t], key);
      if (!options->redo && !gallery_store_has_run (store, image_id, key, &found, error))
        return FALSE;
      if (!found)
        *out_todo |= (guint64) 1 << t;
    }
  return TRUE;
}

/* Finds the photo in the gallery and the tasks left to do. With a pipeline, nothing is
 * decoded here: a photo whose content is new is known once the workers have decoded it.
 * FALSE only for errors that stop the batch (store errors, cancellation); a photo that
 * cannot be read (or is not a photo) gets a failure. */
static gboolean
plan_one (Batch *batch, GalleryStore *store, const char *path, Plan *plan,
          GCancellable *cancellable, GError **error)
{
  const GalleryTaggerOptions *options = batch->options;
  g_autoptr (GError) local_error = NULL;
  gboolean ok;

  if (options->pipeline != NULL)
    ok = gallery_store_find_known_image (store, path, &plan->image_id, &plan->needs_pixels,
                                         cancellable, &local_error);
  else
    ok = (plan->image_id = gallery_store_add_image (store, path, cancellable, &local_error)) > 0;
  if (!ok)
    {
      /* The photo could not be read: that photo fails, the batch goes on. Errors of the
       * database itself stop it. */
      if (local_error->domain == GALLERY_STORE_ERROR ||
          g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      plan->failure = g_strdup (local_error->message);
      return TRUE;
    }
  if (plan->image_id == 0)
    {
      plan->todo = G_MAXUINT64;
      return TRUE;
    }
  if (!tasks_to_do (batch, store, plan->image_id, &plan->todo, error))
    return FALSE;
  /* A photo of an older gallery that is done learns its pixels here, once (that decode
   * runs no model). */
  if (plan->todo == 0 && plan->needs_pixels &&
      gallery_store_add_image (store, path, cancellable, &local_error) == 0 &&
      (local_error->domain == GALLERY_STORE_ERROR ||
       g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/* Runs the photo's tasks left to do and stores each result. Returns FALSE only for errors
 * that stop the batch (store errors, cancellation, a damaged model or a failed engine);
 * problems of the image itself are recorded as failures. */
static gboolean
tag_one (Batch *batch, GalleryStore *store, const char *path, Plan *plan, GCancellable *cancellable,
         GError **error)
{
  const GalleryTaggerOptions *options = batch->options;
  const char *const *tasks = options->tasks != NULL ? options->tasks : default_tasks;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GalleryPhoto) photo = NULL;
  gboolean ran = FALSE;
  gint64 start = g_get_monotonic_time ();

  if (plan->failure != NULL)
    {
      add_failure (batch, path, plan->failure);
      return TRUE;
    }
  if (plan->todo == 0)
    {
      batch->summary->skipped++;
      return TRUE;
    }
  if (options->pipeline != NULL &&
      (photo = gallery_pipeline_pop (options->pipeline, cancellable, error)) == NULL)
    return FALSE;
  if (photo != NULL && photo->error != NULL)
    {
      /* Not a photo, or unreadable: named, and nothing of it is stored. */
      add_failure (batch, path, photo->error->message);
      return TRUE;
    }
  if (photo != NULL && plan->needs_pixels)
    {
      /* Now that it is decoded, the gallery knows it: a new photo, or a known one whose
       * metadata changed (then only what it lacks runs). */
      plan->image_id = gallery_store_add_image_identified (store, path, &photo->identity,
                                                           cancellable, &local_error);
      if (plan->image_id == 0)
        {
          if (local_error->domain == GALLERY_STORE_ERROR ||
              g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          add_failure (batch, path, local_error->message);
          return TRUE;
        }
      if (!tasks_to_do (batch, store, plan->image_id, &plan->todo, error))
        return FALSE;
    }

  for (guint t = 0; tasks[t] != NULL && t < 64; t++)
    {
      g_autoptr (GalleryRun) key = gallery_run_new ();
      g_autoptr (GalleryRun) run = NULL;
      gboolean stored = FALSE;

      if ((plan->todo & ((guint64) 1 << t)) == 0)
        continue;
      key_init (options, tasks[t], key);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (photo != NULL)
        run = gallery_pipeline_run_task (
          options->pipeline, photo, key->task, key->text_input[0] != '\0' ? key->text_input : NULL,
          (guint) key->num_beams, (guint) key->max_new_tokens, cancellable, &local_error);
      else
        run =
          options->run_func (path, key->task, key->text_input[0] != '\0' ? key->text_input : NULL,
                             options->run_data, cancellable, &local_error);
      if (run == NULL)
        {
          if (local_error == NULL)
            g_set_error (&local_error, G_IO_ERROR, G_IO_ERROR_FAILED,
                         _ ("The model returned no result."));
          /* Damaged weights, or an engine that cannot go on, fail every photo alike: the
           * batch stops with the model's sentence, and no photo is called failed for it. */
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
              g_error_matches (local_error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_WEIGHTS) ||
              local_error->domain == FLORENCE_ENGINE_ERROR)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          add_failure (batch, path, local_error->message);
          batch->busy_seconds += (g_get_monotonic_time () - start) / 1e6;
          return TRUE;
        }
      /* What was asked is the key, whatever the runner wrote there. */
      g_free (run->task);
      run->task = g_strdup (key->task);
      g_free (run->text_input);
      run->text_input = g_strdup (key->text_input);
      g_free (run->model_name);
      run->model_name = g_strdup (key->model_name);
      g_free (run->weights_hash);
      run->weights_hash = g_strdup (key->weights_hash);
      run->num_beams = key->num_beams;
      run->max_new_tokens = key->max_new_tokens;
      run->min_tag_score = options->min_tag_score;
      /* Another tagger may have stored the same run meanwhile: its run stays (or, with redo,
       * this one replaces it); never both. */
      if (gallery_store_put_run (store, plan->image_id, run,
                                 options->redo ? GALLERY_RUN_REPLACE : GALLERY_RUN_KEEP_EXISTING,
                                 &stored, error) == 0)
        return FALSE;
      if (stored)
        batch->summary->runs_added++;
      ran = TRUE;
    }
  if (ran)
    {
      batch->summary->processed++;
      batch->busy_seconds += (g_get_monotonic_time () - start) / 1e6;
    }
  else
    batch->summary->skipped++;
  return TRUE;
}

gboolean
gallery_tagger_run (GalleryStore *store, const GalleryTaggerOptions *options,
                    const char *const *paths, GalleryTaggerSummary *summary,
                    GCancellable *cancellable, GError **error)
{
  GalleryTaggerSummary local_summary = { 0 };
  g_autoptr (GPtrArray) files = NULL;
  Batch batch = { 0 };
  g_autofree Plan *plans = NULL;
  guint planned = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (options != NULL && (options->run_func != NULL || options->pipeline != NULL),
                        FALSE);
  g_return_val_if_fail (paths != NULL, FALSE);

  if (summary == NULL)
    summary = &local_summary;
  memset (summary, 0, sizeof *summary);
  summary->failures = g_ptr_array_new_with_free_func (g_free);
  batch.options = options;
  batch.summary = summary;
  batch.start_us = g_get_monotonic_time ();

  /* Runs are known by the model's weights: without them nothing could be recognised as done
   * (by this front end or the other). */
  if (options->weights_hash == NULL || options->weights_hash[0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("The weights of the model “%s” are not known, so its results could not be "
                      "told apart from another model's. Load the model again; if it happens "
                      "again, please report it."),
                   options->model_name != NULL ? options->model_name : "");
      gallery_tagger_summary_clear (&local_summary);
      return FALSE;
    }
  if (options->tasks != NULL)
    for (guint t = 0; options->tasks[t] != NULL; t++)
      if (gallery_tagger_task_takes_input (options->tasks[t]) &&
          (options->text_input == NULL || options->text_input[0] == '\0'))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _ ("The task %s needs a text or region input. Give one, or leave that "
                          "task out."),
                       options->tasks[t]);
          gallery_tagger_summary_clear (&local_summary);
          return FALSE;
        }

  /* The gallery may live among the photos: its files are never opened (gallery-store.c). */
  files = image_files_collect_skipping (
    paths, (const char *const[]){ gallery_store_get_path (store), NULL }, options->recursive,
    on_walk_problem, &batch, cancellable, error);
  if (files == NULL)
    {
      summary->cancelled = g_cancellable_is_cancelled (cancellable);
      gallery_tagger_summary_clear (&local_summary);
      return FALSE;
    }
  summary->total = files->len;
  report (&batch, NULL);

  /* Before the first write: a damaged database is not written to. Then the files of the
   * folders walked that are gone are marked, and leave the searches. */
  if (!gallery_store_check (store, error))
    ok = FALSE;
  for (guint i = 0; ok && paths[i] != NULL; i++)
    if (g_file_test (paths[i], G_FILE_TEST_IS_DIR))
      ok = gallery_store_check_files (store, paths[i], NULL, cancellable, error);

  /* Plans (the store's view of each photo) run ahead of the tagging as far as the pipeline
   * takes photos, so that the workers decode the next photos that need the model while it
   * runs; photos already done are never decoded. */
  plans = g_new0 (Plan, files->len);
  for (guint i = 0; i < files->len && ok; i++)
    {
      const char *path = g_ptr_array_index (files, i);

      while (ok && planned < files->len &&
             (planned == i ||
              (options->pipeline != NULL && gallery_pipeline_get_queued (options->pipeline) <
                                              gallery_pipeline_get_depth (options->pipeline))))
        {
          Plan *plan = &plans[planned];
          gint64 t0 = g_get_monotonic_time ();

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            ok = FALSE;
          else if ((ok = plan_one (&batch, store, g_ptr_array_index (files, planned), plan,
                                   cancellable, error)) &&
                   plan->failure == NULL && plan->todo != 0 && options->pipeline != NULL)
            gallery_pipeline_push (options->pipeline, g_ptr_array_index (files, planned));
          if (ok && plan->failure == NULL && plan->todo != 0)
            batch.busy_seconds += (g_get_monotonic_time () - t0) / 1e6;
          planned++;
        }
      if (!ok)
        break;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        ok = FALSE;
      else if ((ok = tag_one (&batch, store, path, &plans[i], cancellable, error)))
        report (&batch, path);
      g_clear_pointer (&plans[i].failure, g_free);
    }
  for (guint i = 0; i < planned; i++)
    g_free (plans[i].failure);
  summary->seconds = (g_get_monotonic_time () - batch.start_us) / 1e6;
  summary->cancelled = g_cancellable_is_cancelled (cancellable);
  gallery_tagger_summary_clear (&local_summary);
  return ok;
}
