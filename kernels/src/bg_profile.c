/* bg_profile.c: a scaled reference profile subtracted from a 1D or 2D result (errors in
 * quadrature), and the scale fitted by weighted least squares (GSL) over a quiet radial range. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bl_bg.h"

#ifdef BL_HAVE_GSL
#include <gsl/gsl_fit.h>
#endif

int bl_bg_subtract_profile(int n, const double *mean, const double *sem, const double *ref_mean,
			   const double *ref_sem, double scale, double *out_mean, double *out_sem)
{
	if (n < 0 || !mean || !ref_mean || !out_mean || (out_sem && !sem) || !isfinite(scale))
		return -EINVAL;
	for (int b = 0; b < n; b++) {
		double rs = ref_sem ? ref_sem[b] : 0;
		if (out_sem)
			out_sem[b] = sqrt(sem[b] * sem[b] + scale * scale * rs * rs);
		out_mean[b] = mean[b] - scale * ref_mean[b];
	}
	return 0;
}

#ifdef BL_HAVE_GSL
/* Weighted fit through the origin of the bins in range; S0 enters the weights (0: the sample's
 * errors alone). Returns the number of bins used. */
static int fit_once(int n, const double *radial, const double *mean, const double *sem,
		    const double *ref_mean, const double *ref_sem, double rmin, double rmax,
		    double s0, double *x, double *w, double *y, double *c1, double *cov)
{
	int m = 0;
	for (int b = 0; b < n; b++) {
		if (!(radial[b] >= rmin && radial[b] <= rmax) || !(sem[b] > 0) ||
		    !isfinite(mean[b]) || !isfinite(ref_mean[b]))
			continue;
		double rs = ref_sem ? ref_sem[b] : 0, var = sem[b] * sem[b] + s0 * s0 * rs * rs;
		x[m] = ref_mean[b];
		y[m] = mean[b];
		w[m] = 1.0 / var;
		m++;
	}
	double sumsq;
	if (m < 2 || gsl_fit_wmul(x, 1, w, 1, y, 1, (size_t)m, c1, cov, &sumsq) != 0)
		return -1;
	return m;
}
#endif

int bl_bg_fit_scale(int n, const double *radial, const double *mean, const double *sem,
		    const double *ref_mean, const double *ref_sem, double rmin, double rmax,
		    double *scale, double *scale_err)
{
	if (n < 2 || !radial || !mean || !sem || !ref_mean || !scale || !(rmax >= rmin))
		return -EINVAL;
#ifdef BL_HAVE_GSL
	double *buf = malloc(3 * (size_t)n * sizeof(double));
	if (!buf)
		return -ENOMEM;
	double c1 = 0, cov = 0;
	int m = fit_once(n, radial, mean, sem, ref_mean, ref_sem, rmin, rmax, 0, buf, buf + n,
			 buf + 2 * n, &c1, &cov);
	if (m > 0 && ref_sem) /* the reference's errors scale with s: weigh them in once */
		m = fit_once(n, radial, mean, sem, ref_mean, ref_sem, rmin, rmax, c1, buf, buf + n,
			     buf + 2 * n, &c1, &cov);
	free(buf);
	if (m < 2 || !isfinite(c1))
		return -EINVAL;
	*scale = c1;
	if (scale_err)
		*scale_err = sqrt(cov);
	return 0;
#else
	(void)ref_sem, (void)scale_err;
	return -ENOTSUP;
#endif
}
