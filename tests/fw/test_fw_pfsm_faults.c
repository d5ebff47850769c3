/* test_fw_pfsm_faults.c: print-cycle refusals, faults (heating timeout, pump alarm, refused
 * action, device silence, e-stop, overdue timed command) and holds (door, pause, agent, abort). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "core/print_fsm.h"
#include "core/trigseq.h"
#include "port/sim/sim_hal.h"
#include "port/sim/sim_pfsm.h"

#define SEC(x) ((uint64_t)((x) * (double)BL_TICKS_PER_SEC))

static struct bl_pfsm_config cfg;
static struct bl_pfsm fsm;
static struct bl_sim_pfsm w;
static struct bl_trigseq ts;
static const struct bl_trigseq_config ts_cfg = {.tolerance = 100, .latency = 5000};
static char trace[1 << 20];

static void setup(void)
{
	CHECK_EQ_INT(
	    bl_sim_pfsm_init(&w, &fsm, &cfg, &bl_sim_pfsm_delays_default, trace, sizeof(trace)), 0);
	CHECK_EQ_INT(bl_trigseq_init(&ts, &ts_cfg), 0);
	bl_sim_pfsm_attach(&w, &ts);
	bl_sim_edges_reset();
}

static int requests(void)
{
	int n = 0;
	for (int i = BL_SIM_P_SET; i < BL_SIM_P_COUNT; i++)
		n += w.req_count[i];
	return n;
}

/* Runs until the FSM is in `state` (1 ms steps, at most `limit` on). */
static bool run_to_state(int state, uint64_t limit)
{
	uint64_t end = w.now + limit;
	while (bl_pfsm_state(&fsm) != state) {
		if (w.now >= end || bl_sim_pfsm_run(&w, w.now + 1000) < 0)
			return false;
	}
	return true;
}

/* Safe state in the physical truth: pump, axis still, detector disarmed, no command queued. */
static void check_safe(void)
{
	CHECK(!w.pump.running);
	CHECK(!w.axis.moving);
	CHECK(!w.det.armed);
	CHECK_EQ_INT(bl_sched_count(&w.sched), 0);
}

/* In FAULT nothing moves, whatever the time and the commands, until a reset. */
static void check_frozen(void)
{
	int n = requests();
	size_t shots = w.nshots;
	double vol = bl_sim_pfsm_dispensed(&w), pos = bl_sim_pfsm_axis(&w);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_FAULT);
	CHECK_EQ_INT(bl_pfsm_next(&fsm), BL_PFSM_NEVER);
	bl_sim_pfsm_run(&w, w.now + SEC(600));
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESUME, NULL), -BL_EINVAL);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_PAUSE, NULL), -BL_EINVAL);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_ABORT, NULL), -BL_EINVAL);
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), -BL_EINVAL);
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	CHECK_EQ_INT(requests(), n);
	CHECK_EQ_INT(w.nshots, shots);
	CHECK_NEAR(bl_sim_pfsm_dispensed(&w), vol, 0);
	CHECK_NEAR(bl_sim_pfsm_axis(&w), pos, 0);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_FAULT);
	check_safe();
}

/* Every recipe field out of range is refused with its name, and nothing moves. */
static void test_recipe_refused(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	struct bl_pfsm_recipe r;
	struct {
		int field, index, rc, mode;
		const char *what;
	} cases[] = {
	    {BL_PF_MODE, -1, -BL_ERANGE, 0, "mode 7"},
	    {BL_PF_FLOW, -1, -BL_ERANGE, BL_PMODE_STAGE, "flow 0.5"},
	    {BL_PF_FLOW, -1, -BL_ERANGE, BL_PMODE_STAGE, "flow 600"},
	    {BL_PF_FLOW, -1, -BL_ERANGE, BL_PMODE_STAGE, "flow NaN"},
	    {BL_PF_SPEED, -1, -BL_ERANGE, BL_PMODE_STAGE, "coat speed 60"},
	    {BL_PF_SPEED, -1, -BL_ERANGE, BL_PMODE_WEB, "web speed 40"},
	    {BL_PF_GAP, -1, -BL_ERANGE, BL_PMODE_STAGE, "gap 10"},
	    {BL_PF_LENGTH, -1, -BL_ERANGE, BL_PMODE_STAGE, "length 400 > travel"},
	    {BL_PF_LENGTH, -1, -BL_ERANGE, BL_PMODE_STAGE, "length 40 < beam"},
	    {BL_PF_LENGTH, -1, -BL_ERANGE, BL_PMODE_WEB, "web length 3000"},
	    {BL_PF_NHEATERS, -1, -BL_ERANGE, BL_PMODE_STAGE, "1 heater"},
	    {BL_PF_SETPOINT, 1, -BL_ERANGE, BL_PMODE_STAGE, "heater 1 at 200"},
	    {BL_PF_SETPOINT, 0, -BL_ERANGE, BL_PMODE_STAGE, "heater 0 at 10"},
	    {BL_PF_PRIME_RATE, -1, -BL_ERANGE, BL_PMODE_STAGE, "prime rate 0"},
	    {BL_PF_PRIME_VOLUME, -1, -BL_ERANGE, BL_PMODE_STAGE, "prime volume 0"},
	    {BL_PF_PRIME_VOLUME, -1, -BL_ERANGE, BL_PMODE_STAGE, "prime volume 500"},
	    {BL_PF_NFRAMES, -1, -BL_ERANGE, BL_PMODE_STAGE, "no frames"},
	    {BL_PF_NFRAMES, -1, -BL_ERANGE, BL_PMODE_STAGE, "65 frames"},
	    {BL_PF_COUNT_TIME, -1, -BL_ERANGE, BL_PMODE_STAGE, "count time 0"},
	    {BL_PF_DELAY, 3, -BL_ERANGE, BL_PMODE_STAGE, "delay 3 before delay 2"},
	    {BL_PF_DELAY, 1, -BL_ERANGE, BL_PMODE_STAGE, "delays closer than count time"},
	    {BL_PF_DELAY, 0, -BL_ERANGE, BL_PMODE_WEB, "web delay under the transit"},
	    {BL_PF_DELAY, 7, -BL_E2BIG, BL_PMODE_STAGE, "last frame beyond the horizon"},
	    {BL_PF_LABEL, -1, -BL_ERANGE, BL_PMODE_STAGE, "label not terminated"},
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	for (size_t i = 0; i < n; i++) {
		bl_sim_pfsm_recipe(&r, cases[i].mode ? cases[i].mode : BL_PMODE_STAGE);
		switch (i) {
		case 0: r.mode = 7; break;
		case 1: r.flow_ul_min = 0.5; break;
		case 2: r.flow_ul_min = 600; break;
		case 3: r.flow_ul_min = NAN; break;
		case 4: r.speed_mm_s = 60; break;
		case 5: r.speed_mm_s = 40; break; /* fine for the stage, not the web */
		case 6: r.gap_um = 10; break;
		case 7: r.length_mm = 400; break;
		case 8: r.length_mm = 40; break;
		case 9: r.length_mm = 3000; break;
		case 10: r.nheaters = 1; break;
		case 11: r.setpoint_c[1] = 200; break;
		case 12: r.setpoint_c[0] = 10; break;
		case 13: r.prime_rate_ul_min = 0; break;
		case 14: r.prime_volume_ul = 0; break;
		case 15: r.prime_volume_ul = 500; break;
		case 16: r.nframes = 0; break;
		case 17: r.nframes = 65; break;
		case 18: r.count_time = 0; break;
		case 19: r.delay[3] = r.delay[2] - 1; break;
		case 20: r.delay[1] = r.delay[0] + r.count_time - 1; break;
		case 21: r.delay[0] = SEC(9.9); break; /* transit 50 mm / 5 mm/s = 10 s */
		case 22: r.delay[7] = SEC(3600); break;
		case 23: memset(r.label, 'x', sizeof(r.label)); break;
		default: break;
		}
		int rc = bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r);
		int index = -2;
		int field = bl_pfsm_refusal(&fsm, &index);
		if (rc != cases[i].rc || field != cases[i].field || index != cases[i].index)
			fprintf(stderr, "case %s: rc %d field %s index %d\n", cases[i].what, rc,
				bl_pfsm_field_name(field), index);
		CHECK_EQ_INT(rc, cases[i].rc);
		CHECK_EQ_INT(field, cases[i].field);
		CHECK_EQ_INT(index, cases[i].index);
		/* The check alone says the same. */
		int f2 = -1, i2 = -2;
		CHECK_EQ_INT(bl_pfsm_check_recipe(&fsm, &r, &f2, &i2), cases[i].rc);
		CHECK_EQ_INT(f2, cases[i].field);
		CHECK_EQ_INT(i2, cases[i].index);
		CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_IDLE);
	}
	/* Nothing moved, nothing was asked of a device, nothing queued. */
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	CHECK_EQ_INT(requests(), 0);
	CHECK_EQ_INT(bl_sched_count(&w.sched), 0);
	CHECK_EQ_INT(w.nshots, 0);
	CHECK_NEAR(bl_sim_pfsm_dispensed(&w), 0, 0);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->refused, n);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->started, 0);
	CHECK_EQ_INT(w.notes[BL_PNOTE_REFUSED], n);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_IDLE);
	/* The edge of each range is allowed. */
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	r.flow_ul_min = 500;
	r.setpoint_c[0] = 150;
	r.length_mm = 300;
	r.gap_um = 20;
	CHECK_EQ_INT(bl_pfsm_check_recipe(&fsm, &r, NULL, NULL), 0);
	bl_sim_pfsm_recipe(&r, BL_PMODE_WEB);
	r.delay[0] = SEC(10); /* exactly the transit */
	CHECK_EQ_INT(bl_pfsm_check_recipe(&fsm, &r, NULL, NULL), 0);
	/* A bad configuration is refused at init. */
	struct bl_pfsm f2;
	struct bl_pfsm_config c2;
	bl_sim_pfsm_config(&c2);
	c2.start_lead = 10; /* under the scheduler's min_lead */
	CHECK_EQ_INT(bl_pfsm_init(&f2, &c2, &w.sched), -BL_EINVAL);
	bl_sim_pfsm_config(&c2);
	c2.nheaters = 5;
	CHECK_EQ_INT(bl_pfsm_init(&f2, &c2, &w.sched), -BL_EINVAL);
	bl_sim_pfsm_config(&c2);
	c2.limits.web_speed_mm_s.min = 0;
	CHECK_EQ_INT(bl_pfsm_init(&f2, &c2, &w.sched), -BL_EINVAL);
}

/* Heater 1 cannot get past 50 C (setpoint 70): heating times out, the pump never starts. */
static void test_heat_timeout(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	w.heater[1].max_c = 50;
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	uint64_t t0 = w.now;
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	CHECK_EQ_INT(w.event_errors, 0);
	const struct bl_pfsm_fault *x = bl_pfsm_fault(&fsm);
	CHECK_EQ_INT(x->reason, BL_PSAFE_HEAT_TIMEOUT);
	CHECK_EQ_INT(x->err, -BL_ETIMEDOUT);
	CHECK_EQ_INT(x->dev, BL_PDEV_HEATER);
	CHECK_EQ_INT(x->state, BL_PFSM_HEAT_WAIT);
	CHECK_EQ_INT(x->now, t0 + cfg.heat.max);
	CHECK_NEAR(bl_pfsm_heater(&fsm, 1)->value_c, 50, 0.5); /* what it last read */
	CHECK(!bl_pfsm_heater(&fsm, 1)->in_tol);
	/* Nothing beyond the heaters was touched. */
	CHECK_EQ_INT(w.req_count[BL_SIM_P_HOME], 0);
	CHECK_EQ_INT(w.req_count[BL_SIM_P_ARM], 0);
	CHECK_EQ_INT(w.req_count[BL_SIM_P_PRIME], 0);
	CHECK_EQ_INT(w.req_count[BL_SIM_P_PUMP_RUN], 0);
	CHECK_NEAR(bl_sim_pfsm_dispensed(&w), 0, 0);
	CHECK_EQ_INT(w.safe_states, 1);
	CHECK(!w.safe_heaters_off); /* configured to keep them */
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->faulted, 1);
	check_frozen();
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESET, NULL), 0);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_IDLE);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESET, NULL), -BL_EINVAL);
}

/* The pump stalls 3 s into the coating: safe state at once; pump and stage stopped in truth. */
static void test_pump_alarm(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	CHECK(run_to_state(BL_PFSM_PRINT, SEC(300)));
	const struct bl_pfsm_run *run = bl_pfsm_run(&fsm);
	uint64_t T = run->t_start;
	CHECK_EQ_INT(bl_sim_pfsm_alarm_at(&w, T + SEC(3), BL_PDEV_PUMP, -BL_EIO), 0);
	CHECK(bl_sim_pfsm_run(&w, T + SEC(3)) > 0);
	const struct bl_pfsm_fault *x = bl_pfsm_fault(&fsm);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_FAULT);
	CHECK_EQ_INT(x->reason, BL_PSAFE_DEVICE_ERROR);
	CHECK_EQ_INT(x->err, -BL_EIO);
	CHECK_EQ_INT(x->dev, BL_PDEV_PUMP);
	CHECK_EQ_INT(x->state, BL_PFSM_PRINT);
	CHECK_EQ_INT(x->run, run->id);
	CHECK_EQ_INT(x->frames, 0); /* the head had not reached the beam yet */
	check_safe();
	CHECK_NEAR(bl_sim_pfsm_axis(&w), 30, 1e-6); /* stopped where it was: 3 s at 10 mm/s */
	CHECK_NEAR(bl_sim_pfsm_dispensed(&w), 10 + 20 * 3 / 60.0, 1e-6);
	/* The rest of the run never happens: no trigger, no stop command, the series is cut. */
	check_frozen();
	CHECK_EQ_INT(w.nshots, 0);
	CHECK_EQ_INT(run->executed, 2);
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->cut, 8);
	CHECK_EQ_INT(bl_sim_edges_count(), 1);
	CHECK_EQ_INT(bl_sim_edge(0)->m.kind, BL_EDGE_CUT);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->printed, 0);
	CHECK_EQ_INT(w.sched_faults, 0);
}

/* The trigger box refuses an edge (the executor's action fails): fault, and the scheduler
 * reports it too (its report comes back to the FSM, already safe, as stale). */
static void test_action_refused(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	CHECK_EQ_INT(bl_sim_pfsm_inject(&w, BL_SIM_P_TRIGGER, 4, -BL_EIO, 0), 0);
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	const struct bl_pfsm_fault *x = bl_pfsm_fault(&fsm);
	CHECK_EQ_INT(x->reason, BL_PSAFE_REFUSED);
	CHECK_EQ_INT(x->err, -BL_EIO);
	CHECK_EQ_INT(x->dev, BL_PDEV_TRIGGER);
	CHECK_EQ_INT(x->frames, 4);
	CHECK_EQ_INT(x->now, bl_pfsm_run(&fsm)->t_frame[3]);
	CHECK_EQ_INT(w.nshots, 3);
	CHECK_EQ_INT(bl_sched_counters(&w.sched)->failed, 1);
	CHECK_EQ_INT(bl_sim_hal_fault_count(), 1);
	CHECK_EQ_INT(bl_sim_hal_fault(0)->code, BL_FAULT_CMD_FAILED);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->stale_events, 1);
	check_frozen();
	/* The three frames taken are published; the rest is one CUT record. */
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->edges, 3);
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->cut, 5);
}

/* The hutch door opens 7 s after T (two frames taken): the print is spoiled and recorded; after
 * the door closes and the operator resumes, the die is re-primed and the film re-printed. */
static void test_door_reprint(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	CHECK(run_to_state(BL_PFSM_PRINT, SEC(300)));
	uint64_t T = bl_pfsm_run(&fsm)->t_start;
	uint32_t series1 = bl_pfsm_run(&fsm)->series;
	uint64_t door = T + SEC(6.5);
	CHECK_EQ_INT(bl_sim_pfsm_interlock_at(&w, door, BL_PIL_DOOR, true), 0);
	bl_sim_pfsm_run(&w, door);
	/* Stopped at once, the series is cut, the detector disarms. */
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->spoiled, 1);
	CHECK_EQ_INT(w.notes[BL_PNOTE_SPOILED], 1);
	CHECK_EQ_INT(w.notes[BL_PNOTE_SUSPEND], 1);
	CHECK(!w.pump.running);
	CHECK(!w.axis.moving);
	CHECK_EQ_INT(bl_sched_count(&w.sched), 0);
	CHECK_NEAR(bl_sim_pfsm_axis(&w), 65, 1e-6);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_DISARM);
	bl_sim_pfsm_run(&w, door + SEC(1));
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_HELD);
	CHECK(!w.det.armed);
	CHECK_EQ_INT(bl_pfsm_hold(&fsm), BL_PHOLD_DOOR);
	CHECK_EQ_INT(w.nshots, 2); /* frames at 0.5 s and 1 s of drying */
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->edges, 2);
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->cut, 6);
	/* Held: nothing moves; resume refused while the door is open; a start is refused. */
	int n = requests() - w.req_count[BL_SIM_P_READ];
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESUME, NULL), -BL_EBUSY);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), -BL_EINVAL);
	CHECK_EQ_INT(bl_sim_pfsm_interlock_at(&w, door + SEC(20), BL_PIL_DOOR, false), 0);
	bl_sim_pfsm_run(&w, door + SEC(25));
	CHECK_EQ_INT(requests() - w.req_count[BL_SIM_P_READ], n);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_HELD); /* closing the door does not resume */
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESUME, NULL), 0);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->suspended_ticks, SEC(25) - SEC(0));
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	CHECK_EQ_INT(w.event_errors, 0);
	/* Re-printed from the setpoints: a new run, a new series, primed again, all frames. */
	const struct bl_pfsm_run *run = bl_pfsm_run(&fsm);
	const struct bl_pfsm_counters *k = bl_pfsm_counters(&fsm);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_IDLE);
	CHECK_EQ_INT(run->id, 2);
	CHECK(run->series != series1);
	CHECK_EQ_INT(k->printed, 1);
	CHECK_EQ_INT(k->spoiled, 1);
	CHECK_EQ_INT(k->primes, 2);
	CHECK_EQ_INT(k->suspensions, 1);
	CHECK_EQ_INT(w.req_count[BL_SIM_P_PRIME], 2);
	CHECK_EQ_INT(w.req_count[BL_SIM_P_ARM], 2);
	CHECK_EQ_INT(w.nshots, 2 + 8);
	CHECK_EQ_INT(w.det.frames_spoiled, 0);
	CHECK_NEAR(bl_sim_pfsm_dispensed(&w), 10 + 20 * 6.5 / 60 + 10 + 20 * 10 / 60.0, 1e-6);
	/* The second series' records: all on time, at their drying delays. */
	size_t ne = bl_sim_edges_count();
	CHECK_EQ_INT(ne, 2 + 1 + 8);
	for (size_t i = 3; i < ne && i < 11; i++) {
		const struct bl_edge_meta *m = &bl_sim_edge(i)->m;
		CHECK_EQ_INT(m->series, run->series);
		CHECK_EQ_INT(m->frame, i - 3);
		CHECK_EQ_INT(m->flags, 0);
		CHECK_EQ_INT(m->print.since_coat, (int64_t)r.delay[i - 3]);
	}
	CHECK_EQ_INT(bl_sim_edge(2)->m.kind, BL_EDGE_CUT);
	CHECK_EQ_INT(bl_sim_edge(2)->m.series, series1);
	CHECK_EQ_INT(bl_sim_edge(2)->m.prog, 2);
}

/* Pause during the prime: the pump stops mid-prime (its answer never comes); resume primes
 * again. The agent's silence holds the same way, during heating. */
static void test_pause_prime_and_agent(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_WEB);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	CHECK(run_to_state(BL_PFSM_HEAT_WAIT, SEC(1)));
	bl_sim_pfsm_run(&w, w.now + SEC(10));
	CHECK_EQ_INT(bl_sim_pfsm_interlock_at(&w, w.now, BL_PIL_AGENT, true), 0);
	bl_sim_pfsm_run(&w, w.now + SEC(1));
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_HELD);
	CHECK_EQ_INT(bl_pfsm_hold(&fsm), BL_PHOLD_AGENT);
	/* Held for longer than heating may take: no heat timeout while held. */
	bl_sim_pfsm_run(&w, w.now + cfg.heat.max + SEC(1));
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_HELD);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESUME, NULL), -BL_EBUSY);
	CHECK_EQ_INT(bl_sim_pfsm_interlock_at(&w, w.now, BL_PIL_AGENT, false), 0);
	bl_sim_pfsm_run(&w, w.now);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESUME, NULL), 0);
	CHECK(run_to_state(BL_PFSM_PRIME, SEC(300)));
	bl_sim_pfsm_run(&w, w.now + SEC(3)); /* half of the 6 s prime */
	CHECK(w.pump.running && w.pump.priming);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_PAUSE, NULL), 0);
	CHECK(!w.pump.running);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->spoiled, 0); /* nothing was printed yet */
	bl_sim_pfsm_run(&w, w.now + SEC(1));
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_HELD);
	CHECK(!w.det.armed);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESUME, NULL), 0);
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	CHECK_EQ_INT(w.event_errors, 0);
	const struct bl_pfsm_counters *k = bl_pfsm_counters(&fsm);
	CHECK_EQ_INT(k->printed, 1);
	CHECK_EQ_INT(k->primes, 1); /* the cut prime did not complete */
	CHECK_EQ_INT(w.req_count[BL_SIM_P_PRIME], 2);
	CHECK_EQ_INT(k->suspensions, 2);
	CHECK_EQ_INT(k->stale_events, 0);
	CHECK_NEAR(bl_sim_pfsm_dispensed(&w), 5 + 10 + 20 * 40 / 60.0, 1e-6);
	CHECK_EQ_INT(w.det.frames, 8);
}

/* The e-stop mid-print: safe state with the heaters off; reset only once it is released. */
static void test_estop(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_WEB);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	CHECK(run_to_state(BL_PFSM_PRINT, SEC(300)));
	uint64_t T = bl_pfsm_run(&fsm)->t_start;
	CHECK_EQ_INT(bl_sim_pfsm_interlock_at(&w, T + SEC(20), BL_PIL_ESTOP, true), 0);
	bl_sim_pfsm_run(&w, T + SEC(20));
	const struct bl_pfsm_fault *x = bl_pfsm_fault(&fsm);
	CHECK_EQ_INT(x->reason, BL_PSAFE_ESTOP);
	CHECK_EQ_INT(x->err, -BL_ECANCELED);
	CHECK(w.safe_heaters_off);
	CHECK_NEAR(w.heater[0].sp_c, w.heater[0].ambient_c, 0);
	CHECK_NEAR(bl_sim_pfsm_axis(&w), 100, 1e-6);
	check_frozen();
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESET, NULL), -BL_EBUSY);
	CHECK_EQ_INT(bl_sim_pfsm_interlock_at(&w, w.now, BL_PIL_ESTOP, false), 0);
	bl_sim_pfsm_run(&w, w.now);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESET, NULL), 0);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_IDLE);
	CHECK_EQ_INT(w.notes[BL_PNOTE_RESET], 1);
	/* And prints again (heating from where the heaters cooled to). */
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->printed, 1);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->faulted, 1);
}

/* The port is late at T: the pump and motion starts are found past the scheduler's tolerance,
 * dropped as overdue, and the FSM goes safe: nothing started late. */
static void test_overdue(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	CHECK(run_to_state(BL_PFSM_PRINT, SEC(300)));
	uint64_t T = bl_pfsm_run(&fsm)->t_start;
	bl_sim_pfsm_stall(&w, T - 1, T + 1500); /* 1.5 ms late, tolerance 1 ms */
	bl_sim_pfsm_run(&w, T + SEC(1));
	const struct bl_pfsm_fault *x = bl_pfsm_fault(&fsm);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_FAULT);
	CHECK_EQ_INT(x->reason, BL_PSAFE_SCHED);
	CHECK_EQ_INT(x->err, -BL_ETIME);
	CHECK_EQ_INT(x->now, T + 1500);
	CHECK_EQ_INT(bl_sim_hal_fault_count(), 1); /* the FSM flushed the second one */
	CHECK_EQ_INT(bl_sim_hal_fault(0)->code, BL_FAULT_SCHED_OVERDUE);
	CHECK_EQ_INT(bl_sim_hal_fault(0)->cmd_type, BL_PT_PUMP_RUN);
	CHECK_EQ_INT(bl_sim_hal_fault(0)->late_by, 1500);
	CHECK_EQ_INT(bl_pfsm_run(&fsm)->executed, 0);
	CHECK_NEAR(bl_sim_pfsm_dispensed(&w), 10, 1e-9); /* the prime only */
	CHECK_NEAR(bl_sim_pfsm_axis(&w), 0, 0);
	check_frozen();

	/* Late within the tolerance: executed, and the latch tells the real start. */
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_RESET, NULL), 0);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	CHECK(run_to_state(BL_PFSM_PRINT, SEC(300)));
	T = bl_pfsm_run(&fsm)->t_start;
	bl_sim_pfsm_stall(&w, T - 1, T + 700);
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	const struct bl_pfsm_run *run = bl_pfsm_run(&fsm);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->printed, 1);
	CHECK_EQ_INT(run->motion_on, T + 700);
	CHECK_EQ_INT(run->pump_on, T + 700);
	const struct bl_sim_edge *e = bl_sim_edge(bl_sim_edges_count() - 8);
	CHECK_EQ_INT(e->m.kind, BL_EDGE_FRAME);
	CHECK_EQ_INT(e->m.print.since_coat, (int64_t)r.delay[0] - 700); /* honest, not nominal */
}

/* A device that never answers: the FSM finds it at the deadline and goes safe. */
static void test_timeouts(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	CHECK_EQ_INT(bl_sim_pfsm_inject(&w, BL_SIM_P_HOME, 1, 0, 0), 0);
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	CHECK(run_to_state(BL_PFSM_HOME, SEC(300)));
	uint64_t t_home = w.now;
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	const struct bl_pfsm_fault *x = bl_pfsm_fault(&fsm);
	CHECK_EQ_INT(x->reason, BL_PSAFE_TIMEOUT);
	CHECK_EQ_INT(x->dev, BL_PDEV_MOTION);
	CHECK_EQ_INT(x->state, BL_PFSM_HOME);
	CHECK_EQ_INT(x->now, t_home + cfg.timeout.home);
	CHECK_EQ_INT(w.req_count[BL_SIM_P_PRIME], 0);
	check_frozen();

	/* A detector that answers its arm with an error. */
	setup();
	CHECK_EQ_INT(bl_sim_pfsm_inject(&w, BL_SIM_P_ARM, 1, -BL_EIO, 0), 0);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	CHECK_EQ_INT(bl_pfsm_fault(&fsm)->reason, BL_PSAFE_DEVICE_ERROR);
	CHECK_EQ_INT(bl_pfsm_fault(&fsm)->dev, BL_PDEV_DETECTOR);
	CHECK_EQ_INT(w.req_count[BL_SIM_P_PRIME], 0);
	check_frozen();
}

/* Abort mid-print: stopped at once, counted, idle; the heaters keep their setpoints. */
static void test_abort(void)
{
	bl_sim_pfsm_config(&cfg);
	setup();
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	CHECK(run_to_state(BL_PFSM_PRINT, SEC(300)));
	bl_sim_pfsm_run(&w, bl_pfsm_run(&fsm)->t_start + SEC(8));
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_ABORT, NULL), 0);
	CHECK(!w.pump.running && !w.axis.moving);
	CHECK_EQ_INT(bl_sched_count(&w.sched), 0);
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_IDLE);
	CHECK(!w.det.armed);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->aborted, 1);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->printed, 0);
	CHECK_EQ_INT(w.notes[BL_PNOTE_ABORTED], 1);
	CHECK_EQ_INT(w.safe_states, 0);
	CHECK_NEAR(w.heater[1].sp_c, 70, 0);
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->edges, 3);
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->cut, 5);
	/* Aborting while idle is harmless. */
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_ABORT, NULL), 0);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_IDLE);
}

int main(void)
{
	test_recipe_refused();
	test_heat_timeout();
	test_pump_alarm();
	test_action_refused();
	test_door_reprint();
	test_pause_prime_and_agent();
	test_estop();
	test_overdue();
	test_timeouts();
	test_abort();
	return CHECK_DONE();
}
