/* fw_clocksync.c: estimate the controller clock from "clock" pings (method in fw_client.h). */
#include <errno.h>
#include <time.h>

#include "proto/fw_client.h"

static uint64_t monotonic_us(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void bl_fw_clocksync_init(struct bl_fw_clocksync *cs, const struct bl_fw_clocksync_config *cfg)
{
	*cs = (struct bl_fw_clocksync){0};
	if (cfg)
		cs->cfg = *cfg;
	if (cs->cfg.window < 1)
		cs->cfg.window = 8;
	if (cs->cfg.history < 1)
		cs->cfg.history = 32;
	if (cs->cfg.history > BL_FW_CLOCKSYNC_HISTORY_MAX)
		cs->cfg.history = BL_FW_CLOCKSYNC_HISTORY_MAX;
	if (!cs->cfg.local_now)
		cs->cfg.local_now = monotonic_us;
}

uint64_t bl_fw_clocksync_local_now(const struct bl_fw_clocksync *cs)
{
	return cs->cfg.local_now(cs->cfg.local_ctx);
}

/* Weighted least squares over the kept samples, centred on the newest one. */
static void refit(struct bl_fw_clocksync *cs)
{
	const struct bl_fw_clocksync_sample *newest =
	    &cs->hist[(cs->head + BL_FW_CLOCKSYNC_HISTORY_MAX - 1) % BL_FW_CLOCKSYNC_HISTORY_MAX];
	cs->ref_local = newest->local;
	cs->ref_ctrl = newest->ctrl;
	double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, min_rtt = -1;
	for (int i = 0; i < cs->nhist; i++) {
		const struct bl_fw_clocksync_sample *s = &cs->hist[i];
		double half = s->rtt / 2.0 < 1.0 ? 1.0 : s->rtt / 2.0; /* us; 1 us resolution */
		double w = 1.0 / (half * half);
		/* x: local time from the newest sample; y: controller - ref_ctrl - x, i.e. the
		 * offset's change; both small, so doubles keep every microsecond. */
		double x = (double)(int64_t)(s->local - cs->ref_local);
		double y = (double)(int64_t)(s->ctrl - cs->ref_ctrl) - x;
		sw += w;
		sx += w * x;
		sy += w * y;
		sxx += w * x * x;
		sxy += w * x * y;
		if (min_rtt < 0 || s->rtt < min_rtt)
			min_rtt = (double)s->rtt;
	}
	double mx = sx / sw, my = sy / sw;
	double vxx = sxx / sw - mx * mx, vxy = sxy / sw - mx * my;
	/* A slope needs a time span: below 1 ms^2 of spread (one sample, or all in one instant)
	 * only the offset is fitted. */
	cs->slope = cs->nhist >= 2 && vxx > 1e6 ? vxy / vxx : 0.0;
	cs->alpha = my - cs->slope * mx;
	cs->min_rtt = min_rtt;
	cs->fitted = true;
}

void bl_fw_clocksync_end_window(struct bl_fw_clocksync *cs)
{
	if (!cs->in_window)
		return;
	cs->hist[cs->head] = cs->best;
	cs->head = (cs->head + 1) % BL_FW_CLOCKSYNC_HISTORY_MAX;
	if (cs->nhist < BL_FW_CLOCKSYNC_HISTORY_MAX)
		cs->nhist++;
	cs->in_window = 0;
	/* Keep only the newest cfg.history windows: older ring entries are dropped from the fit
	 * by compacting the newest ones to the front. */
	if (cs->nhist > cs->cfg.history) {
		struct bl_fw_clocksync_sample keep[BL_FW_CLOCKSYNC_HISTORY_MAX];
		for (int i = 0; i < cs->cfg.history; i++)
			keep[i] = cs->hist[(cs->head + BL_FW_CLOCKSYNC_HISTORY_MAX -
					    cs->cfg.history + i) %
					   BL_FW_CLOCKSYNC_HISTORY_MAX];
		for (int i = 0; i < cs->cfg.history; i++)
			cs->hist[i] = keep[i];
		cs->nhist = cs->cfg.history;
		cs->head = cs->nhist % BL_FW_CLOCKSYNC_HISTORY_MAX;
	}
	refit(cs);
}

void bl_fw_clocksync_add(struct bl_fw_clocksync *cs, uint64_t t0, uint64_t ctrl, uint64_t t1)
{
	if (t1 < t0)
		return; /* a local clock that went back: not a monotonic clock, drop the sample */
	struct bl_fw_clocksync_sample s = {
	    .local = t0 + (t1 - t0) / 2, .ctrl = ctrl, .rtt = t1 - t0};
	if (!cs->in_window || s.rtt < cs->best.rtt)
		cs->best = s;
	cs->pings++;
	if (++cs->in_window >= cs->cfg.window)
		bl_fw_clocksync_end_window(cs);
}

int bl_fw_clocksync_ping(struct bl_fw_clocksync *cs, struct bl_fw_client *c, int timeout_ms)
{
	cJSON *res = NULL;
	uint64_t t0 = bl_fw_clocksync_local_now(cs);
	int rc = bl_fw_client_call(c, BL_FW_CMD_CLOCK, NULL, timeout_ms, &res);
	uint64_t t1 = bl_fw_clocksync_local_now(cs);
	if (rc) {
		cJSON_Delete(res);
		cs->failed_pings++;
		return rc;
	}
	const cJSON *clk = cJSON_GetObjectItemCaseSensitive(res, "clock");
	if (!cJSON_IsNumber(clk) || clk->valuedouble < 0) {
		cJSON_Delete(res);
		cs->failed_pings++;
		return -EPROTO;
	}
	uint64_t ctrl = (uint64_t)clk->valuedouble;
	cJSON_Delete(res);
	bl_fw_clocksync_add(cs, t0, ctrl, t1);
	return 0;
}

int bl_fw_clocksync_run(struct bl_fw_clocksync *cs, struct bl_fw_client *c, int windows,
			int interval_ms, int timeout_ms)
{
	for (int i = 0; i < windows * cs->cfg.window; i++) {
		if (i && interval_ms > 0) {
			struct timespec ts = {interval_ms / 1000,
					      (long)(interval_ms % 1000) * 1000000};
			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
		int rc = bl_fw_clocksync_ping(cs, c, timeout_ms);
		if (rc && rc != -ETIMEDOUT)
			return rc;
	}
	return 0;
}

int bl_fw_clocksync_estimate(const struct bl_fw_clocksync *cs, uint64_t local,
			     struct bl_fw_clock_estimate *est)
{
	if (!cs->fitted)
		return -EAGAIN;
	double x = (double)(int64_t)(local - cs->ref_local);
	est->offset_us =
	    (double)(int64_t)(cs->ref_ctrl - cs->ref_local) + cs->alpha + cs->slope * x;
	est->drift_ppm = cs->slope * 1e6;
	est->rtt_us = cs->min_rtt;
	est->uncertainty_us = cs->min_rtt / 2.0;
	est->windows = cs->nhist;
	return 0;
}

uint64_t bl_fw_clocksync_to_ctrl(const struct bl_fw_clocksync *cs, uint64_t local)
{
	if (!cs->fitted)
		return 0;
	double x = (double)(int64_t)(local - cs->ref_local);
	double d = cs->alpha + x * (1.0 + cs->slope);
	return cs->ref_ctrl + (uint64_t)(int64_t)(d < 0 ? d - 0.5 : d + 0.5);
}

uint64_t bl_fw_clocksync_to_local(const struct bl_fw_clocksync *cs, uint64_t ctrl)
{
	if (!cs->fitted)
		return 0;
	double u = (double)(int64_t)(ctrl - cs->ref_ctrl) - cs->alpha;
	double x = u / (1.0 + cs->slope);
	return cs->ref_local + (uint64_t)(int64_t)(x < 0 ? x - 0.5 : x + 0.5);
}
