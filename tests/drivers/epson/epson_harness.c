/* epson_harness.c: starts and stops the simulator process, its control socket, and the polling
 * loops the Epson driver tests run operations with. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "epson_harness.h"

int64_t h_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int h_start(struct harness *t, const char *sim_exe, const char *src_dir, const char *const *extra)
{
	static struct bl_hwdb_errors errs;
	char path[512];
	memset(t, 0, sizeof(*t));
	t->sim_exe = sim_exe;
	t->src_dir = src_dir;
	snprintf(path, sizeof(path), "%s/hwdb/beamlines/sim.yaml", src_dir);
	if (bl_hwdb_load(path, &t->db, &errs)) {
		fprintf(stderr, "cannot load %s\n", path);
		return -1;
	}
	if (bl_epson_config_from_hwdb(&t->cfg, t->db, NULL)) {
		fprintf(stderr, "no robot in %s\n", path);
		return -1;
	}
	snprintf(t->ctl_path, sizeof(t->ctl_path), "/tmp/bl-epson-test-%d-%ld.ctl", (int)getpid(),
		 (long)h_now() % 100000);
	const char *argv[40];
	int n = 0;
	argv[n++] = sim_exe;
	argv[n++] = "--hwdb";
	argv[n++] = path;
	argv[n++] = "--control";
	argv[n++] = t->ctl_path;
	argv[n++] = "--password";
	argv[n++] = H_PASSWORD;
	argv[n++] = "--monitor-password";
	argv[n++] = H_MONITOR_PASSWORD;
	argv[n++] = "--time-scale";
	argv[n++] = "1000";
	for (int i = 0; extra && extra[i] && n < 38; i++)
		argv[n++] = extra[i];
	argv[n++] = "0";
	argv[n] = NULL;
	int pfd[2];
	if (pipe(pfd))
		return -1;
	t->pid = fork();
	if (t->pid == 0) {
		dup2(pfd[1], 1);
		close(pfd[0]);
		close(pfd[1]);
		execv(sim_exe, (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	char buf[32] = "";
	size_t k = 0;
	while (k + 1 < sizeof(buf)) {
		ssize_t r = read(pfd[0], buf + k, 1);
		if (r <= 0 || buf[k] == '\n')
			break;
		k++;
	}
	buf[k] = 0;
	close(pfd[0]);
	t->port = atoi(buf);
	if (t->port <= 0) {
		fprintf(stderr, "simulator did not start\n");
		return -1;
	}
	snprintf(t->cfg.host, sizeof(t->cfg.host), "127.0.0.1");
	t->cfg.port = t->port;
	snprintf(t->cfg.password, sizeof(t->cfg.password), H_PASSWORD);
	t->cfg.backoff_min_ms = 10;
	t->cfg.backoff_max_ms = 80;
	t->cfg.command_ms = 1000;
	t->cfg.motion_ms = 5000;
	return 0;
}

int h_open_connect(struct harness *t)
{
	if (bl_epson_open(&t->h, &t->cfg))
		return -EINVAL;
	return h_run(t->h, bl_epson_connect(t->h, h_now()), 3000);
}

void h_stop(struct harness *t)
{
	bl_epson_close(t->h);
	t->h = NULL;
	if (t->pid > 0) {
		kill(t->pid, SIGTERM);
		int st;
		waitpid(t->pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			fprintf(stderr, "simulator exited abnormally (status %d)\n", st);
		t->pid = 0;
	}
	bl_hwdb_free(t->db);
	t->db = NULL;
}

int h_ctl(struct harness *t, const char *cmd, char *reply, size_t cap)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", t->ctl_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	char line[256];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	size_t k = 0;
	if (write(fd, line, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	while (k + 1 < cap) {
		ssize_t r = read(fd, reply + k, 1);
		if (r <= 0 || reply[k] == '\n')
			break;
		k++;
	}
	reply[k] = 0;
	close(fd);
	return strncmp(reply, "ok", 2) ? -1 : 0;
}

long h_state(struct harness *t, const char *key)
{
	char reply[512], pat[40];
	if (h_ctl(t, "state", reply, sizeof(reply)))
		return -99999;
	snprintf(pat, sizeof(pat), " %s=", key);
	const char *p = strstr(reply, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -99999;
}

int h_wait_state(struct harness *t, const char *key, long value, int ms)
{
	int64_t end = h_now() + ms;
	do {
		if (h_state(t, key) == value)
			return 0;
		poll(NULL, 0, 2);
	} while (h_now() < end);
	return -1;
}

long h_slot(struct harness *t, int puck, int slot)
{
	char cmd[32], reply[64];
	snprintf(cmd, sizeof(cmd), "slot %d %d", puck, slot);
	if (h_ctl(t, cmd, reply, sizeof(reply)))
		return -99999;
	return strtol(reply + 2, NULL, 10);
}

static void wait_io(struct bl_epson *h)
{
	struct pollfd pfd;
	int64_t now = h_now();
	int ms = bl_epson_pollfd(h, &pfd, now);
	if (ms > 5)
		ms = 5;
	if (pfd.fd >= 0)
		poll(&pfd, 1, ms);
	else if (ms > 0)
		poll(NULL, 0, ms);
}

int h_run(struct bl_epson *h, int start_rc, int limit_ms)
{
	if (start_rc)
		return start_rc;
	int64_t end = h_now() + limit_ms;
	for (;;) {
		int rc = bl_epson_poll(h, h_now());
		if (rc != BL_ROBOT_BUSY)
			return rc;
		if (h_now() > end)
			return -ETIME;
		wait_io(h);
	}
}

void h_pump(struct bl_epson *h, int ms)
{
	int64_t end = h_now() + ms;
	while (h_now() < end) {
		bl_epson_poll(h, h_now());
		wait_io(h);
	}
}
