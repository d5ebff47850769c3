/* fw_rt.h: the Linux port's controller clock, real-time set-up and absolute-deadline sleep. */
#ifndef BL_FW_RT_H
#define BL_FW_RT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Controller time is CLOCK_MONOTONIC in microseconds since bl_fw_clock_init() (1 tick = 1 µs,
 * as core/sched.h defines). CLOCK_MONOTONIC is never stepped by NTP, only slewed, so timed
 * commands keep their spacing.
 */
void bl_fw_clock_init(void);
uint64_t bl_fw_now(void);
/* CLOCK_MONOTONIC nanoseconds of controller tick t, and back (for the trigger box's clock map). */
uint64_t bl_fw_tick_to_mono_ns(uint64_t t);
uint64_t bl_fw_mono_ns_to_tick(uint64_t ns);
uint64_t bl_fw_mono_ns(void);

/* What bl_fw_rt_setup() obtained. */
struct bl_fw_rt {
	bool locked; /* mlockall(MCL_CURRENT | MCL_FUTURE) succeeded */
	bool fifo;   /* SCHED_FIFO at `prio` for the calling thread */
	int prio;
	char why[256]; /* the warning when either failed */
};

/* Locks memory and, when `fifo`, switches the calling thread to SCHED_FIFO priority `prio`.
 * Failure (no CAP_SYS_NICE / CAP_IPC_LOCK, RLIMIT_RTPRIO 0) is not an error: the loop runs at
 * normal priority and `why` says so; the caller logs it once. */
void bl_fw_rt_setup(struct bl_fw_rt *rt, bool fifo, int prio);

/* Sleeps until CLOCK_MONOTONIC reaches `deadline_ns` (clock_nanosleep TIMER_ABSTIME, restarted
 * after signals): no drift accumulates over periods. */
void bl_fw_sleep_until(uint64_t deadline_ns);

#endif
