/* bench_fw_loop.c: beamloop-fw's main-loop wake-up latency (SCHED_FIFO and not) beside
 * cyclictest, and the agent -> fw -> reply round trip over CurveZMQ. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bl_hwdb.h"
#include "fw_site.h"
#include "proto/fw_client.h"
#include "vbl.h"

/*
 * What is measured (see bench/RESULTS.md):
 *   1. The controller's loop: beamloop-fw sleeps to each absolute deadline (clock_nanosleep
 *      TIMER_ABSTIME) and records how late it woke, cyclictest's measure, in a 1 us histogram.
 *      The bench opens a window with "loop" {"reset": true}, lets the controller idle for
 *      --seconds (no cycle, no command), then reads the window with "loop". Once with SCHED_FIFO
 *      (the default) and once with --no-rt. cyclictest then runs alone with the same period and
 *      priority for the same time, as the peer baseline, once SCHED_FIFO and once SCHED_OTHER.
 *   2. The command round trip: --pings calls of "ping" (served by the loop's handler) and of the
 *      built-in "clock" (answered by the network layer in the same poll), timed by the agent
 *      around bl_fw_client_call. Calls are spaced by a random gap of 0..period so they arrive
 *      at a uniformly random phase of the loop: back to back they would lock onto the loop's
 *      phase (each reply leaves at a poll, the next request then waits almost a whole period).
 * Quantiles of a histogram are the upper edge of the 1 us bin they fall in, for both the
 * controller and cyclictest (both truncate to whole microseconds before binning). The
 * simulators bind hwdb/beamlines/sim.yaml's fixed ports and pty links, so the bench refuses to
 * start while another virtual beamline (fw_live) runs.
 */

#define CMD_PORT  5741
#define EVT_PORT  5742
#define CMD_EP	  "tcp://127.0.0.1:5741"
#define EVT_EP	  "tcp://127.0.0.1:5742"
#define FW_PRIO	  50	/* the priority fw_main.c asks for; cyclictest gets the same */
#define LAT_BINS  20000 /* cyclictest histogram size, the controller's BL_FW_LAT_BINS */
#define CALL_MS	  1000	/* one call's time limit */
#define WARM_UP_N 50	/* round trips made before the measured ones */

struct lat_row {
	char name[48], policy[24];
	bool ran, mlocked;
	uint64_t samples, overflows, overruns;
	double mean, p50, p99, p999, max; /* us */
	char note[200];
};

struct rtt_row {
	char name[48];
	bool ran;
	int calls, failed;
	double p50, p99, max, mean; /* us */
};

static volatile sig_atomic_t stop_flag;
static struct bl_fw_site site; /* keys, allow-list, inventory, journal, fw.log */
static const char *dir = site.dir;
static pid_t fw_pid;
static const char *fw_path = BL_BINARY_DIR "/firmware/beamloop-fw";

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
	nanosleep(&ts, NULL);
}

/* Sleeps S seconds in short steps, so an interrupt stops the bench promptly. */
static void idle_s(double s)
{
	uint64_t until = now_ns() + (uint64_t)(s * 1e9);
	for (uint64_t t = now_ns(); t < until && !stop_flag; t = now_ns())
		sleep_ns(until - t < 100000000u ? until - t : 100000000u);
}

static void loadavg(char *out, size_t cap)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double a = 0, b = 0, c = 0;
	if (!f || fscanf(f, "%lf %lf %lf", &a, &b, &c) != 3)
		snprintf(out, cap, "unknown");
	else
		snprintf(out, cap, "%.2f %.2f %.2f", a, b, c);
	if (f)
		fclose(f);
}

/* True when a TCP socket listens on PORT (read from /proc/net/tcp: no connection is made, so a
 * simulator that serves one client is not disturbed). */
static bool port_taken(int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[256];
	bool taken = false;
	unsigned lport, state;
	while (f && !taken && fgets(line, sizeof(line), f))
		taken = sscanf(line, " %*d: %*x:%x %*x:%*x %x", &lport, &state) == 2 &&
			(int)lport == port && state == 0x0A; /* TCP_LISTEN */
	if (f)
		fclose(f);
	return taken;
}

/* Another virtual beamline (fw_live, another bench) already runs when one of hwdb's TCP ports
 * answers or one of its pty links exists: starting ours would replace its pty links (and remove
 * them when stopping) and connect our controller to its simulators. WHY says which. */
static bool beamline_busy(const struct bl_hwdb *db, char *why, size_t cap)
{
	struct stat st;
	for (size_t i = 0; i < db->ndevices; i++) {
		const struct bl_hwdb_transport *t = &db->devices[i].transport;
		if (t->port > 0 && port_taken(t->port)) {
			snprintf(why, cap, "%s's port %d is taken", db->devices[i].name, t->port);
			return true;
		}
		if (t->device[0] && lstat(t->device, &st) == 0) {
			snprintf(why, cap, "%s exists (%s's pty link; remove it if stale)",
				 t->device, db->devices[i].name);
			return true;
		}
	}
	if (port_taken(CMD_PORT) || port_taken(EVT_PORT)) {
		snprintf(why, cap, "the controller's port %d or %d is taken", CMD_PORT, EVT_PORT);
		return true;
	}
	return false;
}

/* Removes the bench's temporary folder (keys, journal, logs). */
static void rmdir_all(void)
{
	if (bl_fw_site_remove(&site))
		fprintf(stderr, "bench_fw_loop: could not remove %s\n", dir);
}

/* Keys, the allow-list (the agent) and a 16-sample inventory of puck 1, as test_fw_live makes. */
static int setup_files(void)
{
	char err[256], hwdb[512];
	snprintf(hwdb, sizeof(hwdb), "%s/hwdb/beamlines/sim.yaml", BL_SOURCE_DIR);
	int rc = bl_fw_site_create(&site, "bl-bench-fw", hwdb, 1, 16, err, sizeof(err));
	if (rc)
		fprintf(stderr, "bench_fw_loop: %s\n", err);
	return rc;
}

/* Starts beamloop-fw (RT: SCHED_FIFO, the default; else --no-rt) and waits for its ready line. */
static int fw_start(bool rt)
{
	const char *opts[] = {"--cmd", CMD_EP, "--evt", EVT_EP, rt ? NULL : "--no-rt", NULL};
	char ready[512];
	fw_pid = bl_fw_site_start(&site, fw_path, opts, ready, sizeof(ready));
	if (fw_pid < 0) {
		fprintf(stderr, "bench_fw_loop: beamloop-fw did not start: '%s' (see %s)\n", ready,
			site.log);
		fw_pid = 0;
		return -EIO;
	}
	return 0;
}

static void fw_stop(void)
{
	bl_fw_site_stop(fw_pid, SIGTERM);
	fw_pid = 0;
}

static struct bl_fw_client *client_open(void)
{
	struct bl_fw_client *c = NULL;
	struct bl_fw_client_config cc = {.endpoint = CMD_EP,
					 .event_endpoint = EVT_EP,
					 .server_key = site.fw_pub,
					 .public_key = site.ag_pub,
					 .secret_key = site.ag_sec};
	return bl_fw_client_open(&c, &cc) ? NULL : c;
}

static double num(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* One window of the controller's own latency histogram: reset, idle, read. Returns the period
 * (us) the controller runs at, 0 on failure (row->note says why). */
static int measure_fw_loop(struct bl_fw_client *c, int seconds, struct lat_row *row)
{
	cJSON *r = NULL;
	int rc = bl_fw_client_call_json(c, "loop", "{\"reset\": true}", CALL_MS, &r);
	cJSON_Delete(r); /* the window's figures, overruns included, start now */
	r = NULL;
	if (rc) {
		snprintf(row->note, sizeof(row->note), "loop reset: %s", strerror(-rc));
		return 0;
	}
	idle_s(seconds);
	rc = bl_fw_client_call_json(c, "loop", NULL, CALL_MS, &r);
	if (rc) {
		snprintf(row->note, sizeof(row->note), "loop: %s", strerror(-rc));
		cJSON_Delete(r);
		return 0;
	}
	bool fifo = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "fifo"));
	row->ran = true;
	row->mlocked = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "mlocked"));
	snprintf(row->policy, sizeof(row->policy), fifo ? "SCHED_FIFO %d" : "SCHED_OTHER", FW_PRIO);
	row->samples = (uint64_t)num(r, "samples");
	row->overruns = (uint64_t)num(r, "overruns");
	row->mean = num(r, "mean_us");
	row->p50 = num(r, "p50_us");
	row->p99 = num(r, "p99_us");
	row->p999 = num(r, "p999_us");
	row->max = num(r, "max_us");
	int period = (int)num(r, "period_us");
	cJSON_Delete(r);
	return period > 0 ? period : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank quantile of sorted V (N > 0), in us. */
static double rank_us(const uint64_t *v, int n, double q)
{
	int i = (int)ceil(q * n) - 1;
	return (double)v[i < 0 ? 0 : i >= n ? n - 1 : i] / 1e3;
}

/* N calls of CMD, each after a random gap of 0..period_us (xorshift, fixed seed). */
static void measure_rtt(struct bl_fw_client *c, const char *cmd, int n, int period_us,
			struct rtt_row *row)
{
	uint64_t *v = calloc((size_t)n, sizeof(*v)), x = 0x9e3779b97f4a7c15u, sum = 0;
	if (!v)
		return;
	int got = 0;
	for (int i = 0; i < WARM_UP_N + n && !stop_flag; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sleep_ns(x % ((uint64_t)period_us * 1000u));
		uint64_t t0 = now_ns();
		int rc = bl_fw_client_call(c, cmd, NULL, CALL_MS, NULL);
		uint64_t dt = now_ns() - t0;
		if (i < WARM_UP_N)
			continue;
		if (rc) {
			row->failed++;
			continue;
		}
		v[got++] = dt;
		sum += dt;
	}
	row->calls = got;
	if (got) {
		qsort(v, (size_t)got, sizeof(*v), cmp_u64);
		row->ran = true;
		row->p50 = rank_us(v, got, 0.50);
		row->p99 = rank_us(v, got, 0.99);
		row->max = (double)v[got - 1] / 1e3;
		row->mean = (double)sum / got / 1e3;
	}
	free(v);
}

/* Quantile of a 1 us histogram of N samples (overflows beyond the last bin count as LAT_BINS),
 * as bl_fw_latency_quantile computes it: the upper edge of the bin holding the q-th sample. */
static double hist_quantile(const uint64_t *hist, uint64_t n, double q)
{
	uint64_t want = (uint64_t)(q * (double)n), seen = 0;
	if (want >= n)
		want = n - 1;
	for (int i = 0; i < LAT_BINS; i++) {
		seen += hist[i];
		if (seen > want)
			return i + 1;
	}
	return LAT_BINS;
}

/* Reads cyclictest's --json file: thread "0"'s histogram, cycles, max and avg. */
static int parse_cyclictest(const char *path, struct lat_row *row)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -errno;
	static char text[1 << 20];
	size_t len = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[len] = 0;
	cJSON *root = cJSON_Parse(text);
	const cJSON *t =
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "thread"), "0");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(t, "histogram");
	uint64_t *hist = calloc(LAT_BINS, sizeof(*hist)), binned = 0;
	if (!cJSON_IsObject(h) || !hist) {
		cJSON_Delete(root);
		free(hist);
		return -EBADMSG;
	}
	const cJSON *b;
	cJSON_ArrayForEach(b, h)
	{
		long us = strtol(b->string, NULL, 10);
		if (us >= 0 && us < LAT_BINS && cJSON_IsNumber(b)) {
			hist[us] += (uint64_t)b->valuedouble;
			binned += (uint64_t)b->valuedouble;
		}
	}
	row->samples = (uint64_t)num(t, "cycles");
	row->overflows = row->samples > binned ? row->samples - binned : 0;
	row->max = num(t, "max");
	row->mean = num(t, "avg");
	if (row->samples) {
		row->ran = true;
		row->p50 = hist_quantile(hist, row->samples, 0.50);
		row->p99 = hist_quantile(hist, row->samples, 0.99);
		row->p999 = hist_quantile(hist, row->samples, 0.999);
	}
	free(hist);
	cJSON_Delete(root);
	return row->ran ? 0 : -ENODATA;
}

/* Runs cyclictest alone for SECONDS: one thread, mlockall, the controller's period, SCHED_FIFO at
 * the controller's priority or SCHED_OTHER. --laptop: it does not hold /dev/cpu_dma_latency at
 * 0, which the controller does not do either. Its output goes to DIR/cyclictest-*.txt. */
static void run_cyclictest(bool fifo, int seconds, int period_us, struct lat_row *row)
{
	char json[620], out[620], interval[24], dur[24], prio[24];
	const char *tag = fifo ? "fifo" : "other";
	snprintf(json, sizeof(json), "--json=%s/cyclictest-%s.json", dir, tag);
	snprintf(out, sizeof(out), "%s/cyclictest-%s.txt", dir, tag);
	snprintf(interval, sizeof(interval), "%d", period_us);
	snprintf(dur, sizeof(dur), "%d", seconds);
	snprintf(prio, sizeof(prio), "%d", FW_PRIO);
	const char *argv[] = {"cyclictest", "-m",	"-i", interval, "-D", dur,  "-q", "-h",
			      "20000",	    "--laptop", json, "-p",	prio, NULL, NULL};
	if (!fifo) {
		argv[11] = "--policy=other";
		argv[12] = NULL;
	}
	snprintf(row->policy, sizeof(row->policy), fifo ? "SCHED_FIFO %d" : "SCHED_OTHER", FW_PRIO);
	row->mlocked = true;
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(row->note, sizeof(row->note), "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		FILE *o = fopen(out, "w");
		if (o) {
			dup2(fileno(o), 1);
			dup2(fileno(o), 2);
		}
		execvp("cyclictest", (char *const *)argv);
		_exit(127);
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		snprintf(row->note, sizeof(row->note),
			 "cyclictest could not run (not installed? apt-get install rt-tests)");
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(row->note, sizeof(row->note), "cyclictest failed (status %d), see %.150s",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), out);
		return;
	}
	int rc = parse_cyclictest(json + strlen("--json="), row);
	if (rc)
		snprintf(row->note, sizeof(row->note), "cyclictest's %.150s: %s",
			 json + strlen("--json="), strerror(-rc));
}

/* One controller run: start, settle, the loop window, then the round trips. */
static int fw_run(bool rt, int seconds, int pings, struct lat_row *lat, struct rtt_row *ping,
		  struct rtt_row *clk)
{
	snprintf(lat->name, sizeof(lat->name), "beamloop-fw%s", rt ? "" : " --no-rt");
	snprintf(ping->name, sizeof(ping->name), "ping  (fw%s)", rt ? "" : " --no-rt");
	snprintf(clk->name, sizeof(clk->name), "clock (fw%s)", rt ? "" : " --no-rt");
	int rc = fw_start(rt);
	if (rc) {
		char log[620], last[160] = "", line[160];
		snprintf(log, sizeof(log), "%s/fw.log", dir);
		FILE *f = fopen(log, "r");
		while (f && fgets(line, sizeof(line), f))
			snprintf(last, sizeof(last), "%s", strtok(line, "\n") ? line : "");
		if (f)
			fclose(f);
		snprintf(lat->note, sizeof(lat->note), "beamloop-fw did not start: %s", last);
		fw_stop();
		return rc;
	}
	struct bl_fw_client *c = client_open();
	if (!c) {
		snprintf(lat->note, sizeof(lat->note), "client open failed");
		fw_stop();
		return -EIO;
	}
	/* The CURVE handshake and the controller's first loops happen before the window. */
	rc = -ETIMEDOUT;
	for (int i = 0; i < 50 && rc && !stop_flag; i++)
		rc = bl_fw_client_call(c, "ping", NULL, 200, NULL);
	idle_s(1.0);
	int period = 0;
	if (!rc && !stop_flag) {
		fprintf(stderr, "bench_fw_loop: %s: idle %d s\n", lat->name, seconds);
		period = measure_fw_loop(c, seconds, lat);
	} else {
		snprintf(lat->note, sizeof(lat->note), "no answer to ping: %s",
			 bl_fw_client_error(c));
	}
	if (period && !stop_flag) {
		fprintf(stderr, "bench_fw_loop: %s: %d pings and %d clocks\n", lat->name, pings,
			pings);
		measure_rtt(c, "ping", pings, period, ping);
		measure_rtt(c, "clock", pings, period, clk);
	}
	bl_fw_client_close(c);
	fw_stop();
	return period;
}

static void print_lat(const struct lat_row *r)
{
	if (!r->ran) {
		printf("%-26s %-14s  not measured: %s\n", r->name, r->policy[0] ? r->policy : "-",
		       r->note);
		return;
	}
	char extra[64] = "";
	if (r->overruns)
		snprintf(extra, sizeof(extra), "  overruns %llu", (unsigned long long)r->overruns);
	if (r->overflows)
		snprintf(extra, sizeof(extra), "  >%d us: %llu", LAT_BINS,
			 (unsigned long long)r->overflows);
	printf("%-26s %-14s %-5s %8llu %8.1f %6.0f %6.0f %7.0f %8.1f%s\n", r->name, r->policy,
	       r->mlocked ? "yes" : "no", (unsigned long long)r->samples, r->mean, r->p50, r->p99,
	       r->p999, r->max, extra);
}

static void print_rtt(const struct rtt_row *r)
{
	if (!r->ran) {
		printf("%-22s not measured\n", r->name);
		return;
	}
	printf("%-22s %6d %6d %8.1f %8.1f %8.1f %8.1f\n", r->name, r->calls, r->failed, r->mean,
	       r->p50, r->p99, r->max);
}

static int usage(void)
{
	fprintf(
	    stderr,
	    "usage: bench_fw_loop [--seconds S] [--pings N] [--fw PATH]\n"
	    "  --seconds S  idle window per loop measurement, whole seconds (default 60)\n"
	    "  --pings N    round trips per command, ping and clock (default 5000)\n"
	    "Runs the virtual beamline's simulators (fixed ports of hwdb/beamlines/sim.yaml) and "
	    "beamloop-fw on\n" CMD_EP " / " EVT_EP
	    ": never beside fw_live. Takes about 4 x S seconds plus the pings.\n");
	return 2;
}

int main(int argc, char **argv)
{
	int seconds = 60, pings = 5000;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--seconds") && v) {
			seconds = atoi(v);
			i++;
		} else if (!strcmp(argv[i], "--fw") && v) {
			fw_path = v;
			i++;
		} else if (!strcmp(argv[i], "--pings") && v) {
			pings = atoi(v);
			i++;
		} else {
			return usage();
		}
	}
	if (seconds < 1 || pings < 1)
		return usage();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (setup_files())
		return 1;
	struct bl_hwdb *db;
	struct bl_hwdb_errors errs;
	if (bl_hwdb_load(site.hwdb, &db, &errs)) {
		bl_hwdb_print_errors(&errs, stderr);
		return 1;
	}
	char load0[64], load1[64], why[400];
	if (beamline_busy(db, why, sizeof(why))) {
		fprintf(stderr,
			"bench_fw_loop: another virtual beamline seems to run (fw_live?): %s; "
			"nothing started\n",
			why);
		bl_hwdb_free(db);
		rmdir_all();
		return 1;
	}
	loadavg(load0, sizeof(load0));
	struct bl_vbl vbl;
	bl_vbl_start(&vbl, db, BL_BINARY_DIR, 20.0);
	/* A simulator that did not start usually means its fixed port is taken: another virtual
	 * beamline (fw_live) runs. Stop rather than connect the controller to someone else's. */
	bool clash = false;
	for (size_t i = 0; i < vbl.n; i++)
		if (!vbl.sims[i].pid && strstr(vbl.sims[i].note, "did not start")) {
			fprintf(stderr, "bench_fw_loop: %s\n", vbl.sims[i].note);
			clash = true;
		}
	if (clash) {
		fprintf(stderr,
			"bench_fw_loop: simulators did not start (not built, or their ports "
			"taken); nothing measured\n");
		bl_vbl_stop(&vbl);
		bl_hwdb_free(db);
		rmdir_all();
		return 1;
	}

	struct lat_row lat[4] = {{.name = "beamloop-fw"},
				 {.name = "beamloop-fw --no-rt"},
				 {.name = "cyclictest -p 50"},
				 {.name = "cyclictest --policy=other"}};
	struct rtt_row rtt[4] = {0};
	uint64_t t0 = now_ns();
	int period = fw_run(true, seconds, pings, &lat[0], &rtt[0], &rtt[1]);
	int p2 = stop_flag ? 0 : fw_run(false, seconds, pings, &lat[1], &rtt[2], &rtt[3]);
	period = period > 0 ? period : p2 > 0 ? p2 : 1000;
	bl_vbl_stop(&vbl);
	bl_hwdb_free(db);
	for (int k = 0; k < 2 && !stop_flag; k++) {
		fprintf(stderr, "bench_fw_loop: %s: %d s\n", lat[2 + k].name, seconds);
		run_cyclictest(k == 0, seconds, period, &lat[2 + k]);
	}
	loadavg(load1, sizeof(load1));

	struct utsname u;
	uname(&u);
	printf("\nbench_fw_loop: %s %s, %ld CPUs; load average %s at start, %s at end; %.0f s\n",
	       u.sysname, u.release, sysconf(_SC_NPROCESSORS_ONLN), load0, load1,
	       (double)(now_ns() - t0) / 1e9);
	printf("controller: %s\n", fw_path);
	printf("\nMain loop wake-up latency after each absolute deadline (period %d us, %d s idle "
	       "each, run one after another)\n",
	       period, seconds);
	printf("%-26s %-14s %-5s %8s %8s %6s %6s %7s %8s\n", "", "policy", "mlock", "samples",
	       "mean us", "p50", "p99", "p99.9", "max us");
	for (int i = 0; i < 4; i++)
		print_lat(&lat[i]);
	printf("(p50/p99/p99.9: upper edge of the 1 us histogram bin; cyclictest: -m -i %d -D %d "
	       "-h 20000 --laptop)\n",
	       period, seconds);
	printf("\nCommand round trip agent -> beamloop-fw -> reply over CurveZMQ (%s), random gap "
	       "0..%d us between calls\n",
	       CMD_EP, period);
	printf("%-22s %6s %6s %8s %8s %8s %8s\n", "", "calls", "failed", "mean us", "p50 us",
	       "p99 us", "max us");
	for (int i = 0; i < 4; i++)
		print_rtt(&rtt[i]);
	bool all = lat[0].ran && lat[1].ran && rtt[0].ran && rtt[1].ran;
	if (all && !stop_flag) {
		rmdir_all();
	} else {
		printf("\nfiles kept in %s\n", dir);
	}
	return stop_flag ? 130 : all ? 0 : 1;
}
