/* test_fw_sim_clock.c: the sim port's virtual clock and its scheduler loop: jumps, never sleeps. */
#include <errno.h>
#include <stdint.h>

#include "../check.h"
#include "core/sched.h"
#include "port/sim/sim_clock.h"
#include "port/sim/sim_hal.h"

struct seen {
	uint64_t when[16];
	uint64_t now[16];
	uint32_t id[16];
	size_t n;
	struct bl_sched *s;
	struct bl_sim_clock *clk;
};

static int exec_seen(void *ctx, const struct bl_cmd *cmd, uint64_t when, uint64_t now)
{
	struct seen *v = ctx;
	if (v->n < 16) {
		v->when[v->n] = when;
		v->now[v->n] = now;
		v->id[v->n] = cmd->id;
	}
	v->n++;
	/* A periodic command re-arms itself 1 ms later, as a state machine's tick would. */
	if (cmd->type == 2 && v->n < 8) {
		struct bl_cmd again = *cmd;
		again.id++;
		CHECK_EQ_INT(bl_sched_add(v->s, now, when + 1000, &again), 0);
	}
	return 0;
}

static void test_clock(void)
{
	struct bl_sim_clock c;
	bl_sim_clock_init(&c, 5);
	CHECK_EQ_INT(bl_sim_clock_now(&c), 5);
	CHECK_EQ_INT(bl_sim_clock_advance(&c, 10), 0);
	CHECK_EQ_INT(bl_sim_clock_now(&c), 15);
	CHECK_EQ_INT(bl_sim_clock_set(&c, 14), -EINVAL);
	CHECK_EQ_INT(bl_sim_clock_now(&c), 15);
	CHECK_EQ_INT(bl_sim_clock_set(&c, 15), 0);
	CHECK_EQ_INT(bl_sim_clock_set(&c, UINT64_MAX - 1), 0);
	CHECK_EQ_INT(bl_sim_clock_advance(&c, 2), -EOVERFLOW);
	CHECK_EQ_INT(bl_sim_clock_advance(&c, 1), 0);
	CHECK(bl_sim_clock_now(&c) == UINT64_MAX);
}

static void test_run_until(void)
{
	static const struct bl_sched_limits lim = {
	    .min_lead = 10, .horizon = 1000000, .tolerance = 0};
	struct bl_sched s;
	struct bl_sched_entry st[8];
	struct bl_sim_clock clk;
	struct seen v = {.s = &s, .clk = &clk};
	struct bl_cmd once = {.id = 100, .type = 1};
	struct bl_cmd tick = {.id = 1, .type = 2};

	bl_sim_hal_reset();
	bl_sim_clock_init(&clk, 1000);
	CHECK_EQ_INT(bl_sched_init(&s, st, 8, &lim), 0);
	CHECK_EQ_INT(bl_sched_add(&s, 1000, 2500, &once), 0);
	CHECK_EQ_INT(bl_sched_add(&s, 1000, 2000, &tick), 0);
	CHECK_EQ_INT(bl_sim_run_until(&clk, &s, 999, exec_seen, &v), -EINVAL);
	/* Ticks at 2000, 3000, ... re-arm themselves; `once` at 2500 lands between two. With a
	 * tolerance of 0 any late wake-up would be a fault: the loop must hit each time exactly. */
	CHECK_EQ_INT(bl_sim_run_until(&clk, &s, 5500, exec_seen, &v), 5);
	CHECK_EQ_INT(bl_sim_clock_now(&clk), 5500);
	static const uint64_t want_when[] = {2000, 2500, 3000, 4000, 5000};
	static const uint32_t want_id[] = {1, 100, 2, 3, 4};
	CHECK_EQ_INT(v.n, 5);
	for (size_t i = 0; i < 5 && i < v.n; i++) {
		CHECK_EQ_INT(v.when[i], want_when[i]);
		CHECK_EQ_INT(v.now[i], want_when[i]);
		CHECK_EQ_INT(v.id[i], want_id[i]);
	}
	CHECK_EQ_INT(bl_sim_hal_fault_count(), 0);
	CHECK_EQ_INT(bl_sched_next(&s), 6000);

	/* The port stalls past the next tick: the sim loop runs at once and the tick is overdue. */
	CHECK_EQ_INT(bl_sim_clock_set(&clk, 6001), 0);
	CHECK_EQ_INT(bl_sim_run_until(&clk, &s, 7000, exec_seen, &v), 0);
	CHECK_EQ_INT(bl_sim_hal_fault_count(), 1);
	const struct bl_fault *f = bl_sim_hal_fault(0);
	CHECK(f && f->code == BL_FAULT_SCHED_OVERDUE && f->late_by == 1 && f->cmd_id == 5);
	CHECK(bl_sched_next(&s) == BL_SCHED_NEVER); /* an overdue tick is not re-armed */
	CHECK_EQ_INT(bl_sim_clock_now(&clk), 7000);
	bl_sim_hal_reset();
}

int main(void)
{
	test_clock();
	test_run_until();
	return CHECK_DONE();
}
