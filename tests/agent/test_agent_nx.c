/* test_agent_nx.c: the NXsas writer (layout, direct chunk bytes, decoded pixels through the
 * bitshuffle filter, per-frame metadata, SWMR reader while it grows, refused paths) and the
 * SQLite index. */
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "bl_agent_index.h"
#include "bl_nx.h"

#define W 40
#define H 30

static char dir[] = "/tmp/bl-agent-nx-XXXXXX";

static struct bl_nx_static geometry(void)
{
	struct bl_nx_static st = {.distance_m = 3.5,
				  .x_pixel_m = 172e-6,
				  .y_pixel_m = 172e-6,
				  .beam_x_px = 20.5,
				  .beam_y_px = 28.0,
				  .wavelength_A = 1.2398,
				  .incidence_deg = 0.16,
				  .count_time_s = 0.01,
				  .frame_time_s = 0.02,
				  .series = 9,
				  .width = W,
				  .height = H,
				  .type = BL_DTYPE_UINT16};
	snprintf(st.title, sizeof(st.title), "test");
	snprintf(st.beamline, sizeof(st.beamline), "sim");
	snprintf(st.source, sizeof(st.source), "virtual beamline");
	snprintf(st.detector, sizeof(st.detector), "Dectris Pilatus 1M");
	return st;
}

static uint16_t pix[3][W * H];
static uint8_t chunks[3][W * H * 2 + 1024];
static size_t chunk_len[3];

static char *read_str(hid_t f, const char *path)
{
	static char buf[256];
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	if (d < 0)
		return strcpy(buf, "(absent)");
	hid_t t = H5Dget_type(d), mt = H5Tcopy(H5T_C_S1);
	H5Tset_cset(mt, H5T_CSET_UTF8);
	buf[0] = 0;
	if (H5Tis_variable_str(t)) {
		char *s = NULL;
		H5Tset_size(mt, H5T_VARIABLE);
		H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s);
		snprintf(buf, sizeof(buf), "%s", s ? s : "");
		H5free_memory(s);
	} else {
		H5Tset_size(mt, sizeof(buf));
		H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
	}
	H5Tclose(mt);
	H5Tclose(t);
	H5Dclose(d);
	return buf;
}

static double read_num(hid_t f, const char *path)
{
	double v = NAN;
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	if (d >= 0) {
		H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
		H5Dclose(d);
	}
	return v;
}

static hsize_t rows(hid_t f, const char *path)
{
	hsize_t dims[3] = {0};
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	if (d < 0)
		return (hsize_t)-1;
	H5Drefresh(d);
	hid_t sp = H5Dget_space(d);
	H5Sget_simple_extent_dims(sp, dims, NULL);
	H5Sclose(sp);
	H5Dclose(d);
	return dims[0];
}

static void test_file(void)
{
	char path[256], err[256];
	snprintf(path, sizeof(path), "%s/BL1001043_s9.nxs", dir);
	for (int k = 0; k < 3; k++) {
		for (int i = 0; i < W * H; i++)
			pix[k][i] = (uint16_t)((i * 7 + k * 1000) % 4000);
		CHECK_EQ_INT(bl_nx_chunk_encode(BL_DTYPE_UINT16, pix[k], W * H, chunks[k],
						sizeof(chunks[k]), &chunk_len[k]),
			     0);
	}
	struct bl_nx_static st = geometry();
	struct bl_edge e = {.series = 9,
			    .kind = BL_EDGE_FRAME,
			    .has_frame = true,
			    .t = 5000,
			    .has_sample = true,
			    .sample = 3,
			    .puck = 1,
			    .slot = 4,
			    .flags = 2};
	snprintf(e.barcode, sizeof(e.barcode), "BL1001043");
	struct bl_nx *nx = NULL;
	int rc = bl_nx_create(&nx, path, &st, &e, err, sizeof(err));
	if (rc)
		fprintf(stderr, "  %s\n", err);
	CHECK_EQ_INT(rc, 0);
	if (rc)
		return;
	struct bl_nx_frame f = {0, chunks[0], chunk_len[0], 111, &e};
	CHECK_EQ_INT(bl_nx_append(nx, &f), 0);
	f = (struct bl_nx_frame){1, chunks[1], chunk_len[1], 222, NULL};
	CHECK_EQ_INT(bl_nx_append(nx, &f), 0);
	struct bl_nx_totals t = {.missing = 1, .rejected = 2};
	CHECK_EQ_INT(bl_nx_flush(nx, &t), 0);
	/* a SWMR reader sees the two frames while the file is open */
	hid_t r = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
	CHECK(r >= 0);
	CHECK_EQ_INT(rows(r, "/entry/instrument/detector/data"), 2);
	CHECK_EQ_INT(rows(r, "/entry/instrument/trigger/tagged"), 2);
	e.frame = 3;
	e.t = 5300;
	f = (struct bl_nx_frame){3, chunks[2], chunk_len[2], 333, &e};
	CHECK_EQ_INT(bl_nx_append(nx, &f), 0);
	CHECK_EQ_INT(bl_nx_flush(nx, &t), 0);
	CHECK_EQ_INT(rows(r, "/entry/instrument/detector/data"), 3);
	H5Fclose(r);
	CHECK_EQ_INT(bl_nx_close(nx, &t, "incomplete"), 0);
	/* never overwritten */
	CHECK_EQ_INT(bl_nx_create(&nx, path, &st, &e, err, sizeof(err)), -EEXIST);

	hid_t fh = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	CHECK(fh >= 0);
	CHECK_STR(read_str(fh, "/entry/definition"), "NXsas");
	CHECK_STR(read_str(fh, "/entry/sample/barcode"), "BL1001043");
	CHECK_STR(read_str(fh, "/entry/sample/name"), "BL1001043");
	CHECK_STR(read_str(fh, "/entry/ingest/status"), "incomplete");
	CHECK_NEAR(read_num(fh, "/entry/sample/slot"), 4, 0);
	CHECK_NEAR(read_num(fh, "/entry/instrument/detector/distance"), 3.5, 1e-12);
	CHECK_NEAR(read_num(fh, "/entry/instrument/monochromator/wavelength"), 1.2398, 1e-12);
	CHECK_NEAR(read_num(fh, "/entry/instrument/detector/beam_center_x"), 20.5, 1e-12);
	CHECK_NEAR(read_num(fh, "/entry/ingest/frames"), 3, 0);
	CHECK_NEAR(read_num(fh, "/entry/ingest/frames_untagged"), 1, 0);
	CHECK_NEAR(read_num(fh, "/entry/ingest/frames_missing"), 1, 0);
	CHECK_NEAR(read_num(fh, "/entry/ingest/messages_rejected"), 2, 0);
	CHECK(H5Lexists(fh, "/entry/instrument/printer", H5P_DEFAULT) == 0);
	/* the NXdata link is the same dataset */
	hid_t d = H5Dopen2(fh, "/entry/data/data", H5P_DEFAULT);
	CHECK(d >= 0);
	for (int k = 0; k < 3; k++) {
		hsize_t off[3] = {(hsize_t)k, 0, 0};
		hsize_t n = 0;
		uint32_t mask = 1;
		static uint8_t back[sizeof(chunks[0])];
		CHECK(H5Dget_chunk_storage_size(d, off, &n) >= 0);
		CHECK_EQ_INT(n, chunk_len[k]);
		CHECK(H5Dread_chunk(d, H5P_DEFAULT, off, &mask, back) >= 0);
		CHECK_EQ_INT(mask, 0);
		CHECK(!memcmp(back, chunks[k], chunk_len[k]));
		/* decoded through the filter plugin */
		static uint16_t img[W * H];
		hsize_t cnt[3] = {1, H, W};
		hid_t fs = H5Dget_space(d), ms = H5Screate_simple(3, cnt, NULL);
		H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
		CHECK(H5Dread(d, H5T_NATIVE_UINT16, ms, fs, H5P_DEFAULT, img) >= 0);
		CHECK(!memcmp(img, pix[k], sizeof(img)));
		H5Sclose(ms);
		H5Sclose(fs);
	}
	H5Dclose(d);
	uint64_t frames[3] = {0};
	int64_t times[3] = {0};
	uint8_t tagged[3] = {0};
	d = H5Dopen2(fh, "/entry/instrument/detector/frame_number", H5P_DEFAULT);
	H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, frames);
	H5Dclose(d);
	d = H5Dopen2(fh, "/entry/instrument/trigger/trigger_time", H5P_DEFAULT);
	H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, times);
	H5Dclose(d);
	d = H5Dopen2(fh, "/entry/instrument/trigger/tagged", H5P_DEFAULT);
	H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, tagged);
	H5Dclose(d);
	CHECK(frames[0] == 0 && frames[1] == 1 && frames[2] == 3);
	CHECK(times[0] == 5000 && times[1] == -1 && times[2] == 5300);
	CHECK(tagged[0] == 1 && tagged[1] == 0 && tagged[2] == 1);
	H5Fclose(fh);
}

static void test_refused(void)
{
	char path[300], err[256];
	struct bl_nx_static st = geometry();
	struct bl_nx *nx = NULL;
	snprintf(path, sizeof(path), "%s/no/such/dir/x.nxs", dir);
	CHECK_EQ_INT(bl_nx_create(&nx, path, &st, NULL, err, sizeof(err)), -ENOENT);
	CHECK(strstr(err, "No such file") != NULL);
	snprintf(path, sizeof(path), "%s/BL1001043_s9.nxs/x.nxs", dir); /* under a file */
	CHECK_EQ_INT(bl_nx_create(&nx, path, &st, NULL, err, sizeof(err)), -ENOTDIR);
	st.width = 0;
	snprintf(path, sizeof(path), "%s/bad.nxs", dir);
	CHECK_EQ_INT(bl_nx_create(&nx, path, &st, NULL, err, sizeof(err)), -EINVAL);
	CHECK(access(path, F_OK) != 0);
}

static void test_index(void)
{
	char path[256], err[256];
	snprintf(path, sizeof(path), "%s/index.sqlite", dir);
	struct bl_agent_index *x = NULL;
	CHECK_EQ_INT(bl_agent_index_open(&x, path, err, sizeof(err)), 0);
	struct bl_edge e = {.has_sample = true, .sample = 3, .puck = 1, .slot = 4};
	snprintf(e.barcode, sizeof(e.barcode), "BL1001043");
	int64_t run = 0, run2 = 0, file = 0;
	CHECK_EQ_INT(bl_agent_index_run_begin(x, 9, &e, &run), 0);
	CHECK_EQ_INT(bl_agent_index_run_begin(x, 10, &e, &run2), 0); /* same sample again */
	CHECK(run > 0 && run2 > run);
	char fpath[300];
	snprintf(fpath, sizeof(fpath), "%s/BL1001043_s9.nxs", dir);
	FILE *ff = fopen(fpath, "w"); /* the file the row describes, on disk */
	CHECK(ff != NULL);
	if (ff)
		fclose(ff);
	CHECK_EQ_INT(bl_agent_index_file_begin(x, run, fpath, &file), 0);
	struct bl_index_file_counts c = {5, 1, 2, 3};
	CHECK_EQ_INT(bl_agent_index_file_update(x, file, "closed", &c), 0);
	CHECK_EQ_INT(bl_agent_index_run_end(x, run, "complete"), 0);
	int64_t again = 0;
	CHECK_EQ_INT(bl_agent_index_file_begin(x, run, fpath, &again), -EIO); /* still there */
	/* removed by hand: a new file of that name gets its own row, the old row is kept marked */
	CHECK_EQ_INT(unlink(fpath), 0);
	CHECK_EQ_INT(bl_agent_index_file_begin(x, run2, fpath, &again), 0);
	CHECK(again > file);
	bl_agent_index_close(x);
	sqlite3 *db;
	sqlite3_stmt *st;
	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_prepare_v2(db,
					"SELECT r.kind, r.label, r.status, s.barcode, f.frames, "
					"f.untagged, f.missing, f.status, (SELECT count(*) FROM "
					"samples) FROM files f JOIN runs r ON f.run_id = r.id JOIN "
					"samples s ON r.sample_id = s.id WHERE f.id = 1",
					-1, &st, NULL),
		     SQLITE_OK);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), "sample");
	CHECK_STR((const char *)sqlite3_column_text(st, 1), "BL1001043");
	CHECK_STR((const char *)sqlite3_column_text(st, 2), "complete");
	CHECK_STR((const char *)sqlite3_column_text(st, 3), "BL1001043");
	CHECK_EQ_INT(sqlite3_column_int(st, 4), 5);
	CHECK_EQ_INT(sqlite3_column_int(st, 5), 1);
	CHECK_EQ_INT(sqlite3_column_int(st, 6), 2);
	CHECK_STR((const char *)sqlite3_column_text(st, 7), "closed");
	CHECK_EQ_INT(sqlite3_column_int(st, 8), 1);
	sqlite3_finalize(st);
	CHECK_EQ_INT(
	    sqlite3_prepare_v2(db, "SELECT path, status FROM files ORDER BY id", -1, &st, NULL),
	    SQLITE_OK);
	char marked[340];
	snprintf(marked, sizeof(marked), "%s (removed; row 1)", fpath);
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), marked);
	CHECK_STR((const char *)sqlite3_column_text(st, 1), "closed"); /* its history kept */
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_ROW);
	CHECK_STR((const char *)sqlite3_column_text(st, 0), fpath);
	CHECK_STR((const char *)sqlite3_column_text(st, 1), "writing");
	CHECK_EQ_INT(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* The disk fills mid-series (a file-size limit stands in for it): the append fails with the file
 * system's reason, nothing more is appended, and once space is back at close the file keeps the
 * frames written before and opens. (Still full at close: not yet handled, see agent/README.) */
static void test_write_failure(bool limit_at_close)
{
	char path[300], err[256];
	snprintf(path, sizeof(path), "%s/full_%d.nxs", dir, limit_at_close);
	struct bl_nx_static st = geometry();
	struct bl_nx *nx = NULL;
	CHECK_EQ_INT(bl_nx_create(&nx, path, &st, NULL, err, sizeof(err)), 0);
	if (!nx)
		return;
	struct bl_nx_totals t = {0};
	struct bl_nx_frame f = {0, chunks[0], chunk_len[0], 0, NULL};
	for (int k = 0; k < 40; k++) {
		f.frame = (uint64_t)k;
		CHECK_EQ_INT(bl_nx_append(nx, &f), 0);
	}
	CHECK_EQ_INT(bl_nx_flush(nx, &t), 0);
	struct stat sb;
	stat(path, &sb);
	struct rlimit old, lim;
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)sb.st_size + 64 * 1024;
	signal(SIGXFSZ, SIG_IGN);
	CHECK_EQ_INT(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int rc = 0, k = 40;
	for (; k < 4000 && !rc; k++) {
		f.frame = (uint64_t)k;
		rc = bl_nx_append(nx, &f);
	}
	CHECK_EQ_INT(rc, -EFBIG);
	CHECK_EQ_INT(bl_nx_append(nx, &f), -EIO); /* refused from now on */
	fprintf(stderr, "  full after %d frames: %s\n", k - 1, bl_nx_error(nx));
	if (!limit_at_close)
		setrlimit(RLIMIT_FSIZE, &old);
	bl_nx_close(nx, &t, "failed");
	setrlimit(RLIMIT_FSIZE, &old);
	hid_t fh = H5Fopen(path, H5F_ACC_RDONLY | H5F_ACC_SWMR_READ, H5P_DEFAULT);
	CHECK(fh >= 0);
	if (fh < 0)
		return;
	hsize_t n = rows(fh, "/entry/instrument/detector/data");
	CHECK(n >= 40 && n < (hsize_t)k);
	hid_t d = H5Dopen2(fh, "/entry/instrument/detector/data", H5P_DEFAULT);
	static uint16_t img[W * H];
	hsize_t off[3] = {n - 1, 0, 0}, cnt[3] = {1, H, W};
	hid_t fs = H5Dget_space(d), ms = H5Screate_simple(3, cnt, NULL);
	H5Sselect_hyperslab(fs, H5S_SELECT_SET, off, NULL, cnt, NULL);
	CHECK(H5Dread(d, H5T_NATIVE_UINT16, ms, fs, H5P_DEFAULT, img) >= 0);
	CHECK(!memcmp(img, pix[0], sizeof(img)));
	H5Sclose(ms);
	H5Sclose(fs);
	H5Dclose(d);
	if (!limit_at_close)
		CHECK_STR(read_str(fh, "/entry/ingest/status"), "failed");
	H5Fclose(fh);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	char err[256];
	if (bl_nx_init(err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	test_file();
	test_refused();
	test_write_failure(false);
	test_index();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (!check_failures && system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_DONE();
}
