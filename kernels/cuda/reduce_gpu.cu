/* reduce_gpu.cu: CUDA 1D/2D integration (no split and bbox): the plan's per-pixel tables live on
 * the GPU; frames are streamed from host memory in batches over two streams (pinned buffers,
 * cudaMemcpyAsync), one block-local shared-memory histogram per block when the bins fit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cuda_runtime.h>

#include "bl_reduce.h"
#include "../src/reduce_cuda.h"

enum { NSTREAM = 2, THREADS = 256, SHARED_BYTES = 48 * 1024 };

struct reduce_cuda {
	int dev, nbins, nslot, nh, batch, blocks;
	long npix, nextra;
	float lo, hi;
	size_t frame_bytes;
	uint16_t *pixbin, *xbin;
	float *coefs, *dark, *norm, *xcoef;
	int32_t *xpix;
	cudaStream_t st[NSTREAM];
	void *h_in[NSTREAM], *d_in[NSTREAM];
	double *h_out[NSTREAM], *d_out[NSTREAM];
};

template <int DT> __device__ static inline float load(const void *fr, long k)
{
	if (DT == BL_REDUCE_U16)
		return (float)((const uint16_t *)fr)[k];
	if (DT == BL_REDUCE_U32)
		return (float)((const uint32_t *)fr)[k];
	if (DT == BL_REDUCE_I32)
		return (float)((const int32_t *)fr)[k];
	return ((const float *)fr)[k];
}

struct dev_tables {
	const uint16_t *pixbin;
	const float *coefs, *dark, *norm;
	long npix;
	int nh, nslot;
	float lo, hi;
};

/* Pixel K's share C of bin B taken back out of the static sums (rare: dynamically masked). */
__device__ static inline void give_back(const dev_tables &t, double *out, int b, long k, double c)
{
	double nv = t.norm[k];
	atomicAdd(out + 2 * t.nh + b, c * t.dark[k]);
	atomicAdd(out + 3 * t.nh + b, c * nv);
	atomicAdd(out + 4 * t.nh + b, c * c * nv * nv);
	atomicAdd(out + 5 * t.nh + b, c);
	atomicAdd(out + 6 * t.nh + b, 1.0);
}

/* One frame per blockIdx.y; each block strides over the pixels and adds (raw, max(raw, 1)) into
 * a shared histogram (SHARED) or straight into the frame's sums, then flushes it. */
template <int DT, bool SPLIT, bool SHARED>
__global__ static void hist_kernel(dev_tables t, const char *frames, size_t frame_bytes,
				   double *sums)
{
	extern __shared__ double sh[];
	const void *fr = frames + blockIdx.y * frame_bytes;
	double *out = sums + (size_t)blockIdx.y * 7 * t.nh;
	double *h = SHARED ? sh : out;
	if (SHARED) {
		for (int i = threadIdx.x; i < 2 * t.nh; i += blockDim.x)
			sh[i] = 0;
		__syncthreads();
	}
	for (long k = blockIdx.x * (long)blockDim.x + threadIdx.x; k < t.npix;
	     k += (long)gridDim.x * blockDim.x) {
		int b = t.pixbin[k];
		float x = load<DT>(fr, k);
		bool ok = x >= t.lo && x < t.hi;
		if (!SPLIT) {
			if (!ok) {
				give_back(t, out, b, k, 1.0);
				continue;
			}
			double xd = x;
			atomicAdd(h + b, xd);
			atomicAdd(h + t.nh + b, fmax(xd, 1.0));
			continue;
		}
		const float *c = t.coefs + (size_t)k * t.nslot;
		for (int s = 0; s < t.nslot; s++) {
			double a = c[s];
			if (!ok) {
				if (a != 0 || s == 0)
					give_back(t, out, b + s, k, a);
			} else if (a != 0) {
				double xd = x;
				atomicAdd(h + b + s, a * xd);
				atomicAdd(h + t.nh + b + s, a * a * fmax(xd, 1.0));
			}
		}
	}
	if (SHARED) {
		__syncthreads();
		for (int i = threadIdx.x; i < 2 * t.nh; i += blockDim.x)
			if (sh[i] != 0)
				atomicAdd(out + i, sh[i]);
	}
}

/* bbox entries beyond a pixel's NSLOT first bins (few), one frame per blockIdx.y. */
template <int DT>
__global__ static void extra_kernel(dev_tables t, const int32_t *xpix, const uint16_t *xbin,
				    const float *xcoef, long nextra, const char *frames,
				    size_t frame_bytes, double *sums)
{
	const void *fr = frames + blockIdx.y * frame_bytes;
	double *out = sums + (size_t)blockIdx.y * 7 * t.nh;
	for (long e = blockIdx.x * (long)blockDim.x + threadIdx.x; e < nextra;
	     e += (long)gridDim.x * blockDim.x) {
		long k = xpix[e];
		int b = xbin[e];
		float x = load<DT>(fr, k);
		double a = xcoef[e];
		if (!(x >= t.lo && x < t.hi)) {
			give_back(t, out, b, k, a);
			continue;
		}
		atomicAdd(out + b, a * x);
		atomicAdd(out + t.nh + b, a * a * fmax((double)x, 1.0));
	}
}

template <int DT>
static void launch_dt(const reduce_cuda *c, cudaStream_t st, const void *d_in, size_t fb,
		      double *d_out, int n)
{
	dev_tables t = {c->pixbin, c->coefs, c->dark, c->norm, c->npix,
			c->nh,	   c->nslot, c->lo,   c->hi};
	dim3 grid(c->blocks, n);
	const char *in = (const char *)d_in;
	size_t shm = 2 * (size_t)c->nh * sizeof(double);
	bool shared = shm <= SHARED_BYTES;
	if (c->coefs && shared)
		hist_kernel<DT, true, true><<<grid, THREADS, shm, st>>>(t, in, fb, d_out);
	else if (c->coefs)
		hist_kernel<DT, true, false><<<grid, THREADS, 0, st>>>(t, in, fb, d_out);
	else if (shared)
		hist_kernel<DT, false, true><<<grid, THREADS, shm, st>>>(t, in, fb, d_out);
	else
		hist_kernel<DT, false, false><<<grid, THREADS, 0, st>>>(t, in, fb, d_out);
	if (c->nextra > 0) {
		dim3 xg((unsigned)((c->nextra + THREADS - 1) / THREADS < 1024
				       ? (c->nextra + THREADS - 1) / THREADS
				       : 1024),
			n);
		extra_kernel<DT><<<xg, THREADS, 0, st>>>(t, c->xpix, c->xbin, c->xcoef, c->nextra,
							 in, fb, d_out);
	}
}

static void launch(const reduce_cuda *c, int dtype, cudaStream_t st, const void *d_in, size_t fb,
		   double *d_out, int n)
{
	switch (dtype) {
	case BL_REDUCE_U16: launch_dt<BL_REDUCE_U16>(c, st, d_in, fb, d_out, n); break;
	case BL_REDUCE_U32: launch_dt<BL_REDUCE_U32>(c, st, d_in, fb, d_out, n); break;
	case BL_REDUCE_I32: launch_dt<BL_REDUCE_I32>(c, st, d_in, fb, d_out, n); break;
	default: launch_dt<BL_REDUCE_F32>(c, st, d_in, fb, d_out, n); break;
	}
}

/* Copies N elements at H to a new device array in *D (nothing when N is 0). */
template <typename T> static cudaError_t upload(T **d, const T *h, size_t n)
{
	*d = NULL;
	if (!h || n == 0)
		return cudaSuccess;
	cudaError_t rc = cudaMalloc(d, n * sizeof(T));
	if (rc == cudaSuccess)
		rc = cudaMemcpy(*d, h, n * sizeof(T), cudaMemcpyHostToDevice);
	return rc;
}

extern "C" void reduce_cuda_close(struct reduce_cuda *c)
{
	if (!c)
		return;
	cudaSetDevice(c->dev);
	for (int s = 0; s < NSTREAM; s++) {
		if (c->st[s])
			cudaStreamDestroy(c->st[s]);
		cudaFreeHost(c->h_in[s]);
		cudaFreeHost(c->h_out[s]);
		cudaFree(c->d_in[s]);
		cudaFree(c->d_out[s]);
	}
	cudaFree(c->pixbin);
	cudaFree(c->coefs);
	cudaFree(c->dark);
	cudaFree(c->norm);
	cudaFree(c->xpix);
	cudaFree(c->xbin);
	cudaFree(c->xcoef);
	free(c);
}

extern "C" int reduce_cuda_open(int dev, const struct reduce_cuda_tables *t, int batch,
				size_t frame_bytes, struct reduce_cuda **out)
{
	int count = 0;
	if (cudaGetDeviceCount(&count) != cudaSuccess || dev < 0 || dev >= count) {
		cudaGetLastError();
		return -ENODEV;
	}
	cudaDeviceProp prop;
	if (cudaSetDevice(dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess)
		return -EIO;
	reduce_cuda *c = (reduce_cuda *)calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->dev = dev;
	c->npix = t->npix;
	c->nbins = t->nbins;
	c->nslot = t->nslot;
	c->nh = t->nbins + t->nslot;
	c->nextra = t->nextra;
	c->lo = t->lo;
	c->hi = t->hi;
	c->batch = batch;
	c->frame_bytes = frame_bytes;
	/* enough blocks to fill the GPU across a batch, each with a few thousand pixels */
	long want = (4L * prop.multiProcessorCount + batch - 1) / batch;
	long most = (t->npix + THREADS - 1) / THREADS;
	c->blocks = (int)(want < most ? want : most);
	if (c->blocks < 1)
		c->blocks = 1;
	size_t n = (size_t)t->npix, outb = (size_t)batch * 7 * c->nh * sizeof(double);
	cudaError_t rc = upload(&c->pixbin, t->pixbin, n);
	if (rc == cudaSuccess)
		rc = upload(&c->coefs, t->coefs, t->coefs ? n * t->nslot : 0);
	if (rc == cudaSuccess)
		rc = upload(&c->dark, t->dark, n);
	if (rc == cudaSuccess)
		rc = upload(&c->norm, t->norm, n);
	if (rc == cudaSuccess)
		rc = upload(&c->xpix, t->xpix, (size_t)t->nextra);
	if (rc == cudaSuccess)
		rc = upload(&c->xbin, t->xbin, (size_t)t->nextra);
	if (rc == cudaSuccess)
		rc = upload(&c->xcoef, t->xcoef, (size_t)t->nextra);
	for (int s = 0; s < NSTREAM && rc == cudaSuccess; s++) {
		rc = cudaStreamCreateWithFlags(&c->st[s], cudaStreamNonBlocking);
		if (rc == cudaSuccess)
			rc = cudaHostAlloc(&c->h_in[s], batch * frame_bytes, cudaHostAllocDefault);
		if (rc == cudaSuccess)
			rc = cudaHostAlloc((void **)&c->h_out[s], outb, cudaHostAllocDefault);
		if (rc == cudaSuccess)
			rc = cudaMalloc(&c->d_in[s], batch * frame_bytes);
		if (rc == cudaSuccess)
			rc = cudaMalloc((void **)&c->d_out[s], outb);
	}
	if (rc != cudaSuccess) {
		fprintf(stderr, "reduce_cuda_open: %s\n", cudaGetErrorString(rc));
		cudaGetLastError();
		reduce_cuda_close(c);
		return rc == cudaErrorMemoryAllocation ? -ENOMEM : -EIO;
	}
	*out = c;
	return 0;
}

/* Hands the N frames from FIRST held by stream S's output buffer to SINK once S is done. */
static int deliver(reduce_cuda *c, int s, int first, int n, reduce_cuda_sink sink, void *ctx)
{
	if (n == 0)
		return 0;
	if (cudaStreamSynchronize(c->st[s]) != cudaSuccess)
		return -EIO;
	for (int f = 0; f < n; f++) {
		int rc = sink(ctx, first + f, c->h_out[s] + (size_t)f * 7 * c->nh);
		if (rc < 0)
			return rc;
	}
	return 0;
}

extern "C" int reduce_cuda_run(struct reduce_cuda *c, const void *frames, int dtype,
			       size_t elem_bytes, int nframes, reduce_cuda_sink sink, void *ctx)
{
	if (cudaSetDevice(c->dev) != cudaSuccess)
		return -EIO;
	size_t fb = (size_t)c->npix * elem_bytes;
	if (fb > c->frame_bytes)
		return -EINVAL;
	cudaPointerAttributes attr;
	bool pinned = cudaPointerGetAttributes(&attr, frames) == cudaSuccess &&
		      attr.type == cudaMemoryTypeHost;
	cudaGetLastError();
	int first[NSTREAM] = {0}, held[NSTREAM] = {0}, ret = 0;
	const char *src = (const char *)frames;
	for (int f0 = 0, i = 0; f0 < nframes && ret == 0; f0 += c->batch, i++) {
		int s = i % NSTREAM, n = nframes - f0 < c->batch ? nframes - f0 : c->batch;
		ret = deliver(c, s, first[s], held[s], sink, ctx);
		held[s] = 0;
		if (ret < 0)
			break;
		const void *h = src + (size_t)f0 * fb;
		if (!pinned) { /* staged while the other stream's batch runs */
			memcpy(c->h_in[s], h, (size_t)n * fb);
			h = c->h_in[s];
		}
		size_t ob = (size_t)n * 7 * c->nh * sizeof(double);
		cudaMemcpyAsync(c->d_in[s], h, (size_t)n * fb, cudaMemcpyHostToDevice, c->st[s]);
		cudaMemsetAsync(c->d_out[s], 0, ob, c->st[s]);
		launch(c, dtype, c->st[s], c->d_in[s], fb, c->d_out[s], n);
		cudaMemcpyAsync(c->h_out[s], c->d_out[s], ob, cudaMemcpyDeviceToHost, c->st[s]);
		if (cudaGetLastError() != cudaSuccess)
			ret = -EIO;
		first[s] = f0;
		held[s] = n;
	}
	/* the older batch first: results go out in frame order */
	int s0 = first[0] <= first[1] ? 0 : 1;
	for (int k = 0; k < NSTREAM; k++) {
		int s = (s0 + k) % NSTREAM;
		int rc = ret == 0 ? deliver(c, s, first[s], held[s], sink, ctx) : 0;
		if (ret == 0)
			ret = rc;
	}
	cudaDeviceSynchronize();
	return ret;
}

extern "C" void *reduce_cuda_host_alloc(size_t bytes)
{
	void *p = NULL;
	if (cudaHostAlloc(&p, bytes, cudaHostAllocDefault) != cudaSuccess) {
		cudaGetLastError();
		return NULL;
	}
	return p;
}

extern "C" void reduce_cuda_host_free(void *ptr)
{
	if (ptr)
		cudaFreeHost(ptr);
}
