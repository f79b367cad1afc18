/* florence-file.h: opening the files of a model folder safely
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Only regular files are opened: a named pipe, a device or a socket put where config.json or
 * model.safetensors should be fails at once with a sentence, instead of blocking forever in
 * open() or read(). Whole-file reads have a size cap.
 *
 * Weights are memory-mapped. A mapped file that is truncated while it is read (rsync --inplace,
 * a git-lfs checkout, a download started again) would kill the process with SIGBUS on the first
 * read past its new end. A FlorenceFileMap guards against that: a read past the end gets zeros
 * (the pages from the faulting one to the end of the mapping are replaced by anonymous zero
 * pages, once, by a SIGBUS handler installed on first use), the mapping remembers it, and
 * florence_file_map_check() then fails with a sentence naming the file. Readers call it after
 * they have read what they need; what they read from a cut file is thrown away.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Opens path read-only if it is a regular file (never blocking on a FIFO): a file descriptor
 * (close it with g_close), or -1 and a G_FILE_ERROR (G_FILE_ERROR_NOENT when it does not exist,
 * G_FILE_ERROR_ISDIR for a folder, G_FILE_ERROR_INVAL for anything else that is not a regular
 * file). size (nullable) receives the file's size. */
int florence_file_open_regular (const char *path, goffset *size, GError **error);

/* g_file_get_contents() for a regular file of at most max_size bytes (G_FILE_ERROR_FAILED when
 * larger); contents are NUL-terminated. */
gboolean florence_file_get_contents (const char *path, gsize max_size, char **contents,
                                     gsize *length, GError **error);

typedef struct _FlorenceFileMap FlorenceFileMap;

/* Maps a regular file read-only, guarded as described above. An empty file maps to no data
 * (size 0). */
FlorenceFileMap *florence_file_map_new (const char *path, GError **error);
const guint8 *florence_file_map_get_data (FlorenceFileMap *map);
gsize florence_file_map_get_size (FlorenceFileMap *map);
const char *florence_file_map_get_path (FlorenceFileMap *map);
/* FALSE, and a G_FILE_ERROR_IO error naming the file, when a read went past the file's end or the
 * file is now shorter than when it was mapped. */
gboolean florence_file_map_check (FlorenceFileMap *map, GError **error);
void florence_file_map_free (FlorenceFileMap *map);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FlorenceFileMap, florence_file_map_free)

G_END_DECLS
