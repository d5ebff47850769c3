/* fw_journal.c: the sample-location journal on SQLite (schema, durable writes, snapshot). */
#include "port/linux/fw_journal.h"
#include "port/linux/fw_reconcile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

struct bl_fw_journal {
	sqlite3 *db;
	int n;	     /* positions */
	bool normal; /* synchronous=NORMAL is set (a note's transaction): back to FULL first */
	char err[512];
};

/* Bound parameters: ARG_I(int64), ARG_T(text or NULL). */
struct arg {
	int kind; /* 0 null, 1 integer, 2 text */
	int64_t i;
	const char *t;
};
#define ARG_I(x)  ((struct arg){1, (int64_t)(x), NULL})
#define ARG_T(x)  ((struct arg){2, 0, (x)})
#define ARGS(...) (const struct arg[]){__VA_ARGS__}, sizeof(ARGS1(__VA_ARGS__)) / sizeof(struct arg)
#define ARGS1(...)                                                                                 \
	(const struct arg[])                                                                       \
	{                                                                                          \
		__VA_ARGS__                                                                        \
	}
#define NOARGS NULL, 0

static const char schema_sql[] =
    "CREATE TABLE inventory ("
    " pos INTEGER PRIMARY KEY CHECK (pos BETWEEN 0 AND 31),"
    " puck INTEGER NOT NULL, slot INTEGER NOT NULL,"
    " barcode TEXT NOT NULL CHECK (length(barcode) BETWEEN 1 AND 31),"
    " name TEXT, UNIQUE (puck, slot));"
    /* Every robot move that carries a sample. at: the robot's outcome (NULL: none yet, 4:
     * unknown); final_at: where it is known to have ended (NULL: unresolved). Never deleted. */
    "CREATE TABLE moves ("
    " id INTEGER PRIMARY KEY, sample INTEGER NOT NULL, barcode TEXT NOT NULL,"
    " from_loc INTEGER NOT NULL CHECK (from_loc BETWEEN 1 AND 3),"
    " to_loc INTEGER NOT NULL CHECK (to_loc BETWEEN 1 AND 3),"
    " t_intent_wall INTEGER NOT NULL, t_intent INTEGER NOT NULL,"
    " at INTEGER CHECK (at BETWEEN 1 AND 4), rc INTEGER,"
    " t_outcome_wall INTEGER, t_outcome INTEGER,"
    " final_at INTEGER CHECK (final_at BETWEEN 1 AND 3), resolved_by TEXT,"
    " t_resolved_wall INTEGER, t_resolved INTEGER);"
    "CREATE INDEX moves_unresolved ON moves (sample) WHERE final_at IS NULL;"
    "CREATE TABLE positions ("
    " pos INTEGER PRIMARY KEY REFERENCES inventory (pos) ON DELETE CASCADE,"
    " loc INTEGER NOT NULL CHECK (loc BETWEEN 1 AND 3),"
    " move_id INTEGER REFERENCES moves (id),"
    " state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 6),"
    " measured INTEGER NOT NULL CHECK (measured IN (0, 1)), series INTEGER NOT NULL,"
    " t_wall INTEGER NOT NULL, t INTEGER NOT NULL);"
    "CREATE TABLE resolutions ("
    " id INTEGER PRIMARY KEY, sample INTEGER NOT NULL, barcode TEXT NOT NULL,"
    " loc INTEGER NOT NULL CHECK (loc BETWEEN 1 AND 3), who TEXT NOT NULL, note TEXT,"
    " move_id INTEGER REFERENCES moves (id), t_wall INTEGER NOT NULL, t INTEGER NOT NULL);"
    "CREATE TABLE events ("
    " id INTEGER PRIMARY KEY, t_wall INTEGER NOT NULL, t INTEGER NOT NULL, sample INTEGER,"
    " what INTEGER NOT NULL, value INTEGER, text TEXT);";

static int64_t wall_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Location names as the CLI spells them (bl_loc_name() without linking the core's objects). */
static const char *loc_name(int loc)
{
	static const char *const names[] = {"none", "slot", "gripper", "stage", "unknown"};
	return loc >= 0 && loc <= BL_LOC_UNKNOWN ? names[loc] : "?";
}

static bool place_ok(int loc)
{
	return loc == BL_LOC_SLOT || loc == BL_LOC_GRIPPER || loc == BL_LOC_STAGE;
}

/* SQLite's primary result code as a negative errno. */
static int map_rc(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_READONLY: return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH: return -EACCES;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB: return -EUCLEAN;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_CANTOPEN: return -ENOENT;
	case SQLITE_TOOBIG: return -E2BIG;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE: return -EINVAL;
	default: return -EIO; /* SQLITE_IOERR and the rest */
	}
}

static int fail(struct bl_fw_journal *j, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct bl_fw_journal *j, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->err, sizeof j->err, fmt, ap);
	va_end(ap);
	return err;
}

/* A SQLite failure: "what: SQLite's message (extended code)". */
static int fail_db(struct bl_fw_journal *j, int rc, const char *what)
{
	int err = map_rc(rc);
	const char *msg = j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc);
	if ((rc & 0xff) == SQLITE_CORRUPT || (rc & 0xff) == SQLITE_NOTADB)
		return fail(j, err,
			    "%s: %s (sqlite %d): the journal file is damaged or not a "
			    "database; keep it for inspection and ask the operator",
			    what, msg, rc);
	return fail(j, err, "%s: %s (sqlite %d)", what, msg, rc);
}

static int prep(struct bl_fw_journal *j, sqlite3_stmt **st, const char *sql, const struct arg *a,
		size_t n)
{
	int rc = sqlite3_prepare_v2(j->db, sql, -1, st, NULL);
	if (rc != SQLITE_OK) {
		*st = NULL;
		return fail_db(j, rc, "prepare");
	}
	for (size_t k = 0; k < n && rc == SQLITE_OK; k++) {
		int col = (int)k + 1;
		if (a[k].kind == 1)
			rc = sqlite3_bind_int64(*st, col, a[k].i);
		else if (a[k].kind == 2 && a[k].t)
			rc = sqlite3_bind_text(*st, col, a[k].t, -1, SQLITE_TRANSIENT);
		else
			rc = sqlite3_bind_null(*st, col);
	}
	if (rc != SQLITE_OK) {
		int err = fail_db(j, rc, "bind");
		sqlite3_finalize(*st);
		*st = NULL;
		return err;
	}
	return 0;
}

/* Runs a statement that returns no rows. */
static int exec(struct bl_fw_journal *j, const char *what, const char *sql, const struct arg *a,
		size_t n)
{
	sqlite3_stmt *st;
	int err = prep(j, &st, sql, a, n);
	if (err < 0)
		return err;
	int rc = sqlite3_step(st);
	err = rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : fail_db(j, rc, what);
	sqlite3_finalize(st);
	return err;
}

/* One integer from the first row: 1 found (*v set; NULL reads as 0), 0 no row, < 0 error. */
static int query_int(struct bl_fw_journal *j, const char *what, const char *sql,
		     const struct arg *a, size_t n, int64_t *v)
{
	sqlite3_stmt *st;
	int err = prep(j, &st, sql, a, n);
	if (err < 0)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*v = sqlite3_column_int64(st, 0);
		err = 1;
	} else {
		err = rc == SQLITE_DONE ? 0 : fail_db(j, rc, what);
	}
	sqlite3_finalize(st);
	return err;
}

/* One text from the first row into buf: 1 found, 0 no row, < 0 error. */
static int query_text(struct bl_fw_journal *j, const char *what, const char *sql, char *buf,
		      size_t size)
{
	sqlite3_stmt *st;
	int err = prep(j, &st, sql, NOARGS);
	if (err < 0)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);
		snprintf(buf, size, "%s", t ? (const char *)t : "");
		err = 1;
	} else {
		err = rc == SQLITE_DONE ? 0 : fail_db(j, rc, what);
	}
	sqlite3_finalize(st);
	return err;
}

static void rollback(struct bl_fw_journal *j)
{
	if (!sqlite3_get_autocommit(j->db))
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Starts a write transaction that guards a location: synchronous=FULL, then BEGIN IMMEDIATE. */
static int begin(struct bl_fw_journal *j, const char *what)
{
	if (j->normal) {
		int err = exec(j, what, "PRAGMA synchronous=FULL", NOARGS);
		if (err < 0)
			return err;
		j->normal = false;
	}
	return exec(j, what, "BEGIN IMMEDIATE", NOARGS);
}

/* Commits (the WAL is fsync'd before this returns), or rolls back after err. */
static int finish(struct bl_fw_journal *j, const char *what, int err)
{
	if (err >= 0) {
		int rc = sqlite3_exec(j->db, "COMMIT", NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			err = fail_db(j, rc, what);
	}
	if (err < 0)
		rollback(j);
	else
		j->err[0] = '\0';
	return err;
}

static int check_inventory(const struct bl_sfsm_position *inv, size_t n, char *err, size_t len)
{
	if (!inv || n == 0 || n > BL_SFSM_MAX_POS) {
		snprintf(err, len, "inventory: %zu positions (1..%d)", n, BL_SFSM_MAX_POS);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *b = inv[i].barcode;
		if (!memchr(b, '\0', BL_SFSM_BARCODE_MAX) || !b[0] || inv[i].puck == 0xff ||
		    inv[i].slot == 0xff) {
			snprintf(err, len, "inventory: position %zu has no valid barcode or place",
				 i);
			return -EINVAL;
		}
		for (size_t k = 0; k < i; k++)
			if (inv[k].puck == inv[i].puck && inv[k].slot == inv[i].slot) {
				snprintf(err, len,
					 "inventory: positions %zu and %zu share puck %u slot %u",
					 k, i, inv[i].puck, inv[i].slot);
				return -EINVAL;
			}
	}
	return 0;
}

/* Inserts position i (inventory row and its fresh state: in its slot, idle, not measured). */
static int add_position(struct bl_fw_journal *j, const struct bl_sfsm_position *p, size_t i,
			const struct bl_fw_journal_opts *o, int64_t now)
{
	const char *name = o && o->names ? o->names[i] : NULL;
	int err =
	    exec(j, "inventory",
		 "INSERT INTO inventory (pos, puck, slot, barcode, name) VALUES (?,?,?,?,?)",
		 ARGS(ARG_I(i), ARG_I(p->puck), ARG_I(p->slot), ARG_T(p->barcode), ARG_T(name)));
	if (err < 0)
		return err;
	return exec(j, "inventory",
		    "INSERT INTO positions (pos, loc, move_id, state, measured, series, t_wall, t)"
		    " VALUES (?, 1, NULL, 0, 0, 0, ?, 0)",
		    ARGS(ARG_I(i), ARG_I(now)));
}

static int create_schema(struct bl_fw_journal *j, const struct bl_sfsm_position *inv, size_t n,
			 const struct bl_fw_journal_opts *o)
{
	int rc = sqlite3_exec(j->db, schema_sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return fail_db(j, rc, "create schema");
	int64_t now = wall_us();
	for (size_t i = 0; i < n; i++) {
		int err = add_position(j, &inv[i], i, o, now);
		if (err < 0)
			return err;
	}
	char sql[96];
	snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d",
		 BL_FW_JOURNAL_APP_ID, BL_FW_JOURNAL_SCHEMA);
	rc = sqlite3_exec(j->db, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : fail_db(j, rc, "create schema");
}

/* Positions whose puck, slot or barcode differ between the file and inv (bit i), -1 count. */
static int64_t differences(struct bl_fw_journal *j, const struct bl_sfsm_position *inv, size_t n,
			   char *first, size_t size, int *count)
{
	sqlite3_stmt *st;
	int err =
	    prep(j, &st, "SELECT pos, puck, slot, barcode FROM inventory ORDER BY pos", NOARGS);
	if (err < 0)
		return err;
	int64_t diff = 0;
	size_t rows = 0;
	*count = 0;
	first[0] = '\0';
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t pos = sqlite3_column_int64(st, 0);
		const char *b = (const char *)sqlite3_column_text(st, 3);
		rows++;
		if (pos < 0 || pos >= BL_SFSM_MAX_POS)
			continue;
		bool same = (size_t)pos < n && inv[pos].puck == sqlite3_column_int64(st, 1) &&
			    inv[pos].slot == sqlite3_column_int64(st, 2) && b &&
			    !strcmp(inv[pos].barcode, b);
		if (same)
			continue;
		diff |= (int64_t)1 << pos;
		if (!(*count)++) {
			if ((size_t)pos < n)
				snprintf(first, size,
					 "position %lld is puck %lld slot %lld \"%s\" in the file, "
					 "puck %u slot %u \"%s\" given",
					 (long long)pos, (long long)sqlite3_column_int64(st, 1),
					 (long long)sqlite3_column_int64(st, 2), b ? b : "",
					 inv[pos].puck, inv[pos].slot, inv[pos].barcode);
			else
				snprintf(first, size,
					 "position %lld \"%s\" is not in the inventory given",
					 (long long)pos, b ? b : "");
		}
	}
	if (rc != SQLITE_DONE) {
		err = fail_db(j, rc, "read inventory");
		sqlite3_finalize(st);
		return err;
	}
	sqlite3_finalize(st);
	for (size_t i = rows; i < n; i++) {
		diff |= (int64_t)1 << i;
		if (!(*count)++)
			snprintf(first, size, "position %zu \"%s\" is not in the file", i,
				 inv[i].barcode);
	}
	return diff;
}

/* Replaces the changed positions (every sample must be journaled home). */
static int adopt(struct bl_fw_journal *j, const struct bl_sfsm_position *inv, size_t n,
		 const struct bl_fw_journal_opts *o, int64_t diff, int count)
{
	int64_t v;
	int err =
	    query_int(j, "adopt",
		      "SELECT pos FROM positions WHERE loc != 1 OR move_id IS NOT NULL UNION ALL "
		      "SELECT sample FROM moves WHERE final_at IS NULL LIMIT 1",
		      NOARGS, &v);
	if (err < 0)
		return err;
	if (err > 0)
		return fail(j, -EBUSY,
			    "cannot adopt the new inventory: sample %lld is not journaled home "
			    "(reconcile or resolve it first)",
			    (long long)v);
	int64_t now = wall_us();
	for (int i = 0; i < BL_SFSM_MAX_POS; i++) {
		if (!(diff & ((int64_t)1 << i)))
			continue;
		err = exec(j, "adopt", "DELETE FROM inventory WHERE pos = ?", ARGS(ARG_I(i)));
		if (err < 0)
			return err;
	}
	for (size_t i = 0; i < n; i++) {
		if (!(diff & ((int64_t)1 << i)))
			continue;
		err = add_position(j, &inv[i], i, o, now);
		if (err < 0)
			return err;
	}
	return exec(j, "adopt",
		    "INSERT INTO events (t_wall, t, sample, what, value, text) VALUES "
		    "(?, 0, NULL, ?, ?, 'inventory adopted: changed positions start over')",
		    ARGS(ARG_I(now), ARG_I(BL_FW_EV_ADOPT), ARG_I(count)));
}

/* Checks the file is ours and current, creates it when empty, compares the inventory. */
static int setup(struct bl_fw_journal *j, const struct bl_sfsm_position *inv, size_t n,
		 const struct bl_fw_journal_opts *o)
{
	int64_t app = 0, version = 0, tables = 0;
	int err = begin(j, "open");
	if (err < 0)
		return err;
	if ((err = query_int(j, "open", "PRAGMA application_id", NOARGS, &app)) < 0 ||
	    (err = query_int(j, "open", "PRAGMA user_version", NOARGS, &version)) < 0 ||
	    (err = query_int(j, "open", "SELECT count(*) FROM sqlite_master", NOARGS, &tables)) < 0)
		return finish(j, "open", err);
	if (version == 0 && tables == 0 && app == 0)
		return finish(j, "create", create_schema(j, inv, n, o));
	if (app != BL_FW_JOURNAL_APP_ID)
		return finish(j, "open",
			      fail(j, -EINVAL, "a SQLite file, but not a beamloop sample journal"));
	if (version > BL_FW_JOURNAL_SCHEMA || version < 1)
		return finish(j, "open",
			      fail(j, -ENOTSUP, "journal schema %lld; this build knows schema %d",
				   (long long)version, BL_FW_JOURNAL_SCHEMA));
	char first[192];
	int count;
	int64_t diff = differences(j, inv, n, first, sizeof first, &count);
	if (diff < 0)
		return finish(j, "open", (int)diff);
	if (diff == 0)
		return finish(j, "open", 0);
	if (!(o && (o->flags & BL_FW_JOURNAL_ADOPT)))
		return finish(j, "open",
			      fail(j, -EEXIST,
				   "written for another inventory (%d position(s) differ; %s): "
				   "use the journal of that inventory, or adopt the new one once "
				   "every sample is home",
				   count, first));
	return finish(j, "adopt", adopt(j, inv, n, o, diff, count));
}

static int configure(struct bl_fw_journal *j, const struct bl_fw_journal_opts *o)
{
	int ms = o && o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000;
	sqlite3_extended_result_codes(j->db, 1);
	sqlite3_busy_timeout(j->db, ms);
	int64_t app;
	/* The first read: a file that is not a database fails here, with a clear message. */
	int err = query_int(j, "open", "PRAGMA application_id", NOARGS, &app);
	if (err < 0)
		return err;
	char mode[16] = "";
	err = query_text(j, "journal_mode", "PRAGMA journal_mode=WAL", mode, sizeof mode);
	if (err < 0)
		return err;
	if (strcmp(mode, "wal"))
		return fail(j, -ENOTSUP, "journal_mode=WAL refused (got \"%s\")", mode);
	err = exec(j, "synchronous", "PRAGMA synchronous=FULL", NOARGS);
	if (err < 0 || (err = exec(j, "foreign_keys", "PRAGMA foreign_keys=ON", NOARGS)) < 0)
		return err;
	char check[256] = "";
	err = query_text(j, "quick_check", "PRAGMA quick_check", check, sizeof check);
	if (err < 0)
		return err;
	if (strcmp(check, "ok"))
		return fail(j, -EUCLEAN, "quick_check: %s: the journal file is damaged", check);
	return 0;
}

int bl_fw_journal_open(const char *path, const struct bl_sfsm_position *inv, size_t n,
		       const struct bl_fw_journal_opts *opts, struct bl_fw_journal **out, char *err,
		       size_t errlen)
{
	char dummy[8];
	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof dummy;
	}
	err[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!path) {
		snprintf(err, errlen, "no journal path");
		return -EINVAL;
	}
	int rc = check_inventory(inv, n, err, errlen);
	if (rc < 0)
		return rc;
	struct bl_fw_journal *j = calloc(1, sizeof *j);
	if (!j) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	j->n = (int)n;
	int src = sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (src != SQLITE_OK) {
		rc = fail_db(j, src, "open");
	} else {
		rc = configure(j, opts);
		if (rc >= 0)
			rc = setup(j, inv, n, opts);
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, j->err);
		sqlite3_close(j->db);
		free(j);
		return rc;
	}
	*out = j;
	return 0;
}

void bl_fw_journal_close(struct bl_fw_journal *j)
{
	if (!j)
		return;
	sqlite3_close(j->db);
	free(j);
}

const char *bl_fw_journal_error(const struct bl_fw_journal *j)
{
	return j ? j->err : "no journal";
}

/* Reads position `sample`: its loc and unresolved move (0: none). 1 found, 0 no such sample. */
static int position(struct bl_fw_journal *j, int sample, int *loc, int64_t *move_id)
{
	sqlite3_stmt *st;
	int err = prep(j, &st, "SELECT loc, ifnull(move_id, 0) FROM positions WHERE pos = ?",
		       ARGS(ARG_I(sample)));
	if (err < 0)
		return err;
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*loc = sqlite3_column_int(st, 0);
		*move_id = sqlite3_column_int64(st, 1);
		err = 1;
	} else {
		err = rc == SQLITE_DONE ? 0 : fail_db(j, rc, "read position");
	}
	sqlite3_finalize(st);
	return err;
}

static int intent_body(struct bl_fw_journal *j, int sample, int from, int to, uint64_t now,
		       int64_t *move_id)
{
	int loc;
	int64_t open;
	int err = position(j, sample, &loc, &open);
	if (err <= 0)
		return err < 0 ? err : fail(j, -EINVAL, "intent: no sample %d", sample);
	if (open)
		return fail(j, -EBUSY, "intent: sample %d has the unresolved move #%lld", sample,
			    (long long)open);
	if (loc != from)
		return fail(j, -EINVAL, "intent: sample %d is journaled %s, not %s", sample,
			    loc_name(loc), loc_name(from));
	int64_t other;
	err = query_int(
	    j, "intent",
	    "SELECT pos FROM positions WHERE pos != ? AND (loc != 1 OR move_id IS NOT NULL)"
	    " UNION ALL SELECT sample FROM moves WHERE final_at IS NULL AND sample != ?"
	    " LIMIT 1",
	    ARGS(ARG_I(sample), ARG_I(sample)), &other);
	if (err < 0)
		return err;
	if (err > 0)
		return fail(j, -EBUSY,
			    "intent: sample %lld is out of its slot or has an unresolved move",
			    (long long)other);
	err = exec(j, "intent",
		   "INSERT INTO moves (sample, barcode, from_loc, to_loc, t_intent_wall, t_intent)"
		   " SELECT pos, barcode, ?, ?, ?, ? FROM inventory WHERE pos = ?",
		   ARGS(ARG_I(from), ARG_I(to), ARG_I(wall_us()), ARG_I(now), ARG_I(sample)));
	if (err < 0)
		return err;
	int64_t id = sqlite3_last_insert_rowid(j->db);
	err = exec(j, "intent", "UPDATE positions SET move_id = ?, t_wall = ?, t = ? WHERE pos = ?",
		   ARGS(ARG_I(id), ARG_I(wall_us()), ARG_I(now), ARG_I(sample)));
	if (err >= 0 && move_id)
		*move_id = id;
	return err;
}

int bl_fw_journal_intent(struct bl_fw_journal *j, int sample, int from, int to, uint64_t now,
			 int64_t *move_id)
{
	if (!j)
		return -EINVAL;
	if (sample < 0 || sample >= j->n || !place_ok(from) || !place_ok(to))
		return fail(j, -EINVAL, "intent: bad sample %d or locations %d->%d", sample, from,
			    to);
	int err = begin(j, "intent");
	if (err < 0)
		return err;
	return finish(j, "intent", intent_body(j, sample, from, to, now, move_id));
}

/* Closes move id at `at` (known) and puts its sample there. */
static int close_move(struct bl_fw_journal *j, int64_t id, int sample, int at, const char *by,
		      uint64_t now)
{
	int64_t w = wall_us();
	int err = exec(j, "close move",
		       "UPDATE moves SET final_at = ?, resolved_by = ?, t_resolved_wall = ?,"
		       " t_resolved = ? WHERE id = ?",
		       ARGS(ARG_I(at), ARG_T(by), ARG_I(w), ARG_I(now), ARG_I(id)));
	if (err < 0)
		return err;
	return exec(j, "close move",
		    "UPDATE positions SET loc = ?, move_id = NULL, t_wall = ?, t = ? WHERE pos = ?",
		    ARGS(ARG_I(at), ARG_I(w), ARG_I(now), ARG_I(sample)));
}

static int outcome_body(struct bl_fw_journal *j, int64_t id, int at, int rc, uint64_t now)
{
	sqlite3_stmt *st;
	int err = prep(j, &st,
		       "SELECT sample, ifnull(at, 0), final_at IS NOT NULL FROM moves WHERE id = ?",
		       ARGS(ARG_I(id)));
	if (err < 0)
		return err;
	int step = sqlite3_step(st), sample = 0, prev = 0;
	bool closed = false;
	if (step == SQLITE_ROW) {
		sample = sqlite3_column_int(st, 0);
		prev = sqlite3_column_int(st, 1);
		closed = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (step == SQLITE_DONE)
		return fail(j, -ENOENT, "outcome: no move #%lld", (long long)id);
	if (step != SQLITE_ROW)
		return fail_db(j, step, "outcome");
	if (closed || (prev == BL_LOC_UNKNOWN && at == BL_LOC_UNKNOWN))
		return fail(j, -EALREADY, "outcome: move #%lld already has its outcome",
			    (long long)id);
	if (prev == BL_LOC_NONE) {
		err = exec(j, "outcome",
			   "UPDATE moves SET at = ?, rc = ?, t_outcome_wall = ?, t_outcome = ?"
			   " WHERE id = ?",
			   ARGS(ARG_I(at), ARG_I(rc), ARG_I(wall_us()), ARG_I(now), ARG_I(id)));
		if (err < 0 || at == BL_LOC_UNKNOWN)
			return err;
		return close_move(j, id, sample, at, "robot", now);
	}
	/* The move was journaled unknown; the controller now knows (a reset with the operator's
	 * statement of where the sample is). */
	return close_move(j, id, sample, at, "controller after a cut move", now);
}

int bl_fw_journal_outcome(struct bl_fw_journal *j, int64_t move_id, int at, int rc, uint64_t now)
{
	if (!j)
		return -EINVAL;
	if (!place_ok(at) && at != BL_LOC_UNKNOWN)
		return fail(j, -EINVAL, "outcome: bad location %d", at);
	int err = begin(j, "outcome");
	if (err < 0)
		return err;
	return finish(j, "outcome", outcome_body(j, move_id, at, rc, now));
}

int bl_fw_journal_pos_state(struct bl_fw_journal *j, int sample, int state, bool measured,
			    uint32_t series, uint64_t now)
{
	if (!j)
		return -EINVAL;
	if (sample < 0 || sample >= j->n || state < BL_POS_IDLE || state > BL_POS_FAULT)
		return fail(j, -EINVAL, "pos_state: bad sample %d or state %d", sample, state);
	int err = begin(j, "pos_state");
	if (err < 0)
		return err;
	err = exec(j, "pos_state",
		   "UPDATE positions SET state = ?, measured = ?, series = ?, t_wall = ?, t = ?"
		   " WHERE pos = ?",
		   ARGS(ARG_I(state), ARG_I(measured), ARG_I(series), ARG_I(wall_us()), ARG_I(now),
			ARG_I(sample)));
	return finish(j, "pos_state", err);
}

static int insert_event(struct bl_fw_journal *j, int sample, int what, int64_t value,
			const char *text, uint64_t now)
{
	return exec(j, "note",
		    "INSERT INTO events (t_wall, t, sample, what, value, text)"
		    " VALUES (?, ?, nullif(?, -1), ?, ?, ?)",
		    ARGS(ARG_I(wall_us()), ARG_I(now), ARG_I(sample), ARG_I(what), ARG_I(value),
			 ARG_T(text)));
}

int bl_fw_journal_note(struct bl_fw_journal *j, int sample, int what, int64_t value,
		       const char *text, uint64_t now)
{
	if (!j)
		return -EINVAL;
	if (sample < -1 || sample >= j->n)
		return fail(j, -EINVAL, "note: bad sample %d", sample);
	if (!j->normal) {
		int err = exec(j, "note", "PRAGMA synchronous=NORMAL", NOARGS);
		if (err < 0)
			return err;
		j->normal = true;
	}
	/* One autocommit transaction, no fsync of its own; the next location write sets FULL. */
	int err = insert_event(j, sample, what, value, text, now);
	if (err >= 0)
		j->err[0] = '\0';
	return err;
}

static int resolve_body(struct bl_fw_journal *j, int sample, int loc, const char *who,
			const char *note, uint64_t now)
{
	int cur;
	int64_t open;
	int err = position(j, sample, &cur, &open);
	if (err <= 0)
		return err < 0 ? err : fail(j, -EINVAL, "resolve: no sample %d", sample);
	err = exec(j, "resolve",
		   "INSERT INTO resolutions (sample, barcode, loc, who, note, move_id, t_wall, t)"
		   " SELECT pos, barcode, ?, ?, ?, nullif(?, 0), ?, ? FROM inventory WHERE pos = ?",
		   ARGS(ARG_I(loc), ARG_T(who), ARG_T(note), ARG_I(open), ARG_I(wall_us()),
			ARG_I(now), ARG_I(sample)));
	if (err < 0)
		return err;
	char by[160];
	snprintf(by, sizeof by, "operator: %s", who);
	if (open)
		return close_move(j, open, sample, loc, by, now);
	return exec(j, "resolve", "UPDATE positions SET loc = ?, t_wall = ?, t = ? WHERE pos = ?",
		    ARGS(ARG_I(loc), ARG_I(wall_us()), ARG_I(now), ARG_I(sample)));
}

int bl_fw_journal_resolve(struct bl_fw_journal *j, int sample, int loc, const char *who,
			  const char *note, uint64_t now)
{
	if (!j)
		return -EINVAL;
	if (sample < 0 || sample >= j->n || !place_ok(loc))
		return fail(j, -EINVAL, "resolve: bad sample %d or location %d", sample, loc);
	if (!who || !who[0])
		who = "operator";
	int err = begin(j, "resolve");
	if (err < 0)
		return err;
	return finish(j, "resolve", resolve_body(j, sample, loc, who, note, now));
}

static int snapshot_body(struct bl_fw_journal *j, struct bl_fw_journal_snapshot *snap)
{
	sqlite3_stmt *st;
	int err = prep(j, &st,
		       "SELECT i.pos, i.puck, i.slot, i.barcode, p.loc, ifnull(p.move_id, 0),"
		       " m.from_loc, m.to_loc, ifnull(m.at, 0), ifnull(m.rc, 0), p.state,"
		       " p.measured, p.series FROM inventory i JOIN positions p ON p.pos = i.pos"
		       " LEFT JOIN moves m ON m.id = p.move_id ORDER BY i.pos",
		       NOARGS);
	if (err < 0)
		return err;
	int rc, rows = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int pos = sqlite3_column_int(st, 0);
		if (pos != rows || rows >= j->n) {
			sqlite3_finalize(st);
			return fail(j, -EUCLEAN, "snapshot: positions are not 0..%d", j->n - 1);
		}
		struct bl_fw_journal_sample *s = &snap->s[rows++];
		const unsigned char *b = sqlite3_column_text(st, 3);
		s->puck = (uint8_t)sqlite3_column_int(st, 1);
		s->slot = (uint8_t)sqlite3_column_int(st, 2);
		snprintf(s->barcode, sizeof s->barcode, "%s", b ? (const char *)b : "");
		s->loc = (uint8_t)sqlite3_column_int(st, 4);
		s->move_id = sqlite3_column_int64(st, 5);
		s->move_from = (uint8_t)sqlite3_column_int(st, 6);
		s->move_to = (uint8_t)sqlite3_column_int(st, 7);
		s->move_at = (uint8_t)sqlite3_column_int(st, 8);
		s->move_rc = sqlite3_column_int(st, 9);
		s->state = (uint8_t)sqlite3_column_int(st, 10);
		s->measured = (uint8_t)sqlite3_column_int(st, 11);
		s->series = (uint32_t)sqlite3_column_int64(st, 12);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail_db(j, rc, "snapshot");
	if (rows != j->n)
		return fail(j, -EUCLEAN, "snapshot: %d positions in the file, %d expected", rows,
			    j->n);
	snap->count = (uint8_t)rows;
	int64_t unresolved, pointed;
	if ((err = query_int(j, "snapshot", "SELECT count(*) FROM moves WHERE final_at IS NULL",
			     NOARGS, &unresolved)) < 0 ||
	    (err = query_int(j, "snapshot",
			     "SELECT count(*) FROM positions p JOIN moves m ON m.id = p.move_id"
			     " WHERE m.final_at IS NULL AND m.sample = p.pos",
			     NOARGS, &pointed)) < 0 ||
	    (err = query_int(j, "snapshot", "SELECT ifnull(max(id), 0) FROM moves", NOARGS,
			     &snap->last_move_id)) < 0)
		return err;
	int64_t with_move = 0;
	for (int i = 0; i < rows; i++)
		with_move += snap->s[i].move_id != 0;
	if (unresolved != pointed || with_move != pointed)
		return fail(j, -EUCLEAN,
			    "snapshot: %lld unresolved moves but %lld positions point at one",
			    (long long)unresolved, (long long)with_move);
	return 0;
}

int bl_fw_journal_snapshot(struct bl_fw_journal *j, struct bl_fw_journal_snapshot *snap)
{
	if (!j || !snap)
		return -EINVAL;
	memset(snap, 0, sizeof *snap);
	int err = exec(j, "snapshot", "BEGIN", NOARGS); /* one read transaction: one instant */
	if (err < 0)
		return err;
	err = snapshot_body(j, snap);
	rollback(j); /* read only */
	if (err >= 0)
		j->err[0] = '\0';
	return err;
}

static int apply_body(struct bl_fw_journal *j, const struct bl_fw_reconcile *r, uint64_t now)
{
	if (r->count != j->n)
		return fail(j, -ESTALE, "apply: result for %u positions, journal has %d", r->count,
			    j->n);
	for (int i = 0; i < r->count; i++) {
		const struct bl_fw_rec_sample *s = &r->s[i];
		int loc;
		int64_t open;
		int err = position(j, i, &loc, &open);
		if (err <= 0)
			return err < 0 ? err : fail(j, -EUCLEAN, "apply: no position %d", i);
		if (open != s->move_id || (!open && s->how == BL_FW_REC_JOURNAL && loc != s->loc))
			return fail(j, -ESTALE, "apply: sample %d changed since the snapshot", i);
	}
	unsigned closed = 0;
	for (int i = 0; i < r->count; i++) {
		const struct bl_fw_rec_sample *s = &r->s[i];
		int err = 0;
		if (s->how == BL_FW_REC_SENSORS && s->move_id && place_ok(s->loc)) {
			char by[96];
			snprintf(by, sizeof by, "sensors: %s", s->proof);
			err = close_move(j, s->move_id, i, s->loc, by, now);
			closed++;
		} else if (s->how == BL_FW_REC_UNKNOWN) {
			err = insert_event(j, i, BL_FW_EV_UNPROVEN, i, s->reason, now);
		}
		if (err < 0)
			return err;
	}
	return insert_event(j, -1, BL_FW_EV_RECONCILE, r->unknown, r->summary, now);
}

int bl_fw_journal_apply(struct bl_fw_journal *j, const struct bl_fw_reconcile *r, uint64_t now)
{
	if (!j || !r)
		return -EINVAL;
	int err = begin(j, "apply");
	if (err < 0)
		return err;
	return finish(j, "apply", apply_body(j, r, now));
}

int bl_fw_journal_integrity(struct bl_fw_journal *j)
{
	if (!j)
		return -EINVAL;
	char first[256] = "";
	int err = query_text(j, "integrity_check", "PRAGMA integrity_check", first, sizeof first);
	if (err < 0)
		return err;
	if (strcmp(first, "ok"))
		return fail(j, -EUCLEAN, "integrity_check: %s", first);
	j->err[0] = '\0';
	return 0;
}

int bl_fw_journal_pragma(struct bl_fw_journal *j, const char *name, char *buf, size_t size)
{
	if (!j || !name || !name[0] || !buf || !size || strlen(name) > 40)
		return -EINVAL;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || *c == '_'))
			return -EINVAL;
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA %s", name);
	buf[0] = '\0';
	int err = query_text(j, name, sql, buf, size);
	return err < 0 ? err : 0;
}
