/* gpu_backend.cu: CUDA device discovery and a self-test that proves the built device code runs. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cuda_runtime.h>

#include "bl_kernels.h"

extern "C" int bl_kern_gpus(struct bl_kern_gpu *out, int cap)
{
	int n = 0;
	cudaError_t rc = cudaGetDeviceCount(&n);
	if (rc == cudaErrorNoDevice || rc == cudaErrorInsufficientDriver) {
		cudaGetLastError();
		return 0;
	}
	if (rc != cudaSuccess) {
		fprintf(stderr, "bl_kern_gpus: %s\n", cudaGetErrorString(rc));
		cudaGetLastError();
		return -EIO;
	}
	for (int i = 0; i < n && i < cap; i++) {
		cudaDeviceProp p;
		if (cudaGetDeviceProperties(&p, i) != cudaSuccess)
			return -EIO;
		out[i].index = i;
		snprintf(out[i].name, sizeof(out[i].name), "%s", p.name);
		out[i].cc_major = p.major;
		out[i].cc_minor = p.minor;
		out[i].mem_bytes = p.totalGlobalMem;
		out[i].sm_count = p.multiProcessorCount;
	}
	return n;
}

/* Block-wise sum of 1..n into 64-bit partials; one atomicAdd per block. */
__global__ static void sum_kernel(unsigned n, unsigned long long *total)
{
	__shared__ unsigned long long part[256];
	unsigned i = blockIdx.x * blockDim.x + threadIdx.x;
	part[threadIdx.x] = i < n ? (unsigned long long)i + 1 : 0;
	__syncthreads();
	for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
		if (threadIdx.x < s)
			part[threadIdx.x] += part[threadIdx.x + s];
		__syncthreads();
	}
	if (threadIdx.x == 0)
		atomicAdd(total, part[0]);
}

extern "C" int bl_kern_gpu_selftest(int dev, unsigned n)
{
	int count = 0;
	if (cudaGetDeviceCount(&count) != cudaSuccess || dev < 0 || dev >= count) {
		cudaGetLastError();
		return -ENODEV;
	}
	if (cudaSetDevice(dev) != cudaSuccess)
		return -EIO;
	unsigned long long *d = NULL, h = 0;
	if (cudaMalloc(&d, sizeof(*d)) != cudaSuccess)
		return -ENOMEM;
	int ret = -EIO;
	if (cudaMemset(d, 0, sizeof(*d)) == cudaSuccess) {
		sum_kernel<<<(n + 255) / 256, 256>>>(n, d);
		cudaError_t rc = cudaGetLastError();
		if (rc == cudaSuccess)
			rc = cudaMemcpy(&h, d, sizeof(h), cudaMemcpyDeviceToHost);
		if (rc != cudaSuccess)
			fprintf(stderr, "bl_kern_gpu_selftest: %s\n", cudaGetErrorString(rc));
		else
			ret = h == (unsigned long long)n * (n + 1ull) / 2 ? 0 : -EIO;
	}
	cudaFree(d);
	return ret;
}
