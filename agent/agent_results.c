/* agent_results.c: analysis results from the workers: handed to the decision layer as they come,
 * kept per file and written to the file's /entry/process once it is closed and complete. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"

#define MAX_PEAKS 8
#define MAX_FIT	  16
#define PKC	  8 /* columns of a peak row (bl_nx_process) */

struct agent_file_results {
	uint32_t file;
	bool closed, written;
	uint64_t rows, cap; /* rows: the file's frames (when closed) or the highest row seen + 1 */
	uint64_t received, last_us;
	int nbins, nfit;
	double *q;
	uint8_t *have;
	double *mean, *sem, *pk, *fv, *fe, *chi2, *tm, *lat, *scratch;
	int *npk;
	char model[64];
	char names[MAX_FIT][32];
};

static void file_free(struct agent_file_results *r)
{
	if (!r)
		return;
	free(r->q);
	free(r->have);
	free(r->mean);
	free(r->sem);
	free(r->pk);
	free(r->fv);
	free(r->fe);
	free(r->chi2);
	free(r->tm);
	free(r->lat);
	free(r->scratch);
	free(r->npk);
	free(r);
}

void agent_results_free(struct bl_agent *a)
{
	agent_results_flush(a, true);
	for (uint32_t i = 0; i < a->res_cap; i++)
		file_free(a->res[i]);
	free(a->res);
	a->res = NULL;
	a->res_cap = 0;
}

/* Grows array *P of N-element rows from OLD to CAP rows, filling new rows with FILL. */
static bool grow(double **p, uint64_t old, uint64_t cap, uint64_t n, double fill)
{
	if (!n)
		return true;
	double *q = realloc(*p, cap * n * sizeof(double));
	if (!q)
		return false;
	for (uint64_t i = old * n; i < cap * n; i++)
		q[i] = fill;
	*p = q;
	return true;
}

/* Room for row ROW (all arrays sized for R's nbins and nfit). */
static bool room(struct agent_file_results *r, uint64_t row)
{
	if (row < r->cap)
		return true;
	uint64_t cap = r->cap ? r->cap : 64;
	while (cap <= row)
		cap *= 2;
	uint8_t *h = realloc(r->have, cap);
	int *np = realloc(r->npk, cap * sizeof(int));
	if (h)
		r->have = h;
	if (np)
		r->npk = np;
	if (!h || !np)
		return false;
	memset(r->have + r->cap, 0, cap - r->cap);
	memset(r->npk + r->cap, 0, (cap - r->cap) * sizeof(int));
	if (!grow(&r->mean, r->cap, cap, (uint64_t)r->nbins, NAN) ||
	    !grow(&r->sem, r->cap, cap, (uint64_t)r->nbins, NAN) ||
	    !grow(&r->pk, r->cap, cap, MAX_PEAKS * PKC, NAN) ||
	    !grow(&r->fv, r->cap, cap, (uint64_t)r->nfit, NAN) ||
	    !grow(&r->fe, r->cap, cap, (uint64_t)r->nfit, NAN) ||
	    !grow(&r->chi2, r->cap, cap, 1, NAN) ||
	    !grow(&r->tm, r->cap, cap, BL_NX_TIMINGS, NAN) || !grow(&r->lat, r->cap, cap, 1, NAN) ||
	    !grow(&r->scratch, r->cap, cap, MAX_PEAKS, NAN))
		return false;
	r->cap = cap;
	return true;
}

static struct agent_file_results *file_of(struct bl_agent *a, uint32_t file)
{
	if (file >= a->res_cap) {
		uint32_t cap = a->res_cap ? a->res_cap : 16;
		while (cap <= file)
			cap *= 2;
		struct agent_file_results **p = realloc(a->res, cap * sizeof(*p));
		if (!p)
			return NULL;
		memset(p + a->res_cap, 0, (cap - a->res_cap) * sizeof(*p));
		a->res = p;
		a->res_cap = cap;
	}
	if (!a->res[file] && (a->res[file] = calloc(1, sizeof(**a->res))))
		a->res[file]->file = file;
	return a->res[file];
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The profile: "profile": {"nbins": N}, arrays q, mean, sem as float64 parts. */
static int take_profile(struct agent_file_results *r, const cJSON *meta, zmq_msg_t *arrays,
			int narrays, const void **q, const void **mean, const void **sem)
{
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(meta, "profile");
	double nb = num(pr, "nbins");
	if (!pr)
		return 0;
	if (!(nb >= 1 && nb <= 1e6) || narrays < 3)
		return -EBADMSG;
	int n = (int)nb;
	for (int i = 0; i < 3; i++) /* not necessarily aligned: copied with memcpy */
		if (zmq_msg_size(&arrays[i]) != (size_t)n * sizeof(double))
			return -EBADMSG;
	if (r->nbins && r->nbins != n)
		return -EBADMSG; /* one file, one binning */
	*q = zmq_msg_data(&arrays[0]);
	*mean = zmq_msg_data(&arrays[1]);
	*sem = zmq_msg_data(&arrays[2]);
	return n;
}

static int take_fit(struct agent_file_results *r, const cJSON *fit)
{
	const cJSON *names = cJSON_GetObjectItemCaseSensitive(fit, "names");
	int n = cJSON_GetArraySize(names);
	if (!fit)
		return 0;
	if (n < 1 || n > MAX_FIT ||
	    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(fit, "values")) != n)
		return -EBADMSG;
	if (r->nfit && r->nfit != n)
		return -EBADMSG;
	if (!r->nfit) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(fit, "model");
		snprintf(r->model, sizeof(r->model), "%s", cJSON_IsString(m) ? m->valuestring : "");
		for (int i = 0; i < n; i++) {
			const cJSON *s = cJSON_GetArrayItem(names, i);
			snprintf(r->names[i], sizeof(r->names[i]), "%s",
				 cJSON_IsString(s) ? s->valuestring : "?");
		}
	}
	return n;
}

/* Sizes R's per-row arrays for NBINS and NFIT, the first time each is known. */
static bool shape(struct agent_file_results *r, int nbins, int nfit)
{
	uint64_t cap = r->cap;
	if ((nbins > 0 && !r->nbins) || (nfit > 0 && !r->nfit)) {
		if (nbins > 0 && !r->nbins) {
			r->nbins = nbins;
			free(r->mean);
			free(r->sem);
			r->mean = r->sem = NULL;
			if (!grow(&r->mean, 0, cap, (uint64_t)nbins, NAN) ||
			    !grow(&r->sem, 0, cap, (uint64_t)nbins, NAN) ||
			    !(r->q = malloc((size_t)nbins * sizeof(double))))
				return false;
		}
		if (nfit > 0 && !r->nfit) {
			r->nfit = nfit;
			free(r->fv);
			free(r->fe);
			r->fv = r->fe = NULL;
			if (!grow(&r->fv, 0, cap, (uint64_t)nfit, NAN) ||
			    !grow(&r->fe, 0, cap, (uint64_t)nfit, NAN))
				return false;
		}
	}
	return true;
}

static void store_row(struct agent_file_results *r, uint64_t row, const cJSON *meta, const void *q,
		      const void *mean, const void *sem, double latency)
{
	r->have[row] = 1;
	if (q) {
		memcpy(r->q, q, (size_t)r->nbins * sizeof(double));
		memcpy(r->mean + row * (uint64_t)r->nbins, mean, (size_t)r->nbins * sizeof(double));
		memcpy(r->sem + row * (uint64_t)r->nbins, sem, (size_t)r->nbins * sizeof(double));
	}
	const cJSON *pks = cJSON_GetObjectItemCaseSensitive(meta, "peaks"), *p;
	static const char *const col[PKC] = {"pos",  "pos_err",	 "fwhm", "fwhm_err",
					     "area", "area_err", "d",	 "d_err"};
	int k = 0;
	cJSON_ArrayForEach(p, pks)
	{
		if (k == MAX_PEAKS)
			break;
		for (int c = 0; c < PKC; c++)
			r->pk[(row * MAX_PEAKS + (uint64_t)k) * PKC + (uint64_t)c] = num(p, col[c]);
		k++;
	}
	r->npk[row] = k;
	const cJSON *fit = cJSON_GetObjectItemCaseSensitive(meta, "fit");
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(fit, "values");
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(fit, "errors");
	for (int i = 0; fit && i < r->nfit; i++) {
		const cJSON *v = cJSON_GetArrayItem(vals, i), *e = cJSON_GetArrayItem(errs, i);
		r->fv[row * (uint64_t)r->nfit + (uint64_t)i] =
		    cJSON_IsNumber(v) ? v->valuedouble : NAN;
		r->fe[row * (uint64_t)r->nfit + (uint64_t)i] =
		    cJSON_IsNumber(e) ? e->valuedouble : NAN;
	}
	if (fit)
		r->chi2[row] = num(fit, "chi2_red");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(meta, "timings_ms");
	static const char *const tn[BL_NX_TIMINGS] = {"decode", "reduce", "peaks", "fit", "total"};
	for (int i = 0; i < BL_NX_TIMINGS; i++)
		r->tm[row * BL_NX_TIMINGS + (uint64_t)i] = num(t, tn[i]);
	r->lat[row] = latency;
}

void agent_results_take(struct bl_agent *a, uint32_t file, uint64_t index, const cJSON *meta,
			zmq_msg_t *arrays, int narrays)
{
	struct agent_file_results *r = file_of(a, file);
	const void *q = NULL, *mean = NULL, *sem = NULL;
	const cJSON *fit = cJSON_GetObjectItemCaseSensitive(meta, "fit");
	int nb = r ? take_profile(r, meta, arrays, narrays, &q, &mean, &sem) : -ENOMEM;
	int nf = nb >= 0 ? take_fit(r, fit) : nb;
	if (nb < 0 || nf < 0) {
		a->c.results_bad++;
		agent_log(a, "results: %s row %llu: %s; ignored", a->files[file],
			  (unsigned long long)index,
			  nb == -ENOMEM ? "out of memory" : "malformed profile or fit");
		return;
	}
	uint64_t need = r->closed && r->rows > index ? r->rows - 1 : index;
	if (!shape(r, nb, nf) || !room(r, need)) {
		a->c.results_bad++;
		agent_log(a, "results: %s row %llu: out of memory; not kept", a->files[file],
			  (unsigned long long)index);
		return;
	}
	if (r->have[index]) { /* cannot happen: one result per frame in flight */
		a->c.results_unknown++;
		return;
	}
	uint64_t now = agent_now_us();
	double stored = num(meta, "stored_us"); /* echoed from the tag */
	double latency = stored > 0 ? ((double)now - stored) / 1000 : NAN;
	store_row(r, index, meta, q, mean, sem, latency);
	r->received++;
	r->last_us = now;
	r->written = false;
	if (!r->closed && index + 1 > r->rows)
		r->rows = index + 1;
	a->c.results++;
	if (a->cfg.on_result) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(meta, "series");
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(meta, "frame");
		struct bl_agent_result res = {
		    .series = cJSON_IsNumber(s) ? (uint64_t)s->valuedouble : 0,
		    .frame = cJSON_IsNumber(f) ? (uint64_t)f->valuedouble : 0,
		    .path = a->files[file],
		    .index = index,
		    .meta = meta,
		    .nbins = q ? nb : 0,
		    .q = q ? r->q : NULL,
		    .mean = q ? r->mean + index * (uint64_t)r->nbins : NULL,
		    .sem = q ? r->sem + index * (uint64_t)r->nbins : NULL,
		    .latency_ms = latency,
		};
		a->cfg.on_result(a->cfg.result_ctx, &res);
	}
}

void agent_results_file_closed(struct bl_agent *a, uint32_t file, uint64_t rows)
{
	struct agent_file_results *r = file_of(a, file);
	if (!r) {
		agent_log(a, "results: out of memory for %s", a->files[file]);
		return;
	}
	if (r->cap && rows && !room(r, rows - 1)) {
		agent_log(a, "results: out of memory for %s", a->files[file]);
		return;
	}
	r->closed = true;
	r->rows = rows;
	r->last_us = agent_now_us();
}

static void write_file(struct bl_agent *a, struct agent_file_results *r, bool all_in)
{
	const char *names[MAX_FIT];
	for (int i = 0; i < r->nfit; i++)
		names[i] = r->names[i];
	struct bl_nx_process p = {
	    .program = "beamloop-analyze",
	    .status = all_in ? "complete" : "partial",
	    .rows = r->rows,
	    .analysed_count = r->received,
	    .analysed = r->have,
	    .nbins = r->nbins,
	    .q = r->q,
	    .mean = r->mean,
	    .sem = r->sem,
	    .maxpk = MAX_PEAKS,
	    .npk = r->npk,
	    .pk = r->pk,
	    .nfit = r->nfit,
	    .fit_model = r->model,
	    .fit_names = names,
	    .fit_values = r->fv,
	    .fit_errors = r->fe,
	    .chi2 = r->chi2,
	    .timings = r->tm,
	    .latency = r->lat,
	    .scratch = r->scratch,
	};
	if (a->rd && a->rd_file == r->file) { /* the forwarding reads it: let go first */
		bl_nx_reader_close(a->rd);
		a->rd = NULL;
		a->rd_file = 0;
	}
	char err[512];
	if (bl_nx_process_write(a->files[r->file], &p, err, sizeof(err))) {
		a->c.results_write_failed++;
		agent_log(a, "results: %s", err);
	} else {
		a->c.files_analysed++;
		agent_log(a, "results: %s: /entry/process written (%llu of %llu frames analysed)",
			  a->files[r->file], (unsigned long long)r->received,
			  (unsigned long long)r->rows);
	}
	r->written = true;
}

void agent_results_flush(struct bl_agent *a, bool force)
{
	uint64_t now = agent_now_us(), wait = a->cfg.results_wait_us ?: 10000000;
	for (uint32_t i = 0; i < a->res_cap; i++) {
		struct agent_file_results *r = a->res[i];
		if (!r || !r->closed || r->written || !r->rows || !r->received)
			continue; /* a file no worker answered for gets no /entry/process */
		bool all_in = r->received >= r->rows;
		if (all_in || force || now - r->last_us >= wait)
			write_file(a, r, all_in);
		if (all_in) { /* nothing more can come for it */
			file_free(r);
			a->res[i] = NULL;
		}
	}
}
