/* florence-json.h: guards for handing untrusted JSON to json-glib
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * json-glib's parser recurses once per nesting level: a header of "[[[[…" a few hundred
 * thousand levels deep overflows the stack. Model files (config.json, safetensors headers,
 * shard indexes) never nest deeper than a handful of levels, so they are scanned first.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The deepest nesting json-glib is asked to parse. */
#define FLORENCE_JSON_MAX_DEPTH 64

/* TRUE when data[0..len) never nests arrays/objects deeper than max_depth (strings and their
 * escapes are skipped; the text is not otherwise validated). len may be -1 for a C string. */
gboolean florence_json_depth_ok (const char *data, gssize len, guint max_depth);

G_END_DECLS
