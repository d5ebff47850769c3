/* bl_peak2d.h: 2D peak finder for Bragg spots on a frame, peakfinder8-like (Cheetah, OnDA,
 * psocake): background and noise per radial bin from the sigma-clipped background (bl_bg.h),
 * connected regions above background + N sigma, centroid, integrated intensity and SNR.
 */
#ifndef BL_PEAK2D_H
#define BL_PEAK2D_H

#include "bl_reduce.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bl_peak2d_config {
	double nsigma;	    /* threshold: background(r) + NSIGMA * std(r) (corrected intensity) */
	double min_value;   /* and at least this above the background (peakfinder8's ADC
			       threshold; 0: none) */
	double clip_nsigma; /* sigma clipping of the background (bl_bg_clip_run); 0: 3 */
	int clip_iter;	    /* its rounds; 0: 5 */
	int min_pix;	    /* pixels above threshold a peak needs (0: 1) */
	int max_pix;	    /* and may have (0: no limit) */
	double min_snr;	    /* intensity / its uncertainty a peak needs (0: none) */
	int pad; /* the intensity sums the region grown by PAD pixels (8-neighbours, PAD rounds) so
		    that it takes in the spot's tails below threshold (0: the region alone) */
};

struct bl_peak2d {
	double row, col;      /* centroid weighted by value - background over the region and
				 one ring around it (with PAD > 0), pixel coordinates (pixel (r, c)
				 spans [r, r + 1)) */
	double q, chi_deg;    /* of the centroid: q in nm^-1 (or 2 theta in degrees, the
				 config's unit), chi as bl_reduce_pixel_position's */
	double intensity;     /* sum of value - background over the (grown) region */
	double sigma;	      /* its uncertainty: Poisson, sum max(raw, 1) / n^2, plus the
				 background's (its sem times the region's pixels)^2, rooted */
	double snr;	      /* intensity / sigma */
	double background;    /* background at the brightest pixel */
	double max_value;     /* brightest pixel's value - background */
	int npix;	      /* pixels above threshold */
	int row_max, col_max; /* brightest pixel */
};

struct bl_peak2d_plan;

/* Plan for geometry G with corrections and radial bins C (1D: C->nbins_chi 0; no split), and
 * finder settings PC; holds every buffer a frame needs. 0, -EINVAL or -ENOMEM. */
int bl_peak2d_plan_create(const struct bl_reduce_geometry *g, const struct bl_reduce_config *c,
			  const struct bl_peak2d_config *pc, struct bl_peak2d_plan **out);
void bl_peak2d_plan_free(struct bl_peak2d_plan *p);

/* Finds the peaks of FRAME (type DTYPE; NORMALIZATION as bl_reduce_integrate1d's) and writes
 * the first CAP, in frame order, to PEAKS. Values are corrected intensities (raw - dark) / n.
 * Allocates nothing. Returns how many were found (may exceed CAP) or -EINVAL. */
int bl_peak2d_find(struct bl_peak2d_plan *p, const void *frame, enum bl_reduce_dtype dtype,
		   double normalization, struct bl_peak2d *peaks, int cap);

/* The background and std per radial bin of the last frame (NULL before the first). */
const double *bl_peak2d_background(const struct bl_peak2d_plan *p);
const double *bl_peak2d_noise(const struct bl_peak2d_plan *p);

#ifdef __cplusplus
}
#endif

#endif
