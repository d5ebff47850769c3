/* analyze_main.c: beamloop-analyze, the analysis service: every MPI rank is one worker asking the
 * agent for frames with credit over ZMQ, reducing them and sending the results back. */
#include <errno.h>
#include <mpi.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bl_analyze.h"

static atomic_bool stop;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store(&stop, true);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(
	    stderr,
	    "usage: [mpirun -np N] beamloop-analyze --agent ENDPOINT [--window N] [--bins N]\n"
	    "         [--nsigma S] [--idle-exit SECONDS] [--fit [--gi-up -row|+row]] [--quiet]\n"
	    "  ENDPOINT: the agent's --forward endpoint (e.g. tcp://127.0.0.1:5801)\n"
	    "  --window: frames a rank asks for ahead (4); --idle-exit: stop after that many\n"
	    "  seconds without a frame once at least one came (0: run until SIGTERM)\n"
	    "  --fit: fit each GISAXS frame's Yoneda cut (spacing, correlation length, radius);\n"
	    "  --gi-up: the film's up on the detector, towards decreasing (default) or increasing "
	    "row\n");
}

/* Per-rank figures gathered on rank 0 at the end. */
enum {
	ST_FRAMES,
	ST_BAD,
	ST_BUSY_S,
	ST_FIRST,
	ST_LAST,
	ST_DECODE,
	ST_REDUCE,
	ST_PEAKS,
	ST_FIT,
	ST_N
};

struct opts {
	const char *agent;
	int window, bins;
	double nsigma, idle_exit;
	bool quiet, fit, up_increasing_row;
};

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.window = 4, .bins = 1000, .nsigma = 5};
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--quiet") || !strcmp(a, "--fit")) {
			*(!strcmp(a, "--quiet") ? &o->quiet : &o->fit) = true;
			continue;
		}
		if (!v)
			return -1;
		if (!strcmp(a, "--agent"))
			o->agent = v;
		else if (!strcmp(a, "--window"))
			o->window = atoi(v);
		else if (!strcmp(a, "--bins"))
			o->bins = atoi(v);
		else if (!strcmp(a, "--nsigma"))
			o->nsigma = atof(v);
		else if (!strcmp(a, "--idle-exit"))
			o->idle_exit = atof(v);
		else if (!strcmp(a, "--gi-up") && (!strcmp(v, "+row") || !strcmp(v, "-row")))
			o->up_increasing_row = v[0] == '+';
		else
			return -1;
		i++;
	}
	return o->agent && o->window > 0 && o->window <= 1024 && o->bins > 0 &&
		       o->bins <= BL_REDUCE_MAX_BINS
		   ? 0
		   : -1;
}

static int send_credit(void *s, int n)
{
	char b[32];
	int len = snprintf(b, sizeof(b), "credit %d acks", n);
	return zmq_send(s, b, (size_t)len, 0) < 0 ? -1 : 0;
}

static int send_result(void *s, const struct bl_an_result *r)
{
	size_t nb = (size_t)r->nbins * sizeof(double);
	if (zmq_send(s, "result", 6, ZMQ_SNDMORE) < 0 ||
	    zmq_send(s, r->json, strlen(r->json), ZMQ_SNDMORE) < 0 ||
	    zmq_send(s, r->q, nb, ZMQ_SNDMORE) < 0 || zmq_send(s, r->mean, nb, ZMQ_SNDMORE) < 0 ||
	    zmq_send(s, r->sem, nb, 0) < 0)
		return -1;
	return 0;
}

/* The rank's loop; fills ST. */
static int serve(const struct opts *o, const char *who, double *st)
{
	struct bl_an_worker *w = NULL;
	struct bl_an_config c = {.nbins = o->bins,
				 .nsigma = o->nsigma,
				 .who = who,
				 .fit = o->fit,
				 .up_increasing_row = o->up_increasing_row};
	if (bl_an_worker_new(&w, &c))
		return -ENOMEM;
	void *ctx = zmq_ctx_new(), *s = zmq_socket(ctx, ZMQ_DEALER);
	int zero = 0;
	zmq_setsockopt(s, ZMQ_LINGER, &(int){2000}, sizeof(int));
	zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof(zero));
	if (zmq_connect(s, o->agent) || send_credit(s, o->window)) {
		fprintf(stderr, "beamloop-analyze %s: %s: %s\n", who, o->agent,
			zmq_strerror(zmq_errno()));
		zmq_close(s);
		zmq_ctx_term(ctx);
		bl_an_worker_free(w);
		return -EIO;
	}
	double last = now_s();
	while (!atomic_load(&stop)) {
		zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
		if (zmq_poll(&it, 1, 200) <= 0) {
			if (o->idle_exit > 0 && st[ST_FRAMES] + st[ST_BAD] > 0 &&
			    now_s() - last >= o->idle_exit)
				break;
			continue;
		}
		zmq_msg_t m[2], x;
		zmq_msg_init(&m[0]);
		zmq_msg_init(&m[1]);
		int n = 0;
		for (bool more = true; more; n++) { /* parts past the second are dropped */
			zmq_msg_init(&x);
			if (zmq_msg_recv(&x, s, 0) < 0) {
				zmq_msg_close(&x);
				break;
			}
			more = zmq_msg_more(&x);
			if (n < 2)
				zmq_msg_move(&m[n], &x);
			zmq_msg_close(&x);
		}
		if (n == 2) { /* a frame: tag + chunk (1 part: the agent's probe) */
			double t0 = now_s();
			if (st[ST_FIRST] == 0)
				st[ST_FIRST] = t0;
			struct bl_an_result r = {0};
			char err[256];
			if (bl_an_frame(w, zmq_msg_data(&m[0]), zmq_msg_size(&m[0]),
					zmq_msg_data(&m[1]), zmq_msg_size(&m[1]), &r, err,
					sizeof(err))) {
				st[ST_BAD]++;
				fprintf(stderr, "beamloop-analyze %s: frame not analysed: %s\n",
					who, err);
				/* the agent hears about it as a result without a profile */
				cJSON *tag =
				    cJSON_ParseWithLength(zmq_msg_data(&m[0]), zmq_msg_size(&m[0]));
				cJSON *o2 = cJSON_CreateObject();
				static const char *const echo[] = {"series", "frame", "path",
								   "index", "stored_us"};
				for (size_t k = 0; tag && k < 5; k++) {
					cJSON *v = cJSON_GetObjectItemCaseSensitive(tag, echo[k]);
					if (v)
						cJSON_AddItemToObject(o2, echo[k],
								      cJSON_Duplicate(v, 1));
				}
				cJSON_AddStringToObject(o2, "error", err);
				char *txt = cJSON_PrintUnformatted(o2);
				if (txt) {
					zmq_send(s, "result", 6, ZMQ_SNDMORE);
					zmq_send(s, txt, strlen(txt), 0);
				}
				cJSON_free(txt);
				cJSON_Delete(o2);
				cJSON_Delete(tag);
			} else {
				send_result(s, &r);
				st[ST_FRAMES]++;
				st[ST_DECODE] += r.t.decode_ms;
				st[ST_REDUCE] += r.t.reduce_ms;
				st[ST_PEAKS] += r.t.peaks_ms;
				st[ST_FIT] += r.t.fit_ms;
				cJSON_free(r.json);
			}
			send_credit(s, 1);
			last = now_s();
			st[ST_LAST] = last;
			st[ST_BUSY_S] += last - t0;
		}
		zmq_msg_close(&m[0]);
		zmq_msg_close(&m[1]);
	}
	zmq_close(s);
	zmq_ctx_term(ctx);
	bl_an_worker_free(w);
	return 0;
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	int rank = 0, size = 1;
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	struct opts o;
	if (parse(argc, argv, &o)) {
		if (!rank)
			usage();
		MPI_Finalize();
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	char host[64] = "", who[128];
	gethostname(host, sizeof(host) - 1);
	snprintf(who, sizeof(who), "%s/%d/%d", host, (int)getpid(), rank);
	double st[ST_N] = {0};
	int rc = serve(&o, who, st);
	double all[ST_N * 64] = {0};
	MPI_Gather(st, ST_N, MPI_DOUBLE, rank < 64 ? all : NULL, ST_N, MPI_DOUBLE, 0,
		   MPI_COMM_WORLD);
	if (!rank && !o.quiet) {
		double frames = 0, bad = 0, first = 0, last = 0, busy = 0, red = 0, dec = 0,
		       fit = 0, pk = 0;
		for (int r = 0; r < size && r < 64; r++) {
			const double *s = all + r * ST_N;
			frames += s[ST_FRAMES];
			bad += s[ST_BAD];
			busy += s[ST_BUSY_S];
			red += s[ST_REDUCE];
			dec += s[ST_DECODE];
			fit += s[ST_FIT];
			pk += s[ST_PEAKS];
			if (s[ST_FIRST] > 0 && (first == 0 || s[ST_FIRST] < first))
				first = s[ST_FIRST];
			if (s[ST_LAST] > last)
				last = s[ST_LAST];
			printf("beamloop-analyze: rank %d: %.0f frames, %.0f not analysed\n", r,
			       s[ST_FRAMES], s[ST_BAD]);
		}
		double span = last > first ? last - first : 0;
		printf("beamloop-analyze: %d ranks, %.0f frames analysed, %.0f not analysed, "
		       "%.1f frames/s over %.2f s; per frame: decode %.2f ms, reduce %.2f ms, "
		       "peaks %.2f ms, fit %.2f ms, busy %.2f ms\n",
		       size, frames, bad, span > 0 ? frames / span : 0, span,
		       frames ? dec / frames : 0, frames ? red / frames : 0,
		       frames ? pk / frames : 0, frames ? fit / frames : 0,
		       frames ? busy * 1e3 / frames : 0);
	}
	MPI_Finalize();
	return rc ? 1 : 0;
}
