/* bl_mb.h: Modbus devices (coater stage, web drive, heaters) through libmodbus, addressed by
 * register name from hwdb. */
#ifndef BL_MB_H
#define BL_MB_H

#include <stdint.h>

#include "bl_hwdb.h"

struct bl_mb;

struct bl_mb_stats {
	unsigned requests, retries, timeouts, exceptions, bad_frames, reconnects;
	int last_raw; /* libmodbus errno of the last failure, for logs */
};

/* Creates a client for hwdb device DEV (modbus-tcp or modbus-rtu). Connects on first use. */
int bl_mb_open(const struct bl_hwdb_device *dev, struct bl_mb **out);
void bl_mb_close(struct bl_mb *m);

/* The register called NAME in the device's model, NULL if there is none. */
const struct bl_hwdb_register *bl_mb_reg(const struct bl_mb *m, const char *name);

/* Reads register NAME in engineering units. Blocking, bounded by the hwdb command timeout and
 * the retries: call it from a worker thread, not a real-time loop.
 * Errors: -ENOENT no such register; -ETIMEDOUT no answer; -EBADMSG bad frames (CRC, garbage);
 * Modbus exceptions: -EOPNOTSUPP illegal function, -EFAULT illegal address, -EINVAL illegal
 * value, -EIO device failure, -EBUSY busy (after retries), -EHOSTUNREACH gateway target;
 * -ECONNREFUSED / -ECONNRESET link problems (it reconnects on the next call). */
int bl_mb_read(struct bl_mb *m, const char *name, double *value);

/* Writes register NAME: -EACCES read-only, -ERANGE outside its hwdb limits or its type (nothing
 * is sent), otherwise as bl_mb_read. */
int bl_mb_write(struct bl_mb *m, const char *name, double value);

const struct bl_mb_stats *bl_mb_stats(const struct bl_mb *m);

/* Human text for the codes above. */
const char *bl_mb_strerror(int err);

#endif
