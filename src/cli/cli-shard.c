/* cli-shard.c: which photos one task of a cluster job tags (--shard, --files-from)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <gio/gunixinputstream.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-shard.h"
#include "image/image-files.h"

#define SAMPLE_BYTES (64 * 1024)

/* A whole decimal number in [0, G_MAXUINT]; FALSE for anything else. */
static gboolean
parse_number (const char *text, guint *out)
{
  guint64 value = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &value, NULL))
    return FALSE;
  *out = (guint) value;
  return TRUE;
}

static gboolean
set_invalid (GError **error, const char *message)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, message);
  return FALSE;
}

/* K and N of a Slurm array task. */
static gboolean
shard_from_slurm (const char *const *env, CliShard *out, GError **error)
{
  guint id = 0, min = 0, step = 1, count = 0;
  const char *step_text = g_environ_getenv ((char **) env, "SLURM_ARRAY_TASK_STEP");

  if (!parse_number (g_environ_getenv ((char **) env, "SLURM_ARRAY_TASK_ID"), &id) ||
      !parse_number (g_environ_getenv ((char **) env, "SLURM_ARRAY_TASK_COUNT"), &count) ||
      !parse_number (g_environ_getenv ((char **) env, "SLURM_ARRAY_TASK_MIN"), &min) ||
      (step_text != NULL && !parse_number (step_text, &step)) || step == 0 || count == 0)
    return set_invalid (error, _ ("--shard auto: the Slurm array variables (SLURM_ARRAY_TASK_ID, "
                                  "_MIN, _COUNT) are missing or not numbers. Submit the job "
                                  "with sbatch --array, or give --shard K/N."));
  if (id < min || (id - min) % step != 0 || (id - min) / step >= count)
    return set_invalid (error, _ ("--shard auto: the tasks of this Slurm array are not numbered "
                                  "one after the other, so they cannot share the photos out. "
                                  "Give the array as a range, for example --array=0-7."));
  out->index = (id - min) / step;
  out->count = count;
  return TRUE;
}

gboolean
cli_shard_parse (const char *text, const char *const *env, CliShard *out, GError **error)
{
  const char *slash;
  g_autofree char *first = NULL;
  guint index = 0, count = 0;

  g_return_val_if_fail (text != NULL && out != NULL, FALSE);

  slash = strchr (text, '/');
  first = slash != NULL ? g_strndup (text, slash - text) : g_strdup (text);
  if (slash != NULL && !parse_number (slash + 1, &count))
    count = 0;

  if (strcmp (first, "auto") == 0)
    {
      const char *k8s = g_environ_getenv ((char **) env, "JOB_COMPLETION_INDEX");

      if (slash == NULL && g_environ_getenv ((char **) env, "SLURM_ARRAY_TASK_ID") != NULL)
        return shard_from_slurm (env, out, error);
      if (k8s == NULL)
        return set_invalid (
          error, slash == NULL ? _ ("--shard auto: this is neither a task of a Slurm array job "
                                    "(no SLURM_ARRAY_TASK_ID) nor a pod of a Kubernetes Indexed "
                                    "Job (no JOB_COMPLETION_INDEX). Give --shard K/N.")
                               : _ ("--shard auto/N: this is not a pod of a Kubernetes Indexed "
                                    "Job (no JOB_COMPLETION_INDEX). Give --shard K/N."));
      if (slash == NULL)
        return set_invalid (error, _ ("--shard auto: a Kubernetes Indexed Job does not tell its "
                                      "pods how many completions it has. Give it as --shard "
                                      "auto/N, N being the job's completions."));
      if (count == 0)
        return set_invalid (error, _ ("--shard auto/N: N must be a whole number of at least 1, "
                                      "the job's completions."));
      if (!parse_number (k8s, &index))
        return set_invalid (error, _ ("--shard auto: JOB_COMPLETION_INDEX is not a number."));
    }
  else if (slash == NULL || !parse_number (first, &index) || count == 0)
    return set_invalid (error, _ ("--shard takes K/N, for example 0/4 for the first of four "
                                  "shares (K from 0 to N-1), or auto in a Slurm array job."));
  if (index >= count)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _ ("--shard %u/%u: the share must be a number from 0 to %u."), index, count,
                   count - 1);
      return FALSE;
    }
  out->index = index;
  out->count = count;
  return TRUE;
}

/* Reads exactly length bytes at offset (fewer only at the end of the file). */
static gboolean
read_at (int fd, guint8 *buffer, gsize length, off_t offset, gsize *out_read)
{
  gsize done = 0;

  while (done < length)
    {
      ssize_t n = pread (fd, buffer + done, length - done, offset + (off_t) done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return FALSE;
      if (n == 0)
        break;
      done += (gsize) n;
    }
  *out_read = done;
  return TRUE;
}

gboolean
cli_shard_key (const char *path, guint64 *out_key, GError **error)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buffer = g_malloc (SAMPLE_BYTES);
  guint8 digest[32], size_bytes[8];
  gsize digest_len = sizeof digest, n = 0;
  struct stat st;
  guint64 size, key = 0;
  gboolean ok;
  int fd, saved_errno;

  fd = g_open (path, O_RDONLY | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0 || fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      saved_errno = fd < 0 ? errno : (S_ISREG (st.st_mode) ? errno : EINVAL);
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _ ("“%s” could not be read (%s)."), path, g_strerror (saved_errno));
      return FALSE;
    }
  size = (guint64) st.st_size;
  for (guint i = 0; i < 8; i++)
    size_bytes[i] = (guint8) (size >> (8 * i));
  g_checksum_update (checksum, size_bytes, sizeof size_bytes);
  if (size <= 2 * SAMPLE_BYTES)
    {
      off_t offset = 0;

      do
        {
          ok = read_at (fd, buffer, SAMPLE_BYTES, offset, &n);
          g_checksum_update (checksum, buffer, n);
          offset += (off_t) n;
        }
      while (ok && n == SAMPLE_BYTES);
    }
  else
    {
      ok = read_at (fd, buffer, SAMPLE_BYTES, 0, &n);
      g_checksum_update (checksum, buffer, n);
      if (ok)
        ok = read_at (fd, buffer, SAMPLE_BYTES, (off_t) (size - SAMPLE_BYTES), &n);
      g_checksum_update (checksum, buffer, n);
    }
  saved_errno = errno;
  close (fd);
  if (!ok)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _ ("“%s” could not be read (%s)."), path, g_strerror (saved_errno));
      return FALSE;
    }
  g_checksum_get_digest (checksum, digest, &digest_len);
  for (guint i = 0; i < 8; i++)
    key = key << 8 | digest[i];
  *out_key = key;
  return TRUE;
}

guint
cli_shard_of_key (guint64 key, guint count)
{
  g_return_val_if_fail (count > 0, 0);
  return (guint) (key % count);
}

GPtrArray *
cli_shard_read_list (const char *file, GError **error)
{
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;
  char separator;

  g_return_val_if_fail (file != NULL, NULL);

  if (strcmp (file, "-") == 0)
    {
      g_autoptr (GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
      g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();

      if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL,
                                  &local_error) < 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       _ ("--files-from -: the list could not be read from standard input (%s)."),
                       local_error->message);
          return NULL;
        }
      length = g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out));
      contents = g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
    }
  else if (!g_file_get_contents (file, &contents, &length, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _ ("--files-from: the list “%s” could not be read (%s). Check the path."), file,
                   local_error->message);
      return NULL;
    }
  separator = memchr (contents != NULL ? contents : "", '\0', length) != NULL ? '\0' : '\n';
  for (gsize start = 0; start < length;)
    {
      const char *end = memchr (contents + start, separator, length - start);
      gsize stop = end != NULL ? (gsize) (end - contents) : length;

      if (stop > start)
        g_ptr_array_add (paths, g_strndup (contents + start, stop - start));
      start = stop + 1;
    }
  return g_steal_pointer (&paths);
}

static void
on_walk_problem (const char *path, const GError *error, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (error->message)); /* names the path */
}

GPtrArray *
cli_shard_select (const char *const *args, const char *list_file, gboolean recursive,
                  const CliShard *shard, GPtrArray *problems, GCancellable *cancellable,
                  GError **error)
{
  g_autoptr (GPtrArray) roots = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) files = NULL;
  g_autoptr (GPtrArray) kept = NULL;

  g_return_val_if_fail (problems != NULL, NULL);

  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (roots, g_strdup (args[i]));
  if (list_file != NULL)
    {
      g_autoptr (GPtrArray) listed = cli_shard_read_list (list_file, error);

      if (listed == NULL)
        return NULL;
      for (guint i = 0; i < listed->len; i++)
        {
          char *path = g_ptr_array_index (listed, i);

          if (g_file_test (path, G_FILE_TEST_EXISTS))
            g_ptr_array_add (roots, g_strdup (path));
          else
            g_ptr_array_add (problems,
                             g_strdup_printf (_ ("%s: the file listed is not there (a path "
                                                 "of another computer, or moved since?)."),
                                              path));
        }
    }
  g_ptr_array_add (roots, NULL);
  files = image_files_collect ((const char *const *) roots->pdata, recursive, on_walk_problem,
                               problems, cancellable, error);
  if (files == NULL || shard == NULL || shard->count == 0)
    return g_steal_pointer (&files);

  kept = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < files->len; i++)
    {
      g_autoptr (GError) local_error = NULL;
      guint64 key = 0;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      if (!cli_shard_key (g_ptr_array_index (files, i), &key, &local_error))
        g_ptr_array_add (problems, g_strdup (local_error->message));
      else if (cli_shard_of_key (key, shard->count) == shard->index)
        g_ptr_array_add (kept, g_strdup (g_ptr_array_index (files, i)));
    }
  return g_steal_pointer (&kept);
}
