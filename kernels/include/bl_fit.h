/* bl_fit.h: bounded least-squares fitting of a model to counts: Levenberg-Marquardt (GSL) with
 * multi-start, a particle swarm baseline, Poisson-weighted residuals and uncertainties. */
#ifndef BL_FIT_H
#define BL_FIT_H

#ifdef __cplusplus
extern "C" {
#endif

#define BL_FIT_MAX_PARAMS 16

/* How the residuals are weighted (ignored where the caller passes its own sigma per point). */
enum bl_fit_weight {
	BL_FIT_WEIGHT_DATA = 0, /* r_i = (y_i - m_i) / sqrt(max(y_i, 1)): Neyman's chi2 [default] */
	BL_FIT_WEIGHT_MODEL,	/* r_i = (y_i - m_i) / sqrt(max(m_i, 1)): Pearson's chi2 */
	BL_FIT_WEIGHT_NONE,	/* r_i = y_i - m_i */
};

/* The problem: NP parameters p within [lo, hi] (finite, lo < hi, for every free one), a model
 * filling ND predictions. The arrays are copied by bl_fitter_create. */
struct bl_fit_problem {
	int np, nd;
	const double *lo, *hi;	    /* [np] */
	const unsigned char *fixed; /* [np] or NULL; nonzero: held at its value in p0 */
	/* Fills out[0..nd) for parameters p[0..np); 0, or a negative errno that ends the fit. */
	int (*model)(const double *p, double *out, void *user);
	/* Optional analytic Jacobian: jac[i * np + k] = d out_i / d p_k (row-major nd x np, all
	 * parameters; fixed columns are ignored). NULL: forward differences. */
	int (*jacobian)(const double *p, double *jac, void *user);
	void *user;
	int thread_safe; /* model/jacobian may run concurrently on different p */
	int nthreads;	 /* threads a fit may use when thread_safe [0: OpenMP's maximum] */
	enum bl_fit_weight weight;
	/* A Jacobian's difference columns are split over the threads when the last model call
	 * times the free parameters takes at least this many seconds [0: 5e-4; < 0: always]. */
	double split_min_s;
};

/* Levenberg-Marquardt options; zero fields take the defaults in brackets. */
struct bl_fit_lm_options {
	int nstart;	    /* starts: p0, then nstart - 1 quasi-random points in the bounds [1] */
	unsigned long seed; /* seeds the random shift of the Sobol starts [0] */
	int max_iter;	    /* per start [200] */
	double xtol, gtol, ftol; /* GSL driver tolerances [1e-8, 1e-8, 1e-10] */
	double fd_step;		 /* relative forward-difference step [1e-7] */
	int scale_cov;	    /* 1: covariance times chi2_red (for weights not from counts) [0] */
	double target_chi2; /* > 0: report the evaluations taken to first reach chi2 <= it */
};

/* Particle swarm options (HipGISAXS's base algorithm); zero fields take the defaults. */
struct bl_fit_pso_options {
	int particles;	    /* [20] */
	int generations;    /* [50] */
	double omega;	    /* inertia weight [0.7298] */
	double phi1, phi2;  /* cognitive (own best) and social (swarm best) weights [1.49618] */
	double vmax;	    /* velocity limit as a fraction of hi - lo [1] */
	int tune_omega;	    /* 1: omega halves every generation, as HipGISAXS's pso_tune_omega */
	int seed_p0;	    /* 1: particle 0 starts at p0 (the others uniform in the bounds) */
	unsigned long seed; /* GSL mt19937 seed [0] */
	int polish;	    /* 1: finish with Levenberg-Marquardt from the swarm's best */
	double target_chi2; /* as in bl_fit_lm_options */
};

/* A fit's result, in the original parameters. */
struct bl_fit_result {
	double p[BL_FIT_MAX_PARAMS];
	double err[BL_FIT_MAX_PARAMS]; /* sqrt(cov diagonal); 0 for fixed parameters */
	/* (J^T W J)^-1 at p over all np parameters, row-major np x np, zero rows/columns for
	 * fixed ones; times chi2_red when scale_cov. */
	double cov[BL_FIT_MAX_PARAMS * BL_FIT_MAX_PARAMS];
	double chi2, chi2_red; /* sum r_i^2 over points of nonzero weight; chi2 / dof */
	int dof;	       /* points of nonzero weight - free parameters */
	long nevals; /* model calls of this fit: trial points, difference columns, covariance (calls
		      * of an analytic Jacobian are not counted) */
	long nevals_target; /* evaluations until chi2 <= target_chi2 first held; -1: never */
	int iterations;	    /* LM iterations of the winning start, or PSO generations */
	int best_start;	    /* which LM start won (0: p0) */
	int converged;	    /* the GSL driver met a tolerance (PSO: its polish; 0 without) */
	int cov_ok;	    /* 0: J^T W J was singular (err and cov are NaN) */
};

struct bl_fitter;

/* Validates the problem and allocates everything a fit of it needs (GSL workspaces, buffers,
 * per thread). 0, -EINVAL (sizes, bounds, NULL model), -ENOMEM, or -ENOTSUP without GSL. A
 * fitter runs one fit at a time (fits of different fitters may run concurrently). */
int bl_fitter_create(struct bl_fitter **out, const struct bl_fit_problem *prob);
void bl_fitter_destroy(struct bl_fitter *f);

/* Fits data Y[nd] from P0[np] (within the bounds). SIGMA[nd] may be NULL (the problem's weight)
 * or give each point's standard deviation (<= 0: the point is ignored). O may be NULL. Returns
 * 0, -EINVAL, -ENOMEM (more starts than ever before and no memory to grow), -EDOM (the model
 * gave a non-finite value at every start), or the model's own error. Allocates nothing when
 * called again with no more starts than before. */
int bl_fit_lm(struct bl_fitter *f, const double *y, const double *sigma, const double *p0,
	      const struct bl_fit_lm_options *o, struct bl_fit_result *res);

/* The same problem by particle swarm; P0 gives the fixed parameters' values (and particle 0's
 * start when seed_p0). Returns as bl_fit_lm. */
int bl_fit_pso(struct bl_fitter *f, const double *y, const double *sigma, const double *p0,
	       const struct bl_fit_pso_options *o, struct bl_fit_result *res);

/* chi2 of parameters P (within the bounds) against Y/SIGMA as the fits weigh it: one model
 * evaluation, outside any fit's count. 0 or a negative errno. */
int bl_fit_chi2(struct bl_fitter *f, const double *y, const double *sigma, const double *p,
		double *chi2);

/* Threads a fit of F uses. */
int bl_fitter_threads(const struct bl_fitter *f);

#ifdef __cplusplus
}
#endif

#endif
