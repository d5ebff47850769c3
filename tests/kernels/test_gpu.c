/* test_gpu.c: on a machine with a GPU, this build's device code runs and computes exactly (else
 * skip, 77). */
#include <stdio.h>

#include "../check.h"
#include "bl_kernels.h"

int main(void)
{
	struct bl_kern_gpu g[8];
	int n = bl_kern_gpus(g, 8);
	if (n <= 0) {
		printf("no GPU (%s): skipped\n", bl_kern_build_info());
		return 77;
	}
	for (int i = 0; i < n && i < 8; i++) {
		printf("gpu %d: %s sm_%d%d, %d SMs\n", i, g[i].name, g[i].cc_major, g[i].cc_minor,
		       g[i].sm_count);
		CHECK(g[i].sm_count > 0);
		CHECK(g[i].mem_bytes > 0);
		CHECK_EQ_INT(bl_kern_gpu_selftest(i, 1000003u), 0);
		CHECK_EQ_INT(bl_kern_gpu_selftest(i, 1u), 0);
	}
	return CHECK_DONE();
}
