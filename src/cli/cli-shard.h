/* cli-shard.h: which photos one task of a cluster job tags — a share of them by content
 * (--shard K/N) and lists made by other tools (--files-from)
 *
 * A photo's shard follows from its file's content only, so nodes that mount the archive at
 * different paths, or list it in another order, agree; shards 0 … N-1 are disjoint and cover
 * every photo. The key is the SHA-256 of the file's size, its first 64 KiB and its last 64 KiB
 * (the whole file when it is smaller): every node reads each file of the archive to know its
 * shard, and reading 128 KiB of each instead of all of it keeps that within what shared storage
 * serves (a million 5 MB photos: 128 GB per node rather than 5 TB). Two files that differ only
 * in their middle fall in the same shard, which changes the balance, never the cover.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  guint index; /* 0 … count - 1 */
  guint count; /* 0: no sharding */
} CliShard;

/* "K/N" (0 ≤ K < N), or "auto": K and N of a Slurm array task (SLURM_ARRAY_TASK_ID,
 * _MIN, _STEP and _COUNT of an array given as a range, --array=0-N-1 or 1-N), or "auto/N" and
 * "auto": K from Kubernetes' JOB_COMPLETION_INDEX (an Indexed Job does not tell its pods how
 * many completions it has, so N comes from "auto/N"). env: the environment to read
 * (g_get_environ ()). Errors are sentences (G_IO_ERROR_INVALID_ARGUMENT). */
gboolean cli_shard_parse (const char *text, const char *const *env, CliShard *out, GError **error);

/* The content key of the file at path (see above); FALSE with a sentence naming the file when
 * it cannot be read. */
gboolean cli_shard_key (const char *path, guint64 *out_key, GError **error);

/* The shard the key falls in: key mod count. */
guint cli_shard_of_key (guint64 key, guint count);

/* The paths listed in file ("-": standard input), separated by NUL bytes when it holds any,
 * else by newlines; empty entries are left out. */
GPtrArray *cli_shard_read_list (const char *file, GError **error);

/* The photos to tag: those of args (files, and folders walked as image_files_collect() does)
 * and of the list file (when not NULL), each once, in that order, keeping those of the shard
 * (when shard->count > 0). A listed path that is gone, a folder that cannot be read or a file
 * whose key cannot be read is added to problems (sentences naming it) and the rest goes on.
 * NULL with error set when an argument does not exist or the list cannot be read. */
GPtrArray *cli_shard_select (const char *const *args, const char *list_file, gboolean recursive,
                             const CliShard *shard, GPtrArray *problems, GCancellable *cancellable,
                             GError **error);

G_END_DECLS
