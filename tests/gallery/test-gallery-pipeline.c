/* test-gallery-pipeline.c: photos prepared ahead of the engine, and batch tagging through them,
 * with the tiny fixture model on the CPU reference
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pipeline hands photos back in the order they went in, decoded with their EXIF
 * orientation, with a thumbnail from the same decode, a photo that cannot be decoded with its
 * error, never more than depth queued; the tasks run on a popped photo equal each task run
 * alone from the file. Batch tagging through the pipeline stores the same runs in the same
 * order as tagging one task at a time, never decodes a photo that is done, reports a broken
 * photo by name and goes on, and resumes after Ctrl-C (a cancelled batch) and after SIGKILL.
 * The gallery's thumbnails come from the batch's decode: making them opens no photo again, and
 * showing them afterwards opens none either.
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gallery/gallery-pipeline.h"
#include "gallery/gallery-store-private.h"
#include "gallery/gallery-tagger.h"
#include "gallery-test-util.h"
#include "image/image-loader.h"
#include "image/image-thumbnail.h"
#include "image/image-thumbnail-cache.h"

static const char *const three_tasks[] = { "<CAPTION>", "<OD>", "<OCR>", NULL };
#define BEAMS 2
#define NEW_TOKENS 6

static FlorenceModel *
load_model (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", "tiny", NULL);
  g_autofree char *tok = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "tokenizer", NULL);
  FlorenceModelOptions mo = { FLORENCE_DEVICE_CPU_REFERENCE, tok, NULL };
  g_autoptr (GError) error = NULL;
  FlorenceModel *model = florence_model_load (dir, &mo, &error);
  g_assert_no_error (error);
  return model;
}

/* photos/: the fixture pictures under names that sort in this order, one JPEG turned by its
 * EXIF orientation (6: a 1500 × 1000 file seen as 1000 × 1500), and a broken one. */
static GPtrArray *
make_photos (const char *dir)
{
  static const char *const fixtures[][2] = {
    { "photo_640x480.png", "a.png" },   { "photo_1500x1000_q90.jpg", "b.jpg" },
    { "gray_320x200.png", "c.png" },    { "photo_1500x1000_q90.jpg", "d-turned.jpg" },
    { "rgba_300x200.png", "e.png" },    { NULL, "f-broken.jpg" },
    { "palette_200x150.png", "g.png" }, { "small_37x101.png", "h.png" },
  };
  GPtrArray *paths = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *photos = g_build_filename (dir, "photos", NULL);
  g_mkdir_with_parents (photos, 0700);
  for (gsize i = 0; i < G_N_ELEMENTS (fixtures); i++)
    {
      char *path = g_build_filename (photos, fixtures[i][1], NULL);
      if (fixtures[i][0] == NULL)
        g_assert_true (g_file_set_contents (path, "\xff\xd8\xff\xe0 not a JPEG", -1, NULL));
      else
        {
          g_autofree char *fixture = gt_fixture_image (fixtures[i][0]);
          gt_copy_file (fixture, path);
        }
      if (strstr (path, "turned") != NULL)
        {
          g_autoptr (GError) error = NULL;
          g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
          gexiv2_metadata_open_path (metadata, path, &error);
          g_assert_no_error (error);
          gexiv2_metadata_try_set_tag_long (metadata, "Exif.Image.Orientation", 6, &error);
          g_assert_no_error (error);
          gexiv2_metadata_save_file (metadata, path, &error);
          g_assert_no_error (error);
        }
      g_ptr_array_add (paths, path);
    }
  return paths;
}

static gboolean
ids_equal (const GArray *a, const GArray *b)
{
  return a != NULL && b != NULL && a->len == b->len &&
         memcmp (a->data, b->data, a->len * sizeof (gint32)) == 0;
}

/* Pops in push order, the photos as image_load sees them, tasks as alone. */
static void
test_order_and_results (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autoptr (GPtrArray) paths = make_photos (dir);
  g_autoptr (FlorenceModel) model = load_model ();
  g_autoptr (GError) error = NULL;
  GalleryPipelineOptions po = {
    .model = model, .thumbnail_size = 128, .save_thumbnails = TRUE, .workers = 2
  };
  g_autoptr (GalleryPipeline) pipeline = gallery_pipeline_new (&po);
  guint depth = gallery_pipeline_get_depth (pipeline);
  guint pushed = 0, popped = 0, good = 0;

  g_assert_cmpuint (depth, >=, 2);
  while (popped < paths->len)
    {
      /* as many ahead as the pipeline takes, never more */
      while (pushed < paths->len && gallery_pipeline_push (pipeline, paths->pdata[pushed]))
        pushed++;
      g_assert_cmpuint (gallery_pipeline_get_queued (pipeline), ==, pushed - popped);
      g_assert_cmpuint (pushed - popped, <=, depth);
      if (pushed < paths->len)
        g_assert_false (gallery_pipeline_push (pipeline, paths->pdata[pushed]));

      g_autoptr (GalleryPhoto) photo = gallery_pipeline_pop (pipeline, NULL, &error);
      g_assert_no_error (error);
      const char *path = paths->pdata[popped++];
      g_assert_cmpstr (photo->path, ==, path);
      if (strstr (path, "broken") != NULL)
        {
          g_assert_nonnull (photo->error);
          g_assert_null (photo->image);
          g_autoptr (GalleryRun) run = gallery_pipeline_run_task (
            pipeline, photo, "<CAPTION>", NULL, BEAMS, NEW_TOKENS, NULL, &error);
          g_assert_null (run);
          g_assert_nonnull (error);
          g_clear_error (&error);
          continue;
        }
      g_assert_null (photo->error);
      good++;
      g_autoptr (ImageRgb) decoded = image_load (path, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (photo->width, ==, decoded->width);
      g_assert_cmpint (photo->height, ==, decoded->height);
      if (strstr (path, "turned") != NULL)
        {
          g_assert_cmpint (photo->width, ==, 1000);
          g_assert_cmpint (photo->height, ==, 1500);
        }
      /* the thumbnail: the same picture, its longest side 128 (or the picture's own), also in
       * the desktop's thumbnail cache where the gallery finds it */
      g_assert_nonnull (photo->thumbnail);
      g_assert_cmpint (MAX (photo->thumbnail->width, photo->thumbnail->height), ==,
                       MIN (128, MAX (decoded->width, decoded->height)));
      g_assert_cmpint (photo->thumbnail->width >= photo->thumbnail->height, ==,
                       decoded->width >= decoded->height);
      g_autoptr (ImageRgb) cached = image_thumbnail_cache_load (path, 128, &error);
      g_assert_no_error (error);
      g_assert_cmpint (cached->width, ==, photo->thumbnail->width);
      g_assert_cmpint (cached->height, ==, photo->thumbnail->height);
      g_assert_cmpmem (cached->data, cached->stride * cached->height, photo->thumbnail->data,
                       photo->thumbnail->stride * photo->thumbnail->height);
      /* the decoded picture is not kept while the photo waits */
      g_assert_null (florence_model_image_get_picture (photo->image));

      for (guint t = 0; three_tasks[t] != NULL; t++)
        {
          g_autoptr (GalleryRun) run = gallery_pipeline_run_task (
            pipeline, photo, three_tasks[t], NULL, BEAMS, NEW_TOKENS, NULL, &error);
          g_assert_no_error (error);
          FlorenceRunOptions o = { .task = three_tasks[t],
                                   .num_beams = BEAMS,
                                   .max_new_tokens = NEW_TOKENS };
          g_autoptr (FlorenceRun) alone =
            florence_model_run_file (model, path, &o, NULL, NULL, NULL, &error);
          g_assert_no_error (error);
          g_assert_true (ids_equal (run->token_ids, alone->token_ids));
          g_assert_cmpstr (run->raw_text, ==, alone->text);
          g_assert_cmpstr (run->task, ==, three_tasks[t]);
          g_assert_cmpint (run->image_width, ==, alone->image_width);
          g_assert_cmpint (run->image_height, ==, alone->image_height);
          JsonObject *timings = json_node_get_object (run->timings);
          g_assert_cmpint (json_object_get_boolean_member (timings, "cached"), ==, t > 0);
        }
    }
  GalleryPipelineStats stats;
  gallery_pipeline_get_stats (pipeline, &stats);
  g_assert_cmpuint (stats.photos, ==, paths->len);
  /* the vision tower once per photo, not once per task */
  g_assert_cmpuint (stats.vision_calls, ==, good);
  g_assert_cmpfloat (stats.decode, >, 0.0);
  g_assert_cmpfloat (stats.engine, >=, stats.vision + stats.encoder + stats.generate);

  /* nothing left */
  g_assert_null (gallery_pipeline_pop (pipeline, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  gt_remove_tree (dir);
}

/* A pop that would wait gives up when cancelled; the photo stays first in line. Freeing the
 * pipeline with photos queued and being decoded stops the workers. */
static void
test_cancel (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *big = g_build_filename (dir, "big.png", NULL);
  g_autoptr (FlorenceModel) model = load_model ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  /* 48 megapixels: hundreds of milliseconds to decode, against microseconds to the pop */
  {
    g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 8000, 6000);
    gdk_pixbuf_fill (pixbuf, 0x336699ff);
    g_assert_true (gdk_pixbuf_save (pixbuf, big, "png", &error, "compression", "1", NULL));
    g_assert_no_error (error);
  }
  GalleryPipelineOptions po = { .model = model, .workers = 1 };
  GalleryPipeline *pipeline = gallery_pipeline_new (&po);
  g_assert_true (gallery_pipeline_push (pipeline, big));
  g_cancellable_cancel (cancellable);
  g_assert_null (gallery_pipeline_pop (pipeline, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpuint (gallery_pipeline_get_queued (pipeline), ==, 1);
  {
    g_autoptr (GalleryPhoto) photo = gallery_pipeline_pop (pipeline, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (photo->path, ==, big);
    g_assert_null (photo->error);
    g_assert_cmpint (photo->width, ==, 8000);
  }
  /* queued and in the worker's hands when freed */
  g_assert_true (gallery_pipeline_push (pipeline, big));
  g_assert_true (gallery_pipeline_push (pipeline, big));
  gallery_pipeline_free (pipeline);
  gt_remove_tree (dir);
}

/* One task at a time from the file: the tagging of today's GalleryRunFunc. */
static GalleryRun *
run_alone (const char *image_path, const char *task, const char *text_input, gpointer user_data,
           GCancellable *cancellable, GError **error)
{
  FlorenceRunOptions o = {
    .task = task, .text_input = text_input, .num_beams = BEAMS, .max_new_tokens = NEW_TOKENS
  };
  g_autoptr (FlorenceRun) run =
    florence_model_run_file (user_data, image_path, &o, cancellable, NULL, NULL, error);
  if (run == NULL)
    return NULL;
  GalleryRun *out = gallery_run_new ();
  out->raw_text = g_strdup (run->text);
  out->token_ids = g_array_ref (run->token_ids);
  out->result = florence_result_to_json_node (run->result);
  out->image_width = run->image_width;
  out->image_height = run->image_height;
  return out;
}

typedef struct {
  guint cancel_after; /* cancel once this many photos are done, 0: never */
  GCancellable *cancellable;
  gboolean print; /* "done N" lines on stdout (the crash child) */
} Progress;

static void
on_progress (const GalleryTaggerProgress *progress, gpointer user_data)
{
  Progress *p = user_data;
  if (p->print)
    {
      printf ("done %u\n", progress->done);
      fflush (stdout);
    }
  if (p->cancel_after > 0 && progress->done >= p->cancel_after)
    g_cancellable_cancel (p->cancellable);
}

static GalleryTaggerOptions
tagger_options (Progress *progress)
{
  GalleryTaggerOptions options = {
    .model_name = "tiny",
    .weights_hash = "0123abcd",
    .num_beams = BEAMS,
    .max_new_tokens = NEW_TOKENS,
    .tasks = three_tasks,
    .progress_func = on_progress,
    .progress_data = progress,
  };
  return options;
}

/* "path task ids" for every run, in the order stored. */
static char *
dump_runs (GalleryStore *store)
{
  GString *out = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;
  g_assert_cmpint (
    sqlite3_prepare_v2 (gallery_store_get_db (store),
                        "SELECT (SELECT min(path) FROM image_paths p"
                        "  WHERE p.image_id = r.image_id), r.task, r.token_ids, r.result"
                        " FROM runs r ORDER BY r.id",
                        -1, &stmt, NULL),
    ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (out, "%s %s %s %s\n", (const char *) sqlite3_column_text (stmt, 0),
                            (const char *) sqlite3_column_text (stmt, 1),
                            (const char *) sqlite3_column_text (stmt, 2),
                            (const char *) sqlite3_column_text (stmt, 3));
  sqlite3_finalize (stmt);
  return g_string_free (out, FALSE);
}

/* The same runs in the same order as one task at a time; done photos are not decoded; a
 * broken photo is named and the batch goes on; a cancelled batch resumes. */
static void
test_tagger (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autoptr (GPtrArray) paths = make_photos (dir);
  g_autofree char *photos = g_path_get_dirname (paths->pdata[0]);
  g_autofree char *db_alone = g_build_filename (dir, "alone.db", NULL);
  g_autofree char *db_pipe = g_build_filename (dir, "pipeline.db", NULL);
  g_autoptr (FlorenceModel) model = load_model ();
  g_autoptr (GError) error = NULL;
  const char *args[] = { photos, NULL };
  Progress progress = { 0 };
  GalleryTaggerSummary summary = { 0 };
  const guint n = paths->len, n_good = n - 1;

  /* one task at a time */
  g_autoptr (GalleryStore) alone = gallery_store_open (db_alone, &error);
  g_assert_no_error (error);
  GalleryTaggerOptions options = tagger_options (&progress);
  options.run_func = run_alone;
  options.run_data = model;
  g_assert_true (gallery_tagger_run (alone, &options, args, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.processed, ==, n_good);
  gallery_tagger_summary_clear (&summary);

  /* through the pipeline, cancelled after 3 photos, then resumed */
  g_autoptr (GalleryStore) store = gallery_store_open (db_pipe, &error);
  g_assert_no_error (error);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  progress.cancel_after = 3;
  progress.cancellable = cancellable;
  options = tagger_options (&progress);
  {
    GalleryPipelineOptions po = { .model = model };
    g_autoptr (GalleryPipeline) pipeline = gallery_pipeline_new (&po);
    options.pipeline = pipeline;
    g_assert_false (gallery_tagger_run (store, &options, args, &summary, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    g_assert_true (summary.cancelled);
    g_assert_cmpuint (summary.processed, ==, 3);
    gallery_tagger_summary_clear (&summary);
  }
  progress.cancel_after = 0;
  {
    GalleryPipelineOptions po = { .model = model };
    g_autoptr (GalleryPipeline) pipeline = gallery_pipeline_new (&po);
    options.pipeline = pipeline;
    g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (summary.skipped, ==, 3);
    g_assert_cmpuint (summary.processed, ==, n_good - 3);
    g_assert_cmpuint (summary.failed, ==, 1);
    g_assert_cmpuint (summary.failures->len, ==, 1);
    g_assert_nonnull (strstr (summary.failures->pdata[0], "f-broken.jpg: "));
    gallery_tagger_summary_clear (&summary);
    /* the done photos were not decoded again */
    GalleryPipelineStats stats;
    gallery_pipeline_get_stats (pipeline, &stats);
    g_assert_cmpuint (stats.photos, ==, n - 3);
    g_assert_cmpuint (stats.vision_calls, ==, n_good - 3);
  }
  g_autofree char *runs_alone = dump_runs (alone);
  g_autofree char *runs_pipe = dump_runs (store);
  g_assert_cmpuint (gallery_store_count_runs (store, &error), ==, 3 * n_good);
  g_assert_cmpstr (runs_pipe, ==, runs_alone);

  /* again: everything done, nothing decoded */
  {
    GalleryPipelineOptions po = { .model = model };
    g_autoptr (GalleryPipeline) pipeline = gallery_pipeline_new (&po);
    options.pipeline = pipeline;
    g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
    g_assert_cmpuint (summary.skipped, ==, n_good);
    gallery_tagger_summary_clear (&summary);
    GalleryPipelineStats stats;
    gallery_pipeline_get_stats (pipeline, &stats);
    /* only the broken photo, which has no runs, is tried again */
    g_assert_cmpuint (stats.photos, ==, 1);
  }
  gt_remove_tree (dir);
}

/* How many times each file in the watched folder was opened since the last call. The watch
 * reports closes too: the kernel merges an event with the one before it when they are equal,
 * and an open always follows a close of the same file in one thread. */
static GHashTable *
take_opens (int fd)
{
  GHashTable *opens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  char buf[16384] __attribute__ ((aligned (__alignof__(struct inotify_event))));
  ssize_t len;

  while ((len = read (fd, buf, sizeof buf)) > 0)
    for (char *p = buf; p < buf + len;)
      {
        const struct inotify_event *event = (const struct inotify_event *) p;
        if ((event->mask & IN_OPEN) != 0 && event->len > 0)
          {
            guint n = GPOINTER_TO_UINT (g_hash_table_lookup (opens, event->name));
            g_hash_table_replace (opens, g_strdup (event->name), GUINT_TO_POINTER (n + 1));
          }
        p += sizeof (struct inotify_event) + event->len;
      }
  return opens;
}

/* Takes each photo through a pipeline that makes thumbnail_size thumbnails (0: none) and keeps
 * them, as batch tagging does, one photo at a time: only its worker opens the photos then. */
static void
prepare_with_thumbnails (FlorenceModel *model, GPtrArray *paths, int thumbnail_size)
{
  GalleryPipelineOptions po = { .model = model,
                                .thumbnail_size = thumbnail_size,
                                .save_thumbnails = thumbnail_size > 0,
                                .workers = 1 };
  g_autoptr (GalleryPipeline) pipeline = gallery_pipeline_new (&po);

  for (guint i = 0; i < paths->len; i++)
    {
      g_autoptr (GError) error = NULL;
      g_assert_true (gallery_pipeline_push (pipeline, paths->pdata[i]));
      g_autoptr (GalleryPhoto) photo = gallery_pipeline_pop (pipeline, NULL, &error);
      g_assert_no_error (error);
      g_assert_true ((photo->error != NULL) == (strstr (paths->pdata[i], "broken") != NULL));
      g_assert_true ((photo->thumbnail != NULL) == (photo->error == NULL && thumbnail_size > 0));
    }
}

/* The thumbnails batch tagging keeps for the gallery are made from the decode the model needs:
 * preparing photos with them opens each photo exactly as often as without them; afterwards
 * the gallery's thumbnail of each photo comes from the cache without opening the photo. */
static void
test_thumbnails_from_the_decode (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autoptr (GPtrArray) paths = make_photos (dir);
  g_autofree char *photos = g_path_get_dirname (paths->pdata[0]);
  g_autoptr (FlorenceModel) model = load_model ();
  g_autoptr (GError) error = NULL;
  const int size = IMAGE_THUMBNAIL_CACHE_LARGE;
  int fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (inotify_add_watch (fd, photos, IN_OPEN | IN_CLOSE_NOWRITE), >=, 0);

  for (guint i = 0; i < paths->len; i++)
    {
      g_autofree char *cached = image_thumbnail_cache_get_path (paths->pdata[i], size);
      g_assert_false (g_file_test (cached, G_FILE_TEST_EXISTS));
    }
  prepare_with_thumbnails (model, paths, 0);
  g_autoptr (GHashTable) opens_without = take_opens (fd);
  prepare_with_thumbnails (model, paths, size);
  g_autoptr (GHashTable) opens_with = take_opens (fd);

  for (guint i = 0; i < paths->len; i++)
    {
      const char *path = paths->pdata[i];
      g_autofree char *name = g_path_get_basename (path);
      guint without = GPOINTER_TO_UINT (g_hash_table_lookup (opens_without, name));
      guint with = GPOINTER_TO_UINT (g_hash_table_lookup (opens_with, name));

      g_test_message ("%s opened %u times without thumbnails, %u with", name, without, with);
      g_assert_cmpuint (without, >, 0);
      g_assert_cmpuint (with, ==, without);
      if (strstr (path, "broken") != NULL)
        continue;

      /* kept where the gallery looks, the whole photo seen as a person sees it */
      g_autoptr (ImageRgb) cached = image_thumbnail_cache_load (path, size, &error);
      g_assert_no_error (error);
      g_autoptr (ImageRgb) decoded = image_load (path, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (MAX (cached->width, cached->height), ==,
                       MIN (size, MAX (decoded->width, decoded->height)));
      g_assert_cmpint (cached->width >= cached->height, ==, decoded->width >= decoded->height);
      g_hash_table_unref (take_opens (fd));

      /* shown from the cache: the photo is not opened */
      g_autoptr (ImageRgb) shown = image_thumbnail_load (path, size, &error);
      g_assert_no_error (error);
      g_autoptr (GHashTable) opens_shown = take_opens (fd);
      g_assert_cmpuint (GPOINTER_TO_UINT (g_hash_table_lookup (opens_shown, name)), ==, 0);
      g_assert_cmpint (shown->width, ==, cached->width);
      g_assert_cmpint (shown->height, ==, cached->height);
      g_assert_cmpmem (shown->data, shown->stride * shown->height, cached->data,
                       cached->stride * cached->height);
    }
  close (fd);
  gt_remove_tree (dir);
}

/* The child of test_crash: tags through the pipeline, printing progress, until killed. */
static int
crash_child (const char *db, const char *photos)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_autoptr (FlorenceModel) model = load_model ();
  GalleryPipelineOptions po = { .model = model };
  g_autoptr (GalleryPipeline) pipeline = gallery_pipeline_new (&po);
  Progress progress = { .print = TRUE };
  GalleryTaggerOptions options = tagger_options (&progress);
  const char *args[] = { photos, NULL };

  if (store == NULL)
    return 2;
  options.pipeline = pipeline;
  gallery_tagger_run (store, &options, args, NULL, NULL, &error);
  return 0;
}

/* kill -9 in the middle: nothing stored is lost or damaged, and the next batch runs only what
 * is missing. */
static void
test_crash (void)
{
  g_autofree char *dir = gt_make_temp_dir ();
  g_autofree char *db = g_build_filename (dir, "g.db", NULL);
  g_autofree char *photos = g_build_filename (dir, "photos", NULL);
  g_autofree char *fixture = gt_fixture_image ("photo_1500x1000_q90.jpg");
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  const char *argv[] = { self, "--crash-child", db, photos, NULL };
  const guint n = 16;
  g_autoptr (GError) error = NULL;
  GPid pid;
  int out_fd, status;
  char line[64];
  guint done = 0;

  /* distinct photos: the same JPEG with a different first block of pixels (the gallery knows
   * a photo by its pixels, so other bytes alone would be the same photo) */
  g_mkdir_with_parents (photos, 0700);
  {
    g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (fixture, &error);
    g_assert_no_error (error);
    for (guint i = 0; i < n; i++)
      {
        g_autofree char *name = g_strdup_printf ("%s/p%02u.jpg", photos, i);
        g_autoptr (GdkPixbuf) copy = gdk_pixbuf_copy (pixbuf);
        guint8 *pixels = gdk_pixbuf_get_pixels (copy);
        for (int y = 0; y < 16; y++)
          memset (pixels + y * gdk_pixbuf_get_rowstride (copy), (int) (i * 15), 16 * 3);
        gdk_pixbuf_save (copy, name, "jpeg", &error, "quality", "90", NULL);
        g_assert_no_error (error);
      }
  }
  g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                            NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  FILE *out = fdopen (out_fd, "r");
  while (done < 3 && fgets (line, sizeof line, out) != NULL)
    sscanf (line, "done %u", &done);
  g_assert_cmpuint (done, ==, 3);
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);
  fclose (out);
  g_spawn_close_pid (pid);

  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  gint64 after_kill = gallery_store_count_runs (store, &error);
  g_assert_cmpint (after_kill, >=, 3 * 3);
  g_assert_cmpint (after_kill, <=, 3 * n);

  g_autoptr (FlorenceModel) model = load_model ();
  GalleryPipelineOptions po = { .model = model };
  g_autoptr (GalleryPipeline) pipeline = gallery_pipeline_new (&po);
  Progress progress = { 0 };
  GalleryTaggerOptions options = tagger_options (&progress);
  GalleryTaggerSummary summary = { 0 };
  const char *args[] = { photos, NULL };
  options.pipeline = pipeline;
  g_assert_true (gallery_tagger_run (store, &options, args, &summary, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (summary.total, ==, n);
  g_assert_cmpuint (summary.processed + summary.skipped, ==, n);
  g_assert_cmpint (gallery_store_count_runs (store, &error), ==, 3 * n);
  /* only what was missing ran: nothing twice */
  g_assert_cmpuint (summary.runs_added, ==, 3 * n - after_kill);
  gallery_tagger_summary_clear (&summary);
  sqlite3_stmt *stmt = NULL;
  sqlite3_prepare_v2 (gallery_store_get_db (store),
                      "SELECT count(*) FROM (SELECT image_id, task FROM runs"
                      " GROUP BY image_id, task HAVING count(*) > 1)",
                      -1, &stmt, NULL);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 0);
  sqlite3_finalize (stmt);
  gt_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  if (argc == 4 && strcmp (argv[1], "--crash-child") == 0)
    return crash_child (argv[2], argv[3]);

  g_test_init (&argc, &argv, NULL);
  gexiv2_initialize ();
  g_test_add_func ("/gallery/pipeline/order-and-results", test_order_and_results);
  g_test_add_func ("/gallery/pipeline/cancel", test_cancel);
  g_test_add_func ("/gallery/pipeline/tagger", test_tagger);
  g_test_add_func ("/gallery/pipeline/thumbnails-from-the-decode", test_thumbnails_from_the_decode);
  g_test_add_func ("/gallery/pipeline/crash", test_crash);
  return g_test_run ();
}
