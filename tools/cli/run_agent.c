/* run_agent.c: `beamloop run`'s data path: the agent (in a thread) stores the virtual detector's
 * frames tagged by the controller's edges, beamloop-analyze (mpirun -np 2) reduces them, and the
 * results land in each file's /entry/process. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_agent.h"

extern char **environ;

#define MAX_LAT 100000

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* The decision layer's input: every result's latency; the watched print's fitted spacing and
 * orientation (its file is LABEL_s<series>.nxs). */
static void on_result(void *ctx, const struct bl_agent_result *r)
{
	struct bl_run_agent *ra = ctx;
	const char *base = strrchr(r->path, '/');
	base = base ? base + 1 : r->path;
	const cJSON *fit = cJSON_GetObjectItemCaseSensitive(r->meta, "fit");
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(fit, "values");
	const cJSON *errs = cJSON_GetObjectItemCaseSensitive(fit, "errors");
	const cJSON *orient = cJSON_GetObjectItemCaseSensitive(r->meta, "orientation");
	pthread_mutex_lock(&ra->lock);
	if (ra->nlat < MAX_LAT && r->latency_ms >= 0)
		ra->lat[ra->nlat++] = r->latency_ms;
	size_t wl = strlen(ra->watch);
	if (wl && !strncmp(base, ra->watch, wl) && !strncmp(base + wl, "_s", 2) &&
	    cJSON_IsNumber(cJSON_GetArrayItem(vals, 0)) && cJSON_IsNumber(orient)) {
		double e =
		    cJSON_GetArrayItem(errs, 0) ? cJSON_GetArrayItem(errs, 0)->valuedouble : 0;
		ra->watch_n++;
		ra->watch_spacing += cJSON_GetArrayItem(vals, 0)->valuedouble;
		ra->watch_spacing_err2 += e > 0 ? e * e : 0;
		ra->watch_orient += orient->valuedouble;
		const cJSON *xi = cJSON_GetArrayItem(vals, 1), *rad = cJSON_GetArrayItem(vals, 2);
		ra->watch_xi += cJSON_IsNumber(xi) ? xi->valuedouble : 0;
		ra->watch_radius += cJSON_IsNumber(rad) ? rad->valuedouble : 0;
	}
	pthread_mutex_unlock(&ra->lock);
}

void bl_run_agent_watch(struct bl_run_agent *ra, const char *label)
{
	pthread_mutex_lock(&ra->lock);
	snprintf(ra->watch, sizeof(ra->watch), "%s", label);
	ra->watch_n = 0;
	ra->watch_spacing = ra->watch_orient = ra->watch_spacing_err2 = 0;
	ra->watch_xi = ra->watch_radius = 0;
	pthread_mutex_unlock(&ra->lock);
}

void bl_run_agent_watched_shape(struct bl_run_agent *ra, double *corr_len, double *radius)
{
	pthread_mutex_lock(&ra->lock);
	*corr_len = ra->watch_n ? ra->watch_xi / ra->watch_n : 0;
	*radius = ra->watch_n ? ra->watch_radius / ra->watch_n : 0;
	pthread_mutex_unlock(&ra->lock);
}

int bl_run_agent_watched(struct bl_run_agent *ra, double *spacing, double *spacing_err,
			 double *orientation)
{
	pthread_mutex_lock(&ra->lock);
	int n = ra->watch_n;
	if (n) {
		*spacing = ra->watch_spacing / n;
		*spacing_err = sqrt(ra->watch_spacing_err2) / n;
		*orientation = ra->watch_orient / n;
	}
	pthread_mutex_unlock(&ra->lock);
	return n;
}

static void log_line(void *ctx, const char *line)
{
	struct bl_run_agent *ra = ctx;
	if (ra->log)
		fprintf(ra->log, "%s\n", line);
}

static void *agent_thread(void *arg)
{
	struct bl_run_agent *ra = arg;
	bl_agent_run(ra->agent, &ra->stop);
	return NULL;
}

/* mpirun -np 2 beamloop-analyze against the agent; its output goes to the run's log. */
static pid_t start_analyze(struct bl_run_agent *ra, const char *endpoint)
{
	const char *mpirun = BL_MPIEXEC, *an = BL_BINARY_DIR "/analyze/beamloop-analyze";
	if (!mpirun[0] || access(mpirun, X_OK) || access(an, X_OK))
		return -ENOENT;
	char *argv[] = {
	    (char *)mpirun, "--allow-run-as-root", "--oversubscribe", "-np", "2",     (char *)an,
	    "--agent",	    (char *)endpoint,	   "--bins",	      "500", "--fit", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, ra->analyze_log, O_WRONLY | O_CREAT | O_TRUNC,
					 0644);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	/* OpenMPI's plugins leak at exit (dlclosed, so unnamed in reports): in a sanitizer build
	 * the ranks look for no leaks (harmless elsewhere) */
	char *envp[256];
	int ne = 0;
	for (char **e = environ; *e && ne < 254; e++)
		if (strncmp(*e, "ASAN_OPTIONS=", 13))
			envp[ne++] = *e;
	envp[ne++] = "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1";
	envp[ne] = NULL;
	pid_t pid;
	int rc = posix_spawn(&pid, mpirun, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	return rc ? -rc : pid;
}

int bl_run_agent_start(struct bl_run_agent *ra, const struct bl_hwdb *db, const char *out_dir,
		       const struct bl_fw_client_config *fw)
{
	pthread_mutex_init(&ra->lock, NULL);
	ra->lat = malloc(MAX_LAT * sizeof(double));
	snprintf(ra->out, sizeof(ra->out), "%s", out_dir);
	snprintf(ra->log_path, sizeof(ra->log_path), "%s/agent.log", out_dir);
	snprintf(ra->analyze_log, sizeof(ra->analyze_log), "%s/analyze.log", out_dir);
	char err[512];
	const char *stream = NULL;
	struct bl_agent_config cfg = {.fw = fw,
				      .out_dir = out_dir,
				      .forward = "tcp://127.0.0.1:*",
				      .on_result = on_result,
				      .result_ctx = ra,
				      .results_wait_us = 3000000,
				      .log = log_line,
				      .log_ctx = ra};
	int rc = ra->lat
		     ? bl_agent_geometry_from_hwdb(db, NULL, &cfg.geom, &stream, err, sizeof(err))
		     : -ENOMEM;
	cfg.stream = stream;
	char mk[700];
	snprintf(mk, sizeof(mk), "mkdir -p '%s'", out_dir);
	if (!rc && system(mk))
		rc = -EIO;
	if (!rc && !(ra->log = fopen(ra->log_path, "w")))
		rc = -errno;
	if (!rc && (rc = bl_agent_new(&ra->agent, &cfg, err, sizeof(err))))
		fprintf(stderr, "beamloop: agent: %s\n", err);
	if (rc)
		return rc;
	setvbuf(ra->log, NULL, _IOLBF, 0);
	atomic_store(&ra->stop, false);
	pthread_create(&ra->thread, NULL, agent_thread, ra);
	char ep[256];
	bl_agent_forward_endpoint(ra->agent, ep, sizeof(ep));
	ra->analyze = start_analyze(ra, ep);
	printf("  agent: stream %s -> files in %s/; analysis: %s\n", stream, out_dir,
	       ra->analyze > 0 ? "mpirun -np 2 beamloop-analyze" : "none (no MPI)");
	/* both ranks have asked for frames before the first sample is measured */
	for (int i = 0; ra->analyze > 0 && i < 300; i++) {
		struct bl_agent_counters c;
		bl_agent_counters(ra->agent, &c);
		if (c.fwd_workers >= 2)
			break;
		sleep_ms(20);
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int bl_run_agent_finish(struct bl_run_agent *ra, int frames_expected)
{
	if (!ra->agent)
		return -EINVAL;
	struct bl_agent_counters c;
	/* every frame the controller triggered is in a file and, with analysis, answered */
	for (int i = 0; i < 1500; i++) {
		bl_agent_counters(ra->agent, &c);
		bool stored = c.frames_written + c.frames_refused >= (uint64_t)frames_expected;
		bool answered =
		    ra->analyze <= 0 || (c.results + c.results_bad >= c.frames_written &&
					 c.files_analysed >= c.files_closed);
		if (stored && answered && c.files_closed == c.files_opened)
			break;
		sleep_ms(20);
	}
	int st = 0;
	if (ra->analyze > 0) {
		kill(ra->analyze, SIGTERM);
		waitpid(ra->analyze, &st, 0);
	}
	atomic_store(&ra->stop, true);
	pthread_join(ra->thread, NULL);
	bl_agent_counters(ra->agent, &c);
	bl_agent_free(ra->agent);
	ra->agent = NULL;
	fclose(ra->log);
	qsort(ra->lat, ra->nlat, sizeof(double), cmp_double);
	double p50 = ra->nlat ? ra->lat[ra->nlat / 2] : NAN;
	double p99 =
	    ra->nlat
		? ra->lat[(ra->nlat * 99) / 100 < ra->nlat ? (ra->nlat * 99) / 100 : ra->nlat - 1]
		: NAN;
	printf("agent: %llu frames in %llu files (%llu tagged, %llu untagged), %llu missing, "
	       "%llu rejected; analysed %llu (%s), /entry/process written in %llu files; stored -> "
	       "result p50 %.1f ms, p99 %.1f ms; files in %s/ (log %s)\n",
	       (unsigned long long)c.frames_written, (unsigned long long)c.files_closed,
	       (unsigned long long)c.join.tagged, (unsigned long long)c.join.untagged,
	       (unsigned long long)c.stream.missing, (unsigned long long)c.stream.rejected,
	       (unsigned long long)c.results,
	       c.results == c.frames_written ? "every frame" : "NOT every frame",
	       (unsigned long long)c.files_analysed, p50, p99, ra->out, ra->log_path);
	FILE *f = ra->analyze > 0 ? fopen(ra->analyze_log, "r") : NULL;
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		if (strstr(line, "ranks,"))
			printf("  %s", line);
	if (f)
		fclose(f);
	free(ra->lat);
	pthread_mutex_destroy(&ra->lock);
	bool ok = c.frames_written >= (uint64_t)frames_expected &&
		  (ra->analyze <= 0 || c.results >= c.frames_written);
	return ok ? 0 : -EIO;
}
