/* test_fw_sfsm_scan.c: puck-load label scan, agent silence hold, restore after a controller
 * restart. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "sfsm_fixture.h"

static struct bl_sfsm_config cfg;
static struct bl_sfsm fsm;
static struct bl_sim_sfsm w;

/* Puck 1 loaded: all 16 labels read before any measurement; one unreadable, one mislabelled. */
static void test_scan_puck(void)
{
	fixture_config(&cfg, 32);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	w.label[4].fail_first = -1;
	snprintf(w.label[9].text, sizeof(w.label[9].text), "BL-P2-S01");
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_SCAN, 3, 0), -BL_EINVAL); /* no puck 3 */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 0, 0), 0); /* queued before the scan */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_SCAN, 1, 0), 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_SCAN, 1, 0), -BL_EALREADY);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 15)->scan, BL_SCAN_PENDING);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 16)->scan, BL_SCAN_NONE);
	/* Position 0 was already queued and went first: it is measured (verify at pick). */
	CHECK_EQ_INT(bl_sfsm_current(&fsm), 0);
	CHECK(run_to_state(&w, BL_SFSM_RETURN, SEC(60)));
	CHECK(run_to_state(&w, BL_SFSM_READ, SEC(60))); /* now scanning position 1 */
	CHECK_EQ_INT(bl_sfsm_current(&fsm), 1);
	CHECK(fsm.scanning);
	/* Queue position 1 while it is being scanned, and 4 and 9 which will fail their scan. */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 1, 0), 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 1, 0), -BL_EALREADY);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 4, 0), 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 9, 0), 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 20, 0), 0);
	CHECK(bl_sim_sfsm_run(&w, BL_SFSM_NEVER) > 0);
	CHECK(world_clean(&w));
	for (int i = 0; i < 16; i++) {
		const struct bl_sfsm_pos_status *p = bl_sfsm_pos(&fsm, i);
		int scan = i == 0   ? BL_SCAN_NONE
			   : i == 4 ? BL_SCAN_NOREAD
			   : i == 9 ? BL_SCAN_MISMATCH
				    : BL_SCAN_OK;
		CHECK_EQ_INT(p->scan, scan);
		CHECK_EQ_INT(p->loc, BL_LOC_SLOT);
		CHECK_EQ_INT(w.slot[i], i);
		int state = i == 0 || i == 1 ? BL_POS_DONE
			    : i == 4	     ? BL_POS_QUARANTINED
			    : i == 9	     ? BL_POS_MISMATCH
					     : BL_POS_IDLE;
		CHECK_EQ_INT(p->state, state);
		CHECK_EQ_INT(w.exposures[i], state == BL_POS_DONE);
	}
	/* Scan reads once per position (retries for the unreadable one); position 1 was read again
	 * at its measurement; 4 and 9 were never placed on the stage. */
	CHECK_EQ_INT(w.reads[1], 2);
	CHECK_EQ_INT(w.reads[2], 1);
	CHECK_EQ_INT(w.reads[4], 1 + cfg.retries);
	CHECK_STR(bl_sfsm_pos(&fsm, 9)->read, "BL-P2-S01");
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 20)->state, BL_POS_DONE);
	CHECK_EQ_INT(w.req_count[BL_SIM_REQ_ROBOT][BL_ROBOT_PLACE], 3);
	const struct bl_sfsm_counters *k = bl_sfsm_counters(&fsm);
	CHECK_EQ_INT(k->scanned, 13);
	CHECK_EQ_INT(k->scan_failed, 2);
	CHECK_EQ_INT(k->aborted, 0);
	CHECK_EQ_INT(k->measured, 3);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 4, 0), -BL_EALREADY);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 9, 0), -BL_EALREADY);
}

/* Abort drops pending scans too; the scanned-so-far results stay. */
static void test_scan_abort(void)
{
	fixture_config(&cfg, 16);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_SCAN, 1, 0), 0);
	CHECK(run_to_state(&w, BL_SFSM_RETURN, SEC(60)));
	CHECK(run_to_state(&w, BL_SFSM_TO_READER, SEC(60))); /* position 1 in the gripper */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_ABORT, 0, 0), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->scan, BL_SCAN_OK);
	for (int i = 1; i < 16; i++) {
		CHECK_EQ_INT(bl_sfsm_pos(&fsm, i)->scan, BL_SCAN_NONE);
		CHECK_EQ_INT(bl_sfsm_pos(&fsm, i)->state, BL_POS_IDLE);
		CHECK_EQ_INT(w.slot[i], i);
	}
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_IDLE);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_SCAN, 1, 0), 0); /* scanning again is allowed */
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK_EQ_INT(bl_sfsm_counters(&fsm)->scanned, 17); /* 0 read twice */
}

/* The agent falls silent mid-cycle: hold (robot parks, exposure re-taken), state kept; its
 * return alone does not resume, its resume command does. */
static void test_agent_silence(void)
{
	fixture_config(&cfg, 3);
	cfg.agent_timeout = SEC(5);
	cfg.exposure.frames = 100; /* 10 s: the silence falls inside it */
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	struct bl_sfsm_event hb = {.kind = BL_SFSM_EV_AGENT};
	CHECK_EQ_INT(bl_sfsm_step(&fsm, w.now, &hb), 0);
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, i, 0), 0);
	CHECK_EQ_INT(bl_sfsm_next(&fsm),
		     SEC(5) + 1); /* the silence deadline comes before the pick's */
	/* Heartbeats every second keep it going up to sample 0's placing. */
	for (uint64_t t = SEC(1); t < SEC(8); t += SEC(1)) {
		bl_sim_sfsm_run(&w, t);
		CHECK_EQ_INT(bl_sfsm_step(&fsm, w.now, &hb), 0);
	}
	CHECK_EQ_INT(bl_sfsm_hold(&fsm), 0);
	CHECK(run_to_state(&w, BL_SFSM_EXPOSE, SEC(30)));
	uint64_t silent_from = w.now;
	CHECK_EQ_INT(bl_sfsm_step(&fsm, w.now, &hb), 0);
	CHECK(run_to_state(&w, BL_SFSM_HELD, SEC(30)));
	CHECK_EQ_INT(bl_sfsm_hold(&fsm), BL_HOLD_AGENT);
	CHECK(w.now >= silent_from + SEC(5));
	const struct bl_sfsm_counters *k = bl_sfsm_counters(&fsm);
	CHECK_EQ_INT(k->agent_silences, 1);
	CHECK_EQ_INT(k->exposures_discarded, 1);
	CHECK_EQ_INT(bl_sfsm_current(&fsm), 0);
	CHECK_EQ_INT(w.stage, 0); /* the sample stays on the stage, the robot parked */
	bl_sim_sfsm_run(&w, w.now + SEC(60));
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_HELD); /* still held, nothing moved */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESUME, 0, 0), -BL_EBUSY); /* agent not heard */
	CHECK_EQ_INT(bl_sfsm_step(&fsm, w.now, &hb), 0);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_HELD); /* heard, but resume is explicit */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESUME, 0, 0), 0);
	cfg.agent_timeout = 0; /* the rest runs without heartbeats */
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(bl_sfsm_pos(&fsm, i)->state, BL_POS_DONE);
		CHECK_EQ_INT(w.exposures[i], 1);
	}
	CHECK_EQ_INT(w.spoiled[0], 1);
	CHECK(k->suspended_ticks >= SEC(60));
}

/* A restart found sample 2 on the stage (its series incomplete) and 5 measured: 2 goes back
 * and can be queued again, 5 cannot be measured twice. */
static void test_restore(void)
{
	fixture_config(&cfg, 8);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	w.slot[2] = -1;
	w.stage = 2;
	w.exposures[5] = 1;
	CHECK_EQ_INT(bl_sfsm_restore(&fsm, 5, BL_POS_DONE, true, 7, BL_LOC_SLOT), 0);
	CHECK_EQ_INT(bl_sfsm_restore(&fsm, 2, BL_POS_IDLE, false, 0, BL_LOC_STAGE), 0);
	CHECK_EQ_INT(bl_sfsm_restore(&fsm, 3, BL_POS_IDLE, false, 0, BL_LOC_GRIPPER), -BL_EALREADY);
	CHECK_EQ_INT(bl_sfsm_restore(&fsm, 3, BL_POS_QUEUED, false, 0, BL_LOC_SLOT), -BL_EINVAL);
	CHECK_EQ_INT(bl_sfsm_restore(&fsm, 3, BL_POS_IDLE, false, 0, BL_LOC_UNKNOWN), -BL_EINVAL);
	CHECK_EQ_INT(bl_sfsm_next(&fsm), 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 5, 0), -BL_EALREADY);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 6, 0), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(w.slot[2], 2);
	CHECK_EQ_INT(w.stage, -1);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 2)->state, BL_POS_IDLE);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 2)->loc, BL_LOC_SLOT);
	CHECK_EQ_INT(w.exposures[2], 0);
	CHECK_EQ_INT(w.exposures[6], 1);
	CHECK_EQ_INT(w.exposures[5], 1);
	CHECK_EQ_INT(bl_sfsm_counters(&fsm)->recovered, 1);
	CHECK_EQ_INT(bl_sfsm_counters(&fsm)->aborted, 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 2, 0), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK_EQ_INT(w.exposures[2], 1);
}

int main(void)
{
	test_scan_puck();
	test_scan_abort();
	test_agent_silence();
	test_restore();
	return CHECK_DONE();
}
