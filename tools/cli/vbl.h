/* vbl.h: the virtual beamline: one simulator process per hwdb device, at the endpoints hwdb names.
 */
#ifndef BL_VBL_H
#define BL_VBL_H

#include <sys/types.h>

#include "bl_hwdb.h"

#define BL_VBL_MAX BL_HWDB_MAX_DEVICES

struct bl_vbl_sim {
	const struct bl_hwdb_device *dev;
	pid_t pid;	/* 0 when no simulator runs for the device */
	char ctl[108];	/* its control socket */
	char note[160]; /* why none runs, or where it listens */
};

struct bl_vbl {
	char rundir[64];
	size_t n;
	struct bl_vbl_sim sims[BL_VBL_MAX];
};

/* Starts a simulator for every device of DB that has one (executables in BINDIR's drivers/
 * folders), each waited for until it reports ready. Returns how many run. */
int bl_vbl_start(struct bl_vbl *v, const struct bl_hwdb *db, const char *bindir, double time_scale);

/* Sends one control line to the simulator of device NAME; the answer into OUT. 0 or -errno. */
int bl_vbl_ctl(const struct bl_vbl *v, const char *name, const char *cmd, char *out, size_t cap);

/* Stops every simulator and removes the run folder. */
void bl_vbl_stop(struct bl_vbl *v);

#endif
