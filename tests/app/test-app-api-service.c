/* test-app-api-service.c: the app starts and stops the local API (depict-api-service.c)
 *
 * The service runs the real depict-cli ($DEPICT_CLI) with the tiny fixture model on a free
 * loopback port; the test asks it /healthz as a client would, turns it off from the
 * Preferences switch, checks that a port already taken gives depict-cli's sentence, and that
 * a missing depict-cli is a sentence too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "app-test-util.h"
#include "depict-api-service.h"
#include "depict-application.h"
#include "depict-preferences.h"

static GSettings *
tiny_settings (void)
{
  GSettings *settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);

  g_settings_set_string (settings, "model", tiny);
  g_settings_set_string (settings, "device", "cpu-reference");
  return settings;
}

static gboolean
service_settled (gpointer data)
{
  DepictApiServiceState state = depict_api_service_get_state (data);

  return state != DEPICT_API_SERVICE_STARTING && state != DEPICT_API_SERVICE_STOPPING;
}

static guint
get_status (const char *url, const char *path, char **body)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *uri = g_uri_resolve_relative (url, path, G_URI_FLAGS_NONE, NULL);
  g_autoptr (SoupMessage) message = soup_message_new ("GET", uri);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;

  bytes = soup_session_send_and_read (session, message, NULL, &error);
  if (bytes == NULL)
    {
      g_test_message ("GET %s: %s", uri, error->message);
      return 0;
    }
  if (body != NULL)
    *body = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  return soup_message_get_status (message);
}

static void
test_start_stop_from_preferences (void)
{
  g_autoptr (GSettings) settings = tiny_settings ();
  g_autoptr (DepictApiService) service = depict_api_service_new (settings);
  g_autoptr (DepictApiService) second = depict_api_service_new (settings);
  DepictPreferencesWindow *window;
  GtkSwitch *api_switch;
  g_autofree char *url = NULL;
  g_autofree char *body = NULL;
  g_autofree char *taken = NULL;
  const char *subtitle;

  depict_api_service_set_listen (service, "127.0.0.1:0");
  window = depict_preferences_window_new (NULL, settings, NULL);
  depict_preferences_window_set_api_service (window, service);
  api_switch = depict_preferences_window_get_api_switch (window);
  g_assert_false (gtk_switch_get_active (api_switch));
  g_assert_cmpstr (adw_action_row_get_subtitle (depict_preferences_window_get_api_row (window)), ==,
                   "Off");

  /* On, as a person turns it on: the service starts and the row says where it answers. */
  gtk_switch_set_active (api_switch, TRUE);
  g_assert_cmpint (depict_api_service_get_state (service), ==, DEPICT_API_SERVICE_STARTING);
  app_test_wait (service_settled, service, 120000, "the local API to start");
  g_test_message ("message: %s", depict_api_service_get_message (service));
  g_assert_cmpint (depict_api_service_get_state (service), ==, DEPICT_API_SERVICE_RUNNING);
  url = g_strdup (depict_api_service_get_url (service));
  g_assert_true (g_str_has_prefix (url, "http://127.0.0.1:"));
  subtitle = adw_action_row_get_subtitle (depict_preferences_window_get_api_row (window));
  g_assert_nonnull (strstr (subtitle, url));
  g_assert_true (gtk_switch_get_active (api_switch));
  g_assert_cmpuint (get_status (url, "/healthz", &body), ==, 200);
  g_test_message ("healthz: %s", body);

  /* The same port again: depict-cli's own sentence, not a silent switch. */
  taken = g_strdup (url + strlen ("http://"));
  taken[strcspn (taken, "/")] = '\0';
  depict_api_service_set_listen (second, taken);
  g_assert_true (depict_api_service_start (second, NULL));
  app_test_wait (service_settled, second, 120000, "the second service to give up");
  g_assert_cmpint (depict_api_service_get_state (second), ==, DEPICT_API_SERVICE_FAILED);
  g_test_message ("second: %s", depict_api_service_get_message (second));
  g_assert_true (g_str_has_prefix (depict_api_service_get_message (second), "The local API"));
  g_assert_nonnull (strstr (depict_api_service_get_message (second), "depict-cli"));
  g_assert_null (depict_api_service_get_url (second));
  /* ... and the first one still answers. */
  g_assert_cmpuint (get_status (url, "/healthz", NULL), ==, 200);

  /* Off: it stops, and nothing answers there any more. */
  gtk_switch_set_active (api_switch, FALSE);
  app_test_wait (service_settled, service, 60000, "the local API to stop");
  g_assert_cmpint (depict_api_service_get_state (service), ==, DEPICT_API_SERVICE_STOPPED);
  g_assert_null (depict_api_service_get_url (service));
  g_assert_null (depict_api_service_get_message (service));
  g_assert_cmpstr (adw_action_row_get_subtitle (depict_preferences_window_get_api_row (window)), ==,
                   "Off");
  g_assert_cmpuint (get_status (url, "/healthz", NULL), ==, 0);

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_missing_cli (void)
{
  g_autoptr (GSettings) settings = tiny_settings ();
  g_autoptr (DepictApiService) service = depict_api_service_new (settings);
  g_autoptr (GError) error = NULL;
  g_autofree char *saved = g_strdup (g_getenv ("DEPICT_CLI"));

  g_setenv ("DEPICT_CLI", "/nonexistent/depict-cli", TRUE);
  g_assert_false (depict_api_service_start (service, &error));
  g_setenv ("DEPICT_CLI", saved, TRUE);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpint (depict_api_service_get_state (service), ==, DEPICT_API_SERVICE_FAILED);
  g_assert_cmpstr (depict_api_service_get_message (service), ==, error->message);
  g_assert_nonnull (strstr (error->message, "/nonexistent/depict-cli"));
  /* Stopping a failed service clears the sentence. */
  depict_api_service_stop (service);
  g_assert_cmpint (depict_api_service_get_state (service), ==, DEPICT_API_SERVICE_STOPPED);
  g_assert_null (depict_api_service_get_message (service));
}

int
main (int argc, char *argv[])
{
  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  app_test_init_gtk (&argc, &argv);

  g_test_add_func ("/app/api-service/start-stop", test_start_stop_from_preferences);
  g_test_add_func ("/app/api-service/missing-cli", test_missing_cli);
  return g_test_run ();
}
