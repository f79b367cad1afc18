/* depict-help.c
 *
 * Help is a window of the app rather than a Yelp manual: Depict runs offline and is often
 * installed where no help browser is, so the guide is built in. It is short, in the words
 * the app uses; the tasks come from the task table (florence-task.h), so the guide lists
 * exactly the tasks the picker offers.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-help"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-help.h"
#include "florence/text/florence-task.h"

static GtkWidget *
paragraph_group (const char *title, const char *text)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), text);
  return group;
}

/* Every task, under its group's name, with what it needs from the person. */
static void
add_tasks (AdwPreferencesPage *page)
{
  gsize n = 0;
  const FlorenceTaskInfo *tasks = florence_task_get_all (&n);

  for (int g = 0; g < FLORENCE_TASK_N_GROUPS; g++)
    {
      GtkWidget *group = adw_preferences_group_new ();

      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group),
                                       florence_task_group_get_name (g));
      for (gsize i = 0; i < n; i++)
        {
          GtkWidget *row;

          if ((int) tasks[i].group != g)
            continue;
          row = adw_action_row_new ();
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _ (tasks[i].name));
          if (tasks[i].input_hint != NULL)
            adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _ (tasks[i].input_hint));
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
        }
      adw_preferences_page_add (page, ADW_PREFERENCES_GROUP (group));
    }
}

static void
shortcuts_clicked_cb (GtkButton *button, GtkWindow *help)
{
  GtkWindow *parent = gtk_window_get_transient_for (help);

  if (parent != NULL)
    gtk_widget_activate_action (GTK_WIDGET (parent), "win.show-help-overlay", NULL);
}

GtkWindow *
depict_help_show (GtkWindow *parent)
{
  GtkWidget *window = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *keys, *button;

  gtk_window_set_title (GTK_WINDOW (window), _ ("Help"));
  gtk_window_set_default_size (GTK_WINDOW (window), 560, 680);
  gtk_window_set_transient_for (GTK_WINDOW (window), parent);
  gtk_window_set_destroy_with_parent (GTK_WINDOW (window), TRUE);
  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  adw_window_set_content (ADW_WINDOW (window), box);

  adw_preferences_page_add (
    ADW_PREFERENCES_PAGE (page),
    ADW_PREFERENCES_GROUP (paragraph_group (
      _ ("Look at a Photo"),
      _ ("Drop photos on the window, or open photos and folders with Ctrl+O. Choose a task and "
         "press Run (Ctrl+Enter): the answer appears beside the photo, and what was found is "
         "drawn on it. Everything runs on this computer; no photo leaves it. Escape stops a "
         "run."))));
  adw_preferences_page_add (
    ADW_PREFERENCES_PAGE (page),
    ADW_PREFERENCES_GROUP (paragraph_group (
      _ ("Tasks"), _ ("Tasks that find what you describe need a text typed first; tasks about a "
                      "region need a rectangle dragged on the photo, or chosen with the arrow "
                      "keys once the photo has the focus."))));
  add_tasks (ADW_PREFERENCES_PAGE (page));
  adw_preferences_page_add (
    ADW_PREFERENCES_PAGE (page),
    ADW_PREFERENCES_GROUP (paragraph_group (
      _ ("The Gallery"),
      _ ("Every answer is kept in the gallery (Alt+2): a photo opened again shows its answers "
         "without running the model again. Search it by what the photos show (Ctrl+F). Tag "
         "Folder (Shift+Ctrl+O) runs the tasks you choose on every photo of a folder; it says "
         "first about how long that takes, and can be paused."))));
  adw_preferences_page_add (
    ADW_PREFERENCES_PAGE (page),
    ADW_PREFERENCES_GROUP (paragraph_group (
      _ ("Models"),
      _ ("Depict needs a Florence-2 model. Download one in Models. Without a network, copy a "
         "model’s folder from a computer that has it and choose it with “Use a Model Folder…”: "
         "it needs config.json, the weights (model.safetensors or pytorch_model.bin) and the "
         "tokenizer (tokenizer.json or vocab.json). The same work runs in a terminal with "
         "depict-cli (see “depict-cli --help”)."))));

  keys = paragraph_group (_ ("Keyboard"), _ ("Every action of the window has a key."));
  button = gtk_button_new_with_mnemonic (_ ("_Keyboard Shortcuts"));
  gtk_widget_set_halign (button, GTK_ALIGN_START);
  gtk_widget_add_css_class (button, "pill");
  g_signal_connect_object (button, "clicked", G_CALLBACK (shortcuts_clicked_cb), window, 0);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (keys), button);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (keys));

  gtk_window_present (GTK_WINDOW (window));
  return GTK_WINDOW (window);
}
