/* mb_sim.c: bl-modbus-sim, a libmodbus server (TCP or RTU on a pty) for an hwdb heater, coater
 * stage or web drive, with physics and faults. */
#include <errno.h>
#include <math.h>
#include <modbus.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bl_hwdb.h"
#include "mb_value.h"
#include "mb_physics.h"
#include "simkit.h"

#define MAX_CONN 8

struct sim {
	struct bl_mb_world w; /* registers + physics */
	modbus_t *ctx;
	bool rtu;
	int listen_fd;
	int conns[MAX_CONN];
	struct bl_simkit_pty pty;
	uint64_t last_ms;
	double time_scale;
	/* faults */
	int exc_code;
	unsigned exc_count, mute, crc;
	unsigned requests, replies;
};

static volatile sig_atomic_t stop_flag;

/* Sends the normal reply with its last byte (CRC high byte) flipped: an RTU line error. */
static void reply_bad_crc(struct sim *s, const uint8_t *q, int len)
{
	int p[2];
	if (pipe(p))
		return;
	modbus_set_socket(s->ctx, p[1]);
	modbus_reply(s->ctx, q, len, s->w.map);
	modbus_set_socket(s->ctx, s->pty.master);
	close(p[1]);
	uint8_t buf[MODBUS_RTU_MAX_ADU_LENGTH];
	ssize_t n = read(p[0], buf, sizeof(buf));
	close(p[0]);
	if (n > 0) {
		buf[n - 1] ^= 0xff;
		if (write(s->pty.master, buf, (size_t)n) < 0)
			return;
	}
}

static void handle_request(struct sim *s, int fd)
{
	uint8_t q[MODBUS_TCP_MAX_ADU_LENGTH];
	modbus_set_socket(s->ctx, fd);
	int len = modbus_receive(s->ctx, q);
	if (len == 0)
		return; /* for another unit on the line */
	if (len < 0) {
		if (!s->rtu) { /* client gone */
			for (int i = 0; i < MAX_CONN; i++)
				if (s->conns[i] == fd) {
					close(fd);
					s->conns[i] = -1;
				}
		} else {
			modbus_flush(s->ctx); /* line noise: resynchronise */
		}
		return;
	}
	s->requests++;
	bl_mb_world_step(&s->w, 0); /* the request sees the present state */
	if (s->mute) {
		s->mute--;
		return;
	}
	if (s->exc_count) {
		s->exc_count--;
		modbus_reply_exception(s->ctx, q, s->exc_code);
		return;
	}
	if (s->rtu && s->crc) {
		s->crc--;
		reply_bad_crc(s, q, len);
		return;
	}
	if (modbus_reply(s->ctx, q, len, s->w.map) > 0)
		s->replies++;
	bl_mb_world_inputs_changed(&s->w);
}

static void control(void *ctx, char *cmd, char *out, size_t cap)
{
	struct sim *s = ctx;
	char *arg = strchr(cmd, ' ');
	if (arg)
		*arg++ = 0;
	if (!strcmp(cmd, "show")) {
		size_t n = (size_t)snprintf(out, cap, "ok requests=%u replies=%u", s->requests,
					    s->replies);
		bl_mb_world_show(&s->w, out + n, cap - n);
		return;
	}
	if (!strcmp(cmd, "set") && arg) {
		char name[64];
		double v;
		if (sscanf(arg, "%63s %lf", name, &v) != 2 || bl_mb_world_set(&s->w, name, v)) {
			snprintf(out, cap, "err set NAME VALUE with a register of the model");
			return;
		}
	} else if (!strcmp(cmd, "exception") && arg) {
		if (sscanf(arg, "%d %u", &s->exc_code, &s->exc_count) != 2) {
			snprintf(out, cap, "err exception CODE COUNT");
			return;
		}
	} else if (!strcmp(cmd, "mute") && arg) {
		s->mute = (unsigned)atoi(arg);
	} else if (!strcmp(cmd, "crc") && arg) {
		if (!s->rtu) {
			snprintf(out, cap, "err crc faults need an RTU line");
			return;
		}
		s->crc = (unsigned)atoi(arg);
	} else if (!strcmp(cmd, "runaway") || !strcmp(cmd, "fault") || !strcmp(cmd, "clear")) {
		if (bl_mb_world_fault(&s->w, cmd, arg ? atoi(arg) : 1)) {
			snprintf(out, cap, "err '%s' does not apply to a %s", cmd,
				 bl_hwdb_class_name(s->w.dev.model->cls));
			return;
		}
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
		"usage: bl-modbus-sim --hwdb FILE --device NAME --control PATH\n"
		"                     (--port N | --link PATH) [--time-scale F]\n"
		"  --port: Modbus TCP on 127.0.0.1 (0: any free port, printed in the ready line)\n"
		"  --link: Modbus RTU on a pty linked at PATH\n");
	return 2;
}

static int open_tcp(struct sim *s, int port)
{
	s->ctx = modbus_new_tcp("127.0.0.1", port);
	if (!s->ctx)
		return -1;
	s->listen_fd = modbus_tcp_listen(s->ctx, MAX_CONN);
	if (s->listen_fd < 0)
		return -1;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	getsockname(s->listen_fd, (struct sockaddr *)&a, &al);
	printf("ready tcp 127.0.0.1 %d\n", ntohs(a.sin_port));
	return 0;
}

static int open_rtu(struct sim *s, const char *link)
{
	const struct bl_hwdb_transport *t = &s->w.dev.transport;
	char par = t->parity == BL_PARITY_EVEN ? 'E' : t->parity == BL_PARITY_ODD ? 'O' : 'N';
	if (bl_simkit_pty_open(&s->pty, link))
		return -1;
	/* the RTU backend only needs a descriptor: give it the pty's master side */
	s->ctx = modbus_new_rtu(link, t->baud, par, t->data_bits, t->stop_bits);
	if (!s->ctx)
		return -1;
	modbus_set_socket(s->ctx, s->pty.master);
	s->rtu = true;
	printf("ready rtu %s\n", link);
	return 0;
}

int main(int argc, char **argv)
{
	const char *hwdb = NULL, *dev = NULL, *ctl_path = NULL, *link = NULL;
	int port = -1;
	static struct sim s = {.listen_fd = -1, .pty = {-1, -1, ""}, .time_scale = 1.0};
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
		else if (!strcmp(a, "--link"))
			link = v;
		else if (!strcmp(a, "--time-scale"))
			s.time_scale = atof(v);
		else
			return usage();
	}
	if (!hwdb || !dev || !ctl_path || (port < 0) == !link || !(s.time_scale > 0))
		return usage();
	static struct bl_hwdb_device dd;
	static struct bl_hwdb_model model;
	if (bl_simkit_device("bl-modbus-sim", hwdb, dev, BL_PROTO_MODBUS, &dd, &model))
		return 1;
	int rc = bl_mb_world_init(&s.w, &dd);
	if (rc) {
		fprintf(stderr, "bl-modbus-sim: %s: %s\n", dev, strerror(-rc));
		return 1;
	}
	for (int i = 0; i < MAX_CONN; i++)
		s.conns[i] = -1;
	struct bl_simkit_ctl ctl;
	if (bl_simkit_ctl_open(&ctl, ctl_path, control, &s) ||
	    (link ? open_rtu(&s, link) : open_tcp(&s, port))) {
		fprintf(stderr, "bl-modbus-sim: cannot serve: %s\n", strerror(errno));
		return 1;
	}
	modbus_set_slave(s.ctx, s.w.dev.transport.unit_id);
	fflush(stdout);
	bl_simkit_signals(&stop_flag);
	s.last_ms = bl_simkit_now_ms();
	while (!stop_flag) {
		uint64_t now = bl_simkit_now_ms();
		bl_mb_world_step(&s.w, (double)(now - s.last_ms) / 1000.0 * s.time_scale);
		s.last_ms = now;
		struct pollfd p[1 + MAX_CONN + 1 + BL_SIMKIT_MAX_CLIENTS];
		int n = 0;
		p[n++] =
		    (struct pollfd){.fd = s.rtu ? s.pty.master : s.listen_fd, .events = POLLIN};
		for (int i = 0; i < MAX_CONN; i++)
			p[n++] = (struct pollfd){.fd = s.conns[i], .events = POLLIN};
		int c0 = n;
		n += bl_simkit_ctl_pollfds(&ctl, p + n);
		if (poll(p, (nfds_t)n, 10) < 0 && errno != EINTR)
			break;
		if (p[0].revents & POLLIN) {
			if (s.rtu) {
				handle_request(&s, s.pty.master);
			} else {
				int fd = accept(s.listen_fd, NULL, NULL);
				for (int i = 0; fd >= 0 && i < MAX_CONN; i++)
					if (s.conns[i] < 0) {
						s.conns[i] = fd;
						fd = -1;
					}
				if (fd >= 0)
					close(fd);
			}
		}
		for (int i = 0; i < MAX_CONN; i++)
			if (s.conns[i] >= 0 && (p[1 + i].revents & (POLLIN | POLLHUP)))
				handle_request(&s, s.conns[i]);
		bl_simkit_ctl_handle(&ctl, p + c0);
	}
	for (int i = 0; i < MAX_CONN; i++)
		if (s.conns[i] >= 0)
			close(s.conns[i]);
	if (s.rtu)
		bl_simkit_pty_close(&s.pty);
	else if (s.listen_fd >= 0)
		close(s.listen_fd);
	modbus_free(s.ctx);
	bl_mb_world_free(&s.w);
	bl_simkit_ctl_close(&ctl);
	return 0;
}
