/* depict-model-manager.c: download, list and delete models
 *
 * Each model of the catalogue is a row that says its size and where it is stored, with one
 * button for what can be done now: Download (with a progress bar and Cancel while it runs;
 * a cancelled download resumes later), or Delete (after a confirmation). The first model
 * installed becomes the one in use. A failed download stays written in its row, with what
 * to do offline. A model folder in use has its own row (size, place, Stop Using); a folder
 * that lacks files says which.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "depict-model-manager.h"
#include "florence/hub/florence-hub.h"

typedef struct {
  DepictModelManager *manager; /* unowned */
  const FlorenceHubModel *model;
  AdwActionRow *row;
  GtkLabel *state_label;
  GtkProgressBar *progress;
  GtkButton *button;
  GCancellable *cancellable; /* non-NULL while downloading */
  char *state;
  char *error; /* why the last download failed, until the next one */
} ModelRow;

struct _DepictModelManager {
  AdwWindow parent_instance;

  AdwToastOverlay *toast_overlay;
  AdwPreferencesGroup *models_group;
  AdwActionRow *folder_row;
  AdwActionRow *folder_in_use_row;
  GtkButton *stop_using_button;
  char *folder_problem;  /* why the folder chosen last cannot be used */
  char *folder_subtitle; /* what a model folder needs */

  GSettings *settings;
  GPtrArray *rows; /* ModelRow* */
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (DepictModelManager, depict_model_manager, ADW_TYPE_WINDOW)

static void row_update (ModelRow *row);

/* The model setting names a folder rather than a model of the catalogue. */
static gboolean
is_folder (const char *model)
{
  return model != NULL && model[0] != '\0' && florence_hub_lookup (model) == NULL;
}

/* Whether the model in use is there to run: installed, or a complete folder. */
static gboolean
model_in_use_ready (DepictModelManager *self)
{
  g_autofree char *current = g_settings_get_string (self->settings, "model");
  const FlorenceHubModel *model = florence_hub_lookup (current);

  if (model != NULL)
    return florence_hub_get_installed_size (model) > 0;
  return is_folder (current) && florence_hub_dir_is_complete (current);
}

static gboolean
dir_has (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_IS_REGULAR);
}

/* What a model folder lacks, in words ("config.json and the tokenizer (…)"); NULL when it
 * has what florence_hub_dir_is_complete() asks for. */
static char *
folder_lacks (const char *dir)
{
  g_autoptr (GPtrArray) missing = g_ptr_array_new ();
  g_autoptr (GString) text = g_string_new (NULL);

  if (!dir_has (dir, "config.json"))
    g_ptr_array_add (missing, "config.json");
  if (!dir_has (dir, "model.safetensors") && !dir_has (dir, "model.safetensors.index.json") &&
      !dir_has (dir, "pytorch_model.bin"))
    g_ptr_array_add (missing, _ ("the weights (model.safetensors or pytorch_model.bin)"));
  if (!dir_has (dir, "tokenizer.json") && !dir_has (dir, "vocab.json"))
    g_ptr_array_add (missing, _ ("the tokenizer (tokenizer.json or vocab.json)"));
  if (missing->len == 0)
    return NULL;
  for (guint i = 0; i < missing->len; i++)
    {
      if (i > 0)
        /* Translators: between the last two of a list of missing files, "a, b and c" */
        g_string_append (text, i + 1 == missing->len ? _ (" and ") : ", ");
      g_string_append (text, g_ptr_array_index (missing, i));
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The row of the model folder in use (hidden when the model is one of the catalogue), and
 * the folder row's subtitle: what it takes, or what the folder chosen last lacks. */
static void
folder_update (DepictModelManager *self)
{
  g_autofree char *current = g_settings_get_string (self->settings, "model");
  gboolean folder = is_folder (current);

  gtk_widget_set_visible (GTK_WIDGET (self->folder_in_use_row), folder);
  if (folder)
    {
      g_autofree char *name = g_path_get_basename (current);
      g_autofree char *lacks = folder_lacks (current);
      g_autofree char *size = g_format_size (florence_hub_dir_size (current));
      g_autofree char *subtitle = NULL;

      if (lacks != NULL)
        /* Translators: a model folder in use that cannot run: what it lacks, its place */
        subtitle = g_strdup_printf (_ ("It lacks %s. In %s"), lacks, current);
      else
        /* Translators: a model folder in use: its size and place */
        subtitle = g_strdup_printf (_ ("%s, in %s"), size, current);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->folder_in_use_row), name);
      adw_action_row_set_subtitle (self->folder_in_use_row, subtitle);
    }
  if (self->folder_problem != NULL)
    adw_action_row_set_subtitle (self->folder_row, self->folder_problem);
}

static void
model_row_free (ModelRow *row)
{
  if (row->cancellable != NULL)
    {
      g_cancellable_cancel (row->cancellable);
      g_clear_object (&row->cancellable);
    }
  g_free (row->state);
  g_free (row->error);
  g_free (row);
}

static ModelRow *
find_row (DepictModelManager *self, const char *id)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      ModelRow *row = g_ptr_array_index (self->rows, i);
      if (g_strcmp0 (row->model->id, id) == 0)
        return row;
    }
  return NULL;
}

static void
toast (DepictModelManager *self, const char *text)
{
  AdwToast *t = adw_toast_new (text);
  adw_toast_set_timeout (t, 6);
  adw_toast_overlay_add_toast (self->toast_overlay, t);
}

static void
set_state (ModelRow *row, const char *state)
{
  g_free (row->state);
  row->state = g_strdup (state);
  gtk_label_set_label (row->state_label, state);
}

typedef struct {
  DepictModelManager *manager; /* strong */
  char *model_id;
} DownloadData;

static void
download_data_free (gpointer data)
{
  DownloadData *d = data;
  g_object_unref (d->manager);
  g_free (d->model_id);
  g_free (d);
}

static void
on_download_progress (guint64 received, guint64 total, const char *file, gpointer user_data)
{
  DownloadData *d = user_data;
  ModelRow *row = find_row (d->manager, d->model_id);
  g_autofree char *r = NULL, *t = NULL, *text = NULL;

  if (row == NULL || row->cancellable == NULL)
    return;
  r = g_format_size (received);
  t = g_format_size (total);
  /* Translators: download progress, e.g. "120 MB of 467 MB" */
  text = g_strdup_printf (_ ("%s of %s"), r, t);
  gtk_progress_bar_set_fraction (row->progress, total > 0 ? (double) received / (double) total : 0);
  set_state (row, text);
}

static void
on_download_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  DownloadData *d = user_data;
  DepictModelManager *self = d->manager;
  ModelRow *row = find_row (self, d->model_id);
  g_autoptr (GError) error = NULL;
  gboolean ok = florence_hub_download_finish (result, &error);

  if (row != NULL)
    {
      g_clear_object (&row->cancellable);
      if (ok)
        {
          g_autofree char *current = g_settings_get_string (self->settings, "model");
          const FlorenceHubModel *current_model = florence_hub_lookup (current);
          g_autofree char *text = g_strdup_printf (_ ("%s is installed"), _ (row->model->title));

          /* The first installed model becomes the one in use. */
          if (current_model == NULL || florence_hub_get_installed_size (current_model) == 0)
            g_settings_set_string (self->settings, "model", row->model->id);
          toast (self, text);
        }
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self,
               _ ("Download cancelled. It resumes where it stopped when you download again."));
      else
        row->error = g_strdup (error->message);
      row_update (row);
    }
  download_data_free (d);
}

void
depict_model_manager_download (DepictModelManager *self, const char *model_id)
{
  ModelRow *row;
  g_autofree char *dest = NULL;
  FlorenceHubDownload d = { 0 };
  DownloadData *data;

  g_return_if_fail (DEPICT_IS_MODEL_MANAGER (self));
  row = find_row (self, model_id);
  g_return_if_fail (row != NULL);
  if (row->cancellable != NULL)
    return;

  dest = florence_hub_get_install_dir (row->model);
  g_clear_pointer (&row->error, g_free);
  d.repo = row->model->repo;
  d.dest_dir = dest;
  row->cancellable = g_cancellable_new ();
  data = g_new0 (DownloadData, 1);
  data->manager = g_object_ref (self);
  data->model_id = g_strdup (model_id);
  row_update (row);
  set_state (row, _ ("Starting…"));
  /* The progress data is the same DownloadData, freed when the task ends. */
  florence_hub_download_async (&d, row->cancellable, on_download_progress, data, NULL,
                               on_download_done, data);
}

static void
on_delete_response (AdwMessageDialog *dialog, const char *response, gpointer user_data)
{
  ModelRow *row = user_data;
  DepictModelManager *self = row->manager;
  g_autoptr (GError) error = NULL;

  if (g_strcmp0 (response, "delete") != 0)
    return;
  if (!florence_hub_delete (row->model, &error))
    toast (self, error->message);
  else
    {
      g_autofree char *text = g_strdup_printf (_ ("%s was deleted"), _ (row->model->title));
      toast (self, text);
    }
  row_update (row);
}

static void
confirm_delete (ModelRow *row)
{
  DepictModelManager *self = row->manager;
  g_autofree char *size = g_format_size (florence_hub_get_installed_size (row->model));
  /* Translators: %s is a model name */
  g_autofree char *heading = g_strdup_printf (_ ("Delete %s?"), _ (row->model->title));
  /* Translators: %s is a size, e.g. "467 MB" */
  g_autofree char *body = g_strdup_printf (_ ("This frees %s. You can download the model again "
                                              "later."),
                                           size);
  AdwMessageDialog *dialog =
    ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_WINDOW (self), heading, body));

  adw_message_dialog_add_responses (dialog, "cancel", _ ("_Cancel"), "delete", _ ("_Delete"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "delete", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_signal_connect (dialog, "response", G_CALLBACK (on_delete_response), row);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_row_button_clicked (GtkButton *button, ModelRow *row)
{
  if (row->cancellable != NULL)
    g_cancellable_cancel (row->cancellable);
  else if (florence_hub_get_installed_size (row->model) > 0)
    confirm_delete (row);
  else
    depict_model_manager_download (row->manager, row->model->id);
}

static void
row_update (ModelRow *row)
{
  g_autofree char *dir = florence_hub_get_install_dir (row->model);
  guint64 installed = florence_hub_get_installed_size (row->model);
  gboolean busy = row->cancellable != NULL;

  gtk_widget_set_visible (GTK_WIDGET (row->progress), busy);
  gtk_widget_remove_css_class (GTK_WIDGET (row->button), "suggested-action");
  gtk_widget_remove_css_class (GTK_WIDGET (row->button), "destructive-action");
  if (busy)
    {
      gtk_button_set_label (row->button, _ ("Cancel"));
      gtk_progress_bar_set_fraction (row->progress, 0);
      return;
    }
  if (installed > 0)
    {
      g_autofree char *size = g_format_size (installed);
      /* Translators: an installed model: its size and folder */
      g_autofree char *subtitle = g_strdup_printf (_ ("%s, in %s"), size, dir);
      adw_action_row_set_subtitle (row->row, subtitle);
      /* Plain: the confirmation dialog carries the destructive style (a red button on
       * every row of the list shouts). */
      g_autofree char *current = g_settings_get_string (row->manager->settings, "model");

      gtk_button_set_label (row->button, _ ("Delete"));
      /* Which one answers: the model chosen in the preferences. */
      set_state (row, g_strcmp0 (current, row->model->id) == 0 ? _ ("In use") : _ ("Installed"));
    }
  else if (row->error != NULL)
    {
      /* Translators: a failed download: why, then what to do without a network */
      g_autofree char *subtitle = g_strdup_printf (
        _ ("%s\nWithout a network, copy the model’s folder from a computer that has it and "
           "choose it under Use a Model Folder."),
        row->error);

      adw_action_row_set_subtitle (row->row, subtitle);
      gtk_button_set_label (row->button, _ ("Try Again"));
      set_state (row, _ ("Download failed"));
    }
  else
    {
      g_autofree char *size = g_format_size (row->model->download_size);
      /* Translators: a model not yet downloaded: its description and download size */
      g_autofree char *subtitle =
        g_strdup_printf (_ ("%s. Download size: %s"), _ (row->model->description), size);
      adw_action_row_set_subtitle (row->row, subtitle);
      gtk_button_set_label (row->button, _ ("Download"));
      /* One suggested action per view (HIG): the base model, the one to start with, while
       * no model that can run is in use. */
      if (g_str_equal (row->model->id, "base") && !model_in_use_ready (row->manager))
        gtk_widget_add_css_class (GTK_WIDGET (row->button), "suggested-action");
      set_state (row, _ ("Not installed"));
    }
}

static void
add_model_row (DepictModelManager *self, const FlorenceHubModel *model)
{
  ModelRow *row = g_new0 (ModelRow, 1);
  GtkWidget *box;

  row->manager = self;
  row->model = model;
  row->row = ADW_ACTION_ROW (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row->row), _ (model->title));
  adw_action_row_set_subtitle_lines (row->row, 0);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_valign (box, GTK_ALIGN_CENTER);
  row->state_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (row->state_label), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (row->state_label), "caption");
  gtk_label_set_xalign (row->state_label, 1);
  row->progress = GTK_PROGRESS_BAR (gtk_progress_bar_new ());
  gtk_widget_set_size_request (GTK_WIDGET (row->progress), 120, -1);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->state_label));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->progress));
  adw_action_row_add_suffix (row->row, box);

  row->button = GTK_BUTTON (gtk_button_new ());
  gtk_widget_set_valign (GTK_WIDGET (row->button), GTK_ALIGN_CENTER);
  g_signal_connect (row->button, "clicked", G_CALLBACK (on_row_button_clicked), row);
  adw_action_row_add_suffix (row->row, GTK_WIDGET (row->button));

  adw_preferences_group_add (self->models_group, GTK_WIDGET (row->row));
  g_ptr_array_add (self->rows, row);
  row_update (row);
}

static void
on_folder_chosen (GtkNativeDialog *dialog, int response, DepictModelManager *self)
{
  g_autoptr (GFile) folder = NULL;
  g_autofree char *path = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      path = folder != NULL ? g_file_get_path (folder) : NULL;
      if (path == NULL)
        toast (self, _ ("That folder is not on this computer. Choose a local folder."));
      else
        depict_model_manager_use_folder (self, path);
    }
  g_clear_object (&self->chooser);
}

gboolean
depict_model_manager_use_folder (DepictModelManager *self, const char *path)
{
  g_autofree char *lacks = NULL;

  g_return_val_if_fail (DEPICT_IS_MODEL_MANAGER (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  lacks = folder_lacks (path);
  g_clear_pointer (&self->folder_problem, g_free);
  if (lacks != NULL)
    {
      g_autofree char *name = g_path_get_basename (path);

      /* Translators: a chosen model folder that cannot be used: its name, what it lacks */
      self->folder_problem = g_strdup_printf (
        _ ("“%s” lacks %s, so it cannot be used. A Florence-2 model folder, such as "
           "microsoft/Florence-2-base on the Hugging Face hub, has config.json, the weights and "
           "the tokenizer. Choose another folder, or copy the missing files into it."),
        name, lacks);
      folder_update (self);
      return FALSE;
    }
  g_settings_set_string (self->settings, "model", path);
  /* The subtitle goes back to what a folder needs. */
  adw_action_row_set_subtitle (self->folder_row, self->folder_subtitle);
  folder_update (self);
  return TRUE;
}

static void
on_stop_using_clicked (GtkButton *button, DepictModelManager *self)
{
  g_settings_reset (self->settings, "model");
}

static void
on_folder_row_activated (AdwActionRow *row, DepictModelManager *self)
{
  self->chooser =
    gtk_file_chooser_native_new (_ ("Choose a Model Folder"), GTK_WINDOW (self),
                                 GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER, _ ("_Use"), _ ("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_folder_chosen), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
depict_model_manager_dispose (GObject *object)
{
  DepictModelManager *self = DEPICT_MODEL_MANAGER (object);

  /* Closing the window stops running downloads; they resume next time. */
  if (self->rows != NULL)
    for (guint i = 0; i < self->rows->len; i++)
      {
        ModelRow *row = g_ptr_array_index (self->rows, i);
        if (row->cancellable != NULL)
          g_cancellable_cancel (row->cancellable);
      }
  g_clear_object (&self->chooser);
  G_OBJECT_CLASS (depict_model_manager_parent_class)->dispose (object);
}

static void
depict_model_manager_finalize (GObject *object)
{
  DepictModelManager *self = DEPICT_MODEL_MANAGER (object);

  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_object (&self->settings);
  g_free (self->folder_problem);
  g_free (self->folder_subtitle);
  G_OBJECT_CLASS (depict_model_manager_parent_class)->finalize (object);
}

static void
depict_model_manager_class_init (DepictModelManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = depict_model_manager_dispose;
  object_class->finalize = depict_model_manager_finalize;
  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/ui/depict-model-manager.ui");
  gtk_widget_class_bind_template_child (widget_class, DepictModelManager, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, DepictModelManager, models_group);
  gtk_widget_class_bind_template_child (widget_class, DepictModelManager, folder_row);
  gtk_widget_class_bind_template_child (widget_class, DepictModelManager, folder_in_use_row);
  gtk_widget_class_bind_template_child (widget_class, DepictModelManager, stop_using_button);
}

static void
depict_model_manager_init (DepictModelManager *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) model_row_free);
  g_signal_connect (self->folder_row, "activated", G_CALLBACK (on_folder_row_activated), self);
  g_signal_connect (self->stop_using_button, "clicked", G_CALLBACK (on_stop_using_clicked), self);
  self->folder_subtitle = g_strdup (adw_action_row_get_subtitle (self->folder_row));
}

static void
model_setting_changed_cb (GSettings *settings, const char *key, DepictModelManager *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      ModelRow *row = g_ptr_array_index (self->rows, i);

      if (row->cancellable == NULL)
        row_update (row);
    }
  folder_update (self);
}

DepictModelManager *
depict_model_manager_new (GtkWindow *parent, GSettings *settings)
{
  DepictModelManager *self;
  const FlorenceHubModel *models;
  gsize n = 0;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  self = g_object_new (DEPICT_TYPE_MODEL_MANAGER, "transient-for", parent, NULL);
  self->settings = g_object_ref (settings);
  models = florence_hub_get_models (&n);
  for (gsize i = 0; i < n; i++)
    add_model_row (self, &models[i]);
  g_signal_connect_object (settings, "changed::model", G_CALLBACK (model_setting_changed_cb), self,
                           0);
  folder_update (self);
  return self;
}

gboolean
depict_model_manager_is_busy (DepictModelManager *self)
{
  g_return_val_if_fail (DEPICT_IS_MODEL_MANAGER (self), FALSE);
  for (guint i = 0; i < self->rows->len; i++)
    if (((ModelRow *) g_ptr_array_index (self->rows, i))->cancellable != NULL)
      return TRUE;
  return FALSE;
}

const char *
depict_model_manager_get_row_state (DepictModelManager *self, const char *model_id)
{
  ModelRow *row;

  g_return_val_if_fail (DEPICT_IS_MODEL_MANAGER (self), NULL);
  row = find_row (self, model_id);
  return row != NULL ? row->state : NULL;
}

const char *
depict_model_manager_get_row_subtitle (DepictModelManager *self, const char *model_id)
{
  ModelRow *row;

  g_return_val_if_fail (DEPICT_IS_MODEL_MANAGER (self), NULL);
  if (model_id == NULL)
    return adw_action_row_get_subtitle (
      gtk_widget_get_visible (GTK_WIDGET (self->folder_in_use_row)) ? self->folder_in_use_row
                                                                    : self->folder_row);
  row = find_row (self, model_id);
  return row != NULL ? adw_action_row_get_subtitle (row->row) : NULL;
}

const char *
depict_model_manager_get_folder_problem (DepictModelManager *self)
{
  g_return_val_if_fail (DEPICT_IS_MODEL_MANAGER (self), NULL);
  return self->folder_problem;
}
