/* reduce_internal.h: what the reduction's source files share: the plan and the geometry frame. */
#ifndef BL_REDUCE_INTERNAL_H
#define BL_REDUCE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
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
	int nrows, ncols, nbins;   /* nbins = nq * nchi, bin = chi bin * nq + radial bin */
	int nq, nchi;		   /* radial and azimuthal (2D caking; 1 in 1D) bins */
	double chi_min, chi_delta; /* chi bin edges, radians */
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
	/* Pixel-major table: each pixel's first bin (nbins: none) and, with bbox splitting, its
	 * fractions in that bin and the NSLOT - 1 next (0 past its last), NSLOT floats a pixel;
	 * entries beyond a pixel's NSLOT first bins are listed by pixel in xpix/xbin/xcoef. Bins
	 * are 16-bit (pixbin, xbin) up to REDUCE_BINS16 bins, else 32-bit (pixbin32, xbin32). */
	uint16_t *pixbin;
	uint32_t *pixbin32;
	float *coefs;
	int32_t *xpix;
	uint16_t *xbin;
	uint32_t *xbin32;
	float *xcoef;
	long nextra;
	/* Per-thread histograms, hist_stride doubles apart: ncopy copies of 2 hot fields (raw,
	 * var) per bin, then COLD_FIELDS give-backs per bin, nbins + NSLOT bins (the last ones
	 * catch masked pixels). */
	int nthreads;
	int ncopy; /* copies of the hot fields: NCOPY, 1 with 32-bit bins (2D: few shared bins) */
	size_t hist_stride;
	double *hist;
};

enum { REDUCE_BINS16 = 65000 }; /* the most bins the 16-bit pixel table holds */
enum { NCOPY = 2 };		/* copies of the hot fields per thread (see reduce_integrate.c) */
enum { COLD_FIELDS = 5 };
enum { NSLOT = 3 };
/* bbox fractions stored per pixel */ /* give-backs: dark, norm, norm2, count, dropped entries
				       */

/* bl_reduce_plan_create, keeping the bin-major CSR table (indptr, indices, coef) in the plan
 * when KEEP_CSR (the sigma clipping and the peak finder walk a bin's pixels). */
int reduce_plan_build(const struct bl_reduce_geometry *g, const struct bl_reduce_config *c,
		      bool keep_csr, struct bl_reduce_plan **out);

/* Builds P's pixel-major table (pixbin, coefs, extras) from its CSR table and allocates the
 * per-thread histograms; N pixels. 0 or -ENOMEM. */
int reduce_pixel_major(struct bl_reduce_plan *p, size_t n);

/* Writes bin B of OUT from its sums over the frame's valid pixels (S = sum c raw, V = sum c^2
 * max(raw, 1)) and G, the static shares of the pixels the frame masked (reduce_integrate.c). */
void reduce_put_bin(const struct bl_reduce_plan *p, int b, double s, double v,
		    const double g[COLD_FIELDS], double normalization,
		    struct bl_reduce_result *out);

/* reduce_integrate.c's per-thread histograms for a plan with 32-bit bins (reduce_wide.c);
 * returns how many threads ran. */
int reduce_histogram_wide(const struct bl_reduce_plan *p, const void *fr, enum bl_reduce_dtype dt);

/* Sums the first USED per-thread histograms of P per bin into OUT (reduce_integrate.c). */
void reduce_merge(const struct bl_reduce_plan *p, int used, double normalization,
		  struct bl_reduce_result *out);

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
