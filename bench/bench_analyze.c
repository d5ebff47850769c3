/* bench_analyze.c: the analysis service's throughput and per-frame costs at np = 1 and 2:
 * Pilatus-1M GISAXS frames (rendered by the simulated detector's forward model, bs32-lz4) go
 * through the real agent (forwarding) to `mpirun -np N beamloop-analyze [--fit]`; frames/s from
 * the first frame sent to the last result in, and the ranks' own decode/reduce/fit figures. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bl_agent.h"
#include "bl_dstream.h"
#include "det_render.h"
#include "film_morph.h"

extern char **environ;

#define WD	  981
#define HT	  1043
#define NDISTINCT 4

static struct bl_agent *agent;
static atomic_bool stop;
static void *chunk[NDISTINCT];
static size_t chunk_len[NDISTINCT];
static char md5[NDISTINCT][33];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *agent_thread(void *arg)
{
	(void)arg;
	bl_agent_run(agent, &stop);
	return NULL;
}

static struct bl_agent_counters counters(void)
{
	struct bl_agent_counters c;
	bl_agent_counters(agent, &c);
	return c;
}

/* Four films around the printing target, rendered and Poisson-sampled once. */
static int make_frames(void)
{
	const struct bl_det_geom g = {.width = WD,
				      .height = HT,
				      .pixel_mm = 0.172,
				      .beam_x = 490.5,
				      .beam_y = 980,
				      .distance_mm = 3500,
				      .wavelength_nm = 0.12398,
				      .incidence_deg = 0.16,
				      .module_w = 487,
				      .module_h = 195,
				      .gap_x = 7,
				      .gap_y = 17,
				      .beamstop_px = 2.0 / 0.172};
	struct bl_det_gs *gs = NULL;
	static float mu[WD * HT];
	static uint32_t pix[WD * HT];
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	if (bl_det_gs_new(&gs, &g) || !rng)
		return -ENOMEM;
	const struct bl_film_recipe rec[NDISTINCT] = {
	    {59, 2.0, 109}, {20, 1.0, 90}, {100, 4.0, 120}, {40, 0.8, 70}};
	for (int k = 0; k < NDISTINCT; k++) {
		struct bl_film_morph m;
		bl_film_morph(&rec[k], rng, &m);
		m.film.model = BL_DET_GISAXS;
		bl_det_render_gisaxs(gs, &g, &m.film, 0.1, mu);
		bl_det_sample(rng, mu, (size_t)WD * HT, 4, pix);
		size_t cap = bl_dcodec_bound(BL_DENC_BS32_LZ4, (size_t)WD * HT, 4);
		chunk[k] = malloc(cap);
		if (!chunk[k] || bl_dcodec_encode(BL_DENC_BS32_LZ4, pix, (size_t)WD * HT, 4,
						  chunk[k], cap, &chunk_len[k]))
			return -EIO;
		bl_md5_hex(chunk[k], chunk_len[k], md5[k]);
	}
	gsl_rng_free(rng);
	bl_det_gs_free(gs);
	return 0;
}

static void send_frame(void *push, uint64_t series, uint64_t frame)
{
	char b[3][256];
	int k = (int)(frame % NDISTINCT);
	int n0 = bl_dmsg_image(b[0], 256, series, frame, md5[k]);
	int n1 =
	    bl_dmsg_image_d(b[1], 256, WD, HT, BL_DTYPE_UINT32, BL_DENC_BS32_LZ4, chunk_len[k]);
	int n2 = bl_dmsg_config(b[2], 256, frame * 1000, frame * 1000 + 500, 500);
	zmq_send(push, b[0], (size_t)n0, ZMQ_SNDMORE);
	zmq_send(push, b[1], (size_t)n1, ZMQ_SNDMORE);
	zmq_send(push, chunk[k], chunk_len[k], ZMQ_SNDMORE);
	zmq_send(push, b[2], (size_t)n2, 0);
}

/* One run: NP ranks, FRAMES frames; prints a line. */
static int run(void *push, const char *analyze, const char *mpirun, int np, int frames, bool fit,
	       uint64_t series, const char *out)
{
	char ep[256], log[600], npn[8], omp[32];
	bl_agent_forward_endpoint(agent, ep, sizeof(ep));
	snprintf(log, sizeof(log), "%s/analyze-np%d.log", out, np);
	snprintf(npn, sizeof(npn), "%d", np);
	snprintf(omp, sizeof(omp), "OMP_NUM_THREADS=%d", np == 1 ? 2 : 1); /* 2 cores in all */
	char *argv[] = {(char *)mpirun,
			"--allow-run-as-root",
			"--oversubscribe",
			"-np",
			npn,
			(char *)analyze,
			"--agent",
			ep,
			"--idle-exit",
			"2",
			fit ? "--fit" : NULL,
			NULL};
	char *envp[256];
	int ne = 0;
	for (char **e = environ; *e && ne < 253; e++)
		if (strncmp(*e, "OMP_NUM_THREADS=", 16))
			envp[ne++] = *e;
	envp[ne++] = omp;
	envp[ne] = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	pid_t pid;
	if (posix_spawn(&pid, mpirun, &fa, NULL, argv, envp))
		return -errno;
	posix_spawn_file_actions_destroy(&fa);
	uint64_t w0 = counters().fwd_workers, r0 = counters().results;
	for (int i = 0; i < 3000 && counters().fwd_workers < w0 + (uint64_t)np; i++)
		usleep(10000);
	char b[128];
	int n = bl_dmsg_header(b, sizeof(b), series, "none");
	zmq_send(push, b, (size_t)n, 0);
	double t0 = now_s();
	for (int f = 0; f < frames; f++)
		send_frame(push, series, (uint64_t)f);
	n = bl_dmsg_end(b, sizeof(b), series);
	zmq_send(push, b, (size_t)n, 0);
	while (counters().results < r0 + (uint64_t)frames && now_s() - t0 < 600)
		usleep(2000);
	double wall = now_s() - t0;
	int st = 0;
	waitpid(pid, &st, 0);
	FILE *lf = fopen(log, "r");
	char line[512], summary[512] = "";
	while (lf && fgets(line, sizeof(line), lf))
		if (strstr(line, "ranks,"))
			snprintf(summary, sizeof(summary), "%s", line);
	if (lf)
		fclose(lf);
	uint64_t got = counters().results - r0;
	printf("np %d%s: %d frames, %llu results in %.2f s: %.1f frames/s end to end\n  %s", np,
	       fit ? " --fit" : "", frames, (unsigned long long)got, wall, got / wall, summary);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	int frames = 200;
	const char *out = "bench-analyze-out";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--frames"))
			frames = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--out"))
			out = argv[i + 1];
	}
	const char *analyze = BL_BINARY_DIR "/analyze/beamloop-analyze", *mpirun = BL_MPIEXEC;
	if (access(analyze, X_OK) || access(mpirun, X_OK)) {
		fprintf(stderr, "bench_analyze: needs %s and %s\n", analyze, mpirun);
		return 1;
	}
	if (make_frames()) {
		fprintf(stderr, "bench_analyze: could not render the frames\n");
		return 1;
	}
	void *ctx = zmq_ctx_new(), *push = zmq_socket(ctx, ZMQ_PUSH);
	char src[128];
	size_t len = sizeof(src);
	zmq_setsockopt(push, ZMQ_LINGER, &(int){0}, sizeof(int));
	zmq_setsockopt(push, ZMQ_SNDHWM, &(int){8}, sizeof(int));
	zmq_bind(push, "tcp://127.0.0.1:*");
	zmq_getsockopt(push, ZMQ_LAST_ENDPOINT, src, &len);
	char mk[600];
	snprintf(mk, sizeof(mk), "rm -rf '%s' && mkdir -p '%s'", out, out);
	if (system(mk))
		return 1;
	struct bl_agent_config cfg = {.stream = src,
				      .out_dir = out,
				      .forward = "tcp://127.0.0.1:*",
				      .geom = {.distance_m = 3.5,
					       .x_pixel_m = 172e-6,
					       .y_pixel_m = 172e-6,
					       .beam_x_px = 490.5,
					       .beam_y_px = 980,
					       .wavelength_A = 1.2398,
					       .incidence_deg = 0.16,
					       .width = WD,
					       .height = HT}};
	char err[512];
	if (bl_agent_new(&agent, &cfg, err, sizeof(err))) {
		fprintf(stderr, "bench_analyze: agent: %s\n", err);
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, agent_thread, NULL);
	printf("bench_analyze: Pilatus 1M GISAXS frames (bs32-lz4), %d a run, agent -> mpirun "
	       "beamloop-analyze; 2 cores in all (OMP_NUM_THREADS 2 at np 1, 1 at np 2)\n",
	       frames);
	uint64_t series = 1;
	for (int fit = 0; fit < 2; fit++)
		for (int np = 1; np <= 2; np++)
			run(push, analyze, mpirun, np, frames, fit, series++, out);
	atomic_store(&stop, true);
	pthread_join(th, NULL);
	bl_agent_free(agent);
	zmq_close(push);
	zmq_ctx_term(ctx);
	for (int k = 0; k < NDISTINCT; k++)
		free(chunk[k]);
	return 0;
}
