/* cli-serve-access.h: who may use depict-cli serve, and which files they may name
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Safe by default: the server listens on loopback; listening on any other address needs a
 * token, which clients send as "Authorization: Bearer TOKEN" and which is compared in
 * constant time. Clients may name local files only under folders the person allowed.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The shortest token accepted: 16 characters (96 bits of a random base64 string). */
#define CLI_SERVE_ACCESS_MIN_TOKEN 16

/* --listen ADDRESS:PORT ("127.0.0.1:8734", "[::1]:8734", "localhost:8734", "0.0.0.0:8734";
 * port 0 picks a free one). Host names other than localhost are refused: the server binds
 * to an address. */
GInetSocketAddress *cli_serve_access_parse_listen (const char *text, GError **error);

/* The token in the file (its first line, without surrounding white space); at least
 * CLI_SERVE_ACCESS_MIN_TOKEN characters. */
char *cli_serve_access_read_token (const char *path, GError **error);

/* Whether the Authorization header value carries the token ("Bearer TOKEN"), compared in
 * a time that does not depend on where they differ. */
gboolean cli_serve_access_check_bearer (const char *authorization, const char *token);

/* The real path of the file a client named, when it lies under one of the allowed folders
 * (absolute, canonical: give each folder both as named and as its real path) by name and
 * by real path, and is a regular file; else NULL and a CLI_SERVE_ERROR: 403, or 404 when
 * a file under an allowed folder does not exist. */
char *cli_serve_access_allowed_file (const char *path, const char *const *allowed_folders,
                                     GError **error);

G_END_DECLS
