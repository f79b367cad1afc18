/* test-cli-hostile-rows.c: `show` and `export` on a gallery whose stored rows are hostile JSON
 * (nested half a million levels behind a '…' string or a comment, escapes that decode to invalid
 * UTF-8, bytes that are not UTF-8): a sentence or a clean output that still shows the photo,
 * never a crash (json-glib overflowed its stack on such rows)
 *
 * The gallery is made by `tag` with the tiny model, then its run rows are rewritten in place.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "cli/cli-test-util.h"
#include "florence/files/florence-json.h"

static char *
data_path (const char *rel)
{
  return g_build_filename (g_getenv ("DEPICT_TEST_DATA"), rel, NULL);
}

static char *
deep (const char *prefix)
{
  GString *s = g_string_new (prefix);

  for (guint i = 0; i < 500000; i++)
    g_string_append_c (s, '[');
  for (guint i = 0; i < 500000; i++)
    g_string_append_c (s, ']');
  g_string_append_c (s, '}');
  return g_string_free (s, FALSE);
}

static void
rewrite_runs (const char *db_path, const char *column, const char *value)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  g_autofree char *sql = g_strdup_printf ("UPDATE runs SET %s = ?1", column);

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, value, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* Either a clean end with the photo still shown (its hash), or a failure with a sentence. */
static void
assert_clean (const char *what, const CliTestResult *r, const char *hash)
{
  g_test_message ("%s: %d %s", what, r->status, r->err);
  g_assert_cmpint (r->status, >=, 0); /* no signal */
  g_assert_true (g_utf8_validate (r->out, -1, NULL));
  if (r->status == 0)
    g_assert_nonnull (strstr (r->out, hash));
  else if (strlen (r->err) < 20)
    g_error ("%s failed without a sentence: “%s”", what, r->err);
}

/* show and export --json / --csv: they end on their own (no signal) and keep showing the photo;
 * what show --json and export --json write is JSON Depict reads back. */
static void
check_commands (const char *db_path, const char *photo, const char *hash)
{
  {
    g_auto (CliTestResult) r = cli_test_run_va ("show", "--json", "--db", db_path, photo, NULL);
    g_autoptr (GError) error = NULL;

    assert_clean ("show --json", &r, hash);
    if (r.status == 0 && !florence_json_check (r.out, -1, &error))
      g_error ("show --json wrote what Depict cannot read: %s", error->message);
  }
  {
    g_auto (CliTestResult) r = cli_test_run_va ("show", "--db", db_path, photo, NULL);
    assert_clean ("show", &r, hash);
  }
  {
    g_auto (CliTestResult) r = cli_test_run_va ("export", "--json", "--db", db_path, NULL);
    g_auto (GStrv) lines = g_strsplit (r.out, "\n", -1);

    assert_clean ("export --json", &r, hash);
    for (guint i = 0; lines[i] != NULL; i++)
      if (lines[i][0] != '\0')
        {
          g_autoptr (GError) error = NULL;
          if (!florence_json_check (lines[i], -1, &error))
            g_error ("export --json wrote what Depict cannot read: %s", error->message);
        }
  }
  {
    g_auto (CliTestResult) r = cli_test_run_va ("export", "--csv", "--db", db_path, NULL);
    assert_clean ("export --csv", &r, hash);
  }
}

static void
test_hostile_rows (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-hostile-rows-XXXXXX", NULL);
  g_autofree char *db_path = g_build_filename (dir, "gallery.db", NULL);
  g_autofree char *photo = g_build_filename (dir, "photo.png", NULL);
  g_autofree char *png = data_path ("preprocess/images/small_37x101.png");
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  g_autofree char *png_data = NULL;
  g_autofree char *hash = NULL;
  gsize len = 0;
  static const struct {
    const char *column, *prefix;
  } deep_cases[] = {
    { "result", "{'x':'\"',\"a\":" },
    { "result", "{/* \" */\"a\":" },
    { "timings", "{'x':'\"',\"a\":" },
    { "token_ids", "{'x':'\"',\"a\":" },
  };
  static const struct {
    const char *column, *value;
  } odd_cases[] = {
    { "result", "{\"version\":1,\"task\":\"<CAPTION\\350>\",\"kind\":\"text\",\"image_size\":[10,"
                "10],\"text\":\"\\udc00\"}" },
    { "task", "<CAPTION\xe8>" },
    { "raw_text", "\xff\xfe caption" },
  };

  g_assert_true (g_file_get_contents (png, &png_data, &len, NULL));
  g_assert_true (g_file_set_contents (photo, png_data, (gssize) len, NULL));
  hash = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) png_data, len);
  {
    g_auto (CliTestResult) r = cli_test_run_va (
      "tag", "--model", model, "--tokenizer", tokenizer, "--device", "cpu-reference", "--tasks",
      "caption", "--max-new-tokens", "6", "--beams", "1", "--quiet", "--db", db_path, photo, NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  for (gsize i = 0; i < G_N_ELEMENTS (deep_cases); i++)
    {
      g_autofree char *json = deep (deep_cases[i].prefix);
      rewrite_runs (db_path, deep_cases[i].column, json);
      check_commands (db_path, photo, hash);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (odd_cases); i++)
    {
      rewrite_runs (db_path, odd_cases[i].column, odd_cases[i].value);
      check_commands (db_path, photo, hash);
    }
  {
    g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
    const char *name;
    while (d != NULL && (name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_unlink (path);
      }
    g_rmdir (dir);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/hostile-rows", test_hostile_rows);
  return g_test_run ();
}
