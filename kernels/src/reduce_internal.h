/* reduce_internal.h: what the reduction's source files share: the plan and the geometry frame. */
#ifndef BL_REDUCE_INTERNAL_H
#define BL_REDUCE_INTERNAL_H

#include <stdint.h>

#include "bl_reduce.h"

/* The geometry in pyFAI's parametrisation (metres, radians): see kernels/README.md. */
struct reduce_frame {
	double dist, poni1, poni2, rot1, rot2, rot3;
	double pixel1, pixel2; /* along rows (y, slow) and columns (x, fast) */
	double wavelength_m;
	double r[3][3]; /* rotation matrix rot3 . rot2 . rot1 */
	float pixel1f, pixel2f, poni1f, poni2f;
};

struct bl_reduce_plan {
	int nrows, ncols, nbins;
	enum bl_reduce_unit unit;
	double pos_min, pos_max, delta; /* bin edges in internal units (nm^-1 or rad) */
	double scale;			/* internal unit -> output unit */
	int32_t *indptr;		/* nbins + 1 */
	int32_t *indices;		/* nnz pixel indices, ascending within a bin */
	float *coef;			/* nnz fractions; NULL when nothing is split */
	float *dark;			/* per pixel, 0 without a dark */
	float *norm;			/* per pixel flat * solid angle * polarization */
	double *bin_dark, *bin_norm, *bin_norm2, *bin_count; /* static sums per bin */
	float lo, hi;					     /* valid raw values: lo <= v < hi */
	uint16_t *pixbin; /* no split: bin of each pixel (pixel-major), UINT16_MAX = none */
	int nthreads;	  /* per-thread histograms: nthreads * nbins * HIST_FIELDS doubles */
	double *hist;
};

enum { HIST_FIELDS = 6 }; /* raw, var, and the give-backs: dark, norm, norm2, count */

/* Converts a Fit2D geometry into FR; -EINVAL when it makes no sense. */
int reduce_frame_init(struct reduce_frame *fr, const struct bl_reduce_geometry *g);

/* Lab coordinates of detector point (P1, P2) metres from the PONI: t1 (vertical), t2, t3 (beam). */
void reduce_frame_lab(const struct reduce_frame *fr, double p1, double p2, double t[3]);

/* Pixel-centre offsets from the PONI, rounded as pyFAI's float32 detector model rounds them. */
double reduce_center_p1(const struct reduce_frame *fr, int row);
double reduce_center_p2(const struct reduce_frame *fr, int col);

/* 2 theta (rad) of lab vector T, and q (nm^-1) of a 2 theta. */
double reduce_tth(const double t[3]);
double reduce_q(const struct reduce_frame *fr, double tth);

#endif
