/* florence-json.h: guards for handing untrusted JSON to json-glib
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * json-glib's parser recurses once per nesting level: a header of "[[[[…" a few hundred
 * thousand levels deep overflows the stack. Model files (config.json, safetensors headers,
 * shard indexes) never nest deeper than a handful of levels, so they are scanned first.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The deepest nesting json-glib is asked to parse. */
#define FLORENCE_JSON_MAX_DEPTH 64

/* TRUE when data[0..len) never nests arrays/objects deeper than max_depth (strings and their
 * escapes are skipped; the text is not otherwise validated). len may be -1 for a C string. */
gboolean florence_json_depth_ok (const char *data, gssize len, guint max_depth);

/* json_parser_load_from_data() behind the depth check: every reader of JSON that comes from a
 * file or the network goes through one of these two. A document nested deeper than
 * FLORENCE_JSON_MAX_DEPTH fails with G_IO_ERROR_INVALID_DATA. */
gboolean florence_json_load (JsonParser *parser, const char *data, gssize len, GError **error);
/* The same for a file, mapped rather than read; a missing file fails with G_FILE_ERROR_NOENT. */
gboolean florence_json_load_file (JsonParser *parser, const char *path, GError **error);

G_END_DECLS
