/* test_fw_trigseq.c: the trigger sequencer: frame numbering, programmed-time checks, missing and
 * off-time edges, synthesized edges, cut series, metadata of a sample and of a print series. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "core/print_fsm.h"
#include "core/sample_fsm.h"
#include "core/trigseq.h"
#include "port/sim/sim_pfsm.h"
#include "sfsm_fixture.h"

static struct bl_trigseq ts;

/* What a record should be. */
struct want {
	int kind;
	uint32_t frame;
	int prog;
	unsigned flags;
	int64_t dt;
};

/* Records [from, from + n) are `want`, in that order, with times never going back. */
static void check_records(size_t from, const struct want *want, size_t n, uint32_t series)
{
	CHECK(bl_sim_edges_count() >= from + n);
	uint64_t last = 0;
	for (size_t i = 0; i < n && from + i < bl_sim_edges_count(); i++) {
		const struct bl_edge_meta *m = &bl_sim_edge(from + i)->m;
		if (m->kind != want[i].kind || m->frame != want[i].frame ||
		    m->prog != want[i].prog || m->flags != want[i].flags || m->dt != want[i].dt)
			fprintf(stderr,
				"record %zu: %s frame %d prog %d flags %#x dt %lld; want %s %d %d "
				"%#x %lld\n",
				i, bl_edge_kind_name(m->kind), (int)m->frame, (int)m->prog,
				m->flags, (long long)m->dt, bl_edge_kind_name(want[i].kind),
				(int)want[i].frame, want[i].prog, want[i].flags,
				(long long)want[i].dt);
		CHECK_EQ_INT(m->kind, want[i].kind);
		CHECK_EQ_INT(m->frame, want[i].frame);
		CHECK_EQ_INT(m->prog, want[i].prog);
		CHECK_EQ_INT(m->flags, want[i].flags);
		CHECK_EQ_INT(m->dt, want[i].dt);
		CHECK_EQ_INT(m->series, series);
		CHECK(m->t_edge >= last);
		last = m->t_edge;
	}
}

#define F  BL_EDGE_FRAME
#define M  BL_EDGE_MISSING
#define NF BL_EDGE_NO_FRAME

/*
 * A sample exposure (10 edges, 100 ms apart) read back with edge 3 missing, edge 6 50 us late
 * (within the 100 us tolerance) and edge 8 300 us late (off time): the frames are numbered as
 * the detector numbers them, each gap is reported, nothing is guessed; every record carries
 * the sample's puck, slot and barcode.
 */
static void test_sample_series(void)
{
	static struct bl_sfsm_config scfg;
	static struct bl_sfsm sf;
	static struct bl_sim_sfsm sw;
	fixture_config(&scfg, 3);
	fixture_world(&sw, &sf, &scfg, NULL, 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&sw, BL_CMD_QUEUE, 1, 0), 0);
	CHECK(run_to_state(&sw, BL_SFSM_EXPOSE, SEC(60)));
	const struct bl_trigseq_config tc = {.tolerance = 100, .latency = MS(5)};
	CHECK_EQ_INT(bl_trigseq_init(&ts, &tc), 0);
	bl_sim_edges_reset();
	uint64_t start = sf.train_start, period = scfg.exposure.period;
	CHECK_EQ_INT(bl_trigseq_program_train(&ts, sw.now, sf.series, start, period,
					      scfg.exposure.frames, &sf, NULL),
		     0);
	CHECK_EQ_INT(bl_trigseq_next(&ts), start + 100 + MS(5) + 1);
	const int64_t late[10] = {0, 0, 0, -1, 0, 0, 50, 0, 300, 0}; /* -1: no edge */
	for (int k = 0; k < 10; k++) {
		if (late[k] < 0)
			continue;
		uint64_t t = start + (uint64_t)k * period + (uint64_t)late[k];
		CHECK_EQ_INT(bl_trigseq_edge(&ts, t + MS(1), t), 0);
	}
	const unsigned S = BL_EDGE_SHIFTED, O = BL_EDGE_OFF_TIME;
	const struct want want[] = {
	    {F, 0, 0, 0, 0},  {F, 1, 1, 0, 0},	{F, 2, 2, 0, 0},  {M, NF, 3, 0, 0},
	    {F, 3, 4, S, 0},  {F, 4, 5, S, 0},	{F, 5, 6, S, 50}, {F, 6, 7, S, 0},
	    {M, NF, 8, 0, 0}, {F, 7, -1, O, 0}, {F, 8, 9, S, 0},
	};
	check_records(0, want, sizeof(want) / sizeof(want[0]), sf.series);
	CHECK_EQ_INT(bl_sim_edges_count(), 11);
	for (size_t i = 0; i < bl_sim_edges_count(); i++) {
		const struct bl_sim_edge *e = bl_sim_edge(i);
		CHECK(e->m.has_sample);
		CHECK(!e->m.has_print);
		CHECK_EQ_INT(e->m.sample.sample, 1);
		CHECK_EQ_INT(e->m.sample.puck, 1);
		CHECK_EQ_INT(e->m.sample.slot, 2);
		CHECK_EQ_INT(e->m.sample.series, sf.series);
		CHECK_STR(e->barcode, "BL-P1-S02");
	}
	/* The off-time edge is given its true time, not a programmed one. */
	CHECK_EQ_INT(bl_sim_edge(9)->m.t_edge, start + 8 * period + 300);
	CHECK_EQ_INT(bl_sim_edge(9)->m.t_prog, 0);
	const struct bl_trigseq_counters *k = bl_trigseq_counters(&ts);
	CHECK_EQ_INT(k->edges, 9);
	CHECK_EQ_INT(k->on_time, 8);
	CHECK_EQ_INT(k->off_time, 1);
	CHECK_EQ_INT(k->missing, 2);
	CHECK_EQ_INT(k->records, 11);
	CHECK(bl_trigseq_done(&ts));
	CHECK_EQ_INT(bl_trigseq_next(&ts), BL_TRIGSEQ_NEVER);
	/* An edge going back in time is refused; one after the programme is extra. */
	uint64_t t9 = start + 9 * period;
	CHECK_EQ_INT(bl_trigseq_edge(&ts, t9 + MS(2), t9 - 1), -BL_EINVAL);
	CHECK_EQ_INT(bl_trigseq_edge(&ts, t9 + MS(60), t9 + MS(50)), 0);
	const struct want extra[] = {{F, 9, -1, O | BL_EDGE_EXTRA, 0}};
	check_records(11, extra, 1, sf.series);
	CHECK_EQ_INT(bl_sim_edges_count(), 12);
	CHECK_EQ_INT(k->extra, 1);
	CHECK_EQ_INT(k->refused, 1);
	/* Closing a complete series hands out nothing more. */
	CHECK_EQ_INT(bl_trigseq_stop(&ts, t9 + MS(70)), 0);
	CHECK_EQ_INT(bl_sim_edges_count(), 12);
	CHECK_EQ_INT(bl_trigseq_edge(&ts, t9 + MS(80), t9 + MS(80)), -BL_ENOENT);
}

/* Without an edge, a programmed one is reported missing at its time + tolerance + latency. */
static void test_missing_by_time(void)
{
	const struct bl_trigseq_config tc = {.tolerance = 100, .latency = 500};
	CHECK_EQ_INT(bl_trigseq_init(&ts, &tc), 0);
	bl_sim_edges_reset();
	const uint64_t times[] = {10000, 20000, 30000, 40000};
	CHECK_EQ_INT(bl_trigseq_program_list(&ts, 0, 7, times, 4, NULL, NULL), 0);
	CHECK_EQ_INT(bl_trigseq_edge(&ts, 10300, 9950), 0);
	CHECK_EQ_INT(bl_trigseq_next(&ts), 20601);
	CHECK_EQ_INT(bl_trigseq_step(&ts, 20600), 0); /* the readback may still come */
	CHECK_EQ_INT(bl_trigseq_step(&ts, 20601), 1);
	CHECK_EQ_INT(bl_trigseq_step(&ts, 31000), 1);
	CHECK_EQ_INT(bl_trigseq_edge(&ts, 40200, 40100), 0);
	const struct want want[] = {
	    {F, 0, 0, 0, -50}, {M, NF, 1, 0, 0}, {M, NF, 2, 0, 0}, {F, 1, 3, BL_EDGE_SHIFTED, 100}};
	check_records(0, want, 4, 7);
	CHECK_EQ_INT(bl_sim_edges_count(), 4);
	CHECK_EQ_INT(bl_sim_edge(1)->m.t_edge, 20000);
	CHECK_EQ_INT(bl_sim_edge(1)->m.now, 20601);
	CHECK(bl_trigseq_done(&ts));
}

/* No readback: the edges are made at the programmed times, flagged as synthesized. */
static void test_synthesized(void)
{
	const struct bl_trigseq_config tc = {.tolerance = 100, .synthesize = true};
	CHECK_EQ_INT(bl_trigseq_init(&ts, &tc), 0);
	bl_sim_edges_reset();
	CHECK_EQ_INT(bl_trigseq_program_train(&ts, 0, 3, 5000, 1000, 3, NULL, NULL), 0);
	CHECK_EQ_INT(bl_trigseq_next(&ts), 5000);
	CHECK_EQ_INT(bl_trigseq_step(&ts, 4999), 0);
	CHECK_EQ_INT(bl_trigseq_step(&ts, 6500), 2);
	CHECK_EQ_INT(bl_trigseq_next(&ts), 7000);
	CHECK_EQ_INT(bl_trigseq_edge(&ts, 6600, 6600), -BL_EINVAL); /* nothing to read back */
	CHECK_EQ_INT(bl_trigseq_step(&ts, 9000), 1);
	const struct want want[] = {
	    {F, 0, 0, BL_EDGE_SYNTH, 0}, {F, 1, 1, BL_EDGE_SYNTH, 0}, {F, 2, 2, BL_EDGE_SYNTH, 0}};
	check_records(0, want, 3, 3);
	CHECK_EQ_INT(bl_sim_edges_count(), 3);
	CHECK_EQ_INT(bl_sim_edge(2)->m.t_edge, 7000);
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->synthesized, 3);
	CHECK_EQ_INT(bl_trigseq_next(&ts), BL_TRIGSEQ_NEVER);
}

/* Programmes that cannot be matched unambiguously are refused; a stopped series is cut. */
static void test_program_and_stop(void)
{
	const struct bl_trigseq_config tc = {.tolerance = 100};
	CHECK_EQ_INT(bl_trigseq_init(&ts, &tc), 0);
	CHECK_EQ_INT(bl_trigseq_init(&ts, NULL), -BL_EINVAL);
	bl_sim_edges_reset();
	CHECK_EQ_INT(bl_trigseq_edge(&ts, 0, 0), -BL_ENOENT);
	CHECK_EQ_INT(bl_trigseq_program_train(&ts, 0, 1, 1000, 200, 5, NULL, NULL), -BL_EINVAL);
	CHECK_EQ_INT(bl_trigseq_program_train(&ts, 0, 1, 1000, 1000, 0, NULL, NULL), -BL_EINVAL);
	const uint64_t bad[] = {1000, 1000, 3000};
	const uint64_t close[] = {1000, 1150};
	uint64_t many[BL_TRIGSEQ_MAX_LIST + 1];
	for (size_t i = 0; i < BL_TRIGSEQ_MAX_LIST + 1; i++)
		many[i] = 1000 * (i + 1);
	CHECK_EQ_INT(bl_trigseq_program_list(&ts, 0, 1, bad, 3, NULL, NULL), -BL_EINVAL);
	CHECK_EQ_INT(bl_trigseq_program_list(&ts, 0, 1, close, 2, NULL, NULL), -BL_EINVAL);
	CHECK_EQ_INT(bl_trigseq_program_list(&ts, 0, 1, many, BL_TRIGSEQ_MAX_LIST + 1, NULL, NULL),
		     -BL_EINVAL);
	CHECK_EQ_INT(bl_trigseq_program_list(&ts, 0, 1, many, 0, NULL, NULL), -BL_EINVAL);
	CHECK_EQ_INT(bl_trigseq_stop(&ts, 0), -BL_ENOENT);
	CHECK_EQ_INT(bl_trigseq_program_list(&ts, 0, 1, many, BL_TRIGSEQ_MAX_LIST, NULL, NULL), 0);
	CHECK_EQ_INT(bl_trigseq_edge(&ts, 1010, 1010), 0);
	CHECK_EQ_INT(bl_trigseq_edge(&ts, 2010, 1990), 0);
	CHECK_EQ_INT(bl_trigseq_stop(&ts, 2500), 0);
	CHECK_EQ_INT(bl_trigseq_stop(&ts, 2500), -BL_ENOENT);
	/* A new programme while one is open cuts the open one first. */
	CHECK_EQ_INT(bl_trigseq_program_train(&ts, 3000, 2, 5000, 1000, 4, NULL, NULL), 0);
	CHECK_EQ_INT(bl_trigseq_edge(&ts, 5100, 5000), 0);
	CHECK_EQ_INT(bl_trigseq_program_train(&ts, 5500, 3, 8000, 1000, 2, NULL, NULL), 0);
	const struct want want[] = {
	    {F, 0, 0, 0, 10}, {F, 1, 1, 0, -10}, {BL_EDGE_CUT, NF, 2, 0, 0}};
	check_records(0, want, 3, 1);
	CHECK_EQ_INT(bl_sim_edges_count(), 5);
	CHECK_EQ_INT(bl_sim_edge(3)->m.series, 2);
	CHECK_EQ_INT(bl_sim_edge(4)->m.series, 2);
	CHECK_EQ_INT(bl_sim_edge(4)->m.kind, BL_EDGE_CUT);
	CHECK_EQ_INT(bl_sim_edge(4)->m.prog, 1);
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->cut, (BL_TRIGSEQ_MAX_LIST - 2) + 3);
	CHECK_EQ_INT(bl_trigseq_counters(&ts)->series, 3);
}

/*
 * A print series on the sim printer, edges read back by the port: the box loses the third
 * edge and emits the fifth 500 us late. Every record carries the film position, drying time,
 * flow, speed and temperatures of its own instant.
 */
static void test_print_series(void)
{
	static struct bl_pfsm_config cfg;
	static struct bl_pfsm fsm;
	static struct bl_sim_pfsm w;
	bl_sim_pfsm_config(&cfg);
	CHECK_EQ_INT(bl_sim_pfsm_init(&w, &fsm, &cfg, &bl_sim_pfsm_delays_default, NULL, 0), 0);
	const struct bl_trigseq_config tc = {.tolerance = 100, .latency = MS(5)};
	CHECK_EQ_INT(bl_trigseq_init(&ts, &tc), 0);
	bl_sim_pfsm_attach(&w, &ts);
	bl_sim_edges_reset();
	CHECK_EQ_INT(bl_sim_pfsm_inject(&w, BL_SIM_P_TRIGGER, 3, 0, 0), 0);
	CHECK_EQ_INT(bl_sim_pfsm_inject(&w, BL_SIM_P_TRIGGER, 5, 1, 500), 0);
	struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	bl_sim_pfsm_run(&w, BL_PFSM_NEVER);
	CHECK_EQ_INT(w.event_errors, 0);
	const struct bl_pfsm_run *run = bl_pfsm_run(&fsm);
	CHECK_EQ_INT(bl_pfsm_counters(&fsm)->printed, 1);
	CHECK_EQ_INT(w.det.frames, 7); /* the detector took 7 images */
	const unsigned S = BL_EDGE_SHIFTED, O = BL_EDGE_OFF_TIME;
	const struct want want[] = {
	    {F, 0, 0, 0, 0},  {F, 1, 1, 0, 0}, {M, NF, 2, 0, 0}, {F, 2, 3, S, 0}, {M, NF, 4, 0, 0},
	    {F, 3, -1, O, 0}, {F, 4, 5, S, 0}, {F, 5, 6, S, 0},	 {F, 6, 7, S, 0},
	};
	check_records(0, want, sizeof(want) / sizeof(want[0]), run->series);
	CHECK_EQ_INT(bl_sim_edges_count(), 9);
	for (size_t i = 0; i < bl_sim_edges_count(); i++) {
		const struct bl_sim_edge *e = bl_sim_edge(i);
		const struct bl_pfsm_latch *p = &e->m.print;
		CHECK(e->m.has_print);
		CHECK(!e->m.has_sample);
		CHECK_STR(e->label, r.label);
		CHECK_EQ_INT(p->series, run->series);
		CHECK(p->coated);
		/* Drying time of the film point at the edge's own time. */
		CHECK_EQ_INT(p->since_coat, (int64_t)(e->m.t_edge - run->t_coat));
		CHECK_NEAR(p->film_mm, cfg.beam_offset_mm, 1e-9);
		bool moving = e->m.t_edge < run->t_stop;
		CHECK_NEAR(p->flow_ul_min, moving ? 20 : 0, 0);
		CHECK_NEAR(p->speed_mm_s, moving ? 10 : 0, 0);
		CHECK_NEAR(p->temp_c[0], 60, 1);
		CHECK_NEAR(p->temp_c[1], 70, 1);
	}
	/* The late edge: 500 us more drying than programmed, and its frame is 3, not 4. */
	const struct bl_edge_meta *late = &bl_sim_edge(5)->m;
	CHECK_EQ_INT(late->t_edge, run->t_frame[4] + 500);
	CHECK_EQ_INT(late->print.since_coat, (int64_t)r.delay[4] + 500);
	CHECK_NEAR(late->print.axis_mm, 100, 1e-6);	       /* after the stop at 100 mm */
	CHECK_NEAR(bl_sim_edge(1)->m.print.axis_mm, 60, 1e-6); /* 1 s of drying: 6 s after T */
	/* The missing edge's record: the state when it should have come. */
	CHECK_EQ_INT(bl_sim_edge(2)->m.print.since_coat, (int64_t)r.delay[2]);
	const struct bl_trigseq_counters *k = bl_trigseq_counters(&ts);
	CHECK_EQ_INT(k->edges, 7);
	CHECK_EQ_INT(k->missing, 2);
	CHECK_EQ_INT(k->off_time, 1);
	CHECK(bl_trigseq_done(&ts));
}

int main(void)
{
	test_sample_series();
	test_missing_by_time();
	test_synthesized();
	test_program_and_stop();
	test_print_series();
	return CHECK_DONE();
}
