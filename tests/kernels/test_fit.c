/* test_fit.c: bounded Levenberg-Marquardt (bl_fit_lm) on analytic models with known truth:
 * exact recovery, pull distributions over 200 Poisson realisations, bounds, multi-start on a
 * multi-modal problem, threads, fixed parameters, a singular covariance, the evaluation counter
 * and the error paths. */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "bl_fit.h"

#ifdef BL_HAVE_GSL
#include "../check.h"
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#define NT 100

/* Exponential decay on a flat background: m(t) = A exp(-t / tau) + B. */
struct expo {
	double t[NT];
	long calls;
	int fail; /* 1: return -EIO, 2: a NaN */
};

static int expo_model(const double *p, double *out, void *user)
{
	struct expo *e = user;
#pragma omp atomic
	e->calls++;
	if (e->fail == 1)
		return -EIO;
	for (int i = 0; i < NT; i++)
		out[i] = p[0] * exp(-e->t[i] / p[1]) + p[2];
	if (e->fail == 2)
		out[3] = NAN;
	return 0;
}

static int expo_jac(const double *p, double *j, void *user)
{
	struct expo *e = user;
	for (int i = 0; i < NT; i++) {
		double x = exp(-e->t[i] / p[1]);
		j[i * 3 + 0] = x;
		j[i * 3 + 1] = p[0] * x * e->t[i] / (p[1] * p[1]);
		j[i * 3 + 2] = 1;
	}
	return 0;
}

static struct expo ex;
static const double ex_truth[3] = {20000, 15, 3000};
static const double ex_lo[3] = {0, 1, 0}, ex_hi[3] = {1e5, 100, 1e4};

static struct bl_fit_problem expo_problem(void)
{
	for (int i = 0; i < NT; i++)
		ex.t[i] = 0.5 + i;
	struct bl_fit_problem pr = {.np = 3,
				    .nd = NT,
				    .lo = ex_lo,
				    .hi = ex_hi,
				    .model = expo_model,
				    .user = &ex,
				    .thread_safe = 1,
				    .nthreads = 1};
	return pr;
}

static void expo_sample(gsl_rng *r, double *y)
{
	double m[NT];
	expo_model(ex_truth, m, &ex);
	for (int i = 0; i < NT; i++)
		y[i] = r ? (double)gsl_ran_poisson(r, m[i]) : m[i];
}

static void test_exact(void)
{
	struct bl_fit_problem pr = expo_problem();
	struct bl_fitter *f;
	double y[NT], p0[3] = {26000, 10, 2200};
	expo_sample(NULL, y);
	for (int jac = 0; jac < 2; jac++) {
		pr.jacobian = jac ? expo_jac : NULL;
		CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
		struct bl_fit_result res;
		ex.calls = 0;
		CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &res), 0);
		for (int k = 0; k < 3; k++)
			CHECK_NEAR(res.p[k] / ex_truth[k], 1, 1e-6);
		CHECK(res.chi2 < 1e-6);
		CHECK(res.converged);
		CHECK(res.cov_ok);
		CHECK_EQ_INT(res.dof, NT - 3);
		CHECK_EQ_INT(res.nevals, ex.calls); /* every model call counted, no more */
		CHECK(res.nevals > 0);
		bl_fitter_destroy(f);
	}
}

/* 200 Poisson realisations (counts >= 3000 per bin, where the Neyman weighting's bias, about
 * -1 count per bin, is ~0.1 sigma): pulls (fit - truth) / err must look standard normal. With
 * 200 draws the sample mean has a standard error of 0.07 and the sample standard deviation one
 * of 0.05, so |mean| < 0.25 and 0.85 < std < 1.15 are 3.5 and 3 standard errors; >= 90 % within
 * 2 sigma (expect 95.4 %, binomial standard error 1.5 %). The reported sigma must match the
 * scatter of the fitted values: mean err / std(fit) within 0.85..1.15. */
static void test_pulls(void)
{
	struct bl_fit_problem pr = expo_problem();
	struct bl_fitter *f;
	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	enum { DRAWS = 200 };
	double s1[3] = {0}, s2[3] = {0}, v1[3] = {0}, v2[3] = {0}, e1[3] = {0};
	int within[3] = {0}, ok = 0;
	double p0[3] = {24000, 12, 3300}, y[NT];
	for (int d = 0; d < DRAWS; d++) {
		gsl_rng_set(r, 1000 + (unsigned long)d);
		expo_sample(r, y);
		struct bl_fit_result res;
		if (bl_fit_lm(f, y, NULL, p0, NULL, &res) || !res.cov_ok)
			continue;
		ok++;
		for (int k = 0; k < 3; k++) {
			double pull = (res.p[k] - ex_truth[k]) / res.err[k];
			s1[k] += pull;
			s2[k] += pull * pull;
			v1[k] += res.p[k];
			v2[k] += res.p[k] * res.p[k];
			e1[k] += res.err[k];
			within[k] += fabs(pull) < 2;
		}
	}
	CHECK_EQ_INT(ok, DRAWS);
	for (int k = 0; k < 3; k++) {
		double mean = s1[k] / ok, sd = sqrt(s2[k] / ok - mean * mean);
		double vm = v1[k] / ok, vsd = sqrt((v2[k] - ok * vm * vm) / (ok - 1));
		double ratio = e1[k] / ok / vsd;
		printf(
		    "param %d: pull mean %.3f std %.3f, within 2 sigma %d/%d, err/scatter %.3f\n",
		    k, mean, sd, within[k], ok, ratio);
		CHECK(fabs(mean) < 0.25);
		CHECK(sd > 0.85 && sd < 1.15);
		CHECK(within[k] >= 0.9 * ok);
		CHECK(ratio > 0.85 && ratio < 1.15);
	}
	gsl_rng_free(r);
	bl_fitter_destroy(f);
}

/* Pearson weights and the caller's sigma (points with sigma <= 0 ignored), covariance scaled by
 * chi2_red on request. */
static void test_weights(void)
{
	struct bl_fit_problem pr = expo_problem();
	struct bl_fitter *f;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 5);
	double y[NT], sig[NT], p0[3] = {24000, 12, 3300};
	expo_sample(r, y);
	pr.weight = BL_FIT_WEIGHT_MODEL;
	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	struct bl_fit_result a, b, c;
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &a), 0);
	for (int k = 0; k < 3; k++)
		CHECK(fabs(a.p[k] - ex_truth[k]) < 3 * a.err[k]);
	CHECK(a.chi2_red > 0.5 && a.chi2_red < 1.6);
	/* the analytic Jacobian through Pearson's weights gives the same fit */
	struct bl_fitter *fj;
	struct bl_fit_problem prj = pr;
	prj.jacobian = expo_jac;
	CHECK_EQ_INT(bl_fitter_create(&fj, &prj), 0);
	CHECK_EQ_INT(bl_fit_lm(fj, y, NULL, p0, NULL, &b), 0);
	for (int k = 0; k < 3; k++) {
		CHECK_NEAR(b.p[k], a.p[k], 1e-4 * a.err[k]);
		CHECK_NEAR(b.err[k], a.err[k], 1e-4 * a.err[k]);
	}
	bl_fitter_destroy(fj);
	/* sigma = sqrt(y) by hand is the default data weighting; 10 points dropped */
	for (int i = 0; i < NT; i++)
		sig[i] = i % 10 == 3 ? 0 : sqrt(y[i]);
	CHECK_EQ_INT(bl_fit_lm(f, y, sig, p0, NULL, &b), 0);
	CHECK_EQ_INT(b.dof, NT - 10 - 3);
	for (int k = 0; k < 3; k++)
		CHECK(fabs(b.p[k] - ex_truth[k]) < 3 * b.err[k]);
	struct bl_fit_lm_options o = {.scale_cov = 1};
	CHECK_EQ_INT(bl_fit_lm(f, y, sig, p0, &o, &c), 0);
	for (int k = 0; k < 3; k++)
		CHECK_NEAR(c.err[k], b.err[k] * sqrt(b.chi2_red), 1e-6 * b.err[k]);
	double chi2;
	CHECK_EQ_INT(bl_fit_chi2(f, y, sig, b.p, &chi2), 0);
	CHECK_NEAR(chi2, b.chi2, 1e-9 * b.chi2);
	bl_fitter_destroy(f);
	gsl_rng_free(r);
}

/* Truth on a bound (background 0, bounds [0, 500]) and near one: every fit stays inside, and
 * the noiseless fit reaches the bound. */
static void test_bounds(void)
{
	static const double lo[3] = {0, 1, 0}, hi[3] = {1e5, 100, 500};
	struct bl_fit_problem pr = expo_problem();
	pr.lo = lo;
	pr.hi = hi;
	struct bl_fitter *f;
	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	double truth[3] = {20000, 15, 0}, m[NT], y[NT], p0[3] = {25000, 20, 250};
	expo_model(truth, m, &ex);
	struct bl_fit_result res;
	CHECK_EQ_INT(bl_fit_lm(f, m, NULL, p0, NULL, &res), 0);
	CHECK(res.p[2] >= 0 && res.p[2] < 1e-3);
	CHECK_NEAR(res.p[0] / truth[0], 1, 1e-5);
	CHECK_NEAR(res.p[1] / truth[1], 1, 1e-5);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	int inside = 0, within = 0;
	for (int d = 0; d < 50; d++) {
		gsl_rng_set(r, 77 + (unsigned long)d);
		for (int i = 0; i < NT; i++)
			y[i] = (double)gsl_ran_poisson(r, m[i] + 2.0); /* background 2: near */
		if (bl_fit_lm(f, y, NULL, p0, NULL, &res))
			continue;
		int in = 1;
		for (int k = 0; k < 3; k++)
			in &= res.p[k] >= lo[k] && res.p[k] <= hi[k];
		inside += in;
		within += fabs(res.p[0] - truth[0]) < 2 * res.err[0];
	}
	CHECK_EQ_INT(inside, 50);
	CHECK(within >= 42);
	/* the upper bound: tau truth 15 with hi = 15 */
	static const double hi2[3] = {1e5, 15, 1e4};
	pr.hi = hi2;
	bl_fitter_destroy(f);
	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	double p1[3] = {25000, 10, 2000};
	expo_model(ex_truth, m, &ex);
	CHECK_EQ_INT(bl_fit_lm(f, m, NULL, p1, NULL, &res), 0);
	CHECK(res.p[1] <= 15 && res.p[1] > 15 - 1e-4);
	CHECK_NEAR(res.p[0] / ex_truth[0], 1, 1e-4);
	gsl_rng_free(r);
	bl_fitter_destroy(f);
}

/* Multi-modal: a sine of unknown frequency, m = C + A sin(w x). From w = 1 a single start
 * ends in a local minimum; 32 seeded starts in the bounds find the global one. */
#define NS 200
static double sx[NS];
static int sine_model(const double *p, double *out, void *user)
{
	(void)user;
	for (int i = 0; i < NS; i++)
		out[i] = p[2] + p[0] * sin(p[1] * sx[i]);
	return 0;
}

static void test_multistart(void)
{
	static const double lo[3] = {0, 0.5, 0}, hi[3] = {2000, 8, 3000};
	double truth[3] = {800, 3.7, 1000}, y[NS], p0[3] = {500, 1.0, 1200};
	for (int i = 0; i < NS; i++)
		sx[i] = 0.05 * i;
	sine_model(truth, y, NULL);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 3);
	for (int i = 0; i < NS; i++)
		y[i] = (double)gsl_ran_poisson(r, y[i]);
	struct bl_fit_problem pr = {
	    .np = 3, .nd = NS, .lo = lo, .hi = hi, .model = sine_model, .thread_safe = 1};
	struct bl_fit_result one, many, many2;
	for (int nt = 1; nt <= 2; nt++) {
		pr.nthreads = nt;
		struct bl_fitter *f;
		CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
		CHECK_EQ_INT(bl_fitter_threads(f), nt);
		CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &one), 0);
		CHECK(one.chi2_red > 10); /* trapped */
		CHECK(fabs(one.p[1] - truth[1]) > 0.1);
		struct bl_fit_lm_options o = {.nstart = 32, .seed = 11};
		CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, &o, nt == 1 ? &many : &many2), 0);
		bl_fitter_destroy(f);
	}
	printf("multi-start: single chi2_red %.1f (w %.3f), 32 starts %.3f (w %.4f +- %.4f, "
	       "start %d, %ld evaluations)\n",
	       one.chi2_red, one.p[1], many.chi2_red, many.p[1], many.err[1], many.best_start,
	       many.nevals);
	CHECK(many.chi2_red < 1.5);
	CHECK(many.best_start > 0);
	for (int k = 0; k < 3; k++)
		CHECK(fabs(many.p[k] - truth[k]) < 2 * many.err[k]);
	/* the same result with the starts spread over 2 threads */
	CHECK_EQ_INT(many2.best_start, many.best_start);
	CHECK_EQ_INT(many2.nevals, many.nevals);
	for (int k = 0; k < 3; k++)
		CHECK_NEAR(many2.p[k], many.p[k], 1e-12 * fabs(many.p[k]));
	gsl_rng_free(r);
}

/* Threads in a single start (Jacobian columns in parallel) give the same numbers; a fixed
 * parameter stays where p0 puts it with zero uncertainty. */
static void test_threads_fixed(void)
{
	struct bl_fit_problem pr = expo_problem();
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 9);
	double y[NT], p0[3] = {24000, 12, 3300};
	expo_sample(r, y);
	struct bl_fit_result a, b;
	struct bl_fitter *f;
	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &a), 0);
	bl_fitter_destroy(f);
	pr.nthreads = 2;
	pr.split_min_s = -1; /* split the columns however fast the model */
	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	ex.calls = 0;
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &b), 0);
	CHECK_EQ_INT(b.nevals, ex.calls);
	CHECK_EQ_INT(a.nevals, b.nevals);
	for (int k = 0; k < 3; k++) {
		CHECK_NEAR(a.p[k], b.p[k], 1e-12 * fabs(a.p[k]));
		CHECK_NEAR(a.err[k], b.err[k], 1e-9 * a.err[k]);
	}
	bl_fitter_destroy(f);
	unsigned char fixed[3] = {0, 1, 0};
	pr.fixed = fixed;
	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	double p1[3] = {24000, 15, 3300};
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p1, NULL, &b), 0);
	CHECK(b.p[1] == 15);
	CHECK(b.err[1] == 0 && b.cov[1 * 3 + 1] == 0 && b.cov[0 * 3 + 1] == 0);
	CHECK_EQ_INT(b.dof, NT - 2);
	CHECK(fabs(b.p[0] - ex_truth[0]) < 3 * b.err[0]);
	CHECK(fabs(b.p[2] - ex_truth[2]) < 3 * b.err[2]);
	bl_fitter_destroy(f);
	gsl_rng_free(r);
}

static void test_errors(void)
{
	struct bl_fit_problem pr = expo_problem(), bad;
	struct bl_fitter *f = (struct bl_fitter *)&pr;
	double lo[3] = {0, 1, 0}, hi[3] = {1e5, 1, 1e4}; /* lo == hi */
	bad = pr;
	bad.hi = hi;
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	CHECK(f == NULL);
	hi[1] = 0.5; /* lo > hi */
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	hi[1] = NAN;
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	hi[1] = INFINITY;
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	unsigned char fixed[3] = {0, 1, 0};
	bad.fixed = fixed; /* a fixed parameter's bounds are not looked at */
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), 0);
	bl_fitter_destroy(f);
	unsigned char all[3] = {1, 1, 1};
	bad = pr;
	bad.fixed = all;
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	bad = pr;
	bad.np = 0;
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	bad.np = BL_FIT_MAX_PARAMS + 1;
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	bad = pr;
	bad.nd = 2; /* fewer points than free parameters */
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	bad = pr;
	bad.model = NULL;
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	bad = pr;
	bad.lo = NULL;
	CHECK_EQ_INT(bl_fitter_create(&f, &bad), -EINVAL);
	CHECK_EQ_INT(bl_fitter_create(&f, NULL), -EINVAL);
	CHECK_EQ_INT(bl_fitter_create(NULL, &pr), -EINVAL);
	(void)lo;

	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	double y[NT], p0[3] = {24000, 12, 3300}, out[3] = {24000, 120, 3300};
	struct bl_fit_result res;
	expo_sample(NULL, y);
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, out, NULL, &res), -EINVAL); /* p0 outside */
	CHECK_EQ_INT(bl_fit_lm(f, NULL, NULL, p0, NULL, &res), -EINVAL);
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, NULL, NULL, &res), -EINVAL);
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, NULL), -EINVAL);
	CHECK_EQ_INT(bl_fit_lm(NULL, y, NULL, p0, NULL, &res), -EINVAL);
	struct bl_fit_lm_options o = {.nstart = -1};
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, &o, &res), -EINVAL);
	double sig[NT] = {0}; /* every point ignored */
	CHECK_EQ_INT(bl_fit_lm(f, y, sig, p0, NULL, &res), -EINVAL);
	ex.fail = 1;
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &res), -EIO);
	ex.fail = 2;
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &res), -EDOM);
	ex.fail = 0;
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &res), 0); /* and it recovers */
	CHECK_NEAR(res.p[1], 15, 1e-6);
	bl_fitter_destroy(f);
	bl_fitter_destroy(NULL);
}

/* Degenerate parameters: m = p0 p1 exp(-t / p2) (only the product counts) and a model that
 * ignores p1: the fit still converges, the covariance is flagged singular with NaN errors. */
static int degen_model(const double *p, double *out, void *user)
{
	struct expo *e = user;
	for (int i = 0; i < NT; i++)
		out[i] = (e->fail == 3 ? p[0] : p[0] * p[1]) * exp(-e->t[i] / p[2]);
	return 0;
}

static void test_singular(void)
{
	static const double lo[3] = {1, 0.5, 1}, hi[3] = {1e5, 2, 100};
	struct bl_fit_problem pr = expo_problem();
	pr.lo = lo;
	pr.hi = hi;
	pr.model = degen_model;
	struct bl_fitter *f;
	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	double t[3] = {2e4, 1, 15}, y[NT], p0[3] = {1.5e4, 1.2, 12};
	for (int mode = 0; mode < 2; mode++) {
		ex.fail = mode ? 3 : 0;
		degen_model(t, y, &ex);
		struct bl_fit_result res;
		CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &res), 0);
		CHECK(res.chi2 < 1e-6);
		CHECK_EQ_INT(res.cov_ok, 0);
		CHECK(isnan(res.err[0]) && isnan(res.err[1]) && isnan(res.err[2]));
	}
	ex.fail = 0;
	bl_fitter_destroy(f);
}

/* The evaluation count at which chi2 first fell to the target. */
static void test_target(void)
{
	struct bl_fit_problem pr = expo_problem();
	struct bl_fitter *f;
	CHECK_EQ_INT(bl_fitter_create(&f, &pr), 0);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 21);
	double y[NT], p0[3] = {24000, 12, 3300};
	expo_sample(r, y);
	struct bl_fit_result a, b;
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, NULL, &a), 0);
	CHECK_EQ_INT(a.nevals_target, -1);
	struct bl_fit_lm_options o = {.target_chi2 = 1.01 * a.chi2};
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, &o, &b), 0);
	CHECK(b.nevals_target > 1 && b.nevals_target <= b.nevals);
	o.target_chi2 = 0.5 * a.chi2; /* below the minimum: never */
	CHECK_EQ_INT(bl_fit_lm(f, y, NULL, p0, &o, &b), 0);
	CHECK_EQ_INT(b.nevals_target, -1);
	gsl_rng_free(r);
	bl_fitter_destroy(f);
}

int main(void)
{
	test_exact();
	test_pulls();
	test_weights();
	test_bounds();
	test_multistart();
	test_threads_fixed();
	test_errors();
	test_singular();
	test_target();
	return CHECK_DONE();
}

#else
int main(void)
{
	printf("built without GSL: skipped\n");
	return 77;
}
#endif
