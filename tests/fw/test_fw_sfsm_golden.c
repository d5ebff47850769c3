/* test_fw_sfsm_golden.c: a scripted sample campaign's HAL call log vs. a golden trace. */
/*
 * usage: test_fw_sfsm_golden GOLDEN
 *   Plays the script and compares the log of every HAL call and event (time, call, args) byte
 *   for byte with GOLDEN (tests/fw/golden/sfsm_trace.txt).
 * usage: test_fw_sfsm_golden --write-golden GOLDEN
 *   Regenerates GOLDEN after a deliberate behaviour change (read the diff before committing
 *   it). From the build dir: tests/fw/test_fw_sfsm_golden --write-golden
 *   ../tests/fw/golden/sfsm_trace.txt
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../check.h"
#include "golden.h"
#include "sfsm_fixture.h"

struct trace {
	char buf[65536];
	size_t len;
};

/*
 * Four samples queued at t=0: s0's label misreads once (no read) then reads; s1 carries s3's
 * label (mismatch: back unmeasured); the hutch door opens during s2's pick, closes 30 s later,
 * the agent resumes 2 s after that; s3 is an ordinary cycle.
 */
static void golden_run(struct trace *t)
{
	static struct bl_sfsm_config cfg;
	static struct bl_sfsm fsm;
	static struct bl_sim_sfsm w;
	fixture_config(&cfg, 4);
	fixture_world(&w, &fsm, &cfg, t->buf, sizeof(t->buf));
	w.label[0].fail_first = 1;
	snprintf(w.label[1].text, sizeof(w.label[1].text), "%s", cfg.pos[3].barcode);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, i, 0), 0);
	const uint64_t door = SEC(28); /* during s2's pick (26.36 s - 30.36 s) */
	CHECK_EQ_INT(bl_sim_sfsm_interlock_at(&w, door, BL_IL_DOOR, true), 0);
	CHECK_EQ_INT(bl_sim_sfsm_interlock_at(&w, door + SEC(30), BL_IL_DOOR, false), 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd_at(&w, door + SEC(32), BL_CMD_RESUME, 0, 0), 0);
	CHECK(bl_sim_sfsm_run(&w, BL_SFSM_NEVER) > 0);
	CHECK(world_clean(&w));
	for (int i = 0; i < 4; i++) {
		const struct bl_sfsm_pos_status *p = bl_sfsm_pos(&fsm, i);
		bl_sim_sfsm_tracef(&w, "pos s%d %s loc=%s measured=%u series=%u reads=%u read=%s\n",
				   i, bl_sfsm_pos_state_name(p->state), bl_loc_name(p->loc),
				   p->measured, p->series, p->reads, p->read);
	}
	const struct bl_sfsm_counters *k = bl_sfsm_counters(&fsm);
	bl_sim_sfsm_tracef(&w,
			   "counters measured=%u quarantined=%u mismatched=%u faulted=%u reads=%u "
			   "retries=%u moves=%u suspensions=%u suspended=%" PRIu64
			   " discarded=%u by_time=%u stale=%u state=%s\n",
			   k->measured, k->quarantined, k->mismatched, k->faulted, k->reads,
			   k->read_retries, k->robot_moves, k->suspensions, k->suspended_ticks,
			   k->exposures_discarded, k->exposures_by_time, k->stale_events,
			   bl_sfsm_state_name(bl_sfsm_state(&fsm)));
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
