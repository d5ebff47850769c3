/* fw_hal_print.c: the print cycle and trigger sequencer on Linux: HAL requests and timed actions
 * become worker jobs, the scheduler runs in the loop, edges are published with their latch. */
#include <errno.h>
#include <string.h>

#include "core/hal/bl_hal_print.h"
#include "port/linux/fw_app.h"

static struct bl_fw_app *app;

#define PRINT_SOURCE 0x7001u /* bl_cmd.source of the print FSM's timed commands */

/* ---- configuration ---- */

static struct bl_pfsm_range range(struct bl_range r)
{
	return (struct bl_pfsm_range){r.min, r.max};
}

int bl_fw_print_setup(struct bl_fw_app *a)
{
	app = a;
	const struct bl_hwdb_printer *hp = &a->db->printer;
	struct bl_pfsm_config *c = &a->pcfg;
	c->limits.flow_ul_min = range(hp->flow_ul_min);
	c->limits.coat_speed_mm_s = range(hp->coat_speed_mm_s);
	c->limits.web_speed_mm_s = range(hp->web_speed_mm_s);
	c->limits.temperature_c = range(hp->temperature_c);
	c->limits.gap_um = range(hp->gap_um);
	c->limits.coater_travel_mm = range(hp->coater_travel_mm);
	c->nheaters = (uint8_t)a->pr.nheaters;
	c->max_web_length_mm = a->opt.max_web_mm;
	c->max_prime_ul = a->opt.max_prime_ul;
	c->beam_offset_mm = a->opt.beam_offset_mm;
	/* after a print with "cool", and in a fault: the lowest allowed setpoint (heaters off) */
	c->cool_c = hp->temperature_c.min;
	c->heaters_off_on_fault = true;
	c->sched_source = PRINT_SOURCE;
	c->heat.tolerance_c = 1.0;
	c->heat.settle = 2u * BL_TICKS_PER_SEC;
	c->heat.poll = 250000u;
	c->heat.max = 900u * BL_TICKS_PER_SEC;
	c->start_lead = 500000u;
	c->end_margin = 500000u;
	c->timeout.heater = 5u * BL_TICKS_PER_SEC;
	c->timeout.home = 180u * BL_TICKS_PER_SEC;
	c->timeout.arm = c->timeout.disarm = 10u * BL_TICKS_PER_SEC;
	c->timeout.prime_extra = 15u * BL_TICKS_PER_SEC;
	/* Timed commands: at least 50 ms ahead (the dispatch lead plus a loop period or two),
	 * at most two hours ahead; one found 20 ms past its dispatch time is overdue. */
	struct bl_sched_limits lim = {.min_lead = BL_FW_DISPATCH_LEAD + 20000u,
				      .horizon = 7200ull * BL_TICKS_PER_SEC,
				      .tolerance = 20000u};
	int rc = bl_sched_init(&a->sched, a->sched_mem,
			       sizeof(a->sched_mem) / sizeof(a->sched_mem[0]), &lim);
	if (!rc)
		rc = bl_pfsm_init(&a->pfsm, c, &a->sched);
	/* Edges within 5 ms of their programmed time are on time (the box-host clock map is
	 * good to well under 1 ms); an edge is read back within 500 ms (the trigger worker reads
	 * the box while idle, every 20 ms, or after the job it is in). */
	a->tcfg = (struct bl_trigseq_config){.tolerance = 5000u, .latency = 500000u};
	if (!rc)
		rc = bl_trigseq_init(&a->ts, &a->tcfg);
	a->plast_state = -1;
	return rc;
}

/* ---- the loop's side ---- */

static uint64_t pnow(struct bl_fw_app *a)
{
	uint64_t t = bl_fw_now();
	if (t > a->pf_clock)
		a->pf_clock = t;
	return a->pf_clock;
}

static void publish_print_state(struct bl_fw_app *a)
{
	int s = bl_pfsm_state(&a->pfsm);
	unsigned h = bl_pfsm_hold(&a->pfsm);
	if (s == a->plast_state && h == a->plast_hold)
		return;
	a->plast_state = s;
	a->plast_hold = h;
	bl_fw_log(a, "print state %s", bl_pfsm_state_name(s));
	if (!a->net)
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "cycle", "print");
	cJSON_AddStringToObject(o, "state", bl_pfsm_state_name(s));
	cJSON_AddNumberToObject(o, "run", bl_pfsm_run(&a->pfsm)->id);
	cJSON_AddItemToObject(o, "hold", bl_fw_holds_json(h));
	bl_fw_net_publish(a->net, "state", o);
}

int bl_fw_pstep(struct bl_fw_app *a, const struct bl_pfsm_event *ev)
{
	int rc = bl_pfsm_step(&a->pfsm, pnow(a), ev);
	publish_print_state(a);
	return rc;
}

void bl_fw_print_interlock(struct bl_fw_app *a, int il, bool active)
{
	struct bl_pfsm_event ev = {.kind = BL_PFSM_EV_INTERLOCK, .interlock = il, .active = active};
	bl_fw_pstep(a, &ev);
}

/* The scheduler's executor: a timed action is handed over BL_FW_DISPATCH_LEAD early and
 * performed by its worker at `when`; the FSM records that time. */
static int exec_timed(void *ctx, const struct bl_cmd *cmd, uint64_t when, uint64_t now)
{
	struct bl_fw_app *a = ctx;
	(void)now;
	uint64_t t = pnow(a);
	if (when > t)
		t = a->pf_clock = when;
	a->exec_when = t;
	int rc = bl_pfsm_exec(&a->pfsm, cmd, when, t);
	a->exec_when = 0;
	publish_print_state(a);
	return rc;
}

void bl_fw_print_tick(struct bl_fw_app *a)
{
	uint64_t now = bl_fw_now();
	if (a->opt.agent_timeout_s > 0) {
		bool silent = now - a->heard_at > (uint64_t)(a->opt.agent_timeout_s * 1e6);
		if (silent != a->agent_silent) {
			a->agent_silent = silent;
			bl_fw_print_interlock(a, BL_PIL_AGENT, silent);
		}
	}
	if (bl_sched_next(&a->sched) <= now + BL_FW_DISPATCH_LEAD)
		bl_sched_run(&a->sched, now + BL_FW_DISPATCH_LEAD, exec_timed, a);
	if (bl_pfsm_next(&a->pfsm) <= pnow(a))
		bl_fw_pstep(a, NULL);
	if (bl_trigseq_next(&a->ts) <= now)
		bl_trigseq_step(&a->ts, now);
	if (a->ts_stop_at && now >= a->ts_stop_at) {
		a->ts_stop_at = 0;
		if (a->ts.active && a->ts.series == a->ts_stop_series)
			bl_trigseq_stop(&a->ts, now);
	}
}

void bl_fw_edge(struct bl_fw_app *a, uint64_t t)
{
	int rc = bl_trigseq_edge(&a->ts, bl_fw_now(), t);
	if (rc < 0)
		bl_fw_log(a, "trigger edge at %llu refused by the sequencer (%s)",
			  (unsigned long long)t,
			  rc == -BL_ENOENT ? "no series programmed" : "out of order");
}

void bl_fw_trigseq_train(struct bl_fw_app *a, uint32_t series, uint64_t start, uint64_t period,
			 uint32_t count)
{
	int rc = bl_trigseq_program_train(&a->ts, bl_fw_now(), series, start, period, count,
					  &a->sfsm, NULL);
	if (rc)
		bl_fw_log(a, "trigger sequencer: series %u not programmed (%d)", series, rc);
	a->ts_stop_at = 0;
}

/* A cut series closes once its last edges had time to come back (a stop is not instant). */
void bl_fw_trigseq_cut(struct bl_fw_app *a)
{
	if (!a->ts.active)
		return;
	a->ts_stop_series = a->ts.series;
	a->ts_stop_at = bl_fw_now() + a->tcfg.latency;
}

/* ---- HAL: requests ---- */

static int push(struct bl_fw_worker *w, struct bl_fw_job j)
{
	if (!app->pr.present && w != &app->det_w && w != &app->trig_w)
		return -ENODEV;
	j.owner = BL_FW_OWNER_PRINT;
	int rc = bl_fw_worker_push(w, &j);
	if (rc)
		bl_fw_log(app, "%s: print job %d refused: %s", w->name, j.op, strerror(-rc));
	return rc;
}

int bl_hal_print_heater_set(uint32_t req, uint8_t heater, double setpoint_c)
{
	return push(
	    &app->heat_w,
	    (struct bl_fw_job){.op = BL_FW_P_HEAT_SET, .req = req, .a = heater, .d0 = setpoint_c});
}

int bl_hal_print_heater_read(uint32_t req, uint8_t heater)
{
	return push(&app->heat_w,
		    (struct bl_fw_job){.op = BL_FW_P_HEAT_READ, .req = req, .a = heater});
}

int bl_hal_print_home(uint32_t req, int mode, double gap_um)
{
	return push(&app->motion_w,
		    (struct bl_fw_job){.op = BL_FW_P_HOME, .req = req, .a = mode, .d0 = gap_um});
}

int bl_hal_print_prime(uint32_t req, double rate_ul_min, double volume_ul)
{
	return push(&app->pump_w,
		    (struct bl_fw_job){
			.op = BL_FW_P_PRIME, .req = req, .d0 = rate_ul_min, .d1 = volume_ul});
}

int bl_hal_print_detector_arm(uint32_t req, uint32_t frames, uint64_t count_time)
{
	return push(&app->det_w, (struct bl_fw_job){
				     .op = BL_FW_J_ARM, .req = req, .n = frames, .t0 = count_time});
}

int bl_hal_print_detector_disarm(uint32_t req)
{
	return push(&app->det_w, (struct bl_fw_job){.op = BL_FW_J_DISARM, .req = req});
}

/* ---- HAL: actions (timed from the executor, or "now" on a hold or abort) ---- */

/* When the action happens: its timed command's time, or now. A stop that is not timed cuts
 * whatever the worker still had queued for the print. */
static uint64_t action_time(struct bl_fw_worker *w, bool stop)
{
	if (app->exec_when)
		return app->exec_when;
	if (stop)
		bl_fw_worker_cancel(w);
	return 0;
}

int bl_hal_print_pump_run(double rate_ul_min)
{
	return push(&app->pump_w, (struct bl_fw_job){.op = BL_FW_P_PUMP_RUN,
						     .d0 = rate_ul_min,
						     .t0 = action_time(&app->pump_w, false)});
}

int bl_hal_print_pump_stop(void)
{
	return push(&app->pump_w, (struct bl_fw_job){.op = BL_FW_P_PUMP_STOP,
						     .t0 = action_time(&app->pump_w, true)});
}

int bl_hal_print_motion_start(int mode, double speed_mm_s)
{
	return push(&app->motion_w, (struct bl_fw_job){.op = BL_FW_P_MOTION_START,
						       .a = mode,
						       .d0 = speed_mm_s,
						       .t0 = action_time(&app->motion_w, false)});
}

int bl_hal_print_motion_stop(void)
{
	return push(&app->motion_w, (struct bl_fw_job){.op = BL_FW_P_MOTION_STOP,
						       .t0 = action_time(&app->motion_w, true)});
}

int bl_hal_print_trigger(uint32_t frame, uint64_t when)
{
	return push(&app->trig_w, (struct bl_fw_job){.op = BL_FW_J_PULSE,
						     .a = (int)bl_pfsm_run(&app->pfsm)->series,
						     .n = frame,
						     .t0 = when});
}

/* ---- HAL: sinks ---- */

void bl_hal_print_safe_state(int reason, int err, bool heaters_off)
{
	struct bl_fw_app *a = app;
	bl_fw_log(a, "PRINT SAFE STATE: reason %d (%s)%s", reason, strerror(-err),
		  heaters_off ? ", heaters off" : "");
	bl_fw_worker_cancel(&a->trig_w);
	bl_fw_worker_push(&a->trig_w, &(struct bl_fw_job){.op = BL_FW_J_STOP});
	bl_fw_worker_push(&a->det_w, &(struct bl_fw_job){.op = BL_FW_J_DISARM});
	if (a->pr.present) {
		bl_fw_worker_cancel(&a->pump_w);
		bl_fw_worker_cancel(&a->motion_w);
		bl_fw_worker_push(&a->pump_w, &(struct bl_fw_job){.op = BL_FW_P_PUMP_STOP});
		bl_fw_worker_push(&a->motion_w, &(struct bl_fw_job){.op = BL_FW_P_MOTION_STOP});
		if (heaters_off) {
			bl_fw_worker_cancel(&a->heat_w);
			bl_fw_worker_push(&a->heat_w, &(struct bl_fw_job){.op = BL_FW_P_HEAT_OFF,
									  .d0 = a->pcfg.cool_c});
		}
	}
	bl_fw_trigseq_cut(a);
	if (a->net) {
		const struct bl_pfsm_fault *f = bl_pfsm_fault(&a->pfsm);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "cycle", "print");
		cJSON_AddNumberToObject(o, "reason", reason);
		cJSON_AddNumberToObject(o, "err", err);
		cJSON_AddStringToObject(o, "error", strerror(-err));
		cJSON_AddBoolToObject(o, "heaters_off", heaters_off);
		cJSON_AddNumberToObject(o, "run", f->run);
		cJSON_AddNumberToObject(o, "frames", f->frames);
		cJSON_AddNumberToObject(o, "dev", f->dev);
		bl_fw_net_publish(a->net, "fault", o);
	}
}

static const char *pnote_name(int what)
{
	static const char *const n[] = {
	    "?",	   "refused",	 "heated",	   "primed",
	    "print_start", "print_done", "print_spoiled",  "print_aborted",
	    "suspend",	   "resume",	 "temp_excursion", "reset",
	    "stale_cmd"};
	return what > 0 && what <= BL_PNOTE_STALE_CMD ? n[what] : "?";
}

void bl_hal_print_note(int what, int64_t value)
{
	struct bl_fw_app *a = app;
	bl_fw_log(a, "print note %s %lld", pnote_name(what), (long long)value);
	/* The sequencer's programme: each print's frame times; a cut print closes its series. */
	if (what == BL_PNOTE_START) {
		int rc = bl_trigseq_program_print(&a->ts, bl_fw_now(), &a->pfsm, NULL);
		if (rc)
			bl_fw_log(a, "trigger sequencer: print not programmed (%d)", rc);
		a->ts_stop_at = 0;
	} else if (what == BL_PNOTE_SPOILED || what == BL_PNOTE_ABORTED) {
		bl_fw_trigseq_cut(a);
	}
	if (a->net) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "cycle", "print");
		cJSON_AddStringToObject(o, "what", pnote_name(what));
		if (what == BL_PNOTE_REFUSED)
			cJSON_AddStringToObject(o, "field", bl_pfsm_field_name((int)value));
		cJSON_AddNumberToObject(o, "value", (double)value);
		cJSON_AddNumberToObject(o, "run", bl_pfsm_run(&a->pfsm)->id);
		bl_fw_net_publish(a->net, "note", o);
	}
}

static cJSON *flags_json(unsigned f)
{
	static const char *const n[] = {"off_time", "shifted",	 "synth",
					"extra",    "no_sample", "no_print"};
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < 6; i++)
		if (f & (1u << i))
			cJSON_AddItemToArray(a, cJSON_CreateString(n[i]));
	return a;
}

/* One record of the sequencer: the "edge" event the agent joins with its frame. */
void bl_hal_trigseq_edge(const struct bl_edge_meta *m)
{
	struct bl_fw_app *a = app;
	if (!a->net)
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "series", m->series);
	cJSON_AddStringToObject(o, "kind", bl_edge_kind_name(m->kind));
	if (m->frame != BL_EDGE_NO_FRAME)
		cJSON_AddNumberToObject(o, "frame", m->frame);
	cJSON_AddNumberToObject(o, "prog", m->prog);
	cJSON_AddNumberToObject(o, "t", (double)m->t_edge);
	cJSON_AddNumberToObject(o, "t_prog", (double)m->t_prog);
	cJSON_AddNumberToObject(o, "dt", (double)m->dt);
	cJSON_AddItemToObject(o, "flags", flags_json(m->flags));
	if (m->has_sample) {
		cJSON *s = cJSON_AddObjectToObject(o, "sample");
		cJSON_AddNumberToObject(s, "sample", m->sample.sample);
		cJSON_AddNumberToObject(s, "puck", m->sample.puck);
		cJSON_AddNumberToObject(s, "slot", m->sample.slot);
		cJSON_AddStringToObject(s, "barcode", m->sample.barcode ? m->sample.barcode : "");
	}
	if (m->has_print) {
		const struct bl_pfsm_latch *p = &m->print;
		cJSON *x = cJSON_AddObjectToObject(o, "print");
		cJSON_AddNumberToObject(x, "run", p->run);
		cJSON_AddStringToObject(x, "label", p->label ? p->label : "");
		cJSON_AddStringToObject(x, "mode", p->mode == BL_PMODE_WEB ? "web" : "stage");
		cJSON_AddNumberToObject(x, "film_mm", p->film_mm);
		cJSON_AddNumberToObject(x, "axis_mm", p->axis_mm);
		cJSON_AddBoolToObject(x, "coated", p->coated);
		cJSON_AddNumberToObject(x, "since_coat_s",
					p->since_coat < 0 ? -1 : (double)p->since_coat / 1e6);
		cJSON_AddNumberToObject(x, "flow_ul_min", p->flow_ul_min);
		cJSON_AddNumberToObject(x, "speed_mm_s", p->speed_mm_s);
		cJSON *tc = cJSON_AddArrayToObject(x, "temp_c");
		cJSON *ta = cJSON_AddArrayToObject(x, "temp_at");
		for (int i = 0; i < p->nheaters; i++) {
			cJSON_AddItemToArray(tc, cJSON_CreateNumber(p->temp_c[i]));
			cJSON_AddItemToArray(ta, cJSON_CreateNumber((double)p->temp_at[i]));
		}
	}
	if (!m->has_sample && !m->has_print)
		cJSON_AddBoolToObject(o, "untagged", true);
	bl_fw_net_publish(a->net, "edge", o);
}
