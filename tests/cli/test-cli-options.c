/* test-cli-options.c: "--" ends the options of every depict-cli command (cli-options.h)
 *
 * The finding: in a folder holding a photo named "--db=hijacked.db", `tag --db intended.db *`
 * wrote the gallery to ./hijacked.db, and `--` did not help (it became a file name). After
 * `--`, every argument is a file, a task or a text, whatever it looks like. The test's photo is
 * "--db=hijacked.db.png": a file whose name ends in ".db" is never taken for a photo
 * (image-files.c), so the hijack would now write ./hijacked.db.png.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "cli/cli-options.h"
#include "cli/cli-test-util.h"

static char *work_dir;

static char *
data_path (const char *rel)
{
  return g_build_filename (g_getenv ("DEPICT_TEST_DATA"), rel, NULL);
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (from, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (to, contents, (gssize) length, NULL));
}

/* The parser alone: argv after it, joined by spaces. */
static char *
parse (const char *const *args, GError **error)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autofree char *db = NULL;
  gboolean flag = FALSE;
  GOptionEntry entries[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db, NULL, NULL },
    { "flag", 'f', 0, G_OPTION_ARG_NONE, &flag, NULL, NULL },
    { NULL },
  };
  char **v;
  int argc;

  g_ptr_array_add (argv, g_strdup ("cmd"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  argc = (int) argv->len - 1;
  v = (char **) argv->pdata;
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_help_enabled (context, FALSE);
  if (!cli_options_parse (context, &argc, &v, error))
    return NULL;
  g_assert_null (v[argc]);
  g_autofree char *rest = g_strjoinv (" ", v + 1);
  return g_strdup_printf ("db=%s flag=%d args=%s", db != NULL ? db : "-", flag, rest);
}

static void
test_parser (void)
{
  static const struct {
    const char *args[6];
    const char *expected;
  } cases[] = {
    { { "--db", "a.db", "x", NULL }, "db=a.db flag=0 args=x" },
    { { "--db", "a.db", "--", "--db=h.db", "x", NULL }, "db=a.db flag=0 args=--db=h.db x" },
    { { "--db", "a.db", "x", "--", "--db=h.db", NULL }, "db=a.db flag=0 args=x --db=h.db" },
    { { "--", "--flag", NULL }, "db=- flag=0 args=--flag" },
    { { "--", "--", "x", NULL }, "db=- flag=0 args=-- x" },
    { { "-f", "--", NULL }, "db=- flag=1 args=" },
    { { "--db", "--", "x", NULL }, "db=-- flag=0 args=x" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *got = parse (cases[i].args, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (got, ==, cases[i].expected);
    }
}

/* The photo named like an option, tagged into the gallery named on the command line; every
 * gallery command then finds it after "--". */
static void
test_gallery_commands (void)
{
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  g_autofree char *png = data_path ("preprocess/images/small_37x101.png");
  g_autofree char *photo = g_build_filename (work_dir, "--db=hijacked.db.png", NULL);
  g_autofree char *intended = g_build_filename (work_dir, "intended.db", NULL);
  g_autofree char *hijacked = g_build_filename (work_dir, "hijacked.db.png", NULL);
  g_autofree char *before = g_get_current_dir ();

  copy_file (png, photo);
  /* Relative names, as a shell glob gives them. */
  g_assert_cmpint (g_chdir (work_dir), ==, 0);
  {
    g_auto (CliTestResult) r =
      cli_test_run_va ("tag", "--model", model, "--tokenizer", tokenizer, "--device",
                       "cpu-reference", "--tasks", "caption", "--max-new-tokens", "6", "--beams",
                       "1", "--quiet", "--db", "intended.db", "--", "--db=hijacked.db.png", NULL);
    g_test_message ("tag: %s%s", r.out, r.err);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_null (strstr (r.err, "“--”"));
  }
  g_assert_true (g_file_test (intended, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (hijacked, G_FILE_TEST_EXISTS));
  {
    g_auto (CliTestResult) r =
      cli_test_run_va ("show", "--json", "--db", "intended.db", "--", "--db=hijacked.db.png", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "--db=hijacked.db.png"));
  }
  {
    g_auto (CliTestResult) r = cli_test_run_va ("tags", "--db", "intended.db", "--add", "odd", "--",
                                                "--db=hijacked.db.png", NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  {
    g_auto (CliTestResult) r =
      cli_test_run_va ("search", "--db", "intended.db", "--tag", "odd", "--", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "--db=hijacked.db.png"));
  }
  {
    g_auto (CliTestResult) r = cli_test_run_va ("export", "--csv", "--db", "intended.db", "--",
                                                "--db=hijacked.db.png", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "odd"));
  }
  g_assert_false (g_file_test (hijacked, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_chdir (before), ==, 0);
}

/* run, preprocess and parse take what follows "--" as a picture or a text; a command without
 * arguments (tokenize) accepts a lone "--". */
static void
test_model_commands (void)
{
  g_autofree char *model = data_path ("models/tiny");
  g_autofree char *tokenizer = data_path ("tokenizer");
  g_autofree char *png = data_path ("preprocess/images/small_37x101.png");
  g_autofree char *photo = g_build_filename (work_dir, "--beams=9.png", NULL);
  g_autofree char *before = g_get_current_dir ();

  copy_file (png, photo);
  g_assert_cmpint (g_chdir (work_dir), ==, 0);
  {
    g_auto (CliTestResult) r = cli_test_run_va (
      "run", "--model", model, "--tokenizer", tokenizer, "--device", "cpu-reference", "--task",
      "<CAPTION>", "--max-new-tokens", "4", "--beams", "1", "--json", "--", "--beams=9.png", NULL);
    g_test_message ("run: %s%s", r.out, r.err);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "--beams=9.png"));
  }
  {
    g_auto (CliTestResult) r =
      cli_test_run_va ("preprocess", "--size", "32", "--", "--beams=9.png", NULL);
    g_assert_cmpint (r.status, ==, 0);
  }
  {
    g_auto (CliTestResult) r = cli_test_run_va ("parse", "--task", "<CAPTION>", "--image-size",
                                                "10x10", "--", "--json", NULL);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "--json"));
  }
  {
    g_auto (CliTestResult) r =
      cli_test_run_va ("tokenize", "--model", tokenizer, "--task", "<CAPTION>", "--", NULL);
    g_test_message ("tokenize: %s%s", r.out, r.err);
    g_assert_cmpint (r.status, ==, 0);
  }
  g_assert_cmpint (g_chdir (before), ==, 0);
}

/* A model input side Florence-2 cannot take is refused as that, before any model is read (the
 * model folder here does not exist): never blamed on the beams or on the text's length. The
 * help gives the bound the check uses. (0 means the model's own size.) */
static void
test_image_size (void)
{
  static const char *const sizes[] = { "-32", "16", "100", "1024", "1600", "99999999999" };
  g_autofree char *missing = g_build_filename (work_dir, "no-such-model", NULL);
  g_autofree char *png = data_path ("preprocess/images/small_37x101.png");

  for (gsize i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_auto (CliTestResult) r = cli_test_run_va ("run", "--model", missing, "--task", "<CAPTION>",
                                                  "--image-size", sizes[i], png, NULL);
      g_test_message ("--image-size %s: %d %s", sizes[i], r.status, r.err);
      g_assert_cmpint (r.status, >=, 1);
      g_assert_cmpint (r.status, <=, 2);
      g_assert_null (strstr (r.err, "beam"));
      g_assert_null (strstr (r.err, "no-such-model"));
      if (strstr (r.err, "image size") == NULL && strstr (r.err, "--image-size") == NULL)
        g_error ("--image-size %s: “%s” does not name the image size", sizes[i], r.err);
    }
  {
    g_auto (CliTestResult) r = cli_test_run_va ("run", "--help", NULL);
    const char *line = strstr (r.out, "--image-size");

    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (line);
    g_assert_null (strstr (r.out, "1600"));
    g_assert_nonnull (strstr (line, "992"));
  }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  work_dir = g_dir_make_tmp ("depict-cli-options-XXXXXX", NULL);
  g_test_add_func ("/cli/options/parser", test_parser);
  g_test_add_func ("/cli/options/gallery-commands", test_gallery_commands);
  g_test_add_func ("/cli/options/model-commands", test_model_commands);
  g_test_add_func ("/cli/options/image-size", test_image_size);
  status = g_test_run ();
  {
    g_autoptr (GDir) dir = g_dir_open (work_dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (work_dir, name, NULL);
        g_unlink (path);
      }
    g_rmdir (work_dir);
  }
  return status;
}
