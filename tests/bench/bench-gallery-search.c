/* bench-gallery-search.c: search latency of the gallery with 100 000 stored results
 *
 * Generates a gallery of N images (default 50 000) with two results each (a caption, and
 * objects or text), 100 000 results in all, through gallery_store_add_run (so the
 * full-text index is kept in sync the way the tagger does it), then times typical queries
 * (median, 95th percentile and worst of 50 runs each, 50 hits per page) and prints the
 * figures. Usage: bench-gallery-search [N_IMAGES] [DB_PATH]
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gallery/gallery-search.h"
#include "gallery/gallery-store-private.h"

static const char *const nouns[] = {
  "dog",     "cat",    "car",    "tree",     "house",  "person",  "woman",  "man",    "child",
  "bicycle", "table",  "chair",  "sofa",     "window", "door",    "street", "beach",  "mountain",
  "lake",    "river",  "boat",   "bird",     "horse",  "cup",     "bottle", "plate",  "pizza",
  "cake",    "flower", "garden", "building", "sky",    "cloud",   "road",   "bus",    "train",
  "phone",   "laptop", "book",   "lamp",     "bed",    "kitchen", "field",  "forest", "snow",
  "bridge",  "city",   "shop",   "sign",     "fence",
};
static const char *const adjectives[] = {
  "red",   "blue", "green",  "white", "black", "small",  "large", "old",  "young", "wooden",
  "sunny", "dark", "bright", "empty", "busy",  "yellow", "brown", "tall", "round", "wet",
};
static const char *const verbs[] = {
  "standing", "sitting", "running", "parked",   "lying",
  "walking",  "flying",  "hanging", "sleeping", "playing",
};
static const char *const shops[] = {
  "BAKERY", "PHARMACY", "GROCERY", "CAFE", "BOOKSHOP", "HARDWARE", "BUTCHER", "KIOSK",
};

static const char *
pick (GRand *rand, const char *const *words, gsize n)
{
  /* Skewed: low indices are much more frequent, as in real captions. */
  double u = g_rand_double (rand);

  return words[(gsize) (u * u * n)];
}
#define PICK(rand, array) pick (rand, array, G_N_ELEMENTS (array))

static GalleryRun *
make_run (const char *task, char *json)
{
  GalleryRun *run = gallery_run_new ();
  g_autoptr (GError) error = NULL;
  gint32 ids[] = { 2, 0, 1000, 2000, 3000, 2 };

  run->task = g_strdup (task);
  run->model_name = g_strdup ("Florence-2-base");
  run->weights_hash = g_strdup ("5ca5edf5bd017b9919c05d08aebef5e4c7ac3bac");
  run->num_beams = 3;
  run->max_new_tokens = 1024;
  run->raw_text = g_strdup ("</s><s>generated</s>");
  run->token_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  g_array_append_vals (run->token_ids, ids, G_N_ELEMENTS (ids));
  run->result = json_from_string (json, &error);
  g_assert_no_error (error);
  run->timings = json_from_string ("{\"total\": 1.25}", NULL);
  g_free (json);
  return run;
}

static void
generate (GalleryStore *store, guint n_images)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  sqlite3 *db = gallery_store_get_db (store);
  sqlite3_stmt *image = NULL, *path = NULL;
  g_autoptr (GError) error = NULL;

  g_assert (sqlite3_prepare_v2 (db,
                                "INSERT INTO images (hash, size, width, height, "
                                "orientation, added) VALUES (?1, ?2, 4000, 3000, 1, ?3)",
                                -1, &image, NULL) == SQLITE_OK);
  g_assert (sqlite3_prepare_v2 (db,
                                "INSERT INTO image_paths (path, image_id, size, mtime, "
                                "seen) VALUES (?1, ?2, ?3, ?4, ?4)",
                                -1, &path, NULL) == SQLITE_OK);
  for (guint i = 0; i < n_images; i++)
    {
      g_autofree char *hash =
        g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) &i, sizeof i);
      g_autofree char *file =
        g_strdup_printf ("/home/ada/Pictures/%04u/%02u/IMG_%06u.jpg", 2010 + i % 15, 1 + i % 12, i);
      gint64 created = 1600000000 + (gint64) i * 600;
      gint64 id;
      g_autoptr (GalleryRun) caption = NULL;
      g_autoptr (GalleryRun) second = NULL;

      if (i % 1000 == 0)
        g_assert (gallery_store_begin (store, &error));
      sqlite3_bind_text (image, 1, hash, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (image, 2, 2000000 + i);
      sqlite3_bind_int64 (image, 3, created);
      g_assert (sqlite3_step (image) == SQLITE_DONE);
      sqlite3_reset (image);
      id = sqlite3_last_insert_rowid (db);
      sqlite3_bind_text (path, 1, file, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (path, 2, id);
      sqlite3_bind_int64 (path, 3, 2000000 + i);
      sqlite3_bind_int64 (path, 4, created);
      g_assert (sqlite3_step (path) == SQLITE_DONE);
      sqlite3_reset (path);

      caption = make_run ("<MORE_DETAILED_CAPTION>",
                          g_strdup_printf ("{\"<MORE_DETAILED_CAPTION>\": \"The image shows a %s "
                                           "%s %s next to a %s %s. In the background there is "
                                           "a %s %s and a %s.\"}",
                                           PICK (rand, adjectives), PICK (rand, nouns),
                                           PICK (rand, verbs), PICK (rand, adjectives),
                                           PICK (rand, nouns), PICK (rand, adjectives),
                                           PICK (rand, nouns), PICK (rand, nouns)));
      caption->created = created;
      g_assert (gallery_store_add_run (store, id, caption, &error) > 0);
      if (i % 4 == 0)
        second = make_run ("<OCR>", g_strdup_printf ("{\"<OCR>\": \"%s %s</s>RECEIPT NO %u "
                                                     "TOTAL %u.%02u EUR THANK YOU\"}",
                                                     PICK (rand, shops), PICK (rand, nouns), i,
                                                     g_rand_int_range (rand, 1, 200),
                                                     g_rand_int_range (rand, 0, 100)));
      else
        second = make_run ("<OD>", g_strdup_printf ("{\"<OD>\": {\"bboxes\": [[1,2,3,4],[5,6,7,8],"
                                                    "[9,10,11,12]], \"labels\": [\"%s\", \"%s\", "
                                                    "\"%s\"]}}",
                                                    PICK (rand, nouns), PICK (rand, nouns),
                                                    PICK (rand, nouns)));
      second->created = created;
      g_assert (gallery_store_add_run (store, id, second, &error) > 0);
      if (i % 1000 == 999 || i + 1 == n_images)
        g_assert (gallery_store_commit (store, &error));
    }
  g_assert_no_error (error);
  sqlite3_finalize (image);
  sqlite3_finalize (path);
}

static int
compare_doubles (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
measure (GalleryStore *store, const char *label, const GalleryQuery *query)
{
  enum { RUNS = 50 };
  double ms[RUNS], cpu[RUNS];
  guint hits = 0;

  for (int i = 0; i < RUNS; i++)
    {
      g_autoptr (GError) error = NULL;
      struct timespec c0, c1;
      gint64 t0 = g_get_monotonic_time ();
      g_autoptr (GPtrArray) result = NULL;

      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c0);
      result = gallery_search_run (store, query, &error);
      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &c1);
      ms[i] = (g_get_monotonic_time () - t0) / 1000.0;
      cpu[i] = (c1.tv_sec - c0.tv_sec) * 1e3 + (c1.tv_nsec - c0.tv_nsec) / 1e6;
      g_assert_no_error (error);
      hits = result->len;
    }
  qsort (ms, RUNS, sizeof ms[0], compare_doubles);
  qsort (cpu, RUNS, sizeof cpu[0], compare_doubles);
  /* Wall time depends on what else the machine does; CPU time is this query's own work. */
  printf ("  %-36s %3u hits  wall median %6.2f p95 %6.2f max %6.2f ms  cpu median %6.2f ms\n",
          label, hits, ms[RUNS / 2], ms[RUNS * 95 / 100], ms[RUNS - 1], cpu[RUNS / 2]);
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  guint n_images = argc > 1 ? (guint) atoi (argv[1]) : 50000;
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  g_autoptr (GError) error = NULL;
  GalleryStore *store;
  gint64 t0;
  GStatBuf st;

  if (n_images == 0)
    {
      g_printerr ("usage: bench-gallery-search [N_IMAGES] [DB_PATH]\n");
      return 2;
    }
  if (argc > 2)
    db = g_strdup (argv[2]);
  else
    {
      dir = g_dir_make_tmp ("depict-bench-gallery-XXXXXX", &error);
      g_assert_no_error (error);
      db = g_build_filename (dir, "gallery.db", NULL);
    }

  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  if (gallery_store_count_runs (store, NULL) == 0)
    {
      t0 = g_get_monotonic_time ();
      generate (store, n_images);
      printf ("generated %u images, %" G_GINT64_FORMAT " results in %.1f s\n", n_images,
              gallery_store_count_runs (store, NULL), (g_get_monotonic_time () - t0) / 1e6);
    }
  gallery_store_close (store);
  /* Measure on a freshly opened store, as a new search window would. */
  store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  if (g_stat (db, &st) == 0)
    printf ("database: %" G_GINT64_FORMAT " results, %.1f MB\n",
            gallery_store_count_runs (store, NULL), st.st_size / 1e6);
  printf ("search latency (SQLite %s, 50 runs each, first page of 50 hits):\n",
          sqlite3_libversion ());
  {
    g_autofree char *folder = g_strdup ("/home/ada/Pictures/2015");
    const struct {
      const char *label;
      GalleryQuery query;
    } cases[] = {
      { "common word: dog", { .text = "dog" } },
      { "two words: red car", { .text = "red car" } },
      { "rare: receipt from the bakery", { .text = "receipt from the bakery" } },
      { "one receipt number: 4240", { .text = "4240" } },
      { "search as you type: bak", { .text = "bak", .prefix_last = TRUE } },
      { "search as you type: sunny be", { .text = "sunny be", .prefix_last = TRUE } },
      { "hostile: \"dog* AND (", { .text = "\"dog* AND (" } },
      { "no match: zebra", { .text = "zebra" } },
      { "dog + tag cat", { .text = "dog", .tag = "cat" } },
      { "dog + task <OCR>", { .text = "dog", .task = "<OCR>" } },
      { "dog + folder 2015", { .text = "dog", .folder = folder } },
      { "dog + since 2021-01-01", { .text = "dog", .since = 1609459200 } },
      { "tag only: bicycle", { .tag = "bicycle" } },
      { "task only: <OCR>", { .task = "<OCR>" } },
      { "dog, page 20", { .text = "dog", .offset = 950 } },
    };

    for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
      measure (store, cases[i].label, &cases[i].query);
  }
  {
    gint64 t1 = g_get_monotonic_time ();
    g_autoptr (GPtrArray) images = gallery_store_list_images (store, NULL, &error);

    g_assert_no_error (error);
    printf ("listing the whole library (gallery view): %u images in %.1f ms\n", images->len,
            (g_get_monotonic_time () - t1) / 1000.0);
  }
  gallery_store_close (store);
  if (dir != NULL)
    {
      g_autofree char *wal = g_strconcat (db, "-wal", NULL);
      g_autofree char *shm = g_strconcat (db, "-shm", NULL);

      g_unlink (db);
      g_unlink (wal);
      g_unlink (shm);
      g_rmdir (dir);
    }
  return 0;
}
