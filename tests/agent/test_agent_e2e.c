/* test_agent_e2e.c: the agent end to end: bl-detector-sim (exts, bs16-lz4 then raw uint32), a
 * fake controller publishing edges before, after and never, bad stream messages injected; the
 * NeXus files are checked from C (direct chunk bytes = what the detector sent) and their
 * expectations written for the h5py/silx peer check. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <unistd.h>

#include "../check.h"
#include "../drivers/simproc.h"
#include "bl_agent.h"
#include "bl_detector.h"
#include "e2e_rig.h"

static struct bl_agent *agent;
static atomic_bool agent_stop;
static struct bl_det *det;
static char out_dir[512];

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static void *agent_thread(void *arg)
{
	(void)arg;
	bl_agent_run(agent, &agent_stop);
	return NULL;
}

static struct bl_agent_counters counters(void)
{
	struct bl_agent_counters c;
	bl_agent_counters(agent, &c);
	return c;
}

/* Waits up to 5 s until the counter at OFFSET reaches N. */
#define WAIT_FOR(field, n)                                                                         \
	do {                                                                                       \
		for (int w_ = 0; w_ < 500 && counters().field < (uint64_t)(n); w_++)               \
			sleep_ms(10);                                                              \
		CHECK(counters().field >= (uint64_t)(n));                                          \
	} while (0)

static void ctl_cmd(const char *cmd)
{
	const char *r = simproc_ctl_cmd(cmd);
	if (strncmp(r, "ok", 2))
		fprintf(stderr, "  sim '%s': %s\n", cmd, r);
}

static uint64_t arm_series(int n, const char *compression, int bits)
{
	CHECK_EQ_INT(bl_det_set_number(det, "count_time", 0.005), 0);
	CHECK_EQ_INT(bl_det_set_number(det, "frame_time", 0.01), 0);
	CHECK_EQ_INT(bl_det_set_number(det, "nimages", 1), 0);
	CHECK_EQ_INT(bl_det_set_number(det, "ntrigger", n), 0);
	CHECK_EQ_INT(bl_det_set_number(det, "bit_depth_image", bits), 0);
	CHECK_EQ_INT(bl_det_set_string(det, "trigger_mode", "exts"), 0);
	CHECK_EQ_INT(bl_det_set_string(det, "compression", compression), 0);
	uint64_t series = 0;
	CHECK_EQ_INT(bl_det_arm(det, &series), 0);
	return series;
}

static hid_t open_ds(hid_t f, const char *path)
{
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	if (d < 0)
		fprintf(stderr, "  no dataset %s\n", path);
	return d;
}

static void read_all(hid_t f, const char *path, hid_t mem, void *buf)
{
	hid_t d = open_ds(f, path);
	CHECK(d >= 0 && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
	H5Dclose(d);
}

static hsize_t frames_in(hid_t f)
{
	hsize_t dims[3] = {0};
	hid_t d = open_ds(f, "/entry/instrument/detector/data");
	hid_t sp = H5Dget_space(d);
	H5Sget_simple_extent_dims(sp, dims, NULL);
	H5Sclose(sp);
	H5Dclose(d);
	return dims[0];
}

/* Every chunk in PATH is what the tap recorded (compressed series) or decodes to it (raw). */
static void check_frames(const char *path, uint64_t series, int n, bool as_sent, size_t elem,
			 FILE *expect)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	CHECK(f >= 0);
	if (f < 0)
		return;
	CHECK_EQ_INT(frames_in(f), n);
	hid_t d = open_ds(f, "/entry/data/data");
	static uint8_t chunk[1 << 20], img[1 << 20], scratch[BL_DCODEC_SCRATCH];
	fprintf(expect, "\"md5\": [");
	for (int k = 0; k < n; k++) {
		const struct tap_image *im = tap_find(series, (uint64_t)k);
		CHECK(im != NULL);
		if (!im)
			continue;
		hsize_t off[3] = {(hsize_t)k, 0, 0}, size = 0;
		uint32_t mask = 1;
		CHECK(H5Dget_chunk_storage_size(d, off, &size) >= 0);
		CHECK(H5Dread_chunk(d, H5P_DEFAULT, off, &mask, chunk) >= 0);
		CHECK_EQ_INT(mask, 0);
		if (as_sent) {
			CHECK_EQ_INT(size, im->size);
			CHECK(!memcmp(chunk, im->data, im->size));
		}
		/* decoded through the filter: the pixels the detector sent */
		hsize_t cnt[3] = {1, 136, 128};
		hid_t fs = H5Dget_space(d), ms = H5Screate_simple(3, cnt, NULL);
		H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
		hid_t mt = elem == 2 ? H5T_NATIVE_UINT16 : H5T_NATIVE_UINT32;
		CHECK(H5Dread(d, mt, ms, fs, H5P_DEFAULT, img) >= 0);
		H5Sclose(ms);
		H5Sclose(fs);
		static uint8_t sent[1 << 20];
		enum bl_denc enc = BL_DENC_RAW;
		CHECK_EQ_INT(bl_denc_parse(im->encoding, &enc), 0);
		CHECK_EQ_INT(bl_dcodec_decode(enc, im->data, im->size, sent, 128 * 136, elem,
					      scratch, sizeof(scratch)),
			     0);
		CHECK(!memcmp(img, sent, 128 * 136 * elem));
		char md5[33];
		bl_md5_hex(sent, 128 * 136 * elem, md5);
		fprintf(expect, "%s\"%s\"", k ? ", " : "", md5);
	}
	fprintf(expect, "],\n");
	H5Dclose(d);
	H5Fclose(f);
}

static void check_tags(const char *path, const uint8_t *want, const int64_t *times, int n)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	uint8_t tagged[16] = {0};
	int64_t t[16] = {0};
	uint64_t fn[16] = {0}, untagged = 0;
	read_all(f, "/entry/instrument/trigger/tagged", H5T_NATIVE_UINT8, tagged);
	read_all(f, "/entry/instrument/trigger/trigger_time", H5T_NATIVE_INT64, t);
	read_all(f, "/entry/instrument/detector/frame_number", H5T_NATIVE_UINT64, fn);
	read_all(f, "/entry/ingest/frames_untagged", H5T_NATIVE_UINT64, &untagged);
	uint64_t nu = 0;
	for (int k = 0; k < n; k++) {
		CHECK_EQ_INT(tagged[k], want[k]);
		CHECK_EQ_INT(t[k], times[k]);
		CHECK_EQ_INT(fn[k], k);
		nu += !want[k];
	}
	CHECK_EQ_INT(untagged, nu);
	H5Fclose(f);
}

static void wait_waiting(uint64_t n)
{
	WAIT_FOR(join.waited, n);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s BL-DETECTOR-SIM SOURCE-ROOT OUT-DIR\n", argv[0]);
		return 2;
	}
	snprintf(out_dir, sizeof(out_dir), "%s", argv[3]);
	char cmd[600], hwdb[512];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out_dir);
	if (system(cmd))
		return 1;
	snprintf(hwdb, sizeof(hwdb), "%s/hwdb/beamlines/sim.yaml", argv[2]);
	const char *extra[] = {"--http-port", "0",	 "--stream", "tcp://127.0.0.1:*",
			       "--shape",     "128x136", NULL};
	simproc_start_opt(argv[1], hwdb, 0, extra);
	int http_port = 0;
	char stream_ep[128];
	if (sscanf(simproc_ready, "ready http=%d stream=%127s", &http_port, stream_ep) != 2 ||
	    bl_det_open("127.0.0.1", http_port, "1.8.0", 1000, 3000, &det) ||
	    tap_start(stream_ep) || ctl_start()) {
		fprintf(stderr, "rig did not start\n");
		return 1;
	}
	struct bl_fw_client_config fw = {.endpoint = bl_fw_net_cmd_endpoint(ctl.net),
					 .event_endpoint = bl_fw_net_evt_endpoint(ctl.net),
					 .server_key = ctl.server_pub,
					 .public_key = ctl.client_pub,
					 .secret_key = ctl.client_sec};
	struct bl_agent_config cfg = {
	    .stream = tap.endpoint,
	    .fw = &fw,
	    .out_dir = out_dir,
	    .wait_us = 400000,
	    .slots = 8,
	    .geom = {.distance_m = 3.5,
		     .x_pixel_m = 172e-6,
		     .y_pixel_m = 172e-6,
		     .beam_x_px = 490.5,
		     .beam_y_px = 980.0,
		     .wavelength_A = 1.2398,
		     .incidence_deg = 0.16,
		     .width = 981,
		     .height = 1043},
	};
	snprintf(cfg.geom.beamline, sizeof(cfg.geom.beamline), "sim");
	char err[512];
	if (bl_agent_new(&agent, &cfg, err, sizeof(err))) {
		fprintf(stderr, "agent: %s\n", err);
		return 1;
	}
	pthread_t th;
	pthread_create(&th, NULL, agent_thread, NULL);
	/* the SUB side joins late (ZMQ): records of series 0 until one arrives */
	for (int i = 0; i < 300 && !counters().join.edges; i++) {
		ctl_edge(0, (uint64_t)i, 1, "warmup", NULL);
		sleep_ms(10);
	}
	CHECK(counters().join.edges > 0);

	/* a command from the agent (the decision layer's path) over CurveZMQ, answered */
	cJSON *reply = NULL;
	CHECK_EQ_INT(bl_agent_command(agent, "pause", "{\"reason\":\"agent test\"}", 3000, &reply),
		     0);
	const cJSON *paused = cJSON_GetObjectItemCaseSensitive(reply, "paused");
	CHECK(cJSON_IsTrue(paused));
	cJSON_Delete(reply);
	CHECK_EQ_INT(atomic_load(&ctl_cmds.pauses), 1);
	CHECK_STR(ctl_cmds.reason, "agent test");
	CHECK_STR(ctl_cmds.key, ctl.client_pub); /* authenticated as the agent's key */
	CHECK_EQ_INT(bl_agent_command(agent, "no_such", NULL, 3000, &reply), -ENOSYS);
	cJSON_Delete(reply);

	/* series A: bs16-lz4 uint16, 6 frames. Edges: before (0-2), after (3), never (4),
	 * "untagged" (5). */
	uint64_t a = arm_series(6, "bslz4", 16);
	const uint64_t t0 = 1000000;
	for (int k = 0; k < 6; k++) {
		if (k <= 2)
			ctl_edge(a, (uint64_t)k, t0 + (uint64_t)k * 10000, "BL1001043", NULL);
		if (k == 5)
			ctl_edge(a, 5, t0 + 50000, NULL, NULL);
		sleep_ms(20); /* the record is on its way before the edge */
		ctl_cmd("trigger");
		WAIT_FOR(stream.frames, (uint64_t)k + 1);
		if (k == 3) {
			wait_waiting(1);
			sleep_ms(100);
			ctl_edge(a, 3, t0 + 30000, "BL1001043", NULL);
		}
	}
	WAIT_FOR(files_closed, 1);
	/* bad messages: rejected and counted, the agent keeps going */
	atomic_store(&tap.inject, 4);
	WAIT_FOR(stream.rejected, 4);

	/* series B: raw uint32 (compressed on write), a print run, edges before every frame */
	uint64_t b = arm_series(3, "none", 32);
	for (int k = 0; k < 3; k++) {
		ctl_edge(b, (uint64_t)k, t0 + 100000 + (uint64_t)k, NULL, "P3HT-a");
		sleep_ms(20);
		ctl_cmd("trigger");
	}
	WAIT_FOR(files_closed, 2);
	struct bl_agent_counters c = counters();
	char path_b[PATH_MAX];
	bl_agent_last_file(agent, path_b, sizeof(path_b));
	atomic_store(&agent_stop, true);
	pthread_join(th, NULL);
	bl_agent_free(agent);

	fprintf(stderr,
		"  agent: %llu frames written, %llu tagged, %llu untagged, %llu waited, %llu "
		"rejected, %llu late edges\n",
		(unsigned long long)c.frames_written, (unsigned long long)c.join.tagged,
		(unsigned long long)c.join.untagged, (unsigned long long)c.join.waited,
		(unsigned long long)c.stream.rejected, (unsigned long long)c.join.edges_late);
	CHECK_EQ_INT(c.frames_written, 9);
	CHECK_EQ_INT(c.join.tagged, 7);
	CHECK_EQ_INT(c.join.untagged, 2);
	CHECK_EQ_INT(c.stream.rejected, 4);
	CHECK_EQ_INT(c.stream.bad_json, 1);
	CHECK_EQ_INT(c.stream.bad_htype, 2);
	CHECK_EQ_INT(c.frames_refused, 0);
	CHECK_EQ_INT(c.files_opened, 2);

	/* the files: OUT/YYYYMMDD/<label>_s<series>.nxs */
	char day[16], path_a[PATH_MAX];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(day, sizeof(day), "%Y%m%d", &tm);
	snprintf(path_a, sizeof(path_a), "%s/%s/BL1001043_s%llu.nxs", out_dir, day,
		 (unsigned long long)a);
	char want_b[PATH_MAX];
	snprintf(want_b, sizeof(want_b), "%s/%s/P3HT-a_s%llu.nxs", out_dir, day,
		 (unsigned long long)b);
	CHECK_STR(path_b, want_b);
	char exp_path[600];
	snprintf(exp_path, sizeof(exp_path), "%s/expected.json", out_dir);
	FILE *ex = fopen(exp_path, "w");
	fprintf(ex, "{\"a\": {\"path\": \"%s\", \"dtype\": \"uint16\", \"series\": %llu,\n", path_a,
		(unsigned long long)a);
	check_frames(path_a, a, 6, true, 2, ex);
	fprintf(ex, "\"tagged\": [1, 1, 1, 1, 0, 0], \"barcode\": \"BL1001043\"},\n");
	fprintf(ex, "\"b\": {\"path\": \"%s\", \"dtype\": \"uint32\", \"series\": %llu,\n", path_b,
		(unsigned long long)b);
	check_frames(path_b, b, 3, false, 4, ex);
	fprintf(ex, "\"tagged\": [1, 1, 1], \"label\": \"P3HT-a\"},\n");
	fprintf(ex, "\"shape\": [136, 128], \"wavelength\": 1.2398, \"distance\": 3.5}\n");
	fclose(ex);
	uint8_t want_a[6] = {1, 1, 1, 1, 0, 0};
	int64_t times_a[6] = {t0, t0 + 10000, t0 + 20000, t0 + 30000, -1, -1};
	check_tags(path_a, want_a, times_a, 6);
	uint8_t want_bt[3] = {1, 1, 1};
	int64_t times_b[3] = {t0 + 100000, t0 + 100001, t0 + 100002};
	check_tags(path_b, want_bt, times_b, 3);
	hid_t f = H5Fopen(path_b, H5F_ACC_RDONLY, H5P_DEFAULT);
	double film[3] = {0}, px = 0;
	read_all(f, "/entry/instrument/printer/film_position", H5T_NATIVE_DOUBLE, film);
	read_all(f, "/entry/instrument/detector/x_pixel_size", H5T_NATIVE_DOUBLE, &px);
	CHECK(film[0] == 50 && film[1] == 51 && film[2] == 52);
	CHECK_NEAR(px, 172e-6 * 981 / 128, 1e-12); /* the binned sensor */
	H5Fclose(f);

	/* the index */
	char idx[600];
	snprintf(idx, sizeof(idx), "%s/index.sqlite", out_dir);
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK_EQ_INT(sqlite3_open(idx, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db,
					"SELECT r.kind, r.status, f.frames, f.untagged, f.status "
					"FROM files f JOIN runs r ON f.run_id = r.id ORDER BY f.id",
					-1, &st, NULL),
		     SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "sample");
	CHECK_STR((const char *)sqlite3_column_text(st, 1), "complete");
	CHECK_EQ_INT(sqlite3_column_int(st, 2), 6);
	CHECK_EQ_INT(sqlite3_column_int(st, 3), 2);
	CHECK_STR((const char *)sqlite3_column_text(st, 4), "closed");
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "print");
	CHECK_EQ_INT(sqlite3_column_int(st, 2), 3);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);

	bl_det_free(det);
	ctl_stop();
	tap_stop();
	simproc_stop();
	return CHECK_DONE();
}
