/* test_fw_sched.c: the timed-command scheduler: bounds, order, faults, and a reference model. */
/* usage: test_fw_sched [SEED]  (SEED changes the randomized model check's seeds; default 1) */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/sched.h"
#include "port/sim/sim_hal.h"

#define CAP_MAX 64

/* What the executor and the fault sink saw, in order. */
enum ev_kind { EV_EXEC = 1, EV_OVERDUE, EV_FAILED };

struct ev {
	enum ev_kind kind;
	uint32_t id;
	uint16_t source;
	uint64_t when;
	uint64_t now;
	uint16_t type;
	uint32_t args[4];
};

struct evlog {
	struct ev ev[4 * CAP_MAX];
	size_t n;
	int fail_type; /* commands of this type make the executor return -EIO (0: none) */
};

/* Logs an event about c; the executor sees the args, a fault only id, type and source. */
static void evlog_push(struct evlog *log, enum ev_kind kind, const struct bl_cmd *c, uint64_t when,
		       uint64_t now)
{
	if (log->n < sizeof(log->ev) / sizeof(log->ev[0])) {
		struct ev *e = &log->ev[log->n];
		*e = (struct ev){kind, c->id, c->source, when, now, c->type, {0}};
		if (kind == EV_EXEC)
			memcpy(e->args, c->args.u, sizeof(e->args));
	}
	log->n++;
}

static int exec_log(void *ctx, const struct bl_cmd *cmd, uint64_t when, uint64_t now)
{
	struct evlog *log = ctx;
	evlog_push(log, EV_EXEC, cmd, when, now);
	return log->fail_type && cmd->type == log->fail_type ? -EIO : 0;
}

static void fault_log(void *ctx, const struct bl_fault *f)
{
	struct bl_cmd c = {.id = f->cmd_id, .type = f->cmd_type, .source = f->source};
	evlog_push(ctx, f->code == BL_FAULT_SCHED_OVERDUE ? EV_OVERDUE : EV_FAILED, &c, f->when,
		   f->now);
}

static struct bl_cmd cmd_of(uint32_t id, uint16_t source)
{
	return (struct bl_cmd){.id = id, .type = 1, .source = source, .args.i = {(int32_t)id}};
}

static int add(struct bl_sched *s, uint64_t now, uint64_t when, uint32_t id, uint16_t source)
{
	struct bl_cmd c = cmd_of(id, source);
	return bl_sched_add(s, now, when, &c);
}

static const struct bl_sched_limits default_limits = {
    .min_lead = 100, .horizon = 10 * BL_TICKS_PER_SEC, .tolerance = 50};

/* A fresh scheduler with the fault sink writing into log. */
static void setup(struct bl_sched *s, struct bl_sched_entry *storage, size_t cap,
		  const struct bl_sched_limits *lim, struct evlog *log)
{
	memset(log, 0, sizeof(*log));
	bl_sim_hal_reset();
	bl_sim_hal_set_hook(fault_log, log);
	CHECK_EQ_INT(bl_sched_init(s, storage, cap, lim), 0);
}

static void test_errno_values(void)
{
	CHECK_EQ_INT(BL_ENOENT, ENOENT);
	CHECK_EQ_INT(BL_E2BIG, E2BIG);
	CHECK_EQ_INT(BL_EBUSY, EBUSY);
	CHECK_EQ_INT(BL_EINVAL, EINVAL);
	CHECK_EQ_INT(BL_ENOSPC, ENOSPC);
	CHECK_EQ_INT(BL_ETIME, ETIME);
}

static void test_init_and_args(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[4];
	struct bl_sched_limits lim = default_limits;
	struct bl_cmd c = cmd_of(1, 0);
	struct evlog log;

	CHECK_EQ_INT(bl_sched_init(NULL, st, 4, &lim), -EINVAL);
	CHECK_EQ_INT(bl_sched_init(&s, NULL, 4, &lim), -EINVAL);
	CHECK_EQ_INT(bl_sched_init(&s, st, 0, &lim), -EINVAL);
	CHECK_EQ_INT(bl_sched_init(&s, st, 4, NULL), -EINVAL);
	lim.horizon = 0;
	lim.min_lead = 0;
	CHECK_EQ_INT(bl_sched_init(&s, st, 4, &lim), -EINVAL);
	lim.horizon = 99;
	lim.min_lead = 100;
	CHECK_EQ_INT(bl_sched_init(&s, st, 4, &lim), -EINVAL);
	lim.horizon = 100; /* exactly one admissible time: now + 100 */
	CHECK_EQ_INT(bl_sched_init(&s, st, 4, &lim), 0);
	CHECK_EQ_INT(bl_sched_add(&s, 0, 99, &c), -ETIME);
	CHECK_EQ_INT(bl_sched_add(&s, 0, 101, &c), -E2BIG);
	CHECK_EQ_INT(bl_sched_add(&s, 0, 100, &c), 0);

	setup(&s, st, 4, &default_limits, &log);
	CHECK_EQ_INT(bl_sched_add(NULL, 0, 1000, &c), -EINVAL);
	CHECK_EQ_INT(bl_sched_add(&s, 0, 1000, NULL), -EINVAL);
	CHECK_EQ_INT(bl_sched_run(NULL, 0, exec_log, &log), -EINVAL);
	CHECK_EQ_INT(bl_sched_run(&s, 0, NULL, &log), -EINVAL);
	CHECK_EQ_INT(bl_sched_cancel(NULL, 1), -EINVAL);
	CHECK_EQ_INT(bl_sched_flush(NULL, 1), -EINVAL);
	CHECK(bl_sched_next(NULL) == BL_SCHED_NEVER);
	CHECK(bl_sched_next(&s) == BL_SCHED_NEVER);
	CHECK_EQ_INT(bl_sched_count(&s), 0);
	CHECK_EQ_INT(bl_sched_run(&s, 1000000, exec_log, &log), 0);
	CHECK_EQ_INT(log.n, 0);
	CHECK_EQ_INT(bl_sched_counters(&s)->added, 0);
}

/* Commands added out of order come out in time order, each when it is due and not before. */
static void test_ordering(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[16];
	struct evlog log;
	static const uint64_t whens[] = {900, 300, 700, 200, 1000, 500, 800, 400, 600};
	const size_t n = sizeof(whens) / sizeof(whens[0]);

	setup(&s, st, 16, &default_limits, &log);
	for (size_t i = 0; i < n; i++)
		CHECK_EQ_INT(add(&s, 0, whens[i], (uint32_t)i, 0), 0);
	CHECK_EQ_INT(bl_sched_count(&s), n);
	CHECK_EQ_INT(bl_sched_next(&s), 200);
	CHECK_EQ_INT(bl_sched_run(&s, 199, exec_log, &log), 0); /* nothing due yet */
	CHECK_EQ_INT(log.n, 0);
	CHECK_EQ_INT(bl_sched_run(&s, 200, exec_log, &log), 1);
	CHECK_EQ_INT(bl_sched_next(&s), 300);
	for (uint64_t t = 300; t <= 1000; t += 100)
		CHECK_EQ_INT(bl_sched_run(&s, t, exec_log, &log), 1);
	CHECK_EQ_INT(log.n, n);
	for (size_t i = 0; i < log.n; i++) {
		CHECK_EQ_INT(log.ev[i].kind, EV_EXEC);
		CHECK_EQ_INT(log.ev[i].when, 200 + 100 * i);
		CHECK_EQ_INT(log.ev[i].now, log.ev[i].when);
		CHECK_EQ_INT(whens[log.ev[i].id], log.ev[i].when);
	}
	CHECK(bl_sched_next(&s) == BL_SCHED_NEVER);
	CHECK_EQ_INT(bl_sched_counters(&s)->executed, n);
	CHECK_EQ_INT(bl_sched_counters(&s)->max_depth, n);
}

/* Equal times execute in insertion order, also when interleaved with other times and runs. */
static void test_stability(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[CAP_MAX];
	struct evlog log;

	setup(&s, st, CAP_MAX, &default_limits, &log);
	/* ids 0..39: odd ids at 3000, even ids at 5000, interleaved in the heap. */
	for (uint32_t id = 0; id < 40; id++)
		CHECK_EQ_INT(add(&s, 0, id % 2 ? 3000 : 5000, id, 0), 0);
	CHECK_EQ_INT(bl_sched_run(&s, 3000, exec_log, &log), 20);
	/* Added later for the same time: must come after every earlier one at 5000. */
	CHECK_EQ_INT(add(&s, 3000, 5000, 100, 0), 0);
	CHECK_EQ_INT(add(&s, 3000, 5000, 101, 0), 0);
	CHECK_EQ_INT(bl_sched_run(&s, 5000, exec_log, &log), 22);
	CHECK_EQ_INT(log.n, 42);
	for (size_t i = 0; i < 20; i++)
		CHECK_EQ_INT(log.ev[i].id, 2 * i + 1);
	for (size_t i = 0; i < 20; i++)
		CHECK_EQ_INT(log.ev[20 + i].id, 2 * i);
	CHECK_EQ_INT(log.ev[40].id, 100);
	CHECK_EQ_INT(log.ev[41].id, 101);
}

/* Too late is rejected with -ETIME and a reason; it never executes. */
static void test_too_late(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[8];
	struct evlog log;

	setup(&s, st, 8, &default_limits, &log);
	CHECK_EQ_INT(add(&s, 10000, 9999, 1, 0), -ETIME);  /* already past */
	CHECK_EQ_INT(add(&s, 10000, 0, 2, 0), -ETIME);	   /* long past */
	CHECK_EQ_INT(add(&s, 10000, 10000, 3, 0), -ETIME); /* now, but inside the lead */
	CHECK_EQ_INT(add(&s, 10000, 10099, 4, 0), -ETIME); /* one tick inside the lead */
	CHECK_EQ_INT(add(&s, 10000, 10100, 5, 0), 0);	   /* exactly the lead */
	CHECK_EQ_INT(add(&s, UINT64_MAX, 5, 6, 0), -ETIME);
	CHECK(strstr(bl_sched_strerror(-ETIME), "too late") != NULL);
	CHECK(strstr(bl_sched_strerror(-E2BIG), "horizon") != NULL);
	CHECK(strstr(bl_sched_strerror(-ENOSPC), "full") != NULL);
	CHECK_STR(bl_sched_strerror(12345), "unknown error");
	CHECK_EQ_INT(bl_sched_counters(&s)->rejected_late, 5);
	CHECK_EQ_INT(bl_sched_counters(&s)->added, 1);
	CHECK_EQ_INT(bl_sched_count(&s), 1);
	CHECK_EQ_INT(bl_sched_run(&s, 20000, exec_log, &log), 0); /* id 5 is overdue by 9900 */
	for (size_t i = 0; i < log.n; i++)
		CHECK(log.ev[i].kind != EV_EXEC);

	/* min_lead 0: "now" itself is still acceptable, the past is not. */
	struct bl_sched_limits lim = default_limits;
	lim.min_lead = 0;
	setup(&s, st, 8, &lim, &log);
	CHECK_EQ_INT(add(&s, 500, 500, 7, 0), 0);
	CHECK_EQ_INT(add(&s, 500, 499, 8, 0), -ETIME);
	CHECK_EQ_INT(bl_sched_run(&s, 500, exec_log, &log), 1);
	CHECK_EQ_INT(log.ev[0].id, 7);
}

static void test_horizon(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[8];
	struct evlog log;
	const uint64_t h = default_limits.horizon;

	setup(&s, st, 8, &default_limits, &log);
	CHECK_EQ_INT(add(&s, 777, 777 + h, 1, 0), 0);
	CHECK_EQ_INT(add(&s, 777, 777 + h + 1, 2, 0), -E2BIG);
	CHECK_EQ_INT(add(&s, 0, UINT64_MAX, 3, 0), -E2BIG);
	CHECK_EQ_INT(bl_sched_counters(&s)->rejected_horizon, 2);
	CHECK_EQ_INT(bl_sched_count(&s), 1);
	/* Near the top of the clock nothing wraps. */
	CHECK_EQ_INT(add(&s, UINT64_MAX - 200, UINT64_MAX, 4, 0), 0);
	CHECK_EQ_INT(add(&s, UINT64_MAX - 50, UINT64_MAX, 5, 0), -ETIME);
}

static void test_full(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[4];
	struct evlog log;

	setup(&s, st, 4, &default_limits, &log);
	for (uint32_t i = 0; i < 4; i++)
		CHECK_EQ_INT(add(&s, 0, 1000 + i, i, 0), 0);
	CHECK_EQ_INT(add(&s, 0, 500, 9, 0), -ENOSPC);
	CHECK_EQ_INT(add(&s, 0, 2000, 9, 0), -ENOSPC);
	/* Bounds are checked before fullness: the reason given is the most fundamental one. */
	CHECK_EQ_INT(add(&s, 0, 50, 9, 0), -ETIME);
	CHECK_EQ_INT(bl_sched_counters(&s)->rejected_full, 2);
	CHECK_EQ_INT(bl_sched_run(&s, 1001, exec_log, &log), 2);
	CHECK_EQ_INT(add(&s, 1001, 1500, 10, 0), 0);
	CHECK_EQ_INT(add(&s, 1001, 1600, 11, 0), 0);
	CHECK_EQ_INT(add(&s, 1001, 1700, 12, 0), -ENOSPC);
	CHECK_EQ_INT(bl_sched_count(&s), 4);
	CHECK_EQ_INT(bl_sched_counters(&s)->max_depth, 4);
}

static void test_cancel(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[16];
	struct evlog log;

	setup(&s, st, 16, &default_limits, &log);
	for (uint32_t i = 0; i < 10; i++)
		CHECK_EQ_INT(add(&s, 0, 1000 + 100 * (9 - i), i, 0), 0);
	CHECK_EQ_INT(add(&s, 0, 1050, 3, 1), 0); /* a second id 3 from another source */
	CHECK_EQ_INT(bl_sched_cancel(&s, 3), 2);
	CHECK_EQ_INT(bl_sched_cancel(&s, 3), -ENOENT);
	CHECK_EQ_INT(bl_sched_cancel(&s, 9), 1); /* the earliest: the heap's top */
	CHECK_EQ_INT(bl_sched_cancel(&s, 42), -ENOENT);
	CHECK_EQ_INT(bl_sched_count(&s), 8);
	CHECK_EQ_INT(bl_sched_counters(&s)->cancelled, 3);
	CHECK_EQ_INT(bl_sched_next(&s), 1100);
	CHECK_EQ_INT(bl_sched_run(&s, 1000, exec_log, &log), 0);
	for (uint64_t t = 1100; t <= 1900; t += 100)
		bl_sched_run(&s, t, exec_log, &log);
	CHECK_EQ_INT(log.n, 8);
	static const uint32_t order[] = {8, 7, 6, 5, 4, 2, 1, 0};
	for (size_t i = 0; i < 8 && i < log.n; i++)
		CHECK_EQ_INT(log.ev[i].id, order[i]);
}

/* An agent that disconnects leaves nothing behind; the others' commands keep their order. */
static void test_flush(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[32];
	struct evlog log;

	setup(&s, st, 32, &default_limits, &log);
	for (uint32_t i = 0; i < 30; i++)
		CHECK_EQ_INT(add(&s, 0, 1000 + (i % 7), i, (uint16_t)(i % 3)), 0);
	CHECK_EQ_INT(bl_sched_flush(&s, 1), 10);
	CHECK_EQ_INT(bl_sched_flush(&s, 1), 0);
	CHECK_EQ_INT(bl_sched_flush(&s, 7), 0);
	CHECK_EQ_INT(bl_sched_count(&s), 20);
	CHECK_EQ_INT(bl_sched_counters(&s)->cancelled, 10);
	CHECK_EQ_INT(bl_sched_run(&s, 1006, exec_log, &log), 20);
	CHECK_EQ_INT(log.n, 20);
	for (size_t i = 0; i < log.n; i++) {
		CHECK(log.ev[i].source != 1);
		if (i > 0) {
			CHECK(log.ev[i].when >= log.ev[i - 1].when);
			if (log.ev[i].when == log.ev[i - 1].when)
				CHECK(log.ev[i].id > log.ev[i - 1].id);
		}
	}
	CHECK_EQ_INT(bl_sched_flush(&s, 0), 0);
}

/* The port ran late: within the tolerance executes, beyond it is a fault and does not execute. */
static void test_overdue(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[8];
	struct evlog log;
	struct bl_cmd c = {.id = 7, .type = 3, .source = 2};

	setup(&s, st, 8, &default_limits, &log);
	CHECK_EQ_INT(add(&s, 0, 1000, 1, 0), 0);
	CHECK_EQ_INT(bl_sched_add(&s, 0, 2000, &c), 0);
	CHECK_EQ_INT(add(&s, 0, 2040, 8, 0), 0);
	CHECK_EQ_INT(bl_sched_run(&s, 1050, exec_log, &log), 1); /* exactly the tolerance: runs */
	CHECK_EQ_INT(log.n, 1);
	CHECK_EQ_INT(log.ev[0].kind, EV_EXEC);
	CHECK_EQ_INT(log.ev[0].now, 1050);
	CHECK_EQ_INT(log.ev[0].when, 1000);
	/* Port stalls until 2051: id 7 is 51 late (fault), id 8 only 11 (runs), in time order. */
	CHECK_EQ_INT(bl_sched_run(&s, 2051, exec_log, &log), 1);
	CHECK_EQ_INT(log.n, 3);
	CHECK_EQ_INT(log.ev[1].kind, EV_OVERDUE);
	CHECK_EQ_INT(log.ev[1].id, 7);
	CHECK_EQ_INT(log.ev[2].kind, EV_EXEC);
	CHECK_EQ_INT(log.ev[2].id, 8);
	CHECK_EQ_INT(bl_sim_hal_fault_count(), 1);
	const struct bl_fault *f = bl_sim_hal_fault(0);
	CHECK(f != NULL);
	if (f) {
		CHECK_EQ_INT(f->code, BL_FAULT_SCHED_OVERDUE);
		CHECK_EQ_INT(f->err, -ETIME);
		CHECK_EQ_INT(f->when, 2000);
		CHECK_EQ_INT(f->now, 2051);
		CHECK_EQ_INT(f->late_by, 51);
		CHECK_EQ_INT(f->cmd_id, 7);
		CHECK_EQ_INT(f->cmd_type, 3);
		CHECK_EQ_INT(f->source, 2);
	}
	CHECK(bl_sim_hal_fault(1) == NULL);
	const struct bl_sched_counters *k = bl_sched_counters(&s);
	CHECK_EQ_INT(k->overdue, 1);
	CHECK_EQ_INT(k->executed, 2);
	CHECK_EQ_INT(k->failed, 0);
	CHECK_EQ_INT(bl_sched_count(&s), 0);
}

/* An executor error is a fault too, with the executor's errno; the command counts as executed. */
static void test_exec_failure(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[8];
	struct evlog log;
	struct bl_cmd c = {.id = 5, .type = 9, .source = 1};

	setup(&s, st, 8, &default_limits, &log);
	log.fail_type = 9;
	CHECK_EQ_INT(bl_sched_add(&s, 0, 1000, &c), 0);
	CHECK_EQ_INT(add(&s, 0, 1000, 6, 1), 0);
	CHECK_EQ_INT(bl_sched_run(&s, 1010, exec_log, &log), 2);
	CHECK_EQ_INT(log.n, 3);
	CHECK_EQ_INT(log.ev[0].kind, EV_EXEC);
	CHECK_EQ_INT(log.ev[1].kind, EV_FAILED);
	CHECK_EQ_INT(log.ev[2].id, 6);
	const struct bl_fault *f = bl_sim_hal_fault(0);
	CHECK(f && f->code == BL_FAULT_CMD_FAILED && f->err == -EIO && f->late_by == 10);
	CHECK_EQ_INT(bl_sched_counters(&s)->failed, 1);
	CHECK_EQ_INT(bl_sched_counters(&s)->executed, 2);
}

/* Executors may add, cancel and flush; what they add waits for the next run; run can't nest. */
struct reentry {
	struct bl_sched *s;
	struct evlog log;
	int nested_rc;
};

static int exec_reenter(void *ctx, const struct bl_cmd *cmd, uint64_t when, uint64_t now)
{
	struct reentry *r = ctx;
	evlog_push(&r->log, EV_EXEC, cmd, when, now);
	if (cmd->id == 1) {
		r->nested_rc = bl_sched_run(r->s, now, exec_reenter, r);
		CHECK_EQ_INT(add(r->s, now, now, 10, 0), 0); /* due now, but only at the next run */
		CHECK_EQ_INT(bl_sched_cancel(r->s, 3), 1);   /* due in this run: must not execute */
		CHECK_EQ_INT(bl_sched_flush(r->s, 4), 1);
	}
	return 0;
}

static void test_reentry(void)
{
	struct bl_sched s;
	struct bl_sched_entry st[8];
	struct reentry r = {.s = &s};
	struct bl_sched_limits lim = default_limits;
	lim.min_lead = 0;

	setup(&s, st, 8, &lim, &r.log);
	CHECK_EQ_INT(add(&s, 0, 100, 1, 0), 0);
	CHECK_EQ_INT(add(&s, 0, 100, 2, 0), 0);
	CHECK_EQ_INT(add(&s, 0, 100, 3, 0), 0);
	CHECK_EQ_INT(add(&s, 0, 100, 4, 4), 0);
	CHECK_EQ_INT(bl_sched_run(&s, 100, exec_reenter, &r), 2);
	CHECK_EQ_INT(r.nested_rc, -EBUSY);
	CHECK_EQ_INT(r.log.n, 2);
	CHECK_EQ_INT(r.log.ev[0].id, 1);
	CHECK_EQ_INT(r.log.ev[1].id, 2);
	CHECK_EQ_INT(bl_sched_count(&s), 1);
	CHECK_EQ_INT(bl_sched_next(&s), 100);
	CHECK_EQ_INT(bl_sched_run(&s, 100, exec_reenter, &r), 1);
	CHECK_EQ_INT(r.log.ev[2].id, 10);
}

/* ---- randomized check against a sorted-array reference model ---- */

struct model {
	struct bl_sched_entry e[CAP_MAX]; /* sorted by when, then insertion; seq unused */
	size_t n, cap;
	struct bl_sched_limits lim;
	struct bl_sched_counters k;
	int fail_type;
};

static int model_add(struct model *m, uint64_t now, uint64_t when, const struct bl_cmd *c)
{
	if (when < now || when - now < m->lim.min_lead)
		return m->k.rejected_late++, -ETIME;
	if (when - now > m->lim.horizon)
		return m->k.rejected_horizon++, -E2BIG;
	if (m->n == m->cap)
		return m->k.rejected_full++, -ENOSPC;
	size_t pos = m->n;
	while (pos > 0 && m->e[pos - 1].when > when) {
		m->e[pos] = m->e[pos - 1];
		pos--;
	}
	m->e[pos] = (struct bl_sched_entry){.when = when, .cmd = *c};
	m->n++;
	m->k.added++;
	if (m->n > m->k.max_depth)
		m->k.max_depth = m->n;
	return 0;
}

static int model_run(struct model *m, uint64_t now, struct evlog *log)
{
	int executed = 0;
	size_t i = 0;
	for (; i < m->n && m->e[i].when <= now; i++) {
		const struct bl_sched_entry *e = &m->e[i];
		if (now - e->when > m->lim.tolerance) {
			m->k.overdue++;
			evlog_push(log, EV_OVERDUE, &e->cmd, e->when, now);
			continue;
		}
		m->k.executed++;
		executed++;
		evlog_push(log, EV_EXEC, &e->cmd, e->when, now);
		if (m->fail_type && e->cmd.type == m->fail_type) {
			m->k.failed++;
			evlog_push(log, EV_FAILED, &e->cmd, e->when, now);
		}
	}
	memmove(m->e, m->e + i, (m->n - i) * sizeof(m->e[0]));
	m->n -= i;
	return executed;
}

static int model_remove(struct model *m, bool by_id, uint32_t key)
{
	size_t kept = 0;
	for (size_t i = 0; i < m->n; i++) {
		bool drop = by_id ? m->e[i].cmd.id == key : m->e[i].cmd.source == key;
		if (!drop)
			m->e[kept++] = m->e[i];
	}
	int removed = (int)(m->n - kept);
	m->n = kept;
	m->k.cancelled += (uint64_t)removed;
	return removed;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic across platforms, so a failing seed reproduces. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static uint64_t rnd(uint64_t n)
{
	return rng() % n;
}

static bool counters_equal(const struct bl_sched_counters *a, const struct bl_sched_counters *b)
{
	return a->added == b->added && a->executed == b->executed && a->failed == b->failed &&
	       a->rejected_late == b->rejected_late && a->rejected_horizon == b->rejected_horizon &&
	       a->rejected_full == b->rejected_full && a->overdue == b->overdue &&
	       a->cancelled == b->cancelled && a->max_depth == b->max_depth;
}

static bool evlogs_equal(const struct evlog *a, const struct evlog *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct ev *x = &a->ev[i], *y = &b->ev[i];
		if (x->kind != y->kind || x->id != y->id || x->source != y->source ||
		    x->when != y->when || x->now != y->now || x->type != y->type ||
		    memcmp(x->args, y->args, sizeof(x->args)) != 0)
			return false;
	}
	return true;
}

/* Returns the number of operations done before the first mismatch (ops when none). */
static int random_against_model(uint64_t seed, size_t cap, int ops)
{
	struct bl_sched s;
	struct bl_sched_entry st[CAP_MAX];
	struct evlog got, want;
	struct model m = {.cap = cap, .lim = {.min_lead = 10, .horizon = 1000, .tolerance = 20}};
	rng_state = seed ? seed : 1;
	uint64_t now = rnd(1000);

	m.fail_type = 5;
	setup(&s, st, cap, &m.lim, &got);
	bl_sim_hal_set_hook(fault_log, &got);
	for (int op = 0; op < ops; op++) {
		int rc_got, rc_want;
		got.n = 0;
		got.fail_type = m.fail_type;
		want.n = 0;
		/* Phases of 500 ops alternate between mostly adding (the queue fills) and mostly
		 * running (it drains). */
		uint64_t add_pct = (op / 500) % 2 ? 85 : 35;
		uint64_t r = rnd(100);
		if (r < add_pct) {
			/* Times on a coarse grid make ties common; offsets straddle every bound. */
			uint64_t base = now - now % 5;
			uint64_t when = base + 5 * rnd(215);
			if (rnd(10) == 0)
				when = now > 30 ? now - rnd(30) : now;
			struct bl_cmd c = {.id = (uint32_t)rnd(48),
					   .type = (uint16_t)rnd(8),
					   .source = (uint16_t)rnd(4),
					   .args.u = {(uint32_t)op, (uint32_t)rng(),
						      (uint32_t)rng(), (uint32_t)rng()}};
			if (rnd(2))
				c.args.d[1] = (double)op / 7.0; /* doubles travel unchanged */
			rc_got = bl_sched_add(&s, now, when, &c);
			rc_want = model_add(&m, now, when, &c);
		} else if ((r = rnd(100)) < 65) {
			/* The port wakes up: mostly on time, sometimes late by more than the
			 * tolerance. */
			uint64_t next = bl_sched_next(&s);
			uint64_t to = next != BL_SCHED_NEVER && next > now && rnd(2) ? next : now;
			now = to + (rnd(4) == 0 ? rnd(100) : rnd(25));
			rc_got = bl_sched_run(&s, now, exec_log, &got);
			rc_want = model_run(&m, now, &want);
		} else if (r < 90) {
			uint32_t id = (uint32_t)rnd(48);
			rc_got = bl_sched_cancel(&s, id);
			rc_want = model_remove(&m, true, id);
			if (rc_want == 0)
				rc_want = -ENOENT;
		} else {
			uint16_t src = (uint16_t)rnd(5);
			rc_got = bl_sched_flush(&s, src);
			rc_want = model_remove(&m, false, src);
		}
		uint64_t next_want = m.n ? m.e[0].when : BL_SCHED_NEVER;
		if (rc_got != rc_want || !evlogs_equal(&got, &want) ||
		    !counters_equal(bl_sched_counters(&s), &m.k) || bl_sched_count(&s) != m.n ||
		    bl_sched_next(&s) != next_want) {
			fprintf(stderr,
				"random: seed %" PRIu64 " cap %zu: mismatch at op %d (r=%" PRIu64
				", now=%" PRIu64 "): rc %d vs %d, events %zu vs %zu, count %zu vs "
				"%zu\n",
				seed, cap, op, r, now, rc_got, rc_want, got.n, want.n,
				bl_sched_count(&s), m.n);
			return op;
		}
	}
	/* Every outcome must have happened, or the generator is not exploring the scheduler. */
	const struct bl_sched_counters *k = &m.k;
	if (!k->executed || !k->failed || !k->rejected_late || !k->rejected_horizon ||
	    !k->overdue || !k->cancelled || !k->rejected_full || k->max_depth != cap) {
		fprintf(stderr, "random: seed %" PRIu64 " cap %zu: an outcome never happened\n",
			seed, cap);
		return -1;
	}
	return ops;
}

static void test_random(uint64_t seed)
{
	static const size_t caps[] = {1, 2, 7, 32, CAP_MAX};
	for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		uint64_t sd = seed * 1000003u + i + 1;
		CHECK_EQ_INT(random_against_model(sd, caps[i], 10000), 10000);
	}
}

int main(int argc, char **argv)
{
	if (argc > 2) {
		fprintf(stderr, "usage: %s [SEED]\n", argv[0]);
		return 2;
	}
	uint64_t seed = argc == 2 ? strtoull(argv[1], NULL, 0) : 1;

	test_errno_values();
	test_init_and_args();
	test_ordering();
	test_stability();
	test_too_late();
	test_horizon();
	test_full();
	test_cancel();
	test_flush();
	test_overdue();
	test_exec_failure();
	test_reentry();
	test_random(seed);
	return CHECK_DONE();
}
