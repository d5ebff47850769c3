/* test_fw_pfsm_cycle.c: whole print cycles (stage and web) on the sim printer: heat, prime,
 * timed start, frames at the programmed drying times, stop; latches checked against truth. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "core/print_fsm.h"
#include "core/trigseq.h"
#include "port/sim/sim_pfsm.h"

#define SEC(x) ((uint64_t)((x) * (double)BL_TICKS_PER_SEC))

static struct bl_pfsm_config cfg;
static struct bl_pfsm fsm;
static struct bl_sim_pfsm w;
static struct bl_trigseq ts;
static const struct bl_trigseq_config ts_cfg = {.tolerance = 100, .latency = 5000};

static void setup(void)
{
	bl_sim_pfsm_config(&cfg);
	CHECK_EQ_INT(bl_sim_pfsm_init(&w, &fsm, &cfg, &bl_sim_pfsm_delays_default, NULL, 0), 0);
	CHECK_EQ_INT(bl_trigseq_init(&ts, &ts_cfg), 0);
	bl_sim_pfsm_attach(&w, &ts);
	bl_sim_edges_reset();
}

static bool world_clean(void)
{
	if (w.event_errors) {
		fprintf(stderr, "world: %d event errors; first: %s\n", w.event_errors,
			w.first_error);
		return false;
	}
	return true;
}

/* The printer's state at the end of a good print: everything still, detector disarmed. */
static void check_at_rest(void)
{
	CHECK(!w.pump.running);
	CHECK(!w.axis.moving);
	CHECK(!w.det.armed);
	CHECK_EQ_INT(bl_sched_count(&w.sched), 0);
	CHECK_EQ_INT(bl_pfsm_next(&fsm), BL_PFSM_NEVER);
}

/*
 * One print of recipe r from now, run to its end, checked: heated before anything moved, primed
 * before T, pump and axis started at T and stopped at T + L/v on time, one frame per delay at
 * exactly the programmed drying time of the watched film point, latch = physical truth.
 */
static void check_print(const struct bl_pfsm_recipe *r, uint32_t run_id)
{
	uint64_t t0 = w.now;
	size_t edges0 = bl_sim_edges_count(), shots0 = w.nshots;
	double vol0 = bl_sim_pfsm_dispensed(&w);
	uint32_t printed0 = bl_pfsm_counters(&fsm)->printed;
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, r), 0);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_HEAT_SET);
	CHECK(bl_sim_pfsm_run(&w, BL_PFSM_NEVER) > 0);
	CHECK(world_clean());
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_IDLE);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->printed, printed0 + 1);
	check_at_rest();

	const struct bl_pfsm_run *run = bl_pfsm_run(&fsm);
	const double v = r->speed_mm_s, d = cfg.beam_offset_mm, L = r->length_mm;
	bool stage = r->mode == BL_PMODE_STAGE;
	CHECK(run->valid);
	CHECK_EQ_INT(run->id, run_id);
	CHECK_EQ_INT(run->series, w.det.series);
	CHECK_EQ_INT(run->nframes, r->nframes);
	/* Heating took time (the model's first-order response), and it came first. */
	CHECK(run->t_start > t0 + SEC(10));
	for (int i = 0; i < cfg.nheaters; i++) {
		const struct bl_pfsm_heater *h = bl_pfsm_heater(&fsm, i);
		if (r->cool)
			continue; /* setpoints went to cool_c after the print */
		CHECK_NEAR(h->setpoint_c, r->setpoint_c[i], 0);
		CHECK_NEAR(bl_sim_pfsm_temp(&w, i), r->setpoint_c[i], cfg.heat.tolerance_c);
		CHECK(h->in_tol);
	}
	/* Punctual port: every action ran at its programmed time. */
	CHECK_EQ_INT(run->pump_on, run->t_start);
	CHECK_EQ_INT(run->motion_on, run->t_start);
	CHECK_EQ_INT(run->t_stop, run->t_start + (uint64_t)llround(L / v * 1e6));
	CHECK_EQ_INT(run->motion_off, run->t_stop);
	CHECK_EQ_INT(run->pump_off, run->t_stop);
	CHECK_EQ_INT(run->queued, r->nframes + 4);
	CHECK_EQ_INT(run->executed, r->nframes + 4);
	CHECK_EQ_INT(run->triggers, r->nframes);
	/* Truth: prime volume plus flow x coating time went out; the axis travelled L. */
	CHECK_NEAR(bl_sim_pfsm_dispensed(&w) - vol0,
		   r->prime_volume_ul + r->flow_ul_min * (L / v) / 60.0, 1e-6);
	CHECK_NEAR(bl_sim_pfsm_axis(&w), L, 1e-6);
	CHECK_NEAR(w.axis.gap_um, r->gap_um, 0);
	CHECK_EQ_INT(w.det.frames, r->nframes);
	CHECK_EQ_INT(w.det.frames_unarmed, 0);
	/* The watched point and its coating time. */
	CHECK_NEAR(run->film_mm, stage ? d : L - d, 1e-9);
	if (stage)
		CHECK_EQ_INT(run->t_coat, run->t_start + (uint64_t)llround(d / v * 1e6));
	else
		CHECK_EQ_INT(run->t_coat, run->t_stop - (uint64_t)llround(d / v * 1e6));

	/* One record per frame, in order, each latched at its edge. */
	CHECK_EQ_INT(bl_sim_edges_count() - edges0, r->nframes);
	CHECK_EQ_INT(w.nshots - shots0, r->nframes);
	for (uint32_t i = 0; i < r->nframes && edges0 + i < bl_sim_edges_count(); i++) {
		const struct bl_sim_edge *e = bl_sim_edge(edges0 + i);
		const struct bl_edge_meta *m = &e->m;
		const struct bl_sim_shot *s = &w.shot[shots0 + i];
		const struct bl_pfsm_latch *p = &m->print;
		CHECK_EQ_INT(m->kind, BL_EDGE_FRAME);
		CHECK_EQ_INT(m->series, run->series);
		CHECK_EQ_INT(m->frame, i);
		CHECK_EQ_INT(m->prog, (int)i);
		CHECK_EQ_INT(m->flags, 0);
		CHECK_EQ_INT(m->t_edge, run->t_frame[i]);
		CHECK_EQ_INT(m->dt, 0);
		CHECK_EQ_INT(s->t, m->t_edge);
		CHECK(s->armed && s->beam_ok);
		CHECK(m->has_print);
		CHECK(!m->has_sample);
		CHECK_STR(e->label, r->label);
		CHECK_EQ_INT(p->run, run_id);
		CHECK(p->coated);
		/* The drying time asked for, to the tick. */
		CHECK_EQ_INT(p->since_coat, (int64_t)r->delay[i]);
		CHECK_EQ_INT(m->t_edge - run->t_coat, r->delay[i]);
		/* Film position: the axis moved v * t until the stop. */
		double moving_s =
		    (double)((m->t_edge < run->t_stop ? m->t_edge : run->t_stop) - run->t_start) /
		    1e6;
		CHECK_NEAR(p->axis_mm, v * moving_s, 1e-6);
		CHECK_NEAR(p->axis_mm, s->axis_mm, 1e-6); /* the model's own integration */
		CHECK_NEAR(p->film_mm, stage ? d : v * moving_s - d, 1e-6);
		CHECK_NEAR(p->film_mm, run->film_mm, stage ? 1e-9 : 1e-5);
		bool moving = m->t_edge < run->t_stop;
		CHECK_NEAR(p->speed_mm_s, moving ? v : 0, 0);
		CHECK_NEAR(p->flow_ul_min, moving ? r->flow_ul_min : 0, 0);
		CHECK(s->pumping == moving);
		CHECK_EQ_INT(p->nheaters, 2);
		for (int h = 0; h < 2; h++) {
			CHECK_NEAR(p->temp_c[h], r->setpoint_c[h], cfg.heat.tolerance_c);
			CHECK(p->temp_at[h] <= m->t_edge);
			CHECK(m->t_edge - p->temp_at[h] <= cfg.heat.poll + SEC(0.1));
		}
	}
}

/* Stage mode: the head passes the beam spot 5 s after T; frames from 0.5 s to 60 s after. */
static void test_stage(void)
{
	setup();
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	check_print(&r, 1);
	const struct bl_pfsm_counters *k = bl_pfsm_counters(&fsm);
	CHECK_EQ_INT(k->started, 1);
	CHECK_EQ_INT(k->printed, 1);
	CHECK_EQ_INT(k->primes, 1);
	CHECK_EQ_INT(k->spoiled + k->aborted + k->faulted + k->refused, 0);
	CHECK_EQ_INT(k->timed_executed, r.nframes + 4);
	CHECK_EQ_INT(k->timed_stale + k->stale_events + k->temp_excursions, 0);
	CHECK(k->heater_reads > 100); /* heating ~70 s and printing ~65 s, every second */
	CHECK_EQ_INT(w.notes[BL_PNOTE_HEATED], 1);
	CHECK_EQ_INT(w.notes[BL_PNOTE_PRIMED], 1);
	CHECK_EQ_INT(w.notes[BL_PNOTE_START], 1);
	CHECK_EQ_INT(w.notes[BL_PNOTE_DONE], 1);
	CHECK_EQ_INT(w.safe_states, 0);
	CHECK_EQ_INT(w.sched_faults, 0);
	const struct bl_trigseq_counters *tk = bl_trigseq_counters(&ts);
	CHECK_EQ_INT(tk->edges, 8);
	CHECK_EQ_INT(tk->on_time, 8);
	CHECK_EQ_INT(tk->missing + tk->off_time + tk->extra + tk->cut + tk->refused, 0);
	/* Frames later than the stop (10 s): film standing, pump off. */
	const struct bl_pfsm_run *run = bl_pfsm_run(&fsm);
	CHECK(run->t_frame[3] < run->t_stop && run->t_frame[4] > run->t_stop);
	/* Heaters keep their setpoints after the print (no cool asked). */
	CHECK_NEAR(w.heater[0].sp_c, 60, 0);
	CHECK_NEAR(w.heater[1].sp_c, 70, 0);

	/* A second print: a new run and series; the stage homes back to 0 first. */
	r.length_mm = 60;
	check_print(&r, 2);
	CHECK_EQ_INT(bl_pfsm_run(&fsm)->series, 2);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->printed, 2);
	CHECK_EQ_INT(w.req_count[BL_SIM_P_HOME], 2);
}

/* Web mode: the web carries the film 50 mm to the beam (10 s at 5 mm/s) and stops once 200 mm
 * are coated; the point then under the beam is watched at 10 s .. 90 s of drying. */
static void test_web(void)
{
	setup();
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_WEB);
	r.cool = true;
	check_print(&r, 1);
	const struct bl_pfsm_run *run = bl_pfsm_run(&fsm);
	/* The first frame (10 s = the transit) is right at the stop. */
	CHECK_EQ_INT(run->t_frame[0], run->t_stop);
	CHECK_EQ_INT(run->t_frame[7], run->t_stop + SEC(80));
	/* The recipe asked to cool: heaters to cfg.cool_c after the print. */
	CHECK_NEAR(w.heater[0].sp_c, cfg.cool_c, 0);
	CHECK_NEAR(w.heater[1].sp_c, cfg.cool_c, 0);
	CHECK_NEAR(bl_pfsm_heater(&fsm, 1)->setpoint_c, cfg.cool_c, 0);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->printed, 1);
	CHECK_EQ_INT(w.sched_faults + w.safe_states, 0);

	/* While the web moves the beam sees points of one drying time, the transit: a latch at any
	 * moment of the run says so, and the film coordinate grows as v * t. */
	struct bl_pfsm_latch l;
	uint64_t t = run->t_start + SEC(17.5);
	CHECK_EQ_INT(bl_pfsm_latch(&fsm, t, &l), 0);
	CHECK(l.coated);
	CHECK_EQ_INT(l.since_coat, (int64_t)SEC(10));
	CHECK_NEAR(l.film_mm, 5 * 17.5 - 50, 1e-9);
	CHECK_NEAR(l.axis_mm, 5 * 17.5, 1e-9);
	/* Before the film reached the beam: bare web under it. */
	CHECK_EQ_INT(bl_pfsm_latch(&fsm, run->t_start + SEC(4), &l), 0);
	CHECK(!l.coated);
	CHECK_EQ_INT(l.since_coat, -1);
	CHECK_NEAR(l.film_mm, -30, 1e-9);
	CHECK_NEAR(l.speed_mm_s, 5, 0);
	/* Before T nothing moved. */
	CHECK_EQ_INT(bl_pfsm_latch(&fsm, run->t_start - 1, &l), 0);
	CHECK(!l.coated);
	CHECK_NEAR(l.axis_mm, 0, 0);
	CHECK_NEAR(l.flow_ul_min, 0, 0);
}

/* The print runs without heaters fitted, and without a trigger sequencer attached. */
static void test_no_heaters(void)
{
	bl_sim_pfsm_config(&cfg);
	cfg.nheaters = 0;
	CHECK_EQ_INT(bl_sim_pfsm_init(&w, &fsm, &cfg, &bl_sim_pfsm_delays_default, NULL, 0), 0);
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	r.nheaters = 0;
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_HOME);
	CHECK(bl_sim_pfsm_run(&w, BL_PFSM_NEVER) > 0);
	CHECK(world_clean());
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->printed, 1);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->heater_reads, 0);
	CHECK_EQ_INT(w.det.frames, 8);
	check_at_rest();
}

int main(void)
{
	test_stage();
	test_web();
	test_no_heaters();
	return CHECK_DONE();
}
