/* epson_sim.c: the simulator's network side: one Remote Ethernet client at a time, line framing,
 * request and idle time-outs, delayed and garbled replies; control through simkit's socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "epson_sim_int.h"

double sim_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void bl_epson_sim_defaults(struct bl_epson_sim_config *cfg, const struct bl_hwdb *db)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->terminator, sizeof(cfg->terminator), "%s", BL_EPSON_DEF_TERM);
	cfg->time_scale = 1.0;
	cfg->idle_timeout_ms = 5000;
	cfg->request_timeout_ms = 2000;
	cfg->grip_out_bit = 8;
	cfg->grip_sensor_bit = 10;
	cfg->stage_sensor_bit = 11;
	cfg->safeguard_bit = 8;
	cfg->estop_bit = 9;
	cfg->model = (struct bl_hwdb_robot_model){
	    .reach_mm = 650, .inner_reach_mm = 150, .z_mm = {-180, 0}, .max_speed_mm_s = 2000};
	cfg->start = (struct bl_point){300, 0, 0, 0};
	if (!db)
		return;
	cfg->teach = db->robot;
	cfg->stage_sensor_bit = db->robot.stage_sensor;
	const struct bl_hwdb_device *dev = bl_hwdb_device(db, db->robot.device);
	if (dev && dev->model && dev->model->cls == BL_CLASS_ROBOT) {
		cfg->model = dev->model->robot;
		if (dev->transport.terminator[0])
			snprintf(cfg->terminator, sizeof(cfg->terminator), "%s",
				 dev->transport.terminator);
	}
	for (size_t i = 0; i < db->robot.nsafe; i++)
		if (!strcmp(db->robot.safe_poses[i].name, "home"))
			cfg->start = db->robot.safe_poses[i].p;
}

static void sim_control_cb(void *ctx, char *cmd, char *out, size_t cap)
{
	sim_control(ctx, cmd, out, cap);
}

static int listen_on(int port, int *bound)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t al = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&a, &al)) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*bound = ntohs(a.sin_port);
	return fd;
}

int bl_epson_sim_open(struct bl_epson_sim **out, const struct bl_epson_sim_config *cfg, int port,
		      const char *control_path)
{
	if (cfg->time_scale <= 0 || !cfg->terminator[0])
		return -EINVAL;
	struct bl_epson_sim *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	s->client = -1;
	s->lfd = listen_on(port, &s->port);
	if (s->lfd < 0) {
		int rc = s->lfd;
		free(s);
		return rc;
	}
	if (control_path) {
		int rc = bl_simkit_ctl_open(&s->ctl, control_path, sim_control_cb, s);
		if (rc) {
			close(s->lfd);
			free(s);
			return rc;
		}
		s->has_ctl = true;
	}
	s->pose = cfg->start;
	s->speed_pct = 10;
	s->speeds_mm_s = 100;
	s->accel[0] = s->accel[1] = 10;
	s->partial_since_ms = -1;
	s->last_ms = sim_now_ms();
	s->mo.fault_at_s = -1;
	for (size_t p = 0; p < cfg->teach.npucks; p++)
		for (size_t k = 0; k < cfg->teach.pucks[p].nslots; k++)
			s->slots[p][k] = cfg->teach.pucks[p].id * 100 + (int)k + 1;
	snprintf(s->vars[0].name, sizeof(s->vars[0].name), "g_cycle");
	snprintf(s->vars[0].value, sizeof(s->vars[0].value), "0");
	snprintf(s->vars[1].name, sizeof(s->vars[1].name), "g_sample");
	snprintf(s->vars[1].value, sizeof(s->vars[1].value), "0");
	*out = s;
	return 0;
}

void bl_epson_sim_close(struct bl_epson_sim *s)
{
	if (!s)
		return;
	if (s->client >= 0)
		close(s->client);
	if (s->has_ctl)
		bl_simkit_ctl_close(&s->ctl);
	close(s->lfd);
	free(s);
}

int bl_epson_sim_port(const struct bl_epson_sim *s)
{
	return s->port;
}

void sim_drop_client(struct bl_epson_sim *s)
{
	if (s->client < 0)
		return;
	close(s->client);
	s->client = -1;
	s->rxlen = 0;
	s->nout = 0;
	s->partial_since_ms = -1;
	s->logged_in = false;
	s->monitor_only = false;
	s->sessions_dropped++;
}

void sim_reply(struct bl_epson_sim *s, const char *cmd, bool ok, int code, const char *data)
{
	if (s->client < 0 || s->nout == SIM_MAX_OUT)
		return;
	struct sim_out *o = &s->out[s->nout++];
	int n =
	    bl_epson_format_reply(o->buf, sizeof(o->buf), s->cfg.terminator, cmd, ok, code, data);
	o->len = n > 0 ? (size_t)n : 0;
	o->due_ms = sim_now_ms() + s->slow_ms;
	if (s->garble > 0 && o->len > 4) {
		/* Alternate between binary noise and a line that lost its prefix. */
		size_t tl = strlen(s->cfg.terminator);
		if (s->garble % 2) {
			for (size_t i = 1; i + tl < o->len; i += 3)
				o->buf[i] = (char)(0x80 | (i * 37));
		} else {
			memmove(o->buf, o->buf + 1, o->len - 1);
			o->len--;
			o->buf[2] = ',';
		}
		s->garble--;
	}
}

static void accept_client(struct bl_epson_sim *s)
{
	int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	s->accepted++;
	if (s->client >= 0 || s->refuse > 0) { /* one client at a time */
		if (s->client < 0)
			s->refuse--;
		close(fd);
		return;
	}
	s->client = fd;
	s->rxlen = 0;
	s->last_rx_ms = sim_now_ms();
}

static void read_client(struct bl_epson_sim *s, double now)
{
	for (;;) {
		ssize_t n = recv(s->client, s->rx + s->rxlen, sizeof(s->rx) - s->rxlen, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			sim_drop_client(s);
			return;
		}
		if (n < 0)
			break;
		if (s->rxlen == 0)
			s->partial_since_ms = now;
		s->rxlen += (size_t)n;
		s->last_rx_ms = now;
		if (s->rxlen == sizeof(s->rx)) { /* no terminator in 4 KiB: not a client of ours */
			sim_drop_client(s);
			return;
		}
	}
	const char *term = s->cfg.terminator;
	size_t tl = strlen(term);
	char *end;
	while (s->client >= 0 && (end = memmem(s->rx, s->rxlen, term, tl))) {
		size_t len = (size_t)(end - s->rx);
		char line[SIM_RX_MAX];
		memcpy(line, s->rx, len);
		line[len] = 0;
		memmove(s->rx, end + tl, s->rxlen - len - tl);
		s->rxlen -= len + tl;
		s->partial_since_ms = s->rxlen ? now : -1;
		s->commands++;
		sim_handle_line(s, line, len);
	}
}

static void flush_out(struct bl_epson_sim *s, double now)
{
	while (s->client >= 0 && s->nout && s->out[0].due_ms <= now) {
		ssize_t n = send(s->client, s->out[0].buf, s->out[0].len, MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < (ssize_t)s->out[0].len) {
			sim_drop_client(s);
			return;
		}
		memmove(&s->out[0], &s->out[1], sizeof(s->out[0]) * (size_t)(s->nout - 1));
		s->nout--;
	}
}

void bl_epson_sim_control(struct bl_epson_sim *s, const char *line, char *reply, size_t cap)
{
	sim_control(s, line, reply, cap);
}

void bl_epson_sim_step(struct bl_epson_sim *s, int max_wait_ms)
{
	struct pollfd pfd[2 + 1 + BL_SIMKIT_MAX_CLIENTS];
	int n = 0;
	pfd[n++] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
	pfd[n++] = (struct pollfd){.fd = s->client, .events = POLLIN};
	if (s->has_ctl)
		n += bl_simkit_ctl_pollfds(&s->ctl, &pfd[n]);
	double now = sim_now_ms(), wait = max_wait_ms;
	double ev = sim_next_event_ms(s);
	if (ev >= 0 && ev < wait)
		wait = ev;
	if (s->nout && s->out[0].due_ms - now < wait)
		wait = s->out[0].due_ms - now;
	if (s->partial_since_ms >= 0 &&
	    s->partial_since_ms + s->cfg.request_timeout_ms - now < wait)
		wait = s->partial_since_ms + s->cfg.request_timeout_ms - now;
	poll(pfd, (nfds_t)n, wait < 0 ? 0 : (int)(wait + 0.999));
	now = sim_now_ms();
	sim_advance(s, now);
	if (pfd[0].revents)
		accept_client(s);
	if (s->client >= 0 && pfd[1].fd == s->client && pfd[1].revents)
		read_client(s, now);
	if (s->has_ctl)
		bl_simkit_ctl_handle(&s->ctl, &pfd[2]);
	if (s->client >= 0 && s->partial_since_ms >= 0 &&
	    now - s->partial_since_ms >= s->cfg.request_timeout_ms) {
		struct bl_epson_request rq;
		bl_epson_parse_request(s->rx, s->rxlen, &rq);
		sim_reply(s, rq.cmd[0] ? rq.cmd : "?", false, BL_EPSON_E_TIMEOUT, NULL);
		s->rxlen = 0;
		s->partial_since_ms = -1;
	}
	if (s->client >= 0 && s->cfg.idle_timeout_ms > 0 && !sim_busy(s) && !s->nout &&
	    now - s->last_rx_ms >= s->cfg.idle_timeout_ms)
		sim_drop_client(s);
	flush_out(s, sim_now_ms());
}
