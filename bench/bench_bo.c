/* bench_bo.c: prints needed to reach the printing target (domain spacing 32 nm +- 2 % with
 * orientation order > 0.7, both as *measured*, noise included) on the simulated printer
 * (film_morph.h) within the sim beamline's hwdb printer limits: Bayesian optimisation (bl_bo.h)
 * against grid search and random search, over many seeds; and the time per BO proposal. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bl_bo.h"
#include "bl_hwdb.h"
#include "film_morph.h"

#include <gsl/gsl_rng.h>

#define DIM 3

static double lo[DIM], hi[DIM];
static const int logs[DIM] = {1, 1, 0}; /* flow and speed span decades: log scale */

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void unit_to_raw(const double *u, double *x)
{
	for (int d = 0; d < DIM; d++)
		x[d] = logs[d] ? exp(log(lo[d]) + u[d] * (log(hi[d]) - log(lo[d])))
			       : lo[d] + u[d] * (hi[d] - lo[d]);
}

/* One print of recipe X: 1 when its measured outcome meets the target. */
static int print_once(const double *x, gsl_rng *noise, double *y)
{
	struct bl_film_recipe r = {x[0], x[1], x[2]};
	struct bl_film_morph m;
	if (bl_film_morph(&r, noise, &m))
		return -1;
	y[0] = m.spacing_nm;
	y[1] = m.orientation;
	return bl_film_meets_target(&m);
}

static double t_prop, t_prop_max;
static int n_prop;

static int run_bo(unsigned long seed, int budget, enum bl_bo_acq acq, enum bl_bo_warp warp)
{
	struct bl_bo_config c = {.n_out = 2,
				 .log_scale = {1, 1, 0},
				 .target_out = 0,
				 .target = BL_FILM_TARGET_SPACING_NM,
				 .target_tol = BL_FILM_TARGET_TOL * BL_FILM_TARGET_SPACING_NM,
				 .n_constraints = 1,
				 .constraints = {{1, BL_FILM_TARGET_ORIENTATION, INFINITY}},
				 .warp = {0, warp},
				 .acq = acq,
				 .seed = seed};
	struct bl_bo *bo = bl_bo_new(DIM, lo, hi, budget, &c);
	gsl_rng *noise = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(noise, 100000 + seed);
	int prints = -1;
	for (int k = 1; bo && k <= budget; k++) {
		double x[DIM], y[2];
		struct bl_bo_info info;
		double t0 = now();
		if (bl_bo_propose(bo, x, &info))
			break;
		double dt = now() - t0;
		if (!info.from_design) {
			t_prop += dt, n_prop++;
			t_prop_max = dt > t_prop_max ? dt : t_prop_max;
		}
		if (print_once(x, noise, y) == 1) {
			prints = k;
			break;
		}
		bl_bo_add(bo, x, y, NULL);
	}
	gsl_rng_free(noise);
	bl_bo_free(bo);
	return prints;
}

/* Uniform in the box on the scales above (LINEAR: uniform in flow and speed themselves). */
static int run_random(unsigned long seed, int budget, int linear)
{
	gsl_rng *noise = gsl_rng_alloc(gsl_rng_mt19937), *pick = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(noise, 100000 + seed);
	gsl_rng_set(pick, 200000 + seed);
	int prints = -1;
	for (int k = 1; k <= budget; k++) {
		double u[DIM], x[DIM], y[2];
		for (int d = 0; d < DIM; d++)
			u[d] = gsl_rng_uniform(pick);
		unit_to_raw(u, x);
		if (linear)
			for (int d = 0; d < DIM; d++)
				x[d] = lo[d] + u[d] * (hi[d] - lo[d]);
		if (print_once(x, noise, y) == 1) {
			prints = k;
			break;
		}
	}
	gsl_rng_free(noise);
	gsl_rng_free(pick);
	return prints;
}

/* G points per axis, ends included, on the same scales; temperature outermost (the slowest to
 * change on a printer), then speed, then flow, each from low to high. */
static int run_grid(unsigned long seed, int g)
{
	gsl_rng *noise = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(noise, 100000 + seed);
	int prints = -1, k = 0;
	for (int it = 0; it < g && prints < 0; it++)
		for (int iv = 0; iv < g && prints < 0; iv++)
			for (int iq = 0; iq < g && prints < 0; iq++) {
				double u[DIM] = {(double)iq / (g - 1), (double)iv / (g - 1),
						 (double)it / (g - 1)};
				double x[DIM], y[2];
				unit_to_raw(u, x);
				k++;
				if (print_once(x, noise, y) == 1)
					prints = k;
			}
	gsl_rng_free(noise);
	return prints;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Median, min, max of N results (-1: not reached, counted as more than any number). */
static void summary(const char *name, int *r, int n, int budget)
{
	int reached = 0;
	for (int i = 0; i < n; i++) {
		if (r[i] < 0)
			r[i] = 1 << 30;
		else
			reached++;
	}
	qsort(r, (size_t)n, sizeof(*r), cmp_int);
	double med = n % 2 ? r[n / 2] : 0.5 * (r[n / 2 - 1] + r[n / 2]);
	printf("%-22s median %6s", name, "");
	if (med >= (1 << 29))
		printf("> %d", budget);
	else
		printf("%.1f", med);
	printf("  min %d  max ", r[0]);
	if (r[n - 1] >= (1 << 30))
		printf("> %d", budget);
	else
		printf("%d", r[n - 1]);
	printf("  reached %d/%d  [", reached, n);
	for (int i = 0; i < n; i++)
		printf(r[i] >= (1 << 30) ? " -" : " %d", r[i]);
	printf(" ]\n");
}

int main(int argc, char **argv)
{
	int seeds = 20, budget = 60, grid = 8, rbudget = 5000;
	enum bl_bo_acq acq = BL_BO_ACQ_EI;
	enum bl_bo_warp warp = BL_BO_WARP_LOGIT;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
			seeds = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--budget") && i + 1 < argc)
			budget = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--grid") && i + 1 < argc)
			grid = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--no-warp"))
			warp = BL_BO_WARP_NONE;
		else if (!strcmp(argv[i], "--acq") && i + 1 < argc)
			acq = !strcmp(argv[++i], "prob") ? BL_BO_ACQ_PROB : BL_BO_ACQ_EI;
		else {
			fprintf(stderr, "usage: bench_bo [--seeds N] [--budget PRINTS] [--grid G] "
					"[--acq ei|prob] [--no-warp]\n");
			return 2;
		}
	}
	if (seeds < 1 || budget < 2 || grid < 2)
		return 2;
	struct bl_hwdb *db;
	struct bl_hwdb_errors errs;
	if (bl_hwdb_load(BL_SOURCE_DIR "/hwdb/beamlines/sim.yaml", &db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return 1;
	}
	lo[0] = db->printer.flow_ul_min.min, hi[0] = db->printer.flow_ul_min.max;
	lo[1] = db->printer.coat_speed_mm_s.min, hi[1] = db->printer.coat_speed_mm_s.max;
	lo[2] = db->printer.temperature_c.min, hi[2] = db->printer.temperature_c.max;
	bl_hwdb_free(db);
	printf("limits (hwdb sim): flow %g..%g uL/min (log), speed %g..%g mm/s (log), "
	       "temperature %g..%g C\n",
	       lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]);
	printf("target: measured spacing %.0f nm +- %.0f %% and orientation > %.2f; %d seeds\n",
	       BL_FILM_TARGET_SPACING_NM, 100 * BL_FILM_TARGET_TOL, BL_FILM_TARGET_ORIENTATION,
	       seeds);
	int *r = malloc((size_t)seeds * sizeof(int));
	if (!r)
		return 1;
	double t0 = now();
	for (int s = 0; s < seeds; s++)
		r[s] = run_bo((unsigned long)s + 1, budget, acq, warp);
	double t_bo = now() - t0;
	summary(acq == BL_BO_ACQ_PROB ? "BO (P(target) x P(c))" : "BO (EI x P(c))", r, seeds,
		budget);
	for (int s = 0; s < seeds; s++)
		r[s] = run_grid((unsigned long)s + 1, grid);
	char name[64];
	snprintf(name, sizeof(name), "grid %dx%dx%d", grid, grid, grid);
	summary(name, r, seeds, grid * grid * grid);
	for (int s = 0; s < seeds; s++)
		r[s] = run_random((unsigned long)s + 1, rbudget, 0);
	summary("random (log-uniform)", r, seeds, rbudget);
	for (int s = 0; s < seeds; s++)
		r[s] = run_random((unsigned long)s + 1, rbudget, 1);
	summary("random (linear unif.)", r, seeds, rbudget);
	printf("BO proposal time (GP fits + acquisition): mean %.1f ms, max %.1f ms over %d "
	       "proposals; BO total %.2f s\n",
	       n_prop ? 1e3 * t_prop / n_prop : 0, 1e3 * t_prop_max, n_prop, t_bo);
	free(r);
	return 0;
}
