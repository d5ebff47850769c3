/* sim_clock.c: the sim port's virtual clock and the loop that drives the scheduler on it. */
#include "sim_clock.h"

#include <errno.h>

void bl_sim_clock_init(struct bl_sim_clock *c, uint64_t start)
{
	c->now = start;
}

uint64_t bl_sim_clock_now(const struct bl_sim_clock *c)
{
	return c->now;
}

int bl_sim_clock_advance(struct bl_sim_clock *c, uint64_t dt)
{
	if (dt > UINT64_MAX - c->now)
		return -EOVERFLOW;
	c->now += dt;
	return 0;
}

int bl_sim_clock_set(struct bl_sim_clock *c, uint64_t t)
{
	if (t < c->now)
		return -EINVAL;
	c->now = t;
	return 0;
}

int bl_sim_run_until(struct bl_sim_clock *c, struct bl_sched *s, uint64_t until,
		     bl_sched_exec_fn exec, void *ctx)
{
	if (until < c->now)
		return -EINVAL;
	int total = 0;
	for (;;) {
		/* Each pass takes at least one command off the queue, so this ends. */
		uint64_t next = bl_sched_next(s);
		if (next > until)
			break;
		if (next > c->now)
			c->now = next;
		int rc = bl_sched_run(s, c->now, exec, ctx);
		if (rc < 0)
			return rc;
		total += rc;
	}
	c->now = until;
	return total;
}
