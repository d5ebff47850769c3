/* det_render.h: the simulated detector's picture: an analytic GISAXS pattern of a film and the
 * Poisson counting statistics of a frame. */
#ifndef BL_DET_RENDER_H
#define BL_DET_RENDER_H

#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stdint.h>

/* Where the detector sits (from hwdb `detector:` and the model's pixel size). */
struct bl_det_geom {
	int width, height;
	double pixel_mm;       /* square pixels */
	double beam_x, beam_y; /* direct beam on the detector, pixels */
	double distance_mm;    /* sample to detector */
	double wavelength_nm;
	double incidence_deg;	/* grazing angle of the beam on the film */
	int module_w, module_h; /* Pilatus module size, 0: no module gaps */
	int gap_x, gap_y;	/* gaps between modules, pixels */
	double beamstop_px;	/* radius of the beamstop shadow */
};

/* The film the frame looks at. A later issue swaps this renderer for the project's forward model;
 * these are the parameters the printer's morphology sets. */
struct bl_det_film {
	double spacing_nm;    /* domain spacing d: a ring at q = 2 pi / d */
	double corr_len_nm;   /* correlation length: the ring's width is 1 / xi */
	double rg_nm;	      /* Guinier radius of the particles/domains */
	double critical_deg;  /* critical angle of the film: Yoneda band at exit angle = it */
	double flux;	      /* counts/s/pixel at the Guinier plateau */
	double ring_contrast; /* structure-factor peak height over 1 */
	double background;    /* counts/s/pixel everywhere on the sensor */
	int model;	      /* BL_DET_RING (analytic, default) or BL_DET_GISAXS */
};

enum { BL_DET_RING = 0, BL_DET_GISAXS = 1 };

/* The default film (d = 20 nm, xi = 100 nm, Rg = 5 nm, alpha_c = 0.10 deg, 1e4 counts/s). */
struct bl_det_film bl_det_film_default(void);

/* Modulus of the scattering vector (nm^-1) at pixel (X, Y) (centres at integer + 0.5). */
double bl_det_q(const struct bl_det_geom *g, double x, double y);
/* Radius in pixels of the ring at Q from the direct beam. */
double bl_det_ring_px(const struct bl_det_geom *g, double q);

/* Writes the expected counts of every pixel for an exposure of COUNT_TIME seconds into MU
 * (width * height floats); gaps and the beamstop get 0. */
void bl_det_render(const struct bl_det_geom *g, const struct bl_det_film *f, double count_time,
		   float *mu);

/* GISAXS frames from the project's forward model (det_render_gs.c, kernels/ bl_gisaxs.h): the
 * film's domains are cylinders (height = diameter, radius from rg, 10 % polydisperse) on a
 * radial paracrystal of the film's spacing (disorder 0.15 d, damping length = corr_len) on Si,
 * seen at the geometry's incidence angle; the brightest pixel gets flux x ring_contrast counts/s,
 * plus the background. A plan per geometry, made once. The film's "up" is towards decreasing
 * row, as for the analytic ring (bl_gi.h's frame has it towards increasing row: flip the frame
 * upside down and mirror beam_y before using bl_gi on these frames). */
struct bl_gs_sample;
struct bl_det_gs;
bool bl_det_masked(const struct bl_det_geom *g, int x, int y); /* gap or beamstop */
void bl_det_film_to_gisaxs(const struct bl_det_film *f, struct bl_gs_sample *s);
int bl_det_gs_new(struct bl_det_gs **out, const struct bl_det_geom *g); /* 0, -ENOMEM, -EINVAL */
void bl_det_gs_free(struct bl_det_gs *r);
int bl_det_render_gisaxs(struct bl_det_gs *r, const struct bl_det_geom *g,
			 const struct bl_det_film *f, double count_time, float *mu);

/* Draws one frame: each pixel Poisson(mu), clipped to the type (ELEM 2 or 4 bytes). */
void bl_det_sample(gsl_rng *rng, const float *mu, size_t n, int elem, void *out);

#endif
