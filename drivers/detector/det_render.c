/* det_render.c: an analytic GISAXS frame (Guinier form factor times a Lorentzian structure-factor
 * ring, Yoneda band, specular spot, horizon) and its Poisson sampling, for the simulated detector.
 */
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdbool.h>

#include "det_render.h"

#define DEG (M_PI / 180.0)

struct bl_det_film bl_det_film_default(void)
{
	return (struct bl_det_film){.spacing_nm = 20.0,
				    .corr_len_nm = 100.0,
				    .rg_nm = 5.0,
				    .critical_deg = 0.10,
				    .flux = 1e4,
				    .ring_contrast = 10.0,
				    .background = 0.5};
}

double bl_det_q(const struct bl_det_geom *g, double x, double y)
{
	double dx = (x - g->beam_x) * g->pixel_mm, dy = (g->beam_y - y) * g->pixel_mm;
	double two_theta = atan(sqrt(dx * dx + dy * dy) / g->distance_mm);
	return 4.0 * M_PI / g->wavelength_nm * sin(two_theta / 2.0);
}

double bl_det_ring_px(const struct bl_det_geom *g, double q)
{
	double two_theta = 2.0 * asin(q * g->wavelength_nm / (4.0 * M_PI));
	return g->distance_mm * tan(two_theta) / g->pixel_mm;
}

/* Counts per second scattered into the direction of detector point (X, Y) in pixels. */
static double intensity(const struct bl_det_geom *g, const struct bl_det_film *f, double x,
			double y)
{
	double dx = (x - g->beam_x) * g->pixel_mm, dy = (g->beam_y - y) * g->pixel_mm;
	double ai = g->incidence_deg * DEG, ac = f->critical_deg * DEG;
	double af = atan(dy / g->distance_mm) - ai; /* exit angle above the film's surface */
	double q = bl_det_q(g, x, y), q0 = 2.0 * M_PI / f->spacing_nm;
	double guinier = exp(-q * q * f->rg_nm * f->rg_nm / 3.0);
	double u = (q - q0) * f->corr_len_nm;
	double s = 1.0 + f->ring_contrast / (1.0 + u * u);
	double i = f->flux * guinier * s;
	if (af < 0) {
		i *= 0.02; /* below the horizon the film shadows the scattering */
	} else {
		double w = 0.3 * ac + 0.01 * DEG;
		double y_band = (af - ac) / w;
		i *=
		    1.0 + 2.0 * exp(-y_band * y_band); /* Yoneda: enhanced at af = critical angle */
	}
	/* specular reflection: a spot at af = ai in the plane of incidence */
	double sx = dx / g->pixel_mm, sy = (af - ai) * g->distance_mm / g->pixel_mm;
	i += 20.0 * f->flux * exp(-(sx * sx + sy * sy) / (2.0 * 1.5 * 1.5));
	return i + f->background;
}

void bl_det_render(const struct bl_det_geom *g, const struct bl_det_film *f, double count_time,
		   float *mu)
{
	/* binned (small) frames average their pixel over sub-samples so the ring stays visible */
	int ss = (int)ceil(g->pixel_mm / 0.172 - 1e-9);
	ss = ss < 1 ? 1 : ss > 8 ? 8 : ss;
	for (int y = 0; y < g->height; y++) {
		for (int x = 0; x < g->width; x++) {
			float *m = &mu[(size_t)y * (size_t)g->width + (size_t)x];
			if (bl_det_masked(g, x, y)) {
				*m = 0;
				continue;
			}
			double sum = 0;
			for (int j = 0; j < ss; j++)
				for (int i = 0; i < ss; i++)
					sum +=
					    intensity(g, f, x + (i + 0.5) / ss, y + (j + 0.5) / ss);
			*m = (float)(sum / (ss * ss) * count_time);
		}
	}
}

void bl_det_sample(gsl_rng *rng, const float *mu, size_t n, int elem, void *out)
{
	uint16_t *o16 = out;
	uint32_t *o32 = out;
	for (size_t i = 0; i < n; i++) {
		unsigned k = mu[i] > 0 ? gsl_ran_poisson(rng, mu[i]) : 0;
		if (elem == 2)
			o16[i] = k > UINT16_MAX ? UINT16_MAX : (uint16_t)k;
		else
			o32[i] = k;
	}
}
