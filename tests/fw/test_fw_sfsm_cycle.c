/* test_fw_sfsm_cycle.c: the sample cycle on the virtual clock: a full campaign, misreads, mismatch.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "sfsm_fixture.h"

static struct bl_sfsm_config cfg;
static struct bl_sfsm fsm;
static struct bl_sim_sfsm w;

static void test_config_checked(void)
{
	struct bl_sfsm f;
	fixture_config(&cfg, 4);
	CHECK_EQ_INT(bl_sfsm_init(&f, &cfg), 0);
	cfg.pos[3].slot = cfg.pos[1].slot; /* two samples in one slot */
	CHECK_EQ_INT(bl_sfsm_init(&f, &cfg), -BL_EINVAL);
	fixture_config(&cfg, 4);
	cfg.pos[2].barcode[0] = '\0';
	CHECK_EQ_INT(bl_sfsm_init(&f, &cfg), -BL_EINVAL);
	fixture_config(&cfg, 4);
	memset(cfg.pos[2].barcode, 'X', sizeof(cfg.pos[2].barcode)); /* not terminated */
	CHECK_EQ_INT(bl_sfsm_init(&f, &cfg), -BL_EINVAL);
	fixture_config(&cfg, 4);
	cfg.exposure.period = cfg.exposure.count_time - 1;
	CHECK_EQ_INT(bl_sfsm_init(&f, &cfg), -BL_EINVAL);
	fixture_config(&cfg, 4);
	cfg.timeout.barcode = 0;
	CHECK_EQ_INT(bl_sfsm_init(&f, &cfg), -BL_EINVAL);
	fixture_config(&cfg, 33);
	CHECK_EQ_INT(bl_sfsm_init(&f, &cfg), -BL_EINVAL);
}

/* 32 positions queued at once: each measured exactly once and back in its own slot. */
static void test_campaign(void)
{
	fixture_config(&cfg, 32);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_IDLE);
	CHECK_EQ_INT(bl_sfsm_next(&fsm), BL_SFSM_NEVER);
	for (int i = 0; i < 32; i++)
		CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, i, 0), 0);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_PICK); /* the first pick went out at once */
	CHECK_EQ_INT(bl_sfsm_current(&fsm), 0);
	CHECK_EQ_INT(bl_sfsm_queued(&fsm), 31);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 5, 0), -BL_EALREADY);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 32, 0), -BL_EINVAL);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESUME, 0, 0), -BL_EINVAL); /* nothing held */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESET, 0, 0), -BL_EINVAL);  /* no fault */
	CHECK(bl_sim_sfsm_run(&w, BL_SFSM_NEVER) > 0);

	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_IDLE);
	CHECK_EQ_INT(bl_sfsm_current(&fsm), -1);
	for (int i = 0; i < 32; i++) {
		const struct bl_sfsm_pos_status *p = bl_sfsm_pos(&fsm, i);
		CHECK_EQ_INT(p->state, BL_POS_DONE);
		CHECK_EQ_INT(p->loc, BL_LOC_SLOT);
		CHECK_EQ_INT(p->measured, 1);
		CHECK_EQ_INT(p->reads, 1);
		CHECK_EQ_INT(p->series, i + 1); /* in queue order */
		CHECK_EQ_INT(w.exposures[i], 1);
		CHECK_EQ_INT(w.spoiled[i], 0);
		CHECK_EQ_INT(w.slot[i], i); /* its own slot */
	}
	CHECK_EQ_INT(w.gripper, -1);
	CHECK_EQ_INT(w.stage, -1);
	const struct bl_sfsm_counters *k = bl_sfsm_counters(&fsm);
	CHECK_EQ_INT(k->measured, 32);
	CHECK_EQ_INT(k->robot_moves, 32 * 4);
	CHECK_EQ_INT(w.req_count[BL_SIM_REQ_ROBOT][BL_ROBOT_PICK], 32);
	CHECK_EQ_INT(w.req_count[BL_SIM_REQ_ROBOT][BL_ROBOT_RETURN], 32);
	CHECK_EQ_INT(w.req_count[BL_SIM_REQ_ROBOT][BL_ROBOT_PARK], 0);
	CHECK_EQ_INT(k->reads, 32);
	CHECK_EQ_INT(k->exposures_by_time, 0); /* the detector reported every series */
	CHECK_EQ_INT(k->faulted + k->quarantined + k->mismatched + k->aborted, 0);
	CHECK_EQ_INT(k->stale_events, 0);
	CHECK_EQ_INT(w.safe_states, 0);
	/* One cycle: pick 4 + reader 1.5 + read 0.3 + place 3 + arm 0.2 + train ack 0.01, the
	 * train from ack time + lead - ack delay for 9 periods + a frame, readout 0.02,
	 * disarm 0.1, return 5 s. */
	uint64_t cycle = SEC(4) + MS(1500) + MS(300) + SEC(3) + MS(200) + MS(150) + MS(900) +
			 MS(90) + MS(20) + MS(100) + SEC(5);
	CHECK_EQ_INT(w.now, 32 * cycle);
}

/* Without frames events the exposure ends by the train's end time + margin. */
static void test_end_by_time(void)
{
	fixture_config(&cfg, 3);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	w.frames_events = false;
	for (int i = 0; i < 3; i++)
		CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, i, 0), 0);
	CHECK(run_to_state(&w, BL_SFSM_EXPOSE, SEC(60)));
	/* The trigger-edge latch: third edge of the first series, sample 0. */
	struct bl_sfsm_latch l;
	uint64_t t0 = fsm.train_start;
	CHECK_EQ_INT(bl_sfsm_latch(&fsm, t0 + 2 * MS(100) + 5, &l), 0);
	CHECK_EQ_INT(l.series, 1);
	CHECK_EQ_INT(l.frame, 2);
	CHECK_EQ_INT(l.sample, 0);
	CHECK_EQ_INT(l.puck, 1);
	CHECK_EQ_INT(l.slot, 1);
	CHECK_STR(l.barcode, "BL-P1-S01");
	/* nearest programmed edge: a first edge read back a little early is still frame 0 */
	CHECK_EQ_INT(bl_sfsm_latch(&fsm, t0 - 1, &l), 0);
	CHECK_EQ_INT(l.frame, 0);
	CHECK_EQ_INT(bl_sfsm_latch(&fsm, t0 + 3 * MS(100) - MS(10), &l), 0);
	CHECK_EQ_INT(l.frame, 3);
	CHECK_EQ_INT(bl_sfsm_latch(&fsm, t0 - MS(50) - 1, &l), -BL_ENOENT);
	CHECK_EQ_INT(bl_sfsm_latch(&fsm, t0 + 10 * MS(100) - 1, &l), 0); /* last period */
	CHECK_EQ_INT(l.frame, 9);
	CHECK_EQ_INT(bl_sfsm_latch(&fsm, t0 + 10 * MS(100), &l), -BL_ENOENT);
	CHECK_EQ_INT(bl_sfsm_next(&fsm), t0 + 9 * MS(100) + MS(90) + MS(50));
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_counters(&fsm)->exposures_by_time, 3);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ_INT(bl_sfsm_pos(&fsm, i)->state, BL_POS_DONE);
		CHECK_EQ_INT(w.exposures[i], 1);
	}
	CHECK_EQ_INT(bl_sfsm_latch(&fsm, t0 + 5, &l), -BL_ENOENT); /* no train now */
}

/*
 * Position 3's label never reads: 1 + retries reads, then back to its slot, quarantined.
 * Position 5 carries a valid label of another sample: read once, back, mismatch. Position 7
 * misreads once (check digit), then reads: measured. Every other position is unaffected.
 */
static void test_misread_mismatch(void)
{
	fixture_config(&cfg, 10);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	w.label[3].fail_first = -1;
	snprintf(w.label[5].text, sizeof(w.label[5].text), "BL-P1-S09");
	w.label[7].fail_first = 1;
	w.label[7].fail_rc = -BL_EBADMSG;
	for (int i = 0; i < 10; i++)
		CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, i, 0), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	for (int i = 0; i < 10; i++) {
		const struct bl_sfsm_pos_status *p = bl_sfsm_pos(&fsm, i);
		int want = i == 3 ? BL_POS_QUARANTINED : i == 5 ? BL_POS_MISMATCH : BL_POS_DONE;
		CHECK_EQ_INT(p->state, want);
		CHECK_EQ_INT(p->loc, BL_LOC_SLOT);
		CHECK_EQ_INT(w.slot[i], i);
		CHECK_EQ_INT(p->measured, want == BL_POS_DONE);
		CHECK_EQ_INT(w.exposures[i], want == BL_POS_DONE);
		CHECK_EQ_INT(w.reads[i], i == 3 ? 1 + cfg.retries : i == 7 ? 2 : 1);
		CHECK_EQ_INT(p->reads, w.reads[i]);
	}
	CHECK_STR(bl_sfsm_pos(&fsm, 5)->read, "BL-P1-S09");
	const struct bl_sfsm_counters *k = bl_sfsm_counters(&fsm);
	CHECK_EQ_INT(k->quarantined, 1);
	CHECK_EQ_INT(k->mismatched, 1);
	CHECK_EQ_INT(k->measured, 8);
	CHECK_EQ_INT(k->read_retries, cfg.retries + 1);
	/* Neither the quarantined nor the mismatched sample was ever put on the stage. */
	CHECK_EQ_INT(w.req_count[BL_SIM_REQ_ROBOT][BL_ROBOT_PLACE], 8);
	CHECK_EQ_INT(w.spoiled[3] + w.spoiled[5], 0);
	/* Handled positions cannot be queued again (no sample is measured twice). */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 3, 0), -BL_EALREADY);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 4, 0), -BL_EALREADY);

	/* retries = 0: one failed read quarantines. */
	fixture_config(&cfg, 2);
	cfg.retries = 0;
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	w.label[0].fail_first = 1;
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 0, 0), 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 1, 0), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->state, BL_POS_QUARANTINED);
	CHECK_EQ_INT(w.reads[0], 1);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 1)->state, BL_POS_DONE);
}

/* Abort during an exposure: the series is cut, the sample goes back unmeasured, queue dropped. */
static void test_abort(void)
{
	fixture_config(&cfg, 4);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, i, 0), 0);
	CHECK(run_to_state(&w, BL_SFSM_RETURN, SEC(60)));
	CHECK(run_to_state(&w, BL_SFSM_EXPOSE, SEC(60))); /* sample 1's exposure */
	CHECK_EQ_INT(bl_sfsm_current(&fsm), 1);
	bl_sim_sfsm_run(&w, w.now + MS(300));
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_ABORT, 0, 0), 0);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_TRIG_STOP);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_IDLE);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->state, BL_POS_DONE);
	for (int i = 1; i < 4; i++) {
		CHECK_EQ_INT(bl_sfsm_pos(&fsm, i)->state, BL_POS_IDLE);
		CHECK_EQ_INT(bl_sfsm_pos(&fsm, i)->measured, 0);
		CHECK_EQ_INT(w.exposures[i], 0);
		CHECK_EQ_INT(w.slot[i], i);
	}
	CHECK_EQ_INT(w.spoiled[1], 1);
	const struct bl_sfsm_counters *k = bl_sfsm_counters(&fsm);
	CHECK_EQ_INT(k->aborted, 1);
	CHECK_EQ_INT(k->exposures_discarded, 1);
	/* An aborted position can be queued again and is then measured once. */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, 1, 0), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 1)->state, BL_POS_DONE);
	CHECK_EQ_INT(w.exposures[1], 1);
}

int main(void)
{
	test_config_checked();
	test_campaign();
	test_end_by_time();
	test_misread_mismatch();
	test_abort();
	return CHECK_DONE();
}
