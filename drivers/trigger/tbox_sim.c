/* tbox_sim.c: bl-tbox-sim, a trigger box on TCP: pulse trains on a 10 ns clock, edge recording,
 * edges sent on to the detector simulator, faults. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "simkit.h"
#include "tbox_proto.h"

#define RING 4096

struct train {
	bool armed;
	struct bl_tbox_train t;
	uint32_t next; /* index of the next pulse */
	uint32_t id;
};

struct box {
	int channels;
	double min_period_us, min_width_us;
	uint64_t t0_ns;
	struct train tr[BL_TBOX_CHANNELS_MAX];
	uint32_t train_ids;
	/* recorded edges, numbered from 0; ring holds numbers [first, first + count) */
	struct bl_tbox_edge ring[RING];
	uint32_t first, count;
	unsigned lost;
	uint8_t inputs;
	uint32_t input_edges;
	/* link */
	int lfd, cfd;
	uint8_t rx[BL_TBOX_MAX_FRAME * 2];
	size_t rxlen;
	/* edges forwarded to the detector simulator */
	int efd;
	struct sockaddr_un edge_to;
	/* faults */
	unsigned garble, mute, drop;
	unsigned requests;
};

static volatile sig_atomic_t stop_flag;

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The box's own clock: 10 ns ticks since it powered up. */
static uint64_t now_tick(const struct box *b)
{
	return (mono_ns() - b->t0_ns) / (1000000000u / BL_TBOX_TICK_HZ);
}

static void record(struct box *b, const struct bl_tbox_edge *e)
{
	if (b->count == RING) { /* nobody read them: the oldest is lost */
		b->first++;
		b->count--;
		b->lost++;
	}
	b->ring[(b->first + b->count) % RING] = *e;
	b->count++;
	if (b->efd >= 0 && e->kind == BL_TBOX_EDGE_OUT) {
		char line[96];
		int n = snprintf(line, sizeof(line), "edge %u %u %llu", e->channel, e->index,
				 (unsigned long long)e->tick);
		sendto(b->efd, line, (size_t)n, MSG_DONTWAIT, (struct sockaddr *)&b->edge_to,
		       sizeof(b->edge_to));
	}
}

/* Emits every pulse whose time has come; returns the tick of the next one (UINT64_MAX: none). */
static uint64_t run_trains(struct box *b)
{
	uint64_t now = now_tick(b), next = UINT64_MAX;
	for (int c = 0; c < b->channels; c++) {
		struct train *tr = &b->tr[c];
		while (tr->armed) {
			uint64_t at = tr->t.start_tick + (uint64_t)tr->next * tr->t.period_ticks;
			if (at > now) {
				if (at < next)
					next = at;
				break;
			}
			if (b->drop) {
				b->drop--; /* a pulse that never made it to the cable */
			} else {
				struct bl_tbox_edge e = {.channel = (uint8_t)c,
							 .kind = BL_TBOX_EDGE_OUT,
							 .index = tr->next,
							 .tick = at};
				record(b, &e);
			}
			if (++tr->next >= tr->t.count)
				tr->armed = false;
		}
	}
	return next;
}

static void reply(struct box *b, struct bl_tbox_frame *f)
{
	uint8_t wire[BL_TBOX_MAX_FRAME];
	size_t n = bl_tbox_encode(f, wire);
	if (b->mute) {
		b->mute--;
		return;
	}
	if (b->garble) {
		b->garble--;
		wire[n - 1] ^= 0x5a; /* a damaged CRC */
	}
	if (send(b->cfd, wire, n, MSG_NOSIGNAL) < 0) {
		close(b->cfd);
		b->cfd = -1;
	}
}

static void nak(struct box *b, const struct bl_tbox_frame *req, uint8_t code)
{
	struct bl_tbox_frame f = {.type = BL_TBOX_NAK, .seq = req->seq, .len = 2};
	f.payload[0] = code;
	f.payload[1] = req->type;
	reply(b, &f);
}

static void handle(struct box *b, const struct bl_tbox_frame *req)
{
	b->requests++;
	run_trains(b);
	struct bl_tbox_frame f = {.type = (uint8_t)(req->type | BL_TBOX_REPLY), .seq = req->seq};
	switch (req->type) {
	case BL_TBOX_PING:
		bl_tbox_put16(f.payload, 1);
		bl_tbox_put16(f.payload + 2, (uint16_t)b->channels);
		bl_tbox_put32(f.payload + 4, BL_TBOX_TICK_HZ);
		f.len = 8;
		break;
	case BL_TBOX_GET_TIME:
		bl_tbox_put64(f.payload, now_tick(b));
		f.len = 8;
		break;
	case BL_TBOX_ARM: {
		struct bl_tbox_train t;
		if (bl_tbox_train_get(req, &t))
			return nak(b, req, BL_TBOX_NAK_FRAME);
		double us = 1e6 / BL_TBOX_TICK_HZ;
		if (t.channel >= b->channels)
			return nak(b, req, BL_TBOX_NAK_CHANNEL);
		if (!t.count || t.width_ticks >= t.period_ticks ||
		    t.period_ticks * us < b->min_period_us - 1e-9 ||
		    t.width_ticks * us < b->min_width_us - 1e-9)
			return nak(b, req, BL_TBOX_NAK_TIMING);
		if (b->tr[t.channel].armed)
			return nak(b, req, BL_TBOX_NAK_BUSY);
		if (t.start_tick <= now_tick(b))
			return nak(b, req, BL_TBOX_NAK_LATE);
		b->tr[t.channel] = (struct train){.armed = true, .t = t, .id = ++b->train_ids};
		f.payload[0] = t.channel;
		bl_tbox_put32(f.payload + 4, b->train_ids);
		f.len = 8;
		break;
	}
	case BL_TBOX_STOP: {
		uint8_t c = req->len ? req->payload[0] : 0xff;
		if (c >= b->channels)
			return nak(b, req, BL_TBOX_NAK_CHANNEL);
		b->tr[c].armed = false;
		f.payload[0] = c;
		bl_tbox_put32(f.payload + 4, b->tr[c].id);
		f.len = 8;
		break;
	}
	case BL_TBOX_EDGES: {
		if (req->len != 8)
			return nak(b, req, BL_TBOX_NAK_FRAME);
		unsigned max = bl_tbox_get16(req->payload);
		uint32_t ack = bl_tbox_get32(req->payload + 4);
		while (b->count && b->first < ack) { /* acknowledged: forget them */
			b->first++;
			b->count--;
		}
		unsigned n = b->count < max ? b->count : max;
		if (n > BL_TBOX_MAX_EDGES)
			n = BL_TBOX_MAX_EDGES;
		bl_tbox_put16(f.payload, (uint16_t)n);
		bl_tbox_put16(f.payload + 2, (uint16_t)(b->lost > 0xffff ? 0xffff : b->lost));
		bl_tbox_put32(f.payload + 4, b->first);
		for (unsigned i = 0; i < n; i++)
			bl_tbox_edge_put(&b->ring[(b->first + i) % RING],
					 f.payload + 8 + i * BL_TBOX_EDGE_SIZE);
		f.len = (uint16_t)(8 + n * BL_TBOX_EDGE_SIZE);
		break;
	}
	case BL_TBOX_STATUS:
		memset(f.payload, 0, 4 + 4 * BL_TBOX_CHANNELS_MAX);
		for (int c = 0; c < b->channels; c++) {
			if (b->tr[c].armed) {
				f.payload[0] |= (uint8_t)(1u << c);
				bl_tbox_put32(f.payload + 4 + 4 * c,
					      b->tr[c].t.count - b->tr[c].next);
			}
		}
		f.payload[1] = b->inputs;
		f.len = 4 + 4 * BL_TBOX_CHANNELS_MAX;
		break;
	default: return nak(b, req, BL_TBOX_NAK_TYPE);
	}
	reply(b, &f);
}

static void client_input(struct box *b)
{
	ssize_t n = recv(b->cfd, b->rx + b->rxlen, sizeof(b->rx) - b->rxlen, 0);
	if (n <= 0) {
		close(b->cfd);
		b->cfd = -1;
		b->rxlen = 0;
		return;
	}
	b->rxlen += (size_t)n;
	while (b->rxlen && b->cfd >= 0) {
		struct bl_tbox_frame f;
		int used = bl_tbox_decode(b->rx, b->rxlen, &f);
		if (used == 0)
			break;
		if (used < 0) { /* a broken frame: say so once, then resync on the next magic */
			struct bl_tbox_frame bad = {.type = b->rx[1], .seq = b->rx[2]};
			if (b->rx[0] == BL_TBOX_MAGIC)
				nak(b, &bad, BL_TBOX_NAK_FRAME);
			memmove(b->rx, b->rx + 1, --b->rxlen);
			continue;
		}
		memmove(b->rx, b->rx + used, b->rxlen - (size_t)used);
		b->rxlen -= (size_t)used;
		handle(b, &f);
	}
}

static void control(void *ctx, char *cmd, char *out, size_t cap)
{
	struct box *b = ctx;
	char *arg = strchr(cmd, ' ');
	if (arg)
		*arg++ = 0;
	unsigned v = arg ? (unsigned)strtoul(arg, NULL, 10) : 0;
	run_trains(b);
	if (!strcmp(cmd, "show")) {
		snprintf(
		    out, cap, "ok tick=%llu edges=%u first=%u lost=%u armed=%d%d%d%d requests=%u",
		    (unsigned long long)now_tick(b), b->count, b->first, b->lost, b->tr[0].armed,
		    b->tr[1].armed, b->tr[2].armed, b->tr[3].armed, b->requests);
		return;
	}
	unsigned ch, level;
	if (!strcmp(cmd, "input") && arg && sscanf(arg, "%u %u", &ch, &level) == 2 && ch < 8) {
		bool was = b->inputs & (1u << ch);
		if (was != (level != 0)) {
			b->inputs ^= (uint8_t)(1u << ch);
			struct bl_tbox_edge e = {.channel = (uint8_t)ch,
						 .kind = level ? BL_TBOX_EDGE_IN_RISE
							       : BL_TBOX_EDGE_IN_FALL,
						 .index = b->input_edges++,
						 .tick = now_tick(b)};
			record(b, &e);
		}
	} else if (!strcmp(cmd, "garble")) {
		b->garble = v;
	} else if (!strcmp(cmd, "mute")) {
		b->mute = v;
	} else if (!strcmp(cmd, "drop")) {
		b->drop = v;
	} else if (!strcmp(cmd, "disconnect")) {
		if (b->cfd >= 0)
			close(b->cfd);
		b->cfd = -1;
		b->rxlen = 0;
	} else if (!strcmp(cmd, "quit")) {
		stop_flag = 1;
	} else {
		snprintf(out, cap, "err unknown command '%s'", cmd);
		return;
	}
	snprintf(out, cap, "ok");
}

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: bl-tbox-sim --hwdb FILE [--device NAME] --control PATH --port N\n"
	    "                   [--edges-to PATH]   (UNIX datagram socket of the detector)\n"
	    "                   [--interlocks clear|raw]  (clear: hwdb interlock inputs idle)\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *hwdb = NULL, *dev = "trigger", *ctl_path = NULL, *edges = NULL;
	bool clear_interlocks = false;
	int port = -1;
	static struct box b = {.lfd = -1, .cfd = -1, .efd = -1};
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		const char *a = argv[i], *v = argv[++i];
		if (!strcmp(a, "--hwdb"))
			hwdb = v;
		else if (!strcmp(a, "--device"))
			dev = v;
		else if (!strcmp(a, "--control"))
			ctl_path = v;
		else if (!strcmp(a, "--port"))
			port = atoi(v);
		else if (!strcmp(a, "--edges-to"))
			edges = v;
		else if (!strcmp(a, "--interlocks"))
			clear_interlocks = !strcmp(v, "clear");
		else
			return usage();
	}
	if (!hwdb || !ctl_path || port < 0)
		return usage();
	static struct bl_hwdb_device d;
	static struct bl_hwdb_model model;
	if (bl_simkit_device("bl-tbox-sim", hwdb, dev, BL_PROTO_TBOX, &d, &model))
		return 1;
	b.channels = model.trigger.channels < BL_TBOX_CHANNELS_MAX ? model.trigger.channels
								   : BL_TBOX_CHANNELS_MAX;
	b.min_period_us = model.trigger.min_period_us;
	b.min_width_us = model.trigger.min_width_us;
	/* With --interlocks clear the simulated hutch starts healthy: an active-low interlock
	 * input wired to this box (beam lost) reads high until the control socket says otherwise.
	 * Without it every input starts low (the driver tests' raw box). */
	struct bl_hwdb *db;
	static struct bl_hwdb_errors errs;
	if (clear_interlocks && bl_hwdb_load(hwdb, &db, &errs) == 0) {
		for (size_t i = 0; i < db->ninterlocks; i++)
			if (!strcmp(db->interlocks[i].source, dev) &&
			    !db->interlocks[i].active_high && db->interlocks[i].input >= 0 &&
			    db->interlocks[i].input < 8)
				b.inputs |= (uint8_t)(1u << db->interlocks[i].input);
		bl_hwdb_free(db);
	}
	if (edges) {
		b.efd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		b.edge_to.sun_family = AF_UNIX;
		snprintf(b.edge_to.sun_path, sizeof(b.edge_to.sun_path), "%s", edges);
	}
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	b.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(b.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct bl_simkit_ctl ctl;
	if (b.lfd < 0 || bind(b.lfd, (struct sockaddr *)&a, sizeof(a)) || listen(b.lfd, 2) ||
	    bl_simkit_ctl_open(&ctl, ctl_path, control, &b)) {
		perror("bl-tbox-sim");
		return 1;
	}
	socklen_t al = sizeof(a);
	getsockname(b.lfd, (struct sockaddr *)&a, &al);
	b.t0_ns = mono_ns();
	bl_simkit_signals(&stop_flag);
	printf("ready tcp 127.0.0.1 %d\n", ntohs(a.sin_port));
	fflush(stdout);
	while (!stop_flag) {
		uint64_t next = run_trains(&b), now = now_tick(&b);
		int wait = 50;
		if (next != UINT64_MAX)
			wait = next > now ? (int)((next - now) / (BL_TBOX_TICK_HZ / 1000)) : 0;
		struct pollfd p[2 + 1 + BL_SIMKIT_MAX_CLIENTS];
		p[0] = (struct pollfd){.fd = b.lfd, .events = POLLIN};
		p[1] = (struct pollfd){.fd = b.cfd, .events = POLLIN};
		int n = 2 + bl_simkit_ctl_pollfds(&ctl, p + 2);
		if (poll(p, (nfds_t)n, wait < 50 ? wait : 50) < 0 && errno != EINTR)
			break;
		/* the old client first: a host that closes and reconnects must find the box free */
		if (b.cfd >= 0 && (p[1].revents & (POLLIN | POLLHUP)))
			client_input(&b);
		if (p[0].revents & POLLIN) {
			int c = accept4(b.lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0 && b.cfd >= 0)
				close(c); /* one client at a time, as over USB */
			else if (c >= 0)
				b.cfd = c;
		}
		bl_simkit_ctl_handle(&ctl, p + 2);
	}
	if (b.cfd >= 0)
		close(b.cfd);
	close(b.lfd);
	bl_simkit_ctl_close(&ctl);
	return 0;
}
