/* reduce_table.c: the pixel-major lookup table the integration kernels stream (each pixel's
 * first bin and, with bbox splitting, its fractions), built from a plan's bin-major CSR table. */
#include <errno.h>
#include <stdlib.h>

#include "reduce_internal.h"

#ifdef _OPENMP
#include <omp.h>
#endif

struct extra {
	int32_t pix;
	int32_t bin;
	float coef;
};

static int by_pixel(const void *a, const void *b)
{
	const struct extra *x = a, *y = b;
	return x->pix != y->pix ? (x->pix > y->pix) - (x->pix < y->pix)
				: (x->bin > y->bin) - (x->bin < y->bin);
}

/* Appends entry E to the list of bins beyond a pixel's NSLOT first ones. */
static int add_extra(struct extra **xs, long *n, long *cap, struct extra e)
{
	if (*n == *cap) {
		long nc = *cap ? 2 * *cap : 1024;
		struct extra *x = realloc(*xs, (size_t)nc * sizeof(*x));
		if (!x)
			return -ENOMEM;
		*xs = x;
		*cap = nc;
	}
	(*xs)[(*n)++] = e;
	return 0;
}

/* Moves the extra entries, sorted by pixel so that the kernel reads them in frame order, into
 * the plan. */
static int store_extras(struct bl_reduce_plan *p, struct extra *xs, long n)
{
	if (n > 1)
		qsort(xs, (size_t)n, sizeof(*xs), by_pixel);
	size_t m = n ? (size_t)n : 1;
	p->xpix = malloc(m * sizeof(*p->xpix));
	p->xbin = malloc(m * sizeof(*p->xbin));
	p->xcoef = malloc(m * sizeof(*p->xcoef));
	if (!p->xpix || !p->xbin || !p->xcoef)
		return -ENOMEM;
	for (long i = 0; i < n; i++) {
		p->xpix[i] = xs[i].pix;
		p->xbin[i] = (uint16_t)xs[i].bin;
		p->xcoef[i] = xs[i].coef;
	}
	p->nextra = n;
	return 0;
}

/* bbox: each pixel's fractions in its NSLOT first bins, from the CSR table. Bins are visited in
 * ascending order, so a pixel's first entry is its lowest bin. */
static int split_slots(struct bl_reduce_plan *p, size_t n)
{
	int nb = p->nbins;
	p->coefs = calloc(n * NSLOT, sizeof(*p->coefs));
	if (!p->coefs)
		return -ENOMEM;
	struct extra *xs = NULL;
	long nx = 0, cap = 0;
	int rc = 0;
	for (int b = 0; b < nb && rc == 0; b++) {
		for (int32_t j = p->indptr[b]; j < p->indptr[b + 1] && rc == 0; j++) {
			int32_t k = p->indices[j];
			if (p->pixbin[k] == nb)
				p->pixbin[k] = (uint16_t)b;
			int s = b - p->pixbin[k];
			if (s < NSLOT)
				p->coefs[(size_t)k * NSLOT + (size_t)s] = p->coef[j];
			else
				rc = add_extra(&xs, &nx, &cap, (struct extra){k, b, p->coef[j]});
		}
	}
	if (rc == 0)
		rc = store_extras(p, xs, nx);
	free(xs);
	return rc;
}

/* The pixel-major table the kernels stream (the frame is then read once, sequentially), from
 * the CSR table, and the per-thread histograms, allocated here so that a frame allocates
 * nothing. */
int reduce_pixel_major(struct bl_reduce_plan *p, size_t n)
{
	int nb = p->nbins;
#ifdef _OPENMP
	p->nthreads = omp_get_max_threads();
#else
	p->nthreads = 1;
#endif
	p->hist_stride = ((size_t)(nb + NSLOT) * (2 * NCOPY + COLD_FIELDS) + 7) & ~(size_t)7;
	p->hist = aligned_alloc(64, (size_t)p->nthreads * p->hist_stride * sizeof(double));
	p->pixbin = malloc(n * sizeof(*p->pixbin));
	if (!p->pixbin || !p->hist)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		p->pixbin[k] = (uint16_t)nb;
	if (p->coef)
		return split_slots(p, n);
	for (int b = 0; b < nb; b++)
		for (int32_t j = p->indptr[b]; j < p->indptr[b + 1]; j++)
			p->pixbin[p->indices[j]] = (uint16_t)b;
	return 0;
}
