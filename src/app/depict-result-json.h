/* depict-result-json.h
 *
 * Reading a Florence-2 result in its JSON form (the reference post_process_generation()
 * shape, as florence_result_to_json() and the gallery store it) for display.
 *
 * Copyright 2026 The Depict authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

JsonNode *depict_result_json_unwrap (JsonNode *result, const char **task);
char *depict_result_json_get_text (JsonNode *result);
GListStore *depict_result_json_get_items (JsonNode *result);
char *depict_result_json_to_plain_text (JsonNode *result);
char *depict_result_json_to_string (JsonNode *result, gboolean pretty);
JsonNode *depict_result_json_parse (const char *text, GError **error);

G_END_DECLS
