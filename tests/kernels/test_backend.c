/* test_backend.c: the kernels library reports its build and CPU facts consistently. */
#include <string.h>

#include "../check.h"
#include "bl_kernels.h"

int main(void)
{
	const char *info = bl_kern_build_info();
	CHECK(strncmp(info, "cpu (", 5) == 0);
#ifdef _OPENMP
	CHECK(strstr(info, "OpenMP") != NULL);
#endif
	CHECK(bl_kern_cpu_threads() >= 1);
	struct bl_kern_gpu g[4];
	int n = bl_kern_gpus(g, 4);
	CHECK(n >= 0);
	if (n == 0)
		CHECK(bl_kern_gpu_selftest(0, 1000) < 0); /* no device: refused, not faked */
	return CHECK_DONE();
}
