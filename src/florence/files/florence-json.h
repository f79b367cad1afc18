/* florence-json.h: the one door through which untrusted JSON reaches json-glib
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * json-glib accepts more than JSON, and some of what it accepts is dangerous:
 *  - it recurses once per nesting level: "[[[[…" a few hundred thousand levels deep overflows
 *    the stack;
 *  - it reads '…' strings and comments, so a scanner that skips only "…" strings cannot count
 *    the nesting;
 *  - it decodes escapes JSON does not have ("\350" becomes the lone byte 0xE8, "\0" ends the
 *    string) and lone UTF-16 surrogates, so a decoded string may be invalid UTF-8 although the
 *    file's bytes were valid;
 *  - it turns an integer beyond 64 bits into a wrong number, 1e400 into infinity, and ignores
 *    what follows the first value;
 *  - it writes some doubles as text that is not JSON (1e17 as "1e+17.0", 1e-300 as "1e-300.0"),
 *    so what it read it could not read back.
 * florence_json_check() therefore accepts standard JSON only (RFC 8259: UTF-8, double-quoted
 * strings with the JSON escapes, paired surrogates, no NUL character, numbers a gint64 or a finite
 * double holds and json-glib writes back as JSON, one value; control characters other than NUL may
 * stand unescaped in strings, as json-glib writes U+001F), nested at most FLORENCE_JSON_MAX_DEPTH
 * levels and holding at most FLORENCE_JSON_MAX_VALUES values, in one pass without recursion. Every
 * string json-glib then hands out is valid UTF-8 without an embedded NUL. A UTF-8 byte-order mark
 * is allowed.
 *
 * Every reader of JSON that comes from a file, the network or the gallery goes through
 * florence_json_load() or florence_json_load_file(); none calls json_parser_load_* itself.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The deepest nesting accepted (model files nest a handful of levels). */
#define FLORENCE_JSON_MAX_DEPTH 64
/* The most values (strings, numbers, literals, arrays, objects) in one document: a Florence-2
 * tokenizer.json holds about 200 000. json-glib spends ~100 bytes on each. */
#define FLORENCE_JSON_MAX_VALUES (4 * 1024 * 1024)
/* The largest JSON file florence_json_load_file() reads (tokenizer.json: 2–20 MB). */
#define FLORENCE_JSON_MAX_FILE_SIZE ((gsize) 64 * 1024 * 1024)

/* TRUE when data[0..len) is standard JSON within the limits above; else FALSE with a
 * G_IO_ERROR_INVALID_DATA error whose message says what is wrong and where ("line 3, column 7:
 * a comment, which JSON does not allow"), to be embedded in a sentence about the file. len may
 * be -1 for a C string. */
gboolean florence_json_check (const char *data, gssize len, GError **error);

/* florence_json_check(), then json_parser_load_from_data(). */
gboolean florence_json_load (JsonParser *parser, const char *data, gssize len, GError **error);

/* The same for a file: a regular file only (a named pipe or a device fails at once instead of
 * blocking), at most FLORENCE_JSON_MAX_FILE_SIZE bytes (florence-file.h). A missing file fails
 * with G_FILE_ERROR_NOENT. */
gboolean florence_json_load_file (JsonParser *parser, const char *path, GError **error);

G_END_DECLS
