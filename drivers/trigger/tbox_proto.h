/* tbox_proto.h: the beamloop trigger box's binary protocol (frames, CRC, messages), shared by
 * driver and simulator. */
#ifndef BL_TBOX_PROTO_H
#define BL_TBOX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define BL_TBOX_MAGIC	     0xB7
#define BL_TBOX_HDR	     6
#define BL_TBOX_MAX_PAYLOAD  1024
#define BL_TBOX_MAX_FRAME    (BL_TBOX_HDR + BL_TBOX_MAX_PAYLOAD + 2)
#define BL_TBOX_CHANNELS_MAX 8
#define BL_TBOX_TICK_HZ	     100000000u /* 10 ns */
#define BL_TBOX_EDGE_SIZE    16
#define BL_TBOX_MAX_EDGES    ((BL_TBOX_MAX_PAYLOAD - 8) / BL_TBOX_EDGE_SIZE)

enum bl_tbox_type {
	BL_TBOX_PING = 0x01,
	BL_TBOX_GET_TIME = 0x02,
	BL_TBOX_ARM = 0x03,
	BL_TBOX_STOP = 0x04,
	BL_TBOX_EDGES = 0x05,
	BL_TBOX_STATUS = 0x06,
	BL_TBOX_REPLY = 0x80, /* a reply has the request's type | 0x80 */
	BL_TBOX_NAK = 0x7f,
};

enum bl_tbox_nak {
	BL_TBOX_NAK_FRAME = 1,	 /* bad magic, length or CRC */
	BL_TBOX_NAK_TYPE = 2,	 /* unknown request */
	BL_TBOX_NAK_CHANNEL = 3, /* no such channel */
	BL_TBOX_NAK_TIMING = 4,	 /* period below the minimum, width >= period, count 0 */
	BL_TBOX_NAK_LATE = 5,	 /* start time already past */
	BL_TBOX_NAK_BUSY = 6,	 /* channel already armed */
};

enum bl_tbox_edge_kind {
	BL_TBOX_EDGE_OUT = 0, /* rising edge of an output pulse */
	BL_TBOX_EDGE_IN_RISE = 1,
	BL_TBOX_EDGE_IN_FALL = 2,
};

struct bl_tbox_frame {
	uint8_t type, seq;
	uint16_t len;
	uint8_t payload[BL_TBOX_MAX_PAYLOAD];
};

struct bl_tbox_train {
	uint8_t channel;
	uint64_t start_tick;
	uint32_t period_ticks, width_ticks, count;
};

struct bl_tbox_edge {
	uint8_t channel, kind;
	uint32_t index; /* pulse number within its train (outputs), running count (inputs) */
	uint64_t tick;
};

/* CRC-16/CCITT-FALSE (poly 0x1021, init 0xffff): "123456789" -> 0x29b1. */
uint16_t bl_tbox_crc16(const uint8_t *p, size_t n);

/* Writes F as wire bytes into OUT (BL_TBOX_MAX_FRAME); returns the length. */
size_t bl_tbox_encode(const struct bl_tbox_frame *f, uint8_t *out);

/* Parses one frame from the LEN bytes at P. Returns the bytes it used (> 0), 0 when more bytes
 * are needed, -EBADMSG for a bad magic/length/CRC (the caller drops one byte and resyncs). */
int bl_tbox_decode(const uint8_t *p, size_t len, struct bl_tbox_frame *f);

/* Little-endian field helpers. */
void bl_tbox_put16(uint8_t *p, uint16_t v);
void bl_tbox_put32(uint8_t *p, uint32_t v);
void bl_tbox_put64(uint8_t *p, uint64_t v);
uint16_t bl_tbox_get16(const uint8_t *p);
uint32_t bl_tbox_get32(const uint8_t *p);
uint64_t bl_tbox_get64(const uint8_t *p);

/* ARM payload (24 bytes) <-> train. */
void bl_tbox_train_put(const struct bl_tbox_train *t, struct bl_tbox_frame *f);
int bl_tbox_train_get(const struct bl_tbox_frame *f, struct bl_tbox_train *t);

/* One edge record (BL_TBOX_EDGE_SIZE bytes). */
void bl_tbox_edge_put(const struct bl_tbox_edge *e, uint8_t *p);
void bl_tbox_edge_get(const uint8_t *p, struct bl_tbox_edge *e);

#endif
