/* test_fw_sched_golden.c: a scripted print cycle through the scheduler vs. a golden trace. */
/*
 * usage: test_fw_sched_golden GOLDEN
 *   Plays the script and compares its log byte for byte with GOLDEN
 *   (tests/fw/golden/sched_trace.txt).
 * usage: test_fw_sched_golden --write-golden GOLDEN
 *   Regenerates GOLDEN after a deliberate behaviour change (read the diff before committing
 *   it). From the build dir: tests/fw/test_fw_sched_golden --write-golden
 *   ../tests/fw/golden/sched_trace.txt
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "golden.h"
#include "core/sched.h"
#include "port/sim/sim_clock.h"
#include "port/sim/sim_hal.h"

/* A scripted session: what the agent sends when, how the port behaves, what is logged. */
enum step_op {
	ST_ADD,	   /* at clock now: add cmd (id, type, source) for `when` */
	ST_CANCEL, /* cancel id */
	ST_FLUSH,  /* flush source */
	ST_RUN,	   /* punctual port: run everything due up to `when`, jumping the clock */
	ST_STALL,  /* late port: the clock moves to `when` without running */
	ST_END
};

struct step {
	enum step_op op;
	uint64_t when;
	uint32_t id;
	uint16_t type;
	uint16_t source;
};

/* Command types of the script, named in the trace. */
enum { T_HEAT = 1, T_PUMP, T_STAGE, T_TRIG, T_STOP, T_BROKEN };

static const char *type_name(uint16_t type)
{
	static const char *const names[] = {"?", "heat", "pump", "stage", "trig", "stop", "broken"};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

#define ADD(when_, id_, type_, src_)                                                               \
	{                                                                                          \
		.op = ST_ADD, .when = (when_), .id = (id_), .type = (type_), .source = (src_)      \
	}
#define CANCEL(id_)                                                                                \
	{                                                                                          \
		.op = ST_CANCEL, .id = (id_)                                                       \
	}
#define FLUSH(src_)                                                                                \
	{                                                                                          \
		.op = ST_FLUSH, .source = (src_)                                                   \
	}
#define RUN(until_)                                                                                \
	{                                                                                          \
		.op = ST_RUN, .when = (until_)                                                     \
	}
#define STALL(until_)                                                                              \
	{                                                                                          \
		.op = ST_STALL, .when = (until_)                                                   \
	}

static const struct step script[] = {
    /* t=0: agent 1 programs a print cycle: heat, prime, start stage, 4 triggers, stop. */
    ADD(10000, 1, T_HEAT, 1),
    ADD(200000, 2, T_PUMP, 1),
    ADD(300000, 3, T_STAGE, 1),
    ADD(300000, 4, T_PUMP, 1), /* same time as the stage: after it */
    ADD(350000, 10, T_TRIG, 1),
    ADD(400000, 11, T_TRIG, 1),
    ADD(450000, 12, T_TRIG, 1),
    ADD(500000, 13, T_TRIG, 1),
    ADD(900000, 20, T_STOP, 1),
    /* bounds: inside the lead, in the past-equivalent, beyond the horizon, queue full */
    ADD(50, 30, T_TRIG, 1),
    ADD(2000001, 31, T_TRIG, 1),
    ADD(310000, 40, T_TRIG, 2), /* agent 2 */
    ADD(320000, 41, T_BROKEN, 2),
    ADD(330000, 42, T_TRIG, 2), /* capacity 11, 11 queued: full */
    ADD(340000, 43, T_TRIG, 2), /* full */
    RUN(250000),
    CANCEL(12),
    CANCEL(99),			/* not queued */
    ADD(254999, 44, T_TRIG, 2), /* room again, but one tick inside the lead */
    ADD(325000, 45, T_TRIG, 2),
    RUN(320000),		 /* stage, pump, agent 2's trig 40, broken 41 fails */
    FLUSH(2),			 /* agent 2 disconnects: 45 goes */
    STALL(400030),		 /* port late: 10 is 50030 late (overdue), 11 30 late (runs) */
    RUN(1000000),		 /* the rest on time */
    ADD(1000000, 50, T_STOP, 1), /* "now" is too late too */
    ADD(1200000, 51, T_STOP, 1),
    RUN(1500000),
    {.op = ST_END},
};

static void trace_printf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void trace_printf(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

struct trace {
	char buf[16384];
	size_t len;
};

static int exec_trace(void *ctx, const struct bl_cmd *cmd, uint64_t when, uint64_t now)
{
	struct trace *t = ctx;
	trace_printf(t->buf, sizeof(t->buf), &t->len,
		     "%8" PRIu64 " exec  id=%u %s src=%u due=%" PRIu64 "\n", now, cmd->id,
		     type_name(cmd->type), cmd->source, when);
	return cmd->type == T_BROKEN ? -EIO : 0;
}

static void fault_trace(void *ctx, const struct bl_fault *f)
{
	struct trace *t = ctx;
	trace_printf(t->buf, sizeof(t->buf), &t->len,
		     "%8" PRIu64 " fault %s id=%u %s src=%u due=%" PRIu64 " late_by=%" PRIu64
		     " err=%d\n",
		     f->now, f->code == BL_FAULT_SCHED_OVERDUE ? "overdue" : "failed", f->cmd_id,
		     type_name(f->cmd_type), f->source, f->when, f->late_by, f->err);
}

static const char *errname(int rc)
{
	switch (rc) {
	case 0: return "ok";
	case -ETIME: return "ETIME";
	case -E2BIG: return "E2BIG";
	case -ENOSPC: return "ENOSPC";
	case -ENOENT: return "ENOENT";
	default: return "?";
	}
}

/* Plays the script on a virtual clock into t. */
static void golden_run(struct trace *t)
{
	static const struct bl_sched_limits lim = {
	    .min_lead = 5000, .horizon = 2 * BL_TICKS_PER_SEC, .tolerance = 100};
	struct bl_sched s;
	struct bl_sched_entry st[11];
	struct bl_sim_clock clk;

	t->len = 0;
	t->buf[0] = '\0';
	bl_sim_hal_reset();
	bl_sim_hal_set_hook(fault_trace, t);
	bl_sim_clock_init(&clk, 0);
	CHECK_EQ_INT(bl_sched_init(&s, st, 11, &lim), 0);
	for (const struct step *p = script; p->op != ST_END; p++) {
		uint64_t now = bl_sim_clock_now(&clk);
		int rc;
		struct bl_cmd c = {.id = p->id, .type = p->type, .source = p->source};
		switch (p->op) {
		case ST_ADD:
			rc = bl_sched_add(&s, now, p->when, &c);
			trace_printf(t->buf, sizeof(t->buf), &t->len,
				     "%8" PRIu64 " add   id=%u %s src=%u at=%" PRIu64 " -> %s\n",
				     now, p->id, type_name(p->type), p->source, p->when,
				     errname(rc));
			break;
		case ST_CANCEL:
			rc = bl_sched_cancel(&s, p->id);
			trace_printf(t->buf, sizeof(t->buf), &t->len,
				     "%8" PRIu64 " cancel id=%u -> %d\n", now, p->id, rc);
			break;
		case ST_FLUSH:
			rc = bl_sched_flush(&s, p->source);
			trace_printf(t->buf, sizeof(t->buf), &t->len,
				     "%8" PRIu64 " flush src=%u -> %d\n", now, p->source, rc);
			break;
		case ST_RUN:
			rc = bl_sim_run_until(&clk, &s, p->when, exec_trace, t);
			CHECK(rc >= 0);
			break;
		case ST_STALL:
			CHECK_EQ_INT(bl_sim_clock_set(&clk, p->when), 0);
			trace_printf(t->buf, sizeof(t->buf), &t->len,
				     "%8" PRIu64 " stall (port late) until %" PRIu64 "\n", now,
				     p->when);
			break;
		case ST_END: break;
		}
	}
	const struct bl_sched_counters *k = bl_sched_counters(&s);
	trace_printf(t->buf, sizeof(t->buf), &t->len,
		     "counters added=%" PRIu64 " executed=%" PRIu64 " failed=%" PRIu64
		     " rejected_late=%" PRIu64 " rejected_horizon=%" PRIu64
		     " rejected_full=%" PRIu64 " overdue=%" PRIu64 " cancelled=%" PRIu64
		     " max_depth=%zu queued=%zu\n",
		     k->added, k->executed, k->failed, k->rejected_late, k->rejected_horizon,
		     k->rejected_full, k->overdue, k->cancelled, k->max_depth, bl_sched_count(&s));
	bl_sim_hal_reset();
}

static const char *run_trace(size_t *len)
{
	static struct trace t;
	golden_run(&t);
	*len = t.len;
	return t.buf;
}

int main(int argc, char **argv)
{
	return golden_main(argc, argv, run_trace);
}
