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
	if (p->pixbin32)
		p->xbin32 = malloc(m * sizeof(*p->xbin32));
	else
		p->xbin = malloc(m * sizeof(*p->xbin));
	p->xcoef = malloc(m * sizeof(*p->xcoef));
	if (!p->xpix || !(p->xbin || p->xbin32) || !p->xcoef)
		return -ENOMEM;
	for (long i = 0; i < n; i++) {
		p->xpix[i] = xs[i].pix;
		if (p->xbin32)
			p->xbin32[i] = (uint32_t)xs[i].bin;
		else
			p->xbin[i] = (uint16_t)xs[i].bin;
		p->xcoef[i] = xs[i].coef;
	}
	p->nextra = n;
	return 0;
}

static int first_bin(const struct bl_reduce_plan *p, size_t k)
{
	return p->pixbin32 ? (int)p->pixbin32[k] : (int)p->pixbin[k];
}

static void set_first_bin(struct bl_reduce_plan *p, size_t k, int b)
{
	if (p->pixbin32)
		p->pixbin32[k] = (uint32_t)b;
	else
		p->pixbin[k] = (uint16_t)b;
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
			if (first_bin(p, k) == nb)
				set_first_bin(p, k, b);
			int s = b - first_bin(p, k);
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
	p->ncopy = nb > REDUCE_BINS16 ? 1 : NCOPY;
	p->hist_stride =
	    ((size_t)(nb + NSLOT) * (2 * (size_t)p->ncopy + COLD_FIELDS) + 7) & ~(size_t)7;
	p->hist = aligned_alloc(64, (size_t)p->nthreads * p->hist_stride * sizeof(double));
	if (nb > REDUCE_BINS16) /* 2D caking with many bins: 32-bit bins per pixel */
		p->pixbin32 = malloc(n * sizeof(*p->pixbin32));
	else
		p->pixbin = malloc(n * sizeof(*p->pixbin));
	if (!(p->pixbin || p->pixbin32) || !p->hist)
		return -ENOMEM;
	for (size_t k = 0; k < n; k++)
		set_first_bin(p, k, nb);
	if (p->coef)
		return split_slots(p, n);
	for (int b = 0; b < nb; b++)
		for (int32_t j = p->indptr[b]; j < p->indptr[b + 1]; j++)
			set_first_bin(p, (size_t)p->indices[j], b);
	return 0;
}
