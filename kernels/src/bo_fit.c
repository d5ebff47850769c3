/* bo_fit.c: a GP's hyperparameters by maximum marginal likelihood (times log-normal priors)
 * over ln(length scales, signal variance, noise variance), with GSL's Nelder-Mead simplex from
 * the current values and a few starts drawn from the prior. */
#include <errno.h>
#include <math.h>

#include "bl_bo.h"

#ifdef BL_HAVE_GSL
#include <gsl/gsl_randist.h>

#include "bo_internal.h"

#define FIT_ITER_MAX 400
#define FIT_SIZE_TOL 1e-4
#define BAD	     1e300

static struct bl_gp_prior prior_defaults(const struct bl_gp_prior *p)
{
	struct bl_gp_prior d = p ? *p : (struct bl_gp_prior){0};
	if (!(d.len_min > 0))
		d.len_min = 0.03;
	if (!(d.len_max > d.len_min))
		d.len_max = 10.0;
	if (!(d.len_mu > 0))
		d.len_mu = 0.3;
	if (!(d.len_sd > 0))
		d.len_sd = 1.0;
	if (!(d.sf2_min > 0))
		d.sf2_min = 1e-2;
	if (!(d.sf2_max > d.sf2_min))
		d.sf2_max = 1e2;
	if (!(d.sf2_mu > 0))
		d.sf2_mu = 1.0;
	if (!(d.sf2_sd > 0))
		d.sf2_sd = 1.5;
	if (!(d.sn2_min > 0))
		d.sn2_min = 1e-6;
	if (!(d.sn2_max > d.sn2_min))
		d.sn2_max = 1.0;
	if (!(d.sn2_mu > 0))
		d.sn2_mu = 1e-3;
	if (!(d.sn2_sd > 0))
		d.sn2_sd = 2.5;
	if (d.restarts <= 0)
		d.restarts = 4;
	return d;
}

/* Parameter k's bounds (ln), prior centre (ln) and width. */
static void par_info(const struct bl_gp *gp, const struct bl_gp_prior *p, int k, double *lo,
		     double *hi, double *mu, double *sd)
{
	if (k < gp->dim) {
		*lo = log(p->len_min), *hi = log(p->len_max), *mu = log(p->len_mu), *sd = p->len_sd;
	} else if (k == gp->dim) {
		*lo = log(p->sf2_min), *hi = log(p->sf2_max), *mu = log(p->sf2_mu), *sd = p->sf2_sd;
	} else {
		*lo = log(p->sn2_min), *hi = log(p->sn2_max), *mu = log(p->sn2_mu), *sd = p->sn2_sd;
	}
}

/* -(ln L + ln prior) at ln-parameters V; outside the bounds the value at the clamped point plus
 * a steep quadratic wall (Nelder-Mead has no bounds of its own). */
static double neg_post(const gsl_vector *v, void *user)
{
	struct bl_gp *gp = user;
	const struct bl_gp_prior *p = gp->prior;
	struct bl_gp_hyper h = gp->h;
	double pen = 0, lp = 0;
	for (int k = 0; k < gp->dim + 2; k++) {
		double lo, hi, mu, sd, t = gsl_vector_get(v, (size_t)k);
		par_info(gp, p, k, &lo, &hi, &mu, &sd);
		if (!isfinite(t))
			return BAD;
		if (t < lo)
			pen += 1e3 * (lo - t) * (lo - t), t = lo;
		if (t > hi)
			pen += 1e3 * (t - hi) * (t - hi), t = hi;
		if (!p->no_prior)
			lp -= 0.5 * (t - mu) * (t - mu) / (sd * sd);
		if (k < gp->dim)
			h.len[k] = exp(t);
		else if (k == gp->dim)
			h.sf2 = exp(t);
		else
			h.sn2 = exp(t);
	}
	if (bl_gp_set_hyper(gp, &h, 0) != 0)
		return BAD;
	return -(gp->lml + lp) + pen;
}

static void to_params(const struct bl_gp *gp, const struct bl_gp_hyper *h, gsl_vector *v)
{
	for (int d = 0; d < gp->dim; d++)
		gsl_vector_set(v, (size_t)d, log(h->len[d]));
	gsl_vector_set(v, (size_t)gp->dim, log(h->sf2));
	gsl_vector_set(v, (size_t)gp->dim + 1, log(h->sn2));
}

int bl_gp_fit(struct bl_gp *gp, const struct bl_gp_prior *prior, unsigned long seed)
{
	if (!gp)
		return -EINVAL;
	if (gp->n < 1)
		return -ENODATA;
	struct bl_gp_prior p = prior_defaults(prior);
	gp->prior = &p;
	gsl_rng_set(gp->rng, seed);
	int np = gp->dim + 2;
	gsl_multimin_function f = {.f = neg_post, .n = (size_t)np, .params = gp};
	struct bl_gp_hyper best = gp->h, start = gp->h;
	/* clamp the current values into the bounds as the first start */
	to_params(gp, &start, gp->p0);
	for (int k = 0; k < np; k++) {
		double lo, hi, mu, sd, t = gsl_vector_get(gp->p0, (size_t)k);
		par_info(gp, &p, k, &lo, &hi, &mu, &sd);
		gsl_vector_set(gp->p0, (size_t)k, t < lo ? lo : t > hi ? hi : t);
	}
	double fbest = BAD;
	for (int s = 0; s <= p.restarts; s++) {
		if (s > 0) {
			for (int k = 0; k < np; k++) {
				double lo, hi, mu, sd;
				par_info(gp, &p, k, &lo, &hi, &mu, &sd);
				double t = mu + gsl_ran_gaussian(gp->rng, sd);
				gsl_vector_set(gp->p0, (size_t)k, t < lo ? lo : t > hi ? hi : t);
			}
		}
		gsl_vector_set_all(gp->step, 0.7);
		if (gsl_multimin_fminimizer_set(gp->mm, &f, gp->p0, gp->step) != GSL_SUCCESS)
			continue;
		for (int it = 0; it < FIT_ITER_MAX; it++) {
			if (gsl_multimin_fminimizer_iterate(gp->mm) != GSL_SUCCESS)
				break;
			double size = gsl_multimin_fminimizer_size(gp->mm);
			if (gsl_multimin_test_size(size, FIT_SIZE_TOL) == GSL_SUCCESS)
				break;
		}
		double fv = gsl_multimin_fminimizer_minimum(gp->mm);
		if (fv < fbest) {
			fbest = fv;
			neg_post(gsl_multimin_fminimizer_x(gp->mm), gp);
			best = gp->h;
		}
	}
	gp->prior = NULL;
	if (!(fbest < BAD))
		return -EDOM;
	return bl_gp_set_hyper(gp, &best, 0);
}

#else

int bl_gp_fit(struct bl_gp *gp, const struct bl_gp_prior *prior, unsigned long seed)
{
	(void)gp, (void)prior, (void)seed;
	return -ENOTSUP;
}

#endif
