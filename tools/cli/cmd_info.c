/* cmd_info.c: `beamloop info`: what this build can compute on (CPU threads, CUDA devices). */
#include <stdio.h>

#include "bl_kernels.h"
#include "cli.h"

int bl_cli_info(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("kernels: %s\ncpu threads: %d\n", bl_kern_build_info(), bl_kern_cpu_threads());
	struct bl_kern_gpu g[8];
	int n = bl_kern_gpus(g, 8);
	if (n < 0) {
		printf("gpus: error querying the CUDA runtime\n");
		return 1;
	}
	printf("gpus: %d\n", n);
	for (int i = 0; i < n && i < 8; i++)
		printf("  gpu %d: %s, sm_%d%d, %d SMs, %.1f GiB\n", g[i].index, g[i].name,
		       g[i].cc_major, g[i].cc_minor, g[i].sm_count,
		       (double)g[i].mem_bytes / (1 << 30));
	return 0;
}
