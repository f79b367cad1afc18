/* test-app-session.c: the session that owns the app's work
 *
 * One gallery connection for the whole process, shared by the gallery view, runs and
 * batches (counted as the descriptors of gallery.db the process holds); "Run on All Photos"
 * and "Tag Folder" as one batch path through the gallery's tagger, both keying their runs by
 * the model's weights hash, so that each finds the other's work done; a run asked for during
 * a batch done between two of its photos; cancelling a run while it generates; the stored
 * timings with the model's loading; dropped files looked at off the main thread; a second task
 * on the photo just run reusing its features.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "app-test-util.h"
#include "depict-application.h"
#include "depict-gallery-view.h"
#include "depict-job-private.h"
#include "depict-queue-item.h"
#include "depict-window.h"
#include "florence/files/florence-weights-hash.h"
#include "gallery/gallery-store.h"
#include "gallery/gallery-tagger.h"

static DepictSession *session;

static GFile *
photo_file (const char *name)
{
  g_autofree char *path = app_test_data_path ("preprocess", "images", name, NULL);

  return g_file_new_for_path (path);
}

static void
use_tiny_model (guint max_new_tokens)
{
  GSettings *settings = depict_session_get_settings (session);
  g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);

  g_settings_set_string (settings, "model", tiny);
  g_settings_set_string (settings, "device", "cpu-reference");
  g_settings_set_int (settings, "beams", 1);
  g_settings_set_int (settings, "max-new-tokens", max_new_tokens);
}

static char *
tiny_weights_hash (void)
{
  g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);
  g_autoptr (GError) error = NULL;
  char *hash = florence_weights_hash_for_dir (tiny, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (strlen (hash), ==, 64);
  return hash;
}

/* Descriptors of this process open on the gallery's database file (one per connection). */
static guint
gallery_connections (void)
{
  g_autofree char *db = gallery_store_default_path ();
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (link, NULL);

      n += target != NULL && g_str_equal (target, db);
    }
  return n;
}

static gboolean
job_finished (gpointer data)
{
  return depict_job_get_finished (data);
}

static void
copy_photo (const char *name, const char *dir)
{
  g_autoptr (GFile) src = photo_file (name);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GFile) dest = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;

  g_file_copy (src, dest, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
}

/* The runs of the photo at PATH with TASK and max-new-tokens MAX_TOKENS. */
static GPtrArray *
stored_runs (const char *path, const char *task, int max_tokens)
{
  g_autoptr (GError) error = NULL;
  GalleryStore *store = depict_session_get_store (session, &error);
  g_autoptr (GalleryImage) image = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) gallery_run_free);

  g_assert_no_error (error);
  image = gallery_store_find_image (store, path, &error);
  g_assert_no_error (error);
  runs = gallery_store_list_runs (store, image->id, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < runs->len; i++)
    {
      GalleryRun *run = g_ptr_array_index (runs, i);

      if (g_str_equal (run->task, task) && run->max_new_tokens == max_tokens)
        g_ptr_array_add (out, gallery_run_copy (run));
    }
  return out;
}

/* ---------------------------------------------------------------------------------------- */

/* While a batch goes on: the view reads the gallery; the most connections seen. */
static void
search_during_batch_cb (DepictJob *batch, GFile *file, DepictWindow *window)
{
  guint *connections = g_object_get_data (G_OBJECT (window), "connections");

  depict_gallery_view_reload (DEPICT_GALLERY_VIEW (depict_window_get_gallery_view (window)));
  *connections = MAX (*connections, gallery_connections ());
}

static gboolean
view_has_three (gpointer view)
{
  return g_list_model_get_n_items (depict_gallery_view_get_model (DEPICT_GALLERY_VIEW (view))) >= 3;
}

/* The gallery view, a run and a batch all go through the session's one connection. */
static void
test_one_connection (void)
{
  g_autoptr (GFile) photo = photo_file ("photo_640x480.png");
  g_autofree char *dir = g_dir_make_tmp ("depict-session-XXXXXX", NULL);
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  g_autoptr (GError) error = NULL;
  DepictWindow *window;
  DepictJob *run, *batch;
  guint during_batch = 0;

  use_tiny_model (7);
  copy_photo ("gray_320x200.png", dir);
  copy_photo ("palette_200x150.png", dir);
  window = depict_window_new_for_session (session);
  gtk_window_present (GTK_WINDOW (window));

  /* The view reads the gallery. */
  depict_window_show_gallery (window, FALSE);
  app_test_spin (100);
  g_assert_cmpuint (gallery_connections (), ==, 1);

  /* A run stores its answer. */
  run = depict_session_run (session, photo, "<CAPTION>", NULL, &error);
  g_assert_no_error (error);
  app_test_wait (job_finished, run, 120000, "the run");
  g_assert_null (depict_job_get_error (run));
  g_assert_null (depict_job_get_store_error (run));
  g_assert_cmpint (depict_job_get_answer (run)->run_id, >, 0);
  g_assert_cmpuint (gallery_connections (), ==, 1);

  /* A batch stores through the tagger, while the view searches. */
  batch = depict_session_tag_folder (session, folder, &error);
  g_assert_no_error (error);
  g_signal_connect (batch, "photo-started", G_CALLBACK (search_during_batch_cb), window);
  g_object_set_data (G_OBJECT (window), "connections", &during_batch);
  app_test_wait (job_finished, batch, 120000, "the batch");
  g_assert_null (depict_job_get_error (batch));
  g_assert_cmpuint (depict_job_get_processed (batch), ==, 2);
  g_assert_cmpfloat (depict_job_get_photos_per_hour (batch), >, 0);
  g_assert_cmpuint (during_batch, ==, 1);
  g_assert_cmpuint (gallery_connections (), ==, 1);
  /* What the batch stored is in the view (read again in a thread: a busy machine takes a
   * while). */
  app_test_wait (view_has_three, depict_window_get_gallery_view (window), 10000,
                 "the batch's photos in the gallery view");

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_spin (20);
}

/* "Run on All Photos" and "Tag Folder" are the same batch: the runs of one, stored with the
 * model's weights hash and its load time, are done for the other. */
static void
test_one_batch_path (void)
{
  g_autofree char *hash = tiny_weights_hash ();
  g_autofree char *dir = g_dir_make_tmp ("depict-session-XXXXXX", NULL);
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  g_autofree char *a_path = g_build_filename (dir, "rgba_300x200.png", NULL);
  g_autofree char *b_path = g_build_filename (dir, "strip_50x3.png", NULL);
  g_autoptr (GFile) a = g_file_new_for_path (a_path);
  g_autoptr (GFile) b = g_file_new_for_path (b_path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  DepictWindow *window;
  DepictJob *batch;
  GSList files[2] = { { a, &files[1] }, { b, NULL } };
  const char *tasks[] = { "<CAPTION>", NULL };

  use_tiny_model (9);
  g_settings_set_strv (depict_session_get_settings (session), "batch-tasks", tasks);
  g_settings_set_string (depict_session_get_settings (session), "last-task", "<CAPTION>");
  copy_photo ("rgba_300x200.png", dir);
  copy_photo ("strip_50x3.png", dir);

  /* Run on All Photos on the two photos of the list */
  window = depict_window_new_for_session (session);
  gtk_window_present (GTK_WINDOW (window));
  depict_window_drop_files (window, files);
  while (g_list_model_get_n_items (depict_window_get_queue (window)) < 2)
    g_main_context_iteration (NULL, TRUE);
  depict_window_run_all (window);
  batch = depict_session_get_batch (session);
  g_assert_nonnull (batch);
  g_assert_cmpint (depict_job_get_kind (batch), ==, DEPICT_JOB_BATCH);
  g_object_ref (batch);
  app_test_wait (job_finished, batch, 120000, "Run on All Photos");
  g_assert_cmpuint (depict_job_get_processed (batch), ==, 2);
  g_object_unref (batch);

  /* Each run is keyed by the model's weights, and its timings include the loading. */
  runs = stored_runs (a_path, "<CAPTION>", 9);
  g_assert_cmpuint (runs->len, ==, 1);
  {
    GalleryRun *run = g_ptr_array_index (runs, 0);
    JsonObject *timings = json_node_get_object (run->timings);

    g_assert_cmpstr (run->weights_hash, ==, hash);
    g_assert_cmpstr (run->model_name, ==, "tiny");
    g_assert_true (json_object_has_member (timings, "load"));
    g_assert_cmpfloat (json_object_get_double_member (timings, "load"), >, 0);
  }

  /* Tag Folder on the folder they are in: all done already. */
  batch = depict_session_tag_folder (session, folder, &error);
  g_assert_no_error (error);
  g_object_ref (batch);
  app_test_wait (job_finished, batch, 120000, "Tag Folder");
  g_assert_cmpuint (depict_job_get_processed (batch), ==, 0);
  g_assert_cmpuint (depict_job_get_skipped (batch), ==, 2);
  g_object_unref (batch);
  g_clear_pointer (&runs, g_ptr_array_unref);
  runs = stored_runs (b_path, "<CAPTION>", 9);
  g_assert_cmpuint (runs->len, ==, 1);
  g_assert_cmpstr (((GalleryRun *) g_ptr_array_index (runs, 0))->weights_hash, ==, hash);

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_spin (20);
}

static void
note_batch_cb (DepictJob *run, DepictJob *batch)
{
  g_object_set_data (G_OBJECT (batch), "finished-before-run",
                     GINT_TO_POINTER (depict_job_get_finished (batch)));
  g_object_set_data (G_OBJECT (batch), "done-at-run",
                     GUINT_TO_POINTER (depict_job_get_done (batch)));
}

/* A run asked for while a batch goes on does not wait for the whole batch. */
static void
test_run_during_batch (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-session-XXXXXX", NULL);
  g_autoptr (GFile) folder = g_file_new_for_path (dir);
  g_autoptr (GFile) photo = photo_file ("pixel_1x1.png");
  g_autoptr (GError) error = NULL;
  g_autoptr (DepictJob) batch = NULL;
  DepictJob *run;
  const char *tasks[] = { "<CAPTION>", NULL };

  use_tiny_model (25);
  g_settings_set_strv (depict_session_get_settings (session), "batch-tasks", tasks);
  copy_photo ("photo_640x480.png", dir);
  copy_photo ("gray_320x200.png", dir);
  copy_photo ("palette_200x150.png", dir);
  copy_photo ("small_37x101.png", dir);

  batch = g_object_ref (depict_session_tag_folder (session, folder, &error));
  g_assert_no_error (error);
  g_assert_true (depict_session_get_busy (session));
  run = depict_session_run (session, photo, "<OD>", NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (run, "finished", G_CALLBACK (note_batch_cb), batch);
  app_test_wait (job_finished, run, 120000, "the run");
  g_assert_null (depict_job_get_error (run));
  /* When the run ended, the batch had photos left. */
  g_assert_false (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (batch), "finished-before-run")));
  g_assert_cmpuint (GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (batch), "done-at-run")), <, 4);
  app_test_wait (job_finished, batch, 120000, "the batch");
  g_assert_null (depict_job_get_error (batch));
  g_assert_cmpuint (depict_job_get_processed (batch), ==, 4);
  g_assert_false (depict_session_get_busy (session));

  /* One batch at a time. */
  depict_session_tag_folder (session, folder, &error);
  g_assert_no_error (error);
  g_assert_null (depict_session_tag_folder (session, folder, &error));
  g_assert_error (error, DEPICT_SESSION_ERROR, DEPICT_SESSION_ERROR_BUSY);
  depict_session_stop_batch (session);
  while (depict_session_get_busy (session))
    g_main_context_iteration (NULL, TRUE);
}

static void
answers_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GPtrArray **answers = user_data;
  g_autoptr (GError) error = NULL;

  *answers = depict_session_load_answers_finish (DEPICT_SESSION (source), result, &error);
  g_assert_no_error (error);
}

static gboolean
answers_arrived (gpointer data)
{
  return *(GPtrArray **) data != NULL;
}

/* Stored answers come back typed through the gallery's reader, whatever shape the gallery
 * kept them in: here a row of an early gallery, in the reference's {"<OD>": …} form, and the
 * latest answer of each task only. */
static void
test_stored_answers (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-session-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "photo_1500x1000_q90.jpg", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autofree char *cases = app_test_data_path ("postprocess", "cases.json", NULL);
  g_autoptr (JsonNode) root = app_test_load_json (cases);
  JsonArray *list = json_object_get_array_member (json_node_get_object (root), "cases");
  g_autoptr (GError) error = NULL;
  GalleryStore *store = depict_session_get_store (session, &error);
  g_autoptr (GPtrArray) answers = NULL;
  JsonNode *reference = NULL;
  DepictAnswer *od;
  gint64 image_id;

  /* A photo no other test of this process runs a task on. */
  copy_photo ("photo_1500x1000_q90.jpg", dir);
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *c = json_array_get_object_element (list, i);

      if (g_str_equal (json_object_get_string_member (c, "name"), "od_two_objects"))
        reference = json_object_get_member (c, "expected");
    }
  g_assert_nonnull (reference);
  g_assert_no_error (error);
  image_id = gallery_store_add_image (store, path, NULL, &error);
  g_assert_no_error (error);
  for (guint k = 0; k < 2; k++)
    {
      g_autoptr (GalleryRun) run = gallery_run_new ();

      run->task = g_strdup ("<OD>");
      run->model_name = g_strdup ("base");
      run->weights_hash = g_strdup ("");
      run->num_beams = 3 + k;
      run->max_new_tokens = 1024;
      run->raw_text = g_strdup ("");
      run->result = json_node_copy (reference);
      run->image_width = 640;
      run->image_height = 480;
      g_assert_cmpint (gallery_store_add_run (store, image_id, run, &error), >, 0);
    }

  depict_session_load_answers_async (session, file, NULL, answers_cb, &answers);
  app_test_wait (answers_arrived, &answers, 10000, "the stored answers");
  g_assert_cmpuint (answers->len, ==, 1);
  od = g_ptr_array_index (answers, 0);
  g_assert_cmpstr (od->task, ==, "<OD>");
  g_assert_cmpint (od->result->kind, ==, FLORENCE_RESULT_BOXES);
  g_assert_cmpuint (od->result->boxes->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (od->result->box_labels, 0), ==, "car");
  g_assert_cmpint (od->run_id, >, 0);
  g_clear_pointer (&answers, g_ptr_array_unref);

  /* A photo the gallery does not know has none. */
  {
    g_autofree char *other = g_build_filename (dir, "unknown.png", NULL);
    g_autoptr (GFile) unknown = g_file_new_for_path (other);

    g_assert_true (g_file_set_contents (other, "not stored", -1, NULL));
    depict_session_load_answers_async (session, unknown, NULL, answers_cb, &answers);
    app_test_wait (answers_arrived, &answers, 10000, "no stored answers");
    g_assert_cmpuint (answers->len, ==, 0);
  }
}

/* The gallery connection stays open while a load of stored answers holds it (a damaged
 * gallery is moved aside only after closing it): closing is refused until the load is done. */
static void
test_close_waits_for_load (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-session-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "photo.png", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GPtrArray) answers = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (depict_session_get_store (session, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, "not stored", -1, NULL));
  depict_session_load_answers_async (session, file, NULL, answers_cb, &answers);
  g_assert_false (depict_session_close_store (session));
  app_test_wait (answers_arrived, &answers, 10000, "the stored answers");
  g_assert_cmpuint (answers->len, ==, 0);
  g_assert_true (depict_session_close_store (session));
  /* The next use opens it again. */
  g_assert_nonnull (depict_session_get_store (session, &error));
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
}

static gboolean
three_tokens (gpointer data)
{
  return depict_job_get_n_tokens (data) >= 3;
}

/* Cancelling a run while it generates stops it: the answer is not made. */
static void
test_cancel_generating (void)
{
  g_autoptr (GFile) photo = photo_file ("strip_50x3.png");
  g_autoptr (GError) error = NULL;
  DepictJob *run;
  gint64 before;

  /* The tiny model never ends on its own: 1024 tokens unless stopped. */
  use_tiny_model (1024);
  run = g_object_ref (depict_session_run (session, photo, "<CAPTION>", NULL, &error));
  g_assert_no_error (error);
  app_test_wait (three_tokens, run, 120000, "three tokens");
  g_assert_cmpint (depict_job_get_stage (run), ==, DEPICT_JOB_STAGE_GENERATING);
  {
    GalleryStore *store = depict_session_get_store (session, NULL);

    before = gallery_store_count_runs (store, NULL);
  }
  depict_job_cancel (run);
  app_test_wait (job_finished, run, 60000, "the run to stop");
  g_assert_true (depict_job_get_cancelled (run));
  g_assert_null (depict_job_get_answer (run));
  g_assert_cmpuint (depict_job_get_n_tokens (run), <, 1024);
  {
    GalleryStore *store = depict_session_get_store (session, NULL);

    g_assert_cmpint (gallery_store_count_runs (store, NULL), ==, before);
  }
  g_object_unref (run);
}

/* ---------------------------------------------------------------------------------------- */
/* A file that records the threads it is queried from                                       */

#define TEST_TYPE_WATCHED_FILE (test_watched_file_get_type ())
G_DECLARE_FINAL_TYPE (TestWatchedFile, test_watched_file, TEST, WATCHED_FILE, GObject)

struct _TestWatchedFile {
  GObject parent_instance;
  GFile *inner;
};

static guint queries_on_main;
static guint queries_elsewhere;
static GThread *main_thread;

static void test_watched_file_iface_init (GFileIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestWatchedFile, test_watched_file, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_FILE, test_watched_file_iface_init))

static GFile *
watched_new (GFile *inner)
{
  TestWatchedFile *self = g_object_new (TEST_TYPE_WATCHED_FILE, NULL);

  self->inner = g_object_ref (inner);
  return G_FILE (self);
}

static GFile *
inner (GFile *file)
{
  return TEST_WATCHED_FILE (file)->inner;
}

static GFile *
watched_dup (GFile *file)
{
  return watched_new (inner (file));
}

static guint
watched_hash (GFile *file)
{
  return g_file_hash (inner (file));
}

static gboolean
watched_equal (GFile *a, GFile *b)
{
  return g_file_equal (inner (a), inner (b));
}

static gboolean
watched_is_native (GFile *file)
{
  return TRUE;
}

static gboolean
watched_has_uri_scheme (GFile *file, const char *scheme)
{
  return g_file_has_uri_scheme (inner (file), scheme);
}

static char *
watched_get_uri_scheme (GFile *file)
{
  return g_file_get_uri_scheme (inner (file));
}

static char *
watched_get_basename (GFile *file)
{
  return g_file_get_basename (inner (file));
}

static char *
watched_get_path (GFile *file)
{
  return g_file_get_path (inner (file));
}

static char *
watched_get_uri (GFile *file)
{
  return g_file_get_uri (inner (file));
}

static char *
watched_get_parse_name (GFile *file)
{
  return g_file_get_parse_name (inner (file));
}

static GFile *
watched_get_parent (GFile *file)
{
  return g_file_get_parent (inner (file));
}

static GFileInfo *
watched_query_info (GFile *file, const char *attributes, GFileQueryInfoFlags flags,
                    GCancellable *cancellable, GError **error)
{
  if (g_thread_self () == main_thread)
    g_atomic_int_inc (&queries_on_main);
  else
    g_atomic_int_inc (&queries_elsewhere);
  return g_file_query_info (inner (file), attributes, flags, cancellable, error);
}

static GFileInputStream *
watched_read (GFile *file, GCancellable *cancellable, GError **error)
{
  return g_file_read (inner (file), cancellable, error);
}

static void
test_watched_file_iface_init (GFileIface *iface)
{
  iface->dup = watched_dup;
  iface->hash = watched_hash;
  iface->equal = watched_equal;
  iface->is_native = watched_is_native;
  iface->has_uri_scheme = watched_has_uri_scheme;
  iface->get_uri_scheme = watched_get_uri_scheme;
  iface->get_basename = watched_get_basename;
  iface->get_path = watched_get_path;
  iface->get_uri = watched_get_uri;
  iface->get_parse_name = watched_get_parse_name;
  iface->get_parent = watched_get_parent;
  iface->query_info = watched_query_info;
  iface->read_fn = watched_read;
}

static void
test_watched_file_finalize (GObject *object)
{
  g_clear_object (&TEST_WATCHED_FILE (object)->inner);
  G_OBJECT_CLASS (test_watched_file_parent_class)->finalize (object);
}

static void
test_watched_file_class_init (TestWatchedFileClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_watched_file_finalize;
}

static void
test_watched_file_init (TestWatchedFile *self)
{
}

static gboolean
queue_has (gpointer data)
{
  return g_list_model_get_n_items (depict_window_get_queue (data)) >= 2;
}

/* What is dropped is looked at in a worker thread; the main thread only adds what it found
 * (and names what is not a photo). */
static void
test_drop_checked_off_main (void)
{
  g_autoptr (GFile) photo = photo_file ("gray_320x200.png");
  g_autofree char *folder_path = g_dir_make_tmp ("depict-session-XXXXXX", NULL);
  g_autoptr (GFile) folder = g_file_new_for_path (folder_path);
  g_autofree char *text_path = g_build_filename (g_get_tmp_dir (), "depict-notes.txt", NULL);
  g_autoptr (GFile) text = g_file_new_for_path (text_path);
  g_autoptr (GFile) watched_photo = watched_new (photo);
  g_autoptr (GFile) watched_folder = watched_new (folder);
  g_autoptr (GFile) watched_text = watched_new (text);
  GSList files[3] = { { watched_photo, &files[1] },
                      { watched_text, &files[2] },
                      { watched_folder, NULL } };
  DepictWindow *window;

  main_thread = g_thread_self ();
  copy_photo ("palette_200x150.png", folder_path);
  copy_photo ("rgba_300x200.png", folder_path);
  g_assert_true (g_file_set_contents (text_path, "not a photo", -1, NULL));
  window = depict_window_new_for_session (session);
  gtk_window_present (GTK_WINDOW (window));

  g_assert_true (depict_window_drop_files (window, files));
  /* Nothing is decided on the spot. */
  g_assert_cmpuint (g_list_model_get_n_items (depict_window_get_queue (window)), ==, 0);
  app_test_wait (queue_has, window, 10000, "the dropped photos");
  app_test_spin (200);
  /* The photo, then the folder's 2 photos; the text file is not. */
  g_assert_cmpuint (g_list_model_get_n_items (depict_window_get_queue (window)), ==, 3);
  g_assert_cmpuint (queries_elsewhere, >=, 3);
  g_assert_cmpuint (queries_on_main, ==, 0);

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_spin (20);
  g_unlink (text_path);
}

/* Another task on the photo just run reuses its features: no vision tower (timings.cached).
 * (That the answers are those of the task alone: tests/florence/model/test-image-cache.c.) */
static void
test_second_task_reuses_features (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-session-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "gray_320x200.png", NULL);
  g_autoptr (GFile) photo = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  const char *tasks[] = { "<CAPTION>", "<OD>" };

  use_tiny_model (5);
  copy_photo ("gray_320x200.png", dir);
  for (guint t = 0; t < G_N_ELEMENTS (tasks); t++)
    {
      DepictJob *run = depict_session_run (session, photo, tasks[t], NULL, &error);
      g_assert_no_error (error);
      app_test_wait (job_finished, run, 120000, "the run");
      g_assert_null (depict_job_get_error (run));
      g_autoptr (GPtrArray) runs = stored_runs (path, tasks[t], 5);
      g_assert_cmpuint (runs->len, ==, 1);
      JsonObject *timings = json_node_get_object (((GalleryRun *) runs->pdata[0])->timings);
      g_assert_cmpint (json_object_get_boolean_member (timings, "cached"), ==, t > 0);
      if (t > 0)
        g_assert_cmpfloat (json_object_get_double_member (timings, "vision"), ==, 0.0);
    }

  g_unlink (path);
  g_rmdir (dir);
}

/* A batch runs the tasks chosen last, or depict-cli tag's when none were. */
static void
test_batch_tasks (void)
{
  GSettings *settings = depict_session_get_settings (session);
  const char *chosen[] = { "<OD>", NULL };
  g_auto (GStrv) tasks = NULL;

  g_settings_reset (settings, "batch-tasks");
  tasks = depict_session_dup_batch_tasks (session);
  g_assert_true (g_strv_equal ((const char *const *) tasks, gallery_tagger_default_tasks ()));
  g_strfreev (tasks);
  g_settings_set_strv (settings, "batch-tasks", chosen);
  tasks = depict_session_dup_batch_tasks (session);
  g_assert_true (g_strv_equal ((const char *const *) tasks, chosen));
  g_settings_reset (settings, "batch-tasks");
}

/* The processor threads of the preferences reach the run settings. */
static void
test_cpu_threads (void)
{
  GSettings *settings = depict_session_get_settings (session);
  g_autoptr (DepictRunSettings) run = NULL;
  g_autoptr (GError) error = NULL;

  use_tiny_model (9);
  g_settings_set_int (settings, "cpu-threads", 1);
  run = depict_session_read_run_settings (session, &error);
  g_assert_no_error (error);
  g_assert_cmpint (run->n_threads, ==, 1);
  g_settings_reset (settings, "cpu-threads");
}

static void
count_notify_cb (GObject *object, GParamSpec *pspec, guint *count)
{
  (*count)++;
}

/* Token counts the window has not applied yet are one: however many tokens the worker
 * reports while the main thread is busy, the window updates once, with the latest count. */
static void
test_token_reports_coalesce (void)
{
  g_autoptr (DepictRunSettings) settings = depict_run_settings_new ();
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GFile) file = g_file_new_for_path ("/photos/a.jpg");
  g_autoptr (GFile) other = g_file_new_for_path ("/photos/b.jpg");
  const char *tasks[] = { "<CAPTION>", NULL };
  g_autoptr (DepictJob) job = NULL;
  guint notified = 0;

  settings->model_dir = g_strdup ("/models/none");
  g_ptr_array_add (files, g_object_ref (file));
  job = _depict_job_new (DEPICT_JOB_RUN, settings, files, tasks, NULL, NULL);
  g_signal_connect (job, "notify::n-tokens", G_CALLBACK (count_notify_cb), &notified);
  for (guint i = 1; i <= 100; i++)
    _depict_job_report_stage (job, DEPICT_JOB_STAGE_GENERATING, i, file);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (depict_job_get_n_tokens (job), ==, 100);
  g_assert_cmpuint (notified, ==, 1);

  /* Another photo's count, or a count after another report, is a report of its own, in the
   * order they came. */
  _depict_job_report_stage (job, DEPICT_JOB_STAGE_GENERATING, 3, other);
  _depict_job_report_stage (job, DEPICT_JOB_STAGE_SAVING, 0, other);
  _depict_job_report_stage (job, DEPICT_JOB_STAGE_GENERATING, 7, other);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (depict_job_get_stage (job), ==, DEPICT_JOB_STAGE_GENERATING);
  g_assert_cmpuint (depict_job_get_n_tokens (job), ==, 7);
  g_assert_true (g_file_equal (depict_job_get_current_file (job), other));
  g_assert_cmpuint (notified, ==, 4);
}

int
main (int argc, char *argv[])
{
  int status;

  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  app_test_init_gtk (&argc, &argv);
  session = app_test_session_new ();

  g_test_add_func ("/app/session/one-connection", test_one_connection);
  g_test_add_func ("/app/session/batch-tasks", test_batch_tasks);
  g_test_add_func ("/app/session/cpu-threads", test_cpu_threads);
  g_test_add_func ("/app/session/one-batch-path", test_one_batch_path);
  g_test_add_func ("/app/session/run-during-batch", test_run_during_batch);
  g_test_add_func ("/app/session/close-waits-for-load", test_close_waits_for_load);
  g_test_add_func ("/app/session/cancel-generating", test_cancel_generating);
  g_test_add_func ("/app/session/drop-checked-off-main", test_drop_checked_off_main);
  g_test_add_func ("/app/session/stored-answers", test_stored_answers);
  g_test_add_func ("/app/session/second-task-reuses-features", test_second_task_reuses_features);
  g_test_add_func ("/app/session/token-reports-coalesce", test_token_reports_coalesce);
  status = g_test_run ();
  g_assert_finalize_object (session);
  return status;
}
