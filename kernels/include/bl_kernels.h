/* bl_kernels.h: the analysis kernels' C API: which compute backends this build and machine offer.
 */
#ifndef BL_KERNELS_H
#define BL_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One CUDA device as the runtime reports it. */
struct bl_kern_gpu {
	int index;
	char name[256]; /* as long as cudaDeviceProp::name */
	int cc_major, cc_minor;
	size_t mem_bytes;
	int sm_count;
};

/* What the build was compiled with, e.g. "cpu (OpenMP 4.5); cuda 13.0 (sm 80 89 90)". */
const char *bl_kern_build_info(void);

/* Threads the CPU path uses (OpenMP's maximum, 1 without OpenMP). */
int bl_kern_cpu_threads(void);

/* Fills up to CAP GPUs into OUT and returns how many were found: 0 when the build has no CUDA or
 * the machine has no usable GPU; a negative errno when the CUDA runtime failed unexpectedly. */
int bl_kern_gpus(struct bl_kern_gpu *out, int cap);

/* Sums 1..N on GPU DEV with a block reduction and returns 0 when the result is exact: proves that
 * this build's device code runs on that GPU's architecture. -ENODEV without a GPU or CUDA build. */
int bl_kern_gpu_selftest(int dev, unsigned n);

#ifdef __cplusplus
}
#endif

#endif
