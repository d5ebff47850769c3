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
	    zmq_bind(a->router, endpoint) ||
	    zmq_getsockopt(a->router, ZMQ_LAST_ENDPOINT, a->fwd_endpoint, &len)) {
		int e = -zmq_errno();
		if (a->router)
			zmq_close(a->router);
		a->router = NULL;
		return e;
	}
	return 0;
}

void agent_fwd_close(struct bl_agent *a)
{
	if (a->qlen)
		agent_log(a,
			  "forwarding: %zu stored frames not forwarded (they are in their files)",
			  a->qlen);
	for (size_t i = 0; i < a->qlen; i++)
		free(a->q[(a->qhead + i) % a->qcap].tag);
	free(a->q);
	for (uint32_t i = 1; i <= a->nfiles; i++)
		free(a->files[i]);
	free(a->files);
	bl_nx_reader_close(a->rd);
	free(a->rbuf);
	if (a->router)
		zmq_close(a->router);
	a->router = NULL;
}

void agent_fwd_file(struct bl_agent *a, const char *path)
{
	if (!a->router)
		return;
	if (a->nfiles + 2 > a->files_cap) {
		uint32_t cap = a->files_cap ? a->files_cap * 2 : 16;
		char **p = realloc(a->files, cap * sizeof(*p));
		if (!p) {
			a->ser.fwd_file = 0;
			return;
		}
		a->files = p;
		a->files_cap = cap;
	}
	char *s = strdup(path);
	a->ser.fwd_file = s ? ++a->nfiles : 0;
	if (s)
		a->files[a->nfiles] = s;
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

/* Takes every credit message waiting: "credit N" from a DEALER. */
static void take_credit(struct bl_agent *a)
{
	for (int k = 0; k < 256; k++) {
		zmq_msg_t id, body;
		zmq_msg_init(&id);
		zmq_msg_init(&body);
		int r = zmq_msg_recv(&id, a->router, ZMQ_DONTWAIT);
		if (r >= 0 && zmq_msg_more(&id))
			r = zmq_msg_recv(&body, a->router, 0);
		while (r >= 0 && zmq_msg_more(&body)) /* extra parts: ignored */
			r = zmq_msg_recv(&body, a->router, 0);
		unsigned long long n = 0;
		char txt[32] = "";
		if (r >= 0)
			snprintf(txt, sizeof(txt), "%.*s",
				 (int)(zmq_msg_size(&body) < 31 ? zmq_msg_size(&body) : 31),
				 (const char *)zmq_msg_data(&body));
		if (r >= 0 && sscanf(txt, "credit %llu", &n) == 1 && zmq_msg_size(&id) <= 256) {
			int w = 0;
			while (w < a->nworkers &&
			       (a->workers[w].idlen != zmq_msg_size(&id) ||
				memcmp(a->workers[w].id, zmq_msg_data(&id), a->workers[w].idlen)))
				w++;
			if (w == a->nworkers && w < AGENT_MAX_WORKERS) {
				a->nworkers++;
				a->c.fwd_workers++;
				a->workers[w].idlen = zmq_msg_size(&id);
				memcpy(a->workers[w].id, zmq_msg_data(&id), a->workers[w].idlen);
				a->workers[w].credit = 0;
				agent_log(a, "forwarding: a worker asked for frames");
			}
			if (w < AGENT_MAX_WORKERS)
				a->workers[w].credit += n;
		} else if (r >= 0) {
			agent_log(a, "forwarding: a worker sent '%s', not 'credit N'", txt);
		}
		zmq_msg_close(&id);
		zmq_msg_close(&body);
		if (r < 0)
			return;
	}
}

static void forget_worker(struct bl_agent *a, int w)
{
	agent_log(a, "forwarding: a worker is gone; its frames wait in their files");
	a->workers[w] = a->workers[--a->nworkers];
}

/* Sends TAG + CHUNK to the next worker with credit. 0, -EAGAIN (none can take it now). */
static int send_frame(struct bl_agent *a, const char *tag, const void *chunk, size_t len)
{
	for (int tries = 0; tries < a->nworkers;) {
		int w = a->next_worker++ % a->nworkers;
		struct agent_worker *wk = &a->workers[w];
		if (!wk->credit) {
			tries++;
			continue;
		}
		if (zmq_send(a->router, wk->id, wk->idlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
			if (zmq_errno() == EHOSTUNREACH)
				forget_worker(a, w);
			else
				tries++;
			continue;
		}
		zmq_send(a->router, tag, strlen(tag), ZMQ_SNDMORE);
		zmq_send(a->router, chunk, len, 0);
		wk->credit--;
		a->c.fwd_forwarded++;
		return 0;
	}
	return -EAGAIN;
}

static bool queue_push(struct bl_agent *a, uint32_t file, uint64_t index, char *tag)
{
	if (a->qlen == a->qcap) {
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
	}
	a->q[(a->qhead + a->qlen++) % a->qcap] = (struct agent_fwd_rec){file, index, tag};
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
		if (!send_frame(a, tag, f->chunk, f->chunk_bytes)) {
			free(tag);
			return;
		}
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

bool agent_fwd_pump(struct bl_agent *a)
{
	if (!a->router)
		return false;
	take_credit(a);
	for (int n = 0; n < PUMP_BATCH && a->qlen; n++) {
		struct agent_fwd_rec *r = &a->q[a->qhead];
		size_t len = 0;
		int rc = read_back(a, r, &len);
		if (rc) {
			a->c.fwd_dropped++;
			agent_log(a,
				  "forwarding: %s row %llu cannot be read back (%s); not forwarded",
				  a->files[r->file], (unsigned long long)r->index, strerror(-rc));
		} else if (send_frame(a, r->tag, a->rbuf, len)) {
			break;
		}
		free(r->tag);
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
