/* depict-application.h
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "depict-session.h"

G_BEGIN_DECLS

/* The GSettings schema keeps one id for release and development builds. */
#define DEPICT_SCHEMA_ID "io.github.depict.Depict"

#define DEPICT_TYPE_APPLICATION (depict_application_get_type ())

G_DECLARE_FINAL_TYPE (DepictApplication, depict_application, DEPICT, APPLICATION, AdwApplication)

DepictApplication *depict_application_new (void);
/* The app's work: made at start-up, one per process. */
DepictSession *depict_application_get_session (DepictApplication *self);
void depict_application_ensure_resources (void);

G_END_DECLS
