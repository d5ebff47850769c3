/* film_morph.h: the simulated printer's film morphology: domain spacing, orientation order and
 * crystallinity of a slot-die coated block-copolymer film as a smooth function of the recipe (ink
 * flow, coating speed, substrate temperature), with seeded run-to-run noise. The ground truth the
 * closed-loop printing campaign searches; the decision policy never sees it. */
#ifndef BL_FILM_MORPH_H
#define BL_FILM_MORPH_H

#include <gsl/gsl_rng.h>

#include "det_render.h"

/* One print's recipe, in the units of hwdb `printer:` (flow_ul_min, coat_speed_mm_s,
 * temperature_c). */
struct bl_film_recipe {
	double flow_ul_min;
	double speed_mm_s;
	double temp_c;
};

/* What the print gives. The *_nm / orientation / crystallinity fields are what an ideal analysis
 * would measure (with the run-to-run noise when it was asked for); FILM is what the simulated
 * detector renders (bl_det_render) for it. */
struct bl_film_morph {
	double wet_um;	      /* wet film thickness behind the die */
	double dry_s;	      /* drying time (wet thickness / evaporation rate) */
	double spacing_nm;    /* domain spacing d */
	double orientation;   /* orientation order parameter, 0 (isotropic) .. 1 (aligned) */
	double crystallinity; /* crystalline fraction, 0..1 */
	struct bl_det_film film;
};

/* Run-to-run noise (1 sigma): multiplicative on spacing (1 %), correlation length (5 %), Guinier
 * radius (2 %); additive on orientation (0.02) and crystallinity (0.02), clipped to [0, 1]. */
#define BL_FILM_NOISE_SPACING	    0.01
#define BL_FILM_NOISE_CORR	    0.05
#define BL_FILM_NOISE_RG	    0.02
#define BL_FILM_NOISE_ORIENTATION   0.02
#define BL_FILM_NOISE_CRYSTALLINITY 0.02

/* The user's default goal for the printing campaign: spacing 32 nm +- 2 % with orientation order
 * above 0.7 (drivers/detector/README.md). */
#define BL_FILM_TARGET_SPACING_NM  32.0
#define BL_FILM_TARGET_TOL	   0.02
#define BL_FILM_TARGET_ORIENTATION 0.7

/* The morphology of recipe R: noise-free when RNG is NULL, else one print's draw from RNG.
 * 0, or -EINVAL (NULL arguments, flow or speed not > 0, temperature not finite). */
int bl_film_morph(const struct bl_film_recipe *r, gsl_rng *rng, struct bl_film_morph *out);

/* Whether M meets the default goal (spacing within +-2 % of 32 nm, orientation > 0.7). */
int bl_film_meets_target(const struct bl_film_morph *m);

#endif
