/* fit_internal.h: the fitter object shared by the LM and particle swarm fits (fit_*.c). */
#ifndef BL_FIT_INTERNAL_H
#define BL_FIT_INTERNAL_H

#include "bl_fit.h"

#ifdef BL_HAVE_GSL
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_permutation.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_qrng.h>
#include <gsl/gsl_rng.h>

#define FIT_MAXP BL_FIT_MAX_PARAMS

struct bl_fitter;

/* What one thread works with: its own GSL workspace and model/residual buffers. */
struct fit_slot {
	struct bl_fitter *f;
	gsl_multifit_nlinear_workspace *ws;
	gsl_multifit_nlinear_fdf fdf;
	double *m;     /* model output [nd] */
	double *rt;    /* residuals of a perturbed point [nd] */
	double *rlast; /* residuals of the last point evaluated by the GSL f callback [nd] */
	double *jp;    /* analytic Jacobian [nd * np], when the problem has one */
	double ulast[FIT_MAXP];
	int have_last;
	int err;	/* the model's error that stopped the current start */
	double t_model; /* seconds the last model call on this slot took */
	/* best start of this thread */
	double best_chi2, best_u[FIT_MAXP];
	int best_start, best_iter, best_conv;
};

struct bl_fitter {
	int np, nd, nfree, nthreads, thread_safe;
	int free_idx[FIT_MAXP];
	double lo[FIT_MAXP], hi[FIT_MAXP];
	unsigned char fixed[FIT_MAXP];
	int (*model)(const double *p, double *out, void *user);
	int (*jacobian)(const double *p, double *jac, void *user);
	void *user;
	enum bl_fit_weight weight;
	struct fit_slot *slot; /* [nthreads] */
	/* per fit */
	const double *y;
	double *w;   /* 1/sigma per point (0: ignored) for data weights and caller's sigma */
	int pearson; /* weights from the model, computed per evaluation */
	int npoints; /* points of nonzero weight */
	double pfix[FIT_MAXP]; /* p0: the values of the fixed parameters */
	double fd_step;
	int fd_parallel;    /* the Jacobian's columns may be spread over the threads */
	double split_min_s; /* see bl_fit_problem */
	long nevals, nevals_target;
	double target;
	/* covariance */
	gsl_matrix *jcov; /* nd x nfree: the Jacobian, then its pivoted QR */
	gsl_matrix *q;	  /* nfree x nfree: R^-1 */
	gsl_vector *sv;	  /* nfree: Householder coefficients */
	gsl_vector *work; /* nfree: column norms for the pivoting */
	gsl_permutation *perm;
	gsl_rng *rng;
	gsl_qrng *qrng;
	/* grown on demand, never shrunk: LM starts and the swarm */
	double *buf;
	size_t buf_cap;
};

/* Sets the per-fit state (data, weights, counters). 0 or -EINVAL. */
int fit_begin(struct bl_fitter *f, const double *y, const double *sigma, const double *p0,
	      double target);
/* Makes sure f->buf holds N doubles. 0 or -ENOMEM. */
int fit_reserve(struct bl_fitter *f, size_t n);
/* Full parameter vector P from the free parameters' values X (original units). */
void fit_expand(const struct bl_fitter *f, const double *x, double *p);
/* Internal (unbounded) coordinate u <-> free parameter value; dp/du. */
double fit_u_to_x(const struct bl_fitter *f, int k, double u);
double fit_x_to_u(const struct bl_fitter *f, int k, double x);
double fit_dxdu(const struct bl_fitter *f, int k, double u);
/* Residuals R[nd] and chi2 of the full parameter vector P, counted as one evaluation. 0, the
 * model's error, or -EDOM for a non-finite prediction. */
int fit_eval(struct bl_fitter *f, struct fit_slot *s, const double *p, double *r, double *chi2);
/* Jacobian of the residuals with respect to the free parameters in original units at the full
 * vector P, into J (nd x nfree); R0: the residuals at P (NULL: evaluated here). */
int fit_jacobian(struct bl_fitter *f, struct fit_slot *s, const double *p, const double *r0,
		 gsl_matrix *j);
/* Fills RES (p, chi2, err, cov) at the free parameters' values X. */
int fit_finish(struct bl_fitter *f, const double *x, int scale_cov, struct bl_fit_result *res);
/* One LM start from internal coordinates U0 on slot S; updates S's best. 0 or an error. */
int fit_lm_start(struct bl_fitter *f, struct fit_slot *s, const double *u0, int start, int max_iter,
		 double xtol, double gtol, double ftol);
int fit_thread_num(void);
/* GSL's residual and Jacobian callbacks in the internal coordinates (params: the slot). */
int fit_lm_f(const gsl_vector *u, void *params, gsl_vector *r);
int fit_lm_df(const gsl_vector *u, void *params, gsl_matrix *j);

#endif
#endif
