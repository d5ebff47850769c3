/* test_fw_journal.c: the sample journal's schema, writes, snapshot, reopen and refusals. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../check.h"
#include "port/linux/fw_journal.h"
#include "port/linux/fw_reconcile.h"

#define N 6

static char dir[256];
static struct bl_sfsm_position inv[N];

static void make_inventory(void)
{
	memset(inv, 0, sizeof inv);
	for (int i = 0; i < N; i++) {
		inv[i].puck = 1;
		inv[i].slot = (uint8_t)(i + 1);
		snprintf(inv[i].barcode, sizeof inv[i].barcode, "BL-P1-S%02d", i + 1);
	}
}

static void path_of(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", dir, name);
}

static struct bl_fw_journal *open_ok(const char *path)
{
	struct bl_fw_journal *j = NULL;
	char err[512];
	int rc = bl_fw_journal_open(path, inv, N, NULL, &j, err, sizeof err);
	if (rc != 0)
		fprintf(stderr, "open %s: %d %s\n", path, rc, err);
	CHECK_EQ_INT(rc, 0);
	CHECK(j != NULL);
	return j;
}

/* Runs sql on a separate connection; the first column of the first row as an integer. */
static long long raw_int(const char *path, const char *sql)
{
	sqlite3 *db;
	long long v = -999;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW)
				v = sqlite3_column_type(st, 0) == SQLITE_NULL
					? -1
					: sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		} else {
			fprintf(stderr, "raw_int: %s: %s\n", sql, sqlite3_errmsg(db));
		}
	}
	sqlite3_close(db);
	return v;
}

static void raw_text(const char *path, const char *sql, char *buf, size_t size)
{
	sqlite3 *db;
	buf[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
				snprintf(buf, size, "%s", (const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
}

static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	CHECK_EQ_INT(sqlite3_open(path, &db), SQLITE_OK);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fprintf(stderr, "raw_exec: %s: %s\n", sql, msg ? msg : "?");
	CHECK_EQ_INT(rc, SQLITE_OK);
	sqlite3_free(msg);
	sqlite3_close(db);
}

static void pragma_is(struct bl_fw_journal *j, const char *name, const char *want)
{
	char buf[64];
	CHECK_EQ_INT(bl_fw_journal_pragma(j, name, buf, sizeof buf), 0);
	CHECK_STR(buf, want);
}

static void test_schema(void)
{
	char p[300];
	path_of(p, sizeof p, "schema.db");
	struct bl_fw_journal *j = open_ok(p);
	pragma_is(j, "journal_mode", "wal");
	pragma_is(j, "synchronous", "2"); /* FULL */
	pragma_is(j, "foreign_keys", "1");
	char buf[64];
	CHECK_EQ_INT(bl_fw_journal_pragma(j, "busy_timeout", buf, sizeof buf), 0);
	CHECK(atoi(buf) > 0);
	CHECK_EQ_INT(bl_fw_journal_pragma(j, "x; DROP TABLE moves", buf, sizeof buf), -EINVAL);
	CHECK_EQ_INT(bl_fw_journal_integrity(j), 0);

	CHECK_EQ_INT(raw_int(p, "PRAGMA user_version"), BL_FW_JOURNAL_SCHEMA);
	CHECK_EQ_INT(raw_int(p, "PRAGMA application_id"), BL_FW_JOURNAL_APP_ID);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name"
				" IN ('inventory', 'positions', 'moves', 'resolutions', 'events')"),
		     5);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM inventory"), N);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM positions WHERE loc = 1 AND state = 0 AND"
				" measured = 0 AND move_id IS NULL"),
		     N);
	CHECK_EQ_INT(raw_int(p, "SELECT slot FROM inventory WHERE barcode = 'BL-P1-S04'"), 4);
	CHECK_EQ_INT(raw_int(p, "SELECT pos FROM inventory WHERE barcode = 'BL-P1-S04'"), 3);
	raw_text(p, "PRAGMA journal_mode", buf, sizeof buf); /* persistent: the file is WAL */
	CHECK_STR(buf, "wal");

	struct bl_fw_journal_snapshot s;
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK_EQ_INT(s.count, N);
	CHECK_EQ_INT(s.last_move_id, 0);
	for (int i = 0; i < N; i++) {
		CHECK_EQ_INT(s.s[i].loc, BL_LOC_SLOT);
		CHECK_EQ_INT(s.s[i].move_id, 0);
		CHECK_EQ_INT(s.s[i].slot, i + 1);
		CHECK_STR(s.s[i].barcode, inv[i].barcode);
	}
	bl_fw_journal_close(j);
}

/* One pick, read, place, measure and return, with every refusal on the way. */
static void test_round_trip(void)
{
	char p[300];
	path_of(p, sizeof p, "trip.db");
	struct bl_fw_journal *j = open_ok(p);
	struct bl_fw_journal_snapshot s;
	int64_t id = -1, id2 = -1;

	CHECK_EQ_INT(bl_fw_journal_pos_state(j, 2, BL_POS_ACTIVE, false, 0, 100), 0);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 2, BL_LOC_SLOT, BL_LOC_GRIPPER, 1000, &id), 0);
	CHECK_EQ_INT(id, 1);
	/* Durable and visible to anyone at once, open (no outcome). */
	CHECK_EQ_INT(raw_int(p,
			     "SELECT count(*) FROM moves WHERE id = 1 AND sample = 2 AND"
			     " from_loc = 1 AND to_loc = 2 AND t_intent = 1000 AND at IS NULL AND"
			     " final_at IS NULL AND barcode = 'BL-P1-S03' AND t_intent_wall > 0"),
		     1);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK_EQ_INT(s.s[2].move_id, 1);
	CHECK_EQ_INT(s.s[2].move_from, BL_LOC_SLOT);
	CHECK_EQ_INT(s.s[2].move_to, BL_LOC_GRIPPER);
	CHECK_EQ_INT(s.s[2].move_at, BL_LOC_NONE);
	CHECK_EQ_INT(s.s[2].loc, BL_LOC_SLOT); /* last proven */
	CHECK_EQ_INT(s.s[2].state, BL_POS_ACTIVE);
	CHECK_EQ_INT(s.last_move_id, 1);

	/* One move at a time, and only from where the sample is. */
	CHECK_EQ_INT(bl_fw_journal_intent(j, 2, BL_LOC_SLOT, BL_LOC_GRIPPER, 1001, NULL), -EBUSY);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 0, BL_LOC_SLOT, BL_LOC_GRIPPER, 1001, NULL), -EBUSY);
	CHECK(strstr(bl_fw_journal_error(j), "sample 2") != NULL);
	CHECK_EQ_INT(bl_fw_journal_intent(j, N, BL_LOC_SLOT, BL_LOC_GRIPPER, 1001, NULL), -EINVAL);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 1, BL_LOC_UNKNOWN, BL_LOC_GRIPPER, 1, NULL), -EINVAL);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 1, BL_LOC_SLOT, BL_LOC_NONE, 1, NULL), -EINVAL);

	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_GRIPPER, 0, 2000), 0);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM moves WHERE id = 1 AND at = 2 AND rc = 0 AND"
				" t_outcome = 2000 AND final_at = 2 AND resolved_by = 'robot'"),
		     1);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_GRIPPER, 0, 2001), -EALREADY);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, 99, BL_LOC_GRIPPER, 0, 2001), -ENOENT);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_NONE, 0, 2001), -EINVAL);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK_EQ_INT(s.s[2].loc, BL_LOC_GRIPPER);
	CHECK_EQ_INT(s.s[2].move_id, 0);

	/* Sample 2 is out: nobody else moves; sample 2 moves only from the gripper. */
	CHECK_EQ_INT(bl_fw_journal_intent(j, 3, BL_LOC_SLOT, BL_LOC_GRIPPER, 2100, NULL), -EBUSY);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 2, BL_LOC_SLOT, BL_LOC_GRIPPER, 2100, NULL), -EINVAL);
	CHECK(strstr(bl_fw_journal_error(j), "journaled gripper") != NULL);

	CHECK_EQ_INT(bl_fw_journal_intent(j, 2, BL_LOC_GRIPPER, BL_LOC_GRIPPER, 3000, &id), 0);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_GRIPPER, 0, 3100), 0);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 2, BL_LOC_GRIPPER, BL_LOC_STAGE, 4000, &id), 0);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_STAGE, 0, 4100), 0);
	CHECK_EQ_INT(bl_fw_journal_note(j, 2, BL_NOTE_MEASURED, 4711, "series 4711", 5000), 0);
	pragma_is(j, "synchronous", "1"); /* a note: NORMAL for its own transaction */
	CHECK_EQ_INT(bl_fw_journal_pos_state(j, 2, BL_POS_ACTIVE, true, 4711, 5001), 0);
	pragma_is(j, "synchronous", "2"); /* back to FULL before the next location write */
	CHECK_EQ_INT(bl_fw_journal_intent(j, 2, BL_LOC_STAGE, BL_LOC_SLOT, 6000, &id2), 0);
	CHECK_EQ_INT(id2, 4);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id2, BL_LOC_SLOT, 0, 6100), 0);
	CHECK_EQ_INT(bl_fw_journal_pos_state(j, 2, BL_POS_DONE, true, 4711, 6200), 0);
	CHECK_EQ_INT(bl_fw_journal_pos_state(j, 2, 7, true, 1, 6200), -EINVAL);
	CHECK_EQ_INT(bl_fw_journal_pos_state(j, -1, BL_POS_DONE, true, 1, 6200), -EINVAL);
	CHECK_EQ_INT(bl_fw_journal_note(j, -1, BL_NOTE_FINISHED, 3, NULL, 6300), 0);
	CHECK_EQ_INT(bl_fw_journal_note(j, N, BL_NOTE_FINISHED, 3, NULL, 6300), -EINVAL);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM events WHERE sample = 2 AND what = 5 AND"
				" value = 4711 AND text = 'series 4711' AND t = 5000"),
		     1);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM events WHERE sample IS NULL AND what = 9"),
		     1);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM moves WHERE final_at IS NOT NULL"), 4);

	struct bl_fw_journal_snapshot before;
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &before), 0);
	CHECK_EQ_INT(before.s[2].loc, BL_LOC_SLOT);
	CHECK_EQ_INT(before.s[2].state, BL_POS_DONE);
	CHECK_EQ_INT(before.s[2].measured, 1);
	CHECK_EQ_INT(before.s[2].series, 4711);
	CHECK_EQ_INT(before.last_move_id, 4);
	bl_fw_journal_close(j);

	/* Reopened: everything is still there, the state included. */
	j = open_ok(p);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK(memcmp(&s, &before, sizeof s) == 0);
	pragma_is(j, "synchronous", "2");
	pragma_is(j, "journal_mode", "wal");
	CHECK_EQ_INT(bl_fw_journal_intent(j, 4, BL_LOC_SLOT, BL_LOC_GRIPPER, 7000, &id), 0);
	CHECK_EQ_INT(id, 5); /* ids go on after a reopen */
	bl_fw_journal_close(j);
}

/* A cut move: unresolved until the operator or the controller says where the sample is. */
static void test_cut_and_resolve(void)
{
	char p[300];
	path_of(p, sizeof p, "cut.db");
	struct bl_fw_journal *j = open_ok(p);
	struct bl_fw_journal_snapshot s;
	int64_t id;

	CHECK_EQ_INT(bl_fw_journal_intent(j, 1, BL_LOC_SLOT, BL_LOC_GRIPPER, 10, &id), 0);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_UNKNOWN, -110, 20), 0);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK_EQ_INT(s.s[1].move_id, id);
	CHECK_EQ_INT(s.s[1].move_at, BL_LOC_UNKNOWN);
	CHECK_EQ_INT(s.s[1].move_rc, -110);
	CHECK_EQ_INT(s.s[1].loc, BL_LOC_SLOT);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_UNKNOWN, -110, 21), -EALREADY);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 1, BL_LOC_SLOT, BL_LOC_GRIPPER, 22, NULL), -EBUSY);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 0, BL_LOC_SLOT, BL_LOC_GRIPPER, 22, NULL), -EBUSY);

	CHECK_EQ_INT(bl_fw_journal_resolve(j, 1, BL_LOC_NONE, "alice", NULL, 30), -EINVAL);
	CHECK_EQ_INT(
	    bl_fw_journal_resolve(j, 1, BL_LOC_GRIPPER, "alice", "seen in the gripper", 30), 0);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM resolutions WHERE sample = 1 AND loc = 2 AND"
				" who = 'alice' AND note = 'seen in the gripper' AND move_id = 1"),
		     1);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM moves WHERE id = 1 AND at = 4 AND rc = -110"
				" AND final_at = 2 AND resolved_by = 'operator: alice' AND"
				" t_resolved = 30"),
		     1);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK_EQ_INT(s.s[1].loc, BL_LOC_GRIPPER);
	CHECK_EQ_INT(s.s[1].move_id, 0);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_SLOT, 0, 31), -EALREADY);

	/* The FSM's way: the cut move's outcome unknown, then reset with the operator's word. */
	CHECK_EQ_INT(bl_fw_journal_intent(j, 1, BL_LOC_GRIPPER, BL_LOC_SLOT, 40, &id), 0);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_UNKNOWN, -125, 41), 0);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_SLOT, 0, 50), 0);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM moves WHERE id = 2 AND at = 4 AND rc = -125"
				" AND final_at = 1 AND resolved_by LIKE 'controller%'"),
		     1);
	/* A statement with no move open: recorded, the location follows it. */
	CHECK_EQ_INT(bl_fw_journal_resolve(j, 5, BL_LOC_STAGE, NULL, NULL, 60), 0);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM resolutions WHERE sample = 5 AND"
				" who = 'operator' AND move_id IS NULL"),
		     1);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK_EQ_INT(s.s[5].loc, BL_LOC_STAGE);
	CHECK_EQ_INT(s.s[1].loc, BL_LOC_SLOT);
	/* An open move (no outcome at all, the controller died) is resolved the same way. */
	CHECK_EQ_INT(bl_fw_journal_resolve(j, 5, BL_LOC_SLOT, "bob", NULL, 70), 0);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 0, BL_LOC_SLOT, BL_LOC_GRIPPER, 80, &id), 0);
	CHECK_EQ_INT(bl_fw_journal_resolve(j, 0, BL_LOC_SLOT, "bob", "pick never gripped", 90), 0);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM moves WHERE id = 3 AND at IS NULL AND"
				" final_at = 1 AND resolved_by = 'operator: bob'"),
		     1);
	CHECK_EQ_INT(bl_fw_journal_integrity(j), 0);
	bl_fw_journal_close(j);
}

/* Reconcile results recorded: proven moves closed with the sensors named; stale refused. */
static void test_apply(void)
{
	char p[300];
	path_of(p, sizeof p, "apply.db");
	struct bl_fw_journal *j = open_ok(p);
	struct bl_fw_journal_snapshot s;
	struct bl_fw_reconcile r;
	int64_t id;

	CHECK_EQ_INT(bl_fw_journal_intent(j, 3, BL_LOC_SLOT, BL_LOC_GRIPPER, 10, &id), 0);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_GRIPPER, 0, 11), 0);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 3, BL_LOC_GRIPPER, BL_LOC_STAGE, 12, &id), 0);
	bl_fw_journal_close(j); /* the controller dies during the place */

	j = open_ok(p);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK_EQ_INT(s.s[3].move_id, id);
	struct bl_fw_sensors unread = {true, true, false, false, true, true};
	CHECK_EQ_INT(bl_fw_reconcile(&s, &unread, &r), 0);
	CHECK(!r.motion_allowed);
	CHECK_EQ_INT(bl_fw_journal_apply(j, &r, 20), 0); /* nothing proven: only logged */
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM moves WHERE final_at IS NULL"), 1);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM events WHERE what = 101 AND sample = 3 AND"
				" text LIKE '%gripper sensor unreadable%'"),
		     1);

	struct bl_fw_sensors sens = {true, true, true, false, true, true};
	CHECK_EQ_INT(bl_fw_reconcile(&s, &sens, &r), 0);
	CHECK(r.motion_allowed);
	CHECK_EQ_INT(r.s[3].loc, BL_LOC_STAGE);
	CHECK_EQ_INT(bl_fw_journal_apply(j, &r, 21), 0);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM moves WHERE id = 2 AND at IS NULL AND"
				" final_at = 3 AND resolved_by = 'sensors: gripper empty, stage"
				" occupied' AND t_resolved = 21"),
		     1);
	CHECK_EQ_INT(raw_int(p, "SELECT value FROM events WHERE what = 100 ORDER BY id DESC"), 0);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK_EQ_INT(s.s[3].loc, BL_LOC_STAGE);
	CHECK_EQ_INT(s.s[3].move_id, 0);
	CHECK_EQ_INT(bl_fw_journal_apply(j, &r, 22), -ESTALE); /* that move is closed now */

	/* A result computed before the operator spoke is stale. */
	CHECK_EQ_INT(bl_fw_journal_intent(j, 3, BL_LOC_STAGE, BL_LOC_SLOT, 30, &id), 0);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	struct bl_fw_sensors empty = {true, true, true, false, true, false};
	CHECK_EQ_INT(bl_fw_reconcile(&s, &empty, &r), 0);
	CHECK_EQ_INT(r.s[3].loc, BL_LOC_SLOT);
	CHECK_EQ_INT(bl_fw_journal_resolve(j, 3, BL_LOC_SLOT, "carol", NULL, 31), 0);
	CHECK_EQ_INT(bl_fw_journal_apply(j, &r, 32), -ESTALE);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM moves WHERE resolved_by LIKE 'sensors%'"), 1);
	bl_fw_journal_close(j);
}

static void test_inventory_change(void)
{
	char p[300], err[512];
	path_of(p, sizeof p, "inv.db");
	struct bl_fw_journal *j = open_ok(p);
	CHECK_EQ_INT(bl_fw_journal_pos_state(j, 0, BL_POS_DONE, true, 11, 1), 0);
	CHECK_EQ_INT(bl_fw_journal_pos_state(j, 4, BL_POS_DONE, true, 44, 1), 0);
	int64_t id;
	CHECK_EQ_INT(bl_fw_journal_intent(j, 1, BL_LOC_SLOT, BL_LOC_GRIPPER, 2, &id), 0);
	bl_fw_journal_close(j);

	struct bl_sfsm_position saved = inv[4];
	snprintf(inv[4].barcode, sizeof inv[4].barcode, "OTHER-05");
	j = (struct bl_fw_journal *)1;
	CHECK_EQ_INT(bl_fw_journal_open(p, inv, N, NULL, &j, err, sizeof err), -EEXIST);
	CHECK(j == NULL);
	CHECK(strstr(err, "position 4") != NULL);
	CHECK(strstr(err, "\"BL-P1-S05\"") != NULL && strstr(err, "\"OTHER-05\"") != NULL);
	/* Adopting needs every sample home: sample 1 has an unresolved move. */
	struct bl_fw_journal_opts adopt = {BL_FW_JOURNAL_ADOPT, 0, NULL};
	CHECK_EQ_INT(bl_fw_journal_open(p, inv, N, &adopt, &j, err, sizeof err), -EBUSY);
	CHECK(strstr(err, "sample 1") != NULL);
	CHECK_EQ_INT(bl_fw_journal_open(p, inv, N - 1, NULL, &j, err, sizeof err), -EEXIST);

	inv[4] = saved;
	j = open_ok(p);
	CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_SLOT, -5, 3), 0); /* refused: back */
	bl_fw_journal_close(j);

	snprintf(inv[4].barcode, sizeof inv[4].barcode, "OTHER-05");
	const char *names[N] = {NULL, NULL, NULL, NULL, "new film", NULL};
	adopt.names = names;
	CHECK_EQ_INT(bl_fw_journal_open(p, inv, N, &adopt, &j, err, sizeof err), 0);
	struct bl_fw_journal_snapshot s;
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	CHECK_STR(s.s[4].barcode, "OTHER-05");
	CHECK_EQ_INT(s.s[4].state, BL_POS_IDLE); /* a new sample starts over */
	CHECK_EQ_INT(s.s[4].measured, 0);
	CHECK_EQ_INT(s.s[0].state, BL_POS_DONE); /* an unchanged one keeps its state */
	CHECK_EQ_INT(s.s[0].series, 11);
	bl_fw_journal_close(j);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM inventory WHERE pos = 4 AND"
				" name = 'new film'"),
		     1);
	CHECK_EQ_INT(raw_int(p, "SELECT value FROM events WHERE what = 102"), 1);
	CHECK_EQ_INT(raw_int(p, "SELECT count(*) FROM moves"), 1); /* history kept */
	inv[4] = saved;
	make_inventory();
}

static void write_file(const char *path, const void *data, size_t len, long at)
{
	int fd = open(path, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0);
	CHECK_EQ_INT(pwrite(fd, data, len, at), (long long)len);
	close(fd);
}

static void test_refusals(void)
{
	char p[300], err[512];
	struct bl_fw_journal *j = NULL;

	path_of(p, sizeof p, "no/such/dir/x.db");
	CHECK(bl_fw_journal_open(p, inv, N, NULL, &j, err, sizeof err) < 0);
	CHECK(j == NULL);
	CHECK(strstr(err, "unable to open") != NULL);

	CHECK_EQ_INT(bl_fw_journal_open(p, inv, 0, NULL, &j, err, sizeof err), -EINVAL);
	CHECK_EQ_INT(bl_fw_journal_open(p, inv, BL_SFSM_MAX_POS + 1, NULL, &j, err, sizeof err),
		     -EINVAL);
	struct bl_sfsm_position twice[2] = {inv[0], inv[0]};
	snprintf(twice[1].barcode, sizeof twice[1].barcode, "X");
	CHECK_EQ_INT(bl_fw_journal_open(p, twice, 2, NULL, &j, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "share puck 1 slot 1") != NULL);

	/* Not a database at all. */
	path_of(p, sizeof p, "garbage.db");
	char junk[8192];
	for (size_t i = 0; i < sizeof junk; i++)
		junk[i] = (char)(i * 7 + 3);
	write_file(p, junk, sizeof junk, 0);
	CHECK_EQ_INT(bl_fw_journal_open(p, inv, N, NULL, &j, err, sizeof err), -EUCLEAN);
	CHECK(strstr(err, "not a database") != NULL);

	/* Another application's SQLite file. */
	path_of(p, sizeof p, "other.db");
	raw_exec(p, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	CHECK_EQ_INT(bl_fw_journal_open(p, inv, N, NULL, &j, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "not a beamloop sample journal") != NULL);

	/* A newer schema. */
	path_of(p, sizeof p, "newer.db");
	j = open_ok(p);
	bl_fw_journal_close(j);
	raw_exec(p, "PRAGMA user_version = 9");
	CHECK_EQ_INT(bl_fw_journal_open(p, inv, N, NULL, &j, err, sizeof err), -ENOTSUP);
	CHECK(strstr(err, "schema 9") != NULL);

	/* Damaged pages in a real journal (the WAL checkpointed into the file at close). */
	path_of(p, sizeof p, "damaged.db");
	j = open_ok(p);
	for (int k = 0; k < 200; k++) {
		int64_t id;
		CHECK_EQ_INT(bl_fw_journal_intent(j, 0, BL_LOC_SLOT, BL_LOC_GRIPPER, 1, &id), 0);
		CHECK_EQ_INT(bl_fw_journal_outcome(j, id, BL_LOC_SLOT, -5, 2), 0);
	}
	bl_fw_journal_close(j);
	long long pages = raw_int(p, "PRAGMA page_count");
	CHECK(pages > 4);
	long long psize = raw_int(p, "PRAGMA page_size");
	memset(junk, 0x5a, sizeof junk);
	for (long long pg = 2; pg < pages; pg += 2) /* every other page after the first */
		write_file(p, junk, (size_t)psize, (long)((pg - 1) * psize + 100));
	int rc = bl_fw_journal_open(p, inv, N, NULL, &j, err, sizeof err);
	CHECK_EQ_INT(rc, -EUCLEAN);
	CHECK(strstr(err, "damaged") != NULL || strstr(err, "malformed") != NULL);
	if (rc == 0)
		bl_fw_journal_close(j);

	CHECK_EQ_INT(bl_fw_journal_intent(NULL, 0, 1, 2, 0, NULL), -EINVAL);
	CHECK_STR(bl_fw_journal_error(NULL), "no journal");
	bl_fw_journal_close(NULL);
}

/* A second writer holds the lock past busy_timeout: -EBUSY with SQLite's message. */
static void test_busy(void)
{
	char p[300];
	path_of(p, sizeof p, "busy.db");
	struct bl_fw_journal *j = NULL;
	char err[512];
	struct bl_fw_journal_opts o = {0, 50, NULL};
	CHECK_EQ_INT(bl_fw_journal_open(p, inv, N, &o, &j, err, sizeof err), 0);
	sqlite3 *db;
	CHECK_EQ_INT(sqlite3_open(p, &db), SQLITE_OK);
	CHECK_EQ_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 0, BL_LOC_SLOT, BL_LOC_GRIPPER, 1, NULL), -EBUSY);
	CHECK(strstr(bl_fw_journal_error(j), "locked") != NULL);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(db);
	CHECK_EQ_INT(bl_fw_journal_intent(j, 0, BL_LOC_SLOT, BL_LOC_GRIPPER, 1, NULL), 0);
	CHECK_STR(bl_fw_journal_error(j), "");
	bl_fw_journal_close(j);
}

static void remove_tree(void)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, sizeof dir, "%s/bl_journal_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	make_inventory();
	test_schema();
	test_round_trip();
	test_cut_and_resolve();
	test_apply();
	test_inventory_change();
	test_refusals();
	test_busy();
	if (!check_failures)
		remove_tree();
	else
		fprintf(stderr, "journal files kept in %s\n", dir);
	return CHECK_DONE();
}
