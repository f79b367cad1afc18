/* test-app-help.c: Help in the primary menu and on F1, a guide that works offline
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>

#include "app-test-util.h"
#include "depict-application.h"
#include "depict-window.h"
#include "florence/text/florence-task.h"

static GtkWidget *
find_type (GtkWidget *widget, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_type (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Whether MENU (or a section of it) has an item for ACTION, and its label. */
static char *
menu_label_for (GMenuModel *menu, const char *action)
{
  for (int i = 0; i < g_menu_model_get_n_items (menu); i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *label = NULL;
      GMenuModel *section = g_menu_model_get_item_link (menu, i, G_MENU_LINK_SECTION);

      if (section != NULL)
        {
          char *found = menu_label_for (section, action);

          g_object_unref (section);
          if (found != NULL)
            return found;
        }
      if (g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_ACTION, "s", &name) &&
          g_strcmp0 (name, action) == 0 &&
          g_menu_model_get_item_attribute (menu, i, G_MENU_ATTRIBUTE_LABEL, "s", &label))
        return g_steal_pointer (&label);
    }
  return NULL;
}

static gboolean
row_titled (GtkWidget *widget, const char *title)
{
  if (ADW_IS_PREFERENCES_ROW (widget) &&
      g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (widget)), title) == 0)
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (row_titled (child, title))
      return TRUE;
  return FALSE;
}

static void
test_help (void)
{
  g_autoptr (DepictApplication) app = depict_application_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) accels = NULL;
  g_autofree char *label = NULL;
  g_autoptr (GListModel) toplevels = NULL;
  GtkWindow *help = NULL;
  DepictWindow *window;
  GtkWidget *menu_button;
  gsize n = 0;
  const FlorenceTaskInfo *tasks = florence_task_get_all (&n);

  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  window = depict_window_new (GTK_APPLICATION (app));
  gtk_window_present (GTK_WINDOW (window));
  app_test_spin (50);

  /* In the primary menu, and on F1. */
  menu_button = find_type (GTK_WIDGET (window), GTK_TYPE_MENU_BUTTON);
  g_assert_nonnull (menu_button);
  label =
    menu_label_for (gtk_menu_button_get_menu_model (GTK_MENU_BUTTON (menu_button)), "app.help");
  g_assert_cmpstr (label, ==, "_Help");
  accels = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.help");
  g_assert_true (g_strv_contains ((const char *const *) accels, "F1"));

  /* A window that lists every task, and leads to the keyboard shortcuts. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "help", NULL);
  app_test_spin (50);
  toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr (GtkWindow) w = g_list_model_get_item (toplevels, i);

      if (g_strcmp0 (gtk_window_get_title (w), "Help") == 0)
        help = w;
    }
  g_assert_nonnull (help);
  g_assert_true (gtk_window_get_transient_for (help) == GTK_WINDOW (window));
  for (gsize i = 0; i < n; i++)
    g_assert_true (row_titled (GTK_WIDGET (help), tasks[i].name));
  g_assert_nonnull (app_test_find_button (GTK_WIDGET (help), "_Keyboard Shortcuts"));

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_spin (20);
}

int
main (int argc, char *argv[])
{
  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  app_test_init_gtk (&argc, &argv);

  g_test_add_func ("/app/help", test_help);
  return g_test_run ();
}
