/* bl_analyze.h: one analysis worker's work on one forwarded frame: decode, reduce, find peaks,
 * and the result message for the agent (analyze/README.md). No MPI, no sockets: testable alone. */
#ifndef BL_ANALYZE_H
#define BL_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bl_peak.h"
#include "bl_reduce.h"

struct bl_an_config {
	int nbins;	 /* radial bins of the 1D profile (q, nm^-1) [1000] */
	int max_peaks;	 /* peaks reported per frame [8] */
	double nsigma;	 /* peak threshold [5] */
	const char *who; /* worker name in results ("host/pid/rank") */
	/* GISAXS fit of each frame whose geometry has an incidence angle (analyze/README.md);
	 * UP_INCREASING_ROW: the film's up is towards increasing row (default: decreasing, as
	 * the sim beamline's detector has it) */
	bool fit, up_increasing_row;
};

struct bl_an_timing {
	double decode_ms, reduce_ms, peaks_ms, fit_ms, total_ms;
};

/* What a frame gave: the result JSON (caller frees with cJSON_free) and the profile's three
 * arrays (q, mean, sem; NBINS doubles each, owned by the worker, valid until the next frame). */
struct bl_an_result {
	char *json;
	int nbins;
	const double *q, *mean, *sem;
	struct bl_an_timing t;
};

struct bl_an_worker;

int bl_an_worker_new(struct bl_an_worker **out, const struct bl_an_config *c);
void bl_an_worker_free(struct bl_an_worker *w);

/* Analyses frame TAG (the agent's tag JSON) + CHUNK (as stored: bitshuffle-LZ4). The plan is
 * built at a series' first frame and kept while the geometry and shape stay. 0, -EBADMSG (tag
 * or chunk malformed: ERR says), -ENOMEM. */
int bl_an_frame(struct bl_an_worker *w, const char *tag, size_t tag_len, const void *chunk,
		size_t len, struct bl_an_result *out, char *err, size_t errsz);

#endif
