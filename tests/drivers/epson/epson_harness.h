/* epson_harness.h: what the Epson driver tests share: start bl-epson-sim on an ephemeral port,
 * talk to its control socket, run driver operations to completion on a real clock. */
#ifndef EPSON_HARNESS_H
#define EPSON_HARNESS_H

#include <stdint.h>
#include <sys/types.h>

#include "bl_hwdb.h"
#include "epson_robot.h"

#define H_PASSWORD	   "beamloop"
#define H_MONITOR_PASSWORD "watch"

struct harness {
	pid_t pid;
	int port;
	char ctl_path[108];
	const char *sim_exe, *src_dir;
	struct bl_hwdb *db;
	struct bl_epson_config cfg; /* sim.yaml's robot pointed at the simulator */
	struct bl_epson *h;
};

int64_t h_now(void);

/* Loads sim.yaml, starts the simulator with EXTRA arguments (NULL-terminated, may be NULL) at a
 * time scale of 1000 and fills T->cfg. 0 or -1 (message on stderr). */
int h_start(struct harness *t, const char *sim_exe, const char *src_dir, const char *const *extra);
/* Opens the driver on T->cfg (after the test adjusted it) and connects. Returns connect's rc. */
int h_open_connect(struct harness *t);
void h_stop(struct harness *t);

/* One control line; the answer ("ok ..."/"err ...") into REPLY. 0 or -1. */
int h_ctl(struct harness *t, const char *cmd, char *reply, size_t cap);
/* Integer field KEY=... of the simulator's "state" line (-99999 when missing). */
long h_state(struct harness *t, const char *key);
/* Waits up to MS for the state field KEY to equal VALUE. 0 or -1. */
int h_wait_state(struct harness *t, const char *key, long value, int ms);
/* Occupant of a puck slot in the simulator (sample id puck*100+slot, 0 empty). */
long h_slot(struct harness *t, int puck, int slot);

/* Polls the driver until the operation started with START_RC finishes (or LIMIT_MS passes:
 * returns -ETIME). */
int h_run(struct bl_epson *h, int start_rc, int limit_ms);
/* Polls the driver for MS milliseconds. */
void h_pump(struct bl_epson *h, int ms);

#endif
