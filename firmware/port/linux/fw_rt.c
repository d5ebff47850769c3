/* fw_rt.c: controller clock on CLOCK_MONOTONIC, mlockall + SCHED_FIFO with fallback, and
 * absolute-deadline sleeping. */
#include "fw_rt.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static uint64_t epoch_ns;

uint64_t bl_fw_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bl_fw_clock_init(void)
{
	epoch_ns = bl_fw_mono_ns();
}

uint64_t bl_fw_now(void)
{
	return (bl_fw_mono_ns() - epoch_ns) / 1000u;
}

uint64_t bl_fw_tick_to_mono_ns(uint64_t t)
{
	return epoch_ns + t * 1000u;
}

uint64_t bl_fw_mono_ns_to_tick(uint64_t ns)
{
	return ns > epoch_ns ? (ns - epoch_ns) / 1000u : 0;
}

void bl_fw_rt_setup(struct bl_fw_rt *rt, bool fifo, int prio)
{
	memset(rt, 0, sizeof(*rt));
	rt->prio = prio;
	char a[80] = "", b[80] = "";
	if (mlockall(MCL_CURRENT | MCL_FUTURE) == 0)
		rt->locked = true;
	else
		snprintf(a, sizeof(a), "mlockall: %s", strerror(errno));
	if (fifo) {
		struct sched_param sp = {.sched_priority = prio};
		int rc = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
		if (rc == 0)
			rt->fifo = true;
		else
			snprintf(b, sizeof(b), "SCHED_FIFO %d: %s", prio, strerror(rc));
	}
	if (a[0] || b[0])
		snprintf(rt->why, sizeof(rt->why), "%s%s%s; running without real-time guarantees",
			 a, a[0] && b[0] ? ", " : "", b);
}

void bl_fw_sleep_until(uint64_t deadline_ns)
{
	struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000u),
			      .tv_nsec = (long)(deadline_ns % 1000000000u)};
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

void bl_fw_latency_reset(struct bl_fw_latency *l)
{
	memset(l, 0, sizeof(*l));
	l->since_ns = bl_fw_mono_ns();
}

void bl_fw_latency_add(struct bl_fw_latency *l, uint64_t late_ns)
{
	uint64_t us = late_ns / 1000u;
	l->hist[us < BL_FW_LAT_BINS ? us : BL_FW_LAT_BINS - 1]++;
	l->n++;
	l->sum_ns += late_ns;
	if (late_ns > l->max_ns)
		l->max_ns = late_ns;
}

double bl_fw_latency_quantile(const struct bl_fw_latency *l, double q)
{
	if (!l->n)
		return 0;
	uint64_t want = (uint64_t)(q * (double)l->n), seen = 0;
	if (want >= l->n)
		want = l->n - 1;
	for (int i = 0; i < BL_FW_LAT_BINS; i++) {
		seen += l->hist[i];
		if (seen > want)
			return i + 1;
	}
	return BL_FW_LAT_BINS;
}
