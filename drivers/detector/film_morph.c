/* film_morph.c: the simulated printer's film morphology (slot-die coated block copolymer) as a
 * smooth function of ink flow, coating speed and substrate temperature, with seeded noise. The
 * model and its constants are described in drivers/detector/README.md ("Printed film"). */
#include <errno.h>
#include <gsl/gsl_randist.h>
#include <math.h>

#include "film_morph.h"

/* Slot-die: width of the coated stripe (mm). */
#define DIE_WIDTH_MM 20.0
/* Solvent evaporation rate: E(T) = E20 exp((T - 20) / EVAP_T) um/s (Clausius-Clapeyron-like). */
#define EVAP20_UM_S 0.3
#define EVAP_T	    35.0
/* Spacing: kinetically trapped swollen domains, d_lo .. d_hi with the drying time (s),
 * sigmoid in ln(dry time) centred on DRY_HALF with width DRY_W; times (T / T_REF)^(-1/6) from
 * chi(T) ~ 1/T (strong segregation, d ~ chi^(1/6)). */
#define D_LO	 20.0
#define D_HI	 46.0
#define DRY_HALF 8.0
#define DRY_W	 2.5
#define T_REF_K	 353.15
/* Orientation: annealing window in temperature (above Tg, below the order-disorder transition),
 * substrate field lost in thick films, dewetting of very thin ones, shear alignment with an
 * optimum coating speed. */
#define S_MAX	0.97
#define T_OPT	112.0
#define T_WIDTH 40.0
#define H_THICK 120.0
#define H_THIN	0.6
#define V_OPT	2.0
#define V_WIDTH 1.2
#define V_SHEAR 0.5
/* Crystallinity: Avrami-like growth during drying, rate up with temperature until melting. */
#define X_MAX	 0.85
#define X_TAU_S	 15.0
#define X_T_MELT 145.0

static double sigmoid(double z)
{
	return 1.0 / (1.0 + exp(-z));
}

static double clip01(double v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

int bl_film_morph(const struct bl_film_recipe *r, gsl_rng *rng, struct bl_film_morph *out)
{
	if (!r || !out || !(r->flow_ul_min > 0) || !(r->speed_mm_s > 0) || !isfinite(r->temp_c) ||
	    !isfinite(r->flow_ul_min) || !isfinite(r->speed_mm_s))
		return -EINVAL;
	double q = r->flow_ul_min, v = r->speed_mm_s, t = r->temp_c;
	/* Mass balance behind the die: Q = h w v, Q in mm^3/min. */
	double h = q / 60.0 / (DIE_WIDTH_MM * v) * 1000.0;
	double evap = EVAP20_UM_S * exp((t - 20.0) / EVAP_T);
	double dry = h / evap;

	double s_dry = sigmoid(log(dry / DRY_HALF) / DRY_W);
	double d = (D_LO + (D_HI - D_LO) * s_dry) * pow((t + 273.15) / T_REF_K, -1.0 / 6.0);

	double u = (t - T_OPT) / T_WIDTH;
	double f_t = exp(-u * u);
	double f_h = sigmoid(log(h / H_THIN) / 0.5) / (1.0 + (h / H_THICK) * (h / H_THICK));
	double lv = log(v / V_OPT) / V_WIDTH;
	double f_v = 1.0 - V_SHEAR + V_SHEAR * exp(-0.5 * lv * lv);
	double s = S_MAX * f_t * f_h * f_v;

	double rate = sigmoid((t - 40.0) / 15.0) * sigmoid((X_T_MELT - t) / 5.0);
	double x = X_MAX * (1.0 - exp(-rate * dry / X_TAU_S));

	double xi = d * (1.5 + 12.0 * s * s); /* ordered films: a long correlation length */
	double rg = 0.3 * d;
	if (rng) {
		d *= 1.0 + gsl_ran_gaussian(rng, BL_FILM_NOISE_SPACING);
		xi *= 1.0 + gsl_ran_gaussian(rng, BL_FILM_NOISE_CORR);
		rg *= 1.0 + gsl_ran_gaussian(rng, BL_FILM_NOISE_RG);
		s = clip01(s + gsl_ran_gaussian(rng, BL_FILM_NOISE_ORIENTATION));
		x = clip01(x + gsl_ran_gaussian(rng, BL_FILM_NOISE_CRYSTALLINITY));
	}
	out->wet_um = h;
	out->dry_s = dry;
	out->spacing_nm = d;
	out->orientation = s;
	out->crystallinity = x;
	out->film = bl_det_film_default();
	out->film.spacing_nm = d;
	out->film.corr_len_nm = xi;
	out->film.rg_nm = rg;
	/* a better ordered film shows a sharper, higher ring */
	out->film.ring_contrast = 2.0 + 18.0 * s;
	return 0;
}

int bl_film_meets_target(const struct bl_film_morph *m)
{
	return m && fabs(m->spacing_nm / BL_FILM_TARGET_SPACING_NM - 1.0) <= BL_FILM_TARGET_TOL &&
	       m->orientation > BL_FILM_TARGET_ORIENTATION;
}
