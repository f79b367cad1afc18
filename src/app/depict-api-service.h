/* depict-api-service.h: the local API (`depict-cli serve`), started and stopped by the app
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum {
  DEPICT_API_SERVICE_STOPPED,
  DEPICT_API_SERVICE_STARTING,
  DEPICT_API_SERVICE_RUNNING,
  DEPICT_API_SERVICE_STOPPING,
  DEPICT_API_SERVICE_FAILED,
} DepictApiServiceState;

#define DEPICT_TYPE_API_SERVICE (depict_api_service_get_type ())

G_DECLARE_FINAL_TYPE (DepictApiService, depict_api_service, DEPICT, API_SERVICE, GObject)

/* A service that runs `depict-cli serve` with the model and device of @settings. */
DepictApiService *depict_api_service_new (GSettings *settings);
/* The address it listens on ("127.0.0.1:0" picks a free port); NULL: depict-cli's default. */
void depict_api_service_set_listen (DepictApiService *self, const char *address);
/* Starts the service; "state" goes STARTING, then RUNNING (with "url") or FAILED (with
 * "message"). FALSE with @error when depict-cli cannot be started at all. */
gboolean depict_api_service_start (DepictApiService *self, GError **error);
/* Asks the service to finish the requests it has and stop ("state" STOPPING, then STOPPED). */
void depict_api_service_stop (DepictApiService *self);
DepictApiServiceState depict_api_service_get_state (DepictApiService *self);
/* The base URL clients use, while RUNNING; NULL otherwise. */
const char *depict_api_service_get_url (DepictApiService *self);
/* Why it FAILED, as a sentence; NULL otherwise. */
const char *depict_api_service_get_message (DepictApiService *self);

G_END_DECLS
