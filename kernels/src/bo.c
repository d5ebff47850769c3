/* bo.c: the Bayesian-optimisation loop: box scaling (linear or logarithmic per input), a seeded
 * maximin Latin hypercube for the first proposals, one GP per output refitted on each new
 * observation, then the acquisition's maximiser (bo_acq.c) as the next recipe. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bl_bo.h"

#ifdef BL_HAVE_GSL
#include <gsl/gsl_randist.h>

#include "bo_internal.h"

#define LHS_TRIES 50

void bl_bo_to_raw(const struct bl_bo *bo, const double *u, double *x)
{
	for (int d = 0; d < bo->dim; d++) {
		double s = bo->slo[d] + u[d] * (bo->shi[d] - bo->slo[d]);
		double v = bo->c.log_scale[d] ? exp(s) : s;
		x[d] = v < bo->lo[d] ? bo->lo[d] : v > bo->hi[d] ? bo->hi[d] : v;
	}
}

void bl_bo_to_unit(const struct bl_bo *bo, const double *x, double *u)
{
	for (int d = 0; d < bo->dim; d++) {
		double s = bo->c.log_scale[d] ? log(x[d]) : x[d];
		double w = bo->shi[d] - bo->slo[d];
		u[d] = w > 0 ? (s - bo->slo[d]) / w : 0.5;
	}
}

void bl_bo_posterior(struct bl_bo *bo, const double *u, double *mean, double *sd)
{
	for (int k = 0; k < bo->c.n_out; k++) {
		double m = 0, v = 1;
		bl_gp_predict(bo->gp[k], u, &m, &v);
		mean[k] = bo->ym[k] + bo->ysd[k] * m;
		sd[k] = bo->ysd[k] * sqrt(v);
	}
}

#define WARP_EPS 1e-3

/* The GP's value of output K's Y, and back. */
static double warp(const struct bl_bo *bo, int k, double y)
{
	switch (bo->c.warp[k]) {
	case BL_BO_WARP_LOG: return y > 0 ? log(y) : -INFINITY;
	case BL_BO_WARP_LOGIT:
		if (!isfinite(y))
			return y;
		y = y < WARP_EPS ? WARP_EPS : y > 1 - WARP_EPS ? 1 - WARP_EPS : y;
		return log(y / (1 - y));
	default: return y;
	}
}

static double unwarp(const struct bl_bo *bo, int k, double z)
{
	switch (bo->c.warp[k]) {
	case BL_BO_WARP_LOG: return exp(z);
	case BL_BO_WARP_LOGIT: return 1 / (1 + exp(-z));
	default: return z;
	}
}

/* A bound of a constraint in the GP's units (a bound outside the warp's domain: unbounded). */
static double warp_bound(const struct bl_bo *bo, int k, double b)
{
	switch (bo->c.warp[k]) {
	case BL_BO_WARP_LOG: return b > 0 ? log(b) : -INFINITY;
	case BL_BO_WARP_LOGIT:
		if (b <= 0)
			return -INFINITY;
		if (b >= 1)
			return INFINITY;
		return log(b / (1 - b));
	default: return b;
	}
}

/* Posterior in output units: the median and the delta-method standard deviation. */
static void to_output_units(const struct bl_bo *bo, double *mean, double *sd)
{
	for (int k = 0; k < bo->c.n_out; k++) {
		double m = unwarp(bo, k, mean[k]);
		if (bo->c.warp[k] == BL_BO_WARP_LOG)
			sd[k] *= m;
		else if (bo->c.warp[k] == BL_BO_WARP_LOGIT)
			sd[k] *= m * (1 - m);
		mean[k] = m;
	}
}

/* A Latin hypercube of nd points in [0,1]^dim, the one of LHS_TRIES with the largest smallest
 * pairwise distance (maximin). */
static void make_design(struct bl_bo *bo, double *tmp, size_t *perm)
{
	int nd = bo->nd, dim = bo->dim;
	double best = -1;
	for (int t = 0; t < LHS_TRIES; t++) {
		for (int d = 0; d < dim; d++) {
			for (int i = 0; i < nd; i++)
				perm[i] = (size_t)i;
			gsl_ran_shuffle(bo->rng, perm, (size_t)nd, sizeof(*perm));
			for (int i = 0; i < nd; i++)
				tmp[i * dim + d] =
				    ((double)perm[i] + gsl_rng_uniform(bo->rng)) / (double)nd;
		}
		double dmin = INFINITY;
		for (int i = 0; i < nd; i++)
			for (int j = 0; j < i; j++) {
				double r2 = 0;
				for (int d = 0; d < dim; d++) {
					double e = tmp[i * dim + d] - tmp[j * dim + d];
					r2 += e * e;
				}
				dmin = r2 < dmin ? r2 : dmin;
			}
		if (dmin > best) {
			best = dmin;
			memcpy(bo->design, tmp, (size_t)nd * (size_t)dim * sizeof(double));
		}
	}
}

struct bl_bo *bl_bo_new(int dim, const double *lower, const double *upper, int max_obs,
			const struct bl_bo_config *c)
{
	if (dim < 1 || dim > BL_BO_MAX_DIM || !lower || !upper || max_obs < 1 || !c ||
	    c->n_out < 1 || c->n_out > BL_BO_MAX_OUT || c->target_out < 0 ||
	    c->target_out >= c->n_out || !(c->target_tol > 0) || !isfinite(c->target) ||
	    c->n_constraints < 0 || c->n_constraints > BL_BO_MAX_OUT)
		return NULL;
	for (int k = 0; k < c->n_constraints; k++)
		if (c->constraints[k].out < 0 || c->constraints[k].out >= c->n_out ||
		    !(c->constraints[k].hi >= c->constraints[k].lo))
			return NULL;
	for (int k = 0; k < c->n_out; k++)
		if (c->warp[k] < BL_BO_WARP_NONE || c->warp[k] > BL_BO_WARP_LOGIT ||
		    (k == c->target_out && c->warp[k] != BL_BO_WARP_NONE))
			return NULL;
	for (int d = 0; d < dim; d++)
		if (!(upper[d] >= lower[d]) || !isfinite(lower[d]) || !isfinite(upper[d]) ||
		    (c->log_scale[d] && !(lower[d] > 0)))
			return NULL;
	struct bl_bo *bo = calloc(1, sizeof(*bo));
	if (!bo)
		return NULL;
	bo->dim = dim;
	bo->max_obs = max_obs;
	bo->c = *c;
	if (bo->c.n_init <= 0)
		bo->c.n_init = dim + 2;
	if (bo->c.n_cand <= 0)
		bo->c.n_cand = 2000;
	if (bo->c.n_local <= 0)
		bo->c.n_local = 5;
	if (bo->c.seed == 0)
		bo->c.seed = 1;
	if (!(bo->c.cost_power > 0))
		bo->c.cost_power = 1.0;
	/* constraints are checked in the GP's (warped) units from here on */
	for (int k = 0; k < c->n_constraints; k++) {
		struct bl_bo_constraint *q = &bo->c.constraints[k];
		q->lo = warp_bound(bo, q->out, q->lo);
		q->hi = warp_bound(bo, q->out, q->hi);
	}
	for (int d = 0; d < dim; d++) {
		bo->lo[d] = lower[d], bo->hi[d] = upper[d];
		bo->slo[d] = c->log_scale[d] ? log(lower[d]) : lower[d];
		bo->shi[d] = c->log_scale[d] ? log(upper[d]) : upper[d];
	}
	size_t n = (size_t)max_obs, D = (size_t)dim, no = (size_t)c->n_out;
	bo->nd = bo->c.n_init;
	size_t ncand = (size_t)bo->c.n_cand + n;
	bo->x = calloc(n * D, sizeof(double));
	bo->u = calloc(n * D, sizeof(double));
	bo->y = calloc(n * no, sizeof(double));
	bo->nv = calloc(n * no, sizeof(double));
	bo->has_nv = calloc(n, sizeof(int));
	bo->ys = calloc(n, sizeof(double));
	bo->ns = calloc(n, sizeof(double));
	bo->design = calloc((size_t)bo->nd * D, sizeof(double));
	bo->cand = calloc(ncand * D, sizeof(double));
	bo->cacq = calloc(ncand, sizeof(double));
	bo->rng = gsl_rng_alloc(gsl_rng_mt19937);
	bo->mm = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, D);
	bo->v0 = gsl_vector_alloc(D);
	bo->step = gsl_vector_alloc(D);
	int ok = bo->x && bo->u && bo->y && bo->nv && bo->has_nv && bo->ys && bo->ns &&
		 bo->design && bo->cand && bo->cacq && bo->rng && bo->mm && bo->v0 && bo->step;
	for (int k = 0; ok && k < c->n_out; k++)
		ok = (bo->gp[k] = bl_gp_new(dim, max_obs, bo->c.kernel)) != NULL;
	double *tmp = ok ? malloc((size_t)bo->nd * D * sizeof(double)) : NULL;
	size_t *perm = ok ? malloc((size_t)bo->nd * sizeof(size_t)) : NULL;
	if (!tmp || !perm) {
		free(tmp);
		free(perm);
		bl_bo_free(bo);
		return NULL;
	}
	gsl_rng_set(bo->rng, bo->c.seed);
	make_design(bo, tmp, perm);
	free(tmp);
	free(perm);
	for (int k = 0; k < c->n_out; k++)
		bo->ym[k] = 0, bo->ysd[k] = 1;
	return bo;
}

void bl_bo_free(struct bl_bo *bo)
{
	if (!bo)
		return;
	free(bo->x);
	free(bo->u);
	free(bo->y);
	free(bo->nv);
	free(bo->has_nv);
	free(bo->ys);
	free(bo->ns);
	free(bo->design);
	free(bo->cand);
	free(bo->cacq);
	if (bo->rng)
		gsl_rng_free(bo->rng);
	if (bo->mm)
		gsl_multimin_fminimizer_free(bo->mm);
	gsl_vector_free(bo->v0);
	gsl_vector_free(bo->step);
	for (int k = 0; k < BL_BO_MAX_OUT; k++)
		bl_gp_free(bo->gp[k]);
	free(bo);
}

int bl_bo_add(struct bl_bo *bo, const double *x, const double *y, const double *noise)
{
	if (!bo || !x || !y)
		return -EINVAL;
	if (bo->n >= bo->max_obs)
		return -E2BIG;
	for (int d = 0; d < bo->dim; d++)
		if (!(x[d] >= bo->lo[d] && x[d] <= bo->hi[d]))
			return -EINVAL;
	for (int k = 0; k < bo->c.n_out; k++)
		if (!isfinite(y[k]) || (noise && !(noise[k] >= 0)))
			return -EINVAL;
	size_t i = (size_t)bo->n, D = (size_t)bo->dim, no = (size_t)bo->c.n_out;
	memcpy(bo->x + i * D, x, D * sizeof(double));
	bl_bo_to_unit(bo, x, bo->u + i * D);
	for (size_t k = 0; k < no; k++) {
		bo->y[i * no + k] = y[k];
		bo->nv[i * no + k] = noise ? noise[k] : 0.0;
	}
	bo->has_nv[i] = noise != NULL;
	bo->n++;
	return 0;
}

int bl_bo_count(const struct bl_bo *bo)
{
	return bo ? bo->n : -EINVAL;
}

/* Standardises each output and refits its GP on every observation so far. */
static int refit(struct bl_bo *bo)
{
	if (bo->fitted_n == bo->n)
		return 0;
	int n = bo->n, no = bo->c.n_out;
	for (int k = 0; k < no; k++) {
		double m = 0, s2 = 0;
		for (int i = 0; i < n; i++) {
			double w = warp(bo, k, bo->y[i * no + k]);
			/* delta method: var(g(y)) = g'(y)^2 var(y) */
			double e = 1e-6 * (fabs(bo->y[i * no + k]) + 1e-3);
			double g1 = (warp(bo, k, bo->y[i * no + k] + e) -
				     warp(bo, k, bo->y[i * no + k] - e)) /
				    (2 * e);
			bo->ys[i] = w;
			bo->ns[i] = bo->nv[i * no + k] * (bo->c.warp[k] ? g1 * g1 : 1.0);
			m += w;
		}
		m /= n;
		for (int i = 0; i < n; i++)
			s2 += (bo->ys[i] - m) * (bo->ys[i] - m);
		double s = n > 1 ? sqrt(s2 / (n - 1)) : 0;
		if (!(s > 1e-12 * (fabs(m) + 1)))
			s = fabs(m) > 0 ? fabs(m) : 1.0;
		bo->ym[k] = m, bo->ysd[k] = s;
		for (int i = 0; i < n; i++) {
			bo->ys[i] = (bo->ys[i] - m) / s;
			bo->ns[i] /= s * s;
		}
		int rc = bl_gp_set_data(bo->gp[k], bo->u, bo->ys, bo->ns, n);
		if (rc == 0)
			rc = bl_gp_fit(bo->gp[k], &bo->c.prior,
				       bo->c.seed * 7919u + (unsigned long)(n * no + k));
		if (rc)
			return rc;
	}
	bo->fitted_n = n;
	return 0;
}

int bl_bo_propose(struct bl_bo *bo, double *x_out, struct bl_bo_info *info)
{
	if (!bo || !x_out)
		return -EINVAL;
	if (bo->n < bo->nd || bo->n < 2) {
		int k = bo->n < bo->nd ? bo->n : bo->nd - 1;
		const double *u = bo->design + (size_t)k * (size_t)bo->dim;
		bl_bo_to_raw(bo, u, x_out);
		if (info) {
			*info = (struct bl_bo_info){.from_design = 1};
			if (bo->fitted_n > 0) {
				bl_bo_posterior(bo, u, info->mean, info->sd);
				to_output_units(bo, info->mean, info->sd);
			}
		}
		return 0;
	}
	int rc = refit(bo);
	if (rc)
		return rc;
	bo->fstar = bl_bo_incumbent(bo);
	double u[BL_BO_MAX_DIM];
	bl_bo_acq_maximise(bo, u);
	bl_bo_to_raw(bo, u, x_out);
	bl_bo_to_unit(bo, x_out, u);
	if (info) {
		bl_bo_acq_at(bo, u, info);
		to_output_units(bo, info->mean, info->sd);
	}
	return 0;
}

int bl_bo_predict(struct bl_bo *bo, const double *x, double *mean, double *sd)
{
	if (!bo || !x || !mean || !sd)
		return -EINVAL;
	if (bo->n < 1)
		return -ENODATA;
	int rc = refit(bo);
	if (rc)
		return rc;
	double u[BL_BO_MAX_DIM];
	bl_bo_to_unit(bo, x, u);
	bl_bo_posterior(bo, u, mean, sd);
	to_output_units(bo, mean, sd);
	return 0;
}

int bl_bo_best(struct bl_bo *bo, double *x_out, double *y_out)
{
	if (!bo)
		return -EINVAL;
	if (bo->n < 1)
		return -ENODATA;
	int rc = refit(bo);
	if (rc)
		return rc;
	const struct bl_bo_config *c = &bo->c;
	int best = -1, most = 0;
	double bdist = INFINITY, bpf = -1, mean[BL_BO_MAX_OUT], sd[BL_BO_MAX_OUT];
	for (int i = 0; i < bo->n; i++) {
		bl_bo_posterior(bo, bo->u + (size_t)i * (size_t)bo->dim, mean, sd);
		int feasible = 1;
		double pf = 1;
		for (int k = 0; k < c->n_constraints; k++) {
			const struct bl_bo_constraint *q = &c->constraints[k];
			if (!(mean[q->out] >= q->lo && mean[q->out] <= q->hi))
				feasible = 0;
			pf *= bl_bo_prob_between(mean[q->out], sd[q->out], q->lo, q->hi);
		}
		double dist = fabs(mean[c->target_out] - c->target);
		if (feasible && dist < bdist)
			bdist = dist, best = i;
		if (pf > bpf)
			bpf = pf, most = i;
	}
	if (best < 0)
		best = most;
	if (x_out)
		memcpy(x_out, bo->x + (size_t)best * (size_t)bo->dim,
		       (size_t)bo->dim * sizeof(double));
	if (y_out)
		memcpy(y_out, bo->y + (size_t)best * (size_t)c->n_out,
		       (size_t)c->n_out * sizeof(double));
	return best;
}

#else

struct bl_bo *bl_bo_new(int dim, const double *lower, const double *upper, int max_obs,
			const struct bl_bo_config *c)
{
	(void)dim, (void)lower, (void)upper, (void)max_obs, (void)c;
	return NULL;
}
void bl_bo_free(struct bl_bo *bo)
{
	(void)bo;
}
int bl_bo_add(struct bl_bo *bo, const double *x, const double *y, const double *noise)
{
	(void)bo, (void)x, (void)y, (void)noise;
	return -ENOTSUP;
}
int bl_bo_count(const struct bl_bo *bo)
{
	(void)bo;
	return -ENOTSUP;
}
int bl_bo_propose(struct bl_bo *bo, double *x_out, struct bl_bo_info *info)
{
	(void)bo, (void)x_out, (void)info;
	return -ENOTSUP;
}
int bl_bo_predict(struct bl_bo *bo, const double *x, double *mean, double *sd)
{
	(void)bo, (void)x, (void)mean, (void)sd;
	return -ENOTSUP;
}
int bl_bo_best(struct bl_bo *bo, double *x_out, double *y_out)
{
	(void)bo, (void)x_out, (void)y_out;
	return -ENOTSUP;
}

#endif
