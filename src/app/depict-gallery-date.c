/* depict-gallery-date.c: a time the gallery stored, as a person reads it
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "depict-gallery-date.h"

char *
depict_gallery_date_format (gint64 unix_time, GDateTime *now)
{
  g_autoptr (GDateTime) when = g_date_time_new_from_unix_local (unix_time);
  g_autoptr (GDateTime) current =
    now != NULL ? g_date_time_ref (now) : g_date_time_new_now_local ();
  g_autoptr (GDateTime) today = NULL;
  g_autoptr (GDateTime) day = NULL;
  GTimeSpan days;

  if (when == NULL || current == NULL)
    return g_strdup ("");
  /* Whole days between the two dates (not 24-hour spans). */
  today = g_date_time_new_local (g_date_time_get_year (current), g_date_time_get_month (current),
                                 g_date_time_get_day_of_month (current), 0, 0, 0);
  day = g_date_time_new_local (g_date_time_get_year (when), g_date_time_get_month (when),
                               g_date_time_get_day_of_month (when), 0, 0, 0);
  days = (g_date_time_difference (today, day) + G_TIME_SPAN_HOUR * 12) / G_TIME_SPAN_DAY;
  if (days == 0)
    /* Translators: a time today, as g_date_time_format() writes it ("Today, 10:31") */
    return g_date_time_format (when, _ ("Today, %H:%M"));
  if (days == 1)
    /* Translators: a time yesterday, as g_date_time_format() writes it */
    return g_date_time_format (when, _ ("Yesterday, %H:%M"));
  if (days > 1 && days < 7)
    /* Translators: a time this week: the weekday and the time ("Monday, 09:15") */
    return g_date_time_format (when, _ ("%A, %H:%M"));
  /* Translators: a date as g_date_time_format() writes it ("7 December 2026"); put day, month
   * and year in your language's order */
  return g_date_time_format (when, _ ("%-e %B %Y"));
}
