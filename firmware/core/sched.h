/* sched.h: the controller's queue of timed commands (do C at controller time T, like Klipper). */
#ifndef BL_SCHED_H
#define BL_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bl_errno.h"

/*
 * Controller time: ticks of the port's monotonic clock since the controller started, as a
 * uint64_t (no wrap in 500,000 years). One tick is one microsecond. The core never reads a clock:
 * every entry point is handed `now`.
 */
#define BL_TICKS_PER_SEC 1000000u

/* bl_sched_next() when the queue is empty. */
#define BL_SCHED_NEVER UINT64_MAX

/* A timed command. The scheduler only orders, bounds and hands it back; the executor decodes it. */
struct bl_cmd {
	uint32_t id;	 /* chosen by the sender; bl_sched_cancel() finds commands by it */
	uint16_t type;	 /* what to do; not interpreted by the scheduler */
	uint16_t source; /* who sent it (agent connection); bl_sched_flush() drops by it */
	union {
		int32_t i[4];
		uint32_t u[4];
		double d[2];
	} args;
};

/* The bounds, fixed at configuration (ticks). */
struct bl_sched_limits {
	uint64_t min_lead; /* add: `when` must be at least this far after `now` */
	uint64_t horizon;  /* add: `when` must be at most this far after `now` (> 0, >= min_lead) */
	uint64_t
	    tolerance; /* run: a command found more than this past due is overdue, not executed */
};

/* What the scheduler has done since bl_sched_init(). */
struct bl_sched_counters {
	uint64_t added;		   /* accepted by bl_sched_add() */
	uint64_t executed;	   /* handed to the executor (on time or within the tolerance) */
	uint64_t failed;	   /* of those, the executor returned an error */
	uint64_t rejected_late;	   /* add returned -BL_ETIME */
	uint64_t rejected_horizon; /* add returned -BL_E2BIG */
	uint64_t rejected_full;	   /* add returned -BL_ENOSPC */
	uint64_t overdue;   /* found past the tolerance by run: reported as a fault, dropped */
	uint64_t cancelled; /* removed by bl_sched_cancel() or bl_sched_flush() */
	size_t max_depth;   /* most commands queued at once */
};

/* One queue slot; the caller hands in an array of them (no allocation in the core). */
struct bl_sched_entry {
	uint64_t when;
	uint64_t seq; /* insertion order: equal times run first in, first out */
	struct bl_cmd cmd;
};

/* The scheduler: a binary min-heap on (when, seq) over the caller's storage. Fields are private. */
struct bl_sched {
	struct bl_sched_entry *heap;
	size_t capacity;
	size_t count;
	uint64_t next_seq;
	bool running;
	struct bl_sched_limits limits;
	struct bl_sched_counters counters;
};

/*
 * Executes one due command at `now` (it was due at `when`, now - when <= tolerance). Returns 0 or
 * a negative errno, which is reported as a BL_FAULT_CMD_FAILED fault. May add, cancel or flush
 * on the same scheduler; commands it adds run at the next bl_sched_run(), never in this one.
 */
typedef int (*bl_sched_exec_fn)(void *ctx, const struct bl_cmd *cmd, uint64_t when, uint64_t now);

/* Sets up `s` over `storage[capacity]` with `limits`. -BL_EINVAL for bad arguments. */
int bl_sched_init(struct bl_sched *s, struct bl_sched_entry *storage, size_t capacity,
		  const struct bl_sched_limits *limits);

/*
 * Queues `cmd` to execute at `when`, O(log n). Returns 0, or: -BL_ETIME when `when` is before
 * now + min_lead (too late: rejected, never executed late), -BL_E2BIG when after now + horizon,
 * -BL_ENOSPC when the queue is full, -BL_EINVAL for bad arguments. Checked in that order.
 */
int bl_sched_add(struct bl_sched *s, uint64_t now, uint64_t when, const struct bl_cmd *cmd);

/*
 * Takes every command due at `now` (when <= now) off the queue in time order, equal times in
 * insertion order. One at most `tolerance` past due goes to `exec`; one further past is overdue:
 * reported through bl_hal_fault() (BL_FAULT_SCHED_OVERDUE, -BL_ETIME, how late) and dropped.
 * Returns the number executed, -BL_EINVAL for bad arguments, -BL_EBUSY when re-entered.
 */
int bl_sched_run(struct bl_sched *s, uint64_t now, bl_sched_exec_fn exec, void *ctx);

/* The earliest queued time (the port sleeps until then), or BL_SCHED_NEVER when empty. */
uint64_t bl_sched_next(const struct bl_sched *s);

/* Removes every queued command with this id. Returns how many, -BL_ENOENT if none. O(n). */
int bl_sched_cancel(struct bl_sched *s, uint32_t id);

/* Removes every queued command from `source` (its agent went away). Returns how many. O(n). */
int bl_sched_flush(struct bl_sched *s, uint16_t source);

/* Commands queued now. */
size_t bl_sched_count(const struct bl_sched *s);

/* The counters (valid until the next call on `s`). */
const struct bl_sched_counters *bl_sched_counters(const struct bl_sched *s);

/* One line on what a return code of the scheduler means, for logs and error replies. */
const char *bl_sched_strerror(int err);

#endif
