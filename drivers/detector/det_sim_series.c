/* det_sim_series.c: the simulated detector's series engine: arm/trigger/disarm, frame timing on
 * the detector's own schedule, rendering, encoding, fault injection and the ZMQ PUSH outbox. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "det_sim.h"

uint64_t det_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t ns(double seconds)
{
	return (uint64_t)(seconds * 1e9 + 0.5);
}

int det_stream_open(struct det_sim *s, const char *endpoint)
{
	s->zctx = zmq_ctx_new();
	s->push = s->zctx ? zmq_socket(s->zctx, ZMQ_PUSH) : NULL;
	int linger = 200;
	size_t len = sizeof(s->endpoint);
	if (!s->push || zmq_setsockopt(s->push, ZMQ_LINGER, &linger, sizeof(linger)) ||
	    zmq_bind(s->push, endpoint) ||
	    zmq_getsockopt(s->push, ZMQ_LAST_ENDPOINT, s->endpoint, &len))
		return -zmq_errno();
	return 0;
}

void det_stream_close(struct det_sim *s)
{
	for (; s->out_len; s->out_len--, s->out_head = (s->out_head + 1) % DET_OUTBOX) {
		struct det_outmsg *m = &s->out[s->out_head];
		for (int i = 0; i < m->nparts; i++)
			zmq_msg_close(&m->part[i]);
	}
	if (s->push)
		zmq_close(s->push);
	if (s->zctx)
		zmq_ctx_term(s->zctx);
}

/* A new message at the tail of the outbox (NULL when full, or when the stream is disabled). */
static struct det_outmsg *out_new(struct det_sim *s)
{
	if (s->out_len == DET_OUTBOX || strcmp(s->cfg.stream_mode, "enabled"))
		return NULL;
	struct det_outmsg *m = &s->out[(s->out_head + s->out_len++) % DET_OUTBOX];
	m->nparts = m->sent = 0;
	return m;
}

static void out_part(struct det_outmsg *m, const void *p, size_t n)
{
	zmq_msg_t *z = &m->part[m->nparts++];
	zmq_msg_init_size(z, n);
	if (n)
		memcpy(zmq_msg_data(z), p, n);
}

/* Sends what the consumer takes; a message that cannot go now waits (the detector's buffer). */
static void out_flush(struct det_sim *s)
{
	while (s->out_len) {
		struct det_outmsg *m = &s->out[s->out_head];
		while (m->sent < m->nparts) {
			int more = m->sent + 1 < m->nparts ? ZMQ_SNDMORE : 0;
			if (zmq_msg_send(&m->part[m->sent], s->push, ZMQ_DONTWAIT | more) < 0)
				return; /* EAGAIN: no consumer yet, or its queue is full */
			m->sent++;
		}
		s->out_head = (s->out_head + 1) % DET_OUTBOX;
		s->out_len--;
	}
}

static void send_header(struct det_sim *s)
{
	struct det_outmsg *m = out_new(s);
	if (!m)
		return;
	char buf[1024];
	int n = bl_dmsg_header(buf, sizeof(buf), s->series, s->cfg.header_detail);
	out_part(m, buf, (size_t)n);
	if (strcmp(s->cfg.header_detail, "none")) {
		const struct bl_det_geom *g = &s->geom;
		n = snprintf(
		    buf, sizeof(buf),
		    "{\"count_time\":%.9g,\"frame_time\":%.9g,\"nimages\":%llu,"
		    "\"ntrigger\":%llu,\"trigger_mode\":\"%s\",\"x_pixels_in_detector\":%d,"
		    "\"y_pixels_in_detector\":%d,\"x_pixel_size\":%.9g,\"y_pixel_size\":%.9g,"
		    "\"beam_center_x\":%.4f,\"beam_center_y\":%.4f,\"detector_distance\":%.9g,"
		    "\"wavelength\":%.9g,\"bit_depth_image\":%d,\"compression\":\"%s\","
		    "\"description\":\"%s\"}",
		    s->cfg.count_time, s->cfg.frame_time, (unsigned long long)s->cfg.nimages,
		    (unsigned long long)s->cfg.ntrigger, s->cfg.trigger_mode, g->width, g->height,
		    g->pixel_mm * 1e-3, g->pixel_mm * 1e-3, g->beam_x, g->beam_y,
		    g->distance_mm * 1e-3, g->wavelength_nm * 10.0, (int)s->cfg.type * 8,
		    s->cfg.compression, s->description);
		out_part(m, buf, (size_t)n);
	}
}

static void send_end(struct det_sim *s)
{
	struct det_outmsg *m = out_new(s);
	char buf[128];
	int n = bl_dmsg_end(buf, sizeof(buf), s->series);
	if (m)
		out_part(m, buf, (size_t)n);
}

/* Renders, encodes and queues frame FRAME of SERIES exposed from START_NS (series clock). */
/* The expected counts for the current count_time and film (rendered once, not per frame). */
static void ensure_mu(struct det_sim *s)
{
	if (s->mu_valid)
		return;
	int rc = s->film.model == BL_DET_GISAXS && !s->gs ? bl_det_gs_new(&s->gs, &s->geom) : 0;
	if (!rc && s->film.model == BL_DET_GISAXS)
		rc = bl_det_render_gisaxs(s->gs, &s->geom, &s->film, s->cfg.count_time, s->mu);
	if (rc) /* cannot happen with a valid film (checked at "film"): the ring, and say so */
		fprintf(stderr, "bl-detector-sim: GISAXS rendering failed (%d); analytic ring\n",
			rc);
	if (rc || s->film.model != BL_DET_GISAXS)
		bl_det_render(&s->geom, &s->film, s->cfg.count_time, s->mu);
	s->mu_valid = true;
}

static void send_image(struct det_sim *s, uint64_t series, uint64_t frame, uint64_t start_ns)
{
	ensure_mu(s);
	struct det_outmsg *m = out_new(s);
	if (!m)
		return;
	size_t nelem = (size_t)s->geom.width * (size_t)s->geom.height, elem = s->cfg.type, len = 0;
	enum bl_denc enc = BL_DENC_RAW;
	bl_denc_from_compression(s->cfg.compression, s->cfg.type, &enc);
	bl_det_sample(s->rng, s->mu, nelem, (int)elem, s->pix);
	if (bl_dcodec_encode(enc, s->pix, nelem, elem, s->enc, s->enc_cap, &len))
		enc = BL_DENC_RAW, len = nelem * elem, memcpy(s->enc, s->pix, len);
	char hash[33], buf[256];
	bl_md5_hex(s->enc, len, hash);
	if (s->badhash) {
		s->badhash--;
		hash[0] = hash[0] == '0' ? '1' : '0';
	}
	size_t sent = len;
	if (s->truncate) {
		s->truncate--;
		sent = len / 2;
	}
	out_part(m, buf, (size_t)bl_dmsg_image(buf, sizeof(buf), series, frame, hash));
	out_part(m, buf,
		 (size_t)bl_dmsg_image_d(buf, sizeof(buf), s->geom.width, s->geom.height,
					 s->cfg.type, enc, len));
	out_part(m, s->enc, sent);
	uint64_t real = ns(s->cfg.count_time);
	out_part(m, buf, (size_t)bl_dmsg_config(buf, sizeof(buf), start_ns, start_ns + real, real));
	s->frames_sent++;
}

/* Ends the open series: dseries_end, then the stale image when one was asked for. */
static void end_series(struct det_sim *s)
{
	if (s->series_open)
		send_end(s);
	s->series_open = false;
	s->last_series = s->series;
	s->last_frame = s->next_frame;
	s->have_last = true;
	s->burst_left = s->pending_triggers = 0;
	s->state = DET_IDLE;
	if (s->stale_req)
		det_stale(s);
}

void det_stale(struct det_sim *s)
{
	if (s->state != DET_IDLE || !s->have_last) {
		s->stale_req = true; /* after the end of the running series */
		return;
	}
	s->stale_req = false;
	send_image(s, s->last_series, s->last_frame, det_now_ns() - s->arm_ns);
}

int det_arm(struct det_sim *s, char *err, size_t cap)
{
	if (s->state == DET_ERROR)
		return snprintf(err, cap, "detector in error state: initialize it"), 500;
	if (s->state != DET_IDLE)
		return snprintf(err, cap, "already armed"), 409;
	s->series++;
	s->arm_ns = det_now_ns();
	s->total = s->cfg.nimages * s->cfg.ntrigger;
	s->next_frame = s->burst_left = s->pending_triggers = s->series_triggers = 0;
	s->state = DET_READY;
	s->series_open = true;
	ensure_mu(s); /* the exposure's picture, before the triggers come */
	send_header(s);
	return 200;
}

static void start_burst(struct det_sim *s, uint64_t now)
{
	s->burst_left = s->cfg.nimages;
	s->due_ns = now;
	s->state = DET_ACQUIRE;
	s->triggers++;
	s->series_triggers++;
}

int det_trigger(struct det_sim *s, char *err, size_t cap)
{
	if (strcmp(s->cfg.trigger_mode, "ints"))
		return snprintf(err, cap, "trigger_mode is %s: triggers are external",
				s->cfg.trigger_mode),
		       400;
	if (s->state == DET_ACQUIRE)
		return snprintf(err, cap, "acquisition running"), 409;
	if (s->state != DET_READY)
		return snprintf(err, cap, "not armed"), 400;
	start_burst(s, det_now_ns());
	return 200;
}

void det_edge(struct det_sim *s)
{
	s->edges++;
	if (strcmp(s->cfg.trigger_mode, "exts") ||
	    (s->state != DET_READY && s->state != DET_ACQUIRE) ||
	    s->series_triggers + s->pending_triggers >= s->cfg.ntrigger) {
		s->edges_ignored++;
		return;
	}
	if (s->state == DET_READY)
		start_burst(s, det_now_ns());
	else
		s->pending_triggers++;
}

int det_disarm(struct det_sim *s, bool aborted)
{
	(void)aborted; /* both end the series at once; the consumer sees the frames missing */
	if (s->state == DET_READY || s->state == DET_ACQUIRE)
		end_series(s);
	return 200;
}

int det_tick(struct det_sim *s)
{
	out_flush(s);
	uint64_t now = det_now_ns(), real = ns(s->cfg.count_time);
	while (s->state == DET_ACQUIRE && s->out_len < DET_OUTBOX) {
		if (s->late_ms && s->burst_left < s->cfg.nimages) {
			/* the detector stalls inside a burst: this frame and the rest start later
			 */
			s->due_ns += s->late_ms * 1000000u;
			s->late_ms = 0;
		}
		if (now < s->due_ns + real)
			break;
		if (s->drop) {
			s->drop--;
			s->frames_dropped++;
		} else {
			send_image(s, s->series, s->next_frame, s->due_ns - s->arm_ns);
		}
		s->next_frame++;
		s->due_ns += ns(s->cfg.frame_time);
		if (--s->burst_left)
			continue;
		if (s->next_frame >= s->total)
			end_series(s);
		else if (s->pending_triggers)
			s->pending_triggers--, start_burst(s, now);
		else
			s->state = DET_READY;
		now = det_now_ns();
	}
	out_flush(s);
	if (s->out_len)
		return 2;
	if (s->state == DET_ACQUIRE) {
		uint64_t at = s->due_ns + real;
		return at <= now ? 0 : (int)((at - now) / 1000000u) + 1;
	}
	return 50;
}
