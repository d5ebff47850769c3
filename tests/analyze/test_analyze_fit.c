/* test_analyze_fit.c: the analysis worker's GISAXS fit on frames the simulated detector renders
 * (bl_det_render_gisaxs + Poisson) for known films: spacing within 2 % (and its 3 sigma), the
 * orientation order's ranking, and a frame without an incidence angle left unfitted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "bl_analyze.h"
#include "bl_dstream.h"
#include "det_render.h"
#include "film_morph.h"

#define WD 981
#define HT 1043

static const struct bl_det_geom geom = {.width = WD,
					.height = HT,
					.pixel_mm = 0.172,
					.beam_x = 490.5,
					.beam_y = 980,
					.distance_mm = 3500,
					.wavelength_nm = 0.12398,
					.incidence_deg = 0.16,
					.module_w = 487,
					.module_h = 195,
					.gap_x = 7,
					.gap_y = 17,
					.beamstop_px = 2.0 / 0.172};

static float mu[WD * HT];
static uint32_t pix[WD * HT];
static uint8_t enc[WD * HT * 5];

/* One frame of FILM, its fit result JSON (caller deletes). */
static cJSON *analyse(struct bl_an_worker *w, struct bl_det_gs *gs, const struct bl_det_film *film,
		      gsl_rng *rng, const char *incidence)
{
	CHECK_EQ_INT(bl_det_render_gisaxs(gs, &geom, film, 0.5, mu), 0);
	bl_det_sample(rng, mu, (size_t)WD * HT, 4, pix);
	size_t len = 0;
	CHECK_EQ_INT(
	    bl_dcodec_encode(BL_DENC_BS32_LZ4, pix, (size_t)WD * HT, 4, enc, sizeof(enc), &len), 0);
	char tag[512];
	snprintf(
	    tag, sizeof(tag),
	    "{\"series\":1,\"frame\":0,\"path\":\"x\",\"index\":0,\"shape\":[%d,%d],"
	    "\"type\":\"uint32\",\"encoding\":\"bs32-lz4<\",\"geometry\":{\"distance_mm\":3500,"
	    "\"pixel_x_um\":172,\"pixel_y_um\":172,\"beam_center_x_px\":490.5,"
	    "\"beam_center_y_px\":980,\"wavelength_nm\":0.12398%s}}",
	    HT, WD, incidence);
	struct bl_an_result r;
	char err[256];
	int rc = bl_an_frame(w, tag, strlen(tag), enc, len, &r, err, sizeof(err));
	CHECK_EQ_INT(rc, 0);
	if (rc) {
		fprintf(stderr, "  %s\n", err);
		return NULL;
	}
	cJSON *o = cJSON_Parse(r.json);
	cJSON_free(r.json);
	return o;
}

static double fitted(const cJSON *o, int k, double *err)
{
	const cJSON *fit = cJSON_GetObjectItemCaseSensitive(o, "fit");
	*err = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(fit, "errors"), k)->valuedouble;
	return cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(fit, "values"), k)->valuedouble;
}

int main(void)
{
	struct bl_an_worker *w = NULL;
	CHECK_EQ_INT(bl_an_worker_new(&w, &(struct bl_an_config){.nbins = 500, .fit = true}), 0);
	struct bl_det_gs *gs = NULL;
	CHECK_EQ_INT(bl_det_gs_new(&gs, &geom), 0);
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(rng, 7);
	/* a well ordered film at the target spacing and a poorly ordered one */
	const struct bl_film_recipe rec[2] = {{59, 2.0, 109}, {20, 8.0, 40}};
	double orient[2] = {0, 0};
	for (int k = 0; k < 2; k++) {
		struct bl_film_morph m;
		CHECK_EQ_INT(bl_film_morph(&rec[k], NULL, &m), 0);
		m.film.model = BL_DET_GISAXS;
		cJSON *o = analyse(w, gs, &m.film, rng, ",\"incidence_deg\":0.16");
		if (!o)
			continue;
		double de, xe, d = fitted(o, 0, &de), xi = fitted(o, 1, &xe);
		orient[k] = cJSON_GetObjectItemCaseSensitive(o, "orientation")->valuedouble;
		double ms = cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(o, "timings_ms"), "fit")
				->valuedouble;
		fprintf(stderr,
			"  film d %.2f xi %.1f s %.2f: fitted d %.2f +- %.2f, xi %.1f +- %.1f, "
			"orientation %.2f, chi2_red %.2f, fit %.1f ms\n",
			m.spacing_nm, m.film.corr_len_nm, m.orientation, d, de, xi, xe, orient[k],
			cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "fit"),
							 "chi2_red")
			    ->valuedouble,
			ms);
		CHECK(fabs(d / m.spacing_nm - 1) < 0.02);
		CHECK(fabs(d - m.spacing_nm) < 3 * de + 0.002 * m.spacing_nm);
		cJSON_Delete(o);
	}
	CHECK(orient[0] > orient[1] + 0.2); /* the ordered film is told from the other */
	/* no incidence angle: no fit, the profile still comes */
	struct bl_det_film f = bl_det_film_default();
	f.model = BL_DET_GISAXS;
	cJSON *o = analyse(w, gs, &f, rng, "");
	CHECK(o && !cJSON_GetObjectItemCaseSensitive(o, "fit"));
	cJSON_Delete(o);
	gsl_rng_free(rng);
	bl_det_gs_free(gs);
	bl_an_worker_free(w);
	return CHECK_DONE();
}
