/* barcode_serial.c: serial trigger/reply barcode readers: trigger string out, code + terminator
 * back, no-read token, timeouts, reconnect. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "barcode_priv.h"
#include "bl_stream.h"

#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u

static void link_down(struct bl_barcode *bc, uint64_t now)
{
	bl_stream_close(bc->link);
	bc->link = NULL;
	bc->stats.disconnects++;
	bc->retry_at = now + bc->backoff_ms;
	bl_bc_lines_init(&bc->lines, bc->dev.transport.terminator, bc->rules.max_len);
}

/* Opens the link if it is down and its backoff has expired. 0 when up, -ENOTCONN otherwise. */
static int ensure_link(struct bl_barcode *bc, uint64_t now)
{
	if (bc->link)
		return 0;
	if (now < bc->retry_at)
		return -ENOTCONN;
	if (bl_stream_open(&bc->dev.transport, &bc->link)) {
		bc->link = NULL;
		bc->backoff_ms =
		    bc->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : bc->backoff_ms * 2;
		bc->retry_at = now + bc->backoff_ms;
		return -ENOTCONN;
	}
	if (bc->was_connected)
		bc->stats.reconnects++;
	bc->was_connected = true;
	bc->backoff_ms = BACKOFF_MIN_MS;
	return 0;
}

static int serial_open(struct bl_barcode *bc)
{
	return ensure_link(bc, bl_barcode_now_ms());
}

static void serial_close(struct bl_barcode *bc)
{
	bl_stream_close(bc->link);
	bc->link = NULL;
}

/* Writes a short command completely; the link is non-blocking but commands are a few bytes. */
static int send_all(struct bl_barcode *bc, const char *s)
{
	size_t n = strlen(s), off = 0;
	for (int tries = 0; off < n && tries < 100; tries++) {
		ssize_t w = bl_stream_write(bc->link, s + off, n - off);
		if (w > 0)
			off += (size_t)w;
		else if (w != -EAGAIN)
			return (int)w;
	}
	return off == n ? 0 : -EAGAIN;
}

static int serial_trigger(struct bl_barcode *bc, uint64_t now)
{
	if (bc->pending)
		return -EBUSY;
	int rc = ensure_link(bc, now);
	if (rc)
		return rc;
	/* drop anything stale (a late reply to an earlier, timed-out trigger) */
	char junk[256];
	ssize_t r;
	while ((r = bl_stream_read(bc->link, junk, sizeof(junk))) > 0)
		;
	bl_bc_lines_init(&bc->lines, bc->dev.transport.terminator, bc->rules.max_len);
	if (r < 0 || (bc->model.trigger[0] && (r = send_all(bc, bc->model.trigger)) < 0)) {
		link_down(bc, now);
		return -ENOTCONN;
	}
	bc->pending = true;
	bc->deadline = now + (uint64_t)bc->dev.timeouts.command_ms;
	bc->stats.reads++;
	return 0;
}

static int serial_poll(struct bl_barcode *bc, uint64_t now, struct bl_barcode_result *out)
{
	if (!bc->link)
		return ensure_link(bc, now) ? -ENOTCONN : 0;
	char buf[256];
	for (;;) {
		ssize_t n = bl_stream_read(bc->link, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0) {
			bool was_pending = bc->pending;
			bc->pending = false;
			link_down(bc, now);
			return was_pending ? -ECONNRESET : -ENOTCONN;
		}
		for (ssize_t i = 0; i < n; i++) {
			size_t len = 0;
			int rc = bl_bc_lines_feed(&bc->lines, buf[i], &len);
			if (!bc->pending)
				continue; /* unsolicited output: not an answer to anything */
			if (rc == 1 || rc == -EMSGSIZE) {
				bc->pending = false;
				return bl_barcode_result(bc, out, rc == 1 ? bc->lines.buf : NULL,
							 len);
			}
		}
	}
	if (bc->pending && now >= bc->deadline) {
		bc->pending = false;
		bc->stats.timeouts++;
		if (bc->model.stop[0] && send_all(bc, bc->model.stop) < 0)
			link_down(bc, now);
		return -ETIMEDOUT;
	}
	return 0;
}

const struct bl_barcode_ops bl_barcode_serial_ops = {
    .name = "barcode-serial",
    .open = serial_open,
    .close = serial_close,
    .trigger = serial_trigger,
    .poll = serial_poll,
};
