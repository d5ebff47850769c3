/* fit_lm.c: bounded Levenberg-Marquardt by GSL's gsl_multifit_nlinear (trust region, LM step)
 * in MINUIT's sine coordinates, from p0 and from seeded quasi-random starts (best chi2 wins),
 * starts spread over the threads when the model is thread-safe. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fit_internal.h"

#ifdef BL_HAVE_GSL
#include <gsl/gsl_blas.h>

int fit_lm_f(const gsl_vector *u, void *params, gsl_vector *r)
{
	struct fit_slot *s = params;
	struct bl_fitter *f = s->f;
	double x[FIT_MAXP], p[FIT_MAXP], chi2;
	for (int k = 0; k < f->nfree; k++) {
		s->ulast[k] = gsl_vector_get(u, (size_t)k);
		x[k] = fit_u_to_x(f, k, s->ulast[k]);
	}
	fit_expand(f, x, p);
	s->have_last = 0;
	int rc = fit_eval(f, s, p, s->rlast, &chi2);
	if (rc) {
		s->err = rc;
		return GSL_EBADFUNC;
	}
	for (int i = 0; i < f->nd; i++)
		gsl_vector_set(r, (size_t)i, s->rlast[i]);
	s->have_last = 1;
	return GSL_SUCCESS;
}

/* d r / d u = d r / d x * dx/du; the residuals at u are those of the last f call when GSL asks
 * for the Jacobian of the point it just accepted (it nearly always does). */
int fit_lm_df(const gsl_vector *u, void *params, gsl_matrix *j)
{
	struct fit_slot *s = params;
	struct bl_fitter *f = s->f;
	double x[FIT_MAXP], p[FIT_MAXP];
	int same = s->have_last;
	for (int k = 0; k < f->nfree; k++) {
		double uk = gsl_vector_get(u, (size_t)k);
		same = same && uk == s->ulast[k];
		x[k] = fit_u_to_x(f, k, uk);
	}
	fit_expand(f, x, p);
	int rc = fit_jacobian(f, s, p, same ? s->rlast : NULL, j);
	if (rc) {
		s->err = rc;
		return GSL_EBADFUNC;
	}
	for (int k = 0; k < f->nfree; k++) {
		gsl_vector_view c = gsl_matrix_column(j, (size_t)k);
		gsl_vector_scale(&c.vector, fit_dxdu(f, k, gsl_vector_get(u, (size_t)k)));
	}
	return GSL_SUCCESS;
}

int fit_lm_start(struct bl_fitter *f, struct fit_slot *s, const double *u0, int start, int max_iter,
		 double xtol, double gtol, double ftol)
{
	gsl_vector_const_view v = gsl_vector_const_view_array(u0, (size_t)f->nfree);
	s->err = 0;
	s->have_last = 0;
	int st = gsl_multifit_nlinear_init(&v.vector, &s->fdf, s->ws);
	if (s->err)
		return s->err;
	if (st)
		return -EDOM;
	int info = 0;
	st = gsl_multifit_nlinear_driver((size_t)max_iter, xtol, gtol, ftol, NULL, NULL, &info,
					 s->ws);
	if (s->err)
		return s->err;
	double c;
	gsl_blas_ddot(gsl_multifit_nlinear_residual(s->ws), gsl_multifit_nlinear_residual(s->ws),
		      &c);
	if (!isfinite(c))
		return -EDOM;
	if (c < s->best_chi2 || (c == s->best_chi2 && start < s->best_start)) {
		const gsl_vector *x = gsl_multifit_nlinear_position(s->ws);
		for (int k = 0; k < f->nfree; k++)
			s->best_u[k] = gsl_vector_get(x, (size_t)k);
		s->best_chi2 = c;
		s->best_start = start;
		s->best_iter = (int)gsl_multifit_nlinear_niter(s->ws);
		s->best_conv = st == GSL_SUCCESS;
	}
	return 0;
}

/* Start K >= 1: point K of GSL's Sobol sequence shifted by a seeded uniform vector modulo 1
 * (Cranley-Patterson rotation: a quasi-random set that differs with the seed), in the bounds. */
static void make_starts(struct bl_fitter *f, const double *p0, int nstart, unsigned long seed,
			double *u)
{
	int nf = f->nfree;
	double shift[FIT_MAXP], q[FIT_MAXP];
	for (int k = 0; k < nf; k++)
		u[k] = fit_x_to_u(f, k, p0[f->free_idx[k]]);
	gsl_rng_set(f->rng, seed);
	for (int k = 0; k < nf; k++)
		shift[k] = gsl_rng_uniform(f->rng);
	gsl_qrng_init(f->qrng);
	for (int s = 1; s < nstart; s++) {
		gsl_qrng_get(f->qrng, q);
		for (int k = 0; k < nf; k++) {
			int i = f->free_idx[k];
			double t = q[k] + shift[k];
			t -= floor(t);
			u[s * nf + k] = fit_x_to_u(f, k, f->lo[i] + t * (f->hi[i] - f->lo[i]));
		}
	}
}

int bl_fit_lm(struct bl_fitter *f, const double *y, const double *sigma, const double *p0,
	      const struct bl_fit_lm_options *o, struct bl_fit_result *res)
{
	static const struct bl_fit_lm_options defaults;
	if (!f || !res)
		return -EINVAL;
	if (!o)
		o = &defaults;
	if (o->nstart < 0 || o->max_iter < 0 || o->xtol < 0 || o->gtol < 0 || o->ftol < 0 ||
	    o->fd_step < 0 || o->target_chi2 < 0)
		return -EINVAL;
	int nstart = o->nstart ? o->nstart : 1, max_iter = o->max_iter ? o->max_iter : 200;
	double xtol = o->xtol > 0 ? o->xtol : 1e-8, gtol = o->gtol > 0 ? o->gtol : 1e-8,
	       ftol = o->ftol > 0 ? o->ftol : 1e-10;
	int rc = fit_begin(f, y, sigma, p0, o->target_chi2);
	if (rc)
		return rc;
	f->fd_step = o->fd_step > 0 ? o->fd_step : 1e-7;
	rc = fit_reserve(f, (size_t)nstart * (size_t)f->nfree);
	if (rc)
		return rc;
	make_starts(f, p0, nstart, o->seed, f->buf);
	int par = f->nthreads > 1 && nstart > 1, err = 0, err_start = nstart;
	f->fd_parallel = !par;
#pragma omp parallel for schedule(dynamic, 1) num_threads(f->nthreads) if (par)
	for (int k = 0; k < nstart; k++) {
		struct fit_slot *s = par ? &f->slot[fit_thread_num()] : &f->slot[0];
		int e = fit_lm_start(f, s, f->buf + (size_t)k * (size_t)f->nfree, k, max_iter, xtol,
				     gtol, ftol);
		if (e) {
#pragma omp critical(bl_fit_lm_err)
			if (k < err_start) {
				err_start = k;
				err = e;
			}
		}
	}
	struct fit_slot *best = NULL;
	for (int t = 0; t < f->nthreads; t++) {
		struct fit_slot *s = &f->slot[t];
		if (s->best_start < 0)
			continue;
		if (!best || s->best_chi2 < best->best_chi2 ||
		    (s->best_chi2 == best->best_chi2 && s->best_start < best->best_start))
			best = s;
	}
	if (!best)
		return err ? err : -EDOM;
	double x[FIT_MAXP];
	for (int k = 0; k < f->nfree; k++)
		x[k] = fit_u_to_x(f, k, best->best_u[k]);
	rc = fit_finish(f, x, o->scale_cov, res);
	if (rc)
		return rc;
	res->iterations = best->best_iter;
	res->best_start = best->best_start;
	res->converged = best->best_conv;
	return 0;
}

#else

int bl_fit_lm(struct bl_fitter *f, const double *y, const double *sigma, const double *p0,
	      const struct bl_fit_lm_options *o, struct bl_fit_result *res)
{
	(void)f, (void)y, (void)sigma, (void)p0, (void)o, (void)res;
	return -ENOTSUP;
}

#endif
