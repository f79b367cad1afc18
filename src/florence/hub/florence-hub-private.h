/* florence-hub-private.h: the hub's file list, parsed apart from the network so that it can
 * be fuzzed (tests/florence/fuzz/fuzz-hub-files.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* One file of a repository listing (GET /api/models/REPO/tree/REVISION). */
typedef struct {
  char *path; /* name in the repository: no '/', no leading '.', at most 200 bytes */
  guint64 size;
  char *sha256;  /* LFS files: the content's SHA-256 */
  char *git_oid; /* other files: the git blob SHA-1 */
} FlorenceHubFile;

void florence_hub_file_free (FlorenceHubFile *f);

/* The files of a listing, a JSON array of objects {type, path, size, oid, lfs {oid, size}}:
 * entries that are not plain files of the top folder (or are malformed) are skipped.
 * A GPtrArray of FlorenceHubFile; G_IO_ERROR_INVALID_DATA when json is not such an array. */
GPtrArray *florence_hub_parse_file_list (const char *json, gsize len, GError **error);

/* Reads a listing response body (decompressed already, as libsoup hands it over) of at most
 * 8 MB, closes it and parses it; past the cap, G_IO_ERROR_INVALID_DATA naming the repo. */
GPtrArray *florence_hub_read_file_list (GInputStream *body, const char *repo,
                                        GCancellable *cancellable, GError **error);

G_END_DECLS
