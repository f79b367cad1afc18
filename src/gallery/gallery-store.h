/* gallery-store.h: the SQLite store of images, runs, tags and their full-text index
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "gallery/gallery-run.h"

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
#define GALLERY_STORE_SCHEMA_VERSION 2

typedef enum {
  GALLERY_STORE_FLAGS_NONE = 0,
  GALLERY_STORE_READ_ONLY = 1 << 0, /* open existing database read-only, never create/migrate */
} GalleryStoreFlags;

typedef enum {
  GALLERY_TAG_SOURCE_LABEL = 0,     /* object labels: OD, dense captions, open vocabulary */
  GALLERY_TAG_SOURCE_GROUNDING = 1, /* phrase grounding */
  GALLERY_TAG_SOURCE_USER = 2,      /* added, renamed or removed by the person */
} GalleryTagSource;

/* A handle on the gallery. All the stores a process opens on one database share one SQLite
 * connection (one more, read-only, serves read-only stores while no writable one is open):
 * each call holds the connection for its duration, and a transaction (gallery_store_begin)
 * holds it until its commit or rollback, so the stores may be used from several threads.
 * Other processes wait for each other's writes (a busy timeout), and WAL lets readers go on
 * while one writes. */
typedef struct _GalleryStore GalleryStore;

typedef struct {
  gint64 id;
  char *hash;   /* SHA-256 of the file content, lowercase hex */
  gint64 size;  /* bytes */
  gint64 mtime; /* modification time (Unix seconds) at the most recent path */
  int width;    /* pixels as stored in the file, 0 = unknown */
  int height;
  int orientation; /* EXIF orientation 1–8 (1 = as stored) */
  gint64 added;    /* Unix seconds */
  GStrv paths;     /* absolute paths where this content was seen, most recent first */
} GalleryImage;

typedef struct {
  char *name; /* normalized: lower case, single spaces */
  GalleryTagSource source;
  gboolean removed; /* removed by the person: kept so that re-imports do not bring it back */
  gint64 run_id;    /* the run it came from, 0 for user tags */
} GalleryTag;

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

/* Adds the file at path (or finds it: a known path with unchanged size and mtime is not
 * hashed again; known content at a new path adds that path). Returns the image id, 0 on
 * error: a G_IO_ERROR when the photo cannot be read, a GALLERY_STORE_ERROR when the
 * database fails. */
gint64 gallery_store_add_image (GalleryStore *store, const char *path, GCancellable *cancellable,
                                GError **error);

GalleryImage *gallery_store_get_image (GalleryStore *store, gint64 image_id, GError **error);
/* Finds an image by path (known path first, else the file's content hash) or by a hash
 * prefix of at least 8 hex digits. GALLERY_STORE_ERROR_NOT_FOUND when unknown. */
GalleryImage *gallery_store_find_image (GalleryStore *store, const char *path_or_hash,
                                        GError **error);
/* All images (optionally those with a path below folder), most recently added first.
 * Returns a GPtrArray of GalleryImage. */
GPtrArray *gallery_store_list_images (GalleryStore *store, const char *folder, GError **error);
void gallery_image_free (GalleryImage *image);

/* Whether the image already has a run with the same task, input, model name, weights
 * hash and generation settings as key. */
gboolean gallery_store_has_run (GalleryStore *store, gint64 image_id, const GalleryRun *key,
                                gboolean *out_found, GError **error);
/* Stores a run of image_id, its tags and full-text entries, in one transaction. Sets
 * run->id and run->image_id. Returns the run id, 0 on error. */
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
void gallery_tag_free (GalleryTag *tag);
/* "label", "grounding", "user" */
const char *gallery_tag_source_to_string (GalleryTagSource source);
/* Normalized tag name, NULL when nothing is left. */
char *gallery_tag_normalize (const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryStore, gallery_store_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryImage, gallery_image_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GalleryTag, gallery_tag_free)

G_END_DECLS
