/* barcode.c: creates barcode readers from hwdb and dispatches to their ops; the blocking helper for
 * the CLI. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "barcode_priv.h"
#include "bl_stream.h"

uint64_t bl_barcode_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int bl_barcode_new(const struct bl_hwdb_device *dev, const struct bl_hwdb_barcode *cfg,
		   struct bl_barcode **out)
{
	if (!dev->model || dev->model->cls != BL_CLASS_BARCODE)
		return -EINVAL;
	const struct bl_barcode_ops *ops;
	switch (dev->model->protocol) {
	case BL_PROTO_BARCODE_SERIAL: ops = &bl_barcode_serial_ops; break;
	case BL_PROTO_BARCODE_HID: ops = &bl_barcode_hid_ops; break;
	default: return -EPROTONOSUPPORT;
	}
	struct bl_barcode *bc = calloc(1, sizeof(*bc));
	if (!bc)
		return -ENOMEM;
	bc->ops = ops;
	bc->dev = *dev;
	bc->model = dev->model->barcode;
	int rc = bl_bc_rules_init(&bc->rules, &bc->model, cfg);
	if (rc) {
		free(bc);
		return rc;
	}
	bl_bc_lines_init(&bc->lines, dev->transport.terminator, bc->rules.max_len);
	bc->backoff_ms = 100;
	*out = bc;
	return 0;
}

void bl_barcode_free(struct bl_barcode *bc)
{
	if (!bc)
		return;
	bc->ops->close(bc);
	bl_bc_rules_free(&bc->rules);
	free(bc);
}

int bl_barcode_trigger(struct bl_barcode *bc, uint64_t now_ms)
{
	return bc->ops->trigger ? bc->ops->trigger(bc, now_ms) : -ENOSYS;
}

int bl_barcode_poll(struct bl_barcode *bc, uint64_t now_ms, struct bl_barcode_result *out)
{
	return bc->ops->poll(bc, now_ms, out);
}

const struct bl_barcode_stats *bl_barcode_stats(const struct bl_barcode *bc)
{
	return &bc->stats;
}

int bl_barcode_read_blocking(struct bl_barcode *bc, struct bl_barcode_result *out)
{
	uint64_t start = bl_barcode_now_ms();
	uint64_t limit =
	    start + (uint64_t)bc->dev.timeouts.command_ms + (uint64_t)bc->dev.timeouts.connect_ms;
	bool self_triggered = false;
	for (;;) {
		uint64_t now = bl_barcode_now_ms();
		int rc = bl_barcode_trigger(bc, now);
		if (rc == 0 || rc == -ENOSYS) {
			self_triggered = rc == -ENOSYS;
			break;
		}
		if (rc != -ENOTCONN || now >= limit)
			return rc;
		struct timespec ts = {0, 20 * 1000000L};
		nanosleep(&ts, NULL);
	}
	for (;;) {
		uint64_t now = bl_barcode_now_ms();
		int rc = bl_barcode_poll(bc, now, out);
		if (rc)
			return rc < 0 ? rc : 0;
		if (self_triggered && now >= limit)
			return -ETIMEDOUT;
		struct pollfd p = {.fd = bl_barcode_fd(bc), .events = POLLIN};
		poll(p.fd >= 0 ? &p : NULL, p.fd >= 0 ? 1 : 0, 5);
	}
}

int bl_barcode_fd(const struct bl_barcode *bc)
{
	return bc->link ? bl_stream_fd(bc->link) : -1;
}

static void printable(const char *in, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c >= 0x20 && c < 0x7f)
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
	}
	out[o] = 0;
}

int bl_barcode_result(struct bl_barcode *bc, struct bl_barcode_result *out, const char *line,
		      size_t len)
{
	memset(out, 0, sizeof(*out));
	if (!line) {
		out->status = BL_BC_MISREAD;
		out->why = "length";
		snprintf(out->raw, sizeof(out->raw), "(more than %zu bytes)", bc->rules.max_len);
	} else {
		printable(line, len, out->raw, sizeof(out->raw));
		out->status = bl_bc_classify(&bc->rules, line, len, out->code, &out->why);
	}
	if (out->status == BL_BC_OK)
		bc->stats.ok++;
	else if (out->status == BL_BC_NOREAD)
		bc->stats.noread++;
	else
		bc->stats.misread++;
	return 1;
}
