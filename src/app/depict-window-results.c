/* depict-window-results.c: the answer shown beside the photo, and running a task
 *
 * The typed answer (depict-answer.h) becomes the overlay items on the photo and the rows of
 * the results pane. Run asks the session for a run of the chosen task on the photo shown;
 * its progress and answer come back as the job's properties and signals. Answers kept in
 * the gallery are read back through the session whenever a photo is shown.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-window"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "depict-model-error.h"
#include "depict-window-private.h"
#include "florence/text/florence-task.h"

/* ---------------------------------------------------------------------------------------- */
/* Showing an answer                                                                        */

static const char *
task_title (const char *token)
{
  const FlorenceTaskInfo *task = token != NULL ? florence_task_lookup (token) : NULL;

  return task != NULL ? _ (task->name) : "";
}

/* Whether ANSWER answers a text typed by the person (grounding, referring segmentation). */
static gboolean
answer_has_query (DepictAnswer *answer)
{
  const FlorenceTaskInfo *task = florence_task_lookup (answer->task);

  return task != NULL && task->input == FLORENCE_TASK_INPUT_TEXT && answer->text_input != NULL &&
         answer->text_input[0] != '\0';
}

char *
_depict_window_answer_title (DepictAnswer *answer)
{
  const FlorenceTaskInfo *task = florence_task_lookup (answer->task);

  /* A text task answers one text: say which (a region is drawn on the photo instead). */
  if (answer_has_query (answer))
    /* Translators: a task and the text it was given, "Find a Described Object: “the dog”" */
    return g_strdup_printf (_ ("%s: “%s”"), _ (task->name), answer->text_input);
  return g_strdup (task_title (answer->task));
}

void
_depict_window_show_answer (DepictWindow *self, DepictAnswer *answer)
{
  g_autoptr (GListStore) items = NULL;

  if (answer != NULL)
    depict_answer_ref (answer);
  g_clear_pointer (&self->answer, depict_answer_unref);
  self->answer = answer;
  items = answer != NULL ? depict_overlay_items_from_result (answer->result)
                         : g_list_store_new (DEPICT_TYPE_OVERLAY_ITEM);
  if (answer != NULL && answer_has_query (answer))
    /* A mask of "the wizard" is the wizard: the text asked names what the model gave no
     * label. */
    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (items)); i++)
      {
        g_autoptr (DepictOverlayItem) item = g_list_model_get_item (G_LIST_MODEL (items), i);

        if (depict_overlay_item_get_label (item)[0] == '\0')
          depict_overlay_item_set_label (item, answer->text_input);
      }
  g_set_object (&self->items, items);
  /* the photo shows the regions of at least the task's minimum confidence */
  depict_confidence_filter_set_answer (self->confidence_filter,
                                       answer != NULL ? answer->task : NULL, G_LIST_MODEL (items));
  g_autoptr (GtkFilterListModel) shown = gtk_filter_list_model_new (
    G_LIST_MODEL (g_object_ref (items)),
    g_object_ref (depict_confidence_filter_get_filter (self->confidence_filter)));
  depict_image_view_set_items (self->image_view, G_LIST_MODEL (shown));

  if (answer != NULL)
    {
      g_autofree char *title = _depict_window_answer_title (answer);

      /* The picker shows which task this answers, and to what text. */
      self->showing_answer = TRUE;
      if (florence_task_lookup (answer->task) != NULL)
        depict_task_picker_set_task (self->task_picker, answer->task);
      if (answer_has_query (answer))
        depict_task_picker_set_text (self->task_picker, answer->text_input);
      self->showing_answer = FALSE;
      depict_results_pane_show_answer (self->results_pane, title, answer, G_LIST_MODEL (items));
    }
  _depict_window_update_actions (self);
}

/* Whether JOB is working on the photo shown. */
static gboolean
works_on_current (DepictWindow *self, DepictJob *job)
{
  GFile *file;

  if (job == NULL || self->current == NULL || !depict_job_get_running (job))
    return FALSE;
  file = depict_job_get_current_file (job);
  return file != NULL && g_file_equal (file, depict_queue_item_get_file (self->current));
}

/* "40 s", "3 min", "1.5 h" */
char *
_depict_window_format_duration (double seconds)
{
  if (seconds < 59.5)
    /* Translators: a duration in seconds */
    return g_strdup_printf (_ ("%.0f s"), MAX (1.0, ceil (seconds)));
  if (seconds < 3600)
    /* Translators: a duration in minutes */
    return g_strdup_printf (_ ("%.0f min"), ceil (seconds / 60));
  /* Translators: a duration in hours */
  return g_strdup_printf (_ ("%.1f h"), seconds / 3600);
}

void
_depict_window_show_progress (DepictWindow *self, DepictJob *job)
{
  g_autofree char *subject = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *batch = NULL;
  g_autofree char *name = NULL;
  DepictProgressInfo info = { .fraction = -1 };
  const char *task_token;
  const FlorenceTaskInfo *task;
  DepictJobStage stage;
  guint n_tokens, limit;

  if (!works_on_current (self, job))
    return;
  stage = depict_job_get_stage (job);
  n_tokens = depict_job_get_n_tokens (job);
  limit = depict_job_get_max_new_tokens (job);
  info.stage = depict_job_stage_to_string (stage);

  /* What runs on what: the task and the photo. */
  name = g_file_get_basename (depict_job_get_current_file (job));
  task_token = depict_job_get_current_task (job);
  task = task_token != NULL ? florence_task_lookup (task_token) : NULL;
  if (task != NULL)
    /* Translators: what a run does: a task and the photo, "Detect Objects · IMG_0042.jpg" */
    subject = g_strdup_printf (_ ("%s · %s"), _ (task->name), name);
  info.subject = subject != NULL ? subject : name;

  if (stage == DEPICT_JOB_STAGE_GENERATING)
    {
      double left = depict_job_get_generating_seconds_left (job);
      /* Translators: tokens generated so far, of the most an answer may have */
      g_autofree char *tokens = g_strdup_printf (
        g_dngettext (GETTEXT_PACKAGE, "%u of %u token", "%u of %u tokens", limit), n_tokens, limit);

      info.fraction = limit > 0 ? (double) n_tokens / limit : -1;
      if (left >= 0)
        {
          g_autofree char *duration = _depict_window_format_duration (left);

          /* Translators: tokens so far, then the longest the rest can take at the rate so
           * far ("764 of 1 024 tokens · at most 40 s left"); most answers end sooner */
          detail = g_strdup_printf (_ ("%s · at most %s left"), tokens, duration);
        }
      else
        detail = g_steal_pointer (&tokens);
    }
  info.detail = detail;
  if (stage == DEPICT_JOB_STAGE_PREPARING)
    info.note = _ ("The first run on this graphics card prepares its programs, which takes a "
                   "minute or so. This happens once: later runs start at once.");

  if (depict_job_get_kind (job) == DEPICT_JOB_BATCH && depict_job_get_total (job) > 0)
    {
      double left = depict_job_get_seconds_left (job);
      guint at = MIN (depict_job_get_done (job) + 1, depict_job_get_total (job));

      if (left >= 0)
        {
          g_autofree char *duration = _depict_window_format_duration (left);

          /* Translators: a batch's progress: the photo it is at, of how many, and the time
           * left for all of them */
          batch = g_strdup_printf (_ ("Photo %u of %u · about %s left"), at,
                                   depict_job_get_total (job), duration);
        }
      else
        /* Translators: a batch's progress: the photo it is at, of how many */
        batch = g_strdup_printf (_ ("Photo %u of %u"), at, depict_job_get_total (job));
    }
  info.batch = batch;
  depict_results_pane_show_progress (self->results_pane, &info);
}

/* Ready to run (and which other task the photo has an answer to), or the way to a model. */
static void
show_ready (DepictWindow *self)
{
  const char *other =
    self->current != NULL ? depict_queue_item_get_last_task (self->current) : NULL;

  _depict_window_show_answer (self, NULL);
  if (!depict_session_has_model (self->session))
    depict_results_pane_show_no_model (self->results_pane);
  else
    depict_results_pane_show_idle_with_other_answer (
      self->results_pane,
      other != NULL && florence_task_lookup (other) != NULL ? task_title (other) : NULL);
}

void
_depict_window_show_current (DepictWindow *self)
{
  const char *task = depict_task_picker_get_task (self->task_picker);
  DepictAnswer *answer;

  if (self->current == NULL)
    return;
  if (works_on_current (self, self->run_job) || works_on_current (self, self->batch))
    {
      _depict_window_show_answer (self, NULL);
      _depict_window_show_progress (self, works_on_current (self, self->run_job) ? self->run_job
                                                                                 : self->batch);
      return;
    }
  /* The task stays the one the person chose (Run does what the picker says): the photo
   * shows its answer to that task, if it has one. */
  answer = depict_queue_item_get_answer (self->current, task);
  if (answer != NULL)
    _depict_window_show_answer (self, answer);
  else
    show_ready (self);
}

/* ---------------------------------------------------------------------------------------- */
/* Stored answers                                                                           */

typedef struct {
  DepictWindow *self;
  DepictQueueItem *item;
  DepictStoredAnswers how;
} StoredData;

static void
stored_answers_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  StoredData *data = user_data;
  g_autoptr (DepictWindow) self = data->self;
  g_autoptr (DepictQueueItem) item = data->item;
  DepictStoredAnswers how = data->how;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) answers = NULL;
  DepictAnswer *latest;

  g_free (data);
  answers = depict_session_load_answers_finish (DEPICT_SESSION (source), result, &error);
  if (answers == NULL)
    {
      /* The gallery says why on its own page; the photo still works. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No stored answers for %s: %s", depict_queue_item_get_title (item),
                 error->message);
      return;
    }
  if (self->queue == NULL || answers->len == 0)
    return;
  for (guint i = 0; i < answers->len; i++)
    {
      DepictAnswer *answer = g_ptr_array_index (answers, i);
      DepictAnswer *had = depict_queue_item_get_answer (item, answer->task);

      /* An answer of this session that the gallery could not keep stays. */
      if (had == NULL || (had->run_id > 0 && had->run_id < answer->run_id))
        depict_queue_item_add_answer (item, answer);
    }
  if (depict_queue_item_get_state (item) == DEPICT_QUEUE_ITEM_WAITING)
    depict_queue_item_set_state (item, DEPICT_QUEUE_ITEM_DONE);
  if (item != self->current || works_on_current (self, self->run_job))
    return;
  latest = g_ptr_array_index (answers, answers->len - 1);
  if (how == DEPICT_STORED_ANSWERS_SHOW_LATEST)
    _depict_window_show_answer (self, depict_queue_item_get_answer (item, latest->task));
  else if (how == DEPICT_STORED_ANSWERS_AGAIN || self->answer == NULL)
    _depict_window_show_current (self);
}

void
_depict_window_load_stored_answers (DepictWindow *self, DepictQueueItem *item,
                                    DepictStoredAnswers how)
{
  StoredData *data;

  if (!depict_queue_item_begin_stored_answers (item) && how == DEPICT_STORED_ANSWERS_ONCE)
    return;
  data = g_new0 (StoredData, 1);
  data->self = g_object_ref (self);
  data->item = g_object_ref (item);
  data->how = how;
  depict_session_load_answers_async (self->session, depict_queue_item_get_file (item),
                                     self->cancellable, stored_answers_cb, data);
}

/* The gallery opened a photo: it comes with every stored answer, the latest shown. */
static void
gallery_image_activated_cb (DepictGalleryView *view, gint64 image_id, GFile *file,
                            DepictWindow *self)
{
  DepictQueueItem *item;

  _depict_window_add_photos (self, &file, 1);
  item = _depict_window_find_item (self, file, NULL);
  if (item != NULL)
    _depict_window_load_stored_answers (self, item, DEPICT_STORED_ANSWERS_SHOW_LATEST);
}

/* ---------------------------------------------------------------------------------------- */
/* Running a task                                                                           */

static void
run_progress_cb (DepictJob *job, GParamSpec *pspec, DepictWindow *self)
{
  _depict_window_show_progress (self, job);
}

static void
run_answer_cb (DepictJob *job, GFile *file, DepictAnswer *answer, DepictWindow *self)
{
  DepictQueueItem *item = _depict_window_find_item (self, file, NULL);

  if (item == NULL)
    return;
  depict_queue_item_add_answer (item, answer);
  depict_queue_item_set_state (item, DEPICT_QUEUE_ITEM_DONE);
  if (item != self->current)
    return;
  /* The person chose another task while it ran: the picker stays where they put it, and the
   * answer waits under its own task (shown when the run has finished). */
  if (g_strcmp0 (depict_task_picker_get_task (self->task_picker), answer->task) == 0)
    _depict_window_show_answer (self, answer);
}

static void
run_finished_cb (DepictJob *job, DepictWindow *self)
{
  const GError *error = depict_job_get_error (job);
  GFile *file = g_ptr_array_index (depict_job_get_files (job), 0);
  DepictQueueItem *item = _depict_window_find_item (self, file, NULL);
  gboolean shown = item != NULL && item == self->current;

  if (job == self->run_job)
    {
      g_signal_handlers_disconnect_by_data (job, self);
      g_clear_object (&self->run_job);
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      depict_window_add_toast (self, _ ("Stopped"));
      if (item != NULL)
        depict_queue_item_set_state (item, depict_queue_item_get_last_task (item) != NULL
                                             ? DEPICT_QUEUE_ITEM_DONE
                                             : DEPICT_QUEUE_ITEM_WAITING);
      if (shown)
        _depict_window_show_current (self);
    }
  else if (error != NULL)
    {
      /* The photo failed only when it could not be read: a damaged model is the model's. */
      if (item != NULL)
        depict_queue_item_set_state (item, depict_model_error_is_photo_error (error)
                                             ? DEPICT_QUEUE_ITEM_FAILED
                                             : (depict_queue_item_get_last_task (item) != NULL
                                                  ? DEPICT_QUEUE_ITEM_DONE
                                                  : DEPICT_QUEUE_ITEM_WAITING));
      if (shown)
        _depict_window_show_job_error (self, job, error);
      else
        {
          g_autofree char *message = _depict_window_describe_job_error (job, error, NULL);

          depict_window_add_toast (self, message);
        }
    }
  else
    {
      if (shown && self->answer == NULL)
        _depict_window_show_current (self);
      if (depict_job_get_store_error (job) != NULL)
        {
          g_autofree char *message =
            g_strdup_printf (_ ("The answer could not be kept in the gallery: %s"),
                             depict_job_get_store_error (job)->message);

          depict_window_add_toast (self, message);
        }
    }
  _depict_window_update_actions (self);
}

char *
_depict_window_describe_job_error (DepictJob *job, const GError *error, char **title)
{
  if (depict_model_error_is_damaged_model (error))
    return depict_model_error_describe (error, depict_job_get_settings (job)->model_dir, title);
  if (title != NULL)
    *title = g_strdup (depict_model_error_is_photo_error (error) ? _ ("This Photo Cannot Be Read")
                                                                 : _ ("The Task Failed"));
  return g_strdup (error->message);
}

void
_depict_window_show_job_error (DepictWindow *self, DepictJob *job, const GError *error)
{
  g_autofree char *title = NULL;
  g_autofree char *text = _depict_window_describe_job_error (job, error, &title);

  /* Running again cannot mend a model or a photo: the way out is the Models window, or
   * nothing. What failed otherwise (memory, the graphics card) may work the next time. */
  if (depict_model_error_is_damaged_model (error))
    depict_results_pane_show_error_with_action (self->results_pane, title, text, _ ("Open _Models"),
                                                "app.models");
  else
    depict_results_pane_show_error (self->results_pane, title, text,
                                    !depict_model_error_is_photo_error (error));
}

/* Asks the session to run TASK on the photo shown. */
static void
start_run (DepictWindow *self, const char *task, const char *text_input)
{
  g_autoptr (GError) error = NULL;
  DepictJob *job;

  job = depict_session_run (self->session, depict_queue_item_get_file (self->current), task,
                            text_input, &error);
  if (job == NULL)
    {
      if (g_error_matches (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_NO_MODEL))
        depict_results_pane_show_no_model (self->results_pane);
      else
        depict_results_pane_show_error (self->results_pane, _ ("The Task Cannot Run"),
                                        error->message, TRUE);
      return;
    }
  self->run_job = job;
  g_signal_connect_object (job, "notify::stage", G_CALLBACK (run_progress_cb), self, 0);
  g_signal_connect_object (job, "notify::n-tokens", G_CALLBACK (run_progress_cb), self, 0);
  g_signal_connect_object (job, "notify::current-file", G_CALLBACK (run_progress_cb), self, 0);
  g_signal_connect_object (job, "answer", G_CALLBACK (run_answer_cb), self, 0);
  g_signal_connect_object (job, "finished", G_CALLBACK (run_finished_cb), self, 0);
  depict_queue_item_set_state (self->current, DEPICT_QUEUE_ITEM_RUNNING);
  _depict_window_show_answer (self, NULL);
  {
    g_autofree char *name = g_file_get_basename (depict_queue_item_get_file (self->current));
    g_autofree char *subject = NULL;
    const FlorenceTaskInfo *info = florence_task_lookup (task);
    DepictProgressInfo progress = { .fraction = -1 };

    if (info != NULL)
      subject = g_strdup_printf (_ ("%s · %s"), _ (info->name), name);
    progress.stage = depict_job_stage_to_string (DEPICT_JOB_STAGE_WAITING);
    progress.subject = subject != NULL ? subject : name;
    depict_results_pane_show_progress (self->results_pane, &progress);
  }
  _depict_window_update_actions (self);
}

void
depict_window_run (DepictWindow *self)
{
  g_autofree char *text_input = NULL;
  const FlorenceTaskInfo *task;
  GdkTexture *texture;

  g_return_if_fail (DEPICT_IS_WINDOW (self));

  if (self->run_job != NULL)
    return;
  /* Without a model Run leads to the Models window, where one is downloaded or chosen. */
  if (!depict_session_has_model (self->session))
    {
      if (self->current != NULL)
        depict_results_pane_show_no_model (self->results_pane);
      gtk_widget_activate_action (GTK_WIDGET (self), "app.models", NULL);
      return;
    }
  if (self->current == NULL)
    {
      depict_window_add_toast (self, _ ("Open a photo first"));
      return;
    }
  /* The photo on screen may still be the previous one (and a region drawn on it). */
  if (self->load_cancellable != NULL)
    {
      depict_window_add_toast (self, _ ("The photo is still loading"));
      return;
    }
  texture = depict_image_view_get_texture (self->image_view);
  task = depict_task_picker_get_task_info (self->task_picker);

  switch (task->input)
    {
    case FLORENCE_TASK_INPUT_TEXT:
      {
        const char *text = depict_task_picker_get_text (self->task_picker);
        g_autofree char *stripped = g_strstrip (g_strdup (text));

        if (stripped[0] == '\0')
          {
            depict_window_add_toast (self, task->input_hint != NULL
                                             ? _ (task->input_hint)
                                             : _ ("Type what to look for first"));
            depict_task_picker_focus_input (self->task_picker);
            return;
          }
        text_input = g_strdup (text);
        g_settings_set_string (self->settings, "last-text-input", text);
      }
      break;

    case FLORENCE_TASK_INPUT_REGION:
      {
        graphene_rect_t region;

        if (texture == NULL || !depict_image_view_get_region (self->image_view, &region))
          {
            depict_window_add_toast (self, _ ("Choose the region first: drag a rectangle on the "
                                              "photo, or focus it and press the arrow keys"));
            return;
          }
        text_input = florence_task_region_input (
          region.origin.x, region.origin.y, region.origin.x + region.size.width,
          region.origin.y + region.size.height, gdk_texture_get_width (texture),
          gdk_texture_get_height (texture));
      }
      break;

    case FLORENCE_TASK_INPUT_NONE:
    default:
      break;
    }

  start_run (self, task->token, text_input);
}

void
depict_window_cancel (DepictWindow *self)
{
  g_return_if_fail (DEPICT_IS_WINDOW (self));

  if (self->run_job != NULL)
    depict_job_cancel (self->run_job);
  if (self->run_all_job != NULL)
    depict_job_cancel (self->run_all_job);
}

gboolean
depict_window_get_busy (DepictWindow *self)
{
  g_return_val_if_fail (DEPICT_IS_WINDOW (self), FALSE);
  return self->run_job != NULL || self->run_all_job != NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Task picker and region                                                                   */

static void
task_changed_cb (DepictTaskPicker *picker, GParamSpec *pspec, DepictWindow *self)
{
  const FlorenceTaskInfo *task = depict_task_picker_get_task_info (picker);
  gboolean region = task->input == FLORENCE_TASK_INPUT_REGION;

  depict_image_view_set_region_mode (self->image_view, region);
  gtk_revealer_set_reveal_child (self->region_hint_revealer,
                                 region && !depict_image_view_get_region (self->image_view, NULL));

  /* Each task keeps its own answer: choosing a task shows the answer it gave this photo,
   * if any, without running the model again. */
  if (!self->showing_answer)
    _depict_window_show_current (self);
}

static void
region_changed_cb (DepictImageView *view, GParamSpec *pspec, DepictWindow *self)
{
  graphene_rect_t r;
  g_autofree char *text = NULL;
  gboolean has = depict_image_view_get_region (view, &r);

  if (has)
    /* Translators: the chosen region, in pixels: left, top – right, bottom */
    text = g_strdup_printf (_ ("Region: %.0f, %.0f – %.0f, %.0f"), r.origin.x, r.origin.y,
                            r.origin.x + r.size.width, r.origin.y + r.size.height);
  depict_task_picker_set_region_description (self->task_picker, text);
  gtk_revealer_set_reveal_child (self->region_hint_revealer,
                                 depict_image_view_get_region_mode (view) && !has);
}

static void
model_changed_cb (GSettings *settings, const char *key, DepictWindow *self)
{
  const char *page = depict_results_pane_get_page (self->results_pane);

  _depict_window_update_empty_page (self);
  /* A model was just chosen or installed: leave the "no model" page. */
  if (self->current != NULL && (g_str_equal (page, "no-model") || g_str_equal (page, "idle")))
    _depict_window_show_current (self);
}

void
_depict_window_results_init (DepictWindow *self)
{
  g_autofree char *last_task = NULL;
  g_autofree char *last_text = NULL;

  /* The task: remembered between runs */
  g_signal_connect (self->task_picker, "notify::task", G_CALLBACK (task_changed_cb), self);
  last_task = g_settings_get_string (self->settings, "last-task");
  depict_task_picker_set_task (self->task_picker, last_task);
  last_text = g_settings_get_string (self->settings, "last-text-input");
  depict_task_picker_set_text (self->task_picker, last_text);
  g_settings_bind (self->settings, "last-task", self->task_picker, "task", G_SETTINGS_BIND_DEFAULT);
  task_changed_cb (self->task_picker, NULL, self);

  g_signal_connect (self->image_view, "notify::has-region", G_CALLBACK (region_changed_cb), self);
  g_signal_connect_object (self->settings, "changed::model", G_CALLBACK (model_changed_cb), self,
                           0);
  g_signal_connect (self->gallery_view, "image-activated", G_CALLBACK (gallery_image_activated_cb),
                    self);
}

void
_depict_window_results_dispose (DepictWindow *self)
{
  if (self->run_job != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->run_job, self);
      depict_job_cancel (self->run_job);
    }
  g_clear_object (&self->run_job);
  g_clear_object (&self->items);
  g_clear_pointer (&self->answer, depict_answer_unref);
}
