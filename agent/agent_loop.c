/* agent_loop.c: the agent's loop: controller edges and detector stream messages into the join,
 * series boundaries, bounded waits, idle flushes; one thread, no per-frame allocation. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_int.h"

#define STREAM_BATCH 64 /* stream messages taken per round before edges are looked at again */
#define WAIT_SLICE   5	/* ms a round blocks on one source while the other may have data */

uint64_t agent_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void agent_log(struct bl_agent *a, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (a->cfg.log)
		a->cfg.log(a->cfg.log_ctx, line);
	else
		fprintf(stderr, "beamloop-agent: %s\n", line);
}

int bl_agent_new(struct bl_agent **out, const struct bl_agent_config *cfg, char *err, size_t errsz)
{
	struct bl_agent *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	if (cfg->fw) { /* kept for the command client opened later (bl_agent_command) */
		const char *in[5] = {cfg->fw->endpoint, cfg->fw->event_endpoint,
				     cfg->fw->server_key, cfg->fw->public_key, cfg->fw->secret_key};
		const char **outp[5] = {&a->fwc.endpoint, &a->fwc.event_endpoint,
					&a->fwc.server_key, &a->fwc.public_key, &a->fwc.secret_key};
		for (int i = 0; i < 5; i++) {
			snprintf(a->fw_str[i], sizeof(a->fw_str[i]), "%s", in[i] ? in[i] : "");
			*outp[i] = in[i] ? a->fw_str[i] : NULL;
		}
		a->cfg.fw = &a->fwc;
	}
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_init(&a->cmd_lock, NULL);
	snprintf(a->out_dir, sizeof(a->out_dir), "%s", cfg->out_dir ? cfg->out_dir : ".");
	if (cfg->index_path)
		snprintf(a->index_path, sizeof(a->index_path), "%s", cfg->index_path);
	else if ((size_t)snprintf(a->index_path, sizeof(a->index_path), "%s/index.sqlite",
				  a->out_dir) >= sizeof(a->index_path))
		a->index_path[0] = 0; /* refused below */
	struct bl_join_config jc = {
	    .slots = cfg->slots,
	    .wait_us = cfg->fw ? (cfg->wait_us ? cfg->wait_us : 2000000) : 0,
	};
	int rc = bl_nx_init(err, errsz);
	if (!rc && !a->index_path[0]) {
		snprintf(err, errsz, "%s: path too long", a->out_dir);
		rc = -ENAMETOOLONG;
	}
	if (!rc && (rc = bl_join_new(&a->join, &jc)))
		snprintf(err, errsz, "out of memory");
	if (!rc && (rc = bl_dstream_new(&a->stream)))
		snprintf(err, errsz, "out of memory");
	/* bitshuffle-LZ4 is stored as it came: decode only what the md5 does not vouch for */
	if (!rc)
		bl_dstream_set_decode(a->stream, BL_DS_DECODE_NONE);
	if (!rc && !(a->zctx = zmq_ctx_new()))
		rc = -ENOMEM;
	if (!rc && (rc = agent_stream_open(a, cfg->stream)))
		snprintf(err, errsz, "detector stream %s: %s", cfg->stream, strerror(-rc));
	if (!rc && cfg->forward && (rc = agent_fwd_open(a, cfg->forward)))
		snprintf(err, errsz, "forwarding %s: %s", cfg->forward, strerror(-rc));
	if (!rc && cfg->fw) {
		rc = bl_fw_client_open(&a->fw, cfg->fw);
		if (!rc)
			rc = bl_fw_client_subscribe(a->fw, BL_FW_TOPIC_EDGE);
		if (rc)
			snprintf(err, errsz, "controller events %s: %s",
				 cfg->fw->event_endpoint ? cfg->fw->event_endpoint : "(default)",
				 strerror(-rc));
	}
	if (!rc && (rc = agent_make_dirs(a->out_dir)))
		snprintf(err, errsz, "%s: %s", a->out_dir, strerror(-rc));
	if (!rc && (rc = agent_space_init(a)))
		snprintf(err, errsz, "%s: path too long", a->out_dir);
	if (!rc)
		rc = bl_agent_index_open(&a->index, a->index_path, err, errsz);
	if (!rc)
		agent_fwd_restore(a);
	if (rc) {
		bl_agent_free(a);
		return rc;
	}
	*out = a;
	return 0;
}

void bl_agent_free(struct bl_agent *a)
{
	if (!a)
		return;
	if (a->join && a->ser.open) {
		bl_join_drain(a->join, agent_emit, a);
		agent_store_close(a, "interrupted");
	}
	agent_fwd_save(a);
	agent_fwd_close(a);
	agent_stream_close(a);
	if (a->zctx)
		zmq_ctx_term(a->zctx);
	bl_join_free(a->join);
	bl_dstream_free(a->stream);
	bl_fw_client_close(a->fw);
	bl_fw_client_close(a->cmd);
	pthread_mutex_destroy(&a->cmd_lock);
	bl_agent_index_close(a->index);
	agent_space_close(a);
	free(a->chunk);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* Takes every controller event waiting (waits up to TIMEOUT_MS for the first). */
static void take_edges(struct bl_agent *a, int timeout_ms)
{
	if (!a->fw)
		return;
	struct bl_fw_event ev;
	for (int k = 0; k < 4096; k++) {
		int rc = bl_fw_client_event(a->fw, k ? 0 : timeout_ms, &ev);
		if (rc == -ETIMEDOUT || rc == -ENOTCONN)
			return;
		if (rc) {
			a->c.bad_events++;
			continue;
		}
		a->c.events_missed += ev.missed;
		if (ev.missed)
			agent_log(a, "controller: %llu edge records lost (seq gap)",
				  (unsigned long long)ev.missed);
		struct bl_edge e;
		if (strcmp(ev.topic, BL_FW_TOPIC_EDGE) || bl_edge_parse(ev.data, &e)) {
			a->c.bad_events++;
			agent_log(a, "controller: '%s' event is not an edge record", ev.topic);
		} else if (bl_join_edge(a->join, agent_now_us(), &e, agent_emit, a)) {
			/* a storage error, logged where it happened */
		}
		bl_fw_event_clear(&ev);
	}
}

/* Lets the waiting frames of the ending series get their edges, within their bound. */
static void settle(struct bl_agent *a)
{
	while (bl_join_waiting(a->join)) {
		uint64_t now = agent_now_us(), due = bl_join_deadline(a->join);
		if (!a->fw || due <= now) {
			bl_join_poll(a->join, now, agent_emit, a);
			if (!a->fw)
				bl_join_drain(a->join, agent_emit, a);
			continue;
		}
		uint64_t ms = (due - now + 999) / 1000;
		take_edges(a, ms > WAIT_SLICE ? WAIT_SLICE : (int)ms);
	}
}

static void end_series(struct bl_agent *a, const char *status)
{
	settle(a);
	agent_store_close(a, status);
	a->ser.open = false;
}

static void on_header(struct bl_agent *a, const struct bl_dstream_event *ev)
{
	if (a->ser.open) /* its end never came */
		end_series(a, "incomplete");
	const struct bl_join_counters *j = bl_join_counters(a->join);
	a->ser = (struct agent_series){
	    .open = true,
	    .series = ev->series,
	    .count_time = ev->count_time,
	    .frame_time = ev->frame_time,
	    .rejected0 = bl_dstream_counters(a->stream)->rejected,
	    .emiss0 = j->edge_missing,
	    .ecut0 = j->edge_cut,
	};
	if (!agent_space_accept(a)) {
		a->ser.refused = true;
		a->c.series_refused++;
	}
}

/* Sizes the series' buffers at its first frame: the join's waiting slots, the encode buffer. */
static int series_buffers(struct bl_agent *a, const struct bl_dstream_event *ev)
{
	struct agent_series *s = &a->ser;
	size_t nelem = (size_t)ev->width * (size_t)ev->height;
	size_t bound = bl_nx_chunk_bound(ev->type, nelem);
	int rc = bl_join_series(a->join, s->series, bound);
	if (!rc && bound > a->chunk_cap) {
		free(a->chunk);
		a->chunk = malloc(bound);
		a->chunk_cap = a->chunk ? bound : 0;
		rc = a->chunk ? 0 : -ENOMEM;
	}
	s->ready = !rc;
	s->width = ev->width;
	s->height = ev->height;
	s->type = ev->type;
	return rc;
}

static void on_frame(struct bl_agent *a, const struct bl_dstream_event *ev)
{
	struct agent_series *s = &a->ser;
	s->missing += ev->missing_before;
	if (!s->ready && series_buffers(a, ev)) {
		agent_log(a, "series %llu: no memory for its buffers; not stored",
			  (unsigned long long)s->series);
		s->refused = true;
		a->c.series_refused++;
	}
	if (s->refused) {
		a->c.frames_refused++;
		return;
	}
	struct bl_join_frame f = {
	    .series = ev->series,
	    .frame = ev->frame,
	    .start_ns = ev->start_ns,
	    .stop_ns = ev->stop_ns,
	    .missing_before = ev->missing_before,
	};
	if (ev->encoding == BL_DENC_BS16_LZ4 || ev->encoding == BL_DENC_BS32_LZ4) {
		f.chunk = ev->encoded; /* as it came: already the filter's chunk format */
		f.chunk_bytes = ev->encoded_bytes;
	} else {
		size_t nelem = ev->pixel_bytes / (size_t)ev->type;
		/* raw and lz4< come with pixels in every decode mode (bl_dstream_set_decode) */
		int rc = bl_nx_chunk_encode(ev->type, ev->pixels, nelem, a->chunk, a->chunk_cap,
					    &f.chunk_bytes);
		if (rc) {
			agent_log(a, "series %llu frame %llu: compression failed: %s",
				  (unsigned long long)s->series, (unsigned long long)ev->frame,
				  strerror(-rc));
			a->c.frames_refused++;
			return;
		}
		f.chunk = a->chunk;
	}
	int rc = bl_join_frame(a->join, agent_now_us(), &f, agent_emit, a);
	if (rc == -EMSGSIZE) { /* larger than its series' bound: cannot happen for valid data */
		agent_log(a, "series %llu frame %llu: %zu bytes exceed the series' chunk size",
			  (unsigned long long)s->series, (unsigned long long)ev->frame,
			  f.chunk_bytes);
		a->c.frames_refused++;
	}
}

void agent_on_event(struct bl_agent *a, const struct bl_dstream_event *ev)
{
	switch (ev->kind) {
	case BL_DS_HEADER:
		a->seen_header = true;
		on_header(a, ev);
		break;
	case BL_DS_FRAME:
		if (a->ser.open && ev->series == a->ser.series)
			on_frame(a, ev);
		break;
	case BL_DS_END:
		a->ser.missing = ev->missing;
		a->ser.ended = true;
		a->ser.complete = ev->complete;
		end_series(a, ev->complete ? "complete" : "incomplete");
		break;
	case BL_DS_REJECT:
		agent_log(a, "stream: rejected (%s): %s", strerror(-ev->rc), ev->error);
		break;
	}
}

int bl_agent_step(struct bl_agent *a, int timeout_ms)
{
	pthread_mutex_lock(&a->lock);
	int rc = 0, n = 0;
	take_edges(a, 0);
	bl_join_poll(a->join, agent_now_us(), agent_emit, a);
	struct bl_dstream_event ev;
	while (n < STREAM_BATCH && !bl_join_full(a->join)) {
		rc = agent_stream_poll(a, 0, &ev);
		if (rc <= 0)
			break;
		agent_on_event(a, &ev);
		n++;
	}
	if (rc < 0)
		agent_log(a, "stream: %s", strerror(-rc));
	bool more = agent_fwd_pump(a);
	agent_fwd_save_maybe(a);
	agent_results_flush(a, false);
	if (!n) {
		agent_store_flush(a, false);
		uint64_t now = agent_now_us(), due = bl_join_deadline(a->join);
		int wait = more ? 0 : timeout_ms < 0 ? WAIT_SLICE : timeout_ms;
		if (a->fw && wait > WAIT_SLICE)
			wait = WAIT_SLICE; /* edges are looked at between slices */
		if (due != UINT64_MAX) {
			uint64_t left = due > now ? (due - now + 999) / 1000 : 0;
			if (left < (uint64_t)wait)
				wait = (int)left;
		}
		if (bl_join_full(a->join)) {
			take_edges(a, wait);
		} else {
			if (a->router && wait > 0) { /* a worker's message also ends the wait */
				zmq_pollitem_t it[2] = {{a->pull, 0, ZMQ_POLLIN, 0},
							{a->router, 0, ZMQ_POLLIN, 0}};
				zmq_poll(it, 2, wait);
				wait = 0;
			}
			if (agent_stream_poll(a, wait, &ev) == 1)
				agent_on_event(a, &ev);
		}
	}
	pthread_mutex_unlock(&a->lock);
	return rc < 0 ? rc : 0;
}

int bl_agent_command(struct bl_agent *a, const char *cmd, const char *args_json, int timeout_ms,
		     cJSON **reply)
{
	if (reply)
		*reply = NULL;
	if (!a->cfg.fw)
		return -ENOTCONN;
	/* a client of its own: the loop's client (edge events) stays in the loop's thread */
	pthread_mutex_lock(&a->cmd_lock);
	int rc = a->cmd ? 0 : bl_fw_client_open(&a->cmd, a->cfg.fw);
	if (!rc)
		rc = bl_fw_client_call_json(a->cmd, cmd, args_json, timeout_ms, reply);
	pthread_mutex_unlock(&a->cmd_lock);
	return rc;
}

int bl_agent_run(struct bl_agent *a, atomic_bool *stop)
{
	while (!atomic_load(stop)) {
		int rc = bl_agent_step(a, 50);
		if (rc && rc != -EINTR)
			return rc;
	}
	return 0;
}

void bl_agent_counters(struct bl_agent *a, struct bl_agent_counters *out)
{
	pthread_mutex_lock(&a->lock);
	*out = a->c;
	out->stream = *bl_dstream_counters(a->stream);
	out->join = *bl_join_counters(a->join);
	out->fwd_queued = a->qlen;
	pthread_mutex_unlock(&a->lock);
}

void bl_agent_last_file(struct bl_agent *a, char *out, size_t cap)
{
	pthread_mutex_lock(&a->lock);
	snprintf(out, cap, "%s", a->last_file);
	pthread_mutex_unlock(&a->lock);
}
