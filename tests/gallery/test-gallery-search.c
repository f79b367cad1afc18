/* test-gallery-search.c: full-text search: ranking, snippets, safe query syntax, prefixes,
 * filters by tag, task, date and folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "gallery/gallery-search.h"
#include "gallery/gallery-store-private.h"
#include "gallery-test-util.h"

typedef struct {
  char *dir;
  GalleryStore *store;
  gint64 a, b, c, d; /* receipt, dog on a beach, cat (2020), dog show */
} Fixture;

static gint64
add (Fixture *f, const char *rel, const char *task, const char *json, gint64 created)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);
  g_autoptr (GalleryRun) run = gt_make_run (task, json);
  gint64 id;

  g_mkdir_with_parents (parent, 0700);
  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    gt_write_png (path, 16, 12, g_str_hash (rel)); /* distinct pixels per file */
  id = gallery_store_add_image (f->store, path, NULL, &error);
  g_assert_no_error (error);
  run->created = created;
  g_assert_cmpint (gallery_store_add_run (f->store, id, run, &error), >, 0);
  g_assert_no_error (error);
  return id;
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;
  const gint64 y2023 = 1690000000, y2020 = 1590000000;

  f->dir = gt_make_temp_dir ();
  db = g_build_filename (f->dir, "g.db", NULL);
  f->store = gallery_store_open (db, &error);
  g_assert_no_error (error);
  f->a =
    add (f, "receipts/a.jpg", "<OCR>", "{\"<OCR>\": \"BAKERY Müller</s>Total 3.50 EUR\"}", y2023);
  add (f, "receipts/a.jpg", "<CAPTION>", "{\"<CAPTION>\": \"A receipt on a table.\"}", y2023);
  f->b = add (f, "pets/b.jpg", "<CAPTION>",
              "{\"<CAPTION>\": \"A brown dog running on the beach.\"}", y2023);
  add (f, "pets/b.jpg", "<OD>",
       "{\"<OD>\": {\"bboxes\": [[1,2,3,4],[1,2,3,4]], \"labels\": [\"dog\", \"frisbee\"]}}",
       y2023);
  f->c =
    add (f, "pets/c.jpg", "<CAPTION>", "{\"<CAPTION>\": \"A cat sleeping on a sofa.\"}", y2020);
  f->d = add (f, "other/d.jpg", "<CAPTION>",
              "{\"<CAPTION>\": \"Dogs, dog, dog: a dog show with a dog and a dog.\"}", y2023);
  g_assert_true (gallery_store_add_tag (f->store, f->b, "Holiday", &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  gallery_store_close (f->store);
  gt_remove_tree (f->dir);
  g_free (f->dir);
}

static GPtrArray *
search (Fixture *f, const GalleryQuery *query)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *hits = gallery_search_run (f->store, query, &error);

  g_assert_no_error (error);
  g_assert_nonnull (hits);
  return hits;
}

static gint64
hit_id (GPtrArray *hits, guint i)
{
  return ((GalleryHit *) g_ptr_array_index (hits, i))->image_id;
}

static gboolean
hits_contain (GPtrArray *hits, gint64 id)
{
  for (guint i = 0; i < hits->len; i++)
    if (hit_id (hits, i) == id)
      return TRUE;
  return FALSE;
}

static void
test_build_match (void)
{
  struct {
    const char *text;
    gboolean prefix;
    const char *expected;
  } cases[] = {
    { "dog", FALSE, "\"dog\"" },
    { "receipt from the bakery", FALSE, "\"receipt\" \"bakery\"" },
    { "the", FALSE, "\"the\"" },
    { "say \"hi\"", FALSE, "\"say\" \"\"\"hi\"\"\"" },
    { "*", FALSE, NULL },
    { "  \t ", FALSE, NULL },
    { "\" * ( ) :", TRUE, NULL },
    { "bak", TRUE, "\"bak\"*" },
    { "dog ", TRUE, "\"dog\"" },
    { "dog th", TRUE, "\"dog\" \"th\"*" },
    { "NEAR(dog", FALSE, "\"NEAR(dog\"" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *match = gallery_search_build_match (cases[i].text, cases[i].prefix);

      g_assert_cmpstr (match, ==, cases[i].expected);
    }
  g_assert_null (gallery_search_build_match (NULL, TRUE));
}

static void
test_text_in_photo (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) hits = NULL;
  GalleryQuery q = { .text = "receipt from the bakery" };
  GalleryHit *hit;

  hits = search (f, &q);
  g_assert_cmpuint (hits->len, ==, 1);
  hit = g_ptr_array_index (hits, 0);
  g_assert_cmpint (hit->image_id, ==, f->a);
  g_assert_true (g_str_has_suffix (hit->path, "/receipts/a.jpg"));
  g_assert_cmpuint (strlen (hit->hash), ==, 64);
  g_assert_cmpstr (hit->caption, ==, "A receipt on a table.");
  g_assert_cmpfloat (hit->score, <, 0); /* bm25: lower is better */
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* Snippets mark the matched words as they were written; diacritics fold. */
  q.text = "muller";
  hits = search (f, &q);
  g_assert_cmpuint (hits->len, ==, 1);
  hit = g_ptr_array_index (hits, 0);
  g_assert_nonnull (strstr (hit->snippet, "[Müller]"));
  g_assert_null (strstr (hit->snippet, "</s>"));
  g_clear_pointer (&hits, g_ptr_array_unref);

  q.text = "bakery";
  q.mark_open = "<b>";
  q.mark_close = "</b>";
  hits = search (f, &q);
  g_assert_nonnull (
    strstr (((GalleryHit *) g_ptr_array_index (hits, 0))->snippet, "<b>BAKERY</b>"));
}

static void
test_ranking (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) hits = NULL;
  GalleryQuery q = { .text = "dog" };

  hits = search (f, &q);
  g_assert_cmpuint (hits->len, ==, 2);
  g_assert_cmpint (hit_id (hits, 0), ==, f->d); /* "dog" many times */
  g_assert_cmpint (hit_id (hits, 1), ==, f->b);
  g_assert_cmpfloat (((GalleryHit *) g_ptr_array_index (hits, 0))->score, <=,
                     ((GalleryHit *) g_ptr_array_index (hits, 1))->score);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* Paging. */
  q.limit = 1;
  q.offset = 1;
  hits = search (f, &q);
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_id (hits, 0), ==, f->b);
}

static void
test_prefix (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) hits = NULL;
  GalleryQuery q = { .text = "bak" };

  hits = search (f, &q);
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);
  q.prefix_last = TRUE;
  hits = search (f, &q);
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_id (hits, 0), ==, f->a);
  g_clear_pointer (&hits, g_ptr_array_unref);
  q.text = "receipt tab";
  hits = search (f, &q);
  g_assert_cmpuint (hits->len, ==, 1);
  g_clear_pointer (&hits, g_ptr_array_unref);
  q.text = "sofa c"; /* prefix on the last word only */
  hits = search (f, &q);
  g_assert_cmpuint (hits->len, ==, 1);
  g_assert_cmpint (hit_id (hits, 0), ==, f->c);
}

/* Whatever a person types, no FTS5 syntax error. */
static void
test_hostile_queries (Fixture *f, gconstpointer data)
{
  const char *queries[] = {
    "\"",
    "*",
    "dog\"",
    "\"dog",
    "AND",
    "dog AND",
    "OR dog",
    "NOT",
    "NEAR(dog",
    "NEAR(dog cat, 2)",
    "-dog",
    "dog*",
    "col:dog",
    "captions:dog",
    "^dog",
    "(",
    ")",
    "dog OR",
    "'",
    "{captions}: dog",
    "dog + cat",
    "\\",
    "%",
    "_",
    "dog\x01",
    "\xff\xfe dog",
    "a\"b*c:d(e)f^g",
    "",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (queries); i++)
    for (int prefix = 0; prefix < 2; prefix++)
      {
        g_autoptr (GError) error = NULL;
        GalleryQuery q = { .text = queries[i], .prefix_last = prefix };
        g_autoptr (GPtrArray) hits = gallery_search_run (f->store, &q, &error);

        g_assert_no_error (error);
        g_assert_nonnull (hits);
      }
  /* Quoted words still find what they say. */
  {
    GalleryQuery q = { .text = "dog*" };
    g_autoptr (GPtrArray) hits = search (f, &q);

    g_assert_cmpuint (hits->len, ==, 2);
  }
  {
    GalleryQuery q = { .text = "\"beach\"" };
    g_autoptr (GPtrArray) hits = search (f, &q);

    g_assert_cmpuint (hits->len, ==, 1);
    g_assert_cmpint (hit_id (hits, 0), ==, f->b);
  }
}

/* A hit whose photo is gone by the time its details are read (another process removed it
 * between the search and the fetch; here searchable text left without its photo, with the
 * missing photos asked for so that the search itself does not leave it out) is left out;
 * it is not a damaged database. */
static void
test_stale_row (Fixture *f, gconstpointer data)
{
  g_autofree char *db = g_build_filename (f->dir, "g.db", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) hits = NULL;
  GalleryQuery query = { 0 };

  /* (foreign keys are off in that connection) */
  gt_sqlite_exec_file (db, "INSERT INTO image_text (image_id, captions)"
                           " VALUES (9999, 'a zeppelin and a dog')");
  query.text = "zeppelin";
  query.include_missing = TRUE;
  hits = gallery_search_run (f->store, &query, &error);
  g_assert_no_error (error);
  g_assert_nonnull (hits);
  g_assert_cmpuint (hits->len, ==, 0);
  g_clear_pointer (&hits, g_ptr_array_unref);

  /* The photos that are there are still found, in their order. */
  query.text = "dog";
  hits = gallery_search_run (f->store, &query, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (hits->len, ==, 2);
  g_assert_true (hits_contain (hits, f->b));
  g_assert_true (hits_contain (hits, f->d));
  g_assert_false (hits_contain (hits, 9999));
}

/* No call leaves a statement running: a running statement would hold a read transaction open,
 * and the process would go on seeing the gallery as it was then (empty at start-up, while a
 * tagger filled it), whatever other processes store since. */
static void
assert_no_statement_running (GalleryStore *store)
{
  sqlite3 *db = gallery_store_get_db (store);

  for (sqlite3_stmt *stmt = sqlite3_next_stmt (db, NULL); stmt != NULL;
       stmt = sqlite3_next_stmt (db, stmt))
    if (sqlite3_stmt_busy (stmt))
      g_error ("a statement is left running: %s", sqlite3_sql (stmt));
  g_assert_true (sqlite3_get_autocommit (db));
}

static void
test_sees_other_writers (Fixture *f, gconstpointer data)
{
  g_autofree char *db = g_build_filename (f->dir, "g.db", NULL);
  g_autoptr (GError) error = NULL;
  GalleryQuery query = { 0 };
  g_autoptr (GPtrArray) hits = NULL;
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GPtrArray) tags = NULL;
  g_autoptr (GPtrArray) runs = NULL;
  g_autoptr (GalleryImage) image = NULL;
  gboolean found = FALSE;

  hits = search (f, &query);
  g_assert_cmpuint (hits->len, ==, 4);
  g_clear_pointer (&hits, g_ptr_array_unref);
  query.text = "dog";
  hits = search (f, &query);
  g_clear_pointer (&hits, g_ptr_array_unref);
  query.text = NULL;
  query.tag = "holiday";
  query.order_by_confidence = TRUE;
  hits = search (f, &query);
  images = gallery_store_list_images (f->store, NULL, &error);
  tags = gallery_store_list_tags (f->store, f->b, TRUE, &error);
  runs = gallery_store_list_runs (f->store, f->b, &error);
  image =
    gallery_store_find_image (f->store, ((GalleryImage *) images->pdata[0])->paths[0], &error);
  g_assert_true (gallery_store_has_run (f->store, f->b, runs->pdata[0], &found, &error));
  g_assert_no_error (error);
  g_assert_cmpint (gallery_store_count_runs (f->store, &error), >, 0);
  assert_no_statement_running (f->store);

  /* Another process's change is seen by the next search. */
  gt_sqlite_exec_file (db, "UPDATE image_paths SET missing = 1");
  g_clear_pointer (&hits, g_ptr_array_unref);
  memset (&query, 0, sizeof query);
  hits = search (f, &query);
  g_assert_cmpuint (hits->len, ==, 0);
  assert_no_statement_running (f->store);
}

static void
test_filters (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *pets = g_build_filename (f->dir, "pets", NULL);
  g_autofree char *pe = g_build_filename (f->dir, "pe", NULL);
  g_autoptr (GPtrArray) hits = NULL;

  {
    GalleryQuery q = { .text = "holiday" }; /* a user tag is searchable */

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 1);
    g_assert_cmpint (hit_id (hits, 0), ==, f->b);
    g_clear_pointer (&hits, g_ptr_array_unref);
  }
  {
    GalleryQuery q = { .text = "dog", .tag = "Frisbee" };

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 1);
    g_assert_cmpint (hit_id (hits, 0), ==, f->b);
    g_clear_pointer (&hits, g_ptr_array_unref);
  }
  {
    GalleryQuery q = { .tag = "holiday" }; /* filters alone */

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 1);
    g_assert_cmpstr (((GalleryHit *) g_ptr_array_index (hits, 0))->snippet, ==, "");
    g_clear_pointer (&hits, g_ptr_array_unref);
  }
  {
    GalleryQuery q = { .task = "<OCR>" };

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 1);
    g_assert_cmpint (hit_id (hits, 0), ==, f->a);
    g_clear_pointer (&hits, g_ptr_array_unref);
  }
  {
    GalleryQuery q = { .since = 1600000000 };

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 3);
    g_assert_false (hits_contain (hits, f->c));
    g_clear_pointer (&hits, g_ptr_array_unref);
  }
  {
    GalleryQuery q = { .text = "sofa", .until = 1600000000 };

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 1);
    g_assert_cmpint (hit_id (hits, 0), ==, f->c);
    g_clear_pointer (&hits, g_ptr_array_unref);
  }
  {
    GalleryQuery q = { .folder = pets };

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 2);
    g_assert_true (hits_contain (hits, f->b) && hits_contain (hits, f->c));
    g_clear_pointer (&hits, g_ptr_array_unref);
  }
  {
    GalleryQuery q = { .folder = pe }; /* "pe" is not "pets" */

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 0);
    g_clear_pointer (&hits, g_ptr_array_unref);
  }

  /* A removed label is no longer found; a renamed one is found by its new name. */
  g_assert_true (gallery_store_remove_tag (f->store, f->b, "frisbee", &error));
  g_assert_true (gallery_store_rename_tag (f->store, f->b, "holiday", "vacation", &error));
  g_assert_no_error (error);
  {
    GalleryQuery q = { .text = "frisbee" };

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 0);
    g_clear_pointer (&hits, g_ptr_array_unref);
  }
  {
    GalleryQuery q = { .text = "vacation" };

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 1);
    g_clear_pointer (&hits, g_ptr_array_unref);
  }
  {
    GalleryQuery q = { .text = "holiday" };

    hits = search (f, &q);
    g_assert_cmpuint (hits->len, ==, 0);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gallery/search/build-match", test_build_match);
#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/gallery/search/text-in-photo", test_text_in_photo);
  ADD ("/gallery/search/ranking", test_ranking);
  ADD ("/gallery/search/prefix", test_prefix);
  ADD ("/gallery/search/hostile-queries", test_hostile_queries);
  ADD ("/gallery/search/filters", test_filters);
  ADD ("/gallery/search/stale-row", test_stale_row);
  ADD ("/gallery/search/sees-other-writers", test_sees_other_writers);
#undef ADD
  return g_test_run ();
}
