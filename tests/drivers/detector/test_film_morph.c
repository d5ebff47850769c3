/* test_film_morph.c: the simulated printer's film morphology (film_morph.h): deterministic and
 * smooth without noise, the physical trends, one target region (spacing 32 nm +- 2 %,
 * orientation > 0.7) inside hwdb sim's printer limits and away from the box's corners and
 * centre, and the stated run-to-run noise. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../check.h"
#include "bl_hwdb.h"
#include "film_morph.h"

#define G 48 /* scan points per axis */

static double lo[3], hi[3];

/* Scaled coordinates (log flow, log speed, linear temperature) -> recipe. */
static struct bl_film_recipe recipe(double u0, double u1, double u2)
{
	return (struct bl_film_recipe){exp(log(lo[0]) + u0 * (log(hi[0]) - log(lo[0]))),
				       exp(log(lo[1]) + u1 * (log(hi[1]) - log(lo[1]))),
				       lo[2] + u2 * (hi[2] - lo[2])};
}

static struct bl_film_morph eval(struct bl_film_recipe r)
{
	struct bl_film_morph m;
	CHECK_EQ_INT(bl_film_morph(&r, NULL, &m), 0);
	return m;
}

static void test_deterministic_smooth(void)
{
	struct bl_film_recipe r = {60, 2, 110};
	struct bl_film_morph a = eval(r), b = eval(r);
	CHECK(a.spacing_nm == b.spacing_nm && a.orientation == b.orientation &&
	      a.crystallinity == b.crystallinity && a.film.corr_len_nm == b.film.corr_len_nm);
	CHECK(a.film.spacing_nm == a.spacing_nm);
	/* along each axis in 400 steps: no jumps (max step < 1.5 % of the spacing range, 0.02 in
	 * orientation) and second differences small (smooth, not just continuous) */
	for (int axis = 0; axis < 3; axis++) {
		double dmax = 0, smax = 0, d2max = 0, prev[2] = {0}, prev2[2] = {0};
		for (int i = 0; i <= 400; i++) {
			double u[3] = {0.66, 0.30, 0.69};
			u[axis] = i / 400.0;
			struct bl_film_morph m = eval(recipe(u[0], u[1], u[2]));
			if (i > 0) {
				dmax = fmax(dmax, fabs(m.spacing_nm - prev[0]));
				smax = fmax(smax, fabs(m.orientation - prev[1]));
			}
			if (i > 1)
				d2max = fmax(d2max, fabs(m.spacing_nm - 2 * prev[0] + prev2[0]));
			prev2[0] = prev[0], prev2[1] = prev[1];
			prev[0] = m.spacing_nm, prev[1] = m.orientation;
		}
		printf("axis %d: max step spacing %.3f nm, orientation %.4f, 2nd diff %.2e nm\n",
		       axis, dmax, smax, d2max);
		CHECK(dmax < 0.015 * 26);
		CHECK(smax < 0.02);
		CHECK(d2max < 0.01 * dmax + 1e-6);
	}
}

static void test_trends(void)
{
	/* more ink or slower coating: a thicker wet film, longer drying, larger domains */
	struct bl_film_morph a = eval((struct bl_film_recipe){20, 2, 110});
	struct bl_film_morph b = eval((struct bl_film_recipe){80, 2, 110});
	struct bl_film_morph c = eval((struct bl_film_recipe){20, 8, 110});
	CHECK(b.wet_um > a.wet_um && b.spacing_nm > a.spacing_nm);
	CHECK(c.wet_um < a.wet_um && c.spacing_nm < a.spacing_nm);
	CHECK_NEAR(a.wet_um, 20.0 / 60.0 / (20.0 * 2.0) * 1000.0, 1e-9); /* Q = h w v */
	/* hotter: faster drying (smaller domains); ordering has an optimum inside the range */
	struct bl_film_morph h = eval((struct bl_film_recipe){20, 2, 140});
	CHECK(h.dry_s < a.dry_s && h.spacing_nm < a.spacing_nm);
	double best = -1, tbest = 0;
	for (double t = lo[2]; t <= hi[2]; t += 1) {
		struct bl_film_morph m = eval((struct bl_film_recipe){60, 2, t});
		if (m.orientation > best)
			best = m.orientation, tbest = t;
	}
	CHECK(tbest > lo[2] + 20 && tbest < hi[2] - 20);
	/* ordered films: a longer correlation length, a sharper ring */
	struct bl_film_morph o = eval((struct bl_film_recipe){60, 2, tbest});
	struct bl_film_morph d = eval((struct bl_film_recipe){60, 2, 30});
	CHECK(o.orientation > d.orientation && o.film.corr_len_nm > d.film.corr_len_nm);
	for (double t = lo[2]; t <= hi[2]; t += 10) {
		struct bl_film_morph m = eval((struct bl_film_recipe){60, 2, t});
		CHECK(m.crystallinity >= 0 && m.crystallinity <= 1 && m.orientation >= 0 &&
		      m.orientation <= 1);
	}
}

static unsigned char ok[G][G][G];
static int lab[G][G][G];
static int stack[G * G * G][3];

static void test_target_region(void)
{
	long n = 0;
	double c[3] = {0}, corner_min = INFINITY;
	for (int i = 0; i < G; i++)
		for (int j = 0; j < G; j++)
			for (int k = 0; k < G; k++) {
				double u[3] = {(i + 0.5) / G, (j + 0.5) / G, (k + 0.5) / G};
				struct bl_film_morph m = eval(recipe(u[0], u[1], u[2]));
				ok[i][j][k] = (unsigned char)bl_film_meets_target(&m);
				if (!ok[i][j][k])
					continue;
				n++;
				double dc = 0;
				for (int e = 0; e < 3; e++) {
					c[e] += u[e];
					double t = fmin(u[e], 1 - u[e]);
					dc += t * t;
				}
				corner_min = fmin(corner_min, sqrt(dc));
			}
	CHECK(n > 0);
	if (n == 0)
		return;
	for (int e = 0; e < 3; e++)
		c[e] /= (double)n;
	double dcen = sqrt((c[0] - 0.5) * (c[0] - 0.5) + (c[1] - 0.5) * (c[1] - 0.5) +
			   (c[2] - 0.5) * (c[2] - 0.5));
	/* components (6-neighbours) */
	int ncomp = 0;
	long largest = 0;
	for (int i = 0; i < G; i++)
		for (int j = 0; j < G; j++)
			for (int k = 0; k < G; k++) {
				if (!ok[i][j][k] || lab[i][j][k])
					continue;
				ncomp++;
				long size = 0;
				int sp = 0;
				stack[sp][0] = i, stack[sp][1] = j, stack[sp][2] = k, sp++;
				lab[i][j][k] = ncomp;
				while (sp) {
					sp--;
					int p[3] = {stack[sp][0], stack[sp][1], stack[sp][2]};
					size++;
					for (int q = 0; q < 6; q++) {
						int v[3] = {p[0], p[1], p[2]};
						v[q / 2] += q % 2 ? 1 : -1;
						if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[0] >= G ||
						    v[1] >= G || v[2] >= G ||
						    !ok[v[0]][v[1]][v[2]] || lab[v[0]][v[1]][v[2]])
							continue;
						lab[v[0]][v[1]][v[2]] = ncomp;
						stack[sp][0] = v[0], stack[sp][1] = v[1],
						stack[sp][2] = v[2], sp++;
					}
				}
				largest = size > largest ? size : largest;
			}
	printf("target region: %.2f %% of the (log flow, log speed, T) box, centroid %.2f %.2f "
	       "%.2f (%.2f from the centre), nearest corner %.2f, %d component(s), largest "
	       "%.1f %%\n",
	       100.0 * (double)n / (G * G * G), c[0], c[1], c[2], dcen, corner_min, ncomp,
	       100.0 * (double)largest / (double)n);
	CHECK((double)n / (G * G * G) > 0.002 && (double)n / (G * G * G) < 0.05);
	/* one region: grid cells cut off from it only where the thin spacing band crosses a
	 * cell diagonally */
	CHECK((double)largest / (double)n > 0.97);
	CHECK(dcen > 0.15);
	CHECK(corner_min > 0.2);
	struct bl_film_recipe rc = recipe(c[0], c[1], c[2]);
	struct bl_film_morph mc = eval(rc);
	printf(
	    "at the centroid: flow %.1f uL/min, speed %.2f mm/s, T %.1f C -> d %.2f nm, S %.3f\n",
	    rc.flow_ul_min, rc.speed_mm_s, rc.temp_c, mc.spacing_nm, mc.orientation);
	CHECK(bl_film_meets_target(&mc));
}

static void test_noise(void)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, 3);
	struct bl_film_recipe rc = {30, 2, 80};
	struct bl_film_morph t = eval(rc);
	CHECK(t.orientation > 0.2 && t.orientation < 0.8); /* no clipping at 0 or 1 */
	enum { N = 40000 };
	double s1 = 0, s2 = 0, o1 = 0, o2 = 0;
	for (int i = 0; i < N; i++) {
		struct bl_film_morph m;
		CHECK_EQ_INT(bl_film_morph(&rc, r, &m), 0);
		double e = m.spacing_nm / t.spacing_nm - 1, f = m.orientation - t.orientation;
		s1 += e, s2 += e * e, o1 += f, o2 += f * f;
	}
	double sm = s1 / N, ssd = sqrt(s2 / N - sm * sm), om = o1 / N, osd = sqrt(o2 / N - om * om);
	printf("noise: spacing %.4f (rel. sd, stated %.2f), orientation %.4f (sd, stated %.2f)\n",
	       ssd, BL_FILM_NOISE_SPACING, osd, BL_FILM_NOISE_ORIENTATION);
	/* the sd of a sample sd of N normal draws is sd / sqrt(2N) = 0.35 %: 3 % is ~8 sigma */
	CHECK(fabs(ssd / BL_FILM_NOISE_SPACING - 1) < 0.03);
	CHECK(fabs(osd / BL_FILM_NOISE_ORIENTATION - 1) < 0.03);
	CHECK(fabs(sm) < 5 * BL_FILM_NOISE_SPACING / sqrt(N));
	CHECK(fabs(om) < 5 * BL_FILM_NOISE_ORIENTATION / sqrt(N));
	/* the same seed, the same prints */
	gsl_rng_set(r, 42);
	struct bl_film_morph a, b;
	bl_film_morph(&rc, r, &a);
	gsl_rng_set(r, 42);
	bl_film_morph(&rc, r, &b);
	CHECK(a.spacing_nm == b.spacing_nm && a.orientation == b.orientation);
	gsl_rng_free(r);
}

static void test_errors(void)
{
	struct bl_film_morph m;
	struct bl_film_recipe bad[3] = {{0, 1, 50}, {10, -1, 50}, {10, 1, NAN}};
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(bl_film_morph(&bad[i], NULL, &m), -EINVAL);
	CHECK_EQ_INT(bl_film_morph(NULL, NULL, &m), -EINVAL);
	CHECK(!bl_film_meets_target(NULL));
}

int main(int argc, char **argv)
{
	const char *src = argc > 1 ? argv[1] : ".";
	char path[4096];
	snprintf(path, sizeof(path), "%s/hwdb/beamlines/sim.yaml", src);
	struct bl_hwdb *db;
	struct bl_hwdb_errors errs;
	if (bl_hwdb_load(path, &db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return 1;
	}
	lo[0] = db->printer.flow_ul_min.min, hi[0] = db->printer.flow_ul_min.max;
	lo[1] = db->printer.coat_speed_mm_s.min, hi[1] = db->printer.coat_speed_mm_s.max;
	lo[2] = db->printer.temperature_c.min, hi[2] = db->printer.temperature_c.max;
	bl_hwdb_free(db);
	test_deterministic_smooth();
	test_trends();
	test_target_region();
	test_noise();
	test_errors();
	return CHECK_DONE();
}
