/* gs_gpu.cu: CUDA GISAXS forward model: one thread per point runs the same inline physics as the
 * CPU path (src/gs_internal.h) in double precision; the model sits in constant memory. */
#include <errno.h>
#include <stdlib.h>

#include <cuda_runtime.h>

#include "../src/gs_internal.h"

__constant__ gs_model c_model;

struct gs_cuda {
	int dev;
	size_t n;
	gs_point *d_pt;
	double *d_out;
};

__global__ static void gs_kernel(const gs_point *pt, size_t n, gs_c kzi, gs_c ri, gs_c ti,
				 double *out)
{
	for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n;
	     k += (size_t)gridDim.x * blockDim.x) {
		gs_point p = pt[k];
		out[k] = gs_point_intensity(&c_model, &p, kzi, ri, ti);
	}
}

extern "C" int gs_cuda_open(int dev, const gs_point *pt, size_t n, gs_cuda **out)
{
	int ndev = 0;
	if (cudaGetDeviceCount(&ndev) != cudaSuccess || dev >= ndev)
		return -ENODEV;
	if (cudaSetDevice(dev) != cudaSuccess)
		return -EIO;
	gs_cuda *c = (gs_cuda *)calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->dev = dev, c->n = n;
	size_t nn = n ? n : 1;
	if (cudaMalloc(&c->d_pt, nn * sizeof(gs_point)) != cudaSuccess ||
	    cudaMalloc(&c->d_out, nn * sizeof(double)) != cudaSuccess ||
	    cudaMemcpy(c->d_pt, pt, n * sizeof(gs_point), cudaMemcpyHostToDevice) != cudaSuccess) {
		gs_cuda_close(c);
		return -EIO;
	}
	*out = c;
	return 0;
}

extern "C" void gs_cuda_close(gs_cuda *c)
{
	if (!c)
		return;
	cudaSetDevice(c->dev);
	cudaFree(c->d_pt);
	cudaFree(c->d_out);
	free(c);
}

extern "C" int gs_cuda_eval(gs_cuda *c, const gs_model *m, gs_c kzi, gs_c ri, gs_c ti, double *out)
{
	if (cudaSetDevice(c->dev) != cudaSuccess ||
	    cudaMemcpyToSymbol(c_model, m, sizeof(*m)) != cudaSuccess)
		return -EIO;
	if (c->n) {
		int threads = 256;
		size_t blocks = (c->n + threads - 1) / threads;
		gs_kernel<<<(unsigned)(blocks < 65535 * 16 ? blocks : 65535 * 16), threads>>>(
		    c->d_pt, c->n, kzi, ri, ti, c->d_out);
		if (cudaGetLastError() != cudaSuccess ||
		    cudaMemcpy(out, c->d_out, c->n * sizeof(double), cudaMemcpyDeviceToHost) !=
			cudaSuccess)
			return -EIO;
	}
	return 0;
}
