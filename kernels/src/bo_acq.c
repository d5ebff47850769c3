/* bo_acq.c: the target acquisition: closed-form expected improvement of the distance to a target
 * value, probabilities of constraints and of the target window, divided by an optional cost, and
 * its maximisation in the box (seeded random candidates, then GSL Nelder-Mead polishes). */
#include <errno.h>
#include <math.h>

#include "bl_bo.h"

/* Normal cdf and upper tail by erfc (accurate in both tails), and the pdf. */
static double ncdf(double z)
{
	return 0.5 * erfc(-z / M_SQRT2);
}

static double ntail(double z)
{
	return 0.5 * erfc(z / M_SQRT2);
}

static double npdf(double z)
{
	return exp(-0.5 * z * z) / sqrt(2.0 * M_PI);
}

double bl_bo_prob_between(double mu, double sd, double lo, double hi)
{
	if (!(hi >= lo))
		return 0.0;
	if (!(sd > 0))
		return mu >= lo && mu <= hi ? 1.0 : 0.0;
	double a = (lo - mu) / sd, b = (hi - mu) / sd;
	double p = a > 0 ? ntail(a) - ntail(b) : ncdf(b) - ncdf(a);
	return p > 0 ? p : 0.0;
}

/* With z = Y - T ~ N(m, s^2) and F = FSTAR:
 *   EI = int_{-F}^{F} (F - |z|) N(z; m, s^2) dz = F P(-F, F) - I(0, F) + I(-F, 0),
 *   P(l, u) = Phi(b) - Phi(a), I(l, u) = int_l^u z N dz = m P(l, u) - s (phi(b) - phi(a)),
 *   a = (l - m) / s, b = (u - m) / s. */
static double part_int(double m, double s, double l, double u)
{
	double a = (l - m) / s, b = (u - m) / s;
	return m * bl_bo_prob_between(m, s, l, u) - s * (npdf(b) - npdf(a));
}

double bl_bo_ei_target(double mu, double sd, double t, double fstar)
{
	if (!(fstar > 0))
		return 0.0;
	double m = mu - t;
	if (!(sd > 0))
		return fstar > fabs(m) ? fstar - fabs(m) : 0.0;
	double ei = fstar * bl_bo_prob_between(m, sd, -fstar, fstar) - part_int(m, sd, 0, fstar) +
		    part_int(m, sd, -fstar, 0);
	return ei > 0 ? ei : 0.0;
}

#ifdef BL_HAVE_GSL
#include <gsl/gsl_randist.h>

#include "bo_internal.h"

#define POLISH_ITER 120
#define ACQ_FLOOR   1e-300

double bl_bo_incumbent(struct bl_bo *bo)
{
	const struct bl_bo_config *c = &bo->c;
	double best = INFINITY, worst = 0, mean[BL_BO_MAX_OUT], sd[BL_BO_MAX_OUT];
	for (int i = 0; i < bo->n; i++) {
		bl_bo_posterior(bo, bo->u + (size_t)i * (size_t)bo->dim, mean, sd);
		double dist = fabs(mean[c->target_out] - c->target);
		int feasible = 1;
		for (int k = 0; k < c->n_constraints; k++) {
			double v = mean[c->constraints[k].out];
			if (!(v >= c->constraints[k].lo && v <= c->constraints[k].hi))
				feasible = 0;
		}
		if (feasible && dist < best)
			best = dist;
		if (dist > worst)
			worst = dist;
	}
	/* no feasible point yet: every step towards the target counts (README) */
	double f = isfinite(best) ? best : worst;
	return f > c->target_tol ? f : c->target_tol;
}

double bl_bo_acq_at(struct bl_bo *bo, const double *u, struct bl_bo_info *info)
{
	const struct bl_bo_config *c = &bo->c;
	double mean[BL_BO_MAX_OUT], sd[BL_BO_MAX_OUT], sdm[BL_BO_MAX_OUT];
	bl_bo_posterior(bo, u, mean, sd);
	/* the probabilities are of what the next print will *measure*: latent + fitted noise */
	for (int k = 0; k < c->n_out; k++)
		sdm[k] = sqrt(sd[k] * sd[k] + bo->ysd[k] * bo->ysd[k] * bo->gp[k]->h.sn2);
	double pf = 1.0;
	for (int k = 0; k < c->n_constraints; k++) {
		const struct bl_bo_constraint *q = &c->constraints[k];
		pf *= bl_bo_prob_between(mean[q->out], sdm[q->out], q->lo, q->hi);
	}
	int t = c->target_out;
	double ei = bl_bo_ei_target(mean[t], sd[t], c->target, bo->fstar);
	double pt = bl_bo_prob_between(mean[t], sdm[t], c->target - c->target_tol,
				       c->target + c->target_tol);
	double a = (c->acq == BL_BO_ACQ_PROB ? pt : ei) * pf;
	if (c->cost) {
		double x[BL_BO_MAX_DIM];
		bl_bo_to_raw(bo, u, x);
		double cost = c->cost(x, c->cost_user);
		a = cost > 0 ? a / pow(cost, c->cost_power) : 0.0;
	}
	if (info) {
		for (int k = 0; k < c->n_out; k++)
			info->mean[k] = mean[k], info->sd[k] = sd[k];
		info->acq = a;
		info->ei = ei;
		info->p_feasible = pf;
		info->p_target = pt;
		info->fstar = bo->fstar;
		info->from_design = 0;
	}
	return a;
}

/* -ln(acquisition) at the clamped point, plus a wall outside [0,1]^D. */
static double neg_log_acq(const gsl_vector *v, void *user)
{
	struct bl_bo *bo = user;
	double u[BL_BO_MAX_DIM], pen = 0;
	for (int d = 0; d < bo->dim; d++) {
		double t = gsl_vector_get(v, (size_t)d);
		if (!isfinite(t))
			return 1e300;
		if (t < 0)
			pen += t * t, t = 0;
		if (t > 1)
			pen += (t - 1) * (t - 1), t = 1;
		u[d] = t;
	}
	return -log(bl_bo_acq_at(bo, u, NULL) + ACQ_FLOOR) + 1e4 * pen;
}

static void clamp_unit(double *u, int dim)
{
	for (int d = 0; d < dim; d++)
		u[d] = u[d] < 0 ? 0 : u[d] > 1 ? 1 : u[d];
}

double bl_bo_acq_maximise(struct bl_bo *bo, double *u_out)
{
	int dim = bo->dim, nc = bo->c.n_cand;
	/* candidates: uniform in the box, then one jittered copy of each observation */
	for (int i = 0; i < nc; i++)
		for (int d = 0; d < dim; d++)
			bo->cand[i * dim + d] = gsl_rng_uniform(bo->rng);
	for (int i = 0; i < bo->n; i++, nc++) {
		for (int d = 0; d < dim; d++)
			bo->cand[nc * dim + d] =
			    bo->u[i * dim + d] + gsl_ran_gaussian(bo->rng, 0.03);
		clamp_unit(bo->cand + nc * dim, dim);
	}
	double amax = -1;
	int imax = 0;
	for (int i = 0; i < nc; i++) {
		bo->cacq[i] = bl_bo_acq_at(bo, bo->cand + i * dim, NULL);
		if (bo->cacq[i] > amax)
			amax = bo->cacq[i], imax = i;
	}
	if (!(amax > 0)) {
		/* the acquisition underflowed everywhere: explore where the target output is least
		 * known */
		double sdmax = -1, mean[BL_BO_MAX_OUT], sd[BL_BO_MAX_OUT];
		for (int i = 0; i < nc; i++) {
			bl_bo_posterior(bo, bo->cand + i * dim, mean, sd);
			if (sd[bo->c.target_out] > sdmax)
				sdmax = sd[bo->c.target_out], imax = i;
		}
		for (int d = 0; d < dim; d++)
			u_out[d] = bo->cand[imax * dim + d];
		return 0.0;
	}
	double best = amax;
	for (int d = 0; d < dim; d++)
		u_out[d] = bo->cand[imax * dim + d];
	gsl_multimin_function f = {.f = neg_log_acq, .n = (size_t)dim, .params = bo};
	for (int l = 0; l < bo->c.n_local; l++) {
		/* the best candidate not taken yet (taken ones are marked -1) */
		int k = -1;
		for (int i = 0; i < nc; i++)
			if (bo->cacq[i] > 0 && (k < 0 || bo->cacq[i] > bo->cacq[k]))
				k = i;
		if (k < 0)
			break;
		bo->cacq[k] = -1;
		for (int d = 0; d < dim; d++)
			gsl_vector_set(bo->v0, (size_t)d, bo->cand[k * dim + d]);
		gsl_vector_set_all(bo->step, 0.03);
		if (gsl_multimin_fminimizer_set(bo->mm, &f, bo->v0, bo->step) != GSL_SUCCESS)
			continue;
		for (int it = 0; it < POLISH_ITER; it++) {
			if (gsl_multimin_fminimizer_iterate(bo->mm) != GSL_SUCCESS)
				break;
			if (gsl_multimin_test_size(gsl_multimin_fminimizer_size(bo->mm), 1e-4) ==
			    GSL_SUCCESS)
				break;
		}
		double u[BL_BO_MAX_DIM];
		const gsl_vector *xm = gsl_multimin_fminimizer_x(bo->mm);
		for (int d = 0; d < dim; d++)
			u[d] = gsl_vector_get(xm, (size_t)d);
		clamp_unit(u, dim);
		double a = bl_bo_acq_at(bo, u, NULL);
		if (a > best) {
			best = a;
			for (int d = 0; d < dim; d++)
				u_out[d] = u[d];
		}
	}
	return best;
}

#endif
