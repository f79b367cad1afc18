/* depict-queue-item.c
 *
 * One photo in the window's list (and a cell of the gallery): its file, a thumbnail (loaded
 * when first shown), the state of its last run and the latest answer to each task.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-queue-item"

#include "config.h"

#include <glib/gi18n.h>

#include "depict-image-loader.h"
#include "depict-queue-item.h"

#define THUMBNAIL_SIZE 192

struct _DepictQueueItem {
  GObject parent_instance;

  GFile *file;
  char *title;
  GdkTexture *thumbnail;
  gboolean thumbnail_requested;
  DepictQueueItemState state;
  GHashTable *answers; /* task token → DepictAnswer: the latest answer of each task */
  char *last_task;
  char *summary;
  gboolean stored_answers_asked;
};

G_DEFINE_FINAL_TYPE (DepictQueueItem, depict_queue_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FILE,
  PROP_TITLE,
  PROP_THUMBNAIL,
  PROP_STATE,
  PROP_SUMMARY,
  PROP_ICON_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
depict_queue_item_finalize (GObject *object)
{
  DepictQueueItem *self = DEPICT_QUEUE_ITEM (object);

  g_clear_object (&self->file);
  g_clear_object (&self->thumbnail);
  g_clear_pointer (&self->title, g_free);
  g_clear_pointer (&self->summary, g_free);
  g_clear_pointer (&self->answers, g_hash_table_unref);
  g_clear_pointer (&self->last_task, g_free);

  G_OBJECT_CLASS (depict_queue_item_parent_class)->finalize (object);
}

static const char *
state_icon (DepictQueueItemState state)
{
  switch (state)
    {
    case DEPICT_QUEUE_ITEM_DONE:
      return "emblem-ok-symbolic";
    case DEPICT_QUEUE_ITEM_FAILED:
      return "dialog-warning-symbolic";
    case DEPICT_QUEUE_ITEM_RUNNING:
      return "content-loading-symbolic";
    case DEPICT_QUEUE_ITEM_WAITING:
    default:
      return NULL;
    }
}

static void
depict_queue_item_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  DepictQueueItem *self = DEPICT_QUEUE_ITEM (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;
    case PROP_TITLE:
      g_value_set_string (value, self->title);
      break;
    case PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_SUMMARY:
      g_value_set_string (value, self->summary);
      break;
    case PROP_ICON_NAME:
      g_value_set_string (value, state_icon (self->state));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
depict_queue_item_class_init (DepictQueueItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = depict_queue_item_finalize;
  object_class->get_property = depict_queue_item_get_property;

  properties[PROP_FILE] = g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE,
                                               G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TITLE] =
    g_param_spec_string ("title", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_THUMBNAIL] = g_param_spec_object ("thumbnail", NULL, NULL, GDK_TYPE_TEXTURE,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] = g_param_spec_int ("state", NULL, NULL, 0, DEPICT_QUEUE_ITEM_FAILED, 0,
                                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SUMMARY] =
    g_param_spec_string ("summary", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_ICON_NAME] =
    g_param_spec_string ("icon-name", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
depict_queue_item_init (DepictQueueItem *self)
{
  self->answers =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) depict_answer_unref);
}

DepictQueueItem *
depict_queue_item_new (GFile *file)
{
  DepictQueueItem *self;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  self = g_object_new (DEPICT_TYPE_QUEUE_ITEM, NULL);
  self->file = g_object_ref (file);
  self->title = g_file_get_basename (file);
  if (self->title == NULL)
    self->title = g_file_get_uri (file);
  return self;
}

GFile *
depict_queue_item_get_file (DepictQueueItem *self)
{
  g_return_val_if_fail (DEPICT_IS_QUEUE_ITEM (self), NULL);
  return self->file;
}

const char *
depict_queue_item_get_title (DepictQueueItem *self)
{
  g_return_val_if_fail (DEPICT_IS_QUEUE_ITEM (self), NULL);
  return self->title;
}

GdkTexture *
depict_queue_item_get_thumbnail (DepictQueueItem *self)
{
  g_return_val_if_fail (DEPICT_IS_QUEUE_ITEM (self), NULL);
  return self->thumbnail;
}

static void
thumbnail_loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (DepictQueueItem) self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture = depict_image_loader_load_finish (result, &error);

  if (texture == NULL)
    {
      g_debug ("No thumbnail for %s: %s", self->title, error->message);
      return;
    }
  g_set_object (&self->thumbnail, texture);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMBNAIL]);
}

/* Starts loading the thumbnail in a worker thread, once. */
void
depict_queue_item_load_thumbnail (DepictQueueItem *self)
{
  g_return_if_fail (DEPICT_IS_QUEUE_ITEM (self));

  if (self->thumbnail_requested)
    return;
  self->thumbnail_requested = TRUE;
  depict_image_loader_load_async (self->file, THUMBNAIL_SIZE, NULL, thumbnail_loaded_cb,
                                  g_object_ref (self));
}

/* A thumbnail known already (a cache): no loading needed. */
void
depict_queue_item_set_thumbnail (DepictQueueItem *self, GdkTexture *thumbnail)
{
  g_return_if_fail (DEPICT_IS_QUEUE_ITEM (self));

  self->thumbnail_requested = thumbnail != NULL;
  if (g_set_object (&self->thumbnail, thumbnail))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMBNAIL]);
}

DepictQueueItemState
depict_queue_item_get_state (DepictQueueItem *self)
{
  g_return_val_if_fail (DEPICT_IS_QUEUE_ITEM (self), DEPICT_QUEUE_ITEM_WAITING);
  return self->state;
}

void
depict_queue_item_set_state (DepictQueueItem *self, DepictQueueItemState state)
{
  g_return_if_fail (DEPICT_IS_QUEUE_ITEM (self));

  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ICON_NAME]);
}

DepictAnswer *
depict_queue_item_get_answer (DepictQueueItem *self, const char *task)
{
  g_return_val_if_fail (DEPICT_IS_QUEUE_ITEM (self), NULL);

  if (task == NULL)
    task = self->last_task;
  return task != NULL ? g_hash_table_lookup (self->answers, task) : NULL;
}

void
depict_queue_item_add_answer (DepictQueueItem *self, DepictAnswer *answer)
{
  g_return_if_fail (DEPICT_IS_QUEUE_ITEM (self));
  g_return_if_fail (answer != NULL);

  g_hash_table_replace (self->answers, g_strdup (answer->task), depict_answer_ref (answer));
  g_free (self->last_task);
  self->last_task = g_strdup (answer->task);
}

gboolean
depict_queue_item_begin_stored_answers (DepictQueueItem *self)
{
  g_return_val_if_fail (DEPICT_IS_QUEUE_ITEM (self), FALSE);

  if (self->stored_answers_asked)
    return FALSE;
  self->stored_answers_asked = TRUE;
  return TRUE;
}

const char *
depict_queue_item_get_last_task (DepictQueueItem *self)
{
  g_return_val_if_fail (DEPICT_IS_QUEUE_ITEM (self), NULL);
  return self->last_task;
}

const char *
depict_queue_item_get_summary (DepictQueueItem *self)
{
  g_return_val_if_fail (DEPICT_IS_QUEUE_ITEM (self), NULL);
  return self->summary;
}

void
depict_queue_item_set_summary (DepictQueueItem *self, const char *summary)
{
  g_return_if_fail (DEPICT_IS_QUEUE_ITEM (self));

  if (g_strcmp0 (self->summary, summary) == 0)
    return;
  g_free (self->summary);
  self->summary = g_strdup (summary);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUMMARY]);
}
