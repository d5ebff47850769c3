/* reduce_cli.h: what `beamloop reduce` reads from an agent file and writes to /entry/process. */
#ifndef BL_REDUCE_CLI_H
#define BL_REDUCE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_peak.h"
#include "bl_reduce.h"

#define BL_CLI_REDUCE_MAX_PEAKS 32 /* peaks stored per frame at most */

/* The options and everything reduced, held until the file is reopened for writing. */
struct bl_cli_reduce {
	/* options */
	const char *path;
	int nbins;
	enum bl_reduce_unit unit;
	enum bl_reduce_split split;
	const char *mask_path; /* NULL: dynamic mask only */
	bool peaks;
	/* what the file says */
	struct bl_reduce_geometry geo;
	bool incidence_stored;
	int elem; /* 2 or 4 bytes */
	uint64_t nframes, missing;
	uint64_t *frame_number; /* nframes */
	/* results: nframes x nbins, row-major */
	double *radial; /* nbins */
	double *mean, *sigma, *sem, *count;
	double range_min, range_max;
	double saturation;
	/* peaks: npeaks[f] found in frame f (<= MAX_PEAKS kept), table of nframes x MAX_PEAKS */
	int *npeaks;
	struct bl_peak1d *peak;
	bool peaks_unavailable; /* build without GSL */
};

/* Writes /entry/process into the closed agent file R->path (replacing an earlier one). 0, or a
 * negative errno after printing why to stderr. */
int bl_cli_reduce_write(const struct bl_cli_reduce *r);

#endif
