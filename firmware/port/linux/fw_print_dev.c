/* fw_print_dev.c: beamloop-fw's printer workers: heaters, syringe pump and coating axis (stage
 * or web), each blocking only its own thread; device alarms polled while a print runs. */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "port/linux/fw_app.h"

static int64_t now_ms(void)
{
	return (int64_t)(bl_fw_mono_ns() / 1000000u);
}

static void sleep_ms(int ms)
{
	bl_fw_sleep_until(bl_fw_mono_ns() + (uint64_t)ms * 1000000u);
}

/* ---- heaters (Modbus: Eurotherm target_sp / pv) ---- */

static void heat_run(struct bl_fw_worker *w, const struct bl_fw_job *j)
{
	struct bl_fw_app *a = w->ctx;
	struct bl_fw_printer *p = &a->pr;
	double v = 0;
	int rc;
	switch (j->op) {
	case BL_FW_P_HEAT_SET:
		rc =
		    j->a < p->nheaters ? bl_mb_write(p->heater[j->a], "target_sp", j->d0) : -ENODEV;
		bl_fw_post_done(w, j->req, rc, NULL, 0);
		break;
	case BL_FW_P_HEAT_READ:
		rc = j->a < p->nheaters ? bl_mb_read(p->heater[j->a], "pv", &v) : -ENODEV;
		bl_fw_post_value(w, j->req, rc, v);
		break;
	case BL_FW_P_HEAT_OFF:
		for (int i = 0; i < p->nheaters; i++)
			if ((rc = bl_mb_write(p->heater[i], "target_sp", j->d0)) < 0)
				bl_fw_post_log(w, rc, "heater %d off: %s", i, bl_mb_strerror(rc));
		return;
	default: return;
	}
	if (rc < 0)
		bl_fw_post_log(w, rc, "heater %d: %s", j->a, bl_mb_strerror(rc));
}

/* ---- syringe pump (NE-1000: non-blocking driver, driven to completion here) ---- */

/* Waits for the event of `ticket` (a negative ticket is the queueing error). */
static int pump_wait(struct bl_pump *p, int ticket, int limit_ms)
{
	if (ticket < 0)
		return ticket;
	int64_t end = now_ms() + limit_ms;
	for (;;) {
		struct bl_pump_event ev;
		int rc = bl_pump_poll(p, (uint64_t)now_ms(), &ev);
		if (rc == 1 && ev.ticket == ticket)
			return ev.rc;
		if (rc == 1)
			continue; /* an earlier command's late answer */
		if (now_ms() > end)
			return -ETIMEDOUT;
		struct pollfd pf = {.fd = bl_pump_fd(p), .events = POLLIN};
		poll(&pf, pf.fd >= 0 ? 1 : 0, 5);
	}
}

#define PUMP_CMD_MS 3000 /* one command with the driver's retries */

static int pump_seq(struct bl_pump *p, double rate, double volume)
{
	int rc = pump_wait(p, bl_pump_set_direction(p, BL_PUMP_INFUSE), PUMP_CMD_MS);
	if (!rc)
		rc = pump_wait(p, bl_pump_set_rate(p, rate), PUMP_CMD_MS);
	if (!rc)
		rc = pump_wait(p, bl_pump_set_volume(p, volume), PUMP_CMD_MS);
	return rc;
}

/* STP pauses a running NE-1000, a second STP stops it (ends the phase). */
static int pump_halt(struct bl_pump *p)
{
	int rc = pump_wait(p, bl_pump_stop(p), PUMP_CMD_MS);
	if (!rc)
		rc = pump_wait(p, bl_pump_query(p), PUMP_CMD_MS);
	if (!rc && bl_pump_status(p)->state != BL_NE_STOPPED)
		rc = pump_wait(p, bl_pump_stop(p), PUMP_CMD_MS);
	if (!rc)
		rc = pump_wait(p, bl_pump_query(p), PUMP_CMD_MS);
	if (!rc && bl_pump_status(p)->state != BL_NE_STOPPED)
		rc = -EBUSY; /* still moving after two stops */
	return rc;
}

/* Prime: volume at rate, the pump ends the phase by itself; polled until stopped. */
static int pump_prime(struct bl_fw_worker *w, const struct bl_fw_job *j, struct bl_pump *p,
		      double *dispensed)
{
	int rc = pump_wait(p, bl_pump_clear_dispensed(p), PUMP_CMD_MS);
	if (!rc)
		rc = pump_seq(p, j->d0, j->d1);
	if (!rc)
		rc = pump_wait(p, bl_pump_run(p), PUMP_CMD_MS);
	if (rc)
		return rc;
	int64_t end = now_ms() + (int64_t)(j->d1 / j->d0 * 60000.0 * 2) + 10000;
	for (;;) {
		sleep_ms(50);
		if (bl_fw_job_cancelled(w, j))
			return -ECANCELED; /* a stop cut it: not answered */
		if ((rc = pump_wait(p, bl_pump_query(p), PUMP_CMD_MS)) < 0)
			return rc;
		const struct bl_pump_status *s = bl_pump_status(p);
		if (s->alarm)
			return -EIO;
		if (s->state == BL_NE_STOPPED) {
			*dispensed = s->infused_ul;
			return 0;
		}
		if (now_ms() > end)
			return -ETIMEDOUT;
	}
}

static void pump_run(struct bl_fw_worker *w, const struct bl_fw_job *j)
{
	struct bl_fw_app *a = w->ctx;
	struct bl_pump *p = a->pr.pump;
	double v = 0;
	int rc;
	switch (j->op) {
	case BL_FW_P_PRIME:
		rc = pump_prime(w, j, p, &v);
		if (rc == -ECANCELED)
			return;
		if (rc < 0)
			bl_fw_post_log(w, rc, "prime failed");
		bl_fw_post_value(w, j->req, rc, v);
		return;
	case BL_FW_P_PUMP_RUN:
		/* set-up ahead, RUN at its time */
		rc = pump_seq(p, j->d0, 0);
		if (!rc && !bl_fw_job_wait_until(w, j, j->t0))
			return;
		if (!rc)
			rc = pump_wait(p, bl_pump_run(p), PUMP_CMD_MS);
		a->pr.pumping = rc == 0;
		break;
	case BL_FW_P_PUMP_STOP:
		if (j->t0 && !bl_fw_job_wait_until(w, j, j->t0))
			return;
		a->pr.pumping = false;
		rc = pump_halt(p);
		break;
	default: return;
	}
	if (rc < 0) {
		bl_fw_post_log(w, rc, "pump %s failed", j->op == BL_FW_P_PUMP_RUN ? "run" : "stop");
		bl_fw_post_alarm(w, BL_FW_OWNER_PRINT, BL_PDEV_PUMP, rc);
	}
}

/* Idle: while the print pumps, a stalled motor or a power-loss alarm is an alarm event. */
static void pump_idle(struct bl_fw_worker *w)
{
	struct bl_fw_app *a = w->ctx;
	struct bl_pump *p = a->pr.pump;
	if (!a->pr.pumping)
		return;
	int rc = pump_wait(p, bl_pump_query(p), PUMP_CMD_MS);
	if (rc == 0 && bl_pump_status(p)->alarm)
		rc = -EIO;
	if (rc < 0 && a->pr.pumping) {
		a->pr.pumping = false;
		bl_fw_post_log(w, rc, "pump alarm while printing");
		bl_fw_post_alarm(w, BL_FW_OWNER_PRINT, BL_PDEV_PUMP, rc);
	}
}

/* ---- coating axis: coater stage (Modbus, mm) or web drive (Modbus, mm/s) ---- */

static struct bl_mb *axis_of(struct bl_fw_printer *p, int mode)
{
	return mode == BL_PMODE_STAGE ? p->coater : mode == BL_PMODE_WEB ? p->web : NULL;
}

/* Polls register `reg` until it reads `want` (within tol) or `ms` pass. */
static int mb_wait(struct bl_fw_worker *w, const struct bl_fw_job *j, struct bl_mb *m,
		   const char *reg, double want, double tol, int ms)
{
	int64_t end = now_ms() + ms;
	for (;;) {
		double v;
		int rc = bl_mb_read(m, reg, &v);
		if (rc < 0)
			return rc;
		if (fabs(v - want) <= tol)
			return 0;
		if (bl_fw_job_cancelled(w, j))
			return -ECANCELED;
		if (now_ms() > end)
			return -ETIMEDOUT;
		sleep_ms(20);
	}
}

static int axis_home(struct bl_fw_worker *w, const struct bl_fw_job *j, struct bl_fw_printer *p,
		     const struct bl_hwdb_printer *hp)
{
	struct bl_mb *m = axis_of(p, j->a);
	if (!m)
		return -ENODEV;
	int rc = 0;
	/* The slot die rides on the coater head in both modes: its gap is the coater's. */
	if (p->coater) {
		rc = bl_mb_write(p->coater, "enable", 1);
		if (!rc)
			rc = bl_mb_write(p->coater, "gap", j->d0);
	}
	if (rc)
		return rc;
	if (j->a == BL_PMODE_STAGE) {
		rc = bl_mb_write(m, "speed", hp->coat_speed_mm_s.max);
		if (!rc)
			rc = bl_mb_write(m, "target", 0);
		if (!rc)
			rc = bl_mb_write(m, "start_move", 1);
		if (!rc)
			rc = mb_wait(w, j, m, "moving", 0, 0, 120000);
		if (!rc)
			rc = mb_wait(w, j, m, "position", 0, 0.01, 1000);
	} else {
		rc = bl_mb_write(m, "run", 0);
		if (!rc)
			rc = mb_wait(w, j, m, "running", 0, 0, 60000);
	}
	return rc;
}

static void motion_run(struct bl_fw_worker *w, const struct bl_fw_job *j)
{
	struct bl_fw_app *a = w->ctx;
	struct bl_fw_printer *p = &a->pr;
	int rc, mode = p->motion_mode;
	struct bl_mb *m;
	switch (j->op) {
	case BL_FW_P_HOME:
		rc = axis_home(w, j, p, &a->db->printer);
		if (rc == -ECANCELED)
			return;
		if (rc < 0)
			bl_fw_post_log(w, rc, "home: %s", bl_mb_strerror(rc));
		bl_fw_post_done(w, j->req, rc, NULL, 0);
		return;
	case BL_FW_P_MOTION_START:
		if (!(m = axis_of(p, j->a))) {
			rc = -ENODEV;
			break;
		}
		/* speed (and the stage's far end) ahead, the start bit at its time */
		rc = j->a == BL_PMODE_STAGE ? bl_mb_write(m, "speed", j->d0)
					    : bl_mb_write(m, "speed_sp", j->d0);
		if (!rc && j->a == BL_PMODE_STAGE)
			rc = bl_mb_write(m, "target", p->travel_mm);
		if (!rc && !bl_fw_job_wait_until(w, j, j->t0))
			return;
		if (!rc)
			rc = j->a == BL_PMODE_STAGE ? bl_mb_write(m, "start_move", 1)
						    : bl_mb_write(m, "run", 1);
		p->motion_mode = rc == 0 ? j->a : 0;
		break;
	case BL_FW_P_MOTION_STOP:
		if (j->t0 && !bl_fw_job_wait_until(w, j, j->t0))
			return;
		p->motion_mode = 0;
		rc = 0;
		/* stop both axes when the mode is not known (safe state) */
		if (p->coater && mode != BL_PMODE_WEB)
			rc = bl_mb_write(p->coater, "stop", 1);
		if (p->web && mode != BL_PMODE_STAGE) {
			int r2 = bl_mb_write(p->web, "run", 0);
			rc = rc ? rc : r2;
		}
		break;
	default: return;
	}
	if (rc < 0) {
		bl_fw_post_log(w, rc, "motion: %s", bl_mb_strerror(rc));
		bl_fw_post_alarm(w, BL_FW_OWNER_PRINT, BL_PDEV_MOTION, rc);
	}
}

/* Idle: while the axis coats, a drive fault (or a drive gone silent) is an alarm event. */
static void motion_idle(struct bl_fw_worker *w)
{
	struct bl_fw_app *a = w->ctx;
	int mode = a->pr.motion_mode;
	struct bl_mb *m = axis_of(&a->pr, mode);
	if (!m)
		return;
	double f = 0;
	int rc = bl_mb_read(m, "fault", &f);
	if (rc == 0 && f != 0)
		rc = -EIO;
	if (rc < 0 && a->pr.motion_mode == mode) {
		a->pr.motion_mode = 0;
		bl_fw_post_log(w, rc, "%s drive fault while printing",
			       mode == BL_PMODE_STAGE ? "coater" : "web");
		bl_fw_post_alarm(w, BL_FW_OWNER_PRINT, BL_PDEV_MOTION, rc);
	}
}

/* ---- set-up ---- */

static int open_mb(struct bl_fw_app *a, const char *name, struct bl_mb **out)
{
	const struct bl_hwdb_device *d = bl_hwdb_device(a->db, name);
	int rc = d ? bl_mb_open(d, out) : -ENODEV;
	if (rc)
		bl_fw_log(a, "printer device %s: %s", name, strerror(-rc));
	return rc;
}

int bl_fw_printer_open(struct bl_fw_app *a)
{
	const struct bl_hwdb_printer *hp = &a->db->printer;
	struct bl_fw_printer *p = &a->pr;
	if (!hp->pump[0]) {
		bl_fw_log(a, "hwdb names no printer: print commands are refused");
		return 0;
	}
	int rc = 0;
	for (size_t i = 0; i < hp->nheaters && i < BL_PFSM_MAX_HEATERS && !rc; i++)
		if (!(rc = open_mb(a, hp->heaters[i], &p->heater[i])))
			p->nheaters++;
	if (!rc && hp->coater[0])
		rc = open_mb(a, hp->coater, &p->coater);
	if (!rc && hp->web[0])
		rc = open_mb(a, hp->web, &p->web);
	const struct bl_hwdb_device *d = bl_hwdb_device(a->db, hp->pump);
	if (!rc)
		rc = d ? bl_pump_new(d, hp, &p->pump) : -ENODEV;
	if (rc) {
		bl_fw_log(a, "printer: %s", strerror(-rc));
		return rc;
	}
	snprintf(p->pump_name, sizeof(p->pump_name), "%s", hp->pump);
	p->travel_mm = hp->coater_travel_mm.max;
	/* Start from the safe state whatever a previous run left: pump and axes stopped. The
	 * syringe diameter comes from hwdb (the pump's flow depends on it). */
	int r = 0;
	for (int i = 0; i < 3 && (r = pump_halt(p->pump)) < 0; i++)
		bl_fw_log(a, "pump %s: stop at start-up: %s%s", hp->pump, strerror(-r),
			  i < 2 ? ", again" : "");
	if (r == 0)
		bl_fw_log(a, "pump %s: stopped", hp->pump);
	/* the diameter only once it stands (a running NE-1000 refuses DIA) */
	r = pump_wait(p->pump, bl_pump_set_diameter(p->pump, hp->syringe_diameter_mm), 3000);
	if (r)
		bl_fw_log(a, "pump %s: diameter: %s", hp->pump, strerror(-r));
	if (p->coater)
		bl_mb_write(p->coater, "stop", 1);
	if (p->web)
		bl_mb_write(p->web, "run", 0);
	p->present = true;
	rc = bl_fw_worker_start(&a->heat_w, "heaters", heat_run, NULL, 0, a, &a->inbox);
	if (!rc)
		rc = bl_fw_worker_start(&a->pump_w, "pump", pump_run, pump_idle, 200, a, &a->inbox);
	if (!rc)
		rc = bl_fw_worker_start(&a->motion_w, "motion", motion_run, motion_idle, 100, a,
					&a->inbox);
	return rc;
}

void bl_fw_printer_close(struct bl_fw_app *a)
{
	struct bl_fw_printer *p = &a->pr;
	bl_fw_worker_stop(&a->heat_w);
	bl_fw_worker_stop(&a->pump_w);
	bl_fw_worker_stop(&a->motion_w);
	for (int i = 0; i < p->nheaters; i++)
		bl_mb_close(p->heater[i]);
	if (p->coater)
		bl_mb_close(p->coater);
	if (p->web)
		bl_mb_close(p->web);
	if (p->pump)
		bl_pump_free(p->pump);
	memset(p, 0, sizeof(*p));
}
