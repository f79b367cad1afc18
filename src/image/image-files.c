/* image-files.c: which files are photos, and the photos of folders
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image/image-files.h"

static const char *const photo_extensions[] = {
  "jpg",  "jpeg", "jpe",  "jfif", "png", "gif", "bmp", "tif", "tiff", "webp",
  "heic", "heif", "avif", "jxl",  "pnm", "ppm", "pgm", "pbm", "tga",
};

static const char *const other_extensions[] = {
  "xmp", "json", "txt", "csv", "db", "sqlite", "sqlite3", "db3", "pp3", "dop", "on1",
};

/* The files SQLite keeps beside a database: never photos, and never to be opened (closing a
 * descriptor of a database's file drops the locks the process holds on it). */
static const char *const database_suffixes[] = { "-wal", "-shm", "-journal" };

/* The first bytes of a regular file, read without blocking; 0 when it is not one. */
static gsize
read_head (const char *path, guint8 *head, gsize size)
{
  struct stat st;
  int fd = g_open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  gssize n = 0;

  if (fd < 0)
    return 0;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
    {
      do
        n = read (fd, head, size);
      while (n < 0 && errno == EINTR);
    }
  close (fd);
  return n > 0 ? (gsize) n : 0;
}

gboolean
image_files_is_photo (const char *path)
{
  g_autofree char *base = NULL;
  const char *dot;
  guint8 head[512];
  gsize n;
  g_autofree char *type = NULL;
  g_autofree char *mime = NULL;
  gboolean uncertain = FALSE;

  g_return_val_if_fail (path != NULL, FALSE);

  base = g_path_get_basename (path);
  for (gsize i = 0; i < G_N_ELEMENTS (database_suffixes); i++)
    if (g_str_has_suffix (base, database_suffixes[i]))
      return FALSE;
  dot = strrchr (base, '.');
  if (dot != NULL)
    {
      g_autofree char *ext = g_ascii_strdown (dot + 1, -1);

      for (gsize i = 0; i < G_N_ELEMENTS (photo_extensions); i++)
        if (strcmp (ext, photo_extensions[i]) == 0)
          return TRUE;
      for (gsize i = 0; i < G_N_ELEMENTS (other_extensions); i++)
        if (strcmp (ext, other_extensions[i]) == 0)
          return FALSE;
    }
  n = read_head (path, head, sizeof head);
  if (n == 0)
    return FALSE;
  type = g_content_type_guess (NULL, head, n, &uncertain);
  if (uncertain || type == NULL)
    return FALSE;
  mime = g_content_type_get_mime_type (type);
  return mime != NULL && g_str_has_prefix (mime, "image/") && strcmp (mime, "image/svg+xml") != 0;
}

typedef struct {
  dev_t dev;
  ino_t ino;
} FileId;

typedef struct {
  gboolean recursive;
  ImageFilesProblemFunc problem_func;
  gpointer user_data;
  GPtrArray *out;
  GHashTable *seen;
  GArray *skip; /* FileId: files never to open */
} Walk;

/* The files of skip and the files SQLite keeps beside each, as they are now. */
static GArray *
skip_ids (const char *const *skip)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (FileId));

  for (guint i = 0; skip != NULL && skip[i] != NULL; i++)
    for (gsize k = 0; k <= G_N_ELEMENTS (database_suffixes); k++)
      {
        g_autofree char *path =
          g_strconcat (skip[i], k > 0 ? database_suffixes[k - 1] : NULL, NULL);
        GStatBuf st;

        if (g_stat (path, &st) == 0)
          g_array_append_val (ids, ((FileId){ st.st_dev, st.st_ino }));
      }
  return ids;
}

/* Whether path is one of the files to skip (found by its stat, never opened). */
static gboolean
is_skipped (Walk *walk, const char *path)
{
  GStatBuf st;

  if (walk->skip->len == 0 || g_stat (path, &st) != 0)
    return FALSE;
  for (guint i = 0; i < walk->skip->len; i++)
    {
      FileId *id = &g_array_index (walk->skip, FileId, i);

      if (id->dev == st.st_dev && id->ino == st.st_ino)
        return TRUE;
    }
  return FALSE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

static void
problem (Walk *walk, const char *path, GError *error)
{
  if (walk->problem_func != NULL)
    walk->problem_func (path, error, walk->user_data);
}

static void
add_photo (Walk *walk, char *path)
{
  if (g_hash_table_add (walk->seen, path))
    g_ptr_array_add (walk->out, g_strdup (path));
}

/* Walks one folder; FALSE only on cancellation. Anything unreadable is a problem, skipped. */
static gboolean
walk_folder (Walk *walk, const char *folder, GCancellable *cancellable, GError **error)
{
  g_autoptr (GFile) file = g_file_new_for_path (folder);
  g_autoptr (GFileEnumerator) enumerator = NULL;
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) folders = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) local_error = NULL;

  enumerator = g_file_enumerate_children (
    file,
    G_FILE_ATTRIBUTE_STANDARD_NAME "," G_FILE_ATTRIBUTE_STANDARD_TYPE
                                   "," G_FILE_ATTRIBUTE_STANDARD_IS_HIDDEN,
    G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, cancellable, &local_error);
  while (enumerator != NULL)
    {
      GFileInfo *info = NULL;
      GFile *child = NULL;
      g_autofree char *path = NULL;

      if (!g_file_enumerator_iterate (enumerator, &info, &child, cancellable, &local_error) ||
          info == NULL)
        break;
      if (g_file_info_get_is_hidden (info) || (path = g_file_get_path (child)) == NULL)
        continue;
      switch (g_file_info_get_file_type (info))
        {
        case G_FILE_TYPE_DIRECTORY:
          if (walk->recursive)
            g_ptr_array_add (folders, g_steal_pointer (&path));
          break;
        case G_FILE_TYPE_REGULAR:
        case G_FILE_TYPE_SYMBOLIC_LINK: /* a link to a photo is a photo; to a folder: skipped */
          if (g_file_test (path, G_FILE_TEST_IS_REGULAR) && !is_skipped (walk, path) &&
              image_files_is_photo (path))
            g_ptr_array_add (files, g_steal_pointer (&path));
          break;
        default:
          break;
        }
    }
  if (local_error != NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      {
        g_autoptr (GError) sentence = NULL;

        if (local_error->code == G_IO_ERROR_FILENAME_TOO_LONG)
          sentence = g_error_new (G_IO_ERROR, local_error->code,
                                  _ ("Could not read the folder “%s”: its path is longer than "
                                     "this system allows, so its photos were left out. Move them "
                                     "to a folder with a shorter path."),
                                  folder);
        else if (local_error->code == G_IO_ERROR_PERMISSION_DENIED)
          sentence = g_error_new (G_IO_ERROR, local_error->code,
                                  _ ("Could not read the folder “%s”: permission denied, so its "
                                     "photos were left out. Check its permissions."),
                                  folder);
        else
          sentence = g_error_new (G_IO_ERROR, local_error->code,
                                  _ ("Could not read the folder “%s” (%s); its photos were left "
                                     "out. Check the disk and its permissions."),
                                  folder, local_error->message);
        problem (walk, folder, sentence);
      }
      /* What was read before the error is kept. */
    }
  g_ptr_array_sort (files, compare_strings);
  g_ptr_array_sort (folders, compare_strings);
  for (guint i = 0; i < files->len; i++)
    add_photo (walk, g_strdup (g_ptr_array_index (files, i)));
  for (guint i = 0; i < folders->len; i++)
    if (!walk_folder (walk, g_ptr_array_index (folders, i), cancellable, error))
      return FALSE;
  return TRUE;
}

GPtrArray *
image_files_collect (const char *const *paths, gboolean recursive,
                     ImageFilesProblemFunc problem_func, gpointer user_data,
                     GCancellable *cancellable, GError **error)
{
  return image_files_collect_skipping (paths, NULL, recursive, problem_func, user_data, cancellable,
                                       error);
}

GPtrArray *
image_files_collect_skipping (const char *const *paths, const char *const *skip, gboolean recursive,
                              ImageFilesProblemFunc problem_func, gpointer user_data,
                              GCancellable *cancellable, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GArray) skip_files = skip_ids (skip);
  Walk walk = { recursive, problem_func, user_data, out, seen, skip_files };

  g_return_val_if_fail (paths != NULL, NULL);

  for (guint i = 0; paths[i] != NULL; i++)
    {
      g_autofree char *path = g_canonicalize_filename (paths[i], NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          if (!walk_folder (&walk, path, cancellable, error))
            return NULL;
        }
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        {
          gboolean skipped = is_skipped (&walk, path);

          if (!skipped && image_files_is_photo (path))
            add_photo (&walk, g_steal_pointer (&path));
          else
            {
              /* Named, so said: a file in a folder that is not a photo (a sidecar, notes) is
               * passed over quietly. */
              g_autoptr (GError) sentence = NULL;

              if (skipped)
                sentence = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                        _ ("“%s” is the gallery's database, not a photo; it was "
                                           "left out."),
                                        paths[i]);
              else
                sentence = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                        _ ("“%s” is not a photo (not a picture format Depict "
                                           "reads); it was left out."),
                                        paths[i]);
              problem (&walk, path, sentence);
            }
        }
      else
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _ ("“%s” does not exist or is not a file or folder. Check the path."),
                       paths[i]);
          return NULL;
        }
    }
  return g_steal_pointer (&out);
}
