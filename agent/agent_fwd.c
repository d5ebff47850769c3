/* agent_fwd.c: forwards stored frames (chunks as stored, plus tag JSON) to analysis workers over
 * ZMQ ROUTER with credit; frames no worker can take now wait on disk and go later from the file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_int.h"

#define PUMP_BATCH 256 /* frames sent from files per round */

int agent_fwd_open(struct bl_agent *a, const char *endpoint)
{
	a->router = zmq_socket(a->zctx, ZMQ_ROUTER);
	int one = 1, zero = 0;
	size_t len = sizeof(a->fwd_endpoint);
	if (!a->router || zmq_setsockopt(a->router, ZMQ_LINGER, &zero, sizeof(zero)) ||
	    zmq_setsockopt(a->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) ||
	    /* ZMTP heartbeats: a worker whose host or process hangs is disconnected after 3 s */
	    zmq_setsockopt(a->router, ZMQ_HEARTBEAT_IVL, &(int){1000}, sizeof(int)) ||
	    zmq_setsockopt(a->router, ZMQ_HEARTBEAT_TIMEOUT, &(int){3000}, sizeof(int)) ||
	    zmq_bind(a->router, endpoint) ||
	    zmq_getsockopt(a->router, ZMQ_LAST_ENDPOINT, a->fwd_endpoint, &len)) {
		int e = -zmq_errno();
		if (a->router)
			zmq_close(a->router);
		a->router = NULL;
		return e;
	}
	/* disconnects are seen at once (a worker that exits): its frames in flight go again */
	char mon[64];
	snprintf(mon, sizeof(mon), "inproc://agent-fwd-mon-%p", (void *)a);
	if (!zmq_socket_monitor(a->router, mon, ZMQ_EVENT_DISCONNECTED)) {
		a->monitor = zmq_socket(a->zctx, ZMQ_PAIR);
		if (a->monitor && zmq_connect(a->monitor, mon)) {
			zmq_close(a->monitor);
			a->monitor = NULL;
		}
	}
	return 0;
}

static bool queue_push(struct bl_agent *a, uint32_t file, uint64_t index, char *tag);
static uint32_t file_number(struct bl_agent *a, const char *path);

/* Frames in flight at workers (no result yet) and queued go into the index for the next agent. */
static void persist_queue(struct bl_agent *a)
{
	size_t n = a->qlen;
	for (int w = 0; w < a->nworkers; w++)
		n += a->workers[w].ninflight;
	if (!a->index || !a->router)
		return;
	struct bl_index_queued *q = n ? malloc(n * sizeof(*q)) : NULL;
	if (n && !q) {
		agent_log(a, "forwarding: no memory to save %zu unforwarded frames", n);
		return;
	}
	size_t k = 0;
	for (int w = 0; w < a->nworkers; w++)
		for (size_t i = 0; i < a->workers[w].ninflight; i++) {
			const struct agent_fwd_rec *r = &a->workers[w].inflight[i];
			q[k++] = (struct bl_index_queued){a->files[r->file], r->index, r->tag};
		}
	for (size_t i = 0; i < a->qlen; i++) {
		const struct agent_fwd_rec *r = &a->q[(a->qhead + i) % a->qcap];
		q[k++] = (struct bl_index_queued){a->files[r->file], r->index, r->tag};
	}
	if (bl_agent_index_queue_save(a->index, n, q))
		agent_log(a, "index: %s", bl_agent_index_error(a->index));
	else if (n)
		agent_log(
		    a,
		    "forwarding: %zu stored frames not forwarded yet; saved in the index, the "
		    "next agent sends them first",
		    n);
	free(q);
}

static int restore_one(void *ctx, const struct bl_index_queued *r)
{
	struct bl_agent *a = ctx;
	uint32_t f = file_number(a, r->path);
	char *tag = f ? strdup(r->tag) : NULL;
	if (!tag || !queue_push(a, f, r->row, tag)) {
		free(tag);
		a->c.fwd_dropped++;
		agent_log(a, "forwarding: %s row %llu: no memory; not forwarded", r->path,
			  (unsigned long long)r->row);
		return -ENOMEM;
	}
	a->c.fwd_restored++;
	return 0;
}

void agent_fwd_restore(struct bl_agent *a)
{
	if (!a->router || !a->index)
		return;
	int n = bl_agent_index_queue_take(a->index, restore_one, a);
	if (n < 0)
		agent_log(a, "index: %s", bl_agent_index_error(a->index));
	else if (n)
		agent_log(a, "forwarding: %d frames a previous agent had not forwarded go first",
			  n);
}

void agent_fwd_close(struct bl_agent *a)
{
	persist_queue(a);
	for (size_t i = 0; i < a->qlen; i++)
		free(a->q[(a->qhead + i) % a->qcap].tag);
	free(a->q);
	for (int w = 0; w < a->nworkers; w++) {
		struct agent_worker *wk = &a->workers[w];
		for (size_t k = 0; k < wk->ninflight; k++)
			free(wk->inflight[k].tag);
		free(wk->inflight);
	}
	a->nworkers = 0;
	agent_results_free(a);
	for (uint32_t i = 1; i <= a->nfiles; i++)
		free(a->files[i]);
	free(a->files);
	bl_nx_reader_close(a->rd);
	free(a->rbuf);
	if (a->monitor) {
		zmq_socket_monitor(a->router, NULL, 0);
		zmq_close(a->monitor);
	}
	a->monitor = NULL;
	if (a->router)
		zmq_close(a->router);
	a->router = NULL;
}

/* The number of file PATH in the forwarding's table (added when new); 0: no memory. */
static uint32_t file_number(struct bl_agent *a, const char *path)
{
	for (uint32_t i = a->nfiles; i >= 1; i--)
		if (!strcmp(a->files[i], path))
			return i;
	if (a->nfiles + 2 > a->files_cap) {
		uint32_t cap = a->files_cap ? a->files_cap * 2 : 16;
		char **p = realloc(a->files, cap * sizeof(*p));
		if (!p)
			return 0;
		a->files = p;
		a->files_cap = cap;
	}
	char *s = strdup(path);
	if (!s)
		return 0;
	a->files[++a->nfiles] = s;
	return a->nfiles;
}

void agent_fwd_file(struct bl_agent *a, const char *path)
{
	if (a->router)
		a->ser.fwd_file = file_number(a, path);
}

static char *tag_json(const struct bl_agent *a, const struct bl_join_frame *f,
		      const struct bl_edge *e, uint64_t index)
{
	const struct agent_series *s = &a->ser;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "series", (double)f->series);
	cJSON_AddNumberToObject(o, "frame", (double)f->frame);
	cJSON_AddStringToObject(o, "path", s->path);
	cJSON_AddNumberToObject(o, "index", (double)index);
	cJSON *sh = cJSON_AddArrayToObject(o, "shape");
	cJSON_AddItemToArray(sh, cJSON_CreateNumber(s->height));
	cJSON_AddItemToArray(sh, cJSON_CreateNumber(s->width));
	cJSON_AddStringToObject(o, "type", bl_dtype_name(s->type));
	cJSON_AddStringToObject(
	    o, "encoding",
	    bl_denc_name(s->type == BL_DTYPE_UINT16 ? BL_DENC_BS16_LZ4 : BL_DENC_BS32_LZ4));
	cJSON_AddNumberToObject(o, "start_ns", (double)f->start_ns);
	cJSON_AddNumberToObject(o, "stored_us", (double)agent_now_us()); /* echoed in the result */
	/* the file's geometry, so a worker needs neither hwdb nor the file (README) */
	cJSON *g = cJSON_AddObjectToObject(o, "geometry");
	cJSON_AddNumberToObject(g, "distance_mm", s->st.distance_m * 1e3);
	cJSON_AddNumberToObject(g, "pixel_x_um", s->st.x_pixel_m * 1e6);
	cJSON_AddNumberToObject(g, "pixel_y_um", s->st.y_pixel_m * 1e6);
	cJSON_AddNumberToObject(g, "beam_center_x_px", s->st.beam_x_px);
	cJSON_AddNumberToObject(g, "beam_center_y_px", s->st.beam_y_px);
	cJSON_AddNumberToObject(g, "wavelength_nm", s->st.wavelength_A / 10);
	if (s->st.incidence_deg == s->st.incidence_deg) /* NaN: unknown, left out */
		cJSON_AddNumberToObject(g, "incidence_deg", s->st.incidence_deg);
	cJSON_AddBoolToObject(o, "tagged", e != NULL);
	if (e) {
		cJSON_AddNumberToObject(o, "t", (double)e->t);
		cJSON_AddNumberToObject(o, "flags", e->flags);
	}
	if (e && e->has_sample) {
		cJSON *m = cJSON_AddObjectToObject(o, "sample");
		cJSON_AddNumberToObject(m, "sample", e->sample);
		cJSON_AddNumberToObject(m, "puck", e->puck);
		cJSON_AddNumberToObject(m, "slot", e->slot);
		cJSON_AddStringToObject(m, "barcode", e->barcode);
	}
	if (e && e->has_print) {
		const struct bl_edge_print *p = &e->print;
		cJSON *m = cJSON_AddObjectToObject(o, "print");
		cJSON_AddNumberToObject(m, "run", p->run);
		cJSON_AddStringToObject(m, "label", p->label);
		cJSON_AddStringToObject(m, "mode", p->mode);
		cJSON_AddNumberToObject(m, "film_mm", p->film_mm);
		cJSON_AddNumberToObject(m, "axis_mm", p->axis_mm);
		cJSON_AddBoolToObject(m, "coated", p->coated);
		cJSON_AddNumberToObject(m, "since_coat_s", p->since_coat_s);
		cJSON_AddNumberToObject(m, "flow_ul_min", p->flow_ul_min);
		cJSON_AddNumberToObject(m, "speed_mm_s", p->speed_mm_s);
		cJSON *tc = cJSON_AddArrayToObject(m, "temp_c");
		for (int i = 0; i < p->nheaters; i++)
			cJSON_AddItemToArray(tc, cJSON_CreateNumber(p->temp_c[i]));
	}
	char *txt = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return txt;
}

#define MAX_PARTS 8 /* identity, word, JSON, up to 5 arrays */

static int find_worker(struct bl_agent *a, zmq_msg_t *id)
{
	int w = 0;
	while (w < a->nworkers && (a->workers[w].idlen != zmq_msg_size(id) ||
				   memcmp(a->workers[w].id, zmq_msg_data(id), a->workers[w].idlen)))
		w++;
	return w;
}

/* "credit N" or "credit N acks" from worker ID. */
static void on_credit(struct bl_agent *a, zmq_msg_t *id, const char *txt)
{
	unsigned long long n = 0;
	char mode[8] = "";
	if (sscanf(txt, "credit %llu %7s", &n, mode) < 1 || (mode[0] && strcmp(mode, "acks")) ||
	    zmq_msg_size(id) > 256) {
		agent_log(a, "forwarding: a worker sent '%s', not 'credit N [acks]'", txt);
		return;
	}
	int w = find_worker(a, id);
	if (w == AGENT_MAX_WORKERS) {
		agent_log(a, "forwarding: more than %d workers; one is not served",
			  AGENT_MAX_WORKERS);
		return;
	}
	struct agent_worker *wk = &a->workers[w];
	if (w == a->nworkers) {
		a->nworkers++;
		a->c.fwd_workers++;
		*wk = (struct agent_worker){.idlen = zmq_msg_size(id)};
		memcpy(wk->id, zmq_msg_data(id), wk->idlen);
		agent_log(a, "forwarding: a worker asked for frames%s",
			  mode[0] ? " (with results)" : "");
	}
	wk->acks = mode[0] != 0;
	wk->credit += n;
	wk->last_seen_us = agent_now_us();
}

/* "result" JSON [arrays...] from worker ID: the frame it names is no longer in flight. */
static void on_result(struct bl_agent *a, zmq_msg_t *id, zmq_msg_t *parts, int n)
{
	cJSON *meta =
	    n >= 1 ? cJSON_ParseWithLength(zmq_msg_data(&parts[0]), zmq_msg_size(&parts[0])) : NULL;
	const cJSON *jp = cJSON_GetObjectItemCaseSensitive(meta, "path");
	const cJSON *ji = cJSON_GetObjectItemCaseSensitive(meta, "index");
	if (!cJSON_IsString(jp) || !cJSON_IsNumber(ji) || ji->valuedouble < 0) {
		a->c.results_bad++;
		agent_log(a, "results: a worker sent a result without path and index; ignored");
		cJSON_Delete(meta);
		return;
	}
	uint64_t index = (uint64_t)ji->valuedouble;
	int w = find_worker(a, id);
	struct agent_worker *wk = w < a->nworkers ? &a->workers[w] : NULL;
	size_t k = 0;
	while (wk && k < wk->ninflight &&
	       (wk->inflight[k].index != index ||
		strcmp(a->files[wk->inflight[k].file], jp->valuestring)))
		k++;
	if (!wk || k == wk->ninflight) {
		/* not in flight there: sent again after that worker was given up, or unknown */
		a->c.results_unknown++;
		cJSON_Delete(meta);
		return;
	}
	wk->last_seen_us = agent_now_us();
	uint32_t file = wk->inflight[k].file;
	free(wk->inflight[k].tag);
	wk->inflight[k] = wk->inflight[--wk->ninflight];
	agent_results_take(a, file, index, meta, parts + 1, n - 1);
	cJSON_Delete(meta);
}

/* Takes every message the workers sent: credit and results. */
static void take_credit(struct bl_agent *a)
{
	for (int k = 0; k < 256; k++) {
		zmq_msg_t m[MAX_PARTS + 1];
		int n = 0, r = 0;
		do {
			zmq_msg_init(&m[n]);
			r = zmq_msg_recv(&m[n], a->router, n ? 0 : ZMQ_DONTWAIT);
			if (r < 0) {
				zmq_msg_close(&m[n]);
				break;
			}
			n++;
		} while (n <= MAX_PARTS && zmq_msg_more(&m[n - 1]));
		if (r >= 0 && n && zmq_msg_more(&m[n - 1])) { /* too many parts: drop the rest */
			zmq_msg_t x;
			zmq_msg_init(&x);
			while (zmq_msg_recv(&x, a->router, 0) >= 0 && zmq_msg_more(&x))
				;
			zmq_msg_close(&x);
		}
		if (n >= 2) {
			char txt[32];
			size_t len = zmq_msg_size(&m[1]);
			snprintf(txt, sizeof(txt), "%.*s", (int)(len < 31 ? len : 31),
				 (const char *)zmq_msg_data(&m[1]));
			if (len == 6 && !memcmp(txt, "result", 6))
				on_result(a, &m[0], m + 2, n - 2);
			else
				on_credit(a, &m[0], txt);
		}
		for (int i = 0; i < n; i++)
			zmq_msg_close(&m[i]);
		if (r < 0)
			return;
	}
}

/* Puts frame R back at the head of the queue (it goes next). */
static bool queue_push_front(struct bl_agent *a, struct agent_fwd_rec r);

static void forget_worker(struct bl_agent *a, int w)
{
	struct agent_worker *wk = &a->workers[w];
	agent_log(a,
		  "forwarding: a worker is gone; %zu frames it had are sent again, the rest wait "
		  "in their files",
		  wk->ninflight);
	for (size_t k = wk->ninflight; k-- > 0;) {
		if (queue_push_front(a, wk->inflight[k])) {
			a->c.fwd_requeued++;
		} else {
			a->c.fwd_dropped++;
			agent_log(a, "forwarding: %s row %llu: out of memory; not sent again",
				  a->files[wk->inflight[k].file],
				  (unsigned long long)wk->inflight[k].index);
			free(wk->inflight[k].tag);
		}
	}
	free(wk->inflight);
	a->workers[w] = a->workers[--a->nworkers];
}

/* Sends frame R (its tag, and CHUNK of LEN bytes) to the next worker with credit. 0: sent, and
 * R's tag is kept in flight (a worker that answers with results) or freed; -EAGAIN: no worker
 * can take it now (R untouched). */
static int send_frame(struct bl_agent *a, struct agent_fwd_rec *r, const void *chunk, size_t len)
{
	for (int tries = 0; tries < a->nworkers;) {
		int w = a->next_worker++ % a->nworkers;
		struct agent_worker *wk = &a->workers[w];
		if (!wk->credit) {
			tries++;
			continue;
		}
		if (wk->acks && wk->ninflight == wk->inflight_cap) {
			size_t cap = wk->inflight_cap ? wk->inflight_cap * 2 : 16;
			struct agent_fwd_rec *p = realloc(wk->inflight, cap * sizeof(*p));
			if (!p) {
				tries++;
				continue;
			}
			wk->inflight = p;
			wk->inflight_cap = cap;
		}
		if (zmq_send(a->router, wk->id, wk->idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
			if (zmq_errno() == EHOSTUNREACH)
				forget_worker(a, w);
			else
				tries++;
			continue;
		}
		zmq_send(a->router, r->tag, strlen(r->tag), ZMQ_SNDMORE);
		zmq_send(a->router, chunk, len, 0);
		wk->credit--;
		a->c.fwd_forwarded++;
		if (wk->acks)
			wk->inflight[wk->ninflight++] = *r;
		else
			free(r->tag);
		r->tag = NULL;
		return 0;
	}
	return -EAGAIN;
}

/* Makes room for one more frame in the queue. */
static bool queue_room(struct bl_agent *a)
{
	if (a->qlen < a->qcap)
		return true;
	size_t cap = a->qcap ? a->qcap * 2 : 1024;
	struct agent_fwd_rec *q = malloc(cap * sizeof(*q));
	if (!q)
		return false;
	for (size_t i = 0; i < a->qlen; i++)
		q[i] = a->q[(a->qhead + i) % a->qcap];
	free(a->q);
	a->q = q;
	a->qcap = cap;
	a->qhead = 0;
	return true;
}

static bool queue_push(struct bl_agent *a, uint32_t file, uint64_t index, char *tag)
{
	if (!queue_room(a))
		return false;
	a->q[(a->qhead + a->qlen++) % a->qcap] = (struct agent_fwd_rec){file, index, tag};
	return true;
}

static bool queue_push_front(struct bl_agent *a, struct agent_fwd_rec r)
{
	if (!queue_room(a))
		return false;
	a->qhead = (a->qhead + a->qcap - 1) % a->qcap;
	a->q[a->qhead] = r;
	a->qlen++;
	return true;
}

void agent_fwd_frame(struct bl_agent *a, const struct bl_join_frame *f, const struct bl_edge *e,
		     uint64_t index)
{
	if (!a->router)
		return;
	char *tag = tag_json(a, f, e, index);
	if (!tag || !a->ser.fwd_file) {
		free(tag);
		a->c.fwd_dropped++;
		agent_log(a, "forwarding: series %llu frame %llu: out of memory; not forwarded",
			  (unsigned long long)f->series, (unsigned long long)f->frame);
		return;
	}
	if (!a->qlen) {
		take_credit(a);
		struct agent_fwd_rec r = {a->ser.fwd_file, index, tag};
		if (!send_frame(a, &r, f->chunk, f->chunk_bytes))
			return;
	}
	if (!queue_push(a, a->ser.fwd_file, index, tag)) {
		free(tag);
		a->c.fwd_dropped++;
		agent_log(a, "forwarding: series %llu frame %llu: out of memory; not forwarded",
			  (unsigned long long)f->series, (unsigned long long)f->frame);
		return;
	}
	a->c.fwd_spooled++;
}

/* Reads the queue's first frame back from its file. */
static int read_back(struct bl_agent *a, const struct agent_fwd_rec *r, size_t *len)
{
	if (r->file == a->ser.fwd_file && a->ser.nx)
		return bl_nx_read_chunk(a->ser.nx, r->index, &a->rbuf, &a->rcap, len);
	if (a->rd_file != r->file) {
		bl_nx_reader_close(a->rd);
		a->rd = NULL;
		a->rd_file = 0;
		int rc = bl_nx_reader_open(&a->rd, a->files[r->file]);
		if (rc)
			return rc;
		a->rd_file = r->file;
	}
	return bl_nx_reader_chunk(a->rd, r->index, &a->rbuf, &a->rcap, len);
}

/* Probes the workers that hold frames in flight (after a disconnect event, else each second): a
 * send to one that is gone fails with EHOSTUNREACH and its frames go again. */
static void probe_workers(struct bl_agent *a)
{
	bool now = false;
	while (a->monitor) {
		zmq_msg_t m;
		zmq_msg_init(&m);
		int r = zmq_msg_recv(&m, a->monitor, ZMQ_DONTWAIT);
		zmq_msg_close(&m);
		if (r < 0)
			break;
		now = true; /* event frame and address frame: any disconnect */
	}
	uint64_t t = agent_now_us();
	if (!now && t - a->probe_us < 1000000)
		return;
	a->probe_us = t;
	for (int w = 0; w < a->nworkers;) {
		struct agent_worker *wk = &a->workers[w];
		if (wk->ninflight &&
		    zmq_send(a->router, wk->id, wk->idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
			if (zmq_errno() == EHOSTUNREACH) {
				forget_worker(a, w);
				continue;
			}
		} else if (wk->ninflight) {
			zmq_send(a->router, "ping", 4, 0);
		}
		w++;
	}
}

bool agent_fwd_pump(struct bl_agent *a)
{
	if (!a->router)
		return false;
	take_credit(a);
	probe_workers(a);
	for (int n = 0; n < PUMP_BATCH && a->qlen; n++) {
		struct agent_fwd_rec *r = &a->q[a->qhead];
		size_t len = 0;
		int rc = read_back(a, r, &len);
		if (rc) {
			a->c.fwd_dropped++;
			agent_log(a,
				  "forwarding: %s row %llu cannot be read back (%s); not forwarded",
				  a->files[r->file], (unsigned long long)r->index, strerror(-rc));
		} else if (send_frame(a, r, a->rbuf, len)) {
			break;
		}
		free(r->tag); /* NULL when sent */
		a->qhead = (a->qhead + 1) % a->qcap;
		a->qlen--;
	}
	if (!a->qlen && a->rd) { /* caught up: let go of the file */
		bl_nx_reader_close(a->rd);
		a->rd = NULL;
		a->rd_file = 0;
	}
	for (int w = 0; a->qlen && w < a->nworkers; w++)
		if (a->workers[w].credit)
			return true;
	return false;
}

void agent_fwd_save(struct bl_agent *a)
{
	if (!a->router || !a->index)
		return;
	a->fwd_saved_us = agent_now_us();
	struct bl_index_forwarding f = {a->qlen, a->c.fwd_forwarded, a->c.fwd_spooled,
					a->c.fwd_dropped};
	if (bl_agent_index_forwarding(a->index, &f))
		agent_log(a, "index: %s", bl_agent_index_error(a->index));
}

void agent_fwd_save_maybe(struct bl_agent *a)
{
	if (a->router && agent_now_us() - a->fwd_saved_us >= 1000000)
		agent_fwd_save(a);
}

void bl_agent_forward_endpoint(struct bl_agent *a, char *out, size_t cap)
{
	pthread_mutex_lock(&a->lock);
	snprintf(out, cap, "%s", a->fwd_endpoint);
	pthread_mutex_unlock(&a->lock);
}
