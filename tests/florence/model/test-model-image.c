/* test-model-image.c: several tasks on one picture's features, through the model API
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * For each engine (argv: the device kinds, "cpu-reference", "cpu" and "vulkan"; a kind with no
 * device here is skipped) and each picture of the fixture cases of
 * tests/data/models/{tiny,tiny-eos}: one FlorenceModelImage, every case on that picture run on it
 * in turn (several tasks, beam counts and input sizes), then in the reverse order on a second
 * image. Each run's ids, text, result and score must equal those of the same task run alone
 * (florence_model_run on a fresh copy of the picture) and the fixture's generated ids; the first
 * run at an input size makes the features (timings.cached FALSE, vision > 0), every later one
 * reuses them (cached TRUE, preprocess and vision 0). Also: florence_model_encode_images over
 * several pictures gives the same results as each alone, and a dropped picture keeps what was made.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "florence/engine/florence-engine.h"
#include "florence/model/florence-model.h"
#include "gpu/gpu-device.h"
#include "image/image-loader.h"

typedef struct {
  char *name;
  char *task, *text_input;
  char *image; /* relative to DEPICT_TEST_DATA */
  guint num_beams, max_new_tokens;
  int image_size;
  GArray *want_ids;
} Case;

static void
case_free (Case *c)
{
  g_free (c->name);
  g_free (c->task);
  g_free (c->text_input);
  g_free (c->image);
  g_array_unref (c->want_ids);
  g_free (c);
}

typedef struct {
  char *model; /* directory under models/ */
  char *device;
  GPtrArray *cases; /* Case, every one on the same model */
} Suite;

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

static GPtrArray *
load_cases (const char *cases_model)
{
  g_autofree char *index = data_path ("models", cases_model, "cases", "index.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  json_parser_load_from_file (parser, index, &error);
  g_assert_no_error (error);
  JsonArray *arr = json_node_get_array (json_parser_get_root (parser));
  GPtrArray *cases = g_ptr_array_new_with_free_func ((GDestroyNotify) case_free);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      const char *name =
        json_object_get_string_member (json_array_get_object_element (arr, i), "name");
      g_autofree char *path =
        data_path ("models", cases_model, "cases", name, "expected.json", NULL);
      g_autoptr (JsonParser) ep = json_parser_new ();
      json_parser_load_from_file (ep, path, &error);
      g_assert_no_error (error);
      JsonObject *exp = json_node_get_object (json_parser_get_root (ep));
      JsonObject *gen = json_object_get_object_member (exp, "generation");
      Case *c = g_new0 (Case, 1);
      c->name = g_strdup (name);
      c->task = g_strdup (json_object_get_string_member (exp, "task"));
      c->text_input = g_strdup (json_object_get_string_member_with_default (exp, "text_input", ""));
      c->image = g_strdup (json_object_get_string_member (exp, "image"));
      c->num_beams = (guint) json_object_get_int_member (gen, "num_beams");
      c->max_new_tokens = (guint) json_object_get_int_member (gen, "max_new_tokens");
      c->image_size = (int) json_object_get_int_member (exp, "processor_image_size");
      c->want_ids = g_array_new (FALSE, FALSE, sizeof (gint32));
      JsonArray *ids = json_object_get_array_member (exp, "generated_ids");
      for (guint k = 0; k < json_array_get_length (ids); k++)
        {
          gint32 v = (gint32) json_array_get_int_element (ids, k);
          g_array_append_val (c->want_ids, v);
        }
      g_ptr_array_add (cases, c);
    }
  return cases;
}

/* The model on the suite's device, or NULL (test skipped) when there is none here. */
static FlorenceModel *
load_model (const Suite *s)
{
  g_autofree char *dir = data_path ("models", s->model, NULL);
  g_autofree char *tok = data_path ("tokenizer", NULL);
  FlorenceModelOptions mo = { FLORENCE_DEVICE_AUTO, tok, NULL };
  g_autoptr (GError) error = NULL;
  g_assert_true (florence_device_kind_from_string (s->device, &mo.device));
  FlorenceModel *model = florence_model_load (dir, &mo, &error);
  if (model == NULL &&
      (g_error_matches (error, GPU_ERROR, GPU_ERROR_NO_DEVICE) ||
       g_error_matches (error, FLORENCE_ENGINE_ERROR, FLORENCE_ENGINE_ERROR_UNAVAILABLE)))
    {
      g_test_skip_printf ("no %s device here: %s", s->device, error->message);
      return NULL;
    }
  g_assert_no_error (error);
  return model;
}

static ImageRgb *
load_picture (const char *relative)
{
  g_autofree char *path = data_path (relative, NULL);
  /* The reference saw the stored orientation. */
  ImageLoadOptions lo = { .ignore_orientation = TRUE };
  g_autoptr (GError) error = NULL;
  ImageRgb *picture = image_load (path, &lo, &error);
  g_assert_no_error (error);
  return picture;
}

static FlorenceRunOptions
case_options (const Case *c)
{
  FlorenceRunOptions o = {
    .task = c->task,
    .text_input = c->text_input,
    .num_beams = c->num_beams,
    .max_new_tokens = c->max_new_tokens,
    .image_size = c->image_size,
  };
  return o;
}

static gboolean
ids_equal (const GArray *a, const GArray *b)
{
  return a->len == b->len && memcmp (a->data, b->data, a->len * sizeof (gint32)) == 0;
}

static char *
result_json (const FlorenceRun *run)
{
  g_autoptr (JsonNode) node = florence_result_to_json_node (run->result);
  return json_to_string (node, FALSE);
}

/* A run on shared features against the same task alone and against the fixture. */
static void
check_run (const Case *c, const FlorenceRun *shared, const FlorenceRun *alone)
{
  if (!ids_equal (shared->token_ids, c->want_ids))
    g_test_fail_printf ("%s: the ids on shared features differ from the reference's", c->name);
  if (!ids_equal (shared->token_ids, alone->token_ids))
    g_test_fail_printf ("%s: the ids on shared features differ from the task run alone", c->name);
  g_assert_cmpstr (shared->text, ==, alone->text);
  g_autofree char *rs = result_json (shared);
  g_autofree char *ra = result_json (alone);
  g_assert_cmpstr (rs, ==, ra);
  g_assert_cmpint (shared->has_score, ==, alone->has_score);
  if (shared->has_score &&
      memcmp (&shared->sequences_score, &alone->sequences_score, sizeof (float)) != 0)
    g_test_fail_printf ("%s: sequences_score %.9g on shared features, %.9g alone", c->name,
                        shared->sequences_score, alone->sequences_score);
  g_assert_cmpint (shared->image_width, ==, alone->image_width);
  g_assert_cmpint (shared->image_height, ==, alone->image_height);
  g_assert_cmpint (shared->input_size, ==, alone->input_size);
}

/* Every case of the suite on one image per picture, in order and reversed. */
static void
test_tasks_on_one_image (gconstpointer data)
{
  const Suite *s = data;
  g_autoptr (FlorenceModel) model = load_model (s);
  if (model == NULL)
    return;
  g_autoptr (GError) error = NULL;

  /* Each task alone first: the runs to compare with. */
  g_autoptr (GPtrArray) alone = g_ptr_array_new_with_free_func ((GDestroyNotify) florence_run_free);
  for (guint i = 0; i < s->cases->len; i++)
    {
      const Case *c = s->cases->pdata[i];
      g_autoptr (ImageRgb) picture = load_picture (c->image);
      FlorenceRunOptions o = case_options (c);
      FlorenceRun *run = florence_model_run (model, picture, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_false (run->timings.cached);
      g_ptr_array_add (alone, run);
    }

  /* Pictures in the order of their first case. */
  g_autoptr (GPtrArray) pictures = g_ptr_array_new ();
  for (guint i = 0; i < s->cases->len; i++)
    {
      const Case *c = s->cases->pdata[i];
      if (!g_ptr_array_find_with_equal_func (pictures, c->image, g_str_equal, NULL))
        g_ptr_array_add (pictures, c->image);
    }

  guint n_shared = 0;
  for (int reversed = 0; reversed < 2; reversed++)
    for (guint p = 0; p < pictures->len; p++)
      {
        const char *picture_name = pictures->pdata[p];
        g_autoptr (FlorenceModelImage) image =
          florence_model_image_new (model, load_picture (picture_name));
        g_autoptr (GArray) sizes_seen = g_array_new (FALSE, FALSE, sizeof (int));
        for (guint k = 0; k < s->cases->len; k++)
          {
            guint i = reversed ? s->cases->len - 1 - k : k;
            const Case *c = s->cases->pdata[i];
            if (strcmp (c->image, picture_name) != 0)
              continue;
            gboolean seen = FALSE;
            for (guint j = 0; j < sizes_seen->len; j++)
              seen = seen || g_array_index (sizes_seen, int, j) == c->image_size;
            g_assert_cmpint (florence_model_image_has_features (image, c->image_size), ==, seen);

            FlorenceRunOptions o = case_options (c);
            g_autoptr (FlorenceRun) run =
              florence_model_run_image (model, image, &o, NULL, NULL, NULL, &error);
            g_assert_no_error (error);
            check_run (c, run, alone->pdata[i]);
            /* The first run at a size makes the features, the later ones reuse them. */
            g_assert_cmpint (run->timings.cached, ==, seen);
            if (seen)
              {
                g_assert_cmpfloat (run->timings.vision, ==, 0.0);
                g_assert_cmpfloat (run->timings.preprocess, ==, 0.0);
                n_shared++;
              }
            else
              {
                g_assert_cmpfloat (run->timings.vision, >, 0.0);
                g_array_append_val (sizes_seen, c->image_size);
              }
            g_assert_true (florence_model_image_has_features (image, c->image_size));
          }
      }
  /* The fixtures have several cases per picture: some runs were on shared features. */
  g_assert_cmpuint (n_shared, >, 0);
  g_test_message ("%s on %s: %u cases, %u runs on shared features", s->model, s->device,
                  s->cases->len, n_shared);
}

/* florence_model_encode_images over every picture at once, then a task on each, equals the
 * task alone; a picture dropped after preprocessing still runs at its prepared size and
 * refuses another. */
static void
test_encode_several (gconstpointer data)
{
  const Suite *s = data;
  g_autoptr (FlorenceModel) model = load_model (s);
  if (model == NULL)
    return;
  g_autoptr (GError) error = NULL;
  const int size = florence_model_get_config (model)->image_size;

  /* the first case at the model's size of each picture */
  g_autoptr (GPtrArray) firsts = g_ptr_array_new ();
  for (guint i = 0; i < s->cases->len; i++)
    {
      const Case *c = s->cases->pdata[i];
      gboolean have = c->image_size != size;
      for (guint j = 0; j < firsts->len && !have; j++)
        have = strcmp (((const Case *) firsts->pdata[j])->image, c->image) == 0;
      if (!have)
        g_ptr_array_add (firsts, (gpointer) c);
    }
  g_assert_cmpuint (firsts->len, >=, 2);
  g_assert_cmpuint (florence_model_get_image_batch (model, size), >=, 1);

  g_autoptr (GPtrArray) images =
    g_ptr_array_new_with_free_func ((GDestroyNotify) florence_model_image_unref);
  for (guint i = 0; i < firsts->len; i++)
    {
      const Case *c = firsts->pdata[i];
      FlorenceModelImage *image = florence_model_image_new (model, load_picture (c->image));
      g_assert_true (florence_model_image_preprocess (image, 0, &error));
      g_assert_no_error (error);
      guint64 with_picture = florence_model_image_get_bytes (image);
      florence_model_image_drop_picture (image);
      g_assert_null (florence_model_image_get_picture (image));
      g_assert_cmpuint (florence_model_image_get_bytes (image), <, with_picture);
      g_ptr_array_add (images, image);
    }
  g_assert_true (florence_model_encode_images (model, (FlorenceModelImage *const *) images->pdata,
                                               images->len, 0, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < firsts->len; i++)
    {
      const Case *c = firsts->pdata[i];
      FlorenceModelImage *image = images->pdata[i];
      g_assert_true (florence_model_image_has_features (image, 0));
      FlorenceRunOptions o = case_options (c);
      g_autoptr (FlorenceRun) shared =
        florence_model_run_image (model, image, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_autoptr (ImageRgb) picture = load_picture (c->image);
      g_autoptr (FlorenceRun) alone =
        florence_model_run (model, picture, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      check_run (c, shared, alone);
      g_assert_false (shared->timings.cached);
      g_assert_cmpfloat (shared->timings.vision, >, 0.0);

      /* another size needs the picture, which is gone */
      o.image_size = size + 32;
      g_autoptr (FlorenceRun) other =
        florence_model_run_image (model, image, &o, NULL, NULL, NULL, &error);
      g_assert_error (error, FLORENCE_MODEL_ERROR, FLORENCE_MODEL_ERROR_INPUT);
      g_assert_null (other);
      g_clear_error (&error);
    }
}

/* A file decoded once: the decode time counts in the first run's preprocessing only. */
static void
test_from_file (gconstpointer data)
{
  const Suite *s = data;
  g_autoptr (FlorenceModel) model = load_model (s);
  if (model == NULL)
    return;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = data_path ("preprocess", "images", "photo_640x480.png", NULL);
  g_autoptr (FlorenceModelImage) image =
    florence_model_image_new_from_file (model, path, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (florence_model_image_get_width (image), ==, 640);
  g_assert_cmpint (florence_model_image_get_height (image), ==, 480);
  const char *tasks[] = { "<CAPTION>", "<OD>", "<OCR>" };
  for (guint t = 0; t < G_N_ELEMENTS (tasks); t++)
    {
      FlorenceRunOptions o = { .task = tasks[t], .num_beams = 1, .max_new_tokens = 6 };
      g_autoptr (FlorenceRun) run =
        florence_model_run_image (model, image, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_autoptr (FlorenceRun) alone =
        florence_model_run_file (model, path, &o, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ids_equal (run->token_ids, alone->token_ids));
      g_assert_cmpint (run->timings.cached, ==, t > 0);
      if (t == 0)
        g_assert_cmpfloat (run->timings.preprocess, >, 0.0);
      else
        g_assert_cmpfloat (run->timings.preprocess, ==, 0.0);
      g_autoptr (JsonNode) timings = florence_timings_to_json_node (&run->timings);
      g_assert_cmpint (json_object_get_boolean_member (json_node_get_object (timings), "cached"),
                       ==, t > 0);
    }
  /* A file that is not a picture: an error, no image. */
  g_autofree char *bad = data_path ("models", "tiny", "config.json", NULL);
  g_autoptr (FlorenceModelImage) none =
    florence_model_image_new_from_file (model, bad, NULL, &error);
  g_assert_null (none);
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("DEPICT_TEST_DATA") == NULL)
    {
      g_printerr ("DEPICT_TEST_DATA is not set\n");
      return 77;
    }
  static const char *const default_devices[] = { "cpu-reference", "vulkan", NULL };
  const char *const *devices = argc > 1 ? (const char *const *) argv + 1 : default_devices;
  static const char *const models[][2] = { { "tiny", "tiny" }, { "tiny-eos", "tiny-eos" } };
  for (guint d = 0; devices[d] != NULL; d++)
    for (guint m = 0; m < G_N_ELEMENTS (models); m++)
      {
        Suite *s = g_new0 (Suite, 1);
        s->model = g_strdup (models[m][0]);
        s->device = g_strdup (devices[d]);
        s->cases = load_cases (models[m][1]);
        g_autofree char *p1 =
          g_strdup_printf ("/florence/model-image/%s/%s/tasks-on-one-image", devices[d], s->model);
        g_test_add_data_func (p1, s, test_tasks_on_one_image);
        g_autofree char *p2 =
          g_strdup_printf ("/florence/model-image/%s/%s/encode-several", devices[d], s->model);
        g_test_add_data_func (p2, s, test_encode_several);
        if (m == 0)
          {
            g_autofree char *p3 =
              g_strdup_printf ("/florence/model-image/%s/%s/from-file", devices[d], s->model);
            g_test_add_data_func (p3, s, test_from_file);
          }
      }
  return g_test_run ();
}
