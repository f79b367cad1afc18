/* test-model-limits.c: the limits of a run, the model resolver and the weights hash, which
 * the app, depict-cli and the gallery share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "florence/files/florence-config.h"
#include "florence/files/florence-weights-hash.h"
#include "florence/hub/florence-hub.h"
#include "florence/model/florence-limits.h"
#include "florence/model/florence-model-dir.h"
#include "florence/model/florence-model.h"
#include "image/image-rgb.h"

static char *
data_path (const char *a, const char *b)
{
  return g_build_filename (g_getenv ("DEPICT_TEST_DATA"), a, b, NULL);
}

static FlorenceConfig *
tiny_config (void)
{
  g_autofree char *dir = data_path ("models", "tiny");
  g_autoptr (GError) error = NULL;
  FlorenceConfig *config = florence_config_load (dir, &error);

  g_assert_no_error (error);
  return config;
}

static void
expect_out_of_range (const FlorenceConfig *config, int beams, int tokens, int size,
                     const char *in_message)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (florence_limits_check (config, beams, tokens, size, &error));
  g_assert_error (error, FLORENCE_LIMITS_ERROR, FLORENCE_LIMITS_ERROR_OUT_OF_RANGE);
  g_assert_nonnull (strstr (error->message, in_message));
}

/* 1 024 positions: the 962 image tokens of a 992 input leave room for a prompt, the 1 025 of a
 * 1 024 input do not. */
static void
test_limits (void)
{
  g_autoptr (FlorenceConfig) config = tiny_config ();

  g_assert_cmpint (config->max_position_embeddings, ==, 1024);
  g_assert_cmpint (florence_limits_max_image_size (config), ==, 992);
  g_assert_cmpint (florence_limits_max_image_size (NULL), ==, 992);
  g_assert_cmpint (florence_limits_max_new_tokens (config), ==, 1024);
  g_assert_cmpint (florence_limits_max_new_tokens (NULL), ==, FLORENCE_LIMITS_MAX_NEW_TOKENS);

  for (int with_config = 0; with_config < 2; with_config++)
    {
      const FlorenceConfig *c = with_config ? config : NULL;

      g_assert_true (florence_limits_check (c, 0, 0, 0, NULL));
      g_assert_true (florence_limits_check (c, 1, 1, 32, NULL));
      g_assert_true (florence_limits_check (c, 8, 1024, 992, NULL));
      expect_out_of_range (c, 9, 0, 0, "1 to 8");
      expect_out_of_range (c, 16, 0, 0, "1 to 8");
      expect_out_of_range (c, -1, 0, 0, "1 to 8");
      expect_out_of_range (c, 0, 1025, 0, "1 to 1024");
      expect_out_of_range (c, 0, -3, 0, "1 to 1024");
      expect_out_of_range (c, 0, 0, 1024, "32 to 992");
      expect_out_of_range (c, 0, 0, 1600, "32 to 992");
      expect_out_of_range (c, 0, 0, 100, "32 to 992");
      expect_out_of_range (c, 0, 0, 16, "32 to 992");
    }

  /* fewer positions, a smaller bound: 1 + 9² + 3 ≤ 100 < 1 + 10² + 3 */
  config->max_position_embeddings = 100;
  g_assert_cmpint (florence_limits_max_image_size (config), ==, 9 * 32);
  g_assert_cmpint (florence_limits_max_new_tokens (config), ==, 100);
  expect_out_of_range (config, 0, 101, 0, "1 to 100");
}

static FlorenceModel *
load_tiny (void)
{
  g_autofree char *dir = data_path ("models", "tiny");
  g_autofree char *tok = data_path ("tokenizer", NULL);
  FlorenceModelOptions options = { FLORENCE_DEVICE_CPU_REFERENCE, tok, NULL };
  g_autoptr (GError) error = NULL;
  FlorenceModel *model = florence_model_load (dir, &options, &error);

  g_assert_no_error (error);
  return model;
}

/* The model API refuses what the limits refuse, before any work. */
static void
test_run_checks_limits (void)
{
  g_autoptr (FlorenceModel) model = load_tiny ();
  g_autoptr (ImageRgb) image = image_rgb_new (64, 48, NULL);
  const struct {
    guint beams, tokens;
    int size;
  } bad[] = { { 9, 4, 0 }, { 1, 1025, 0 }, { 1, 4, 1024 }, { 1, 4, 1600 }, { 1, 4, 100 } };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      FlorenceRunOptions options = { .task = "<CAPTION>",
                                     .num_beams = bad[i].beams,
                                     .max_new_tokens = bad[i].tokens,
                                     .image_size = bad[i].size };
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceRun) run =
        florence_model_run (model, image, &options, NULL, NULL, NULL, &error);

      g_assert_null (run);
      g_assert_error (error, FLORENCE_LIMITS_ERROR, FLORENCE_LIMITS_ERROR_OUT_OF_RANGE);
    }
  {
    FlorenceRunOptions options = {
      .task = "<CAPTION>", .num_beams = 1, .max_new_tokens = 2, .image_size = 64
    };
    g_autoptr (GError) error = NULL;
    g_autoptr (FlorenceRun) run =
      florence_model_run (model, image, &options, NULL, NULL, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (run->input_size, ==, 64);
  }
}

/* The hash the gallery keys runs by: the same from the model as from its folder, whoever
 * asks first, and kept. */
static void
test_weights_hash (void)
{
  g_autofree char *dir = data_path ("models", "tiny");
  g_autoptr (FlorenceModel) model = load_tiny ();
  g_autoptr (GError) error = NULL;
  g_autofree char *from_dir = florence_weights_hash_for_dir (dir, NULL, &error);
  const char *hash;

  g_assert_no_error (error);
  hash = florence_model_get_weights_hash (model, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (hash, ==, from_dir);
  g_assert_cmpuint (strlen (hash), ==, 64);
  g_assert_true (florence_model_get_weights_hash (model, NULL) == hash);
}

static void
copy_data (const char *from_dir, const char *name, const char *to_dir)
{
  g_autofree char *from = data_path (from_dir, name);
  g_autofree char *to = g_build_filename (to_dir, name, NULL);
  g_autofree char *data = NULL;
  gsize len;

  g_assert_true (g_file_get_contents (from, &data, &len, NULL));
  g_assert_true (g_file_set_contents (to, data, (gssize) len, NULL));
}

static void
install (const char *models_dir, const char *id)
{
  g_autofree char *dir = g_build_filename (models_dir, id, NULL);

  g_assert_cmpint (g_mkdir (dir, 0755), ==, 0);
  copy_data ("models/tiny", "config.json", dir);
  copy_data ("models/tiny", "model.safetensors", dir);
  copy_data ("tokenizer", "tokenizer.json", dir);
  copy_data ("tokenizer", "vocab.json", dir);
}

static void
expect_resolve_error (const char *model, FlorenceModelDirError code, const char *in_message)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = florence_model_dir_resolve (model, &error);

  g_assert_null (dir);
  g_assert_error (error, FLORENCE_MODEL_DIR_ERROR, (int) code);
  g_assert_nonnull (strstr (error->message, in_message));
}

/* One rule for the app and the command line: a catalogue id must be installed, a folder
 * must hold a model, nothing means the first installed model in catalogue order. */
static void
test_resolve (void)
{
  g_autofree char *models = g_dir_make_tmp ("depict-models-XXXXXX", NULL);
  g_autofree char *tiny = data_path ("models", "tiny");
  g_autofree char *empty = g_dir_make_tmp ("depict-empty-XXXXXX", NULL);
  g_autofree char *large = g_build_filename (models, "large", NULL);
  g_autofree char *base = g_build_filename (models, "base", NULL);
  char *dir;

  g_setenv ("DEPICT_MODELS_DIR", models, TRUE);

  expect_resolve_error (NULL, FLORENCE_MODEL_DIR_ERROR_NONE_INSTALLED, "depict-cli download");
  expect_resolve_error ("", FLORENCE_MODEL_DIR_ERROR_NONE_INSTALLED, "Models window");
  expect_resolve_error ("base", FLORENCE_MODEL_DIR_ERROR_NOT_INSTALLED, "depict-cli download base");
  expect_resolve_error ("huge", FLORENCE_MODEL_DIR_ERROR_NOT_FOUND, "base, base-ft");
  expect_resolve_error (empty, FLORENCE_MODEL_DIR_ERROR_NOT_FOUND, "config.json");

  /* a folder, by any path */
  dir = florence_model_dir_resolve (tiny, NULL);
  g_assert_cmpstr (dir, ==, tiny);
  g_free (dir);

  /* only "large" installed: nothing names it, "base" still is not there */
  install (models, "large");
  dir = florence_model_dir_resolve (NULL, NULL);
  g_assert_cmpstr (dir, ==, large);
  g_free (dir);
  expect_resolve_error ("base", FLORENCE_MODEL_DIR_ERROR_NOT_INSTALLED, "not installed");

  /* with "base" as well, nothing names base, the first of the catalogue */
  install (models, "base");
  dir = florence_model_dir_resolve ("", NULL);
  g_assert_cmpstr (dir, ==, base);
  g_free (dir);
  dir = florence_model_dir_resolve ("large", NULL);
  g_assert_cmpstr (dir, ==, large);
  g_free (dir);

  g_unsetenv ("DEPICT_MODELS_DIR");
  g_rmdir (empty);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/florence/limits/bounds", test_limits);
  g_test_add_func ("/florence/limits/model-run", test_run_checks_limits);
  g_test_add_func ("/florence/model/weights-hash", test_weights_hash);
  g_test_add_func ("/florence/model/resolve", test_resolve);
  return g_test_run ();
}
