/* depict-application.c
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-application"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-about.h"
#include "depict-application.h"
#include "depict-help.h"
#include "depict-model-manager.h"
#include "depict-api-service.h"
#include "depict-preferences.h"
#include "depict-resources.h"
#include "depict-window.h"

struct _DepictApplication {
  AdwApplication parent_instance;

  DepictSession *session;
  DepictApiService *api_service; /* the local API, while the app runs */
};

G_DEFINE_FINAL_TYPE (DepictApplication, depict_application, ADW_TYPE_APPLICATION)

/* The templates live in a GResource compiled into the app library: referencing it makes
 * sure the linker keeps it (its constructor registers it). */
void
depict_application_ensure_resources (void)
{
  if (depict_get_resource () == NULL)
    g_error ("The app's resources are missing from the build");
}

static DepictWindow *
get_window (DepictApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (window == NULL)
    window = GTK_WINDOW (depict_window_new (GTK_APPLICATION (self)));
  return DEPICT_WINDOW (window);
}

static GSettings *
app_settings (gpointer app)
{
  return depict_session_get_settings (DEPICT_APPLICATION (app)->session);
}

static void
depict_application_activate (GApplication *app)
{
  gtk_window_present (GTK_WINDOW (get_window (DEPICT_APPLICATION (app))));
}

static void
depict_application_open (GApplication *app, GFile **files, int n_files, const char *hint)
{
  DepictWindow *window = get_window (DEPICT_APPLICATION (app));

  depict_window_open_files (window, files, n_files);
  gtk_window_present (GTK_WINDOW (window));
}

static void
quit_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GApplication *app = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  /* Close windows first, so that each cancels its work and saves its size (a window's
   * close-request does both; destroying it would skip them). */
  for (GList *l = windows; l != NULL;)
    {
      GtkWindow *window = l->data;

      l = l->next;
      gtk_window_close (window);
    }
  g_application_quit (app);
}

static void
about_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  depict_about_show (gtk_application_get_active_window (user_data), app_settings (user_data));
}

static void
preferences_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DepictPreferencesWindow *window;

  window = depict_preferences_window_new (gtk_application_get_active_window (user_data),
                                          app_settings (user_data), NULL);
  depict_preferences_window_set_api_service (window, DEPICT_APPLICATION (user_data)->api_service);
  /* Part of the application, so that its rows can reach app.models. */
  gtk_window_set_application (GTK_WINDOW (window), user_data);
  gtk_window_present (GTK_WINDOW (window));
}

static void
models_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DepictModelManager *manager;

  manager = depict_model_manager_new (gtk_application_get_active_window (user_data),
                                      app_settings (user_data));
  gtk_window_set_application (GTK_WINDOW (manager), user_data);
  gtk_window_present (GTK_WINDOW (manager));
}

static void
help_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  GtkWindow *help = depict_help_show (gtk_application_get_active_window (user_data));

  gtk_window_set_application (help, user_data);
}

static void
depict_application_startup (GApplication *app)
{
  DepictApplication *self = DEPICT_APPLICATION (app);
  static const GActionEntry entries[] = {
    { .name = "quit", .activate = quit_activated },
    { .name = "about", .activate = about_activated },
    { .name = "preferences", .activate = preferences_activated },
    { .name = "models", .activate = models_activated },
    { .name = "help", .activate = help_activated },
  };
  static const struct {
    const char *action;
    const char *accels[4];
  } accels[] = {
    { "app.quit", { "<Control>q", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "app.help", { "F1", NULL } },
    { "window.close", { "<Control>w", NULL } },
    { "win.open", { "<Control>o", NULL } },
    { "win.tag-folder", { "<Control><Shift>o", NULL } },
    { "win.run", { "<Control>Return", "<Control>KP_Enter", NULL } },
    { "win.run-all", { "<Control><Shift>Return", "<Control><Shift>KP_Enter", NULL } },
    { "win.cancel", { "Escape", NULL } },
    { "win.zoom-in", { "<Control>plus", "<Control>equal", "<Control>KP_Add", NULL } },
    { "win.zoom-out", { "<Control>minus", "<Control>KP_Subtract", NULL } },
    { "win.zoom-fit", { "<Control>0", "<Control>KP_0", NULL } },
    { "win.zoom-original", { "<Control>1", "<Control>KP_1", NULL } },
    { "win.copy-text", { "<Control><Shift>c", NULL } },
    { "win.export", { "<Control>s", NULL } },
    { "win.search", { "<Control>f", NULL } },
    { "win.show-photo", { "<Alt>1", NULL } },
    { "win.show-gallery", { "<Alt>2", NULL } },
    { "win.toggle-queue", { "F9", NULL } },
    { "win.next-photo", { "<Alt>Down", "Page_Down", NULL } },
    { "win.previous-photo", { "<Alt>Up", "Page_Up", NULL } },
  };

  G_APPLICATION_CLASS (depict_application_parent_class)->startup (app);

  if (self->session == NULL)
    {
      g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);

      self->session = depict_session_new (settings, NULL);
    }
  if (self->api_service == NULL)
    self->api_service = depict_api_service_new (depict_session_get_settings (self->session));

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (app), accels[i].action,
                                           accels[i].accels);
}

/* The work in progress stops with the app (after its windows closed). */
static void
depict_application_shutdown (GApplication *app)
{
  DepictApplication *self = DEPICT_APPLICATION (app);

  G_APPLICATION_CLASS (depict_application_parent_class)->shutdown (app);
  if (self->api_service != NULL)
    depict_api_service_stop (self->api_service);
  g_clear_object (&self->api_service);
  g_clear_object (&self->session);
}

static void
depict_application_dispose (GObject *object)
{
  DepictApplication *self = DEPICT_APPLICATION (object);

  g_clear_object (&self->api_service);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (depict_application_parent_class)->dispose (object);
}

static void
depict_application_class_init (DepictApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = depict_application_dispose;
  app_class->shutdown = depict_application_shutdown;
  app_class->activate = depict_application_activate;
  app_class->open = depict_application_open;
  app_class->startup = depict_application_startup;

  depict_application_ensure_resources ();
}

static void
depict_application_init (DepictApplication *self)
{
}

DepictSession *
depict_application_get_session (DepictApplication *self)
{
  g_return_val_if_fail (DEPICT_IS_APPLICATION (self), NULL);
  g_return_val_if_fail (self->session != NULL, NULL); /* made at start-up */
  return self->session;
}

DepictApplication *
depict_application_new (void)
{
  depict_application_ensure_resources ();
  return g_object_new (DEPICT_TYPE_APPLICATION, "application-id", APPLICATION_ID, "flags",
                       G_APPLICATION_HANDLES_OPEN, "resource-base-path", RESOURCE_PREFIX, NULL);
}
