/* test-image-cache.c: the features of recently viewed photos, kept for their next task
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * With the tiny fixture model on the CPU reference: the second task on a photo reuses its
 * features (cached, no vision) and gives what the task alone gives; a photo changed on disk is
 * decoded again; at most FLORENCE_IMAGE_CACHE_MAX_PHOTOS photos and the budget are kept, the
 * least recently used going first; photos other than the last keep their features but not
 * their picture, and another input size decodes them again; a file that cannot be read is an
 * error and nothing is kept.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "florence/model/florence-image-cache.h"

static FlorenceModel *
load_model (void)
{
  g_autofree char *dir = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "models", "tiny", NULL);
  g_autofree char *tok = g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "tokenizer", NULL);
  FlorenceModelOptions mo = { FLORENCE_DEVICE_CPU_REFERENCE, tok, NULL };
  g_autoptr (GError) error = NULL;
  FlorenceModel *model = florence_model_load (dir, &mo, &error);
  g_assert_no_error (error);
  return model;
}

static char *
fixture (const char *name)
{
  return g_build_filename (g_getenv ("DEPICT_TEST_DATA"), "preprocess", "images", name, NULL);
}

static void
copy_file (const char *from, const char *to)
{
  g_autofree char *data = NULL;
  gsize length = 0;
  g_assert_true (g_file_get_contents (from, &data, &length, NULL));
  g_assert_true (g_file_set_contents (to, data, (gssize) length, NULL));
}

static FlorenceRun *
run_task (FlorenceModel *model, FlorenceModelImage *image, const char *task, int size)
{
  g_autoptr (GError) error = NULL;
  FlorenceRunOptions o = { .task = task, .num_beams = 1, .max_new_tokens = 5, .image_size = size };
  FlorenceRun *run = florence_model_run_image (model, image, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return run;
}

static void
test_second_task (void)
{
  g_autoptr (FlorenceModel) model = load_model ();
  g_autoptr (FlorenceImageCache) cache = florence_image_cache_new (model, 0);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture ("photo_640x480.png");

  g_assert_cmpuint (florence_image_cache_get_budget (cache), >=, FLORENCE_IMAGE_CACHE_MIN_BYTES);
  g_assert_cmpuint (florence_image_cache_get_budget (cache), <=, FLORENCE_IMAGE_CACHE_MAX_BYTES);
  {
    g_autoptr (FlorenceModelImage) image =
      florence_image_cache_get_file (cache, path, 0, NULL, &error);
    g_assert_no_error (error);
    g_autoptr (FlorenceRun) run = run_task (model, image, "<CAPTION>", 0);
    g_assert_false (run->timings.cached);
    g_assert_cmpfloat (run->timings.vision, >, 0.0);
  }
  /* the person switches task on the same photo */
  g_autoptr (FlorenceModelImage) again =
    florence_image_cache_get_file (cache, path, 0, NULL, &error);
  g_assert_no_error (error);
  g_autoptr (FlorenceRun) od = run_task (model, again, "<OD>", 0);
  g_assert_true (od->timings.cached);
  g_assert_cmpfloat (od->timings.vision, ==, 0.0);
  g_assert_cmpfloat (od->timings.preprocess, ==, 0.0);
  FlorenceRunOptions o = { .task = "<OD>", .num_beams = 1, .max_new_tokens = 5 };
  g_autoptr (FlorenceRun) alone =
    florence_model_run_file (model, path, &o, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (od->token_ids->len, ==, alone->token_ids->len);
  g_assert_cmpmem (od->token_ids->data, od->token_ids->len * 4, alone->token_ids->data,
                   alone->token_ids->len * 4);
  g_assert_cmpuint (florence_image_cache_get_n_photos (cache), ==, 1);
}

static void
test_changed_file (void)
{
  g_autoptr (FlorenceModel) model = load_model ();
  g_autoptr (FlorenceImageCache) cache = florence_image_cache_new (model, 0);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("depict-image-cache-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "photo.png", NULL);
  g_autofree char *a = fixture ("photo_640x480.png");
  g_autofree char *b = fixture ("gray_320x200.png");

  copy_file (a, path);
  g_autoptr (FlorenceModelImage) first =
    florence_image_cache_get_file (cache, path, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (florence_model_image_get_width (first), ==, 640);
  /* another picture under the same name */
  copy_file (b, path);
  g_autoptr (FlorenceModelImage) second =
    florence_image_cache_get_file (cache, path, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (second != first);
  g_assert_cmpint (florence_model_image_get_width (second), ==, 320);
  g_assert_cmpuint (florence_image_cache_get_n_photos (cache), ==, 1);

  /* gone: an error, and nothing kept for it */
  g_unlink (path);
  g_assert_null (florence_image_cache_get_file (cache, path, 0, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (florence_image_cache_get_n_photos (cache), ==, 0);
  g_rmdir (dir);
}

static void
test_bounds (void)
{
  g_autoptr (FlorenceModel) model = load_model ();
  g_autoptr (FlorenceImageCache) cache = florence_image_cache_new (model, 0);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("depict-image-cache-XXXXXX", NULL);
  g_autofree char *src = fixture ("small_37x101.png");
  const guint n = FLORENCE_IMAGE_CACHE_MAX_PHOTOS + 2;
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  FlorenceModelImage *kept[FLORENCE_IMAGE_CACHE_MAX_PHOTOS + 2];

  for (guint i = 0; i < n; i++)
    {
      char *path = g_strdup_printf ("%s/p%u.png", dir, i);
      copy_file (src, path);
      g_ptr_array_add (paths, path);
      FlorenceModelImage *image = florence_image_cache_get_file (cache, path, 0, NULL, &error);
      g_assert_no_error (error);
      g_autoptr (FlorenceRun) run = run_task (model, image, "<CAPTION>", 0);
      kept[i] = image;
      g_assert_cmpuint (florence_image_cache_get_n_photos (cache), ==,
                        MIN (i + 1, FLORENCE_IMAGE_CACHE_MAX_PHOTOS));
    }
  /* all but the last photo keep their features without their picture */
  for (guint i = n - FLORENCE_IMAGE_CACHE_MAX_PHOTOS; i + 1 < n; i++)
    {
      g_assert_null (florence_model_image_get_picture (kept[i]));
      g_assert_true (florence_model_image_has_features (kept[i], 0));
    }
  g_assert_nonnull (florence_model_image_get_picture (kept[n - 1]));

  /* a photo still kept: the same image, its features reused */
  {
    g_autoptr (FlorenceModelImage) image =
      florence_image_cache_get_file (cache, paths->pdata[n - 3], 0, NULL, &error);
    g_assert_true (image == kept[n - 3]);
    g_autoptr (FlorenceRun) run = run_task (model, image, "<OCR>", 0);
    g_assert_true (run->timings.cached);
    /* another input size needs the picture, which it no longer has: decoded again */
    g_autoptr (FlorenceModelImage) other =
      florence_image_cache_get_file (cache, paths->pdata[n - 3], 128, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (other != kept[n - 3]);
    g_autoptr (FlorenceRun) bigger = run_task (model, other, "<OCR>", 128);
    g_assert_false (bigger->timings.cached);
    g_assert_cmpint (bigger->input_size, ==, 128);
  }
  /* the least recently used went first */
  {
    g_autoptr (FlorenceModelImage) image =
      florence_image_cache_get_file (cache, paths->pdata[0], 0, NULL, &error);
    g_assert_true (image != kept[0]);
    g_assert_false (florence_model_image_has_features (image, 0));
  }
  for (guint i = 0; i < n; i++)
    florence_model_image_unref (kept[i]);

  /* a budget of one byte keeps the photo used last, no more */
  g_autoptr (FlorenceImageCache) tight = florence_image_cache_new (model, 1);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (FlorenceModelImage) image =
        florence_image_cache_get_file (tight, paths->pdata[i], 0, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (florence_image_cache_get_n_photos (tight), ==, 1);
    }
  g_assert_cmpuint (florence_image_cache_get_bytes (tight), >, 0);
  florence_image_cache_clear (tight);
  g_assert_cmpuint (florence_image_cache_get_n_photos (tight), ==, 0);
  g_assert_cmpuint (florence_image_cache_get_bytes (tight), ==, 0);

  for (guint i = 0; i < n; i++)
    g_unlink (paths->pdata[i]);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (g_getenv ("DEPICT_TEST_DATA") == NULL)
    return 77;
  g_test_add_func ("/florence/image-cache/second-task", test_second_task);
  g_test_add_func ("/florence/image-cache/changed-file", test_changed_file);
  g_test_add_func ("/florence/image-cache/bounds", test_bounds);
  return g_test_run ();
}
