/* test-gallery-confidence.c: tags carry the score of the result that proposed them; tagging
 * keeps only confident tags; search filters and ranks by it; XMP export writes only confident
 * tags; a gallery of schema 5 is migrated to 6 with its tags kept
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gexiv2/gexiv2.h>
#include <math.h>
#include <string.h>

#include "gallery/gallery-export.h"
#include "gallery/gallery-search.h"
#include "gallery/gallery-store-private.h"
#include "gallery-test-util.h"

typedef struct {
  char *dir;
  char *db;
  GalleryStore *store;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = gt_make_temp_dir ();
  f->db = g_build_filename (f->dir, "g.db", NULL);
  f->store = gallery_store_open (f->db, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->store, gallery_store_close);
  gt_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->db);
}

static gint64
add_photo (Fixture *f, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  gt_write_png (path, 16, 12, g_str_hash (name));
  gint64 id = gallery_store_add_image (f->store, path, NULL, &error);
  g_assert_no_error (error);
  return id;
}

/* An <OD> result in Depict's form with the given labels and scores (score < 0: none). */
static GalleryRun *
od_run (const char *const *labels, const double *scores, guint n, const char *task)
{
  g_autoptr (GString) json = g_string_new (NULL);
  g_string_append_printf (json,
                          "{\"version\": 2, \"task\": \"%s\", \"kind\": \"boxes\", "
                          "\"image_size\": [16, 12], \"bboxes\": [",
                          task);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (json, "%s[1, 2, 3, 4]", i > 0 ? ", " : "");
  g_string_append (json, "], \"labels\": [");
  for (guint i = 0; i < n; i++)
    g_string_append_printf (json, "%s\"%s\"", i > 0 ? ", " : "", labels[i]);
  g_string_append (json, "]");
  if (n > 0 && scores[0] >= 0)
    {
      g_string_append (json, ", \"scores\": [");
      for (guint i = 0; i < n; i++)
        g_string_append_printf (json, "%s%.3f", i > 0 ? ", " : "", scores[i]);
      g_string_append (json, "]");
    }
  g_string_append (json, "}");
  return gt_make_run (task, json->str);
}

static GalleryTag *
find_tag (GPtrArray *tags, const char *name)
{
  for (guint i = 0; i < tags->len; i++)
    if (strcmp (((GalleryTag *) g_ptr_array_index (tags, i))->name, name) == 0)
      return g_ptr_array_index (tags, i);
  return NULL;
}

static GPtrArray *
tags_of (Fixture *f, gint64 id)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *tags = gallery_store_list_tags (f->store, id, FALSE, &error);
  g_assert_no_error (error);
  return tags;
}

static void
test_tags_carry_scores (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id = add_photo (f, "a.png");
  const char *labels[] = { "car", "car", "dog", "tree" };
  const double scores[] = { 0.4, 0.9, 0.2, 0.6 };
  g_autoptr (GalleryRun) run = od_run (labels, scores, 4, "<OD>");

  /* a label's score is the best of its boxes; tags below the run's threshold are not kept */
  run->min_tag_score = 0.5;
  g_assert_cmpint (gallery_store_add_run (f->store, id, run, &error), >, 0);
  g_assert_no_error (error);
  g_autoptr (GPtrArray) tags = tags_of (f, id);
  g_assert_cmpuint (tags->len, ==, 2);
  g_assert_cmpfloat_with_epsilon (find_tag (tags, "car")->score, 0.9, 1e-6);
  g_assert_cmpfloat_with_epsilon (find_tag (tags, "tree")->score, 0.6, 1e-6);
  g_assert_null (find_tag (tags, "dog"));

  /* another run proposing "tree" more surely raises its score, a less sure one does not */
  const char *tree[] = { "tree" };
  const double sure[] = { 0.8 }, unsure[] = { 0.1 };
  g_autoptr (GalleryRun) dense = od_run (tree, sure, 1, "<DENSE_REGION_CAPTION>");
  g_assert_cmpint (gallery_store_add_run (f->store, id, dense, &error), >, 0);
  g_autoptr (GalleryRun) weak = od_run (tree, unsure, 1, "<OPEN_VOCABULARY_DETECTION>");
  g_assert_cmpint (gallery_store_add_run (f->store, id, weak, &error), >, 0);
  g_autoptr (GPtrArray) after = tags_of (f, id);
  g_assert_cmpfloat_with_epsilon (find_tag (after, "tree")->score, 0.8, 1e-6);

  /* the person's tags have no score and count as certain; a result without scores gives
   * tags without one */
  g_assert_true (gallery_store_add_tag (f->store, id, "Holiday", &error));
  const char *bus[] = { "bus" };
  const double none[] = { -1 };
  g_autoptr (GalleryRun) old = od_run (bus, none, 1, "<CAPTION_TO_PHRASE_GROUNDING>");
  old->min_tag_score = 0.99;
  g_assert_cmpint (gallery_store_add_run (f->store, id, old, &error), >, 0);
  g_autoptr (GPtrArray) all = tags_of (f, id);
  GalleryTag *holiday = find_tag (all, "holiday");
  g_assert_true (isnan (holiday->score));
  g_assert_cmpfloat (gallery_tag_confidence (holiday), ==, 1.0);
  g_assert_true (isnan (find_tag (all, "bus")->score));
  g_assert_cmpfloat_with_epsilon (gallery_tag_confidence (find_tag (all, "car")), 0.9, 1e-6);
}

static void
test_search (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 a = add_photo (f, "a.png"), b = add_photo (f, "b.png"), c = add_photo (f, "c.png");
  const char *la[] = { "red car", "dog" }, *lb[] = { "car" }, *lc[] = { "dog" };
  const double sa[] = { 0.3, 0.95 }, sb[] = { 0.7 }, sc[] = { 0.5 };
  g_autoptr (GalleryRun) ra = od_run (la, sa, 2, "<OD>");
  g_autoptr (GalleryRun) rb = od_run (lb, sb, 1, "<OD>");
  g_autoptr (GalleryRun) rc = od_run (lc, sc, 1, "<OD>");
  g_assert_cmpint (gallery_store_add_run (f->store, a, ra, &error), >, 0);
  g_assert_cmpint (gallery_store_add_run (f->store, b, rb, &error), >, 0);
  g_assert_cmpint (gallery_store_add_run (f->store, c, rc, &error), >, 0);
  g_autoptr (GalleryRun) caption =
    gt_make_run ("<CAPTION>", "{\"<CAPTION>\": \"A dog on a sofa.\"}");
  g_assert_cmpint (gallery_store_add_run (f->store, c, caption, &error), >, 0);

  /* "car": the photos with a tag holding the word, their confidence that tag's */
  GalleryQuery q = { .text = "car" };
  g_autoptr (GPtrArray) hits = gallery_search_run (f->store, &q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hits->len, ==, 2);
  for (guint i = 0; i < hits->len; i++)
    {
      GalleryHit *hit = g_ptr_array_index (hits, i);
      g_assert_cmpfloat_with_epsilon (hit->confidence, hit->image_id == a ? 0.3 : 0.7, 1e-6);
    }

  /* at least 0.5 sure of a car: b only */
  q.min_confidence = 0.5;
  g_autoptr (GPtrArray) sure = gallery_search_run (f->store, &q, &error);
  g_assert_cmpuint (sure->len, ==, 1);
  g_assert_cmpint (((GalleryHit *) g_ptr_array_index (sure, 0))->image_id, ==, b);

  /* ranked by confidence: the dog tag of a (0.95) before c (0.5) */
  GalleryQuery dog = { .tag = "dog", .order_by_confidence = TRUE };
  g_autoptr (GPtrArray) dogs = gallery_search_run (f->store, &dog, &error);
  g_assert_cmpuint (dogs->len, ==, 2);
  g_assert_cmpint (((GalleryHit *) g_ptr_array_index (dogs, 0))->image_id, ==, a);
  g_assert_cmpint (((GalleryHit *) g_ptr_array_index (dogs, 1))->image_id, ==, c);

  /* without words or tag: each photo's surest tag; all of them, surest first */
  GalleryQuery any = { .order_by_confidence = TRUE };
  g_autoptr (GPtrArray) ranked = gallery_search_run (f->store, &any, &error);
  g_assert_cmpuint (ranked->len, ==, 3);
  const gint64 order[] = { a, b, c };
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (((GalleryHit *) g_ptr_array_index (ranked, i))->image_id, ==, order[i]);

  /* a word no tag holds (only a caption): no confidence, so no photo passes a threshold */
  GalleryQuery red = { .text = "red", .prefix_last = TRUE };
  g_autoptr (GPtrArray) reds = gallery_search_run (f->store, &red, &error);
  g_assert_cmpuint (reds->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (((GalleryHit *) g_ptr_array_index (reds, 0))->confidence, 0.3,
                                  1e-6);
  GalleryQuery sofa = { .text = "sofa" };
  g_autoptr (GPtrArray) found = gallery_search_run (f->store, &sofa, &error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_true (isnan (((GalleryHit *) g_ptr_array_index (found, 0))->confidence));
  sofa.min_confidence = 0.1;
  g_autoptr (GPtrArray) none = gallery_search_run (f->store, &sofa, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (none->len, ==, 0);
}

static void
test_xmp_export (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id = add_photo (f, "p.png");
  const char *labels[] = { "cat", "lamp" };
  const double scores[] = { 0.9, 0.2 };
  g_autoptr (GalleryRun) run = od_run (labels, scores, 2, "<OD>");
  g_assert_cmpint (gallery_store_add_run (f->store, id, run, &error), >, 0);
  g_assert_true (gallery_store_add_tag (f->store, id, "mine", &error));

  guint written = 0;
  g_assert_true (gallery_export_xmp_confident (f->store, id, NULL, 0, 0.5, &written, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, 1);
  g_autofree char *photo = g_build_filename (f->dir, "p.png", NULL);
  g_autofree char *sidecar = gallery_export_sidecar_path (photo);
  g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
  gexiv2_metadata_open_path (metadata, sidecar, &error);
  g_assert_no_error (error);
  g_auto (GStrv) subject = gexiv2_metadata_try_get_tag_multiple (metadata, "Xmp.dc.subject", NULL);
  g_assert_nonnull (subject);
  g_assert_true (g_strv_contains ((const char *const *) subject, "cat"));
  g_assert_true (g_strv_contains ((const char *const *) subject, "mine"));
  g_assert_false (g_strv_contains ((const char *const *) subject, "lamp"));

  /* without a threshold, every tag */
  g_assert_true (gallery_export_xmp (f->store, id, 0, &written, &error));
  g_autoptr (GExiv2Metadata) again = gexiv2_metadata_new ();
  gexiv2_metadata_open_path (again, sidecar, &error);
  g_auto (GStrv) all = gexiv2_metadata_try_get_tag_multiple (again, "Xmp.dc.subject", NULL);
  g_assert_true (g_strv_contains ((const char *const *) all, "lamp"));
}

/* A gallery of schema 5 (before tags had scores) opens as 6 with its tags, which have none. */
static void
test_migration (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id = add_photo (f, "m.png");
  const char *labels[] = { "boat" };
  const double none[] = { -1 };
  g_autoptr (GalleryRun) run = od_run (labels, none, 1, "<OD>");
  g_assert_cmpint (gallery_store_add_run (f->store, id, run, &error), >, 0);
  g_clear_pointer (&f->store, gallery_store_close);
  gt_sqlite_exec_file (f->db, "ALTER TABLE tags DROP COLUMN score; PRAGMA user_version = 5;");

  f->store = gallery_store_open (f->db, &error);
  g_assert_no_error (error);
  gint64 version = 0;
  g_assert_true (gallery_store_query_int (f->store, "PRAGMA user_version", &version, &error));
  g_assert_cmpint (version, ==, 6);
  g_autoptr (GPtrArray) tags = tags_of (f, id);
  g_assert_cmpuint (tags->len, ==, 1);
  g_assert_cmpstr (((GalleryTag *) g_ptr_array_index (tags, 0))->name, ==, "boat");
  g_assert_true (isnan (((GalleryTag *) g_ptr_array_index (tags, 0))->score));

  /* and takes scores from then on */
  const double sure[] = { 0.75 };
  g_autoptr (GalleryRun) scored = od_run (labels, sure, 1, "<DENSE_REGION_CAPTION>");
  g_assert_cmpint (gallery_store_add_run (f->store, id, scored, &error), >, 0);
  g_autoptr (GPtrArray) after = tags_of (f, id);
  g_assert_cmpfloat_with_epsilon (((GalleryTag *) g_ptr_array_index (after, 0))->score, 0.75, 1e-6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/gallery/confidence/tags-carry-scores", Fixture, NULL, fixture_setup,
              test_tags_carry_scores, fixture_teardown);
  g_test_add ("/gallery/confidence/search", Fixture, NULL, fixture_setup, test_search,
              fixture_teardown);
  g_test_add ("/gallery/confidence/xmp-export", Fixture, NULL, fixture_setup, test_xmp_export,
              fixture_teardown);
  g_test_add ("/gallery/confidence/migration", Fixture, NULL, fixture_setup, test_migration,
              fixture_teardown);
  return g_test_run ();
}
