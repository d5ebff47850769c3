/* simkit.h: what every device simulator process needs: a pty linked at a path, a line-oriented
 * control socket, a clock. */
#ifndef BL_SIMKIT_H
#define BL_SIMKIT_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_hwdb.h"

#define BL_SIMKIT_MAX_CLIENTS 8

/* A pty pair whose slave side is reachable at LINK (a symlink, replaced atomically). The
 * simulator keeps the slave open itself so the master never sees a hang-up between clients. */
struct bl_simkit_pty {
	int master, slave;
	char link[256];
};

/* Opens the pair (raw mode, master non-blocking) and links it. 0 or -errno. */
int bl_simkit_pty_open(struct bl_simkit_pty *p, const char *link);
/* Closes both ends (the driver sees a hang-up) and removes the link. */
void bl_simkit_pty_close(struct bl_simkit_pty *p);

/* Control socket: UNIX stream, one command per line, one answer line per command. */
typedef void (*bl_simkit_cmd_fn)(void *ctx, char *cmd, char *out, size_t cap);

struct bl_simkit_ctl {
	int lfd;
	int clients[BL_SIMKIT_MAX_CLIENTS];
	char path[108];
	bl_simkit_cmd_fn fn;
	void *ctx;
};

int bl_simkit_ctl_open(struct bl_simkit_ctl *c, const char *path, bl_simkit_cmd_fn fn, void *ctx);
void bl_simkit_ctl_close(struct bl_simkit_ctl *c);
/* Appends the control socket's pollfds to P (at most 1 + BL_SIMKIT_MAX_CLIENTS); returns count. */
int bl_simkit_ctl_pollfds(const struct bl_simkit_ctl *c, struct pollfd *p);
/* Handles what poll() reported on the pollfds bl_simkit_ctl_pollfds appended at P. */
void bl_simkit_ctl_handle(struct bl_simkit_ctl *c, const struct pollfd *p);

/* Loads HWDB and copies device NAME into DEV and its model into MODEL (DEV->model points at
 * MODEL), checking its protocol. Prints the problem as "PROG: ..." and returns -1 on failure. */
int bl_simkit_device(const char *prog, const char *hwdb, const char *name, enum bl_protocol proto,
		     struct bl_hwdb_device *dev, struct bl_hwdb_model *model);

/* Client side: sends CMD to the control socket at PATH and reads the one-line answer into OUT
 * (newline removed). 0, or a negative errno. Simulators use it to ask each other about the
 * shared physical world (the reader asks the robot what it holds). */
int bl_simkit_ctl_call(const char *path, const char *cmd, char *out, size_t cap);

/* Monotonic milliseconds. */
uint64_t bl_simkit_now_ms(void);

/* Installs SIGTERM/SIGINT handlers that set *FLAG, and ignores SIGPIPE. */
void bl_simkit_signals(volatile sig_atomic_t *flag);

#endif
