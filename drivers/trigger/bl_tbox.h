/* bl_tbox.h: trigger box driver: programs gated TTL trains at controller times and reads back edge
 * timestamps. */
#ifndef BL_TBOX_H
#define BL_TBOX_H

#include <stdint.h>

#include "bl_hwdb.h"
#include "tbox_proto.h"

struct bl_tbox;

struct bl_tbox_info {
	uint16_t version, channels;
	uint32_t tick_hz;
};

/* A byte pipe to the box: USB bulk endpoints or a TCP socket (the simulator). One frame per
 * send; recv returns what arrived (> 0), 0 on time-out, or a negative errno. */
struct bl_tbox_link_ops {
	const char *name;
	int (*send)(void *link, const uint8_t *p, size_t n, int timeout_ms);
	int (*recv)(void *link, uint8_t *p, size_t cap, int timeout_ms);
	void (*close)(void *link);
};

extern const struct bl_tbox_link_ops bl_tbox_usb_link;
extern const struct bl_tbox_link_ops bl_tbox_tcp_link;

/* Opens the box of hwdb device DEV over USB (vid:pid) or TCP (host:port). 0, -ENODEV (no such
 * USB device), -ECONNREFUSED, -EINVAL (not a trigger box). Blocks up to the connect time-out. */
int bl_tbox_open(const struct bl_hwdb_device *dev, struct bl_tbox **out);
void bl_tbox_close(struct bl_tbox *b);

/* Requests; each blocks until the reply (bounded by the command time-out and, for idempotent
 * requests, 3 tries): call from a worker thread. Errors: -ETIMEDOUT, -EBADMSG (garbled),
 * NAKs as -EINVAL (channel/timing), -ETIME (start already past), -EBUSY (armed),
 * -EOPNOTSUPP (unknown request), -EPROTO (the box saw a bad frame). */
int bl_tbox_ping(struct bl_tbox *b, struct bl_tbox_info *info);
int bl_tbox_time(struct bl_tbox *b, uint64_t *ticks);

/* Adds one sample to the host-clock <-> box-clock map (round trip of a time request; the sample
 * is taken at the middle of the round trip). A few samples give offset and drift. */
int bl_tbox_sync(struct bl_tbox *b);
/* Box tick at host CLOCK_MONOTONIC time HOST_NS, and back (needs one sync at least). */
uint64_t bl_tbox_host_to_tick(const struct bl_tbox *b, uint64_t host_ns);
uint64_t bl_tbox_tick_to_host(const struct bl_tbox *b, uint64_t tick);
/* Half the shortest round trip seen: the uncertainty of the map, in ns. */
uint64_t bl_tbox_sync_error_ns(const struct bl_tbox *b);

/* Arms a train; -ERANGE when the period or width is below the model's minimum (nothing sent).
 * Not retried after a lost reply (a second ARM would find the channel busy): on -ETIMEDOUT ask
 * bl_tbox_status. */
int bl_tbox_arm(struct bl_tbox *b, const struct bl_tbox_train *t, uint32_t *train_id);
int bl_tbox_stop(struct bl_tbox *b, int channel);

/* Reads up to MAX recorded edges (oldest first) and how many the box had to drop. */
int bl_tbox_edges(struct bl_tbox *b, struct bl_tbox_edge *out, int max, unsigned *lost);

int bl_tbox_status(struct bl_tbox *b, uint8_t *armed_mask, uint8_t *inputs,
		   uint32_t remaining[BL_TBOX_CHANNELS_MAX]);

#endif
