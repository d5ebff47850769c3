/* vbl.c: starts and stops the virtual beamline's simulators (robot, barcode reader, pump, Modbus
 * devices). */
#include "simkit.h"
#include "vbl.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Creates the folder a pty link will live in (one level is enough for hwdb's paths). */
static void make_parent(const char *path)
{
	char tmp[BL_HWDB_PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", path);
	mkdir(dirname(tmp), 0755);
}

/* Waits up to 5 s for a first line on FD; copies it into LINE. */
static int read_ready(int fd, char *line, size_t cap)
{
	size_t n = 0;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (n + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 5000) <= 0)
			return -ETIMEDOUT;
		ssize_t r = read(fd, line + n, 1);
		if (r <= 0)
			return -EPIPE;
		if (line[n] == '\n')
			break;
		n++;
	}
	line[n] = 0;
	return 0;
}

static void spawn(struct bl_vbl_sim *s, const char *const *argv)
{
	int out[2];
	if (pipe2(out, O_CLOEXEC)) {
		snprintf(s->note, sizeof(s->note), "pipe: %s", strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		execv(argv[0], (char *const *)argv);
		fprintf(stderr, "beamloop: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	char line[200];
	int rc = pid < 0 ? -errno : read_ready(out[0], line, sizeof(line));
	close(out[0]);
	if (rc) {
		snprintf(s->note, sizeof(s->note), "%s did not start (%s)", argv[0], strerror(-rc));
		if (pid > 0) {
			kill(pid, SIGTERM);
			waitpid(pid, NULL, 0);
		}
		return;
	}
	s->pid = pid;
	if (line[0] >= '0' && line[0] <= '9') /* the robot simulator prints just its port */
		snprintf(s->note, sizeof(s->note), "ready tcp 127.0.0.1 %.20s", line);
	else
		snprintf(s->note, sizeof(s->note), "%.150s", line);
}

int bl_vbl_start(struct bl_vbl *v, const struct bl_hwdb *db, const char *bindir, double time_scale)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->rundir, sizeof(v->rundir), "/tmp/beamloop-vbl-XXXXXX");
	if (!mkdtemp(v->rundir))
		return -errno;
	char scale[32], rundir[64], robot_ctl[108];
	snprintf(scale, sizeof(scale), "%g", time_scale);
	memcpy(rundir, v->rundir, sizeof(rundir));
	char edges[96]; /* trigger box -> detector edge datagrams */
	snprintf(edges, sizeof(edges), "%.60s/edges", rundir);
	int running = 0;
	for (size_t i = 0; i < db->ndevices && i < BL_VBL_MAX; i++) {
		struct bl_vbl_sim *s = &v->sims[v->n++];
		const struct bl_hwdb_device *d = &db->devices[i];
		const struct bl_hwdb_transport *t = &d->transport;
		s->dev = d;
		snprintf(s->ctl, sizeof(s->ctl), "%.60s/%.40s.ctl", rundir, d->name);
		char exe[512], port[16];
		snprintf(port, sizeof(port), "%d", t->port);
		const char *argv[24] = {exe, "--hwdb", db->file, "--control", s->ctl};
		int n = 5;
		switch (d->model->protocol) {
		case BL_PROTO_EPSON_RC:
			snprintf(exe, sizeof(exe), "%s/drivers/epson/bl-epson-sim", bindir);
			argv[n++] = "--time-scale";
			argv[n++] = scale;
			argv[n++] = port;
			break;
		case BL_PROTO_BARCODE_SERIAL:
		case BL_PROTO_NE1000:
			if (t->kind != BL_TR_SERIAL)
				goto none;
			snprintf(exe, sizeof(exe), "%s/drivers/%s", bindir,
				 d->model->protocol == BL_PROTO_NE1000 ? "pump/bl-pump-sim"
								       : "barcode/bl-barcode-sim");
			make_parent(t->device);
			argv[n++] = "--device";
			argv[n++] = d->name;
			argv[n++] = "--link";
			argv[n++] = t->device;
			if (d->model->protocol == BL_PROTO_NE1000) {
				argv[n++] = "--time-scale";
				argv[n++] = scale;
			} else if (db->robot.device[0]) {
				/* the reader sees what the robot's gripper holds at its station */
				snprintf(robot_ctl, sizeof(robot_ctl), "%.60s/%.40s.ctl", rundir,
					 db->robot.device);
				argv[n++] = "--robot-ctl";
				argv[n++] = robot_ctl;
			}
			break;
		case BL_PROTO_MODBUS:
			snprintf(exe, sizeof(exe), "%s/drivers/modbus/bl-modbus-sim", bindir);
			argv[n++] = "--device";
			argv[n++] = d->name;
			argv[n++] = "--time-scale";
			argv[n++] = scale;
			if (t->kind == BL_TR_MODBUS_TCP) {
				argv[n++] = "--port";
				argv[n++] = port;
			} else {
				make_parent(t->device);
				argv[n++] = "--link";
				argv[n++] = t->device;
			}
			break;
		case BL_PROTO_TBOX:
			if (t->kind != BL_TR_TCP)
				goto none;
			snprintf(exe, sizeof(exe), "%s/drivers/trigger/bl-tbox-sim", bindir);
			argv[n++] = "--device";
			argv[n++] = d->name;
			argv[n++] = "--port";
			argv[n++] = port;
			argv[n++] =
			    "--edges-to"; /* the simulated detector takes a frame per edge */
			argv[n++] = edges;
			argv[n++] = "--interlocks"; /* beam on: the hutch starts healthy */
			argv[n++] = "clear";
			break;
		case BL_PROTO_SIMPLON:
			snprintf(exe, sizeof(exe), "%s/drivers/detector/bl-detector-sim", bindir);
			argv[n++] = "--device";
			argv[n++] = d->name;
			argv[n++] = "--http-port";
			argv[n++] = port;
			argv[n++] = "--stream";
			argv[n++] = d->stream;
			argv[n++] = "--trigger-in";
			argv[n++] = edges;
			break;
		default:
		none:
			snprintf(s->note, sizeof(s->note),
				 "no simulator yet for protocol %s over %s",
				 bl_hwdb_protocol_name(d->model->protocol),
				 bl_hwdb_transport_name(t->kind));
			continue;
		}
		argv[n] = NULL;
		spawn(s, argv);
		running += s->pid > 0;
	}
	return running;
}

int bl_vbl_ctl(const struct bl_vbl *v, const char *name, const char *cmd, char *out, size_t cap)
{
	for (size_t i = 0; i < v->n; i++) {
		const struct bl_vbl_sim *s = &v->sims[i];
		if (strcmp(s->dev->name, name) || !s->pid)
			continue;
		return bl_simkit_ctl_call(s->ctl, cmd, out, cap);
	}
	return -ENOENT;
}

void bl_vbl_stop(struct bl_vbl *v)
{
	for (size_t i = 0; i < v->n; i++) {
		if (v->sims[i].pid > 0) {
			kill(v->sims[i].pid, SIGTERM);
			waitpid(v->sims[i].pid, NULL, 0);
			v->sims[i].pid = 0;
		}
	}
	rmdir(v->rundir);
}
