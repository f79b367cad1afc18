/* test-serve-hostile.c: `depict-cli serve` against bad requests and hard clients
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Hostile and malformed requests (truncated base64, a decompression bomb, a 100 MB body with
 * its length declared and chunked, a non-image, wrong JSON types, …), each answered with a 4xx
 * and a sentence while the server stays up; the token; a full queue (429 with Retry-After);
 * clients that hang up (their work is cancelled, waiting or running); SIGTERM (the running
 * request is answered, then the server exits); addresses other than loopback without a token.
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli-test-util.h"
#include "cli/serve-test-util.h"

static const char *cli_path;
static ServeTestServer *server; /* --queue 1, pictures allowed under the fixture images */

/* ------------------------------------------------------------------------------------------ */
/* Bad requests                                                                                */

static guint32
crc32_of (const guint8 *data, gsize n, guint32 crc)
{
  crc = ~crc;
  for (gsize i = 0; i < n; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
  return ~crc;
}

static void
png_chunk (GByteArray *png, const char *type, const guint8 *data, gsize n)
{
  guint8 be[4] = { (guint8) (n >> 24), (guint8) (n >> 16), (guint8) (n >> 8), (guint8) n };
  guint32 crc;

  g_byte_array_append (png, be, 4);
  g_byte_array_append (png, (const guint8 *) type, 4);
  g_byte_array_append (png, data, (guint) n);
  crc = crc32_of ((const guint8 *) type, 4, 0);
  crc = crc32_of (data, n, crc);
  be[0] = (guint8) (crc >> 24), be[1] = (guint8) (crc >> 16), be[2] = (guint8) (crc >> 8);
  be[3] = (guint8) crc;
  g_byte_array_append (png, be, 4);
}

/* A valid 8000 × 8000 grey PNG of zeros: 64 megapixels from about 60 KB. */
static GBytes *
decompression_bomb (void)
{
  const guint32 side = 8000;
  g_autoptr (GByteArray) png = g_byte_array_new ();
  g_autoptr (GByteArray) idat = g_byte_array_new ();
  g_autoptr (GZlibCompressor) z = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9);
  g_autofree guint8 *row = g_malloc0 (side + 1);
  guint8 out[65536];
  guint8 ihdr[13] = { side >> 24,
                      (side >> 16) & 255,
                      (side >> 8) & 255,
                      side & 255,
                      side >> 24,
                      (side >> 16) & 255,
                      (side >> 8) & 255,
                      side & 255,
                      8,
                      0,
                      0,
                      0,
                      0 };

  g_byte_array_append (png, (const guint8 *) "\x89PNG\r\n\x1a\n", 8);
  png_chunk (png, "IHDR", ihdr, sizeof ihdr);
  for (guint32 y = 0; y <= side; y++)
    {
      gsize in_off = 0;
      GConverterResult r;
      do
        {
          gsize read = 0, written = 0;
          g_autoptr (GError) error = NULL;
          r = g_converter_convert (G_CONVERTER (z), y < side ? row + in_off : NULL,
                                   y < side ? side + 1 - in_off : 0, out, sizeof out,
                                   y < side ? G_CONVERTER_NO_FLAGS : G_CONVERTER_INPUT_AT_END,
                                   &read, &written, &error);
          g_assert_no_error (error);
          in_off += read;
          g_byte_array_append (idat, out, (guint) written);
        }
      while (y < side ? in_off < side + 1 : r != G_CONVERTER_FINISHED);
    }
  png_chunk (png, "IDAT", idat->data, idat->len);
  png_chunk (png, "IEND", NULL, 0);
  return g_byte_array_free_to_bytes (g_steal_pointer (&png));
}

static char *
ollama_with_image (const char *b64)
{
  return g_strdup_printf (
    "{\"model\": \"tiny\", \"prompt\": \"<CAPTION>\", \"images\": [\"%s\"], \"stream\": false, "
    "\"options\": {\"num_predict\": 5}}",
    b64);
}

/* Streams size bytes of "{" padding as a chunked body (no Content-Length). */
/* A body of size bytes ("{" and spaces), with its length declared or chunked. */
static ServeTestReply *
post_huge (gsize size, gboolean chunked)
{
  g_autofree char *data = g_malloc (size);
  g_autoptr (GInputStream) stream = NULL;

  memset (data, ' ', size);
  data[0] = '{';
  stream = g_memory_input_stream_new_from_data (data, (gssize) size, NULL);
  return serve_test_http_stream ("v1/chat/completions", stream, chunked ? -1 : (gssize) size);
}

typedef struct {
  const char *route;
  const char *body;
  guint status;
} BadCase;

/* str, kept in owned until the test ends. */
static const char *
keep (GPtrArray *owned, char *str)
{
  g_ptr_array_add (owned, str);
  return str;
}

static void
test_bad_requests (void)
{
  g_autofree char *png = serve_test_image_path ("photo_640x480.png");
  g_autofree char *b64 = serve_test_file_base64 (png);
  g_autofree char *truncated_b64 = g_strndup (b64, 1001); /* not a multiple of 4 */
  g_autofree char *text_b64 =
    g_base64_encode ((const guchar *) "This is a letter, not a photo.", 30);
  g_autoptr (GBytes) bomb = decompression_bomb ();
  g_autofree char *bomb_b64 =
    g_base64_encode (g_bytes_get_data (bomb, NULL), g_bytes_get_size (bomb));
  g_autofree char *cut_png_b64 = NULL;
  g_autofree char *deep = NULL;
  g_autofree char *wide = NULL; /* 200 000 values: json-glib would spend 20 MB on them */
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  {
    g_autofree char *raw = NULL;
    gsize len;
    g_assert_true (g_file_get_contents (png, &raw, &len, NULL));
    cut_png_b64 = g_base64_encode ((const guchar *) raw, len / 2);
    g_autoptr (GString) s = g_string_new ("{\"messages\": ");
    for (int i = 0; i < 50000; i++) /* past the depth limit, under the value limit */
      g_string_append_c (s, '[');
    deep = g_string_free (g_steal_pointer (&s), FALSE);
    s = g_string_new ("{\"image\": \"AAAA\", \"prompt_ids\": [0");
    for (int i = 0; i < 200000; i++)
      g_string_append (s, ",0");
    g_string_append (s, "]}");
    wide = g_string_free (g_steal_pointer (&s), FALSE);
  }
  const BadCase cases[] = {
    /* base64 and pictures */
    { "api/generate",
      keep (owned, g_strdup_printf ("{\"model\": \"gpt-4o\", \"prompt\": \"<CAPTION>\", "
                                    "\"images\": [\"%s\"]}",
                                    b64)),
      404 },
    { "api/generate", keep (owned, ollama_with_image (truncated_b64)), 400 },
    { "api/generate", keep (owned, ollama_with_image ("iVBORw0KGgo*AAAA")), 400 },
    { "api/generate", keep (owned, ollama_with_image ("iVBO=RwA")), 400 },
    { "api/generate", keep (owned, ollama_with_image ("")), 400 },
    { "api/generate", keep (owned, ollama_with_image (text_b64)), 415 },
    { "api/generate", keep (owned, ollama_with_image (cut_png_b64)), 422 },
    { "api/generate", keep (owned, ollama_with_image (bomb_b64)), 413 },
    { "api/generate", "{\"prompt\": \"<CAPTION>\", \"images\": [5]}", 400 },
    { "api/generate", "{\"prompt\": \"<CAPTION>\", \"images\": [\"AAAA\", \"AAAA\"]}", 400 },
    { "api/generate", "{\"prompt\": \"<CAPTION>\"}", 400 },
    { "api/generate", "{\"prompt\": 7, \"images\": [\"AAAA\"]}", 400 },
    { "api/generate", "{\"prompt\": \"<CAPTION>\", \"images\": [\"AAAA\"], \"options\": []}", 400 },
    /* JSON */
    { "v1/chat/completions", "", 400 },
    { "v1/chat/completions", "{", 400 },
    { "v1/chat/completions", "[1, 2]", 400 },
    { "v1/chat/completions", "{\"messages\": \"hello\"}", 400 },
    { "v1/chat/completions", "{\"messages\": []}", 400 },
    { "v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": 5}]}", 400 },
    { "v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", 400 },
    { "v1/chat/completions",
      "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": "
      "\"audio\"}]}]}",
      400 },
    { "v1/chat/completions", deep, 400 },
    { "v1/depict/run", wide, 400 },
    { "v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": \"\\xff\"}]}",
      400 },
    { "v1/chat/completions",
      keep (owned, serve_test_chat_body ("<CAPTION>", "file:///etc/passwd", NULL)), 403 },
    { "v1/chat/completions",
      keep (owned, serve_test_chat_body ("<CAPTION>", "https://example.com/cat.jpg", NULL)), 400 },
    { "v1/chat/completions",
      keep (owned, serve_test_chat_body ("<FOO>", "data:image/png;base64,AAAA", NULL)), 400 },
    { "v1/chat/completions",
      keep (owned, serve_test_chat_body ("<OD> cats", "data:image/png;base64,AAAA", NULL)), 400 },
    { "v1/chat/completions",
      keep (owned, serve_test_chat_body ("<CAPTION>", "data:image/png,notbase64", NULL)), 400 },
    { "v1/chat/completions",
      keep (owned, serve_test_chat_body ("<CAPTION>", "data:image/png;base64,AAAA",
                                         ", \"max_tokens\": \"20\"")),
      400 },
    { "v1/chat/completions",
      keep (owned, serve_test_chat_body ("<CAPTION>", "data:image/png;base64,AAAA",
                                         ", \"stream\": \"yes\"")),
      400 },
    /* Depict's options */
    { "v1/depict/run", "{\"task\": \"<OD>\"}", 400 },
    { "v1/depict/run", "{\"image\": 5, \"task\": \"<OD>\"}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"path\": \"/tmp/x.png\", \"task\": \"<OD>\"}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"beams\": 99}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"beams\": 1.5}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"image_size\": 33}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"region\": [1, 2]}", 400 },
    { "v1/depict/run",
      "{\"image\": \"AAAA\", \"task\": \"<REGION_TO_DESCRIPTION>\", \"region\": [1, 2, \"x\", 4]}",
      400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"prompt_ids\": [-1]}", 400 },
    { "v1/depict/run", "{\"image\": \"AAAA\", \"task\": \"<OD>\", \"max_new_tokens\": 0}", 400 },
    { "v1/depict/run", "{\"path\": \"/etc/passwd\", \"task\": \"<OD>\"}", 403 },
    { "v1/depict/run", "{\"path\": \"relative.png\", \"task\": \"<OD>\"}", 403 },
  };
  g_autoptr (ServeTestReply) wrong_method = serve_test_http ("GET", "v1/chat/completions", NULL);
  g_autoptr (ServeTestReply) nowhere = serve_test_http ("GET", "v1/nowhere", NULL);
  g_autoptr (ServeTestReply) huge = post_huge (100 * 1024 * 1024, FALSE);
  g_autoptr (ServeTestReply) huge_chunked = post_huge (100 * 1024 * 1024, TRUE);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (ServeTestReply) reply = serve_test_http ("POST", cases[i].route, cases[i].body);
      g_test_message ("case %" G_GSIZE_FORMAT ": %u %s", i, reply->status, reply->body);
      serve_test_assert_error (reply, cases[i].status);
    }
  serve_test_assert_error (wrong_method, 405);
  serve_test_assert_error (nowhere, 404);
  g_assert_no_error (huge->error);
  serve_test_assert_error (huge, 413);
  g_assert_no_error (huge_chunked->error);
  serve_test_assert_error (huge_chunked, 413);

  /* And the server stays up and answers. */
  {
    g_autoptr (ServeTestReply) health = serve_test_http ("GET", "healthz", NULL);
    g_autofree char *url = serve_test_data_url (png, "image/png");
    g_autofree char *body = serve_test_chat_body ("<CAPTION>", url, ", \"max_tokens\": 5");
    g_autoptr (ServeTestReply) reply = serve_test_http ("POST", "v1/chat/completions", body);
    g_assert_cmpuint (health->status, ==, 200);
    g_assert_cmpuint (reply->status, ==, 200);
  }
}

/* ------------------------------------------------------------------------------------------ */
/* The queue, clients that go away                                                             */

/* 8 beams and 1024 tokens of the tiny model: half a minute, unless cancelled. */
static char *
long_run_body (void)
{
  g_autofree char *image = serve_test_image_path ("photo_640x480.png");
  return g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<CAPTION>\", \"beams\": 8, "
                          "\"max_new_tokens\": 1024}",
                          image);
}

static void
test_full_queue_and_disconnects (void)
{
  g_autofree char *body = long_run_body ();
  g_autofree char *image = serve_test_image_path ("photo_640x480.png");
  g_autofree char *short_body =
    g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<CAPTION>\", \"beams\": 1, "
                     "\"max_new_tokens\": 5}",
                     image);
  g_autofree char *before = serve_test_metrics_of (server);
  double cancelled = serve_test_metric (before, "depict_cancelled_total");
  g_autoptr (ServeTestPending) running = NULL, waiting = NULL;

  /* One runs, one waits (--queue 1), the next is refused. */
  running = serve_test_http_async (server, "v1/depict/run", body);
  serve_test_wait_metric (server, "depict_queue_running", 1);
  waiting = serve_test_http_async (server, "v1/depict/run", body);
  serve_test_wait_metric (server, "depict_queue_length", 1);
  {
    g_autoptr (ServeTestReply) refused = serve_test_http ("POST", "v1/depict/run", short_body);
    serve_test_assert_error (refused, 429);
    g_assert_nonnull (refused->retry_after);
    g_assert_cmpint (atoi (refused->retry_after), >=, 1);
  }

  /* The waiting client goes away: its job leaves the queue without running. */
  g_cancellable_cancel (waiting->cancellable);
  serve_test_wait_pending (waiting);
  g_assert_nonnull (waiting->reply.error);
  serve_test_wait_metric (server, "depict_cancelled_total", cancelled + 1);
  serve_test_wait_metric (server, "depict_queue_length", 0);

  /* The running client goes away: its run stops. */
  g_cancellable_cancel (running->cancellable);
  serve_test_wait_pending (running);
  g_assert_nonnull (running->reply.error);
  serve_test_wait_metric (server, "depict_cancelled_total", cancelled + 2);
  serve_test_wait_metric (server, "depict_queue_running", 0);

  {
    g_autoptr (ServeTestReply) next = serve_test_http ("POST", "v1/depict/run", short_body);
    g_assert_cmpuint (next->status, ==, 200);
  }
}

static void
test_token (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-serve-token-XXXXXX", NULL);
  g_autofree char *token_file = g_build_filename (dir, "token", NULL);
  const char *token = "Zm9vYmFyYmF6cXV4LXRlc3QtdG9rZW4";
  const char *args[] = { "--token-file", token_file, NULL };
  g_autoptr (ServeTestServer) secured = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *bearer = g_strdup_printf ("Bearer %s", token);
  g_autofree char *wrong = g_strdup_printf ("Bearer %.*sX", (int) strlen (token) - 1, token);

  g_assert_true (g_file_set_contents (token_file, token, -1, NULL));
  g_chmod (token_file, 0600);
  secured = serve_test_start (cli_path, args, FALSE, &error);
  g_assert_no_error (error);
  serve_test_use (secured);
  {
    g_autoptr (ServeTestReply) none = serve_test_http_auth ("GET", "v1/models", NULL, NULL);
    g_autoptr (ServeTestReply) bad = serve_test_http_auth ("GET", "v1/models", NULL, wrong);
    g_autoptr (ServeTestReply) basic =
      serve_test_http_auth ("GET", "metrics", NULL, "Basic dXNlcjpwYXNz");
    g_autoptr (ServeTestReply) good = serve_test_http_auth ("GET", "v1/models", NULL, bearer);
    g_autoptr (ServeTestReply) post = serve_test_http_auth ("POST", "api/generate", "{}", NULL);
    g_autoptr (ServeTestReply) health = serve_test_http_auth ("GET", "healthz", NULL, NULL);

    serve_test_assert_error (none, 401);
    g_assert_cmpstr (none->authenticate, ==, "Bearer");
    serve_test_assert_error (bad, 401);
    serve_test_assert_error (basic, 401);
    serve_test_assert_error (post, 401);
    g_assert_cmpuint (good->status, ==, 200);
    g_assert_cmpuint (health->status, ==, 200);
  }
  serve_test_use (server);
  g_assert_cmpint (serve_test_stop (secured), ==, 0);
  g_unlink (token_file);
  g_rmdir (dir);
}

static void
run_refused (const char *const *args, int want_status, const char *want_text)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (CliTestResult) r = { 0 };

  g_ptr_array_add (argv, (gpointer) "serve");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  r = cli_test_run ((const char *const *) argv->pdata, NULL, NULL);
  g_test_message ("%s", r.err);
  g_assert_cmpint (r.status, ==, want_status);
  g_assert_nonnull (strstr (r.err, want_text));
}

/* Safe by default: another address than loopback needs a token, and a real one. */
static void
test_listen_needs_token (void)
{
  g_autofree char *dir = g_dir_make_tmp ("depict-serve-token-XXXXXX", NULL);
  g_autofree char *short_token = g_build_filename (dir, "short", NULL);
  const char *open_args[] = { "--listen", "0.0.0.0:0", NULL };
  const char *short_args[] = { "--listen", "0.0.0.0:0", "--token-file", short_token, NULL };
  const char *bad_listen[] = { "--listen", "example.com:80", NULL };
  const char *bad_folder[] = { "--allow-folder", "/nonexistent/folder", NULL };

  g_assert_true (g_file_set_contents (short_token, "secret\n", -1, NULL));
  run_refused (open_args, 2, "--token-file");
  run_refused (short_args, 1, "shorter than");
  run_refused (bad_listen, 1, "127.0.0.1:8734");
  run_refused (bad_folder, 1, "/nonexistent/folder");
  g_unlink (short_token);
  g_rmdir (dir);
}

/* SIGTERM: the running request is answered, new ones are refused, then the server exits
 * (without waiting for a client that is still sending its request). */
static void
test_sigterm_finishes_work (void)
{
  g_autofree char *image = serve_test_image_path ("photo_640x480.png");
  g_autofree char *body =
    g_strdup_printf ("{\"path\": \"%s\", \"task\": \"<CAPTION>\", \"beams\": 1, "
                     "\"max_new_tokens\": 1024, \"image_size\": 768}",
                     image);
  const char *allow[] = { "--allow-folder", g_getenv ("DEPICT_TEST_DATA"), NULL };
  g_autoptr (ServeTestServer) stopping = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (ServeTestPending) work = NULL, late = NULL;
  g_autoptr (JsonNode) run = NULL;
  g_autoptr (GSocketConnection) slow = NULL;

  stopping = serve_test_start (cli_path, allow, FALSE, &error);
  g_assert_no_error (error);
  work = serve_test_http_async (stopping, "v1/depict/run", body);
  serve_test_wait_metric (stopping, "depict_queue_running", 1);
  /* A client that never finishes its request does not hold the server up. */
  {
    g_autoptr (GUri) uri = g_uri_parse (stopping->url, G_URI_FLAGS_NONE, &error);
    g_autoptr (GSocketClient) client = g_socket_client_new ();
    const char *partial = "POST /v1/depict/run HTTP/1.1\r\nHost: localhost\r\nContent-";
    g_assert_no_error (error);
    slow = g_socket_client_connect_to_host (client, g_uri_get_host (uri),
                                            (guint16) g_uri_get_port (uri), NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (slow)),
                                              partial, strlen (partial), NULL, NULL, &error));
  }
  g_subprocess_send_signal (stopping->process, SIGTERM);
  /* Once the signal is seen, /healthz says so (and needs no queue). */
  for (;;)
    {
      g_autoptr (ServeTestReply) health = NULL;
      serve_test_use (stopping);
      health = serve_test_http ("GET", "healthz", NULL);
      serve_test_use (server);
      if (health->status == 503)
        break;
      g_assert_cmpuint (health->status, ==, 200);
      g_usleep (20000);
    }
  late = serve_test_http_async (stopping, "v1/depict/run", body);
  serve_test_wait_pending (late);
  g_assert_no_error (late->reply.error);
  serve_test_assert_error (&late->reply, 503);

  serve_test_wait_pending (work);
  g_assert_no_error (work->reply.error);
  g_assert_cmpuint (work->reply.status, ==, 200);
  run = serve_test_parse_json (work->reply.body);
  g_assert_cmpuint (
    json_array_get_length (json_object_get_array_member (json_node_get_object (run), "token_ids")),
    ==, 1025);
  g_assert_true (g_subprocess_wait (stopping->process, NULL, NULL));
  g_assert_true (g_subprocess_get_if_exited (stopping->process));
  g_assert_cmpint (g_subprocess_get_exit_status (stopping->process), ==, 0);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  cli_path = g_getenv ("DEPICT_CLI");
  server = serve_test_setup (cli_path, (const char *const[]){ "--queue", "1", NULL });

  g_test_add_func ("/serve/bad-requests", test_bad_requests);
  g_test_add_func ("/serve/full-queue-and-disconnects", test_full_queue_and_disconnects);
  g_test_add_func ("/serve/token", test_token);
  g_test_add_func ("/serve/listen-needs-token", test_listen_needs_token);
  g_test_add_func ("/serve/sigterm-finishes-work", test_sigterm_finishes_work);
  status = g_test_run ();
  return serve_test_teardown (server, status);
}
