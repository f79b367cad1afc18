/* cli-test-util.h: depict-cli run as a subprocess, for the tests of its commands
 *
 * The program is $DEPICT_CLI (tests/meson.build sets it for every test).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  int status; /* the exit status; -1 when a signal ended it */
  char *out;  /* standard output, never NULL */
  char *err;  /* standard error, never NULL */
} CliTestResult;

/* Runs depict-cli with ARGS (NULL-terminated, the command first); ENV holds NAME, VALUE pairs
 * (NULL-terminated; NULL: none) to set on top of the test's environment, where a NULL VALUE
 * unsets NAME; STDIN_TEXT goes to its standard input (NULL: none). Waits for it. */
CliTestResult cli_test_run (const char *const *args, const char *const *env,
                            const char *stdin_text);
/* The same with the arguments as a NULL-terminated list. */
CliTestResult cli_test_run_va (const char *first, ...) G_GNUC_NULL_TERMINATED;
void cli_test_result_clear (CliTestResult *result);

/* Standard output as JSON Lines: one JsonNode (owned by the array) per non-empty line;
 * fails the test when a line is not JSON. */
GPtrArray *cli_test_json_lines (const char *out);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (CliTestResult, cli_test_result_clear)

G_END_DECLS
