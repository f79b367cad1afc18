/* cli-serve-request.c: the bodies of depict-cli serve's requests (see cli-serve-request.h)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "cli-serve-request.h"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "florence/files/florence-json.h"
#include "florence/model/florence-limits.h"
#include "florence/text/florence-task.h"

G_DEFINE_QUARK (cli - serve - error - quark, cli_serve_error)

/* The bounds of Florence-2 (the loaded model may take less; the model checks its own). */
#define MAX_BEAMS FLORENCE_LIMITS_MAX_BEAMS
#define MAX_NEW_TOKENS FLORENCE_LIMITS_MAX_NEW_TOKENS
#define MAX_IMAGE_SIZE FLORENCE_LIMITS_MAX_IMAGE_SIZE

void
cli_serve_request_free (CliServeRequest *request)
{
  if (request == NULL)
    return;
  g_free (request->model);
  g_free (request->task);
  g_free (request->text_input);
  g_clear_pointer (&request->image, g_bytes_unref);
  g_free (request->image_path);
  g_free (request->image_name);
  g_clear_pointer (&request->prompt_ids, g_array_unref);
  g_free (request);
}

/* ------------------------------------------------------------------------------------------ */
/* base64                                                                                      */

static gboolean
is_base64_char (char c)
{
  return g_ascii_isalnum (c) || c == '+' || c == '/';
}

static void
set_too_large (GError **error, gsize max_bytes)
{
  g_set_error (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_TOO_LARGE,
               _ ("The picture is larger than the %u MB this server accepts. Send a smaller "
                  "file, or start the server with a larger --max-body-mb."),
               (guint) (max_bytes / (1024 * 1024)));
}

GBytes *
cli_serve_decode_base64 (const char *text, gsize length, gsize max_bytes, GError **error)
{
  g_autofree char *clean = NULL;
  gsize n = 0, out_len = 0, pad = 0;

  if (length >= 5 && g_ascii_strncasecmp (text, "data:", 5) == 0)
    {
      const char *comma = memchr (text, ',', length);
      gsize head = comma != NULL ? (gsize) (comma - text) : 0;
      if (comma == NULL || head < 12 || g_ascii_strncasecmp (comma - 7, ";base64", 7) != 0)
        {
          g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                               _ ("The data URL does not carry base64. Send the picture as "
                                  "data:image/jpeg;base64,… (or image/png, image/webp, …)."));
          return NULL;
        }
      length -= head + 1;
      text = comma + 1;
    }
  /* Four characters make three bytes: refuse what is too large before copying anything. */
  if (length / 4 > max_bytes / 3 + 1)
    {
      set_too_large (error, max_bytes);
      return NULL;
    }

  clean = g_malloc (length + 1);
  for (gsize i = 0; i < length; i++)
    {
      char c = text[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        continue;
      if (c == '=' ? pad++ >= 2 : (pad > 0 || !is_base64_char (c)))
        {
          g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                               _ ("The picture’s base64 text holds a character that base64 "
                                  "does not use. Send the file encoded as standard base64."));
          return NULL;
        }
      clean[n++] = c;
    }
  clean[n] = '\0';
  if (n == 0)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("The picture is empty. Send the file’s bytes encoded as base64."));
      return NULL;
    }
  if (n % 4 != 0)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("The picture’s base64 text is cut short (its length is not a "
                              "multiple of four). Send the whole file."));
      return NULL;
    }
  if (n / 4 * 3 - pad > max_bytes)
    {
      set_too_large (error, max_bytes);
      return NULL;
    }
  g_base64_decode_inplace (clean, &out_len);
  return g_bytes_new_take (g_steal_pointer (&clean), out_len);
}

/* ------------------------------------------------------------------------------------------ */
/* Typed members                                                                               */

static const char *
type_name (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    return _ ("an object");
  if (JSON_NODE_HOLDS_ARRAY (node))
    return _ ("an array");
  if (JSON_NODE_HOLDS_NULL (node))
    return _ ("null");
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_STRING:
      return _ ("a string");
    case G_TYPE_BOOLEAN:
      return _ ("true or false");
    default:
      return _ ("a number");
    }
}

static void
set_type_error (GError **error, const char *member, JsonNode *node, const char *wanted)
{
  /* Translators: "“max_tokens” must be a whole number, not a string." */
  g_set_error (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST, _ ("“%s” must be %s, not %s."),
               member, wanted, type_name (node));
}

/* The member's node, or NULL when it is absent or null. */
static JsonNode *
member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);
  return node != NULL && !JSON_NODE_HOLDS_NULL (node) ? node : NULL;
}

static gboolean
get_string (JsonObject *object, const char *name, const char **out, GError **error)
{
  JsonNode *node = member (object, name);
  *out = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      set_type_error (error, name, node, _ ("a string"));
      return FALSE;
    }
  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
get_bool (JsonObject *object, const char *name, gboolean *out, GError **error)
{
  JsonNode *node = member (object, name);
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    {
      set_type_error (error, name, node, _ ("true or false"));
      return FALSE;
    }
  *out = json_node_get_boolean (node);
  return TRUE;
}

static gboolean
is_integer (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64;
}

/* A whole number from lo to hi; *out unchanged when absent. */
static gboolean
get_int (JsonObject *object, const char *name, gint64 lo, gint64 hi, gint64 *out, GError **error)
{
  JsonNode *node = member (object, name);
  if (node == NULL)
    return TRUE;
  if (!is_integer (node))
    {
      set_type_error (error, name, node, _ ("a whole number"));
      return FALSE;
    }
  gint64 v = json_node_get_int (node);
  if (v < lo || v > hi)
    {
      g_set_error (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                   _ ("“%s” must be from %" PRId64 " to %" PRId64 "."), name, lo, hi);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static gboolean
get_object (JsonObject *object, const char *name, JsonObject **out, GError **error)
{
  JsonNode *node = member (object, name);
  *out = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      set_type_error (error, name, node, _ ("an object"));
      return FALSE;
    }
  *out = json_node_get_object (node);
  return TRUE;
}

static gboolean
get_array (JsonObject *object, const char *name, JsonArray **out, GError **error)
{
  JsonNode *node = member (object, name);
  *out = NULL;
  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    {
      set_type_error (error, name, node, _ ("an array"));
      return FALSE;
    }
  *out = json_node_get_array (node);
  return TRUE;
}

static gboolean
one_picture_error (GError **error)
{
  g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                       _ ("Send exactly one picture per request."));
  return FALSE;
}

/* ------------------------------------------------------------------------------------------ */
/* Prompts                                                                                     */

/* Checks the task against its input as the model will (a task without input refuses text,
 * one with input needs some). */
static gboolean
check_task_input (const char *task, const char *text_input, GError **error)
{
  const FlorenceTaskInfo *info = florence_task_lookup (task);
  g_autofree char *prompt = NULL;
  g_autoptr (GError) local = NULL;

  if (info == NULL)
    return TRUE;
  prompt = florence_task_build_prompt (info, text_input, &local);
  if (prompt == NULL)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST, local->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
lookup_task (const char *name, char **out_task, GError **error)
{
  g_autoptr (GError) local = NULL;
  const FlorenceTaskInfo *info = florence_task_find_or_error (name, &local);

  if (info == NULL)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST, local->message);
      return FALSE;
    }
  *out_task = g_strdup (info->token);
  return TRUE;
}

gboolean
cli_serve_request_map_prompt (const char *text, char **out_task, char **out_text_input,
                              GError **error)
{
  g_autofree char *task = NULL;
  g_autofree char *input = NULL;
  const char *p = text != NULL ? text : "";

  while (g_ascii_isspace (*p))
    p++;
  if (*p == '<')
    {
      const char *close = strchr (p, '>');
      g_autofree char *token = close != NULL ? g_strndup (p, (gsize) (close - p + 1)) : NULL;
      if (token == NULL || !lookup_task (token, &task, error))
        {
          if (token == NULL)
            g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                                 _ ("The text starts with “<” but names no task. Start it with "
                                    "a task such as <CAPTION> or <OD>, or write a plain "
                                    "request."));
          return FALSE;
        }
      input = g_strstrip (g_strdup (close + 1));
      if (input[0] == '\0')
        g_clear_pointer (&input, g_free);
    }
  else
    task = g_strdup (CLI_SERVE_DEFAULT_TASK);
  if (!check_task_input (task, input, error))
    return FALSE;
  *out_task = g_steal_pointer (&task);
  *out_text_input = g_steal_pointer (&input);
  return TRUE;
}

/* ------------------------------------------------------------------------------------------ */
/* Pictures                                                                                    */

/* An image_url: a data URL, or a local file (file:// URL or absolute path) that the server
 * checks against its allowed folders. */
static gboolean
take_image_url (CliServeRequest *request, const char *url, gsize max_image_bytes, GError **error)
{
  if (g_ascii_strncasecmp (url, "data:", 5) == 0)
    {
      request->image = cli_serve_decode_base64 (url, strlen (url), max_image_bytes, error);
      return request->image != NULL;
    }
  if (g_ascii_strncasecmp (url, "file://", 7) == 0 || url[0] == '/')
    {
      g_autofree char *path =
        url[0] == '/' ? g_strdup (url) : g_filename_from_uri (url, NULL, NULL);
      if (path == NULL)
        {
          g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                               _ ("The file URL is not valid. Write it as file:///folder/photo.jpg "
                                  "or send the picture as a data URL."));
          return FALSE;
        }
      request->image_path = g_steal_pointer (&path);
      request->image_name = g_strdup (request->image_path);
      return TRUE;
    }
  g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                       _ ("Depict does not fetch pictures from the web. Send the picture in the "
                          "request as a data URL (data:image/jpeg;base64,…)."));
  return FALSE;
}

/* ------------------------------------------------------------------------------------------ */
/* OpenAI: POST /v1/chat/completions                                                           */

static gboolean
parse_content_part (CliServeRequest *request, JsonNode *node, GString *text, gsize max_image_bytes,
                    GError **error)
{
  const char *type = NULL;
  JsonObject *part;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      set_type_error (error, "content[]", node, _ ("an object"));
      return FALSE;
    }
  part = json_node_get_object (node);
  if (!get_string (part, "type", &type, error))
    return FALSE;
  if (g_strcmp0 (type, "text") == 0)
    {
      const char *s = NULL;
      if (!get_string (part, "text", &s, error))
        return FALSE;
      if (s != NULL)
        g_string_append_printf (text, "%s%s", text->len > 0 ? "\n" : "", s);
      return TRUE;
    }
  if (g_strcmp0 (type, "image_url") == 0)
    {
      JsonNode *image_url = member (part, "image_url");
      const char *url = NULL;
      if (image_url != NULL && JSON_NODE_HOLDS_OBJECT (image_url))
        {
          if (!get_string (json_node_get_object (image_url), "url", &url, error))
            return FALSE;
        }
      else if (!get_string (part, "image_url", &url, error))
        return FALSE;
      if (url == NULL)
        {
          g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                               _ ("An image_url part needs a “url”: "
                                  "{\"type\": \"image_url\", \"image_url\": {\"url\": "
                                  "\"data:image/jpeg;base64,…\"}}."));
          return FALSE;
        }
      if (request->image != NULL || request->image_path != NULL)
        return one_picture_error (error);
      return take_image_url (request, url, max_image_bytes, error);
    }
  g_set_error (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
               _ ("Depict reads message parts of type “text” and “image_url”, not “%s”."),
               type != NULL ? type : "");
  return FALSE;
}

static gboolean
parse_openai (CliServeRequest *request, JsonObject *root, gsize max_image_bytes, GError **error)
{
  const char *model = NULL;
  JsonArray *messages = NULL;
  JsonNode *content = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  gint64 max_tokens = 0, n = 1;

  if (!get_string (root, "model", &model, error) ||
      !get_array (root, "messages", &messages, error) ||
      !get_int (root, "max_tokens", 1, MAX_NEW_TOKENS, &max_tokens, error) ||
      !get_int (root, "max_completion_tokens", 1, MAX_NEW_TOKENS, &max_tokens, error) ||
      !get_int (root, "n", 1, 1, &n, error) || !get_bool (root, "stream", &request->stream, error))
    return FALSE;
  request->model = g_strdup (model);
  request->max_new_tokens = (guint) max_tokens;
  if (messages == NULL || json_array_get_length (messages) == 0)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("The request has no “messages”. Send one user message with a "
                              "text part and an image_url part."));
      return FALSE;
    }
  /* The last user message asks the question. */
  for (guint i = json_array_get_length (messages); i-- > 0 && content == NULL;)
    {
      JsonNode *node = json_array_get_element (messages, i);
      const char *role = NULL;
      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          set_type_error (error, "messages[]", node, _ ("an object"));
          return FALSE;
        }
      if (!get_string (json_node_get_object (node), "role", &role, error))
        return FALSE;
      if (g_strcmp0 (role, "user") == 0)
        content = member (json_node_get_object (node), "content");
    }
  if (content == NULL)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("The request has no user message with content. Send the "
                              "picture and the question in a message whose role is “user”."));
      return FALSE;
    }
  if (JSON_NODE_HOLDS_ARRAY (content))
    {
      JsonArray *parts = json_node_get_array (content);
      for (guint i = 0; i < json_array_get_length (parts); i++)
        if (!parse_content_part (request, json_array_get_element (parts, i), text, max_image_bytes,
                                 error))
          return FALSE;
    }
  else if (JSON_NODE_HOLDS_VALUE (content) && json_node_get_value_type (content) == G_TYPE_STRING)
    g_string_append (text, json_node_get_string (content));
  else
    {
      set_type_error (error, "content", content, _ ("a string or an array of parts"));
      return FALSE;
    }
  if (request->image == NULL && request->image_path == NULL)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("The user message has no picture. Add a part "
                              "{\"type\": \"image_url\", \"image_url\": {\"url\": "
                              "\"data:image/jpeg;base64,…\"}}."));
      return FALSE;
    }
  return cli_serve_request_map_prompt (text->str, &request->task, &request->text_input, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Ollama: POST /api/generate                                                                  */

static gboolean
parse_ollama (CliServeRequest *request, JsonObject *root, gsize max_image_bytes, GError **error)
{
  const char *model = NULL, *prompt = NULL;
  JsonArray *images = NULL;
  JsonObject *options = NULL;
  gint64 num_predict = 0;
  JsonNode *image;

  request->stream = TRUE; /* Ollama streams unless told not to */
  if (!get_string (root, "model", &model, error) || !get_string (root, "prompt", &prompt, error) ||
      !get_array (root, "images", &images, error) ||
      !get_bool (root, "stream", &request->stream, error) ||
      !get_object (root, "options", &options, error))
    return FALSE;
  /* num_predict: -1 (and -2) mean "as many as the model likes" in Ollama. */
  if (options != NULL && !get_int (options, "num_predict", -2, MAX_NEW_TOKENS, &num_predict, error))
    return FALSE;
  request->model = g_strdup (model);
  request->max_new_tokens = num_predict > 0 ? (guint) num_predict : 0;
  if (images == NULL || json_array_get_length (images) == 0)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("The request has no “images”. Send the picture as base64 in "
                              "\"images\": [\"…\"]."));
      return FALSE;
    }
  if (json_array_get_length (images) > 1)
    return one_picture_error (error);
  image = json_array_get_element (images, 0);
  if (!JSON_NODE_HOLDS_VALUE (image) || json_node_get_value_type (image) != G_TYPE_STRING)
    {
      set_type_error (error, "images[]", image, _ ("a string"));
      return FALSE;
    }
  request->image = cli_serve_decode_base64 (
    json_node_get_string (image), strlen (json_node_get_string (image)), max_image_bytes, error);
  if (request->image == NULL)
    return FALSE;
  return cli_serve_request_map_prompt (prompt, &request->task, &request->text_input, error);
}

/* ------------------------------------------------------------------------------------------ */
/* Depict: POST /v1/depict/run                                                                 */

static gboolean
parse_region (CliServeRequest *request, JsonArray *region, GError **error)
{
  if (json_array_get_length (region) != 4)
    goto fail;
  for (guint i = 0; i < 4; i++)
    {
      JsonNode *v = json_array_get_element (region, i);
      if (!JSON_NODE_HOLDS_VALUE (v) || (json_node_get_value_type (v) != G_TYPE_INT64 &&
                                         json_node_get_value_type (v) != G_TYPE_DOUBLE))
        goto fail;
      request->region[i] = json_node_get_double (v);
    }
  request->has_region = TRUE;
  return TRUE;
fail:
  g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                       _ ("“region” must be four numbers, [x1, y1, x2, y2] in the picture’s "
                          "pixels."));
  return FALSE;
}

static gboolean
parse_prompt_ids (CliServeRequest *request, JsonArray *ids, GError **error)
{
  guint n = json_array_get_length (ids);

  if (n == 0)
    goto fail;
  request->prompt_ids = g_array_sized_new (FALSE, FALSE, sizeof (gint32), n);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *v = json_array_get_element (ids, i);
      gint64 id;
      if (!is_integer (v) || (id = json_node_get_int (v)) < 0 || id > G_MAXINT32)
        goto fail;
      gint32 id32 = (gint32) id;
      g_array_append_val (request->prompt_ids, id32);
    }
  return TRUE;
fail:
  g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                       _ ("“prompt_ids” must be a list of token ids (whole numbers from 0)."));
  return FALSE;
}

static gboolean
parse_depict (CliServeRequest *request, JsonObject *root, gsize max_image_bytes, GError **error)
{
  const char *image = NULL, *path = NULL, *name = NULL, *task = NULL, *text = NULL;
  const char *model = NULL;
  JsonArray *region = NULL, *prompt_ids = NULL;
  gint64 beams = 0, max_new_tokens = 0, image_size = 0;

  if (!get_string (root, "image", &image, error) || !get_string (root, "path", &path, error) ||
      !get_string (root, "name", &name, error) || !get_string (root, "task", &task, error) ||
      !get_string (root, "text", &text, error) || !get_string (root, "model", &model, error) ||
      !get_array (root, "region", &region, error) ||
      !get_array (root, "prompt_ids", &prompt_ids, error) ||
      !get_int (root, "beams", 1, MAX_BEAMS, &beams, error) ||
      !get_int (root, "max_new_tokens", 1, MAX_NEW_TOKENS, &max_new_tokens, error) ||
      !get_int (root, "image_size", 32, MAX_IMAGE_SIZE, &image_size, error))
    return FALSE;
  if (image_size % 32 != 0)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("“image_size” must be a multiple of 32."));
      return FALSE;
    }
  request->model = g_strdup (model);
  request->num_beams = (guint) beams;
  request->max_new_tokens = (guint) max_new_tokens;
  request->image_size = (int) image_size;
  if ((image == NULL) == (path == NULL))
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("Give the picture either as “image” (base64 or a data URL) or as "
                              "“path” (a file under a folder the server allows), not both."));
      return FALSE;
    }
  if (image != NULL)
    {
      request->image = cli_serve_decode_base64 (image, strlen (image), max_image_bytes, error);
      if (request->image == NULL)
        return FALSE;
    }
  else
    request->image_path = g_strdup (path);
  request->image_name = g_strdup (name != NULL ? name : path);
  if (region != NULL && !parse_region (request, region, error))
    return FALSE;
  if (prompt_ids != NULL && !parse_prompt_ids (request, prompt_ids, error))
    return FALSE;
  if (request->has_region && text != NULL)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("Give either “text” or “region”, not both."));
      return FALSE;
    }
  request->text_input = g_strdup (text);
  if (task != NULL && task[0] != '\0')
    {
      if (!lookup_task (task, &request->task, error))
        return FALSE;
    }
  else if (request->prompt_ids == NULL && text == NULL)
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("Give a “task”, for example \"<CAPTION>\" or \"<OD>\"."));
      return FALSE;
    }
  else
    request->task = g_strdup ("");
  if (request->has_region)
    {
      const FlorenceTaskInfo *info = florence_task_lookup (request->task);
      if (info == NULL || info->input != FLORENCE_TASK_INPUT_REGION)
        {
          g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                               _ ("Only the region tasks (<REGION_TO_CATEGORY>, "
                                  "<REGION_TO_DESCRIPTION>, <REGION_TO_SEGMENTATION>, "
                                  "<REGION_TO_OCR>) take a “region”."));
          return FALSE;
        }
      return TRUE;
    }
  return request->prompt_ids != NULL ||
         check_task_input (request->task, request->text_input, error);
}

/* ------------------------------------------------------------------------------------------ */

/* json-glib spends about 100 bytes on each value: a body of "[0,0,0,…" would cost fifty times
 * its size. A request needs a few dozen values, and commas, colons and brackets bound their
 * number from above (the base64 of a picture has none), so many of them refuse it early. */
#define MAX_SEPARATORS 100000

static gboolean
few_values (const char *body, gsize length)
{
  gsize n = 0;
  for (gsize i = 0; i < length; i++)
    if (body[i] == ',' || body[i] == ':' || body[i] == '[' || body[i] == '{')
      if (++n > MAX_SEPARATORS)
        return FALSE;
  return TRUE;
}

CliServeRequest *
cli_serve_request_parse (CliServeApi api, const char *body, gsize length, gsize max_image_bytes,
                         GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (CliServeRequest) request = g_new0 (CliServeRequest, 1);
  g_autoptr (GError) local = NULL;
  JsonNode *root;
  gboolean ok = FALSE;

  g_return_val_if_fail (body != NULL || length == 0, NULL);

  request->api = api;
  if (!few_values (body, length))
    {
      g_set_error (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                   _ ("The request holds more than %u JSON values; a request needs a few dozen. "
                      "Send one picture and its options."),
                   (guint) MAX_SEPARATORS);
      return NULL;
    }
  if (length > G_MAXSSIZE ||
      !florence_json_load (parser, body != NULL ? body : "", (gssize) length, &local))
    {
      g_set_error (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                   _ ("The request body is not valid JSON (%s). Send a JSON object."),
                   local != NULL ? local->message : "");
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error_literal (error, CLI_SERVE_ERROR, CLI_SERVE_ERROR_BAD_REQUEST,
                           _ ("The request body must be a JSON object."));
      return NULL;
    }
  switch (api)
    {
    case CLI_SERVE_API_OPENAI:
      ok = parse_openai (request, json_node_get_object (root), max_image_bytes, error);
      break;
    case CLI_SERVE_API_OLLAMA:
      ok = parse_ollama (request, json_node_get_object (root), max_image_bytes, error);
      break;
    case CLI_SERVE_API_DEPICT:
      ok = parse_depict (request, json_node_get_object (root), max_image_bytes, error);
      break;
    default:
      g_return_val_if_reached (NULL);
    }
  return ok ? g_steal_pointer (&request) : NULL;
}
