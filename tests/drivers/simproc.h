/* simproc.h: start a simulator process for a test, talk to its control socket, stop it at exit. */
#ifndef BL_SIMPROC_H
#define BL_SIMPROC_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static char simproc_dir[] = "/tmp/bl-sim-test-XXXXXX";
static char simproc_link[100], simproc_ctl[100];
static pid_t simproc_pid;

static void simproc_stop(void)
{
	if (simproc_pid > 0) {
		kill(simproc_pid, SIGTERM);
		waitpid(simproc_pid, NULL, 0);
		simproc_pid = 0;
	}
	unlink(simproc_link);
	unlink(simproc_ctl);
	rmdir(simproc_dir);
}

static char simproc_ready[400]; /* the simulator's "ready ..." line */

/* Starts SIM with "--hwdb HWDB --control C" (and "--link L" when WITH_LINK) plus EXTRA
 * (NULL-terminated, may be NULL), waits for its "ready" line (kept in simproc_ready); exits the
 * test on failure. The link path is simproc_link. */
static void simproc_start_opt(const char *sim, const char *hwdb, int with_link,
			      const char *const *extra)
{
	if (!mkdtemp(simproc_dir))
		exit(1);
	snprintf(simproc_link, sizeof(simproc_link), "%s/dev", simproc_dir);
	snprintf(simproc_ctl, sizeof(simproc_ctl), "%s/ctl", simproc_dir);
	const char *argv[24] = {sim, "--hwdb", hwdb, "--control", simproc_ctl};
	int n = 5;
	if (with_link) {
		argv[n++] = "--link";
		argv[n++] = simproc_link;
	}
	for (int i = 0; extra && extra[i] && n < 23; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	int out[2];
	if (pipe(out))
		exit(1);
	simproc_pid = fork();
	if (simproc_pid == 0) {
		dup2(out[1], 1);
		close(out[0]);
		execv(sim, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	atexit(simproc_stop);
	FILE *f = fdopen(out[0], "r");
	if (!fgets(simproc_ready, sizeof(simproc_ready), f) ||
	    strncmp(simproc_ready, "ready ", 6)) {
		fprintf(stderr, "simulator %s did not start: '%s'\n", sim, simproc_ready);
		exit(1);
	}
	fclose(f);
}

__attribute__((unused)) static void simproc_start(const char *sim, const char *hwdb,
						  const char *const *extra)
{
	simproc_start_opt(sim, hwdb, 1, extra);
}

/* Sends one control command and returns the answer line (static buffer). */
static const char *simproc_ctl_cmd(const char *cmd)
{
	static char reply[256];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", simproc_ctl);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return "err connect";
	}
	char buf[128];
	snprintf(buf, sizeof(buf), "%s\n", cmd);
	ssize_t w = write(fd, buf, strlen(buf));
	ssize_t n = w > 0 ? read(fd, reply, sizeof(reply) - 1) : -1;
	reply[n > 0 ? n : 0] = 0;
	reply[strcspn(reply, "\n")] = 0;
	close(fd);
	return reply;
}

#endif
