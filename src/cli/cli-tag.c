/* cli-tag.c: depict-cli tag — run tasks on a photo library and keep the results in the
 * gallery, skipping what is already done, with progress, interruption (Ctrl-C) and resume
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli-gallery.h"
#include "cli-options.h"
#include "cli-shard.h"
#include "depict-cli.h"
#include "florence/hub/florence-hub.h"
#include "florence/model/florence-limits.h"
#include "florence/model/florence-model-dir.h"
#include "florence/model/florence-model.h"
#include "gallery/gallery-tagger-async.h"
#include "image/image-thumbnail-cache.h"

/* ------------------------------------------------------------------------------------------ */
/* The batch in a worker thread (gallery-tagger-async.h); the main loop handles Ctrl-C         */

typedef struct {
  GCancellable *cancellable;
  GMainLoop *loop;
  GalleryTaggerSummary summary;
  GError *error;
  gboolean ok;
  gboolean tty;
  gboolean quiet;
  gint64 last_print;
  guint interrupts;
} Job;

static void
on_progress (const GalleryTaggerProgress *progress, gpointer user_data)
{
  Job *job = user_data;
  g_autofree char *line = NULL;
  gint64 now = g_get_monotonic_time ();

  if (job->quiet)
    return;
  /* On a terminal, one line rewritten in place; in a log, a line every few seconds. */
  if (!job->tty && progress->done < progress->total && now - job->last_print < 5 * G_USEC_PER_SEC)
    return;
  job->last_print = now;
  line = gallery_tagger_format_progress (progress);
  if (job->tty)
    g_printerr ("\r\033[K%s", line);
  else
    g_printerr ("%s\n", line);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Job *job = user_data;

  job->ok = gallery_tagger_run_finish (result, &job->summary, &job->error);
  g_main_loop_quit (job->loop);
}

static gboolean
on_interrupt (gpointer data)
{
  Job *job = data;

  if (job->interrupts++ == 0)
    {
      g_printerr ("\n%s\n", _ ("Stopping… The photo in progress will be done again next time "
                               "(press Ctrl-C again to quit at once)."));
      g_cancellable_cancel (job->cancellable);
      return G_SOURCE_CONTINUE;
    }
  _exit (130);
}

static void
print_summary (const GalleryTaggerSummary *s)
{
  g_autoptr (GString) line = g_string_new (NULL);
  g_autofree char *seconds = gallery_tagger_format_duration (s->seconds);

  g_string_append_printf (
    line, g_dngettext (GETTEXT_PACKAGE, "Tagged %u photo", "Tagged %u photos", s->processed),
    s->processed);
  g_string_append_printf (
    line, g_dngettext (GETTEXT_PACKAGE, " (%u result) in %s", " (%u results) in %s", s->runs_added),
    s->runs_added, seconds);
  g_string_append_printf (line, _ ("; %u already done, %u failed, %u in all."), s->skipped,
                          s->failed, s->total);
  g_printerr ("%s\n", line->str);
  for (guint i = 0; s->failures != NULL && i < s->failures->len; i++)
    g_printerr ("  %s\n", cli_gallery_safe (stderr, g_ptr_array_index (s->failures, i)));
}

int
cli_tag_main (int argc, char **argv)
{
  g_autofree char *model_arg = NULL;
  g_autofree char *tokenizer_dir = NULL;
  g_autofree char *device = NULL;
  g_autofree char *vulkan_device = NULL;
  g_autofree char *tasks_arg = NULL;
  g_autofree char *text = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *shard_arg = NULL;
  g_autofree char *files_from = NULL;
  g_autofree char *min_confidence = NULL;
  int beams = 0, max_new_tokens = 0;
  gboolean recursive = FALSE, redo = FALSE, quiet = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_arg,
      N_ ("The model folder, or the name of an installed model (default: the first installed)"),
      N_ ("DIR") },
    { "tasks", 't', 0, G_OPTION_ARG_STRING, &tasks_arg,
      N_ ("Tasks to run, separated by commas (default caption,od,ocr)"), N_ ("TASKS") },
    { "text", 0, 0, G_OPTION_ARG_STRING, &text,
      N_ ("The text input of tasks that take one (grounding, open-vocabulary detection)"),
      N_ ("TEXT") },
    { "recursive", 'r', 0, G_OPTION_ARG_NONE, &recursive, N_ ("Also tag the photos in sub-folders"),
      NULL },
    { "db", 0, 0, G_OPTION_ARG_FILENAME, &db_path,
      N_ ("The gallery database (default $XDG_DATA_HOME/depict/gallery.db)"), N_ ("PATH") },
    { "beams", 'b', 0, G_OPTION_ARG_INT, &beams, N_ ("Beams of the search (default 3)"), N_ ("N") },
    { "max-new-tokens", 0, 0, G_OPTION_ARG_INT, &max_new_tokens,
      N_ ("Most tokens to generate (default 1024)"), N_ ("N") },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &device,
      N_ ("Where to run: auto, cpu, cpu-reference, vulkan, or a Vulkan device by number or "
          "part of its name, as “depict-cli devices” lists them (default auto)"),
      N_ ("DEVICE") },
    { "tokenizer", 0, 0, G_OPTION_ARG_FILENAME, &tokenizer_dir,
      N_ ("A folder with tokenizer.json, when the model folder has none"), N_ ("DIR") },
    { "min-confidence", 0, 0, G_OPTION_ARG_STRING, &min_confidence,
      N_ ("Keep as tags only what the model is at least this sure of, from 0 to 1 (default 0: "
          "every tag); the results keep everything"),
      N_ ("SCORE") },
    { "redo", 0, 0, G_OPTION_ARG_NONE, &redo, N_ ("Run again what is already done"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, N_ ("No progress line"), NULL },
    { "shard", 0, 0, G_OPTION_ARG_STRING, &shard_arg,
      N_ ("Tag only share K of N of the photos, chosen by their content (K from 0 to N-1), or "
          "auto: the share of this Slurm array task or Kubernetes Indexed Job pod"),
      N_ ("K/N") },
    { "files-from", 0, 0, G_OPTION_ARG_FILENAME, &files_from,
      N_ ("Also tag the files listed in FILE, one a line or separated by NUL bytes (- for "
          "standard input)"),
      N_ ("FILE") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (_ ("DIR|FILE…"));
  g_autoptr (GError) error = NULL;
  g_autoptr (GalleryStore) store = NULL;
  g_autoptr (FlorenceModel) model = NULL;
  g_autoptr (GalleryPipeline) pipeline = NULL; /* freed before the model */
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_auto (GStrv) tasks = NULL;
  g_autoptr (GPtrArray) selected = NULL;
  g_autoptr (GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  const char *const *paths = (const char *const *) argv + 1;
  g_auto (GStrv) environment = g_get_environ ();
  CliShard shard = { 0 };
  g_autofree char *model_dir = NULL;
  const char *hash = NULL;
  FlorenceModelOptions model_options = { FLORENCE_DEVICE_AUTO, NULL };
  GalleryTaggerOptions options = { 0 };
  Job job = { 0 };
  guint sigint, sigterm;
  int status;

  g_option_context_set_summary (context,
                                _ ("Runs tasks on photos and keeps the results in the gallery. "
                                   "Photos already done with the same model and settings are "
                                   "skipped, so an interrupted run continues where it "
                                   "stopped."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!cli_options_parse (context, &argc, &argv, &error))
    return cli_fail (g_steal_pointer (&error));
  if (argc < 2 && files_from == NULL)
    {
      g_printerr ("%s\n", _ ("depict-cli tag: give at least one folder or photo. See --help."));
      return 2;
    }
  if (!florence_limits_check (NULL, beams, max_new_tokens, 0, &error))
    {
      g_printerr ("depict-cli tag: %s\n", error->message);
      return 2;
    }
  if (min_confidence != NULL &&
      !cli_gallery_parse_confidence (min_confidence, &options.min_tag_score, &error))
    {
      g_printerr ("depict-cli tag: %s\n", error->message);
      return 2;
    }
  tasks = tasks_arg != NULL ? gallery_tagger_parse_tasks (tasks_arg, &error)
                            : g_strdupv ((char **) gallery_tagger_default_tasks ());
  if (tasks == NULL)
    return cli_fail (g_steal_pointer (&error));
  if (device != NULL &&
      !florence_device_parse (device, &model_options.device, &vulkan_device, &error))
    {
      g_printerr ("depict-cli tag: %s\n", error->message);
      return 2;
    }
  model_options.vulkan_device = vulkan_device;
  if (shard_arg != NULL &&
      !cli_shard_parse (shard_arg, (const char *const *) environment, &shard, &error))
    {
      g_printerr ("depict-cli tag: %s\n", error->message);
      return 2;
    }

  /* The database first: a damaged or foreign file stops here, before the model loads. */
  store = cli_gallery_open (db_path, FALSE, &error);
  if (store == NULL)
    return cli_fail (g_steal_pointer (&error));
  if ((model_dir = florence_model_dir_resolve (model_arg, &error)) == NULL)
    return cli_fail (g_steal_pointer (&error));
  model_options.tokenizer_dir = tokenizer_dir;
  model = florence_model_load (model_dir, &model_options, &error);
  if (model == NULL || (hash = florence_model_get_weights_hash (model, &error)) == NULL)
    return cli_fail (g_steal_pointer (&error));

  /* Each photo decoded once, ahead of the model, and its features shared by the tasks; the
   * gallery's thumbnail comes from the same decode. */
  pipeline = gallery_pipeline_new (&(GalleryPipelineOptions){
    .model = model, .thumbnail_size = IMAGE_THUMBNAIL_CACHE_LARGE, .save_thumbnails = TRUE });
  options.model_name = florence_model_get_config (model)->name;
  options.weights_hash = hash;
  options.num_beams = beams > 0 ? beams : FLORENCE_LIMITS_DEFAULT_BEAMS;
  options.max_new_tokens =
    max_new_tokens > 0 ? max_new_tokens : FLORENCE_LIMITS_DEFAULT_MAX_NEW_TOKENS;
  options.tasks = (const char *const *) tasks;
  options.text_input = text;
  options.recursive = recursive;
  options.redo = redo;
  options.pipeline = pipeline;
  options.progress_func = on_progress;
  options.progress_data = &job;

  /* A share of the photos, or a list from elsewhere: the photos are chosen here and the
   * tagger gets them as files. */
  if (shard.count > 0 || files_from != NULL)
    {
      selected = cli_shard_select (paths, files_from, recursive, &shard, problems, NULL, &error);
      if (selected == NULL)
        return cli_fail (g_steal_pointer (&error));
      for (guint i = 0; i < problems->len; i++)
        g_printerr ("depict-cli tag: %s\n", (char *) g_ptr_array_index (problems, i));
      g_ptr_array_add (selected, NULL);
      paths = (const char *const *) selected->pdata;
    }

  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();
  job.cancellable = cancellable;
  job.loop = loop;
  job.tty = isatty (fileno (stderr));
  job.quiet = quiet;
  sigint = g_unix_signal_add (SIGINT, on_interrupt, &job);
  sigterm = g_unix_signal_add (SIGTERM, on_interrupt, &job);
  gallery_tagger_run_async (store, &options, paths, cancellable, on_done, &job);
  g_main_loop_run (loop);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  if (job.tty && !quiet)
    g_printerr ("\n");

  print_summary (&job.summary);
  if (job.summary.cancelled)
    {
      g_printerr ("%s\n", _ ("Interrupted. Run the same command again to continue where it "
                             "stopped."));
      status = 130;
    }
  else if (!job.ok)
    status = cli_fail (g_steal_pointer (&job.error));
  else
    status = job.summary.failed > 0 || job.summary.unreadable > 0 || problems->len > 0 ? 1 : 0;
  g_clear_error (&job.error);
  gallery_tagger_summary_clear (&job.summary);
  return status;
}
