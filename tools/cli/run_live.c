/* run_live.c: the live part of `beamloop run`: drives every simulated device through its production
 * driver. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bl_barcode.h"
#include "bl_detector.h"
#include "bl_dstream.h"
#include "bl_mb.h"
#include "bl_pump.h"
#include "bl_tbox.h"
#include "cli.h"
#include "epson_robot.h"
#include "run_live.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool simulated(const struct bl_vbl *v, const char *name)
{
	for (size_t i = 0; i < v->n; i++)
		if (!strcmp(v->sims[i].dev->name, name))
			return v->sims[i].pid > 0;
	return false;
}

/* Reads the sample at the barcode station: the reader simulator is told which sample the robot
 * holds there (in the real hutch the label is simply in front of the reader). */
static int read_label(const struct bl_hwdb *db, const struct bl_vbl *v, int puck, int slot,
		      char code[BL_BARCODE_MAX])
{
	const struct bl_hwdb_device *d = bl_hwdb_device(db, db->barcode.device);
	if (!d || !simulated(v, d->name))
		return -ENODEV;
	char cmd[32], ans[64];
	snprintf(cmd, sizeof(cmd), "present %d %d", puck, slot);
	if (bl_vbl_ctl(v, d->name, cmd, ans, sizeof(ans)))
		return -EIO;
	struct bl_barcode *bc;
	int rc = bl_barcode_new(d, &db->barcode, &bc);
	if (rc)
		return rc;
	struct bl_barcode_result res;
	rc = bl_barcode_read_blocking(bc, &res);
	if (rc == 0 && res.status != BL_BC_OK)
		rc = -EBADMSG;
	if (rc == 0)
		snprintf(code, BL_BARCODE_MAX, "%s", res.code);
	bl_barcode_free(bc);
	bl_vbl_ctl(v, d->name, "present none", ans, sizeof(ans));
	return rc;
}

/* One sample through the changer: pick, read its label at the station, mount, return. */
static int sample_cycle(const struct bl_hwdb *db, const struct bl_vbl *v, int puck, int slot)
{
	struct bl_epson_config cfg;
	struct bl_epson *h = NULL;
	int rc = bl_epson_config_from_hwdb(&cfg, db, NULL);
	if (rc || (rc = bl_epson_open(&h, &cfg)))
		return rc;
	int lim = cfg.motion_ms * 8;
	const char *step = "connect";
	rc = bl_cli_epson_wait(h, bl_epson_connect(h, now_ms()),
			       cfg.connect_ms + cfg.command_ms * 3);
	if (!rc && (step = "motors on", 1))
		rc = bl_cli_epson_wait(h, bl_epson_motors(h, true, now_ms()), lim);
	if (!rc && (step = "safe", 1))
		rc = bl_cli_epson_wait(h, bl_epson_go_safe(h, now_ms()), lim);
	if (!rc && (step = "pick", 1))
		rc = bl_cli_epson_wait(h, bl_epson_pick(h, puck, slot, now_ms()), lim);
	if (!rc && (step = "barcode pose", 1))
		rc = bl_cli_epson_wait(h, bl_epson_go_barcode_pose(h, now_ms()), lim);
	char code[BL_BARCODE_MAX] = "";
	if (!rc && (step = "barcode read", 1))
		rc = read_label(db, v, puck, slot, code);
	if (!rc && (step = "safe", 1))
		rc = bl_cli_epson_wait(h, bl_epson_go_safe(h, now_ms()), lim);
	if (!rc && (step = "place on stage", 1))
		rc = bl_cli_epson_wait(h, bl_epson_place_on_stage(h, now_ms()), lim);
	if (!rc && (step = "return", 1))
		rc = bl_cli_epson_wait(h, bl_epson_return_to_slot(h, puck, slot, now_ms()), lim);
	if (rc)
		printf("  robot: %s failed: %s\n", step, bl_epson_result(h)->text);
	else
		printf(
		    "  robot: puck %d slot %d picked, label %s read at the station, mounted on the "
		    "stage, returned\n",
		    puck, slot, code);
	bl_epson_close(h);
	return rc;
}

static int pump_check(const struct bl_hwdb *db)
{
	const struct bl_hwdb_device *d = bl_hwdb_device(db, db->printer.pump);
	struct bl_pump *p;
	if (!d || bl_pump_new(d, &db->printer, &p))
		return -ENODEV;
	struct bl_pump_event ev;
	int rc = bl_cli_pump_wait(p, bl_pump_set_diameter(p, db->printer.syringe_diameter_mm), &ev);
	if (!rc)
		rc =
		    bl_cli_pump_wait(p, bl_pump_set_rate(p, db->printer.flow_ul_min.min * 10), &ev);
	if (!rc)
		rc = bl_cli_pump_wait(p, bl_pump_query(p), &ev);
	if (!rc)
		printf("  pump: %s syringe %.2f mm, rate %.1f uL/min, state %c\n", d->name,
		       bl_pump_status(p)->diameter_mm, bl_pump_status(p)->rate_ul_min,
		       bl_pump_status(p)->state);
	bl_pump_free(p);
	return rc;
}

/* Reads the register that best says how a Modbus device is doing. */
static int modbus_check(const struct bl_hwdb_device *d)
{
	static const char *const probe[] = {"pv", "position", "speed"};
	struct bl_mb *mb;
	if (bl_mb_open(d, &mb))
		return -ENODEV;
	int rc = -ENOENT;
	for (size_t i = 0; i < 3 && rc == -ENOENT; i++) {
		double v;
		rc = bl_mb_read(mb, probe[i], &v);
		if (!rc)
			printf("  %s: %s = %.3g %s\n", d->name, probe[i], v,
			       bl_mb_reg(mb, probe[i])->unit);
		else if (rc != -ENOENT)
			printf("  %s: %s: %s\n", d->name, probe[i], bl_mb_strerror(rc));
	}
	bl_mb_close(mb);
	return rc;
}

/* A short train on the detector channel at a controller time; every edge read back on time. */
static int trigger_check(const struct bl_hwdb *db)
{
	const struct bl_hwdb_device *d = bl_hwdb_device(db, db->trigger.device);
	struct bl_tbox *b;
	if (!d || bl_tbox_open(d, &b))
		return -ENODEV;
	int rc = 0;
	for (int i = 0; i < 4 && !rc; i++)
		rc = bl_tbox_sync(b);
	struct bl_tbox_train t = {
	    .channel = (uint8_t)db->trigger.detector_channel,
	    .start_tick = bl_tbox_host_to_tick(b, (uint64_t)now_ms() * 1000000u + 100000000u),
	    .period_ticks = 100000, /* 1 ms */
	    .width_ticks = (uint32_t)(db->trigger.width_us * 100),
	    .count = 5};
	if (!rc)
		rc = bl_tbox_arm(b, &t, NULL);
	struct bl_tbox_edge e[8];
	int n = 0;
	if (!rc) {
		poll(NULL, 0, 150);
		n = bl_tbox_edges(b, e, 8, NULL);
		rc = n < 0 ? n : 0;
	}
	int exact = 0;
	for (int i = 0; i < n; i++)
		exact += e[i].tick == t.start_tick + (uint64_t)e[i].index * t.period_ticks;
	if (!rc)
		printf(
		    "  %s: %d of %u pulses on channel %u, %d at their programmed tick (clock map "
		    "+-%llu ns)\n",
		    d->name, n, t.count, t.channel, exact,
		    (unsigned long long)bl_tbox_sync_error_ns(b));
	else
		printf("  %s: %s\n", d->name, strerror(-rc));
	bl_tbox_close(b);
	return rc ? rc : (n == (int)t.count && exact == n ? 0 : -EIO);
}

/* The data path: the detector armed for external triggers, the trigger box fires a train on the
 * detector channel, every frame arrives on the stream, decoded and hash-checked. */
static int detector_check(const struct bl_hwdb *db)
{
	const struct bl_hwdb_device *dd = bl_hwdb_device(db, db->detector.device);
	const struct bl_hwdb_device *td = bl_hwdb_device(db, db->trigger.device);
	struct bl_det *det = NULL;
	struct bl_dstream *ds = NULL;
	struct bl_tbox *tb = NULL;
	const unsigned pulses = 5;
	int rc = bl_det_new(dd, &det);
	if (!rc)
		rc = bl_dstream_new(&ds);
	if (!rc)
		rc = bl_dstream_connect(ds, dd->stream);
	if (!rc)
		rc = bl_tbox_open(td, &tb);
	if (!rc)
		rc = bl_det_set_string(det, "trigger_mode", "exts");
	if (!rc)
		rc = bl_det_set_number(det, "nimages", 1);
	if (!rc)
		rc = bl_det_set_number(det, "ntrigger", pulses);
	if (!rc)
		rc = bl_det_set_number(det, "count_time", 0.01);
	uint64_t series = 0;
	if (!rc)
		rc = bl_det_arm(det, &series);
	for (int i = 0; i < 4 && !rc; i++)
		rc = bl_tbox_sync(tb);
	struct bl_tbox_train t = {.channel = (uint8_t)db->trigger.detector_channel,
				  .period_ticks = 2000000, /* 20 ms */
				  .width_ticks = (uint32_t)(db->trigger.width_us * 100),
				  .count = pulses};
	if (!rc) {
		t.start_tick = bl_tbox_host_to_tick(tb, (uint64_t)now_ms() * 1000000u + 100000000u);
		rc = bl_tbox_arm(tb, &t, NULL);
	}
	unsigned frames = 0, checked = 0;
	struct bl_dstream_event ev = {0};
	int64_t end = now_ms() + 5000;
	while (!rc && frames < pulses && now_ms() < end) {
		int got = bl_dstream_poll(ds, 100, &ev);
		if (got < 0)
			rc = got;
		else if (got && ev.kind == BL_DS_FRAME && ev.series == series) {
			frames++;
			checked += ev.hash_checked;
		}
	}
	if (!rc)
		rc = bl_det_disarm(det);
	if (!rc)
		printf("  %s: series %llu armed for %u external triggers, %u frames of %dx%d %s %s "
		       "received, %u md5-checked, %llu rejected\n",
		       dd->name, (unsigned long long)series, pulses, frames, ev.width, ev.height,
		       bl_dtype_name(ev.type), bl_denc_name(ev.encoding), checked,
		       (unsigned long long)bl_dstream_counters(ds)->rejected);
	else
		printf("  %s: %s\n", dd->name,
		       det && bl_det_error(det)[0] ? bl_det_error(det) : strerror(-rc));
	bl_tbox_close(tb);
	bl_dstream_free(ds);
	bl_det_free(det);
	return rc ? rc : (frames == pulses && checked == pulses ? 0 : -EIO);
}

int bl_run_live(const struct bl_hwdb *db, const struct bl_vbl *v)
{
	int failures = 0;
	printf("\nlive check through the production drivers:\n");
	if (db->robot.device[0] && simulated(v, db->robot.device) && db->robot.npucks)
		failures += sample_cycle(db, v, db->robot.pucks[0].id, 1) != 0;
	if (db->printer.pump[0] && simulated(v, db->printer.pump))
		failures += pump_check(db) != 0;
	if (db->trigger.device[0] && simulated(v, db->trigger.device))
		failures += trigger_check(db) != 0;
	if (db->detector.device[0] && simulated(v, db->detector.device) && db->trigger.device[0] &&
	    simulated(v, db->trigger.device))
		failures += detector_check(db) != 0;
	for (size_t i = 0; i < db->ndevices; i++) {
		const struct bl_hwdb_device *d = &db->devices[i];
		if (d->model->protocol == BL_PROTO_MODBUS && simulated(v, d->name))
			failures += modbus_check(d) != 0;
	}
	return failures;
}
