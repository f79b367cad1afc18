/* cli-commands.h: the list of depict-cli subcommands (an X-macro list, included twice by
 * depict-cli.c: no include guard on purpose)
 *
 * Add one line per subcommand, sorted by name:
 *   CLI_COMMAND ("name", N_("One-line summary"), cli_name_main)
 * and its cli-<name>.c file to src/cli/meson.build. That file defines
 *   int cli_name_main (int argc, char **argv);   (argv[0] is the subcommand name)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
CLI_COMMAND ("devices", N_ ("List the Vulkan devices Depict can run on"), cli_devices_main)
CLI_COMMAND ("download", N_ ("Download a model from the Hugging Face hub"), cli_download_main)
CLI_COMMAND ("export", N_ ("Export tags to XMP sidecars, or all results as JSON or CSV"),
             cli_export_main)
CLI_COMMAND ("forget", N_ ("Forget the photos whose files are gone from the gallery"),
             cli_forget_main)
CLI_COMMAND ("gallery", N_ ("Work on whole galleries: merge several into one"), cli_gallery_main)
CLI_COMMAND ("models", N_ ("List the models and where they are installed"), cli_models_main)
CLI_COMMAND ("parse", N_ ("Post-process generated text into a result (JSON)"), cli_parse_main)
CLI_COMMAND ("preprocess", N_ ("Print the model input of a picture (sizes and SHA-256)"),
             cli_preprocess_main)
CLI_COMMAND ("run", N_ ("Run a task on pictures and print the results"), cli_run_main)
CLI_COMMAND ("search", N_ ("Find photos in the gallery by what is in them"), cli_search_main)
CLI_COMMAND ("serve", N_ ("Answer other apps over HTTP (OpenAI, Ollama and Depict routes)"),
             cli_serve_main)
CLI_COMMAND ("show", N_ ("Show the stored results and tags of a photo"), cli_show_main)
CLI_COMMAND ("tag", N_ ("Tag photos in batch and keep the results in the gallery"), cli_tag_main)
CLI_COMMAND ("tags", N_ ("List and edit the tags of photos in the gallery"), cli_tags_main)
CLI_COMMAND ("tokenize", N_ ("Print the prompt of a task and its token ids (JSON)"),
             cli_tokenize_main)
