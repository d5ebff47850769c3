/* test_agent_fwd.c: forwarding to analysis workers with credit (a worker that keeps up, a slow
 * one, none then one) and an agent restarted mid-series; a stream source built from bl_dmsg_*. */
#include <errno.h>
#include <hdf5.h>
#include <sqlite3.h>
#include <stdio.h>

#include "../check.h"
#include "bl_agent.h"
#include "fwd_rig.h"

static char out_dir[512];

static void agent_start(bool forward)
{
	struct bl_agent_config cfg = {.stream = src.endpoint,
				      .out_dir = out_dir,
				      .forward = forward ? "tcp://127.0.0.1:*" : NULL,
				      .geom = {.distance_m = 1,
					       .x_pixel_m = 75e-6,
					       .y_pixel_m = 75e-6,
					       .width = W,
					       .height = H,
					       .wavelength_A = 1}};
	agent_run_start(&cfg);
}

/* The worker got series SERIES's frames 0..N-1 once each, in order, as sent. */
static void check_got(uint64_t series, int n)
{
	int next = 0, bad = 0;
	for (int i = 0; i < atomic_load(&wk.n); i++) {
		const struct got *g = &wk.g[i];
		if (g->series != series)
			continue;
		if (g->frame != (uint64_t)next || !g->same)
			bad++;
		next++;
	}
	if (bad || next != n)
		fprintf(stderr, "  series %llu: %d of %d frames, %d out of order or differing\n",
			(unsigned long long)series, next, n, bad);
	CHECK_EQ_INT(next, n);
	CHECK_EQ_INT(bad, 0);
}

static void read_u64(hid_t f, const char *path, uint64_t *v)
{
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
	H5Dclose(d);
}

/* FILE holds N frames, MISSING missing, STATUS; its chunk k is what was sent for FIRST + k. */
static void check_file(const char *path, uint64_t series, int first, int n, uint64_t missing,
		       const char *status)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	CHECK(f >= 0);
	if (f < 0) {
		fprintf(stderr, "  cannot open %s\n", path);
		return;
	}
	uint64_t frames = 0, miss = 0, fn[64] = {0};
	read_u64(f, "/entry/ingest/frames", &frames);
	read_u64(f, "/entry/ingest/frames_missing", &miss);
	read_u64(f, "/entry/instrument/detector/frame_number", fn);
	CHECK_EQ_INT(frames, n);
	CHECK_EQ_INT(miss, missing);
	hid_t s = H5Dopen2(f, "/entry/ingest/status", H5P_DEFAULT);
	char st[32] = {0};
	hid_t t = H5Dget_type(s);
	CHECK(H5Dread(s, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, st) >= 0);
	H5Tclose(t);
	H5Dclose(s);
	CHECK(!strncmp(st, status, strlen(status)));
	hid_t d = H5Dopen2(f, "/entry/data/data", H5P_DEFAULT);
	static uint8_t chunk[1 << 20];
	for (int k = 0; k < n; k++) {
		hsize_t off[3] = {(hsize_t)k, 0, 0}, size = 0;
		uint32_t mask = 0;
		const struct sent *x = src_find(series, (uint64_t)(first + k));
		CHECK(H5Dget_chunk_storage_size(d, off, &size) >= 0);
		CHECK(H5Dread_chunk(d, H5P_DEFAULT, off, &mask, chunk) >= 0);
		CHECK(x && size == x->size && !memcmp(chunk, x->data, x->size));
		CHECK_EQ_INT(fn[k], first + k);
	}
	H5Dclose(d);
	H5Fclose(f);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT-DIR\n", argv[0]);
		return 2;
	}
	snprintf(out_dir, sizeof(out_dir), "%s", argv[1]);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out_dir);
	if (system(cmd) || src_start())
		return 1;
	agent_start(true);
	char fwd[256];
	bl_agent_forward_endpoint(agent, fwd, sizeof(fwd));
	CHECK(strncmp(fwd, "tcp://127.0.0.1:", 16) == 0);
	void *wctx = zmq_ctx_new();

	/* (a) a worker that keeps up */
	wk_start(wctx, fwd, 16, 20 + 30, 0);
	WAIT_FOR(counters().fwd_workers == 1);
	send_series(1, 0, 20, true, true);
	WAIT_FOR(atomic_load(&wk.n) == 20);
	check_got(1, 20);

	/* (b) a slow worker: ingest does not wait for it, frames wait on disk */
	wk.delay_ms =
	    100; /* 3 s for the series: ingest is done long before, even on a loaded machine */
	wk.window = 2;
	send_series(2, 0, 30, true, true);
	WAIT_FOR(counters().files_closed == 2);
	int got_then = atomic_load(&wk.n);
	fprintf(stderr, "  slow worker: %d of 30 forwarded when the series was stored\n",
		got_then - 20);
	CHECK(got_then < 20 + 30);
	CHECK(counters().fwd_spooled > 0);
	WAIT_FOR(atomic_load(&wk.n) == 50);
	check_got(2, 30);
	wk_stop(); /* its credit is used up: it asked for 50 */

	/* (c) no worker: everything waits on disk; a worker that comes later gets it all */
	send_series(3, 0, 25, true, true);
	WAIT_FOR(counters().files_closed == 3);
	WAIT_FOR(counters().fwd_queued == 25);
	sleep_ms(100);
	CHECK_EQ_INT(counters().fwd_forwarded, 50);
	wk_start(wctx, fwd, 8, 25, 0);
	WAIT_FOR(atomic_load(&wk.n) == 75);
	check_got(3, 25);
	wk_stop();
	struct bl_agent_counters c = counters();
	fprintf(stderr, "  forwarding: %llu forwarded, %llu spooled, %llu queued, %llu dropped\n",
		(unsigned long long)c.fwd_forwarded, (unsigned long long)c.fwd_spooled,
		(unsigned long long)c.fwd_queued, (unsigned long long)c.fwd_dropped);
	CHECK_EQ_INT(c.fwd_forwarded, 75);
	CHECK_EQ_INT(c.fwd_queued, 0);
	CHECK_EQ_INT(c.fwd_dropped, 0);
	CHECK(c.fwd_spooled >= 25);

	/* restart mid-series: 5 frames stored, the agent stops, a new one takes the rest */
	send_series(4, 0, 5, true, false);
	WAIT_FOR(counters().frames_written == 75 + 5);
	char first_file[PATH_MAX];
	bl_agent_last_file(agent, first_file, sizeof(first_file));
	agent_kill(); /* writes the forwarding row and saves the 5 unforwarded frames */
	agent_start(true);
	CHECK_EQ_INT(counters().fwd_restored, 5);
	send_series(4, 5, 12, false, true);
	WAIT_FOR(counters().files_closed == 1);
	c = counters();
	CHECK_EQ_INT(c.frames_written, 7);
	CHECK_EQ_INT(c.series_adopted, 1);
	/* a worker now gets series 4 whole: the first agent's 5 (from its file) then the rest */
	bl_agent_forward_endpoint(agent, fwd, sizeof(fwd));
	atomic_store(&wk.n, 0);
	wk_start(wctx, fwd, 4, 12, 0);
	WAIT_FOR(atomic_load(&wk.n) == 12);
	check_got(4, 12);
	wk_stop();
	CHECK_EQ_INT(counters().fwd_queued, 0);
	char second_file[PATH_MAX];
	bl_agent_last_file(agent, second_file, sizeof(second_file));
	agent_kill();
	fprintf(stderr, "  restart: %s then %s\n", first_file, second_file);
	CHECK(strcmp(first_file, second_file) != 0);
	check_file(first_file, 4, 0, 5, 0, "interrupted");
	check_file(second_file, 4, 5, 7, 5, "incomplete");

	/* the index: the forwarding row; both files of series 4 */
	char idx[600];
	snprintf(idx, sizeof(idx), "%s/index.sqlite", out_dir);
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK_EQ_INT(sqlite3_open(idx, &db), SQLITE_OK);
	CHECK_EQ_INT(
	    sqlite3_prepare_v2(db, "SELECT queued, forwarded, spooled, dropped FROM forwarding", -1,
			       &st, NULL),
	    SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_EQ_INT(sqlite3_column_int(st, 0), 0); /* the second agent forwarded all 12 */
	CHECK_EQ_INT(sqlite3_column_int(st, 1), 12);
	CHECK_EQ_INT(sqlite3_column_int(st, 3), 0);
	sqlite3_finalize(st);
	CHECK_EQ_INT(
	    sqlite3_prepare_v2(db,
			       "SELECT r.status, f.frames, f.missing FROM files f JOIN runs "
			       "r ON f.run_id = r.id WHERE r.series = 4 ORDER BY f.id",
			       -1, &st, NULL),
	    SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "interrupted");
	CHECK_EQ_INT(sqlite3_column_int(st, 1), 5);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "incomplete");
	CHECK_EQ_INT(sqlite3_column_int(st, 1), 7);
	CHECK_EQ_INT(sqlite3_column_int(st, 2), 5);
	sqlite3_finalize(st);
	sqlite3_close(db);

	zmq_ctx_term(wctx);
	src_stop();
	return CHECK_DONE();
}
