/* barcode_sim.c: bl-barcode-sim, a serial barcode reader on a pty pair holding the virtual pucks'
 * codes, with injectable faults. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "barcode_proto.h"
#include "bl_hwdb.h"

#define MAX_CLIENTS 8

struct sim {
	/* protocol, from the hwdb model */
	char trigger[16], stop[16], no_read[16], term[8];
	/* the pty the driver talks to */
	int master, slave;
	char link[256];
	char inbuf[64];
	size_t inlen;
	/* what is under the reader */
	char presented[BL_BARCODE_MAX];
	/* a reply being "read" */
	int reply_due;
	uint64_t reply_at;
	unsigned read_ms;
	/* faults */
	unsigned noread, misread, garble, slow_ms;
	uint64_t reconnect_at; /* link down until then (0: up) */
	/* counters */
	unsigned triggers, replies, stops;
	/* control */
	int lfd;
	int clients[MAX_CLIENTS];
	char ctl[256];
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Creates the pty pair and points the link at its slave side (atomically). */
static int pty_up(struct sim *s)
{
	char name[128];
	if (openpty(&s->master, &s->slave, name, NULL, NULL))
		return -errno;
	struct termios tio;
	tcgetattr(s->slave, &tio);
	cfmakeraw(&tio); /* until the driver configures it: no echo, no line editing */
	tcsetattr(s->slave, TCSANOW, &tio);
	fcntl(s->master, F_SETFL, O_NONBLOCK);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.new", s->link);
	unlink(tmp);
	if (symlink(name, tmp) || rename(tmp, s->link))
		return -errno;
	s->inlen = 0;
	return 0;
}

static void pty_down(struct sim *s)
{
	if (s->master >= 0)
		close(s->master);
	if (s->slave >= 0)
		close(s->slave);
	s->master = s->slave = -1;
	s->reply_due = 0;
	unlink(s->link);
}

static void send_reply(struct sim *s)
{
	char line[BL_BARCODE_MAX + 16];
	s->reply_due = 0;
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
	if (write(s->master, line, strlen(line)) > 0)
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
	while ((n = read(s->master, buf, sizeof(buf))) > 0) {
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

/* One control command; writes the answer line into OUT. */
static void control(struct sim *s, char *cmd, char *out, size_t cap, uint64_t now)
{
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
		pty_down(s);
		s->reconnect_at = now + v;
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

static void client_input(struct sim *s, int i, uint64_t now)
{
	char buf[256];
	ssize_t n = read(s->clients[i], buf, sizeof(buf) - 1);
	if (n <= 0) {
		close(s->clients[i]);
		s->clients[i] = -1;
		return;
	}
	buf[n] = 0;
	for (char *save, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char out[256];
		control(s, line, out, sizeof(out) - 1, now);
		strcat(out, "\n");
		if (write(s->clients[i], out, strlen(out)) < 0)
			break;
	}
}

static int usage(void)
{
	fprintf(stderr,
		"usage: bl-barcode-sim --hwdb FILE [--device NAME] --link PATH --control PATH "
		"[--read-ms N]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *hwdb = NULL, *dev = "barcode", *ctl = NULL;
	static struct sim s = {.master = -1, .slave = -1, .read_ms = 20, .lfd = -1};
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		if (!strcmp(argv[i], "--hwdb"))
			hwdb = argv[++i];
		else if (!strcmp(argv[i], "--device"))
			dev = argv[++i];
		else if (!strcmp(argv[i], "--link"))
			snprintf(s.link, sizeof(s.link), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--control"))
			ctl = argv[++i];
		else if (!strcmp(argv[i], "--read-ms"))
			s.read_ms = (unsigned)atoi(argv[++i]);
		else
			return usage();
	}
	if (!hwdb || !s.link[0] || !ctl)
		return usage();
	static struct bl_hwdb_errors errs;
	struct bl_hwdb *db;
	if (bl_hwdb_load(hwdb, &db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return 1;
	}
	const struct bl_hwdb_device *d = bl_hwdb_device(db, dev);
	if (!d || d->model->cls != BL_CLASS_BARCODE ||
	    d->model->protocol != BL_PROTO_BARCODE_SERIAL) {
		fprintf(stderr, "bl-barcode-sim: '%s' is not a serial barcode reader in %s\n", dev,
			hwdb);
		return 1;
	}
	snprintf(s.trigger, sizeof(s.trigger), "%s", d->model->barcode.trigger);
	snprintf(s.stop, sizeof(s.stop), "%s", d->model->barcode.stop);
	snprintf(s.no_read, sizeof(s.no_read), "%s", d->model->barcode.no_read);
	snprintf(s.term, sizeof(s.term), "%s", d->transport.terminator);
	bl_hwdb_free(db);

	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", ctl);
	unlink(ctl);
	s.lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s.lfd < 0 || bind(s.lfd, (struct sockaddr *)&addr, sizeof(addr)) || listen(s.lfd, 4)) {
		perror("bl-barcode-sim: control socket");
		return 1;
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		s.clients[i] = -1;
	if (pty_up(&s)) {
		perror("bl-barcode-sim: pty");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("ready %s\n", s.link);
	fflush(stdout);

	while (!stop_flag) {
		uint64_t now = now_ms();
		if (s.master < 0 && s.reconnect_at && now >= s.reconnect_at) {
			s.reconnect_at = 0;
			if (pty_up(&s))
				break;
		}
		if (s.reply_due && now >= s.reply_at && s.master >= 0)
			send_reply(&s);
		struct pollfd p[2 + MAX_CLIENTS];
		int n = 0;
		p[n++] = (struct pollfd){.fd = s.lfd, .events = POLLIN};
		p[n++] = (struct pollfd){.fd = s.master, .events = POLLIN};
		for (int i = 0; i < MAX_CLIENTS; i++)
			p[n++] = (struct pollfd){.fd = s.clients[i], .events = POLLIN};
		int wait = 50;
		if (s.reply_due)
			wait = s.reply_at > now ? (int)(s.reply_at - now) : 0;
		if (s.reconnect_at)
			wait = s.reconnect_at > now ? (int)(s.reconnect_at - now) : 0;
		if (poll(p, (nfds_t)n, wait) < 0 && errno != EINTR)
			break;
		now = now_ms();
		if (p[0].revents & POLLIN) {
			int c = accept4(s.lfd, NULL, NULL, SOCK_CLOEXEC);
			for (int i = 0; c >= 0 && i < MAX_CLIENTS; i++)
				if (s.clients[i] < 0) {
					s.clients[i] = c;
					c = -1;
				}
			if (c >= 0)
				close(c);
		}
		if (s.master >= 0 && (p[1].revents & POLLIN))
			pty_input(&s, now);
		for (int i = 0; i < MAX_CLIENTS; i++)
			if (s.clients[i] >= 0 && (p[2 + i].revents & (POLLIN | POLLHUP)))
				client_input(&s, i, now);
	}
	pty_down(&s);
	unlink(ctl);
	return 0;
}
