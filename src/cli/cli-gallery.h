/* cli-gallery.h: helpers shared by the gallery subcommands of depict-cli (tag, search,
 * show, export)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>
#include <stdio.h>

#include "gallery/gallery-store.h"

G_BEGIN_DECLS

/* The subcommands (listed in cli-commands.h). */
int cli_tag_main (int argc, char **argv);
int cli_tags_main (int argc, char **argv);
int cli_search_main (int argc, char **argv);
int cli_show_main (int argc, char **argv);
int cli_export_main (int argc, char **argv);
int cli_forget_main (int argc, char **argv);

/* Opens the gallery at db_path (NULL = the default one); where another gallery file would
 * help, the error says that --db gives one. */
GalleryStore *cli_gallery_open (const char *db_path, gboolean read_only, GError **error);
/* "2024-05-01" (local midnight) or an ISO 8601 date and time → Unix seconds. */
gboolean cli_gallery_parse_date (const char *text, gint64 *out, GError **error);
/* A confidence (gallery-tag.h): "0.8" or "80%" → 0.8; from 0 to 1. */
gboolean cli_gallery_parse_confidence (const char *text, double *out, GError **error);
/* The image ids named by args (files known to the gallery, or folders: the images below
 * them); all images when args is empty. */
GArray *cli_gallery_select_images (GalleryStore *store, char **args, int n_args, GError **error);
/* text as it may be printed to out: when out is a terminal, control characters (escape
 * sequences, CR, newlines), invalid UTF-8 and the bidirectional overrides (U+202A–U+202E,
 * U+2066–U+2069) are shown escaped ("\x1b", "\r", "\n", "\u202e"), so that a file name or
 * a tag cannot retitle or recolour the terminal or hide what follows; elsewhere (a pipe, a
 * file) it is unchanged. The string lives until the 8th next call from the same thread. */
const char *cli_gallery_safe (FILE *out, const char *text);
/* Prints path (or any text) to out through cli_gallery_safe(). */
void cli_print_path (FILE *out, const char *path);
/* The paths named by args, each with its image: a file known to the gallery is that path; a
 * folder gives the paths below it of the images there; no args give every image with all its
 * paths (path NULL). A GPtrArray of CliImagePath. */
typedef struct {
  gint64 image_id;
  char *path; /* NULL: all the image's paths */
} CliImagePath;
GPtrArray *cli_gallery_select_paths (GalleryStore *store, char **args, int n_args, GError **error);
/* Writes a whole text to stdout, or atomically to path when not NULL. */
gboolean cli_gallery_write_output (const char *path, const char *data, gsize length,
                                   GError **error);

G_END_DECLS
