/* nx_int.h: the NeXus writer's state and HDF5 helpers, shared by its file and frame halves. */
#ifndef BL_NX_INT_H
#define BL_NX_INT_H

#include <hdf5.h>
#include <stdbool.h>

#include "bl_nx.h"
#include "bl_nx_hdf.h"

/* Per-frame metadata columns (1-D datasets, one row per frame, temperature 2-D). */
enum nx_col {
	NXC_FRAME,  /* detector/frame_number, uint64 */
	NXC_START,  /* detector/exposure_start, uint64 ns */
	NXC_TAGGED, /* trigger/tagged, uint8 */
	NXC_TIME,   /* trigger/trigger_time, int64 controller us, -1 untagged */
	NXC_FLAGS,  /* trigger/flags, uint32 */
	NXC_SAMPLE, /* trigger/sample_id, int32, -1 */
	NXC_FILM,   /* printer/film_position, float64 mm */
	NXC_AXIS,   /* printer/axis_position, mm */
	NXC_SINCE,  /* printer/time_since_coating, s */
	NXC_FLOW,   /* printer/flow_rate, uL/min */
	NXC_SPEED,  /* printer/coating_speed, mm/s */
	NXC_COATED, /* printer/coated, uint8 */
	NXC_TEMP,   /* printer/temperature, [N, nheat] float64 C */
	NXC_N,
};

struct nx_row {
	uint64_t frame, start;
	uint8_t tagged, coated;
	int64_t time;
	uint32_t flags;
	int32_t sample;
	double film, axis, since, flow, speed;
	double temp[BL_EDGE_MAX_HEATERS];
};

struct bl_nx {
	hid_t file, data;
	hid_t col[NXC_N];
	hid_t tot_frames, tot_untagged, tot_missing, tot_rejected, tot_emiss, tot_ecut, status,
	    end_time;
	bool printer; /* the printer columns exist */
	int nheat;
	uint64_t n;	   /* frames in data */
	uint64_t untagged; /* of them */
	uint64_t n_meta;   /* rows written to the columns */
	struct nx_row rows[BL_NX_BATCH];
	int nrows;
	int height, width;
	size_t elem;
	bool broken; /* a write failed: nothing more is written (the disk may still be full) */
	char err[256];
};

/* Errno for a failed HDF5 call: the file system's reason when the C library left one. */
int nx_errno(void);
int nx_fail(struct bl_nx *nx, int rc, const char *what);

/* An extendible 1-D (COLS 0) or 2-D [N, COLS] column of TYPE; FILL for unwritten rows. */
hid_t nx_column(hid_t loc, const char *name, hid_t type, int cols, const void *fill,
		const char *units);
/* A scalar of TYPE rewritten in place (SWMR allows raw data writes, not new objects). */
hid_t nx_scalar(hid_t loc, const char *name, hid_t type);
/* A fixed-length string dataset of LEN bytes, rewritten in place. */
hid_t nx_fixed_str(hid_t loc, const char *name, size_t len, const char *value);
int nx_write_fixed_str(hid_t ds, const char *value);

#endif
