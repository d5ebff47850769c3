/* bo_internal.h: the GP's and the optimiser's workspaces, shared by the bo_*.c files. */
#ifndef BL_BO_INTERNAL_H
#define BL_BO_INTERNAL_H

#include "bl_bo.h"

#include <gsl/gsl_matrix.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_vector.h>

struct bl_gp {
	int dim, max_n, n;
	enum bl_gp_kernel kernel;
	double *x, *y, *noise; /* max_n * dim, max_n, max_n */
	gsl_matrix *l;	       /* max_n^2: K, then its Cholesky factor (lower) */
	gsl_vector *alpha;     /* K^-1 (y - mean) */
	gsl_vector *w1, *wy;   /* K^-1 1, K^-1 y */
	gsl_vector *ks, *v;    /* k(x, X) and L^-1 k(x, X) for one prediction */
	struct bl_gp_hyper h;
	double lml;
	int ready; /* factorised for h */
	/* the hyperparameter fit's workspace */
	gsl_multimin_fminimizer *mm;
	gsl_vector *p0, *step;
	gsl_rng *rng;
	const struct bl_gp_prior *prior; /* during a fit */
};

/* Kernel between two scaled inputs. */
double bl_gp_kernel_eval(const struct bl_gp *gp, const double *a, const double *b);

struct bl_bo {
	int dim, max_obs, n, nd;		       /* nd: design points */
	double lo[BL_BO_MAX_DIM], hi[BL_BO_MAX_DIM];   /* the box, raw units */
	double slo[BL_BO_MAX_DIM], shi[BL_BO_MAX_DIM]; /* the box, scaled (ln where log) */
	struct bl_bo_config c;
	double *x, *u, *y, *nv; /* raw x, scaled u in [0,1], outputs, their noise variances */
	int *has_nv;		/* per observation: noise given */
	double *ys, *ns;	/* one output standardised, for bl_gp_set_data */
	struct bl_gp *gp[BL_BO_MAX_OUT];
	double ym[BL_BO_MAX_OUT], ysd[BL_BO_MAX_OUT]; /* standardisation per output */
	int fitted_n;
	double *design; /* nd * dim in [0,1] */
	double *cand, *cacq;
	gsl_rng *rng;
	gsl_multimin_fminimizer *mm;
	gsl_vector *v0, *step;
	double fstar; /* incumbent target distance of the current proposal */
};

/* Scaled [0,1] <-> raw recipe. */
void bl_bo_to_raw(const struct bl_bo *bo, const double *u, double *x);
void bl_bo_to_unit(const struct bl_bo *bo, const double *x, double *u);
/* Posterior (raw output units) at scaled U for every output. */
void bl_bo_posterior(struct bl_bo *bo, const double *u, double *mean, double *sd);
/* The incumbent target distance (README) from the fitted GPs. */
double bl_bo_incumbent(struct bl_bo *bo);
/* The acquisition at scaled U (fills INFO's factors when INFO is not NULL). */
double bl_bo_acq_at(struct bl_bo *bo, const double *u, struct bl_bo_info *info);
/* Maximises the acquisition over [0,1]^D into U_OUT; returns its value. */
double bl_bo_acq_maximise(struct bl_bo *bo, double *u_out);

#endif
