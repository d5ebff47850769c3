/* ne1000_sim.c: bl-pump-sim, an NE-1000 syringe pump on a pty: basic-mode protocol, plunger
 * physics, injectable alarms and faults. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bl_hwdb.h"
#include "ne1000_proto.h"
#include "simkit.h"

struct pump {
	int address;
	double max_rate_ul_min;
	struct bl_range dia_range;
	/* settings */
	double dia_mm;
	double rate_val;
	char rate_units[3];
	double vol_val;
	char vol_units[3];
	bool withdraw;
	/* motion */
	char state; /* I W S P */
	double infused_ul, withdrawn_ul, run_ul;
	double content_ul, capacity_ul;
	uint64_t last_ms;
	double time_scale;
	char alarm; /* pending alarm, reported with the next reply */
	/* faults */
	unsigned garble, mute, slow_ms;
	char stall_next; /* stall as soon as the plunger moves */
	uint64_t reconnect_at;
	/* line from the host */
	char line[64];
	size_t len;
	/* a reply held back by "slow" */
	char pending[96];
	uint64_t pending_at;
	unsigned commands, replies;
	struct bl_simkit_pty pty;
};

static volatile sig_atomic_t stop_flag;

static double rate_ul_min(const struct pump *p)
{
	const char *u = p->rate_units;
	double f = !strcmp(u, "UM")   ? 1
		   : !strcmp(u, "MM") ? 1000
		   : !strcmp(u, "UH") ? 1 / 60.0
				      : 1000 / 60.0;
	return p->rate_val * f;
}

static double vol_target_ul(const struct pump *p)
{
	return p->vol_val * (!strcmp(p->vol_units, "ML") ? 1000.0 : 1.0);
}

/* Moves the plunger for the time since the last call. */
static void advance(struct pump *p, uint64_t now)
{
	double minutes = (double)(now - p->last_ms) * p->time_scale / 60000.0;
	p->last_ms = now;
	if (p->state != 'I' && p->state != 'W')
		return;
	if (p->stall_next) {
		p->stall_next = 0;
		p->alarm = 'S';
		p->state = 'S';
		return;
	}
	double dv = rate_ul_min(p) * minutes;
	double target = vol_target_ul(p);
	if (target > 0 && p->run_ul + dv >= target)
		dv = target - p->run_ul;
	double room = p->state == 'I' ? p->content_ul : p->capacity_ul - p->content_ul;
	bool stalled = dv > room;
	if (stalled)
		dv = room;
	p->run_ul += dv;
	if (p->state == 'I') {
		p->content_ul -= dv;
		p->infused_ul += dv;
	} else {
		p->content_ul += dv;
		p->withdrawn_ul += dv;
	}
	if (stalled) { /* plunger at the end of the syringe: the motor stalls */
		p->alarm = 'S';
		p->state = 'S';
	} else if (target > 0 && p->run_ul >= target - 1e-9) {
		p->state = 'S'; /* volume dispensed: the phase ends */
	}
}

static void fmt(double v, char out[8])
{
	if (bl_ne_format_float(v, out))
		snprintf(out, 8, "9999");
}

/* Executes one command line; writes the reply packet into OUT ("" for no reply). */
static void execute(struct pump *p, const char *raw, char *out, size_t cap, uint64_t now)
{
	char cmd[64];
	size_t n = 0;
	for (const char *c = raw; *c && n + 1 < sizeof(cmd); c++) /* the pump strips and upcases */
		if (isgraph((unsigned char)*c))
			cmd[n++] = (char)toupper((unsigned char)*c);
	cmd[n] = 0;
	const char *c = cmd;
	int addr = 0;
	if (isdigit((unsigned char)*c)) {
		addr = (int)strtol(c, (char **)&c, 10);
	}
	out[0] = 0;
	if (addr != p->address)
		return; /* another pump on the chain */
	p->commands++;
	advance(p, now);
	char data[48] = "", f[8], f2[8];
	if (p->alarm) {
		snprintf(out, cap, "\x02%02dA?%c\x03", p->address, p->alarm);
		p->alarm = 0; /* reported: acknowledged; the command is not executed */
		return;
	}
	bool moving = p->state == 'I' || p->state == 'W';
	const char *err = NULL;
	if (!*c) {
		/* status query */
	} else if (!strncmp(c, "DIA", 3)) {
		if (!c[3]) {
			fmt(p->dia_mm, f);
			snprintf(data, sizeof(data), "%s", f);
		} else if (moving) {
			err = "NA";
		} else {
			double v = atof(c + 3);
			if (v < p->dia_range.min || v > p->dia_range.max)
				err = "OOR";
			else
				p->dia_mm = v;
		}
	} else if (!strncmp(c, "RAT", 3)) {
		if (!c[3]) {
			fmt(p->rate_val, f);
			snprintf(data, sizeof(data), "%s%s", f, p->rate_units);
		} else {
			char *u;
			double v = strtod(c + 3, &u);
			const char *units = *u ? u : p->rate_units;
			if (strcmp(units, "UM") && strcmp(units, "MM") && strcmp(units, "UH") &&
			    strcmp(units, "MH")) {
				err = "OOR";
			} else {
				struct pump t = *p;
				t.rate_val = v;
				snprintf(t.rate_units, sizeof(t.rate_units), "%s", units);
				if (!(v > 0) || rate_ul_min(&t) > p->max_rate_ul_min)
					err = "OOR";
				else
					*p = t;
			}
		}
	} else if (!strcmp(c, "VOLUL") || !strcmp(c, "VOLML")) {
		snprintf(p->vol_units, sizeof(p->vol_units), "%s", c + 3);
	} else if (!strncmp(c, "VOL", 3)) {
		if (!c[3]) {
			fmt(p->vol_val, f);
			snprintf(data, sizeof(data), "%s%s", f, p->vol_units);
		} else {
			double v = atof(c + 3);
			if (!(v >= 0) || v > 9999)
				err = "OOR";
			else
				p->vol_val = v;
		}
	} else if (!strncmp(c, "DIR", 3)) {
		if (!c[3])
			snprintf(data, sizeof(data), "%s", p->withdraw ? "WDR" : "INF");
		else if (!strcmp(c + 3, "INF"))
			p->withdraw = false;
		else if (!strcmp(c + 3, "WDR"))
			p->withdraw = true;
		else if (!strcmp(c + 3, "REV"))
			p->withdraw = !p->withdraw;
		else
			err = "OOR";
		if (c[3] && !err && moving)
			p->state = p->withdraw ? 'W' : 'I';
	} else if (!strcmp(c, "RUN")) {
		if (moving) {
			err = "NA";
		} else {
			if (p->state == 'S')
				p->run_ul = 0; /* a new run; a paused one continues */
			p->state = p->withdraw ? 'W' : 'I';
		}
	} else if (!strcmp(c, "STP")) {
		p->state = moving ? 'P' : 'S'; /* first STP pauses, a second one stops */
	} else if (!strcmp(c, "DIS")) {
		double k = !strcmp(p->vol_units, "ML") ? 1000.0 : 1.0;
		fmt(p->infused_ul / k, f);
		fmt(p->withdrawn_ul / k, f2);
		snprintf(data, sizeof(data), "I%sW%s%s", f, f2, p->vol_units);
	} else if (!strcmp(c, "CLDINF")) {
		p->infused_ul = 0;
	} else if (!strcmp(c, "CLDWDR")) {
		p->withdrawn_ul = 0;
	} else if (!strcmp(c, "VER")) {
		snprintf(data, sizeof(data), "NE1000V3.928");
	} else {
		err = "";
	}
	if (err)
		snprintf(out, cap, "\x02%02d%c?%s\x03", p->address, p->state, err);
	else
		snprintf(out, cap, "\x02%02d%c%s\x03", p->address, p->state, data);
}

static void send_packet(struct pump *p, const char *pkt)
{
	char buf[96];
	snprintf(buf, sizeof(buf), "%s", pkt);
	if (p->garble) {
		p->garble--;
		for (char *b = buf + 1; *b && *b != BL_NE_ETX; b++)
			*b = (char)(*b ^ 0x5a); /* line noise: framing survives, content does not */
	}
	if (p->pty.master >= 0 && write(p->pty.master, buf, strlen(buf)) > 0)
		p->replies++;
}

static void pty_input(struct pump *p, uint64_t now)
{
	char buf[64];
	ssize_t n;
	while ((n = read(p->pty.master, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\r') {
				if (p->len + 1 < sizeof(p->line))
					p->line[p->len++] = buf[i];
				continue;
			}
			p->line[p->len] = 0;
			p->len = 0;
			char pkt[96];
			execute(p, p->line, pkt, sizeof(pkt), now);
			if (!pkt[0])
				continue;
			if (p->mute) {
				p->mute--;
				continue;
			}
			if (p->slow_ms) {
				snprintf(p->pending, sizeof(p->pending), "%s", pkt);
				p->pending_at = now + p->slow_ms;
			} else {
				send_packet(p, pkt);
			}
		}
	}
}

static void control(void *ctx, char *cmd, char *out, size_t cap)
{
	struct pump *p = ctx;
	uint64_t now = bl_simkit_now_ms();
	advance(p, now);
	char *arg = strchr(cmd, ' ');
	if (arg)
		*arg++ = 0;
	double v = arg ? atof(arg) : 0;
	if (!strcmp(cmd, "show")) {
		snprintf(out, cap,
			 "ok state=%c alarm=%c rate_ul_min=%.4f dia_mm=%.3f infused_ul=%.3f "
			 "withdrawn_ul=%.3f content_ul=%.3f commands=%u",
			 p->state, p->alarm ? p->alarm : '-', rate_ul_min(p), p->dia_mm,
			 p->infused_ul, p->withdrawn_ul, p->content_ul, p->commands);
		return;
	}
	if (!strcmp(cmd, "stall"))
		p->stall_next = 1;
	else if (!strcmp(cmd, "reset")) {
		p->alarm = 'R';
		p->state = 'S';
	} else if (!strcmp(cmd, "garble"))
		p->garble = (unsigned)v;
	else if (!strcmp(cmd, "mute"))
		p->mute = (unsigned)v;
	else if (!strcmp(cmd, "slow"))
		p->slow_ms = (unsigned)v;
	else if (!strcmp(cmd, "fill"))
		p->content_ul = fmin(v, p->capacity_ul);
	else if (!strcmp(cmd, "disconnect")) {
		bl_simkit_pty_close(&p->pty);
		p->reconnect_at = now + (uint64_t)v;
		p->len = 0;
	} else if (!strcmp(cmd, "quit"))
		stop_flag = 1;
	else {
		snprintf(out, cap, "err unknown command '%s'", cmd);
		return;
	}
	snprintf(out, cap, "ok");
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bl-pump-sim --hwdb FILE [--device NAME] --link PATH --control PATH\n"
		"                   [--time-scale F] [--capacity-ul V] [--fill-ul V]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *hwdb = NULL, *dev = "pump", *ctl_path = NULL, *link = NULL;
	static struct pump p = {.pty = {-1, -1, ""},
				.time_scale = 1.0,
				.capacity_ul = 10000.0,
				.content_ul = 10000.0,
				.state = 'S',
				.rate_units = "UM",
				.vol_units = "UL",
				.dia_mm = 14.57,
				.rate_val = 10.0};
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		const char *a = argv[i], *v = argv[++i];
		if (!strcmp(a, "--hwdb"))
			hwdb = v;
		else if (!strcmp(a, "--device"))
			dev = v;
		else if (!strcmp(a, "--link"))
			link = v;
		else if (!strcmp(a, "--control"))
			ctl_path = v;
		else if (!strcmp(a, "--time-scale"))
			p.time_scale = atof(v);
		else if (!strcmp(a, "--capacity-ul"))
			p.capacity_ul = atof(v);
		else if (!strcmp(a, "--fill-ul"))
			p.content_ul = atof(v);
		else
			return usage();
	}
	if (!hwdb || !link || !ctl_path || !(p.time_scale > 0))
		return usage();
	static struct bl_hwdb_device dd;
	static struct bl_hwdb_model model;
	if (bl_simkit_device("bl-pump-sim", hwdb, dev, BL_PROTO_NE1000, &dd, &model))
		return 1;
	const struct bl_hwdb_device *d = &dd;
	p.address = d->address >= 0 ? d->address : 0;
	p.max_rate_ul_min = d->model->pump.max_rate_ul_min;
	p.dia_range = d->model->pump.diameter_mm;

	struct bl_simkit_ctl ctl;
	int rc = bl_simkit_ctl_open(&ctl, ctl_path, control, &p);
	if (!rc)
		rc = bl_simkit_pty_open(&p.pty, link);
	if (rc) {
		fprintf(stderr, "bl-pump-sim: %s\n", strerror(-rc));
		return 1;
	}
	bl_simkit_signals(&stop_flag);
	p.last_ms = bl_simkit_now_ms();
	printf("ready %s\n", link);
	fflush(stdout);
	while (!stop_flag) {
		uint64_t now = bl_simkit_now_ms();
		advance(&p, now);
		if (p.pty.master < 0 && p.reconnect_at && now >= p.reconnect_at) {
			p.reconnect_at = 0;
			if (bl_simkit_pty_open(&p.pty, link))
				break;
		}
		if (p.pending[0] && now >= p.pending_at) {
			send_packet(&p, p.pending);
			p.pending[0] = 0;
		}
		struct pollfd fds[2 + BL_SIMKIT_MAX_CLIENTS];
		fds[0] = (struct pollfd){.fd = p.pty.master, .events = POLLIN};
		int n = 1 + bl_simkit_ctl_pollfds(&ctl, fds + 1);
		int wait = p.pending[0] ? (p.pending_at > now ? (int)(p.pending_at - now) : 0) : 10;
		if (poll(fds, (nfds_t)n, wait) < 0 && errno != EINTR)
			break;
		if (p.pty.master >= 0 && (fds[0].revents & POLLIN))
			pty_input(&p, bl_simkit_now_ms());
		bl_simkit_ctl_handle(&ctl, fds + 1);
	}
	bl_simkit_pty_close(&p.pty);
	bl_simkit_ctl_close(&ctl);
	return 0;
}
