/* bl_stream.h: a non-blocking byte stream under ASCII device drivers: serial port (libserialport)
 * or TCP. */
#ifndef BL_STREAM_H
#define BL_STREAM_H

#include <stddef.h>
#include <sys/types.h>

#include "bl_hwdb.h"

struct bl_stream;

/* Opens the transport T (kinds serial and tcp). Never blocks: a TCP connection may still be
 * in progress when it returns; reads return 0 and writes -EAGAIN until it is up.
 * Returns 0 or a negative errno (-ENOENT no such device, -EACCES, -EINVAL bad settings...). */
int bl_stream_open(const struct bl_hwdb_transport *t, struct bl_stream **out);

/* Reads what is available: >0 bytes, 0 when nothing is waiting, -ECONNRESET when the peer or
 * device is gone (hang-up, unplug, EOF), another negative errno on failure. */
ssize_t bl_stream_read(struct bl_stream *s, void *buf, size_t n);

/* Writes up to N bytes without blocking: bytes written (possibly fewer), -EAGAIN when nothing
 * can be written now, -ECONNRESET when the peer is gone. */
ssize_t bl_stream_write(struct bl_stream *s, const void *buf, size_t n);

/* File descriptor to poll() for readability, -1 if none. */
int bl_stream_fd(const struct bl_stream *s);

/* Which backend carries it: "libserialport", "termios" (pseudo-terminals), "tcp". */
const char *bl_stream_backend(const struct bl_stream *s);

void bl_stream_close(struct bl_stream *s);

#endif
