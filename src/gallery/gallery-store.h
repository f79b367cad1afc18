/* gallery-store.h: the SQLite store of images, runs, tags and their full-text index
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "gallery/gallery-run.h"
#include "gallery/gallery-tag.h"
#include "image/image-rgb.h"

G_BEGIN_DECLS

#define GALLERY_STORE_ERROR (gallery_store_error_quark ())

typedef enum {
  GALLERY_STORE_ERROR_FAILED,
  GALLERY_STORE_ERROR_NOT_A_DATABASE, /* the file is not a SQLite database at all */
  GALLERY_STORE_ERROR_FOREIGN,        /* a SQLite database, but not a Depict gallery */
  GALLERY_STORE_ERROR_TOO_NEW,        /* written by a newer Depict (schema version unknown) */
  GALLERY_STORE_ERROR_CORRUPT,        /* a Depict gallery whose pages are damaged */
  GALLERY_STORE_ERROR_READ_ONLY,      /* the database (or its folder) cannot be written */
  GALLERY_STORE_ERROR_FULL,           /* the disk (or the database size limit) is full */
  GALLERY_STORE_ERROR_BUSY,           /* another program holds the database locked */
  GALLERY_STORE_ERROR_IO,             /* reading or writing a file failed */
  GALLERY_STORE_ERROR_NOT_FOUND,      /* no such image or tag in the gallery */
  GALLERY_STORE_ERROR_INVALID,        /* a bad argument (empty tag name, …) */
  GALLERY_STORE_ERROR_NO_LOCKS,       /* the file system cannot lock files (a network share) */
} GalleryStoreError;

/* PRAGMA application_id of every Depict gallery ("DPCT"). A SQLite file with another
 * application id is somebody else's and is never touched. */
#define GALLERY_STORE_APPLICATION_ID 0x44504354
/* PRAGMA user_version written by this code. Older versions are migrated forward at open. */
#define GALLERY_STORE_SCHEMA_VERSION 6

typedef enum {
  GALLERY_STORE_FLAGS_NONE = 0,
  GALLERY_STORE_READ_ONLY = 1 << 0, /* open existing database read-only, never create/migrate */
} GalleryStoreFlags;

/* A handle on the gallery. All the stores a process opens on one database share one SQLite
 * connection (one more, read-only, serves read-only stores while no writable one is open):
 * each call holds the connection for its duration, and a transaction (gallery_store_begin)
 * holds it until its commit or rollback, so the stores may be used from several threads.
 * Other processes wait for each other's writes (a busy timeout), and WAL lets readers go on
 * while one writes. */
typedef struct _GalleryStore GalleryStore;

typedef struct {
  gint64 id;
  char *hash;   /* SHA-256 of the file as it was first added, lowercase hex */
  gint64 size;  /* bytes */
  gint64 mtime; /* modification time (Unix seconds) at the most recent path */
  int width;    /* pixels as stored in the file, 0 = unknown */
  int height;
  int orientation;  /* EXIF orientation 1–8 (1 = as stored) */
  gint64 added;     /* Unix seconds */
  GStrv paths;      /* absolute paths where the photo was seen: those whose file is still there
                     * first, then the most recent first */
  char *pixels;     /* its identity (gallery-identity.h); NULL for a photo of an older gallery
                     * not seen since */
  gboolean missing; /* none of its files is left (gallery_store_check_files) */
} GalleryImage;

GQuark gallery_store_error_quark (void);

/* $XDG_DATA_HOME/depict/gallery.db */
char *gallery_store_default_path (void);

/* Opens (creating when needed) the gallery at path (NULL = the default path): WAL mode,
 * foreign keys on, a busy timeout, migrations to GALLERY_STORE_SCHEMA_VERSION. A file that
 * is not a SQLite database, a SQLite database of another application, or one written by a
 * newer version gives an error and is left byte for byte untouched, with no -wal or -shm
 * made beside it. Opening a database this process already has open shares its connection;
 * close every store with gallery_store_close(). */
GalleryStore *gallery_store_open (const char *path, GError **error);
GalleryStore *gallery_store_open_full (const char *path, GalleryStoreFlags flags, GError **error);
void gallery_store_close (GalleryStore *store);
const char *gallery_store_get_path (GalleryStore *store);

/* Groups several writes in one transaction (nestable). Every write function below is
 * already atomic on its own. */
gboolean gallery_store_begin (GalleryStore *store, GError **error);
gboolean gallery_store_commit (GalleryStore *store, GError **error);
void gallery_store_rollback (GalleryStore *store);

/* Checks the database's pages (PRAGMA quick_check): GALLERY_STORE_ERROR_CORRUPT with a
 * sentence when it is damaged. Batch writers call it before their first write. */
gboolean gallery_store_check (GalleryStore *store, GError **error);

/* SHA-256 of a file, read in chunks (lowercase hex). */
char *gallery_store_hash_file (const char *path, gint64 *out_size, GCancellable *cancellable,
                               GError **error);

/* Adds the photo at path, or finds it: a known path with unchanged size and time is not
 * read again; a file content seen before (a copy, a move) is not decoded; other files are
 * decoded and known by their pixels (gallery-identity.h), so a metadata edit finds the same
 * photo and a new photo is added. picture (nullable) is the file already decoded by
 * image_load(): then it is not decoded again. out_picture (nullable) receives the picture when
 * this call had to decode the file (NULL otherwise), for the model to run on. Returns the image id,
 * 0 on error: a G_IO_ERROR or IMAGE_ERROR with a sentence naming the file when it cannot be
 * read or is not a photo (nothing is stored then), a GALLERY_STORE_ERROR when the database
 * fails. */
gint64 gallery_store_add_image_full (GalleryStore *store, const char *path, const ImageRgb *picture,
                                     ImageRgb **out_picture, GCancellable *cancellable,
                                     GError **error);
gint64 gallery_store_add_image (GalleryStore *store, const char *path, GCancellable *cancellable,
                                GError **error);

/* What decoding a photo tells the gallery about it (gallery_image_identity_init() makes it
 * from a decoded picture; the batch pipeline does so on its worker threads). */
typedef struct {
  char *pixels; /* gallery_identity_of_picture() */
  int width;    /* as stored in the file (ImageRgb's original_width) */
  int height;
  int orientation; /* EXIF orientation 1–8 */
} GalleryImageIdentity;

void gallery_image_identity_init (GalleryImageIdentity *identity, const ImageRgb *picture);
void gallery_image_identity_clear (GalleryImageIdentity *identity);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GalleryImageIdentity, gallery_image_identity_clear)

/* For a batch that decodes photos on other threads: finds the photo at path without decoding
 * it (a known path with unchanged size and time, or a file content seen before, whose path is
 * then recorded). out_image_id receives its id, 0 for new content; out_needs_pixels is TRUE
 * when the photo must still be decoded to be known (new content, or a photo of an older
 * gallery): then call gallery_store_add_image_identified() with what the decode gave. */
gboolean gallery_store_find_known_image (GalleryStore *store, const char *path,
                                         gint64 *out_image_id, gboolean *out_needs_pixels,
                                         GCancellable *cancellable, GError **error);
/* gallery_store_add_image_full() with the picture's identity instead of the picture. */
gint64 gallery_store_add_image_identified (GalleryStore *store, const char *path,
                                           const GalleryImageIdentity *identity,
                                           GCancellable *cancellable, GError **error);

GalleryImage *gallery_store_get_image (GalleryStore *store, gint64 image_id, GError **error);
/* Finds an image by path (a known path first, else the file's content, else its pixels) or
 * by a prefix of at least 8 hex digits of its hash or pixels. GALLERY_STORE_ERROR_NOT_FOUND
 * when unknown. */
GalleryImage *gallery_store_find_image (GalleryStore *store, const char *path_or_hash,
                                        GError **error);
/* All images (optionally those with a path below folder), most recently added first.
 * Returns a GPtrArray of GalleryImage. */
GPtrArray *gallery_store_list_images (GalleryStore *store, const char *folder, GError **error);
void gallery_image_free (GalleryImage *image);

/* Looks whether the file of every path of the gallery (below folder, NULL = all) is still
 * there and records it: an image none of whose files is left is missing, and searches leave
 * it out. out_gone (nullable) receives the number of paths whose file is gone. */
gboolean gallery_store_check_files (GalleryStore *store, const char *folder, guint *out_gone,
                                    GCancellable *cancellable, GError **error);
/* The missing images (as of the last check), most recently added first. */
GPtrArray *gallery_store_list_missing (GalleryStore *store, GError **error);
/* Removes the missing images with their runs and tags, and the paths whose file is gone of
 * the others. out_images and out_paths (nullable) receive how many went. */
gboolean gallery_store_forget_missing (GalleryStore *store, guint *out_images, guint *out_paths,
                                       GError **error);

/* Removes the photos image_ids (n_ids of them) from the gallery, with their runs and tags, in
 * one transaction; their files are not touched. Ids no longer in the gallery are passed
 * over. out_forgotten (nullable) receives how many went. */
gboolean gallery_store_forget_images (GalleryStore *store, const gint64 *image_ids, guint n_ids,
                                      guint *out_forgotten, GError **error);

/* A photo has at most one run per task, text input, weights hash and generation settings
 * (num_beams, max_new_tokens): its key. The model's name is not part of it, so that a run is
 * recognised whichever front end named the model; a run without a weights hash is keyed by
 * its model's name instead. */

/* Whether the image already has a run with the key of key. */
gboolean gallery_store_has_run (GalleryStore *store, gint64 image_id, const GalleryRun *key,
                                gboolean *out_found, GError **error);

typedef enum {
  GALLERY_RUN_REPLACE,       /* a run with the same key is replaced (the person ran it again) */
  GALLERY_RUN_KEEP_EXISTING, /* a run with the same key stays (another tagger was first) */
} GalleryRunConflict;

/* Stores a run of image_id, its tags and full-text entries, in one transaction; a run with
 * the same key is replaced or kept as on_conflict says, never duplicated. Sets run->id and
 * run->image_id to the stored run (the existing one when kept). out_stored (nullable): FALSE
 * when an existing run was kept. Returns the run id, 0 on error. */
gint64 gallery_store_put_run (GalleryStore *store, gint64 image_id, GalleryRun *run,
                              GalleryRunConflict on_conflict, gboolean *out_stored, GError **error);
/* gallery_store_put_run (…, GALLERY_RUN_REPLACE, …) */
gint64 gallery_store_add_run (GalleryStore *store, gint64 image_id, GalleryRun *run,
                              GError **error);
/* The runs of an image, oldest first (GPtrArray of GalleryRun). */
GPtrArray *gallery_store_list_runs (GalleryStore *store, gint64 image_id, GError **error);
/* Number of stored runs (all images). -1 on error. */
gint64 gallery_store_count_runs (GalleryStore *store, GError **error);

/* Tags. Names are normalized (trimmed, lower case, runs of white space to one space).
 * A removed tag stays removed when a run that proposes it is stored again. */
gboolean gallery_store_add_tag (GalleryStore *store, gint64 image_id, const char *name,
                                GError **error);
gboolean gallery_store_remove_tag (GalleryStore *store, gint64 image_id, const char *name,
                                   GError **error);
/* image_id 0 renames the tag on every image that has it. */
gboolean gallery_store_rename_tag (GalleryStore *store, gint64 image_id, const char *old_name,
                                   const char *new_name, GError **error);
/* GPtrArray of GalleryTag, sorted by name. */
GPtrArray *gallery_store_list_tags (GalleryStore *store, gint64 image_id, gboolean include_removed,
                                    GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryStore, gallery_store_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryImage, gallery_image_free)

G_END_DECLS
