/* test_peak.c: 1D peak finder on synthetic Gaussian peaks over a flat background with Poisson
 * noise: positions within 2 sigma of the truth, and pull distributions (std of (fit - truth) /
 * uncertainty over many noise draws) in 0.7..1.3 for position, FWHM and area. */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "bl_peak.h"

#ifdef BL_HAVE_GSL
#include "../check.h"
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#define N     400
#define DRAWS 300

struct truth {
	double mu, sigma, height;
};
static const struct truth peaks[2] = {{5.0, 0.10, 500}, {12.3, 0.15, 300}};
static const double bg = 200;

static double x[N], y[N], sem[N], model[N];

static void test_background(void)
{
	double v[10] = {1, 2, 1, 2, 1, 2, 1, 2, 1, 1000}, m, s;
	CHECK_EQ_INT(bl_peak_background(v, 10, 3, 10, &m, &s), 0);
	CHECK_NEAR(m, 13.0 / 9, 1e-12); /* the outlier is clipped */
	CHECK(s < 1);
	CHECK_EQ_INT(bl_peak_background(v, 1, 3, 10, &m, &s), -EINVAL);
}

static void test_pulls(void)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 7);
	for (int i = 0; i < N; i++) {
		x[i] = 0.025 + 0.05 * i; /* q in nm^-1, 0..20 */
		model[i] = bg;
		for (int p = 0; p < 2; p++) {
			double u = (x[i] - peaks[p].mu) / peaks[p].sigma;
			model[i] += peaks[p].height * exp(-0.5 * u * u);
		}
	}
	double sum2[2][3] = {{0}}, k = 2 * sqrt(2 * M_LN2);
	int ok = 0, within = 0, nfit = 0;
	for (int t = 0; t < DRAWS; t++) {
		for (int i = 0; i < N; i++) {
			y[i] = gsl_ran_poisson(r, model[i]);
			sem[i] = sqrt(fmax(y[i], 1));
		}
		struct bl_peak1d pk[8];
		int n = bl_peak1d_find(x, y, sem, N, NULL, pk, 8);
		if (n != 2)
			continue;
		ok++;
		for (int p = 0; p < 2; p++) {
			const struct truth *tr = &peaks[p];
			double area = tr->height * tr->sigma * sqrt(2 * M_PI);
			double pull[3] = {(pk[p].pos - tr->mu) / pk[p].pos_err,
					  (pk[p].fwhm - k * tr->sigma) / pk[p].fwhm_err,
					  (pk[p].area - area) / pk[p].area_err};
			for (int q = 0; q < 3; q++)
				sum2[p][q] += pull[q] * pull[q];
			within += fabs(pull[0]) < 2;
			nfit++;
			CHECK_NEAR(pk[p].d, 2 * M_PI / pk[p].pos, 1e-12);
		}
	}
	CHECK_EQ_INT(ok, DRAWS);     /* both peaks, and nothing else, every time */
	CHECK(within >= 0.9 * nfit); /* ~95 % expected within 2 sigma */
	for (int p = 0; p < 2; p++)
		for (int q = 0; q < 3; q++) {
			double sd = sqrt(sum2[p][q] / (ok > 0 ? ok : 1));
			printf("peak %d %s pull std %.3f\n", p,
			       q == 0	? "pos"
			       : q == 1 ? "fwhm"
					: "area",
			       sd);
			CHECK(sd > 0.7 && sd < 1.3);
		}
	gsl_rng_free(r);
}

/* A noiseless peak: the fit returns the truth. */
static void test_exact(void)
{
	for (int i = 0; i < N; i++) {
		x[i] = 0.025 + 0.05 * i;
		double u = (x[i] - 7.7) / 0.2;
		y[i] = 50 + 1000 * exp(-0.5 * u * u);
		sem[i] = sqrt(y[i]);
	}
	sem[3] = 0; /* an empty bin is ignored */
	struct bl_peak1d pk[2];
	CHECK_EQ_INT(bl_peak1d_find(x, y, sem, N, NULL, pk, 2), 1);
	CHECK_NEAR(pk[0].pos, 7.7, 1e-6);
	CHECK_NEAR(pk[0].fwhm, 0.2 * 2 * sqrt(2 * M_LN2), 1e-6);
	CHECK_NEAR(pk[0].area, 1000 * 0.2 * sqrt(2 * M_PI), 1e-3);
	CHECK_NEAR(pk[0].background, 50, 1e-4);
	CHECK_NEAR(pk[0].d, 2 * M_PI / 7.7, 1e-6);
	CHECK(pk[0].pos_err > 0 && pk[0].pos_err < 0.01);
	CHECK_EQ_INT(bl_peak1d_find(x, y, sem, 2, NULL, pk, 2), -EINVAL);
}

int main(void)
{
	test_background();
	test_exact();
	test_pulls();
	return CHECK_DONE();
}

#else

int main(void)
{
	printf("no GSL in this build: peak finder not built, skipped\n");
	return 77;
}

#endif
