/* det_sim_main.c: bl-detector-sim, a Dectris-style detector: SIMPLON REST on HTTP, stream v1
 * frames on ZMQ PUSH, external triggers on the control and trigger-in sockets, faults. */
#include <errno.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "bl_hwdb.h"
#include "det_sim.h"
#include "simkit.h"

static volatile sig_atomic_t stop_flag;

static const char *const state_names[] = {"idle", "ready", "acquire", "error"};

static void control(void *ctx, char *cmd, char *out, size_t cap)
{
	struct det_sim *s = ctx;
	char *arg = strchr(cmd, ' ');
	if (arg)
		*arg++ = 0;
	long v = arg ? strtol(arg, NULL, 10) : 1;
	if (v < 0)
		v = 0;
	if (!strcmp(cmd, "show")) {
		snprintf(out, cap,
			 "ok state=%s series=%llu frame=%llu sent=%llu dropped=%llu edges=%llu "
			 "ignored=%llu triggers=%llu outbox=%d",
			 state_names[s->state], (unsigned long long)s->series,
			 (unsigned long long)s->next_frame, (unsigned long long)s->frames_sent,
			 (unsigned long long)s->frames_dropped, (unsigned long long)s->edges,
			 (unsigned long long)s->edges_ignored, (unsigned long long)s->triggers,
			 s->out_len);
		return;
	}
	if (!strcmp(cmd, "trigger"))
		det_edge(s);
	else if (!strcmp(cmd, "drop"))
		s->drop = (unsigned)v;
	else if (!strcmp(cmd, "late"))
		s->late_ms = (uint64_t)v;
	else if (!strcmp(cmd, "abort"))
		det_disarm(s, true);
	else if (!strcmp(cmd, "stale"))
		det_stale(s);
	else if (!strcmp(cmd, "badhash"))
		s->badhash = (unsigned)v;
	else if (!strcmp(cmd, "truncate"))
		s->truncate = (unsigned)v;
	else if (!strcmp(cmd, "badjson"))
		s->badjson = (unsigned)v;
	else if (!strcmp(cmd, "error"))
		det_disarm(s, true), s->state = DET_ERROR;
	else if (!strcmp(cmd, "film")) {
		/* film [gisaxs] SPACING_NM CORR_LEN_NM RG_NM: the analytic ring, or GISAXS from
		 * the forward model */
		double d = 0, xi = 0, rg = 0;
		bool gs = arg && !strncmp(arg, "gisaxs ", 7);
		if (!arg || sscanf(arg + (gs ? 7 : 0), "%lf %lf %lf", &d, &xi, &rg) != 3 ||
		    !(d > 0) || !(xi > 0) || !(rg >= 0) || d > 1e4 || xi > 1e6 || rg > 1e3) {
			snprintf(out, cap, "err film [gisaxs] SPACING_NM CORR_LEN_NM RG_NM");
			return;
		}
		s->film.model = gs ? BL_DET_GISAXS : BL_DET_RING;
		s->film.spacing_nm = d;
		s->film.corr_len_nm = xi;
		s->film.rg_nm = rg;
		s->mu_valid = false;
	} else if (!strcmp(cmd, "quit"))
		stop_flag = 1;
	else {
		snprintf(out, cap, "err unknown command '%s'", cmd);
		return;
	}
	snprintf(out, cap, "ok");
}

/* Reads the trigger box's datagrams: "edge <channel> <index> <tick>". */
static void trigger_input(struct det_sim *s, int fd)
{
	char buf[128];
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT)) > 0) {
		buf[n] = 0;
		int ch;
		unsigned long long index, tick;
		if (sscanf(buf, "edge %d %llu %llu", &ch, &index, &tick) == 3 &&
		    ch == s->trigger_channel)
			det_edge(s);
		else
			s->edges_ignored++;
	}
}

static int open_trigger_in(const char *path)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(a.sun_path))
		return -ENAMETOOLONG;
	strcpy(a.sun_path, path);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		int e = -errno;
		if (fd >= 0)
			close(fd);
		return e;
	}
	return fd;
}

static int usage(void)
{
	fprintf(stderr, "usage: bl-detector-sim --hwdb FILE [--device detector] --control PATH\n"
			"         [--http-port N (0: ephemeral)] [--stream tcp://HOST:PORT|*]\n"
			"         [--trigger-in PATH] [--shape WxH] [--type uint16|uint32]\n"
			"         [--compression none|lz4|bslz4] [--seed N]\n");
	return 2;
}

/* Geometry from the beamline file; a --shape smaller than the sensor bins it (same q range). */
static int setup_geometry(struct det_sim *s, const struct bl_hwdb *db,
			  const struct bl_hwdb_device *dev, int w, int h)
{
	const struct bl_hwdb_detector_model *m = &dev->model->detector;
	const struct bl_hwdb_geometry *geo = &db->detector;
	struct bl_det_geom *g = &s->geom;
	int fw = m->width > 0 ? m->width : 981, fh = m->height > 0 ? m->height : 1043;
	w = w > 0 ? w : fw;
	h = h > 0 ? h : fh;
	double scale = (double)fw / w;
	g->width = w;
	g->height = h;
	g->pixel_mm = (m->pixel_x_um > 0 ? m->pixel_x_um : 172) * 1e-3 * scale;
	bool have_geo = !strcmp(geo->device, dev->name);
	g->beam_x = (have_geo ? geo->beam_center_x_px : fw / 2.0) * w / fw;
	g->beam_y = (have_geo ? geo->beam_center_y_px : fh / 2.0) * h / fh;
	g->distance_mm = have_geo && geo->distance_mm > 0 ? geo->distance_mm : 3500;
	g->wavelength_nm = have_geo && geo->wavelength_nm > 0 ? geo->wavelength_nm : 0.124;
	g->incidence_deg = have_geo ? geo->incidence_deg : 0.16;
	g->beamstop_px = 2.0 / g->pixel_mm; /* 2 mm beamstop */
	if (w == fw && h == fh && (w + 7) % 494 == 0 && (h + 17) % 212 == 0)
		g->module_w = 487, g->module_h = 195, g->gap_x = 7, g->gap_y = 17; /* Pilatus */
	if (have_geo && geo->count_time_s > 0)
		s->cfg.count_time = geo->count_time_s;
	s->max_rate_hz = m->max_frame_rate_hz > 0 ? m->max_frame_rate_hz : 500;
	snprintf(s->api_version, sizeof(s->api_version), "%s",
		 m->api_version[0] ? m->api_version : "1.8.0");
	snprintf(s->description, sizeof(s->description), "%s (simulated)", dev->model->name);
	s->trigger_channel = db->trigger.detector_channel;
	size_t n = (size_t)w * (size_t)h;
	s->mu = malloc(n * sizeof(float));
	s->pix = malloc(n * 4);
	s->enc_cap = bl_dcodec_bound(BL_DENC_LZ4, n, 4);
	size_t b16 = bl_dcodec_bound(BL_DENC_BS16_LZ4, n, 2),
	       b32 = bl_dcodec_bound(BL_DENC_BS32_LZ4, n, 4);
	s->enc_cap = s->enc_cap > b16 ? s->enc_cap : b16;
	s->enc_cap = s->enc_cap > b32 ? s->enc_cap : b32;
	s->enc = malloc(s->enc_cap);
	return s->mu && s->pix && s->enc ? 0 : -ENOMEM;
}

/* The beamline's geometry and trigger wiring for device DEV (already checked by simkit). */
static int load(struct det_sim *s, const char *hwdb, const struct bl_hwdb_device *dev, int w, int h)
{
	static struct bl_hwdb_errors errs;
	struct bl_hwdb *db;
	if (bl_hwdb_load(hwdb, &db, &errs))
		return -EINVAL;
	int rc = setup_geometry(s, db, dev, w, h);
	bl_hwdb_free(db);
	return rc;
}

int main(int argc, char **argv)
{
	const char *hwdb = NULL, *name = "detector", *ctl_path = NULL, *stream = NULL,
		   *trig_path = NULL, *type = "uint32", *compression = "bslz4";
	int http_port = -1, w = 0, h = 0;
	unsigned long seed = 1;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			return usage();
		const char *a = argv[i], *v = argv[++i];
		if (!strcmp(a, "--hwdb"))
			hwdb = v;
		else if (!strcmp(a, "--device"))
			name = v;
		else if (!strcmp(a, "--control"))
			ctl_path = v;
		else if (!strcmp(a, "--http-port"))
			http_port = atoi(v);
		else if (!strcmp(a, "--stream"))
			stream = v;
		else if (!strcmp(a, "--trigger-in"))
			trig_path = v;
		else if (!strcmp(a, "--shape") && sscanf(v, "%dx%d", &w, &h) == 2 && w > 0 && h > 0)
			continue;
		else if (!strcmp(a, "--type"))
			type = v;
		else if (!strcmp(a, "--compression"))
			compression = v;
		else if (!strcmp(a, "--seed"))
			seed = strtoul(v, NULL, 10);
		else
			return usage();
	}
	static struct det_sim s = {.cfg = {.count_time = 1.0,
					   .frame_time = 1.0,
					   .nimages = 1,
					   .ntrigger = 1,
					   .trigger_mode = "ints",
					   .stream_mode = "enabled",
					   .header_detail = "basic"}};
	enum bl_denc enc;
	if (!hwdb || !ctl_path || bl_dtype_parse(type, &s.cfg.type) ||
	    bl_denc_from_compression(compression, s.cfg.type, &enc))
		return usage();
	snprintf(s.cfg.compression, sizeof(s.cfg.compression), "%s",
		 enc == BL_DENC_RAW   ? "none"
		 : enc == BL_DENC_LZ4 ? "lz4"
				      : "bslz4");
	s.film = bl_det_film_default();
	static struct bl_hwdb_device dev;
	static struct bl_hwdb_model model;
	if (bl_simkit_device("bl-detector-sim", hwdb, name, BL_PROTO_SIMPLON, &dev, &model) ||
	    load(&s, hwdb, &dev, w, h))
		return 1;
	if (s.cfg.frame_time < s.cfg.count_time)
		s.cfg.frame_time = s.cfg.count_time;
	s.rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(s.rng, seed);

	char endpoint[160];
	snprintf(endpoint, sizeof(endpoint), "%s", stream ? stream : dev.stream);
	int port = http_port >= 0 ? http_port : dev.transport.port, bound = 0;
	struct bl_simkit_ctl ctl;
	int rc = bl_simkit_ctl_open(&ctl, ctl_path, control, &s);
	if (rc) {
		fprintf(stderr, "bl-detector-sim: control %s: %s\n", ctl_path, strerror(-rc));
		return 1;
	}
	int tfd = trig_path ? open_trigger_in(trig_path) : -1;
	if (trig_path && tfd < 0) {
		fprintf(stderr, "bl-detector-sim: trigger-in %s: %s\n", trig_path, strerror(-tfd));
		return 1;
	}
	if (!endpoint[0] || (rc = det_stream_open(&s, endpoint))) {
		fprintf(stderr, "bl-detector-sim: stream '%s': %s\n", endpoint,
			endpoint[0] ? zmq_strerror(-rc) : "no endpoint");
		return 1;
	}
	struct MHD_Daemon *http = det_http_start(&s, dev.transport.host, port, &bound);
	if (!http) {
		fprintf(stderr, "bl-detector-sim: cannot serve HTTP on %s:%d\n", dev.transport.host,
			port);
		return 1;
	}
	bl_simkit_signals(&stop_flag);
	printf("ready http=%d stream=%s api=%s shape=%dx%d\n", bound, s.endpoint, s.api_version,
	       s.geom.width, s.geom.height);
	fflush(stdout);
	while (!stop_flag) {
		int wait = det_tick(&s);
		MHD_UNSIGNED_LONG_LONG mhd_to;
		if (MHD_get_timeout(http, &mhd_to) == MHD_YES && mhd_to < (unsigned)wait)
			wait = (int)mhd_to;
		struct pollfd fds[2 + 1 + BL_SIMKIT_MAX_CLIENTS];
		fds[0] = (struct pollfd){.fd = det_http_fd(http), .events = POLLIN};
		fds[1] = (struct pollfd){.fd = tfd, .events = POLLIN};
		int n = 2 + bl_simkit_ctl_pollfds(&ctl, fds + 2);
		if (poll(fds, (nfds_t)n, wait) < 0 && errno != EINTR)
			break;
		det_http_run(http);
		if (tfd >= 0 && (fds[1].revents & POLLIN))
			trigger_input(&s, tfd);
		bl_simkit_ctl_handle(&ctl, fds + 2);
	}
	MHD_stop_daemon(http);
	det_stream_close(&s);
	bl_simkit_ctl_close(&ctl);
	if (tfd >= 0)
		close(tfd), unlink(trig_path);
	gsl_rng_free(s.rng);
	bl_det_gs_free(s.gs);
	free(s.mu);
	free(s.pix);
	free(s.enc);
	return 0;
}
