/* agent_join.c: the frame/edge join: a table of edges waiting for their frame, a ring of frames
 * waiting for their edge (bounded wait), frames released in order, never tagged by a guess. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bl_join.h"

struct slot {
	struct bl_join_frame f; /* f.chunk points into buf */
	uint8_t *buf;
	uint64_t deadline;
	bool have_edge;
	struct bl_edge edge;
};

struct edge_entry {
	bool used;
	struct bl_edge e;
};

struct bl_join {
	struct bl_join_config cfg;
	struct bl_join_counters c;
	struct slot *slots;
	unsigned head, n; /* ring of waiting frames */
	size_t buf_cap;	  /* bytes each slot's buffer holds */
	struct edge_entry *edges;
	uint64_t series;
	bool emitted_any; /* of this series: next_frame is valid */
	uint64_t next_frame;
};

int bl_join_new(struct bl_join **out, const struct bl_join_config *cfg)
{
	struct bl_join *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	if (cfg)
		j->cfg = *cfg;
	if (!j->cfg.slots)
		j->cfg.slots = 64;
	if (!j->cfg.edges)
		j->cfg.edges = 4096;
	if (!cfg)
		j->cfg.wait_us = 2000000;
	j->slots = calloc(j->cfg.slots, sizeof(*j->slots));
	j->edges = calloc(j->cfg.edges, sizeof(*j->edges));
	if (!j->slots || !j->edges) {
		bl_join_free(j);
		return -ENOMEM;
	}
	*out = j;
	return 0;
}

void bl_join_free(struct bl_join *j)
{
	if (!j)
		return;
	for (unsigned i = 0; j->slots && i < j->cfg.slots; i++)
		free(j->slots[i].buf);
	free(j->slots);
	free(j->edges);
	free(j);
}

int bl_join_series(struct bl_join *j, uint64_t series, size_t chunk_bytes)
{
	if (j->n)
		return -EBUSY;
	if (chunk_bytes > j->buf_cap) {
		for (unsigned i = 0; i < j->cfg.slots; i++) {
			free(j->slots[i].buf);
			j->slots[i].buf = malloc(chunk_bytes);
			if (!j->slots[i].buf) {
				for (unsigned k = 0; k <= i; k++) {
					free(j->slots[k].buf);
					j->slots[k].buf = NULL;
				}
				j->buf_cap = 0;
				return -ENOMEM;
			}
		}
		j->buf_cap = chunk_bytes;
	}
	j->cfg.chunk_bytes = chunk_bytes;
	j->series = series;
	j->emitted_any = false;
	j->next_frame = 0;
	return 0;
}

static struct edge_entry *edge_at(struct bl_join *j, uint64_t frame)
{
	return &j->edges[frame % j->cfg.edges];
}

/* Takes the stored edge of (SERIES, FRAME) out of the table into *E; false when none. */
static bool take_edge(struct bl_join *j, uint64_t series, uint64_t frame, struct bl_edge *e)
{
	struct edge_entry *x = edge_at(j, frame);
	if (!x->used || x->e.series != series || x->e.frame != frame)
		return false;
	*e = x->e;
	x->used = false;
	return true;
}

static int emit_one(struct bl_join *j, const struct bl_join_frame *f, const struct bl_edge *e,
		    bl_join_emit_fn emit, void *ctx)
{
	const struct bl_edge *tag = e && !e->untagged ? e : NULL;
	if (tag)
		j->c.tagged++;
	else
		j->c.untagged++;
	if (f->series == j->series) {
		j->emitted_any = true;
		j->next_frame = f->frame + 1;
	}
	int rc = emit(ctx, f, tag);
	if (rc)
		j->c.emit_errors++;
	return rc;
}

int bl_join_poll(struct bl_join *j, uint64_t now_us, bl_join_emit_fn emit, void *ctx)
{
	int first = 0;
	while (j->n) {
		struct slot *s = &j->slots[j->head];
		if (!s->have_edge && now_us < s->deadline)
			break;
		int rc = emit_one(j, &s->f, s->have_edge ? &s->edge : NULL, emit, ctx);
		if (rc && !first)
			first = rc;
		j->head = (j->head + 1) % j->cfg.slots;
		j->n--;
	}
	return first;
}

int bl_join_drain(struct bl_join *j, bl_join_emit_fn emit, void *ctx)
{
	return bl_join_poll(j, UINT64_MAX, emit, ctx);
}

int bl_join_frame(struct bl_join *j, uint64_t now_us, const struct bl_join_frame *f,
		  bl_join_emit_fn emit, void *ctx)
{
	struct bl_edge e;
	bool have = take_edge(j, f->series, f->frame, &e);
	j->c.frames++;
	if (!j->n && (have || !j->cfg.wait_us))
		return emit_one(j, f, have ? &e : NULL, emit, ctx);
	if (j->n == j->cfg.slots || f->chunk_bytes > j->buf_cap) {
		j->c.frames--; /* not taken: the caller gives it again */
		if (have)      /* put the edge back for the retry */
			*edge_at(j, f->frame) = (struct edge_entry){true, e};
		return j->n == j->cfg.slots ? -ENOSPC : -EMSGSIZE;
	}
	struct slot *s = &j->slots[(j->head + j->n) % j->cfg.slots];
	memcpy(s->buf, f->chunk, f->chunk_bytes);
	s->f = *f;
	s->f.chunk = s->buf;
	s->deadline = now_us + j->cfg.wait_us;
	s->have_edge = have;
	if (have)
		s->edge = e;
	else
		j->c.waited++;
	j->n++;
	return bl_join_poll(j, now_us, emit, ctx);
}

int bl_join_edge(struct bl_join *j, uint64_t now_us, const struct bl_edge *e, bl_join_emit_fn emit,
		 void *ctx)
{
	j->c.edges++;
	if (e->kind == BL_EDGE_MISSING) {
		j->c.edge_missing++;
		return 0;
	}
	if (e->kind == BL_EDGE_CUT) {
		j->c.edge_cut++;
		return 0;
	}
	if (!e->has_frame)
		return 0;
	for (unsigned i = 0; i < j->n; i++) {
		struct slot *s = &j->slots[(j->head + i) % j->cfg.slots];
		if (s->f.series == e->series && s->f.frame == e->frame) {
			if (s->have_edge)
				return 0; /* a repeated record: the first one stands */
			s->have_edge = true;
			s->edge = *e;
			return bl_join_poll(j, now_us, emit, ctx);
		}
	}
	if (e->series == j->series && j->emitted_any && e->frame < j->next_frame) {
		j->c.edges_late++; /* its frame left (untagged) or was skipped by the stream */
		return 0;
	}
	struct edge_entry *x = edge_at(j, e->frame);
	if (x->used && (x->e.series != e->series || x->e.frame != e->frame))
		j->c.edges_lost++;
	x->used = true;
	x->e = *e;
	return 0;
}

unsigned bl_join_waiting(const struct bl_join *j)
{
	return j->n;
}

bool bl_join_full(const struct bl_join *j)
{
	return j->n == j->cfg.slots;
}

uint64_t bl_join_deadline(const struct bl_join *j)
{
	if (!j->n)
		return UINT64_MAX;
	const struct slot *s = &j->slots[j->head];
	return s->have_edge ? 0 : s->deadline; /* after a poll the head always waits */
}

const struct bl_join_counters *bl_join_counters(const struct bl_join *j)
{
	return &j->c;
}

const struct bl_join_config *bl_join_config(const struct bl_join *j)
{
	return &j->cfg;
}
