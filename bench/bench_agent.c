/* bench_agent.c: sustained ingest -> store -> forward throughput of the host agent (in-process
 * thread; edges from a fake controller, or --untagged) for Eiger 4M bs16-lz4 and Pilatus 1M
 * bs32-lz4 frames pushed over ZMQ, beside an h5py writer of the same frames and dd on the same
 * disk, same run. Usage: bench_agent [--seconds S] [--out DIR] [--no-peer] [--untagged]. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bl_agent.h"
#include "bl_dstream.h"
#include "bench_agent_ctl.h"

#define NDISTINCT 4
#define INFLIGHT  32
#define EDGE_LEAD 128

struct bench_case {
	const char *name;
	int w, h;
	enum bl_dtype type;
	enum bl_denc enc;
	double pixel_m;
};

static const struct bench_case cases[] = {
    {"eiger4m", 2070, 2167, BL_DTYPE_UINT16, BL_DENC_BS16_LZ4, 75e-6},
    {"pilatus1m", 981, 1043, BL_DTYPE_UINT32, BL_DENC_BS32_LZ4, 172e-6},
};

static struct {
	void *data[NDISTINCT];
	size_t size[NDISTINCT];
	char md5[NDISTINCT][33];
	void *raw[NDISTINCT];
} fr;

static double seconds = 3;
static const char *out_root = "bench-agent-out";
static bool peer = true, tagged = true;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double cpu_self(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

static uint64_t rng = 88172645463325252ull;
static double uni(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (double)(rng >> 11) * 0x1p-53;
}

/* Poisson(LAM): Knuth below 30, normal approximation above. */
static unsigned poisson(double lam)
{
	if (lam >= 30) {
		double g = sqrt(-2 * log(uni() + 1e-300)) * cos(2 * M_PI * uni());
		double v = lam + sqrt(lam) * g + 0.5;
		return v < 0 ? 0 : (unsigned)v;
	}
	double l = exp(-lam), p = 1;
	unsigned k = 0;
	do {
		k++;
		p *= uni();
	} while (p > l);
	return k - 1;
}

/* NDISTINCT frames: Poisson counts of a powder ring pattern (two rings on a background),
 * compressed once with the stream's bitshuffle-LZ4 (bshuf_compress_lz4) and hashed. */
static int make_frames(const struct bench_case *c)
{
	size_t n = (size_t)c->w * (size_t)c->h, elem = (size_t)c->type;
	size_t cap = bl_dcodec_bound(c->enc, n, elem);
	double cx = c->w * 0.48, cy = c->h * 0.53;
	for (int k = 0; k < NDISTINCT; k++) {
		fr.raw[k] = malloc(n * elem);
		fr.data[k] = malloc(cap);
		if (!fr.raw[k] || !fr.data[k])
			return -ENOMEM;
		double scale = 1 + 0.1 * k;
		for (int y = 0; y < c->h; y++)
			for (int x = 0; x < c->w; x++) {
				double r = hypot(x - cx, y - cy), r1 = (r - 300) / 6,
				       r2 = (r - 620) / 9;
				double lam = scale * (1.5 + 40 * exp(-r1 * r1) +
						      15 * exp(-r2 * r2) + 200 / (1 + r));
				unsigned v = poisson(lam);
				size_t i = (size_t)y * (size_t)c->w + (size_t)x;
				if (elem == 2)
					((uint16_t *)fr.raw[k])[i] = (uint16_t)v;
				else
					((uint32_t *)fr.raw[k])[i] = v;
			}
		int rc = bl_dcodec_encode(c->enc, fr.raw[k], n, elem, fr.data[k], cap, &fr.size[k]);
		if (rc)
			return rc;
		bl_md5_hex(fr.data[k], fr.size[k], fr.md5[k]);
	}
	return 0;
}

static void free_frames(void)
{
	for (int k = 0; k < NDISTINCT; k++) {
		free(fr.data[k]);
		free(fr.raw[k]);
		fr.data[k] = fr.raw[k] = NULL;
	}
}

/* ---- the detector side: PUSH, zero-copy data parts ---- */

static struct bl_agent *agent;
static uint64_t frames_written(void)
{
	struct bl_agent_counters c;
	bl_agent_counters(agent, &c);
	return c.frames_written;
}

static struct {
	void *ctx, *push;
	char endpoint[128];
	atomic_ullong sent;
	double t0, t_end;
	const struct bench_case *c;
} src;

static void send_str(const char *s, int n, int flags)
{
	zmq_send(src.push, s, (size_t)n, flags);
}

static void *src_loop(void *arg)
{
	(void)arg;
	const struct bench_case *c = src.c;
	char b[256];
	send_str(b, bl_dmsg_header(b, sizeof(b), 1, "none"), 0);
	src.t0 = now();
	for (uint64_t f = 0; now() - src.t0 < seconds; f++) {
		int k = (int)(f % NDISTINCT);
		/* Edges lead their frames by EDGE_LEAD, as a trigger comes before its readout. */
		for (uint64_t e = f ? f + EDGE_LEAD : 0; tagged && e <= f + EDGE_LEAD; e++)
			while (!ctl_edge(e))
				nanosleep(&(struct timespec){0, 100000}, NULL);
		/* At most INFLIGHT frames ahead of the file, as a detector's buffer is finite: the
		 * agent's sustained rate, not a backlog piling up in ZMQ's queues. */
		while (f >= INFLIGHT && f - frames_written() > INFLIGHT)
			nanosleep(&(struct timespec){0, 100000}, NULL);
		send_str(b, bl_dmsg_image(b, sizeof(b), 1, f, fr.md5[k]), ZMQ_SNDMORE);
		send_str(b, bl_dmsg_image_d(b, sizeof(b), c->w, c->h, c->type, c->enc, fr.size[k]),
			 ZMQ_SNDMORE);
		zmq_msg_t m;
		zmq_msg_init_data(&m, fr.data[k], fr.size[k], NULL, NULL);
		zmq_msg_send(&m, src.push, ZMQ_SNDMORE);
		send_str(b, bl_dmsg_config(b, sizeof(b), f * 1000000, f * 1000000 + 500000, 500000),
			 0);
		atomic_store(&src.sent, f + 1);
	}
	src.t_end = now();
	send_str(b, bl_dmsg_end(b, sizeof(b), 1), 0);
	return NULL;
}

/* ---- a fast analysis worker: asks for a window of 64, takes and drops each frame ---- */

static struct {
	char endpoint[128];
	atomic_bool stop;
	atomic_ullong got;
} wk;

static void *wk_loop(void *ctx)
{
	void *d = zmq_socket(ctx, ZMQ_DEALER);
	int zero = 0;
	zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_connect(d, wk.endpoint);
	zmq_send(d, "credit 64", 9, 0);
	while (!atomic_load(&wk.stop)) {
		zmq_pollitem_t it = {.socket = d, .events = ZMQ_POLLIN};
		if (zmq_poll(&it, 1, 10) <= 0)
			continue;
		zmq_msg_t m;
		int more = 1;
		while (more) {
			zmq_msg_init(&m);
			zmq_msg_recv(&m, d, 0);
			more = zmq_msg_more(&m);
			zmq_msg_close(&m);
		}
		atomic_fetch_add(&wk.got, 1);
		zmq_send(d, "credit 1", 8, 0);
	}
	zmq_close(d);
	return NULL;
}

/* ---- the agent ---- */

static atomic_bool agent_stop;
static double agent_cpu;

static void *agent_loop(void *arg)
{
	(void)arg;
	bl_agent_run(agent, &agent_stop);
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	agent_cpu = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	return NULL;
}

static void quiet(void *ctx, const char *line)
{
	(void)ctx;
	if (!strstr(line, "opened") && !strstr(line, "closed"))
		fprintf(stderr, "  agent: %s\n", line);
}

static void counters(struct bl_agent_counters *c)
{
	bl_agent_counters(agent, c);
}

static int run_case(const struct bench_case *c, double *raw_gbs)
{
	char dir[512], err[512];
	snprintf(dir, sizeof(dir), "%s/%s", out_root, c->name);
	mkdir(out_root, 0755);
	mkdir(dir, 0755);
	memset(&src, 0, sizeof(src));
	src.c = c;
	src.ctx = zmq_ctx_new();
	zmq_ctx_set(src.ctx, ZMQ_IO_THREADS, 1);
	src.push = zmq_socket(src.ctx, ZMQ_PUSH);
	int hwm = 8, zero = 0;
	size_t len = sizeof(src.endpoint);
	zmq_setsockopt(src.push, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(src.push, ZMQ_LINGER, &zero, sizeof(zero));
	if (zmq_bind(src.push, "tcp://127.0.0.1:*") ||
	    zmq_getsockopt(src.push, ZMQ_LAST_ENDPOINT, src.endpoint, &len))
		return -errno;
	if (tagged && ctl_start(1))
		return -EIO;
	struct bl_agent_config cfg = {.stream = src.endpoint,
				      .fw = tagged ? &ctl.client : NULL,
				      .out_dir = dir,
				      .forward = "tcp://127.0.0.1:*",
				      .slots = 16,
				      .log = quiet,
				      .geom = {.distance_m = 2,
					       .x_pixel_m = c->pixel_m,
					       .y_pixel_m = c->pixel_m,
					       .width = c->w,
					       .height = c->h,
					       .beam_x_px = c->w * 0.48,
					       .beam_y_px = c->h * 0.53,
					       .wavelength_A = 1}};
	int rc = bl_agent_new(&agent, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "agent: %s\n", err);
		return rc;
	}
	bl_agent_forward_endpoint(agent, wk.endpoint, sizeof(wk.endpoint));
	atomic_store(&wk.got, 0);
	atomic_store(&wk.stop, false);
	atomic_store(&agent_stop, false);
	pthread_t at, st, wt;
	pthread_create(&at, NULL, agent_loop, NULL);
	pthread_create(&wt, NULL, wk_loop, src.ctx);
	struct timespec pause = {0, 300000000};
	nanosleep(&pause, NULL); /* the agent's PULL and the worker connect */
	double cpu0 = cpu_self();
	pthread_create(&st, NULL, src_loop, NULL);
	pthread_join(st, NULL);
	uint64_t n = atomic_load(&src.sent);
	struct bl_agent_counters k;
	double t1;
	for (;;) {
		counters(&k);
		t1 = now();
		if ((k.frames_written >= n && atomic_load(&wk.got) >= n) || t1 - src.t_end > 30)
			break;
		nanosleep(&(struct timespec){0, 200000}, NULL);
	}
	double cpu1 = cpu_self(), wall = t1 - src.t0;
	atomic_store(&agent_stop, true);
	atomic_store(&wk.stop, true);
	pthread_join(at, NULL);
	pthread_join(wt, NULL);
	counters(&k);
	char path[1024];
	bl_agent_last_file(agent, path, sizeof(path));
	bl_agent_free(agent);
	unsigned long long edges_dropped = tagged ? atomic_load(&ctl.dropped) : 0;
	if (tagged)
		ctl_stop();
	zmq_close(src.push);
	zmq_ctx_term(src.ctx);
	struct stat sb = {0};
	stat(path, &sb);
	double raw = (double)c->w * c->h * (double)c->type, comp = 0;
	for (int i = 0; i < NDISTINCT; i++)
		comp += (double)fr.size[i] / NDISTINCT;
	uint64_t drops = n - k.frames_written + k.stream.rejected + k.stream.missing +
			 k.fwd_dropped + (n - atomic_load(&wk.got));
	*raw_gbs = (double)n * raw / wall / 1e9;
	printf("%-10s agent  %6llu frames %5.2f s  %7.1f frames/s  raw %5.2f GB/s  written %5.2f "
	       "GB/s (file %.2f GB, ratio %.1f)  cpu/frame: agent thread %.2f ms, process %.2f ms"
	       "  forwarded %llu  drops %llu  tagged %llu untagged %llu (waited for edge %llu, "
	       "edges not published %llu)\n",
	       c->name, (unsigned long long)n, wall, (double)n / wall, *raw_gbs,
	       (double)sb.st_size / wall / 1e9, (double)sb.st_size / 1e9, raw / comp,
	       agent_cpu / (double)n * 1e3, (cpu1 - cpu0) / (double)n * 1e3,
	       (unsigned long long)k.fwd_forwarded, (unsigned long long)drops,
	       (unsigned long long)k.join.tagged, (unsigned long long)k.join.untagged,
	       (unsigned long long)k.join.waited, (unsigned long long)edges_dropped);
	fflush(stdout);
	if (path[0])
		unlink(path);
	return drops ? -EIO : 0;
}

/* The peers: the same compressed frames (and their pixels) to a file for the h5py script. */
static int run_peers(const struct bench_case *c, double raw_gbs)
{
	char dir[512], fpath[600], cmd[2048];
	snprintf(dir, sizeof(dir), "%s/%s", out_root, c->name);
	snprintf(fpath, sizeof(fpath), "%s/frames.bin", dir);
	FILE *f = fopen(fpath, "wb");
	if (!f)
		return -errno;
	size_t raw = (size_t)c->w * (size_t)c->h * (size_t)c->type;
	for (int k = 0; k < NDISTINCT; k++) {
		uint64_t sz = fr.size[k];
		fwrite(&sz, 8, 1, f);
		fwrite(fr.data[k], 1, fr.size[k], f);
		fwrite(fr.raw[k], 1, raw, f);
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd),
		 "HDF5_PLUGIN_PATH=%s /usr/bin/python3 %s/bench_agent_h5py.py %s %s %d %d %s %g %d",
		 BL_BSHUF_PLUGIN_DIR, BL_BENCH_DIR, c->name, fpath, c->w, c->h,
		 c->type == BL_DTYPE_UINT16 ? "uint16" : "uint32", seconds, NDISTINCT);
	int rc = system(cmd);
	unlink(fpath);
	/* dd: the bytes of SECONDS of the agent's raw rate, at least 1 GiB, fdatasync'd. */
	double bytes = raw_gbs * 1e9 * seconds;
	long count = (long)(bytes / (8 << 20)) + 1;
	if (count < 128)
		count = 128;
	snprintf(cmd, sizeof(cmd),
		 "printf '%%-10s dd     ' %s; dd if=/dev/zero of=%s/dd.bin bs=8M count=%ld "
		 "conv=fdatasync 2>&1 | tail -1; rm -f %s/dd.bin",
		 c->name, dir, count, dir);
	return rc | system(cmd);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			seconds = atof(argv[++i]);
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			out_root = argv[++i];
		else if (!strcmp(argv[i], "--no-peer"))
			peer = false;
		else if (!strcmp(argv[i], "--untagged"))
			tagged = false;
		else {
			fprintf(stderr, "usage: bench_agent [--seconds S] [--out DIR] [--no-peer] "
					"[--untagged]\n");
			return 2;
		}
	}
	double la[3] = {0};
	if (getloadavg(la, 3) == 3)
		printf("load average %.2f %.2f %.2f, %ld CPUs, out %s, %g s per case, %s\n", la[0],
		       la[1], la[2], sysconf(_SC_NPROCESSORS_ONLN), out_root, seconds,
		       tagged ? "edges from a fake controller" : "untagged");
	int fail = 0;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double gbs = 0;
		if (make_frames(&cases[i])) {
			fprintf(stderr, "frames: failed\n");
			return 1;
		}
		fail |= run_case(&cases[i], &gbs) != 0;
		if (peer)
			fail |= run_peers(&cases[i], gbs) != 0;
		free_frames();
	}
	if (getloadavg(la, 3) == 3)
		printf("load average at end %.2f %.2f %.2f\n", la[0], la[1], la[2]);
	return fail;
}
