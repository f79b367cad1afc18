/* gallery-test-util.h: helpers shared by the gallery tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "gallery/gallery-store.h"
#include "gallery/gallery-tagger.h"

G_BEGIN_DECLS

/* A fresh temporary folder for one test (removed by gt_remove_tree). */
char *gt_make_temp_dir (void);
void gt_remove_tree (const char *path);
/* Path of a fixture image in tests/data/preprocess/images. */
char *gt_fixture_image (const char *name);
/* Copies a file; asserts on failure. */
void gt_copy_file (const char *from, const char *to);
/* A run with a parsed result given as JSON text. */
GalleryRun *gt_make_run (const char *task, const char *result_json);
/* Tagger options of the tests: model "florence-2-test", weights "0123abcd", 3 beams, 20 new
 * tokens, the given tasks and runner. */
GalleryTaggerOptions gt_tagger_options (const char *const *tasks, GalleryRunFunc run_func);
/* Executes SQL on a database file directly (asserts on failure). */
void gt_sqlite_exec_file (const char *db_path, const char *sql);
/* Bytes of a file (asserts). */
GBytes *gt_read_bytes (const char *path);
/* Writes a real PNG of width × height whose pixels depend on seed (asserts). */
void gt_write_png (const char *path, int width, int height, guint seed);

G_END_DECLS
