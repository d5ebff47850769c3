/* reduce_cuda.h: the narrow interface between the C reduction (reduce_gpu.c) and its CUDA kernels
 * (cuda/reduce_gpu.cu): plain arrays in, per-bin sums out; no plan struct crosses it. */
#ifndef BL_REDUCE_CUDA_H
#define BL_REDUCE_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Per-pixel tables as reduce_internal.h's plan holds them (host memory, copied to the device). */
struct reduce_cuda_tables {
	long npix;
	int nbins;		/* bins the results hold; histograms have nbins + nslot */
	int nslot;		/* bbox fractions per pixel (NSLOT) */
	const uint16_t *pixbin; /* npix first bins (nbins: statically masked) */
	const float *coefs;	/* npix * nslot fractions, NULL without splitting */
	const float *dark, *norm;
	long nextra; /* bbox entries beyond a pixel's nslot bins */
	const int32_t *xpix;
	const uint16_t *xbin;
	const float *xcoef;
	float lo, hi; /* valid raw values: lo <= x < hi */
};

/* Sums per bin and frame: s, v, then the give-backs dark, norm, norm2, count, entries. */
enum { REDUCE_CUDA_FIELDS = 7 };

struct reduce_cuda;

/* Uploads T to GPU DEV and allocates two streams with pinned buffers for BATCH frames of up to
 * FRAME_BYTES each. 0, -ENODEV (no such GPU), -ENOMEM or -EIO. */
int reduce_cuda_open(int dev, const struct reduce_cuda_tables *t, int batch, size_t frame_bytes,
		     struct reduce_cuda **out);
void reduce_cuda_close(struct reduce_cuda *c);

/* Called with frame F's sums when ready: REDUCE_CUDA_FIELDS rows of nbins + nslot doubles. */
typedef int (*reduce_cuda_sink)(void *ctx, int f, const double *sums);

/* Integrates NFRAMES frames of ELEM_BYTES-sized elements of type DTYPE (enum bl_reduce_dtype)
 * lying back to back in host memory at FRAMES, batch by batch over the two streams; SINK gets
 * each frame's sums in order. Pinned FRAMES (reduce_cuda_host_alloc) are copied straight to
 * the device; others are staged through the pinned buffers. 0, the sink's return, or -EIO. */
int reduce_cuda_run(struct reduce_cuda *c, const void *frames, int dtype, size_t elem_bytes,
		    int nframes, reduce_cuda_sink sink, void *ctx);

/* Page-locked host memory (NULL when it cannot be had), and its release. */
void *reduce_cuda_host_alloc(size_t bytes);
void reduce_cuda_host_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif
