/* depict-task-picker.c
 *
 * Every Florence-2 task by its human name, grouped as florence_task_get_all() groups them,
 * in a menu of radio items; a text entry that appears only for tasks that take text, and a
 * hint for region tasks (the region itself is dragged on the photo, or placed with the arrow keys).
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-task-picker"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-task-picker.h"

struct _DepictTaskPicker {
  GtkWidget parent_instance;

  GtkWidget *box;
  GtkMenuButton *task_button;
  GtkRevealer *text_revealer;
  GtkEntry *text_entry;
  GtkLabel *text_hint;
  GtkRevealer *region_revealer;
  GtkLabel *region_label;

  GSimpleActionGroup *actions;
  const FlorenceTaskInfo *task;
};

G_DEFINE_FINAL_TYPE (DepictTaskPicker, depict_task_picker, GTK_TYPE_WIDGET)

enum { PROP_0, PROP_TASK, PROP_TEXT, N_PROPS };

static GParamSpec *properties[N_PROPS];

static GMenuModel *
build_menu (void)
{
  GMenu *menu = g_menu_new ();
  gsize n = 0;
  const FlorenceTaskInfo *tasks = florence_task_get_all (&n);

  for (int group = 0; group < FLORENCE_TASK_N_GROUPS; group++)
    {
      g_autoptr (GMenu) section = g_menu_new ();
      g_autoptr (GMenuItem) section_item = NULL;

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr (GMenuItem) item = NULL;

          if ((int) tasks[i].group != group)
            continue;
          item = g_menu_item_new (_ (tasks[i].name), NULL);
          g_menu_item_set_action_and_target_value (item, "picker.task",
                                                   g_variant_new_string (tasks[i].token));
          g_menu_append_item (section, item);
        }
      if (g_menu_model_get_n_items (G_MENU_MODEL (section)) == 0)
        continue;
      section_item =
        g_menu_item_new_section (florence_task_group_get_name (group), G_MENU_MODEL (section));
      g_menu_append_item (menu, section_item);
    }
  return G_MENU_MODEL (menu);
}

static void
update_for_task (DepictTaskPicker *self)
{
  gboolean text = self->task->input == FLORENCE_TASK_INPUT_TEXT;
  gboolean region = self->task->input == FLORENCE_TASK_INPUT_REGION;
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self->actions), "task");

  gtk_menu_button_set_label (self->task_button, _ (self->task->name));
  gtk_revealer_set_reveal_child (self->text_revealer, text);
  gtk_widget_set_visible (GTK_WIDGET (self->text_revealer), text);
  gtk_revealer_set_reveal_child (self->region_revealer, region);
  gtk_widget_set_visible (GTK_WIDGET (self->region_revealer), region);
  if (text)
    gtk_label_set_label (self->text_hint,
                         self->task->input_hint != NULL ? _ (self->task->input_hint) : "");
  g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_string (self->task->token));
}

static void
task_activated (GSimpleAction *action, GVariant *parameter, gpointer user_data)
{
  DepictTaskPicker *self = user_data;

  depict_task_picker_set_task (self, g_variant_get_string (parameter, NULL));
  if (self->task->input == FLORENCE_TASK_INPUT_TEXT)
    gtk_widget_grab_focus (GTK_WIDGET (self->text_entry));
  else if (self->task->input == FLORENCE_TASK_INPUT_REGION)
    /* The region is chosen on the photo: there the arrow keys place it. */
    gtk_widget_activate_action (GTK_WIDGET (self), "win.focus-photo", NULL);
}

static void
text_activated_cb (GtkEntry *entry, DepictTaskPicker *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "win.run", NULL);
}

static void
text_changed_cb (GtkEditable *editable, DepictTaskPicker *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXT]);
}

static void
depict_task_picker_dispose (GObject *object)
{
  DepictTaskPicker *self = DEPICT_TASK_PICKER (object);

  gtk_widget_dispose_template (GTK_WIDGET (self), DEPICT_TYPE_TASK_PICKER);
  g_clear_object (&self->actions);

  G_OBJECT_CLASS (depict_task_picker_parent_class)->dispose (object);
}

static void
depict_task_picker_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictTaskPicker *self = DEPICT_TASK_PICKER (object);

  switch (prop_id)
    {
    case PROP_TASK:
      g_value_set_string (value, depict_task_picker_get_task (self));
      break;
    case PROP_TEXT:
      g_value_set_string (value, depict_task_picker_get_text (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_task_picker_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  DepictTaskPicker *self = DEPICT_TASK_PICKER (object);

  switch (prop_id)
    {
    case PROP_TASK:
      depict_task_picker_set_task (self, g_value_get_string (value));
      break;
    case PROP_TEXT:
      depict_task_picker_set_text (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_task_picker_class_init (DepictTaskPickerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = depict_task_picker_dispose;
  object_class->get_property = depict_task_picker_get_property;
  object_class->set_property = depict_task_picker_set_property;

  properties[PROP_TASK] =
    g_param_spec_string ("task", NULL, NULL, "<CAPTION>",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEXT] = g_param_spec_string (
    "text", NULL, NULL, "", G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               RESOURCE_PREFIX "/ui/depict-task-picker.ui");
  gtk_widget_class_bind_template_child (widget_class, DepictTaskPicker, box);
  gtk_widget_class_bind_template_child (widget_class, DepictTaskPicker, task_button);
  gtk_widget_class_bind_template_child (widget_class, DepictTaskPicker, text_revealer);
  gtk_widget_class_bind_template_child (widget_class, DepictTaskPicker, text_entry);
  gtk_widget_class_bind_template_child (widget_class, DepictTaskPicker, text_hint);
  gtk_widget_class_bind_template_child (widget_class, DepictTaskPicker, region_revealer);
  gtk_widget_class_bind_template_child (widget_class, DepictTaskPicker, region_label);
  gtk_widget_class_bind_template_callback (widget_class, text_activated_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "depict-task-picker");
}

static void
depict_task_picker_init (DepictTaskPicker *self)
{
  static const GActionEntry entries[] = {
    { .name = "task", .activate = task_activated, .parameter_type = "s", .state = "'<CAPTION>'" },
  };
  g_autoptr (GMenuModel) menu = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  self->actions = g_simple_action_group_new ();
  g_action_map_add_action_entries (G_ACTION_MAP (self->actions), entries, G_N_ELEMENTS (entries),
                                   self);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "picker", G_ACTION_GROUP (self->actions));

  menu = build_menu ();
  gtk_menu_button_set_menu_model (self->task_button, menu);
  g_signal_connect (self->text_entry, "changed", G_CALLBACK (text_changed_cb), self);

  self->task = florence_task_lookup ("<CAPTION>");
  if (self->task == NULL)
    self->task = florence_task_get_all (NULL);
  depict_task_picker_set_region_description (self, NULL);
  update_for_task (self);
}

const char *
depict_task_picker_get_task (DepictTaskPicker *self)
{
  g_return_val_if_fail (DEPICT_IS_TASK_PICKER (self), NULL);
  return self->task->token;
}

const FlorenceTaskInfo *
depict_task_picker_get_task_info (DepictTaskPicker *self)
{
  g_return_val_if_fail (DEPICT_IS_TASK_PICKER (self), NULL);
  return self->task;
}

/* Unknown tokens (an old setting) are ignored: the picker keeps its task. */
void
depict_task_picker_set_task (DepictTaskPicker *self, const char *token)
{
  const FlorenceTaskInfo *task;

  g_return_if_fail (DEPICT_IS_TASK_PICKER (self));

  task = token != NULL ? florence_task_lookup (token) : NULL;
  if (task == NULL || task == self->task)
    return;
  self->task = task;
  update_for_task (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TASK]);
}

const char *
depict_task_picker_get_text (DepictTaskPicker *self)
{
  g_return_val_if_fail (DEPICT_IS_TASK_PICKER (self), NULL);
  return gtk_editable_get_text (GTK_EDITABLE (self->text_entry));
}

void
depict_task_picker_set_text (DepictTaskPicker *self, const char *text)
{
  g_return_if_fail (DEPICT_IS_TASK_PICKER (self));

  if (g_strcmp0 (text, depict_task_picker_get_text (self)) == 0)
    return;
  gtk_editable_set_text (GTK_EDITABLE (self->text_entry), text != NULL ? text : "");
}

void
depict_task_picker_set_region_description (DepictTaskPicker *self, const char *description)
{
  g_return_if_fail (DEPICT_IS_TASK_PICKER (self));

  gtk_label_set_label (self->region_label,
                       description != NULL
                         ? description
                         : _ ("Drag a rectangle on the photo, or focus the photo and press the "
                              "arrow keys; Shift and the arrow keys resize it."));
}

void
depict_task_picker_focus_input (DepictTaskPicker *self)
{
  g_return_if_fail (DEPICT_IS_TASK_PICKER (self));

  if (self->task->input == FLORENCE_TASK_INPUT_TEXT)
    gtk_widget_grab_focus (GTK_WIDGET (self->text_entry));
  else
    gtk_widget_grab_focus (GTK_WIDGET (self->task_button));
}

/* Whether the text entry is shown (only tasks that take text have it). */
gboolean
depict_task_picker_get_text_shown (DepictTaskPicker *self)
{
  g_return_val_if_fail (DEPICT_IS_TASK_PICKER (self), FALSE);
  return gtk_widget_get_visible (GTK_WIDGET (self->text_revealer)) &&
         gtk_revealer_get_reveal_child (self->text_revealer);
}
