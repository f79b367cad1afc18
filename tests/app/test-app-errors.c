/* test-app-errors.c: failures that say what happened and what helps, under a (virtual) display
 *
 * A photo cut short is refused by name and never tagged; a damaged model names its file in
 * plain words, offers the Models window instead of a Try Again that cannot help, and leaves
 * the photo unblamed; with no model, Run leads to the Models window; a tiny picture is not
 * blown up to fill the view.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "app-test-util.h"
#include "depict-application.h"
#include "depict-model-error.h"
#include "depict-queue-item.h"
#include "depict-window-private.h"
#include "florence/files/florence-checkpoint.h"
#include "florence/hub/florence-hub.h"
#include "gallery/gallery-store.h"

static DepictSession *session;

static DepictWindow *
new_window (void)
{
  return app_test_window_new (session);
}

static void
close_window (DepictWindow *window)
{
  app_test_window_close (window);
}

static char *
fixture_photo (const char *name)
{
  return app_test_data_path ("preprocess", "images", name, NULL);
}

static void
use_model (const char *dir, guint max_new_tokens)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);

  g_settings_set_string (settings, "model", dir);
  g_settings_set_string (settings, "device", "cpu-reference");
  g_settings_set_int (settings, "beams", 1);
  g_settings_set_int (settings, "max-new-tokens", max_new_tokens);
  g_settings_set_string (settings, "last-task", "<CAPTION>");
}

static gboolean
pane_shows_error (gpointer window)
{
  return g_strcmp0 (depict_results_pane_get_page (depict_window_get_results_pane (window)),
                    "error") == 0;
}

static gboolean
not_busy (gpointer window)
{
  return !depict_window_get_busy (window);
}

static gboolean
has_texture (gpointer window)
{
  return depict_image_view_get_texture (depict_window_get_image_view (window)) != NULL;
}

static gboolean
not_tagging (gpointer data)
{
  return depict_session_get_batch (session) == NULL;
}

/* The status page of the results pane now shown. */
static AdwStatusPage *
error_page (DepictWindow *window)
{
  GtkWidget *pane = GTK_WIDGET (depict_window_get_results_pane (window));
  GtkWidget *stack = gtk_widget_get_first_child (pane);

  g_assert_true (GTK_IS_STACK (stack));
  return ADW_STATUS_PAGE (gtk_stack_get_visible_child (GTK_STACK (stack)));
}

static gboolean
button_shown (DepictWindow *window, const char *label)
{
  GtkWidget *button =
    app_test_find_button (GTK_WIDGET (depict_window_get_results_pane (window)), label);

  return button != NULL && gtk_widget_get_visible (button);
}

static void
photo_failed_cb (DepictJob *job, GFile *file, GError *error, char **why)
{
  g_free (*why);
  *why = g_strdup (error->message);
}

/* A JPEG cut in half (a baseline one, whose missing rows the decoder would paint grey) is
 * refused by name as incomplete, in the window and by the tagger, and never reaches the
 * gallery. */
static void
test_incomplete_photo (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-half-XXXXXX", NULL);
  g_autofree char *path = app_test_write_half_jpeg (dir);
  g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  g_autoptr (DepictQueueItem) item = NULL;
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *why = NULL;
  GSList one = { file, NULL };
  DepictWindow *window;
  AdwStatusPage *page;
  DepictJob *batch;

  use_model (tiny, 4);
  window = new_window ();
  g_assert_true (depict_window_drop_files (window, &one));
  app_test_wait (pane_shows_error, window, 20000, "the incomplete photo's error");
  page = error_page (window);
  g_assert_cmpstr (adw_status_page_get_title (page), ==, "This Photo Is Incomplete or Damaged");
  g_assert_nonnull (strstr (adw_status_page_get_description (page), "“half.jpg”"));
  g_assert_nonnull (strstr (adw_status_page_get_description (page), "incomplete"));
  g_assert_null (depict_image_view_get_texture (depict_window_get_image_view (window)));
  g_assert_false (button_shown (window, "_Try Again"));
  item = g_list_model_get_item (depict_window_get_queue (window), 0);
  g_assert_cmpint (depict_queue_item_get_state (item), ==, DEPICT_QUEUE_ITEM_FAILED);

  /* Tagging its folder names it among the files that could not be read, and the gallery
   * gets no tile for it. */
  batch = depict_session_tag_folder (session, folder, &error);
  g_assert_no_error (error);
  g_object_ref (batch);
  g_signal_connect (batch, "photo-failed", G_CALLBACK (photo_failed_cb), &why);
  app_test_wait (not_tagging, NULL, 120000, "the folder to be tagged");
  g_assert_cmpuint (depict_job_get_failed (batch), ==, 1);
  g_assert_cmpuint (depict_job_get_processed (batch), ==, 0);
  g_assert_nonnull (depict_job_get_failures (batch));
  g_assert_nonnull (strstr (depict_job_get_failures (batch)[0], "half.jpg"));
  g_assert_nonnull (strstr (depict_job_get_failures (batch)[0], "incomplete"));
  g_object_unref (batch);
  /* The photo's own failure says the same, for the window to show. */
  g_assert_nonnull (why);
  g_assert_nonnull (strstr (why, "“half.jpg”"));
  g_assert_nonnull (strstr (why, "incomplete"));
  images = gallery_store_list_images (depict_session_get_store (session, NULL), dir, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (images->len, ==, 0);

  close_window (window);
  g_unlink (path);
  g_rmdir (dir);
}

/* A damaged model folder that the person chose: the sentence names the file and says to
 * replace it or choose another folder (Depict cannot download a folder again); the one
 * button opens Models; the photo is not marked as failed. */
static void
test_damaged_model (void)
{
  g_autofree char *dir = app_test_damaged_model_dir ();
  g_autofree char *photo = fixture_photo ("gray_320x200.png");
  g_autoptr (GFile) file = g_file_new_for_path (photo);
  g_autoptr (DepictQueueItem) item = NULL;
  GSList one = { file, NULL };
  DepictWindow *window;
  AdwStatusPage *page;
  const char *text;

  use_model (dir, 4);
  window = new_window ();
  g_assert_true (depict_window_drop_files (window, &one));
  app_test_wait (has_texture, window, 10000, "the photo to load");
  depict_window_run (window);
  g_assert_true (depict_window_get_busy (window));
  app_test_wait (not_busy, window, 60000, "the damaged model to fail");

  page = error_page (window);
  text = adw_status_page_get_description (page);
  g_test_message ("%s", text);
  g_assert_cmpstr (adw_status_page_get_title (page), ==, "The Model Is Damaged");
  g_assert_nonnull (strstr (text, "“model.safetensors”"));
  g_assert_nonnull (strstr (text, "choose another model folder"));
  /* Plain words: no download for a folder, none of the reader's details. */
  g_assert_null (strstr (text, "ownload"));
  g_assert_null (strstr (text, "bytes"));
  g_assert_null (strstr (text, "/"));
  g_assert_false (button_shown (window, "_Try Again"));
  g_assert_true (button_shown (window, "Open _Models"));
  item = g_list_model_get_item (depict_window_get_queue (window), 0);
  g_assert_cmpint (depict_queue_item_get_state (item), !=, DEPICT_QUEUE_ITEM_FAILED);

  close_window (window);
  app_test_remove_model_dir (dir);
}

/* A model Depict downloaded: deleted and downloaded again in Models. */
static void
test_damaged_download (void)
{
  const FlorenceHubModel *base = florence_hub_lookup ("base");
  g_autofree char *dir = florence_hub_get_install_dir (base);
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *title = NULL;
  g_autofree char *text = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (weights, "\x08", 1, NULL));
  /* As the weights reader says it (florence_checkpoint_set_corrupt). */
  g_set_error (&error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_CORRUPT,
               "The weights file “%s” is damaged: it is shorter than its header. Download the "
               "model again.",
               weights);
  g_assert_true (depict_model_error_is_damaged_model (error));
  g_assert_false (depict_model_error_is_photo_error (error));
  text = depict_model_error_describe (error, dir, &title);
  g_assert_cmpstr (title, ==, "The Model Is Damaged");
  g_assert_cmpstr (text, ==,
                   "The file “model.safetensors” of Florence-2 Base is damaged or incomplete, so "
                   "the model cannot be used. Delete the model in Models and download it again.");
  g_unlink (weights);
  g_rmdir (dir);
}

static void
models_activated_cb (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  (*(guint *) user_data)++;
}

/* With no model, Run does not look dead: it opens the Models window. */
static void
test_no_model_run (void)
{
  g_autofree char *photo = fixture_photo ("gray_320x200.png");
  g_autoptr (GFile) file = g_file_new_for_path (photo);
  g_autoptr (GSimpleActionGroup) app = g_simple_action_group_new ();
  g_autoptr (GSimpleAction) models = g_simple_action_new ("models", NULL);
  GSList one = { file, NULL };
  DepictWindow *window;
  guint opened = 0;

  use_model ("/nonexistent/model", 4);
  g_signal_connect (models, "activate", G_CALLBACK (models_activated_cb), &opened);
  g_action_map_add_action (G_ACTION_MAP (app), G_ACTION (models));
  window = new_window ();
  gtk_widget_insert_action_group (GTK_WIDGET (window), "app", G_ACTION_GROUP (app));
  g_assert_true (depict_window_drop_files (window, &one));
  app_test_wait (has_texture, window, 10000, "the photo to load");
  g_assert_cmpstr (depict_results_pane_get_page (depict_window_get_results_pane (window)), ==,
                   "no-model");
  gtk_widget_activate_action (GTK_WIDGET (window), "win.run", NULL);
  g_assert_cmpuint (opened, ==, 1);
  g_assert_false (depict_window_get_busy (window));
  close_window (window);
}

/* A 24-pixel picture is shown at its size, not enlarged to fill the view. */
static void
test_tiny_picture (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = depict_image_view_new ();
  g_autoptr (GBytes) bytes = g_bytes_new_take (g_malloc0 (24 * 24 * 3), 24 * 24 * 3);
  g_autoptr (GdkTexture) texture =
    gdk_memory_texture_new (24, 24, GDK_MEMORY_R8G8B8, bytes, 24 * 3);

  gtk_window_set_default_size (GTK_WINDOW (window), 600, 500);
  gtk_window_set_child (GTK_WINDOW (window), view);
  depict_image_view_set_texture (DEPICT_IMAGE_VIEW (view), texture);
  gtk_window_present (GTK_WINDOW (window));
  app_test_spin (200);
  g_assert_cmpint (gtk_widget_get_width (view), >, 400);
  g_assert_true (depict_image_view_get_fit (DEPICT_IMAGE_VIEW (view)));
  g_assert_cmpfloat (depict_image_view_get_scale (DEPICT_IMAGE_VIEW (view)), ==, 1.0);
  /* Zooming in is still there. */
  depict_image_view_zoom_in (DEPICT_IMAGE_VIEW (view));
  g_assert_cmpfloat (depict_image_view_get_scale (DEPICT_IMAGE_VIEW (view)), >, 1.0);
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char *argv[])
{
  int status;

  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  app_test_init_gtk (&argc, &argv);
  session = app_test_session_new ();

  g_test_add_func ("/app/errors/incomplete-photo", test_incomplete_photo);
  g_test_add_func ("/app/errors/damaged-model", test_damaged_model);
  g_test_add_func ("/app/errors/damaged-download", test_damaged_download);
  g_test_add_func ("/app/errors/no-model-run", test_no_model_run);
  g_test_add_func ("/app/errors/tiny-picture", test_tiny_picture);
  status = g_test_run ();
  g_assert_finalize_object (session);
  return status;
}
