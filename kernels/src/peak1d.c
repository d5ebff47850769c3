/* peak1d.c: 1D peak finder on a reduced profile: sigma-clipped background, local maxima above it
 * by N sigma, and a weighted Gaussian + constant least-squares fit per peak (GSL's
 * gsl_multifit_nlinear, trust region, covariance for the uncertainties). Only the background
 * clipping (a sort and two sums) and the candidate search are written here: GSL has neither. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "bl_peak.h"

#ifdef BL_HAVE_GSL
#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_statistics_double.h>
#endif

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* As astropy's sigma_clip: centred on the median of what is kept, scaled by its standard
 * deviation; the mean and standard deviation of the survivors are returned. */
int bl_peak_background(const double *y, int n, double clip, int iter, double *mean, double *sd)
{
	if (!y || n < 2 || !mean || !sd)
		return -EINVAL;
	double *v = malloc((size_t)n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		v[i] = y[i];
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	int lo = 0, hi = n; /* kept: v[lo..hi), sorted */
	double m = 0, s = 0;
	for (int it = 0;; it++) {
		int k = hi - lo;
		double sum = 0, sum2 = 0;
		for (int i = lo; i < hi; i++)
			sum += v[i];
		m = sum / k;
		for (int i = lo; i < hi; i++)
			sum2 += (v[i] - m) * (v[i] - m);
		s = k > 1 ? sqrt(sum2 / (k - 1)) : 0;
		if (it == iter || k < 3)
			break;
		double med = k % 2 ? v[lo + k / 2] : 0.5 * (v[lo + k / 2 - 1] + v[lo + k / 2]);
		int nlo = lo, nhi = hi;
		while (nlo < nhi && v[nlo] < med - clip * s)
			nlo++;
		while (nhi > nlo && v[nhi - 1] > med + clip * s)
			nhi--;
		if (nlo == lo && nhi == hi)
			break;
		lo = nlo, hi = nhi;
	}
	free(v);
	*mean = m;
	*sd = s;
	return 0;
}

#ifdef BL_HAVE_GSL

struct window {
	const double *x, *y, *sem;
	int lo, n;
};

/* Residuals (model - y) / sem of p = (height, centre, sigma, background). */
static int gauss_f(const gsl_vector *p, void *data, gsl_vector *f)
{
	const struct window *w = data;
	double a = gsl_vector_get(p, 0), mu = gsl_vector_get(p, 1), s = gsl_vector_get(p, 2),
	       b = gsl_vector_get(p, 3);
	for (int i = 0; i < w->n; i++) {
		int k = w->lo + i;
		double u = (w->x[k] - mu) / s;
		gsl_vector_set(f, (size_t)i, (a * exp(-0.5 * u * u) + b - w->y[k]) / w->sem[k]);
	}
	return GSL_SUCCESS;
}

static int gauss_df(const gsl_vector *p, void *data, gsl_matrix *j)
{
	const struct window *w = data;
	double a = gsl_vector_get(p, 0), mu = gsl_vector_get(p, 1), s = gsl_vector_get(p, 2);
	for (int i = 0; i < w->n; i++) {
		int k = w->lo + i;
		double u = (w->x[k] - mu) / s, e = exp(-0.5 * u * u), ws = 1.0 / w->sem[k];
		gsl_matrix_set(j, (size_t)i, 0, e * ws);
		gsl_matrix_set(j, (size_t)i, 1, a * e * u / s * ws);
		gsl_matrix_set(j, (size_t)i, 2, a * e * u * u / s * ws);
		gsl_matrix_set(j, (size_t)i, 3, ws);
	}
	return GSL_SUCCESS;
}

/* Fits the peak at bin M of width guess S (x units) over +-3 S; 0, or -1 when it fails. */
static int fit(const double *x, const double *y, const double *sem, int n, int m, double s,
	       double bg, struct bl_peak1d *pk)
{
	double dx =
	    fabs(x[m + 1 < n ? m + 1 : m] - x[m > 0 ? m - 1 : m]) / (m > 0 && m + 1 < n ? 2 : 1);
	int half = (int)ceil(3 * s / dx);
	if (half < 3)
		half = 3;
	int lo = m - half < 0 ? 0 : m - half, hi = m + half >= n ? n - 1 : m + half;
	for (int k = lo; k <= hi; k++)
		if (!(sem[k] > 0))
			return -1;
	struct window w = {x, y, sem, lo, hi - lo + 1};
	if (w.n < 6)
		return -1;
	gsl_multifit_nlinear_fdf fdf = {
	    .f = gauss_f, .df = gauss_df, .n = (size_t)w.n, .p = 4, .params = &w};
	gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
	gsl_multifit_nlinear_workspace *ws =
	    gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, (size_t)w.n, 4);
	if (!ws)
		return -1;
	double p0[4] = {y[m] - bg, x[m], s, bg};
	gsl_vector_view v = gsl_vector_view_array(p0, 4);
	int info = 0, ret = -1;
	gsl_matrix *cov = gsl_matrix_alloc(4, 4);
	if (cov && gsl_multifit_nlinear_init(&v.vector, &fdf, ws) == GSL_SUCCESS &&
	    gsl_multifit_nlinear_driver(100, 1e-10, 1e-10, 1e-10, NULL, NULL, &info, ws) ==
		GSL_SUCCESS &&
	    gsl_multifit_nlinear_covar(gsl_multifit_nlinear_jac(ws), 0.0, cov) == GSL_SUCCESS) {
		const gsl_vector *p = gsl_multifit_nlinear_position(ws);
		double a = gsl_vector_get(p, 0), mu = gsl_vector_get(p, 1),
		       sg = fabs(gsl_vector_get(p, 2)), k = 2 * sqrt(2 * M_LN2),
		       r2pi = sqrt(2 * M_PI);
		double va = gsl_matrix_get(cov, 0, 0), vs = gsl_matrix_get(cov, 2, 2),
		       cas = gsl_matrix_get(cov, 0, 2);
		if (a > 0 && mu > x[lo] && mu < x[hi]) {
			pk->pos = mu;
			pk->pos_err = sqrt(gsl_matrix_get(cov, 1, 1));
			pk->fwhm = k * sg;
			pk->fwhm_err = k * sqrt(vs);
			pk->area = a * sg * r2pi;
			/* area = a s sqrt(2 pi): first-order propagation with the a-s covariance */
			pk->area_err =
			    r2pi * sqrt(fmax(0, sg * sg * va + a * a * vs + 2 * a * sg * cas));
			pk->height = a;
			pk->background = gsl_vector_get(p, 3);
			pk->d = mu != 0 ? 2 * M_PI / mu : 0;
			pk->d_err = mu != 0 ? 2 * M_PI / (mu * mu) * pk->pos_err : 0;
			pk->bin = m;
			ret = 0;
		}
	}
	gsl_matrix_free(cov);
	gsl_multifit_nlinear_free(ws);
	return ret;
}

int bl_peak1d_find(const double *x, const double *y, const double *sem, int n,
		   const struct bl_peak1d_config *c, struct bl_peak1d *out, int cap)
{
	if (!x || !y || !sem || n < 3 || (cap > 0 && !out))
		return -EINVAL;
	struct bl_peak1d_config d = {5, 3, 10, 3};
	if (c) {
		d.nsigma = c->nsigma > 0 ? c->nsigma : d.nsigma;
		d.clip_sigma = c->clip_sigma > 0 ? c->clip_sigma : d.clip_sigma;
		d.clip_iter = c->clip_iter > 0 ? c->clip_iter : d.clip_iter;
		d.min_distance = c->min_distance > 0 ? c->min_distance : d.min_distance;
	}
	double *yv = malloc((size_t)n * sizeof(*yv));
	if (!yv)
		return -ENOMEM;
	int nv = 0;
	for (int i = 0; i < n; i++)
		if (sem[i] > 0)
			yv[nv++] = y[i];
	double bg = 0, sd = 0;
	int rc = bl_peak_background(yv, nv, d.clip_sigma, d.clip_iter, &bg, &sd);
	free(yv);
	if (rc < 0)
		return rc;
	gsl_set_error_handler_off();
	int found = 0;
	for (int m = 0; m < n; m++) {
		if (!(sem[m] > 0) || y[m] <= bg + d.nsigma * sd)
			continue;
		bool top = true;
		for (int k = m - d.min_distance; k <= m + d.min_distance && top; k++)
			if (k >= 0 && k < n && k != m && sem[k] > 0 &&
			    (y[k] > y[m] || (y[k] == y[m] && k < m)))
				top = false;
		if (!top)
			continue;
		/* width guess: the half-maximum crossings either side */
		double half = bg + 0.5 * (y[m] - bg);
		int l = m, r = m;
		while (l > 0 && y[l] > half)
			l--;
		while (r < n - 1 && y[r] > half)
			r++;
		double s = fmax(fabs(x[r] - x[l]), fabs(x[m + 1 < n ? m + 1 : m - 1] - x[m])) /
			   (2 * sqrt(2 * M_LN2));
		struct bl_peak1d pk;
		if (fit(x, y, sem, n, m, s, bg, &pk) < 0)
			continue;
		if (found < cap)
			out[found] = pk;
		found++;
	}
	return found;
}

#else

int bl_peak1d_find(const double *x, const double *y, const double *sem, int n,
		   const struct bl_peak1d_config *c, struct bl_peak1d *out, int cap)
{
	(void)x, (void)y, (void)sem, (void)n, (void)c, (void)out, (void)cap;
	return -ENOTSUP;
}

#endif
