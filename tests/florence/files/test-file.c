/* test-file.c: model files are opened safely (florence-file.h): a named pipe in place of any
 * model file fails at once instead of blocking, whole-file reads have a cap, and a weights file
 * cut short while it is mapped gives a sentence naming it instead of SIGBUS
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "florence/engine/florence-engine.h"
#include "ckpt-test-util.h"
#include "florence/files/florence-checkpoint.h"
#include "florence/files/florence-config.h"
#include "florence/files/florence-file.h"
#include "florence/files/florence-weights-hash.h"
#include "florence/model/florence-processor.h"
#include "florence/text/florence-tokenizer.h"

static char *
tiny_path (const char *name)
{
  return ckpt_data_path ("models", "tiny", name, NULL);
}

/* A folder with the tiny model's files, tokenizer included. */
static char *
make_model_dir (void)
{
  static const char *const names[] = { "config.json", "preprocessor_config.json",
                                       "model.safetensors" };
  char *dir = g_dir_make_tmp ("depict-file-XXXXXX", NULL);
  g_autofree char *tok = ckpt_data_path ("tokenizer", "tokenizer.json", NULL);
  g_autofree char *tok_to = g_build_filename (dir, "tokenizer.json", NULL);

  g_assert_nonnull (dir);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *from = tiny_path (names[i]);
      g_autofree char *to = g_build_filename (dir, names[i], NULL);
      ckpt_copy_file (from, to);
    }
  ckpt_copy_file (tok, tok_to);
  return dir;
}

/* Replaces dir/name by a named pipe nobody writes to. */
static char *
make_fifo (const char *dir, const char *name)
{
  char *path = g_build_filename (dir, name, NULL);

  g_unlink (path);
  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  return path;
}

static void
test_open_regular (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-file-XXXXXX", NULL);
  g_autofree char *fifo = make_fifo (dir, "pipe");
  g_autofree char *missing = g_build_filename (dir, "missing", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_cmpint (florence_file_open_regular (fifo, NULL, &error), ==, -1);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);
  g_assert_cmpint (florence_file_open_regular (dir, NULL, &error), ==, -1);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_clear_error (&error);
  g_assert_cmpint (florence_file_open_regular (missing, NULL, &error), ==, -1);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);
  g_assert_false (florence_file_get_contents ("/dev/zero", 1024, &contents, &len, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL);
  g_clear_error (&error);

  /* The cap: a file one byte larger than allowed is refused, one at the cap is read. */
  {
    g_autofree char *path = g_build_filename (dir, "big", NULL);
    g_assert_true (g_file_set_contents (path, "0123456789", 10, NULL));
    g_assert_false (florence_file_get_contents (path, 9, &contents, &len, &error));
    g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "larger than"));
    g_clear_error (&error);
    g_assert_true (florence_file_get_contents (path, 10, &contents, &len, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (len, ==, 10);
    g_assert_cmpstr (contents, ==, "0123456789");
    g_unlink (path);
  }
  g_unlink (fifo);
  g_rmdir (dir);
}

/* Every model file, and the picture of `run`/`preprocess`, as a named pipe: an error at once (a
 * blocked open would trip the alarm). */
static void
test_fifos (void)
{
  static const char *const names[] = { "config.json", "preprocessor_config.json", "tokenizer.json",
                                       "model.safetensors" };

  alarm (60);
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *dir = make_model_dir ();
      g_autoptr (GError) error = NULL;
      g_autoptr (FlorenceConfig) config = NULL;

      g_free (make_fifo (dir, names[i]));
      config = florence_config_load (dir, &error);

      if (config != NULL)
        {
          g_autoptr (FlorenceTokenizer) tok = florence_tokenizer_new_from_dir (dir, &error);
          if (tok != NULL)
            {
              g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (dir, config, &error);
              g_assert_null (ckpt);
            }
        }
      g_assert_nonnull (error);
      if (strstr (error->message, "not a regular file") == NULL)
        g_error ("%s as a pipe: “%s”", names[i], error->message);
      ckpt_remove_dir (dir);
    }

  /* vocab.json + merges.txt, shards and their index, pytorch_model.bin */
  {
    g_autofree char *dir = g_dir_make_tmp ("depict-file-XXXXXX", NULL);
    g_autofree char *vocab = make_fifo (dir, "vocab.json");
    g_autofree char *merges = g_build_filename (dir, "merges.txt", NULL);
    g_autofree char *bin = make_fifo (dir, "pytorch_model.bin");
    g_autofree char *index = make_fifo (dir, "model.safetensors.index.json");
    g_autofree char *config_path = tiny_path ("config.json");
    g_autofree char *config_json = NULL;
    g_autoptr (FlorenceConfig) config = NULL;
    g_autoptr (GError) error = NULL;
    FlorenceProcessorConfig pc;

    g_assert_true (g_file_get_contents (config_path, &config_json, NULL, NULL));
    config = florence_config_load_from_data (config_json, NULL, NULL);
    g_assert_true (g_file_set_contents (merges, "#version: 0.2\n", -1, NULL));
    g_assert_null (florence_tokenizer_new_from_vocab_merges (vocab, merges, &error));
    g_assert_nonnull (strstr (error->message, "not a regular file"));
    g_clear_error (&error);
    g_unlink (vocab);
    g_free (vocab);
    vocab = g_build_filename (dir, "vocab.json", NULL);
    g_assert_true (g_file_set_contents (vocab, "{}", -1, NULL));
    g_unlink (merges);
    g_assert_cmpint (mkfifo (merges, 0600), ==, 0);
    g_assert_null (florence_tokenizer_new_from_vocab_merges (vocab, merges, &error));
    g_assert_nonnull (strstr (error->message, "not a regular file"));
    g_clear_error (&error);

    g_assert_null (florence_checkpoint_open_file (bin, config, &error));
    g_assert_nonnull (strstr (error->message, "not a regular file"));
    g_clear_error (&error);
    g_assert_null (florence_checkpoint_open_file (index, config, &error));
    g_assert_nonnull (strstr (error->message, "not a regular file"));
    g_clear_error (&error);
    /* an index naming a pipe as its shard */
    g_unlink (index);
    g_assert_true (
      g_file_set_contents (index, "{\"weight_map\": {\"a\": \"pytorch_model.bin\"}}", -1, NULL));
    g_assert_null (florence_checkpoint_open_file (index, config, &error));
    g_assert_nonnull (strstr (error->message, "not a regular file"));
    g_clear_error (&error);

    florence_processor_config_init (&pc);
    g_assert_false (florence_processor_config_load (&pc, bin, &error));
    g_assert_nonnull (strstr (error->message, "not a regular file"));
    g_clear_error (&error);
    ckpt_remove_dir (dir);
  }
  alarm (0);
}

/* Reads every byte of every served tensor. */
static double
touch_all (FlorenceCheckpoint *ckpt)
{
  double sum = 0;

  for (guint i = 0; i < florence_checkpoint_get_n_tensors (ckpt); i++)
    {
      const FlorenceTensor *t = florence_checkpoint_get_tensor (ckpt, i);
      g_autofree float *values = g_new (float, t->n_elements);

      florence_tensor_to_f32 (t, values);
      for (gsize k = 0; k < t->n_elements; k++)
        sum += values[k];
    }
  return sum;
}

static void
truncate_file (const char *path, goffset size)
{
  g_assert_cmpint (truncate (path, size), ==, 0);
}

/* The weights file cut to a fraction while open: every read still returns, the checkpoint says
 * the file was cut short and names it; so do the engine and the weights hash. */
static void
test_truncated_while_mapped (void)
{
  g_autofree char *dir = make_model_dir ();
  g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (FlorenceConfig) config = florence_config_load (dir, &error);
  GStatBuf st;

  g_assert_no_error (error);
  g_assert_cmpint (g_stat (weights, &st), ==, 0);

  /* Read, then cut: the checkpoint notices the size. */
  {
    g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (dir, config, &error);
    g_assert_no_error (error);
    g_assert_true (florence_checkpoint_check (ckpt, &error));
    touch_all (ckpt);
    truncate_file (weights, st.st_size / 2);
    g_assert_false (florence_checkpoint_check (ckpt, &error));
    g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_CORRUPT);
    g_assert_nonnull (strstr (error->message, "model.safetensors"));
    g_assert_nonnull (strstr (error->message, "cut short"));
    g_clear_error (&error);
  }

  /* Cut while mapped, then read past the cut: zeros instead of SIGBUS, and the sentence. */
  {
    g_autofree char *from = tiny_path ("model.safetensors");
    g_autoptr (FlorenceCheckpoint) ckpt = NULL;

    ckpt_copy_file (from, weights);
    ckpt = florence_checkpoint_open (dir, config, &error);
    g_assert_no_error (error);
    truncate_file (weights, 4096);
    touch_all (ckpt);
    g_assert_false (florence_checkpoint_check (ckpt, &error));
    g_assert_nonnull (strstr (error->message, "model.safetensors"));
    g_clear_error (&error);

    /* The CPU engine reads every weight: it fails with the sentence. */
    {
      g_autoptr (FlorenceEngine) engine =
        florence_engine_new (FLORENCE_DEVICE_CPU_REFERENCE, NULL, config, ckpt, &error);
      g_assert_null (engine);
      g_assert_error (error, FLORENCE_CHECKPOINT_ERROR, FLORENCE_CHECKPOINT_ERROR_CORRUPT);
      g_assert_nonnull (strstr (error->message, "model.safetensors"));
      g_clear_error (&error);
    }
    /* So does the weights hash (and it caches nothing). */
    {
      g_autofree char *hash = florence_weights_hash_for_dir (dir, ckpt, &error);
      g_assert_null (hash);
      g_assert_nonnull (strstr (error->message, "cut short"));
      g_clear_error (&error);
    }
  }

  /* Cut before the open: the header's promises no longer fit the file (an ordinary error). */
  {
    g_autoptr (FlorenceCheckpoint) ckpt = florence_checkpoint_open (dir, config, &error);
    g_assert_null (ckpt);
    g_assert_nonnull (strstr (error->message, "model.safetensors"));
  }
  ckpt_remove_dir (dir);
}

/* A SIGBUS outside the guarded mappings still ends the process as it would have. */
static void
test_foreign_sigbus (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *dir = make_model_dir ();
      g_autofree char *weights = g_build_filename (dir, "model.safetensors", NULL);
      g_autoptr (FlorenceFileMap) map = florence_file_map_new (weights, NULL);
      int fd = g_open (weights, O_RDONLY, 0);
      volatile const guint8 *plain = mmap (NULL, 1 << 20, PROT_READ, MAP_PRIVATE, fd, 0);

      g_assert_nonnull (map);
      g_assert_true (plain != MAP_FAILED);
      truncate_file (weights, 0);
      ckpt_remove_dir (dir);
      (void) plain[(1 << 20) - 1];
      g_assert_not_reached ();
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/file/open-regular", test_open_regular);
  g_test_add_func ("/file/fifos", test_fifos);
  g_test_add_func ("/file/truncated-while-mapped", test_truncated_while_mapped);
  g_test_add_func ("/file/foreign-sigbus", test_foreign_sigbus);
  return g_test_run ();
}
