/* cli-serve-response.c: the answers of depict-cli serve (see cli-serve-response.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "cli-serve-response.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "florence/model/florence-limits.h"

void
cli_serve_response_clear (CliServeResponse *response)
{
  g_clear_pointer (&response->content_type, g_free);
  g_clear_pointer (&response->body, g_free);
}

static void
set_json (CliServeResponse *out, JsonBuilder *b, const char *trailer)
{
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree char *s = json_to_string (root, FALSE);
  out->content_type = g_strdup ("application/json");
  out->body = g_strconcat (s, trailer, NULL);
}

static void
add_labels (GPtrArray *seen, GString *text, const GPtrArray *labels, const char *separator)
{
  for (guint i = 0; labels != NULL && i < labels->len; i++)
    {
      const char *label = labels->pdata[i];
      if (label == NULL || label[0] == '\0' ||
          g_ptr_array_find_with_equal_func (seen, label, g_str_equal, NULL))
        continue;
      g_ptr_array_add (seen, (gpointer) label);
      g_string_append_printf (text, "%s%s", text->len > 0 ? separator : "", label);
    }
}

char *
cli_serve_response_text (const FlorenceRun *run)
{
  const FlorenceResult *r = run->result;
  g_autoptr (GPtrArray) seen = g_ptr_array_new ();
  GString *text;

  if (r == NULL)
    return g_strdup ("");
  if (r->text != NULL)
    return g_strdup (r->text);
  text = g_string_new (NULL);
  add_labels (seen, text, r->box_labels, ", ");
  add_labels (seen, text, r->polygon_labels, ", ");
  add_labels (seen, text, r->quad_labels, "\n");
  return g_string_free (text, FALSE);
}

/* Depict's run JSON: the object `depict-cli run --json` prints for the picture. */
static JsonNode *
depict_node (const CliServeModelInfo *info, const CliServeRequest *request, const FlorenceRun *run)
{
  return florence_run_to_json_node (run, request->image_name,
                                    florence_model_get_device_name (info->model));
}

static guint
generated_tokens (const FlorenceRun *run)
{
  /* token_ids starts with the decoder's start id, which was not generated. */
  return run->token_ids != NULL && run->token_ids->len > 0 ? run->token_ids->len - 1 : 0;
}

/* "stop" when generation ended by itself, "length" when it reached the token limit (where
 * the end token is forced, so the last id does not tell). */
static const char *
finish_reason (const CliServeRequest *request, const FlorenceRun *run)
{
  guint limit =
    request->max_new_tokens > 0 ? request->max_new_tokens : FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS;
  return generated_tokens (run) >= limit ? "length" : "stop";
}

/* ------------------------------------------------------------------------------------------ */
/* OpenAI                                                                                      */

static void
openai_head (JsonBuilder *b, const char *id, const char *object, gint64 created, const char *model)
{
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "object");
  json_builder_add_string_value (b, object);
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, created);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
}

static void
openai_usage (JsonBuilder *b, const FlorenceRun *run)
{
  guint prompt = run->prompt_ids != NULL ? run->prompt_ids->len : 0;
  guint completion = generated_tokens (run);

  json_builder_set_member_name (b, "usage");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prompt_tokens");
  json_builder_add_int_value (b, prompt);
  json_builder_set_member_name (b, "completion_tokens");
  json_builder_add_int_value (b, completion);
  json_builder_set_member_name (b, "total_tokens");
  json_builder_add_int_value (b, prompt + completion);
  json_builder_end_object (b);
}

/* {"index": 0, MEMBER: {"role": "assistant", "content": CONTENT} (or {} when content is NULL),
 * "finish_reason": FINISH (or null)} */
static void
add_choice (JsonBuilder *b, const char *member, const char *content, const char *finish)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, member);
  json_builder_begin_object (b);
  if (content != NULL)
    {
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, "assistant");
      json_builder_set_member_name (b, "content");
      json_builder_add_string_value (b, content);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "finish_reason");
  if (finish != NULL)
    json_builder_add_string_value (b, finish);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
}

static char *
openai_chunk (const char *id, gint64 created, const char *model, const char *content,
              const char *finish, JsonNode *depict)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  openai_head (b, id, "chat.completion.chunk", created, model);
  json_builder_set_member_name (b, "choices");
  json_builder_begin_array (b);
  add_choice (b, "delta", content, finish);
  json_builder_end_array (b);
  if (depict != NULL)
    {
      json_builder_set_member_name (b, "depict");
      json_builder_add_value (b, depict);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static void
openai_answer (const CliServeModelInfo *info, const CliServeRequest *request,
               const FlorenceRun *run, CliServeResponse *out)
{
  g_autofree char *uuid = g_uuid_string_random ();
  g_auto (GStrv) uuid_parts = g_strsplit (uuid, "-", -1);
  g_autofree char *joined = g_strjoinv ("", uuid_parts);
  g_autofree char *id = g_strconcat ("chatcmpl-", joined, NULL);
  g_autofree char *content = cli_serve_response_text (run);
  const char *finish = finish_reason (request, run);
  gint64 created = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr (JsonBuilder) b = json_builder_new ();

  if (request->stream)
    {
      g_autofree char *first = openai_chunk (id, created, info->id, content, NULL, NULL);
      g_autofree char *last =
        openai_chunk (id, created, info->id, NULL, finish, depict_node (info, request, run));
      out->content_type = g_strdup ("text/event-stream");
      out->body = g_strdup_printf ("data: %s\n\ndata: %s\n\ndata: [DONE]\n\n", first, last);
      return;
    }
  json_builder_begin_object (b);
  openai_head (b, id, "chat.completion", created, info->id);
  json_builder_set_member_name (b, "choices");
  json_builder_begin_array (b);
  add_choice (b, "message", content, finish);
  json_builder_end_array (b);
  openai_usage (b, run);
  json_builder_set_member_name (b, "depict");
  json_builder_add_value (b, depict_node (info, request, run));
  json_builder_end_object (b);
  set_json (out, b, "");
}

/* ------------------------------------------------------------------------------------------ */
/* Ollama                                                                                      */

static char *
iso_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  return g_date_time_format_iso8601 (now);
}

static void
ollama_head (JsonBuilder *b, const char *model, const char *created_at, const char *response,
             gboolean done)
{
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
  json_builder_set_member_name (b, "created_at");
  json_builder_add_string_value (b, created_at);
  json_builder_set_member_name (b, "response");
  json_builder_add_string_value (b, response);
  json_builder_set_member_name (b, "done");
  json_builder_add_boolean_value (b, done);
}

static void
add_nanoseconds (JsonBuilder *b, const char *name, double seconds)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, (gint64) (seconds * 1e9));
}

static void
ollama_answer (const CliServeModelInfo *info, const CliServeRequest *request,
               const FlorenceRun *run, CliServeResponse *out)
{
  g_autofree char *created_at = iso_now ();
  g_autofree char *content = cli_serve_response_text (run);
  g_autofree char *first = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *last = NULL;
  const FlorenceTimings *t = &run->timings;

  if (request->stream)
    {
      g_autoptr (JsonBuilder) fb = json_builder_new ();
      g_autoptr (JsonNode) froot = NULL;
      json_builder_begin_object (fb);
      ollama_head (fb, info->id, created_at, content, FALSE);
      json_builder_end_object (fb);
      froot = json_builder_get_root (fb);
      first = json_to_string (froot, FALSE);
    }
  json_builder_begin_object (b);
  ollama_head (b, info->id, created_at, request->stream ? "" : content, TRUE);
  json_builder_set_member_name (b, "done_reason");
  json_builder_add_string_value (b, finish_reason (request, run));
  add_nanoseconds (b, "total_duration", t->total);
  add_nanoseconds (b, "load_duration", 0.0);
  json_builder_set_member_name (b, "prompt_eval_count");
  json_builder_add_int_value (b, run->prompt_ids != NULL ? run->prompt_ids->len : 0);
  add_nanoseconds (b, "prompt_eval_duration", t->preprocess + t->vision + t->encoder);
  json_builder_set_member_name (b, "eval_count");
  json_builder_add_int_value (b, generated_tokens (run));
  add_nanoseconds (b, "eval_duration", t->decode);
  json_builder_set_member_name (b, "depict");
  json_builder_add_value (b, depict_node (info, request, run));
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  last = json_to_string (root, FALSE);
  if (request->stream)
    {
      out->content_type = g_strdup ("application/x-ndjson");
      out->body = g_strdup_printf ("%s\n%s\n", first, last);
    }
  else
    {
      out->content_type = g_strdup ("application/json");
      out->body = g_steal_pointer (&last);
    }
}

/* ------------------------------------------------------------------------------------------ */

void
cli_serve_response_for_run (const CliServeModelInfo *info, const CliServeRequest *request,
                            const FlorenceRun *run, CliServeResponse *out)
{
  switch (request->api)
    {
    case CLI_SERVE_API_OPENAI:
      openai_answer (info, request, run, out);
      break;
    case CLI_SERVE_API_OLLAMA:
      ollama_answer (info, request, run, out);
      break;
    case CLI_SERVE_API_DEPICT:
    default:
      {
        /* The line depict-cli run --json prints (cli_print_json_line). */
        g_autoptr (JsonNode) node = depict_node (info, request, run);
        g_autofree char *line = json_to_string (node, FALSE);
        out->content_type = g_strdup ("application/json");
        out->body = g_strconcat (line, "\n", NULL);
      }
      break;
    }
}

static const char *
openai_error_type (guint status)
{
  switch (status)
    {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 429:
      return "rate_limit_error";
    default:
      return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

void
cli_serve_response_for_error (CliServeApi api, guint status, const char *message,
                              CliServeResponse *out)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  if (api == CLI_SERVE_API_OPENAI)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "message");
      json_builder_add_string_value (b, message);
      json_builder_set_member_name (b, "type");
      json_builder_add_string_value (b, openai_error_type (status));
      json_builder_set_member_name (b, "code");
      json_builder_add_int_value (b, status);
      json_builder_end_object (b);
    }
  else
    json_builder_add_string_value (b, message);
  json_builder_end_object (b);
  set_json (out, b, "\n");
}

void
cli_serve_response_openai_models (const CliServeModelInfo *info, CliServeResponse *out)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "object");
  json_builder_add_string_value (b, "list");
  json_builder_set_member_name (b, "data");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, info->id);
  json_builder_set_member_name (b, "object");
  json_builder_add_string_value (b, "model");
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, info->modified);
  json_builder_set_member_name (b, "owned_by");
  json_builder_add_string_value (b, "depict");
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  set_json (out, b, "\n");
}

void
cli_serve_response_ollama_tags (const CliServeModelInfo *info, CliServeResponse *out)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (GDateTime) modified = g_date_time_new_from_unix_utc (info->modified);
  g_autofree char *modified_at = modified != NULL ? g_date_time_format_iso8601 (modified) : NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "models");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, info->id);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, info->id);
  json_builder_set_member_name (b, "modified_at");
  json_builder_add_string_value (b, modified_at != NULL ? modified_at : "");
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, info->size);
  json_builder_set_member_name (b, "digest");
  json_builder_add_string_value (b, info->weights_hash != NULL ? info->weights_hash : "");
  json_builder_set_member_name (b, "details");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "family");
  json_builder_add_string_value (b, "florence2");
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  set_json (out, b, "\n");
}

gboolean
cli_serve_response_model_matches (const CliServeModelInfo *info, const char *name)
{
  gsize n;

  if (name == NULL || name[0] == '\0')
    return TRUE;
  n = strlen (name);
  if (g_str_has_suffix (name, ":latest"))
    n -= strlen (":latest");
  return strlen (info->id) == n && g_ascii_strncasecmp (info->id, name, n) == 0;
}
