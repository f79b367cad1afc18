/* stress-gallery.c: the gallery under kill -9, a benchmark-style program (not a timed test)
 *
 * Four processes share one gallery: two taggers with overlapping inputs (the same photos in
 * another order), a searcher, and the app's store path (a store kept open as the gallery view
 * keeps it, a second one opened per run, runs replaced as a person re-runs a task, tags
 * added). The supervisor sends SIGKILL to one of them at random every 0.05–3 s and starts it
 * again, checking the database after each kill; at the end one tagger runs to completion.
 * It prints the kills, the runs stored, the runs lost (logged as stored by a process, not in
 * the gallery), duplicates, integrity failures and worker errors, and exits 1 unless the last
 * four are 0 and the gallery holds exactly the runs one tagger alone stores.
 *
 *   stress-gallery [--kills N] [--min-ms MS] [--max-ms MS] [--seed S] [--keep DIR]
 *
 * The test suite runs a short version (10 kills); 100 kills is the full one
 * (tests/bench/PERFORMANCE.md).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gallery/gallery-search.h"
#include "gallery/gallery-store.h"
#include "gallery/gallery-tagger.h"
#include "gallery-test-util.h"

#define N_PHOTOS 24
static const char *const tasks[] = { "<CAPTION>", "<OD>", NULL };
#define N_TASKS 2
static const int settings[] = { 16, 32, 48 }; /* max_new_tokens of successive passes */
#define N_SETTINGS 3

enum { ROLE_TAGGER_A, ROLE_TAGGER_B, ROLE_SEARCHER, ROLE_APP, N_ROLES };
static const char *const role_names[] = { "tagger-a", "tagger-b", "searcher", "app" };

/* ------------------------------------------------------------------------------------------ */
/* The workers                                                                                 */

static FILE *log_file;

static void
log_line (const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  vfprintf (log_file, format, ap);
  va_end (ap);
  fflush (log_file);
}

static GalleryRun *
fake_run (const char *image_path, const char *task, const char *text_input, gpointer user_data,
          GCancellable *cancellable, GError **error)
{
  g_autofree char *base = g_path_get_basename (image_path);
  g_autofree char *json = NULL;

  g_usleep (2000 + g_random_int_range (0, 6000)); /* the model's time, shortened */
  if (strcmp (task, "<OD>") == 0)
    json =
      g_strdup_printf ("{\"<OD>\": {\"bboxes\": [[1,2,3,4]], \"labels\": [\"lamp %s\"]}}", base);
  else
    json = g_strdup_printf ("{\"%s\": \"A lighthouse seen in %s.\"}", task, base);
  return gt_make_run (task, json);
}

typedef struct {
  int max_new_tokens;
} TaggerState;

static void
tagger_progress (const GalleryTaggerProgress *progress, gpointer user_data)
{
  TaggerState *state = user_data;

  /* Every task of this photo is stored (or was already) with these settings. */
  if (progress->current_path != NULL)
    log_line ("done\t%s\t%d\n", progress->current_path, state->max_new_tokens);
}

static GalleryTaggerOptions
tagger_options (TaggerState *state)
{
  GalleryTaggerOptions options = {
    .model_name = "florence-2-test",
    .weights_hash = "0123abcd",
    .num_beams = 3,
    .max_new_tokens = state->max_new_tokens,
    .tasks = tasks,
    .run_func = fake_run,
    .progress_func = tagger_progress,
    .progress_data = state,
  };

  return options;
}

static int
run_tagger (const char *db, const char *photos, gboolean other_order)
{
  g_autofree char *second = g_build_filename (photos, "b", NULL);
  const char *order_a[] = { photos, NULL };
  const char *order_b[] = { second, photos, NULL };

  for (guint pass = 0;; pass++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
      TaggerState state = { settings[pass % N_SETTINGS] };
      GalleryTaggerOptions options = tagger_options (&state);
      GalleryTaggerSummary summary = { 0 };

      options.recursive = TRUE;
      if (store == NULL || !gallery_tagger_run (store, &options, other_order ? order_b : order_a,
                                                &summary, NULL, &error))
        log_line ("error\t%s\n", error->message);
      else if (summary.failed > 0)
        log_line ("error\t%u photos failed\n", summary.failed);
      gallery_tagger_summary_clear (&summary);
      g_usleep (20000);
    }
  return 0;
}

static int
run_searcher (const char *db)
{
  static const char *const words[] = { "lighthouse", "lamp", "p07", "seen in", "nothing" };

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GalleryStore) store =
        gallery_store_open_full (db, GALLERY_STORE_READ_ONLY, &error);
      GalleryQuery query = { .text = words[g_random_int_range (0, G_N_ELEMENTS (words))],
                             .prefix_last = TRUE };
      g_autoptr (GPtrArray) hits = NULL;
      g_autoptr (GPtrArray) images = NULL;

      /* Before the first tagger created the gallery, there is nothing to search. */
      if (store == NULL &&
          g_error_matches (error, GALLERY_STORE_ERROR, GALLERY_STORE_ERROR_NOT_FOUND))
        {
          g_usleep (20000);
          continue;
        }
      if (store == NULL || (hits = gallery_search_run (store, &query, &error)) == NULL ||
          (images = gallery_store_list_images (store, NULL, &error)) == NULL)
        log_line ("error\t%s\n", error->message);
      g_usleep (5000);
    }
  return 0;
}

/* The app: the gallery view's store stays open; each run opens the gallery again (as the app
 * stores a run), replaces the run a person re-ran, and adds a tag now and then. */
static int
run_app (const char *db, const char *photos)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) view = NULL;
  guint serial = g_random_int ();

  while ((view = gallery_store_open (db, &error)) == NULL)
    {
      log_line ("error\t%s\n", error->message);
      g_clear_error (&error);
      g_usleep (100000);
    }
  for (;;)
    {
      g_autoptr (GalleryStore) store = gallery_store_open (db, &error);
      g_autofree char *name =
        g_strdup_printf ("%s/%s/p%02d.png", photos, g_random_boolean () ? "a" : "b",
                         g_random_int_range (0, N_PHOTOS / 2));
      const char *task = tasks[g_random_int_range (0, N_TASKS)];
      int tokens = settings[g_random_int_range (0, N_SETTINGS)];
      gint64 image_id;

      if (!g_file_test (name, G_FILE_TEST_EXISTS)) /* p12… live in b/ only */
        continue;
      if (store != NULL && (image_id = gallery_store_add_image (store, name, NULL, &error)) > 0)
        {
          g_autoptr (GalleryRun) run = fake_run (name, task, NULL, NULL, NULL, NULL);

          g_free (run->model_name);
          run->model_name = g_strdup ("base"); /* the app names the model its own way */
          run->max_new_tokens = tokens;
          if (gallery_store_add_run (store, image_id, run, &error) > 0)
            log_line ("run\t%s\t%s\t%d\n", name, task, tokens);
          if (serial++ % 7 == 0)
            {
              g_autofree char *tag = g_strdup_printf ("app-%u", serial);

              if (gallery_store_add_tag (store, image_id, tag, &error))
                log_line ("tag\t%s\t%s\n", name, tag);
            }
        }
      if (error != NULL)
        {
          log_line ("error\t%s\n", error->message);
          g_clear_error (&error);
        }
      {
        g_autoptr (GPtrArray) images = gallery_store_list_images (view, NULL, &error);

        if (images == NULL)
          {
            log_line ("error\t%s\n", error->message);
            g_clear_error (&error);
          }
      }
      g_usleep (10000);
    }
  return 0;
}

static int
run_role (int role, const char *db, const char *photos, const char *log_path)
{
  log_file = fopen (log_path, "a");
  if (log_file == NULL)
    return 3;
  switch (role)
    {
    case ROLE_TAGGER_A:
      return run_tagger (db, photos, FALSE);
    case ROLE_TAGGER_B:
      return run_tagger (db, photos, TRUE);
    case ROLE_SEARCHER:
      return run_searcher (db);
    default:
      return run_app (db, photos);
    }
}

/* ------------------------------------------------------------------------------------------ */
/* The supervisor                                                                              */

typedef struct {
  char *self;
  char *db;
  char *photos;
  char *logs[N_ROLES];
  GPid pids[N_ROLES];
  guint worker_exits; /* workers that ended by themselves: they never should */
} Supervisor;

static void
start (Supervisor *sv, int role)
{
  g_autofree char *role_arg = g_strdup_printf ("%d", role);
  const char *argv[] = { sv->self, "--role", role_arg, sv->db, sv->photos, sv->logs[role], NULL };
  g_autoptr (GError) error = NULL;

  g_spawn_async (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &sv->pids[role],
                 &error);
  if (error != NULL)
    g_error ("Could not start %s: %s", role_names[role], error->message);
}

static void
stop (Supervisor *sv, int role)
{
  int status;

  kill (sv->pids[role], SIGKILL);
  waitpid (sv->pids[role], &status, 0);
  if (!WIFSIGNALED (status))
    sv->worker_exits++;
  g_spawn_close_pid (sv->pids[role]);
}

/* 1 when the database does not pass PRAGMA integrity_check (read in a connection of this
 * process, while the workers go on). */
static int
integrity_failures (const char *db)
{
  sqlite3 *conn = NULL;
  sqlite3_stmt *stmt = NULL;
  int failures = 0;

  if (!g_file_test (db, G_FILE_TEST_EXISTS))
    return 0;
  if (sqlite3_open_v2 (db, &conn, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
    failures = 1;
  else
    {
      sqlite3_busy_timeout (conn, 10000);
      if (sqlite3_prepare_v2 (conn, "PRAGMA integrity_check", -1, &stmt, NULL) != SQLITE_OK ||
          sqlite3_step (stmt) != SQLITE_ROW ||
          g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "ok") != 0)
        {
          g_printerr ("integrity: %s\n", stmt != NULL ? (const char *) sqlite3_column_text (stmt, 0)
                                                      : sqlite3_errmsg (conn));
          failures = 1;
        }
    }
  sqlite3_finalize (stmt);
  sqlite3_close (conn);
  return failures;
}

static gint64
query_int (sqlite3 *conn, const char *sql, const char *a, const char *b, int n)
{
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  if (sqlite3_prepare_v2 (conn, sql, -1, &stmt, NULL) == SQLITE_OK)
    {
      if (a != NULL)
        sqlite3_bind_text (stmt, 1, a, -1, SQLITE_TRANSIENT);
      if (b != NULL)
        sqlite3_bind_text (stmt, 2, b, -1, SQLITE_TRANSIENT);
      if (n >= 0)
        sqlite3_bind_int (stmt, 3, n);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        value = sqlite3_column_int64 (stmt, 0);
    }
  sqlite3_finalize (stmt);
  return value;
}

static const char sql_run_at_path[] =
  "SELECT count(*) FROM runs r JOIN image_paths p ON p.image_id = r.image_id"
  " WHERE p.path = ?1 AND r.task = ?2 AND r.max_new_tokens = ?3";
static const char sql_tag_at_path[] =
  "SELECT count(*) FROM tags t JOIN image_paths p ON p.image_id = t.image_id"
  " WHERE p.path = ?1 AND t.name = ?2 AND t.removed = 0";

/* What the logs say was stored and the gallery lacks; worker errors. */
static void
check_logs (Supervisor *sv, sqlite3 *conn, guint *out_checked, guint *out_lost, guint *out_errors)
{
  *out_checked = *out_lost = *out_errors = 0;
  for (int role = 0; role < N_ROLES; role++)
    {
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (sv->logs[role], &text, NULL, NULL))
        continue;
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_auto (GStrv) f = g_strsplit (lines[i], "\t", -1);
          guint n = g_strv_length (f);

          if (n >= 2 && strcmp (f[0], "error") == 0)
            {
              g_printerr ("%s: %s\n", role_names[role], f[1]);
              (*out_errors)++;
            }
          else if (n == 3 && strcmp (f[0], "done") == 0)
            for (guint t = 0; tasks[t] != NULL; t++)
              {
                (*out_checked)++;
                if (query_int (conn, sql_run_at_path, f[1], tasks[t], atoi (f[2])) != 1)
                  (*out_lost)++;
              }
          else if (n == 4 && strcmp (f[0], "run") == 0)
            {
              (*out_checked)++;
              if (query_int (conn, sql_run_at_path, f[1], f[2], atoi (f[3])) != 1)
                (*out_lost)++;
            }
          else if (n == 3 && strcmp (f[0], "tag") == 0)
            {
              (*out_checked)++;
              if (query_int (conn, sql_tag_at_path, f[1], f[2], -1) != 1)
                (*out_lost)++;
            }
        }
    }
}

int
main (int argc, char **argv)
{
  int kills = 100, min_ms = 50, max_ms = 3000;
  gint64 seed = 0;
  g_autofree char *keep = NULL;
  GOptionEntry entries[] = {
    { "kills", 'k', 0, G_OPTION_ARG_INT, &kills, "SIGKILLs to send (default 100)", "N" },
    { "min-ms", 0, 0, G_OPTION_ARG_INT, &min_ms, "Shortest wait before a kill (default 50)", "MS" },
    { "max-ms", 0, 0, G_OPTION_ARG_INT, &max_ms, "Longest wait before a kill (default 3000)",
      "MS" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Random seed (default: from the time)", "S" },
    { "keep", 0, 0, G_OPTION_ARG_FILENAME, &keep, "Work in DIR and keep it", "DIR" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = NULL;
  Supervisor sv = { 0 };
  g_autofree char *dir = NULL;
  g_autofree char *loadavg = NULL;
  guint integrity = 0, checked = 0, lost = 0, errors = 0;
  gint64 start_us, runs = 0, duplicates = 0, final_runs = 0;
  sqlite3 *conn = NULL;
  gboolean ok;

  if (argc == 6 && strcmp (argv[1], "--role") == 0)
    return run_role (atoi (argv[2]), argv[3], argv[4], argv[5]);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, "The gallery under kill -9 (see the top of the source).");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (kills < 0 || min_ms < 1 || max_ms < min_ms)
    {
      g_printerr ("stress-gallery: --kills must be 0 or more and --min-ms at most --max-ms\n");
      return 2;
    }
  if (seed == 0)
    seed = g_get_real_time ();
  rand = g_rand_new_with_seed ((guint32) seed);
  if (keep != NULL)
    {
      g_mkdir_with_parents (keep, 0700);
      dir = g_canonicalize_filename (keep, NULL);
    }
  else
    dir = gt_make_temp_dir ();

  sv.self = g_file_read_link ("/proc/self/exe", NULL);
  sv.db = g_build_filename (dir, "gallery.db", NULL);
  sv.photos = g_build_filename (dir, "photos", NULL);
  /* photos/a: p00–p11; photos/b: p00–p23 (the first twelve the same pixels as a's, a copy of
   * a folder: the same photos). The taggers walk them in two orders. */
  for (int i = 0; i < N_PHOTOS; i++)
    {
      g_autofree char *b = g_strdup_printf ("%s/b/p%02d.png", sv.photos, i);
      g_autofree char *sub = g_path_get_dirname (b);

      g_mkdir_with_parents (sub, 0700);
      gt_write_png (b, 24, 16, (guint) i + 1);
      if (i < N_PHOTOS / 2)
        {
          g_autofree char *a = g_strdup_printf ("%s/a/p%02d.png", sv.photos, i);
          g_autofree char *sub_a = g_path_get_dirname (a);

          g_mkdir_with_parents (sub_a, 0700);
          gt_copy_file (b, a);
        }
    }
  for (int role = 0; role < N_ROLES; role++)
    sv.logs[role] = g_strdup_printf ("%s/%s.log", dir, role_names[role]);

  start_us = g_get_monotonic_time ();
  for (int role = 0; role < N_ROLES; role++)
    start (&sv, role);
  for (int k = 0; k < kills; k++)
    {
      int role = g_rand_int_range (rand, 0, N_ROLES);

      g_usleep ((gulong) g_rand_int_range (rand, min_ms, max_ms + 1) * 1000);
      stop (&sv, role);
      integrity += integrity_failures (sv.db);
      start (&sv, role);
    }
  for (int role = 0; role < N_ROLES; role++)
    stop (&sv, role);
  integrity += integrity_failures (sv.db);

  g_assert_cmpint (sqlite3_open_v2 (sv.db, &conn, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  runs = query_int (conn, "SELECT count(*) FROM runs", NULL, NULL, -1);
  duplicates = query_int (conn,
                          "SELECT count(*) FROM (SELECT 1 FROM runs GROUP BY image_id, task,"
                          " text_input, weights_hash, num_beams, max_new_tokens"
                          " HAVING count(*) > 1)",
                          NULL, NULL, -1);
  check_logs (&sv, conn, &checked, &lost, &errors);
  sqlite3_close (conn);

  /* One tagger alone finishes the work: the gallery then holds exactly what it stores. */
  {
    g_autoptr (GalleryStore) store = gallery_store_open (sv.db, &error);
    const char *args[] = { sv.photos, NULL };

    g_assert_no_error (error);
    for (int s = 0; s < N_SETTINGS; s++)
      {
        TaggerState state = { settings[s] };
        GalleryTaggerOptions options = tagger_options (&state);
        GalleryTaggerSummary summary = { 0 };

        options.recursive = TRUE;
        options.progress_func = NULL;
        if (!gallery_tagger_run (store, &options, args, &summary, NULL, &error))
          g_error ("The last tagger failed: %s", error->message);
        gallery_tagger_summary_clear (&summary);
      }
    final_runs = gallery_store_count_runs (store, &error);
  }
  integrity += integrity_failures (sv.db);
  g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL);

  printf ("stress-gallery: seed %" G_GINT64_FORMAT ", %d kills at %d-%d ms, %.0f s, load %s", seed,
          kills, min_ms, max_ms, (g_get_monotonic_time () - start_us) / 1e6,
          loadavg != NULL ? loadavg : "?\n");
  printf ("  kills               %d\n", kills);
  printf ("  runs stored         %" G_GINT64_FORMAT " (before the last tagger), %" G_GINT64_FORMAT
          " after it; %d expected\n",
          runs, final_runs, N_PHOTOS * N_TASKS * N_SETTINGS);
  printf ("  logged, checked     %u\n", checked);
  printf ("  runs lost           %u\n", lost);
  printf ("  duplicates          %" G_GINT64_FORMAT "\n", duplicates);
  printf ("  integrity failures  %u\n", integrity);
  printf ("  worker errors       %u\n", errors + sv.worker_exits);
  ok = lost == 0 && duplicates == 0 && integrity == 0 && errors == 0 && sv.worker_exits == 0 &&
       final_runs == N_PHOTOS * N_TASKS * N_SETTINGS;
  if (keep == NULL && ok)
    gt_remove_tree (dir);
  return ok ? 0 : 1;
}
