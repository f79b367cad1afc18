/* test-image-files.c: which files are photos, and the folder walk: order, hidden entries,
 * links, and folders it cannot read (permissions, paths longer than PATH_MAX) reported by name
 * while the walk goes on
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "image/image-files.h"

static const guint8 png_signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0,
                                        0,    13,  'I', 'H', 'D',  'R',  0,    0,    0, 1,
                                        0,    0,   0,   1,   8,    2,    0,    0,    0 };

static void
write_file (const char *path, const void *data, gssize length)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, data, length, &error);
  g_assert_no_error (error);
}

/* Removes name below the folder dirfd, whatever its depth (paths longer than PATH_MAX too). */
static void
remove_at (int dirfd, const char *name)
{
  int fd = openat (dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);

  if (fd >= 0)
    {
      DIR *dir = fdopendir (fd);
      struct dirent *entry;

      fchmod (fd, 0755);
      while ((entry = readdir (dir)) != NULL)
        if (strcmp (entry->d_name, ".") != 0 && strcmp (entry->d_name, "..") != 0)
          remove_at (fd, entry->d_name);
      closedir (dir);
      unlinkat (dirfd, name, AT_REMOVEDIR);
    }
  else
    unlinkat (dirfd, name, 0);
}

static void
remove_tree (const char *path)
{
  remove_at (AT_FDCWD, path);
}

/* photos/: b.jpg, a.PNG, IMG_NOEXT (PNG bytes), notes.txt, .hidden.png, sidecar a.PNG.xmp,
 * fifo (a named pipe with a photo's name), sub/deep.heic, sub/.secret/x.jpg, link-to-sub. */
static char *
make_tree (const char *dir)
{
  char *photos = g_build_filename (dir, "photos", NULL);
  g_autofree char *sub = g_build_filename (photos, "sub", NULL);
  g_autofree char *secret = g_build_filename (sub, ".secret", NULL);
  const char *files[] = { "b.jpg", "a.PNG", "notes.txt", ".hidden.png", "a.PNG.xmp" };

  g_mkdir_with_parents (secret, 0755);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (photos, files[i], NULL);

      write_file (path, files[i], -1);
    }
  {
    g_autofree char *noext = g_build_filename (photos, "IMG_NOEXT", NULL);
    g_autofree char *deep = g_build_filename (sub, "deep.heic", NULL);
    g_autofree char *hidden = g_build_filename (secret, "x.jpg", NULL);
    g_autofree char *fifo = g_build_filename (photos, "pipe", NULL);
    g_autofree char *link = g_build_filename (photos, "link-to-sub", NULL);

    write_file (noext, png_signature, sizeof png_signature);
    write_file (deep, "deep", -1);
    write_file (hidden, "x", -1);
    g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
    g_assert_cmpint (symlink (sub, link), ==, 0);
  }
  return photos;
}

static void
test_is_photo (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-files-XXXXXX", NULL);
  g_autofree char *photos = make_tree (dir);
  g_autofree char *noext = g_build_filename (photos, "IMG_NOEXT", NULL);
  g_autofree char *notes = g_build_filename (photos, "notes.txt", NULL);
  g_autofree char *sidecar = g_build_filename (photos, "a.PNG.xmp", NULL);
  g_autofree char *fifo = g_build_filename (photos, "pipe", NULL);
  g_autofree char *jpg = g_build_filename (photos, "b.jpg", NULL);

  g_assert_true (image_files_is_photo (jpg));
  g_assert_true (image_files_is_photo (noext)); /* by its bytes */
  g_assert_false (image_files_is_photo (notes));
  g_assert_false (image_files_is_photo (sidecar));
  g_assert_false (image_files_is_photo (fifo)); /* not opened: returns at once */
  g_assert_false (image_files_is_photo ("/nonexistent/IMG_1"));
  /* The files SQLite keeps beside a database, even with a photo's bytes, are not looked at. */
  {
    g_autofree char *shm = g_build_filename (photos, "IMG_NOEXT-shm", NULL);
    g_autofree char *wal = g_build_filename (photos, "gallery.db-wal", NULL);

    write_file (shm, png_signature, sizeof png_signature);
    write_file (wal, png_signature, sizeof png_signature);
    g_assert_false (image_files_is_photo (shm));
    g_assert_false (image_files_is_photo (wal));
  }
  remove_tree (dir);
}

static void
record_problem (const char *path, const GError *error, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (error->message));
}

static void
test_collect (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-files-XXXXXX", NULL);
  g_autofree char *photos = make_tree (dir);
  g_autofree char *one = g_build_filename (photos, "b.jpg", NULL);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) flat = NULL;
  g_autoptr (GPtrArray) deep = NULL;
  const char *args[] = { photos, NULL };
  const char *args2[] = { one, photos, NULL };
  const char *missing[] = { "/nonexistent/photos", NULL };

  flat = image_files_collect (args, FALSE, record_problem, problems, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (flat->len, ==, 3); /* IMG_NOEXT, a.PNG, b.jpg in name order */
  g_assert_true (g_str_has_suffix (g_ptr_array_index (flat, 0), "/IMG_NOEXT"));
  g_assert_true (g_str_has_suffix (g_ptr_array_index (flat, 1), "/a.PNG"));
  g_assert_true (g_str_has_suffix (g_ptr_array_index (flat, 2), "/b.jpg"));
  deep = image_files_collect (args2, TRUE, record_problem, problems, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (deep->len, ==, 4); /* b.jpg once, sub/deep.heic, not through the link */
  g_assert_true (g_str_has_suffix (g_ptr_array_index (deep, 0), "/b.jpg"));
  g_assert_true (g_str_has_suffix (g_ptr_array_index (deep, 3), "/sub/deep.heic"));
  g_assert_cmpuint (problems->len, ==, 0);

  /* A file named that is not a photo is said by name; one in a folder is passed over. */
  {
    g_autofree char *notes = g_build_filename (photos, "notes.txt", NULL);
    const char *args3[] = { notes, one, NULL };
    g_autoptr (GPtrArray) named =
      image_files_collect (args3, FALSE, record_problem, problems, NULL, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (named->len, ==, 1);
    g_assert_cmpuint (problems->len, ==, 1);
    g_assert_nonnull (strstr (g_ptr_array_index (problems, 0), notes));
    g_assert_nonnull (strstr (g_ptr_array_index (problems, 0), "not a photo"));
    g_ptr_array_set_size (problems, 0);
  }

  /* Files to skip (a database among the photos) are left out unopened, by their inode, under
   * any name that reaches them. */
  {
    g_autofree char *noext = g_build_filename (photos, "IMG_NOEXT", NULL);
    g_autofree char *link = g_build_filename (photos, "link-to-noext.png", NULL);
    const char *skip[] = { noext, NULL };
    g_autoptr (GPtrArray) skipped = NULL;

    g_assert_cmpint (symlink (noext, link), ==, 0);
    skipped =
      image_files_collect_skipping (args, skip, FALSE, record_problem, problems, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (skipped->len, ==, 2); /* a.PNG, b.jpg */
    g_assert_true (g_str_has_suffix (g_ptr_array_index (skipped, 0), "/a.PNG"));
    g_assert_cmpuint (problems->len, ==, 0);
  }
  g_assert_null (image_files_collect (missing, TRUE, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/nonexistent/photos"));
  remove_tree (dir);
}

/* A chain of folders whose path is longer than PATH_MAX, with a photo at its end, beside a
 * readable folder: the too-long folder is reported by name, the others are walked. */
static void
test_path_too_long (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-files-XXXXXX", NULL);
  g_autofree char *top = g_build_filename (dir, "top", NULL);
  g_autofree char *fine = g_build_filename (top, "z-fine", NULL);
  g_autofree char *photo = g_build_filename (fine, "ok.jpg", NULL);
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) found = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *segment = g_strnfill (200, 'd');
  const char *args[] = { top, NULL };
  int fd;

  g_mkdir_with_parents (fine, 0755);
  write_file (photo, "ok", -1);
  fd = open (top, O_RDONLY | O_DIRECTORY);
  g_assert_cmpint (fd, >=, 0);
  for (gsize length = strlen (top); length < PATH_MAX + 400; length += 201)
    {
      int next;

      g_assert_cmpint (mkdirat (fd, segment, 0755), ==, 0);
      next = openat (fd, segment, O_RDONLY | O_DIRECTORY);
      g_assert_cmpint (next, >=, 0);
      close (fd);
      fd = next;
    }
  g_assert_cmpint (close (openat (fd, "far.jpg", O_WRONLY | O_CREAT, 0644)), ==, 0);
  close (fd);

  found = image_files_collect (args, TRUE, record_problem, problems, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (found, 0), ==, photo);
  g_assert_cmpuint (problems->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (problems, 0), segment));
  g_assert_nonnull (strstr (g_ptr_array_index (problems, 0), "Could not read the folder"));
  g_test_message ("%s", (const char *) g_ptr_array_index (problems, 0));
  remove_tree (dir);
}

/* A sub-folder the person may not read (another user's, lost+found): reported by name, the
 * rest is walked. Root reads everything, so as root the walk runs in a child that becomes
 * "nobody". */
static void
test_unreadable_folder (void)
{
  const char *top = g_getenv ("DEPICT_TEST_WALK_TOP");

  if (g_test_subprocess ())
    {
      g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) found = NULL;
      g_autoptr (GError) error = NULL;
      const char *args[] = { top, NULL };

      if (geteuid () == 0)
        g_assert_true (setgid (65534) == 0 && setuid (65534) == 0);
      found = image_files_collect (args, TRUE, record_problem, problems, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (found->len, ==, 2);
      g_assert_cmpuint (problems->len, ==, 1);
      g_printerr ("%s\n", (const char *) g_ptr_array_index (problems, 0));
      return;
    }
  {
    g_autofree char *dir = g_dir_make_tmp ("depict-files-XXXXXX", NULL);
    g_autofree char *walk_top = g_build_filename (dir, "top", NULL);
    g_autofree char *locked = g_build_filename (walk_top, "lost+found", NULL);
    g_autofree char *after = g_build_filename (walk_top, "m-after", NULL);

    g_mkdir_with_parents (locked, 0755);
    g_mkdir_with_parents (after, 0755);
    g_autofree char *a = g_build_filename (walk_top, "a.jpg", NULL);
    g_autofree char *secret = g_build_filename (locked, "secret.jpg", NULL);
    g_autofree char *b = g_build_filename (after, "b.jpg", NULL);

    write_file (a, "a", -1);
    write_file (secret, "s", -1);
    write_file (b, "b", -1);
    g_chmod (dir, 0755);
    g_chmod (locked, 0);
    g_setenv ("DEPICT_TEST_WALK_TOP", walk_top, TRUE);
    g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed ();
    g_test_trap_assert_stderr ("*Could not read the folder*lost+found*");
    g_chmod (locked, 0755);
    remove_tree (dir);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/files/is-photo", test_is_photo);
  g_test_add_func ("/image/files/collect", test_collect);
  g_test_add_func ("/image/files/path-too-long", test_path_too_long);
  g_test_add_func ("/image/files/unreadable-folder", test_unreadable_folder);
  return g_test_run ();
}
