/* bench-tag.c: batch tagging of a folder of 12-megapixel JPEGs, one task at a time from the
 * file (before) against the pipeline (after)
 *
 *   bench-tag [--model DIR] [--device DEVICE] [--photos N] [--megapixels MP] [--tasks LIST]
 *             [--beams N] [--new-tokens N] [--modes before,after] [--rounds N] [--folder DIR]
 *
 * Without --model it uses (making it once, ~463 MB) the Florence-2-base directory with random
 * weights that bench-model makes next to the programs (make-random-model). Without --folder it
 * makes (once) N photo-like JPEGs of MP megapixels (4:3, quality 90, every fourth turned by
 * its EXIF orientation) next to itself. Each mode runs in a child process of its own (so that
 * its peak resident memory is its own) on a fresh gallery, after a warm-up run (shader
 * compilation), through gallery_tagger_run with the tasks of depict-cli tag:
 *
 *   before  a GalleryRunFunc that runs each task alone from the file, as depict-cli tag did
 *           until the pipeline: the photo is decoded, resized and sent through the vision
 *           tower once per task, on the batch's thread;
 *   after   the pipeline of depict-cli tag (gallery-pipeline.h): worker threads decode the
 *           next photos while the engine runs, and each photo's tasks share its features.
 *
 * --feed N: the pipeline alone, N photos (the folder's, over and over) decoded, thumbnailed and
 * preprocessed by the workers and popped, no task run: the rate at which it can feed an
 * engine, and resident memory every 10 photos (flat: at most depth photos wait, each as its
 * pixel values, not its decoded picture).
 *
 * Prints, per mode: photos per hour (wall) and per CPU-hour, seconds per photo, the time per
 * stage summed over the photos (decode, preprocess, vision, encoder, generation; the engine's
 * wait), the fraction of wall time the engine was busy, the process CPU time, peak resident
 * memory (VmHWM) and the load average before and after. On a machine shared with other work
 * the wall figures move with the load; run the modes in the same session (--rounds alternates
 * them) and read the CPU figures beside them. Random weights: the text is noise, the work is
 * real (generation runs to --new-tokens, the forced end). Figures are printed, never asserted.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bench-util.h"
#include "florence/engine/florence-device.h"
#include "florence/model/florence-model.h"
#include "gallery/gallery-pipeline.h"
#include "gallery/gallery-tagger.h"
#include "image/image-files.h"
#include "image/image-thumbnail-cache.h"

/* ---------------------------------------------------------------------------------------------
 * Inputs: the photos
 * ------------------------------------------------------------------------------------------- */

/* A photo-like picture: smooth light, a few objects, sensor noise. */
static GdkPixbuf *
make_picture (int width, int height, guint seed)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  GRand *rand = g_rand_new_with_seed (seed);
  double cx[6], cy[6], r2[6], col[6][3];
  for (int k = 0; k < 6; k++)
    {
      cx[k] = g_rand_double (rand) * width;
      cy[k] = g_rand_double (rand) * height;
      double r = (0.05 + 0.2 * g_rand_double (rand)) * width;
      r2[k] = r * r;
      for (int c = 0; c < 3; c++)
        col[k][c] = 40 + 200 * g_rand_double (rand);
    }
  guint32 noise = seed * 2654435761u + 1;
  for (int y = 0; y < height; y++)
    {
      guint8 *row = pixels + (gsize) y * stride;
      for (int x = 0; x < width; x++)
        {
          double v[3] = { 90 + 100.0 * x / width, 110 + 80.0 * y / height,
                          150 - 60.0 * (x + y) / (width + height) };
          for (int k = 0; k < 6; k++)
            {
              double dx = x - cx[k], dy = y - cy[k];
              if (dx * dx + dy * dy < r2[k])
                for (int c = 0; c < 3; c++)
                  v[c] = col[k][c] + 20 * sin ((x + y) * 0.01 * (k + 1));
            }
          for (int c = 0; c < 3; c++)
            {
              noise = noise * 1664525u + 1013904223u;
              double n = (double) (noise >> 24) / 255.0 * 24 - 12;
              row[3 * x + c] = (guint8) CLAMP (v[c] + n, 0, 255);
            }
        }
    }
  g_rand_free (rand);
  return pixbuf;
}

/* The folder of n photos of mp megapixels, made once. */
static char *
make_photos (int n, double mp, GError **error)
{
  g_autofree char *dir = bench_program_dir (error);
  if (dir == NULL)
    return NULL;
  g_autofree char *name = g_strdup_printf ("bench-tag-photos-%gmp", mp);
  char *folder = g_build_filename (dir, name, NULL);
  int width = (int) (sqrt (mp * 1e6 * 4 / 3) + 0.5), height = width * 3 / 4;
  g_mkdir_with_parents (folder, 0755);
  gexiv2_initialize ();
  for (int i = 0; i < n; i++)
    {
      g_autofree char *file = g_strdup_printf ("%s/IMG_%04d.jpg", folder, i);
      if (g_file_test (file, G_FILE_TEST_EXISTS))
        continue;
      g_printerr ("Writing %s (%d x %d)...\n", file, width, height);
      g_autofree char *part = g_strconcat (file, ".part.jpg", NULL);
      g_autoptr (GdkPixbuf) pixbuf = make_picture (width, height, (guint) i + 1);
      if (!gdk_pixbuf_save (pixbuf, part, "jpeg", error, "quality", "90", NULL))
        return NULL;
      if (i % 4 == 3)
        {
          /* turned: a camera held upright */
          g_autoptr (GExiv2Metadata) meta = gexiv2_metadata_new ();
          if (!gexiv2_metadata_open_path (meta, part, error) ||
              !gexiv2_metadata_try_set_tag_long (meta, "Exif.Image.Orientation", 6, error) ||
              !gexiv2_metadata_save_file (meta, part, error))
            return NULL;
        }
      if (g_rename (part, file) != 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not write %s", file);
          return NULL;
        }
    }
  return folder;
}

/* ---------------------------------------------------------------------------------------------
 * One mode, in a child process
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  FlorenceModel *model;
  guint beams, new_tokens;
  /* summed over the runs of the before mode */
  double preprocess, vision, encoder, generate;
} Before;

static GalleryRun *
run_alone (const char *image_path, const char *task, const char *text_input, gpointer user_data,
           GCancellable *cancellable, GError **error)
{
  Before *b = user_data;
  FlorenceRunOptions o = {
    .task = task, .text_input = text_input, .num_beams = b->beams, .max_new_tokens = b->new_tokens
  };
  g_autoptr (FlorenceRun) run =
    florence_model_run_file (b->model, image_path, &o, cancellable, NULL, NULL, error);
  if (run == NULL)
    return NULL;
  b->preprocess += run->timings.preprocess;
  b->vision += run->timings.vision;
  b->encoder += run->timings.encoder;
  b->generate += run->timings.decode;
  GalleryRun *out = gallery_run_new ();
  out->raw_text = g_strdup (run->text);
  out->token_ids = g_array_ref (run->token_ids);
  out->result = florence_result_to_json_node (run->result);
  out->timings = florence_timings_to_json_node (&run->timings);
  out->image_width = run->image_width;
  out->image_height = run->image_height;
  return out;
}

static int
run_mode (const char *mode, const char *model_dir, const char *device, const char *folder,
          const char *tasks_list, guint beams, guint new_tokens, guint workers)
{
  g_autoptr (GError) error = NULL;
  FlorenceModelOptions mo = { FLORENCE_DEVICE_AUTO, NULL, NULL };
  g_autofree char *vulkan_device = NULL;
  if (!florence_device_parse (device, &mo.device, &vulkan_device, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  mo.vulkan_device = vulkan_device;
  g_auto (GStrv) tasks = gallery_tagger_parse_tasks (tasks_list, &error);
  if (tasks == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  g_autoptr (FlorenceModel) model = florence_model_load (model_dir, &mo, &error);
  if (model == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  /* warm-up: shader compilation and first allocations, outside the figures */
  {
    g_autofree char *data = g_build_filename (
      g_getenv ("DEPICT_TEST_DATA") != NULL ? g_getenv ("DEPICT_TEST_DATA") : "tests/data",
      "preprocess", "images", "photo_640x480.png", NULL);
    FlorenceRunOptions o = { .task = tasks[0], .num_beams = beams, .max_new_tokens = 2 };
    g_autoptr (FlorenceRun) run =
      florence_model_run_file (model, data, &o, NULL, NULL, NULL, &error);
    if (run == NULL)
      {
        g_printerr ("warm-up: %s\n", error->message);
        return 1;
      }
  }

  g_autofree char *tmp = g_dir_make_tmp ("bench-tag-XXXXXX", &error);
  g_autofree char *db = g_build_filename (tmp, "gallery.db", NULL);
  g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
  if (store == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  gboolean after = strcmp (mode, "after") == 0;
  Before before = { model, beams, new_tokens };
  /* as depict-cli tag: the gallery's thumbnail from the same decode, kept in the thumbnail cache
   * (the parent points XDG_CACHE_HOME next to the program) */
  GalleryPipelineOptions po = { .model = model,
                                .workers = workers,
                                .thumbnail_size = IMAGE_THUMBNAIL_CACHE_LARGE,
                                .save_thumbnails = TRUE };
  g_autoptr (GalleryPipeline) pipeline = after ? gallery_pipeline_new (&po) : NULL;
  GalleryTaggerOptions options = {
    .model_name = "bench",
    .weights_hash = "bench",
    .num_beams = (int) beams,
    .max_new_tokens = (int) new_tokens,
    .tasks = (const char *const *) tasks,
  };
  if (after)
    options.pipeline = pipeline;
  else
    {
      options.run_func = run_alone;
      options.run_data = &before;
    }
  const char *paths[] = { folder, NULL };
  GalleryTaggerSummary summary = { 0 };

  bench_print_conditions ("start");
  double w0 = bench_wall_seconds (), c0 = bench_cpu_seconds ();
  gboolean ok = gallery_tagger_run (store, &options, paths, &summary, NULL, &error);
  double wall = bench_wall_seconds () - w0, cpu = bench_cpu_seconds () - c0;
  bench_print_conditions ("end");
  if (!ok)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  double decode = 0, thumbnail = 0, preprocess, vision, encoder, generate, wait = 0, engine;
  if (after)
    {
      GalleryPipelineStats s;
      gallery_pipeline_get_stats (pipeline, &s);
      decode = s.decode;
      thumbnail = s.thumbnail;
      preprocess = s.preprocess;
      vision = s.vision;
      encoder = s.encoder;
      generate = s.generate;
      wait = s.wait;
      engine = s.engine;
    }
  else
    {
      preprocess = before.preprocess; /* decode included */
      vision = before.vision;
      encoder = before.encoder;
      generate = before.generate;
      engine = vision + encoder + generate;
    }
  guint n = summary.processed;
  printf ("%s: %s on %s\n", mode, after ? "the pipeline" : "each task alone from the file",
          florence_model_get_device_name (model));
  printf ("  %u photos (%u failed), %u results, %u task%s, %u beam%s, %u new tokens\n", n,
          summary.failed, summary.runs_added, g_strv_length (tasks),
          g_strv_length (tasks) > 1 ? "s" : "", beams, beams > 1 ? "s" : "", new_tokens);
  printf ("  wall %.1f s: %.1f s per photo, %.1f photos per hour\n", wall, wall / MAX (n, 1),
          3600.0 * n / wall);
  printf ("  process CPU %.1f s: %.1f CPU-s per photo, %.1f photos per CPU-hour\n", cpu,
          cpu / MAX (n, 1), 3600.0 * n / cpu);
  if (after)
    printf ("  stages (s, all photos): decode %.1f, thumbnail %.1f, preprocess %.1f (workers); "
            "vision %.1f, encoder %.1f, generation %.1f; engine waited %.1f\n",
            decode, thumbnail, preprocess, vision, encoder, generate, wait);
  else
    printf ("  stages (s, all photos): decode + preprocess %.1f; vision %.1f, encoder %.1f, "
            "generation %.1f (all on the batch's thread)\n",
            preprocess, vision, encoder, generate);
  printf ("  engine busy %.1f s = %.0f %% of the wall time\n", engine, 100.0 * engine / wall);
  printf ("  peak resident memory (VmHWM) %.0f MiB\n", bench_peak_rss_mib ());
  printf ("RESULT %s photos_per_hour=%.2f photos_per_cpu_hour=%.2f busy=%.3f vmhwm_mib=%.0f\n",
          mode, 3600.0 * n / wall, 3600.0 * n / cpu, engine / wall, bench_peak_rss_mib ());
  gallery_tagger_summary_clear (&summary);
  g_clear_pointer (&pipeline, gallery_pipeline_free);
  g_clear_pointer (&store, gallery_store_close);
  g_unlink (db);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (tmp);
  return 0;
}

/* The pipeline alone over n photos (the folder's, again and again), no task run: how fast
 * the workers feed an engine, and whether memory stays flat. */
static int
run_feed (const char *model_dir, const char *folder, guint n, guint workers)
{
  g_autoptr (GError) error = NULL;
  FlorenceModelOptions mo = { FLORENCE_DEVICE_CPU_REFERENCE, NULL, NULL };
  g_autoptr (FlorenceModel) model = florence_model_load (model_dir, &mo, &error);
  if (model == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  printf ("model loaded: resident %.0f MiB, peak %.0f MiB\n", bench_rss_mib (),
          bench_peak_rss_mib ());
  const char *args[] = { folder, NULL };
  g_autoptr (GPtrArray) files = image_files_collect (args, FALSE, NULL, NULL, NULL, &error);
  if (files == NULL || files->len == 0)
    {
      g_printerr ("%s\n", error != NULL ? error->message : "no photos");
      return 1;
    }
  GalleryPipelineOptions po = { .model = model,
                                .workers = workers,
                                .thumbnail_size = IMAGE_THUMBNAIL_CACHE_LARGE };
  g_autoptr (GalleryPipeline) pipeline = gallery_pipeline_new (&po);
  printf ("feed: %u photos through the pipeline (%u in the folder), depth %u, input %d, no task\n",
          n, files->len, gallery_pipeline_get_depth (pipeline),
          florence_model_get_config (model)->image_size);
  bench_print_conditions ("start");
  double w0 = bench_wall_seconds (), c0 = bench_cpu_seconds ();
  guint pushed = 0;
  for (guint popped = 0; popped < n; popped++)
    {
      while (pushed < n &&
             gallery_pipeline_push (pipeline, g_ptr_array_index (files, pushed % files->len)))
        pushed++;
      g_autoptr (GalleryPhoto) photo = gallery_pipeline_pop (pipeline, NULL, &error);
      if (photo == NULL || photo->error != NULL)
        {
          g_printerr ("%s\n", photo != NULL ? photo->error->message : error->message);
          return 1;
        }
      if ((popped + 1) % 10 == 0 || popped + 1 == n)
        printf ("  %4u photos: %.1f s, resident %.0f MiB, peak %.0f MiB\n", popped + 1,
                bench_wall_seconds () - w0, bench_rss_mib (), bench_peak_rss_mib ());
    }
  double wall = bench_wall_seconds () - w0, cpu = bench_cpu_seconds () - c0;
  bench_print_conditions ("end");
  GalleryPipelineStats s;
  gallery_pipeline_get_stats (pipeline, &s);
  printf ("  wall %.1f s: %.0f photos per hour fed; process CPU %.1f s (%.2f CPU-s per photo)\n",
          wall, 3600.0 * n / wall, cpu, cpu / n);
  printf ("  worker stages (s, all photos): decode %.1f, thumbnail %.1f, preprocess %.1f\n",
          s.decode, s.thumbnail, s.preprocess);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *model_dir = NULL, *device = NULL, *modes = NULL, *tasks = NULL, *folder = NULL,
                  *child = NULL;
  int photos = 6, beams = 3, new_tokens = 8, rounds = 1, workers = 0, feed = 0;
  double megapixels = 12;
  GOptionEntry entries[] = {
    { "model", 0, 0, G_OPTION_ARG_FILENAME, &model_dir,
      "Model directory (default: random Florence-2-base weights made next to the program)", "DIR" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &device,
      "auto, cpu, cpu-reference, vulkan, or a Vulkan device (default vulkan)", "DEVICE" },
    { "photos", 0, 0, G_OPTION_ARG_INT, &photos, "Photos to make and tag (6)", "N" },
    { "megapixels", 0, 0, G_OPTION_ARG_DOUBLE, &megapixels, "Size of the photos (12)", "MP" },
    { "folder", 0, 0, G_OPTION_ARG_FILENAME, &folder, "Tag these photos instead", "DIR" },
    { "tasks", 0, 0, G_OPTION_ARG_STRING, &tasks, "Tasks (caption,od,ocr)", "LIST" },
    { "beams", 0, 0, G_OPTION_ARG_INT, &beams, "Beams (3, as depict-cli tag)", "N" },
    { "new-tokens", 0, 0, G_OPTION_ARG_INT, &new_tokens, "Tokens generated per task (8)", "N" },
    { "modes", 0, 0, G_OPTION_ARG_STRING, &modes, "Modes to run (before,after)", "LIST" },
    { "rounds", 0, 0, G_OPTION_ARG_INT, &rounds, "Times to run the modes, alternating (1)", "N" },
    { "workers", 0, 0, G_OPTION_ARG_INT, &workers, "Decoding threads of the pipeline (auto)", "N" },
    { "feed", 0, 0, G_OPTION_ARG_INT, &feed,
      "Only push N photos (the folder's, over and over) through the pipeline, no task: the rate "
      "it feeds an engine at, and its memory",
      "N" },
    { "child", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &child, NULL, NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  setvbuf (stdout, NULL, _IOLBF, 0);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (device == NULL)
    device = g_strdup ("vulkan");
  if (tasks == NULL)
    tasks = g_strdup ("caption,od,ocr");
  if (child != NULL)
    return run_mode (child, model_dir, device, folder, tasks, (guint) beams, (guint) new_tokens,
                     (guint) MAX (workers, 0));

  if (model_dir == NULL && (model_dir = bench_make_model (&error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (folder == NULL && (folder = make_photos (photos, megapixels, &error)) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  if (feed > 0)
    return run_feed (model_dir, folder, (guint) feed, (guint) MAX (workers, 0));
  g_auto (GStrv) mode_list = g_strsplit (modes != NULL ? modes : "before,after", ",", -1);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", &error);
  if (self == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_autofree char *program_dir = bench_program_dir (&error);
  if (program_dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_autofree char *cache = g_build_filename (program_dir, "bench-tag-cache", NULL);
  g_auto (GStrv) child_env = g_environ_setenv (g_get_environ (), "XDG_CACHE_HOME", cache, TRUE);
  bench_print_conditions ("bench-tag");
  printf ("model %s\nphotos %s\nthumbnails %s\n", model_dir, folder, cache);
  for (int r = 0; r < MAX (rounds, 1); r++)
    for (guint m = 0; mode_list[m] != NULL; m++)
      {
        g_autofree char *b = g_strdup_printf ("%d", beams);
        g_autofree char *t = g_strdup_printf ("%d", new_tokens);
        g_autofree char *w = g_strdup_printf ("%d", workers);
        const char *args[] = { self,
                               "--child",
                               mode_list[m],
                               "--model",
                               model_dir,
                               "--device",
                               device,
                               "--folder",
                               folder,
                               "--tasks",
                               tasks,
                               "--beams",
                               b,
                               "--new-tokens",
                               t,
                               "--workers",
                               w,
                               NULL };
        int status = 0;
        if (!g_spawn_sync (NULL, (char **) args, child_env, G_SPAWN_CHILD_INHERITS_STDIN, NULL,
                           NULL, NULL, NULL, &status, &error) ||
            !g_spawn_check_wait_status (status, &error))
          {
            g_printerr ("%s: %s\n", mode_list[m], error->message);
            return 1;
          }
      }
  return 0;
}
