/* cli-serve.c: `depict-cli serve`, a local HTTP service other photo apps can ask
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Loads one model, listens (loopback unless told otherwise, and then only with a token) and
 * answers the OpenAI, Ollama and Depict routes of cli-serve-http.c until SIGTERM or SIGINT:
 * then it stops taking requests, finishes those it has and exits. Once it listens it prints
 * its base URL as the only line on stdout (a program that starts it reads that line to know
 * it is ready, and where), and tells systemd READY=1 when started as a notify service.
 */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli-serve-access.h"
#include "cli-serve-gallery.h"
#include "cli-serve-http.h"
#include "cli-serve-queue.h"
#include "cli-options.h"
#include "depict-cli.h"
#include "florence/engine/florence-device.h"
#include "florence/files/florence-weights-hash.h"
#include "florence/hub/florence-hub.h"
#include "florence/model/florence-model-dir.h"
#include "florence/model/florence-model.h"

int cli_serve_main (int argc, char **argv);

#define DEFAULT_LISTEN "127.0.0.1:8734"

typedef struct {
  GMainLoop *loop;
  CliServeHttp *http;
  guint signals;
} Server;

static gboolean
quit_loop (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static gboolean
on_signal (gpointer data)
{
  Server *server = data;

  if (server->signals++ > 0)
    {
      g_printerr ("%s\n", _ ("depict-cli serve: stopped at once."));
      _exit (1);
    }
  g_printerr ("%s\n", _ ("depict-cli serve: stopping once the requests in progress are "
                         "answered (send the signal again to stop at once)."));
  cli_serve_http_shutdown (server->http, quit_loop, server->loop);
  return G_SOURCE_CONTINUE;
}

/* READY=1 to systemd when it started us as Type=notify (sd_notify without libsystemd). */
static void
notify_systemd (void)
{
  const char *path = g_getenv ("NOTIFY_SOCKET");
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) address = NULL;

  if (path == NULL || (path[0] != '/' && path[0] != '@'))
    return;
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_DATAGRAM, 0, NULL);
  if (socket == NULL)
    return;
  if (path[0] == '@')
    address = g_unix_socket_address_new_with_type (path + 1, -1, G_UNIX_SOCKET_ADDRESS_ABSTRACT);
  else
    address = g_unix_socket_address_new (path);
  g_socket_send_to (socket, address, "READY=1", 7, NULL, NULL);
}

/* The name clients ask for: an installed model by its hub name in lower case
 * ("florence-2-base"), any other by its own name. */
static char *
model_id (FlorenceModel *model, const char *model_dir)
{
  g_autofree char *dir = g_canonicalize_filename (model_dir, NULL);
  const char *name = florence_model_get_config (model)->name;
  gsize n = 0;
  const FlorenceHubModel *hub = florence_hub_get_models (&n);
  g_autofree char *lower = NULL;

  for (gsize i = 0; i < n; i++)
    {
      g_autofree char *installed = florence_hub_get_install_dir (&hub[i]);
      g_autofree char *canonical = g_canonicalize_filename (installed, NULL);
      if (g_strcmp0 (canonical, dir) == 0)
        name = strrchr (hub[i].repo, '/') + 1;
    }
  lower = g_ascii_strdown (name, -1);
  return g_strdelimit (g_steal_pointer (&lower), " ", '-');
}

/* Size and newest modification time of the weight files. */
static void
weights_stat (const char *model_dir, gint64 *size, gint64 *modified)
{
  g_autoptr (GDir) dir = g_dir_open (model_dir, 0, NULL);
  const char *name;

  *size = 0;
  *modified = 0;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (model_dir, name, NULL);
      GStatBuf st;
      if ((g_str_has_suffix (name, ".safetensors") || g_str_has_suffix (name, ".bin")) &&
          g_stat (path, &st) == 0)
        {
          *size += st.st_size;
          *modified = MAX (*modified, (gint64) st.st_mtime);
        }
    }
}

/* The folders clients may name files under, each as named (made absolute) and as its real
 * path (see cli_serve_access_allowed_file). */
static char **
resolve_folders (char **folders, GError **error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; folders != NULL && folders[i] != NULL; i++)
    {
      char *real = realpath (folders[i], NULL);
      if (real == NULL || !g_file_test (real, G_FILE_TEST_IS_DIR))
        {
          free (real);
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _ ("--allow-folder %s: there is no such folder."), folders[i]);
          return NULL;
        }
      g_ptr_array_add (out, g_canonicalize_filename (folders[i], NULL));
      if (g_strcmp0 (real, out->pdata[out->len - 1]) != 0)
        g_ptr_array_add (out, g_strdup (real));
      free (real);
    }
  g_ptr_array_add (out, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

int
cli_serve_main (int argc, char **argv)
{
  g_autofree char *listen = NULL;
  g_autofree char *model_arg = NULL;
  g_autofree char *device = NULL;
  g_autofree char *tokenizer_dir = NULL;
  g_autofree char *token_file = NULL;
  g_autofree char *name = NULL;
  g_autofree char *db_path = NULL;
  g_auto (GStrv) folders_arg = NULL;
  int queue_length = 16, max_body_mb = 32, max_megapixels = 50;
  gboolean gallery = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
      N_ ("Address and port to listen on (default 127.0.0.1:8734; port 0 picks a free one). "
          "Any address but loopback needs --token-file"),
      N_ ("ADDRESS:PORT") },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_arg,
      N_ ("The model: a folder or the name of an installed model (default: the first "
          "installed)"),
      N_ ("DIR|NAME") },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &device,
      N_ ("Where to run: auto, vulkan, cpu-reference, or a Vulkan device by index or part of "
          "its name (default auto, or $DEPICT_DEVICE)"),
      N_ ("DEVICE") },
    { "tokenizer", 0, 0, G_OPTION_ARG_FILENAME, &tokenizer_dir,
      N_ ("A folder with tokenizer.json, when the model folder has none"), N_ ("DIR") },
    { "token-file", 0, 0, G_OPTION_ARG_FILENAME, &token_file,
      N_ ("A file whose first line is the secret clients must send as “Authorization: Bearer "
          "TOKEN”"),
      N_ ("FILE") },
    { "allow-folder", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &folders_arg,
      N_ ("Let clients name picture files under this folder (may be repeated; default: "
          "none, pictures come in the request)"),
      N_ ("DIR") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      N_ ("The model name clients ask for (default: the model’s, e.g. florence-2-base)"),
      N_ ("NAME") },
    { "queue", 0, 0, G_OPTION_ARG_INT, &queue_length,
      N_ ("Requests that may wait for the engine; more are refused with 429 (default 16)"),
      N_ ("N") },
    { "max-body-mb", 0, 0, G_OPTION_ARG_INT, &max_body_mb,
      N_ ("Largest request body in megabytes (default 32)"), N_ ("N") },
    { "max-megapixels", 0, 0, G_OPTION_ARG_INT, &max_megapixels,
      N_ ("Largest picture in megapixels, checked before decoding (default 50)"), N_ ("N") },
    { "gallery", 0, 0, G_OPTION_ARG_NONE, &gallery,
      N_ ("Keep every result in the gallery (pictures sent in requests are kept in "
          "$XDG_DATA_HOME/depict/received)"),
      NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
      N_ ("The gallery database for --gallery (default $XDG_DATA_HOME/depict/gallery.db)"),
      N_ ("PATH") },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
      N_ ("No log line per request (errors are still logged)"), NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetSocketAddress) address = NULL;
  g_autofree char *token = NULL;
  g_auto (GStrv) folders = NULL;
  g_autofree char *model_dir = NULL;
  g_autofree char *vulkan_device = NULL;
  g_autoptr (FlorenceModel) model = NULL;
  g_autofree char *id = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *upload_dir = NULL;
  g_autofree char *url = NULL;
  g_autoptr (CliServeGallery) store = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  CliServeModelInfo info = { 0 };
  CliServeQueue *queue;
  Server server = { 0 };
  guint sigterm, sigint;

  g_option_context_set_summary (
    context, _ ("Answers other programs over HTTP: OpenAI-style POST /v1/chat/completions, "
                "Ollama-style POST /api/generate, and POST /v1/depict/run with the options of "
                "“depict-cli run”. One request runs at a time; the others wait in a queue."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc > 1)
    {
      g_printerr ("%s\n", _ ("depict-cli serve takes no arguments. See --help."));
      return 2;
    }
  if (queue_length < 0 || queue_length > 10000 || max_body_mb < 1 || max_body_mb > 1024 ||
      max_megapixels < 1 || max_megapixels > 1000)
    {
      g_printerr ("%s\n", _ ("depict-cli serve: --queue must be from 0 to 10000, --max-body-mb "
                             "from 1 to 1024 and --max-megapixels from 1 to 1000."));
      return 2;
    }

  /* Safe by default: loopback, or a token. */
  address = cli_serve_access_parse_listen (listen != NULL ? listen : DEFAULT_LISTEN, &error);
  if (address == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (token_file != NULL && (token = cli_serve_access_read_token (token_file, &error)) == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (token == NULL &&
      !g_inet_address_get_is_loopback (g_inet_socket_address_get_address (address)))
    {
      g_printerr ("%s\n", _ ("depict-cli serve: listening on an address other machines can "
                             "reach needs a token. Give --token-file FILE with a long random "
                             "secret; clients send it as “Authorization: Bearer TOKEN”."));
      return 2;
    }
  folders = resolve_folders (folders_arg, &error);
  if (folders == NULL)
    return cli_fail (g_steal_pointer (&error));

  /* The gallery first: a damaged or foreign file stops here, before the model loads. */
  if (gallery && (store = cli_serve_gallery_open (db_path, &error)) == NULL)
    return cli_fail (g_steal_pointer (&error));

  FlorenceModelOptions model_options = { FLORENCE_DEVICE_AUTO, tokenizer_dir };
  if (device != NULL &&
      !florence_device_parse (device, &model_options.device, &vulkan_device, &error))
    {
      g_printerr ("depict-cli serve: %s\n", error->message);
      return 2;
    }
  model_options.vulkan_device = vulkan_device;
  if ((model_dir = florence_model_dir_resolve (model_arg, &error)) == NULL ||
      (model = florence_model_load (model_dir, &model_options, &error)) == NULL)
    return cli_fail (g_steal_pointer (&error));
  hash = florence_weights_hash_for_dir (model_dir, NULL, &error);
  if (hash == NULL)
    {
      if (store != NULL)
        return cli_fail (g_steal_pointer (&error));
      g_clear_error (&error);
    }
  id = name != NULL ? g_strdup (name) : model_id (model, model_dir);
  info.model = model;
  info.id = id;
  info.weights_hash = hash;
  weights_stat (model_dir, &info.size, &info.modified);
  if (store != NULL)
    cli_serve_gallery_set_model (store, florence_model_get_config (model)->name, hash);

  upload_dir = g_dir_make_tmp ("depict-serve-XXXXXX", &error);
  if (upload_dir == NULL)
    return cli_fail (g_steal_pointer (&error));

  signal (SIGPIPE, SIG_IGN);
  loop = g_main_loop_new (NULL, FALSE);
  CliServeQueueOptions queue_options = {
    .model = model,
    .max_waiting = (guint) queue_length,
    .max_pixels = (guint64) max_megapixels * 1000000,
    .upload_dir = upload_dir,
    .store = store != NULL ? cli_serve_gallery_store : NULL,
    .store_data = store,
  };
  queue = cli_serve_queue_new (&queue_options);
  CliServeHttpOptions http_options = {
    .model = &info,
    .queue = queue,
    .token = token,
    .allowed_folders = (const char *const *) folders,
    .max_body = (gsize) max_body_mb * 1024 * 1024,
    .log = !quiet,
  };
  server.loop = loop;
  server.http = cli_serve_http_new (&http_options);
  if (!cli_serve_http_listen (server.http, G_SOCKET_ADDRESS (address), &url, &error))
    {
      cli_serve_http_free (server.http);
      cli_serve_queue_free (queue);
      g_rmdir (upload_dir);
      return cli_fail (g_steal_pointer (&error));
    }

  sigterm = g_unix_signal_add (SIGTERM, on_signal, &server);
  sigint = g_unix_signal_add (SIGINT, on_signal, &server);
  g_printerr (_ ("depict-cli serve: %s (%s) answers on %s\n"), id,
              florence_model_get_device_name (model), url);
  printf ("%s\n", url);
  fflush (stdout);
  notify_systemd ();

  g_main_loop_run (loop);

  g_source_remove (sigterm);
  g_source_remove (sigint);
  cli_serve_http_free (server.http);
  cli_serve_queue_free (queue);
  g_rmdir (upload_dir);
  g_printerr ("%s\n", _ ("depict-cli serve: stopped."));
  return 0;
}
