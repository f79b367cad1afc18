/* test-app-confidence.c: the scores in the app
 *
 * The overlay items carry the scores of the result; the control on the photo hides the
 * regions below its threshold, keeps a threshold per task and shows only for scored answers;
 * the result rows show each region's score and a text's confidence; the preferences keep the
 * minimum tag confidence as a fraction, and the runs the app starts take it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "app-test-util.h"
#include "depict-application.h"
#include "depict-confidence-filter.h"
#include "depict-overlay-item.h"
#include "depict-preferences.h"
#include "depict-results-pane.h"
#include "depict-window-private.h"

/* <OD> with four boxes: car 0.9, dog 0.3, tree 0.6, and a box without a score when SCORED
 * is false */
static FlorenceResult *
scored_result (gboolean scored)
{
  FlorenceResult *r = florence_result_new (FLORENCE_RESULT_BOXES, "<OD>", 640, 480);
  const char *labels[] = { "car", "dog", "tree" };
  const float scores[] = { 0.9f, 0.3f, 0.6f };

  for (guint i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      FlorenceBox box = { 10.0f * i, 10, 10.0f * i + 50, 60 };
      florence_result_add_box_scored (r, labels[i], &box, scored ? scores[i] : NAN);
    }
  r->has_scores = scored;
  return r;
}

static void
test_items_carry_scores (void)
{
  g_autoptr (FlorenceResult) r = scored_result (TRUE);
  g_autoptr (GListStore) items = depict_overlay_items_from_result (r);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (items)), ==, 3);
  g_autoptr (DepictOverlayItem) first = g_list_model_get_item (G_LIST_MODEL (items), 0);
  g_assert_cmpfloat_with_epsilon (depict_overlay_item_get_score (first), 0.9, 1e-6);

  g_autoptr (FlorenceResult) plain = scored_result (FALSE);
  g_autoptr (GListStore) unscored = depict_overlay_items_from_result (plain);
  g_autoptr (DepictOverlayItem) any = g_list_model_get_item (G_LIST_MODEL (unscored), 0);
  g_assert_cmpfloat (depict_overlay_item_get_score (any), <, 0);
}

static guint
n_shown (GListModel *model)
{
  return g_list_model_get_n_items (model);
}

static void
test_filter_per_task (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autoptr (FlorenceResult) r = scored_result (TRUE);
  g_autoptr (GListStore) items = depict_overlay_items_from_result (r);
  DepictConfidenceFilter *filter = g_object_ref_sink (depict_confidence_filter_new ());
  g_autoptr (GtkFilterListModel) shown =
    gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (items)),
                               g_object_ref (depict_confidence_filter_get_filter (filter)));

  g_settings_reset (settings, "confidence-thresholds");
  depict_confidence_filter_set_settings (filter, settings);
  depict_confidence_filter_set_answer (filter, "<OD>", G_LIST_MODEL (items));
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (filter)));
  g_assert_cmpuint (n_shown (G_LIST_MODEL (shown)), ==, 3);

  /* at 50 %: the dog (30 %) is hidden, the threshold kept for <OD> */
  depict_confidence_filter_set_threshold (filter, 0.5);
  g_assert_cmpuint (n_shown (G_LIST_MODEL (shown)), ==, 2);
  g_autoptr (GVariant) map = g_settings_get_value (settings, "confidence-thresholds");
  double kept = 0;
  g_assert_true (g_variant_lookup (map, "<OD>", "d", &kept));
  g_assert_cmpfloat_with_epsilon (kept, 0.5, 1e-9);

  /* another task has its own (none: everything shows), and <OD> gets its own back */
  depict_confidence_filter_set_answer (filter, "<DENSE_REGION_CAPTION>", G_LIST_MODEL (items));
  g_assert_cmpfloat (depict_confidence_filter_get_threshold (filter), ==, 0.0);
  g_assert_cmpuint (n_shown (G_LIST_MODEL (shown)), ==, 3);
  depict_confidence_filter_set_threshold (filter, 0.95);
  g_assert_cmpuint (n_shown (G_LIST_MODEL (shown)), ==, 0);
  depict_confidence_filter_set_answer (filter, "<OD>", G_LIST_MODEL (items));
  g_assert_cmpfloat_with_epsilon (depict_confidence_filter_get_threshold (filter), 0.5, 1e-9);
  g_assert_cmpuint (n_shown (G_LIST_MODEL (shown)), ==, 2);

  /* answers without scores: no control, every region shows */
  g_autoptr (FlorenceResult) plain = scored_result (FALSE);
  g_autoptr (GListStore) unscored = depict_overlay_items_from_result (plain);
  g_autoptr (GtkFilterListModel) all =
    gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (unscored)),
                               g_object_ref (depict_confidence_filter_get_filter (filter)));
  depict_confidence_filter_set_answer (filter, "<OD>", G_LIST_MODEL (unscored));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (filter)));
  g_assert_cmpuint (n_shown (G_LIST_MODEL (all)), ==, 3);
  g_settings_reset (settings, "confidence-thresholds");
  g_object_unref (filter);
}

/* The labels below WIDGET, joined with "|". */
static void
collect_labels (GtkWidget *widget, GString *out)
{
  if (GTK_IS_LABEL (widget))
    g_string_append_printf (out, "%s|", gtk_label_get_label (GTK_LABEL (widget)));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_labels (child, out);
}

static void
test_rows_show_scores (void)
{
  DepictResultsPane *pane = g_object_ref_sink (g_object_new (DEPICT_TYPE_RESULTS_PANE, NULL));
  g_autoptr (DepictAnswer) answer = depict_answer_new (NULL, NULL, scored_result (TRUE), "1 s");
  g_autoptr (GListStore) items = depict_overlay_items_from_result (answer->result);
  g_autoptr (GString) labels = g_string_new (NULL);

  depict_results_pane_show_answer (pane, "Objects", answer, G_LIST_MODEL (items));
  collect_labels (GTK_WIDGET (pane), labels);
  g_assert_nonnull (strstr (labels->str, "Confidence 90 %"));
  g_assert_nonnull (strstr (labels->str, "Confidence 30 %"));

  /* a caption's confidence beside what was run */
  FlorenceResult *caption = florence_result_new (FLORENCE_RESULT_TEXT, "<CAPTION>", 10, 10);
  florence_result_set_text (caption, "A car");
  caption->has_scores = TRUE;
  caption->text_score = 0.42f;
  g_autoptr (DepictAnswer) text = depict_answer_new (NULL, NULL, caption, "1 s");
  g_autoptr (GListStore) none = depict_overlay_items_from_result (caption);
  depict_results_pane_show_answer (pane, "Caption", text, G_LIST_MODEL (none));
  g_string_truncate (labels, 0);
  collect_labels (GTK_WIDGET (pane), labels);
  g_assert_nonnull (strstr (labels->str, "1 s · Confidence 42 %"));
  g_object_unref (pane);
}

/* The window: the photo shows the regions of at least the task's threshold; the list keeps
 * them all. */
static void
test_window (void)
{
  g_autoptr (DepictSession) session = app_test_session_new ();
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  g_autofree char *path = app_test_data_path ("preprocess", "images", "photo_640x480.png", NULL);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (DepictAnswer) answer = depict_answer_new (NULL, NULL, scored_result (TRUE), NULL);
  DepictWindow *window;

  g_settings_reset (settings, "confidence-thresholds");
  window = depict_window_new_for_session (session);
  depict_window_show_file (window, file, answer);
  GListModel *shown = depict_image_view_get_items (depict_window_get_image_view (window));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 3);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (window->confidence_filter)));

  depict_confidence_filter_set_threshold (window->confidence_filter, 0.7);
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (window->items)), ==, 3);
  /* the boxes toggle stays: boxes are only hidden by confidence */
  g_assert_true (gtk_widget_get_visible (window->boxes_toggle));

  /* shown again, the answer keeps the task's threshold */
  depict_window_show_file (window, file, answer);
  shown = depict_image_view_get_items (depict_window_get_image_view (window));
  g_assert_cmpuint (g_list_model_get_n_items (shown), ==, 1);
  g_settings_reset (settings, "confidence-thresholds");
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
test_preferences (void)
{
  g_autoptr (GSettings) settings = g_settings_new (DEPICT_SCHEMA_ID);
  DepictPreferencesWindow *window = depict_preferences_window_new (NULL, settings, NULL);
  GtkSpinButton *spin = depict_preferences_window_get_tag_confidence_spin (window);

  g_settings_set_double (settings, "min-tag-confidence", 0.25);
  g_assert_cmpfloat_with_epsilon (gtk_spin_button_get_value (spin), 25.0, 1e-9);
  gtk_spin_button_set_value (spin, 60.0);
  g_assert_cmpfloat_with_epsilon (g_settings_get_double (settings, "min-tag-confidence"), 0.6,
                                  1e-9);

  /* the runs the app starts take it, as depict-cli tag --min-confidence */
  g_autoptr (DepictSession) session = app_test_session_new ();
  g_autofree char *tiny = app_test_data_path ("models", "tiny", NULL);
  g_autoptr (GError) error = NULL;
  g_settings_set_string (settings, "model", tiny);
  g_autoptr (DepictRunSettings) run = depict_session_read_run_settings (session, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat_with_epsilon (run->min_tag_score, 0.6, 1e-9);
  g_settings_reset (settings, "model");
  g_settings_reset (settings, "min-tag-confidence");
  gtk_window_destroy (GTK_WINDOW (window));
}

int
main (int argc, char **argv)
{
  app_test_private_data_dir ();
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/app/confidence/items-carry-scores", test_items_carry_scores);
  app_test_init_gtk (&argc, &argv);
  g_test_add_func ("/app/confidence/filter-per-task", test_filter_per_task);
  g_test_add_func ("/app/confidence/rows-show-scores", test_rows_show_scores);
  g_test_add_func ("/app/confidence/window", test_window);
  g_test_add_func ("/app/confidence/preferences", test_preferences);
  return g_test_run ();
}
