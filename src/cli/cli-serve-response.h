/* cli-serve-response.h: the answers of depict-cli serve, in each dialect's shape
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * OpenAI's chat completion (or its stream of server-sent events), Ollama's generate (or its
 * JSON lines), Depict's run (exactly the line `depict-cli run --json` prints), the model
 * lists of both, and the error bodies each dialect's clients expect. The OpenAI and Ollama
 * answers carry the text, and Depict's run JSON in an extra member "depict".
 */
#pragma once

#include <glib.h>

#include "cli-serve-request.h"
#include "florence/model/florence-model.h"

G_BEGIN_DECLS

/* What the server says about its model. */
typedef struct {
  FlorenceModel *model;
  const char *id;           /* the name clients ask for: "florence-2-base" */
  const char *weights_hash; /* SHA-256 of the weights (hex), or NULL */
  gint64 modified;          /* Unix seconds of the weights file */
  gint64 size;              /* bytes of the weights */
} CliServeModelInfo;

typedef struct {
  char *content_type; /* static strings are duplicated: free both */
  char *body;
} CliServeResponse;

void cli_serve_response_clear (CliServeResponse *response);

/* The answer text of a run: the text of text tasks, else the distinct labels of the boxes,
 * polygons and text lines, separated by ", " (and by new lines for read text). */
char *cli_serve_response_text (const FlorenceRun *run);

/* The answer to a finished request of request->api. */
void cli_serve_response_for_run (const CliServeModelInfo *info, const CliServeRequest *request,
                                 const FlorenceRun *run, CliServeResponse *out);

/* An error body: OpenAI's {"error": {"message", "type", "code"}}, Ollama's and Depict's
 * {"error": "…"}. */
void cli_serve_response_for_error (CliServeApi api, guint status, const char *message,
                                   CliServeResponse *out);

/* GET /v1/models, GET /api/tags */
void cli_serve_response_openai_models (const CliServeModelInfo *info, CliServeResponse *out);
void cli_serve_response_ollama_tags (const CliServeModelInfo *info, CliServeResponse *out);

/* Whether a request for the model called name may be served by this one: its id, with any
 * case, and with Ollama's ":latest" tag. */
gboolean cli_serve_response_model_matches (const CliServeModelInfo *info, const char *name);

G_END_DECLS
