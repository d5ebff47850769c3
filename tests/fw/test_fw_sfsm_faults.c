/* test_fw_sfsm_faults.c: sample-cycle faults (robot error, timeout, e-stop) and suspend/resume. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../check.h"
#include "sfsm_fixture.h"

static struct bl_sfsm_config cfg;
static struct bl_sfsm fsm;
static struct bl_sim_sfsm w;

static int robot_requests(void)
{
	int n = 0;
	for (int op = BL_ROBOT_PICK; op <= BL_ROBOT_PARK; op++)
		n += w.req_count[BL_SIM_REQ_ROBOT][op];
	return n;
}

static void queue_all(int n)
{
	for (int i = 0; i < n; i++)
		CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_QUEUE, i, 0), 0);
}

/* In FAULT nothing moves, whatever the time and the commands, until a reset. */
static void check_frozen(void)
{
	int moves = robot_requests();
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_FAULT);
	CHECK_EQ_INT(bl_sfsm_next(&fsm), BL_SFSM_NEVER);
	bl_sim_sfsm_run(&w, w.now + SEC(600));
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESUME, 0, 0), -BL_EINVAL);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_PAUSE, 0, 0), -BL_EINVAL);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK_EQ_INT(robot_requests(), moves);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_FAULT);
}

/* Robot error mid-pick of sample 2: fault with "slot, moving to gripper"; reset by the operator. */
static void test_robot_error_pick(void)
{
	fixture_config(&cfg, 6);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	CHECK_EQ_INT(bl_sim_sfsm_inject(&w, BL_SIM_REQ_ROBOT, BL_ROBOT_PICK, 3, -BL_EIO), 0);
	queue_all(6);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	const struct bl_sfsm_fault *x = bl_sfsm_fault(&fsm);
	CHECK_EQ_INT(x->reason, BL_SAFE_DEVICE_ERROR);
	CHECK_EQ_INT(x->err, -BL_EIO);
	CHECK_EQ_INT(x->sample, 2);
	CHECK_EQ_INT(x->state, BL_SFSM_PICK);
	CHECK_EQ_INT(x->last_known, BL_LOC_SLOT);
	CHECK_EQ_INT(x->moving_to, BL_LOC_GRIPPER);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 2)->state, BL_POS_FAULT);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 2)->to, BL_LOC_GRIPPER);
	CHECK_EQ_INT(w.safe_states, 1);
	check_frozen();
	/* A late or foreign answer is ignored. */
	struct bl_sfsm_event ev = {.kind = BL_SFSM_EV_DONE, .req = fsm.req};
	CHECK_EQ_INT(bl_sfsm_step(&fsm, w.now, &ev), -BL_ENOENT);
	CHECK_EQ_INT(bl_sfsm_counters(&fsm)->stale_events, 1);
	/* The move was cut: reset needs the operator's word on where the sample is. */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESET, 0, BL_LOC_NONE), -BL_EINVAL);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESET, 0, 9), -BL_EINVAL);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_FAULT);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESET, 0, BL_LOC_SLOT), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	for (int i = 0; i < 6; i++) {
		CHECK_EQ_INT(bl_sfsm_pos(&fsm, i)->state, i == 2 ? BL_POS_FAULT : BL_POS_DONE);
		CHECK_EQ_INT(w.exposures[i], i != 2);
		CHECK_EQ_INT(w.slot[i], i);
	}
	CHECK_EQ_INT(bl_sfsm_counters(&fsm)->faulted, 1);
}

/* Robot error mid-return of measured sample 1: last known on the stage, moving to its slot. */
static void test_robot_error_return(void)
{
	fixture_config(&cfg, 3);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	CHECK_EQ_INT(bl_sim_sfsm_inject(&w, BL_SIM_REQ_ROBOT, BL_ROBOT_RETURN, 2, -BL_EIO), 0);
	queue_all(3);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	const struct bl_sfsm_fault *x = bl_sfsm_fault(&fsm);
	CHECK_EQ_INT(x->reason, BL_SAFE_DEVICE_ERROR);
	CHECK_EQ_INT(x->sample, 1);
	CHECK_EQ_INT(x->state, BL_SFSM_RETURN);
	CHECK_EQ_INT(x->last_known, BL_LOC_STAGE);
	CHECK_EQ_INT(x->moving_to, BL_LOC_SLOT);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 1)->measured, 1);
	check_frozen();
	/* The operator finds it still on the stage: the FSM puts it back, never re-measures it. */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESET, 0, BL_LOC_STAGE), 0);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_RETURN);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 1)->state, BL_POS_FAULT);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 1)->loc, BL_LOC_SLOT);
	CHECK_EQ_INT(w.slot[1], 1);
	CHECK_EQ_INT(w.exposures[1], 1);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 2)->state, BL_POS_DONE);
}

/* A device that never answers: barcode (location known) and robot place (move cut). */
static void test_timeouts(void)
{
	fixture_config(&cfg, 3);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	CHECK_EQ_INT(bl_sim_sfsm_inject(&w, BL_SIM_REQ_BARCODE, 0, 2, 0), 0);
	queue_all(3);
	CHECK(run_to_state(&w, BL_SFSM_FAULT, SEC(120)));
	const struct bl_sfsm_fault *x = bl_sfsm_fault(&fsm);
	CHECK_EQ_INT(x->reason, BL_SAFE_TIMEOUT);
	CHECK_EQ_INT(x->err, -BL_ETIMEDOUT);
	CHECK_EQ_INT(x->sample, 1);
	CHECK_EQ_INT(x->state, BL_SFSM_READ);
	CHECK_EQ_INT(x->last_known, BL_LOC_GRIPPER);
	CHECK_EQ_INT(x->moving_to, BL_LOC_NONE);
	/* Found exactly at the deadline: read sent after pick 4 + reader 1.5 of this cycle. */
	uint64_t cycle0 = SEC(4) + MS(1500) + MS(300) + SEC(3) + MS(200) + MS(150) + MS(990) +
			  MS(20) + MS(100) + SEC(5);
	CHECK_EQ_INT(x->now, cycle0 + SEC(4) + MS(1500) + cfg.timeout.barcode);
	check_frozen();
	/* Location known (gripper): reset needs no statement; the FSM puts it back. */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESET, 0, BL_LOC_NONE), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 1)->state, BL_POS_FAULT);
	CHECK_EQ_INT(w.slot[1], 1);
	CHECK_EQ_INT(w.exposures[1], 0);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 2)->state, BL_POS_DONE);

	fixture_config(&cfg, 2);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	CHECK_EQ_INT(bl_sim_sfsm_inject(&w, BL_SIM_REQ_ROBOT, BL_ROBOT_PLACE, 1, 0), 0);
	queue_all(2);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	x = bl_sfsm_fault(&fsm);
	CHECK_EQ_INT(x->reason, BL_SAFE_TIMEOUT);
	CHECK_EQ_INT(x->sample, 0);
	CHECK_EQ_INT(x->last_known, BL_LOC_GRIPPER);
	CHECK_EQ_INT(x->moving_to, BL_LOC_STAGE);
	check_frozen();
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESET, 0, BL_LOC_GRIPPER), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(w.slot[0], 0);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 1)->state, BL_POS_DONE);
}

/* Door open during a pick: the pick finishes, the robot parks holding it, the gap is recorded. */
static void test_door_during_pick(void)
{
	fixture_config(&cfg, 2);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	queue_all(2);
	CHECK_EQ_INT(bl_sim_sfsm_interlock_at(&w, SEC(1), BL_IL_DOOR, true), 0);
	bl_sim_sfsm_run(&w, SEC(2));
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_PICK); /* not cut */
	CHECK_EQ_INT(bl_sfsm_hold(&fsm), BL_HOLD_DOOR);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESUME, 0, 0), -BL_EBUSY); /* door still open */
	bl_sim_sfsm_run(&w, SEC(5));
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_PARK);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->loc, BL_LOC_GRIPPER);
	bl_sim_sfsm_run(&w, SEC(10));
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_HELD);
	CHECK_EQ_INT(w.pose, BL_ROBOT_PARK);
	CHECK_EQ_INT(bl_sim_sfsm_where(&w, 0), BL_LOC_GRIPPER);
	CHECK_EQ_INT(bl_sfsm_next(&fsm), BL_SFSM_NEVER);
	CHECK_EQ_INT(bl_sim_sfsm_interlock_at(&w, SEC(20), BL_IL_DOOR, false), 0);
	bl_sim_sfsm_run(&w, SEC(21));
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_HELD); /* closing the door is not a resume */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESUME, 0, 0), 0);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_TO_READER); /* continues where it stopped */
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	const struct bl_sfsm_counters *k = bl_sfsm_counters(&fsm);
	CHECK_EQ_INT(k->suspensions, 1);
	CHECK_EQ_INT(k->suspended_ticks, SEC(20));
	CHECK_EQ_INT(k->exposures_discarded, 0);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(bl_sfsm_pos(&fsm, i)->state, BL_POS_DONE);
		CHECK_EQ_INT(w.exposures[i], 1);
		CHECK_EQ_INT(w.slot[i], i);
	}
	CHECK_EQ_INT(w.req_count[BL_SIM_REQ_ROBOT][BL_ROBOT_PICK], 2); /* not picked again */
}

/*
 * Door open or beam lost during an exposure: the train is stopped, the detector disarmed, the
 * robot parked; at resume the sample, still on the stage, is measured again from the arm.
 */
static void exposure_interrupted(int il, unsigned bit)
{
	fixture_config(&cfg, 2);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	queue_all(2);
	CHECK(run_to_state(&w, BL_SFSM_EXPOSE, SEC(60)));
	uint64_t t_il = w.now + MS(400);
	CHECK_EQ_INT(bl_sim_sfsm_interlock_at(&w, t_il, il, true), 0);
	bl_sim_sfsm_run(&w, t_il);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_TRIG_STOP);
	CHECK(run_to_state(&w, BL_SFSM_HELD, SEC(10)));
	CHECK_EQ_INT(bl_sfsm_hold(&fsm), bit);
	CHECK_EQ_INT(w.armed, false);
	CHECK_EQ_INT(w.train_on, false);
	CHECK_EQ_INT(w.exposures[0], 0);
	CHECK_EQ_INT(w.spoiled[0], 1);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->loc, BL_LOC_STAGE);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->measured, 0);
	CHECK_EQ_INT(bl_sim_sfsm_interlock_at(&w, t_il + SEC(30), il, false), 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd_at(&w, t_il + SEC(31), BL_CMD_RESUME, 0, 0), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	const struct bl_sfsm_counters *k = bl_sfsm_counters(&fsm);
	CHECK_EQ_INT(k->exposures_discarded, 1);
	CHECK_EQ_INT(k->suspensions, 1);
	CHECK_EQ_INT(k->suspended_ticks, SEC(31));
	CHECK_EQ_INT(w.exposures[0], 1);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->measured, 1);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->series, 2); /* the re-take */
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 1)->series, 3);
	CHECK_EQ_INT(w.req_count[BL_SIM_REQ_ROBOT][BL_ROBOT_PLACE], 2); /* not placed again */
	for (int i = 0; i < 2; i++) {
		CHECK_EQ_INT(bl_sfsm_pos(&fsm, i)->state, BL_POS_DONE);
		CHECK_EQ_INT(w.slot[i], i);
	}
}

static void test_door_during_exposure(void)
{
	exposure_interrupted(BL_IL_DOOR, BL_HOLD_DOOR);
}

static void test_beam_lost_during_exposure(void)
{
	exposure_interrupted(BL_IL_BEAM, BL_HOLD_BEAM);
}

/*
 * Paused while the robot carries the sample to the reader: the hold parks it away from the
 * reader, so resume goes back to the reader before reading. Paused during the read: the read's
 * result stands and the cycle goes on from the place.
 */
static void test_pause_at_reader(void)
{
	fixture_config(&cfg, 1);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	queue_all(1);
	CHECK(run_to_state(&w, BL_SFSM_TO_READER, SEC(60)));
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_PAUSE, 0, 0), 0);
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESUME, 0, 0), -BL_EAGAIN); /* move still on */
	CHECK(run_to_state(&w, BL_SFSM_HELD, SEC(10)));
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESUME, 0, 0), 0);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_TO_READER);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->state, BL_POS_DONE);
	CHECK_EQ_INT(w.reads[0], 1);
	CHECK_EQ_INT(w.req_count[BL_SIM_REQ_ROBOT][BL_ROBOT_READER], 2);

	fixture_config(&cfg, 1);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	queue_all(1);
	CHECK(run_to_state(&w, BL_SFSM_READ, SEC(60)));
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_PAUSE, 0, 0), 0);
	CHECK(run_to_state(&w, BL_SFSM_HELD, SEC(10)));
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESUME, 0, 0), 0);
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_PLACE);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->state, BL_POS_DONE);
	CHECK_EQ_INT(w.reads[0], 1); /* the read taken before the hold counted */
	CHECK_EQ_INT(w.req_count[BL_SIM_REQ_ROBOT][BL_ROBOT_READER], 1);
}

/* E-stop during a place: safe state at once, the move is cut; no reset while it is pressed. */
static void test_estop(void)
{
	fixture_config(&cfg, 2);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	queue_all(2);
	CHECK(run_to_state(&w, BL_SFSM_PLACE, SEC(60)));
	CHECK_EQ_INT(bl_sim_sfsm_interlock_at(&w, w.now + SEC(1), BL_IL_ESTOP, true), 0);
	bl_sim_sfsm_run(&w, w.now + SEC(1));
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_FAULT);
	const struct bl_sfsm_fault *x = bl_sfsm_fault(&fsm);
	CHECK_EQ_INT(x->reason, BL_SAFE_ESTOP);
	CHECK_EQ_INT(x->err, -BL_ECANCELED);
	CHECK_EQ_INT(x->sample, 0);
	CHECK_EQ_INT(x->last_known, BL_LOC_GRIPPER);
	CHECK_EQ_INT(x->moving_to, BL_LOC_STAGE);
	CHECK_EQ_INT(w.safe_states, 1);
	check_frozen();
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESET, 0, BL_LOC_GRIPPER), -BL_EBUSY);
	CHECK_EQ_INT(bl_sim_sfsm_interlock_at(&w, w.now + SEC(5), BL_IL_ESTOP, false), 0);
	bl_sim_sfsm_run(&w, w.now + SEC(5));
	CHECK_EQ_INT(bl_sfsm_state(&fsm), BL_SFSM_FAULT); /* releasing it is not a reset */
	CHECK_EQ_INT(bl_sim_sfsm_cmd(&w, BL_CMD_RESET, 0, BL_LOC_GRIPPER), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	CHECK(world_clean(&w));
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->state, BL_POS_FAULT);
	CHECK_EQ_INT(w.slot[0], 0);
	CHECK_EQ_INT(w.exposures[0], 0);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 1)->state, BL_POS_DONE);
	CHECK_EQ_INT(w.exposures[1], 1);

	/* E-stop during an exposure: the safe state stops the train; the series is not counted. */
	fixture_config(&cfg, 1);
	fixture_world(&w, &fsm, &cfg, NULL, 0);
	queue_all(1);
	CHECK(run_to_state(&w, BL_SFSM_EXPOSE, SEC(60)));
	CHECK_EQ_INT(bl_sim_sfsm_interlock_at(&w, w.now + MS(300), BL_IL_ESTOP, true), 0);
	bl_sim_sfsm_run(&w, BL_SFSM_NEVER);
	x = bl_sfsm_fault(&fsm);
	CHECK_EQ_INT(x->state, BL_SFSM_EXPOSE);
	CHECK_EQ_INT(x->last_known, BL_LOC_STAGE);
	CHECK_EQ_INT(x->moving_to, BL_LOC_NONE);
	CHECK_EQ_INT(w.train_on, false);
	CHECK_EQ_INT(w.exposures[0], 0);
	CHECK_EQ_INT(bl_sfsm_pos(&fsm, 0)->measured, 0);
}

int main(void)
{
	test_robot_error_pick();
	test_robot_error_return();
	test_timeouts();
	test_door_during_pick();
	test_door_during_exposure();
	test_beam_lost_during_exposure();
	test_pause_at_reader();
	test_estop();
	return CHECK_DONE();
}
