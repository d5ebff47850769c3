/* test_fw_journal_crash.c: kill -9 a journal writer anywhere; every acknowledged write survives. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../check.h"
#include "port/linux/fw_journal.h"
#include "port/linux/fw_reconcile.h"

/*
 * A child process plays the controller: it opens the journal, takes the snapshot and carries
 * every sample through pick, reader, place, exposure and return (pos_state, intent, outcome),
 * continuing from wherever the journal says it is. Right after each write returns it writes
 * an acknowledgement to a pipe. The parent plays the world: an acknowledged intent means the
 * robot was commanded, so the sample physically ends at the move's destination; it kills the
 * child (lockstep: exactly after the Nth acknowledgement; free: after a random number of µs,
 * mid-write included), reopens the journal and checks: integrity_check ok, every
 * acknowledged write present, at most one unresolved move, positions agree with the moves,
 * the reconcile from the world's sensors proves every sample where it physically is, and no
 * exposure starts for a sample whose measurement was acknowledged. A kill -9 leaves the page
 * cache alone: this proves the transactions, not the fsyncs (synchronous=FULL is checked in
 * test_fw_journal).
 */

#define NS		  8    /* samples in the campaign */
#define MAX_MOVES	  4096 /* per campaign */
#define SERIES0		  1000u
#define WRITES_PER_SAMPLE 11 /* pos_state, 4 moves (intent, outcome), measured, done */

enum ack_kind {
	ACK_READY = 'R',
	ACK_INTENT = 'I',
	ACK_OUTCOME = 'O',
	ACK_POS = 'P',
	ACK_EXPOSE = 'E',
	ACK_DONE = 'D'
};

struct ack {
	int32_t kind, sample, a, b, c;
	int32_t pad;
	int64_t id;
};

static char dir[256], path[300];
static struct bl_sfsm_position inv[NS];

/* The world and what was acknowledged, in the parent. */
static struct {
	int truth[NS]; /* where each sample physically is */
	struct {
		int sample, from, to, at; /* at: acknowledged outcome, 0 none */
	} move[MAX_MOVES];
	int64_t last_id;
	int pos_state[NS], measured[NS];
	uint32_t series[NS];
	int exposures[NS];
} w;

static struct {
	int kills, runs, open_moves, unacked, sensor_proofs, campaigns, acks, twice;
} stats;

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static void send_ack(int fd, int kind, int sample, int a, int b, int c, int64_t id)
{
	struct ack k = {kind, sample, a, b, c, 0, id};
	if (write(fd, &k, sizeof k) != (ssize_t)sizeof k)
		_exit(5);
}

/* Lockstep: wait for the parent's go after each acknowledgement (it may kill us instead). */
static void ack(int fd, int go, int kind, int sample, int a, int b, int c, int64_t id)
{
	send_ack(fd, kind, sample, a, b, c, id);
	char byte;
	if (go >= 0 && read(go, &byte, 1) != 1)
		_exit(6);
}

static void must(int rc, struct bl_fw_journal *j, const char *what)
{
	if (rc < 0) {
		fprintf(stderr, "child: %s: %d %s\n", what, rc, bl_fw_journal_error(j));
		_exit(3);
	}
}

static void move(struct bl_fw_journal *j, int fd, int go, int s, int from, int to, uint64_t *now)
{
	int64_t id;
	must(bl_fw_journal_intent(j, s, from, to, ++*now, &id), j, "intent");
	ack(fd, go, ACK_INTENT, s, from, to, 0, id);
	must(bl_fw_journal_outcome(j, id, to, 0, ++*now), j, "outcome");
	ack(fd, go, ACK_OUTCOME, s, to, 0, 0, id);
}

static void pos_state(struct bl_fw_journal *j, int fd, int go, int s, int state, bool measured,
		      uint32_t series, uint64_t *now)
{
	must(bl_fw_journal_pos_state(j, s, state, measured, series, ++*now), j, "pos_state");
	ack(fd, go, ACK_POS, s, state, measured, (int)series, 0);
}

/* The controller: restart from the journal and carry on until every sample is done. */
static void child(int fd, int go)
{
	struct bl_fw_journal *j;
	char err[512];
	int rc = bl_fw_journal_open(path, inv, NS, NULL, &j, err, sizeof err);
	if (rc < 0) {
		fprintf(stderr, "child: open: %s\n", err);
		_exit(2);
	}
	ack(fd, go, ACK_READY, -1, 0, 0, 0, 0);
	uint64_t now = 0;
	for (;;) {
		struct bl_fw_journal_snapshot s;
		must(bl_fw_journal_snapshot(j, &s), j, "snapshot");
		int c = -1;
		for (int i = 0; i < NS && c < 0; i++)
			if (s.s[i].move_id)
				_exit(4); /* the parent reconciles before every restart */
			else if (s.s[i].loc != BL_LOC_SLOT)
				c = i;
		for (int i = 0; i < NS && c < 0; i++)
			if (s.s[i].state != BL_POS_DONE)
				c = i;
		if (c < 0) {
			ack(fd, go, ACK_DONE, -1, 0, 0, 0, 0);
			bl_fw_journal_close(j);
			_exit(0);
		}
		const struct bl_fw_journal_sample *p = &s.s[c];
		uint32_t series = SERIES0 + (uint32_t)c;
		if (p->loc == BL_LOC_SLOT && !p->measured) {
			if (p->state != BL_POS_ACTIVE) {
				must(bl_fw_journal_note(j, c, BL_NOTE_SAMPLE_START, c, NULL, ++now),
				     j, "note");
				pos_state(j, fd, go, c, BL_POS_ACTIVE, false, 0, &now);
			}
			move(j, fd, go, c, BL_LOC_SLOT, BL_LOC_GRIPPER, &now);
		} else if (p->loc == BL_LOC_GRIPPER && !p->measured) {
			move(j, fd, go, c, BL_LOC_GRIPPER, BL_LOC_GRIPPER,
			     &now); /* to the reader */
			move(j, fd, go, c, BL_LOC_GRIPPER, BL_LOC_STAGE, &now);
		} else if (p->loc == BL_LOC_STAGE && !p->measured) {
			ack(fd, go, ACK_EXPOSE, c, 0, 0, 0, 0); /* the exposure starts */
			pos_state(j, fd, go, c, BL_POS_ACTIVE, true, series, &now);
			must(bl_fw_journal_note(j, c, BL_NOTE_MEASURED, series, NULL, ++now), j,
			     "note");
		} else if (p->loc != BL_LOC_SLOT) {
			move(j, fd, go, c, p->loc, BL_LOC_SLOT, &now);
		} else {
			pos_state(j, fd, go, c, BL_POS_DONE, true, p->series, &now);
		}
	}
}

/* The world's bookkeeping of one acknowledgement. */
static void account(const struct ack *k, bool *done)
{
	stats.acks++;
	switch (k->kind) {
	case ACK_INTENT:
		if (k->id <= 0 || k->id >= MAX_MOVES) {
			fprintf(stderr, "move id %lld out of range\n", (long long)k->id);
			check_failures++;
			return;
		}
		w.move[k->id].sample = k->sample;
		w.move[k->id].from = k->a;
		w.move[k->id].to = k->b;
		w.move[k->id].at = 0;
		if (k->id > w.last_id)
			w.last_id = k->id;
		CHECK_EQ_INT(w.truth[k->sample], k->a);
		w.truth[k->sample] = k->b; /* commanded: the robot finishes it, whatever we do */
		break;
	case ACK_OUTCOME:
		CHECK(k->id > 0 && k->id < MAX_MOVES);
		if (k->id > 0 && k->id < MAX_MOVES)
			w.move[k->id].at = k->a;
		break;
	case ACK_POS:
		w.pos_state[k->sample] = k->a;
		if (k->b) {
			w.measured[k->sample] = 1;
			w.series[k->sample] = (uint32_t)k->c;
		}
		break;
	case ACK_EXPOSE:
		if (w.measured[k->sample]) { /* a measurement was durable: never again */
			fprintf(stderr, "sample %d exposed again after its measurement\n",
				k->sample);
			stats.twice++;
			check_failures++;
		}
		w.exposures[k->sample]++;
		break;
	case ACK_DONE: *done = true; break;
	default: break;
	}
}

static long long raw_int(sqlite3 *db, const char *sql, long long a)
{
	sqlite3_stmt *st;
	long long v = -999;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
		return v;
	}
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Every acknowledged write is in the file; rows agree with each other. */
static void check_rows(void)
{
	sqlite3 *db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		CHECK(!"raw open");
		sqlite3_close(db);
		return;
	}
	for (int64_t id = 1; id <= w.last_id; id++) {
		if (!w.move[id].to)
			continue;
		CHECK_EQ_INT(raw_int(db, "SELECT sample FROM moves WHERE id = ?", id),
			     w.move[id].sample);
		CHECK_EQ_INT(raw_int(db, "SELECT from_loc FROM moves WHERE id = ?", id),
			     w.move[id].from);
		CHECK_EQ_INT(raw_int(db, "SELECT to_loc FROM moves WHERE id = ?", id),
			     w.move[id].to);
		if (w.move[id].at)
			CHECK_EQ_INT(raw_int(db, "SELECT at FROM moves WHERE id = ?", id),
				     w.move[id].at);
	}
	CHECK(raw_int(db, "SELECT count(*) FROM moves WHERE final_at IS NULL", 0) <= 1);
	for (int s = 0; s < NS; s++) {
		/* The location is where the sample's last closed move ended (home if none). */
		long long last =
		    raw_int(db,
			    "SELECT ifnull((SELECT final_at FROM moves WHERE sample = ?1"
			    " AND final_at IS NOT NULL ORDER BY id DESC LIMIT 1), 1)",
			    s);
		CHECK_EQ_INT(raw_int(db, "SELECT loc FROM positions WHERE pos = ?", s), last);
		long long open =
		    raw_int(db, "SELECT ifnull(move_id, 0) FROM positions WHERE pos = ?", s);
		long long want = raw_int(db,
					 "SELECT ifnull((SELECT id FROM moves WHERE sample = ?1 AND"
					 " final_at IS NULL), 0)",
					 s);
		CHECK_EQ_INT(open, want);
		if (w.measured[s]) {
			CHECK_EQ_INT(raw_int(db, "SELECT measured FROM positions WHERE pos = ?", s),
				     1);
			CHECK_EQ_INT(raw_int(db, "SELECT series FROM positions WHERE pos = ?", s),
				     w.series[s]);
		}
		if (w.pos_state[s] == BL_POS_DONE)
			CHECK_EQ_INT(raw_int(db, "SELECT state FROM positions WHERE pos = ?", s),
				     BL_POS_DONE);
	}
	sqlite3_close(db);
}

/* After a kill: reopen, check, reconcile from the world's sensors, apply. */
static void restart_and_check(void)
{
	struct bl_fw_journal *j;
	char err[512];
	int rc = bl_fw_journal_open(path, inv, NS, NULL, &j, err, sizeof err);
	CHECK_EQ_INT(rc, 0);
	if (rc < 0) {
		fprintf(stderr, "reopen: %s\n", err);
		return;
	}
	CHECK_EQ_INT(bl_fw_journal_integrity(j), 0);
	check_rows();
	struct bl_fw_journal_snapshot s;
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	int open = 0, out = 0;
	struct bl_fw_sensors sens = {true, true, true, false, true, false};
	for (int i = 0; i < NS; i++) {
		open += s.s[i].move_id != 0;
		/* committed, killed before the acknowledgement: the robot was never commanded */
		if (s.s[i].move_id > 0 && s.s[i].move_id < MAX_MOVES && !w.move[s.s[i].move_id].to)
			stats.unacked++;
		sens.gripper_holds |= w.truth[i] == BL_LOC_GRIPPER;
		sens.stage_occupied |= w.truth[i] == BL_LOC_STAGE;
		out += w.truth[i] != BL_LOC_SLOT;
	}
	CHECK(open <= 1 && out <= 1);
	stats.open_moves += open;
	struct bl_fw_reconcile r;
	CHECK_EQ_INT(bl_fw_reconcile(&s, &sens, &r), 0);
	CHECK(r.motion_allowed);
	for (int i = 0; i < NS; i++) {
		CHECK_EQ_INT(r.s[i].loc, w.truth[i]);
		if (r.s[i].loc != w.truth[i])
			fprintf(stderr, "sample %d: %s\n", i, r.s[i].reason);
		stats.sensor_proofs += r.s[i].how == BL_FW_REC_SENSORS;
	}
	CHECK_EQ_INT(bl_fw_journal_apply(j, &r, 0), 0);
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	for (int i = 0; i < NS; i++) {
		CHECK_EQ_INT(s.s[i].move_id, 0);
		CHECK_EQ_INT(s.s[i].loc, w.truth[i]);
	}
	bl_fw_journal_close(j);
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

enum mode { LOCKSTEP, AFTER_ACK, FREE, NOKILL };

/*
 * One controller run, killed per the mode: LOCKSTEP exactly after acknowledgement `n`;
 * AFTER_ACK `n` µs after the first acknowledgement past the open; FREE `n` µs after the fork
 * (the open itself may be cut); NOKILL lets it finish. Returns true when the campaign finished.
 */
static bool run_once(enum mode m, uint32_t n)
{
	int ackp[2], gop[2] = {-1, -1};
	if (pipe(ackp) < 0 || (m == LOCKSTEP && pipe(gop) < 0)) {
		perror("pipe");
		exit(1);
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		close(ackp[0]);
		if (gop[1] >= 0)
			close(gop[1]);
		child(ackp[1], gop[0]);
		_exit(7);
	}
	close(ackp[1]);
	if (gop[0] >= 0)
		close(gop[0]);
	stats.runs++;
	bool done = false, killed = false;
	uint32_t seen = 0;
	struct ack k;
	if (m == FREE) {
		sleep_us(n);
		kill(pid, SIGKILL);
		killed = true;
	}
	while (read(ackp[0], &k, sizeof k) == (ssize_t)sizeof k) {
		account(&k, &done);
		if (killed || k.kind == ACK_READY || k.kind == ACK_EXPOSE)
			goto next; /* kill points are after writes (an exposure writes nothing) */
		seen++;
		if (m == LOCKSTEP && seen >= n) {
			kill(pid, SIGKILL);
			killed = true;
		} else if (m == AFTER_ACK) {
			sleep_us(n);
			kill(pid, SIGKILL);
			killed = true;
		}
	next:
		if (m == LOCKSTEP && !killed && write(gop[1], "g", 1) != 1)
			break; /* the child is gone */
	}
	close(ackp[0]);
	if (gop[1] >= 0)
		close(gop[1]);
	int status;
	waitpid(pid, &status, 0);
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
	bool by_kill = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
	if (!clean && !by_kill) {
		fprintf(stderr, "child ended with status 0x%x\n", status);
		check_failures++;
	}
	if (by_kill)
		stats.kills++;
	if (clean)
		CHECK(done);
	return clean && done;
}

static void new_campaign(void)
{
	char p[320];
	for (const char *sfx = ""; sfx; sfx = !sfx[0] ? "-wal" : sfx[1] == 'w' ? "-shm" : NULL) {
		snprintf(p, sizeof p, "%s%s", path, sfx);
		unlink(p);
	}
	memset(&w, 0, sizeof w);
	for (int i = 0; i < NS; i++)
		w.truth[i] = BL_LOC_SLOT;
}

/* The campaign's end: each sample measured once, recorded once, home. */
static void check_campaign(void)
{
	struct bl_fw_journal *j;
	char err[512];
	CHECK_EQ_INT(bl_fw_journal_open(path, inv, NS, NULL, &j, err, sizeof err), 0);
	struct bl_fw_journal_snapshot s;
	CHECK_EQ_INT(bl_fw_journal_snapshot(j, &s), 0);
	for (int i = 0; i < NS; i++) {
		CHECK_EQ_INT(s.s[i].state, BL_POS_DONE);
		CHECK_EQ_INT(s.s[i].measured, 1);
		CHECK_EQ_INT(s.s[i].series, SERIES0 + (uint32_t)i);
		CHECK_EQ_INT(s.s[i].loc, BL_LOC_SLOT);
		CHECK_EQ_INT(w.truth[i], BL_LOC_SLOT);
		CHECK(w.exposures[i] >= 1);
	}
	CHECK_EQ_INT(bl_fw_journal_integrity(j), 0);
	bl_fw_journal_close(j);
	stats.campaigns++;
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* Lets the controller finish the campaign without a kill, then checks the end. */
static void finish_campaign(void)
{
	bool done = run_once(NOKILL, 0);
	restart_and_check();
	CHECK(done);
	if (done)
		check_campaign();
}

/*
 * Runs one campaign, killing each run per mode (span: the kill point's range), at most budget
 * runs (a kill point can keep a run from getting anywhere: a cut write is re-done), then lets
 * it finish.
 */
static void campaign(enum mode m, uint32_t span, int budget, const struct timespec *t0)
{
	new_campaign();
	for (int run = 0; run < budget; run++) {
		uint32_t n;
		if (m == LOCKSTEP)
			n = 1 + (uint32_t)run % span; /* after the 1st, 2nd.. write of the run */
		else
			n = rnd(span); /* µs */
		bool done = run_once(m, n);
		restart_and_check();
		if (done) {
			check_campaign();
			return;
		}
		if (elapsed(t0) > 12.0 || check_failures > 20)
			break;
	}
	finish_campaign();
}

int main(void)
{
	const char *tmp = getenv("TMPDIR"), *seed = getenv("BL_CRASH_SEED");
	if (seed)
		rng = strtoull(seed, NULL, 0) | 1;
	printf("seed 0x%llx (set BL_CRASH_SEED to repeat)\n", (unsigned long long)rng);
	snprintf(dir, sizeof dir, "%s/bl_crash_XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof path, "%s/journal.db", dir);
	for (int i = 0; i < NS; i++) {
		inv[i].puck = 2;
		inv[i].slot = (uint8_t)(i + 1);
		snprintf(inv[i].barcode, sizeof inv[i].barcode, "CRASH-%02d", i);
	}
	signal(SIGPIPE, SIG_IGN);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* Every kill point between writes of the first three samples, each on a fresh journal. */
	for (uint32_t n = 1; n <= 3 * WRITES_PER_SAMPLE; n++) {
		new_campaign();
		run_once(LOCKSTEP, n);
		restart_and_check();
		finish_campaign();
	}
	/* Whole campaigns killed over and over: restarts from every kind of state. */
	campaign(LOCKSTEP, 14, 1000, &t0);
	campaign(LOCKSTEP, 3, 1000, &t0);
	campaign(AFTER_ACK, 300, 100, &t0); /* mostly inside the next write */
	campaign(AFTER_ACK, 2000, 150, &t0);
	campaign(FREE, 3000, 150, &t0); /* from the fork: the open and schema creation too */
	campaign(FREE, 8000, 150, &t0);
	printf("%d campaigns, %d runs, %d kills, %d acks; %d restarts with an open move (%d of "
	       "them committed but not acknowledged), %d proven from sensors; %.1f s\n",
	       stats.campaigns, stats.runs, stats.kills, stats.acks, stats.open_moves,
	       stats.unacked, stats.sensor_proofs, elapsed(&t0));
	CHECK_EQ_INT(stats.campaigns, 6 + 3 * WRITES_PER_SAMPLE);
	CHECK(stats.open_moves > 0); /* kills did land between an intent and its outcome */
	CHECK(stats.sensor_proofs > 0);
	CHECK_EQ_INT(stats.twice, 0);
	if (!check_failures) {
		char p[320];
		for (const char *sfx = ""; sfx; sfx = !sfx[0]	      ? "-wal"
						      : sfx[1] == 'w' ? "-shm"
								      : NULL) {
			snprintf(p, sizeof p, "%s%s", path, sfx);
			unlink(p);
		}
		rmdir(dir);
	} else {
		fprintf(stderr, "journal kept in %s\n", dir);
	}
	return CHECK_DONE();
}
