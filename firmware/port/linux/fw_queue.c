/* fw_queue.c: mutex-guarded fixed rings between the loop and its device worker threads. */
#include "fw_queue.h"
#include "fw_rt.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

int bl_fw_inbox_init(struct bl_fw_inbox *ib)
{
	memset(ib, 0, sizeof(*ib));
	ib->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ib->wake_fd < 0)
		return -errno;
	return -pthread_mutex_init(&ib->mu, NULL);
}

void bl_fw_inbox_destroy(struct bl_fw_inbox *ib)
{
	pthread_mutex_destroy(&ib->mu);
	if (ib->wake_fd >= 0)
		close(ib->wake_fd);
	ib->wake_fd = -1;
}

int bl_fw_inbox_post(struct bl_fw_inbox *ib, const struct bl_fw_msg *m)
{
	int rc = 0;
	pthread_mutex_lock(&ib->mu);
	if (ib->len == BL_FW_INBOX_CAP) {
		ib->overflows++;
		rc = -ENOSPC;
	} else {
		ib->ring[(ib->head + ib->len) % BL_FW_INBOX_CAP] = *m;
		ib->len++;
	}
	pthread_mutex_unlock(&ib->mu);
	uint64_t one = 1;
	if (ib->wake_fd >= 0 && write(ib->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the loop is awake anyway */
	}
	return rc;
}

bool bl_fw_inbox_take(struct bl_fw_inbox *ib, struct bl_fw_msg *m)
{
	bool got = false;
	pthread_mutex_lock(&ib->mu);
	if (ib->len) {
		*m = ib->ring[ib->head];
		ib->head = (ib->head + 1) % BL_FW_INBOX_CAP;
		ib->len--;
		got = true;
	}
	pthread_mutex_unlock(&ib->mu);
	return got;
}

static void *worker_main(void *arg)
{
	struct bl_fw_worker *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->len && !w->stop) {
			if (!w->idle) {
				pthread_cond_wait(&w->cv, &w->mu);
				continue;
			}
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += (long)w->idle_ms * 1000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) == ETIMEDOUT && !w->len &&
			    !w->stop) {
				pthread_mutex_unlock(&w->mu);
				w->idle(w);
				pthread_mutex_lock(&w->mu);
			}
		}
		if (!w->len && w->stop)
			break;
		struct bl_fw_job job = w->ring[w->head];
		w->head = (w->head + 1) % BL_FW_JOBS_CAP;
		w->len--;
		pthread_mutex_unlock(&w->mu);
		w->cur_owner = job.owner;
		if (!bl_fw_job_cancelled(w, &job))
			w->run(w, &job);
		pthread_mutex_lock(&w->mu);
		w->jobs_done++;
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

int bl_fw_worker_start(struct bl_fw_worker *w, const char *name, bl_fw_job_fn run,
		       bl_fw_idle_fn idle, int idle_ms, void *ctx, struct bl_fw_inbox *inbox)
{
	memset(w, 0, sizeof(*w));
	w->name = name;
	w->run = run;
	w->idle = idle;
	w->idle_ms = idle_ms > 0 ? idle_ms : 100;
	w->ctx = ctx;
	w->inbox = inbox;
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&w->th, NULL, worker_main, w);
	if (rc)
		return -rc;
	w->started = true;
	return 0;
}

int bl_fw_worker_push(struct bl_fw_worker *w, const struct bl_fw_job *job)
{
	if (!w->started)
		return -ENODEV;
	int rc = 0;
	pthread_mutex_lock(&w->mu);
	if (w->len == BL_FW_JOBS_CAP || w->stop) {
		rc = w->stop ? -ENODEV : -ENOSPC;
	} else {
		struct bl_fw_job *slot = &w->ring[(w->head + w->len) % BL_FW_JOBS_CAP];
		*slot = *job;
		slot->epoch = atomic_load(&w->epoch);
		w->len++;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void bl_fw_worker_stop(struct bl_fw_worker *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->th, NULL);
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
	w->started = false;
}

void bl_fw_post_done(struct bl_fw_worker *w, uint32_t req, int rc, const char *text,
		     uint32_t series)
{
	struct bl_fw_msg m = {
	    .kind = BL_FW_MSG_DONE, .req = req, .rc = rc, .series = series, .owner = w->cur_owner};
	if (text)
		snprintf(m.text, sizeof(m.text), "%s", text);
	bl_fw_inbox_post(w->inbox, &m);
}

void bl_fw_post_log(struct bl_fw_worker *w, int rc, const char *fmt, ...)
{
	struct bl_fw_msg m = {.kind = BL_FW_MSG_LOG, .rc = rc};
	int n = snprintf(m.text, sizeof(m.text), "%s: ", w->name);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m.text + n, sizeof(m.text) - (size_t)n, fmt, ap);
	va_end(ap);
	bl_fw_inbox_post(w->inbox, &m);
}

void bl_fw_post_value(struct bl_fw_worker *w, uint32_t req, int rc, double value)
{
	struct bl_fw_msg m = {
	    .kind = BL_FW_MSG_DONE, .req = req, .rc = rc, .value = value, .owner = w->cur_owner};
	bl_fw_inbox_post(w->inbox, &m);
}

void bl_fw_post_alarm(struct bl_fw_worker *w, int owner, int dev, int rc)
{
	struct bl_fw_msg m = {
	    .kind = BL_FW_MSG_ALARM, .rc = rc, .series = (uint32_t)dev, .owner = owner};
	snprintf(m.text, sizeof(m.text), "%s", w->name);
	bl_fw_inbox_post(w->inbox, &m);
}

void bl_fw_worker_cancel(struct bl_fw_worker *w)
{
	atomic_fetch_add(&w->epoch, 1u);
}

bool bl_fw_job_cancelled(const struct bl_fw_worker *w, const struct bl_fw_job *job)
{
	return job->epoch != atomic_load(&w->epoch);
}

bool bl_fw_job_wait_until(const struct bl_fw_worker *w, const struct bl_fw_job *job, uint64_t when)
{
	for (;;) {
		if (bl_fw_job_cancelled(w, job))
			return false;
		uint64_t now = bl_fw_now();
		if (now >= when)
			return true;
		uint64_t step = when - now < 1000u ? when - now : 1000u;
		bl_fw_sleep_until(bl_fw_mono_ns() + step * 1000u);
	}
}
