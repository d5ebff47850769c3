/* bl_bo.h: Gaussian-process Bayesian optimisation of a recipe towards a target outcome under
 * constraints (the closed-loop printing campaign's decision policy), and the GP regression under
 * it. Written here on GSL (Cholesky, multimin, RNG): Debian packages no C GP/BO library (the
 * maintained ones are Python: scikit-learn, GPy, BoTorch). The math is in kernels/README.md. */
#ifndef BL_BO_H
#define BL_BO_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BL_BO_MAX_DIM 8
#define BL_BO_MAX_OUT 4

/* ---- GP regression: one output, inputs in [0,1]^D (the caller scales them) ---- */

/* Hyperparameters, natural units: ARD length scales (input units), signal variance, noise
 * variance (added to the diagonal beside each observation's own noise), constant mean. */
struct bl_gp_hyper {
	double len[BL_BO_MAX_DIM];
	double sf2, sn2;
	double mean;
};

/* Bounds and log-normal priors of the hyperparameter fit; zero fields take the defaults in
 * brackets (for outputs standardised to zero mean and unit variance, which bl_bo does). */
struct bl_gp_prior {
	double len_min, len_max; /* [0.03, 10] */
	double len_mu, len_sd;	 /* prior on ln len: N(ln LEN_MU, LEN_SD^2) [0.3, 1.0] */
	double sf2_min, sf2_max; /* [1e-2, 1e2] */
	double sf2_mu, sf2_sd;	 /* prior on ln sf2 [1, 1.5] */
	double sn2_min, sn2_max; /* [1e-6, 1] */
	double sn2_mu, sn2_sd;	 /* prior on ln sn2 [1e-3, 2.5] */
	int no_prior;		 /* 1: plain maximum likelihood within the bounds */
	int restarts;		 /* starts of the fit besides the current values [4] */
};

enum bl_gp_kernel { BL_GP_MATERN52 = 0, BL_GP_SE = 1 };

struct bl_gp;

/* A GP of DIM inputs for at most MAX_N observations: every workspace is allocated here, none
 * later. NULL on bad arguments or no memory (or a build without GSL). */
struct bl_gp *bl_gp_new(int dim, int max_n, enum bl_gp_kernel kernel);
void bl_gp_free(struct bl_gp *gp);

/* Replaces the data by N observations: inputs X[N*DIM] (row-major), values Y[N], per-point noise
 * variances NOISE[N] (NULL: none beyond sn2). 0, -EINVAL, -E2BIG (N > max_n). */
int bl_gp_set_data(struct bl_gp *gp, const double *x, const double *y, const double *noise, int n);

/* Sets the hyperparameters (mean: ignored when MEAN_FIXED is 0, then the GLS estimate
 * (1'K^-1 y)/(1'K^-1 1) is used) and factorises K. 0, -EINVAL, -EDOM (K not positive definite). */
int bl_gp_set_hyper(struct bl_gp *gp, const struct bl_gp_hyper *h, int mean_fixed);
void bl_gp_get_hyper(const struct bl_gp *gp, struct bl_gp_hyper *h);

/* Log marginal likelihood of the data under the current hyperparameters. */
double bl_gp_lml(const struct bl_gp *gp);

/* Maximises the log marginal likelihood (plus the log prior) over ln(len, sf2, sn2) with GSL's
 * Nelder-Mead from the current values and PRIOR->restarts starts drawn from the prior (seeded
 * by SEED), the mean profiled out (GLS). P may be NULL (defaults). 0 or negative errno. */
int bl_gp_fit(struct bl_gp *gp, const struct bl_gp_prior *p, unsigned long seed);

/* Posterior mean and variance of the latent function at X[DIM] (no noise added). */
int bl_gp_predict(struct bl_gp *gp, const double *x, double *mean, double *var);

/* ---- The target acquisition (closed forms; see kernels/README.md) ---- */

/* E[max(FSTAR - |Y - T|, 0)] for Y ~ N(MU, SD^2): the expected improvement of the distance to the
 * target T over the incumbent distance FSTAR (>= 0). SD 0 gives the deterministic value. */
double bl_bo_ei_target(double mu, double sd, double t, double fstar);

/* P(LO <= Y <= HI) for Y ~ N(MU, SD^2) (either bound may be infinite). */
double bl_bo_prob_between(double mu, double sd, double lo, double hi);

/* ---- Bayesian optimisation ---- */

enum bl_bo_acq {
	BL_BO_ACQ_EI = 0,   /* EI of the target distance x P(constraints) [/ cost] */
	BL_BO_ACQ_PROB = 1, /* P(|Y - T| <= TOL) x P(constraints) [/ cost] */
};

/* How an output is modelled: a GP on y, on ln y (y > 0), or on logit y (y in (0, 1), e.g. an
 * order parameter; values are clamped to [1e-3, 1 - 1e-3] first). Not for the target output. */
enum bl_bo_warp { BL_BO_WARP_NONE = 0, BL_BO_WARP_LOG = 1, BL_BO_WARP_LOGIT = 2 };

/* A constraint on output OUT: LO <= y <= HI (use +-INFINITY for one side). */
struct bl_bo_constraint {
	int out;
	double lo, hi;
};

/* Zero fields take the defaults in brackets. */
struct bl_bo_config {
	int n_out;		      /* outputs per observation, one GP each (1..BL_BO_MAX_OUT) */
	int log_scale[BL_BO_MAX_DIM]; /* 1: the input is scaled by its logarithm (lower > 0) */
	int target_out;		      /* the output steered to TARGET [0] */
	double target, target_tol;    /* the goal: |y[target_out] - target| <= target_tol */
	int n_constraints;
	struct bl_bo_constraint constraints[BL_BO_MAX_OUT];
	enum bl_bo_warp warp[BL_BO_MAX_OUT]; /* per output [NONE] */
	enum bl_bo_acq acq;		     /* [BL_BO_ACQ_EI] */
	enum bl_gp_kernel kernel;	     /* [BL_GP_MATERN52] */
	int n_init;	    /* proposals from the Latin hypercube design before the GPs [D+2] */
	int n_cand;	    /* random candidates per proposal [2000] */
	int n_local;	    /* Nelder-Mead polishes from the best candidates [5] */
	unsigned long seed; /* design, candidates and fit restarts [1] */
	struct bl_gp_prior prior; /* for every output GP (zero: defaults) */
	/* Optional cost of a recipe (> 0, e.g. ink used or time): the acquisition is divided by
	 * cost^COST_POWER [1]. NULL: every recipe costs the same. */
	double (*cost)(const double *x, void *user);
	void *cost_user;
	double cost_power;
};

/* What a proposal is expected to give. */
struct bl_bo_info {
	double mean[BL_BO_MAX_OUT], sd[BL_BO_MAX_OUT]; /* GP posterior (latent) per output, in
							* output units (a warped one: its median
							* and the delta-method sd) */
	double acq;				       /* acquisition value (0 from the design) */
	double ei, p_feasible, p_target;	       /* its factors */
	double fstar;				       /* incumbent target distance */
	int from_design;			       /* 1: a Latin hypercube point */
};

struct bl_bo;

/* An optimiser of DIM inputs within [LOWER, UPPER] for at most MAX_OBS observations; every
 * workspace is allocated here. NULL on bad arguments or no memory (or a build without GSL). */
struct bl_bo *bl_bo_new(int dim, const double *lower, const double *upper, int max_obs,
			const struct bl_bo_config *c);
void bl_bo_free(struct bl_bo *bo);

/* Records one observation: recipe X[DIM], outputs Y[n_out], their noise variances NOISE[n_out]
 * (NULL: unknown, the GPs fit it). 0, -EINVAL (X outside the box, non-finite), -E2BIG (full). */
int bl_bo_add(struct bl_bo *bo, const double *x, const double *y, const double *noise);
int bl_bo_count(const struct bl_bo *bo);

/* The next recipe X_OUT[DIM] (inside the box): a design point while fewer than n_init
 * observations exist, else the maximiser of the acquisition (random candidates, then
 * Nelder-Mead in the box). INFO may be NULL. 0 or negative errno. */
int bl_bo_propose(struct bl_bo *bo, double *x_out, struct bl_bo_info *info);

/* GP posterior at recipe X (after the last fit): per output mean and standard deviation. */
int bl_bo_predict(struct bl_bo *bo, const double *x, double *mean, double *sd);

/* The observation the model believes best: among those whose posterior means meet every
 * constraint, the one whose posterior mean is nearest the target (else the most probably
 * feasible). Writes its recipe and measured outputs; returns its index, or -ENODATA. */
int bl_bo_best(struct bl_bo *bo, double *x_out, double *y_out);

#ifdef __cplusplus
}
#endif

#endif
