/* depict-gallery-date.h: a time the gallery stored, as a person reads it
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* UNIX_TIME (seconds, as the gallery stores times) in the local time zone, said relative to
 * NOW (NULL: the current time): "Today, 10:31", "Yesterday, 18:02", "Monday, 09:15" within
 * the week, else "7 December 2026" (each format translatable, so that every language puts
 * day, month and year in its own order). */
char *depict_gallery_date_format (gint64 unix_time, GDateTime *now);

G_END_DECLS
