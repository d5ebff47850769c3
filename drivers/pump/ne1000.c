/* ne1000.c: NE-1000 syringe pump driver: one command in flight, queue behind it, retries, alarms,
 * reconnect. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bl_pump.h"
#include "bl_stream.h"

#define QUEUE	       16
#define TRIES	       3 /* sends of one command before it fails */
#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u

struct cmd {
	int ticket;
	char text[24];
	int kind; /* what to learn from the reply */
};

enum { K_PLAIN, K_DIA, K_RAT, K_DIS };

struct bl_pump {
	struct bl_hwdb_device dev;
	bool has_limits;
	struct bl_range rate, dia;
	struct bl_stream *link;
	uint64_t retry_at;
	unsigned backoff_ms;
	struct cmd q[QUEUE];
	int qlen; /* q[0] is in flight when inflight */
	bool inflight;
	int tries;
	uint64_t deadline;
	char rx[BL_NE_MAX_REPLY + 8];
	size_t rxlen;
	bool in_packet;
	int next_ticket;
	struct bl_pump_status st;
	/* commands that finished without I/O (cancelled), waiting to be reported */
	struct bl_pump_event done[QUEUE];
	int ndone;
};

int bl_pump_new(const struct bl_hwdb_device *dev, const struct bl_hwdb_printer *limits,
		struct bl_pump **out)
{
	if (!dev->model || dev->model->protocol != BL_PROTO_NE1000)
		return -EINVAL;
	struct bl_pump *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->dev = *dev;
	p->dia = dev->model->pump.diameter_mm;
	p->rate = (struct bl_range){0, dev->model->pump.max_rate_ul_min};
	if (limits) {
		p->rate = limits->flow_ul_min;
		p->has_limits = true;
	}
	p->backoff_ms = BACKOFF_MIN_MS;
	p->next_ticket = 1;
	p->st.state = BL_NE_STOPPED;
	*out = p;
	return 0;
}

void bl_pump_free(struct bl_pump *p)
{
	if (p) {
		bl_stream_close(p->link);
		free(p);
	}
}

static int enqueue(struct bl_pump *p, const char *text, int kind)
{
	if (p->qlen == QUEUE)
		return -ENOBUFS;
	struct cmd *c = &p->q[p->qlen++];
	c->ticket = p->next_ticket++;
	if (p->next_ticket <= 0)
		p->next_ticket = 1;
	snprintf(c->text, sizeof(c->text), "%s", text);
	c->kind = kind;
	return c->ticket;
}

int bl_pump_set_diameter(struct bl_pump *p, double mm)
{
	char f[8], cmd[24];
	if (!(mm >= p->dia.min && mm <= p->dia.max) || bl_ne_format_float(mm, f))
		return -ERANGE;
	snprintf(cmd, sizeof(cmd), "DIA%s", f);
	return enqueue(p, cmd, K_DIA);
}

int bl_pump_set_rate(struct bl_pump *p, double ul_min)
{
	char cmd[24];
	if (!(ul_min >= p->rate.min && ul_min <= p->rate.max) ||
	    bl_ne_format_rate(ul_min, cmd, sizeof(cmd)))
		return -ERANGE;
	return enqueue(p, cmd, K_RAT);
}

int bl_pump_set_volume(struct bl_pump *p, double ul)
{
	char f[8], cmd[24];
	/* below 10 mL in uL units keeps three decimals of a uL; above, mL */
	if (ul < 9999.5 && !bl_ne_format_float(ul, f))
		snprintf(cmd, sizeof(cmd), "VOL%s", f);
	else if (!bl_ne_format_float(ul / 1000.0, f))
		snprintf(cmd, sizeof(cmd), "VOL%s", f);
	else
		return -ERANGE;
	/* units are a separate command on the NE-1000 ("VOL UL" / "VOL ML") */
	int rc = enqueue(p, ul < 9999.5 ? "VOLUL" : "VOLML", K_PLAIN);
	return rc < 0 ? rc : enqueue(p, cmd, K_PLAIN);
}

int bl_pump_set_direction(struct bl_pump *p, enum bl_pump_dir dir)
{
	return enqueue(p, dir == BL_PUMP_INFUSE ? "DIRINF" : "DIRWDR", K_PLAIN);
}

int bl_pump_run(struct bl_pump *p)
{
	return enqueue(p, "RUN", K_PLAIN);
}

int bl_pump_query(struct bl_pump *p)
{
	return enqueue(p, "DIS", K_DIS);
}

int bl_pump_clear_dispensed(struct bl_pump *p)
{
	int rc = enqueue(p, "CLDINF", K_PLAIN);
	return rc < 0 ? rc : enqueue(p, "CLDWDR", K_PLAIN);
}

int bl_pump_command(struct bl_pump *p, const char *text)
{
	if (strlen(text) >= sizeof(p->q[0].text) || strpbrk(text, "\r\x02\x03"))
		return -EINVAL;
	return enqueue(p, text, K_PLAIN);
}

int bl_pump_stop(struct bl_pump *p)
{
	/* everything waiting behind the command in flight is dropped, the stop goes next */
	int keep = p->inflight ? 1 : 0;
	for (int i = keep; i < p->qlen && p->ndone < QUEUE; i++) {
		struct bl_pump_event *e = &p->done[p->ndone++];
		memset(e, 0, sizeof(*e));
		e->ticket = p->q[i].ticket;
		e->rc = -ECANCELED;
		snprintf(e->cmd, sizeof(e->cmd), "%s", p->q[i].text);
	}
	p->qlen = keep;
	return enqueue(p, "STP", K_PLAIN);
}

static void finish(struct bl_pump *p, int rc, const struct bl_ne_reply *r, struct bl_pump_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->ticket = p->q[0].ticket;
	ev->rc = rc;
	snprintf(ev->cmd, sizeof(ev->cmd), "%s", p->q[0].text);
	if (r)
		ev->reply = *r;
	memmove(&p->q[0], &p->q[1], (size_t)(p->qlen - 1) * sizeof(p->q[0]));
	p->qlen--;
	p->inflight = false;
	p->tries = 0;
}

static void link_down(struct bl_pump *p, uint64_t now)
{
	bl_stream_close(p->link);
	p->link = NULL;
	p->retry_at = now + p->backoff_ms;
	p->backoff_ms = p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2;
	p->rxlen = 0;
	p->in_packet = false;
}

static int send_head(struct bl_pump *p, uint64_t now)
{
	char pkt[40];
	int addr = p->dev.address >= 0 ? p->dev.address : -1;
	if (bl_ne_format_command(addr, p->q[0].text, pkt, sizeof(pkt)))
		return -ENOSPC;
	size_t n = strlen(pkt), off = 0;
	for (int spins = 0; off < n && spins < 100; spins++) {
		ssize_t w = bl_stream_write(p->link, pkt + off, n - off);
		if (w > 0)
			off += (size_t)w;
		else if (w != -EAGAIN)
			return (int)w;
	}
	if (off < n)
		return -EAGAIN;
	p->inflight = true;
	p->tries++;
	p->deadline = now + (uint64_t)p->dev.timeouts.command_ms;
	p->rxlen = 0;
	p->in_packet = false;
	return 0;
}

/* Applies a good reply to the status; returns the command's result code. */
static int absorb(struct bl_pump *p, const struct bl_ne_reply *r, uint64_t now)
{
	p->st.at_ms = now;
	if (r->state == BL_NE_ALARM) {
		p->st.alarm = r->alarm;
		p->st.state = BL_NE_STOPPED; /* an alarm stops the pump */
		return -EIO;
	}
	p->st.state = r->state;
	if (r->error)
		return bl_ne_error_errno(r->error);
	const struct cmd *c = &p->q[0];
	if (c->kind == K_DIA)
		p->st.diameter_mm = atof(c->text + 3);
	else if (c->kind == K_RAT)
		bl_ne_parse_rate(c->text + 3, &p->st.rate_ul_min);
	else if (c->kind == K_DIS &&
		 bl_ne_parse_dispensed(r->data, &p->st.infused_ul, &p->st.withdrawn_ul))
		return -EBADMSG;
	return 0;
}

/* Retries the command in flight, or fails it with RC after the last try. */
static int retry_or_fail(struct bl_pump *p, int rc, uint64_t now, struct bl_pump_event *ev)
{
	if (p->tries < TRIES) {
		p->inflight = false; /* sent again on the next poll */
		return 0;
	}
	finish(p, rc, NULL, ev);
	if (rc == -ETIMEDOUT)
		link_down(p, now); /* a pump that stopped answering: start the link afresh */
	return 1;
}

int bl_pump_poll(struct bl_pump *p, uint64_t now, struct bl_pump_event *ev)
{
	if (p->ndone) {
		*ev = p->done[0];
		memmove(&p->done[0], &p->done[1], (size_t)(p->ndone - 1) * sizeof(p->done[0]));
		p->ndone--;
		return 1;
	}
	if (!p->link) {
		if (now < p->retry_at)
			return -ENOTCONN;
		if (bl_stream_open(&p->dev.transport, &p->link)) {
			p->link = NULL;
			link_down(p, now);
			return -ENOTCONN;
		}
		p->backoff_ms = BACKOFF_MIN_MS;
	}
	if (p->inflight) {
		char buf[64];
		ssize_t n;
		while ((n = bl_stream_read(p->link, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < n; i++) {
				char c = buf[i];
				if (c == BL_NE_STX) {
					p->in_packet = true;
					p->rxlen = 0;
				}
				if (!p->in_packet)
					continue; /* noise between packets */
				if (p->rxlen == sizeof(p->rx)) {
					p->in_packet = false;
					return retry_or_fail(p, -EBADMSG, now, ev);
				}
				p->rx[p->rxlen++] = c;
				if (c != BL_NE_ETX)
					continue;
				p->in_packet = false;
				struct bl_ne_reply r;
				if (bl_ne_parse_reply(p->rx, p->rxlen, &r) ||
				    (p->dev.address >= 0 && r.address != p->dev.address))
					return retry_or_fail(p, -EBADMSG, now, ev);
				int rc = absorb(p, &r, now);
				finish(p, rc, &r, ev);
				return 1;
			}
		}
		if (n < 0) { /* the link dropped with a command in flight */
			link_down(p, now);
			finish(p, -ECONNRESET, NULL, ev);
			return 1;
		}
		if (now >= p->deadline)
			return retry_or_fail(p, -ETIMEDOUT, now, ev);
		return 0;
	}
	if (p->qlen && p->link) {
		int rc = send_head(p, now);
		if (rc && rc != -EAGAIN) {
			link_down(p, now);
			finish(p, -ECONNRESET, NULL, ev);
			return 1;
		}
	}
	return 0;
}

const struct bl_pump_status *bl_pump_status(const struct bl_pump *p)
{
	return &p->st;
}

void bl_pump_clear_alarm(struct bl_pump *p)
{
	p->st.alarm = BL_NE_ALARM_NONE;
}

int bl_pump_fd(const struct bl_pump *p)
{
	return p->link ? bl_stream_fd(p->link) : -1;
}

int bl_pump_busy(const struct bl_pump *p)
{
	return p->qlen + p->ndone;
}
