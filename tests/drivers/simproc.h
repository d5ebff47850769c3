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

/* Starts SIM with "--hwdb HWDB --link L --control C" plus EXTRA (NULL-terminated list, may be
 * NULL), waits for its "ready" line; exits the test on failure. The link path is simproc_link. */
static void simproc_start(const char *sim, const char *hwdb, const char *const *extra)
{
	if (!mkdtemp(simproc_dir))
		exit(1);
	snprintf(simproc_link, sizeof(simproc_link), "%s/dev", simproc_dir);
	snprintf(simproc_ctl, sizeof(simproc_ctl), "%s/ctl", simproc_dir);
	const char *argv[24] = {sim,	      "--hwdb",	   hwdb,       "--link",
				simproc_link, "--control", simproc_ctl};
	int n = 7;
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
	char line[400] = "";
	FILE *f = fdopen(out[0], "r");
	if (!fgets(line, sizeof(line), f) || strncmp(line, "ready ", 6)) {
		fprintf(stderr, "simulator %s did not start: '%s'\n", sim, line);
		exit(1);
	}
	fclose(f);
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
