/* cli-serve-request.h: the bodies of depict-cli serve's requests, read into one request type
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Three dialects ask for the same thing, one task on one picture: OpenAI's chat completions
 * (an image_url part, a text part), Ollama's generate (a prompt, base64 images) and Depict's
 * own run (the options of `depict-cli run`). Each body is checked here, before anything is
 * decoded or queued: the JSON through the depth-checked parser, every member we use for its
 * type and range, base64 strictly (a truncated or damaged string is refused, not decoded in
 * part), the decoded picture against a byte limit. Nothing here touches the network, a file
 * or the model, so that a fuzzer can drive it (tests/cli/fuzz/fuzz-serve-request.c).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Errors carry the HTTP status they are answered with. */
#define CLI_SERVE_ERROR (cli_serve_error_quark ())

typedef enum {
  CLI_SERVE_ERROR_BAD_REQUEST = 400,
  CLI_SERVE_ERROR_UNAUTHORIZED = 401,
  CLI_SERVE_ERROR_FORBIDDEN = 403,
  CLI_SERVE_ERROR_NOT_FOUND = 404,
  CLI_SERVE_ERROR_METHOD_NOT_ALLOWED = 405,
  CLI_SERVE_ERROR_TOO_LARGE = 413,
  CLI_SERVE_ERROR_UNSUPPORTED_MEDIA = 415,
  CLI_SERVE_ERROR_UNPROCESSABLE = 422,
  CLI_SERVE_ERROR_TOO_MANY_REQUESTS = 429,
  CLI_SERVE_ERROR_CLIENT_GONE = 499, /* the client closed the connection; nobody reads it */
  CLI_SERVE_ERROR_INTERNAL = 500,
  CLI_SERVE_ERROR_UNAVAILABLE = 503,
} CliServeError;

GQuark cli_serve_error_quark (void);

typedef enum {
  CLI_SERVE_API_OPENAI, /* POST /v1/chat/completions */
  CLI_SERVE_API_OLLAMA, /* POST /api/generate */
  CLI_SERVE_API_DEPICT, /* POST /v1/depict/run */
} CliServeApi;

/* The task of a plain request ("Describe this photo"): the most detailed caption. */
#define CLI_SERVE_DEFAULT_TASK "<MORE_DETAILED_CAPTION>"

typedef struct {
  CliServeApi api;
  char *model;      /* the model asked for; NULL when the request names none */
  char *task;       /* a task token ("<OD>"); "" when prompt_ids are given */
  char *text_input; /* NULL = none */
  GBytes *image;    /* the picture's bytes (decoded from base64), or NULL when image_path */
  char *image_path; /* a local file (only served under an allowed folder), or NULL */
  char *image_name; /* what Depict's run answers as "image": the path, or the "name" given */
  gboolean has_region;
  double region[4];     /* x1, y1, x2, y2 in the picture's pixels: made into the text input once
                         * the picture's size is known */
  guint num_beams;      /* 0 = the model's default */
  guint max_new_tokens; /* 0 = the model's default */
  int image_size;       /* 0 = the processor's */
  GArray *prompt_ids;   /* gint32, or NULL */
  gboolean stream;      /* answer as a stream (server-sent events, or Ollama's JSON lines) */
} CliServeRequest;

/* Reads a request body of the given dialect. max_image_bytes bounds the decoded picture
 * (its base64 text is checked before it is decoded). Errors are CLI_SERVE_ERROR with a
 * sentence that says what was wrong and how to send it. */
CliServeRequest *cli_serve_request_parse (CliServeApi api, const char *body, gsize length,
                                          gsize max_image_bytes, GError **error);
void cli_serve_request_free (CliServeRequest *request);

/* Strict base64 (RFC 4648, standard alphabet, padding required; ASCII white space such as
 * line breaks is skipped): a string cut short, a stray character or padding in the middle is
 * refused. A "data:" URL is taken apart first (it must say ";base64"). The result is at most
 * max_bytes long, checked before decoding. */
GBytes *cli_serve_decode_base64 (const char *text, gsize length, gsize max_bytes, GError **error);

/* The task of a chat text: a task token at its start ("<OD>", "<CAPTION_TO_PHRASE_GROUNDING>
 * a dog") gives that task and the rest as its input; any other text is a plain request for
 * CLI_SERVE_DEFAULT_TASK. An unknown token, or input given to a task that takes none, is an
 * error. */
gboolean cli_serve_request_map_prompt (const char *text, char **out_task, char **out_text_input,
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CliServeRequest, cli_serve_request_free)

G_END_DECLS
