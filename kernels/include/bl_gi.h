/* bl_gi.h: grazing-incidence mapping: per-pixel (q_xy, q_z), a regular (q_xy, q_z) image, cuts. */
#ifndef BL_GI_H
#define BL_GI_H

#include <stdbool.h>
#include <stdint.h>

#include "bl_reduce.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sample frame (kernels/README.md): the beam meets the surface at the geometry's incidence_deg;
 * the surface normal lies in the plane of the beam and the detector's rows (lab t1, towards
 * increasing row on an untilted detector); x is the beam's projection on the surface, y the
 * in-plane perpendicular (lab t2). With k = 2 pi / lambda and the exit direction f in that frame:
 * q_x = k (f_x - cos ai), q_y = k f_y, q_z = k (f_z + sin ai), q_xy = sign(q_y) sqrt(q_x^2 +
 * q_y^2), all in nm^-1. The specular reflection has q_xy = 0, q_z = 4 pi sin(ai) / lambda. */
int bl_gi_pixel_q(const struct bl_reduce_geometry *g, int row, int col, double *qxy, double *qz);

/* The grid: NQXY x NQZ cells over [qxy_min, qxy_max) x [qz_min, qz_max) (a pair both 0: the
 * span of the unmasked pixels). A pixel goes whole to the cell of its centre (no splitting).
 * MASK (nrows*ncols, nonzero = masked) is copied; NULL: none. */
struct bl_gi_config {
	int nqxy, nqz;
	double qxy_min, qxy_max, qz_min, qz_max;
	const uint8_t *mask;
	bool mask_negative; /* dynamic mask: raw < 0 */
};

struct bl_gi_plan;

/* Precomputes each pixel's cell. 0, -EINVAL (bad geometry, |incidence| >= 90, sizes), -ENOMEM. */
int bl_gi_plan_create(const struct bl_reduce_geometry *g, const struct bl_gi_config *c,
		      struct bl_gi_plan **out);
void bl_gi_plan_free(struct bl_gi_plan *p);

/* The grid's edges as used (after the default span), nm^-1. */
void bl_gi_plan_range(const struct bl_gi_plan *p, double *qxy_min, double *qxy_max, double *qz_min,
		      double *qz_max);

/* Per cell sums of a frame, NQZ rows of NQXY (row-major, q_z slow): signal = sum raw,
 * variance = sum max(raw, 1) (Poisson), count = pixels. The cell's mean is signal / count and
 * its uncertainty sqrt(variance) / count. */
struct bl_gi_image {
	double *signal, *variance, *count;
};

/* Remaps FRAME (nrows*ncols floats) onto the grid, overwriting IMG. 0 or -EINVAL. */
int bl_gi_remap(const struct bl_gi_plan *p, const float *frame, struct bl_gi_image *img);

/* Line cuts of a remapped image, with variance: horizontal (q_xy profile, e.g. at the Yoneda
 * q_z) over the rows whose q_z centre lies in [LO, HI], NQXY values; vertical (q_z profile)
 * over the columns whose q_xy centre lies in [LO, HI], NQZ values. MEAN, SEM and COUNT (each
 * may be NULL) get sum signal / sum count, sqrt(sum variance) / sum count and sum count (0 for
 * empty). AXIS (may be NULL) gets the cell centres. 0 or -EINVAL. */
int bl_gi_cut_horizontal(const struct bl_gi_plan *p, const struct bl_gi_image *img, double lo,
			 double hi, double *axis, double *mean, double *sem, double *count);
int bl_gi_cut_vertical(const struct bl_gi_plan *p, const struct bl_gi_image *img, double lo,
		       double hi, double *axis, double *mean, double *sem, double *count);

#ifdef __cplusplus
}
#endif

#endif
