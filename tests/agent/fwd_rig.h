/* fwd_rig.h: the forwarding test's rig: a stream source (Dectris v1 messages built with bl_dmsg_*,
 * remembering every data part sent) and a fake analysis worker (DEALER asking with credit). */
#ifndef BL_FWD_RIG_H
#define BL_FWD_RIG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "../check.h"
#include "bl_agent.h"
#include "bl_dstream.h"

#define W	 128
#define H	 136
#define MAX_SENT 512

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

struct sent {
	uint64_t series, frame;
	void *data;
	size_t size;
};

static struct {
	void *ctx, *push;
	char endpoint[128];
	struct sent s[MAX_SENT];
	int n;
	bool noise; /* frames of random pixels (incompressible) instead of a pattern */
} src;

static int src_start(void)
{
	src.ctx = zmq_ctx_new();
	src.push = zmq_socket(src.ctx, ZMQ_PUSH);
	int zero = 0;
	size_t len = sizeof(src.endpoint);
	zmq_setsockopt(src.push, ZMQ_LINGER, &zero, sizeof(zero));
	return zmq_bind(src.push, "tcp://127.0.0.1:*") ||
	       zmq_getsockopt(src.push, ZMQ_LAST_ENDPOINT, src.endpoint, &len);
}

static void src_header(uint64_t series)
{
	char b[128];
	int n = bl_dmsg_header(b, sizeof(b), series, "none");
	zmq_send(src.push, b, (size_t)n, 0);
}

static void src_end(uint64_t series)
{
	char b[128];
	int n = bl_dmsg_end(b, sizeof(b), series);
	zmq_send(src.push, b, (size_t)n, 0);
}

/* A bs16-lz4 frame whose pixels depend on SERIES and FRAME. */
static void src_frame(uint64_t series, uint64_t frame)
{
	static uint16_t pix[W * H];
	static uint32_t x = 2463534242u;
	for (int i = 0; i < W * H; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift32 */
		pix[i] = src.noise ? (uint16_t)x
				   : (uint16_t)((i * 7 + series * 131 + frame * 17) % 1000);
	}
	size_t cap = bl_dcodec_bound(BL_DENC_BS16_LZ4, W * H, 2), len = 0;
	struct sent *s = &src.s[src.n++];
	s->series = series;
	s->frame = frame;
	s->data = malloc(cap);
	bl_dcodec_encode(BL_DENC_BS16_LZ4, pix, W * H, 2, s->data, cap, &len);
	s->size = len;
	char md5[33], b[3][256];
	bl_md5_hex(s->data, len, md5);
	int n0 = bl_dmsg_image(b[0], 256, series, frame, md5);
	int n1 = bl_dmsg_image_d(b[1], 256, W, H, BL_DTYPE_UINT16, BL_DENC_BS16_LZ4, len);
	int n2 = bl_dmsg_config(b[2], 256, frame * 1000, frame * 1000 + 500, 500);
	zmq_send(src.push, b[0], (size_t)n0, ZMQ_SNDMORE);
	zmq_send(src.push, b[1], (size_t)n1, ZMQ_SNDMORE);
	zmq_send(src.push, s->data, len, ZMQ_SNDMORE);
	zmq_send(src.push, b[2], (size_t)n2, 0);
}

/* Frames FROM..TO-1 of SERIES, with its header and end when asked. */
static inline void send_series(uint64_t series, int from, int to, bool header, bool end)
{
	if (header)
		src_header(series);
	for (int k = from; k < to; k++)
		src_frame(series, (uint64_t)k);
	if (end)
		src_end(series);
}

static const struct sent *src_find(uint64_t series, uint64_t frame)
{
	for (int i = 0; i < src.n; i++)
		if (src.s[i].series == series && src.s[i].frame == frame)
			return &src.s[i];
	return NULL;
}

static void src_stop(void)
{
	for (int i = 0; i < src.n; i++)
		free(src.s[i].data);
	zmq_close(src.push);
	zmq_ctx_term(src.ctx);
}

/* ---- fake analysis worker ---- */

struct got {
	uint64_t series, frame;
	bool same; /* bytes equal to what was sent */
	char path[256];
};

static struct {
	pthread_t thread;
	atomic_bool stop, running;
	char endpoint[128];
	int window;   /* credit outstanding at most */
	int limit;    /* frames it asks for in all */
	int delay_ms; /* per frame: a slow worker */
	struct got g[MAX_SENT];
	atomic_int n;
} wk;

static uint64_t json_num(const char *j, const char *key)
{
	char k[32];
	snprintf(k, sizeof(k), "\"%s\":", key);
	const char *p = strstr(j, k);
	return p ? strtoull(p + strlen(k), NULL, 10) : UINT64_MAX;
}

static void *wk_loop(void *arg)
{
	void *ctx = arg, *d = zmq_socket(ctx, ZMQ_DEALER);
	int zero = 0, granted = 0, asked = 0;
	zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_connect(d, wk.endpoint);
	static char tag[4096];
	static uint8_t chunk[1 << 20];
	while (!atomic_load(&wk.stop)) {
		int want = wk.window - (granted - asked);
		if (want > wk.limit - granted)
			want = wk.limit - granted;
		if (want > 0) {
			char c[32];
			snprintf(c, sizeof(c), "credit %d", want);
			zmq_send(d, c, strlen(c), 0);
			granted += want;
		}
		zmq_pollitem_t it = {.socket = d, .events = ZMQ_POLLIN};
		if (zmq_poll(&it, 1, 5) <= 0)
			continue;
		int t = zmq_recv(d, tag, sizeof(tag) - 1, 0);
		int more = 0;
		size_t ml = sizeof(more);
		zmq_getsockopt(d, ZMQ_RCVMORE, &more, &ml);
		int c = more ? zmq_recv(d, chunk, sizeof(chunk), 0) : -1;
		if (t < 0 || c < 0)
			continue;
		tag[t] = 0;
		asked++;
		int i = atomic_load(&wk.n);
		struct got *g = &wk.g[i];
		g->series = json_num(tag, "series");
		g->frame = json_num(tag, "frame");
		const struct sent *s = src_find(g->series, g->frame);
		g->same = s && s->size == (size_t)c && !memcmp(s->data, chunk, s->size) &&
			  strstr(tag, "\"encoding\":\"bs16-lz4<\"") && strstr(tag, "\"path\":\"");
		atomic_store(&wk.n, i + 1);
		if (wk.delay_ms)
			sleep_ms(wk.delay_ms);
	}
	zmq_close(d);
	return NULL;
}

static inline void wk_start(void *ctx, const char *endpoint, int window, int limit, int delay_ms)
{
	snprintf(wk.endpoint, sizeof(wk.endpoint), "%s", endpoint);
	wk.window = window;
	wk.limit = limit;
	wk.delay_ms = delay_ms;
	atomic_store(&wk.stop, false);
	pthread_create(&wk.thread, NULL, wk_loop, ctx);
}

static inline void wk_stop(void)
{
	atomic_store(&wk.stop, true);
	pthread_join(wk.thread, NULL);
}

/* The agent under test, run in a thread of the test (bl_agent_run until agent_stop). */
static struct bl_agent *agent;
static atomic_bool agent_stop;

static inline void *agent_thread(void *arg)
{
	(void)arg;
	bl_agent_run(agent, &agent_stop);
	return NULL;
}

/* Starts the agent of CFG in a thread (exits the test when it cannot be made). */
static pthread_t agent_th;
static inline void agent_run_start(const struct bl_agent_config *cfg)
{
	char err[512];
	if (bl_agent_new(&agent, cfg, err, sizeof(err))) {
		fprintf(stderr, "agent: %s\n", err);
		exit(1);
	}
	atomic_store(&agent_stop, false);
	pthread_create(&agent_th, NULL, agent_thread, NULL);
}

/* Stops and frees it. */
static inline void agent_kill(void)
{
	atomic_store(&agent_stop, true);
	pthread_join(agent_th, NULL);
	bl_agent_free(agent);
	agent = NULL;
}

static inline struct bl_agent_counters counters(void)
{
	struct bl_agent_counters c;
	bl_agent_counters(agent, &c);
	return c;
}

/* Polls EXPR every 10 ms for up to 10 s, then checks it. */
#define WAIT_FOR(expr)                                                                             \
	do {                                                                                       \
		for (int w_ = 0; w_ < 1000 && !(expr); w_++)                                       \
			sleep_ms(10);                                                              \
		CHECK(expr);                                                                       \
	} while (0)

#endif
