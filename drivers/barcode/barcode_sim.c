/* barcode_sim.c: bl-barcode-sim, a serial barcode reader on a pty pair holding the virtual pucks'
 * codes, with injectable faults. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "barcode_proto.h"
#include "bl_hwdb.h"
#include "simkit.h"

struct sim {
	/* protocol, from the hwdb model */
	char trigger[16], stop[16], no_read[16], term[8];
	struct bl_simkit_pty pty;
	char inbuf[64];
	size_t inlen;
	char presented[BL_BARCODE_MAX]; /* the code under the reader, "" for none */
	int reply_due;
	uint64_t reply_at;
	unsigned read_ms;
	/* faults */
	unsigned noread, misread, garble, slow_ms;
	uint64_t reconnect_at; /* pty gone until then (0: up) */
	unsigned triggers, replies, stops;
	/* The shared world: the robot simulator says which sample its gripper holds at the reader;
	 * labels differing from the standard code of their slot (mislabelled, unreadable). */
	const char *robot_ctl;
	int nlabels;
	struct {
		int id; /* puck * 100 + slot */
		char code[BL_BARCODE_MAX];
	} labels[64];
};

/* With --robot-ctl: what is in front of the reader now is whatever the robot holds there. */
static void world_present(struct sim *s)
{
	char ans[64];
	int id = 0, at = 0;
	s->presented[0] = 0;
	if (bl_simkit_ctl_call(s->robot_ctl, "holding", ans, sizeof(ans)) ||
	    sscanf(ans, "ok %d %d", &id, &at) != 2 || id <= 0 || !at)
		return; /* nothing there: a no-read */
	for (int i = 0; i < s->nlabels; i++) {
		if (s->labels[i].id == id) {
			snprintf(s->presented, sizeof(s->presented), "%s", s->labels[i].code);
			return;
		}
	}
	bl_bc_sim_code(id / 100, id % 100, s->presented);
}

static volatile sig_atomic_t stop_flag;

static void send_reply(struct sim *s)
{
	char line[BL_BARCODE_MAX + 16];
	s->reply_due = 0;
	if (s->robot_ctl)
		world_present(s);
	if (s->noread) {
		s->noread--;
		snprintf(line, sizeof(line), "%s", s->no_read);
	} else if (!s->presented[0]) {
		snprintf(line, sizeof(line), "%s", s->no_read);
	} else if (s->garble) {
		s->garble--;
		snprintf(line, sizeof(line), "\x02\xff%.4s\x7f", s->presented);
	} else {
		snprintf(line, sizeof(line), "%s", s->presented);
		if (s->misread) { /* a wrong digit, as a smudged label gives */
			s->misread--;
			char *d = strpbrk(line, "0123456789");
			if (d)
				*d = (char)('0' + (*d - '0' + 1) % 10);
		}
	}
	strncat(line, s->term, sizeof(line) - strlen(line) - 1);
	if (write(s->pty.master, line, strlen(line)) > 0)
		s->replies++;
}

static bool ends_with(const char *buf, size_t len, const char *tail)
{
	size_t n = strlen(tail);
	return n && len >= n && !memcmp(buf + len - n, tail, n);
}

static void pty_input(struct sim *s, uint64_t now)
{
	char buf[64];
	ssize_t n;
	while ((n = read(s->pty.master, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (s->inlen == sizeof(s->inbuf)) {
				memmove(s->inbuf, s->inbuf + 32, sizeof(s->inbuf) - 32);
				s->inlen -= 32;
			}
			s->inbuf[s->inlen++] = buf[i];
			if (ends_with(s->inbuf, s->inlen, s->trigger)) {
				s->triggers++;
				s->reply_due = 1;
				s->reply_at = now + s->read_ms + s->slow_ms;
				s->inlen = 0;
			} else if (ends_with(s->inbuf, s->inlen, s->stop)) {
				s->stops++;
				s->reply_due = 0; /* the reader stops its read */
				s->inlen = 0;
			}
		}
	}
}

static void control(void *ctx, char *cmd, char *out, size_t cap)
{
	struct sim *s = ctx;
	char *arg = strchr(cmd, ' ');
	if (arg)
		*arg++ = 0;
	unsigned v = arg ? (unsigned)strtoul(arg, NULL, 10) : 0;
	int p, sl;
	if (!strcmp(cmd, "present") && arg && sscanf(arg, "%d %d", &p, &sl) == 2) {
		bl_bc_sim_code(p, sl, s->presented);
		snprintf(out, cap, "ok %s", s->presented);
		return;
	}
	char code[BL_BARCODE_MAX];
	if (!strcmp(cmd, "label") && arg && sscanf(arg, "%d %d %31s", &p, &sl, code) == 3) {
		/* label P S CODE|none: the sample of that slot carries CODE (none: unreadable) */
		int i = 0;
		while (i < s->nlabels && s->labels[i].id != p * 100 + sl)
			i++;
		if (i == (int)(sizeof(s->labels) / sizeof(s->labels[0]))) {
			snprintf(out, cap, "err too many labels");
			return;
		}
		s->nlabels += i == s->nlabels;
		s->labels[i].id = p * 100 + sl;
		snprintf(s->labels[i].code, sizeof(s->labels[i].code), "%s",
			 strcmp(code, "none") ? code : "");
		snprintf(out, cap, "ok");
		return;
	}
	if (!strcmp(cmd, "present") && arg) {
		snprintf(s->presented, sizeof(s->presented), "%s", strcmp(arg, "none") ? arg : "");
		snprintf(out, cap, "ok %s", s->presented[0] ? s->presented : "none");
		return;
	}
	if (!strcmp(cmd, "noread"))
		s->noread = v;
	else if (!strcmp(cmd, "misread"))
		s->misread = v;
	else if (!strcmp(cmd, "garble"))
		s->garble = v;
	else if (!strcmp(cmd, "slow"))
		s->slow_ms = v;
	else if (!strcmp(cmd, "disconnect")) {
		bl_simkit_pty_close(&s->pty);
		s->reply_due = 0;
		s->reconnect_at = bl_simkit_now_ms() + v;
	} else if (!strcmp(cmd, "stats")) {
		snprintf(out, cap, "ok triggers=%u replies=%u stops=%u", s->triggers, s->replies,
			 s->stops);
		return;
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
	fprintf(stderr,
		"usage: bl-barcode-sim --hwdb FILE [--device NAME] --link PATH --control PATH "
		"[--read-ms N] [--robot-ctl PATH]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *hwdb = NULL, *dev = "barcode", *ctl_path = NULL, *link = NULL;
	static struct sim s = {.pty = {.master = -1, .slave = -1}, .read_ms = 20};
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--hwdb"))
			hwdb = argv[++i];
		else if (!strcmp(argv[i], "--device"))
			dev = argv[++i];
		else if (!strcmp(argv[i], "--link"))
			link = argv[++i];
		else if (!strcmp(argv[i], "--control"))
			ctl_path = argv[++i];
		else if (!strcmp(argv[i], "--read-ms"))
			s.read_ms = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--robot-ctl"))
			s.robot_ctl = argv[++i];
		else
			return usage();
	}
	if (!hwdb || !link || !ctl_path)
		return usage();
	static struct bl_hwdb_device dd;
	static struct bl_hwdb_model model;
	if (bl_simkit_device("bl-barcode-sim", hwdb, dev, BL_PROTO_BARCODE_SERIAL, &dd, &model))
		return 1;
	const struct bl_hwdb_device *d = &dd;
	snprintf(s.trigger, sizeof(s.trigger), "%s", d->model->barcode.trigger);
	snprintf(s.stop, sizeof(s.stop), "%s", d->model->barcode.stop);
	snprintf(s.no_read, sizeof(s.no_read), "%s", d->model->barcode.no_read);
	_Static_assert(sizeof(s.term) == sizeof(d->transport.terminator), "terminator sizes");
	memcpy(s.term, d->transport.terminator, sizeof(s.term)); /* NUL-terminated by hwdb */

	struct bl_simkit_ctl ctl;
	int rc = bl_simkit_ctl_open(&ctl, ctl_path, control, &s);
	if (!rc)
		rc = bl_simkit_pty_open(&s.pty, link);
	if (rc) {
		fprintf(stderr, "bl-barcode-sim: %s\n", strerror(-rc));
		return 1;
	}
	bl_simkit_signals(&stop_flag);
	printf("ready %s\n", link);
	fflush(stdout);

	while (!stop_flag) {
		uint64_t now = bl_simkit_now_ms();
		if (s.pty.master < 0 && s.reconnect_at && now >= s.reconnect_at) {
			s.reconnect_at = 0;
			if (bl_simkit_pty_open(&s.pty, link))
				break;
		}
		if (s.reply_due && now >= s.reply_at && s.pty.master >= 0)
			send_reply(&s);
		struct pollfd p[2 + BL_SIMKIT_MAX_CLIENTS];
		p[0] = (struct pollfd){.fd = s.pty.master, .events = POLLIN};
		int n = 1 + bl_simkit_ctl_pollfds(&ctl, p + 1);
		int wait = 50;
		if (s.reply_due)
			wait = s.reply_at > now ? (int)(s.reply_at - now) : 0;
		if (s.reconnect_at)
			wait = s.reconnect_at > now ? (int)(s.reconnect_at - now) : 0;
		if (poll(p, (nfds_t)n, wait) < 0 && errno != EINTR)
			break;
		if (s.pty.master >= 0 && (p[0].revents & POLLIN))
			pty_input(&s, bl_simkit_now_ms());
		bl_simkit_ctl_handle(&ctl, p + 1);
	}
	bl_simkit_pty_close(&s.pty);
	bl_simkit_ctl_close(&ctl);
	return 0;
}
