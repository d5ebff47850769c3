/* tbox.c: trigger box requests over any link: sequence numbers, retries, NAK mapping, hwdb limits,
 * clock map. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_tbox.h"

#define TRIES	     3
#define SYNC_SAMPLES 8

int bl_tbox_tcp_open(const struct bl_hwdb_transport *t, int timeout_ms, void **link);
int bl_tbox_usb_open(const struct bl_hwdb_transport *t, void **link);

struct bl_tbox {
	const struct bl_tbox_link_ops *ops;
	void *link;
	struct bl_hwdb_device dev;
	uint8_t seq;
	uint8_t rx[BL_TBOX_MAX_FRAME * 2];
	size_t rxlen;
	/* clock map samples: host ns, box ticks */
	uint64_t host[SYNC_SAMPLES], tick[SYNC_SAMPLES];
	int nsync, next;
	uint64_t best_rtt;
	uint32_t edges_taken; /* edges received so far: acknowledged with the next EDGES request */
	double slope, off;    /* tick = off + slope * (host - host0) */
	uint64_t host0;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bl_tbox_open(const struct bl_hwdb_device *dev, struct bl_tbox **out)
{
	if (!dev->model || dev->model->protocol != BL_PROTO_TBOX)
		return -EINVAL;
	struct bl_tbox *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->dev = *dev;
	int rc;
	if (dev->transport.kind == BL_TR_USB) {
		b->ops = &bl_tbox_usb_link;
		rc = bl_tbox_usb_open(&dev->transport, &b->link);
	} else {
		b->ops = &bl_tbox_tcp_link;
		rc = bl_tbox_tcp_open(&dev->transport, dev->timeouts.connect_ms, &b->link);
	}
	if (rc) {
		free(b);
		return rc;
	}
	b->slope = BL_TBOX_TICK_HZ / 1e9;
	*out = b;
	return 0;
}

void bl_tbox_close(struct bl_tbox *b)
{
	if (b) {
		b->ops->close(b->link);
		free(b);
	}
}

static int nak_errno(uint8_t code)
{
	switch (code) {
	case BL_TBOX_NAK_FRAME: return -EPROTO;
	case BL_TBOX_NAK_TYPE: return -EOPNOTSUPP;
	case BL_TBOX_NAK_CHANNEL:
	case BL_TBOX_NAK_TIMING: return -EINVAL;
	case BL_TBOX_NAK_LATE: return -ETIME;
	case BL_TBOX_NAK_BUSY: return -EBUSY;
	default: return -EIO;
	}
}

/* One exchange: sends REQ, waits for the reply with the same sequence number. */
static int exchange_once(struct bl_tbox *b, struct bl_tbox_frame *req, struct bl_tbox_frame *rep)
{
	uint8_t wire[BL_TBOX_MAX_FRAME];
	req->seq = ++b->seq;
	size_t n = bl_tbox_encode(req, wire);
	int timeout = b->dev.timeouts.command_ms;
	b->rxlen = 0; /* whatever is buffered answers an older request */
	int rc = b->ops->send(b->link, wire, n, timeout);
	if (rc < 0)
		return rc;
	uint64_t deadline = mono_ns() + (uint64_t)timeout * 1000000u;
	for (;;) {
		while (b->rxlen) {
			int used = bl_tbox_decode(b->rx, b->rxlen, rep);
			if (used == 0)
				break;
			if (used < 0) { /* garbage: resynchronise on the next magic byte */
				memmove(b->rx, b->rx + 1, --b->rxlen);
				if (!memchr(b->rx, BL_TBOX_MAGIC, b->rxlen))
					b->rxlen = 0;
				return -EBADMSG;
			}
			memmove(b->rx, b->rx + used, b->rxlen - (size_t)used);
			b->rxlen -= (size_t)used;
			if (rep->seq != req->seq)
				continue; /* a late reply to an earlier try */
			if (rep->type == BL_TBOX_NAK)
				return rep->len >= 1 ? nak_errno(rep->payload[0]) : -EBADMSG;
			return rep->type == (req->type | BL_TBOX_REPLY) ? 0 : -EBADMSG;
		}
		uint64_t now = mono_ns();
		if (now >= deadline)
			return -ETIMEDOUT;
		int left = (int)((deadline - now) / 1000000u) + 1;
		rc = b->ops->recv(b->link, b->rx + b->rxlen, sizeof(b->rx) - b->rxlen, left);
		if (rc < 0)
			return rc;
		b->rxlen += (size_t)rc;
		if (b->rxlen == sizeof(b->rx))
			b->rxlen = 0; /* no frame fits: drop and resync */
	}
}

static int exchange(struct bl_tbox *b, struct bl_tbox_frame *req, struct bl_tbox_frame *rep,
		    bool idempotent)
{
	int rc = -EIO;
	for (int i = 0; i < (idempotent ? TRIES : 1); i++) {
		rc = exchange_once(b, req, rep);
		if (rc != -ETIMEDOUT && rc != -EBADMSG && rc != -EPROTO)
			return rc;
	}
	return rc;
}

int bl_tbox_ping(struct bl_tbox *b, struct bl_tbox_info *info)
{
	struct bl_tbox_frame req = {.type = BL_TBOX_PING}, rep;
	int rc = exchange(b, &req, &rep, true);
	if (rc)
		return rc;
	if (rep.len < 8)
		return -EBADMSG;
	info->version = bl_tbox_get16(rep.payload);
	info->channels = bl_tbox_get16(rep.payload + 2);
	info->tick_hz = bl_tbox_get32(rep.payload + 4);
	return 0;
}

int bl_tbox_time(struct bl_tbox *b, uint64_t *ticks)
{
	struct bl_tbox_frame req = {.type = BL_TBOX_GET_TIME}, rep;
	int rc = exchange(b, &req, &rep, true);
	if (rc)
		return rc;
	if (rep.len < 8)
		return -EBADMSG;
	*ticks = bl_tbox_get64(rep.payload);
	return 0;
}

/* Least-squares line through the samples (host relative to the first, to keep precision). */
static void fit(struct bl_tbox *b)
{
	int n = b->nsync;
	b->host0 = b->host[0];
	for (int i = 1; i < n; i++)
		if (b->host[i] < b->host0)
			b->host0 = b->host[i];
	double sx = 0, sy = 0, sxx = 0, sxy = 0;
	for (int i = 0; i < n; i++) {
		double x = (double)(b->host[i] - b->host0), y = (double)b->tick[i];
		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
	}
	double den = n * sxx - sx * sx;
	if (n >= 2 && den > 1e3) {
		b->slope = (n * sxy - sx * sy) / den;
		b->off = (sy - b->slope * sx) / n;
	} else { /* one sample: nominal rate through it */
		b->slope = BL_TBOX_TICK_HZ / 1e9;
		b->off = sy / n - b->slope * (sx / n);
	}
}

int bl_tbox_sync(struct bl_tbox *b)
{
	uint64_t t0 = mono_ns(), ticks;
	int rc = bl_tbox_time(b, &ticks);
	uint64_t t1 = mono_ns();
	if (rc)
		return rc;
	uint64_t rtt = t1 - t0;
	if (!b->best_rtt || rtt < b->best_rtt)
		b->best_rtt = rtt;
	b->host[b->next] = t0 + rtt / 2;
	b->tick[b->next] = ticks;
	b->next = (b->next + 1) % SYNC_SAMPLES;
	if (b->nsync < SYNC_SAMPLES)
		b->nsync++;
	fit(b);
	return 0;
}

uint64_t bl_tbox_host_to_tick(const struct bl_tbox *b, uint64_t host_ns)
{
	double x =
	    host_ns >= b->host0 ? (double)(host_ns - b->host0) : -(double)(b->host0 - host_ns);
	double t = b->off + b->slope * x;
	return t > 0 ? (uint64_t)llround(t) : 0;
}

uint64_t bl_tbox_tick_to_host(const struct bl_tbox *b, uint64_t tick)
{
	return b->host0 + (uint64_t)llround(((double)tick - b->off) / b->slope);
}

uint64_t bl_tbox_sync_error_ns(const struct bl_tbox *b)
{
	return b->best_rtt / 2;
}

int bl_tbox_arm(struct bl_tbox *b, const struct bl_tbox_train *t, uint32_t *train_id)
{
	const struct bl_hwdb_trigger_model *m = &b->dev.model->trigger;
	double tick_us = 1e6 / BL_TBOX_TICK_HZ;
	if (t->channel >= m->channels)
		return -EINVAL;
	if (t->count == 0 || t->period_ticks * tick_us < m->min_period_us - 1e-9 ||
	    t->width_ticks * tick_us < m->min_width_us - 1e-9 || t->width_ticks >= t->period_ticks)
		return -ERANGE;
	struct bl_tbox_frame req = {.type = BL_TBOX_ARM}, rep;
	bl_tbox_train_put(t, &req);
	int rc = exchange(b, &req, &rep, false);
	if (rc)
		return rc;
	if (rep.len < 8)
		return -EBADMSG;
	if (train_id)
		*train_id = bl_tbox_get32(rep.payload + 4);
	return 0;
}

int bl_tbox_stop(struct bl_tbox *b, int channel)
{
	struct bl_tbox_frame req = {.type = BL_TBOX_STOP, .len = 1}, rep;
	req.payload[0] = (uint8_t)channel;
	return exchange(b, &req, &rep, true);
}

int bl_tbox_edges(struct bl_tbox *b, struct bl_tbox_edge *out, int max, unsigned *lost)
{
	struct bl_tbox_frame req = {.type = BL_TBOX_EDGES, .len = 8}, rep;
	if (max > (int)BL_TBOX_MAX_EDGES)
		max = BL_TBOX_MAX_EDGES;
	bl_tbox_put16(req.payload, (uint16_t)max);
	bl_tbox_put16(req.payload + 2, 0);
	/* the box keeps every edge until a later request acknowledges it, so a lost reply is
	 * simply asked for again */
	bl_tbox_put32(req.payload + 4, b->edges_taken);
	int rc = exchange(b, &req, &rep, true);
	if (rc)
		return rc;
	if (rep.len < 8)
		return -EBADMSG;
	int n = bl_tbox_get16(rep.payload);
	uint32_t first = bl_tbox_get32(rep.payload + 4);
	if (n > max || rep.len != 8 + n * BL_TBOX_EDGE_SIZE || (n && first < b->edges_taken))
		return -EBADMSG;
	if (lost)
		*lost = bl_tbox_get16(rep.payload + 2);
	for (int i = 0; i < n; i++)
		bl_tbox_edge_get(rep.payload + 8 + i * BL_TBOX_EDGE_SIZE, &out[i]);
	b->edges_taken = first + (uint32_t)n;
	return n;
}

int bl_tbox_status(struct bl_tbox *b, uint8_t *armed, uint8_t *inputs,
		   uint32_t remaining[BL_TBOX_CHANNELS_MAX])
{
	struct bl_tbox_frame req = {.type = BL_TBOX_STATUS}, rep;
	int rc = exchange(b, &req, &rep, true);
	if (rc)
		return rc;
	if (rep.len != 4 + 4 * BL_TBOX_CHANNELS_MAX)
		return -EBADMSG;
	*armed = rep.payload[0];
	*inputs = rep.payload[1];
	for (int i = 0; i < BL_TBOX_CHANNELS_MAX; i++)
		remaining[i] = bl_tbox_get32(rep.payload + 4 + 4 * i);
	return 0;
}
