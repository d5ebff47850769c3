/* bl_nx.h: the NeXus/HDF5 (NXsas) file of one measurement: static metadata once, each frame as
 * one bitshuffle-LZ4 chunk (direct chunk write) with its trigger-edge metadata, SWMR. */
#ifndef BL_NX_H
#define BL_NX_H

#include <stddef.h>
#include <stdint.h>

#include "bl_dstream.h"
#include "bl_join.h"

/* The bitshuffle HDF5 filter (Debian's `bitshuffle`, libh5bshuf.so) and its options. */
#define BL_NX_FILTER_BSHUF 32008
#define BL_NX_BSHUF_LZ4	   2

/* What is written once per file. */
struct bl_nx_static {
	char title[128];
	char beamline[64];
	char source[64];   /* facility / source name */
	char detector[96]; /* detector description */
	double distance_m; /* sample to detector */
	double x_pixel_m, y_pixel_m;
	double beam_x_px, beam_y_px; /* beam centre on the frame, pixels */
	double wavelength_A;
	double incidence_deg; /* grazing incidence (GISAXS), NaN when unknown */
	double count_time_s, frame_time_s;
	uint64_t series;
	int width, height; /* frame shape (fast, slow) */
	enum bl_dtype type;
};

/* One frame: its chunk (bitshuffle-LZ4, the filter's chunk format) and its edge (NULL:
 * untagged). */
struct bl_nx_frame {
	uint64_t frame;
	const void *chunk;
	size_t chunk_bytes;
	uint64_t start_ns; /* exposure start on the detector's clock since arm */
	const struct bl_edge *edge;
};

/* Totals stored in /entry/ingest (rewritten at each flush). */
struct bl_nx_totals {
	uint64_t missing;  /* frames the stream skipped or never sent */
	uint64_t rejected; /* stream messages of this series rejected */
	uint64_t edge_missing, edge_cut;
};

struct bl_nx;

/* Makes the filter plugin folder known to HDF5 and checks filter 32008 is there; silences
 * HDF5's own error printing. 0 or -ENOSYS (with a message in ERR). Called by bl_nx_create. */
int bl_nx_init(char *err, size_t errsz);

/* Creates PATH (never overwrites: -EEXIST), writes the static metadata and /entry/sample from
 * FIRST (the first frame's edge; NULL: unknown), creates the per-frame datasets and starts SWMR.
 * Negative errno with a one-line reason in ERR: -EACCES/-ENOENT/-ENOSPC/-EEXIST from the file
 * system, -EIO from HDF5, -ENOSYS without the filter. */
int bl_nx_create(struct bl_nx **out, const char *path, const struct bl_nx_static *st,
		 const struct bl_edge *first, char *err, size_t errsz);

/* Appends one frame (written at once with H5Dwrite_chunk; its metadata row is buffered and
 * written at the next flush, which comes every BL_NX_BATCH frames). 0, -ENOSPC/-EIO. */
int bl_nx_append(struct bl_nx *nx, const struct bl_nx_frame *f);
#define BL_NX_BATCH 32

/* Writes the buffered metadata rows and the totals, flushes every dataset (SWMR readers see
 * the frames). 0 or -EIO/-ENOSPC. */
int bl_nx_flush(struct bl_nx *nx, const struct bl_nx_totals *t);

/* Flushes, writes the end time and STATUS ("complete", "incomplete", "failed", ...), closes.
 * NX is freed whatever happens; returns the first error. */
int bl_nx_close(struct bl_nx *nx, const struct bl_nx_totals *t, const char *status);

/* Reads frame IDX's chunk back as stored into *BUF (realloc'd when smaller than the chunk; *CAP
 * its size), *LEN its length: from the file being written, or from a closed file through a
 * reader. 0, -ENOENT (no such frame), -ENOMEM, -EIO. */
int bl_nx_read_chunk(struct bl_nx *nx, uint64_t idx, void **buf, size_t *cap, size_t *len);
struct bl_nx_reader;
int bl_nx_reader_open(struct bl_nx_reader **out, const char *path); /* 0, -ENOMEM, -EIO */
int bl_nx_reader_chunk(struct bl_nx_reader *r, uint64_t idx, void **buf, size_t *cap, size_t *len);
void bl_nx_reader_close(struct bl_nx_reader *r);

uint64_t bl_nx_frames(const struct bl_nx *nx);
uint64_t bl_nx_untagged(const struct bl_nx *nx);
const char *bl_nx_error(const struct bl_nx *nx);

/* Encodes PIXELS (decoded frame) into the filter's chunk format in OUT (CAP bytes, at least
 * bl_nx_chunk_bound); *LEN gets the size. 0 or a bl_dcodec_encode error. */
int bl_nx_chunk_encode(enum bl_dtype t, const void *pixels, size_t nelem, void *out, size_t cap,
		       size_t *len);
size_t bl_nx_chunk_bound(enum bl_dtype t, size_t nelem);

/* Online analysis results of a closed file (agent README "Results"): one row per frame of the
 * file (row = the frame's row in /entry/instrument/detector/data), NaN where a frame has no
 * result (ANALYSED 0). Arrays are row-major. */
#define BL_NX_TIMINGS 5 /* decode, reduce, peaks, fit, total (ms, as the worker measured) */
struct bl_nx_process {
	const char *program, *status; /* "complete" or "partial" */
	uint64_t rows, analysed_count;
	const uint8_t *analysed;
	int nbins;		      /* 0: no profiles */
	const double *q, *mean, *sem; /* nbins; rows x nbins; rows x nbins */
	int maxpk;		      /* peak slots per row, 0: none */
	const int *npk;
	const double
	    *pk;  /* rows x maxpk x 8: pos, pos_err, fwhm, fwhm_err, area, area_err, d, d_err */
	int nfit; /* fitted parameters, 0: none */
	const char *fit_model;
	const char *const *fit_names;
	const double *fit_values, *fit_errors, *chi2; /* rows x nfit, rows x nfit, rows */
	const double *timings;			      /* rows x BL_NX_TIMINGS */
	const double *latency;			      /* rows: stored -> result at the agent */
	double *scratch;			      /* rows x maxpk doubles the writer may use */
};

/* Writes P into PATH's /entry/process (NXprocess), replacing one there. 0 or -EIO (ERR says). */
int bl_nx_process_write(const char *path, const struct bl_nx_process *p, char *err, size_t errsz);

#endif
