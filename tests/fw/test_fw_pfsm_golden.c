/* test_fw_pfsm_golden.c: a scripted print campaign's HAL call log vs. a golden trace. */
/*
 * usage: test_fw_pfsm_golden GOLDEN
 *   Plays the script and compares the log of every HAL call, timed command, event and edge
 *   record (time, call, args) byte for byte with GOLDEN (tests/fw/golden/pfsm_trace.txt).
 * usage: test_fw_pfsm_golden --write-golden GOLDEN
 *   Regenerates GOLDEN after a deliberate behaviour change (read the diff before committing
 *   it). From the build dir: tests/fw/test_fw_pfsm_golden --write-golden
 *   ../tests/fw/golden/pfsm_trace.txt
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "core/print_fsm.h"
#include "core/trigseq.h"
#include "golden.h"
#include "port/sim/sim_pfsm.h"

#define SEC(x) ((uint64_t)((x) * (double)BL_TICKS_PER_SEC))

struct trace {
	char buf[1 << 17];
	size_t len;
};

/*
 * A stage print of 4 frames (drying 0.5, 1, 2, 4 s) with fast heaters (tau 5 s, to 40 / 45 C):
 * the hutch door opens 5.8 s after T (one frame taken: the print is spoiled, the series cut),
 * closes 10 s later, the operator resumes 2 s after that; the re-print's third edge is lost by
 * the trigger box (a MISSING record, later frames shifted); the recipe cools the heaters at the
 * end. A late START while printing is refused.
 */
static void golden_run(struct trace *t)
{
	static struct bl_pfsm_config cfg;
	static struct bl_pfsm fsm;
	static struct bl_sim_pfsm w;
	static struct bl_trigseq ts;
	static const struct bl_trigseq_config tc = {.tolerance = 100, .latency = 5000};
	bl_sim_pfsm_config(&cfg);
	CHECK_EQ_INT(
	    bl_sim_pfsm_init(&w, &fsm, &cfg, &bl_sim_pfsm_delays_default, t->buf, sizeof(t->buf)),
	    0);
	CHECK_EQ_INT(bl_trigseq_init(&ts, &tc), 0);
	bl_sim_pfsm_attach(&w, &ts);
	bl_sim_edges_reset();
	w.heater[0].tau_s = w.heater[1].tau_s = 5;
	CHECK_EQ_INT(bl_sim_pfsm_inject(&w, BL_SIM_P_TRIGGER, 4, 0, 0), 0);
	static struct bl_pfsm_recipe r;
	bl_sim_pfsm_recipe(&r, BL_PMODE_STAGE);
	r.setpoint_c[0] = 40;
	r.setpoint_c[1] = 45;
	r.nframes = 4;
	r.cool = true;
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), 0);
	while (bl_pfsm_state(&fsm) != BL_PFSM_PRINT && w.now < SEC(300))
		bl_sim_pfsm_run(&w, w.now + 1000);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_PRINT);
	CHECK_EQ_INT(bl_sim_pfsm_cmd(&w, BL_PCMD_START, &r), -BL_EINVAL);
	uint64_t door = bl_pfsm_run(&fsm)->t_start + SEC(5.8);
	CHECK_EQ_INT(bl_sim_pfsm_interlock_at(&w, door, BL_PIL_DOOR, true), 0);
	CHECK_EQ_INT(bl_sim_pfsm_interlock_at(&w, door + SEC(10), BL_PIL_DOOR, false), 0);
	CHECK_EQ_INT(bl_sim_pfsm_cmd_at(&w, door + SEC(12), BL_PCMD_RESUME, NULL), 0);
	CHECK(bl_sim_pfsm_run(&w, BL_PFSM_NEVER) > 0);
	CHECK_EQ_INT(w.event_errors, 0);
	CHECK_EQ_INT(bl_pfsm_state(&fsm), BL_PFSM_IDLE);

	const struct bl_pfsm_counters *k = bl_pfsm_counters(&fsm);
	bl_sim_pfsm_tracef(&w,
			   "counters started=%u refused=%u printed=%u spoiled=%u aborted=%u "
			   "faulted=%u primes=%u reads=%u excursions=%u suspensions=%u "
			   "suspended=%" PRIu64 " executed=%u stale_cmds=%u stale=%u state=%s\n",
			   k->started, k->refused, k->printed, k->spoiled, k->aborted, k->faulted,
			   k->primes, k->heater_reads, k->temp_excursions, k->suspensions,
			   k->suspended_ticks, k->timed_executed, k->timed_stale, k->stale_events,
			   bl_pfsm_state_name(bl_pfsm_state(&fsm)));
	const struct bl_pfsm_run *run = bl_pfsm_run(&fsm);
	bl_sim_pfsm_tracef(&w,
			   "run id=%u series=%u T=%" PRIu64 " coat=%" PRIu64 " stop=%" PRIu64
			   " end=%" PRIu64 " film=%.3f executed=%u/%u\n",
			   run->id, run->series, run->t_start, run->t_coat, run->t_stop, run->t_end,
			   run->film_mm, run->executed, run->queued);
	const struct bl_trigseq_counters *q = bl_trigseq_counters(&ts);
	bl_sim_pfsm_tracef(
	    &w,
	    "trigseq series=%u records=%" PRIu64 " edges=%" PRIu64 " on_time=%" PRIu64
	    " missing=%" PRIu64 " off_time=%" PRIu64 " cut=%" PRIu64 "\n",
	    q->series, q->records, q->edges, q->on_time, q->missing, q->off_time, q->cut);
	bl_sim_pfsm_tracef(&w,
			   "world dispensed=%.4f axis=%.3f frames=%u spoiled=%u unarmed=%u "
			   "T0=%.3f T1=%.3f\n",
			   bl_sim_pfsm_dispensed(&w), bl_sim_pfsm_axis(&w), w.det.frames,
			   w.det.frames_spoiled, w.det.frames_unarmed, bl_sim_pfsm_temp(&w, 0),
			   bl_sim_pfsm_temp(&w, 1));
	t->len = w.trace_len;
	if (t->len + 1 >= sizeof(t->buf))
		CHECK(!"trace buffer large enough");
}

static const char *run_trace(size_t *len)
{
	static struct trace t;
	golden_run(&t);
	*len = t.len;
	return t.buf;
}

int main(int argc, char **argv)
{
	return golden_main(argc, argv, run_trace);
}
