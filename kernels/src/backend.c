/* backend.c: build and CPU facts of the analysis kernels, and the no-CUDA fallbacks of the GPU
 * entry points. */
#include <errno.h>
#include <stdio.h>

#include "bl_kernels.h"

#ifdef _OPENMP
#include <omp.h>
#endif

const char *bl_kern_build_info(void)
{
	static char info[160];
	int n = 0;
#ifdef _OPENMP
	n = snprintf(info, sizeof(info), "cpu (OpenMP %d)", _OPENMP);
#else
	n = snprintf(info, sizeof(info), "cpu (no OpenMP)");
#endif
#ifdef BL_HAVE_CUDA
	snprintf(info + n, sizeof(info) - (size_t)n, "; cuda %s (sm %s)", BL_CUDA_VERSION,
		 BL_CUDA_ARCHS);
#else
	(void)n;
#endif
	return info;
}

int bl_kern_cpu_threads(void)
{
#ifdef _OPENMP
	return omp_get_max_threads();
#else
	return 1;
#endif
}

#ifndef BL_HAVE_CUDA
int bl_kern_gpus(struct bl_kern_gpu *out, int cap)
{
	(void)out;
	(void)cap;
	return 0;
}

int bl_kern_gpu_selftest(int dev, unsigned n)
{
	(void)dev;
	(void)n;
	return -ENODEV;
}
#endif
