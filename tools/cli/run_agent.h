/* run_agent.h: `beamloop run`'s data path: agent thread + beamloop-analyze under mpirun. */
#ifndef BL_RUN_AGENT_H
#define BL_RUN_AGENT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/types.h>

#include "bl_agent.h"
#include "bl_hwdb.h"

struct bl_run_agent {
	struct bl_agent *agent;
	pthread_t thread;
	atomic_bool stop;
	pid_t analyze; /* mpirun, or <= 0 when there is no MPI */
	char out[PATH_MAX / 2], log_path[PATH_MAX / 2 + 16], analyze_log[PATH_MAX / 2 + 16];
	FILE *log;
	pthread_mutex_t lock;
	double *lat; /* stored -> result latencies, ms */
	size_t nlat;
	/* fitted results of the print whose file label is WATCH (the closed loop's decision
	 * layer): sums over its frames */
	char watch[64];
	int watch_n;
	double watch_spacing, watch_orient, watch_spacing_err2, watch_xi, watch_radius;
};

/* The closed loop watches the frames of the print labelled LABEL from now on. */
void bl_run_agent_watch(struct bl_run_agent *ra, const char *label);
/* Frames of the watched print fitted so far, and their mean spacing (nm), its standard error
 * and the mean orientation order. */
int bl_run_agent_watched(struct bl_run_agent *ra, double *spacing, double *spacing_err,
			 double *orientation);
/* The watched print's mean fitted correlation length and radius (nm). */
void bl_run_agent_watched_shape(struct bl_run_agent *ra, double *corr_len, double *radius);

/* Starts the agent on the hwdb's detector stream, tagging from controller FW, files in OUT_DIR,
 * and beamloop-analyze (mpirun -np 2) as its worker. 0 or a negative errno. */
int bl_run_agent_start(struct bl_run_agent *ra, const struct bl_hwdb *db, const char *out_dir,
		       const struct bl_fw_client_config *fw);

/* Waits until FRAMES_EXPECTED frames are stored and answered, stops both, prints the summary.
 * 0, or -EIO when frames or results are missing. */
int bl_run_agent_finish(struct bl_run_agent *ra, int frames_expected);

#endif
