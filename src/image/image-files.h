/* image-files.h: which files are photos, and the photos of folders
 *
 * One answer to "is this a photo?" (by the name's extension, else by the first bytes) and
 * one folder walk, for the batch tagger, the command line and the app.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Whether the file at path looks like a photo image_load() may read: a known photo extension
 * (jpg, png, heic, …), else (no extension, or an unknown one) an image type found in its
 * first bytes. Sidecars (.xmp), JSON, text and databases are not photos; the -wal, -shm and
 * -journal files SQLite keeps beside a database are not even opened. Only regular files are opened,
 * without blocking (never a pipe or a device). Decoding may still fail: this is a cheap
 * first look. */
gboolean image_files_is_photo (const char *path);

/* Called for a file or folder the walk could not read (an unreadable sub-folder, a path
 * longer than the system allows): it is skipped and the walk goes on. error says why, with
 * the path. */
typedef void (*ImageFilesProblemFunc) (const char *path, const GError *error, gpointer user_data);

/* The photos among paths: files as given, and folders walked in name order (files first,
 * then sub-folders when recursive; hidden entries skipped; links to photos followed, links to
 * folders not). Absolute paths, each once. An argument that does not exist is an error (a
 * G_IO_ERROR with a sentence); a file named among paths that is not a photo, and a folder
 * inside that cannot be read, go to problem_func (may be NULL) and the walk goes on.
 * Cancellation: G_IO_ERROR_CANCELLED. */
GPtrArray *image_files_collect (const char *const *paths, gboolean recursive,
                                ImageFilesProblemFunc problem_func, gpointer user_data,
                                GCancellable *cancellable, GError **error);
/* The same, never opening the files of skip (paths, NULL-terminated; NULL: none) nor those
 * SQLite keeps beside them, found by their device and inode: the gallery's database in the
 * folder walked. Closing any descriptor of a database file drops every lock this process holds
 * on it (gallery-store.c), so even a look at its first bytes could let another process
 * damage it. */
GPtrArray *image_files_collect_skipping (const char *const *paths, const char *const *skip,
                                         gboolean recursive, ImageFilesProblemFunc problem_func,
                                         gpointer user_data, GCancellable *cancellable,
                                         GError **error);

G_END_DECLS
