/* run_live.h: drives the simulated devices of a running virtual beamline through their drivers. */
#ifndef BL_RUN_LIVE_H
#define BL_RUN_LIVE_H

#include "bl_hwdb.h"
#include "vbl.h"

/* Returns the number of devices that failed their check. */
int bl_run_live(const struct bl_hwdb *db, const struct bl_vbl *v);

#endif
