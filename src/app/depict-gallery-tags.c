/* depict-gallery-tags.c
 *
 * The tags of one photo, the model's and the person's, with a field to add one and a button
 * to remove each. The gallery keeps a removed tag as removed, so that tagging the photo again
 * does not bring it back (gallery-store.h).
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-gallery-tags"

#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "depict-gallery-tags.h"

struct _DepictGalleryTags {
  AdwWindow parent_instance;

  AdwToastOverlay *toasts;
  AdwWindowTitle *title;
  AdwPreferencesGroup *group;
  AdwEntryRow *entry;
  GPtrArray *rows; /* the tag rows shown */

  DepictSession *session;
  gint64 image_id;
};

G_DEFINE_FINAL_TYPE (DepictGalleryTags, depict_gallery_tags, ADW_TYPE_WINDOW)

static void
show_error (DepictGalleryTags *self, const GError *error)
{
  AdwToast *toast = adw_toast_new (error->message);

  adw_toast_set_timeout (toast, 0);
  adw_toast_overlay_add_toast (self->toasts, toast);
}

/* Where a tag came from, in words. */
static char *
tag_subtitle (const GalleryTag *tag)
{
  if (tag->source == GALLERY_TAG_SOURCE_USER)
    return g_strdup (_ ("Yours"));
  if (!isnan (tag->score))
    /* Translators: a tag the model proposed, and how sure it was, in percent */
    return g_strdup_printf (_ ("Found by the model, %.0f %% sure"), tag->score * 100.0);
  return g_strdup (_ ("Found by the model"));
}

static void remove_clicked_cb (GtkButton *button, DepictGalleryTags *self);

static void
reload (DepictGalleryTags *self)
{
  g_autoptr (GError) error = NULL;
  GalleryStore *store = depict_session_get_store (self->session, &error);
  g_autoptr (GPtrArray) tags = NULL;

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->group, g_ptr_array_index (self->rows, i));
  g_ptr_array_set_size (self->rows, 0);
  if (store != NULL)
    tags = gallery_store_list_tags (store, self->image_id, FALSE, &error);
  if (tags == NULL)
    {
      show_error (self, error);
      return;
    }
  for (guint i = 0; i < tags->len; i++)
    {
      GalleryTag *tag = g_ptr_array_index (tags, i);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_from_icon_name ("list-remove-symbolic");
      g_autofree char *subtitle = tag_subtitle (tag);
      /* Translators: the tooltip of the button that removes the tag %s */
      g_autofree char *tooltip = g_strdup_printf (_ ("Remove “%s”"), tag->name);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), tag->name);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (button, tooltip);
      gtk_widget_add_css_class (button, "flat");
      g_object_set_data_full (G_OBJECT (button), "tag", g_strdup (tag->name), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (remove_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      adw_preferences_group_add (self->group, row);
      g_ptr_array_add (self->rows, row);
    }
}

static void
remove_clicked_cb (GtkButton *button, DepictGalleryTags *self)
{
  g_autofree char *name = g_strdup (g_object_get_data (G_OBJECT (button), "tag"));

  depict_gallery_tags_remove (self, name, NULL);
}

static void
entry_apply_cb (AdwEntryRow *entry, DepictGalleryTags *self)
{
  if (depict_gallery_tags_add (self, gtk_editable_get_text (GTK_EDITABLE (entry)), NULL))
    gtk_editable_set_text (GTK_EDITABLE (entry), "");
}

static void
depict_gallery_tags_dispose (GObject *object)
{
  DepictGalleryTags *self = DEPICT_GALLERY_TAGS (object);

  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_object (&self->session);
  G_OBJECT_CLASS (depict_gallery_tags_parent_class)->dispose (object);
}

static void
depict_gallery_tags_class_init (DepictGalleryTagsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = depict_gallery_tags_dispose;
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
depict_gallery_tags_init (DepictGalleryTags *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *add_group = adw_preferences_group_new ();

  self->rows = g_ptr_array_new ();
  self->title = ADW_WINDOW_TITLE (adw_window_title_new (_ ("Tags"), NULL));
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), GTK_WIDGET (self->title));
  gtk_box_append (GTK_BOX (box), header);

  self->entry = ADW_ENTRY_ROW (adw_entry_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->entry), _ ("Add a Tag"));
  adw_entry_row_set_show_apply_button (self->entry, TRUE);
  g_signal_connect (self->entry, "apply", G_CALLBACK (entry_apply_cb), self);
  g_signal_connect (self->entry, "entry-activated", G_CALLBACK (entry_apply_cb), self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (add_group), GTK_WIDGET (self->entry));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (add_group));

  self->group = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
  adw_preferences_group_set_description (
    self->group, _ ("Tags you remove stay removed when the photo is tagged again."));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), self->group);
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);

  self->toasts = ADW_TOAST_OVERLAY (adw_toast_overlay_new ());
  adw_toast_overlay_set_child (self->toasts, box);
  adw_window_set_content (ADW_WINDOW (self), GTK_WIDGET (self->toasts));
  gtk_window_set_default_size (GTK_WINDOW (self), 420, 480);
  gtk_window_set_title (GTK_WINDOW (self), _ ("Tags"));
}

DepictGalleryTags *
depict_gallery_tags_new (GtkWindow *parent, DepictSession *session, gint64 image_id)
{
  DepictGalleryTags *self;
  g_autoptr (GalleryImage) image = NULL;
  GalleryStore *store;

  g_return_val_if_fail (DEPICT_IS_SESSION (session), NULL);

  self = g_object_new (DEPICT_TYPE_GALLERY_TAGS, "modal", parent != NULL, "transient-for", parent,
                       "destroy-with-parent", TRUE, NULL);
  self->session = g_object_ref (session);
  self->image_id = image_id;
  store = depict_session_get_store (session, NULL);
  if (store != NULL && (image = gallery_store_get_image (store, image_id, NULL)) != NULL &&
      image->paths != NULL && image->paths[0] != NULL)
    {
      g_autofree char *name = g_filename_display_basename (image->paths[0]);

      adw_window_title_set_subtitle (self->title, name);
    }
  reload (self);
  return self;
}

/* Adds (or with REMOVE, removes) the tag NAME in the gallery and lists the tags again. */
static gboolean
change_tag (DepictGalleryTags *self, const char *name, gboolean remove, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GalleryStore *store = depict_session_get_store (self->session, &local_error);

  if (store == NULL || !(remove ? gallery_store_remove_tag : gallery_store_add_tag) (
                         store, self->image_id, name, &local_error))
    {
      show_error (self, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  reload (self);
  return TRUE;
}

gboolean
depict_gallery_tags_add (DepictGalleryTags *self, const char *name, GError **error)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_TAGS (self), FALSE);
  return change_tag (self, name, FALSE, error);
}

gboolean
depict_gallery_tags_remove (DepictGalleryTags *self, const char *name, GError **error)
{
  g_return_val_if_fail (DEPICT_IS_GALLERY_TAGS (self), FALSE);
  return change_tag (self, name, TRUE, error);
}

GStrv
depict_gallery_tags_dup_names (DepictGalleryTags *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (DEPICT_IS_GALLERY_TAGS (self), NULL);

  for (guint i = 0; i < self->rows->len; i++)
    g_strv_builder_add (builder, adw_preferences_row_get_title (
                                   ADW_PREFERENCES_ROW (g_ptr_array_index (self->rows, i))));
  return g_strv_builder_end (builder);
}
