/* serve-test-util.c: starting `depict-cli serve` for the tests (see serve-test-util.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "serve-test-util.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

/* The server goes when the program that started it goes, even by a crash: a server left
 * running would hold the test's output open. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

ServeTestServer *
serve_test_start (const char *cli_path, const char *const *extra_args, gboolean stderr_pipe,
                  GError **error)
{
  const char *data = g_getenv ("DEPICT_TEST_DATA");
  g_autofree char *model = g_build_filename (data, "models", "tiny", NULL);
  g_autofree char *tokenizer = g_build_filename (data, "tokenizer", NULL);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (ServeTestServer) server = g_new0 (ServeTestServer, 1);
  const char *fixed[] = { cli_path, "serve",       "--listen", "127.0.0.1:0", "--model",
                          model,    "--tokenizer", tokenizer,  "--device",    "cpu-reference" };

  for (gsize i = 0; i < G_N_ELEMENTS (fixed); i++)
    g_ptr_array_add (argv, (gpointer) fixed[i]);
  for (guint i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) extra_args[i]);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        (stderr_pipe ? G_SUBPROCESS_FLAGS_STDERR_PIPE : 0));
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  server->process =
    g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
  if (server->process == NULL)
    return NULL;
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  server->url = g_data_input_stream_read_line_utf8 (out, NULL, NULL, error);
  if (server->url == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                             "depict-cli serve exited before it listened");
      g_subprocess_force_exit (server->process);
      g_subprocess_wait (server->process, NULL, NULL);
      return NULL;
    }
  return g_steal_pointer (&server);
}

int
serve_test_stop (ServeTestServer *server)
{
  g_subprocess_send_signal (server->process, SIGTERM);
  if (!g_subprocess_wait (server->process, NULL, NULL) ||
      !g_subprocess_get_if_exited (server->process))
    return -1;
  return g_subprocess_get_exit_status (server->process);
}

void
serve_test_server_free (ServeTestServer *server)
{
  if (server == NULL)
    return;
  if (server->process != NULL && g_subprocess_get_identifier (server->process) != NULL)
    {
      g_subprocess_force_exit (server->process);
      g_subprocess_wait (server->process, NULL, NULL);
    }
  g_clear_object (&server->process);
  g_free (server->url);
  g_free (server);
}

char *
serve_test_url (const ServeTestServer *server, const char *path)
{
  return g_strconcat (server->url, path, NULL);
}

double
serve_test_metric (const char *metrics_text, const char *sample)
{
  g_auto (GStrv) lines = g_strsplit (metrics_text, "\n", -1);
  gsize n = strlen (sample);

  for (guint i = 0; lines[i] != NULL; i++)
    if (strncmp (lines[i], sample, n) == 0 && lines[i][n] == ' ')
      return g_ascii_strtod (lines[i] + n + 1, NULL);
  return -1;
}
