/* test_bo_film.c: the closed printing loop on the simulated printer: Bayesian optimisation
 * (bl_bo.h) of ink flow, coating speed and temperature within hwdb sim's printer limits reaches
 * the target (measured spacing 32 nm +- 2 %, orientation > 0.7, film_morph.h with its noise)
 * within 20 prints for fixed seeds, and the recipe it ends on meets the target without noise. */
#include <errno.h>
#include <math.h>
#include <stdio.h>

#include "bl_bo.h"

#ifdef BL_HAVE_GSL
#include "../check.h"
#include "bl_hwdb.h"
#include "film_morph.h"

#define BUDGET 20

int main(void)
{
	struct bl_hwdb *db;
	struct bl_hwdb_errors errs;
	if (bl_hwdb_load(BL_SOURCE_DIR "/hwdb/beamlines/sim.yaml", &db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return 1;
	}
	double lo[3] = {db->printer.flow_ul_min.min, db->printer.coat_speed_mm_s.min,
			db->printer.temperature_c.min};
	double hi[3] = {db->printer.flow_ul_min.max, db->printer.coat_speed_mm_s.max,
			db->printer.temperature_c.max};
	bl_hwdb_free(db);
	for (unsigned long seed = 1; seed <= 5; seed++) {
		struct bl_bo_config c = {
		    .n_out = 2,
		    .log_scale = {1, 1, 0},
		    .target = BL_FILM_TARGET_SPACING_NM,
		    .target_tol = BL_FILM_TARGET_TOL * BL_FILM_TARGET_SPACING_NM,
		    .n_constraints = 1,
		    .constraints = {{1, BL_FILM_TARGET_ORIENTATION, INFINITY}},
		    .warp = {BL_BO_WARP_NONE, BL_BO_WARP_LOGIT}, /* an order parameter in [0,1] */
		    .seed = seed};
		struct bl_bo *bo = bl_bo_new(3, lo, hi, BUDGET, &c);
		CHECK(bo != NULL);
		gsl_rng *noise = gsl_rng_alloc(gsl_rng_mt19937);
		gsl_rng_set(noise, 1000 + seed);
		int reached = 0;
		double x[3];
		for (int k = 1; bo && k <= BUDGET && !reached; k++) {
			struct bl_bo_info info;
			CHECK_EQ_INT(bl_bo_propose(bo, x, &info), 0);
			for (int d = 0; d < 3; d++)
				CHECK(x[d] >= lo[d] && x[d] <= hi[d]);
			struct bl_film_recipe r = {x[0], x[1], x[2]};
			struct bl_film_morph m;
			CHECK_EQ_INT(bl_film_morph(&r, noise, &m), 0);
			printf(
			    "seed %lu print %2d: flow %7.2f speed %6.3f T %6.1f -> d %6.2f S %.3f "
			    "(predicted %6.2f +- %.2f, %.3f +- %.3f)%s\n",
			    seed, k, x[0], x[1], x[2], m.spacing_nm, m.orientation, info.mean[0],
			    info.sd[0], info.mean[1], info.sd[1],
			    bl_film_meets_target(&m) ? "  TARGET" : "");
			if (bl_film_meets_target(&m)) {
				reached = k;
				break;
			}
			double y[2] = {m.spacing_nm, m.orientation};
			CHECK_EQ_INT(bl_bo_add(bo, x, y, NULL), 0);
		}
		CHECK(reached > 0);
		if (reached) {
			/* the recipe itself is on target, not a lucky draw far from it */
			struct bl_film_recipe r = {x[0], x[1], x[2]};
			struct bl_film_morph m;
			bl_film_morph(&r, NULL, &m);
			CHECK(fabs(m.spacing_nm / BL_FILM_TARGET_SPACING_NM - 1) < 0.04);
			CHECK(m.orientation > BL_FILM_TARGET_ORIENTATION - 0.06);
		}
		gsl_rng_free(noise);
		bl_bo_free(bo);
	}
	return CHECK_DONE();
}

#else

int main(void)
{
	printf("built without GSL: skipped\n");
	return 77;
}
#endif
