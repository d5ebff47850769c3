/* test_fw_print_live.c: beamloop-fw prints on the virtual beamline, commanded over CurveZMQ:
 * recipe limits, a stage print and a web print checked against the simulators' truth and the
 * trigger-edge metadata, pause/resume (spoiled print re-made), a drive fault (safe state, heaters
 * off) and kill -9 while coating (the restart stops pump and axis). */
#include <math.h>

#include "bl_hwdb.h"
#include "fw_live.h"
#include "vbl.h"

#define CMD_EP "tcp://127.0.0.1:5715"
#define EVT_EP "tcp://127.0.0.1:5716"

static struct live L;
static struct bl_vbl vbl;
static const char *const fw_extra[] = {"--beam-offset-mm", "10", NULL};

/* What the event stream said during one wait. */
#define MAX_EDGES 64
static cJSON *edges[MAX_EDGES];
static int nedges;
static int notes_spoiled, print_faults;

static void forget_events(void)
{
	for (int i = 0; i < nedges; i++)
		cJSON_Delete(edges[i]);
	nedges = 0;
	notes_spoiled = print_faults = 0;
}

static void take_event(struct bl_fw_event *ev)
{
	if (!ev->data)
		return;
	if (!strcmp(ev->topic, "edge") && nedges < MAX_EDGES) {
		edges[nedges++] = ev->data;
		ev->data = NULL;
	} else if (!strcmp(ev->topic, "note") &&
		   !strcmp(live_str(ev->data, "what"), "print_spoiled")) {
		notes_spoiled++;
	} else if (!strcmp(ev->topic, "fault") && !strcmp(live_str(ev->data, "cycle"), "print")) {
		print_faults++;
	}
}

static const cJSON *print_of(const cJSON *st)
{
	return cJSON_GetObjectItemCaseSensitive(st, "print");
}

static double counter(const cJSON *st, const char *k)
{
	return live_num(cJSON_GetObjectItemCaseSensitive(print_of(st), "counters"), k);
}

/*
 * Collects events until the print cycle is in `state` (and, when printed >= 0, has made that
 * many prints) or limit_s passes; returns the last status (caller frees) or NULL.
 */
static cJSON *wait_print(struct bl_fw_client *c, const char *state, int printed, int limit_s)
{
	for (int i = 0; i < limit_s * 20; i++) {
		struct bl_fw_event ev = {0};
		while (bl_fw_client_event(c, 0, &ev) == 0) {
			take_event(&ev);
			bl_fw_event_clear(&ev);
		}
		cJSON *st = NULL;
		if (live_call(c, "status", NULL, &st) == 0 &&
		    !strcmp(live_str(print_of(st), "state"), state) &&
		    (printed < 0 || counter(st, "printed") >= printed))
			return st;
		cJSON_Delete(st);
		if (bl_fw_client_event(c, 50, &ev) == 0)
			take_event(&ev);
		bl_fw_event_clear(&ev);
	}
	fprintf(stderr, "print state %s (printed %d) not reached in %d s\n", state, printed,
		limit_s);
	return NULL;
}

/* A register of a Modbus simulator, or the pump simulator's field, from its "show". */
static double sim_value(const char *dev, const char *key)
{
	char ans[1024], k[64];
	if (bl_vbl_ctl(&vbl, dev, "show", ans, sizeof(ans)))
		return NAN;
	snprintf(k, sizeof(k), " %s=", key);
	const char *p = strstr(ans, k);
	return p ? atof(p + strlen(k)) : NAN;
}

static char pump_state(void)
{
	char ans[512];
	if (bl_vbl_ctl(&vbl, "pump", "show", ans, sizeof(ans)))
		return '?';
	const char *p = strstr(ans, "state=");
	return p ? p[6] : '?';
}

static const char *recipe(char *buf, size_t cap, const char *label, const char *mode, double flow,
			  double speed, double length, const char *delays)
{
	snprintf(buf, cap,
		 "{\"label\": \"%s\", \"mode\": \"%s\", \"flow_ul_min\": %g, \"speed_mm_s\": %g, "
		 "\"gap_um\": 120, \"length_mm\": %g, \"setpoint_c\": [26, 28], "
		 "\"prime_rate_ul_min\": 120, \"prime_volume_ul\": 4, \"delays_s\": [%s], "
		 "\"count_time_s\": 0.05}",
		 label, mode, flow, speed, length, delays);
	return buf;
}

/* Every frame record of the last print: on time, numbered, with the printer state latched. */
static void check_edges(double film, const double *delay, const double *speed, const double *flow,
			int n)
{
	int frames = 0;
	for (int i = 0; i < nedges; i++) {
		const cJSON *e = edges[i];
		if (strcmp(live_str(e, "kind"), "frame"))
			continue;
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "print");
		CHECK(p != NULL);
		if (!p || frames >= n)
			break;
		CHECK_EQ_INT((int)live_num(e, "frame"), frames);
		CHECK_EQ_INT((int)live_num(e, "prog"), frames);
		CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(e, "flags")), 0);
		CHECK(fabs(live_num(e, "dt")) <= 5000);
		CHECK(fabs(live_num(p, "film_mm") - film) < 1e-6);
		CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "coated")));
		double since = live_num(p, "since_coat_s");
		if (fabs(since - delay[frames]) > 0.006)
			fprintf(stderr, "frame %d: %.4f s after coating, programmed %.4f\n", frames,
				since, delay[frames]);
		CHECK(fabs(since - delay[frames]) <= 0.006);
		CHECK(fabs(live_num(p, "speed_mm_s") - speed[frames]) < 1e-9);
		CHECK(fabs(live_num(p, "flow_ul_min") - flow[frames]) < 1e-9);
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(p, "temp_c");
		CHECK_EQ_INT(cJSON_GetArraySize(t), 2);
		CHECK(fabs(cJSON_GetArrayItem(t, 0)->valuedouble - 26) <= 1.5);
		CHECK(fabs(cJSON_GetArrayItem(t, 1)->valuedouble - 28) <= 1.5);
		frames++;
	}
	CHECK_EQ_INT(frames, n);
}

/* Waits for the print step "print" and `ms` more (the coating has started). */
static bool coating(struct bl_fw_client *ag, int ms)
{
	cJSON *st = wait_print(ag, "print", -1, 60);
	cJSON_Delete(st);
	live_sleep_ms(ms);
	return st != NULL;
}

int main(void)
{
	live_setup(&L, "fw-print", CMD_EP, EVT_EP);
	struct bl_hwdb *db;
	struct bl_hwdb_errors errs;
	CHECK_EQ_INT(bl_hwdb_load(L.s.hwdb, &db, &errs), 0);
	CHECK(bl_vbl_start(&vbl, db, BL_BINARY_DIR, 1.0) >= 5);
	/* The simulators run in real time: the device truth below is in real seconds. */
	char ans[256];
	CHECK_EQ_INT(live_fw_start(&L, fw_extra), 0);
	struct bl_fw_client *ag = live_client(&L, L.s.ag_pub, L.s.ag_sec);
	CHECK(ag != NULL);
	CHECK_EQ_INT(bl_fw_client_subscribe(ag, "edge"), 0);
	CHECK_EQ_INT(bl_fw_client_subscribe(ag, "note"), 0);
	CHECK_EQ_INT(bl_fw_client_subscribe(ag, "fault"), 0);
	cJSON *st = NULL, *r = NULL;
	CHECK_EQ_INT(live_call(ag, "status", NULL, &st), 0);
	CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(print_of(st), "present")));
	CHECK_STR(live_str(print_of(st), "state"), "idle");
	CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(print_of(st), "heaters")),
		     2);
	cJSON_Delete(st);
	live_sleep_ms(300); /* the subscriptions reach the controller */

	/* Recipes outside hwdb's printer limits are refused by the controller, naming the field
	 * and the limits; nothing moves. */
	char rb[1024];
	CHECK_EQ_INT(
	    live_call(ag, "print", recipe(rb, sizeof(rb), "x", "stage", 900, 20, 60, "0.1"), &r),
	    -ERANGE);
	CHECK(strstr(live_str(r, "message"), "flow") && strstr(live_str(r, "message"), "[1, 500]"));
	cJSON_Delete(r);
	char *sp = strstr(recipe(rb, sizeof(rb), "x", "stage", 60, 20, 60, "0.1"), "[26, 28]");
	memcpy(sp, "[26,200]", 8);
	CHECK_EQ_INT(live_call(ag, "print", rb, &r), -ERANGE);
	CHECK(strstr(live_str(r, "message"), "setpoint[1]") != NULL);
	cJSON_Delete(r);
	CHECK_EQ_INT(
	    live_call(ag, "print", recipe(rb, sizeof(rb), "x", "stage", 60, 90, 60, "0.1"), &r),
	    -ERANGE);
	CHECK(strstr(live_str(r, "message"), "[0.5, 50]") != NULL);
	cJSON_Delete(r);
	CHECK_EQ_INT(live_call(ag, "print", "{\"mode\": \"stage\", \"flow_ul_min\": 60}", &r),
		     -EINVAL);
	CHECK(strstr(live_str(r, "message"), "speed_mm_s") != NULL);
	cJSON_Delete(r);
	CHECK_EQ_INT(live_call(ag, "status", NULL, &st), 0);
	CHECK_EQ_INT((int)counter(st, "started"), 0);
	cJSON_Delete(st);

	/* A stage print: T = end of priming + 0.5 s; the head passes the beam (10 mm) at T + 0.5;
	 * frames 0.1, 0.4, 1.0 s later while it coats at 20 mm/s, the last after the stop (T+3). */
	double before = sim_value("pump", "infused_ul");
	forget_events();
	CHECK_EQ_INT(
	    live_call(ag, "print",
		      recipe(rb, sizeof(rb), "stage-A", "stage", 60, 20, 60, "0.1, 0.4, 1.0, 2.8"),
		      &r),
	    0);
	CHECK_EQ_INT((int)live_num(r, "started"), 1);
	cJSON_Delete(r);
	/* the detector and trigger box are the print's now: no sample cycle meanwhile */
	CHECK_EQ_INT(live_call(ag, "queue", "{\"sample\": 0}", NULL), -EBUSY);
	st = wait_print(ag, "idle", 1, 90);
	CHECK(st != NULL);
	if (!st)
		return CHECK_DONE();
	cJSON_Delete(st);
	live_sleep_ms(600); /* the last edge records */
	cJSON_Delete(wait_print(ag, "idle", 1, 1));
	const double d_a[] = {0.1, 0.4, 1.0, 2.8}, v_a[] = {20, 20, 20, 0}, f_a[] = {60, 60, 60, 0};
	check_edges(10, d_a, v_a, f_a, 4);
	/* the simulators' truth: 60 mm coated, the gap set, 4 ul primed + 60 ul/min for 3 s */
	double pos = sim_value("coater", "position");
	if (fabs(pos - 60) > 3)
		fprintf(stderr, "coater at %.3f mm\n", pos);
	CHECK(fabs(pos - 60) <= 3);
	CHECK(fabs(sim_value("coater", "gap") - 120) < 1e-6);
	double dispensed = sim_value("pump", "infused_ul") - before;
	if (fabs(dispensed - 7) > 0.5)
		fprintf(stderr, "pump dispensed %.3f ul\n", dispensed);
	CHECK(fabs(dispensed - 7) <= 0.5);
	CHECK(pump_state() == 'S' || pump_state() == 'P');
	CHECK(fabs(sim_value("heater_bed", "target_sp") - 26) < 1e-6);
	CHECK(fabs(sim_value("heater_die", "target_sp") - 28) < 1e-6);

	/* A web print: the film reaches the beam 10 mm downstream, 0.5 s after it was coated;
	 * after the stop (40 mm) the beam watches the point 30 mm in, coated at T + 1.5 s. */
	forget_events();
	before = sim_value("web", "position");
	CHECK_EQ_INT(live_call(ag, "print",
			       recipe(rb, sizeof(rb), "web-B", "web", 60, 20, 40, "0.6, 1.2"),
			       NULL),
		     0);
	st = wait_print(ag, "idle", 2, 90);
	CHECK(st != NULL);
	cJSON_Delete(st);
	live_sleep_ms(600);
	cJSON_Delete(wait_print(ag, "idle", 2, 1));
	const double d_b[] = {0.6, 1.2}, v_b[] = {0, 0}, f_b[] = {0, 0};
	check_edges(30, d_b, v_b, f_b, 2);
	double web = sim_value("web", "position") - before;
	if (fabs(web - 40) > 3)
		fprintf(stderr, "web moved %.3f mm\n", web);
	CHECK(fabs(web - 40) <= 3);

	/* Pause while coating: pump and axis stop, the print is spoiled (its remaining frames
	 * cut); resume makes it again from the start. */
	forget_events();
	CHECK_EQ_INT(
	    live_call(ag, "print",
		      recipe(rb, sizeof(rb), "stage-C", "stage", 60, 20, 60, "0.1, 0.4, 1.0, 2.8"),
		      NULL),
	    0);
	CHECK(coating(ag, 1200));
	CHECK_EQ_INT(live_call(ag, "pause", NULL, NULL), 0);
	st = wait_print(ag, "held", -1, 30);
	CHECK(st != NULL);
	CHECK_EQ_INT((int)counter(st, "spoiled"), 1);
	cJSON_Delete(st);
	live_sleep_ms(500);
	CHECK_EQ_INT((int)sim_value("coater", "moving"), 0);
	CHECK(pump_state() == 'S' || pump_state() == 'P');
	double held_at = sim_value("pump", "infused_ul");
	live_sleep_ms(300);
	CHECK(fabs(sim_value("pump", "infused_ul") - held_at) < 1e-6);
	CHECK_EQ_INT(notes_spoiled, 1);
	CHECK_EQ_INT(live_call(ag, "resume", NULL, NULL), 0);
	st = wait_print(ag, "idle", 3, 90);
	CHECK(st != NULL);
	cJSON_Delete(st);
	live_sleep_ms(600);
	cJSON_Delete(wait_print(ag, "idle", 3, 1));
	int cut = 0, frames = 0;
	for (int i = 0; i < nedges; i++) {
		cut += !strcmp(live_str(edges[i], "kind"), "cut");
		frames += !strcmp(live_str(edges[i], "kind"), "frame");
	}
	CHECK_EQ_INT(cut, 1);		   /* the spoiled print's frames still to come */
	CHECK(frames >= 4 && frames <= 6); /* the re-made print's 4, plus the spoiled one's */

	/* A drive fault while coating: safe state (pump stopped, heaters to their lowest
	 * setpoint), a fault event; reset once the drive is cleared. */
	forget_events();
	CHECK_EQ_INT(
	    live_call(ag, "print",
		      recipe(rb, sizeof(rb), "stage-D", "stage", 60, 20, 60, "0.1, 0.4, 1.0, 2.8"),
		      NULL),
	    0);
	CHECK(coating(ag, 1200));
	CHECK_EQ_INT(bl_vbl_ctl(&vbl, "coater", "fault 7", ans, sizeof(ans)), 0);
	st = wait_print(ag, "fault", -1, 30);
	CHECK(st != NULL);
	cJSON_Delete(st);
	live_sleep_ms(500);
	cJSON_Delete(wait_print(ag, "fault", -1, 1));
	CHECK_EQ_INT(print_faults, 1);
	CHECK(pump_state() == 'S' || pump_state() == 'P');
	CHECK(fabs(sim_value("heater_bed", "target_sp") - 20) < 1e-6);
	CHECK(fabs(sim_value("heater_die", "target_sp") - 20) < 1e-6);
	CHECK_EQ_INT(
	    live_call(ag, "print", recipe(rb, sizeof(rb), "x", "stage", 60, 20, 60, "0.1"), NULL),
	    -EINVAL);
	CHECK_EQ_INT(bl_vbl_ctl(&vbl, "coater", "clear", ans, sizeof(ans)), 0);
	CHECK_EQ_INT(live_call(ag, "reset", "{\"cycle\": \"print\"}", NULL), 0);
	st = wait_print(ag, "idle", -1, 10);
	CHECK(st != NULL);
	cJSON_Delete(st);

	/* kill -9 while coating: the restarted controller stops pump and axis before anything. */
	CHECK_EQ_INT(live_call(ag, "print",
			       recipe(rb, sizeof(rb), "stage-E", "stage", 60, 20, 60, "0.1"), NULL),
		     0);
	CHECK(coating(ag, 1200));
	bl_fw_client_close(ag);
	CHECK(pump_state() == 'I');
	CHECK_EQ_INT((int)sim_value("coater", "moving"), 1);
	live_fw_stop(&L, SIGKILL);
	CHECK_EQ_INT(live_fw_start(&L, fw_extra), 0);
	CHECK(pump_state() == 'S' || pump_state() == 'P');
	live_sleep_ms(500);
	CHECK_EQ_INT((int)sim_value("coater", "moving"), 0);
	ag = live_client(&L, L.s.ag_pub, L.s.ag_sec);
	CHECK_EQ_INT(live_call(ag, "status", NULL, &st), 0);
	CHECK_STR(live_str(print_of(st), "state"), "idle");
	cJSON_Delete(st);
	bl_fw_client_close(ag);
	live_fw_stop(&L, SIGTERM);
	forget_events();
	bl_vbl_stop(&vbl);
	bl_hwdb_free(db);
	if (live_cleanup(&L))
		return 1;
	return CHECK_DONE();
}
