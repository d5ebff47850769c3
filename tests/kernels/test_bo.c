/* test_bo.c: GP regression and Bayesian optimisation (bl_bo.h): posterior mean and variance
 * against the closed forms for one and two observations, the log marginal likelihood, length
 * scales recovered from GP samples, the target EI closed form against Monte Carlo, proposals
 * inside the box (log and linear inputs), the cost, and the error paths. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bl_bo.h"

#ifdef BL_HAVE_GSL
#include "../check.h"
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

static double matern52(double r2, double len2, double sf2)
{
	double r = sqrt(5.0 * r2 / len2);
	return sf2 * (1 + r + r * r / 3) * exp(-r);
}

/* One observation: mean m + k/(sf2 + sn2) (y - m), variance sf2 - k^2/(sf2 + sn2), and the GLS
 * mean of one point is the point itself. */
static void test_one_obs(void)
{
	struct bl_gp *gp = bl_gp_new(1, 4, BL_GP_MATERN52);
	CHECK(gp != NULL);
	double x1 = 0.3, y1 = 2.0;
	struct bl_gp_hyper h = {.len = {0.2}, .sf2 = 1.5, .sn2 = 0.01, .mean = 0.5};
	CHECK_EQ_INT(bl_gp_set_data(gp, &x1, &y1, NULL, 1), 0);
	CHECK_EQ_INT(bl_gp_set_hyper(gp, &h, 1), 0);
	for (double x = 0; x <= 1.0; x += 0.125) {
		double k = matern52((x - x1) * (x - x1), 0.04, 1.5), m, v;
		CHECK_EQ_INT(bl_gp_predict(gp, &x, &m, &v), 0);
		/* 1e-8: K carries a jitter of 1e-9 sf2 on its diagonal */
		CHECK_NEAR(m, 0.5 + k / 1.51 * (y1 - 0.5), 1e-8);
		CHECK_NEAR(v, 1.5 - k * k / 1.51, 1e-8);
	}
	/* ln p(y) = -(y - m)^2 / (2 s) - ln(s) / 2 - ln(2 pi) / 2, s = sf2 + sn2 (+ jitter) */
	CHECK_NEAR(bl_gp_lml(gp), -2.25 / (2 * 1.51) - 0.5 * log(1.51) - 0.5 * log(2 * M_PI), 1e-8);
	CHECK_EQ_INT(bl_gp_set_hyper(gp, &h, 0), 0);
	double m, x = 0.9;
	bl_gp_predict(gp, &x, &m, NULL);
	CHECK_NEAR(m, y1, 1e-12);
	bl_gp_free(gp);
}

/* Two observations in 2D (squared exponential, ARD): the 2x2 inverse written out; with a tiny
 * noise the mean interpolates and the variance vanishes at the data. */
static void test_two_obs(void)
{
	struct bl_gp *gp = bl_gp_new(2, 8, BL_GP_SE);
	CHECK(gp != NULL);
	double xs[4] = {0.2, 0.4, 0.7, 0.5}, ys[2] = {1.0, -0.5}, nz[2] = {0.02, 0.05};
	double l0 = 0.3, l1 = 0.6, sf2 = 0.8, sn2 = 0.01, mu = 0.1;
	struct bl_gp_hyper h = {.len = {l0, l1}, .sf2 = sf2, .sn2 = sn2, .mean = mu};
	CHECK_EQ_INT(bl_gp_set_data(gp, xs, ys, nz, 2), 0);
	CHECK_EQ_INT(bl_gp_set_hyper(gp, &h, 1), 0);
	double d0 = (xs[0] - xs[2]) / l0, d1 = (xs[1] - xs[3]) / l1;
	double k12 = sf2 * exp(-0.5 * (d0 * d0 + d1 * d1));
	double a = sf2 + sn2 + nz[0], d = sf2 + sn2 + nz[1], det = a * d - k12 * k12;
	for (int t = 0; t < 5; t++) {
		double x[2] = {0.1 + 0.2 * t, 0.9 - 0.15 * t}, k[2];
		for (int i = 0; i < 2; i++) {
			double e0 = (x[0] - xs[2 * i]) / l0, e1 = (x[1] - xs[2 * i + 1]) / l1;
			k[i] = sf2 * exp(-0.5 * (e0 * e0 + e1 * e1));
		}
		/* K^-1 = [d -k12; -k12 a] / det */
		double r0 = ys[0] - mu, r1 = ys[1] - mu;
		double al0 = (d * r0 - k12 * r1) / det, al1 = (-k12 * r0 + a * r1) / det;
		double q = (d * k[0] * k[0] - 2 * k12 * k[0] * k[1] + a * k[1] * k[1]) / det;
		double m, v;
		CHECK_EQ_INT(bl_gp_predict(gp, x, &m, &v), 0);
		CHECK_NEAR(m, mu + k[0] * al0 + k[1] * al1, 1e-9);
		CHECK_NEAR(v, sf2 - q, 1e-9);
	}
	/* noiseless: interpolation */
	h.sn2 = 0;
	CHECK_EQ_INT(bl_gp_set_data(gp, xs, ys, NULL, 2), 0);
	CHECK_EQ_INT(bl_gp_set_hyper(gp, &h, 0), 0);
	for (int i = 0; i < 2; i++) {
		double m, v;
		bl_gp_predict(gp, xs + 2 * i, &m, &v);
		CHECK_NEAR(m, ys[i], 1e-6);
		CHECK(v < 1e-6);
	}
	bl_gp_free(gp);
}

/* Draws N points of a zero-mean GP (Matern 5/2, LEN, sf2 1, noise SN2) at uniform inputs. */
static void gp_sample(gsl_rng *r, int dim, const double *len, double sn2, int n, double *x,
		      double *y)
{
	gsl_matrix *k = gsl_matrix_alloc((size_t)n, (size_t)n);
	for (int i = 0; i < n * dim; i++)
		x[i] = gsl_rng_uniform(r);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			double r2 = 0;
			for (int e = 0; e < dim; e++) {
				double t = (x[i * dim + e] - x[j * dim + e]) / len[e];
				r2 += t * t;
			}
			gsl_matrix_set(k, (size_t)i, (size_t)j,
				       matern52(r2, 1.0, 1.0) + (i == j ? sn2 + 1e-10 : 0));
		}
	gsl_linalg_cholesky_decomp1(k);
	for (int i = 0; i < n; i++)
		y[i] = 0;
	for (int j = 0; j < n; j++) {
		double z = gsl_ran_gaussian(r, 1.0);
		for (int i = j; i < n; i++)
			y[i] += gsl_matrix_get(k, (size_t)i, (size_t)j) * z;
	}
	gsl_matrix_free(k);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Maximum likelihood recovers the length scale of the GP the data were drawn from. */
static void test_fit_recovery(void)
{
	enum { N = 80, DRAWS = 15 };
	static double x[2 * N], y[N];
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 11);
	struct bl_gp_prior p = {.no_prior = 1};
	double est[DRAWS];
	struct bl_gp *gp = bl_gp_new(1, N, BL_GP_MATERN52);
	for (int t = 0; t < DRAWS; t++) {
		double len = 0.15;
		gp_sample(r, 1, &len, 1e-4, N, x, y);
		CHECK_EQ_INT(bl_gp_set_data(gp, x, y, NULL, N), 0);
		CHECK_EQ_INT(bl_gp_fit(gp, &p, (unsigned long)t + 1), 0);
		struct bl_gp_hyper h;
		bl_gp_get_hyper(gp, &h);
		est[t] = h.len[0];
		printf("1D draw %2d: len %.4f sf2 %.3f sn2 %.2e\n", t, h.len[0], h.sf2, h.sn2);
	}
	qsort(est, DRAWS, sizeof(double), cmp_d);
	printf("1D fitted length scale: median %.4f (truth 0.15), range %.4f..%.4f\n",
	       est[DRAWS / 2], est[0], est[DRAWS - 1]);
	CHECK(fabs(est[DRAWS / 2] / 0.15 - 1) < 0.15);
	CHECK(est[0] > 0.15 / 1.6 && est[DRAWS - 1] < 0.15 * 1.6);
	bl_gp_free(gp);

	/* ARD in 2D: the short and the long length scale told apart */
	gp = bl_gp_new(2, N, BL_GP_MATERN52);
	double len2[2] = {0.15, 0.6};
	double e0[DRAWS], e1[DRAWS];
	for (int t = 0; t < DRAWS; t++) {
		gp_sample(r, 2, len2, 1e-4, N, x, y);
		CHECK_EQ_INT(bl_gp_set_data(gp, x, y, NULL, N), 0);
		CHECK_EQ_INT(bl_gp_fit(gp, &p, (unsigned long)t + 1), 0);
		struct bl_gp_hyper h;
		bl_gp_get_hyper(gp, &h);
		e0[t] = h.len[0], e1[t] = h.len[1];
		CHECK(h.len[0] < h.len[1]);
	}
	qsort(e0, DRAWS, sizeof(double), cmp_d);
	qsort(e1, DRAWS, sizeof(double), cmp_d);
	printf("2D fitted length scales: median %.4f (0.15) %.4f (0.6), ranges %.4f..%.4f, "
	       "%.4f..%.4f\n",
	       e0[DRAWS / 2], e1[DRAWS / 2], e0[0], e0[DRAWS - 1], e1[0], e1[DRAWS - 1]);
	CHECK(fabs(e0[DRAWS / 2] / 0.15 - 1) < 0.2);
	CHECK(fabs(e1[DRAWS / 2] / 0.6 - 1) < 0.3);
	bl_gp_free(gp);
	gsl_rng_free(r);
}

/* The closed form against 10^6 Monte Carlo draws, within 5 standard errors. */
static void test_ei(void)
{
	static const double cases[][4] = {/* mu, sd, t, fstar */
					  {32.0, 0.5, 32.0, 1.0}, {30.0, 1.5, 32.0, 0.64},
					  {35.0, 0.3, 32.0, 2.0}, {31.8, 2.0, 32.0, 3.0},
					  {20.0, 4.0, 32.0, 5.0}, {32.5, 0.05, 32.0, 0.64}};
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 5);
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		double mu = cases[c][0], sd = cases[c][1], t = cases[c][2], f = cases[c][3];
		double s = 0, s2 = 0, inside = 0;
		const int n = 1000000;
		for (int i = 0; i < n; i++) {
			double yv = mu + gsl_ran_gaussian_ziggurat(r, sd);
			double imp = f - fabs(yv - t);
			imp = imp > 0 ? imp : 0;
			s += imp, s2 += imp * imp;
			inside += fabs(yv - t) <= f;
		}
		double mean = s / n, se = sqrt((s2 / n - mean * mean) / n);
		double ei = bl_bo_ei_target(mu, sd, t, f);
		printf("EI case %zu: closed %.6g, MC %.6g +- %.2g\n", c, ei, mean, se);
		CHECK(fabs(ei - mean) <= 5 * se + 1e-12);
		double p = bl_bo_prob_between(mu, sd, t - f, t + f), pm = inside / n;
		CHECK(fabs(p - pm) <= 5 * sqrt(p * (1 - p) / n) + 1e-12);
		/* symmetric about the target */
		CHECK_NEAR(bl_bo_ei_target(2 * t - mu, sd, t, f), ei, 1e-12);
	}
	gsl_rng_free(r);
	CHECK_NEAR(bl_bo_ei_target(31.5, 0, 32, 1.0), 0.5, 1e-15);
	CHECK_NEAR(bl_bo_ei_target(30.0, 0, 32, 1.0), 0.0, 1e-15);
	CHECK_NEAR(bl_bo_ei_target(32.0, 1e-9, 32, 1.0), 1.0, 1e-8);
	CHECK_NEAR(bl_bo_prob_between(0, 1, -1.959963984540054, 1.959963984540054), 0.95, 1e-12);
	CHECK_NEAR(bl_bo_prob_between(0, 1, 0.7, INFINITY), 0.24196365222307303, 1e-12);
	CHECK_NEAR(bl_bo_prob_between(0, 1, 40, INFINITY), 0, 1e-300);
	/* the far tail kept: Q(8) - Q(9) */
	CHECK_NEAR(bl_bo_prob_between(0, 1, 8, 9), 6.2209605742717841e-16 - 1.1285884059538408e-19,
		   1e-24);
}

/* A 3-input problem with log and linear inputs: y0 = a smooth bowl, y1 a tilt; every proposal
 * inside the box, even when the target lies beyond a face. */
static double cost_x0(const double *x, void *user)
{
	return *(const int *)user ? 1.0 + 20.0 * x[0] : 1.0 + 20.0 * (1.0 - x[0]);
}

static void outputs(const double *x, double *y)
{
	double a = log10(x[0]), b = log10(x[1]), c = x[2] / 100.0;
	y[0] = 10 + 5 * a - 2 * b + 3 * c * c;
	y[1] = 0.5 + 0.3 * sin(2 * a) * cos(c);
}

static void test_box(void)
{
	double lo[3] = {1, 0.5, 20}, hi[3] = {500, 50, 150};
	for (int variant = 0; variant < 3; variant++) {
		struct bl_bo_config c = {.n_out = 2,
					 .log_scale = {1, 1, 0},
					 .target =
					     variant == 1 ? 40.0 : 18.0, /* 40: out of reach */
					 .target_tol = 0.2,
					 .n_constraints = 1,
					 .constraints = {{1, 0.6, INFINITY}},
					 .acq = variant == 2 ? BL_BO_ACQ_PROB : BL_BO_ACQ_EI,
					 .seed = 3};
		struct bl_bo *bo = bl_bo_new(3, lo, hi, 30, &c);
		CHECK(bo != NULL);
		if (!bo)
			return;
		int inside = 1, design = 0;
		double hit = INFINITY;
		for (int k = 0; k < 25; k++) {
			double x[3], y[2];
			struct bl_bo_info info;
			CHECK_EQ_INT(bl_bo_propose(bo, x, &info), 0);
			design += info.from_design;
			for (int d = 0; d < 3; d++)
				inside &= x[d] >= lo[d] && x[d] <= hi[d];
			outputs(x, y);
			if (y[1] > 0.6 && fabs(y[0] - c.target) < hit)
				hit = fabs(y[0] - c.target);
			CHECK_EQ_INT(bl_bo_add(bo, x, y, NULL), 0);
		}
		CHECK(inside);
		CHECK_EQ_INT(design, 5); /* D + 2 design points by default */
		if (variant != 1)
			CHECK(hit <= 0.2); /* reachable target found */
		double xb[3], yb[2];
		CHECK(bl_bo_best(bo, xb, yb) >= 0);
		if (variant == 1) {
			/* out of reach: the best feasible y0 found is near the largest feasible y0
			 * of a fine grid over the box */
			double ymax = -INFINITY;
			for (int i = 0; i <= 40; i++)
				for (int j = 0; j <= 40; j++)
					for (int l = 0; l <= 40; l++) {
						double xg[3] = {pow(500, i / 40.0),
								0.5 * pow(100, j / 40.0),
								20 + 130 * l / 40.0},
						       yg[2];
						outputs(xg, yg);
						if (yg[1] > 0.6 && yg[0] > ymax)
							ymax = yg[0];
					}
			printf("out of reach: best feasible y0 %.3f, grid max %.3f\n", yb[0], ymax);
			CHECK(yb[1] > 0.6 - 0.01 && yb[0] > ymax - 1.0);
		}
		double m[2], s[2];
		CHECK_EQ_INT(bl_bo_predict(bo, xb, m, s), 0);
		CHECK_NEAR(m[0], yb[0], 0.05 * fabs(yb[0]) + 0.1);
		printf("box variant %d: best %.3g %.3g %.3g -> %.3f %.3f (closest feasible %.3g)\n",
		       variant, xb[0], xb[1], xb[2], yb[0], yb[1], hit);
		bl_bo_free(bo);
	}
}

/* Two equally good regions ((x - 0.5)^2 = 0.2025 at x = 0.05 and 0.95): a cost rising with x
 * sends the search to the low one, a falling cost to the high one. */
static void test_cost(void)
{
	double lo = 0, hi = 1;
	for (int rising = 0; rising < 2; rising++) {
		struct bl_bo_config c = {.n_out = 1,
					 .target = 0.2025,
					 .target_tol = 0.002,
					 .n_init = 3,
					 .seed = 9,
					 .cost = cost_x0,
					 .cost_user = &rising};
		struct bl_bo *bo = bl_bo_new(1, &lo, &hi, 20, &c);
		CHECK(bo != NULL);
		double sumx = 0;
		int nbo = 0;
		for (int k = 0; k < 15; k++) {
			double x, y;
			struct bl_bo_info info;
			CHECK_EQ_INT(bl_bo_propose(bo, &x, &info), 0);
			CHECK(x >= 0 && x <= 1);
			y = (x - 0.5) * (x - 0.5);
			if (!info.from_design)
				sumx += x, nbo++;
			bl_bo_add(bo, &x, &y, NULL);
		}
		printf("cost rising %d: mean model proposal %.3f\n", rising, sumx / nbo);
		CHECK(rising ? sumx / nbo < 0.3 : sumx / nbo > 0.7);
		bl_bo_free(bo);
	}
}

static void test_errors(void)
{
	double lo[2] = {0, 1}, hi[2] = {1, 2}, x[2] = {0.5, 1.5}, y = 1;
	struct bl_bo_config c = {.n_out = 1, .target = 1, .target_tol = 0.1};
	CHECK(bl_bo_new(0, lo, hi, 5, &c) == NULL);
	CHECK(bl_bo_new(2, hi, lo, 5, &c) == NULL);
	struct bl_bo_config bad = c;
	bad.log_scale[0] = 1; /* lower bound 0 on a log input */
	CHECK(bl_bo_new(2, lo, hi, 5, &bad) == NULL);
	bad = c;
	bad.target_tol = 0;
	CHECK(bl_bo_new(2, lo, hi, 5, &bad) == NULL);
	struct bl_bo *bo = bl_bo_new(2, lo, hi, 2, &c);
	CHECK(bo != NULL);
	CHECK_EQ_INT(bl_bo_best(bo, NULL, NULL), -ENODATA);
	double out[2] = {2, 1.5};
	CHECK_EQ_INT(bl_bo_add(bo, out, &y, NULL), -EINVAL);
	double nan_y = NAN;
	CHECK_EQ_INT(bl_bo_add(bo, x, &nan_y, NULL), -EINVAL);
	CHECK_EQ_INT(bl_bo_add(bo, x, &y, NULL), 0);
	CHECK_EQ_INT(bl_bo_add(bo, x, &y, NULL), 0);
	CHECK_EQ_INT(bl_bo_add(bo, x, &y, NULL), -E2BIG);
	CHECK_EQ_INT(bl_bo_count(bo), 2);
	bl_bo_free(bo);
	struct bl_gp *gp = bl_gp_new(1, 2, BL_GP_SE);
	double xs[3] = {0, 0.5, 1}, ys[3] = {0, 0, 0};
	CHECK_EQ_INT(bl_gp_set_data(gp, xs, ys, NULL, 3), -E2BIG);
	CHECK_EQ_INT(bl_gp_fit(gp, NULL, 1), -ENODATA);
	struct bl_gp_hyper h = {.len = {0}, .sf2 = 1};
	CHECK_EQ_INT(bl_gp_set_hyper(gp, &h, 0), -EINVAL);
	bl_gp_free(gp);
}

int main(void)
{
	test_one_obs();
	test_two_obs();
	test_ei();
	test_fit_recovery();
	test_box();
	test_cost();
	test_errors();
	return CHECK_DONE();
}

#else

int main(void)
{
	printf("built without GSL: skipped\n");
	return 77;
}
#endif
