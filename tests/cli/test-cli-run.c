/* test-cli-run.c: `depict-cli run` end to end on the fixture models
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs depict-cli on the CPU reference for every case of the tiny
 * fixture models, from the case's picture file, and checks the JSON it prints: the generated
 * ids, the text and the post-processed result equal the reference's exactly.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "cli/cli-test-util.h"
#include "gpu/gpu-device.h"

/* depict-cli run ARGS… on the CPU reference. */
static CliTestResult
run_cli (const char *const *args)
{
  static const char *const env[] = { "DEPICT_DEVICE", "cpu-reference", NULL };
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) "run");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  return cli_test_run ((const char *const *) argv->pdata, env, NULL);
}

static char *
data_path (const char *first, ...)
{
  va_list args;
  va_start (args, first);
  g_autoptr (GPtrArray) parts = g_ptr_array_new ();
  g_ptr_array_add (parts, (gpointer) g_getenv ("DEPICT_TEST_DATA"));
  for (const char *p = first; p != NULL; p = va_arg (args, const char *))
    g_ptr_array_add (parts, (gpointer) p);
  va_end (args);
  g_ptr_array_add (parts, NULL);
  return g_build_filenamev ((char **) parts->pdata);
}

/* JSON equality where numbers compare as doubles (1 and 1.0 are equal). */
static gboolean
json_same (JsonNode *a, JsonNode *b)
{
  if (JSON_NODE_TYPE (a) != JSON_NODE_TYPE (b))
    return FALSE;
  switch (JSON_NODE_TYPE (a))
    {
    case JSON_NODE_NULL:
      return TRUE;
    case JSON_NODE_VALUE:
      {
        GType ta = json_node_get_value_type (a), tb = json_node_get_value_type (b);
        gboolean na = ta == G_TYPE_INT64 || ta == G_TYPE_DOUBLE;
        gboolean nb = tb == G_TYPE_INT64 || tb == G_TYPE_DOUBLE;
        if (na && nb)
          return json_node_get_double (a) == json_node_get_double (b);
        if (ta != tb)
          return FALSE;
        if (ta == G_TYPE_STRING)
          return g_strcmp0 (json_node_get_string (a), json_node_get_string (b)) == 0;
        if (ta == G_TYPE_BOOLEAN)
          return json_node_get_boolean (a) == json_node_get_boolean (b);
        return FALSE;
      }
    case JSON_NODE_ARRAY:
      {
        JsonArray *x = json_node_get_array (a), *y = json_node_get_array (b);
        if (json_array_get_length (x) != json_array_get_length (y))
          return FALSE;
        for (guint i = 0; i < json_array_get_length (x); i++)
          if (!json_same (json_array_get_element (x, i), json_array_get_element (y, i)))
            return FALSE;
        return TRUE;
      }
    case JSON_NODE_OBJECT:
      {
        JsonObject *x = json_node_get_object (a), *y = json_node_get_object (b);
        if (json_object_get_size (x) != json_object_get_size (y))
          return FALSE;
        g_autoptr (GList) members = json_object_get_members (x);
        for (GList *l = members; l != NULL; l = l->next)
          if (!json_object_has_member (y, l->data) ||
              !json_same (json_object_get_member (x, l->data), json_object_get_member (y, l->data)))
            return FALSE;
        return TRUE;
      }
    default:
      return FALSE;
    }
}

typedef struct {
  char *model, *cases_model, *name;
} Case;

static void
test_case (gconstpointer data)
{
  const Case *tc = data;
  g_autofree char *exp_path =
    data_path ("models", tc->cases_model, "cases", tc->name, "expected.json", NULL);
  g_autoptr (JsonParser) ep = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_file (ep, exp_path, &error);
  g_assert_no_error (error);
  JsonObject *exp = json_node_get_object (json_parser_get_root (ep));
  JsonObject *gen = json_object_get_object_member (exp, "generation");

  g_autofree char *model_dir = data_path ("models", tc->model, NULL);
  g_autofree char *tok_dir = data_path ("tokenizer", NULL);
  g_autofree char *image = data_path (json_object_get_string_member (exp, "image"), NULL);
  g_autofree char *beams =
    g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (gen, "num_beams"));
  g_autofree char *max_new =
    g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (gen, "max_new_tokens"));
  g_autofree char *size =
    g_strdup_printf ("%" G_GINT64_FORMAT, json_object_get_int_member (exp, "processor_image_size"));
  const char *args[] = { "--model",
                         model_dir,
                         "--tokenizer",
                         tok_dir,
                         "--task",
                         json_object_get_string_member (exp, "task"),
                         "--text",
                         json_object_get_string_member (exp, "text_input"),
                         "--beams",
                         beams,
                         "--max-new-tokens",
                         max_new,
                         "--image-size",
                         size,
                         "--json",
                         image,
                         NULL };
  CliTestResult r = run_cli (args);
  if (r.status != 0)
    g_test_message ("stderr: %s", r.err);
  g_assert_cmpint (r.status, ==, 0);

  g_autoptr (JsonParser) op = json_parser_new ();
  json_parser_load_from_data (op, r.out, -1, &error);
  g_assert_no_error (error);
  JsonObject *out = json_node_get_object (json_parser_get_root (op));

  JsonNode *got_ids = json_object_get_member (out, "token_ids");
  JsonNode *want_ids = json_object_get_member (exp, "generated_ids");
  if (!json_same (got_ids, want_ids))
    {
      JsonArray *g = json_node_get_array (got_ids), *w = json_node_get_array (want_ids);
      guint i = 0;
      while (i < json_array_get_length (g) && i < json_array_get_length (w) &&
             json_array_get_int_element (g, i) == json_array_get_int_element (w, i))
        i++;
      g_test_fail_printf ("%s/%s: the generated ids differ from token %u on", tc->model, tc->name,
                          i);
    }
  g_assert_true (json_same (json_object_get_member (out, "prompt_ids"),
                            json_object_get_member (exp, "input_ids")));
  g_assert_cmpstr (json_object_get_string_member (out, "text"), ==,
                   json_object_get_string_member (exp, "generated_text"));
  g_assert_cmpstr (json_object_get_string_member (out, "prompt"), ==,
                   json_object_get_string_member (exp, "prompt"));
  if (!json_same (json_object_get_member (out, "post_processed"),
                  json_object_get_member (exp, "post_processed")))
    {
      g_autofree char *a = json_to_string (json_object_get_member (out, "post_processed"), FALSE);
      g_autofree char *b = json_to_string (json_object_get_member (exp, "post_processed"), FALSE);
      g_test_fail_printf ("%s: post_processed %s, expected %s", tc->name, a, b);
    }
  if (json_object_has_member (exp, "sequences_score"))
    g_assert_cmpfloat_with_epsilon (json_object_get_double_member (out, "sequences_score"),
                                    json_object_get_double_member (exp, "sequences_score"), 1e-5);
  /* one log-probability per id after the start id; with beams their sum is the reference's
   * score times the length (length penalty 1) */
  JsonArray *lp = json_object_get_array_member (out, "token_logprobs");
  guint n_lp = json_array_get_length (lp);
  g_assert_cmpuint (n_lp + 1, ==, json_array_get_length (json_node_get_array (got_ids)));
  double sum = 0.0;
  for (guint i = 0; i < n_lp; i++)
    sum += json_array_get_double_element (lp, i);
  if (json_object_has_member (exp, "sequences_score"))
    {
      double want = json_object_get_double_member (exp, "sequences_score") * n_lp;
      if (fabs (sum - want) > 1e-4 + 1e-4 * fabs (want))
        g_test_fail_printf ("%s: token_logprobs add up to %.7f, expected %.7f", tc->name, sum,
                            want);
    }
  /* a score beside the labels of every instance */
  JsonObject *res = json_object_get_object_member (out, "result");
  if (json_object_has_member (res, "labels"))
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (res, "scores")), ==,
                      json_array_get_length (json_object_get_array_member (res, "labels")));
  /* the other members of a run line */
  const char *members[] = { "image", "task", "text_input", "result", "timings", "device" };
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    g_assert_true (json_object_has_member (out, members[i]));
  JsonObject *t = json_object_get_object_member (out, "timings");
  const char *timings[] = { "load", "preprocess", "vision", "encoder", "decode", "total" };
  for (guint i = 0; i < G_N_ELEMENTS (timings); i++)
    g_assert_cmpfloat (json_object_get_double_member (t, timings[i]), >=, 0.0);
  cli_test_result_clear (&r);
}

static void
test_bad_image_does_not_stop_the_others (void)
{
  g_autofree char *model_dir = data_path ("models", "tiny", NULL);
  g_autofree char *tok_dir = data_path ("tokenizer", NULL);
  g_autofree char *good = data_path ("preprocess", "images", "photo_640x480.png", NULL);
  g_autofree char *dir = g_dir_make_tmp ("depict-cli-run-XXXXXX", NULL);
  g_autofree char *bad = g_build_filename (dir, "broken.png", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.jpg", NULL);
  g_assert_true (g_file_set_contents (bad, "\x89PNG\r\n\x1a\nnot really", -1, NULL));

  const char *args[] = {
    "--model",          model_dir, "--tokenizer", tok_dir, "--task", "<CAPTION>", "--beams", "1",
    "--max-new-tokens", "5",       "--json",      missing, bad,      good,        NULL
  };
  CliTestResult r = run_cli (args);
  g_assert_cmpint (r.status, !=, 0);
  g_assert_nonnull (strstr (r.err, "missing.jpg"));
  g_assert_nonnull (strstr (r.err, "broken.png"));
  g_auto (GStrv) lines = g_strsplit (g_strstrip (r.out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 1);
  g_assert_nonnull (strstr (lines[0], "photo_640x480.png"));
  g_assert_nonnull (strstr (lines[0], "\"token_ids\":[2,0,"));
  cli_test_result_clear (&r);
  g_unlink (bad);
  g_rmdir (dir);

  /* the plain output: the picture's name and its caption */
  const char *args2[] = { "--model", model_dir, "--tokenizer",      tok_dir, "--task", "<CAPTION>",
                          "--beams", "1",       "--max-new-tokens", "5",     good,     NULL };
  r = run_cli (args2);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_str_has_prefix (r.out, good));
  cli_test_result_clear (&r);
}

/* Several --task on each picture: one JSON object per picture and task, in that order, each
 * the same as that task run alone; the picture's features are made once (timings.cached). */
static void
test_several_tasks (void)
{
  g_autofree char *model_dir = data_path ("models", "tiny", NULL);
  g_autofree char *tok_dir = data_path ("tokenizer", NULL);
  g_autofree char *photo = data_path ("preprocess", "images", "photo_640x480.png", NULL);
  g_autofree char *gray = data_path ("preprocess", "images", "gray_320x200.png", NULL);
  const char *tasks[] = { "<CAPTION>", "od", "<CAPTION_TO_PHRASE_GROUNDING>" };
  const char *args[] = { "--model", model_dir,   "--tokenizer", tok_dir,  "--task",
                         tasks[0],  "--task",    tasks[1],      "--task", tasks[2],
                         "--text",  "a red car", "--beams",     "2",      "--max-new-tokens",
                         "9",       "--json",    photo,         gray,     NULL };
  CliTestResult r = run_cli (args);
  if (r.status != 0)
    g_test_message ("stderr: %s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  g_auto (GStrv) lines = g_strsplit (g_strstrip (r.out), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 6);
  for (guint i = 0; i < 6; i++)
    {
      const char *image = i < 3 ? photo : gray;
      guint t = i % 3;
      g_autoptr (JsonParser) p = json_parser_new ();
      g_autoptr (GError) error = NULL;
      json_parser_load_from_data (p, lines[i], -1, &error);
      g_assert_no_error (error);
      JsonObject *o = json_node_get_object (json_parser_get_root (p));
      g_assert_cmpstr (json_object_get_string_member (o, "image"), ==, image);
      JsonObject *timings = json_object_get_object_member (o, "timings");
      g_assert_cmpint (json_object_get_boolean_member (timings, "cached"), ==, t > 0);
      if (t > 0)
        g_assert_cmpfloat (json_object_get_double_member (timings, "vision"), ==, 0.0);

      /* the same task alone (the text only for the task that takes one) */
      const char *alone_args[] = {
        "--model", model_dir, "--tokenizer",      tok_dir, "--task", tasks[t],    "--beams", "2",
        "--json",  image,     "--max-new-tokens", "9",     "--text", "a red car", NULL
      };
      if (t != 2)
        alone_args[12] = NULL;
      CliTestResult a = run_cli (alone_args);
      g_assert_cmpint (a.status, ==, 0);
      g_autoptr (JsonParser) ap = json_parser_new ();
      json_parser_load_from_data (ap, a.out, -1, &error);
      g_assert_no_error (error);
      JsonObject *ao = json_node_get_object (json_parser_get_root (ap));
      const char *same[] = { "task", "prompt_ids", "token_ids",      "token_logprobs",
                             "text", "result",     "post_processed", "sequences_score" };
      for (guint k = 0; k < G_N_ELEMENTS (same); k++)
        if (!json_same (json_object_get_member (o, same[k]), json_object_get_member (ao, same[k])))
          g_test_fail_printf ("%s on %s: %s differs from the task run alone", tasks[t], image,
                              same[k]);
      g_assert_false (
        json_object_get_boolean_member (json_object_get_object_member (ao, "timings"), "cached"));
      cli_test_result_clear (&a);
    }
  cli_test_result_clear (&r);

  /* --prompt-ids with several tasks is refused */
  const char *bad[] = { "--model", model_dir, "--tokenizer",  tok_dir, "--task", "caption",
                        "--task",  "od",      "--prompt-ids", "0,2",   photo,    NULL };
  r = run_cli (bad);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "--prompt-ids"));
  cli_test_result_clear (&r);
}

static void
test_usage_errors (void)
{
  g_autofree char *model_dir = data_path ("models", "tiny", NULL);
  g_autofree char *tok_dir = data_path ("tokenizer", NULL);
  g_autofree char *good = data_path ("preprocess", "images", "photo_640x480.png", NULL);

  const char *unknown_task[] = { "--model", model_dir,  "--tokenizer", tok_dir,
                                 "--task",  "<CAPTON>", good,          NULL };
  CliTestResult r = run_cli (unknown_task);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "<CAPTION>"));
  cli_test_result_clear (&r);

  const char *bad_size[] = { "--model",   model_dir,      "--tokenizer", tok_dir, "--task",
                             "<CAPTION>", "--image-size", "100",         good,    NULL };
  r = run_cli (bad_size);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "32 to 992"));
  cli_test_result_clear (&r);

  /* the limits of florence-limits.h, before the model loads */
  const char *too_large[] = { "--model",   model_dir,      "--tokenizer", tok_dir, "--task",
                              "<CAPTION>", "--image-size", "1024",        good,    NULL };
  r = run_cli (too_large);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "32 to 992"));
  cli_test_result_clear (&r);
  const char *too_many_beams[] = { "--model",   model_dir, "--tokenizer", tok_dir, "--task",
                                   "<CAPTION>", "--beams", "9",           good,    NULL };
  r = run_cli (too_many_beams);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "1 to 8"));
  cli_test_result_clear (&r);
  const char *too_long[] = { "--model",   model_dir,          "--tokenizer", tok_dir, "--task",
                             "<CAPTION>", "--max-new-tokens", "1025",        good,    NULL };
  r = run_cli (too_long);
  g_assert_cmpint (r.status, ==, 2);
  g_assert_nonnull (strstr (r.err, "1 to 1024"));
  cli_test_result_clear (&r);

  const char *no_tokenizer[] = { "--model", model_dir, "--task", "<CAPTION>", good, NULL };
  r = run_cli (no_tokenizer);
  g_assert_cmpint (r.status, ==, 1);
  g_assert_nonnull (strstr (r.err, "tokenizer"));
  cli_test_result_clear (&r);

  g_autofree char *nowhere = data_path ("models", "no-such-model", NULL);
  const char *no_model[] = { "--model", nowhere, "--task", "<CAPTION>", good, NULL };
  r = run_cli (no_model);
  g_assert_cmpint (r.status, ==, 1);
  cli_test_result_clear (&r);
}

/* The GPU engine from the command line: the same ids as the reference (lavapipe here), whether
 * --device names the kind ("vulkan") or the device itself, as the preferences store it; a name
 * that matches no device is a clear error, not a silent fallback. */
static void
test_vulkan_device (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GpuDevice) device = gpu_device_new (&error);
  if (device == NULL)
    {
      g_test_skip ("no Vulkan device");
      return;
    }
  g_autofree char *exp_path =
    data_path ("models", "tiny", "cases", "od_beam3", "expected.json", NULL);
  g_autoptr (JsonParser) ep = json_parser_new ();
  json_parser_load_from_file (ep, exp_path, &error);
  g_assert_no_error (error);
  JsonObject *exp = json_node_get_object (json_parser_get_root (ep));

  g_autofree char *model_dir = data_path ("models", "tiny", NULL);
  g_autofree char *tok_dir = data_path ("tokenizer", NULL);
  g_autofree char *image = data_path ("preprocess", "images", "photo_640x480.png", NULL);
  const char *name = gpu_device_get_info (device)->name;
  const char *selectors[] = { "vulkan", name };

  for (gsize i = 0; i < G_N_ELEMENTS (selectors); i++)
    {
      const char *args[] = { "--model",          model_dir, "--tokenizer", tok_dir,
                             "--task",           "<OD>",    "--beams",     "3",
                             "--max-new-tokens", "30",      "--device",    selectors[i],
                             "--json",           image,     NULL };
      CliTestResult r = run_cli (args);
      if (r.status != 0)
        g_test_message ("--device %s: stderr: %s", selectors[i], r.err);
      g_assert_cmpint (r.status, ==, 0);
      g_autoptr (JsonParser) op = json_parser_new ();
      json_parser_load_from_data (op, r.out, -1, &error);
      g_assert_no_error (error);
      JsonObject *out = json_node_get_object (json_parser_get_root (op));
      g_assert_true (json_same (json_object_get_member (out, "token_ids"),
                                json_object_get_member (exp, "generated_ids")));
      g_assert_cmpstr (json_object_get_string_member (out, "device"), ==, name);
      cli_test_result_clear (&r);
    }

  const char *bad[] = { "--model",   model_dir,  "--tokenizer",           tok_dir, "--task",
                        "<CAPTION>", "--device", "no-such-graphics-card", image,   NULL };
  CliTestResult r = run_cli (bad);
  g_assert_cmpint (r.status, !=, 0);
  g_assert_nonnull (strstr (r.err, "no-such-graphics-card"));
  cli_test_result_clear (&r);
}

/* --model also takes the name of an installed model, and without --model the first installed
 * one is used; with none installed, the error says how to get one. */
static void
test_model_by_name (void)
{
  g_autofree char *models = g_dir_make_tmp ("depict-cli-models-XXXXXX", NULL);
  g_autofree char *base = g_build_filename (models, "base", NULL);
  g_autofree char *image = data_path ("preprocess", "images", "photo_640x480.png", NULL);
  const char *copies[][2] = {
    { "models/tiny", "config.json" },       { "models/tiny", "preprocessor_config.json" },
    { "models/tiny", "model.safetensors" }, { "tokenizer", "tokenizer.json" },
    { "tokenizer", "vocab.json" },
  };
  const char *args[] = { "--task", "<CAPTION>", "--beams", "1", "--max-new-tokens",
                         "4",      "--json",    image,     NULL };
  CliTestResult r;

  g_setenv ("DEPICT_MODELS_DIR", models, TRUE);
  r = run_cli (args);
  g_assert_cmpint (r.status, !=, 0);
  g_assert_nonnull (strstr (r.err, "depict-cli download base"));
  cli_test_result_clear (&r);

  g_assert_cmpint (g_mkdir (base, 0755), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (copies); i++)
    {
      g_autofree char *from =
        g_build_filename (g_getenv ("DEPICT_TEST_DATA"), copies[i][0], copies[i][1], NULL);
      g_autofree char *to = g_build_filename (base, copies[i][1], NULL);
      g_autofree char *data = NULL;
      gsize len;
      g_assert_true (g_file_get_contents (from, &data, &len, NULL));
      g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
    }
  /* No --model: the first installed model. */
  r = run_cli (args);
  if (r.status != 0)
    g_test_message ("stderr: %s", r.err);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_nonnull (strstr (r.out, "\"token_ids\""));
  cli_test_result_clear (&r);
  /* --model base, by name; the task by its short name, as tokenize and parse take it. */
  {
    const char *named[] = { "--model",          "base", "--task", "caption", "--beams", "1",
                            "--max-new-tokens", "4",    "--json", image,     NULL };
    r = run_cli (named);
    g_assert_cmpint (r.status, ==, 0);
    g_assert_nonnull (strstr (r.out, "\"task\":\"<CAPTION>\""));
    cli_test_result_clear (&r);
  }
  /* An unknown name says what the names are. */
  {
    const char *unknown[] = { "--model", "huge", "--task", "<CAPTION>", image, NULL };
    r = run_cli (unknown);
    g_assert_cmpint (r.status, !=, 0);
    g_assert_nonnull (strstr (r.err, "depict-cli models"));
    cli_test_result_clear (&r);
  }
  g_unsetenv ("DEPICT_MODELS_DIR");
}

static void
add_cases (const char *model, const char *cases_model)
{
  g_autofree char *index = data_path ("models", cases_model, "cases", "index.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_file (parser, index, &error);
  g_assert_no_error (error);
  JsonArray *arr = json_node_get_array (json_parser_get_root (parser));
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      Case *tc = g_new0 (Case, 1);
      tc->model = g_strdup (model);
      tc->cases_model = g_strdup (cases_model);
      tc->name =
        g_strdup (json_object_get_string_member (json_array_get_object_element (arr, i), "name"));
      g_autofree char *path = g_strdup_printf ("/cli/run/%s/%s", model, tc->name);
      g_test_add_data_func (path, tc, test_case);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (g_getenv ("DEPICT_TEST_DATA"));
  add_cases ("tiny", "tiny");
  add_cases ("tiny-eos", "tiny-eos");
  add_cases ("tiny-bin", "tiny");
  g_test_add_func ("/cli/run/bad-image-does-not-stop-the-others",
                   test_bad_image_does_not_stop_the_others);
  g_test_add_func ("/cli/run/usage-errors", test_usage_errors);
  g_test_add_func ("/cli/run/several-tasks", test_several_tasks);
  g_test_add_func ("/cli/run/vulkan-device", test_vulkan_device);
  g_test_add_func ("/cli/run/model-by-name", test_model_by_name);
  return g_test_run ();
}
