/* fuzz-serve-request.c: the request bodies of depict-cli serve (cli-serve-request.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The first byte picks the dialect, the rest is the body. A body is either refused with a
 * 4xx CLI_SERVE_ERROR and a sentence, or read into a request that holds exactly one picture
 * within the byte limit, a known task (or a prompt of its own) and run options in range. The base64
 * decoder alone must give back bytes that encode to the text it was given.
 */
#include "config.h"

#include <string.h>

#include "cli/cli-serve-request.h"
#include "florence/fuzz/fuzz.h"
#include "florence/text/florence-task.h"

#define MAX_IMAGE 4096

static void
check_base64 (const char *text, gsize size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = cli_serve_decode_base64 (text, size, MAX_IMAGE, &error);
  g_autoptr (GString) clean = g_string_new (NULL);
  g_autofree char *again = NULL;

  if (bytes == NULL)
    {
      FUZZ_CHECK_ERROR (error);
      FUZZ_CHECK (error->domain == CLI_SERVE_ERROR);
      return;
    }
  FUZZ_CHECK (g_bytes_get_size (bytes) > 0 && g_bytes_get_size (bytes) <= MAX_IMAGE);
  if (size >= 5 && g_ascii_strncasecmp (text, "data:", 5) == 0)
    return;
  for (gsize i = 0; i < size; i++)
    if (!g_ascii_isspace (text[i]))
      g_string_append_c (clean, text[i]);
  /* The same text again, but for the unused low bits of a padded last group. */
  again = g_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  FUZZ_CHECK (strlen (again) == clean->len && clean->len >= 4);
  FUZZ_CHECK (memcmp (again, clean->str, clean->len - 4) == 0);
  FUZZ_CHECK ((strchr (again + clean->len - 4, '=') == NULL) ==
              (strchr (clean->str + clean->len - 4, '=') == NULL));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (CliServeRequest) request = NULL;
  const char *body = (const char *) data + 1;

  fuzz_abort_on_critical (NULL);
  if (size < 1)
    return 0;
  request =
    cli_serve_request_parse ((CliServeApi) (data[0] % 3), body, size - 1, MAX_IMAGE, &error);
  if (request == NULL)
    {
      FUZZ_CHECK_ERROR (error);
      FUZZ_CHECK (error->domain == CLI_SERVE_ERROR && error->code >= 400 && error->code < 500);
    }
  else
    {
      FUZZ_CHECK (error == NULL);
      FUZZ_CHECK (request->task != NULL);
      /* No task: prompt ids, or a text used as the prompt (as `depict-cli run --text`). */
      FUZZ_CHECK (request->task[0] == '\0'
                    ? request->prompt_ids != NULL || request->text_input != NULL
                    : florence_task_lookup (request->task) != NULL);
      FUZZ_CHECK ((request->image != NULL) != (request->image_path != NULL));
      FUZZ_CHECK (request->image == NULL || (g_bytes_get_size (request->image) > 0 &&
                                             g_bytes_get_size (request->image) <= MAX_IMAGE));
      FUZZ_CHECK (request->num_beams <= 8 && request->max_new_tokens <= 1024);
      FUZZ_CHECK (request->image_size >= 0 && request->image_size <= 1600 &&
                  request->image_size % 32 == 0);
      FUZZ_CHECK (!request->has_region || request->text_input == NULL);
    }
  check_base64 (body, size - 1);
  return 0;
}
