/* peak2d.c: peakfinder8-like 2D peak finder: per radial bin threshold from the sigma-clipped
 * background (bg_clip.c), connected regions (8-neighbours) of pixels above it grown from each
 * unvisited one, then centroid, integrated intensity over the region grown by a margin, its
 * Poisson uncertainty and SNR. Region growing over a detector frame with per-bin thresholds is
 * specific enough that no library does it (peakfinder8 itself is C++ inside Cheetah/OnDA). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bg_internal.h"
#include "bl_peak2d.h"

struct bl_peak2d_plan {
	struct bl_bg_clip *clip;
	struct bl_peak2d_config cfg;
	struct reduce_frame fr;
	enum bl_reduce_unit unit;
	int nrows, ncols, nbins;
	int32_t *bin;		     /* per pixel: its radial bin, -1 when masked or out of range */
	double *bg, *sd, *thr, *sem; /* per bin: background, std, threshold, sem of bg */
	uint32_t *mark, *grown;	     /* per pixel: stamp of the region that took it */
	int32_t *list, *glist;	     /* pixels of the region, and of the grown region */
	uint32_t serial;	     /* last stamp given */
	bool have;		     /* bg/sd hold a frame */
};

int bl_peak2d_plan_create(const struct bl_reduce_geometry *g, const struct bl_reduce_config *c,
			  const struct bl_peak2d_config *pc, struct bl_peak2d_plan **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!g || !c || !pc || c->split != BL_REDUCE_SPLIT_NONE || c->nbins_chi != 0 ||
	    !(pc->nsigma > 0) || pc->min_value < 0 || pc->clip_nsigma < 0 || pc->clip_iter < 0 ||
	    pc->min_pix < 0 || pc->max_pix < 0 || pc->min_snr < 0 || pc->pad < 0)
		return -EINVAL;
	struct bl_peak2d_plan *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	int rc = bl_bg_clip_create(g, c, &p->clip);
	if (rc < 0) {
		free(p);
		return rc;
	}
	reduce_frame_init(&p->fr, g); /* checked by bl_bg_clip_create */
	p->cfg = *pc;
	if (p->cfg.clip_nsigma == 0)
		p->cfg.clip_nsigma = 3.0;
	if (p->cfg.clip_iter == 0)
		p->cfg.clip_iter = 5;
	if (p->cfg.min_pix == 0)
		p->cfg.min_pix = 1;
	p->unit = c->unit;
	p->nrows = g->nrows;
	p->ncols = g->ncols;
	const struct bl_reduce_plan *rp = p->clip->p;
	p->nbins = rp->nbins;
	size_t n = (size_t)g->nrows * (size_t)g->ncols, nb = (size_t)p->nbins;
	p->bin = malloc(n * sizeof(*p->bin));
	p->bg = calloc(4 * nb, sizeof(double));
	p->mark = calloc(n, sizeof(*p->mark));
	p->grown = calloc(n, sizeof(*p->grown));
	p->list = malloc(n * sizeof(*p->list));
	p->glist = malloc(n * sizeof(*p->glist));
	if (!p->bin || !p->bg || !p->mark || !p->grown || !p->list || !p->glist) {
		bl_peak2d_plan_free(p);
		return -ENOMEM;
	}
	p->sd = p->bg + nb;
	p->thr = p->sd + nb;
	p->sem = p->thr + nb;
	for (size_t k = 0; k < n; k++)
		p->bin[k] = -1;
	for (int b = 0; b < p->nbins; b++)
		for (int32_t j = rp->indptr[b]; j < rp->indptr[b + 1]; j++)
			p->bin[rp->indices[j]] = b;
	*out = p;
	return 0;
}

void bl_peak2d_plan_free(struct bl_peak2d_plan *p)
{
	if (!p)
		return;
	bl_bg_clip_free(p->clip);
	free(p->bin);
	free(p->bg);
	free(p->mark);
	free(p->grown);
	free(p->list);
	free(p->glist);
	free(p);
}

const double *bl_peak2d_background(const struct bl_peak2d_plan *p)
{
	return p && p->have ? p->bg : NULL;
}

const double *bl_peak2d_noise(const struct bl_peak2d_plan *p)
{
	return p && p->have ? p->sd : NULL;
}

struct frame_in {
	const void *fr;
	enum bl_reduce_dtype dt;
	double nf;
};

/* Corrected value of pixel K, its variance, and whether the frame and plan let it count. */
static bool value(const struct bl_peak2d_plan *p, const struct frame_in *in, long k, double *v,
		  double *var)
{
	const struct bl_reduce_plan *rp = p->clip->p;
	if (p->bin[k] < 0)
		return false;
	float x = bg_load(in->fr, in->dt, (size_t)k);
	if (!(x >= rp->lo && x < rp->hi))
		return false;
	double n = rp->norm[k] * in->nf;
	*v = ((double)x - rp->dark[k]) / n;
	if (var)
		*var = fmax(x, 1.0) / (n * n);
	return true;
}

static bool above(const struct bl_peak2d_plan *p, const struct frame_in *in, long k)
{
	double v;
	return value(p, in, k, &v, NULL) && v > p->thr[p->bin[k]];
}

/* Grows the region of seed K over 8-neighbours above threshold, stamping them ID; returns its
 * size (the pixels are in p->list). */
static int grow_region(struct bl_peak2d_plan *p, const struct frame_in *in, long k, uint32_t id)
{
	int len = 0;
	p->list[len++] = (int32_t)k;
	p->mark[k] = id;
	for (int i = 0; i < len; i++) {
		int r = p->list[i] / p->ncols, c = p->list[i] % p->ncols;
		for (int dr = -1; dr <= 1; dr++)
			for (int dc = -1; dc <= 1; dc++) {
				int rr = r + dr, cc = c + dc;
				if (rr < 0 || rr >= p->nrows || cc < 0 || cc >= p->ncols)
					continue;
				long kk = (long)rr * p->ncols + cc;
				if (p->mark[kk] == id || !above(p, in, kk))
					continue;
				p->mark[kk] = id;
				p->list[len++] = (int32_t)kk;
			}
	}
	return len;
}

/* The region of LEN pixels grown by PAD rounds of valid 8-neighbours (into p->glist); *GLEN1:
 * how many the first round reached. */
static int pad_region(struct bl_peak2d_plan *p, const struct frame_in *in, int len, uint32_t id,
		      int *glen1)
{
	int glen = 0;
	for (int i = 0; i < len; i++) {
		p->glist[glen++] = p->list[i];
		p->grown[p->list[i]] = id;
	}
	int from = 0;
	*glen1 = glen;
	for (int round = 0; round < p->cfg.pad; round++) {
		int to = glen;
		for (int i = from; i < to; i++) {
			int r = p->glist[i] / p->ncols, c = p->glist[i] % p->ncols;
			for (int dr = -1; dr <= 1; dr++)
				for (int dc = -1; dc <= 1; dc++) {
					int rr = r + dr, cc = c + dc;
					double v;
					if (rr < 0 || rr >= p->nrows || cc < 0 || cc >= p->ncols)
						continue;
					long kk = (long)rr * p->ncols + cc;
					if (p->grown[kk] == id || !value(p, in, kk, &v, NULL))
						continue;
					p->grown[kk] = id;
					p->glist[glen++] = (int32_t)kk;
				}
		}
		from = to;
		if (round == 0)
			*glen1 = glen;
	}
	return glen;
}

/* Measures the region (p->list, LEN pixels) into PK; false when the config rejects it. */
static bool measure(struct bl_peak2d_plan *p, const struct frame_in *in, int len, uint32_t id,
		    struct bl_peak2d *pk)
{
	if (len < p->cfg.min_pix || (p->cfg.max_pix && len > p->cfg.max_pix))
		return false;
	double vmax = -INFINITY;
	long kmax = p->list[0];
	for (int i = 0; i < len; i++) {
		double v;
		long k = p->list[i];
		value(p, in, k, &v, NULL);
		v -= p->bg[p->bin[k]];
		if (v > vmax)
			vmax = v, kmax = k;
	}
	/* intensity over the whole grown region; centroid over the region and its first ring
	 * (enough of the tails to keep the truncation bias small, little of the noise) */
	int glen1, glen = pad_region(p, in, len, id, &glen1);
	double sw = 0, sw1 = 0, sr = 0, sc = 0, var = 0, bgerr = 0;
	for (int i = 0; i < glen; i++) {
		double v, vv;
		long k = p->glist[i];
		value(p, in, k, &v, &vv);
		v -= p->bg[p->bin[k]];
		sw += v;
		var += vv;
		bgerr += p->sem[p->bin[k]]; /* the same background estimate under every pixel */
		if (i >= glen1)
			continue;
		sw1 += v;
		sr += v * (k / p->ncols + 0.5);
		sc += v * (k % p->ncols + 0.5);
	}
	if (!(sw > 0) || !(sw1 > 0))
		return false;
	pk->intensity = sw;
	pk->sigma = sqrt(var + bgerr * bgerr);
	pk->snr = pk->sigma > 0 ? sw / pk->sigma : 0;
	if (pk->snr < p->cfg.min_snr)
		return false;
	pk->row = sr / sw1;
	pk->col = sc / sw1;
	pk->npix = len;
	pk->row_max = (int)(kmax / p->ncols);
	pk->col_max = (int)(kmax % p->ncols);
	pk->max_value = vmax;
	pk->background = p->bg[p->bin[kmax]];
	double t[3];
	reduce_frame_lab(&p->fr, pk->row * p->fr.pixel1 - p->fr.poni1,
			 pk->col * p->fr.pixel2 - p->fr.poni2, t);
	double tth = reduce_tth(t);
	pk->q = p->unit == BL_REDUCE_Q_NM ? reduce_q(&p->fr, tth) : tth * 180.0 / M_PI;
	pk->chi_deg = atan2(t[0], t[1]) * 180.0 / M_PI;
	return true;
}

int bl_peak2d_find(struct bl_peak2d_plan *p, const void *frame, enum bl_reduce_dtype dtype,
		   double normalization, struct bl_peak2d *peaks, int cap)
{
	if (!p || !frame || cap < 0 || (cap > 0 && !peaks))
		return -EINVAL;
	struct bl_bg_clip_result cr = {.mean = p->bg, .std = p->sd, .sem = p->sem};
	int rc = bl_bg_clip_run(p->clip, frame, dtype, normalization, p->cfg.clip_nsigma,
				p->cfg.clip_iter, &cr);
	if (rc < 0)
		return rc;
	p->have = true;
	for (int b = 0; b < p->nbins; b++)
		p->thr[b] = p->bg[b] + fmax(p->cfg.nsigma * p->sd[b], p->cfg.min_value);
	long n = (long)p->nrows * p->ncols;
	if (p->serial > UINT32_MAX - (uint32_t)n - 1) { /* stamps about to wrap: start over */
		memset(p->mark, 0, (size_t)n * sizeof(*p->mark));
		memset(p->grown, 0, (size_t)n * sizeof(*p->grown));
		p->serial = 0;
	}
	uint32_t start = p->serial;
	struct frame_in in = {frame, dtype, normalization};
	int found = 0;
	for (long k = 0; k < n; k++) {
		if (p->mark[k] > start || !above(p, &in, k))
			continue;
		uint32_t id = ++p->serial;
		int len = grow_region(p, &in, k, id);
		struct bl_peak2d pk;
		if (!measure(p, &in, len, id, &pk))
			continue;
		if (found < cap)
			peaks[found] = pk;
		found++;
	}
	return found;
}
