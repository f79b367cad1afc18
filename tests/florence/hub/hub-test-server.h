/* hub-test-server.h: a local stand-in for the Hugging Face hub, on 127.0.0.1
 *
 * It serves a file list at /api/models/<repo>/tree/main (git blob SHA-1s, and LFS SHA-256s for
 * the weights) and the files at /<repo>/resolve/main/<name>, with HTTP range requests. Repo
 * "test/tiny" (also served as "microsoft/Florence-2-base") is the tiny fixture model with its
 * tokenizer; "test/bad" is the same with one byte of the weights changed (the listing keeps
 * the original hashes). Hostile repos: "test/416" lists the tiny model and answers every file
 * request with 416 (range not satisfiable); "test/bomb" sends a file list that is 64 KiB of gzip
 * inflating to 64 MiB of spaces.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct {
  char *name;
  GBytes *served; /* what the server sends */
  char *sha1_git; /* hashes of the ORIGINAL content */
  char *sha256;
  gboolean lfs;
} RepoFile;

typedef struct {
  SoupServer *server;
  char *endpoint;           /* "http://127.0.0.1:PORT/" */
  GPtrArray *files;         /* RepoFile*, repo "test/tiny" */
  GPtrArray *bad_files;     /* the same with a damaged weights file, repo "test/bad" */
  goffset last_range_start; /* of the latest weights request, -1 when none */
  guint weight_requests;
  guint refused_requests; /* repo "test/416": every file request is answered 416 */
} Hub;

Hub *hub_start (void);
void hub_stop (Hub *hub);

G_END_DECLS
