/* app-test-util.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdlib.h>

#include "app-test-util.h"
#include "depict-application.h"
#include "florence/text/florence-postprocess.h"

void
app_test_private_data_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("depict-app-test-XXXXXX", &error);

  g_assert_no_error (error);
  g_setenv ("XDG_DATA_HOME", dir, TRUE);
  /* Left for the system's temporary-file cleaning: a failed test's files can be looked at. */
  g_free (dir);
}

void
app_test_init_gtk (int *argc, char ***argv)
{
  if (!gtk_init_check ())
    {
      g_printerr ("No display: the app tests need one (run them under xvfb-run). Skipped.\n");
      exit (77);
    }
  adw_init ();
  depict_application_ensure_resources ();
  /* What AdwApplication does for the real app: load style.css from the resources. */
  {
    g_autoptr (GtkCssProvider) provider = gtk_css_provider_new ();

    gtk_css_provider_load_from_resource (provider, RESOURCE_PREFIX "/style.css");
    gtk_style_context_add_provider_for_display (gdk_display_get_default (),
                                                GTK_STYLE_PROVIDER (provider),
                                                GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  }
}

char *
app_test_data_path (const char *first, ...)
{
  const char *root = g_getenv ("DEPICT_TEST_DATA");
  g_autoptr (GPtrArray) parts = g_ptr_array_new ();
  va_list args;

  g_assert_nonnull (root);
  g_ptr_array_add (parts, (gpointer) root);
  va_start (args, first);
  for (const char *p = first; p != NULL; p = va_arg (args, const char *))
    g_ptr_array_add (parts, (gpointer) p);
  va_end (args);
  g_ptr_array_add (parts, NULL);
  return g_build_filenamev ((char **) parts->pdata);
}

JsonNode *
app_test_load_json (const char *path)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

FlorenceResult *
app_test_postprocess_result (const char *name)
{
  g_autofree char *path = app_test_data_path ("postprocess", "cases.json", NULL);
  g_autoptr (JsonNode) root = app_test_load_json (path);
  JsonArray *cases = json_object_get_array_member (json_node_get_object (root), "cases");

  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);

      if (g_str_equal (json_object_get_string_member (c, "name"), name))
        {
          JsonArray *size = json_object_get_array_member (c, "image_size");
          FlorenceResult *result = florence_postprocess_for_token (
            json_object_get_string_member (c, "task"), json_object_get_string_member (c, "text"),
            json_array_get_int_element (size, 0), json_array_get_int_element (size, 1));

          g_assert_nonnull (result);
          return result;
        }
    }
  g_error ("No post-processing case %s", name);
  return NULL;
}

DepictAnswer *
app_test_answer (const char *name, const char *info)
{
  return depict_answer_new (NULL, NULL, app_test_postprocess_result (name), info);
}

DepictSession *
app_test_session_new (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);

  return depict_session_new (settings, NULL);
}

DepictWindow *
app_test_window_new (DepictSession *session)
{
  DepictWindow *window = depict_window_new_for_session (session);

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 700);
  gtk_window_present (GTK_WINDOW (window));
  app_test_spin (50);
  return window;
}

void
app_test_window_close (DepictWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_spin (20);
}

/* The JPEG fixture cut after half of its bytes, as a copy that stopped, in DIR. */
char *
app_test_write_half_jpeg (const char *dir)
{
  g_autofree char *whole =
    app_test_data_path ("preprocess", "images", "photo_1500x1000_q90.jpg", NULL);
  g_autofree char *data = NULL;
  char *path = g_build_filename (dir, "half.jpg", NULL);
  gsize length = 0;

  g_assert_true (g_file_get_contents (whole, &data, &length, NULL));
  g_assert_true (g_file_set_contents (path, data, (gssize) (length / 2), NULL));
  return path;
}

/* A copy of the tiny model whose weights file lost its second half. */
char *
app_test_damaged_model_dir (void)
{
  g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);
  char *dir = g_dir_make_tmp ("depict-damaged-model-XXXXXX", NULL);
  const char *names[] = { "config.json", "generation_config.json", "preprocessor_config.json" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *from = g_build_filename (tiny, names[i], NULL);
      g_autofree char *to = g_build_filename (dir, names[i], NULL);
      g_autofree char *data = NULL;
      gsize length = 0;

      g_assert_true (g_file_get_contents (from, &data, &length, NULL));
      g_assert_true (g_file_set_contents (to, data, (gssize) length, NULL));
    }
  {
    g_autofree char *from = g_build_filename (tiny, "model.safetensors", NULL);
    g_autofree char *to = g_build_filename (dir, "model.safetensors", NULL);
    g_autofree char *data = NULL;
    gsize length = 0;

    g_assert_true (g_file_get_contents (from, &data, &length, NULL));
    g_assert_true (g_file_set_contents (to, data, (gssize) (length / 2), NULL));
  }
  return dir;
}

void
app_test_remove_model_dir (const char *dir)
{
  const char *names[] = { "config.json", "generation_config.json", "preprocessor_config.json",
                          "model.safetensors" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

void
app_test_wait (gboolean (*cond) (gpointer data), gpointer data, guint timeout_ms, const char *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);

  while (!cond (data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (id);
  if (!cond (data))
    g_error ("Timed out after %u ms waiting for %s", timeout_ms, what);
}

void
app_test_spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

GtkWidget *
app_test_find_button (GtkWidget *widget, const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = app_test_find_button (child, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}
