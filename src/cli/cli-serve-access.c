/* cli-serve-access.c: who may use depict-cli serve (see cli-serve-access.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "cli-serve-access.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "cli-serve-request.h"

GInetSocketAddress *
cli_serve_access_parse_listen (const char *text, GError **error)
{
  g_autofree char *host = NULL;
  g_autoptr (GInetAddress) address = NULL;
  const char *colon = text != NULL ? strrchr (text, ':') : NULL;
  guint64 port;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    goto fail;
  host = g_strndup (text, (gsize) (colon - text));
  if (host[0] == '[' && g_str_has_suffix (host, "]"))
    {
      memmove (host, host + 1, strlen (host) - 1);
      host[strlen (host) - 2] = '\0';
    }
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    address = g_inet_address_new_from_string (host);
  if (address == NULL)
    goto fail;
  return G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (address, (guint16) port));

fail:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _ ("“%s” is not an address to listen on. Give an IP address and a port, for "
                  "example 127.0.0.1:8734, [::1]:8734 or 0.0.0.0:8734."),
               text != NULL ? text : "");
  return NULL;
}

char *
cli_serve_access_read_token (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) local = NULL;
  char *newline;

  if (!g_file_get_contents (path, &contents, NULL, &local))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("The token file cannot be read: %s"), local->message);
      return NULL;
    }
  if ((newline = strchr (contents, '\n')) != NULL)
    *newline = '\0';
  g_strstrip (contents);
  if (strlen (contents) < CLI_SERVE_ACCESS_MIN_TOKEN)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("The token in %s is shorter than %d characters. Put a long random "
                      "secret on its first line, for example the output of “openssl rand "
                      "-base64 32”."),
                   path, CLI_SERVE_ACCESS_MIN_TOKEN);
      return NULL;
    }
  return g_steal_pointer (&contents);
}

/* SHA-256 of a string, so that both sides of the comparison have the same length. */
static void
digest (const char *s, gsize n, guint8 out[32])
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize len = 32;

  g_checksum_update (checksum, (const guchar *) s, (gssize) n);
  g_checksum_get_digest (checksum, out, &len);
}

gboolean
cli_serve_access_check_bearer (const char *authorization, const char *token)
{
  guint8 a[32], b[32];
  volatile guint8 diff = 0;
  const char *given;

  if (authorization == NULL || g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0)
    return FALSE;
  given = authorization + 7;
  while (*given == ' ')
    given++;
  digest (given, strlen (given), a);
  digest (token, strlen (token), b);
  for (gsize i = 0; i < sizeof a; i++)
    diff |= a[i] ^ b[i];
  return diff == 0;
}

/* Whether path lies below folder (both absolute, without "." or ".." parts). */
static gboolean
is_below (const char *path, const char *folder)
{
  gsize n = strlen (folder);
  return strncmp (path, folder, n) == 0 && (path[n] == '/' || (n > 0 && folder[n - 1] == '/'));
}

static gboolean
is_below_any (const char *path, const char *const *folders)
{
  for (guint i = 0; folders[i] != NULL; i++)
    if (is_below (path, folders[i]))
      return TRUE;
  return FALSE;
}

char *
cli_serve_access_allowed_file (const char *path, const char *const *allowed_folders, GError **error)
{
  g_autofree char *lexical = NULL;
  g_autofree char *real = NULL;

  if (allowed_folders == NULL || allowed_folders[0] == NULL)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_FORBIDDEN,
                           _ ("This server does not open files named by clients. Send the "
                              "picture in the request, or start the server with "
                              "--allow-folder FOLDER."));
      return NULL;
    }
  /* First by name alone, so that nothing is said about files outside the folders (not even
   * whether they exist); then the real path, so that a link cannot lead out of them. */
  lexical = g_path_is_absolute (path) ? g_canonicalize_filename (path, "/") : NULL;
  if (lexical == NULL || !is_below_any (lexical, allowed_folders))
    goto forbidden;
  real = realpath (lexical, NULL);
  if (real == NULL)
    {
      g_set_error (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_NOT_FOUND, _ ("There is no file %s."),
                   path);
      return NULL;
    }
  if (!is_below_any (real, allowed_folders))
    goto forbidden;
  if (!g_file_test (real, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                   _ ("%s is not a file. Name a picture file."), path);
      return NULL;
    }
  return g_steal_pointer (&real);

forbidden:
  g_set_error (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_FORBIDDEN,
               _ ("%s is not in a folder this server allows. Give the absolute path of a file "
                  "there, or send the picture in the request."),
               path);
  return NULL;
}
