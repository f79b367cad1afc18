/* depict-api-service.c: the local API (`depict-cli serve`), started and stopped by the app
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The service is depict-cli's, not a second copy in the app: the app runs `depict-cli serve`
 * as a child with the model and device of its settings, knows it is ready when the child
 * prints its base URL (the only line it writes on stdout), and keeps the last line the child
 * wrote on stderr, which is the sentence that says why it stopped when it fails (the port is
 * taken, the model is missing). Stopping sends SIGTERM, on which depict-cli finishes the
 * requests in progress. The child gets SIGTERM too when the app dies, so that no service is
 * left behind by a crashed app.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <signal.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "depict-api-service.h"

struct _DepictApiService {
  GObject parent_instance;

  GSettings *settings;
  char *listen;

  GSubprocess *process;
  GCancellable *cancellable;
  gboolean exited;      /* the child has ended ... */
  gboolean stderr_done; /* ... and all it wrote on stderr is read */
  DepictApiServiceState state;
  char *url;
  char *message;
  char *last_stderr_line;
};

enum { PROP_0, PROP_STATE, PROP_URL, PROP_MESSAGE, N_PROPS };

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (DepictApiService, depict_api_service, G_TYPE_OBJECT)

static void
set_state (DepictApiService *self, DepictApiServiceState state, const char *url,
           const char *message)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (g_strcmp0 (self->url, url) != 0)
    {
      g_free (self->url);
      self->url = g_strdup (url);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
    }
  if (g_strcmp0 (self->message, message) != 0)
    {
      g_free (self->message);
      self->message = g_strdup (message);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
    }
  if (self->state != state)
    {
      self->state = state;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

/* depict-cli: $DEPICT_CLI (the build tree and the tests set it), then the installed one. */
static char *
find_cli (GError **error)
{
  const char *env = g_getenv ("DEPICT_CLI");
  g_autofree char *installed = g_build_filename (BINDIR, "depict-cli", NULL);
  g_autofree char *in_path = NULL;

  if (env != NULL && *env != '\0')
    {
      if (g_file_test (env, G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup (env);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _ ("The local API could not start: “%s” (named by DEPICT_CLI) is not a "
                      "program. Unset DEPICT_CLI or point it at depict-cli."),
                   env);
      return NULL;
    }
  if (g_file_test (installed, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&installed);
  in_path = g_find_program_in_path ("depict-cli");
  if (in_path != NULL)
    return g_steal_pointer (&in_path);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               _ ("The local API could not start: depict-cli is not installed (looked in %s). "
                  "Reinstall Depict."),
               BINDIR);
  return NULL;
}

static void
child_setup (gpointer data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGTERM);
#endif
}

static void read_stderr_line (DepictApiService *self, GDataInputStream *stream);
static void finish_if_ended (DepictApiService *self);

static void
on_stderr_line (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (DepictApiService) self = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;

  line =
    g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (line == NULL)
    {
      /* The end of the stream (or bytes that are not UTF-8: the child ends anyway) */
      self->stderr_done = TRUE;
      finish_if_ended (self);
      return;
    }
  g_strstrip (line);
  if (*line != '\0')
    {
      g_free (self->last_stderr_line);
      self->last_stderr_line = g_steal_pointer (&line);
    }
  read_stderr_line (self, G_DATA_INPUT_STREAM (source));
}

static void
read_stderr_line (DepictApiService *self, GDataInputStream *stream)
{
  g_data_input_stream_read_line_async (stream, G_PRIORITY_DEFAULT, self->cancellable,
                                       on_stderr_line, g_object_ref (self));
}

static void
on_url_line (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (DepictApiService) self = data;
  g_autofree char *line = NULL;

  line =
    g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, NULL);
  if (line == NULL || self->state != DEPICT_API_SERVICE_STARTING)
    return; /* the child ended first: on_exited says why */
  g_strstrip (line);
  set_state (self, DEPICT_API_SERVICE_RUNNING, line, NULL);
}

/* Once the child has ended and its last words are read: STOPPED, or FAILED with why. */
static void
finish_if_ended (DepictApiService *self)
{
  g_autoptr (GSubprocess) process = NULL;
  g_autofree char *message = NULL;

  if (!self->exited || !self->stderr_done || self->process == NULL)
    return;
  process = g_steal_pointer (&self->process);
  g_clear_object (&self->cancellable);

  if (self->state == DEPICT_API_SERVICE_STOPPING)
    {
      set_state (self, DEPICT_API_SERVICE_STOPPED, NULL, NULL);
      return;
    }
  if (self->last_stderr_line != NULL)
    /* Translators: %s is depict-cli's own sentence, e.g. "depict-cli serve: Address in use" */
    message = g_strdup_printf (_ ("The local API stopped: %s"), self->last_stderr_line);
  else if (g_subprocess_get_if_signaled (process))
    message = g_strdup_printf (_ ("The local API stopped unexpectedly (signal %d)."),
                               g_subprocess_get_term_sig (process));
  else
    message = g_strdup_printf (_ ("The local API stopped unexpectedly (exit status %d)."),
                               g_subprocess_get_exit_status (process));
  set_state (self, DEPICT_API_SERVICE_FAILED, NULL, message);
}

static void
on_exited (GObject *source, GAsyncResult *result, gpointer data)
{
  g_autoptr (DepictApiService) self = data;

  if (!g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL))
    return; /* cancelled: the service is being disposed */
  if (G_SUBPROCESS (source) != self->process)
    return;
  self->exited = TRUE;
  finish_if_ended (self);
}

gboolean
depict_api_service_start (DepictApiService *self, GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDataInputStream) out = NULL;
  g_autoptr (GDataInputStream) err = NULL;
  g_autofree char *cli = NULL;
  g_autofree char *model = NULL;
  g_autofree char *device = NULL;

  g_return_val_if_fail (DEPICT_IS_API_SERVICE (self), FALSE);
  if (self->process != NULL)
    return TRUE; /* starting, running or still stopping: one service at a time */

  cli = find_cli (error);
  if (cli == NULL)
    {
      set_state (self, DEPICT_API_SERVICE_FAILED, NULL, (*error)->message);
      return FALSE;
    }
  model = g_settings_get_string (self->settings, "model");
  device = g_settings_get_string (self->settings, "device");
  g_ptr_array_add (argv, g_steal_pointer (&cli));
  g_ptr_array_add (argv, g_strdup ("serve"));
  if (*model != '\0')
    {
      g_ptr_array_add (argv, g_strdup ("--model"));
      g_ptr_array_add (argv, g_strdup (model));
    }
  if (*device != '\0')
    {
      g_ptr_array_add (argv, g_strdup ("--device"));
      g_ptr_array_add (argv, g_strdup (device));
    }
  /* A model folder without a tokenizer, as the session loads it (depict-session.c) */
  if (g_getenv ("DEPICT_TOKENIZER_DIR") != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--tokenizer"));
      g_ptr_array_add (argv, g_strdup (g_getenv ("DEPICT_TOKENIZER_DIR")));
    }
  if (self->listen != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--listen"));
      g_ptr_array_add (argv, g_strdup (self->listen));
    }
  g_ptr_array_add (argv, NULL);

  launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  self->process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
  if (self->process == NULL)
    {
      set_state (self, DEPICT_API_SERVICE_FAILED, NULL, (*error)->message);
      return FALSE;
    }
  g_clear_pointer (&self->last_stderr_line, g_free);
  self->exited = self->stderr_done = FALSE;
  self->cancellable = g_cancellable_new ();
  set_state (self, DEPICT_API_SERVICE_STARTING, NULL, NULL);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (self->process));
  g_data_input_stream_read_line_async (out, G_PRIORITY_DEFAULT, self->cancellable, on_url_line,
                                       g_object_ref (self));
  read_stderr_line (self, err);
  g_subprocess_wait_async (self->process, self->cancellable, on_exited, g_object_ref (self));
  return TRUE;
}

void
depict_api_service_stop (DepictApiService *self)
{
  g_return_if_fail (DEPICT_IS_API_SERVICE (self));
  if (self->process == NULL)
    {
      if (self->state == DEPICT_API_SERVICE_FAILED)
        set_state (self, DEPICT_API_SERVICE_STOPPED, NULL, NULL);
      return;
    }
  if (self->state == DEPICT_API_SERVICE_STOPPING)
    return;
  set_state (self, DEPICT_API_SERVICE_STOPPING, NULL, NULL);
  g_subprocess_send_signal (self->process, SIGTERM);
}

void
depict_api_service_set_listen (DepictApiService *self, const char *address)
{
  g_return_if_fail (DEPICT_IS_API_SERVICE (self));
  g_free (self->listen);
  self->listen = g_strdup (address);
}

DepictApiServiceState
depict_api_service_get_state (DepictApiService *self)
{
  g_return_val_if_fail (DEPICT_IS_API_SERVICE (self), DEPICT_API_SERVICE_STOPPED);
  return self->state;
}

const char *
depict_api_service_get_url (DepictApiService *self)
{
  g_return_val_if_fail (DEPICT_IS_API_SERVICE (self), NULL);
  return self->url;
}

const char *
depict_api_service_get_message (DepictApiService *self)
{
  g_return_val_if_fail (DEPICT_IS_API_SERVICE (self), NULL);
  return self->message;
}

/* The service stops with the app: SIGTERM lets depict-cli finish the requests it has. */
static void
depict_api_service_dispose (GObject *object)
{
  DepictApiService *self = DEPICT_API_SERVICE (object);

  if (self->process != NULL)
    g_subprocess_send_signal (self->process, SIGTERM);
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->process);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (depict_api_service_parent_class)->dispose (object);
}

static void
depict_api_service_finalize (GObject *object)
{
  DepictApiService *self = DEPICT_API_SERVICE (object);

  g_free (self->listen);
  g_free (self->url);
  g_free (self->message);
  g_free (self->last_stderr_line);
  G_OBJECT_CLASS (depict_api_service_parent_class)->finalize (object);
}

static void
depict_api_service_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictApiService *self = DEPICT_API_SERVICE (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_URL:
      g_value_set_string (value, self->url);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_api_service_class_init (DepictApiServiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = depict_api_service_dispose;
  object_class->finalize = depict_api_service_finalize;
  object_class->get_property = depict_api_service_get_property;

  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, DEPICT_API_SERVICE_STOPPED, DEPICT_API_SERVICE_FAILED,
                      DEPICT_API_SERVICE_STOPPED,
                      G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_URL] = g_param_spec_string (
    "url", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
depict_api_service_init (DepictApiService *self)
{
}

DepictApiService *
depict_api_service_new (GSettings *settings)
{
  DepictApiService *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  self = g_object_new (DEPICT_TYPE_API_SERVICE, NULL);
  self->settings = g_object_ref (settings);
  return self;
}
