/* bl_peak.h: peak finding on a reduced 1D profile (position, FWHM, area with uncertainties). */
#ifndef BL_PEAK_H
#define BL_PEAK_H

#ifdef __cplusplus
extern "C" {
#endif

/* What counts as a peak. Zero fields take the defaults in brackets. */
struct bl_peak1d_config {
	double nsigma;	   /* a peak's maximum exceeds background + NSIGMA background sigma [5] */
	double clip_sigma; /* sigma clipping of the background estimate [3] */
	int clip_iter;	   /* clipping rounds at most [10] */
	int min_distance;  /* a maximum is the largest within +-MIN_DISTANCE bins [3] */
};

/* One peak: a Gaussian on a constant local background fitted by weighted least squares (weights
 * 1/sem^2); each *_err is the 1-sigma uncertainty from the fit's covariance, propagated from the
 * profile's sem. d = 2 pi / pos (d-spacing in nm when x is q in nm^-1). */
struct bl_peak1d {
	double pos, pos_err;   /* centre, x units */
	double fwhm, fwhm_err; /* full width at half maximum */
	double area, area_err; /* integral over x (height * sigma * sqrt(2 pi)) */
	double height, background;
	double d, d_err;
	int bin; /* the local maximum the fit started from */
};

/* Sigma-clipped mean and standard deviation of Y[0..N): values more than CLIP standard
 * deviations from the mean are dropped, at most ITER rounds. 0 or -EINVAL (N < 2). */
int bl_peak_background(const double *y, int n, double clip, int iter, double *mean, double *sd);

/* Finds the peaks of profile (X, Y, SEM)[0..N) (X increasing; SEM > 0 where the bin counts;
 * bins with SEM <= 0 are ignored) and writes up to CAP of them, by increasing X, to OUT. Returns
 * how many were found (may exceed CAP), -EINVAL, or -ENOTSUP in a build without GSL. C may be
 * NULL (defaults). */
int bl_peak1d_find(const double *x, const double *y, const double *sem, int n,
		   const struct bl_peak1d_config *c, struct bl_peak1d *out, int cap);

#ifdef __cplusplus
}
#endif

#endif
