/* run_live.h: drives the simulated devices of a running virtual beamline through their drivers. */
#ifndef BL_RUN_LIVE_H
#define BL_RUN_LIVE_H

#include "bl_hwdb.h"
#include "vbl.h"

/* Returns the number of devices that failed their check. */
int bl_run_live(const struct bl_hwdb *db, const struct bl_vbl *v);

/* Runs beamloop-fw on the running virtual beamline and commands it over CurveZMQ: a puck scan
 * (one label unreadable, one wrong), `nsamples` sample cycles, one print. With OUT_DIR, the agent
 * stores the frames there and beamloop-analyze reduces and fits them (run_agent.h), then the
 * closed-loop printing campaign runs for at most PRINTS prints (0: none) from SEED. 0 or a
 * negative errno (-EAGAIN: the printing target was not reached). */
int bl_run_fw(const struct bl_hwdb *db, struct bl_vbl *v, int nsamples, const char *out_dir,
	      int prints, unsigned long seed);

#endif
