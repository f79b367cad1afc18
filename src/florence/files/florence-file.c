/* florence-file.c: opening the files of a model folder safely
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "florence/files/florence-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static void
set_errno_error (GError **error, int saved_errno, const char *path)
{
  g_autofree char *name = g_filename_display_name (path);

  g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
               _ ("Could not open “%s”: %s"), name, g_strerror (saved_errno));
}

int
florence_file_open_regular (const char *path, goffset *size, GError **error)
{
  struct stat st;
  int fd, flags;

  g_return_val_if_fail (path != NULL, -1);

  /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      set_errno_error (error, errno, path);
      return -1;
    }
  if (fstat (fd, &st) != 0)
    {
      set_errno_error (error, errno, path);
      g_close (fd, NULL);
      return -1;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_autofree char *name = g_filename_display_name (path);

      if (S_ISDIR (st.st_mode))
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR, _ ("“%s” is a folder, not a file"),
                     name);
      else
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                     _ ("“%s” is not a regular file (it is a named pipe, a device or a socket)"),
                     name);
      g_close (fd, NULL);
      return -1;
    }
  flags = fcntl (fd, F_GETFL);
  if (flags < 0 || fcntl (fd, F_SETFL, flags & ~O_NONBLOCK) != 0)
    {
      set_errno_error (error, errno, path);
      g_close (fd, NULL);
      return -1;
    }
  if (size != NULL)
    *size = st.st_size;
  return fd;
}

static void
set_too_big_error (GError **error, const char *path, gsize max_size)
{
  g_autofree char *name = g_filename_display_name (path);
  g_autofree char *limit = g_format_size_full (max_size, G_FORMAT_SIZE_IEC_UNITS);

  g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
               _ ("“%s” is larger than %s, more than such a file can be"), name, limit);
}

gboolean
florence_file_get_contents (const char *path, gsize max_size, char **contents, gsize *length,
                            GError **error)
{
  g_autofree char *buffer = NULL;
  gsize used = 0, allocated;
  goffset size = 0;
  int fd;

  g_return_val_if_fail (path != NULL && contents != NULL, FALSE);
  g_return_val_if_fail (max_size < G_MAXSIZE, FALSE);

  fd = florence_file_open_regular (path, &size, error);
  if (fd < 0)
    return FALSE;
  if (size < 0 || (guint64) size > max_size)
    {
      set_too_big_error (error, path, max_size);
      g_close (fd, NULL);
      return FALSE;
    }
  /* The file may grow while it is read: never past max_size. */
  allocated = (gsize) size + 1;
  buffer = g_malloc (allocated);
  for (;;)
    {
      gssize n;

      if (used + 1 == allocated)
        {
          if (used >= max_size)
            {
              char probe;

              n = read (fd, &probe, 1);
              if (n > 0)
                {
                  set_too_big_error (error, path, max_size);
                  g_close (fd, NULL);
                  return FALSE;
                }
              if (n == 0)
                break;
              if (errno == EINTR)
                continue;
              goto fail;
            }
          allocated = MIN (MAX (allocated * 2, (gsize) 4096), max_size + 1);
          buffer = g_realloc (buffer, allocated);
        }
      n = read (fd, buffer + used, allocated - 1 - used);
      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          goto fail;
        }
      if (n == 0)
        break;
      used += (gsize) n;
    }
  g_close (fd, NULL);
  buffer[used] = '\0';
  *contents = g_steal_pointer (&buffer);
  if (length != NULL)
    *length = used;
  return TRUE;

fail:
  {
    int saved_errno = errno;
    g_autofree char *name = g_filename_display_name (path);

    g_close (fd, NULL);
    g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                 _ ("Could not read “%s”: %s"), name, g_strerror (saved_errno));
    return FALSE;
  }
}

/* ------------------------------------------------------------------------------------------ */
/* Guarded mappings */

/* What the SIGBUS handler may read: plain words, set before a mapping is published and cleared
 * before it is unmapped. */
typedef struct {
  gpointer base; /* NULL: a free slot */
  gsize length;  /* rounded up to whole pages */
  gint cut;      /* set by the handler */
} Guard;

#define MAX_GUARDS 256

static Guard guards[MAX_GUARDS];
static GMutex guards_lock;
static gsize page_size;
static struct sigaction previous_action;

struct _FlorenceFileMap {
  char *path;
  int fd;
  guint8 *data;
  gsize size;
  int guard; /* index into guards, or -1 */
};

static void
on_sigbus (int sig, siginfo_t *info, void *context)
{
  guintptr addr = (guintptr) info->si_addr;
  int saved_errno = errno;

  for (guint i = 0; i < MAX_GUARDS; i++)
    {
      guintptr base = (guintptr) g_atomic_pointer_get (&guards[i].base);

      if (base != 0 && addr >= base && addr - base < guards[i].length)
        {
          guintptr start = addr & ~(guintptr) (page_size - 1);
          void *zeros = mmap ((void *) start, base + guards[i].length - start, PROT_READ,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);

          if (zeros != MAP_FAILED)
            {
              g_atomic_int_set (&guards[i].cut, 1);
              errno = saved_errno;
              return; /* the read runs again, on zeros */
            }
          break;
        }
    }

  /* Not one of ours: what would have happened without this handler. */
  if ((previous_action.sa_flags & SA_SIGINFO) && previous_action.sa_sigaction != NULL)
    {
      previous_action.sa_sigaction (sig, info, context);
      errno = saved_errno;
      return;
    }
  if (previous_action.sa_handler == SIG_IGN)
    return;
  if (previous_action.sa_handler != SIG_DFL)
    {
      previous_action.sa_handler (sig);
      errno = saved_errno;
      return;
    }
  signal (SIGBUS, SIG_DFL);
  raise (SIGBUS); /* delivered when the handler returns (SIGBUS is blocked until then) */
}

static void
install_handler_once (void)
{
  static gsize installed = 0;

  if (g_once_init_enter (&installed))
    {
      struct sigaction action;

      page_size = (gsize) sysconf (_SC_PAGESIZE);
      memset (&action, 0, sizeof action);
      action.sa_sigaction = on_sigbus;
      action.sa_flags = SA_SIGINFO | SA_RESTART;
      sigemptyset (&action.sa_mask);
      if (sigaction (SIGBUS, &action, &previous_action) != 0)
        g_warning ("Could not install the SIGBUS handler: %s", g_strerror (errno));
      g_once_init_leave (&installed, 1);
    }
}

static int
guard_add (gpointer base, gsize length)
{
  int slot = -1;

  g_mutex_lock (&guards_lock);
  for (int i = 0; i < MAX_GUARDS && slot < 0; i++)
    if (g_atomic_pointer_get (&guards[i].base) == NULL)
      {
        guards[i].length = (length + page_size - 1) & ~(page_size - 1);
        g_atomic_int_set (&guards[i].cut, 0);
        g_atomic_pointer_set (&guards[i].base, base);
        slot = i;
      }
  g_mutex_unlock (&guards_lock);
  return slot;
}

static void
guard_remove (int slot)
{
  g_mutex_lock (&guards_lock);
  g_atomic_pointer_set (&guards[slot].base, NULL);
  g_mutex_unlock (&guards_lock);
}

FlorenceFileMap *
florence_file_map_new (const char *path, GError **error)
{
  g_autoptr (FlorenceFileMap) map = NULL;
  goffset size = 0;
  int fd;

  g_return_val_if_fail (path != NULL, NULL);

  fd = florence_file_open_regular (path, &size, error);
  if (fd < 0)
    return NULL;
  map = g_new0 (FlorenceFileMap, 1);
  map->path = g_strdup (path);
  map->fd = fd;
  map->guard = -1;
  if (size < 0 || (guint64) size > G_MAXSIZE / 2)
    {
      g_autofree char *name = g_filename_display_name (path);

      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, _ ("“%s” is too large to be mapped"),
                   name);
      return NULL;
    }
  map->size = (gsize) size;
  if (map->size == 0)
    return g_steal_pointer (&map);

  install_handler_once ();
  map->data = mmap (NULL, map->size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map->data == MAP_FAILED)
    {
      int saved_errno = errno;
      g_autofree char *name = g_filename_display_name (path);

      map->data = NULL;
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _ ("Could not map “%s” into memory: %s"), name, g_strerror (saved_errno));
      return NULL;
    }
  map->guard = guard_add (map->data, map->size);
  if (map->guard < 0)
    g_debug ("%s: more than %d files mapped at once; this one is not guarded", path, MAX_GUARDS);
  return g_steal_pointer (&map);
}

const guint8 *
florence_file_map_get_data (FlorenceFileMap *map)
{
  g_return_val_if_fail (map != NULL, NULL);
  return map->data;
}

gsize
florence_file_map_get_size (FlorenceFileMap *map)
{
  g_return_val_if_fail (map != NULL, 0);
  return map->size;
}

const char *
florence_file_map_get_path (FlorenceFileMap *map)
{
  g_return_val_if_fail (map != NULL, NULL);
  return map->path;
}

gboolean
florence_file_map_check (FlorenceFileMap *map, GError **error)
{
  struct stat st;
  gboolean cut;

  g_return_val_if_fail (map != NULL, FALSE);

  cut = map->guard >= 0 && g_atomic_int_get (&guards[map->guard].cut);
  if (!cut && fstat (map->fd, &st) == 0 && (st.st_size < 0 || (guint64) st.st_size < map->size))
    cut = TRUE;
  if (cut)
    {
      g_autofree char *name = g_filename_display_name (map->path);

      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO,
                   _ ("“%s” was cut short while Depict was reading it: it is being copied, "
                      "downloaded or written again. Wait until that is finished, then try again"),
                   name);
      return FALSE;
    }
  return TRUE;
}

void
florence_file_map_free (FlorenceFileMap *map)
{
  if (map == NULL)
    return;
  if (map->guard >= 0)
    guard_remove (map->guard);
  if (map->data != NULL)
    munmap (map->data, map->size);
  if (map->fd >= 0)
    g_close (map->fd, NULL);
  g_free (map->path);
  g_free (map);
}
