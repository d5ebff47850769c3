/* fit_pso.c: particle swarm optimisation as HipGISAXS's base algorithm does it (global best,
 * inertia weight, cognitive and social terms, clamped velocities and positions), the baseline
 * the LM fits are measured against; evaluations of a generation spread over the threads. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "fit_internal.h"

#ifdef BL_HAVE_GSL

/* GSL has no particle swarm; this follows HipGISAXS (src/analyzer/hipgisaxs_fit_pso*.cpp):
 * positions uniform in the bounds and velocities uniform in [-vmax, vmax] (HipGISAXS takes
 * vmax = the upper bound, assuming positive parameters; here vmax = VMAX (hi - lo)); every
 * generation evaluates all particles, then updates the personal and global bests, then each
 * coordinate: v = omega v + phi1 r1 (own best - x) + phi2 r2 (global best - x) with fresh
 * uniforms r1, r2, v clamped to +-vmax, x + v clamped to [lo, hi]; omega optionally halves per
 * generation (pso_tune_omega). The RNG is drawn in a fixed order, so a seed gives the same swarm
 * whatever the number of threads. */
int bl_fit_pso(struct bl_fitter *f, const double *y, const double *sigma, const double *p0,
	       const struct bl_fit_pso_options *o, struct bl_fit_result *res)
{
	static const struct bl_fit_pso_options defaults;
	if (!f || !res)
		return -EINVAL;
	if (!o)
		o = &defaults;
	if (o->particles < 0 || o->generations < 0 || o->omega < 0 || o->phi1 < 0 || o->phi2 < 0 ||
	    o->vmax < 0 || o->target_chi2 < 0)
		return -EINVAL;
	int np = o->particles ? o->particles : 20, ng = o->generations ? o->generations : 50,
	    nf = f->nfree;
	double omega = o->omega > 0 ? o->omega : 0.7298, phi1 = o->phi1 > 0 ? o->phi1 : 1.49618,
	       phi2 = o->phi2 > 0 ? o->phi2 : 1.49618, vfrac = o->vmax > 0 ? o->vmax : 1;
	int rc = fit_begin(f, y, sigma, p0, o->target_chi2);
	if (rc)
		return rc;
	f->fd_step = 1e-7;
	size_t pn = (size_t)np * (size_t)nf;
	rc = fit_reserve(f, 3 * pn + 2 * (size_t)np);
	if (rc)
		return rc;
	double *x = f->buf, *v = x + pn, *pb = v + pn, *pbf = pb + pn, *cur = pbf + np;
	double gb[FIT_MAXP], vmax[FIT_MAXP], gbf = INFINITY;
	gsl_rng_set(f->rng, o->seed);
	for (int k = 0; k < nf; k++)
		vmax[k] = vfrac * (f->hi[f->free_idx[k]] - f->lo[f->free_idx[k]]);
	for (int i = 0; i < np; i++) {
		for (int k = 0; k < nf; k++) {
			int j = f->free_idx[k];
			x[i * nf + k] = f->lo[j] + gsl_rng_uniform(f->rng) * (f->hi[j] - f->lo[j]);
			v[i * nf + k] = -vmax[k] + gsl_rng_uniform(f->rng) * 2 * vmax[k];
		}
		pbf[i] = INFINITY;
	}
	if (o->seed_p0)
		for (int k = 0; k < nf; k++)
			x[k] = p0[f->free_idx[k]];
	int nt = f->nthreads > 1 && np > 1 ? f->nthreads : 1, err = 0;
	f->fd_parallel = 0;
	for (int g = 0; g < ng; g++) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1)
		for (int i = 0; i < np; i++) {
			struct fit_slot *s = &f->slot[nt > 1 ? fit_thread_num() : 0];
			double p[FIT_MAXP], c;
			fit_expand(f, x + (size_t)i * nf, p);
			int e = fit_eval(f, s, p, s->rt, &c);
			cur[i] = e ? INFINITY : c;
			if (e && e != -EDOM) {
#pragma omp atomic write
				err = e;
			}
		}
		if (err)
			return err;
		for (int i = 0; i < np; i++) {
			if (cur[i] < pbf[i]) {
				pbf[i] = cur[i];
				memcpy(pb + (size_t)i * nf, x + (size_t)i * nf,
				       (size_t)nf * sizeof(*x));
			}
			if (cur[i] < gbf) {
				gbf = cur[i];
				memcpy(gb, x + (size_t)i * nf, (size_t)nf * sizeof(*x));
			}
		}
		if (g == ng - 1)
			break;
		for (int i = 0; i < np; i++) {
			for (int k = 0; k < nf; k++) {
				size_t a = (size_t)i * nf + (size_t)k;
				int j = f->free_idx[k];
				double r1 = gsl_rng_uniform(f->rng), r2 = gsl_rng_uniform(f->rng);
				double nv = omega * v[a] + phi1 * r1 * (pb[a] - x[a]) +
					    phi2 * r2 * (gb[k] - x[a]);
				v[a] = fmin(fmax(nv, -vmax[k]), vmax[k]);
				x[a] = fmin(fmax(x[a] + v[a], f->lo[j]), f->hi[j]);
			}
		}
		if (o->tune_omega)
			omega /= 2;
	}
	if (!isfinite(gbf))
		return -EDOM;
	int conv = 0;
	if (o->polish) {
		double u[FIT_MAXP];
		struct fit_slot *s = &f->slot[0];
		for (int k = 0; k < nf; k++)
			u[k] = fit_x_to_u(f, k, gb[k]);
		s->best_chi2 = INFINITY;
		s->best_start = -1;
		f->fd_parallel = 1;
		rc = fit_lm_start(f, s, u, 0, 200, 1e-8, 1e-8, 1e-10);
		if (rc)
			return rc;
		if (s->best_chi2 <= gbf) {
			for (int k = 0; k < nf; k++)
				gb[k] = fit_u_to_x(f, k, s->best_u[k]);
			conv = s->best_conv;
		}
	}
	rc = fit_finish(f, gb, 0, res);
	if (rc)
		return rc;
	res->iterations = ng;
	res->best_start = 0;
	res->converged = conv;
	return 0;
}

#else

int bl_fit_pso(struct bl_fitter *f, const double *y, const double *sigma, const double *p0,
	       const struct bl_fit_pso_options *o, struct bl_fit_result *res)
{
	(void)f, (void)y, (void)sigma, (void)p0, (void)o, (void)res;
	return -ENOTSUP;
}

#endif
