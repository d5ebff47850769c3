/* analyze_frame.c: one forwarded frame through decode -> 1D reduction -> peaks, and its result
 * JSON; buffers and the reduction plan are kept between frames (nothing allocated per frame
 * while shape and geometry stay). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyze_int.h"
#include "bl_analyze.h"
#include "bl_dstream.h"

struct bl_an_worker {
	struct bl_an_config c;
	struct bl_reduce_geometry geo; /* of the plan */
	enum bl_dtype type;
	struct bl_reduce_plan *plan;
	void *pix, *scratch;
	size_t pix_cap;
	double *q, *sig, *norm, *mean, *sem;
	struct bl_peak1d *peaks;
	struct an_fit *fit;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int bl_an_worker_new(struct bl_an_worker **out, const struct bl_an_config *c)
{
	struct bl_an_worker *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->c = *c;
	if (w->c.nbins <= 0)
		w->c.nbins = 1000;
	if (w->c.max_peaks <= 0)
		w->c.max_peaks = 8;
	if (w->c.nsigma <= 0)
		w->c.nsigma = 5;
	size_t nb = (size_t)w->c.nbins;
	w->q = malloc(nb * sizeof(double));
	w->sig = malloc(nb * sizeof(double));
	w->norm = malloc(nb * sizeof(double));
	w->mean = malloc(nb * sizeof(double));
	w->sem = malloc(nb * sizeof(double));
	w->peaks = malloc((size_t)w->c.max_peaks * sizeof(*w->peaks));
	w->scratch = malloc(BL_DCODEC_SCRATCH);
	if (!w->q || !w->sig || !w->norm || !w->mean || !w->sem || !w->peaks || !w->scratch) {
		bl_an_worker_free(w);
		return -ENOMEM;
	}
	*out = w;
	return 0;
}

void bl_an_worker_free(struct bl_an_worker *w)
{
	if (!w)
		return;
	bl_reduce_plan_free(w->plan);
	an_fit_free(w->fit);
	free(w->pix);
	free(w->scratch);
	free(w->q);
	free(w->sig);
	free(w->norm);
	free(w->mean);
	free(w->sem);
	free(w->peaks);
	free(w);
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The geometry and shape of TAG into G; 0 or -EBADMSG. */
static int tag_geometry(const cJSON *tag, struct bl_reduce_geometry *g, enum bl_dtype *type,
			enum bl_denc *enc)
{
	const cJSON *gj = cJSON_GetObjectItemCaseSensitive(tag, "geometry");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(tag, "shape");
	const cJSON *ty = cJSON_GetObjectItemCaseSensitive(tag, "type");
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(tag, "encoding");
	if (!gj || cJSON_GetArraySize(sh) != 2 || !cJSON_IsString(ty) || !cJSON_IsString(en) ||
	    bl_dtype_parse(ty->valuestring, type) || bl_denc_parse(en->valuestring, enc))
		return -EBADMSG;
	*g = (struct bl_reduce_geometry){
	    .nrows = cJSON_GetArrayItem(sh, 0)->valueint,
	    .ncols = cJSON_GetArrayItem(sh, 1)->valueint,
	    .pixel_x_um = num(gj, "pixel_x_um"),
	    .pixel_y_um = num(gj, "pixel_y_um"),
	    .distance_mm = num(gj, "distance_mm"),
	    .beam_center_x_px = num(gj, "beam_center_x_px"),
	    .beam_center_y_px = num(gj, "beam_center_y_px"),
	    .wavelength_nm = num(gj, "wavelength_nm"),
	    .incidence_deg = num(gj, "incidence_deg"),
	};
	if (g->nrows <= 0 || g->ncols <= 0 || g->nrows > 65536 || g->ncols > 65536 ||
	    !(g->pixel_x_um > 0) || !(g->pixel_y_um > 0) || !(g->distance_mm > 0) ||
	    !(g->wavelength_nm > 0) || !isfinite(g->beam_center_x_px) ||
	    !isfinite(g->beam_center_y_px))
		return -EBADMSG;
	if (!isfinite(g->incidence_deg))
		g->incidence_deg = 0;
	return 0;
}

static bool same_geometry(const struct bl_reduce_geometry *a, const struct bl_reduce_geometry *b)
{
	return a->nrows == b->nrows && a->ncols == b->ncols && a->pixel_x_um == b->pixel_x_um &&
	       a->pixel_y_um == b->pixel_y_um && a->distance_mm == b->distance_mm &&
	       a->beam_center_x_px == b->beam_center_x_px &&
	       a->beam_center_y_px == b->beam_center_y_px && a->wavelength_nm == b->wavelength_nm;
}

/* A plan for G (dynamic mask: the dtype's maximum is a gap or saturated pixel, as
 * `beamloop reduce` does), and the pixel buffer. */
static int replan(struct bl_an_worker *w, const struct bl_reduce_geometry *g, enum bl_dtype t)
{
	if (w->plan && same_geometry(&w->geo, g) && w->type == t)
		return 0;
	bl_reduce_plan_free(w->plan);
	w->plan = NULL;
	size_t need = (size_t)g->nrows * (size_t)g->ncols * (size_t)t;
	if (need > w->pix_cap) {
		free(w->pix);
		w->pix = malloc(need);
		w->pix_cap = w->pix ? need : 0;
		if (!w->pix)
			return -ENOMEM;
	}
	struct bl_reduce_config rc = {
	    .unit = BL_REDUCE_Q_NM,
	    .split = BL_REDUCE_SPLIT_NONE,
	    .nbins = w->c.nbins,
	    .solid_angle = true,
	    .mask_negative = true,
	    .saturation = t == BL_DTYPE_UINT16 ? 65535.0 : 4294967295.0,
	};
	int rc2 = bl_reduce_plan_create(g, &rc, &w->plan);
	if (rc2)
		return rc2;
	w->geo = *g;
	w->type = t;
	return 0;
}

int bl_an_frame(struct bl_an_worker *w, const char *tag_txt, size_t tag_len, const void *chunk,
		size_t len, struct bl_an_result *out, char *err, size_t errsz)
{
	double t0 = now_ms();
	cJSON *tag = cJSON_ParseWithLength(tag_txt, tag_len);
	struct bl_reduce_geometry g;
	enum bl_dtype type;
	enum bl_denc enc;
	int rc = tag ? tag_geometry(tag, &g, &type, &enc) : -EBADMSG;
	if (rc) {
		snprintf(err, errsz, "tag without a usable shape, type, encoding or geometry");
		cJSON_Delete(tag);
		return rc;
	}
	rc = replan(w, &g, type);
	if (rc) {
		snprintf(err, errsz, "no reduction plan for this geometry (%s)", strerror(-rc));
		cJSON_Delete(tag);
		return rc;
	}
	size_t nelem = (size_t)g.nrows * (size_t)g.ncols;
	rc = bl_dcodec_decode(enc, chunk, len, w->pix, nelem, (size_t)type, w->scratch,
			      BL_DCODEC_SCRATCH);
	double t1 = now_ms();
	if (rc) {
		snprintf(err, errsz, "frame does not decode (%s)", strerror(-rc));
		cJSON_Delete(tag);
		return -EBADMSG;
	}
	struct bl_reduce_result r = {
	    .radial = w->q, .signal = w->sig, .norm = w->norm, .mean = w->mean, .sem = w->sem};
	rc = bl_reduce_integrate1d_dtype(
	    w->plan, w->pix, type == BL_DTYPE_UINT16 ? BL_REDUCE_U16 : BL_REDUCE_U32, 1.0, &r);
	double t2 = now_ms();
	int np = rc ? rc
		    : bl_peak1d_find(w->q, w->mean, w->sem, w->c.nbins,
				     &(struct bl_peak1d_config){.nsigma = w->c.nsigma}, w->peaks,
				     w->c.max_peaks);
	double t3 = now_ms();
	struct an_fit_out fo;
	int frc = -ENOENT;
	if (!rc && w->c.fit && g.incidence_deg > 0)
		frc = an_fit_frame(&w->fit, &g, !w->c.up_increasing_row, w->pix, (int)type, &fo);
	double t4 = now_ms();
	if (rc) {
		snprintf(err, errsz, "reduction failed (%s)", strerror(-rc));
		cJSON_Delete(tag);
		return rc;
	}
	cJSON *o = cJSON_CreateObject();
	static const char *const echo[] = {"series", "frame", "path", "index", "stored_us"};
	for (size_t i = 0; i < sizeof(echo) / sizeof(echo[0]); i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(tag, echo[i]);
		if (v)
			cJSON_AddItemToObject(o, echo[i], cJSON_Duplicate(v, 1));
	}
	cJSON_AddStringToObject(o, "worker", w->c.who ? w->c.who : "");
	cJSON *pr = cJSON_AddObjectToObject(o, "profile");
	cJSON_AddStringToObject(pr, "unit", "q_nm^-1");
	cJSON_AddNumberToObject(pr, "nbins", w->c.nbins);
	cJSON *pk = cJSON_AddArrayToObject(o, "peaks");
	for (int i = 0; i < np && i < w->c.max_peaks; i++) {
		const struct bl_peak1d *p = &w->peaks[i];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddNumberToObject(e, "pos", p->pos);
		cJSON_AddNumberToObject(e, "pos_err", p->pos_err);
		cJSON_AddNumberToObject(e, "fwhm", p->fwhm);
		cJSON_AddNumberToObject(e, "fwhm_err", p->fwhm_err);
		cJSON_AddNumberToObject(e, "area", p->area);
		cJSON_AddNumberToObject(e, "area_err", p->area_err);
		cJSON_AddNumberToObject(e, "d", p->d);
		cJSON_AddNumberToObject(e, "d_err", p->d_err);
		cJSON_AddItemToArray(pk, e);
	}
	if (np < 0)
		cJSON_AddNumberToObject(o, "peaks_error", np);
	if (!frc) {
		cJSON *fj = cJSON_AddObjectToObject(o, "fit");
		cJSON_AddStringToObject(fj, "model",
					"cylinders on a radial paracrystal (yoneda cut)");
		static const char *const names[] = {"spacing_nm", "corr_len_nm", "radius_nm",
						    "scale", "background"};
		const double v[] = {fo.spacing_nm, fo.corr_len_nm, fo.radius_nm, fo.scale,
				    fo.background};
		const double e[] = {fo.spacing_err, fo.corr_len_err, fo.radius_err, fo.scale_err,
				    fo.background_err};
		cJSON *jn = cJSON_AddArrayToObject(fj, "names");
		cJSON *jv = cJSON_AddArrayToObject(fj, "values");
		cJSON *je = cJSON_AddArrayToObject(fj, "errors");
		for (int i = 0; i < 5; i++) {
			cJSON_AddItemToArray(jn, cJSON_CreateString(names[i]));
			cJSON_AddItemToArray(jv, cJSON_CreateNumber(v[i]));
			cJSON_AddItemToArray(je, cJSON_CreateNumber(isfinite(e[i]) ? e[i] : -1));
		}
		cJSON_AddNumberToObject(fj, "chi2_red", fo.chi2_red);
		cJSON_AddNumberToObject(fj, "evaluations", (double)fo.nevals);
		cJSON_AddNumberToObject(o, "orientation", fo.orientation);
	} else if (frc != -ENOENT) {
		cJSON_AddNumberToObject(o, "fit_error", frc);
	}
	out->t = (struct bl_an_timing){.decode_ms = t1 - t0,
				       .reduce_ms = t2 - t1,
				       .peaks_ms = t3 - t2,
				       .fit_ms = t4 - t3,
				       .total_ms = now_ms() - t0};
	cJSON *tm = cJSON_AddObjectToObject(o, "timings_ms");
	cJSON_AddNumberToObject(tm, "decode", out->t.decode_ms);
	cJSON_AddNumberToObject(tm, "reduce", out->t.reduce_ms);
	cJSON_AddNumberToObject(tm, "peaks", out->t.peaks_ms);
	cJSON_AddNumberToObject(tm, "fit", out->t.fit_ms);
	cJSON_AddNumberToObject(tm, "total", out->t.total_ms);
	out->json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	cJSON_Delete(tag);
	if (!out->json)
		return -ENOMEM;
	out->nbins = w->c.nbins;
	out->q = w->q;
	out->mean = w->mean;
	out->sem = w->sem;
	return 0;
}
