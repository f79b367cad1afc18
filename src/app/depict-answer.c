/* depict-answer.c
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define G_LOG_DOMAIN "depict-answer"

#include "config.h"

#include "depict-answer.h"
#include "depict-overlay-item.h"

G_DEFINE_BOXED_TYPE (DepictAnswer, depict_answer, depict_answer_ref, depict_answer_unref)

static void
answer_clear (gpointer data)
{
  DepictAnswer *self = data;

  g_free (self->task);
  g_free (self->text_input);
  florence_result_free (self->result);
  g_free (self->info);
}

DepictAnswer *
depict_answer_new (const char *task, const char *text_input, FlorenceResult *result,
                   const char *info)
{
  DepictAnswer *self;

  g_return_val_if_fail (result != NULL, NULL);

  self = g_rc_box_new0 (DepictAnswer);
  self->task = g_strdup (task != NULL ? task : result->task);
  self->text_input = g_strdup (text_input != NULL ? text_input : "");
  self->result = result;
  self->info = g_strdup (info);
  return self;
}

DepictAnswer *
depict_answer_ref (DepictAnswer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_rc_box_acquire (self);
}

void
depict_answer_unref (DepictAnswer *self)
{
  if (self != NULL)
    g_rc_box_release_full (self, answer_clear);
}

char *
depict_answer_to_plain_text (const DepictAnswer *self)
{
  g_autoptr (GListStore) items = NULL;
  g_autofree char *text = NULL;
  GString *out;

  g_return_val_if_fail (self != NULL, NULL);

  text = depict_overlay_result_dup_text (self->result);
  items = depict_overlay_items_from_result (self->result);
  out = g_string_new (text);
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (items)); i++)
    {
      g_autoptr (DepictOverlayItem) item = g_list_model_get_item (G_LIST_MODEL (items), i);
      g_autofree char *line = NULL;

      /* Text lines are the text already. */
      if (text != NULL && depict_overlay_item_get_kind (item) == DEPICT_OVERLAY_TEXT)
        continue;
      line = depict_overlay_item_describe (item);
      if (out->len > 0)
        g_string_append_c (out, '\n');
      g_string_append (out, line);
    }
  return g_string_free (out, FALSE);
}

char *
depict_answer_to_json (const DepictAnswer *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return florence_result_to_json (self->result, TRUE);
}
