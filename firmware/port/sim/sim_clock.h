/* sim_clock.h: the sim port's virtual clock: the test owns `now` and moves it; nothing sleeps. */
#ifndef BL_SIM_CLOCK_H
#define BL_SIM_CLOCK_H

#include <stdint.h>

#include "core/sched.h"

/* Controller time in ticks (BL_TICKS_PER_SEC), moved only by the calls below. */
struct bl_sim_clock {
	uint64_t now;
};

void bl_sim_clock_init(struct bl_sim_clock *c, uint64_t start);
uint64_t bl_sim_clock_now(const struct bl_sim_clock *c);

/* Moves the clock forward by dt ticks; -EOVERFLOW if that would wrap. */
int bl_sim_clock_advance(struct bl_sim_clock *c, uint64_t dt);

/* Moves the clock to t; -EINVAL if t is in the past (the clock is monotonic). */
int bl_sim_clock_set(struct bl_sim_clock *c, uint64_t t);

/*
 * Runs `s` as a punctual port's loop would up to `until`: instead of sleeping to the next due
 * time it jumps the clock there and calls bl_sched_run(); it ends with the clock at `until`.
 * A late port is simulated by moving the clock without this call. Returns the number of commands
 * executed, or a negative errno from the scheduler or the clock.
 */
int bl_sim_run_until(struct bl_sim_clock *c, struct bl_sched *s, uint64_t until,
		     bl_sched_exec_fn exec, void *ctx);

#endif
