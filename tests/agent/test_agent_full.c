/* test_agent_full.c: the disk fills mid-series (a 4 MiB tmpfs; needs root to mount, else skips):
 * the reserve is given back, the file closes valid with what was written, the next series is
 * refused while space is short, and storing resumes once space is back. */
#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../check.h"
#include "bl_agent.h"
#include "fwd_rig.h"

static char dir[64];

static uint64_t file_rows(const char *path, char *status, size_t cap)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (f < 0)
		return UINT64_MAX;
	hid_t d = H5Dopen2(f, "/entry/instrument/detector/data", H5P_DEFAULT);
	hsize_t dims[3] = {0};
	hid_t sp = H5Dget_space(d);
	H5Sget_simple_extent_dims(sp, dims, NULL);
	H5Sclose(sp);
	H5Dclose(d);
	/* the status is a fixed-size UTF-8 string */
	hid_t s = H5Dopen2(f, "/entry/ingest/status", H5P_DEFAULT);
	hid_t mt = H5Tcopy(H5T_C_S1);
	H5Tset_cset(mt, H5T_CSET_UTF8);
	H5Tset_size(mt, cap);
	memset(status, 0, cap);
	H5Dread(s, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, status);
	H5Tclose(mt);
	H5Dclose(s);
	H5Fclose(f);
	return dims[0];
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/bl-agent-full-%d", (int)getpid());
	mkdir(dir, 0700);
	if (mount("tmpfs", dir, "tmpfs", 0, "size=4m")) {
		fprintf(stderr, "cannot mount a tmpfs on %s (%s): skipped\n", dir, strerror(errno));
		rmdir(dir);
		return 77;
	}
	CHECK(src_start() == 0);
	src.noise = true;
	struct bl_agent_config cfg = {.stream = src.endpoint,
				      .out_dir = dir,
				      .reserve_bytes = 1 << 20,
				      .min_free_bytes = 256 << 10,
				      .geom = {.distance_m = 1,
					       .x_pixel_m = 75e-6,
					       .y_pixel_m = 75e-6,
					       .width = W,
					       .height = H,
					       .wavelength_A = 1}};
	char err[512], reserve[128];
	snprintf(reserve, sizeof(reserve), "%s/.beamloop-reserve", dir);
	CHECK_EQ_INT(bl_agent_new(&agent, &cfg, err, sizeof(err)), 0);
	CHECK(access(reserve, F_OK) == 0);
	pthread_create(&agent_th, NULL, agent_thread, NULL);

	/* series 1: 34 KiB frames of noise, far more than 4 MiB */
	send_series(1, 0, 150, true, true);
	WAIT_FOR(counters().frames_written + counters().frames_refused == 150);
	struct bl_agent_counters c = counters();
	CHECK_EQ_INT(c.reserve_released, 1);
	CHECK_EQ_INT(c.series_refused, 1);
	CHECK(c.frames_written > 40 && c.frames_refused > 0);
	CHECK(access(reserve, F_OK) != 0);
	char path1[1024], status[32] = "";
	bl_agent_last_file(agent, path1, sizeof(path1));
	uint64_t rows = file_rows(path1, status, sizeof(status));
	CHECK(rows == c.frames_written); /* it opens, with every frame written */
	CHECK_STR(status, "failed");

	/* series 2 while the disk is still full: not stored at all, no file */
	send_series(2, 0, 10, true, true);
	WAIT_FOR(counters().frames_refused == c.frames_refused + 10);
	CHECK_EQ_INT(counters().series_refused, 2);
	char last[1024];
	bl_agent_last_file(agent, last, sizeof(last));
	CHECK_STR(last, path1);

	/* space back (the operator moved the file away): series 3 is stored, the reserve is back */
	CHECK(unlink(path1) == 0);
	send_series(3, 0, 5, true, true);
	WAIT_FOR(counters().frames_written == c.frames_written + 5);
	CHECK(access(reserve, F_OK) == 0);
	bl_agent_last_file(agent, last, sizeof(last));
	WAIT_FOR(counters().files_closed == 2);
	CHECK_EQ_INT(file_rows(last, status, sizeof(status)), 5);
	CHECK_STR(status, "complete");

	atomic_store(&agent_stop, true);
	pthread_join(agent_th, NULL);
	bl_agent_free(agent);
	CHECK(access(reserve, F_OK) != 0); /* given back at exit */
	src_stop();
	umount(dir);
	rmdir(dir);
	return CHECK_DONE();
}
