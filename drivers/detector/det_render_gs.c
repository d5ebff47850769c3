/* det_render_gs.c: the simulated detector's GISAXS picture from the project's own forward model
 * (kernels/ bl_gisaxs.h, DWBA): the film's domains as cylinders on a radial paracrystal. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bl_gisaxs.h"
#include "det_render.h"

struct bl_det_gs {
	struct bl_gs_plan *plan;
	double *out;
	uint8_t *mask;
	struct bl_gs_sample base;
};

bool bl_det_masked(const struct bl_det_geom *g, int x, int y)
{
	double bx = x + 0.5 - g->beam_x, by = y + 0.5 - g->beam_y;
	if (bx * bx + by * by < g->beamstop_px * g->beamstop_px)
		return true;
	if (!g->module_w || !g->module_h)
		return false;
	return x % (g->module_w + g->gap_x) >= g->module_w ||
	       y % (g->module_h + g->gap_y) >= g->module_h;
}

void bl_det_film_to_gisaxs(const struct bl_det_film *f, struct bl_gs_sample *s)
{
	bl_gs_sample_default(s);
	/* a cylinder as high as it is wide has Rg^2 = R^2 / 2 + H^2 / 12 = 7 R^2 / 12 */
	double r = f->rg_nm > 0 ? f->rg_nm * sqrt(12.0 / 7.0) : 0.3 * f->spacing_nm;
	if (r > 0.45 * f->spacing_nm)
		r = 0.45 * f->spacing_nm; /* domains do not overlap */
	s->shape = BL_GS_CYLINDER;
	s->radius_nm = r;
	s->height_nm = r;
	s->radius_sigma_nm = 0.1 * r;
	s->size_points = 7;
	s->sf = BL_GS_SF_RADIAL_PARA;
	s->spacing_nm = f->spacing_nm;
	s->omega_nm = 0.15 * f->spacing_nm;
	s->damping_length_nm = f->corr_len_nm;
	s->scale = 1;
	s->background = 0;
	s->norm = BL_GS_NORM_NONE;
}

int bl_det_gs_new(struct bl_det_gs **out, const struct bl_det_geom *g)
{
	struct bl_det_gs *r = calloc(1, sizeof(*r));
	size_t n = (size_t)g->width * (size_t)g->height;
	if (!r || !(r->out = malloc(n * sizeof(double))) || !(r->mask = malloc(n))) {
		bl_det_gs_free(r);
		return -ENOMEM;
	}
	/* The film's "up" is towards decreasing row here (the beam sits near the frame's last
	 * row, as hwdb's sim beamline and the analytic renderer have it); bl_gi.h's frame has it
	 * towards increasing row. So the plan is made for the frame flipped upside down (beam
	 * centre mirrored) and rows are flipped back when the counts are written. */
	for (int y = 0; y < g->height; y++)
		for (int x = 0; x < g->width; x++)
			r->mask[(size_t)(g->height - 1 - y) * (size_t)g->width + (size_t)x] =
			    bl_det_masked(g, x, y);
	struct bl_reduce_geometry rg = {
	    .nrows = g->height,
	    .ncols = g->width,
	    .pixel_x_um = g->pixel_mm * 1e3,
	    .pixel_y_um = g->pixel_mm * 1e3,
	    .distance_mm = g->distance_mm,
	    .beam_center_x_px = g->beam_x,
	    .beam_center_y_px = g->height - g->beam_y,
	    .wavelength_nm = g->wavelength_nm,
	    .incidence_deg = g->incidence_deg > 0 ? g->incidence_deg : 0.2,
	};
	bl_det_film_to_gisaxs(&(struct bl_det_film){.spacing_nm = 20, .rg_nm = 5}, &r->base);
	int rc = bl_gs_plan_create_detector(&rg, r->mask, &r->base, &r->plan);
	if (rc) {
		bl_det_gs_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void bl_det_gs_free(struct bl_det_gs *r)
{
	if (!r)
		return;
	bl_gs_plan_free(r->plan);
	free(r->out);
	free(r->mask);
	free(r);
}

int bl_det_render_gisaxs(struct bl_det_gs *r, const struct bl_det_geom *g,
			 const struct bl_det_film *f, double count_time, float *mu)
{
	struct bl_gs_sample s;
	bl_det_film_to_gisaxs(f, &s);
	int rc = bl_gs_eval(r->plan, &s, r->out);
	if (rc)
		return rc;
	size_t n = (size_t)g->width * (size_t)g->height;
	double peak = 0;
	for (size_t i = 0; i < n; i++)
		if (!r->mask[i] && r->out[i] > peak)
			peak = r->out[i];
	/* the brightest pixel gets flux x contrast counts per second; then the flat background */
	double k = peak > 0 ? f->flux * f->ring_contrast / peak : 0;
	for (int y = 0; y < g->height; y++) {
		size_t src = (size_t)(g->height - 1 - y) * (size_t)g->width;
		float *row = mu + (size_t)y * (size_t)g->width;
		for (int x = 0; x < g->width; x++)
			row[x] = r->mask[src + (size_t)x]
				     ? 0.0f
				     : (float)((k * r->out[src + (size_t)x] + f->background) *
					       count_time);
	}
	return 0;
}
