/* simkit.c: pty pairs, control sockets and clock shared by the device simulators. */
#include "simkit.h"

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

int bl_simkit_pty_open(struct bl_simkit_pty *p, const char *link)
{
	char name[128];
	snprintf(p->link, sizeof(p->link), "%s", link);
	if (openpty(&p->master, &p->slave, name, NULL, NULL))
		return -errno;
	struct termios tio;
	tcgetattr(p->slave, &tio);
	cfmakeraw(&tio); /* until the driver configures it: no echo, no line editing */
	tcsetattr(p->slave, TCSANOW, &tio);
	fcntl(p->master, F_SETFL, O_NONBLOCK);
	fcntl(p->master, F_SETFD, FD_CLOEXEC);
	fcntl(p->slave, F_SETFD, FD_CLOEXEC);
	char tmp[300];
	snprintf(tmp, sizeof(tmp), "%s.new", p->link);
	unlink(tmp);
	if (symlink(name, tmp) || rename(tmp, p->link)) {
		int e = -errno;
		bl_simkit_pty_close(p);
		return e;
	}
	return 0;
}

void bl_simkit_pty_close(struct bl_simkit_pty *p)
{
	if (p->master >= 0)
		close(p->master);
	if (p->slave >= 0)
		close(p->slave);
	p->master = p->slave = -1;
	unlink(p->link);
}

int bl_simkit_ctl_open(struct bl_simkit_ctl *c, const char *path, bl_simkit_cmd_fn fn, void *ctx)
{
	memset(c, 0, sizeof(*c));
	c->fn = fn;
	c->ctx = ctx;
	for (int i = 0; i < BL_SIMKIT_MAX_CLIENTS; i++)
		c->clients[i] = -1;
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	strcpy(c->path, path);
	unlink(path);
	c->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->lfd < 0 || bind(c->lfd, (struct sockaddr *)&a, sizeof(a)) || listen(c->lfd, 4)) {
		int e = -errno;
		if (c->lfd >= 0)
			close(c->lfd);
		c->lfd = -1;
		return e;
	}
	return 0;
}

void bl_simkit_ctl_close(struct bl_simkit_ctl *c)
{
	for (int i = 0; i < BL_SIMKIT_MAX_CLIENTS; i++)
		if (c->clients[i] >= 0)
			close(c->clients[i]);
	if (c->lfd >= 0)
		close(c->lfd);
	c->lfd = -1;
	unlink(c->path);
}

int bl_simkit_ctl_pollfds(const struct bl_simkit_ctl *c, struct pollfd *p)
{
	p[0] = (struct pollfd){.fd = c->lfd, .events = POLLIN};
	for (int i = 0; i < BL_SIMKIT_MAX_CLIENTS; i++)
		p[1 + i] = (struct pollfd){.fd = c->clients[i], .events = POLLIN};
	return 1 + BL_SIMKIT_MAX_CLIENTS;
}

static void client_input(struct bl_simkit_ctl *c, int i)
{
	char buf[512];
	ssize_t n = read(c->clients[i], buf, sizeof(buf) - 1);
	if (n <= 0) {
		close(c->clients[i]);
		c->clients[i] = -1;
		return;
	}
	buf[n] = 0;
	char *save;
	for (char *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char out[256] = "";
		c->fn(c->ctx, line, out, sizeof(out) - 1);
		strcat(out, "\n");
		if (write(c->clients[i], out, strlen(out)) < 0)
			break;
	}
}

void bl_simkit_ctl_handle(struct bl_simkit_ctl *c, const struct pollfd *p)
{
	if (p[0].revents & POLLIN) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC);
		for (int i = 0; fd >= 0 && i < BL_SIMKIT_MAX_CLIENTS; i++) {
			if (c->clients[i] < 0) {
				c->clients[i] = fd;
				fd = -1;
			}
		}
		if (fd >= 0)
			close(fd); /* too many clients */
	}
	for (int i = 0; i < BL_SIMKIT_MAX_CLIENTS; i++)
		if (c->clients[i] >= 0 && (p[1 + i].revents & (POLLIN | POLLHUP)))
			client_input(c, i);
}

int bl_simkit_ctl_call(const char *path, const char *cmd, char *out, size_t cap)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	char line[256];
	snprintf(line, sizeof(line), "%s\n", cmd);
	ssize_t w = write(fd, line, strlen(line));
	ssize_t r = w > 0 ? read(fd, out, cap - 1) : -1;
	close(fd);
	if (r <= 0)
		return -EIO;
	out[r] = 0;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

uint64_t bl_simkit_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static volatile sig_atomic_t *stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	*stop_flag = 1;
}

void bl_simkit_signals(volatile sig_atomic_t *flag)
{
	stop_flag = flag;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
}

int bl_simkit_device(const char *prog, const char *hwdb, const char *name, enum bl_protocol proto,
		     struct bl_hwdb_device *dev, struct bl_hwdb_model *model)
{
	static struct bl_hwdb_errors errs;
	struct bl_hwdb *db;
	if (bl_hwdb_load(hwdb, &db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return -1;
	}
	const struct bl_hwdb_device *d = bl_hwdb_device(db, name);
	int rc = -1;
	if (!d)
		fprintf(stderr, "%s: no device '%s' in %s\n", prog, name, hwdb);
	else if (d->model->protocol != proto)
		fprintf(stderr, "%s: device '%s' speaks %s, not %s\n", prog, name,
			bl_hwdb_protocol_name(d->model->protocol), bl_hwdb_protocol_name(proto));
	else
		rc = 0;
	if (!rc) {
		*dev = *d;
		*model = *d->model;
		dev->model = model;
	}
	bl_hwdb_free(db);
	return rc;
}
