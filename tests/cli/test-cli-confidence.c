/* test-cli-confidence.c: depict-cli tag, tags, search and export with the model's scores, end
 * to end with the tiny fixture model on the CPU reference: a tag carries the score of the
 * result that proposed it, tag --min-confidence keeps only the tags above it (the results stay
 * whole), search --min-confidence and --by-confidence filter and rank by it, export --xmp
 * --min-confidence writes only the tags above it; a confidence that is not one is refused
 *
 * Usage (from meson): test-cli-confidence
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli-test-util.h"

#define N_PHOTOS 2

static char *work_dir;
static char *photos[N_PHOTOS];

static char *
data_path (const char *rel)
{
  return g_build_filename (g_getenv ("DEPICT_TEST_DATA"), rel, NULL);
}

/* The region-to-category task answers with one category: one tag per photo, with the score of
 * the whole answer. */
static CliTestResult
tag (const char *db, const char *min_confidence)
{
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  const char *args[] = { "tag",
                         "--model",
                         model,
                         "--tokenizer",
                         tokenizer,
                         "--device",
                         "cpu-reference",
                         "--tasks",
                         "region_to_category",
                         "--text",
                         "<loc_100><loc_100><loc_500><loc_500>",
                         "--max-new-tokens",
                         "8",
                         "--quiet",
                         "--db",
                         db,
                         photos[0],
                         photos[1],
                         min_confidence != NULL ? "--min-confidence" : NULL,
                         min_confidence,
                         NULL };
  return cli_test_run (args, NULL, NULL);
}

static JsonObject *
first_object (GPtrArray *lines)
{
  g_assert_cmpuint (lines->len, >=, 1);
  return json_node_get_object (g_ptr_array_index (lines, 0));
}

/* The tags of PHOTO in DB (depict-cli tags --json). */
static JsonArray *
tags_of (const char *db, const char *photo, GPtrArray **keep)
{
  g_auto (CliTestResult) r = cli_test_run_va ("tags", "--json", "--db", db, photo, NULL);
  g_assert_cmpint (r.status, ==, 0);
  *keep = cli_test_json_lines (r.out);
  return json_object_get_array_member (first_object (*keep), "tags");
}

/* The score of the stored region-to-category result of PHOTO (depict-cli show --json). */
static double
result_score (const char *db, const char *photo)
{
  g_auto (CliTestResult) r = cli_test_run_va ("show", "--json", "--db", db, photo, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_autoptr (GPtrArray) lines = cli_test_json_lines (r.out);
  JsonArray *runs = json_object_get_array_member (first_object (lines), "runs");
  g_assert_cmpuint (json_array_get_length (runs), ==, 1);
  JsonObject *result =
    json_object_get_object_member (json_array_get_object_element (runs, 0), "result");
  g_assert_true (json_object_has_member (result, "score"));
  return json_object_get_double_member (result, "score");
}

static GStrv
xmp_subjects (const char *photo)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *sidecar = g_strconcat (photo, ".xmp", NULL);
  g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();

  gexiv2_metadata_open_path (metadata, sidecar, &error);
  g_assert_no_error (error);
  GStrv subjects = gexiv2_metadata_try_get_tag_multiple (metadata, "Xmp.dc.subject", NULL);
  return subjects != NULL ? subjects : g_new0 (char *, 1);
}

static void
test_scores_everywhere (void)
{
  g_autofree char *all_db = g_build_filename (work_dir, "all.db", NULL);
  g_autofree char *sure_db = g_build_filename (work_dir, "sure.db", NULL);
  double score[N_PHOTOS];
  char *name[N_PHOTOS] = { NULL };

  /* every tag kept, each with the score of the answer that proposed it */
  {
    g_auto (CliTestResult) r = tag (all_db, NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  for (guint i = 0; i < N_PHOTOS; i++)
    {
      g_autoptr (GPtrArray) keep = NULL;
      JsonArray *tags = tags_of (all_db, photos[i], &keep);
      g_assert_cmpuint (json_array_get_length (tags), ==, 1);
      JsonObject *t = json_array_get_object_element (tags, 0);
      g_assert_cmpstr (json_object_get_string_member (t, "source"), ==, "label");
      score[i] = json_object_get_double_member (t, "score");
      g_assert_cmpfloat (score[i], >, 0.0);
      g_assert_cmpfloat (score[i], <=, 1.0);
      g_assert_cmpfloat_with_epsilon (score[i], result_score (all_db, photos[i]), 1e-6);
      name[i] = g_strdup (json_object_get_string_member (t, "name"));
    }
  g_assert_cmpfloat (score[0], !=, score[1]);
  guint hi = score[0] > score[1] ? 0 : 1, lo = 1 - hi;
  g_autofree char *between = g_strdup_printf ("%.9f", (score[0] + score[1]) / 2);

  /* tag --min-confidence: the less sure tag is not kept, both results are */
  {
    g_auto (CliTestResult) r = tag (sure_db, between);
    g_assert_cmpint (r.status, ==, 0);
  }
  g_autoptr (GPtrArray) keep_hi = NULL, keep_lo = NULL;
  JsonArray *tags_hi = tags_of (sure_db, photos[hi], &keep_hi);
  g_assert_cmpuint (json_array_get_length (tags_hi), ==, 1);
  g_assert_cmpstr (
    json_object_get_string_member (json_array_get_object_element (tags_hi, 0), "name"), ==,
    name[hi]);
  g_assert_cmpuint (json_array_get_length (tags_of (sure_db, photos[lo], &keep_lo)), ==, 0);
  g_assert_cmpfloat_with_epsilon (result_score (sure_db, photos[lo]), score[lo], 1e-6);

  /* search --by-confidence: the surer photo first, each with its confidence */
  {
    g_auto (CliTestResult) r = cli_test_run_va ("search", "--json", "--by-confidence", "--folder",
                                                work_dir, "--db", all_db, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_autoptr (GPtrArray) hits = cli_test_json_lines (r.out);
    g_assert_cmpuint (hits->len, ==, N_PHOTOS);
    for (guint i = 0; i < N_PHOTOS; i++)
      {
        JsonObject *hit = json_node_get_object (g_ptr_array_index (hits, i));
        guint want = i == 0 ? hi : lo;
        g_assert_cmpstr (json_object_get_string_member (hit, "path"), ==, photos[want]);
        g_assert_cmpfloat_with_epsilon (json_object_get_double_member (hit, "confidence"),
                                        score[want], 1e-6);
      }
  }
  /* search --min-confidence alone is a filter: the surer photo only */
  {
    g_auto (CliTestResult) r =
      cli_test_run_va ("search", "--json", "--min-confidence", between, "--db", all_db, NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_autoptr (GPtrArray) hits = cli_test_json_lines (r.out);
    g_assert_cmpuint (hits->len, ==, 1);
    g_assert_cmpstr (json_object_get_string_member (first_object (hits), "path"), ==, photos[hi]);
  }

  /* export --xmp --min-confidence: only the surer tag is written */
  {
    g_auto (CliTestResult) r =
      cli_test_run_va ("export", "--xmp", "--min-confidence", between, "--db", all_db, NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  g_auto (GStrv) subjects_hi = xmp_subjects (photos[hi]);
  g_auto (GStrv) subjects_lo = xmp_subjects (photos[lo]);
  g_assert_true (g_strv_contains ((const char *const *) subjects_hi, name[hi]));
  g_assert_false (g_strv_contains ((const char *const *) subjects_lo, name[lo]));
  /* and with 0 every tag */
  {
    g_auto (CliTestResult) r =
      cli_test_run_va ("export", "--xmp", "--min-confidence", "0%", "--db", all_db, NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  g_auto (GStrv) subjects_all = xmp_subjects (photos[lo]);
  g_assert_true (g_strv_contains ((const char *const *) subjects_all, name[lo]));
  for (guint i = 0; i < N_PHOTOS; i++)
    g_free (name[i]);
}

static void
test_refused (void)
{
  g_autofree char *db = g_build_filename (work_dir, "refused.db", NULL);
  const char *bad[] = { "1.5", "-0.1", "sure", "80%%", "" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_auto (CliTestResult) t = tag (db, bad[i]);
      g_assert_cmpint (t.status, ==, 2);
      g_assert_nonnull (strstr (t.err, "is not a confidence"));
      g_auto (CliTestResult) s =
        cli_test_run_va ("search", "--min-confidence", bad[i], "--db", db, "cat", NULL);
      g_assert_cmpint (s.status, ==, 2);
      g_assert_nonnull (strstr (s.err, "is not a confidence"));
    }
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
  g_auto (CliTestResult) e =
    cli_test_run_va ("export", "--json", "--min-confidence", "0.5", "--db", db, NULL);
  g_assert_cmpint (e.status, ==, 2);
  g_assert_nonnull (strstr (e.err, "--min-confidence goes with --xmp"));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  work_dir = g_dir_make_tmp ("depict-cli-confidence-XXXXXX", &error);
  g_assert_no_error (error);
  const char *fixtures[N_PHOTOS] = { "preprocess/images/photo_640x480.png",
                                     "preprocess/images/gray_320x200.png" };
  for (guint i = 0; i < N_PHOTOS; i++)
    {
      g_autofree char *from = data_path (fixtures[i]);
      g_autofree char *contents = NULL;
      gsize length = 0;
      g_file_get_contents (from, &contents, &length, &error);
      g_assert_no_error (error);
      photos[i] = g_strdup_printf ("%s/p%u.png", work_dir, i);
      g_file_set_contents (photos[i], contents, length, &error);
      g_assert_no_error (error);
    }
  g_test_add_func ("/cli/confidence/scores-everywhere", test_scores_everywhere);
  g_test_add_func ("/cli/confidence/refused", test_refused);
  status = g_test_run ();

  g_autofree char *rm = g_strdup_printf ("rm -rf '%s'", work_dir);
  if (system (rm) != 0)
    g_warning ("could not remove %s", work_dir);
  return status;
}
