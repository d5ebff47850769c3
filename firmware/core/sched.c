/* sched.c: timed-command queue: a binary min-heap on (when, insertion order) in caller storage. */
#include "sched.h"

#include "hal/bl_hal.h"

/*
 * No struct assignment or aggregate initializer here: compilers may turn those into memcpy /
 * memset calls (clang does at -O0), which a freestanding core cannot count on. The helpers below
 * copy field by field; tests/fw/check_freestanding.sh catches any call that slips in.
 */
_Static_assert(sizeof(((struct bl_cmd *)0)->args) == sizeof(((struct bl_cmd *)0)->args.u),
	       "bl_cmd args must be copyable through args.u");

static void cmd_copy(struct bl_cmd *dst, const struct bl_cmd *src)
{
	dst->id = src->id;
	dst->type = src->type;
	dst->source = src->source;
	dst->args.u[0] = src->args.u[0];
	dst->args.u[1] = src->args.u[1];
	dst->args.u[2] = src->args.u[2];
	dst->args.u[3] = src->args.u[3];
}

static void entry_copy(struct bl_sched_entry *dst, const struct bl_sched_entry *src)
{
	dst->when = src->when;
	dst->seq = src->seq;
	cmd_copy(&dst->cmd, &src->cmd);
}

/* True when a must run before b: earlier time, or the same time and queued first. */
static bool entry_before(const struct bl_sched_entry *a, const struct bl_sched_entry *b)
{
	return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

/* Moves the hole at i up until e fits there, then stores e. */
static void sift_up(struct bl_sched_entry *h, size_t i, const struct bl_sched_entry *e)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!entry_before(e, &h[parent]))
			break;
		entry_copy(&h[i], &h[parent]);
		i = parent;
	}
	entry_copy(&h[i], e);
}

/* Moves the hole at i down (heap of n) until e fits there, then stores e. */
static void sift_down(struct bl_sched_entry *h, size_t n, size_t i, const struct bl_sched_entry *e)
{
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= n)
			break;
		if (child + 1 < n && entry_before(&h[child + 1], &h[child]))
			child++;
		if (!entry_before(&h[child], e))
			break;
		entry_copy(&h[i], &h[child]);
		i = child;
	}
	entry_copy(&h[i], e);
}

/* Removes the earliest entry into *out. The queue must not be empty. */
static void heap_pop(struct bl_sched *s, struct bl_sched_entry *out)
{
	entry_copy(out, &s->heap[0]);
	s->count--;
	if (s->count > 0) {
		struct bl_sched_entry last;
		entry_copy(&last, &s->heap[s->count]);
		sift_down(s->heap, s->count, 0, &last);
	}
}

/* Keeps the entries for which drop() is false, restores the heap; returns how many it dropped. */
static int heap_remove_if(struct bl_sched *s, bool (*drop)(const struct bl_cmd *, uint32_t),
			  uint32_t key)
{
	size_t kept = 0;
	for (size_t i = 0; i < s->count; i++) {
		if (drop(&s->heap[i].cmd, key))
			continue;
		if (kept != i)
			entry_copy(&s->heap[kept], &s->heap[i]);
		kept++;
	}
	int removed = (int)(s->count - kept);
	s->count = kept;
	for (size_t i = kept / 2; i-- > 0;) {
		struct bl_sched_entry e;
		entry_copy(&e, &s->heap[i]);
		sift_down(s->heap, kept, i, &e);
	}
	s->counters.cancelled += (uint64_t)removed;
	return removed;
}

static bool match_id(const struct bl_cmd *cmd, uint32_t id)
{
	return cmd->id == id;
}

static bool match_source(const struct bl_cmd *cmd, uint32_t source)
{
	return cmd->source == source;
}

int bl_sched_init(struct bl_sched *s, struct bl_sched_entry *storage, size_t capacity,
		  const struct bl_sched_limits *limits)
{
	/* Counts come back as int (run, cancel, flush), so the capacity must fit one. */
	if (!s || !storage || capacity == 0 || capacity > INT32_MAX || !limits)
		return -BL_EINVAL;
	if (limits->horizon == 0 || limits->horizon < limits->min_lead)
		return -BL_EINVAL;
	s->heap = storage;
	s->capacity = capacity;
	s->count = 0;
	s->next_seq = 0;
	s->running = false;
	s->limits.min_lead = limits->min_lead;
	s->limits.horizon = limits->horizon;
	s->limits.tolerance = limits->tolerance;
	struct bl_sched_counters *k = &s->counters;
	k->added = k->executed = k->failed = 0;
	k->rejected_late = k->rejected_horizon = k->rejected_full = 0;
	k->overdue = k->cancelled = 0;
	k->max_depth = 0;
	return 0;
}

int bl_sched_add(struct bl_sched *s, uint64_t now, uint64_t when, const struct bl_cmd *cmd)
{
	if (!s || !s->heap || !cmd)
		return -BL_EINVAL;
	/* when - now is only computed once when >= now, so nothing can overflow. */
	if (when < now || when - now < s->limits.min_lead) {
		s->counters.rejected_late++;
		return -BL_ETIME;
	}
	if (when - now > s->limits.horizon) {
		s->counters.rejected_horizon++;
		return -BL_E2BIG;
	}
	if (s->count >= s->capacity) {
		s->counters.rejected_full++;
		return -BL_ENOSPC;
	}
	struct bl_sched_entry e;
	e.when = when;
	e.seq = s->next_seq++;
	cmd_copy(&e.cmd, cmd);
	sift_up(s->heap, s->count, &e);
	s->count++;
	s->counters.added++;
	if (s->count > s->counters.max_depth)
		s->counters.max_depth = s->count;
	return 0;
}

/* Hands a fault about entry e, found at now, to the port. */
static void report(int code, int err, const struct bl_sched_entry *e, uint64_t now)
{
	struct bl_fault f;
	f.code = code;
	f.err = err;
	f.now = now;
	f.when = e->when;
	f.late_by = now - e->when;
	f.cmd_id = e->cmd.id;
	f.cmd_type = e->cmd.type;
	f.source = e->cmd.source;
	bl_hal_fault(&f);
}

int bl_sched_run(struct bl_sched *s, uint64_t now, bl_sched_exec_fn exec, void *ctx)
{
	if (!s || !s->heap || !exec)
		return -BL_EINVAL;
	if (s->running)
		return -BL_EBUSY;
	s->running = true;
	/* Entries added by callbacks during this run have seq >= limit and wait for the next run.
	 */
	uint64_t seq_limit = s->next_seq;
	int executed = 0;
	while (s->count > 0 && s->heap[0].when <= now && s->heap[0].seq < seq_limit) {
		struct bl_sched_entry e;
		heap_pop(s, &e);
		if (now - e.when > s->limits.tolerance) {
			s->counters.overdue++;
			report(BL_FAULT_SCHED_OVERDUE, -BL_ETIME, &e, now);
			continue;
		}
		s->counters.executed++;
		executed++;
		int rc = exec(ctx, &e.cmd, e.when, now);
		if (rc < 0) {
			s->counters.failed++;
			report(BL_FAULT_CMD_FAILED, rc, &e, now);
		}
	}
	s->running = false;
	return executed;
}

uint64_t bl_sched_next(const struct bl_sched *s)
{
	if (!s || s->count == 0)
		return BL_SCHED_NEVER;
	return s->heap[0].when;
}

int bl_sched_cancel(struct bl_sched *s, uint32_t id)
{
	if (!s || !s->heap)
		return -BL_EINVAL;
	int removed = heap_remove_if(s, match_id, id);
	return removed ? removed : -BL_ENOENT;
}

int bl_sched_flush(struct bl_sched *s, uint16_t source)
{
	if (!s || !s->heap)
		return -BL_EINVAL;
	return heap_remove_if(s, match_source, source);
}

size_t bl_sched_count(const struct bl_sched *s)
{
	return s ? s->count : 0;
}

const struct bl_sched_counters *bl_sched_counters(const struct bl_sched *s)
{
	return &s->counters;
}

const char *bl_sched_strerror(int err)
{
	switch (err) {
	case 0: return "ok";
	case -BL_ETIME: return "too late: time already past or inside the minimum lead time";
	case -BL_E2BIG: return "too far ahead: time beyond the scheduling horizon";
	case -BL_ENOSPC: return "command queue full";
	case -BL_EINVAL: return "invalid argument";
	case -BL_ENOENT: return "no such command";
	case -BL_EBUSY: return "scheduler busy (run re-entered)";
	default: return "unknown error";
	}
}
