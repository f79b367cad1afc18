/* test-cli-gallery.c: depict-cli tag, search, show and export end to end with the tiny
 * fixture model on the CPU reference; sidecars read back with gexiv2
 *
 * Usage (from meson): test-cli-gallery PATH-TO-depict-cli
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Long because every command is tested end to end, as a person runs it, on galleries tagged by the
 * real depict-cli.
 */
#include "config.h"

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gexiv2/gexiv2.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <errno.h>
#include <pty.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli-test-util.h"

static char *work_dir;
static char *photos_dir;
static char *db_path;

static char *
data_path (const char *rel)
{
  return g_build_filename (g_getenv ("DEPICT_TEST_DATA"), rel, NULL);
}

static void
copy_file (const char *from, const char *to)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_file_get_contents (from, &contents, &length, &error);
  g_assert_no_error (error);
  g_file_set_contents (to, contents, length, &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  if (dir != NULL)
    g_dir_close (dir);
  g_rmdir (path);
}

static CliTestResult
tag (const char *path, const char *extra)
{
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");

  return cli_test_run_va ("tag", "--model", model, "--tokenizer", tokenizer, "--device",
                          "cpu-reference", "--tasks", "caption,od", "--max-new-tokens", "12",
                          "--db", db_path, extra != NULL ? extra : "--beams=3", path, NULL);
}

/* A copy of the PNG at from whose first pixel is changed by n: another photo. */
static void
write_distinct_png (const char *from, const char *to, int n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (from, &error);
  g_autoptr (GdkPixbuf) copy = NULL;

  g_assert_no_error (error);
  copy = gdk_pixbuf_copy (pixbuf);
  gdk_pixbuf_get_pixels (copy)[0] += (guint8) (n + 1);
  gdk_pixbuf_save (copy, to, "png", &error, NULL);
  g_assert_no_error (error);
}

/* Runs depict-cli with its standard output and error on a terminal (a pseudo-terminal);
 * returns what the terminal showed. */
static char *
run_cli_on_terminal (const char *first, ...)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  GString *out = g_string_new (NULL);
  int master = -1, slave = -1;
  va_list ap;

  g_assert_cmpint (openpty (&master, &slave, NULL, NULL, NULL), ==, 0);
  g_ptr_array_add (argv, (char *) g_getenv ("DEPICT_CLI"));
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (argv, (char *) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_take_stdout_fd (launcher, slave);
  g_subprocess_launcher_take_stderr_fd (launcher, dup (slave));
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_clear_object (&launcher); /* closes this side's copies of the terminal */
  for (;;)
    {
      char buffer[4096];
      ssize_t n = read (master, buffer, sizeof buffer);

      if (n > 0)
        g_string_append_len (out, buffer, n);
      else if (n < 0 && errno == EINTR)
        continue;
      else
        break; /* EIO: the other side is closed */
    }
  close (master);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  return g_string_free (out, FALSE);
}

static JsonNode *
parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static void
test_tag_and_read (void)
{
  g_autofree char *photo = g_build_filename (photos_dir, "photo.png", NULL);
  g_autofree char *sidecar = g_strconcat (photo, ".xmp", NULL);
  g_autoptr (GPtrArray) shown = NULL;
  g_autofree char *caption = NULL;
  g_autofree char *word = NULL;
  JsonObject *image;
  JsonArray *runs;
  CliTestResult r;

  r = tag (photos_dir, "--recursive");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "3/3"));
  g_assert_nonnull (strstr (r.err, "Tagged 3 photos (6 results)"));
  cli_test_result_clear (&r);

  /* Again: all done. */
  r = tag (photos_dir, "--recursive");
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "3 already done"));
  cli_test_result_clear (&r);

  /* show --json: the stored runs and the result of the shared schema. */
  r = cli_test_run_va ("show", "--json", "--db", db_path, photo, NULL);
  g_assert_cmpint (r.status, ==, 0);
  shown = cli_test_json_lines (r.out);
  g_assert_cmpuint (shown->len, ==, 1);
  image = json_node_get_object (g_ptr_array_index (shown, 0));
  g_assert_cmpint (json_object_get_int_member (image, "width"), ==, 640);
  runs = json_object_get_array_member (image, "runs");
  g_assert_cmpuint (json_array_get_length (runs), ==, 2);
  {
    JsonObject *run = json_array_get_object_element (runs, 0);
    JsonObject *result = json_object_get_object_member (run, "result");

    g_assert_cmpstr (json_object_get_string_member (run, "task"), ==, "<CAPTION>");
    g_assert_cmpstr (json_object_get_string_member (run, "model"), ==, "tiny");
    g_assert_cmpint (json_object_get_int_member (run, "max_new_tokens"), ==, 12);
    g_assert_cmpuint (strlen (json_object_get_string_member (run, "weights_hash")), ==, 64);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (run, "token_ids")), >,
                      2);
    g_assert_cmpstr (json_object_get_string_member (result, "kind"), ==, "text");
    caption = g_strdup (json_object_get_string_member (result, "text"));
  }
  cli_test_result_clear (&r);

  /* search finds the photo by a word of its (random-weight) caption. */
  {
    g_auto (GStrv) words = g_strsplit (caption, " ", -1);

    for (guint i = 0; words[i] != NULL && word == NULL; i++)
      if (strlen (words[i]) >= 4 && g_str_is_ascii (words[i]))
        {
          gboolean alpha = TRUE;

          for (const char *p = words[i]; *p != '\0'; p++)
            alpha = alpha && g_ascii_isalpha (*p);
          if (alpha)
            word = g_strdup (words[i]);
        }
  }
  g_assert_nonnull (word);
  r = cli_test_run_va ("search", "--json", "--db", db_path, word, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr (GPtrArray) lines = cli_test_json_lines (r.out); /* one line per hit */
    gboolean found = FALSE;

    for (guint i = 0; i < lines->len; i++)
      found = found || g_strcmp0 (json_object_get_string_member (
                                    json_node_get_object (g_ptr_array_index (lines, i)), "path"),
                                  photo) == 0;
    g_assert_true (found);
  }
  cli_test_result_clear (&r);
  r = cli_test_run_va ("search", "--db", db_path, "--task", "od", "--folder", photos_dir, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, photo));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("search", "--db", db_path, "zzzqqq\"*(", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "No photo matches"));
  cli_test_result_clear (&r);

  /* export --xmp: sidecars, read back with gexiv2; the photo is untouched. */
  r = cli_test_run_va ("export", "--xmp", "--db", db_path, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "3 files"));
  cli_test_result_clear (&r);
  {
    g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
    g_autoptr (GError) error = NULL;
    g_autofree char *description = NULL;
    g_autofree char *original = data_path ("preprocess/images/photo_640x480.png");
    g_autofree char *a = NULL, *b = NULL;
    gsize na = 0, nb = 0;

    gexiv2_metadata_open_path (metadata, sidecar, &error);
    g_assert_no_error (error);
    description = gexiv2_metadata_try_get_tag_string (metadata, "Xmp.dc.description", &error);
    g_assert_no_error (error);
    g_assert_nonnull (description);
    g_assert_nonnull (strstr (description, word));
    g_file_get_contents (original, &a, &na, NULL);
    g_file_get_contents (photo, &b, &nb, NULL);
    g_assert_true (na == nb && memcmp (a, b, na) == 0);
  }

  /* export --json to a file, --csv to stdout. */
  {
    g_autofree char *out = g_build_filename (work_dir, "export.json", NULL);
    g_autofree char *text = NULL;
    g_autoptr (GPtrArray) all = NULL;
    g_auto (GStrv) lines = NULL;

    r = cli_test_run_va ("export", "--json", "--db", db_path, "--output", out, NULL);
    g_assert_cmpint (r.status, ==, 0);
    cli_test_result_clear (&r);
    g_file_get_contents (out, &text, NULL, NULL);
    all = cli_test_json_lines (text); /* one line per photo */
    g_assert_cmpuint (all->len, ==, 3);
    r = cli_test_run_va ("export", "--csv", "--db", db_path, photo, NULL);
    g_assert_cmpint (r.status, ==, 0);
    lines = g_strsplit (r.out, "\r\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 4); /* header, 2 runs, "" */
    cli_test_result_clear (&r);
  }
}

static gboolean
json_has_tag (const char *json_text, const char *name, gboolean removed)
{
  g_autoptr (JsonNode) root = parse (json_text);
  JsonArray *tags = json_object_get_array_member (json_node_get_object (root), "tags");

  for (guint i = 0; i < json_array_get_length (tags); i++)
    {
      JsonObject *tag = json_array_get_object_element (tags, i);

      if (g_strcmp0 (json_object_get_string_member (tag, "name"), name) == 0)
        return json_object_get_boolean_member (tag, "removed") == removed;
    }
  return FALSE;
}

static void
test_tags (void)
{
  g_autofree char *photo = g_build_filename (photos_dir, "photo.png", NULL);
  g_autofree char *palette = g_build_filename (photos_dir, "palette.png", NULL);
  g_autofree char *sidecar = g_strconcat (photo, ".xmp", NULL);
  CliTestResult r;

  r = cli_test_run_va ("tags", "--db", db_path, "--add", "Sunset", "--add", "beach", photo, palette,
                       NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "sunset"));
  g_assert_nonnull (strstr (r.out, "user"));
  cli_test_result_clear (&r);

  r = cli_test_run_va ("tags", "--db", db_path, "--remove", "beach", photo, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);
  r = cli_test_run_va ("tags", "--db", db_path, "--rename", "sunset=dusk", "--everywhere", NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);

  /* Tagging again (--redo) does not bring the removed tag back. */
  r = tag (photo, "--redo");
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);
  r = cli_test_run_va ("tags", "--db", db_path, "--removed", "--json", photo, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (json_has_tag (r.out, "beach", TRUE));
  g_assert_true (json_has_tag (r.out, "sunset", TRUE));
  g_assert_true (json_has_tag (r.out, "dusk", FALSE));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("tags", "--db", db_path, "--json", palette, NULL);
  g_assert_true (json_has_tag (r.out, "dusk", FALSE));
  g_assert_true (json_has_tag (r.out, "beach", FALSE));
  cli_test_result_clear (&r);

  /* Searchable, and exported. */
  r = cli_test_run_va ("search", "--db", db_path, "--tag", "dusk", NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, photo));
  g_assert_nonnull (strstr (r.out, palette));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("export", "--xmp", "--db", db_path, photo, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);
  {
    g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
    g_autoptr (GError) error = NULL;
    g_auto (GStrv) subject = NULL;

    gexiv2_metadata_open_path (metadata, sidecar, &error);
    g_assert_no_error (error);
    subject = gexiv2_metadata_try_get_tag_multiple (metadata, "Xmp.dc.subject", &error);
    g_assert_no_error (error);
    g_assert_true (g_strv_contains ((const char *const *) subject, "dusk"));
    g_assert_false (g_strv_contains ((const char *const *) subject, "beach"));
    g_assert_false (g_strv_contains ((const char *const *) subject, "sunset"));
  }

  r = cli_test_run_va ("tags", "--db", db_path, "--remove", "unicorn", photo, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "no tag “unicorn”"));
  cli_test_result_clear (&r);
}

/* The photos of a gallery export (one JSON line per photo): path → the number of its runs. */
static GHashTable *
runs_by_path (const char *db)
{
  GHashTable *out = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  CliTestResult r = cli_test_run_va ("export", "--json", "--db", db, NULL);
  g_autoptr (GPtrArray) photos = NULL;

  g_assert_cmpint (r.status, ==, 0);
  photos = cli_test_json_lines (r.out);
  for (guint i = 0; i < photos->len; i++)
    {
      JsonObject *photo = json_node_get_object (g_ptr_array_index (photos, i));
      JsonArray *paths = json_object_get_array_member (photo, "paths");

      g_assert_cmpuint (json_array_get_length (paths), ==, 1);
      g_hash_table_insert (
        out, g_strdup (json_array_get_string_element (paths, 0)),
        GUINT_TO_POINTER (json_array_get_length (json_object_get_array_member (photo, "runs"))));
    }
  cli_test_result_clear (&r);
  return out;
}

/* Whether a photo of the gallery at db has both its runs (caption and OD). */
static gboolean
photo_done (const char *db)
{
  CliTestResult r = cli_test_run_va ("export", "--json", "--db", db, NULL);
  gboolean done = FALSE;

  if (r.status == 0)
    {
      g_autoptr (GPtrArray) photos = cli_test_json_lines (r.out);

      for (guint i = 0; i < photos->len && !done; i++)
        done = json_array_get_length (json_object_get_array_member (
                 json_node_get_object (g_ptr_array_index (photos, i)), "runs")) == 2;
    }
  cli_test_result_clear (&r);
  return done;
}

/* Ctrl-C once a photo is stored: the photo in progress is given up, every result stored is
 * kept. Before the run goes on, the photos done get new metadata (the same pixels, other
 * bytes, as a photo manager's edit): they are still known, so only the others run. */
static void
test_interrupt_and_resume (void)
{
  g_autofree char *dir = g_build_filename (work_dir, "many", NULL);
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  g_autofree char *fixture = data_path ("preprocess/images/gray_320x200.png");
  g_autofree char *db = g_build_filename (work_dir, "many.db", NULL);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GDataInputStream) err = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) all = g_string_new (NULL);
  g_autoptr (GHashTable) before = NULL;
  g_autoptr (GHashTable) after = NULL;
  g_autofree char *expected = NULL;
  GHashTableIter iter;
  gpointer key, value;
  guint n_done = 0;
  char *line;
  CliTestResult r;

  g_mkdir_with_parents (dir, 0700);
  for (int i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s/p%02d.png", dir, i);

      write_distinct_png (fixture, name, i);
    }
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                           &error, g_getenv ("DEPICT_CLI"), "tag", "--model", model, "--tokenizer",
                           tokenizer, "--device", "cpu-reference", "--tasks", "caption,od",
                           "--max-new-tokens", "12", "--db", db, dir, NULL);
  g_assert_no_error (error);
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  /* The first progress line ("0/6") comes before any photo is done. */
  line = g_data_input_stream_read_line_utf8 (err, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_cmpstr (line, ==, "0/6");
  g_free (line);
  /* Interrupted once the first photo's runs are in the gallery (read through depict-cli). */
  while (!photo_done (db))
    {
      g_assert_nonnull (g_subprocess_get_identifier (proc)); /* still running */
      g_usleep (20 * 1000);
    }
  g_subprocess_send_signal (proc, SIGINT);
  while ((line = g_data_input_stream_read_line_utf8 (err, NULL, NULL, &error)) != NULL)
    {
      g_string_append_printf (all, "%s\n", line);
      g_free (line);
    }
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 130);
  g_assert_nonnull (strstr (all->str, "Interrupted. Run the same command again"));

  /* What is stored stays: the photos done (both tasks), at least one; the photo in progress
   * may have its first run or none. Each done photo then gets new metadata. */
  before = runs_by_path (db);
  g_hash_table_iter_init (&iter, before);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (GPOINTER_TO_UINT (value) == 2)
      {
        g_autoptr (GdkPixbuf) pixbuf = gdk_pixbuf_new_from_file (key, &error);

        g_assert_no_error (error);
        gdk_pixbuf_save (pixbuf, key, "png", &error, "tEXt::Comment", "edited", "compression", "9",
                         NULL);
        g_assert_no_error (error);
        n_done++;
      }
  g_assert_cmpuint (n_done, >=, 1);
  g_assert_cmpuint (n_done, <, 6);

  r =
    cli_test_run_va ("tag", "--model", model, "--tokenizer", tokenizer, "--device", "cpu-reference",
                     "--tasks", "caption,od", "--max-new-tokens", "12", "--db", db, dir, NULL);
  g_assert_cmpint (r.status, ==, 0);
  expected = g_strdup_printf ("Tagged %u photo", 6 - n_done);
  g_assert_nonnull (strstr (r.err, expected));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("%u already done, 0 failed, 6 in all", n_done);
  g_assert_nonnull (strstr (r.err, expected));
  cli_test_result_clear (&r);
  after = runs_by_path (db);
  g_assert_cmpuint (g_hash_table_size (after), ==, 6);
  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_assert_cmpuint (GPOINTER_TO_UINT (value), ==, 2);
}

/* A photo deleted since it was tagged leaves the search; forget --missing says what it would
 * remove, then removes it. */
static void
test_forget (void)
{
  g_autofree char *dir = g_build_filename (work_dir, "forget", NULL);
  g_autofree char *db = g_build_filename (work_dir, "forget.db", NULL);
  g_autofree char *fixture = data_path ("preprocess/images/gray_320x200.png");
  g_autofree char *keep = g_build_filename (dir, "keep.png", NULL);
  g_autofree char *gone = g_build_filename (dir, "gone.png", NULL);
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  CliTestResult r;

  g_mkdir_with_parents (dir, 0700);
  write_distinct_png (fixture, keep, 1);
  write_distinct_png (fixture, gone, 2);
  r =
    cli_test_run_va ("tag", "--model", model, "--tokenizer", tokenizer, "--device", "cpu-reference",
                     "--tasks", "caption", "--max-new-tokens", "6", "--db", db, dir, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);
  r = cli_test_run_va ("search", "--db", db, "--folder", dir, NULL);
  g_assert_nonnull (strstr (r.out, gone));
  cli_test_result_clear (&r);

  g_unlink (gone);
  r = cli_test_run_va ("search", "--db", db, "--folder", dir, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, keep));
  g_assert_null (strstr (r.out, gone));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("forget", "--missing", "--dry-run", "--db", db, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_cmpstr (r.out, ==, g_strconcat (gone, "\n", NULL));
  g_assert_nonnull (strstr (r.err, "1 photo would be forgotten"));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("show", "--db", db, gone, NULL);
  g_assert_cmpint (r.status, ==, 0); /* still there after a dry run */
  g_assert_nonnull (strstr (r.out, "forget --missing"));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("forget", "--missing", "--db", db, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "Forgot 1 photo"));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("show", "--db", db, gone, NULL);
  g_assert_cmpint (r.status, ==, 1);
  cli_test_result_clear (&r);
  r = cli_test_run_va ("show", "--db", db, keep, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);
  r = cli_test_run_va ("forget", "--db", db, NULL);
  g_assert_cmpint (r.status, ==, 2);
  cli_test_result_clear (&r);
}

/* A file name and a tag with an escape sequence, a carriage return, a newline and U+202E
 * (right-to-left override): on a terminal show, tags and search print them escaped; in a
 * pipe the bytes stay as they are (scripts get the real path). */
static void
test_terminal_escapes (void)
{
  g_autofree char *dir = g_build_filename (work_dir, "hostile", NULL);
  g_autofree char *db = g_build_filename (work_dir, "hostile.db", NULL);
  g_autofree char *fixture = data_path ("preprocess/images/gray_320x200.png");
  g_autofree char *photo = g_build_filename (dir, "a\033]0;owned\007\r\nb\u202egnp.png", NULL);
  g_autofree char *damaged = g_build_filename (dir, "c\033]2;x\007\rd.png", NULL);
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  const char *tag_name = "right\u202eleft"; /* control characters become spaces in tags */
  g_autofree char *shown = NULL;
  g_autofree char *tags = NULL;
  g_autofree char *found = NULL;
  g_autofree char *progress = NULL;
  CliTestResult r;

  g_mkdir_with_parents (dir, 0700);
  write_distinct_png (fixture, photo, 7);
  g_assert_true (g_file_set_contents (damaged, "\x89PNG not really", -1, NULL));
  progress = run_cli_on_terminal ("tag", "--model", model, "--tokenizer", tokenizer, "--device",
                                  "cpu-reference", "--tasks", "caption", "--max-new-tokens", "6",
                                  "--db", db, dir, NULL);
  {
    g_autofree char *escaped = g_strescape (progress, NULL);
    g_test_message ("%s", escaped);
  }
  g_assert_nonnull (strstr (progress, "Tagged 1 photo"));
  /* The progress line's own "\r\033[K" only: the failed photo's name is escaped. */
  g_assert_null (strstr (progress, "\033]"));
  g_assert_null (strchr (progress, '\007'));
  g_assert_nonnull (strstr (progress, "c\\x1b]2;x\\x07\\rd.png"));
  r = cli_test_run_va ("tags", "--db", db, "--add", tag_name, photo, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, photo)); /* a pipe: the path as it is */
  cli_test_result_clear (&r);

  shown = run_cli_on_terminal ("show", "--db", db, photo, NULL);
  tags = run_cli_on_terminal ("tags", "--db", db, photo, NULL);
  found = run_cli_on_terminal ("search", "--db", db, "--folder", dir, NULL);
  {
    const char *outputs[] = { shown, tags, found };

    for (gsize i = 0; i < G_N_ELEMENTS (outputs); i++)
      {
        g_test_message ("%s", outputs[i]);
        g_assert_null (strchr (outputs[i], '\033'));
        g_assert_null (strchr (outputs[i], '\007'));
        g_assert_null (strstr (outputs[i], "\u202e"));
        g_assert_nonnull (strstr (outputs[i], "a\\x1b]0;owned\\x07\\r\\nb\\u202egnp.png"));
      }
    g_assert_nonnull (strstr (shown, "right\\u202eleft"));
    g_assert_nonnull (strstr (tags, "right\\u202eleft"));
  }
}

/* Two copies of one photo: export --xmp of one path writes that path's sidecar only, merged
 * into the sidecar another program wrote (its fields kept), through a temporary file. */
static void
test_export_exact_paths (void)
{
  static const char existing[] =
    "<?xpacket begin=\"\xef\xbb\xbf\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n"
    " <rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n"
    "  <rdf:Description rdf:about=\"\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\"\n"
    "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
    "    xmlns:photoshop=\"http://ns.adobe.com/photoshop/1.0/\"\n"
    "    xmp:Rating=\"5\" photoshop:City=\"Brest\">\n"
    "   <dc:creator><rdf:Seq><rdf:li>Ada</rdf:li></rdf:Seq></dc:creator>\n"
    "   <dc:subject><rdf:Bag><rdf:li>family</rdf:li></rdf:Bag></dc:subject>\n"
    "  </rdf:Description>\n"
    " </rdf:RDF>\n"
    "</x:xmpmeta>\n"
    "<?xpacket end=\"w\"?>\n";
  g_autofree char *dir = g_build_filename (work_dir, "copies", NULL);
  g_autofree char *db = g_build_filename (work_dir, "copies.db", NULL);
  g_autofree char *fixture = data_path ("preprocess/images/photo_640x480.png");
  g_autofree char *a = g_build_filename (dir, "a.png", NULL);
  g_autofree char *b = g_build_filename (dir, "b.png", NULL);
  g_autofree char *a_xmp = g_strconcat (a, ".xmp", NULL);
  g_autofree char *b_xmp = g_strconcat (b, ".xmp", NULL);
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  CliTestResult r;

  g_mkdir_with_parents (dir, 0700);
  copy_file (fixture, a);
  copy_file (fixture, b);
  g_file_set_contents (b_xmp, existing, -1, NULL);
  r =
    cli_test_run_va ("tag", "--model", model, "--tokenizer", tokenizer, "--device", "cpu-reference",
                     "--tasks", "caption", "--max-new-tokens", "6", "--db", db, dir, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);
  r = cli_test_run_va ("tags", "--db", db, "--add", "lighthouse", b, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);

  r = cli_test_run_va ("export", "--xmp", "--db", db, b, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "1 file"));
  cli_test_result_clear (&r);
  g_assert_false (g_file_test (a_xmp, G_FILE_TEST_EXISTS)); /* the other copy: untouched */
  {
    g_autoptr (GExiv2Metadata) metadata = gexiv2_metadata_new ();
    g_autoptr (GError) error = NULL;
    g_auto (GStrv) subject = NULL;
    g_auto (GStrv) creator = NULL;
    g_autofree char *rating = NULL, *city = NULL, *description = NULL;

    gexiv2_metadata_open_path (metadata, b_xmp, &error);
    g_assert_no_error (error);
    subject = gexiv2_metadata_try_get_tag_multiple (metadata, "Xmp.dc.subject", &error);
    creator = gexiv2_metadata_try_get_tag_multiple (metadata, "Xmp.dc.creator", &error);
    rating = gexiv2_metadata_try_get_tag_string (metadata, "Xmp.xmp.Rating", &error);
    city = gexiv2_metadata_try_get_tag_string (metadata, "Xmp.photoshop.City", &error);
    description = gexiv2_metadata_try_get_tag_string (metadata, "Xmp.dc.description", &error);
    g_assert_no_error (error);
    g_assert_true (g_strv_contains ((const char *const *) subject, "family"));
    g_assert_true (g_strv_contains ((const char *const *) subject, "lighthouse"));
    g_assert_true (g_strv_contains ((const char *const *) creator, "Ada"));
    g_assert_cmpstr (rating, ==, "5");
    g_assert_cmpstr (city, ==, "Brest");
    g_assert_nonnull (description);
  }

  /* A folder: the sidecars of the paths below it; no temporary file is left behind. */
  r = cli_test_run_va ("export", "--xmp", "--db", db, dir, NULL);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "2 files"));
  cli_test_result_clear (&r);
  g_assert_true (g_file_test (a_xmp, G_FILE_TEST_IS_REGULAR));
  {
    GDir *listing = g_dir_open (dir, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name (listing)) != NULL)
      g_assert_false (name[0] == '.');
    g_dir_close (listing);
  }
}

/* Files that are not photos, or cannot be decoded, are said by name and never become
 * photos of the gallery; the gallery kept among the photos is not one of them. */
static void
test_not_photos (void)
{
  g_autofree char *dir = g_build_filename (work_dir, "mixed", NULL);
  g_autofree char *db = g_build_filename (dir, "gallery", NULL);
  g_autofree char *fixture = data_path ("preprocess/images/gray_320x200.png");
  g_autofree char *photo = g_build_filename (dir, "photo.png", NULL);
  g_autofree char *fake = g_build_filename (dir, "fake.jpg", NULL);
  g_autofree char *notes = g_build_filename (work_dir, "notes.txt", NULL);
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  CliTestResult r;

  g_mkdir_with_parents (dir, 0700);
  write_distinct_png (fixture, photo, 11);
  g_file_set_contents (fake, "not a picture at all", -1, NULL);
  g_file_set_contents (notes, "my notes", -1, NULL);
  r =
    cli_test_run_va ("tag", "--model", model, "--tokenizer", tokenizer, "--device", "cpu-reference",
                     "--tasks", "caption", "--max-new-tokens", "6", "--db", db, dir, notes, NULL);
  g_test_message ("%s", r.err);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "Tagged 1 photo"));
  g_assert_nonnull (strstr (r.err, "1 failed, 2 in all"));
  g_assert_nonnull (strstr (r.err, fake));
  g_assert_nonnull (strstr (r.err, notes));
  g_assert_null (strstr (r.err, "gallery's database"));
  cli_test_result_clear (&r);

  r = cli_test_run_va ("show", "--db", db, photo, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);
  r = cli_test_run_va ("show", "--db", db, fake, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "is not in the gallery"));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("export", "--json", "--db", db, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr (GPtrArray) photos = cli_test_json_lines (r.out);

    g_assert_cmpuint (photos->len, ==, 1);
  }
  cli_test_result_clear (&r);
}

/* In the child before exec: files may not grow past *limit bytes, and writing past it fails
 * with EFBIG (SIGXFSZ ignored) as writing to a full disk fails with ENOSPC. */
static void
limit_file_size (gpointer data)
{
  struct rlimit limit = { *(rlim_t *) data, *(rlim_t *) data };

  signal (SIGXFSZ, SIG_IGN);
  setrlimit (RLIMIT_FSIZE, &limit);
}

/* depict-cli tag on a gallery that runs out of room: the person reads which gallery, how
 * much to free and that nothing was lost; after that, the same command goes on. */
static void
test_full_disk (void)
{
  g_autofree char *dir = g_build_filename (work_dir, "full", NULL);
  g_autofree char *db = g_build_filename (work_dir, "full.db", NULL);
  g_autofree char *fixture = data_path ("preprocess/images/gray_320x200.png");
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  g_autofree char *first = g_build_filename (dir, "p00.png", NULL);
  const char *args[] = { g_getenv ("DEPICT_CLI"),
                         "tag",
                         "--model",
                         model,
                         "--tokenizer",
                         tokenizer,
                         "--device",
                         "cpu-reference",
                         "--tasks",
                         "caption,od",
                         "--max-new-tokens",
                         "24",
                         "--quiet",
                         "--db",
                         db,
                         dir,
                         NULL };
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  GStatBuf st;
  rlim_t limit;
  CliTestResult r;

  g_mkdir_with_parents (dir, 0700);
  write_distinct_png (fixture, first, 0);
  r = cli_test_run ((const char *const *) args + 1, NULL, NULL);
  g_assert_cmpint (r.status, ==, 0);
  cli_test_result_clear (&r);
  for (int i = 1; i < 8; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s/p%02d.png", dir, i);

      write_distinct_png (fixture, name, i);
    }
  g_assert_cmpint (g_stat (db, &st), ==, 0);
  limit = (rlim_t) MAX (st.st_size, 32 * 1024) + 24 * 1024;
  launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, limit_file_size, &limit, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, args, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s", err);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 1);
  g_assert_nonnull (strstr (err, "There is no room left to write the gallery"));
  g_assert_nonnull (strstr (err, db));
  g_assert_nonnull (strstr (err, "Free at least 16"));
  g_assert_nonnull (strstr (err, "every result stored before is intact"));

  /* With room again: the first photo and those stored before the disk filled are done; the
   * rest is tagged, and the gallery is sound. */
  r = cli_test_run ((const char *const *) args + 1, NULL, NULL);
  g_test_message ("%s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.err, "8 in all"));
  g_assert_null (strstr (r.err, " 0 already done"));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("export", "--json", "--db", db, NULL);
  g_assert_cmpint (r.status, ==, 0);
  {
    g_autoptr (GPtrArray) photos = cli_test_json_lines (r.out);

    g_assert_cmpuint (photos->len, ==, 8);
    for (guint i = 0; i < photos->len; i++)
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                          json_node_get_object (g_ptr_array_index (photos, i)), "runs")),
                        ==, 2);
  }
  cli_test_result_clear (&r);
}

static void
test_beams_limit (void)
{
  CliTestResult r = cli_test_run_va ("tag", "--beams", "16", "--db", db_path, photos_dir, NULL);

  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "8"));
  cli_test_result_clear (&r);
}

static void
test_bad_database (void)
{
  g_autofree char *notes = g_build_filename (work_dir, "notes.txt", NULL);
  g_autofree char *after = NULL;
  CliTestResult r;

  g_file_set_contents (notes, "my notes, not a gallery", -1, NULL);
  r = cli_test_run_va ("search", "--db", notes, "dog", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "is not a Depict gallery"));
  g_assert_nonnull (strstr (r.err, "--db"));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("export", "--xmp", "--db", notes, NULL);
  g_assert_cmpint (r.status, ==, 1);
  cli_test_result_clear (&r);
  g_file_get_contents (notes, &after, NULL, NULL);
  g_assert_cmpstr (after, ==, "my notes, not a gallery");

  r = cli_test_run_va ("show", "--db", db_path, "/nonexistent/photo.jpg", NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "is not in the gallery"));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("tag", "--db", db_path, "--tasks", "caption,cook", photos_dir, NULL);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "“cook” is not a task"));
  cli_test_result_clear (&r);
  r = cli_test_run_va ("export", "--db", db_path, NULL);
  g_assert_cmpint (r.status, ==, 2);
  cli_test_result_clear (&r);
}

/* The progress line of tag on a terminal: photos done of all, photos per hour and time left
 * while photos remain, the rate at the end. */
static void
test_progress_rate (void)
{
  g_autofree char *dir = g_build_filename (work_dir, "rate", NULL);
  g_autofree char *db = g_build_filename (work_dir, "rate.db", NULL);
  g_autofree char *fixture = data_path ("preprocess/images/gray_320x200.png");
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  g_autofree char *out = NULL;
  g_autoptr (GRegex) running =
    g_regex_new ("^[12]/3  [0-9.]+ photos/h  ([0-9]+h)?([0-9]+m)?[0-9]+s? left$", 0, 0, NULL);
  g_autoptr (GRegex) done = g_regex_new ("^3/3  [0-9.]+ photos/h$", 0, 0, NULL);
  gboolean saw_running = FALSE, saw_done = FALSE;

  g_mkdir_with_parents (dir, 0700);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("photo-%d.png", i);
      g_autofree char *photo = g_build_filename (dir, name, NULL);
      write_distinct_png (fixture, photo, 20 + i);
    }
  out = run_cli_on_terminal ("tag", "--model", model, "--tokenizer", tokenizer, "--device",
                             "cpu-reference", "--tasks", "caption", "--max-new-tokens", "6", "--db",
                             db, dir, NULL);
  g_auto (GStrv) lines = g_regex_split_simple ("\r\033\\[K|\r?\n", out, 0, 0);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_test_message ("line: %s", lines[i]);
      saw_running |= g_regex_match (running, lines[i], 0, NULL);
      saw_done |= g_regex_match (done, lines[i], 0, NULL);
    }
  g_assert_true (saw_running);
  g_assert_true (saw_done);
  g_assert_nonnull (strstr (out, "Tagged 3 photos"));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  gexiv2_initialize ();
  work_dir = g_dir_make_tmp ("depict-cli-gallery-XXXXXX", &error);
  g_assert_no_error (error);
  photos_dir = g_build_filename (work_dir, "photos", NULL);
  db_path = g_build_filename (work_dir, "gallery.db", NULL);
  {
    g_autofree char *sub = g_build_filename (photos_dir, "sub", NULL);
    const char *names[][2] = {
      { "preprocess/images/photo_640x480.png", "photo.png" },
      { "preprocess/images/palette_200x150.png", "palette.png" },
      { "preprocess/images/small_37x101.png", "sub/small.png" },
    };

    g_mkdir_with_parents (sub, 0700);
    for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
      {
        g_autofree char *from = data_path (names[i][0]);
        g_autofree char *to = g_build_filename (photos_dir, names[i][1], NULL);

        copy_file (from, to);
      }
  }
  g_test_add_func ("/cli/gallery/tag-and-read", test_tag_and_read);
  g_test_add_func ("/cli/gallery/tags", test_tags);
  g_test_add_func ("/cli/gallery/interrupt-and-resume", test_interrupt_and_resume);
  g_test_add_func ("/cli/gallery/forget", test_forget);
  g_test_add_func ("/cli/gallery/terminal-escapes", test_terminal_escapes);
  g_test_add_func ("/cli/gallery/progress-rate", test_progress_rate);
  g_test_add_func ("/cli/gallery/export-exact-paths", test_export_exact_paths);
  g_test_add_func ("/cli/gallery/not-photos", test_not_photos);
  g_test_add_func ("/cli/gallery/full-disk", test_full_disk);
  g_test_add_func ("/cli/gallery/beams-limit", test_beams_limit);
  g_test_add_func ("/cli/gallery/bad-database", test_bad_database);
  status = g_test_run ();
  if (status == 0)
    remove_tree (work_dir);
  return status;
}
