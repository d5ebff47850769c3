/* bl_barcode.h: barcode reader driver API: an opaque handle over a const ops table (serial reader,
 * USB HID scanner). */
#ifndef BL_BARCODE_H
#define BL_BARCODE_H

#include <stdint.h>

#include "barcode_proto.h"
#include "bl_hwdb.h"

struct bl_barcode;

struct bl_barcode_result {
	enum bl_bc_status status;
	char code[BL_BARCODE_MAX]; /* BL_BC_OK: the validated code */
	char raw[BL_BARCODE_MAX];  /* what the reader sent, printable form, for logs */
	const char *why;	   /* BL_BC_MISREAD: "pattern", "check digit", "length", "bytes" */
};

/* Operations of one kind of reader. trigger is optional (-ENOSYS for self-triggering scanners). */
struct bl_barcode_ops {
	const char *name;
	int (*open)(struct bl_barcode *bc);
	void (*close)(struct bl_barcode *bc);
	int (*trigger)(struct bl_barcode *bc, uint64_t now_ms);
	/* 1: a result is in *out; 0: nothing yet; <0: -ETIMEDOUT (no reply in time, reader
	 * stopped), -ECONNRESET (link lost; the driver reconnects with backoff), -ENOTCONN (still
	 * down). */
	int (*poll)(struct bl_barcode *bc, uint64_t now_ms, struct bl_barcode_result *out);
};

extern const struct bl_barcode_ops bl_barcode_serial_ops;
extern const struct bl_barcode_ops bl_barcode_hid_ops;

/* Creates a reader for hwdb device DEV (its model's protocol picks the ops) with the beamline's
 * validation rules CFG (may be NULL: no pattern, no check digit). Does not touch the device yet. */
int bl_barcode_new(const struct bl_hwdb_device *dev, const struct bl_hwdb_barcode *cfg,
		   struct bl_barcode **out);
void bl_barcode_free(struct bl_barcode *bc);

/* Starts a read at NOW_MS (opens the link first if needed): 0, -EBUSY if one is pending,
 * -ENOTCONN while the link is down and its backoff has not expired, -ENOSYS if untriggerable. */
int bl_barcode_trigger(struct bl_barcode *bc, uint64_t now_ms);

/* Advances the reader; see bl_barcode_ops.poll. Never blocks. */
int bl_barcode_poll(struct bl_barcode *bc, uint64_t now_ms, struct bl_barcode_result *out);

/* File descriptor to wait on (poll()) for the next event, -1 when none. */
int bl_barcode_fd(const struct bl_barcode *bc);

/* Counters for logs and tests. */
struct bl_barcode_stats {
	unsigned reads, ok, noread, misread, timeouts, disconnects, reconnects;
};
const struct bl_barcode_stats *bl_barcode_stats(const struct bl_barcode *bc);

/* Convenience for the command line: trigger and wait up to the command timeout (+ reconnects). */
int bl_barcode_read_blocking(struct bl_barcode *bc, struct bl_barcode_result *out);

/* Monotonic milliseconds, for callers that have no clock of their own. */
uint64_t bl_barcode_now_ms(void);

#endif
