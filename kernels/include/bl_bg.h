/* bl_bg.h: background: a scaled reference frame or profile subtracted with error propagation, the
 * scale fitted where the sample does not scatter, and a sigma-clipped background per radial bin.
 */
#ifndef BL_BG_H
#define BL_BG_H

#include <stddef.h>

#include "bl_reduce.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Subtracts SCALE times reference frame REF (raw counts, float32, taken under the same dark as
 * the frame) from frame RAW (nrows*ncols of type DTYPE) pixel by pixel, into caller buffers:
 * SIGNAL = raw - SCALE * (ref - dark), so that integrating it with plan P (which subtracts the
 * dark once) gives (raw - dark) - SCALE * (ref - dark); VARIANCE = max(raw, 1) + SCALE^2 *
 * max(ref, 1) (Poisson, floored at 1 as the plan's). Pixels the plan's dynamic mask rejects in
 * either frame (negative, saturated, NaN) read NaN in both. Allocates nothing; feed the result to
 * bl_reduce_integrate_sv. 0 or -EINVAL. */
int bl_bg_subtract_frame(const struct bl_reduce_plan *p, const void *raw,
			 enum bl_reduce_dtype dtype, const float *ref, double scale, float *signal,
			 float *variance);

/* Integrates a frame given as per-pixel SIGNAL (as raw counts: the plan subtracts its dark) and
 * VARIANCE (instead of the plan's Poisson max(raw, 1)), both nrows*ncols float32; a NaN signal
 * masks the pixel (the plan's static mask and bins apply; its negative/saturation thresholds do
 * not, a subtracted signal may be negative). OUT as bl_reduce_integrate1d's. Allocates nothing.
 * 0 or -EINVAL. */
int bl_reduce_integrate_sv(const struct bl_reduce_plan *p, const float *signal,
			   const float *variance, double normalization,
			   struct bl_reduce_result *out);

/* Subtracts SCALE times a reference profile from a 1D or 2D result, bin by bin (N bins):
 * OUT_MEAN = MEAN - SCALE * REF_MEAN, OUT_SEM = sqrt(SEM^2 + SCALE^2 REF_SEM^2) (independent
 * errors in quadrature). REF_SEM may be NULL (a noiseless reference). Outputs may alias inputs.
 * 0 or -EINVAL. */
int bl_bg_subtract_profile(int n, const double *mean, const double *sem, const double *ref_mean,
			   const double *ref_sem, double scale, double *out_mean, double *out_sem);

/* The scale s for which MEAN ~ s * REF_MEAN over the bins whose RADIAL lies in [RMIN, RMAX] (a
 * range where the sample does not scatter): weighted least squares through the origin with
 * weights 1 / (SEM^2 + s^2 REF_SEM^2) (GSL's gsl_fit_wmul, reweighted once with the first s).
 * Bins with SEM <= 0 (empty) are left out. *SCALE and its standard error *SCALE_ERR (may be
 * NULL). 0, -EINVAL (fewer than 2 usable bins, bad input), -ENOTSUP without GSL. */
int bl_bg_fit_scale(int n, const double *radial, const double *mean, const double *sem,
		    const double *ref_mean, const double *ref_sem, double rmin, double rmax,
		    double *scale, double *scale_err);

/* Sigma-clipped background per radial bin, pyFAI's sigma_clip_ng (CSR, error model "azimuthal"):
 * in each bin, with v = (raw - dark) / n per pixel (n the plan's normalization), mean = sum c
 * (raw - dark) / sum c n and std^2 = sum c n (v - mean)^2 / sum c n; pixels with |v - mean| >
 * max(NSIGMA, sqrt(2 ln(count / sqrt(2 pi)))) * std (pyFAI's cut-off, Chauvenet's criterion as
 * a floor; count at least 3) are dropped and the statistics recomputed, until none is dropped
 * or MAX_ITER rounds. Works from a 1D plan config (nbins_chi 0). */
struct bl_bg_clip;

struct bl_bg_clip_result {
	double *radial;	 /* bin centres, the plan's unit */
	double *mean;	 /* background: clipped mean (corrected intensity) */
	double *std;	 /* spread of one pixel about it */
	double *sem;	 /* uncertainty of the mean, sqrt(sum c n (v - mean)^2) / sum c n (pyFAI's
			    "sigma") */
	double *count;	 /* pixels kept (sum of fractions) */
	double *dropped; /* pixels clipped (sum of fractions) */
};

/* Plan for geometry G and config C (C->nbins_chi must be 0). 0, -EINVAL or -ENOMEM. */
int bl_bg_clip_create(const struct bl_reduce_geometry *g, const struct bl_reduce_config *c,
		      struct bl_bg_clip **out);
void bl_bg_clip_free(struct bl_bg_clip *s);
int bl_bg_clip_nbins(const struct bl_bg_clip *s);

/* Clips frame FRAME (type DTYPE) and fills OUT (each pointer NBINS doubles or NULL). Allocates
 * nothing (works in the plan: one clip pass at a time per plan). 0 or -EINVAL. */
int bl_bg_clip_run(struct bl_bg_clip *s, const void *frame, enum bl_reduce_dtype dtype,
		   double normalization, double nsigma, int max_iter,
		   struct bl_bg_clip_result *out);

#ifdef __cplusplus
}
#endif

#endif
