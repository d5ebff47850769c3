/* test_agent_results.c: analysis results back to the agent: workers that answer every frame
 * (the real bl_an_* analysis), one that dies holding frames (they are sent again), a malformed
 * result; every frame's result exactly once, in /entry/process, equal to a direct analysis.
 * With "mpi ANALYZE MPIRUN": the same through `mpirun -np 2 beamloop-analyze`. */
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../check.h"
#include "bl_agent.h"
#include "bl_analyze.h"
#include "fwd_rig.h"

extern char **environ;

static char out_dir[512];
static atomic_int callbacks;
static atomic_int callback_bins;

static void on_result(void *ctx, const struct bl_agent_result *r)
{
	(void)ctx;
	atomic_fetch_add(&callbacks, 1);
	if (r->nbins == 200 && r->q && r->mean && r->sem && r->latency_ms >= 0)
		atomic_fetch_add(&callback_bins, 1);
}

static void agent_start(void)
{
	struct bl_agent_config cfg = {.stream = src.endpoint,
				      .out_dir = out_dir,
				      .forward = "tcp://127.0.0.1:*",
				      .on_result = on_result,
				      .results_wait_us = 500000,
				      .geom = {.distance_m = 0.5,
					       .x_pixel_m = 172e-6,
					       .y_pixel_m = 172e-6,
					       .beam_x_px = 60.5,
					       .beam_y_px = 70.25,
					       .width = W,
					       .height = H,
					       .wavelength_A = 1.24}};
	agent_run_start(&cfg);
}

/* An analysis worker: asks with "credit N acks"; DIE_AFTER > 0: takes that many frames, never
 * answers them, and closes its socket (a crash). BAD: first sends one malformed result. */
struct aw {
	pthread_t th;
	void *ctx;
	char endpoint[128];
	int window, die_after;
	bool bad;
	atomic_int got, answered;
};

static void *aw_loop(void *arg)
{
	struct aw *a = arg;
	void *d = zmq_socket(a->ctx, ZMQ_DEALER);
	zmq_setsockopt(d, ZMQ_LINGER, &(int){0}, sizeof(int));
	zmq_connect(d, a->endpoint);
	struct bl_an_worker *w = NULL;
	bl_an_worker_new(&w, &(struct bl_an_config){.nbins = 200, .who = "test"});
	char c[32];
	snprintf(c, sizeof(c), "credit %d acks", a->window);
	zmq_send(d, c, strlen(c), 0);
	if (a->bad) {
		zmq_send(d, "result", 6, ZMQ_SNDMORE);
		zmq_send(d, "{\"frame\": 1}", 12, 0);
	}
	static __thread char tag[4096];
	static __thread uint8_t chunk[1 << 20];
	while (!atomic_load(&agent_stop)) {
		zmq_pollitem_t it = {.socket = d, .events = ZMQ_POLLIN};
		if (zmq_poll(&it, 1, 10) <= 0)
			continue;
		int t = zmq_recv(d, tag, sizeof(tag) - 1, 0), more = 0;
		size_t ml = sizeof(more);
		zmq_getsockopt(d, ZMQ_RCVMORE, &more, &ml);
		if (t < 0 || !more)
			continue; /* the agent's probe */
		int n = zmq_recv(d, chunk, sizeof(chunk), 0);
		if (n < 0)
			continue;
		int got = atomic_fetch_add(&a->got, 1) + 1;
		if (a->die_after) {
			if (got == a->die_after)
				break;
			continue;
		}
		struct bl_an_result r;
		char err[128];
		if (bl_an_frame(w, tag, (size_t)t, chunk, (size_t)n, &r, err, sizeof(err))) {
			fprintf(stderr, "worker: %s\n", err);
			continue;
		}
		size_t nb = (size_t)r.nbins * sizeof(double);
		zmq_send(d, "result", 6, ZMQ_SNDMORE);
		zmq_send(d, r.json, strlen(r.json), ZMQ_SNDMORE);
		zmq_send(d, r.q, nb, ZMQ_SNDMORE);
		zmq_send(d, r.mean, nb, ZMQ_SNDMORE);
		zmq_send(d, r.sem, nb, 0);
		zmq_send(d, "credit 1 acks", 13, 0);
		cJSON_free(r.json);
		atomic_fetch_add(&a->answered, 1);
	}
	zmq_close(d);
	bl_an_worker_free(w);
	return NULL;
}

static void aw_start(struct aw *a, void *ctx, int window, int die_after, bool bad)
{
	a->ctx = ctx;
	bl_agent_forward_endpoint(agent, a->endpoint, sizeof(a->endpoint));
	a->window = window;
	a->die_after = die_after;
	a->bad = bad;
	pthread_create(&a->th, NULL, aw_loop, a);
}

static void read_doubles(hid_t f, const char *path, double *v)
{
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	CHECK(d >= 0);
	CHECK(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(d);
}

/* The file of SERIES has an /entry/process with N analysed rows whose profiles equal a direct
 * analysis of the frames sent. */
static void check_process(uint64_t series, int n)
{
	char path[1024];
	bl_agent_last_file(agent, path, sizeof(path));
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	CHECK(f >= 0);
	uint8_t analysed[64] = {0};
	hid_t d = H5Dopen2(f, "/entry/process/analysed", H5P_DEFAULT);
	CHECK(d >= 0);
	H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, analysed);
	H5Dclose(d);
	int all = 0;
	for (int i = 0; i < n; i++)
		all += analysed[i];
	CHECK_EQ_INT(all, n);
	static double I[64 * 200], q[200];
	read_doubles(f, "/entry/process/profiles/I", I);
	read_doubles(f, "/entry/process/profiles/q", q);
	struct bl_an_worker *w = NULL;
	bl_an_worker_new(&w, &(struct bl_an_config){.nbins = 200});
	char tag[512];
	snprintf(tag, sizeof(tag),
		 "{\"shape\":[%d,%d],\"type\":\"uint16\",\"encoding\":\"bs16-lz4<\","
		 "\"geometry\":{\"distance_mm\":500,\"pixel_x_um\":172,\"pixel_y_um\":172,"
		 "\"beam_center_x_px\":60.5,\"beam_center_y_px\":70.25,\"wavelength_nm\":0.124}}",
		 H, W);
	int bad = 0, nonzero = 0;
	for (int i = 0; i < n; i++) {
		const struct sent *s = src_find(series, (uint64_t)i);
		struct bl_an_result r;
		char err[128];
		CHECK(bl_an_frame(w, tag, strlen(tag), s->data, s->size, &r, err, sizeof(err)) ==
		      0);
		for (int b = 0; b < 200; b++) {
			double x = I[i * 200 + b], y = r.mean[b];
			if (!(fabs(x - y) <= 1e-12 * fabs(y)) && !(x == 0 && y == 0))
				bad++;
			nonzero += y != 0;
			if (i == 0 && fabs(q[b] - r.q[b]) > 1e-12 * q[b])
				bad++;
		}
		cJSON_free(r.json);
	}
	CHECK_EQ_INT(bad, 0);
	CHECK(nonzero > n * 100); /* profiles with something in them */
	bl_an_worker_free(w);
	H5Fclose(f);
}

static int run_threads(void)
{
	agent_start();
	void *ctx = zmq_ctx_new();
	struct aw dies = {0}, good = {0};
	/* the dying worker connects first and takes frames it never answers */
	aw_start(&dies, ctx, 4, 3, false);
	WAIT_FOR(counters().fwd_workers == 1);
	send_series(1, 0, 2, true, false);
	WAIT_FOR(atomic_load(&dies.got) >= 2);
	aw_start(&good, ctx, 4, 0, true);
	WAIT_FOR(counters().fwd_workers == 2);
	send_series(1, 2, 20, false, true);
	WAIT_FOR(counters().results == 20);
	WAIT_FOR(counters().files_analysed == 1);
	struct bl_agent_counters c = counters();
	CHECK(c.fwd_requeued >= 2); /* what the dead one held went again */
	CHECK_EQ_INT(c.results_unknown, 0);
	CHECK_EQ_INT(c.results_bad, 1); /* the malformed one */
	CHECK_EQ_INT(c.fwd_dropped, 0);
	CHECK_EQ_INT(atomic_load(&callbacks), 20);
	CHECK_EQ_INT(atomic_load(&callback_bins), 20);
	CHECK_EQ_INT(atomic_load(&good.answered), 20);
	check_process(1, 20);
	cJSON *reply = NULL;
	CHECK_EQ_INT(bl_agent_command(agent, "status", NULL, 100, &reply), -ENOTCONN);
	agent_kill();
	pthread_join(dies.th, NULL);
	pthread_join(good.th, NULL);
	zmq_ctx_term(ctx);
	return 0;
}

/* mpirun -np 2 beamloop-analyze against the agent: both ranks serve, every frame analysed. */
static int run_mpi(const char *analyze, const char *mpirun)
{
	if (access(mpirun, X_OK) || access(analyze, X_OK)) {
		fprintf(stderr, "no %s or %s: skipped\n", mpirun, analyze);
		return 77;
	}
	agent_start();
	char ep[128], log[600];
	bl_agent_forward_endpoint(agent, ep, sizeof(ep));
	snprintf(log, sizeof(log), "%s/analyze.out", out_dir);
	char *argv[] = {(char *)mpirun,
			"--allow-run-as-root",
			"--oversubscribe",
			"-np",
			"2",
			(char *)analyze,
			"--agent",
			ep,
			"--bins",
			"200",
			"--idle-exit",
			"2",
			NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	/* OpenMPI's plugins (dlclosed at exit, so unnamed in reports) leak what LeakSanitizer
	 * would flag in the ranks: leaks are looked for in this process and in agent_results */
	char *envp[256];
	int ne = 0;
	for (char **e = environ; *e && ne < 254; e++)
		if (strncmp(*e, "ASAN_OPTIONS=", 13))
			envp[ne++] = *e;
	envp[ne++] = "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1";
	envp[ne] = NULL;
	pid_t pid;
	CHECK(posix_spawn(&pid, mpirun, &fa, NULL, argv, envp) == 0);
	posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < 3000 && counters().fwd_workers < 2; i++)
		sleep_ms(10); /* mpirun takes a while to start its ranks */
	CHECK_EQ_INT(counters().fwd_workers, 2);
	send_series(7, 0, 40, true, true);
	for (int i = 0; i < 3000 && counters().results < 40; i++)
		sleep_ms(10);
	CHECK_EQ_INT(counters().results, 40);
	WAIT_FOR(counters().files_analysed == 1);
	check_process(7, 40);
	int st = 0;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	FILE *f = fopen(log, "r");
	char text[4096] = "";
	size_t len = f ? fread(text, 1, sizeof(text) - 1, f) : 0;
	text[len] = 0;
	if (f)
		fclose(f);
	printf("%s", text);
	CHECK(strstr(text, "2 ranks, 40 frames analysed, 0 not analysed") != NULL);
	/* both ranks did some of the work */
	CHECK(strstr(text, "rank 0: 0 frames") == NULL && strstr(text, "rank 1: 0 frames") == NULL);
	agent_kill();
	return 0;
}

int main(int argc, char **argv)
{
	snprintf(out_dir, sizeof(out_dir), "/tmp/bl-agent-results-%d", (int)getpid());
	CHECK(src_start() == 0);
	int rc = argc == 4 && !strcmp(argv[1], "mpi") ? run_mpi(argv[2], argv[3]) : run_threads();
	src_stop();
	if (rc == 77)
		return 77;
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", out_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", out_dir);
	return CHECK_DONE();
}
