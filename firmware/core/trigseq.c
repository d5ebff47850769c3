/* trigseq.c: the trigger sequencer: program, edge matching, missing edges, metadata records. */
#include "trigseq.h"

#include "hal/bl_hal_print.h"

/* No struct assignment or aggregate initializer (memcpy / memset): see sched.c. */

int bl_trigseq_init(struct bl_trigseq *ts, const struct bl_trigseq_config *cfg)
{
	if (!ts || !cfg)
		return -BL_EINVAL;
	ts->cfg = cfg;
	ts->active = false;
	ts->series = 0;
	ts->sfsm = NULL;
	ts->pfsm = NULL;
	ts->train = false;
	ts->start = ts->period = 0;
	ts->count = 0;
	for (size_t i = 0; i < BL_TRIGSEQ_MAX_LIST; i++)
		ts->times[i] = 0;
	ts->next_prog = ts->frames = 0;
	ts->last_edge = 0;
	ts->in_call = false;
	struct bl_trigseq_counters *k = &ts->counters;
	k->series = 0;
	k->records = k->edges = k->on_time = k->off_time = k->missing = 0;
	k->extra = k->synthesized = k->cut = k->refused = 0;
	return 0;
}

/* Programmed time of edge j (< count). */
static uint64_t prog_time(const struct bl_trigseq *ts, uint32_t j)
{
	return ts->train ? ts->start + (uint64_t)j * ts->period : ts->times[j];
}

/* Fills the record's metadata at its time and hands it to the port. */
static void publish(struct bl_trigseq *ts, uint64_t now, int kind, unsigned flags, uint32_t frame,
		    int32_t prog, uint64_t t)
{
	struct bl_edge_meta *m = &ts->rec;
	m->series = ts->series;
	m->kind = kind;
	m->frame = frame;
	m->prog = prog;
	m->t_edge = t;
	m->t_prog = prog >= 0 ? prog_time(ts, (uint32_t)prog) : 0;
	m->dt = prog >= 0 ? (int64_t)(t - m->t_prog) : 0;
	m->now = now;
	/* A cut series' edges would lie ahead: there is no state of that instant to latch. */
	bool latch = kind != BL_EDGE_CUT;
	m->has_sample = latch && ts->sfsm && bl_sfsm_latch(ts->sfsm, t, &m->sample) == 0;
	if (latch && ts->sfsm && !m->has_sample)
		flags |= BL_EDGE_NO_SAMPLE;
	m->has_print = latch && ts->pfsm && bl_pfsm_latch(ts->pfsm, t, &m->print) == 0;
	if (latch && ts->pfsm && !m->has_print)
		flags |= BL_EDGE_NO_PRINT;
	m->flags = flags;
	ts->counters.records++;
	ts->in_call = true;
	bl_hal_trigseq_edge(m);
	ts->in_call = false;
}

/* Reports programmed edges next_prog .. j-1 as missing. */
static void missing_until(struct bl_trigseq *ts, uint64_t now, uint32_t j)
{
	for (; ts->next_prog < j; ts->next_prog++) {
		ts->counters.missing++;
		publish(ts, now, BL_EDGE_MISSING, 0, BL_EDGE_NO_FRAME, (int32_t)ts->next_prog,
			prog_time(ts, ts->next_prog));
	}
}

/* A frame at t: matched with programmed edge `prog` (-1: none). */
static void frame(struct bl_trigseq *ts, uint64_t now, uint64_t t, int32_t prog, unsigned flags)
{
	uint32_t k = ts->frames++;
	ts->counters.edges++;
	if (prog >= 0) {
		ts->counters.on_time++;
		if ((uint32_t)prog != k)
			flags |= BL_EDGE_SHIFTED;
	} else {
		ts->counters.off_time++;
		flags |= BL_EDGE_OFF_TIME;
		if (ts->next_prog >= ts->count) {
			ts->counters.extra++;
			flags |= BL_EDGE_EXTRA;
		}
	}
	ts->last_edge = t;
	publish(ts, now, BL_EDGE_FRAME, flags, k, prog, t);
}

int bl_trigseq_stop(struct bl_trigseq *ts, uint64_t now)
{
	if (!ts || !ts->cfg)
		return -BL_EINVAL;
	if (ts->in_call)
		return -BL_EBUSY;
	if (!ts->active)
		return -BL_ENOENT;
	if (ts->next_prog < ts->count) {
		ts->counters.cut += ts->count - ts->next_prog;
		publish(ts, now, BL_EDGE_CUT, 0, BL_EDGE_NO_FRAME, (int32_t)ts->next_prog,
			prog_time(ts, ts->next_prog));
		ts->next_prog = ts->count;
	}
	ts->active = false;
	return 0;
}

/* Common part of programming: closes an open series, sets the sources. */
static void begin(struct bl_trigseq *ts, uint64_t now, uint32_t series, const struct bl_sfsm *sf,
		  const struct bl_pfsm *pf)
{
	if (ts->active)
		bl_trigseq_stop(ts, now);
	ts->series = series;
	ts->sfsm = sf;
	ts->pfsm = pf;
	ts->next_prog = ts->frames = 0;
	ts->last_edge = 0;
	ts->active = true;
	ts->counters.series++;
}

int bl_trigseq_program_train(struct bl_trigseq *ts, uint64_t now, uint32_t series, uint64_t start,
			     uint64_t period, uint32_t count, const struct bl_sfsm *sf,
			     const struct bl_pfsm *pf)
{
	if (!ts || !ts->cfg || count == 0 || period <= 2 * ts->cfg->tolerance)
		return -BL_EINVAL;
	if (start > UINT64_MAX / 2 || (uint64_t)count > (UINT64_MAX / 2 - start) / period)
		return -BL_EINVAL; /* the times must not wrap */
	if (ts->in_call)
		return -BL_EBUSY;
	begin(ts, now, series, sf, pf);
	ts->train = true;
	ts->start = start;
	ts->period = period;
	ts->count = count;
	return 0;
}

int bl_trigseq_program_list(struct bl_trigseq *ts, uint64_t now, uint32_t series,
			    const uint64_t *times, uint32_t n, const struct bl_sfsm *sf,
			    const struct bl_pfsm *pf)
{
	if (!ts || !ts->cfg || !times || n == 0 || n > BL_TRIGSEQ_MAX_LIST)
		return -BL_EINVAL;
	for (uint32_t i = 1; i < n; i++)
		if (times[i] <= times[i - 1] || times[i] - times[i - 1] <= 2 * ts->cfg->tolerance)
			return -BL_EINVAL;
	if (times[n - 1] > UINT64_MAX / 2)
		return -BL_EINVAL;
	if (ts->in_call)
		return -BL_EBUSY;
	begin(ts, now, series, sf, pf);
	ts->train = false;
	for (uint32_t i = 0; i < BL_TRIGSEQ_MAX_LIST; i++)
		ts->times[i] = i < n ? times[i] : 0;
	ts->count = n;
	return 0;
}

int bl_trigseq_program_print(struct bl_trigseq *ts, uint64_t now, const struct bl_pfsm *pf,
			     const struct bl_sfsm *sf)
{
	if (!pf)
		return -BL_EINVAL;
	const struct bl_pfsm_run *run = bl_pfsm_run(pf);
	if (!run->valid)
		return -BL_ENOENT;
	return bl_trigseq_program_list(ts, now, run->series, run->t_frame, run->nframes, sf, pf);
}

/* The first programmed edge from next_prog on that is not over by t (time + tolerance >= t). */
static uint32_t first_not_before(const struct bl_trigseq *ts, uint64_t t)
{
	uint64_t tol = ts->cfg->tolerance;
	uint32_t j = ts->next_prog;
	if (ts->train) {
		if (t > ts->start + tol) {
			uint64_t k = (t - tol - ts->start + ts->period - 1) / ts->period;
			if (k > ts->count)
				k = ts->count;
			if (k > j)
				j = (uint32_t)k;
		}
		return j;
	}
	while (j < ts->count && prog_time(ts, j) + tol < t)
		j++;
	return j;
}

int bl_trigseq_edge(struct bl_trigseq *ts, uint64_t now, uint64_t edge)
{
	if (!ts || !ts->cfg)
		return -BL_EINVAL;
	if (ts->in_call)
		return -BL_EBUSY;
	if (!ts->active) {
		ts->counters.refused++;
		return -BL_ENOENT;
	}
	if (ts->cfg->synthesize || (ts->frames > 0 && edge < ts->last_edge)) {
		ts->counters.refused++;
		return -BL_EINVAL;
	}
	uint32_t j = first_not_before(ts, edge);
	missing_until(ts, now, j); /* edges come in order: those can no longer come */
	if (j < ts->count && prog_time(ts, j) <= edge + ts->cfg->tolerance) {
		ts->next_prog = j + 1;
		frame(ts, now, edge, (int32_t)j, 0);
	} else {
		frame(ts, now, edge, -1, 0);
	}
	return 0;
}

int bl_trigseq_step(struct bl_trigseq *ts, uint64_t now)
{
	if (!ts || !ts->cfg)
		return -BL_EINVAL;
	if (ts->in_call)
		return -BL_EBUSY;
	if (!ts->active)
		return 0;
	uint64_t before = ts->counters.records;
	if (ts->cfg->synthesize) {
		while (ts->next_prog < ts->count && prog_time(ts, ts->next_prog) <= now) {
			uint32_t j = ts->next_prog++;
			ts->counters.synthesized++;
			frame(ts, now, prog_time(ts, j), (int32_t)j, BL_EDGE_SYNTH);
		}
	} else {
		uint64_t wait = ts->cfg->tolerance + ts->cfg->latency;
		uint32_t j = ts->next_prog;
		while (j < ts->count && prog_time(ts, j) + wait < now)
			j++;
		missing_until(ts, now, j);
	}
	return (int)(ts->counters.records - before);
}

uint64_t bl_trigseq_next(const struct bl_trigseq *ts)
{
	if (!ts || !ts->active || ts->next_prog >= ts->count)
		return BL_TRIGSEQ_NEVER;
	uint64_t t = prog_time(ts, ts->next_prog);
	if (ts->cfg->synthesize)
		return t;
	return t + ts->cfg->tolerance + ts->cfg->latency + 1;
}

bool bl_trigseq_done(const struct bl_trigseq *ts)
{
	return !ts->active || ts->next_prog >= ts->count;
}

const struct bl_trigseq_counters *bl_trigseq_counters(const struct bl_trigseq *ts)
{
	return &ts->counters;
}

const char *bl_edge_kind_name(int kind)
{
	switch (kind) {
	case BL_EDGE_FRAME: return "frame";
	case BL_EDGE_MISSING: return "missing";
	case BL_EDGE_CUT: return "cut";
	default: return "?";
	}
}
