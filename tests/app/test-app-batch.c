/* test-app-batch.c: tagging a folder, as a person steers it, under a (virtual) display
 *
 * Before it starts, Tag Folder says how many photos and tasks and about how long (a guess
 * for the device at first, then what this computer measured); while it runs, the photo page
 * shows the photo being tagged with the batch's progress, speed and time left.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "app-test-util.h"
#include "depict-application.h"
#include "depict-batch-dialog.h"
#include "depict-window-private.h"

static DepictSession *session;

static const char *photos[] = { "palette_200x150.png", "gray_320x200.png", "small_37x101.png",
                                "rgba_300x200.png" };

static char *
tiny_model_dir (void)
{
  return app_test_data_path ("models", "tiny", NULL);
}

static void
use_tiny_model (guint max_new_tokens)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *tiny = tiny_model_dir ();

  g_settings_set_string (settings, "model", tiny);
  g_settings_set_string (settings, "device", "cpu-reference");
  g_settings_set_int (settings, "beams", 1);
  g_settings_set_int (settings, "max-new-tokens", max_new_tokens);
}

/* A new folder with the first N of the photos. */
static char *
photo_folder (guint n)
{
  char *dir = g_dir_make_tmp ("depict-batch-XXXXXX", NULL);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *from = app_test_data_path ("preprocess", "images", photos[i], NULL);
      g_autofree char *to = g_build_filename (dir, photos[i], NULL);
      g_autofree char *data = NULL;
      gsize length = 0;

      g_assert_true (g_file_get_contents (from, &data, &length, NULL));
      g_assert_true (g_file_set_contents (to, data, (gssize) length, NULL));
    }
  return dir;
}

static void
remove_folder (const char *dir)
{
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    {
      g_autofree char *path = g_build_filename (dir, photos[i], NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static gboolean
counted (gpointer dialog)
{
  return strstr (depict_batch_dialog_get_estimate (dialog), "Counting") == NULL;
}

static gboolean
not_tagging (gpointer data)
{
  return depict_session_get_batch (session) == NULL;
}

/* Opens Tag Folder's question on DIR and waits for its estimate. */
static AdwMessageDialog *
ask (DepictWindow *window, const char *dir)
{
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  AdwMessageDialog *dialog;

  _depict_window_tag_folder (window, folder);
  dialog = _depict_window_get_batch_dialog (window);
  g_assert_nonnull (dialog);
  app_test_wait (counted, dialog, 30000, "the photos to be counted");
  g_test_message ("%s", depict_batch_dialog_get_estimate (dialog));
  return dialog;
}

static void
test_estimate (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *dir = photo_folder (3);
  g_autofree char *empty = g_dir_make_tmp ("depict-batch-empty-XXXXXX", NULL);
  g_autofree char *key = NULL;
  g_autoptr (GVariant) measured = NULL;
  DepictWindow *window;
  AdwMessageDialog *dialog;
  double seconds = 0;

  use_tiny_model (4);
  g_settings_reset (settings, "task-seconds");
  g_settings_reset (settings, "batch-tasks");
  window = app_test_window_new (session);

  /* Nothing measured yet: a first guess for the device (the plain reference here), said to
   * be one; photos × tasks. */
  dialog = ask (window, dir);
  g_assert_nonnull (
    strstr (depict_batch_dialog_get_estimate (dialog), "3 photos × 3 tasks: about "));
  g_assert_nonnull (
    strstr (depict_batch_dialog_get_estimate (dialog), "a first guess for the processor"));
  /* Fewer tasks, less time. */
  depict_batch_dialog_set_task (dialog, "<OD>", FALSE);
  depict_batch_dialog_set_task (dialog, "<OCR>", FALSE);
  g_assert_nonnull (
    strstr (depict_batch_dialog_get_estimate (dialog), "3 photos × 1 task: about "));

  /* Tagging measures this computer, and the next question says so. */
  g_assert_true (adw_message_dialog_get_response_enabled (dialog, "tag"));
  adw_message_dialog_response (dialog, "tag");
  g_assert_nonnull (depict_session_get_batch (session));
  app_test_wait (not_tagging, NULL, 120000, "the folder to be tagged");
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (DepictRunSettings) run = depict_session_read_run_settings (session, &error);

    g_assert_no_error (error);
    seconds = depict_session_get_task_seconds (session, run);
  }
  g_assert_cmpfloat (seconds, >, 0);
  /* A measured 10 s a task: 3 photos × 1 task is about 30 s. */
  measured = g_settings_get_value (settings, "task-seconds");
  g_assert_cmpuint (g_variant_n_children (measured), ==, 1);
  g_variant_get_child (measured, 0, "{sd}", &key, NULL);
  g_settings_set_value (settings, "task-seconds", g_variant_new_parsed ("{%s: 10.0}", key));
  dialog = ask (window, dir);
  g_assert_cmpstr (depict_batch_dialog_get_estimate (dialog), ==,
                   "3 photos × 1 task: about 30 s in all, at about 10 s a task (as measured on "
                   "this computer). Photos that have these answers already are skipped.");
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* A folder without photos: nothing to tag. */
  dialog = ask (window, empty);
  g_assert_cmpstr (depict_batch_dialog_get_estimate (dialog), ==,
                   "There are no photos in this folder.");
  g_assert_false (adw_message_dialog_get_response_enabled (dialog, "tag"));
  gtk_window_destroy (GTK_WINDOW (dialog));

  app_test_window_close (window);
  g_settings_reset (settings, "task-seconds");
  remove_folder (dir);
  g_rmdir (empty);
}

/* Label text under WIDGET that contains TEXT, or NULL. */
static const char *
find_label_text (GtkWidget *widget, const char *text)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_is_drawable (widget) &&
      strstr (gtk_label_get_label (GTK_LABEL (widget)), text) != NULL)
    return gtk_label_get_label (GTK_LABEL (widget));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      const char *found = find_label_text (child, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct {
  DepictWindow *window;
  gboolean saw_photo;   /* the photo page named a photo of the batch and its place */
  gboolean saw_rate;    /* ... and the speed and time left */
  gboolean saw_picture; /* ... and showed it */
  gboolean card_rate;   /* the gallery's tagging card showed the speed and time left */
  gboolean saw_strip;   /* the line over an open photo named the batch and its place */
} Seen;

static void
look_cb (DepictJob *job, GParamSpec *pspec, Seen *seen)
{
  DepictWindow *window = seen->window;
  const char *card = find_label_text (depict_window_get_gallery_view (window), "photos/h");
  const char *text;

  if (card != NULL && strstr (card, "left") != NULL)
    seen->card_rate = TRUE;
  if (gtk_revealer_get_reveal_child (window->batch_strip) &&
      g_str_has_prefix (gtk_label_get_label (window->batch_strip_label),
                        depict_job_get_title (job)) &&
      strstr (gtk_label_get_label (window->batch_strip_label), "Photo ") != NULL)
    seen->saw_strip = TRUE;
  if (g_strcmp0 (depict_window_get_visible_page (window), "batch") != 0)
    return;
  text = adw_status_page_get_description (window->batch_page);
  if (text == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (photos); i++)
    if (strstr (text, photos[i]) != NULL && strstr (text, "Photo ") != NULL)
      seen->saw_photo = TRUE;
  if (strstr (text, "photos/h") != NULL && strstr (text, "left") != NULL)
    seen->saw_rate = TRUE;
  if (adw_status_page_get_paintable (window->batch_page) != NULL)
    seen->saw_picture = TRUE;
}

/* Tags a folder of new photos (MAX_NEW_TOKENS: settings no test before used) with the
 * window on the empty photo page, the gallery or an open photo, and notes what it showed. */
typedef enum { ON_EMPTY_PAGE, ON_GALLERY, ON_OPEN_PHOTO } Where;

static gboolean
has_texture (gpointer window)
{
  return depict_image_view_get_texture (depict_window_get_image_view (window)) != NULL;
}

static void
tag_and_watch (guint max_new_tokens, Where where, Seen *seen)
{
  g_autofree char *dir = photo_folder (G_N_ELEMENTS (photos));
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  g_autoptr (GError) error = NULL;
  DepictWindow *window;
  DepictJob *batch;

  use_tiny_model (max_new_tokens);
  window = app_test_window_new (session);
  seen->window = window;
  if (where == ON_GALLERY)
    depict_window_show_gallery (window, FALSE);
  else if (where == ON_OPEN_PHOTO)
    {
      g_autofree char *path =
        app_test_data_path ("preprocess", "images", "photo_640x480.png", NULL);
      g_autoptr (GFile) photo = g_file_new_for_path (path);
      GSList one = { photo, NULL };

      depict_window_drop_files (window, &one);
      app_test_wait (has_texture, window, 10000, "the photo");
    }
  else
    g_assert_cmpstr (depict_window_get_visible_page (window), ==, "empty");
  batch = depict_session_tag_folder (session, folder, &error);
  g_assert_no_error (error);
  if (where == ON_EMPTY_PAGE)
    {
      g_assert_cmpstr (depict_window_get_visible_page (window), ==, "batch");
      g_assert_cmpstr (adw_status_page_get_title (window->batch_page), ==,
                       depict_job_get_title (batch));
    }
  g_signal_connect_after (batch, "notify::done", G_CALLBACK (look_cb), seen);
  g_signal_connect_after (batch, "notify::n-tokens", G_CALLBACK (look_cb), seen);
  app_test_wait (not_tagging, NULL, 120000, "the folder to be tagged");
  /* Done: the empty page again; no line over the photo. */
  if (where == ON_EMPTY_PAGE)
    g_assert_cmpstr (depict_window_get_visible_page (window), ==, "empty");
  g_assert_false (gtk_revealer_get_reveal_child (window->batch_strip));
  app_test_window_close (window);
  remove_folder (dir);
}

/* The photo page names the photo being tagged, shows it, and says how far the batch has got,
 * how fast it goes and the time left. */
static void
test_photo_page (void)
{
  Seen seen = { 0 };

  tag_and_watch (7, ON_EMPTY_PAGE, &seen);
  g_assert_true (seen.saw_photo);
  g_assert_true (seen.saw_rate);
  g_assert_true (seen.saw_picture);
}

/* The gallery's tagging card says how fast it goes and the time left. */
static void
test_card (void)
{
  Seen seen = { 0 };

  tag_and_watch (8, ON_GALLERY, &seen);
  g_assert_true (seen.card_rate);
}

/* Over a photo open, a line names the batch and how far it has got. */
static void
test_photo_strip (void)
{
  Seen seen = { 0 };

  tag_and_watch (9, ON_OPEN_PHOTO, &seen);
  g_assert_true (seen.saw_strip);
}

int
main (int argc, char *argv[])
{
  int status;

  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  app_test_init_gtk (&argc, &argv);
  session = app_test_session_new ();

  g_test_add_func ("/app/batch/estimate", test_estimate);
  g_test_add_func ("/app/batch/photo-page", test_photo_page);
  g_test_add_func ("/app/batch/card", test_card);
  g_test_add_func ("/app/batch/photo-strip", test_photo_strip);
  status = g_test_run ();
  g_assert_finalize_object (session);
  return status;
}
