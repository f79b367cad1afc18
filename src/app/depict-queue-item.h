/* depict-queue-item.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "depict-answer.h"

G_BEGIN_DECLS

typedef enum {
  DEPICT_QUEUE_ITEM_WAITING,
  DEPICT_QUEUE_ITEM_RUNNING,
  DEPICT_QUEUE_ITEM_DONE,
  DEPICT_QUEUE_ITEM_FAILED,
} DepictQueueItemState;

#define DEPICT_TYPE_QUEUE_ITEM (depict_queue_item_get_type ())

G_DECLARE_FINAL_TYPE (DepictQueueItem, depict_queue_item, DEPICT, QUEUE_ITEM, GObject)

DepictQueueItem *depict_queue_item_new (GFile *file);
GFile *depict_queue_item_get_file (DepictQueueItem *self);
const char *depict_queue_item_get_title (DepictQueueItem *self);
GdkTexture *depict_queue_item_get_thumbnail (DepictQueueItem *self);
void depict_queue_item_load_thumbnail (DepictQueueItem *self);
void depict_queue_item_set_thumbnail (DepictQueueItem *self, GdkTexture *thumbnail);
DepictQueueItemState depict_queue_item_get_state (DepictQueueItem *self);
void depict_queue_item_set_state (DepictQueueItem *self, DepictQueueItemState state);
/* The latest answer to TASK (NULL: to the task asked last), or NULL. */
DepictAnswer *depict_queue_item_get_answer (DepictQueueItem *self, const char *task);
void depict_queue_item_add_answer (DepictQueueItem *self, DepictAnswer *answer);
const char *depict_queue_item_get_last_task (DepictQueueItem *self);
/* TRUE the first time: the gallery's answers are to be read for this photo. */
gboolean depict_queue_item_begin_stored_answers (DepictQueueItem *self);
const char *depict_queue_item_get_summary (DepictQueueItem *self);
void depict_queue_item_set_summary (DepictQueueItem *self, const char *summary);

G_END_DECLS
