/* reduce_gpu.c: the GPU path of the integration behind bl_reduce.h: hands a plan's tables to the
 * CUDA kernels (reduce_cuda.h) and turns their per-bin sums into results as the CPU path does;
 * -ENODEV in a build without CUDA. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "reduce_cuda.h"
#include "reduce_internal.h"

#ifdef BL_HAVE_CUDA

struct bl_reduce_gpu {
	const struct bl_reduce_plan *p;
	struct reduce_cuda *c;
};

int bl_reduce_gpu_create(const struct bl_reduce_plan *p, int dev, int batch,
			 struct bl_reduce_gpu **out)
{
	if (!p || !out || batch < 0 || batch > 65535) /* frames are the grid's y dimension */
		return -EINVAL;
	if (p->pixbin32)
		return -ENOTSUP; /* the CUDA tables hold 16-bit bins */
	struct reduce_cuda_tables t = {.npix = (long)p->nrows * p->ncols,
				       .nbins = p->nbins,
				       .nslot = NSLOT,
				       .pixbin = p->pixbin,
				       .coefs = p->coefs,
				       .dark = p->dark,
				       .norm = p->norm,
				       .nextra = p->coefs ? p->nextra : 0,
				       .xpix = p->xpix,
				       .xbin = p->xbin,
				       .xcoef = p->xcoef,
				       .lo = p->lo,
				       .hi = p->hi};
	struct bl_reduce_gpu *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->p = p;
	int rc = reduce_cuda_open(dev, &t, batch ? batch : 16, (size_t)t.npix * 4, &g->c);
	if (rc < 0) {
		free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void bl_reduce_gpu_free(struct bl_reduce_gpu *g)
{
	if (g)
		reduce_cuda_close(g->c);
	free(g);
}

struct sink_ctx {
	const struct bl_reduce_plan *p;
	const double *norm;
	struct bl_reduce_result *out;
};

/* Frame F's sums (7 rows of nbins + NSLOT) into its result, as the CPU path finishes a frame. */
static int sink(void *ctx, int f, const double *sums)
{
	const struct sink_ctx *k = ctx;
	const struct bl_reduce_plan *p = k->p;
	size_t nh = (size_t)p->nbins + NSLOT;
	double nrm = k->norm ? k->norm[f] : 1.0;
	for (int b = 0; b < p->nbins; b++) {
		double g[COLD_FIELDS];
		for (int i = 0; i < COLD_FIELDS; i++)
			g[i] = sums[(2 + (size_t)i) * nh + (size_t)b];
		reduce_put_bin(p, b, sums[b], sums[nh + (size_t)b], g, nrm, &k->out[f]);
	}
	return 0;
}

int bl_reduce_integrate1d_gpu(struct bl_reduce_gpu *g, const void *frames,
			      enum bl_reduce_dtype dtype, int nframes, const double *normalization,
			      struct bl_reduce_result *out)
{
	if (!g || !frames || !out || nframes < 0)
		return -EINVAL;
	size_t eb;
	switch (dtype) {
	case BL_REDUCE_U16: eb = 2; break;
	case BL_REDUCE_F32:
	case BL_REDUCE_U32:
	case BL_REDUCE_I32: eb = 4; break;
	default: return -EINVAL;
	}
	for (int f = 0; normalization && f < nframes; f++)
		if (!(normalization[f] > 0) || !isfinite(normalization[f]))
			return -EINVAL;
	struct sink_ctx k = {g->p, normalization, out};
	return reduce_cuda_run(g->c, frames, (int)dtype, eb, nframes, sink, &k);
}

void *bl_reduce_gpu_host_alloc(size_t bytes)
{
	return reduce_cuda_host_alloc(bytes);
}

void bl_reduce_gpu_host_free(void *ptr)
{
	reduce_cuda_host_free(ptr);
}

#else

int bl_reduce_gpu_create(const struct bl_reduce_plan *p, int dev, int batch,
			 struct bl_reduce_gpu **out)
{
	(void)p, (void)dev, (void)batch, (void)out;
	return -ENODEV;
}

void bl_reduce_gpu_free(struct bl_reduce_gpu *g)
{
	(void)g;
}

int bl_reduce_integrate1d_gpu(struct bl_reduce_gpu *g, const void *frames,
			      enum bl_reduce_dtype dtype, int nframes, const double *normalization,
			      struct bl_reduce_result *out)
{
	(void)g, (void)frames, (void)dtype, (void)nframes, (void)normalization, (void)out;
	return -ENODEV;
}

void *bl_reduce_gpu_host_alloc(size_t bytes)
{
	(void)bytes;
	return NULL;
}

void bl_reduce_gpu_host_free(void *ptr)
{
	(void)ptr;
}

#endif
