/* test_agent_bad.c: every malformed stream message the consumer knows, injected mid-series into
 * the running agent: each is counted under its reason and logged once, every good frame is
 * stored as sent, and the agent goes on with the next series. */
#include <hdf5.h>
#include <stdio.h>

#include "../check.h"
#include "bl_agent.h"
#include "fwd_rig.h"

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int log_rejects;

static void log_line(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "  agent: %s\n", line);
	pthread_mutex_lock(&log_lock);
	if (strstr(line, "stream: rejected"))
		log_rejects++;
	pthread_mutex_unlock(&log_lock);
}

/* Sends N parts (P[i], LEN[i]) as one message. */
static void send_parts(int n, const void *const *p, const size_t *len)
{
	for (int i = 0; i < n; i++)
		zmq_send(src.push, p[i], len[i], i + 1 < n ? ZMQ_SNDMORE : 0);
}

static void send1(const char *s)
{
	send_parts(1, (const void *[]){s}, (size_t[]){strlen(s)});
}

/* An image message of SERIES/FRAME carrying DATA (SIZE bytes) but saying SAY_SIZE bytes,
 * shape W x H and hash HASH ("" none). */
static void send_image(uint64_t series, uint64_t frame, const void *data, size_t size,
		       size_t say_size, int w, int h, const char *hash)
{
	char b[3][256];
	int n0 = bl_dmsg_image(b[0], 256, series, frame, hash);
	int n1 = bl_dmsg_image_d(b[1], 256, w, h, BL_DTYPE_UINT16, BL_DENC_BS16_LZ4, say_size);
	int n2 = bl_dmsg_config(b[2], 256, 0, 500, 500);
	send_parts(4, (const void *[]){b[0], b[1], data, b[2]},
		   (size_t[]){(size_t)n0, (size_t)n1, size, (size_t)n2});
}

/* The malformed messages, in the middle of series 7 after frame 4 (the last good one sent). */
static int inject(void)
{
	const struct sent *g = src_find(7, 4);
	size_t n = g->size;
	uint8_t *bad = malloc(n + 16);
	memcpy(bad, g->data, n);
	int k = 0;
	send1("{\"htype\":\"dnothing-1.0\"}"); /* wrong htype */
	k++;
	send_parts(2, (const void *[]){"{\"htype\":\"dimage-1.0\",\"series\":7,\"frame\":5}", "{}"},
		   (size_t[]){43, 2}); /* an image in 2 parts */
	k++;
	send1("{not json"); /* bad JSON */
	k++;
	send_image(7, 5, bad, n - 100, n, W, H, ""); /* truncated data part */
	k++;
	send_image(7, 5, bad, n, n - 100, W, H, ""); /* data longer than "size" */
	k++;
	send_image(7, 5, bad, n, n, W / 2, H, ""); /* shape differs from the series' */
	k++;
	send_image(7, 5, bad, n, n, W, H, "00000000000000000000000000000000"); /* hash mismatch */
	k++;
	memset(bad + 16, 0xff, n - 16); /* valid framing, LZ4 blocks that do not decode */
	send_image(7, 5, bad, n, n, W, H, "");
	k++;
	send_image(7, 4, g->data, n, n, W, H, ""); /* duplicate of frame 4 */
	k++;
	send_image(99, 5, g->data, n, n, W, H, ""); /* stale: a series that is not open */
	k++;
	char b[128];
	bl_dmsg_end(b, sizeof(b), 99); /* the end of a series that is not open */
	send1(b);
	k++;
	free(bad);
	return k;
}

static uint64_t read_u64(hid_t f, const char *path)
{
	uint64_t v = UINT64_MAX;
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_UINT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v) >= 0);
	H5Dclose(d);
	return v;
}

/* PATH holds frames 0..N-1 of SERIES exactly as sent, and REJECTED rejected messages. */
static void check_file(const char *path, uint64_t series, int n, uint64_t rejected)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	CHECK(f >= 0);
	if (f < 0)
		return;
	CHECK_EQ_INT(read_u64(f, "/entry/ingest/frames"), n);
	CHECK_EQ_INT(read_u64(f, "/entry/ingest/frames_missing"), 0);
	CHECK_EQ_INT(read_u64(f, "/entry/ingest/messages_rejected"), rejected);
	hid_t d = H5Dopen2(f, "/entry/data/data", H5P_DEFAULT);
	static uint8_t chunk[1 << 20];
	for (int k = 0; k < n; k++) {
		hsize_t off[3] = {(hsize_t)k, 0, 0}, size = 0;
		uint32_t mask = 0;
		const struct sent *x = src_find(series, (uint64_t)k);
		CHECK(H5Dget_chunk_storage_size(d, off, &size) >= 0);
		CHECK(H5Dread_chunk(d, H5P_DEFAULT, off, &mask, chunk) >= 0);
		CHECK(x && size == x->size && !memcmp(chunk, x->data, x->size));
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
	char out_dir[512], cmd[600];
	snprintf(out_dir, sizeof(out_dir), "%s", argv[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", out_dir);
	if (system(cmd) || src_start())
		return 1;
	struct bl_agent_config cfg = {.stream = src.endpoint,
				      .out_dir = out_dir,
				      .log = log_line,
				      .geom = {.distance_m = 1,
					       .x_pixel_m = 75e-6,
					       .y_pixel_m = 75e-6,
					       .width = W,
					       .height = H,
					       .wavelength_A = 1}};
	char err[512];
	if (bl_agent_new(&agent, &cfg, err, sizeof(err))) {
		fprintf(stderr, "agent: %s\n", err);
		return 1;
	}
	pthread_create(&agent_th, NULL, agent_thread, NULL);
	sleep_ms(100); /* the PULL connects */

	src_header(7);
	for (int k = 0; k < 5; k++)
		src_frame(7, (uint64_t)k);
	WAIT_FOR(counters().frames_written == 5);
	int nbad = inject();
	for (int k = 5; k < 10; k++)
		src_frame(7, (uint64_t)k);
	src_end(7);
	WAIT_FOR(counters().files_closed == 1);
	char first[PATH_MAX];
	bl_agent_last_file(agent, first, sizeof(first));

	/* the agent goes on: a clean series after */
	src_header(8);
	for (int k = 0; k < 3; k++)
		src_frame(8, (uint64_t)k);
	src_end(8);
	WAIT_FOR(counters().files_closed == 2);
	char second[PATH_MAX];
	bl_agent_last_file(agent, second, sizeof(second));
	struct bl_agent_counters c = counters();
	atomic_store(&agent_stop, true);
	pthread_join(agent_th, NULL);
	bl_agent_free(agent);

	const struct bl_dstream_counters *s = &c.stream;
	fprintf(stderr,
		"  %d injected: rejected %llu (htype %llu, json %llu, shape %llu, size %llu, "
		"truncated %llu, hash %llu, data %llu, duplicate %llu, stale %llu, unannounced "
		"%llu); %d log lines\n",
		nbad, (unsigned long long)s->rejected, (unsigned long long)s->bad_htype,
		(unsigned long long)s->bad_json, (unsigned long long)s->bad_shape,
		(unsigned long long)s->bad_size, (unsigned long long)s->truncated,
		(unsigned long long)s->bad_hash, (unsigned long long)s->bad_data,
		(unsigned long long)s->duplicates, (unsigned long long)s->stale,
		(unsigned long long)s->unannounced, log_rejects);
	CHECK_EQ_INT(s->rejected, nbad);
	CHECK_EQ_INT(s->bad_htype, 2);
	CHECK_EQ_INT(s->bad_json, 1);
	CHECK_EQ_INT(s->bad_shape, 1);
	CHECK_EQ_INT(s->bad_size, 1);
	CHECK_EQ_INT(s->truncated, 1);
	CHECK_EQ_INT(s->bad_hash, 1);
	CHECK_EQ_INT(s->bad_data, 1);
	CHECK_EQ_INT(s->duplicates, 1);
	CHECK_EQ_INT(s->stale, 1);
	CHECK_EQ_INT(s->unannounced, 1);
	CHECK_EQ_INT(log_rejects, nbad);
	CHECK_EQ_INT(s->missing, 0);
	CHECK_EQ_INT(c.frames_written, 13);
	CHECK_EQ_INT(c.files_failed, 0);
	check_file(first, 7, 10, (uint64_t)nbad);
	check_file(second, 8, 3, 0);
	src_stop();
	return CHECK_DONE();
}
