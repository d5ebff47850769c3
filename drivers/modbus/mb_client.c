/* mb_client.c: the Modbus client: libmodbus TCP/RTU context per device, named registers, limits,
 * retries, errno mapping. */
#include <errno.h>
#include <modbus.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_mb.h"
#include "mb_value.h"

#define TRIES 3

struct bl_mb {
	struct bl_hwdb_device dev;
	modbus_t *ctx;
	bool connected;
	struct bl_mb_stats stats;
};

/* libmodbus reports Modbus exceptions and framing problems as its own errno values. */
static int map_errno(int e)
{
	switch (e) {
	case EMBXILFUN: return -EOPNOTSUPP;
	case EMBXILADD: return -EFAULT;
	case EMBXILVAL: return -EINVAL;
	case EMBXSFAIL: return -EIO;
	case EMBXACK: return -EINPROGRESS;
	case EMBXSBUSY: return -EBUSY;
	case EMBXNACK: return -ENOTSUP;
	case EMBXMEMPAR: return -EIO;
	case EMBXGPATH: return -ENETUNREACH;
	case EMBXGTAR: return -EHOSTUNREACH;
	case EMBBADCRC:
	case EMBBADDATA:
	case EMBBADEXC:
	case EMBMDATA:
	case EMBBADSLAVE: return -EBADMSG;
	case ETIMEDOUT: return -ETIMEDOUT;
	case ECONNREFUSED: return -ECONNREFUSED;
	case EPIPE:
	case ECONNRESET:
	case EBADF:
	case ENOTCONN: return -ECONNRESET;
	default: return e > 0 ? -e : -EIO;
	}
}

const char *bl_mb_strerror(int err)
{
	switch (err) {
	case -EOPNOTSUPP: return "Modbus exception: illegal function";
	case -EFAULT: return "Modbus exception: illegal data address";
	case -EINVAL: return "Modbus exception: illegal data value";
	case -EIO: return "Modbus exception: device failure";
	case -EBUSY: return "Modbus exception: device busy";
	case -EBADMSG: return "bad reply frame (CRC or content)";
	case -EACCES: return "register is read-only";
	case -ERANGE: return "value outside the register's limits";
	case -ENOENT: return "no such register in the model";
	default: return strerror(-err);
	}
}

int bl_mb_open(const struct bl_hwdb_device *dev, struct bl_mb **out)
{
	if (!dev->model || dev->model->protocol != BL_PROTO_MODBUS)
		return -EINVAL;
	struct bl_mb *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->dev = *dev;
	const struct bl_hwdb_transport *t = &dev->transport;
	if (t->kind == BL_TR_MODBUS_TCP) {
		char port[8];
		snprintf(port, sizeof(port), "%d", t->port);
		m->ctx = modbus_new_tcp_pi(t->host, port);
	} else if (t->kind == BL_TR_MODBUS_RTU) {
		char par = t->parity == BL_PARITY_EVEN	? 'E'
			   : t->parity == BL_PARITY_ODD ? 'O'
							: 'N';
		m->ctx = modbus_new_rtu(t->device, t->baud, par, t->data_bits, t->stop_bits);
	}
	if (!m->ctx) {
		free(m);
		return -EINVAL;
	}
	modbus_set_slave(m->ctx, t->unit_id);
	uint32_t ms = (uint32_t)dev->timeouts.command_ms;
	modbus_set_response_timeout(m->ctx, ms / 1000, (ms % 1000) * 1000);
	*out = m;
	return 0;
}

void bl_mb_close(struct bl_mb *m)
{
	if (!m)
		return;
	if (m->connected)
		modbus_close(m->ctx);
	modbus_free(m->ctx);
	free(m);
}

const struct bl_hwdb_register *bl_mb_reg(const struct bl_mb *m, const char *name)
{
	for (size_t i = 0; i < m->dev.model->nregisters; i++)
		if (!strcmp(m->dev.model->registers[i].name, name))
			return &m->dev.model->registers[i];
	return NULL;
}

static int ensure_connected(struct bl_mb *m)
{
	if (m->connected)
		return 0;
	if (modbus_connect(m->ctx) < 0) {
		m->stats.last_raw = errno;
		return map_errno(errno);
	}
	m->connected = true;
	return 0;
}

static void drop(struct bl_mb *m)
{
	if (m->connected)
		modbus_close(m->ctx);
	m->connected = false;
	m->stats.reconnects++;
}

/* One request with retries: timeouts, bad frames and "busy" are retried, exceptions are not.
 * WRITE selects the direction; W holds the words. */
static int transfer(struct bl_mb *m, const struct bl_hwdb_register *r, bool write, uint16_t w[2])
{
	int n = bl_mb_reg_words(r), rc = -EIO;
	for (int attempt = 0; attempt < TRIES; attempt++) {
		if (attempt)
			m->stats.retries++;
		if ((rc = ensure_connected(m)))
			continue;
		m->stats.requests++;
		int got;
		uint8_t bit;
		switch (r->table) {
		case BL_REG_COIL:
			if (write) {
				got = modbus_write_bit(m->ctx, r->address, w[0] ? 1 : 0);
			} else {
				got = modbus_read_bits(m->ctx, r->address, 1, &bit);
				w[0] = bit;
			}
			break;
		case BL_REG_DISCRETE:
			got = modbus_read_input_bits(m->ctx, r->address, 1, &bit);
			w[0] = bit;
			break;
		case BL_REG_INPUT:
			got = modbus_read_input_registers(m->ctx, r->address, n, w);
			break;
		default:
			if (!write)
				got = modbus_read_registers(m->ctx, r->address, n, w);
			else if (n == 1)
				got = modbus_write_register(m->ctx, r->address, w[0]);
			else
				got = modbus_write_registers(m->ctx, r->address, n, w);
			break;
		}
		if (got >= 0)
			return 0;
		int e = errno;
		m->stats.last_raw = e;
		rc = map_errno(e);
		if (e > MODBUS_ENOBASE && e < EMBBADCRC && e != EMBXSBUSY) {
			m->stats.exceptions++;
			return rc; /* the device answered: asking again gives the same answer */
		}
		if (e == EMBXSBUSY) {
			m->stats.exceptions++;
			struct timespec ts = {0, 20 * 1000000L};
			nanosleep(&ts, NULL);
			continue;
		}
		if (rc == -ETIMEDOUT)
			m->stats.timeouts++;
		else if (rc == -EBADMSG)
			m->stats.bad_frames++;
		/* stale bytes of a late or broken reply must not answer the next request */
		if (rc == -ETIMEDOUT || rc == -EBADMSG)
			modbus_flush(m->ctx);
		if (rc == -ECONNRESET)
			drop(m);
	}
	if (rc == -ETIMEDOUT)
		drop(m); /* a device silent through every retry: start the next call afresh */
	return rc;
}

int bl_mb_read(struct bl_mb *m, const char *name, double *value)
{
	const struct bl_hwdb_register *r = bl_mb_reg(m, name);
	if (!r)
		return -ENOENT;
	uint16_t w[2] = {0, 0};
	int rc = transfer(m, r, false, w);
	if (!rc)
		*value = bl_mb_decode(r, w);
	return rc;
}

int bl_mb_write(struct bl_mb *m, const char *name, double value)
{
	const struct bl_hwdb_register *r = bl_mb_reg(m, name);
	if (!r)
		return -ENOENT;
	if (!r->writable)
		return -EACCES;
	if (r->has_limits && !(value >= r->limits.min && value <= r->limits.max))
		return -ERANGE;
	uint16_t w[2];
	if (bl_mb_encode(r, value, w))
		return -ERANGE;
	return transfer(m, r, true, w);
}

const struct bl_mb_stats *bl_mb_stats(const struct bl_mb *m)
{
	return &m->stats;
}
