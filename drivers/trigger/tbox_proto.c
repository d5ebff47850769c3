/* tbox_proto.c: trigger box frame encoding/decoding with CRC-16, and message payload layouts. */
#include "tbox_proto.h"

#include <errno.h>
#include <string.h>

uint16_t bl_tbox_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xffff;
	for (size_t i = 0; i < n; i++) {
		crc ^= (uint16_t)(p[i] << 8);
		for (int b = 0; b < 8; b++)
			crc = (uint16_t)(crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1);
	}
	return crc;
}

void bl_tbox_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

void bl_tbox_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

void bl_tbox_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint16_t bl_tbox_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t bl_tbox_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t bl_tbox_get64(const uint8_t *p)
{
	return (uint64_t)bl_tbox_get32(p) | (uint64_t)bl_tbox_get32(p + 4) << 32;
}

size_t bl_tbox_encode(const struct bl_tbox_frame *f, uint8_t *out)
{
	out[0] = BL_TBOX_MAGIC;
	out[1] = f->type;
	out[2] = f->seq;
	out[3] = 0;
	bl_tbox_put16(out + 4, f->len);
	memcpy(out + BL_TBOX_HDR, f->payload, f->len);
	bl_tbox_put16(out + BL_TBOX_HDR + f->len, bl_tbox_crc16(out, BL_TBOX_HDR + f->len));
	return BL_TBOX_HDR + f->len + 2u;
}

int bl_tbox_decode(const uint8_t *p, size_t len, struct bl_tbox_frame *f)
{
	if (len < 1)
		return 0;
	if (p[0] != BL_TBOX_MAGIC)
		return -EBADMSG;
	if (len < BL_TBOX_HDR)
		return 0;
	uint16_t n = bl_tbox_get16(p + 4);
	if (n > BL_TBOX_MAX_PAYLOAD || p[3] != 0)
		return -EBADMSG;
	if (len < (size_t)BL_TBOX_HDR + n + 2)
		return 0;
	if (bl_tbox_crc16(p, BL_TBOX_HDR + n) != bl_tbox_get16(p + BL_TBOX_HDR + n))
		return -EBADMSG;
	f->type = p[1];
	f->seq = p[2];
	f->len = n;
	memcpy(f->payload, p + BL_TBOX_HDR, n);
	return BL_TBOX_HDR + n + 2;
}

void bl_tbox_train_put(const struct bl_tbox_train *t, struct bl_tbox_frame *f)
{
	memset(f->payload, 0, 24);
	f->payload[0] = t->channel;
	bl_tbox_put64(f->payload + 4, t->start_tick);
	bl_tbox_put32(f->payload + 12, t->period_ticks);
	bl_tbox_put32(f->payload + 16, t->width_ticks);
	bl_tbox_put32(f->payload + 20, t->count);
	f->len = 24;
}

int bl_tbox_train_get(const struct bl_tbox_frame *f, struct bl_tbox_train *t)
{
	if (f->len != 24)
		return -EBADMSG;
	t->channel = f->payload[0];
	t->start_tick = bl_tbox_get64(f->payload + 4);
	t->period_ticks = bl_tbox_get32(f->payload + 12);
	t->width_ticks = bl_tbox_get32(f->payload + 16);
	t->count = bl_tbox_get32(f->payload + 20);
	return 0;
}

void bl_tbox_edge_put(const struct bl_tbox_edge *e, uint8_t *p)
{
	p[0] = e->channel;
	p[1] = e->kind;
	p[2] = p[3] = 0;
	bl_tbox_put32(p + 4, e->index);
	bl_tbox_put64(p + 8, e->tick);
}

void bl_tbox_edge_get(const uint8_t *p, struct bl_tbox_edge *e)
{
	e->channel = p[0];
	e->kind = p[1];
	e->index = bl_tbox_get32(p + 4);
	e->tick = bl_tbox_get64(p + 8);
}
