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

/*
 * Wake-up latency of a periodic loop, cyclictest's measure: how late the thread woke after
 * each absolute deadline. A 1 us histogram up to BL_FW_LAT_BINS us (later wake-ups go in the
 * last bin and into max), filled without allocation in the loop.
 */
#define BL_FW_LAT_BINS 20000
struct bl_fw_latency {
	uint64_t hist[BL_FW_LAT_BINS];
	uint64_t n, sum_ns, max_ns;
	uint64_t overruns; /* periods the loop's work ran past the next deadline */
	uint64_t since_ns; /* CLOCK_MONOTONIC of the last reset */
};

void bl_fw_latency_reset(struct bl_fw_latency *l);
void bl_fw_latency_add(struct bl_fw_latency *l, uint64_t late_ns);
/* The q-quantile (0..1) in microseconds (bin upper edge); 0 with no sample. */
double bl_fw_latency_quantile(const struct bl_fw_latency *l, double q);

#endif
