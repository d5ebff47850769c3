/* test_detector_sim.c: the SIMPLON REST client and the stream v1 consumer against bl-detector-sim
 * (small frames): config, commands, states, errors, ints/exts series, every injected fault. */
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "det_harness.h"

static struct bl_dstream_event ev;
static char trig_path[108];

static enum bl_det_state state(void)
{
	enum bl_det_state st = BL_DET_UNKNOWN;
	CHECK_EQ_INT(bl_det_state(det, &st), 0);
	return st;
}

static void set_num(const char *key, double v)
{
	int rc = bl_det_set_number(det, key, v);
	if (rc)
		fprintf(stderr, "  set %s: %s\n", key, bl_det_error(det));
	CHECK_EQ_INT(rc, 0);
}

static double get_num(const char *key)
{
	double v = -1;
	CHECK_EQ_INT(bl_det_get_number(det, key, &v), 0);
	return v;
}

static void ctl(const char *cmd)
{
	const char *r = simproc_ctl_cmd(cmd);
	if (strncmp(r, "ok", 2))
		fprintf(stderr, "  control '%s': %s\n", cmd, r);
	CHECK(!strncmp(r, "ok", 2));
}

/* A series config: count 5 ms, FRAME_MS apart, N images, NTRIG triggers, MODE. */
static void configure(int n, int ntrig, int frame_ms, const char *mode)
{
	set_num("count_time", 0.005);
	set_num("frame_time", frame_ms / 1000.0);
	set_num("nimages", n);
	set_num("ntrigger", ntrig);
	CHECK_EQ_INT(bl_det_set_string(det, "trigger_mode", mode), 0);
}

static uint64_t arm(void)
{
	uint64_t id = 0;
	int rc = bl_det_arm(det, &id);
	if (rc)
		fprintf(stderr, "  arm: %s\n", bl_det_error(det));
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_HEADER);
	CHECK_EQ_INT(ev.series, id);
	return id;
}

static void test_rest_config(void)
{
	CHECK_EQ_INT(state(), BL_DET_IDLE);
	CHECK_NEAR(get_num("count_time"), 1.0, 1e-12); /* hwdb detector.count_time_s */
	set_num("count_time", 0.005);
	CHECK_NEAR(get_num("count_time"), 0.005, 1e-12);
	set_num("frame_time", 0.01);
	CHECK_NEAR(get_num("frame_time"), 0.01, 1e-12);
	/* a longer exposure pushes the frame time along, as SIMPLON does */
	set_num("count_time", 0.02);
	CHECK_NEAR(get_num("frame_time"), 0.02, 1e-12);
	/* refused values: 400 with the reason */
	CHECK_EQ_INT(bl_det_set_number(det, "frame_time", 0.001), -EINVAL); /* over 500 Hz */
	CHECK_EQ_INT(bl_det_http_status(det), 400);
	CHECK(strstr(bl_det_error(det), "out of range") != NULL);
	CHECK_EQ_INT(bl_det_set_number(det, "nimages", 0), -EINVAL);
	CHECK_EQ_INT(bl_det_set_number(det, "nimages", 2.5), -EINVAL);
	CHECK_EQ_INT(bl_det_set_string(det, "nimages", "3"), -EINVAL);
	CHECK_EQ_INT(bl_det_set_string(det, "trigger_mode", "bogus"), -EINVAL);
	CHECK_EQ_INT(bl_det_set_number(det, "x_pixels_in_detector", 100), -EINVAL);
	CHECK(strstr(bl_det_error(det), "read-only") != NULL);
	set_num("nimages", 3);
	CHECK_NEAR(get_num("nimages"), 3, 0);
	char buf[32] = "";
	CHECK_EQ_INT(bl_det_get_string(det, "trigger_mode", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "ints");
	CHECK_EQ_INT(bl_det_get_string(det, "nimages", buf, sizeof(buf)), -EBADMSG);
	CHECK_NEAR(get_num("x_pixels_in_detector"), 128, 0);
	CHECK_NEAR(get_num("y_pixels_in_detector"), 136, 0);
	/* unknown paths */
	double v;
	CHECK_EQ_INT(bl_det_get_number(det, "no_such_key", &v), -ENOENT);
	CHECK_EQ_INT(bl_det_http_status(det), 404);
	const char *reply;
	CHECK_EQ_INT(
	    bl_det_request(det, "GET", "detector/api/9.9.9/config/nimages", NULL, &reply, 0),
	    -ENOENT);
	CHECK_EQ_INT(bl_det_request(det, "GET", "detector/api/1.8.0/command/arm", NULL, &reply, 0),
		     -EOPNOTSUPP);
	CHECK_EQ_INT(
	    bl_det_request(det, "PUT", "detector/api/1.8.0/command/explode", NULL, &reply, 0),
	    -ENOENT);
	CHECK_EQ_INT(
	    bl_det_request(det, "PUT", "detector/api/1.8.0/config/nimages", "{oops", &reply, 0),
	    -EINVAL);
	CHECK_EQ_INT(
	    bl_det_request(det, "GET", "detector/api/1.8.0/config/nimages", NULL, &reply, 0), 0);
	CHECK(strstr(reply, "\"value\":3") != NULL);
	/* stream config */
	CHECK_EQ_INT(bl_det_stream_get(det, "header_detail", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "basic");
	CHECK_EQ_INT(bl_det_stream_set(det, "header_detail", "all"), 0);
	CHECK_EQ_INT(bl_det_stream_get(det, "header_detail", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "all");
	CHECK_EQ_INT(bl_det_stream_set(det, "header_detail", "most"), -EINVAL);
	CHECK_EQ_INT(bl_det_stream_get(det, "mode", buf, sizeof(buf)), 0);
	CHECK_STR(buf, "enabled");
}

static void test_rest_commands(void)
{
	configure(3, 1, 10, "ints");
	CHECK_EQ_INT(bl_det_trigger(det, 0), -EINVAL); /* not armed */
	uint64_t id = arm();
	CHECK(id >= 1);
	CHECK_EQ_INT(ev.nimages, 3);
	CHECK_STR(ev.detail, "all");
	CHECK_EQ_INT(ev.config_width, 128);
	CHECK_EQ_INT(state(), BL_DET_READY);
	CHECK_EQ_INT(bl_det_set_number(det, "nimages", 5), -EBUSY); /* armed */
	uint64_t again;
	CHECK_EQ_INT(bl_det_arm(det, &again), -EBUSY);
	CHECK_EQ_INT(bl_det_disarm(det), 0);
	CHECK_EQ_INT(state(), BL_DET_IDLE);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_END); /* disarmed before any frame */
	CHECK(!ev.complete);
	CHECK_EQ_INT(ev.frames, 0);
	CHECK_EQ_INT(ev.missing, 3);
	/* the next arm is the next series */
	uint64_t id2 = arm();
	CHECK_EQ_INT(id2, id + 1);
	CHECK_EQ_INT(bl_det_abort(det), 0);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_END);
	CHECK_EQ_INT(ev.series, id2);
	/* external triggers only in exts */
	CHECK_EQ_INT(bl_det_set_string(det, "trigger_mode", "exts"), 0);
	arm();
	CHECK_EQ_INT(bl_det_trigger(det, 0), -EINVAL);
	CHECK(strstr(bl_det_error(det), "external") != NULL);
	CHECK_EQ_INT(bl_det_disarm(det), 0);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_END);
	CHECK_EQ_INT(bl_det_set_string(det, "trigger_mode", "ints"), 0);
	/* a detector in error: 500 on arm until initialized */
	ctl("error");
	CHECK_EQ_INT(state(), BL_DET_ERROR);
	CHECK_EQ_INT(bl_det_arm(det, &again), -EIO);
	CHECK_EQ_INT(bl_det_http_status(det), 500);
	CHECK_EQ_INT(bl_det_initialize(det), 0);
	CHECK_EQ_INT(state(), BL_DET_IDLE);
	/* a reply that is not JSON */
	ctl("badjson 1");
	double v;
	CHECK_EQ_INT(bl_det_get_number(det, "nimages", &v), -EBADMSG);
	CHECK(strstr(bl_det_error(det), "not a JSON") != NULL);
	CHECK_NEAR(get_num("nimages"), 3, 0);
	CHECK_EQ_INT(bl_dstream_counters(stream)->rejected, 0);
}

static void test_rest_transport_errors(void)
{
	/* nobody listening: a port that was just free */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	CHECK_EQ_INT(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(fd, (struct sockaddr *)&a, &len);
	int port = ntohs(a.sin_port);
	close(fd);
	struct bl_det *d;
	enum bl_det_state st;
	CHECK_EQ_INT(bl_det_open("127.0.0.1", port, "1.8.0", 500, 500, &d), 0);
	CHECK_EQ_INT(bl_det_state(d, &st), -ECONNREFUSED);
	CHECK(strstr(bl_det_error(d), "refused") != NULL);
	bl_det_free(d);
	/* a server that never answers: the command timeout */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	a.sin_port = 0;
	CHECK_EQ_INT(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	CHECK_EQ_INT(listen(fd, 4), 0);
	len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	CHECK_EQ_INT(bl_det_open("127.0.0.1", ntohs(a.sin_port), "1.8.0", 500, 300, &d), 0);
	uint64_t t0 = harness_ms();
	CHECK_EQ_INT(bl_det_state(d, &st), -ETIMEDOUT);
	CHECK(harness_ms() - t0 < 2000);
	bl_det_free(d);
	close(fd);
	CHECK_EQ_INT(bl_det_open("127.0.0.1", 0, "1.8.0", 500, 300, &d), -EINVAL);
}

static void test_ints_series(void)
{
	CHECK_EQ_INT(bl_det_stream_set(det, "header_detail", "basic"), 0);
	CHECK_EQ_INT(bl_det_set_string(det, "compression", "bslz4"), 0);
	set_num("bit_depth_image", 32);
	ctl("film 20 100 5");
	configure(6, 1, 10, "ints");
	uint64_t id = arm();
	CHECK_EQ_INT(ev.nimages, 6);
	CHECK_EQ_INT(ev.ntrigger, 1);
	CHECK_NEAR(ev.frame_time, 0.01, 1e-12);
	CHECK_EQ_INT(bl_det_trigger(det, 0), 0);
	enum bl_det_state st = state();
	CHECK(st == BL_DET_ACQUIRE || st == BL_DET_IDLE);
	struct bl_det_geom g = harness_geometry();
	uint64_t start0 = 0;
	for (uint64_t f = 0; f < 6; f++) {
		CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
		CHECK_EQ_INT(ev.series, id);
		CHECK_EQ_INT(ev.frame, f);
		CHECK(ev.hash_checked);
		CHECK_EQ_INT(ev.width, 128);
		CHECK_EQ_INT(ev.height, 136);
		CHECK_EQ_INT(ev.type, BL_DTYPE_UINT32);
		CHECK_EQ_INT(ev.encoding, BL_DENC_BS32_LZ4);
		CHECK_EQ_INT(ev.missing_before, 0);
		CHECK(!ev.late);
		if (f == 0)
			start0 = ev.start_ns;
		CHECK_EQ_INT(ev.start_ns - start0, f * 10000000); /* the detector's schedule */
		CHECK_EQ_INT(ev.real_ns, 5000000);
		CHECK(ev.encoded_bytes < ev.pixel_bytes); /* bitshuffle-LZ4 does compress */
		if (f == 0)
			check_ring(&g, &ev, 20, 1.0, 1.5);
	}
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_END);
	CHECK(ev.complete);
	CHECK_EQ_INT(ev.frames, 6);
	CHECK_EQ_INT(state(), BL_DET_IDLE);
	/* status transitions with room to see them: 2 triggers of 2 frames 250 ms apart */
	configure(2, 2, 250, "ints");
	arm();
	CHECK_EQ_INT(state(), BL_DET_READY);
	CHECK_EQ_INT(bl_det_trigger(det, 0), 0);
	CHECK_EQ_INT(state(), BL_DET_ACQUIRE);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
	CHECK_EQ_INT(state(), BL_DET_READY); /* one trigger to go */
	CHECK_EQ_INT(bl_det_trigger(det, 0), 0);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
	CHECK_EQ_INT(ev.frame, 2);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_END);
	CHECK(ev.complete);
	CHECK_EQ_INT(state(), BL_DET_IDLE);
	CHECK_EQ_INT(bl_dstream_counters(stream)->rejected, 0);
	CHECK_EQ_INT(bl_dstream_counters(stream)->late, 0);
}

static void test_encodings(void)
{
	const char *comp[] = {"none", "lz4", "bslz4"};
	configure(1, 1, 10, "ints");
	for (int depth = 16; depth <= 32; depth += 16) {
		set_num("bit_depth_image", depth);
		for (int i = 0; i < 3; i++) {
			CHECK_EQ_INT(bl_det_set_string(det, "compression", comp[i]), 0);
			enum bl_denc want = i == 0	  ? BL_DENC_RAW
					    : i == 1	  ? BL_DENC_LZ4
					    : depth == 16 ? BL_DENC_BS16_LZ4
							  : BL_DENC_BS32_LZ4;
			arm();
			CHECK_EQ_INT(bl_det_trigger(det, 0), 0);
			CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
			CHECK_EQ_INT(ev.encoding, want);
			CHECK_EQ_INT(ev.type, depth / 8);
			CHECK(ev.hash_checked);
			uint64_t sum = 0;
			for (size_t p = 0; p < ev.pixel_bytes / (size_t)ev.type; p++)
				sum += depth == 16 ? ((const uint16_t *)ev.pixels)[p]
						   : ((const uint32_t *)ev.pixels)[p];
			CHECK(sum > 1000);
			CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_END);
			CHECK(ev.complete);
		}
	}
	set_num("bit_depth_image", 32);
	CHECK_EQ_INT(bl_det_set_string(det, "compression", "bslz4"), 0);
}

static void edge(int channel, int index)
{
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", trig_path);
	char msg[64];
	int n = snprintf(msg, sizeof(msg), "edge %d %d %d", channel, index, 1000 * (index + 1));
	CHECK_EQ_INT(sendto(fd, msg, (size_t)n, 0, (struct sockaddr *)&a, sizeof(a)), n);
	close(fd);
}

static void test_exts_series(void)
{
	configure(1, 4, 10, "exts");
	uint64_t id = arm();
	CHECK_STR(ev.trigger_mode, "exts");
	CHECK_EQ_INT(next_event(&ev, 200), 0); /* nothing without a trigger */
	ctl("trigger");
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
	CHECK_EQ_INT(ev.frame, 0);
	ctl("trigger");
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
	CHECK_EQ_INT(ev.frame, 1);
	edge(0, 0); /* the trigger box's datagram on the detector's channel */
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
	CHECK_EQ_INT(ev.frame, 2);
	edge(3, 1); /* another channel: not ours */
	CHECK_EQ_INT(next_event(&ev, 200), 0);
	edge(0, 1);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
	CHECK_EQ_INT(ev.frame, 3);
	CHECK_EQ_INT(ev.series, id);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_END);
	CHECK(ev.complete);
	CHECK_EQ_INT(ev.frames, 4);
	edge(0, 2); /* after the series: ignored */
	CHECK_EQ_INT(next_event(&ev, 200), 0);
	const char *show = simproc_ctl_cmd("show");
	CHECK(strstr(show, "edges=5") != NULL);
	CHECK(strstr(show, "ignored=2") != NULL);
}

/* Counter deltas of one fault. */
static struct bl_dstream_counters c0;

#define D(name) (bl_dstream_counters(stream)->name - c0.name)

/* Runs a series of N frames after the control command FAULT; collects until the end. Returns
 * frames delivered. */
static uint64_t faulty_series(int n, const char *fault, const char *after_first)
{
	c0 = *bl_dstream_counters(stream);
	configure(n, 1, 20, "ints");
	arm();
	if (fault)
		ctl(fault);
	CHECK_EQ_INT(bl_det_trigger(det, 0), 0);
	uint64_t frames = 0;
	for (int k; (k = next_event(&ev, 3000)) && k != BL_DS_END;) {
		if (k == BL_DS_FRAME && frames++ == 0 && after_first)
			ctl(after_first);
	}
	CHECK_EQ_INT(ev.kind, BL_DS_END);
	return frames;
}

static void test_faults(void)
{
	/* drop 2: the first two frames never leave: a gap */
	CHECK_EQ_INT(faulty_series(8, "drop 2", NULL), 6);
	CHECK(!ev.complete);
	CHECK_EQ_INT(ev.missing, 2);
	CHECK_EQ_INT(D(gaps), 1);
	CHECK_EQ_INT(D(missing), 2);
	CHECK_EQ_INT(D(incomplete), 1);
	CHECK_EQ_INT(D(rejected), 0);
	/* late 80: the detector stalls inside the burst */
	CHECK_EQ_INT(faulty_series(5, NULL, "late 80"), 5);
	CHECK(ev.complete);
	CHECK_EQ_INT(D(late), 1);
	CHECK_EQ_INT(D(rejected), 0);
	/* badhash 1: the first frame's hash is wrong: rejected, then missing */
	CHECK_EQ_INT(faulty_series(4, "badhash 1", NULL), 3);
	CHECK_EQ_INT(D(bad_hash), 1);
	CHECK_EQ_INT(D(rejected), 1);
	CHECK_EQ_INT(D(missing), 1);
	CHECK(!ev.complete);
	/* truncate 2: two data parts cut short */
	CHECK_EQ_INT(faulty_series(4, "truncate 2", NULL), 2);
	CHECK_EQ_INT(D(truncated), 2);
	CHECK_EQ_INT(D(rejected), 2);
	/* abort mid-series (control socket), then one stale image of the aborted series */
	uint64_t got = faulty_series(50, NULL, "abort");
	CHECK(got >= 1 && got < 50);
	CHECK(!ev.complete);
	CHECK_EQ_INT(ev.expected, 50);
	CHECK_EQ_INT(D(incomplete), 1);
	CHECK_EQ_INT(state(), BL_DET_IDLE);
	uint64_t aborted = ev.series;
	ctl("stale");
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_REJECT);
	CHECK_EQ_INT(ev.rc, -ESTALE);
	CHECK_EQ_INT(D(stale), 1);
	/* a new series after the abort is whole */
	CHECK_EQ_INT(faulty_series(3, NULL, NULL), 3);
	CHECK(ev.complete);
	CHECK_EQ_INT(ev.series, aborted + 1);
	/* abort over REST, with a stale image asked for in advance */
	c0 = *bl_dstream_counters(stream);
	configure(50, 1, 20, "ints");
	arm();
	ctl("stale");
	CHECK_EQ_INT(bl_det_trigger(det, 0), 0);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_FRAME);
	CHECK_EQ_INT(bl_det_abort(det), 0);
	int k;
	while ((k = next_event(&ev, 3000)) == BL_DS_FRAME)
		;
	CHECK_EQ_INT(k, BL_DS_END);
	CHECK(!ev.complete);
	CHECK_EQ_INT(next_event(&ev, 3000), BL_DS_REJECT);
	CHECK_EQ_INT(ev.rc, -ESTALE);
	CHECK_EQ_INT(D(stale), 1);
	CHECK_EQ_INT(D(incomplete), 1);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s BL-DETECTOR-SIM SOURCE-ROOT\n", argv[0]);
		return 2;
	}
	snprintf(trig_path, sizeof(trig_path), "/tmp/bl-det-trig-%d", (int)getpid());
	const char *extra[] = {"--http-port",	    "0",       "--stream",
			       "tcp://127.0.0.1:*", "--shape", "128x136",
			       "--trigger-in",	    trig_path, NULL};
	harness_start(argv[1], argv[2], extra);
	test_rest_config();
	test_rest_commands();
	test_rest_transport_errors();
	test_ints_series();
	test_encodings();
	test_exts_series();
	test_faults();
	harness_stop();
	unlink(trig_path);
	return CHECK_DONE();
}
