/* fit_problem.c: the fitter object shared by the LM and swarm fits: validation, allocation,
 * the bounds' reparametrisation, weighted residuals with the evaluation counter, the (parallel)
 * forward-difference Jacobian and the covariance at the solution. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fit_internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef BL_HAVE_GSL
#include <gsl/gsl_blas.h>
#include <gsl/gsl_linalg.h>

int fit_thread_num(void)
{
#ifdef _OPENMP
	return omp_get_thread_num();
#else
	return 0;
#endif
}

static int max_threads(void)
{
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}

/* Bounds as MINUIT does them: x = lo + (hi - lo) (1 + sin u) / 2, smooth, periodic in u, so the
 * unconstrained LM never leaves [lo, hi]. Starting points are kept 1e-8 of the half-range off
 * the bounds, where dx/du = 0 would freeze the parameter. */
double fit_u_to_x(const struct bl_fitter *f, int k, double u)
{
	int i = f->free_idx[k];
	double x = f->lo[i] + (f->hi[i] - f->lo[i]) * 0.5 * (1 + sin(u));
	return x < f->lo[i] ? f->lo[i] : x > f->hi[i] ? f->hi[i] : x;
}

double fit_x_to_u(const struct bl_fitter *f, int k, double x)
{
	int i = f->free_idx[k];
	double a = 2 * (x - f->lo[i]) / (f->hi[i] - f->lo[i]) - 1, lim = 1 - 1e-8;
	return asin(a < -lim ? -lim : a > lim ? lim : a);
}

double fit_dxdu(const struct bl_fitter *f, int k, double u)
{
	int i = f->free_idx[k];
	return (f->hi[i] - f->lo[i]) * 0.5 * cos(u);
}

void fit_expand(const struct bl_fitter *f, const double *x, double *p)
{
	for (int i = 0; i < f->np; i++)
		p[i] = f->pfix[i];
	for (int k = 0; k < f->nfree; k++)
		p[f->free_idx[k]] = x[k];
}

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int fit_eval(struct bl_fitter *f, struct fit_slot *s, const double *p, double *r, double *chi2)
{
	double t0 = seconds();
	int rc = f->model(p, s->m, f->user);
	s->t_model = seconds() - t0;
	long n;
#pragma omp atomic capture
	n = ++f->nevals;
	if (rc)
		return rc < 0 ? rc : -EIO;
	const double *y = f->y, *w = f->w;
	double c = 0;
	for (int i = 0; i < f->nd; i++) {
		double m = s->m[i], wi = w[i];
		if (!isfinite(m))
			return -EDOM;
		if (wi == 0) {
			r[i] = 0;
			continue;
		}
		if (f->pearson)
			wi = 1 / sqrt(m > 1 ? m : 1);
		r[i] = (m - y[i]) * wi;
		c += r[i] * r[i];
	}
	*chi2 = c;
	if (f->target > 0 && c <= f->target) {
#pragma omp critical(bl_fit_target)
		if (f->nevals_target < 0 || n < f->nevals_target)
			f->nevals_target = n;
	}
	return 0;
}

/* Analytic Jacobian of the weighted residuals (the model's derivative times the weight; for
 * Pearson weights d/dm [(m - y) / sqrt(m)] = (m + y) / (2 m^1.5) where m > 1). */
static int jacobian_analytic(struct bl_fitter *f, struct fit_slot *s, const double *p,
			     gsl_matrix *j)
{
	if (f->pearson) {
		double c;
		int rc = fit_eval(f, s, p, s->rt, &c);
		if (rc)
			return rc;
	}
	int rc = f->jacobian(p, s->jp, f->user);
	if (rc)
		return rc < 0 ? rc : -EIO;
	for (int i = 0; i < f->nd; i++) {
		double wi = f->w[i];
		if (wi != 0 && f->pearson) {
			double m = s->m[i];
			wi = m > 1 ? (m + f->y[i]) / (2 * m * sqrt(m)) : 1;
		}
		for (int k = 0; k < f->nfree; k++) {
			double d = s->jp[(size_t)i * (size_t)f->np + (size_t)f->free_idx[k]];
			if (!isfinite(d))
				return -EDOM;
			gsl_matrix_set(j, (size_t)i, (size_t)k, wi * d);
		}
	}
	return 0;
}

/* Forward differences by hand rather than GSL's own (gsl_multifit_nlinear_fdjac): its columns
 * run one after another, these are spread over the threads when the model allows it, and they
 * are taken in the original parameters (step relative to |x|, at least 1e-3 of the range, taken
 * backwards at the upper bound), so that bounds and the covariance share one code path. */
int fit_jacobian(struct bl_fitter *f, struct fit_slot *s, const double *p, const double *r0,
		 gsl_matrix *j)
{
	if (f->jacobian)
		return jacobian_analytic(f, s, p, j);
	if (!r0) {
		double c;
		int rc = fit_eval(f, s, p, s->rlast, &c);
		s->have_last = 0;
		if (rc)
			return rc;
		r0 = s->rlast;
	}
	/* Columns go to the threads only when they are worth it: a fork/join costs microseconds
	 * on idle cores but up to a scheduler slice when the other core is busy, so below
	 * split_min_s of serial column work (judged by the last model call) they run here. The
	 * numbers are the same either way. */
	int nt = f->fd_parallel && f->nthreads > 1 && s->t_model * f->nfree >= f->split_min_s
		     ? f->nthreads
		     : 1,
	    err = 0;
	if (nt > f->nfree)
		nt = f->nfree;
#pragma omp parallel for schedule(static) num_threads(nt) if (nt > 1)
	for (int k = 0; k < f->nfree; k++) {
		struct fit_slot *t = nt > 1 ? &f->slot[fit_thread_num()] : s;
		int i = f->free_idx[k];
		double pk[FIT_MAXP], x = p[i];
		memcpy(pk, p, (size_t)f->np * sizeof(*pk));
		double h = f->fd_step * fmax(fabs(x), 1e-3 * (f->hi[i] - f->lo[i]));
		if (x + h > f->hi[i])
			h = -h;
		volatile double xh = x + h; /* the step as represented */
		pk[i] = xh;
		h = xh - x;
		double c;
		int rc = fit_eval(f, t, pk, t->rt, &c);
		if (rc) {
#pragma omp atomic write
			err = rc;
			continue;
		}
		for (int n = 0; n < f->nd; n++)
			gsl_matrix_set(j, (size_t)n, (size_t)k, (t->rt[n] - r0[n]) / h);
	}
	return err;
}

int fit_finish(struct bl_fitter *f, const double *x, int scale_cov, struct bl_fit_result *res)
{
	struct fit_slot *s = &f->slot[0];
	double p[FIT_MAXP], chi2;
	fit_expand(f, x, p);
	int rc = fit_eval(f, s, p, s->rlast, &chi2);
	s->have_last = 0;
	if (rc)
		return rc;
	f->fd_parallel = 1;
	rc = fit_jacobian(f, s, p, s->rlast, f->jcov);
	if (rc)
		return rc;
	memset(res->p, 0, sizeof(res->p));
	memset(res->err, 0, sizeof(res->err));
	memset(res->cov, 0, sizeof(res->cov));
	memcpy(res->p, p, (size_t)f->np * sizeof(*p));
	res->chi2 = chi2;
	res->dof = f->npoints - f->nfree;
	res->chi2_red = res->dof > 0 ? chi2 / res->dof : 0;
	/* (J^T J)^-1 from the column-pivoted QR of J with its columns equilibrated (J D^-1 P = Q R,
	 * cov = D^-1 P R^-1 R^-T P^T D^-1), as gsl_multifit_nlinear_covar does it but without its
	 * allocations: a direct method (no iteration that could fail to converge and call GSL's
	 * aborting error handler), no squared condition number. |R_kk| below 1e-7 |R_00| marks
	 * J rank-deficient (cov_ok = 0, NaN errors): forward differences carry relative errors of
	 * ~1e-8, so exactly collinear columns come out ~1e-8 apart. */
	int nf = f->nfree, sg;
	double dn[FIT_MAXP];
	res->cov_ok = 1;
	for (int k = 0; k < nf; k++) {
		gsl_vector_view c = gsl_matrix_column(f->jcov, (size_t)k);
		dn[k] = gsl_blas_dnrm2(&c.vector);
		if (!(dn[k] > 0) || !isfinite(dn[k]))
			res->cov_ok = 0;
		else
			gsl_vector_scale(&c.vector, 1 / dn[k]);
	}
	if (res->cov_ok &&
	    gsl_linalg_QRPT_decomp(f->jcov, f->sv, f->perm, &sg, f->work) == GSL_SUCCESS) {
		double r00 = fabs(gsl_matrix_get(f->jcov, 0, 0));
		for (int k = 0; k < nf; k++) {
			double rkk = gsl_matrix_get(f->jcov, (size_t)k, (size_t)k);
			if (!(fabs(rkk) > 1e-7 * r00))
				res->cov_ok = 0;
			for (int l = 0; l < nf; l++)
				gsl_matrix_set(
				    f->q, (size_t)k, (size_t)l,
				    l >= k ? gsl_matrix_get(f->jcov, (size_t)k, (size_t)l) : 0);
		}
		if (res->cov_ok &&
		    gsl_linalg_tri_invert(CblasUpper, CblasNonUnit, f->q) != GSL_SUCCESS)
			res->cov_ok = 0;
	} else {
		res->cov_ok = 0;
	}
	if (!res->cov_ok)
		gsl_permutation_init(f->perm); /* NaN everywhere, in place */
	double scale = scale_cov && res->dof > 0 ? res->chi2_red : 1;
	for (int a = 0; a < nf; a++) {
		for (int b = 0; b < nf; b++) {
			double c = NAN;
			if (res->cov_ok) {
				c = 0;
				for (int k = a > b ? a : b; k < nf; k++)
					c += gsl_matrix_get(f->q, (size_t)a, (size_t)k) *
					     gsl_matrix_get(f->q, (size_t)b, (size_t)k);
			}
			/* row a of R^-1 R^-T belongs to parameter perm[a] */
			int pa = (int)gsl_permutation_get(f->perm, (size_t)a),
			    pb = (int)gsl_permutation_get(f->perm, (size_t)b);
			c *= scale / (dn[pa] * dn[pb]);
			res->cov[f->free_idx[pa] * f->np + f->free_idx[pb]] = c;
		}
	}
	for (int a = 0; a < nf; a++) {
		double v = res->cov[f->free_idx[a] * (f->np + 1)];
		res->err[f->free_idx[a]] = res->cov_ok ? sqrt(fmax(v, 0)) : NAN;
	}
	res->nevals = f->nevals;
	res->nevals_target = f->nevals_target;
	return 0;
}

int fit_begin(struct bl_fitter *f, const double *y, const double *sigma, const double *p0,
	      double target)
{
	if (!y || !p0 || isnan(target))
		return -EINVAL;
	for (int i = 0; i < f->np; i++) {
		if (!isfinite(p0[i]))
			return -EINVAL;
		if (!f->fixed[i] && (p0[i] < f->lo[i] || p0[i] > f->hi[i]))
			return -EINVAL;
		f->pfix[i] = p0[i];
	}
	f->pearson = !sigma && f->weight == BL_FIT_WEIGHT_MODEL;
	int n = 0;
	for (int i = 0; i < f->nd; i++) {
		double w = 0;
		if (!isfinite(y[i]))
			w = 0;
		else if (sigma)
			w = sigma[i] > 0 && isfinite(sigma[i]) ? 1 / sigma[i] : 0;
		else if (f->weight == BL_FIT_WEIGHT_DATA)
			w = 1 / sqrt(y[i] > 1 ? y[i] : 1);
		else
			w = 1;
		f->w[i] = w;
		n += w != 0;
	}
	if (n < f->nfree)
		return -EINVAL;
	f->npoints = n;
	f->y = y;
	f->nevals = 0;
	f->nevals_target = -1;
	f->target = target;
	f->fd_parallel = 1;
	for (int t = 0; t < f->nthreads; t++) {
		struct fit_slot *s = &f->slot[t];
		s->have_last = 0;
		s->err = 0;
		s->best_chi2 = INFINITY;
		s->best_start = -1;
	}
	return 0;
}

int fit_reserve(struct bl_fitter *f, size_t n)
{
	if (n <= f->buf_cap)
		return 0;
	double *b = realloc(f->buf, n * sizeof(*b));
	if (!b)
		return -ENOMEM;
	f->buf = b;
	f->buf_cap = n;
	return 0;
}

int bl_fit_chi2(struct bl_fitter *f, const double *y, const double *sigma, const double *p,
		double *chi2)
{
	if (!f || !chi2)
		return -EINVAL;
	int rc = fit_begin(f, y, sigma, p, 0);
	if (rc)
		return rc;
	return fit_eval(f, &f->slot[0], p, f->slot[0].rt, chi2);
}

int bl_fitter_threads(const struct bl_fitter *f)
{
	return f ? f->nthreads : 0;
}

void bl_fitter_destroy(struct bl_fitter *f)
{
	if (!f)
		return;
	for (int t = 0; f->slot && t < f->nthreads; t++) {
		struct fit_slot *s = &f->slot[t];
		if (s->ws)
			gsl_multifit_nlinear_free(s->ws);
		free(s->m);
		free(s->rt);
		free(s->rlast);
		free(s->jp);
	}
	free(f->slot);
	free(f->w);
	free(f->buf);
	if (f->jcov)
		gsl_matrix_free(f->jcov);
	if (f->q)
		gsl_matrix_free(f->q);
	if (f->sv)
		gsl_vector_free(f->sv);
	if (f->work)
		gsl_vector_free(f->work);
	if (f->perm)
		gsl_permutation_free(f->perm);
	if (f->rng)
		gsl_rng_free(f->rng);
	if (f->qrng)
		gsl_qrng_free(f->qrng);
	free(f);
}

static int check_problem(const struct bl_fit_problem *p)
{
	if (!p || !p->model || !p->lo || !p->hi || p->np < 1 || p->np > FIT_MAXP || p->nd < 1 ||
	    p->nthreads < 0 || (unsigned)p->weight > BL_FIT_WEIGHT_NONE || isnan(p->split_min_s))
		return -EINVAL;
	int nfree = 0;
	for (int i = 0; i < p->np; i++) {
		if (p->fixed && p->fixed[i])
			continue;
		if (!isfinite(p->lo[i]) || !isfinite(p->hi[i]) || !(p->lo[i] < p->hi[i]))
			return -EINVAL;
		nfree++;
	}
	return nfree >= 1 && p->nd >= nfree ? 0 : -EINVAL;
}

int bl_fitter_create(struct bl_fitter **out, const struct bl_fit_problem *prob)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	int rc = check_problem(prob);
	if (rc)
		return rc;
	struct bl_fitter *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->np = prob->np;
	f->nd = prob->nd;
	f->model = prob->model;
	f->jacobian = prob->jacobian;
	f->user = prob->user;
	f->weight = prob->weight;
	f->thread_safe = prob->thread_safe;
	f->split_min_s = prob->split_min_s ? prob->split_min_s : 5e-4;
	f->nthreads = !prob->thread_safe ? 1 : prob->nthreads > 0 ? prob->nthreads : max_threads();
	if (f->nthreads > 256)
		f->nthreads = 256;
	for (int i = 0; i < f->np; i++) {
		f->fixed[i] = prob->fixed && prob->fixed[i];
		f->lo[i] = prob->lo[i];
		f->hi[i] = prob->hi[i];
		if (!f->fixed[i])
			f->free_idx[f->nfree++] = i;
	}
	size_t nd = (size_t)f->nd, nf = (size_t)f->nfree;
	f->slot = calloc((size_t)f->nthreads, sizeof(*f->slot));
	f->w = malloc(nd * sizeof(*f->w));
	if (!f->slot || !f->w)
		goto nomem;
	gsl_multifit_nlinear_parameters par = gsl_multifit_nlinear_default_parameters();
	par.trs = gsl_multifit_nlinear_trs_lm;
	for (int t = 0; t < f->nthreads; t++) {
		struct fit_slot *s = &f->slot[t];
		s->f = f;
		s->m = malloc(nd * sizeof(double));
		s->rt = malloc(nd * sizeof(double));
		s->rlast = malloc(nd * sizeof(double));
		if (f->jacobian)
			s->jp = malloc(nd * (size_t)f->np * sizeof(double));
		s->ws = gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &par, nd, nf);
		if (!s->m || !s->rt || !s->rlast || (f->jacobian && !s->jp) || !s->ws)
			goto nomem;
		s->fdf.f = fit_lm_f;
		s->fdf.df = fit_lm_df;
		s->fdf.fvv = NULL;
		s->fdf.n = nd;
		s->fdf.p = nf;
		s->fdf.params = s;
	}
	f->jcov = gsl_matrix_alloc(nd, nf);
	f->q = gsl_matrix_alloc(nf, nf);
	f->sv = gsl_vector_alloc(nf);
	f->work = gsl_vector_alloc(nf);
	f->perm = gsl_permutation_alloc(nf);
	f->rng = gsl_rng_alloc(gsl_rng_mt19937);
	f->qrng = gsl_qrng_alloc(gsl_qrng_sobol, (unsigned)nf);
	if (!f->jcov || !f->q || !f->sv || !f->work || !f->perm || !f->rng || !f->qrng)
		goto nomem;
	*out = f;
	return 0;
nomem:
	bl_fitter_destroy(f);
	return -ENOMEM;
}

#else /* !BL_HAVE_GSL */

int bl_fitter_create(struct bl_fitter **out, const struct bl_fit_problem *prob)
{
	(void)prob;
	if (out)
		*out = NULL;
	return -ENOTSUP;
}

void bl_fitter_destroy(struct bl_fitter *f)
{
	(void)f;
}

int bl_fit_chi2(struct bl_fitter *f, const double *y, const double *sigma, const double *p,
		double *chi2)
{
	(void)f, (void)y, (void)sigma, (void)p, (void)chi2;
	return -ENOTSUP;
}

int bl_fitter_threads(const struct bl_fitter *f)
{
	(void)f;
	return 0;
}

#endif
