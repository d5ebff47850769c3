/* stream_int.h: the stream consumer's state, shared by its checking and ZMQ halves. */
#ifndef BL_STREAM_INT_H
#define BL_STREAM_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

#include "bl_dstream.h"

/* What the consumer knows about the series in progress (reset by each dheader-1.0). */
struct dseries {
	bool open;
	uint64_t series;
	uint64_t expected; /* nimages * ntrigger from the header, 0: unknown */
	uint64_t nimages;
	uint64_t frame_ns;
	uint64_t next_frame, delivered, missing;
	bool have_prev;
	uint64_t prev_frame, prev_start;
	bool shape_set;
	int w, h;
	enum bl_dtype type;
	int cfg_w, cfg_h; /* shape announced by the header, 0: unknown */
};

struct bl_dstream {
	struct bl_dstream_counters c;
	struct dseries ser;
	void *own; /* decode buffer the consumer allocated (grown at most once a series) */
	size_t own_cap;
	void *user; /* decode buffer the caller lent */
	size_t user_cap;
	uint8_t *scratch; /* one bitshuffle block */
	enum bl_ds_decode decode;
	void *zctx, *sock;
	zmq_msg_t msgs[BL_DSTREAM_MAX_PARTS];
	int nmsgs; /* initialised entries of msgs */
};

void bl_dstream_zmq_close(struct bl_dstream *s);

#endif
