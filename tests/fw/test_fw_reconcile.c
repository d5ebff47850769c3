/* test_fw_reconcile.c: the start-up reconcile rules, one table row per case. */
#include <errno.h>
#include <stdbool.h>

#include "../check.h"
#include "port/linux/fw_reconcile.h"

#define N 8 /* positions in the snapshot */
#define A 1 /* the sample a case is about */
#define B 4 /* a second one, for the "two out" cases */

enum { SL = BL_LOC_SLOT, GR = BL_LOC_GRIPPER, ST = BL_LOC_STAGE, UN = BL_LOC_UNKNOWN };
enum { REC_U = BL_FW_REC_UNKNOWN, REC_J = BL_FW_REC_JOURNAL, REC_S = BL_FW_REC_SENSORS };

/* Sensor shorthands: robot reachable and idle, gripper and stage read (h/e) or unreadable (-). */
#define S_OK(g, s)                                                                                 \
	{                                                                                          \
		true, true, (g) >= 0, (g) == 1, (s) >= 0, (s) == 1                                 \
	}
#define S_BUSY(g, s)                                                                               \
	{                                                                                          \
		true, false, (g) >= 0, (g) == 1, (s) >= 0, (s) == 1                                \
	}
#define S_GONE(g, s)                                                                               \
	{                                                                                          \
		false, false, (g) >= 0, (g) == 1, (s) >= 0, (s) == 1                               \
	}
#define H 1  /* holds / occupied */
#define E 0  /* empty */
#define X -1 /* not read */

struct rcase {
	const char *name;
	int a_loc, a_from, a_to, a_at; /* sample A: journaled loc; unresolved move (from 0: none) */
	int b_loc;		       /* sample B journaled loc (slot: home) */
	struct bl_fw_sensors sens;
	int want_a, want_how, want_b; /* proven locations (UN: unknown) and how A was proven */
	bool motion;
	unsigned blocks;
	const char *a_says; /* a substring of A's reason line, or NULL */
};

/* clang-format off */
static const struct rcase cases[] = {
	/* Everything home. */
	{"home, sensors empty", SL, 0, 0, 0, SL, S_OK(E, E), SL, REC_J, SL, true, 0, "in its slot (journal)"},
	{"home, sensors unreadable", SL, 0, 0, 0, SL, S_OK(X, X), SL, REC_J, SL, true, 0, NULL},
	{"home, gripper holds: foreign", SL, 0, 0, 0, SL, S_OK(H, E), SL, REC_J, SL, false, BL_FW_REC_FOREIGN_GRIPPER, NULL},
	{"home, stage occupied: foreign", SL, 0, 0, 0, SL, S_OK(E, H), SL, REC_J, SL, false, BL_FW_REC_FOREIGN_STAGE, NULL},
	{"home, robot busy", SL, 0, 0, 0, SL, S_BUSY(E, E), SL, REC_J, SL, false, BL_FW_REC_ROBOT_BUSY, NULL},
	{"home, robot unreachable", SL, 0, 0, 0, SL, S_GONE(X, E), SL, REC_J, SL, false, BL_FW_REC_ROBOT_UNREACHABLE, NULL},
	/* Journaled out of the slot, no unresolved move: the sensor must agree. */
	{"gripper, holds", GR, 0, 0, 0, SL, S_OK(H, E), GR, REC_J, SL, true, 0, "in the gripper (journal; gripper holds)"},
	{"gripper, empty", GR, 0, 0, 0, SL, S_OK(E, E), UN, REC_U, SL, false, 0, "journaled in the gripper but gripper empty; find the sample"},
	{"gripper, unreadable", GR, 0, 0, 0, SL, S_OK(X, E), UN, REC_U, SL, false, 0, "gripper unreadable; check the gripper"},
	{"gripper, stage occupied too", GR, 0, 0, 0, SL, S_OK(H, H), GR, REC_J, SL, false, BL_FW_REC_FOREIGN_STAGE, NULL},
	{"stage, occupied", ST, 0, 0, 0, SL, S_OK(E, H), ST, REC_J, SL, true, 0, "on the stage (journal; stage occupied)"},
	{"stage, occupied, gripper holds too", ST, 0, 0, 0, SL, S_OK(H, H), ST, REC_J, SL, false, BL_FW_REC_FOREIGN_GRIPPER, NULL},
	{"stage, empty", ST, 0, 0, 0, SL, S_OK(E, E), UN, REC_U, SL, false, 0, "stage empty"},
	{"stage, unreadable", ST, 0, 0, 0, SL, S_OK(E, X), UN, REC_U, SL, false, 0, "stage unreadable"},
	{"stage, robot unreachable", ST, 0, 0, 0, SL, S_GONE(X, H), UN, REC_U, SL, false, BL_FW_REC_ROBOT_UNREACHABLE, "robot not reachable"},
	/* slot -> gripper (pick). */
	{"pick, holds", SL, SL, GR, 0, SL, S_OK(H, E), GR, REC_S, SL, true, 0, "reconciled from sensors (gripper holds): in the gripper"},
	{"pick, empty: never gripped", SL, SL, GR, 0, SL, S_OK(E, E), SL, REC_S, SL, true, 0, "in its slot"},
	{"pick cut, empty", SL, SL, GR, UN, SL, S_OK(E, E), SL, REC_S, SL, true, 0, "failed or was cut (rc -110)"},
	{"pick, gripper unreadable", SL, SL, GR, 0, SL, S_OK(X, E), UN, REC_U, SL, false, 0,
	 "sample 1 (BL-P1-S02, puck 1 slot 2): move slot->gripper #7 has no outcome (controller stopped); gripper sensor unreadable; check the slot and the gripper, then run `beamloop fw resolve 1 slot|gripper|stage`"},
	{"pick, stage unreadable: not needed", SL, SL, GR, 0, SL, S_OK(H, X), GR, REC_S, SL, true, 0, NULL},
	{"pick, stage occupied: foreign", SL, SL, GR, 0, SL, S_OK(E, H), SL, REC_S, SL, false, BL_FW_REC_FOREIGN_STAGE, NULL},
	{"pick, robot still moving", SL, SL, GR, 0, SL, S_BUSY(H, E), UN, REC_U, SL, false, BL_FW_REC_ROBOT_BUSY, "robot still moving"},
	{"pick, robot unreachable", SL, SL, GR, 0, SL, S_GONE(H, E), UN, REC_U, SL, false, BL_FW_REC_ROBOT_UNREACHABLE, "robot not reachable"},
	/* gripper -> gripper (to the reader, park). */
	{"reader, holds", GR, GR, GR, 0, SL, S_OK(H, E), GR, REC_S, SL, true, 0, NULL},
	{"reader, empty: dropped", GR, GR, GR, UN, SL, S_OK(E, E), UN, REC_U, SL, false, 0, "left the gripper on the way; find the sample"},
	{"reader, empty, stage occupied", GR, GR, GR, 0, SL, S_OK(E, H), UN, REC_U, SL, false, BL_FW_REC_FOREIGN_STAGE, NULL},
	/* gripper -> stage (place). */
	{"place, holds", GR, GR, ST, 0, SL, S_OK(H, E), GR, REC_S, SL, true, 0, NULL},
	{"place, on stage", GR, GR, ST, 0, SL, S_OK(E, H), ST, REC_S, SL, true, 0, "(gripper empty, stage occupied): on the stage"},
	{"place, both empty", GR, GR, ST, UN, SL, S_OK(E, E), UN, REC_U, SL, false, 0, "left the gripper"},
	{"place, both occupied", GR, GR, ST, 0, SL, S_OK(H, H), UN, REC_U, SL, false, 0, "two objects for one sample"},
	{"place, stage unreadable", GR, GR, ST, 0, SL, S_OK(H, X), UN, REC_U, SL, false, 0, "stage sensor unreadable"},
	{"place, gripper unreadable", GR, GR, ST, 0, SL, S_OK(X, H), UN, REC_U, SL, false, 0, "gripper sensor unreadable"},
	/* stage -> slot (return from the stage). */
	{"return, holds", ST, ST, SL, 0, SL, S_OK(H, E), GR, REC_S, SL, true, 0, NULL},
	{"return, still on stage", ST, ST, SL, UN, SL, S_OK(E, H), ST, REC_S, SL, true, 0, NULL},
	{"return, both empty: in the slot", ST, ST, SL, 0, SL, S_OK(E, E), SL, REC_S, SL, true, 0, NULL},
	{"return, both occupied", ST, ST, SL, 0, SL, S_OK(H, H), UN, REC_U, SL, false, 0, "two objects"},
	{"return, gripper unreadable", ST, ST, SL, 0, SL, S_OK(X, E), UN, REC_U, SL, false, 0, "check the slot, the gripper and the stage"},
	{"return, robot busy", ST, ST, SL, 0, SL, S_BUSY(E, E), UN, REC_U, SL, false, BL_FW_REC_ROBOT_BUSY, NULL},
	/* gripper -> slot (return from the gripper). */
	{"return from gripper, holds", GR, GR, SL, 0, SL, S_OK(H, E), GR, REC_S, SL, true, 0, NULL},
	{"return from gripper, empty", GR, GR, SL, 0, SL, S_OK(E, E), SL, REC_S, SL, true, 0, NULL},
	{"return from gripper, stage occupied", GR, GR, SL, 0, SL, S_OK(E, H), SL, REC_S, SL, false, BL_FW_REC_FOREIGN_STAGE, NULL},
	{"return from gripper, stage unreadable", GR, GR, SL, 0, SL, S_OK(E, X), SL, REC_S, SL, true, 0, NULL},
	/* Two samples out: never guessed, whatever the sensors say. */
	{"two out: gripper and stage", GR, 0, 0, 0, ST, S_OK(H, H), UN, REC_U, UN, false, BL_FW_REC_MANY_OUT, "2 samples are out of their slots"},
	{"two out: open pick and stage", SL, SL, GR, 0, ST, S_OK(H, H), UN, REC_U, UN, false, BL_FW_REC_MANY_OUT, NULL},
	{"two out: both gripper", GR, 0, 0, 0, GR, S_OK(H, E), UN, REC_U, UN, false, BL_FW_REC_MANY_OUT, NULL},
};
/* clang-format on */

static void fill(struct bl_fw_journal_snapshot *snap)
{
	memset(snap, 0, sizeof *snap);
	snap->count = N;
	for (int i = 0; i < N; i++) {
		struct bl_fw_journal_sample *s = &snap->s[i];
		s->puck = (uint8_t)(1 + i / 16);
		s->slot = (uint8_t)(1 + i % 16);
		snprintf(s->barcode, sizeof s->barcode, "BL-P%u-S%02u", s->puck, s->slot);
		s->loc = BL_LOC_SLOT;
	}
}

static void run_case(const struct rcase *c)
{
	struct bl_fw_journal_snapshot snap;
	fill(&snap);
	snap.s[A].loc = (uint8_t)c->a_loc;
	if (c->a_from) {
		snap.s[A].move_id = 7;
		snap.s[A].move_from = (uint8_t)c->a_from;
		snap.s[A].move_to = (uint8_t)c->a_to;
		snap.s[A].move_at = (uint8_t)c->a_at;
		snap.s[A].move_rc = c->a_at == UN ? -110 : 0;
	}
	snap.s[B].loc = (uint8_t)c->b_loc;
	struct bl_fw_reconcile r;
	int rc = bl_fw_reconcile(&snap, &c->sens, &r);
	int fails = check_failures;
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(r.count, N);
	CHECK_EQ_INT(r.s[A].loc, c->want_a);
	CHECK_EQ_INT(r.s[A].how, c->want_how);
	CHECK_EQ_INT(r.s[A].move_id, c->a_from ? 7 : 0);
	CHECK_EQ_INT(r.s[B].loc, c->want_b);
	CHECK_EQ_INT(r.motion_allowed, c->motion);
	CHECK_EQ_INT(r.blocks, c->blocks);
	int unknown = (c->want_a == UN) + (c->want_b == UN);
	CHECK_EQ_INT(r.unknown, unknown);
	for (int i = 0; i < N; i++) {
		if (i == A || i == B)
			continue;
		CHECK_EQ_INT(r.s[i].loc, SL); /* the others stay proven in their slots */
		CHECK_EQ_INT(r.s[i].how, REC_J);
	}
	for (int i = 0; i < N; i++) {
		bool ask = strstr(r.s[i].reason, "beamloop fw resolve") != NULL;
		CHECK_EQ_INT(ask, r.s[i].how == REC_U); /* every unknown says how to settle it */
		size_t len = strlen(r.s[i].reason);
		if (ask) /* whole, never cut short */
			CHECK(len > 19 && !strcmp(r.s[i].reason + len - 19, "slot|gripper|stage`"));
		CHECK(strchr(r.s[i].reason, '\n') == NULL);
	}
	if (c->a_says && !strstr(r.s[A].reason, c->a_says)) {
		fprintf(stderr, "reason lacks \"%s\"\n", c->a_says);
		check_failures++;
	}
	CHECK(strlen(r.summary) > 0);
	if (r.motion_allowed)
		CHECK(strstr(r.summary, "motion allowed") != NULL);
	else
		CHECK(strstr(r.summary, "refused") != NULL);
	if (check_failures != fails)
		fprintf(stderr, "  in case \"%s\": A: %s | summary: %s\n", c->name, r.s[A].reason,
			r.summary);
}

static void test_malformed(void)
{
	struct bl_fw_journal_snapshot snap;
	struct bl_fw_sensors sens = S_OK(E, E);
	struct bl_fw_reconcile r;
	fill(&snap);
	snap.count = 0;
	CHECK_EQ_INT(bl_fw_reconcile(&snap, &sens, &r), -EINVAL);
	fill(&snap);
	snap.count = BL_SFSM_MAX_POS + 1;
	CHECK_EQ_INT(bl_fw_reconcile(&snap, &sens, &r), -EINVAL);
	fill(&snap);
	snap.s[3].loc = BL_LOC_UNKNOWN; /* the journal only holds proven places */
	CHECK_EQ_INT(bl_fw_reconcile(&snap, &sens, &r), -EINVAL);
	fill(&snap);
	snap.s[3].move_id = 2;
	snap.s[3].move_from = BL_LOC_NONE;
	snap.s[3].move_to = BL_LOC_GRIPPER;
	CHECK_EQ_INT(bl_fw_reconcile(&snap, &sens, &r), -EINVAL);
	fill(&snap);
	CHECK_EQ_INT(bl_fw_reconcile(NULL, &sens, &r), -EINVAL);
	CHECK_EQ_INT(bl_fw_reconcile(&snap, NULL, &r), -EINVAL);
	CHECK_EQ_INT(bl_fw_reconcile(&snap, &sens, NULL), -EINVAL);
}

/* 32 positions, a long barcode: lines stay whole and terminated. */
static void test_full_inventory(void)
{
	struct bl_fw_journal_snapshot snap;
	memset(&snap, 0, sizeof snap);
	snap.count = BL_SFSM_MAX_POS;
	for (int i = 0; i < BL_SFSM_MAX_POS; i++) {
		snap.s[i].puck = (uint8_t)(1 + i / 16);
		snap.s[i].slot = (uint8_t)(1 + i % 16);
		memset(snap.s[i].barcode, 'Z', BL_SFSM_BARCODE_MAX - 1);
		snap.s[i].loc = BL_LOC_SLOT;
	}
	snap.s[31].move_id = 123456789;
	snap.s[31].move_from = BL_LOC_STAGE;
	snap.s[31].move_to = BL_LOC_SLOT;
	snap.s[31].move_at = BL_LOC_UNKNOWN;
	snap.s[31].move_rc = -125;
	struct bl_fw_sensors sens = S_OK(X, X);
	struct bl_fw_reconcile r;
	CHECK_EQ_INT(bl_fw_reconcile(&snap, &sens, &r), 0);
	CHECK_EQ_INT(r.unknown, 1);
	CHECK_EQ_INT(r.s[31].loc, UN);
	CHECK(strstr(r.s[31].reason, "sample 31 (ZZZZ") == r.s[31].reason);
	CHECK(strstr(r.s[31].reason, "#123456789 failed or was cut (rc -125)") != NULL);
	CHECK(strstr(r.s[31].reason, "`beamloop fw resolve 31 slot|gripper|stage`") != NULL);
	CHECK(!r.motion_allowed);
	CHECK(strstr(r.summary, "1 sample(s) not proven") != NULL);

	/* The longest line there is: every number at its widest, two objects for one sample. */
	snap.s[31].puck = snap.s[31].slot = 254;
	snap.s[31].move_id = INT64_MAX;
	snap.s[31].move_from = BL_LOC_GRIPPER;
	snap.s[31].move_to = BL_LOC_STAGE;
	snap.s[31].move_rc = INT32_MIN;
	struct bl_fw_sensors both = S_OK(H, H);
	CHECK_EQ_INT(bl_fw_reconcile(&snap, &both, &r), 0);
	CHECK_EQ_INT(r.s[31].loc, UN);
	size_t len = strlen(r.s[31].reason);
	CHECK(len + 1 < sizeof r.s[31].reason);
	CHECK(len > 19 && !strcmp(r.s[31].reason + len - 19, "slot|gripper|stage`"));
	CHECK(strstr(r.s[31].reason, "two objects for one sample") != NULL);
}

static void test_restore_state(void)
{
	CHECK_EQ_INT(bl_fw_reconcile_restore_state(BL_POS_ACTIVE, true), BL_POS_DONE);
	CHECK_EQ_INT(bl_fw_reconcile_restore_state(BL_POS_ACTIVE, false), BL_POS_IDLE);
	CHECK_EQ_INT(bl_fw_reconcile_restore_state(BL_POS_QUEUED, false), BL_POS_IDLE);
	CHECK_EQ_INT(bl_fw_reconcile_restore_state(BL_POS_IDLE, false), BL_POS_IDLE);
	CHECK_EQ_INT(bl_fw_reconcile_restore_state(BL_POS_DONE, true), BL_POS_DONE);
	CHECK_EQ_INT(bl_fw_reconcile_restore_state(BL_POS_QUARANTINED, false), BL_POS_QUARANTINED);
	CHECK_EQ_INT(bl_fw_reconcile_restore_state(BL_POS_MISMATCH, false), BL_POS_MISMATCH);
	CHECK_EQ_INT(bl_fw_reconcile_restore_state(BL_POS_FAULT, true), BL_POS_FAULT);
}

int main(void)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		run_case(&cases[i]);
	test_malformed();
	test_full_inventory();
	test_restore_state();
	printf("%zu reconcile cases\n", sizeof cases / sizeof cases[0]);
	return CHECK_DONE();
}
